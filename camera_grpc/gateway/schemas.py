"""JSON bodies of the REST API, and their translation from camera.v1 messages.

The legacy endpoints (``/health``, ``/capture``, ``/settings``) keep the legacy
names and units: ``exposure`` in milliseconds, ``gain`` in decibels (the
camera's gain). Fields the legacy API did not have, and the endpoints added
since (``/camera``, ``/captures``), carry their unit in the name, as in gRPC
(``size_bytes``, ``exposure_ms``, ``gain_db``). Requests reject unknown fields.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Literal
from urllib.parse import quote

from google.protobuf.timestamp_pb2 import Timestamp
from pydantic import BaseModel, ConfigDict, Field

from camera_grpc.client.settings import preset_id
from camera_grpc.formats import (
    IMAGE_FORMAT_BY_PROTO,
    IMAGE_FORMAT_SPELLINGS,
    IMAGE_FORMATS,
    JPEG_QUALITY_MAX,
    JPEG_QUALITY_MIN,
    image_format_named,
    pixel_format_name,
)
from camera_grpc.gateway.recording_schemas import StorageLocation
from camera_grpc.gateway.settings_schemas import Feature, FullSettings, message_json
from camera_grpc.gen.camera.v1 import camera_pb2 as pb

#: How a capture request may name its file format (``jpg`` and ``jpeg`` are the same format).
ImageFormatSpelling = Literal[tuple(IMAGE_FORMAT_SPELLINGS)]  # type: ignore[valid-type]
#: Content type of a file whose format is unknown.
OCTET_STREAM = "application/octet-stream"
DRIVER_NAMES: dict[int, str] = {pb.CAMERA_DRIVER_PIXELINK: "pixelink", pb.CAMERA_DRIVER_SIMULATED: "simulated"}


def download_url(filename: str) -> str:
    """The gateway-relative URL of a capture's file."""
    return "/captures/" + quote(filename, safe="")


def _utc(stamp: Timestamp) -> datetime:
    return stamp.ToDatetime(tzinfo=UTC)


class _Request(BaseModel):
    """A request body: unknown fields and values of the wrong JSON type (``true`` or ``"100"`` for a
    number) are refused, not converted."""

    model_config = ConfigDict(extra="forbid", strict=True)


# -- settings -------------------------------------------------------------------------------


class SettingsUpdate(_Request):
    """New settings; fields left out (or null) stay as they are. All or nothing."""

    exposure: float | None = Field(None, description="Exposure in milliseconds", examples=[150.0])
    gain: float | None = Field(None, description="Gain in decibels (the camera's gain)", examples=[2.0])

    model_config = ConfigDict(
        extra="forbid", strict=True, json_schema_extra={"examples": [{"exposure": 150.0, "gain": 2.0}]}
    )


class Resolution(BaseModel):
    """Image size in pixels."""

    width: int = Field(description="pixels", examples=[2448])
    height: int = Field(description="pixels", examples=[2048])


class CameraSettings(FullSettings):
    """The camera's current settings. While disconnected: the last known values, ``connected`` false.

    The legacy fields (``exposure``, ``gain``, ``resolution``, ``width``, ``height``, ``pixel_format``,
    ``connected``) are as they always were; the others are every setting (PATCH /settings takes them).
    ``pixel_format`` is the camera's format, which frames are delivered in but for ``mono12_packed``
    (delivered as ``mono16``, see ``delivered_pixel_format``).
    """

    exposure: float = Field(description="Exposure in milliseconds", examples=[100.0])
    gain: float = Field(description="Gain in decibels (the camera's gain)", examples=[0.0])
    resolution: Resolution
    width: int = Field(description="Image width in pixels (same as resolution.width)", examples=[2448])
    height: int = Field(description="Image height in pixels (same as resolution.height)", examples=[2048])
    pixel_format: str = Field(description="The camera's pixel format", examples=["mono8"])
    connected: bool = Field(description="Whether the camera is connected and usable")

    @classmethod
    def from_proto(cls, message: pb.GetSettingsResponse | pb.UpdateSettingsResponse) -> CameraSettings:
        if message.HasField("settings"):
            return cls.from_settings(message.settings, message.connected)
        return cls(  # a service older than this gateway: the legacy fields only
            exposure=message.exposure_ms,
            gain=message.gain_db,
            resolution=Resolution(width=message.width, height=message.height),
            width=message.width,
            height=message.height,
            pixel_format=pixel_format_name(message.pixel_format),
            connected=message.connected,
        )

    @classmethod
    def from_settings(cls, settings: pb.CameraSettings, connected: bool) -> CameraSettings:
        """From a ``camera.v1.CameraSettings`` (GetSettings, WatchSettings, presets, camera channels)."""
        return cls(
            exposure=settings.exposure_ms,
            gain=settings.gain_db,
            resolution=Resolution(width=settings.width, height=settings.height),
            width=settings.width,
            height=settings.height,
            connected=connected,
            **FullSettings.values_from_proto(settings),
        )


