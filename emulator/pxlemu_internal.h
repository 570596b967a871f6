/*
 * pxlemu_internal.h - what the emulator's source files share.  Not part of the ABI: every function and
 * variable declared here has hidden visibility, so the library exports only the vendor PxL* names
 * (pxlemu_api.c) and the PxLEmu_* control API (pxlemu.h).
 *
 * Files (emulator/README.md has the table):
 *   pxlemu.c           small helpers, call counters and fault rules, API entry, handle -> camera, error reports
 *   pxlemu_camera.c    camera model (profile, plug state), PxLInitializeEx/Uninitialize, enumeration, info,
 *                      timestamp, callbacks
 *   pxlemu_features.c  feature descriptor table, PxLGet/SetFeature, PxLGetCameraFeatures, settings channels
 *   pxlemu_stream.c    geometry and frame timing, stream state, PxLGetNextFrame (test pattern)
 *   pxlemu_format.c    pixel formats, PxLFormatImage
 *   pxlemu_trigger.c   triggering (input line, trigger sequences), events, FRAME callbacks, the camera
 *                      thread, GPIO, PxLEmu_* trigger / GPIO / temperature calls
 *   pxlemu_api.c       the exported vendor API and PxLEmu_* control API
 *   pxlemu_control.c   library init/teardown, control socket, PxLEmu_Command (text commands)
 *
 * LOCK ORDER
 *
 *   1. g_mu         the camera list (g_cams and the retired list), the handle list (g_handles), and each
 *                   camera's refs, retired, plugged and gen;
 *   2. camera_t.mu  everything else of that camera (plugged and gen are written with both held).
 *
 *   Take g_mu before a camera's mu, never g_mu while holding a camera's mu, and never two cameras' mu at
 *   once.  g_fmu (call counters, fault rules, latencies) is a leaf: nothing else is taken while it is
 *   held and it is never taken while another lock is held.  A blocked PxLGetNextFrame waits on its
 *   camera's condition variable (cv, releasing mu), so it blocks neither other cameras nor control calls.
 *   No lock is held while calling a user callback.  User callbacks (events, FRAME) are called only by the
 *   camera's own thread (pxlemu_trigger.c), which takes nothing but its camera's mu and releases it around
 *   each call (cb_busy set); cancelling a callback, PxLUninitialize, PxLEmu_Reset and PxLEmu_RemoveCamera
 *   wait (on cv, mu released, no g_mu held) until no callback of that camera runs.  A camera stays allocated while refs > 0 (get_cam /
 *   cam_enter take a reference under g_mu, put_cam / cam_leave drop it), also after PxLEmu_Reset or
 *   PxLEmu_RemoveCamera retired it.
 */
#ifndef PXLEMU_INTERNAL_H
#define PXLEMU_INTERNAL_H

#include "pxlemu.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stddef.h>
#include <time.h>

/* exported vendor functions (the control API's prototypes in pxlemu.h carry PXLEMU_API) */
#define PXLAPI __attribute__((visibility("default")))

#pragma GCC visibility push(hidden)

/* ================================================================ small helpers (pxlemu.c) */

double mono_now(void);                /* CLOCK_MONOTONIC, seconds */
struct timespec abs_time(double t);   /* monotonic seconds -> timespec for pthread_cond_timedwait */
double rnd(double x);                 /* libm-free round half away from zero */
double flr(double x);                 /* libm-free floor */
int is_finite(float f);
double db_to_linear(double db);       /* 10^(db/20) */
double ln_(double x);                 /* libm-free natural logarithm (x > 0) */
double exp_(double y);                /* libm-free e^y */
double pow_(double x, double y);      /* x^y for x > 0 (0 for x <= 0) */
void copy_str(char *dst, size_t cap, const char *src); /* truncating, always NUL-terminated if cap > 0 */

/* ================================================================ function table, counters, faults (pxlemu.c) */

