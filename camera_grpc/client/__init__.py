"""The client layer: Python clients of camera.v1, their channel options and error type.

The REST gateway and the command-line client are built on this layer only; it
imports nothing of the service (drivers, camera thread, servicer), nor numpy:
``camera_grpc.client.arrays`` (numpy arrays and Pillow images of frames and
captures) is imported only by those who use it.
"""

from camera_grpc.client.camera import (
    DEFAULT_THUMBNAIL_WIDTH_PX,
    DEFAULT_TIMEOUT_S,
    RECORDING_FORMATS,
    THUMBNAIL_MAX_WIDTH_PX,
    THUMBNAIL_MIN_WIDTH_PX,
    AsyncCameraClient,
    AsyncEventStream,
    AsyncFrameStream,
    AsyncRecordingStream,
    AsyncSettingsStream,
    CameraClient,
    CaptureFields,
    EventStream,
    FramesFields,
    FrameStream,
    RecordingStream,
    SettingsFields,
    SettingsStream,
    capture_request,
    capture_storage_name,
    events_request,
    frames_request,
    recording_file_name,
    recording_format_name,
    recording_name,
)
from camera_grpc.client.channel import DEFAULT_MAX_MESSAGE_BYTES, channel_options, loopback_target
from camera_grpc.client.credentials import CredentialsError, PemSource, channel_credentials, is_loopback_target
from camera_grpc.client.errors import CameraRpcError, FieldViolation, Security
from camera_grpc.client.settings import SettingsValueError, features_by_name, preset_name, update_request

__all__ = [
    "DEFAULT_MAX_MESSAGE_BYTES",
    "DEFAULT_THUMBNAIL_WIDTH_PX",
    "DEFAULT_TIMEOUT_S",
    "RECORDING_FORMATS",
    "THUMBNAIL_MAX_WIDTH_PX",
    "THUMBNAIL_MIN_WIDTH_PX",
    "AsyncCameraClient",
    "AsyncEventStream",
    "AsyncFrameStream",
    "AsyncRecordingStream",
    "AsyncSettingsStream",
    "CameraClient",
    "CameraRpcError",
    "CaptureFields",
    "CredentialsError",
    "EventStream",
    "FieldViolation",
    "FrameStream",
    "FramesFields",
    "PemSource",
    "RecordingStream",
    "Security",
    "SettingsFields",
    "SettingsStream",
    "SettingsValueError",
    "capture_request",
    "capture_storage_name",
    "channel_credentials",
    "channel_options",
    "events_request",
    "features_by_name",
    "frames_request",
    "is_loopback_target",
    "loopback_target",
    "preset_name",
    "recording_file_name",
    "recording_format_name",
    "recording_name",
    "update_request",
]