class SettingsEvent(CameraSettings):
    """One ``settings`` event of ``GET /settings/events``: the settings, as GET /settings, and why they changed."""

    cause: str = Field(
        description="update, auto, reconnect, preset, camera_channel, or initial for the first event",
        examples=["update"],
    )


# -- frame metadata, triggers, I/O and events (issue 13) ------------------------------------


class FrameMetadata(BaseModel):
    """What is known about one frame besides its pixels (``camera.v1.FrameMetadata``).

    Frames of two cameras triggered by one line match by ``trigger_count`` (and, within a burst or sequence,
    ``trigger_frame_index``); their ``camera_time_s`` compare only when their ``camera_clock`` is the same.
    """

    frame_number: int = Field(description="The camera's frame number (a gap: frames lost before the service)")
    camera_time_s: float = Field(description="The camera's timestamp of the frame, seconds on camera_clock")
    camera_clock: str = Field(
        description='The clock of camera_time_s: "pixelink:<serial>" or "simulated:<serial>"',
        examples=["simulated:SIM-0001"],
    )
    received_at: datetime | None = Field(description="When the service received the frame (host clock, UTC)")
    trigger_source: str = Field(description="free_running, software or hardware", examples=["software"])
    trigger_count: int = Field(description="Triggers accepted since acquisition started, this one included (0: none)")
    trigger_frame_index: int = Field(description="Burst and sequence: the frame's index within its trigger, from 0")

    @classmethod
    def from_proto(cls, message: pb.FrameMetadata) -> FrameMetadata:
        return cls.model_validate(message_json(message))

    @classmethod
    def of(cls, message: pb.CaptureResponse | pb.CaptureSummary) -> FrameMetadata | None:
        """The metadata of a capture (None for one saved before metadata was recorded)."""
        return cls.from_proto(message.metadata) if message.HasField("metadata") else None


class TriggerResult(BaseModel):
    """What a software trigger produced."""

    frame_numbers: list[int] = Field(description="The frames it produced (one, or frames_per_trigger)")
    metadata: FrameMetadata = Field(description="The first frame's metadata")

    @classmethod
    def from_proto(cls, message: pb.SoftwareTriggerResponse) -> TriggerResult:
        return cls(frame_numbers=list(message.frame_numbers), metadata=FrameMetadata.from_proto(message.metadata))


class GpioLineState(BaseModel):
    """One GPIO line's level."""

    line: int = Field(description="Line number, 1-based", examples=[1])
    mode: str = Field(description="What the line is configured as (as in the settings' gpio)", examples=["input"])
    high: bool = Field(description="Input lines: the level read now")


class IoStatus(BaseModel):
    """The camera's GPIO lines and temperatures, read now."""

    lines: list[GpioLineState]
    sensor_temperature_c: float | None = Field(description="Degrees Celsius (null: the camera cannot say)")
    body_temperature_c: float | None = Field(description="Degrees Celsius (null: the camera cannot say)")

    @classmethod
    def from_proto(cls, message: pb.GetIoStatusResponse) -> IoStatus:
        return cls.model_validate(message_json(message))


class CameraEvent(BaseModel):
    """One event of ``GET /events`` (``camera.v1.Event``), with what this subscriber missed before it."""

    sequence_number: int = Field(description="Consecutive for one run of the service, from 1 (also the SSE id)")
    type: str = Field(description="What happened (also the SSE event name)", examples=["trigger_missed"])
    time: datetime | None = Field(description="When the service learned of it (host clock, UTC)")
    camera_time_s: float = Field(description="The camera's timestamp of it, seconds on camera_clock (0: none)")
    camera_clock: str = Field(description="The clock of camera_time_s (see FrameMetadata.camera_clock)")
    message: str = Field(description="A sentence for people")
    settings_revision: int = Field(description="settings_changed, camera_reconnected: the settings' revision")
    cause: str = Field(description="settings_changed: the cause, as in the settings events", examples=["update"])
    edge: str = Field(description="hardware_trigger: rising or falling")
    count: int = Field(description="trigger_missed, frames_skipped: how many; hardware_trigger: the trigger count")
    filename: str = Field(
        description="capture_saved, object_uploaded of a capture: its file name; object_uploaded of a recording's "
        "file: that file's name"
    )
    temperature_c: float = Field(description="sensor_temperature: degrees Celsius")
    line: int = Field(description="gpio_input: the line")
    high: bool = Field(description="gpio_input: whether the line is now high")
    recording: str = Field(
        description="recording_*, object_uploaded of a recording's file: the recording, recordings/{recording_id}"
    )
    bucket: str = Field(description="object_uploaded: the bucket")
    object_key: str = Field(description="object_uploaded: the object's key")
    free_bytes: int = Field(description="disk_space_low: free bytes left on the disk")
    missed_events: int = Field(
        description="Events this subscriber lost just before this one because it read too slowly (oldest first)"
    )

    @classmethod
    def from_proto(cls, message: pb.WatchEventsResponse) -> CameraEvent:
        return cls.model_validate({**message_json(message.event), "missed_events": message.missed_events})