#define PXL_FUNCS(X)                                                                               \
    X(PxLInitializeEx) X(PxLInitialize) X(PxLUninitialize) X(PxLGetNumberCamerasEx)                \
    X(PxLGetNumberCameras) X(PxLGetCameraInfoEx) X(PxLGetCameraInfo) X(PxLGetCameraFeatures)       \
    X(PxLGetFeature) X(PxLSetFeature) X(PxLSetStreamState) X(PxLGetStreamState)                    \
    X(PxLGetNextFrame) X(PxLFormatImage) X(PxLGetErrorReport) X(PxLGetCurrentTimestamp)            \
    X(PxLSetCallback) X(PxLSetEventCallback) X(PxLLoadSettings) X(PxLSaveSettings)                 \
    X(PxLSetCameraName) PXL_STUBS(X)

/* SDK-ABI.md 3.16: reachable through the wrapper, emulated as ApiNotSupportedError */
#define PXL_STUBS(X)                                                                               \
    X(PxLAssignController) X(PxLCreateDescriptor) X(PxLDecompressFrame) X(PxLFormatClipEx)         \
    X(PxLGetActions) X(PxLGetCameraXML) X(PxLGetClip) X(PxLGetEncodedClip)                         \
    X(PxLGetNextCompressedFrame) X(PxLGetNumberControllers) X(PxLPrivateCmd)                       \
    X(PxLRemoveDescriptor) X(PxLResetPreviewWindow) X(PxLSetActions) X(PxLSetCameraIpAddress)      \
    X(PxLSetFrameBufferPolicy) X(PxLSetPreviewSettings) X(PxLSetPreviewState)                      \
    X(PxLSetPreviewStateEx) X(PxLUnassignController) X(PxLUpdateDescriptor) X(PxLFormatClip)

#define X_ENUM(n) FN_##n,
enum { PXL_FUNCS(X_ENUM) FN_COUNT };
#undef X_ENUM

typedef struct {
    long long calls;
    int fail_rc, fail_count;
    int every_rc, every_n;
    long long every_counter;
    int latency_us;
} fstate_t;

extern pthread_mutex_t g_fmu; /* protects g_f */
extern fstate_t g_f[FN_COUNT];

/* ensure_init(), then g_fmu locked and the state of the function called `name`; NULL (nothing locked) for an
 * unknown name */
fstate_t *lock_fstate(const char *name);

/* ================================================================ camera model (pxlemu_camera.c) */

#define MAXP 6
#define ROI_STEP 8  /* sensor sizes given to add_camera must be multiples of the profile's steps (>= 8) */
#define ROI_MIN 64
#define DEFAULT_WIDTH 2448
#define DEFAULT_HEIGHT 2048
#define DEFAULT_MODEL "PL-EMU-5MP"
#define ONEPUSH_FRAMES 4 /* frames a one-push exposure / gain adjustment takes */
#define WS_ONEPUSH_FRAMES 3 /* frames a one-push white shading takes while streaming */
#define NUM_FRAME_BUFFERS 4
#define REFERENCE_EXPOSURE 0.01 /* s: exposure at which the pattern has its nominal brightness */
#define MAX_PENDING 16          /* trigger sequences in flight */
#define MAX_EVENTS 256          /* events queued for the camera thread (more are dropped) */
#define MAX_REGS 64             /* callback registrations per camera */
#define GPIO_LINES 2            /* PL-D USB3: 2 GPIO signals (FEATURES.md 12.3) */
#define DEFAULT_TRIGGER_TIMEOUT 2.0 /* s, see emulator/README.md "Triggering" */

#define F_PRES FEATURE_FLAG_PRESENCE
#define F_MAN FEATURE_FLAG_MANUAL
#define F_AUTO FEATURE_FLAG_AUTO
#define F_ONE FEATURE_FLAG_ONEPUSH
#define F_OFF FEATURE_FLAG_OFF
#define F_RO FEATURE_FLAG_READ_ONLY
#define F_SWS FEATURE_FLAG_SETTABLE_WHILE_STREAMING
#define F_PERS FEATURE_FLAG_PERSISTABLE

