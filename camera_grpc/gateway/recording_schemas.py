"""JSON bodies of recordings (issue 14), storage (issue 16) and frame statistics (issue 17), and their translation
from camera.v1 messages.

Names and units are the proto's (``max_duration_s``, ``bytes_written``, ``size_bytes``); enum values are
lower-case short names (``running``, ``uploaded``), but recording formats are named as people write them
(``ome-tiff``, ``ome-zarr``, ``mp4``), as the CLI does.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Literal
from urllib.parse import quote

from google.protobuf.timestamp_pb2 import Timestamp
from pydantic import BaseModel, ConfigDict, Field

from camera_grpc.client import (
    RECORDING_FORMATS,
    THUMBNAIL_MAX_WIDTH_PX,
    THUMBNAIL_MIN_WIDTH_PX,
    recording_format_name,
)
from camera_grpc.client.camera import recording_format
from camera_grpc.client.settings import enum_choices, enum_name
from camera_grpc.gateway.settings_schemas import FullSettings
from camera_grpc.gen.camera.v1 import camera_pb2 as pb
from camera_grpc.gen.camera.v1 import recording_pb2 as rpb
from camera_grpc.gen.camera.v1 import storage_pb2 as spb

RecordingFormatName = Literal[RECORDING_FORMATS]  # type: ignore[valid-type]
RecordingStateName = Literal[enum_choices(rpb.RecordingState.DESCRIPTOR)]  # type: ignore[valid-type]
#: Most frames a recording may be asked to stop after (the proto's uint64).
UINT64_MAX = 2**64 - 1
#: Largest value of a uint32 field (frames per file, width).
UINT32_MAX = 2**32 - 1
#: Longest recording id (AIP-122: 1 to 63 characters).
MAX_RECORDING_ID_CHARS = 63


def recording_id(name: str) -> str:
    """The id of ``recordings/{id}``."""
    return name.split("/", 1)[1] if "/" in name else name


def recording_url(name: str) -> str:
    """The gateway-relative URL of a recording."""
    return "/recordings/" + quote(recording_id(name), safe="")


def _utc(stamp: Timestamp) -> datetime:
    return stamp.ToDatetime(tzinfo=UTC)


class StorageLocation(BaseModel):
    """Where a saved file is kept (issue 16)."""

    state: str = Field(
        description="local (no object store), spooled (waiting for its upload), uploaded (in the object store), "
        "or unspecified",
        examples=["local"],
    )
    bucket: str = Field(description="spooled, uploaded: the bucket")
    object_key: str = Field(description="spooled, uploaded: the object's key")

    @classmethod
    def from_proto(cls, message: pb.StorageLocation) -> StorageLocation:
        return cls(
            state=enum_name(pb.StorageState.DESCRIPTOR, message.state),
            bucket=message.bucket,
            object_key=message.object_key,
        )


class RecordingFile(BaseModel):
    """One file of a recording."""

    name: str = Field(examples=["frames.ome.tif"])
    size_bytes: int
    content_type: str = Field(examples=["image/tiff"])
    url: str = Field(description="Where to download it from this gateway (range requests welcome)")
    location: StorageLocation

    @classmethod
    def from_proto(cls, recording: str, message: rpb.RecordingFile) -> RecordingFile:
        return cls(
            name=message.name,
            size_bytes=message.size_bytes,
            content_type=message.content_type,
            url=f"{recording_url(recording)}/files/{quote(message.name, safe='')}",
            location=StorageLocation.from_proto(message.location),
        )


class Recording(BaseModel):
    """A recording (``camera.v1.Recording``): its state, progress and files."""

    recording_id: str = Field(examples=["20261201-101500"])
    name: str = Field(description="recordings/{recording_id}")
    url: str = Field(description="This recording on this gateway")
    state: str = Field(description="running, completed, stopped or failed", examples=["running"])
    format: str = Field(description="ome-tiff, ome-zarr or mp4", examples=["ome-tiff"])
    max_frames: int = Field(description="Stop after this many frames (0: no limit)")
    max_duration_s: float = Field(description="Stop after this long, seconds (0: no limit)")
    frames_per_file: int = Field(description="A new file after this many frames (0: one file)")
    max_width: int = Field(description="mp4: frames wider are scaled down to this many pixels (0: full size)")
    frames_written: int
    frames_dropped: int = Field(description="Frames the camera delivered that were not written, by frame number")
    bytes_written: int
    rate_fps: float = Field(description="Frames written per second over the last second")
    start_time: datetime | None = Field(description="UTC")
    end_time: datetime | None = Field(description="UTC; null while running")
    failure_reason: str = Field(description="failed: why", examples=["disk full"])
    files: list[RecordingFile]
    settings: FullSettings | None = Field(description="The settings it was recorded with")
    thumbnail_url: str = Field(description="A small JPEG of its first frame")

    @classmethod
    def from_proto(cls, message: rpb.Recording) -> Recording:
        url = recording_url(message.name)
        return cls(
            recording_id=recording_id(message.name),
            name=message.name,
            url=url,
            state=enum_name(rpb.RecordingState.DESCRIPTOR, message.state),
            format=recording_format_name(message.format),
            max_frames=message.max_frames,
            max_duration_s=message.max_duration_s,
            frames_per_file=message.frames_per_file,
            max_width=message.max_width,
            frames_written=message.frames_written,
            frames_dropped=message.frames_dropped,
            bytes_written=message.bytes_written,
            rate_fps=message.rate_fps,
            start_time=_utc(message.start_time) if message.HasField("start_time") else None,
            end_time=_utc(message.end_time) if message.HasField("end_time") else None,
            failure_reason=message.failure_reason,
            files=[RecordingFile.from_proto(message.name, file) for file in message.files],
            settings=FullSettings(**FullSettings.values_from_proto(message.settings))
            if message.HasField("settings")
            else None,
            thumbnail_url=f"{url}/thumbnail",
        )


class RecordingPage(BaseModel):
    """One page of recordings, newest first."""

    recordings: list[Recording]
    next_page_token: str = Field(description="Pass as page_token for the next page; empty on the last page")


class RecordingStart(BaseModel):
    """Start a recording of the camera's frames with the current settings and trigger mode."""

    model_config = ConfigDict(
        extra="forbid",
        strict=True,
        json_schema_extra={"examples": [{"format": "ome-tiff", "max_frames": 1000}]},
    )

    format: RecordingFormatName = Field("ome-tiff", description="File format")  # type: ignore[valid-type]
    max_frames: int = Field(0, ge=0, le=UINT64_MAX, description="Stop after this many frames (0: no limit)")
    max_duration_s: float = Field(
        0.0, ge=0, allow_inf_nan=False, description="Stop after this long, seconds (0: no limit)"
    )
    frames_per_file: int = Field(0, ge=0, le=UINT32_MAX, description="Start a new file after this many frames")
    max_width: int = Field(0, ge=0, le=UINT32_MAX, description="mp4: scale wider frames down to this many pixels")
    recording_id: str = Field(
        "",
        max_length=MAX_RECORDING_ID_CHARS,
        description="1 to 63 lower-case letters, digits and '-'; empty: made from the start time",
        examples=["run-42"],
    )

    def to_proto(self) -> rpb.StartRecordingRequest:
        return rpb.StartRecordingRequest(
            recording_id=self.recording_id,
            format=recording_format(self.format),  # type: ignore[arg-type]
            max_frames=self.max_frames,
            max_duration_s=self.max_duration_s,
            frames_per_file=self.frames_per_file,
            max_width=self.max_width,
        )


