/*
 * pxlemu.h - types, constants and the fault-injection API of the PixeLINK SDK emulator.
 *
 * The emulator is a test double of libPxLApi.so (PixeLINK 4.0 API, Linux x86-64) that the
 * unmodified pixelinkWrapper 1.5.0 loads.  Structure layouts follow
 * /work/shared/pixelink/SDK-ABI.md section 4 (checked below with _Static_assert).
 * See emulator/README.md for the profile, the control API and the socket protocol.
 */
#ifndef PXLEMU_H
#define PXLEMU_H

#include <stddef.h>
#include <stdint.h>

typedef uint32_t U32;
typedef uint8_t U8;
typedef uint64_t U64;
typedef float F32;
typedef int32_t PXL_RETURN_CODE;
typedef void *HANDLE;

/* ---------------------------------------------------------------- structures (SDK-ABI.md 4) */

typedef struct { F32 fMinValue, fMaxValue; } FEATURE_PARAM;
typedef struct { U32 uFeatureId, uFlags, uNumberOfParameters; FEATURE_PARAM *pParams; } CAMERA_FEATURE;
typedef struct { U32 uSize, uNumberOfFeatures; CAMERA_FEATURE *pFeatures; } CAMERA_FEATURES;

typedef struct { U8 MacAddr[6]; } PXL_MAC_ADDRESS;
typedef struct { union { U8 U8Address[4]; U32 U32Address; }; } PXL_IP_ADDRESS;
typedef struct {
    U32 StructSize;
    U32 CameraSerialNum;
    PXL_MAC_ADDRESS CameraMac;
    PXL_IP_ADDRESS CameraIpAddress;
    PXL_IP_ADDRESS CameraIpMask;
    PXL_IP_ADDRESS CameraIpGateway;
    PXL_IP_ADDRESS NicIpAddress;
    PXL_IP_ADDRESS NicIpMask;
    U32 NicAccessMode;
    U8 CameraIpAssignmentType, XmlVersionMajor, XmlVersionMinor, XmlVersionSubminor;
    U8 IpEngineLoadVersionMajor, IpEngineLoadVersionMinor, IpEngineLoadVersionSubminor;
    U8 CameraProperties;
    PXL_IP_ADDRESS ControllingIpAddress;
    U32 CameraLinkSpeed;
} CAMERA_ID_INFO;

typedef struct {
    char VendorName[33], ModelName[33], Description[256], SerialNumber[33], FirmwareVersion[12],
        FPGAVersion[12], CameraName[256], XMLVersion[12], BootloadVersion[12], LensDescription[64];
} CAMERA_INFO;

/* wrapper 1.5.0 layout: 64/64/256-byte strings */
typedef struct {
    int32_t uReturnCode;
    char strFunctionName[64];
    char strReturnCode[64];
    char strReport[256];
} ERROR_REPORT;

typedef struct { F32 fValue; } PXL_F1;
typedef struct {
    U32 uSize;
    F32 fFrameTime;
    U32 uFrameNumber;
    PXL_F1 Brightness, AutoExposure, Sharpness, WhiteBalance, Hue, Saturation, Gamma,
        Shutter, Gain, Iris, Focus, Temperature;
    struct { F32 fMode, fType, fPolarity, fDelay, fParameter; } Trigger;
    PXL_F1 Zoom, Pan, Tilt, OpticalFilter;
    struct { F32 fMode[16], fPolarity[16], fParameter1[16], fParameter2[16], fParameter3[16]; } GPIO;
    PXL_F1 FrameRate;
    struct { F32 fLeft, fTop, fWidth, fHeight; } Roi;
    struct { F32 fHorizontal, fVertical; } Flip;
    PXL_F1 Decimation, PixelFormat;
    struct { F32 fKneePoint[4]; } ExtendedShutter;
    struct { F32 fLeft, fTop, fWidth, fHeight; } AutoROI;
    PXL_F1 DecimationMode;
    struct { F32 fRedGain, fGreenGain, fBlueGain; } WhiteShading;
    PXL_F1 Rotate, ImagerClkDivisor, TriggerWithControlledLight, MaxPixelSize, TriggerNumber;
    struct { U32 uMask; } ImageProcessing;
    struct { F32 fHorizontal, fVertical; } PixelAddressingValue;
    double dFrameTime;
    U64 u64FrameNumber;
    PXL_F1 BandwidthLimit, ActualFrameRate;
    struct { F32 fLeft, fTop, fWidth, fHeight, fMaxValue; } SharpnessScoreParams;
    PXL_F1 SharpnessScore;
    struct { U32 uMode; F32 fDarkGain, fBrightGain; } HDRInfo;
    struct { U32 uCFA; F32 f0Weight, f45Weight, f90Weight, f135Weight; U32 uHSVInterpretation; } PolarInfo;
    struct { F32 fCompressionStrategy, fCompressedSize; } CompressionInfo;
} FRAME_DESC;