# -- capture --------------------------------------------------------------------------------


class CaptureRequest(_Request):
    """Optional settings for this capture (they stay in effect afterwards) and file options."""

    exposure: float | None = Field(None, description="Exposure in milliseconds; kept afterwards", examples=[100.0])
    gain: float | None = Field(None, description="Gain in decibels; kept afterwards", examples=[1.0])
    format: ImageFormatSpelling | None = Field(None, description="File format; default: the service's IMAGE_FORMAT")
    quality: int | None = Field(
        None, ge=JPEG_QUALITY_MIN, le=JPEG_QUALITY_MAX, description="JPEG quality; default: the service's IMAGE_QUALITY"
    )

    model_config = ConfigDict(
        extra="forbid", strict=True, json_schema_extra={"examples": [{"exposure": 100.0, "gain": 1.0}]}
    )

    def to_proto(self) -> pb.CaptureRequest:
        request = pb.CaptureRequest()
        if self.exposure is not None:
            request.exposure_ms = self.exposure
        if self.gain is not None:
            request.gain_db = self.gain
        if self.format is not None:
            request.format = image_format_named(self.format).proto  # type: ignore[assignment]
        if self.quality is not None:
            request.quality = self.quality
        return request


class CaptureResult(BaseModel):
    """A saved capture."""

    filename: str = Field(examples=["capture_20261124_101500_123456_42.jpg"])
    path: str = Field(description="Absolute path on the camera service's host")
    url: str = Field(
        description="Where to download the file from this gateway",
        examples=["/captures/capture_20261124_101500_123456_42.jpg"],
    )
    exposure: float = Field(description="Exposure the image was taken with, milliseconds", examples=[100.0])
    gain: float = Field(description="Gain the image was taken with, decibels", examples=[1.0])
    format: str = Field(description="File format", examples=["jpeg"])
    size_bytes: int = Field(description="File size in bytes")
    width: int = Field(description="pixels")
    height: int = Field(description="pixels")
    pixel_format: str = Field(examples=["mono8"])
    bit_depth: int = Field(description="Significant bits per sample", examples=[8])
    frame_number: int = Field(description="The camera's frame number")
    captured_at: datetime = Field(description="When the frame was captured (UTC)")
    metadata_path: str = Field(description="Absolute path of the JSON sidecar on the service's host")
    metadata: FrameMetadata | None = Field(None, description="The frame's camera timestamp, trigger and receive time")

    @classmethod
    def from_proto(cls, message: pb.CaptureResponse) -> CaptureResult:
        return cls(
            filename=message.filename,
            path=message.path,
            url=download_url(message.filename),
            exposure=message.exposure_ms,
            gain=message.gain_db,
            format=IMAGE_FORMAT_BY_PROTO.get(message.format, "unspecified"),
            size_bytes=message.size_bytes,
            width=message.width,
            height=message.height,
            pixel_format=pixel_format_name(message.pixel_format),
            bit_depth=message.bit_depth,
            frame_number=message.frame_number,
            captured_at=_utc(message.captured_at),
            metadata_path=message.metadata_path,
            metadata=FrameMetadata.of(message),
        )


# -- captures ---------------------------------------------------------------------------------


#: CaptureSummary fields the JSON body has under the same name, as they are.
_SUMMARY_FIELDS = ("filename", "size_bytes", "width", "height", "frame_number", "exposure_ms", "gain_db")


