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

class DeliveryPolicy(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    DELIVERY_POLICY_UNSPECIFIED: _ClassVar[DeliveryPolicy]
    DELIVERY_POLICY_LATEST: _ClassVar[DeliveryPolicy]
    DELIVERY_POLICY_QUEUE: _ClassVar[DeliveryPolicy]
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
DELIVERY_POLICY_UNSPECIFIED: DeliveryPolicy
DELIVERY_POLICY_LATEST: DeliveryPolicy
DELIVERY_POLICY_QUEUE: DeliveryPolicy

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
    __slots__ = ("filename", "path", "format", "size_bytes", "width", "height", "pixel_format", "frame_number", "captured_at", "exposure_ms", "gain_db", "metadata_path", "image_data", "bit_depth")
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
    def __init__(self, filename: _Optional[str] = ..., path: _Optional[str] = ..., format: _Optional[_Union[ImageFormat, str]] = ..., size_bytes: _Optional[int] = ..., width: _Optional[int] = ..., height: _Optional[int] = ..., pixel_format: _Optional[_Union[PixelFormat, str]] = ..., frame_number: _Optional[int] = ..., captured_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., exposure_ms: _Optional[float] = ..., gain_db: _Optional[float] = ..., metadata_path: _Optional[str] = ..., image_data: _Optional[bytes] = ..., bit_depth: _Optional[int] = ...) -> None: ...

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
    __slots__ = ("exposure_ms", "gain_db", "roi", "pixel_addressing", "pixel_format", "frame_rate", "exposure_auto", "exposure_auto_limits_ms", "gain_auto", "white_balance", "black_level_pct", "gamma", "flip", "saturation_pct", "width", "height", "bit_depth", "actual_frame_rate_fps", "revision", "delivered_pixel_format")
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
    def __init__(self, exposure_ms: _Optional[float] = ..., gain_db: _Optional[float] = ..., roi: _Optional[_Union[Region, _Mapping]] = ..., pixel_addressing: _Optional[_Union[PixelAddressing, _Mapping]] = ..., pixel_format: _Optional[_Union[PixelFormat, str]] = ..., frame_rate: _Optional[_Union[FrameRate, _Mapping]] = ..., exposure_auto: _Optional[_Union[AutoMode, str]] = ..., exposure_auto_limits_ms: _Optional[_Union[ValueRange, _Mapping]] = ..., gain_auto: _Optional[_Union[AutoMode, str]] = ..., white_balance: _Optional[_Union[WhiteBalance, _Mapping]] = ..., black_level_pct: _Optional[float] = ..., gamma: _Optional[float] = ..., flip: _Optional[_Union[Flip, _Mapping]] = ..., saturation_pct: _Optional[float] = ..., width: _Optional[int] = ..., height: _Optional[int] = ..., bit_depth: _Optional[int] = ..., actual_frame_rate_fps: _Optional[float] = ..., revision: _Optional[int] = ..., delivered_pixel_format: _Optional[_Union[PixelFormat, str]] = ...) -> None: ...

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
    __slots__ = ("encoding", "quality", "max_width", "max_fps", "max_frames", "policy", "queue_depth")
    ENCODING_FIELD_NUMBER: _ClassVar[int]
    QUALITY_FIELD_NUMBER: _ClassVar[int]
    MAX_WIDTH_FIELD_NUMBER: _ClassVar[int]
    MAX_FPS_FIELD_NUMBER: _ClassVar[int]
    MAX_FRAMES_FIELD_NUMBER: _ClassVar[int]
    POLICY_FIELD_NUMBER: _ClassVar[int]
    QUEUE_DEPTH_FIELD_NUMBER: _ClassVar[int]
    encoding: FrameEncoding
    quality: int
    max_width: int
    max_fps: float
    max_frames: int
    policy: DeliveryPolicy
    queue_depth: int
    def __init__(self, encoding: _Optional[_Union[FrameEncoding, str]] = ..., quality: _Optional[int] = ..., max_width: _Optional[int] = ..., max_fps: _Optional[float] = ..., max_frames: _Optional[int] = ..., policy: _Optional[_Union[DeliveryPolicy, str]] = ..., queue_depth: _Optional[int] = ...) -> None: ...

class FramesResponse(_message.Message):
    __slots__ = ("frame_number", "sequence_number", "missed_frames", "captured_at", "width", "height", "pixel_format", "encoding", "exposure_ms", "gain_db", "data", "bit_depth")
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
    def __init__(self, frame_number: _Optional[int] = ..., sequence_number: _Optional[int] = ..., missed_frames: _Optional[int] = ..., captured_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., width: _Optional[int] = ..., height: _Optional[int] = ..., pixel_format: _Optional[_Union[PixelFormat, str]] = ..., encoding: _Optional[_Union[FrameEncoding, str]] = ..., exposure_ms: _Optional[float] = ..., gain_db: _Optional[float] = ..., data: _Optional[bytes] = ..., bit_depth: _Optional[int] = ...) -> None: ...

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
    __slots__ = ("filename", "format", "size_bytes", "width", "height", "frame_number", "captured_at", "exposure_ms", "gain_db")
    FILENAME_FIELD_NUMBER: _ClassVar[int]
    FORMAT_FIELD_NUMBER: _ClassVar[int]
    SIZE_BYTES_FIELD_NUMBER: _ClassVar[int]
    WIDTH_FIELD_NUMBER: _ClassVar[int]
    HEIGHT_FIELD_NUMBER: _ClassVar[int]
    FRAME_NUMBER_FIELD_NUMBER: _ClassVar[int]
    CAPTURED_AT_FIELD_NUMBER: _ClassVar[int]
    EXPOSURE_MS_FIELD_NUMBER: _ClassVar[int]
    GAIN_DB_FIELD_NUMBER: _ClassVar[int]
    filename: str
    format: ImageFormat
    size_bytes: int
    width: int
    height: int
    frame_number: int
    captured_at: _timestamp_pb2.Timestamp
    exposure_ms: float
    gain_db: float
    def __init__(self, filename: _Optional[str] = ..., format: _Optional[_Union[ImageFormat, str]] = ..., size_bytes: _Optional[int] = ..., width: _Optional[int] = ..., height: _Optional[int] = ..., frame_number: _Optional[int] = ..., captured_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., exposure_ms: _Optional[float] = ..., gain_db: _Optional[float] = ...) -> None: ...

class ListCapturesResponse(_message.Message):
    __slots__ = ("captures", "next_page_token")
    CAPTURES_FIELD_NUMBER: _ClassVar[int]
    NEXT_PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    captures: _containers.RepeatedCompositeFieldContainer[CaptureSummary]
    next_page_token: str
    def __init__(self, captures: _Optional[_Iterable[_Union[CaptureSummary, _Mapping]]] = ..., next_page_token: _Optional[str] = ...) -> None: ...

class GetCaptureRequest(_message.Message):
    __slots__ = ("filename",)
    FILENAME_FIELD_NUMBER: _ClassVar[int]
    filename: str
    def __init__(self, filename: _Optional[str] = ...) -> None: ...

class GetCaptureResponse(_message.Message):
    __slots__ = ("capture", "content_type", "data")
    CAPTURE_FIELD_NUMBER: _ClassVar[int]
    CONTENT_TYPE_FIELD_NUMBER: _ClassVar[int]
    DATA_FIELD_NUMBER: _ClassVar[int]
    capture: CaptureSummary
    content_type: str
    data: bytes
    def __init__(self, capture: _Optional[_Union[CaptureSummary, _Mapping]] = ..., content_type: _Optional[str] = ..., data: _Optional[bytes] = ...) -> None: ...

class LoadSettingsFromCameraResponse(_message.Message):
    __slots__ = ("settings", "connected")
    SETTINGS_FIELD_NUMBER: _ClassVar[int]
    CONNECTED_FIELD_NUMBER: _ClassVar[int]
    settings: CameraSettings
    connected: bool
    def __init__(self, settings: _Optional[_Union[CameraSettings, _Mapping]] = ..., connected: _Optional[bool] = ...) -> None: ...