_Static_assert(sizeof(FEATURE_PARAM) == 8, "FEATURE_PARAM");
_Static_assert(sizeof(CAMERA_FEATURE) == 24 && offsetof(CAMERA_FEATURE, pParams) == 16, "CAMERA_FEATURE");
_Static_assert(sizeof(CAMERA_FEATURES) == 16 && offsetof(CAMERA_FEATURES, pFeatures) == 8, "CAMERA_FEATURES");
_Static_assert(sizeof(CAMERA_ID_INFO) == 56, "CAMERA_ID_INFO");
_Static_assert(offsetof(CAMERA_ID_INFO, CameraIpAddress) == 16, "CAMERA_ID_INFO.CameraIpAddress");
_Static_assert(offsetof(CAMERA_ID_INFO, NicAccessMode) == 36, "CAMERA_ID_INFO.NicAccessMode");
_Static_assert(offsetof(CAMERA_ID_INFO, CameraProperties) == 47, "CAMERA_ID_INFO.CameraProperties");
_Static_assert(offsetof(CAMERA_ID_INFO, CameraLinkSpeed) == 52, "CAMERA_ID_INFO.CameraLinkSpeed");
_Static_assert(sizeof(CAMERA_INFO) == 723, "CAMERA_INFO");
_Static_assert(offsetof(CAMERA_INFO, SerialNumber) == 322 && offsetof(CAMERA_INFO, CameraName) == 379 &&
                   offsetof(CAMERA_INFO, LensDescription) == 659, "CAMERA_INFO offsets");
_Static_assert(sizeof(ERROR_REPORT) == 388 && offsetof(ERROR_REPORT, strReport) == 132, "ERROR_REPORT");
_Static_assert(sizeof(FRAME_DESC) == 632, "FRAME_DESC");
_Static_assert(offsetof(FRAME_DESC, Shutter) == 40 && offsetof(FRAME_DESC, Gain) == 44 &&
                   offsetof(FRAME_DESC, Temperature) == 56 && offsetof(FRAME_DESC, Trigger) == 60 &&
                   offsetof(FRAME_DESC, GPIO) == 96 && offsetof(FRAME_DESC, FrameRate) == 416 &&
                   offsetof(FRAME_DESC, Roi) == 420 && offsetof(FRAME_DESC, Decimation) == 444 &&
                   offsetof(FRAME_DESC, PixelFormat) == 448 && offsetof(FRAME_DESC, DecimationMode) == 484 &&
                   offsetof(FRAME_DESC, Rotate) == 500 && offsetof(FRAME_DESC, ImageProcessing) == 520 &&
                   offsetof(FRAME_DESC, PixelAddressingValue) == 524 && offsetof(FRAME_DESC, dFrameTime) == 536 &&
                   offsetof(FRAME_DESC, u64FrameNumber) == 544 && offsetof(FRAME_DESC, BandwidthLimit) == 552 &&
                   offsetof(FRAME_DESC, ActualFrameRate) == 556 && offsetof(FRAME_DESC, HDRInfo) == 584 &&
                   offsetof(FRAME_DESC, PolarInfo) == 596 && offsetof(FRAME_DESC, CompressionInfo) == 620,
               "FRAME_DESC offsets");

/* ---------------------------------------------------------------- return codes (SDK-ABI.md 5.1) */