THUMBNAIL_WIDTH_DESCRIPTION = (
    f"Largest width of the thumbnail, pixels ({THUMBNAIL_MIN_WIDTH_PX} to {THUMBNAIL_MAX_WIDTH_PX})"
)


# -- storage (issue 16) -------------------------------------------------------------------------------------------


class StorageStatus(BaseModel):
    """Where the service keeps captures and recordings, and how its uploads go."""

    backend: str = Field(description="local (the service's folders) or object_store (a bucket, via a spool)")
    endpoint: str = Field(description="object_store: the endpoint URL")
    bucket: str = Field(description="object_store: the bucket")
    prefix: str = Field(description="object_store: the key prefix of this camera's objects")
    reachable: bool = Field(description="object_store: whether the last request to the store succeeded")
    last_error: str = Field(description="object_store: the last error talking to the store (empty: none)")
    spool_bytes: int = Field(description="object_store: bytes waiting in the spool")
    spool_budget_bytes: int = Field(description="object_store: the most the spool may hold, bytes")
    pending_uploads: int = Field(description="object_store: files waiting to be uploaded")
    uploaded_files: int = Field(description="object_store: files uploaded since the service started")
    disk_free_bytes: int = Field(description="Free bytes on the disk of the local folders or the spool")
    last_upload_time: datetime | None = Field(description="When the last upload was confirmed (UTC; null: none)")

    @classmethod
    def from_proto(cls, message: spb.GetStorageStatusResponse) -> StorageStatus:
        return cls(
            backend=enum_name(spb.StorageBackend.DESCRIPTOR, message.backend),
            endpoint=message.endpoint,
            bucket=message.bucket,
            prefix=message.prefix,
            reachable=message.reachable,
            last_error=message.last_error,
            spool_bytes=message.spool_bytes,
            spool_budget_bytes=message.spool_budget_bytes,
            pending_uploads=message.pending_uploads,
            uploaded_files=message.uploaded_files,
            disk_free_bytes=message.disk_free_bytes,
            last_upload_time=_utc(message.last_upload_time) if message.HasField("last_upload_time") else None,
        )