/* A camera model: sensor, ROI granularity, pixel addressing, formats and readout timing (pxlemu_camera.c). */
typedef struct {
    const char *name;  /* "mono", "colour" */
    const char *model; /* default model name */
    int colour;        /* Bayer sensor: colour features, Bayer formats */
    U32 width, height; /* default sensor size */
    U32 min_w, min_h, step_w, step_h, step_l, step_t; /* ROI granularity (sensor pixels) */
    U32 pa_modes;      /* bit m: PIXEL_ADDRESSING mode m offered (0 decimate, 1 average, 2 bin, 3 resample) */
    U32 pa_values;     /* bit v: factor v offered per axis (1..8) */
    const U32 *formats; U32 nformats; /* the pixel formats a set keeps as they are */
    U32 pf_min, pf_max;               /* PIXEL_FORMAT limits */
    U32 max_pixel_size;               /* bits */
    double ro_frame, ro_row, ro_pixel; /* readout = ro_frame + rows * (ro_row + columns * ro_pixel), seconds */
} profile_t;

const profile_t *find_profile(const char *name); /* NULL if unknown */
extern const profile_t g_profiles[];              /* [0] mono (default), [1] colour */

typedef struct {
    U32 left, top, width, height; /* sensor pixels */
    U32 pa, pa_x, pa_y, pa_mode, pf;
    U32 out_w, out_h;
    size_t bytes; /* frame size */
    int flip_h, flip_v;
} geom_t;

typedef struct {
    U32 caps; /* capability flags (getCameraFeatures); 0 = not supported */
    U32 nparams;
    FEATURE_PARAM lim[MAXP];
    F32 factory[MAXP];
    U32 factory_mode; /* FEATURE_FLAG_MANUAL / _OFF / _AUTO */
} featdef_t;

typedef struct {
    F32 v[MAXP];
    U32 mode;
} featval_t;

/* A frame's settings and identity, copied from the camera under its lock; rendered without any lock. */
typedef struct {
    geom_t g;
    double exposure, gain_db, temperature, fps_setting, actual_fps, frame_time;
    int fps_off;
    U64 number;
    F32 trigger[5];
    U32 trigger_number; /* index inside a mode-4/14 sequence */
    F32 gpio[5][GPIO_LINES]; /* mode, polarity, parameter 1..3 of each GPIO line (descriptor GPIO.*) */
    double scene, cast[3], ws[3];
    int colour;
    U32 native_pf; /* the CFA phase of the unflipped image */
    double black;  /* BRIGHTNESS, % of full scale */
    double gamma;  /* 0: OFF */
    double saturation;
    U32 mps;     /* MAX_PIXEL_SIZE, bits */
    U32 desc_pf; /* the format the descriptor reports: FLIP shifts the Bayer phase (FEATURES.md 5, 9) */
} frame_info_t;

/* Triggered frames on their way: a trigger (hardware edge or software trigger-only call) starts a sequence of
 * count frames (1, or PARAMETER for modes 4 and 14) whose exposures start at t0 + i * period. */
typedef struct {
    frame_info_t fi; /* settings at the trigger */
    double t0, period, ro;
    U32 count, next; /* frames in the sequence, index of the next one to finish */
    int open;        /* mode 1: the exposure lasts until the trailing edge, which has not come yet */
    int to_grab;     /* hardware trigger: frames go to a waiting PxLGetNextFrame first */
} pending_t;

/* a callback registration: an event id (0 = ANY) or REG_FRAME, of a handle */
#define REG_FRAME 100u
typedef struct {
    U32 hid, what;
    unsigned gen; /* the handle's camera generation: events of a later power-up are not its */
    void *fn, *ctx;
} cbreg_t;

typedef struct {
    U32 id;
    double ts; /* camera clock */
    U32 data;  /* FRAMES_SKIPPED: frames lost (handed over as 4 bytes) */
    unsigned gen;
} evitem_t;