#define ApiSuccess                      ((PXL_RETURN_CODE)0x00000000)
#define ApiSuccessParametersChanged     ((PXL_RETURN_CODE)0x00000001)
#define ApiSuccessAlreadyRunning        ((PXL_RETURN_CODE)0x00000002)
#define ApiSuccessWithFrameLoss         ((PXL_RETURN_CODE)0x00000009)
#define ApiUnknownError                 ((PXL_RETURN_CODE)0x80000001)
#define ApiInvalidHandleError           ((PXL_RETURN_CODE)0x80000002)
#define ApiInvalidParameterError        ((PXL_RETURN_CODE)0x80000003)
#define ApiBufferTooSmall               ((PXL_RETURN_CODE)0x80000004)
#define ApiInvalidFunctionCallError     ((PXL_RETURN_CODE)0x80000005)
#define ApiNotSupportedError            ((PXL_RETURN_CODE)0x80000006)
#define ApiCameraInUseError             ((PXL_RETURN_CODE)0x80000007)
#define ApiNoCameraError                ((PXL_RETURN_CODE)0x80000008)
#define ApiHardwareError                ((PXL_RETURN_CODE)0x80000009)
#define ApiOutOfMemoryError             ((PXL_RETURN_CODE)0x8000000C)
#define ApiInvalidSerialNumberError     ((PXL_RETURN_CODE)0x8000000F)
#define ApiIOError                      ((PXL_RETURN_CODE)0x80000011)
#define ApiStreamStopped                ((PXL_RETURN_CODE)0x80000012)
#define ApiNullPointerError             ((PXL_RETURN_CODE)0x80000013)
#define ApiOutOfRangeError              ((PXL_RETURN_CODE)0x80000016)
#define ApiNoCameraAvailableError       ((PXL_RETURN_CODE)0x80000017)
#define ApiInvalidCameraName            ((PXL_RETURN_CODE)0x80000018)
#define ApiCameraTimeoutError           ((PXL_RETURN_CODE)0x9000000C)
#define ApiRequiresControlAccess        ((PXL_RETURN_CODE)0x90000010)
#define ApiNotPermittedWhileStreaming   ((PXL_RETURN_CODE)0x9000001B)
#define ApiUnsupportedPixelFormatError  ((PXL_RETURN_CODE)0x90000020)
#define ApiThisEventNotSupported        ((PXL_RETURN_CODE)0x9000002B)
#define ApiGetNextFrameBusy             ((PXL_RETURN_CODE)0x80000019)
#define ApiGpiHardwareTriggerConflict   ((PXL_RETURN_CODE)0x9000001E)
#define ApiGpioConfigurationError       ((PXL_RETURN_CODE)0x9000001F)
#define ApiGpiOnlyError                 ((PXL_RETURN_CODE)0x9000002D)
#define ApiGpoOnlyError                 ((PXL_RETURN_CODE)0x9000002E)

/* ---------------------------------------------------------------- feature ids, flags, formats */

#define FEATURE_BRIGHTNESS          0
#define FEATURE_SATURATION          5
#define FEATURE_GAMMA               6
#define FEATURE_SHUTTER             7
#define FEATURE_GAIN                8
#define FEATURE_SENSOR_TEMPERATURE  11
#define FEATURE_TRIGGER             12
#define FEATURE_GPIO                17
#define FEATURE_FRAME_RATE          18
#define FEATURE_ROI                 19
#define FEATURE_FLIP                20
#define FEATURE_PIXEL_ADDRESSING    21
#define FEATURE_PIXEL_FORMAT        22
#define FEATURE_WHITE_SHADING       27
#define FEATURE_MAX_PIXEL_SIZE      31
#define FEATURE_BODY_TEMPERATURE    32
#define FEATURE_ACTUAL_FRAME_RATE   35
#define FEATURES_TOTAL              46
#define FEATURE_ALL                 0xFFFFFFFFu

#define FEATURE_FLAG_PRESENCE                 0x00000001u
#define FEATURE_FLAG_MANUAL                   0x00000002u
#define FEATURE_FLAG_AUTO                     0x00000004u
#define FEATURE_FLAG_ONEPUSH                  0x00000008u
#define FEATURE_FLAG_OFF                      0x00000010u
#define FEATURE_FLAG_MOD_BITS                 0x0000001Eu
#define FEATURE_FLAG_READ_ONLY                0x00000040u
#define FEATURE_FLAG_SETTABLE_WHILE_STREAMING 0x00000080u
#define FEATURE_FLAG_PERSISTABLE              0x00000100u

