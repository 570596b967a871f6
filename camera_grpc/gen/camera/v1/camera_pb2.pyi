import datetime

from google.protobuf import field_mask_pb2 as _field_mask_pb2
from google.protobuf import timestamp_pb2 as _timestamp_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class ImageFormat(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    IMAGE_FORMAT_UNSPECIFIED: _ClassVar[ImageFormat]
    IMAGE_FORMAT_JPEG: _ClassVar[ImageFormat]
    IMAGE_FORMAT_PNG: _ClassVar[ImageFormat]
    IMAGE_FORMAT_TIFF: _ClassVar[ImageFormat]
    IMAGE_FORMAT_BMP: _ClassVar[ImageFormat]

class PixelFormat(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    PIXEL_FORMAT_UNSPECIFIED: _ClassVar[PixelFormat]
    PIXEL_FORMAT_MONO8: _ClassVar[PixelFormat]
    PIXEL_FORMAT_MONO16: _ClassVar[PixelFormat]
    PIXEL_FORMAT_RGB24: _ClassVar[PixelFormat]
    PIXEL_FORMAT_BAYER8_RGGB: _ClassVar[PixelFormat]
    PIXEL_FORMAT_BAYER8_GRBG: _ClassVar[PixelFormat]
    PIXEL_FORMAT_BAYER8_GBRG: _ClassVar[PixelFormat]
    PIXEL_FORMAT_BAYER8_BGGR: _ClassVar[PixelFormat]
    PIXEL_FORMAT_MONO12_PACKED: _ClassVar[PixelFormat]
    PIXEL_FORMAT_BAYER16_RGGB: _ClassVar[PixelFormat]
    PIXEL_FORMAT_BAYER16_GRBG: _ClassVar[PixelFormat]
    PIXEL_FORMAT_BAYER16_GBRG: _ClassVar[PixelFormat]
    PIXEL_FORMAT_BAYER16_BGGR: _ClassVar[PixelFormat]

class AutoMode(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    AUTO_MODE_UNSPECIFIED: _ClassVar[AutoMode]
    AUTO_MODE_OFF: _ClassVar[AutoMode]
    AUTO_MODE_CONTINUOUS: _ClassVar[AutoMode]
    AUTO_MODE_ONCE: _ClassVar[AutoMode]

class AddressingMode(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    ADDRESSING_MODE_UNSPECIFIED: _ClassVar[AddressingMode]
    ADDRESSING_MODE_DECIMATE: _ClassVar[AddressingMode]
    ADDRESSING_MODE_AVERAGE: _ClassVar[AddressingMode]
    ADDRESSING_MODE_BIN: _ClassVar[AddressingMode]
    ADDRESSING_MODE_RESAMPLE: _ClassVar[AddressingMode]

class FrameRateMode(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    FRAME_RATE_MODE_UNSPECIFIED: _ClassVar[FrameRateMode]
    FRAME_RATE_MODE_FREE: _ClassVar[FrameRateMode]
    FRAME_RATE_MODE_FIXED: _ClassVar[FrameRateMode]

class CameraDriver(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    CAMERA_DRIVER_UNSPECIFIED: _ClassVar[CameraDriver]
    CAMERA_DRIVER_PIXELINK: _ClassVar[CameraDriver]
    CAMERA_DRIVER_SIMULATED: _ClassVar[CameraDriver]

class FrameEncoding(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    FRAME_ENCODING_UNSPECIFIED: _ClassVar[FrameEncoding]
    FRAME_ENCODING_RAW: _ClassVar[FrameEncoding]
    FRAME_ENCODING_JPEG: _ClassVar[FrameEncoding]
    FRAME_ENCODING_PNG: _ClassVar[FrameEncoding]
    FRAME_ENCODING_NONE: _ClassVar[FrameEncoding]

class DeliveryPolicy(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    DELIVERY_POLICY_UNSPECIFIED: _ClassVar[DeliveryPolicy]
    DELIVERY_POLICY_LATEST: _ClassVar[DeliveryPolicy]
    DELIVERY_POLICY_QUEUE: _ClassVar[DeliveryPolicy]

class StorageState(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    STORAGE_STATE_UNSPECIFIED: _ClassVar[StorageState]
    STORAGE_STATE_LOCAL: _ClassVar[StorageState]
    STORAGE_STATE_SPOOLED: _ClassVar[StorageState]
    STORAGE_STATE_UPLOADED: _ClassVar[StorageState]

class TriggerSource(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    TRIGGER_SOURCE_UNSPECIFIED: _ClassVar[TriggerSource]
    TRIGGER_SOURCE_FREE_RUNNING: _ClassVar[TriggerSource]
    TRIGGER_SOURCE_SOFTWARE: _ClassVar[TriggerSource]
    TRIGGER_SOURCE_HARDWARE: _ClassVar[TriggerSource]

class TriggerEdge(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    TRIGGER_EDGE_UNSPECIFIED: _ClassVar[TriggerEdge]
    TRIGGER_EDGE_RISING: _ClassVar[TriggerEdge]
    TRIGGER_EDGE_FALLING: _ClassVar[TriggerEdge]

class TriggerMode(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    TRIGGER_MODE_UNSPECIFIED: _ClassVar[TriggerMode]
    TRIGGER_MODE_EDGE: _ClassVar[TriggerMode]
    TRIGGER_MODE_PULSE_WIDTH: _ClassVar[TriggerMode]
    TRIGGER_MODE_BURST: _ClassVar[TriggerMode]
    TRIGGER_MODE_SEQUENCE: _ClassVar[TriggerMode]

class GpioMode(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    GPIO_MODE_UNSPECIFIED: _ClassVar[GpioMode]
    GPIO_MODE_OFF: _ClassVar[GpioMode]
    GPIO_MODE_STROBE: _ClassVar[GpioMode]
    GPIO_MODE_NORMAL: _ClassVar[GpioMode]
    GPIO_MODE_PULSE: _ClassVar[GpioMode]
    GPIO_MODE_BUSY: _ClassVar[GpioMode]
    GPIO_MODE_FLASH: _ClassVar[GpioMode]
    GPIO_MODE_INPUT: _ClassVar[GpioMode]

class EventType(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    EVENT_TYPE_UNSPECIFIED: _ClassVar[EventType]
    EVENT_TYPE_CAMERA_CONNECTED: _ClassVar[EventType]
    EVENT_TYPE_CAMERA_DISCONNECTED: _ClassVar[EventType]
    EVENT_TYPE_CAMERA_RECONNECTED: _ClassVar[EventType]
    EVENT_TYPE_SETTINGS_CHANGED: _ClassVar[EventType]
    EVENT_TYPE_HARDWARE_TRIGGER: _ClassVar[EventType]
    EVENT_TYPE_TRIGGER_MISSED: _ClassVar[EventType]
    EVENT_TYPE_FRAMES_SKIPPED: _ClassVar[EventType]
    EVENT_TYPE_CAPTURE_SAVED: _ClassVar[EventType]
    EVENT_TYPE_SENSOR_TEMPERATURE: _ClassVar[EventType]
    EVENT_TYPE_GPIO_INPUT: _ClassVar[EventType]
    EVENT_TYPE_SERVICE_STOPPING: _ClassVar[EventType]
    EVENT_TYPE_RECORDING_STARTED: _ClassVar[EventType]
    EVENT_TYPE_RECORDING_ENDED: _ClassVar[EventType]
    EVENT_TYPE_RECORDING_FAILED: _ClassVar[EventType]
    EVENT_TYPE_OBJECT_UPLOADED: _ClassVar[EventType]
    EVENT_TYPE_DISK_SPACE_LOW: _ClassVar[EventType]
IMAGE_FORMAT_UNSPECIFIED: ImageFormat
IMAGE_FORMAT_JPEG: ImageFormat
IMAGE_FORMAT_PNG: ImageFormat
IMAGE_FORMAT_TIFF: ImageFormat
IMAGE_FORMAT_BMP: ImageFormat
PIXEL_FORMAT_UNSPECIFIED: PixelFormat
PIXEL_FORMAT_MONO8: PixelFormat
PIXEL_FORMAT_MONO16: PixelFormat
PIXEL_FORMAT_RGB24: PixelFormat
PIXEL_FORMAT_BAYER8_RGGB: PixelFormat
PIXEL_FORMAT_BAYER8_GRBG: PixelFormat
PIXEL_FORMAT_BAYER8_GBRG: PixelFormat
PIXEL_FORMAT_BAYER8_BGGR: PixelFormat
PIXEL_FORMAT_MONO12_PACKED: PixelFormat
PIXEL_FORMAT_BAYER16_RGGB: PixelFormat
PIXEL_FORMAT_BAYER16_GRBG: PixelFormat
PIXEL_FORMAT_BAYER16_GBRG: PixelFormat
PIXEL_FORMAT_BAYER16_BGGR: PixelFormat
AUTO_MODE_UNSPECIFIED: AutoMode
AUTO_MODE_OFF: AutoMode
AUTO_MODE_CONTINUOUS: AutoMode
AUTO_MODE_ONCE: AutoMode
ADDRESSING_MODE_UNSPECIFIED: AddressingMode
ADDRESSING_MODE_DECIMATE: AddressingMode
ADDRESSING_MODE_AVERAGE: AddressingMode
ADDRESSING_MODE_BIN: AddressingMode
ADDRESSING_MODE_RESAMPLE: AddressingMode
FRAME_RATE_MODE_UNSPECIFIED: FrameRateMode
FRAME_RATE_MODE_FREE: FrameRateMode
FRAME_RATE_MODE_FIXED: FrameRateMode
CAMERA_DRIVER_UNSPECIFIED: CameraDriver
CAMERA_DRIVER_PIXELINK: CameraDriver
CAMERA_DRIVER_SIMULATED: CameraDriver
FRAME_ENCODING_UNSPECIFIED: FrameEncoding
FRAME_ENCODING_RAW: FrameEncoding
FRAME_ENCODING_JPEG: FrameEncoding
FRAME_ENCODING_PNG: FrameEncoding
FRAME_ENCODING_NONE: FrameEncoding
DELIVERY_POLICY_UNSPECIFIED: DeliveryPolicy
DELIVERY_POLICY_LATEST: DeliveryPolicy
DELIVERY_POLICY_QUEUE: DeliveryPolicy
STORAGE_STATE_UNSPECIFIED: StorageState
STORAGE_STATE_LOCAL: StorageState
STORAGE_STATE_SPOOLED: StorageState
STORAGE_STATE_UPLOADED: StorageState
TRIGGER_SOURCE_UNSPECIFIED: TriggerSource
TRIGGER_SOURCE_FREE_RUNNING: TriggerSource
TRIGGER_SOURCE_SOFTWARE: TriggerSource
TRIGGER_SOURCE_HARDWARE: TriggerSource
TRIGGER_EDGE_UNSPECIFIED: TriggerEdge
TRIGGER_EDGE_RISING: TriggerEdge
TRIGGER_EDGE_FALLING: TriggerEdge
TRIGGER_MODE_UNSPECIFIED: TriggerMode
TRIGGER_MODE_EDGE: TriggerMode
TRIGGER_MODE_PULSE_WIDTH: TriggerMode
TRIGGER_MODE_BURST: TriggerMode
TRIGGER_MODE_SEQUENCE: TriggerMode
GPIO_MODE_UNSPECIFIED: GpioMode
GPIO_MODE_OFF: GpioMode
GPIO_MODE_STROBE: GpioMode
GPIO_MODE_NORMAL: GpioMode
GPIO_MODE_PULSE: GpioMode
GPIO_MODE_BUSY: GpioMode
GPIO_MODE_FLASH: GpioMode
GPIO_MODE_INPUT: GpioMode
EVENT_TYPE_UNSPECIFIED: EventType
EVENT_TYPE_CAMERA_CONNECTED: EventType
EVENT_TYPE_CAMERA_DISCONNECTED: EventType
EVENT_TYPE_CAMERA_RECONNECTED: EventType
EVENT_TYPE_SETTINGS_CHANGED: EventType
EVENT_TYPE_HARDWARE_TRIGGER: EventType
EVENT_TYPE_TRIGGER_MISSED: EventType
EVENT_TYPE_FRAMES_SKIPPED: EventType
EVENT_TYPE_CAPTURE_SAVED: EventType
EVENT_TYPE_SENSOR_TEMPERATURE: EventType
EVENT_TYPE_GPIO_INPUT: EventType
EVENT_TYPE_SERVICE_STOPPING: EventType
EVENT_TYPE_RECORDING_STARTED: EventType
EVENT_TYPE_RECORDING_ENDED: EventType
EVENT_TYPE_RECORDING_FAILED: EventType
EVENT_TYPE_OBJECT_UPLOADED: EventType
EVENT_TYPE_DISK_SPACE_LOW: EventType

class CaptureRequest(_message.Message):
    __slots__ = ("exposure_ms", "gain_db", "format", "quality", "include_image_data")
    EXPOSURE_MS_FIELD_NUMBER: _ClassVar[int]
    GAIN_DB_FIELD_NUMBER: _ClassVar[int]
    FORMAT_FIELD_NUMBER: _ClassVar[int]
    QUALITY_FIELD_NUMBER: _ClassVar[int]
    INCLUDE_IMAGE_DATA_FIELD_NUMBER: _ClassVar[int]
    exposure_ms: float
    gain_db: float
    format: ImageFormat
    quality: int
    include_image_data: bool
    def __init__(self, exposure_ms: _Optional[float] = ..., gain_db: _Optional[float] = ..., format: _Optional[_Union[ImageFormat, str]] = ..., quality: _Optional[int] = ..., include_image_data: _Optional[bool] = ...) -> None: ...

class CaptureResponse(_message.Message):
    __slots__ = ("filename", "path", "format", "size_bytes", "width", "height", "pixel_format", "frame_number", "captured_at", "exposure_ms", "gain_db", "metadata_path", "image_data", "bit_depth", "metadata")
    FILENAME_FIELD_NUMBER: _ClassVar[int]
    PATH_FIELD_NUMBER: _ClassVar[int]
    FORMAT_FIELD_NUMBER: _ClassVar[int]
    SIZE_BYTES_FIELD_NUMBER: _ClassVar[int]
    WIDTH_FIELD_NUMBER: _ClassVar[int]
    HEIGHT_FIELD_NUMBER: _ClassVar[int]
    PIXEL_FORMAT_FIELD_NUMBER: _ClassVar[int]
    FRAME_NUMBER_FIELD_NUMBER: _ClassVar[int]
    CAPTURED_AT_FIELD_NUMBER: _ClassVar[int]
    EXPOSURE_MS_FIELD_NUMBER: _ClassVar[int]
    GAIN_DB_FIELD_NUMBER: _ClassVar[int]
    METADATA_PATH_FIELD_NUMBER: _ClassVar[int]
    IMAGE_DATA_FIELD_NUMBER: _ClassVar[int]
    BIT_DEPTH_FIELD_NUMBER: _ClassVar[int]
    METADATA_FIELD_NUMBER: _ClassVar[int]
    filename: str
    path: str
    format: ImageFormat
    size_bytes: int
    width: int
    height: int
    pixel_format: PixelFormat
    frame_number: int
    captured_at: _timestamp_pb2.Timestamp
    exposure_ms: float
    gain_db: float
    metadata_path: str
    image_data: bytes
    bit_depth: int
    metadata: FrameMetadata
    def __init__(self, filename: _Optional[str] = ..., path: _Optional[str] = ..., format: _Optional[_Union[ImageFormat, str]] = ..., size_bytes: _Optional[int] = ..., width: _Optional[int] = ..., height: _Optional[int] = ..., pixel_format: _Optional[_Union[PixelFormat, str]] = ..., frame_number: _Optional[int] = ..., captured_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., exposure_ms: _Optional[float] = ..., gain_db: _Optional[float] = ..., metadata_path: _Optional[str] = ..., image_data: _Optional[bytes] = ..., bit_depth: _Optional[int] = ..., metadata: _Optional[_Union[FrameMetadata, _Mapping]] = ...) -> None: ...

class GetSettingsRequest(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class GetSettingsResponse(_message.Message):
    __slots__ = ("exposure_ms", "gain_db", "width", "height", "pixel_format", "connected", "settings")
    EXPOSURE_MS_FIELD_NUMBER: _ClassVar[int]
    GAIN_DB_FIELD_NUMBER: _ClassVar[int]
    WIDTH_FIELD_NUMBER: _ClassVar[int]
    HEIGHT_FIELD_NUMBER: _ClassVar[int]
    PIXEL_FORMAT_FIELD_NUMBER: _ClassVar[int]
    CONNECTED_FIELD_NUMBER: _ClassVar[int]
    SETTINGS_FIELD_NUMBER: _ClassVar[int]
    exposure_ms: float
    gain_db: float
    width: int
    height: int
    pixel_format: PixelFormat
    connected: bool
    settings: CameraSettings
    def __init__(self, exposure_ms: _Optional[float] = ..., gain_db: _Optional[float] = ..., width: _Optional[int] = ..., height: _Optional[int] = ..., pixel_format: _Optional[_Union[PixelFormat, str]] = ..., connected: _Optional[bool] = ..., settings: _Optional[_Union[CameraSettings, _Mapping]] = ...) -> None: ...

class UpdateSettingsRequest(_message.Message):
    __slots__ = ("exposure_ms", "gain_db", "settings", "update_mask", "expected_revision")
    EXPOSURE_MS_FIELD_NUMBER: _ClassVar[int]
    GAIN_DB_FIELD_NUMBER: _ClassVar[int]
    SETTINGS_FIELD_NUMBER: _ClassVar[int]
    UPDATE_MASK_FIELD_NUMBER: _ClassVar[int]
    EXPECTED_REVISION_FIELD_NUMBER: _ClassVar[int]
    exposure_ms: float
    gain_db: float
    settings: CameraSettings
    update_mask: _field_mask_pb2.FieldMask
    expected_revision: int
    def __init__(self, exposure_ms: _Optional[float] = ..., gain_db: _Optional[float] = ..., settings: _Optional[_Union[CameraSettings, _Mapping]] = ..., update_mask: _Optional[_Union[_field_mask_pb2.FieldMask, _Mapping]] = ..., expected_revision: _Optional[int] = ...) -> None: ...

class UpdateSettingsResponse(_message.Message):
    __slots__ = ("exposure_ms", "gain_db", "width", "height", "pixel_format", "connected", "settings")
    EXPOSURE_MS_FIELD_NUMBER: _ClassVar[int]
    GAIN_DB_FIELD_NUMBER: _ClassVar[int]
    WIDTH_FIELD_NUMBER: _ClassVar[int]
    HEIGHT_FIELD_NUMBER: _ClassVar[int]
    PIXEL_FORMAT_FIELD_NUMBER: _ClassVar[int]
    CONNECTED_FIELD_NUMBER: _ClassVar[int]
    SETTINGS_FIELD_NUMBER: _ClassVar[int]
    exposure_ms: float
    gain_db: float
    width: int
    height: int
    pixel_format: PixelFormat
    connected: bool
    settings: CameraSettings
    def __init__(self, exposure_ms: _Optional[float] = ..., gain_db: _Optional[float] = ..., width: _Optional[int] = ..., height: _Optional[int] = ..., pixel_format: _Optional[_Union[PixelFormat, str]] = ..., connected: _Optional[bool] = ..., settings: _Optional[_Union[CameraSettings, _Mapping]] = ...) -> None: ...

class GetCameraInfoRequest(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class GetCameraInfoResponse(_message.Message):
    __slots__ = ("model", "serial_number", "firmware_version", "driver", "sensor_width", "sensor_height", "min_exposure_ms", "max_exposure_ms", "min_gain_db", "max_gain_db", "supported_pixel_formats", "connected", "camera_name", "features", "settings_channels")
    MODEL_FIELD_NUMBER: _ClassVar[int]
    SERIAL_NUMBER_FIELD_NUMBER: _ClassVar[int]
    FIRMWARE_VERSION_FIELD_NUMBER: _ClassVar[int]
    DRIVER_FIELD_NUMBER: _ClassVar[int]
    SENSOR_WIDTH_FIELD_NUMBER: _ClassVar[int]
    SENSOR_HEIGHT_FIELD_NUMBER: _ClassVar[int]
    MIN_EXPOSURE_MS_FIELD_NUMBER: _ClassVar[int]
    MAX_EXPOSURE_MS_FIELD_NUMBER: _ClassVar[int]
    MIN_GAIN_DB_FIELD_NUMBER: _ClassVar[int]
    MAX_GAIN_DB_FIELD_NUMBER: _ClassVar[int]
    SUPPORTED_PIXEL_FORMATS_FIELD_NUMBER: _ClassVar[int]
    CONNECTED_FIELD_NUMBER: _ClassVar[int]
    CAMERA_NAME_FIELD_NUMBER: _ClassVar[int]
    FEATURES_FIELD_NUMBER: _ClassVar[int]
    SETTINGS_CHANNELS_FIELD_NUMBER: _ClassVar[int]
    model: str
    serial_number: str
    firmware_version: str
    driver: CameraDriver
    sensor_width: int
    sensor_height: int
    min_exposure_ms: float
    max_exposure_ms: float
    min_gain_db: float
    max_gain_db: float
    supported_pixel_formats: _containers.RepeatedScalarFieldContainer[PixelFormat]
    connected: bool
    camera_name: str
    features: _containers.RepeatedCompositeFieldContainer[FeatureDescription]
    settings_channels: int
    def __init__(self, model: _Optional[str] = ..., serial_number: _Optional[str] = ..., firmware_version: _Optional[str] = ..., driver: _Optional[_Union[CameraDriver, str]] = ..., sensor_width: _Optional[int] = ..., sensor_height: _Optional[int] = ..., min_exposure_ms: _Optional[float] = ..., max_exposure_ms: _Optional[float] = ..., min_gain_db: _Optional[float] = ..., max_gain_db: _Optional[float] = ..., supported_pixel_formats: _Optional[_Iterable[_Union[PixelFormat, str]]] = ..., connected: _Optional[bool] = ..., camera_name: _Optional[str] = ..., features: _Optional[_Iterable[_Union[FeatureDescription, _Mapping]]] = ..., settings_channels: _Optional[int] = ...) -> None: ...

class FeatureDescription(_message.Message):
    __slots__ = ("name", "supported", "minimum", "maximum", "step", "choices", "values", "settable_while_streaming", "unit")
    NAME_FIELD_NUMBER: _ClassVar[int]
    SUPPORTED_FIELD_NUMBER: _ClassVar[int]
    MINIMUM_FIELD_NUMBER: _ClassVar[int]
    MAXIMUM_FIELD_NUMBER: _ClassVar[int]
    STEP_FIELD_NUMBER: _ClassVar[int]
    CHOICES_FIELD_NUMBER: _ClassVar[int]
    VALUES_FIELD_NUMBER: _ClassVar[int]
    SETTABLE_WHILE_STREAMING_FIELD_NUMBER: _ClassVar[int]
    UNIT_FIELD_NUMBER: _ClassVar[int]
    name: str
    supported: bool
    minimum: float
    maximum: float
    step: float
    choices: _containers.RepeatedScalarFieldContainer[str]
    values: _containers.RepeatedScalarFieldContainer[float]
    settable_while_streaming: bool
    unit: str
    def __init__(self, name: _Optional[str] = ..., supported: _Optional[bool] = ..., minimum: _Optional[float] = ..., maximum: _Optional[float] = ..., step: _Optional[float] = ..., choices: _Optional[_Iterable[str]] = ..., values: _Optional[_Iterable[float]] = ..., settable_while_streaming: _Optional[bool] = ..., unit: _Optional[str] = ...) -> None: ...

class Region(_message.Message):
    __slots__ = ("offset_x", "offset_y", "width", "height")
    OFFSET_X_FIELD_NUMBER: _ClassVar[int]
    OFFSET_Y_FIELD_NUMBER: _ClassVar[int]
    WIDTH_FIELD_NUMBER: _ClassVar[int]
    HEIGHT_FIELD_NUMBER: _ClassVar[int]
    offset_x: int
    offset_y: int
    width: int
    height: int
    def __init__(self, offset_x: _Optional[int] = ..., offset_y: _Optional[int] = ..., width: _Optional[int] = ..., height: _Optional[int] = ...) -> None: ...

class PixelAddressing(_message.Message):
    __slots__ = ("mode", "horizontal", "vertical")
    MODE_FIELD_NUMBER: _ClassVar[int]
    HORIZONTAL_FIELD_NUMBER: _ClassVar[int]
    VERTICAL_FIELD_NUMBER: _ClassVar[int]
    mode: AddressingMode
    horizontal: int
    vertical: int
    def __init__(self, mode: _Optional[_Union[AddressingMode, str]] = ..., horizontal: _Optional[int] = ..., vertical: _Optional[int] = ...) -> None: ...

class FrameRate(_message.Message):
    __slots__ = ("mode", "fps")
    MODE_FIELD_NUMBER: _ClassVar[int]
    FPS_FIELD_NUMBER: _ClassVar[int]
    mode: FrameRateMode
    fps: float
    def __init__(self, mode: _Optional[_Union[FrameRateMode, str]] = ..., fps: _Optional[float] = ...) -> None: ...

class ValueRange(_message.Message):
    __slots__ = ("minimum", "maximum")
    MINIMUM_FIELD_NUMBER: _ClassVar[int]
    MAXIMUM_FIELD_NUMBER: _ClassVar[int]
    minimum: float
    maximum: float
    def __init__(self, minimum: _Optional[float] = ..., maximum: _Optional[float] = ...) -> None: ...

class WhiteBalance(_message.Message):
    __slots__ = ("mode", "red", "green", "blue")
    MODE_FIELD_NUMBER: _ClassVar[int]
    RED_FIELD_NUMBER: _ClassVar[int]
    GREEN_FIELD_NUMBER: _ClassVar[int]
    BLUE_FIELD_NUMBER: _ClassVar[int]
    mode: AutoMode
    red: float
    green: float
    blue: float
    def __init__(self, mode: _Optional[_Union[AutoMode, str]] = ..., red: _Optional[float] = ..., green: _Optional[float] = ..., blue: _Optional[float] = ...) -> None: ...

class Flip(_message.Message):
    __slots__ = ("horizontal", "vertical")
    HORIZONTAL_FIELD_NUMBER: _ClassVar[int]
    VERTICAL_FIELD_NUMBER: _ClassVar[int]
    horizontal: bool
    vertical: bool
    def __init__(self, horizontal: _Optional[bool] = ..., vertical: _Optional[bool] = ...) -> None: ...

class CameraSettings(_message.Message):
    __slots__ = ("exposure_ms", "gain_db", "roi", "pixel_addressing", "pixel_format", "frame_rate", "exposure_auto", "exposure_auto_limits_ms", "gain_auto", "white_balance", "black_level_pct", "gamma", "flip", "saturation_pct", "width", "height", "bit_depth", "actual_frame_rate_fps", "revision", "delivered_pixel_format", "trigger", "gpio")
    EXPOSURE_MS_FIELD_NUMBER: _ClassVar[int]
    GAIN_DB_FIELD_NUMBER: _ClassVar[int]
    ROI_FIELD_NUMBER: _ClassVar[int]
    PIXEL_ADDRESSING_FIELD_NUMBER: _ClassVar[int]
    PIXEL_FORMAT_FIELD_NUMBER: _ClassVar[int]
    FRAME_RATE_FIELD_NUMBER: _ClassVar[int]
    EXPOSURE_AUTO_FIELD_NUMBER: _ClassVar[int]
    EXPOSURE_AUTO_LIMITS_MS_FIELD_NUMBER: _ClassVar[int]
    GAIN_AUTO_FIELD_NUMBER: _ClassVar[int]
    WHITE_BALANCE_FIELD_NUMBER: _ClassVar[int]
    BLACK_LEVEL_PCT_FIELD_NUMBER: _ClassVar[int]
    GAMMA_FIELD_NUMBER: _ClassVar[int]
    FLIP_FIELD_NUMBER: _ClassVar[int]
    SATURATION_PCT_FIELD_NUMBER: _ClassVar[int]
    WIDTH_FIELD_NUMBER: _ClassVar[int]
    HEIGHT_FIELD_NUMBER: _ClassVar[int]
    BIT_DEPTH_FIELD_NUMBER: _ClassVar[int]
    ACTUAL_FRAME_RATE_FPS_FIELD_NUMBER: _ClassVar[int]
    REVISION_FIELD_NUMBER: _ClassVar[int]
    DELIVERED_PIXEL_FORMAT_FIELD_NUMBER: _ClassVar[int]
    TRIGGER_FIELD_NUMBER: _ClassVar[int]
    GPIO_FIELD_NUMBER: _ClassVar[int]
    exposure_ms: float
    gain_db: float
    roi: Region
    pixel_addressing: PixelAddressing
    pixel_format: PixelFormat
    frame_rate: FrameRate
    exposure_auto: AutoMode
    exposure_auto_limits_ms: ValueRange
    gain_auto: AutoMode
    white_balance: WhiteBalance
    black_level_pct: float
    gamma: float
    flip: Flip
    saturation_pct: float
    width: int
    height: int
    bit_depth: int
    actual_frame_rate_fps: float
    revision: int
    delivered_pixel_format: PixelFormat
    trigger: Trigger
    gpio: _containers.RepeatedCompositeFieldContainer[Gpio]
    def __init__(self, exposure_ms: _Optional[float] = ..., gain_db: _Optional[float] = ..., roi: _Optional[_Union[Region, _Mapping]] = ..., pixel_addressing: _Optional[_Union[PixelAddressing, _Mapping]] = ..., pixel_format: _Optional[_Union[PixelFormat, str]] = ..., frame_rate: _Optional[_Union[FrameRate, _Mapping]] = ..., exposure_auto: _Optional[_Union[AutoMode, str]] = ..., exposure_auto_limits_ms: _Optional[_Union[ValueRange, _Mapping]] = ..., gain_auto: _Optional[_Union[AutoMode, str]] = ..., white_balance: _Optional[_Union[WhiteBalance, _Mapping]] = ..., black_level_pct: _Optional[float] = ..., gamma: _Optional[float] = ..., flip: _Optional[_Union[Flip, _Mapping]] = ..., saturation_pct: _Optional[float] = ..., width: _Optional[int] = ..., height: _Optional[int] = ..., bit_depth: _Optional[int] = ..., actual_frame_rate_fps: _Optional[float] = ..., revision: _Optional[int] = ..., delivered_pixel_format: _Optional[_Union[PixelFormat, str]] = ..., trigger: _Optional[_Union[Trigger, _Mapping]] = ..., gpio: _Optional[_Iterable[_Union[Gpio, _Mapping]]] = ...) -> None: ...

class WatchSettingsRequest(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class WatchSettingsResponse(_message.Message):
    __slots__ = ("settings", "connected", "cause")
    SETTINGS_FIELD_NUMBER: _ClassVar[int]
    CONNECTED_FIELD_NUMBER: _ClassVar[int]
    CAUSE_FIELD_NUMBER: _ClassVar[int]
    settings: CameraSettings
    connected: bool
    cause: str
    def __init__(self, settings: _Optional[_Union[CameraSettings, _Mapping]] = ..., connected: _Optional[bool] = ..., cause: _Optional[str] = ...) -> None: ...

class Preset(_message.Message):
    __slots__ = ("name", "settings", "create_time")
    NAME_FIELD_NUMBER: _ClassVar[int]
    SETTINGS_FIELD_NUMBER: _ClassVar[int]
    CREATE_TIME_FIELD_NUMBER: _ClassVar[int]
    name: str
    settings: CameraSettings
    create_time: _timestamp_pb2.Timestamp
    def __init__(self, name: _Optional[str] = ..., settings: _Optional[_Union[CameraSettings, _Mapping]] = ..., create_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class CreatePresetRequest(_message.Message):
    __slots__ = ("preset_id",)
    PRESET_ID_FIELD_NUMBER: _ClassVar[int]
    preset_id: str
    def __init__(self, preset_id: _Optional[str] = ...) -> None: ...

class CreatePresetResponse(_message.Message):
    __slots__ = ("preset",)
    PRESET_FIELD_NUMBER: _ClassVar[int]
    preset: Preset
    def __init__(self, preset: _Optional[_Union[Preset, _Mapping]] = ...) -> None: ...

class ListPresetsRequest(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class ListPresetsResponse(_message.Message):
    __slots__ = ("presets",)
    PRESETS_FIELD_NUMBER: _ClassVar[int]
    presets: _containers.RepeatedCompositeFieldContainer[Preset]
    def __init__(self, presets: _Optional[_Iterable[_Union[Preset, _Mapping]]] = ...) -> None: ...

class GetPresetRequest(_message.Message):
    __slots__ = ("name",)
    NAME_FIELD_NUMBER: _ClassVar[int]
    name: str
    def __init__(self, name: _Optional[str] = ...) -> None: ...

class GetPresetResponse(_message.Message):
    __slots__ = ("preset",)
    PRESET_FIELD_NUMBER: _ClassVar[int]
    preset: Preset
    def __init__(self, preset: _Optional[_Union[Preset, _Mapping]] = ...) -> None: ...

class DeletePresetRequest(_message.Message):
    __slots__ = ("name",)
    NAME_FIELD_NUMBER: _ClassVar[int]
    name: str
    def __init__(self, name: _Optional[str] = ...) -> None: ...

class DeletePresetResponse(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class ApplyPresetRequest(_message.Message):
    __slots__ = ("name", "expected_revision")
    NAME_FIELD_NUMBER: _ClassVar[int]
    EXPECTED_REVISION_FIELD_NUMBER: _ClassVar[int]
    name: str
    expected_revision: int
    def __init__(self, name: _Optional[str] = ..., expected_revision: _Optional[int] = ...) -> None: ...

class ApplyPresetResponse(_message.Message):
    __slots__ = ("settings", "connected")
    SETTINGS_FIELD_NUMBER: _ClassVar[int]
    CONNECTED_FIELD_NUMBER: _ClassVar[int]
    settings: CameraSettings
    connected: bool
    def __init__(self, settings: _Optional[_Union[CameraSettings, _Mapping]] = ..., connected: _Optional[bool] = ...) -> None: ...

class SaveSettingsToCameraRequest(_message.Message):
    __slots__ = ("channel",)
    CHANNEL_FIELD_NUMBER: _ClassVar[int]
    channel: int
    def __init__(self, channel: _Optional[int] = ...) -> None: ...

class SaveSettingsToCameraResponse(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class LoadSettingsFromCameraRequest(_message.Message):
    __slots__ = ("channel",)
    CHANNEL_FIELD_NUMBER: _ClassVar[int]
    channel: int
    def __init__(self, channel: _Optional[int] = ...) -> None: ...

class FramesRequest(_message.Message):
    __slots__ = ("encoding", "quality", "max_width", "max_fps", "max_frames", "policy", "queue_depth", "statistics")
    ENCODING_FIELD_NUMBER: _ClassVar[int]
    QUALITY_FIELD_NUMBER: _ClassVar[int]
    MAX_WIDTH_FIELD_NUMBER: _ClassVar[int]
    MAX_FPS_FIELD_NUMBER: _ClassVar[int]
    MAX_FRAMES_FIELD_NUMBER: _ClassVar[int]
    POLICY_FIELD_NUMBER: _ClassVar[int]
    QUEUE_DEPTH_FIELD_NUMBER: _ClassVar[int]
    STATISTICS_FIELD_NUMBER: _ClassVar[int]
    encoding: FrameEncoding
    quality: int
    max_width: int
    max_fps: float
    max_frames: int
    policy: DeliveryPolicy
    queue_depth: int
    statistics: FrameStatisticsOptions
    def __init__(self, encoding: _Optional[_Union[FrameEncoding, str]] = ..., quality: _Optional[int] = ..., max_width: _Optional[int] = ..., max_fps: _Optional[float] = ..., max_frames: _Optional[int] = ..., policy: _Optional[_Union[DeliveryPolicy, str]] = ..., queue_depth: _Optional[int] = ..., statistics: _Optional[_Union[FrameStatisticsOptions, _Mapping]] = ...) -> None: ...

class FrameStatisticsOptions(_message.Message):
    __slots__ = ("histogram_bins",)
    HISTOGRAM_BINS_FIELD_NUMBER: _ClassVar[int]
    histogram_bins: int
    def __init__(self, histogram_bins: _Optional[int] = ...) -> None: ...

class FrameStatistics(_message.Message):
    __slots__ = ("channels", "focus_score", "subsample_step", "bit_depth")
    CHANNELS_FIELD_NUMBER: _ClassVar[int]
    FOCUS_SCORE_FIELD_NUMBER: _ClassVar[int]
    SUBSAMPLE_STEP_FIELD_NUMBER: _ClassVar[int]
    BIT_DEPTH_FIELD_NUMBER: _ClassVar[int]
    channels: _containers.RepeatedCompositeFieldContainer[ChannelStatistics]
    focus_score: float
    subsample_step: int
    bit_depth: int
    def __init__(self, channels: _Optional[_Iterable[_Union[ChannelStatistics, _Mapping]]] = ..., focus_score: _Optional[float] = ..., subsample_step: _Optional[int] = ..., bit_depth: _Optional[int] = ...) -> None: ...

class ChannelStatistics(_message.Message):
    __slots__ = ("channel", "histogram", "min", "max", "mean", "saturated_fraction")
    CHANNEL_FIELD_NUMBER: _ClassVar[int]
    HISTOGRAM_FIELD_NUMBER: _ClassVar[int]
    MIN_FIELD_NUMBER: _ClassVar[int]
    MAX_FIELD_NUMBER: _ClassVar[int]
    MEAN_FIELD_NUMBER: _ClassVar[int]
    SATURATED_FRACTION_FIELD_NUMBER: _ClassVar[int]
    channel: str
    histogram: _containers.RepeatedScalarFieldContainer[int]
    min: int
    max: int
    mean: float
    saturated_fraction: float
    def __init__(self, channel: _Optional[str] = ..., histogram: _Optional[_Iterable[int]] = ..., min: _Optional[int] = ..., max: _Optional[int] = ..., mean: _Optional[float] = ..., saturated_fraction: _Optional[float] = ...) -> None: ...

class FramesResponse(_message.Message):
    __slots__ = ("frame_number", "sequence_number", "missed_frames", "captured_at", "width", "height", "pixel_format", "encoding", "exposure_ms", "gain_db", "data", "bit_depth", "metadata", "statistics")
    FRAME_NUMBER_FIELD_NUMBER: _ClassVar[int]
    SEQUENCE_NUMBER_FIELD_NUMBER: _ClassVar[int]
    MISSED_FRAMES_FIELD_NUMBER: _ClassVar[int]
    CAPTURED_AT_FIELD_NUMBER: _ClassVar[int]
    WIDTH_FIELD_NUMBER: _ClassVar[int]
    HEIGHT_FIELD_NUMBER: _ClassVar[int]
    PIXEL_FORMAT_FIELD_NUMBER: _ClassVar[int]
    ENCODING_FIELD_NUMBER: _ClassVar[int]
    EXPOSURE_MS_FIELD_NUMBER: _ClassVar[int]
    GAIN_DB_FIELD_NUMBER: _ClassVar[int]
    DATA_FIELD_NUMBER: _ClassVar[int]
    BIT_DEPTH_FIELD_NUMBER: _ClassVar[int]
    METADATA_FIELD_NUMBER: _ClassVar[int]
    STATISTICS_FIELD_NUMBER: _ClassVar[int]
    frame_number: int
    sequence_number: int
    missed_frames: int
    captured_at: _timestamp_pb2.Timestamp
    width: int
    height: int
    pixel_format: PixelFormat
    encoding: FrameEncoding
    exposure_ms: float
    gain_db: float
    data: bytes
    bit_depth: int
    metadata: FrameMetadata
    statistics: FrameStatistics
    def __init__(self, frame_number: _Optional[int] = ..., sequence_number: _Optional[int] = ..., missed_frames: _Optional[int] = ..., captured_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., width: _Optional[int] = ..., height: _Optional[int] = ..., pixel_format: _Optional[_Union[PixelFormat, str]] = ..., encoding: _Optional[_Union[FrameEncoding, str]] = ..., exposure_ms: _Optional[float] = ..., gain_db: _Optional[float] = ..., data: _Optional[bytes] = ..., bit_depth: _Optional[int] = ..., metadata: _Optional[_Union[FrameMetadata, _Mapping]] = ..., statistics: _Optional[_Union[FrameStatistics, _Mapping]] = ...) -> None: ...

class LiveFramesRequest(_message.Message):
    __slots__ = ("subscription", "credits")
    SUBSCRIPTION_FIELD_NUMBER: _ClassVar[int]
    CREDITS_FIELD_NUMBER: _ClassVar[int]
    subscription: FramesRequest
    credits: int
    def __init__(self, subscription: _Optional[_Union[FramesRequest, _Mapping]] = ..., credits: _Optional[int] = ...) -> None: ...

class LiveFramesResponse(_message.Message):
    __slots__ = ("frame",)
    FRAME_FIELD_NUMBER: _ClassVar[int]
    frame: FramesResponse
    def __init__(self, frame: _Optional[_Union[FramesResponse, _Mapping]] = ...) -> None: ...

class ListCapturesRequest(_message.Message):
    __slots__ = ("page_size", "page_token")
    PAGE_SIZE_FIELD_NUMBER: _ClassVar[int]
    PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    page_size: int
    page_token: str
    def __init__(self, page_size: _Optional[int] = ..., page_token: _Optional[str] = ...) -> None: ...

class CaptureSummary(_message.Message):
    __slots__ = ("filename", "format", "size_bytes", "width", "height", "frame_number", "captured_at", "exposure_ms", "gain_db", "metadata", "location")
    FILENAME_FIELD_NUMBER: _ClassVar[int]
    FORMAT_FIELD_NUMBER: _ClassVar[int]
    SIZE_BYTES_FIELD_NUMBER: _ClassVar[int]
    WIDTH_FIELD_NUMBER: _ClassVar[int]
    HEIGHT_FIELD_NUMBER: _ClassVar[int]
    FRAME_NUMBER_FIELD_NUMBER: _ClassVar[int]
    CAPTURED_AT_FIELD_NUMBER: _ClassVar[int]
    EXPOSURE_MS_FIELD_NUMBER: _ClassVar[int]
    GAIN_DB_FIELD_NUMBER: _ClassVar[int]
    METADATA_FIELD_NUMBER: _ClassVar[int]
    LOCATION_FIELD_NUMBER: _ClassVar[int]
    filename: str
    format: ImageFormat
    size_bytes: int
    width: int
    height: int
    frame_number: int
    captured_at: _timestamp_pb2.Timestamp
    exposure_ms: float
    gain_db: float
    metadata: FrameMetadata
    location: StorageLocation
    def __init__(self, filename: _Optional[str] = ..., format: _Optional[_Union[ImageFormat, str]] = ..., size_bytes: _Optional[int] = ..., width: _Optional[int] = ..., height: _Optional[int] = ..., frame_number: _Optional[int] = ..., captured_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., exposure_ms: _Optional[float] = ..., gain_db: _Optional[float] = ..., metadata: _Optional[_Union[FrameMetadata, _Mapping]] = ..., location: _Optional[_Union[StorageLocation, _Mapping]] = ...) -> None: ...

class StorageLocation(_message.Message):
    __slots__ = ("state", "bucket", "object_key")
    STATE_FIELD_NUMBER: _ClassVar[int]
    BUCKET_FIELD_NUMBER: _ClassVar[int]
    OBJECT_KEY_FIELD_NUMBER: _ClassVar[int]
    state: StorageState
    bucket: str
    object_key: str
    def __init__(self, state: _Optional[_Union[StorageState, str]] = ..., bucket: _Optional[str] = ..., object_key: _Optional[str] = ...) -> None: ...

class ListCapturesResponse(_message.Message):
    __slots__ = ("captures", "next_page_token")
    CAPTURES_FIELD_NUMBER: _ClassVar[int]
    NEXT_PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    captures: _containers.RepeatedCompositeFieldContainer[CaptureSummary]
    next_page_token: str
    def __init__(self, captures: _Optional[_Iterable[_Union[CaptureSummary, _Mapping]]] = ..., next_page_token: _Optional[str] = ...) -> None: ...

class GetCaptureRequest(_message.Message):
    __slots__ = ("filename", "thumbnail_max_width")
    FILENAME_FIELD_NUMBER: _ClassVar[int]
    THUMBNAIL_MAX_WIDTH_FIELD_NUMBER: _ClassVar[int]
    filename: str
    thumbnail_max_width: int
    def __init__(self, filename: _Optional[str] = ..., thumbnail_max_width: _Optional[int] = ...) -> None: ...

class GetCaptureResponse(_message.Message):
    __slots__ = ("capture", "content_type", "data")
    CAPTURE_FIELD_NUMBER: _ClassVar[int]
    CONTENT_TYPE_FIELD_NUMBER: _ClassVar[int]
    DATA_FIELD_NUMBER: _ClassVar[int]
    capture: CaptureSummary
    content_type: str
    data: bytes
    def __init__(self, capture: _Optional[_Union[CaptureSummary, _Mapping]] = ..., content_type: _Optional[str] = ..., data: _Optional[bytes] = ...) -> None: ...

class DeleteCaptureRequest(_message.Message):
    __slots__ = ("filename",)
    FILENAME_FIELD_NUMBER: _ClassVar[int]
    filename: str
    def __init__(self, filename: _Optional[str] = ...) -> None: ...

class DeleteCaptureResponse(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class LoadSettingsFromCameraResponse(_message.Message):
    __slots__ = ("settings", "connected")
    SETTINGS_FIELD_NUMBER: _ClassVar[int]
    CONNECTED_FIELD_NUMBER: _ClassVar[int]
    settings: CameraSettings
    connected: bool
    def __init__(self, settings: _Optional[_Union[CameraSettings, _Mapping]] = ..., connected: _Optional[bool] = ...) -> None: ...

class Trigger(_message.Message):
    __slots__ = ("source", "mode", "edge", "delay_ms", "frames_per_trigger")
    SOURCE_FIELD_NUMBER: _ClassVar[int]
    MODE_FIELD_NUMBER: _ClassVar[int]
    EDGE_FIELD_NUMBER: _ClassVar[int]
    DELAY_MS_FIELD_NUMBER: _ClassVar[int]
    FRAMES_PER_TRIGGER_FIELD_NUMBER: _ClassVar[int]
    source: TriggerSource
    mode: TriggerMode
    edge: TriggerEdge
    delay_ms: float
    frames_per_trigger: int
    def __init__(self, source: _Optional[_Union[TriggerSource, str]] = ..., mode: _Optional[_Union[TriggerMode, str]] = ..., edge: _Optional[_Union[TriggerEdge, str]] = ..., delay_ms: _Optional[float] = ..., frames_per_trigger: _Optional[int] = ...) -> None: ...

class Gpio(_message.Message):
    __slots__ = ("line", "mode", "active_high", "delay_ms", "duration_ms", "pulse_count", "interval_ms")
    LINE_FIELD_NUMBER: _ClassVar[int]
    MODE_FIELD_NUMBER: _ClassVar[int]
    ACTIVE_HIGH_FIELD_NUMBER: _ClassVar[int]
    DELAY_MS_FIELD_NUMBER: _ClassVar[int]
    DURATION_MS_FIELD_NUMBER: _ClassVar[int]
    PULSE_COUNT_FIELD_NUMBER: _ClassVar[int]
    INTERVAL_MS_FIELD_NUMBER: _ClassVar[int]
    line: int
    mode: GpioMode
    active_high: bool
    delay_ms: float
    duration_ms: float
    pulse_count: int
    interval_ms: float
    def __init__(self, line: _Optional[int] = ..., mode: _Optional[_Union[GpioMode, str]] = ..., active_high: _Optional[bool] = ..., delay_ms: _Optional[float] = ..., duration_ms: _Optional[float] = ..., pulse_count: _Optional[int] = ..., interval_ms: _Optional[float] = ...) -> None: ...

class FrameMetadata(_message.Message):
    __slots__ = ("frame_number", "camera_time_s", "camera_clock", "received_at", "trigger_source", "trigger_count", "trigger_frame_index")
    FRAME_NUMBER_FIELD_NUMBER: _ClassVar[int]
    CAMERA_TIME_S_FIELD_NUMBER: _ClassVar[int]
    CAMERA_CLOCK_FIELD_NUMBER: _ClassVar[int]
    RECEIVED_AT_FIELD_NUMBER: _ClassVar[int]
    TRIGGER_SOURCE_FIELD_NUMBER: _ClassVar[int]
    TRIGGER_COUNT_FIELD_NUMBER: _ClassVar[int]
    TRIGGER_FRAME_INDEX_FIELD_NUMBER: _ClassVar[int]
    frame_number: int
    camera_time_s: float
    camera_clock: str
    received_at: _timestamp_pb2.Timestamp
    trigger_source: TriggerSource
    trigger_count: int
    trigger_frame_index: int
    def __init__(self, frame_number: _Optional[int] = ..., camera_time_s: _Optional[float] = ..., camera_clock: _Optional[str] = ..., received_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., trigger_source: _Optional[_Union[TriggerSource, str]] = ..., trigger_count: _Optional[int] = ..., trigger_frame_index: _Optional[int] = ...) -> None: ...

class SoftwareTriggerRequest(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class SoftwareTriggerResponse(_message.Message):
    __slots__ = ("frame_numbers", "metadata")
    FRAME_NUMBERS_FIELD_NUMBER: _ClassVar[int]
    METADATA_FIELD_NUMBER: _ClassVar[int]
    frame_numbers: _containers.RepeatedScalarFieldContainer[int]
    metadata: FrameMetadata
    def __init__(self, frame_numbers: _Optional[_Iterable[int]] = ..., metadata: _Optional[_Union[FrameMetadata, _Mapping]] = ...) -> None: ...

class GetIoStatusRequest(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class GpioLineState(_message.Message):
    __slots__ = ("line", "mode", "high")
    LINE_FIELD_NUMBER: _ClassVar[int]
    MODE_FIELD_NUMBER: _ClassVar[int]
    HIGH_FIELD_NUMBER: _ClassVar[int]
    line: int
    mode: GpioMode
    high: bool
    def __init__(self, line: _Optional[int] = ..., mode: _Optional[_Union[GpioMode, str]] = ..., high: _Optional[bool] = ...) -> None: ...

class GetIoStatusResponse(_message.Message):
    __slots__ = ("lines", "sensor_temperature_c", "body_temperature_c")
    LINES_FIELD_NUMBER: _ClassVar[int]
    SENSOR_TEMPERATURE_C_FIELD_NUMBER: _ClassVar[int]
    BODY_TEMPERATURE_C_FIELD_NUMBER: _ClassVar[int]
    lines: _containers.RepeatedCompositeFieldContainer[GpioLineState]
    sensor_temperature_c: float
    body_temperature_c: float
    def __init__(self, lines: _Optional[_Iterable[_Union[GpioLineState, _Mapping]]] = ..., sensor_temperature_c: _Optional[float] = ..., body_temperature_c: _Optional[float] = ...) -> None: ...

class WatchEventsRequest(_message.Message):
    __slots__ = ("types",)
    TYPES_FIELD_NUMBER: _ClassVar[int]
    types: _containers.RepeatedScalarFieldContainer[EventType]
    def __init__(self, types: _Optional[_Iterable[_Union[EventType, str]]] = ...) -> None: ...

class Event(_message.Message):
    __slots__ = ("sequence_number", "type", "time", "camera_time_s", "camera_clock", "message", "settings_revision", "cause", "edge", "count", "filename", "temperature_c", "line", "high", "recording", "bucket", "object_key", "free_bytes")
    SEQUENCE_NUMBER_FIELD_NUMBER: _ClassVar[int]
    TYPE_FIELD_NUMBER: _ClassVar[int]
    TIME_FIELD_NUMBER: _ClassVar[int]
    CAMERA_TIME_S_FIELD_NUMBER: _ClassVar[int]
    CAMERA_CLOCK_FIELD_NUMBER: _ClassVar[int]
    MESSAGE_FIELD_NUMBER: _ClassVar[int]
    SETTINGS_REVISION_FIELD_NUMBER: _ClassVar[int]
    CAUSE_FIELD_NUMBER: _ClassVar[int]
    EDGE_FIELD_NUMBER: _ClassVar[int]
    COUNT_FIELD_NUMBER: _ClassVar[int]
    FILENAME_FIELD_NUMBER: _ClassVar[int]
    TEMPERATURE_C_FIELD_NUMBER: _ClassVar[int]
    LINE_FIELD_NUMBER: _ClassVar[int]
    HIGH_FIELD_NUMBER: _ClassVar[int]
    RECORDING_FIELD_NUMBER: _ClassVar[int]
    BUCKET_FIELD_NUMBER: _ClassVar[int]
    OBJECT_KEY_FIELD_NUMBER: _ClassVar[int]
    FREE_BYTES_FIELD_NUMBER: _ClassVar[int]
    sequence_number: int
    type: EventType
    time: _timestamp_pb2.Timestamp
    camera_time_s: float
    camera_clock: str
    message: str
    settings_revision: int
    cause: str
    edge: TriggerEdge
    count: int
    filename: str
    temperature_c: float
    line: int
    high: bool
    recording: str
    bucket: str
    object_key: str
    free_bytes: int
    def __init__(self, sequence_number: _Optional[int] = ..., type: _Optional[_Union[EventType, str]] = ..., time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., camera_time_s: _Optional[float] = ..., camera_clock: _Optional[str] = ..., message: _Optional[str] = ..., settings_revision: _Optional[int] = ..., cause: _Optional[str] = ..., edge: _Optional[_Union[TriggerEdge, str]] = ..., count: _Optional[int] = ..., filename: _Optional[str] = ..., temperature_c: _Optional[float] = ..., line: _Optional[int] = ..., high: _Optional[bool] = ..., recording: _Optional[str] = ..., bucket: _Optional[str] = ..., object_key: _Optional[str] = ..., free_bytes: _Optional[int] = ...) -> None: ...

class WatchEventsResponse(_message.Message):
    __slots__ = ("event", "missed_events")
    EVENT_FIELD_NUMBER: _ClassVar[int]
    MISSED_EVENTS_FIELD_NUMBER: _ClassVar[int]
    event: Event
    missed_events: int
    def __init__(self, event: _Optional[_Union[Event, _Mapping]] = ..., missed_events: _Optional[int] = ...) -> None: ...