typedef struct {
    int enabled;
    U32 mode;
    F32 pol, p[3];
    double t_set;     /* monotonic time it was configured (PULSE starts then) */
    U64 seq_at_set;   /* frame_seq then (STROBE, FLASH, BUSY count frames from there) */
} gpio_line_t;

typedef struct camera {
    struct camera *next;
    U32 serial;
    char model[33];
    char name[256];
    U32 width, height;
    const profile_t *prof;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    /* g_mu */
    int refs;
    int retired;
    /* g_mu + mu for writing */
    int plugged;
    unsigned gen;
    /* mu */
    int boot_delay_ms;
    double boot_until;
    featdef_t def[FEATURES_TOTAL];
    featval_t cur[FEATURES_TOTAL];
    int has_user;
    featval_t user[FEATURES_TOTAL];
    double t0; /* power-up time (monotonic); camera clock = now - t0 */
    U32 stream_state;
    unsigned epoch; /* bumped on every stream state change / unplug: wakes grabs */
    double last_due;
    double fr_anchor_t, fr_period;
    U64 fr_anchor_k;
    U64 frame_seq;  /* sequence number of the last produced frame */
    U64 drop_total; /* frames "lost" by PxLEmu_DropFrames */
    U64 last_frame_number;
    unsigned long long hw_seq;
    double hw_time;
    int hw_waiters;
    ERROR_REPORT err;
    /* the simulated scene (control: PxLEmu_SetScene): brightness factor and colour cast (R, G, B response) */
    double scene, cast[3];
    /* one-push in progress: frames done and the values when it started (SHUTTER, GAIN, WHITE_SHADING) */
    int op_frames[FEATURES_TOTAL];
    F32 op_start[FEATURES_TOTAL][3];
    /* ---- triggering, events, callbacks, GPIO (pxlemu_trigger.c); all under mu */
    int grabs_waiting;       /* threads inside PxLGetNextFrame's wait */
    double trig_timeout;     /* s a hardware-trigger grab waits before ApiCameraTimeoutError; 0 = forever */
    int in_level;            /* the input line (trigger / GPI #1) */
    double busy_until;       /* monotonic: the sensor takes no trigger before (end of the last readout) */
    pending_t pend[MAX_PENDING];
    int npend;
    frame_info_t ready[NUM_FRAME_BUFFERS]; /* hardware-triggered frames handed to waiting grabs */
    int nready;
    frame_info_t cbframes[NUM_FRAME_BUFFERS]; /* frames for FRAME callbacks, delivered by the camera thread */
    int ncbframes;
    U64 cb_next_k;           /* free running with a FRAME callback: next frame (sequence) for the callback */
    evitem_t evq[MAX_EVENTS];
    int evq_head, evq_len;
    cbreg_t regs[MAX_REGS];
    int nregs;
    int cb_busy;             /* the camera thread is inside a user callback (mu released) */
    int thr_alive;           /* the camera thread runs (it exits when the camera is retired) */
    pthread_t thr;
    int thr_pid;
    U64 accounted;           /* highest frame number delivered or reported skipped */
    long long trig_accepted, trig_missed, frames_skipped;
    struct { int remaining, phase; double next_t, period, width; } burst;
    gpio_line_t gpio[GPIO_LINES];
    double last_exp_start, last_exp_end; /* monotonic: the last exposure (GPIO STROBE / FLASH levels) */
} camera_t;

typedef U32 (*event_fn_t)(U32 hCamera, U32 eventId, double eventTimestamp, U32 numDataBytes, U8 *pData,
                          void *pContext);

typedef struct hrec {
    struct hrec *next;
    U32 id;
    camera_t *cam;
    unsigned gen;
    U32 flags;
} hrec_t;

extern pthread_mutex_t g_mu;
extern camera_t *g_cams;   /* g_mu; enumeration order */
extern hrec_t *g_handles;  /* g_mu */
extern atomic_int g_freerun;
extern atomic_int g_stamp;
/* PXLEMU_CONFIG nosws=: bit i set = feature i loses SETTABLE_WHILE_STREAMING (models cameras that need a
 * stopped stream for it). Read by setup_features; g_mu held when written. */