#define PIXEL_FORMAT_MONO8         0
#define PIXEL_FORMAT_MONO16        1
#define PIXEL_FORMAT_BAYER8_GRBG   3
#define PIXEL_FORMAT_BAYER16_GRBG  4
#define PIXEL_FORMAT_BAYER8_RGGB   7
#define PIXEL_FORMAT_BAYER8_GBRG   8
#define PIXEL_FORMAT_BAYER8_BGGR   9
#define PIXEL_FORMAT_BAYER16_RGGB  10
#define PIXEL_FORMAT_BAYER16_GBRG  11
#define PIXEL_FORMAT_BAYER16_BGGR  12
#define PIXEL_FORMAT_MONO12_PACKED 13
#define PIXEL_FORMAT_BAYER12_GRBG_PACKED 14
#define PIXEL_FORMAT_BAYER12_RGGB_PACKED 15
#define PIXEL_FORMAT_BAYER12_GBRG_PACKED 16
#define PIXEL_FORMAT_BAYER12_BGGR_PACKED 17

#define IMAGE_FORMAT_BMP               0x0000
#define IMAGE_FORMAT_TIFF              0x0001
#define IMAGE_FORMAT_PSD               0x0002
#define IMAGE_FORMAT_JPEG              0x0003
#define IMAGE_FORMAT_PNG               0x0004
#define IMAGE_FORMAT_RAW_MONO8         0x1000
#define IMAGE_FORMAT_RAW_RGB24         0x1005
#define IMAGE_FORMAT_RAW_RGB48         0x1006
#define IMAGE_FORMAT_RAW_RGB24_NON_DIB 0x1012
#define IMAGE_FORMAT_RAW_BGR24         0x1022

#define STREAM_START 0
#define STREAM_PAUSE 1
#define STREAM_STOP  2

#define INIT_MONITOR_ACCESS_ONLY 0x1u
#define INIT_ISSUE_STREAM_STOP   0x2u

#define EVENT_ANY                 0
#define EVENT_CAMERA_DISCONNECTED 1
#define EVENT_HW_TRIGGER_RISING_EDGE  2
#define EVENT_HW_TRIGGER_FALLING_EDGE 3
#define EVENT_GPI_RISING_EDGE     4
#define EVENT_GPI_FALLING_EDGE    5
#define EVENT_HW_TRIGGER_MISSED   6
#define EVENT_FRAMES_SKIPPED      9
#define EVENT_LAST                10

#define CALLBACK_FRAME 8

#define TRIGGER_TYPE_FREE_RUNNING 0
#define TRIGGER_TYPE_SOFTWARE     1
#define TRIGGER_TYPE_HARDWARE     2

#define GPIO_MODE_STROBE 0
#define GPIO_MODE_NORMAL 1
#define GPIO_MODE_PULSE  2
#define GPIO_MODE_BUSY   3
#define GPIO_MODE_FLASH  4
#define GPIO_MODE_INPUT  5
#define GPIO_MODE_HARDWARE_TRIGGER 9

/* ---------------------------------------------------------------- emulator control API
 * Exported with the PxLEmu_ prefix (never a vendor name).  Integer results: >= 0 success
 * (or the requested count), -1 unknown serial / function name, -2 invalid argument.
 */
#define PXLEMU_API __attribute__((visibility("default")))

