import datetime

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
    __slots__ = ("exposure_ms", "gain_db", "width", "height", "pixel_format", "connected")
    EXPOSURE_MS_FIELD_NUMBER: _ClassVar[int]
    GAIN_DB_FIELD_NUMBER: _ClassVar[int]
    WIDTH_FIELD_NUMBER: _ClassVar[int]
    HEIGHT_FIELD_NUMBER: _ClassVar[int]
    PIXEL_FORMAT_FIELD_NUMBER: _ClassVar[int]
    CONNECTED_FIELD_NUMBER: _ClassVar[int]
    exposure_ms: float
    gain_db: float
    width: int
    height: int
    pixel_format: PixelFormat
    connected: bool
    def __init__(self, exposure_ms: _Optional[float] = ..., gain_db: _Optional[float] = ..., width: _Optional[int] = ..., height: _Optional[int] = ..., pixel_format: _Optional[_Union[PixelFormat, str]] = ..., connected: _Optional[bool] = ...) -> None: ...

class UpdateSettingsRequest(_message.Message):
    __slots__ = ("exposure_ms", "gain_db")
    EXPOSURE_MS_FIELD_NUMBER: _ClassVar[int]
    GAIN_DB_FIELD_NUMBER: _ClassVar[int]
    exposure_ms: float
    gain_db: float
    def __init__(self, exposure_ms: _Optional[float] = ..., gain_db: _Optional[float] = ...) -> None: ...

class UpdateSettingsResponse(_message.Message):
    __slots__ = ("exposure_ms", "gain_db", "width", "height", "pixel_format", "connected")
    EXPOSURE_MS_FIELD_NUMBER: _ClassVar[int]
    GAIN_DB_FIELD_NUMBER: _ClassVar[int]
    WIDTH_FIELD_NUMBER: _ClassVar[int]
    HEIGHT_FIELD_NUMBER: _ClassVar[int]
    PIXEL_FORMAT_FIELD_NUMBER: _ClassVar[int]
    CONNECTED_FIELD_NUMBER: _ClassVar[int]
    exposure_ms: float
    gain_db: float
    width: int
    height: int
    pixel_format: PixelFormat
    connected: bool
    def __init__(self, exposure_ms: _Optional[float] = ..., gain_db: _Optional[float] = ..., width: _Optional[int] = ..., height: _Optional[int] = ..., pixel_format: _Optional[_Union[PixelFormat, str]] = ..., connected: _Optional[bool] = ...) -> None: ...

class GetCameraInfoRequest(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class GetCameraInfoResponse(_message.Message):
    __slots__ = ("model", "serial_number", "firmware_version", "driver", "sensor_width", "sensor_height", "min_exposure_ms", "max_exposure_ms", "min_gain_db", "max_gain_db", "supported_pixel_formats", "connected", "camera_name")
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
    def __init__(self, model: _Optional[str] = ..., serial_number: _Optional[str] = ..., firmware_version: _Optional[str] = ..., driver: _Optional[_Union[CameraDriver, str]] = ..., sensor_width: _Optional[int] = ..., sensor_height: _Optional[int] = ..., min_exposure_ms: _Optional[float] = ..., max_exposure_ms: _Optional[float] = ..., min_gain_db: _Optional[float] = ..., max_gain_db: _Optional[float] = ..., supported_pixel_formats: _Optional[_Iterable[_Union[PixelFormat, str]]] = ..., connected: _Optional[bool] = ..., camera_name: _Optional[str] = ...) -> None: ...

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