class CaptureSummary(BaseModel):
    """A saved capture, from its metadata sidecar."""

    filename: str = Field(examples=["capture_20261124_101500_123456_42.jpg"])
    url: str = Field(description="Where to download the file from this gateway")
    format: str = Field(examples=["jpeg"])
    content_type: str = Field(examples=["image/jpeg"])
    size_bytes: int
    width: int = Field(description="pixels")
    height: int = Field(description="pixels")
    frame_number: int
    captured_at: datetime = Field(description="UTC")
    exposure_ms: float
    gain_db: float
    metadata: FrameMetadata | None = Field(
        None, description="The frame's camera timestamp, trigger and receive time (null: saved before it was recorded)"
    )
    thumbnail_url: str = Field(description="A small JPEG of it (GET /captures/{filename}/thumbnail)")
    location: StorageLocation | None = Field(
        None, description="Where the file is kept: local folder, upload spool or object store (null: not said)"
    )

    @classmethod
    def from_proto(cls, message: pb.CaptureSummary) -> CaptureSummary:
        image_format = IMAGE_FORMAT_BY_PROTO.get(message.format, "unspecified")
        return cls(
            **{name: getattr(message, name) for name in _SUMMARY_FIELDS},
            url=download_url(message.filename),
            thumbnail_url=download_url(message.filename) + "/thumbnail",
            location=StorageLocation.from_proto(message.location) if message.HasField("location") else None,
            format=image_format,
            content_type=IMAGE_FORMATS[image_format].content_type if image_format in IMAGE_FORMATS else OCTET_STREAM,
            captured_at=_utc(message.captured_at),
            metadata=FrameMetadata.of(message),
        )


class CapturePage(BaseModel):
    """One page of saved captures, newest first."""

    captures: list[CaptureSummary]
    next_page_token: str = Field(description="Pass as page_token for the next page; empty on the last page")


# -- camera and health ----------------------------------------------------------------------------


class CameraInfo(BaseModel):
    """The camera: identity, sensor and valid ranges (bounds for exposure and gain)."""

    model: str = Field(examples=["Simulated Camera"])
    serial_number: str
    firmware_version: str
    camera_name: str
    driver: str = Field(description="pixelink or simulated", examples=["simulated"])
    sensor_width: int = Field(description="pixels")
    sensor_height: int = Field(description="pixels")
    min_exposure_ms: float = Field(examples=[0.01])
    max_exposure_ms: float = Field(examples=[10000.0])
    min_gain_db: float = Field(examples=[0.0])
    max_gain_db: float = Field(examples=[24.0])
    pixel_formats: list[str] = Field(examples=[["mono8"]])
    connected: bool
    features: list[Feature] = Field(
        description="Every setting the camera has or lacks, as it reports it, by field path (as in PATCH /settings)"
    )
    settings_channels: int = Field(
        description="The camera's non-volatile user channels (POST /camera/channels/{channel}/save: 1 to this); "
        "0 when it has none"
    )

    @classmethod
    def from_proto(cls, message: pb.GetCameraInfoResponse) -> CameraInfo:
        return cls(
            model=message.model,
            serial_number=message.serial_number,
            firmware_version=message.firmware_version,
            camera_name=message.camera_name,
            driver=DRIVER_NAMES.get(message.driver, "unspecified"),
            sensor_width=message.sensor_width,
            sensor_height=message.sensor_height,
            min_exposure_ms=message.min_exposure_ms,
            max_exposure_ms=message.max_exposure_ms,
            min_gain_db=message.min_gain_db,
            max_gain_db=message.max_gain_db,
            pixel_formats=[pixel_format_name(number) for number in message.supported_pixel_formats],
            connected=message.connected,
            features=[Feature.from_proto(feature) for feature in message.features],
            settings_channels=message.settings_channels,
        )


# -- presets --------------------------------------------------------------------------------------


class PresetCreate(_Request):
    """Save the current settings as a preset (an existing one of that id is replaced)."""

    preset_id: str = Field(
        description="1 to 63 characters: lower-case letters, digits and '-', starting with a letter",
        examples=["bright-field"],
    )


class Preset(BaseModel):
    """A named set of settings kept by the camera service."""

    preset_id: str = Field(examples=["bright-field"])
    settings: FullSettings
    create_time: datetime | None = Field(description="When it was saved (UTC)")

    @classmethod
    def from_proto(cls, message: pb.Preset) -> Preset:
        return cls(
            preset_id=preset_id(message.name),
            settings=FullSettings(**FullSettings.values_from_proto(message.settings)),
            create_time=_utc(message.create_time) if message.HasField("create_time") else None,
        )


class PresetList(BaseModel):
    """The saved presets, sorted by id."""

    presets: list[Preset]


class Health(BaseModel):
    """Service status and camera connectivity."""

    status: Literal["healthy", "degraded", "unavailable"] = Field(
        description="healthy: camera usable; degraded: service up, camera not usable; "
        "unavailable: the camera service cannot be reached"
    )
    camera_connected: bool = Field(description="Whether the camera is connected and usable")
    service: str = Field(
        description="gRPC health of camera.v1.CameraService: SERVING, NOT_SERVING, UNKNOWN or UNREACHABLE",
        examples=["SERVING"],
    )