# -- frame statistics (issue 17) ----------------------------------------------------------------------------------


class ChannelStatistics(BaseModel):
    """One channel's statistics, from the raw pixels at the sensor's bit depth."""

    channel: str = Field(description="mono, or red, green, blue", examples=["mono"])
    histogram: list[int] = Field(description="Counts per bin; bin i holds values from i * 2^bit_depth / bins")
    min: int = Field(description="Smallest sample")
    max: int = Field(description="Largest sample")
    mean: float = Field(description="Mean sample")
    saturated_fraction: float = Field(description="Fraction (0 to 1) of samples at 2^bit_depth - 1 (clipped)")


class FrameStatistics(BaseModel):
    """One event of ``GET /stream/stats``: a live frame's statistics."""

    frame_number: int = Field(description="The camera's frame number")
    captured_at: datetime | None = Field(description="When the frame was captured (UTC)")
    width: int = Field(description="pixels")
    height: int = Field(description="pixels")
    bit_depth: int = Field(description="Samples are 0 to 2^bit_depth - 1")
    channels: list[ChannelStatistics]
    focus_score: float = Field(
        description="Variance of the Laplacian of the luminance, samples scaled to 0..255 (larger is sharper; "
        "compare scores of one scene only)"
    )
    subsample_step: int = Field(description="Every subsample_step-th pixel in each direction was counted (1: all)")

    @classmethod
    def from_proto(cls, frame: pb.FramesResponse) -> FrameStatistics:
        statistics = frame.statistics
        return cls(
            frame_number=frame.frame_number,
            captured_at=_utc(frame.captured_at) if frame.HasField("captured_at") else None,
            width=frame.width,
            height=frame.height,
            bit_depth=statistics.bit_depth or frame.bit_depth,
            channels=[
                ChannelStatistics(
                    channel=channel.channel,
                    histogram=list(channel.histogram),
                    min=channel.min,
                    max=channel.max,
                    mean=channel.mean,
                    saturated_fraction=channel.saturated_fraction,
                )
                for channel in statistics.channels
            ],
            focus_score=statistics.focus_score,
            subsample_step=statistics.subsample_step,
        )