extern unsigned long long g_no_sws_mask;

hrec_t *find_handle(U32 id);                                        /* g_mu held */
/* g_mu held; 0 or -2. prof NULL = default (mono); w/h 0 = the profile's sensor size; model NULL/"" = its model */
int add_camera_locked(U32 serial, const char *model, U32 w, U32 h, const profile_t *prof);
void retire_camera_locked(camera_t *c); /* g_mu held, c already off g_cams: handles die, grabs wake */
void free_retired_locked(void);         /* g_mu held: frees retired cameras nobody refers to any more */
void load_profile_locked(void);         /* g_mu held: adds the cameras of PXLEMU_CONFIG */
void power_up(camera_t *c);             /* c->mu held (or camera not yet shared) */
void reset_stream_timing(camera_t *c);  /* c->mu held */

/* g_mu then c->mu taken (when c is found); a NULL result leaves only g_mu held.  End with unlock_cam(c). */
camera_t *lock_cam(U32 serial);
void unlock_cam(camera_t *c); /* c may be NULL */

/* ================================================================ handle -> camera (pxlemu.c) */

void put_cam(camera_t *c);
/* c->mu held: ApiInvalidHandleError if replugged/reset since the handle was made, ApiNoCameraError if unplugged */
PXL_RETURN_CODE alive(camera_t *c, unsigned gen);
enum { ACCESS_ANY, ACCESS_CONTROL }; /* ACCESS_CONTROL: monitor-only handles are refused */
/* get_cam, lock c->mu, check alive() (ApiNoCameraError goes into the error report under fn), then with
 * ACCESS_CONTROL the handle's access (ApiRequiresControlAccess, recorded).  On success the caller holds c->mu
 * and a reference and ends with cam_leave(c, rc); on failure nothing is held.  pgen, pflags may be NULL. */
PXL_RETURN_CODE cam_enter(HANDLE h, const char *fn, int access, camera_t **pc, unsigned *pgen, U32 *pflags);
PXL_RETURN_CODE cam_leave(camera_t *c, PXL_RETURN_CODE rc); /* unlock c->mu, put_cam; returns rc */

/* ================================================================ error reports (pxlemu.c) */

