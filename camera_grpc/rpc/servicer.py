"""The gRPC servicer: translates camera.v1 messages to controller calls and back.

No camera logic lives here. Errors are mapped by :mod:`camera_grpc.rpc.status`,
which :func:`add_to_server` applies to every method of the service.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from concurrent.futures import Executor
from typing import TypeVar

import grpc

from camera_grpc.contract import CAMERA_SERVICE
from camera_grpc.core.controller import CameraController
from camera_grpc.core.statistics import histogram_bins
from camera_grpc.core.storage import CaptureRecord, FrameMetadata
from camera_grpc.core.streaming import Delivery, FrameHub, Policy, StreamOptions
from camera_grpc.core.thumbnails import (
    THUMBNAIL_CONTENT_TYPE,
    ThumbnailCache,
    default_cache_directory,
    thumbnail_width,
)
from camera_grpc.errors import InvalidArgumentError
from camera_grpc.formats import (
    ENCODING_BY_PROTO,
    IMAGE_FORMAT_BY_PROTO,
    IMAGE_FORMATS,
    JPEG_QUALITY_MAX,
    JPEG_QUALITY_MIN,
)
from camera_grpc.gen.camera.v1 import camera_pb2 as pb
from camera_grpc.gen.camera.v1 import camera_pb2_grpc
from camera_grpc.rpc import status
from camera_grpc.rpc.settings_wire import (
    event_to_proto,
    event_types_from_request,
    features_to_proto,
    frame_metadata_to_proto,
    io_status_to_proto,
    legacy_settings_fields,
    location_to_proto,
    preset_id_of,
    preset_to_proto,
    snapshot_to_proto,
    timestamp,
    update_from_request,
)
from camera_grpc.rpc.wire import FRAMES_DATA_FIELD, serialize, statistics_to_proto, with_bytes_field

POLICIES: dict[int, Policy] = {
    pb.DELIVERY_POLICY_UNSPECIFIED: Policy.LATEST,
    pb.DELIVERY_POLICY_LATEST: Policy.LATEST,
    pb.DELIVERY_POLICY_QUEUE: Policy.QUEUE,
}
#: ``image_format`` of captures -> ``camera.v1.ImageFormat`` (unspecified: the configured default).
IMAGE_FORMAT_REQUESTS: dict[int, str | None] = {pb.IMAGE_FORMAT_UNSPECIFIED: None, **IMAGE_FORMAT_BY_PROTO}
DRIVERS: dict[str, int] = {"pixelink": pb.CAMERA_DRIVER_PIXELINK, "simulated": pb.CAMERA_DRIVER_SIMULATED}
#: LiveFramesResponse.frame: the FramesResponse, pre-serialized like Frames' messages.
LIVE_FRAMES_FRAME_FIELD = pb.LiveFramesResponse.DESCRIPTOR.fields_by_name["frame"].number
#: Most unused credits a LiveFrames client can hold (more would only mean "send everything").
MAX_LIVE_FRAMES_CREDITS = 1024
#: Upper bound of FramesRequest.queue_depth, frames.
MAX_QUEUE_DEPTH = 1024

T = TypeVar("T")


#: Methods whose handler sends the response headers itself (see :class:`camera_grpc.rpc.metrics.CallObserver`):
#: WatchEvents once it has subscribed, so a client holding the headers misses no event published after them.
OWN_HEADERS: frozenset[str] = frozenset({f"/{CAMERA_SERVICE.full_name}/WatchEvents"})


class CameraServicer(camera_pb2_grpc.CameraServiceServicer):
    """camera.v1.CameraService over a :class:`CameraController` and a :class:`FrameHub`."""

    def __init__(
        self,
        camera: CameraController,
        frames: FrameHub,
        *,
        default_queue_depth: int,
        thumbnails: ThumbnailCache | None = None,
        executor: Executor | None = None,
    ) -> None:
        """``thumbnails``: where capture thumbnails are cached (default: :func:`default_cache_directory`);
        ``executor``: where they are made (default: the frame hub's encoder pool)."""
        self._camera = camera
        self._frames = frames
        self._default_queue_depth = default_queue_depth
        self._thumbnails = thumbnails or ThumbnailCache(default_cache_directory())
        self._executor = executor or frames.executor

    async def Capture(self, request: pb.CaptureRequest, context: grpc.aio.ServicerContext) -> pb.CaptureResponse:
        image_format = _enum_value(IMAGE_FORMAT_REQUESTS, request.format, "format")
        saved = await self._camera.capture(
            exposure_ms=request.exposure_ms if request.HasField("exposure_ms") else None,
            gain_db=request.gain_db if request.HasField("gain_db") else None,
            image_format=image_format,
            quality=request.quality if request.HasField("quality") else None,
        )
        return pb.CaptureResponse(
            filename=saved.filename,
            path=str(saved.path),
            format=IMAGE_FORMATS[saved.image_format].proto,
            size_bytes=saved.size_bytes,
            width=saved.width,
            height=saved.height,
            pixel_format=saved.pixel_format.proto,
            bit_depth=saved.bit_depth,
            frame_number=saved.frame_number,
            captured_at=timestamp(saved.captured_at),
            exposure_ms=saved.exposure_ms,
            gain_db=saved.gain_db,
            metadata_path=str(saved.metadata_path),
            image_data=saved.data if request.include_image_data else b"",
            metadata=frame_metadata_to_proto(saved.metadata) if saved.metadata is not None else None,
        )

    async def SoftwareTrigger(
        self, request: pb.SoftwareTriggerRequest, context: grpc.aio.ServicerContext
    ) -> pb.SoftwareTriggerResponse:
        frame = await self._camera.software_trigger()
        return pb.SoftwareTriggerResponse(
            frame_numbers=[frame.frame_number], metadata=frame_metadata_to_proto(FrameMetadata.of(frame))
        )

    async def GetIoStatus(
        self, request: pb.GetIoStatusRequest, context: grpc.aio.ServicerContext
    ) -> pb.GetIoStatusResponse:
        return io_status_to_proto(await self._camera.io_status())

    async def WatchEvents(
        self, request: pb.WatchEventsRequest, context: grpc.aio.ServicerContext
    ) -> AsyncIterator[pb.WatchEventsResponse]:
        types = event_types_from_request(request)
        async with self._camera.watch_events(types) as subscription:
            await context.send_initial_metadata(())  # subscribed: a client that has the headers misses nothing after
            async for delivery in subscription:
                yield pb.WatchEventsResponse(event=event_to_proto(delivery.event), missed_events=delivery.missed_events)

    async def GetSettings(
        self, request: pb.GetSettingsRequest, context: grpc.aio.ServicerContext
    ) -> pb.GetSettingsResponse:
        return pb.GetSettingsResponse(**legacy_settings_fields(await self._camera.get_settings()))

    async def UpdateSettings(
        self, request: pb.UpdateSettingsRequest, context: grpc.aio.ServicerContext
    ) -> pb.UpdateSettingsResponse:
        patch, paths = update_from_request(request)
        settings = await self._camera.update_settings(
            patch, paths, request.expected_revision if request.HasField("expected_revision") else None
        )
        return pb.UpdateSettingsResponse(**legacy_settings_fields(settings))

    async def WatchSettings(
        self, request: pb.WatchSettingsRequest, context: grpc.aio.ServicerContext
    ) -> AsyncIterator[pb.WatchSettingsResponse]:
        async for snapshot in self._camera.watch_settings():
            yield pb.WatchSettingsResponse(
                settings=snapshot_to_proto(snapshot), connected=snapshot.connected, cause=snapshot.cause.value
            )

    async def CreatePreset(
        self, request: pb.CreatePresetRequest, context: grpc.aio.ServicerContext
    ) -> pb.CreatePresetResponse:
        return pb.CreatePresetResponse(preset=preset_to_proto(await self._camera.create_preset(request.preset_id)))

    async def ListPresets(
        self, request: pb.ListPresetsRequest, context: grpc.aio.ServicerContext
    ) -> pb.ListPresetsResponse:
        return pb.ListPresetsResponse(presets=[preset_to_proto(preset) for preset in await self._camera.list_presets()])

    async def GetPreset(self, request: pb.GetPresetRequest, context: grpc.aio.ServicerContext) -> pb.GetPresetResponse:
        return pb.GetPresetResponse(preset=preset_to_proto(await self._camera.get_preset(preset_id_of(request.name))))

    async def DeletePreset(
        self, request: pb.DeletePresetRequest, context: grpc.aio.ServicerContext
    ) -> pb.DeletePresetResponse:
        await self._camera.delete_preset(preset_id_of(request.name))
        return pb.DeletePresetResponse()

    async def ApplyPreset(
        self, request: pb.ApplyPresetRequest, context: grpc.aio.ServicerContext
    ) -> pb.ApplyPresetResponse:
        settings = await self._camera.apply_preset(
            preset_id_of(request.name),
            request.expected_revision if request.HasField("expected_revision") else None,
        )
        return pb.ApplyPresetResponse(settings=snapshot_to_proto(settings), connected=settings.connected)

    async def SaveSettingsToCamera(
        self, request: pb.SaveSettingsToCameraRequest, context: grpc.aio.ServicerContext
    ) -> pb.SaveSettingsToCameraResponse:
        await self._camera.save_to_camera_channel(request.channel)
        return pb.SaveSettingsToCameraResponse()

    async def LoadSettingsFromCamera(
        self, request: pb.LoadSettingsFromCameraRequest, context: grpc.aio.ServicerContext
    ) -> pb.LoadSettingsFromCameraResponse:
        settings = await self._camera.load_from_camera_channel(request.channel)
        return pb.LoadSettingsFromCameraResponse(settings=snapshot_to_proto(settings), connected=settings.connected)

    async def GetCameraInfo(
        self, request: pb.GetCameraInfoRequest, context: grpc.aio.ServicerContext
    ) -> pb.GetCameraInfoResponse:
        info = await self._camera.info()
        return pb.GetCameraInfoResponse(
            model=info.model,
            serial_number=info.serial_number,
            firmware_version=info.firmware_version,
            driver=DRIVERS.get(info.driver, pb.CAMERA_DRIVER_UNSPECIFIED),
            sensor_width=info.sensor_width,
            sensor_height=info.sensor_height,
            min_exposure_ms=info.exposure_ms.minimum,
            max_exposure_ms=info.exposure_ms.maximum,
            min_gain_db=info.gain_db.minimum,
            max_gain_db=info.gain_db.maximum,
            supported_pixel_formats=[fmt.proto for fmt in info.pixel_formats],
            connected=self._camera.ready,
            camera_name=info.camera_name,
            features=features_to_proto(info.features),
            settings_channels=info.settings_channels,
        )

    async def Frames(self, request: pb.FramesRequest, context: grpc.aio.ServicerContext) -> AsyncIterator[bytes]:
        options = await self._stream_options(request)
        async with self._frames.subscribe(options, peer=context.peer()) as subscription:
            async for delivery in subscription:
                message = _frames_message(delivery, options)
                # Nothing of this frame is kept while waiting for the next one (a subscriber with a low
                # max_fps would pin megabytes for as long as it waits).
                del delivery
                yield message
                del message

    async def LiveFrames(
        self, requests: AsyncIterator[pb.LiveFramesRequest], context: grpc.aio.ServicerContext
    ) -> AsyncIterator[bytes]:
        first = await anext(aiter(requests), None)
        if first is None:
            return
        options = await self._stream_options(first.subscription)
        credits = Credits(first.credits)
        granting = asyncio.ensure_future(credits.add_from(requests))
        try:
            async with self._frames.subscribe(options, peer=context.peer()) as subscription:
                deliveries = aiter(subscription)
                while not (options.max_frames and subscription.delivered >= options.max_frames):
                    await credits.take()  # first the credit, then the frame: the newest when the client can take it
                    delivery = await anext(deliveries, None)
                    if delivery is None:
                        return
                    message = _frames_message(delivery, options, wrap_field=LIVE_FRAMES_FRAME_FIELD)
                    del delivery
                    yield message
                    del message
        finally:
            granting.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await granting

    async def ListCaptures(
        self, request: pb.ListCapturesRequest, context: grpc.aio.ServicerContext
    ) -> pb.ListCapturesResponse:
        page = await self._camera.list_captures(request.page_size, request.page_token)
        return pb.ListCapturesResponse(
            captures=[_capture_summary(capture) for capture in page.captures], next_page_token=page.next_page_token
        )

    async def GetCapture(
        self, request: pb.GetCaptureRequest, context: grpc.aio.ServicerContext
    ) -> pb.GetCaptureResponse:
        width = None
        if request.HasField("thumbnail_max_width"):  # checked first: a bad request reads nothing
            width = thumbnail_width(request.thumbnail_max_width, "thumbnail_max_width")
        capture, data = await self._camera.get_capture(request.filename)
        summary = _capture_summary(capture)
        if width is None:
            return pb.GetCaptureResponse(capture=summary, content_type=capture.content_type, data=data)
        thumbnail = await asyncio.get_running_loop().run_in_executor(
            self._executor, self._thumbnails.of_file_content, _thumbnail_name(capture.filename), data, width
        )
        del data  # not kept while the response is sent
        return pb.GetCaptureResponse(capture=summary, content_type=THUMBNAIL_CONTENT_TYPE, data=thumbnail)

    async def DeleteCapture(
        self, request: pb.DeleteCaptureRequest, context: grpc.aio.ServicerContext
    ) -> pb.DeleteCaptureResponse:
        capture = await self._camera.delete_capture(request.filename)
        await asyncio.get_running_loop().run_in_executor(
            self._executor, self._thumbnails.forget, _thumbnail_name(capture.filename)
        )
        return pb.DeleteCaptureResponse()

    async def _stream_options(self, request: pb.FramesRequest) -> StreamOptions:
        bins = None
        if request.HasField("statistics"):  # the bins' limit is the camera's bit depth now
            bins = histogram_bins(request.statistics.histogram_bins, (await self._camera.get_settings()).bit_depth)
        quality = request.quality if request.HasField("quality") else self._camera.default_quality
        if not JPEG_QUALITY_MIN <= quality <= JPEG_QUALITY_MAX:
            raise InvalidArgumentError("quality", quality, minimum=JPEG_QUALITY_MIN, maximum=JPEG_QUALITY_MAX)
        if request.HasField("max_fps") and not (request.max_fps >= 0 and request.max_fps < float("inf")):
            raise InvalidArgumentError("max_fps", request.max_fps, reason="must be a finite number >= 0")
        depth = request.queue_depth or self._default_queue_depth
        if depth > MAX_QUEUE_DEPTH:
            raise InvalidArgumentError("queue_depth", depth, minimum=1, maximum=MAX_QUEUE_DEPTH)
        return StreamOptions(
            encoding=_enum_value(ENCODING_BY_PROTO, request.encoding, "encoding"),
            quality=quality,
            max_width=request.max_width or None,
            max_fps=request.max_fps or None,
            max_frames=request.max_frames or None,
            policy=_enum_value(POLICIES, request.policy, "policy"),
            queue_depth=depth,
            histogram_bins=bins,
        )


class Credits:
    """A LiveFrames client's unused credits (event loop only)."""

    def __init__(self, initial: int) -> None:
        self._available = initial
        self._granted = asyncio.Event()
        self._failure: Exception | None = None  #: why the client's messages could not be read
        if initial:
            self._granted.set()

    async def take(self) -> None:
        """Wait for a credit and use it; raises what ended the client's messages (e.g. a malformed one)."""
        while self._available == 0 and self._failure is None:
            self._granted.clear()
            await self._granted.wait()
        if self._failure is not None:
            raise self._failure
        self._available -= 1

    async def add_from(self, requests: AsyncIterator[pb.LiveFramesRequest]) -> None:
        """Add the credits of every further message of the client (until it half-closes)."""
        try:
            async for request in requests:
                if request.credits:
                    self._available = min(self._available + request.credits, MAX_LIVE_FRAMES_CREDITS)
                    self._granted.set()
        except Exception as exc:  # handed to the stream, whose errors are mapped like every RPC's
            self._failure = exc
            self._granted.set()


def _frames_message(delivery: Delivery, options: StreamOptions, wrap_field: int | None = None) -> bytes:
    """A serialized FramesResponse (its big data field appended without a copy into the message), or a
    message whose field ``wrap_field`` holds it (LiveFramesResponse.frame)."""
    frame = delivery.frame
    fields = pb.FramesResponse(
        frame_number=frame.frame_number,
        sequence_number=delivery.sequence_number,
        missed_frames=delivery.missed_frames,
        captured_at=timestamp(frame.captured_at),
        width=delivery.encoded.width,
        height=delivery.encoded.height,
        pixel_format=frame.pixel_format.proto,
        bit_depth=frame.bit_depth,
        encoding=options.encoding.proto,
        exposure_ms=frame.exposure_ms,
        gain_db=frame.gain_db,
        metadata=frame_metadata_to_proto(FrameMetadata.of(frame)),
        statistics=statistics_to_proto(delivery.statistics) if delivery.statistics is not None else None,
    )
    return with_bytes_field(fields, FRAMES_DATA_FIELD, delivery.encoded.data, wrap_field=wrap_field)


def _enum_value(table: dict[int, T], number: int, field: str) -> T:
    if number not in table:
        raise InvalidArgumentError(field, number, reason=f"must be one of {sorted(table)}")
    return table[number]


#: CaptureSummary fields that are the capture record's fields of the same name, as they are.
_SUMMARY_FIELDS = ("filename", "size_bytes", "width", "height", "frame_number", "exposure_ms", "gain_db")


def _capture_summary(capture: CaptureRecord) -> pb.CaptureSummary:
    return pb.CaptureSummary(
        **{name: getattr(capture, name) for name in _SUMMARY_FIELDS},
        format=IMAGE_FORMATS[capture.image_format].proto,
        captured_at=timestamp(capture.captured_at),
        metadata=frame_metadata_to_proto(capture.metadata) if capture.metadata is not None else None,
        location=location_to_proto(capture.location),
    )


def _thumbnail_name(filename: str) -> str:
    """The name a capture's thumbnails are cached under."""
    return f"captures/{filename}"


def add_to_server(servicer: CameraServicer, server: grpc.aio.Server) -> None:
    """Register ``servicer`` for every RPC of camera.v1.CameraService.

    Like the generated ``add_CameraServiceServicer_to_server`` (built from the same
    descriptor, so new RPCs are picked up), except that every method's errors are mapped
    by :func:`camera_grpc.rpc.status.guard`, malformed requests are refused with
    INVALID_ARGUMENT, and responses may also be pre-serialized bytes (used by Frames).
    """
    server.add_generic_rpc_handlers((status.guarded_service(CAMERA_SERVICE, servicer, pb, serialize),))
