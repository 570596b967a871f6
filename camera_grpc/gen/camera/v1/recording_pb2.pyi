import datetime

from camera_grpc.gen.camera.v1 import camera_pb2 as _camera_pb2
from google.protobuf import timestamp_pb2 as _timestamp_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class RecordingFormat(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    RECORDING_FORMAT_UNSPECIFIED: _ClassVar[RecordingFormat]
    RECORDING_FORMAT_OME_TIFF: _ClassVar[RecordingFormat]
    RECORDING_FORMAT_OME_ZARR: _ClassVar[RecordingFormat]
    RECORDING_FORMAT_MP4: _ClassVar[RecordingFormat]

class RecordingState(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    RECORDING_STATE_UNSPECIFIED: _ClassVar[RecordingState]
    RECORDING_STATE_RUNNING: _ClassVar[RecordingState]
    RECORDING_STATE_COMPLETED: _ClassVar[RecordingState]
    RECORDING_STATE_STOPPED: _ClassVar[RecordingState]
    RECORDING_STATE_FAILED: _ClassVar[RecordingState]
RECORDING_FORMAT_UNSPECIFIED: RecordingFormat
RECORDING_FORMAT_OME_TIFF: RecordingFormat
RECORDING_FORMAT_OME_ZARR: RecordingFormat
RECORDING_FORMAT_MP4: RecordingFormat
RECORDING_STATE_UNSPECIFIED: RecordingState
RECORDING_STATE_RUNNING: RecordingState
RECORDING_STATE_COMPLETED: RecordingState
RECORDING_STATE_STOPPED: RecordingState
RECORDING_STATE_FAILED: RecordingState

class Recording(_message.Message):
    __slots__ = ("name", "state", "format", "max_frames", "max_duration_s", "frames_per_file", "max_width", "frames_written", "frames_dropped", "bytes_written", "rate_fps", "start_time", "end_time", "failure_reason", "files", "settings")
    NAME_FIELD_NUMBER: _ClassVar[int]
    STATE_FIELD_NUMBER: _ClassVar[int]
    FORMAT_FIELD_NUMBER: _ClassVar[int]
    MAX_FRAMES_FIELD_NUMBER: _ClassVar[int]
    MAX_DURATION_S_FIELD_NUMBER: _ClassVar[int]
    FRAMES_PER_FILE_FIELD_NUMBER: _ClassVar[int]
    MAX_WIDTH_FIELD_NUMBER: _ClassVar[int]
    FRAMES_WRITTEN_FIELD_NUMBER: _ClassVar[int]
    FRAMES_DROPPED_FIELD_NUMBER: _ClassVar[int]
    BYTES_WRITTEN_FIELD_NUMBER: _ClassVar[int]
    RATE_FPS_FIELD_NUMBER: _ClassVar[int]
    START_TIME_FIELD_NUMBER: _ClassVar[int]
    END_TIME_FIELD_NUMBER: _ClassVar[int]
    FAILURE_REASON_FIELD_NUMBER: _ClassVar[int]
    FILES_FIELD_NUMBER: _ClassVar[int]
    SETTINGS_FIELD_NUMBER: _ClassVar[int]
    name: str
    state: RecordingState
    format: RecordingFormat
    max_frames: int
    max_duration_s: float
    frames_per_file: int
    max_width: int
    frames_written: int
    frames_dropped: int
    bytes_written: int
    rate_fps: float
    start_time: _timestamp_pb2.Timestamp
    end_time: _timestamp_pb2.Timestamp
    failure_reason: str
    files: _containers.RepeatedCompositeFieldContainer[RecordingFile]
    settings: _camera_pb2.CameraSettings
    def __init__(self, name: _Optional[str] = ..., state: _Optional[_Union[RecordingState, str]] = ..., format: _Optional[_Union[RecordingFormat, str]] = ..., max_frames: _Optional[int] = ..., max_duration_s: _Optional[float] = ..., frames_per_file: _Optional[int] = ..., max_width: _Optional[int] = ..., frames_written: _Optional[int] = ..., frames_dropped: _Optional[int] = ..., bytes_written: _Optional[int] = ..., rate_fps: _Optional[float] = ..., start_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., end_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., failure_reason: _Optional[str] = ..., files: _Optional[_Iterable[_Union[RecordingFile, _Mapping]]] = ..., settings: _Optional[_Union[_camera_pb2.CameraSettings, _Mapping]] = ...) -> None: ...

class RecordingFile(_message.Message):
    __slots__ = ("name", "size_bytes", "content_type", "location")
    NAME_FIELD_NUMBER: _ClassVar[int]
    SIZE_BYTES_FIELD_NUMBER: _ClassVar[int]
    CONTENT_TYPE_FIELD_NUMBER: _ClassVar[int]
    LOCATION_FIELD_NUMBER: _ClassVar[int]
    name: str
    size_bytes: int
    content_type: str
    location: _camera_pb2.StorageLocation
    def __init__(self, name: _Optional[str] = ..., size_bytes: _Optional[int] = ..., content_type: _Optional[str] = ..., location: _Optional[_Union[_camera_pb2.StorageLocation, _Mapping]] = ...) -> None: ...

class StartRecordingRequest(_message.Message):
    __slots__ = ("recording_id", "format", "max_frames", "max_duration_s", "frames_per_file", "max_width")
    RECORDING_ID_FIELD_NUMBER: _ClassVar[int]
    FORMAT_FIELD_NUMBER: _ClassVar[int]
    MAX_FRAMES_FIELD_NUMBER: _ClassVar[int]
    MAX_DURATION_S_FIELD_NUMBER: _ClassVar[int]
    FRAMES_PER_FILE_FIELD_NUMBER: _ClassVar[int]
    MAX_WIDTH_FIELD_NUMBER: _ClassVar[int]
    recording_id: str
    format: RecordingFormat
    max_frames: int
    max_duration_s: float
    frames_per_file: int
    max_width: int
    def __init__(self, recording_id: _Optional[str] = ..., format: _Optional[_Union[RecordingFormat, str]] = ..., max_frames: _Optional[int] = ..., max_duration_s: _Optional[float] = ..., frames_per_file: _Optional[int] = ..., max_width: _Optional[int] = ...) -> None: ...

class StartRecordingResponse(_message.Message):
    __slots__ = ("recording",)
    RECORDING_FIELD_NUMBER: _ClassVar[int]
    recording: Recording
    def __init__(self, recording: _Optional[_Union[Recording, _Mapping]] = ...) -> None: ...

class StopRecordingRequest(_message.Message):
    __slots__ = ("name",)
    NAME_FIELD_NUMBER: _ClassVar[int]
    name: str
    def __init__(self, name: _Optional[str] = ...) -> None: ...

class StopRecordingResponse(_message.Message):
    __slots__ = ("recording",)
    RECORDING_FIELD_NUMBER: _ClassVar[int]
    recording: Recording
    def __init__(self, recording: _Optional[_Union[Recording, _Mapping]] = ...) -> None: ...

class GetRecordingRequest(_message.Message):
    __slots__ = ("name",)
    NAME_FIELD_NUMBER: _ClassVar[int]
    name: str
    def __init__(self, name: _Optional[str] = ...) -> None: ...

class GetRecordingResponse(_message.Message):
    __slots__ = ("recording",)
    RECORDING_FIELD_NUMBER: _ClassVar[int]
    recording: Recording
    def __init__(self, recording: _Optional[_Union[Recording, _Mapping]] = ...) -> None: ...

class ListRecordingsRequest(_message.Message):
    __slots__ = ("page_size", "page_token")
    PAGE_SIZE_FIELD_NUMBER: _ClassVar[int]
    PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    page_size: int
    page_token: str
    def __init__(self, page_size: _Optional[int] = ..., page_token: _Optional[str] = ...) -> None: ...

class ListRecordingsResponse(_message.Message):
    __slots__ = ("recordings", "next_page_token")
    RECORDINGS_FIELD_NUMBER: _ClassVar[int]
    NEXT_PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    recordings: _containers.RepeatedCompositeFieldContainer[Recording]
    next_page_token: str
    def __init__(self, recordings: _Optional[_Iterable[_Union[Recording, _Mapping]]] = ..., next_page_token: _Optional[str] = ...) -> None: ...

class DeleteRecordingRequest(_message.Message):
    __slots__ = ("name",)
    NAME_FIELD_NUMBER: _ClassVar[int]
    name: str
    def __init__(self, name: _Optional[str] = ...) -> None: ...

class DeleteRecordingResponse(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class WatchRecordingRequest(_message.Message):
    __slots__ = ("name",)
    NAME_FIELD_NUMBER: _ClassVar[int]
    name: str
    def __init__(self, name: _Optional[str] = ...) -> None: ...

class WatchRecordingResponse(_message.Message):
    __slots__ = ("recording",)
    RECORDING_FIELD_NUMBER: _ClassVar[int]
    recording: Recording
    def __init__(self, recording: _Optional[_Union[Recording, _Mapping]] = ...) -> None: ...

class DownloadRecordingFileRequest(_message.Message):
    __slots__ = ("name", "file", "offset")
    NAME_FIELD_NUMBER: _ClassVar[int]
    FILE_FIELD_NUMBER: _ClassVar[int]
    OFFSET_FIELD_NUMBER: _ClassVar[int]
    name: str
    file: str
    offset: int
    def __init__(self, name: _Optional[str] = ..., file: _Optional[str] = ..., offset: _Optional[int] = ...) -> None: ...

class DownloadRecordingFileResponse(_message.Message):
    __slots__ = ("data", "offset", "size_bytes")
    DATA_FIELD_NUMBER: _ClassVar[int]
    OFFSET_FIELD_NUMBER: _ClassVar[int]
    SIZE_BYTES_FIELD_NUMBER: _ClassVar[int]
    data: bytes
    offset: int
    size_bytes: int
    def __init__(self, data: _Optional[bytes] = ..., offset: _Optional[int] = ..., size_bytes: _Optional[int] = ...) -> None: ...

class GetRecordingThumbnailRequest(_message.Message):
    __slots__ = ("name", "max_width")
    NAME_FIELD_NUMBER: _ClassVar[int]
    MAX_WIDTH_FIELD_NUMBER: _ClassVar[int]
    name: str
    max_width: int
    def __init__(self, name: _Optional[str] = ..., max_width: _Optional[int] = ...) -> None: ...

class GetRecordingThumbnailResponse(_message.Message):
    __slots__ = ("content_type", "data", "frame_number")
    CONTENT_TYPE_FIELD_NUMBER: _ClassVar[int]
    DATA_FIELD_NUMBER: _ClassVar[int]
    FRAME_NUMBER_FIELD_NUMBER: _ClassVar[int]
    content_type: str
    data: bytes
    frame_number: int
    def __init__(self, content_type: _Optional[str] = ..., data: _Optional[bytes] = ..., frame_number: _Optional[int] = ...) -> None: ...
