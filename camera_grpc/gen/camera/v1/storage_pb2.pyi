import datetime

from google.protobuf import timestamp_pb2 as _timestamp_pb2
from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class StorageBackend(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    STORAGE_BACKEND_UNSPECIFIED: _ClassVar[StorageBackend]
    STORAGE_BACKEND_LOCAL: _ClassVar[StorageBackend]
    STORAGE_BACKEND_OBJECT_STORE: _ClassVar[StorageBackend]
STORAGE_BACKEND_UNSPECIFIED: StorageBackend
STORAGE_BACKEND_LOCAL: StorageBackend
STORAGE_BACKEND_OBJECT_STORE: StorageBackend

class GetStorageStatusRequest(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class GetStorageStatusResponse(_message.Message):
    __slots__ = ("backend", "endpoint", "bucket", "prefix", "reachable", "last_error", "spool_bytes", "spool_budget_bytes", "pending_uploads", "uploaded_files", "disk_free_bytes", "last_upload_time")
    BACKEND_FIELD_NUMBER: _ClassVar[int]
    ENDPOINT_FIELD_NUMBER: _ClassVar[int]
    BUCKET_FIELD_NUMBER: _ClassVar[int]
    PREFIX_FIELD_NUMBER: _ClassVar[int]
    REACHABLE_FIELD_NUMBER: _ClassVar[int]
    LAST_ERROR_FIELD_NUMBER: _ClassVar[int]
    SPOOL_BYTES_FIELD_NUMBER: _ClassVar[int]
    SPOOL_BUDGET_BYTES_FIELD_NUMBER: _ClassVar[int]
    PENDING_UPLOADS_FIELD_NUMBER: _ClassVar[int]
    UPLOADED_FILES_FIELD_NUMBER: _ClassVar[int]
    DISK_FREE_BYTES_FIELD_NUMBER: _ClassVar[int]
    LAST_UPLOAD_TIME_FIELD_NUMBER: _ClassVar[int]
    backend: StorageBackend
    endpoint: str
    bucket: str
    prefix: str
    reachable: bool
    last_error: str
    spool_bytes: int
    spool_budget_bytes: int
    pending_uploads: int
    uploaded_files: int
    disk_free_bytes: int
    last_upload_time: _timestamp_pb2.Timestamp
    def __init__(self, backend: _Optional[_Union[StorageBackend, str]] = ..., endpoint: _Optional[str] = ..., bucket: _Optional[str] = ..., prefix: _Optional[str] = ..., reachable: _Optional[bool] = ..., last_error: _Optional[str] = ..., spool_bytes: _Optional[int] = ..., spool_budget_bytes: _Optional[int] = ..., pending_uploads: _Optional[int] = ..., uploaded_files: _Optional[int] = ..., disk_free_bytes: _Optional[int] = ..., last_upload_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class GetDownloadUrlRequest(_message.Message):
    __slots__ = ("name", "valid_for_s")
    NAME_FIELD_NUMBER: _ClassVar[int]
    VALID_FOR_S_FIELD_NUMBER: _ClassVar[int]
    name: str
    valid_for_s: int
    def __init__(self, name: _Optional[str] = ..., valid_for_s: _Optional[int] = ...) -> None: ...

class GetDownloadUrlResponse(_message.Message):
    __slots__ = ("url", "expire_time")
    URL_FIELD_NUMBER: _ClassVar[int]
    EXPIRE_TIME_FIELD_NUMBER: _ClassVar[int]
    url: str
    expire_time: _timestamp_pb2.Timestamp
    def __init__(self, url: _Optional[str] = ..., expire_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...