/* c->mu held; only failures (rc < 0) are recorded */
void set_err(camera_t *c, const char *fn, PXL_RETURN_CODE rc, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

/* Start of an impl_ function that has a HANDLE h: declares FN (the function name for error reports), the
 * camera c (mu held from here) and rc; returns if cam_enter fails.  The function ends with
 *     out:
 *         return cam_leave(c, rc);
 */
#define CAM_ENTER(name, access, pgen, pflags)                                                      \
    const char *const FN = (name);                                                                 \
    camera_t *c;                                                                                   \
    PXL_RETURN_CODE rc = cam_enter(h, FN, (access), &c, (pgen), (pflags));                         \
    if (rc)                                                                                        \
    return rc

/* in an impl_ function after CAM_ENTER: record the failure and leave */
#define FAIL(code, ...)                                                                            \
    do {                                                                                           \
        rc = (code);                                                                               \
        set_err(c, FN, rc, __VA_ARGS__);                                                           \
        goto out;                                                                                  \
    } while (0)

/* ================================================================ API entry (pxlemu.c) */

typedef struct {
    int override;
    PXL_RETURN_CODE rc;
} inj_t;

/* counts the call, sleeps the latency, applies a fault rule: 1 = return inj->rc without doing the call */
int api_enter(int fid, HANDLE h, int has_handle, inj_t *inj);
PXL_RETURN_CODE api_leave(const inj_t *inj, PXL_RETURN_CODE rc);

#define API_ENTER(name, h, has_h)                                                                  \
    inj_t inj_;                                                                                    \
    if (api_enter(FN_##name, (h), (has_h), &inj_))                                                 \
    return inj_.rc
#define API_LEAVE(rc) api_leave(&inj_, (rc))

/* ================================================================ triggering, events, callbacks, GPIO (pxlemu_trigger.c) */

typedef U32 (*frame_fn_t)(U32 hCamera, void *pFrameData, U32 dataFormat, const FRAME_DESC *pFrameDesc,
                          void *pContext);

extern double g_trig_timeout; /* PXLEMU_CONFIG trigtimeout= (default for new cameras) */
int trigger_kind(const camera_t *c);     /* 0 free running, 1 software, 2 hardware */
int hw_trigger_armed(const camera_t *c); /* TRIGGER on with type HARDWARE (LINE1) */
void ensure_cam_thread(camera_t *c);     /* c->mu held: start the camera thread if it does not run */
void queue_event(camera_t *c, U32 id, double ts, U32 data); /* c->mu held: if someone registered for it */
int has_frame_cb(const camera_t *c);
/* c->mu held: drop what a running stream had in flight (stream stop / start, unplug, power-up) */
void clear_in_flight(camera_t *c);
/* c->mu held: the input line goes to level at monotonic time t; 1 accepted trigger, 2 missed, 0 neither */
int input_edge(camera_t *c, int level, double t);
/* c->mu held: a trigger accepted at t (software: t = when the sensor is free) starts a pending sequence */
void accept_trigger(camera_t *c, double t, int to_grab);
/* c->mu held: frame k of the sequence was produced (number with drops, counters, AUTO step); fills fi->number */
void number_frame(camera_t *c, U64 k, frame_info_t *fi, double exp_start, double exp_end);
/* c->mu held: frame number n is handed to someone: FRAMES_SKIPPED for a gap before it */
void account_delivery(camera_t *c, U64 n, double ts);
void push_cb_frame(camera_t *c, const frame_info_t *fi); /* c->mu held */
/* c->mu held: remove registrations of handle hid (what = ~0u: all), then wait for a running callback
 * (unless called from the camera thread itself) */
void drop_regs(camera_t *c, U32 hid, U32 what);
void wait_callbacks(camera_t *c); /* c->mu held: until no user callback runs (not from the camera thread) */
/* GPIO feature (17) get / set, c->mu held */
PXL_RETURN_CODE gpio_get(camera_t *c, const char *fn, U32 *pFlags, U32 *pN, F32 *pParams);
PXL_RETURN_CODE gpio_set(camera_t *c, const char *fn, U32 mode, U32 n, const F32 *p);
void gpio_desc(const camera_t *c, F32 out[5][GPIO_LINES]);
int gpio_level(const camera_t *c, int line, double now, long long *count);

/* pxlemu_stream.c */
void snapshot_frame(camera_t *c, const geom_t *g, frame_info_t *fi); /* settings of a frame taken now */
int render_frame(U8 *dst, const frame_info_t *fi);                  /* 0, or -1 out of memory */
void fill_desc(FRAME_DESC *out, U32 usize, const frame_info_t *fi);

/* ================================================================ pixel formats (pxlemu_format.c) */

int pf_is_bayer(U32 pf);
int pf_bpp(U32 pf);                  /* bytes per pixel (2 for the 12-bit packed formats' unpacked size), 0 = unknown */
int pf_is_packed12(U32 pf);          /* MONO12_PACKED, BAYER12_*_PACKED (GigE Vision 1.0 packing) */
size_t pf_frame_bytes(U32 pf, U32 w, U32 h); /* bytes of a w x h frame, 0 = unknown format */
int cfa_colour(U32 pf, U32 x, U32 y); /* colour of the CFA cell position (x&1, y&1): 0 R, 1 G, 2 B */
/* the Bayer format of the same family (8-bit, 16-bit, 12-bit packed) as pf whose phase is pf's shifted by (dx, dy)
 * pixels; pf itself if not Bayer */
U32 pf_shift_phase(U32 pf, U32 dx, U32 dy);

/* ================================================================ geometry and timing (pxlemu_stream.c) */


/* all c->mu held */
geom_t geometry(const camera_t *c);
double readout_time(const camera_t *c, const geom_t *g);
double frame_period(const camera_t *c, const geom_t *g);
double max_frame_rate(const camera_t *c); /* 1 / readout of the current ROI and pixel addressing */
/* after a delivered frame: AUTO / ONEPUSH of SHUTTER, GAIN and WHITE_SHADING take a step */
void auto_step(camera_t *c);
/* targets of the automatic adjustments for the current scene */
double auto_target_exposure(const camera_t *c);
double auto_target_gain(const camera_t *c, double exposure);
void auto_target_white(const camera_t *c, F32 out[3]);

/* ================================================================ features (pxlemu_features.c) */

void setup_features(camera_t *c);                 /* c->def from the descriptor table, the sensor and nosws */
void load_factory(const camera_t *c, featval_t *dst);
void feature_values(const camera_t *c, U32 id, F32 *out); /* c->mu held; computed features filled in */
void live_limits(const camera_t *c, U32 id, FEATURE_PARAM *lim); /* c->mu held: limits now (dynamic ones computed) */
void release_control(camera_t *c); /* c->mu held: the controlling handle went away (software features reset) */

/* ================================================================ the calls behind the vendor API */

/* pxlemu.c */
PXL_RETURN_CODE impl_GetErrorReport(HANDLE h, ERROR_REPORT *p);
/* pxlemu_camera.c */
PXL_RETURN_CODE impl_Initialize(U32 serial, HANDLE *ph, U32 flags);
PXL_RETURN_CODE impl_Uninitialize(HANDLE h);
PXL_RETURN_CODE impl_GetNumberCamerasEx(CAMERA_ID_INFO *p, U32 *pn);
PXL_RETURN_CODE impl_GetNumberCameras(U32 *pSerials, U32 *pn);
PXL_RETURN_CODE impl_GetCameraInfo(HANDLE h, CAMERA_INFO *p, U32 size, const char *fn);
PXL_RETURN_CODE impl_SetCameraName(HANDLE h, const char *name);
PXL_RETURN_CODE impl_GetCurrentTimestamp(HANDLE h, double *p);
PXL_RETURN_CODE impl_SetCallback(HANDLE h, U32 type, void *ctx, frame_fn_t fn);
PXL_RETURN_CODE impl_SetEventCallback(HANDLE h, U32 eventId, void *ctx, event_fn_t fn);
/* pxlemu_features.c */
PXL_RETURN_CODE impl_GetCameraFeatures(HANDLE h, U32 id, CAMERA_FEATURES *p, U32 *psize);
PXL_RETURN_CODE impl_GetFeature(HANDLE h, U32 id, U32 *pFlags, U32 *pN, F32 *pParams);
PXL_RETURN_CODE impl_SetFeature(HANDLE h, U32 id, U32 flags, U32 n, const F32 *p);
PXL_RETURN_CODE impl_Settings(HANDLE h, U32 channel, int save);
/* pxlemu_stream.c */
PXL_RETURN_CODE impl_SetStreamState(HANDLE h, U32 state);
PXL_RETURN_CODE impl_GetStreamState(HANDLE h, U32 *pState, U32 *pNumBuffers);
PXL_RETURN_CODE impl_GetNextFrame(HANDLE h, U32 bufsize, void *pFrame, FRAME_DESC *pDesc);
/* pxlemu_format.c */
PXL_RETURN_CODE impl_FormatImage(const void *src, const FRAME_DESC *d, U32 fmt, void *dst, U32 *pDstSize);

/* ================================================================ init / teardown (pxlemu_control.c) */

void ensure_init(void);     /* once per process: profile from PXLEMU_CONFIG, control socket */
extern atomic_int g_shutdown; /* set by the library destructor: no callback is invoked from then on */

#pragma GCC visibility pop

#endif /* PXLEMU_INTERNAL_H */