PXLEMU_API int PxLEmu_Reset(void);
PXLEMU_API int PxLEmu_AddCamera(U32 serial, const char *model, U32 width, U32 height);
PXLEMU_API int PxLEmu_RemoveCamera(U32 serial);
PXLEMU_API int PxLEmu_Unplug(U32 serial);
PXLEMU_API int PxLEmu_Replug(U32 serial);
PXLEMU_API int PxLEmu_SetBootDelay(U32 serial, int milliseconds);
PXLEMU_API int PxLEmu_FailNext(const char *function, int rc, int count);
PXLEMU_API int PxLEmu_FailEvery(const char *function, int rc, int n);
PXLEMU_API int PxLEmu_ClearFaults(void);
PXLEMU_API int PxLEmu_SetLatency(const char *function, int microseconds);
PXLEMU_API int PxLEmu_DropFrames(U32 serial, int n);
PXLEMU_API int PxLEmu_HardwareTrigger(U32 serial);
PXLEMU_API int PxLEmu_CallCount(const char *function);
PXLEMU_API int PxLEmu_ResetCounts(void);
PXLEMU_API int PxLEmu_OpenHandleCount(void);
PXLEMU_API int PxLEmu_StaleHandleCount(void);
PXLEMU_API float PxLEmu_GetFeatureValue(U32 serial, U32 featureId, U32 paramIndex);
PXLEMU_API int PxLEmu_SetFeatureValue(U32 serial, U32 featureId, U32 paramIndex, float value);
PXLEMU_API int PxLEmu_GetStreamState(U32 serial);
PXLEMU_API long long PxLEmu_LastFrameNumber(U32 serial);
PXLEMU_API int PxLEmu_SetFreeRun(int enabled);
/* a camera of a named profile ("mono", "colour"; NULL/"" = mono); model NULL/"" and 0 sizes = the profile's */
PXLEMU_API int PxLEmu_AddCameraEx(U32 serial, const char *model, U32 width, U32 height, const char *profile);
/* the simulated scene: brightness factor (1 = nominal) and colour cast (R, G, B response; a value < 0 keeps it) */
PXLEMU_API int PxLEmu_SetScene(U32 serial, float brightness, float red, float green, float blue);
/* the camera's profile name into buf (size bytes); 0, or -1 unknown serial */
PXLEMU_API int PxLEmu_GetProfile(U32 serial, char *buf, int size);
/* ---- triggering, input line, GPIO, temperatures (issue 13; emulator/README.md "Triggering, events, GPIO") */
/* The camera's one input line (shared by the hardware trigger and GPI #1, FEATURES.md 11.4) goes to level 0/1 now.
 * Returns 1 if that edge started a triggered exposure, 2 if it was a trigger the camera missed (still busy),
 * 0 otherwise (no edge, not the active edge, trigger not armed, not streaming). */
PXLEMU_API int PxLEmu_SetInput(U32 serial, int level);
/* A high pulse on the input: rising edge, width_s later (0..1 s; the call sleeps) the falling edge.  Result as
 * PxLEmu_SetInput for the edge that was active (1, 2) or 0. */
PXLEMU_API int PxLEmu_TriggerPulse(U32 serial, float width_s);
/* count high pulses of width_s (< 0: min(1 ms, period/2)) every period_s, the first now, generated by the camera's
 * own thread (returns at once; replaces a burst still running; count 0 stops it) */
PXLEMU_API int PxLEmu_TriggerBurst(U32 serial, int count, float period_s, float width_s);
/* counters since power-up: triggers accepted, triggers missed, frames skipped (lost: nobody fetched them) */
PXLEMU_API int PxLEmu_TriggerCounts(U32 serial, long long *accepted, long long *missed, long long *skipped);
/* GPIO line index (1-based): its level now (0/1), and in *count the pulses it gave since it was configured */
PXLEMU_API int PxLEmu_GetOutput(U32 serial, U32 index, long long *count);
/* SENSOR_TEMPERATURE / BODY_TEMPERATURE in degrees C (rounded to 0.5); NaN keeps a value */
PXLEMU_API int PxLEmu_SetTemperature(U32 serial, float sensor, float body);
/* how long a hardware-trigger grab waits for a frame before ApiCameraTimeoutError (seconds; 0 = forever) */
PXLEMU_API int PxLEmu_SetTriggerTimeout(U32 serial, float seconds);
/* threads blocked in PxLGetNextFrame on this camera now */
PXLEMU_API int PxLEmu_GrabWaiters(U32 serial);
/* Text command interface (the control-socket protocol, usable in-process).  Writes one reply
 * line (without newline, NUL-terminated) into reply; returns 0, or -1 if the reply is "err ...". */
PXLEMU_API int PxLEmu_Command(const char *line, char *reply, int replySize);

#endif /* PXLEMU_H */
