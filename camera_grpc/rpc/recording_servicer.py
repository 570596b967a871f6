"""camera.v1.RecordingService: translates its messages to :class:`~camera_grpc.core.recording.RecordingManager`
calls and back.

No recording logic lives here: the manager's blocking calls run off the event loop, its errors are mapped by
:mod:`camera_grpc.rpc.status` (every method is registered through :func:`add_to_server`, which guards it). While
a recording runs, camera acquisition is held on through ``hold_acquisition`` (given by the composition root),
so the frames keep coming when no live view watches.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager
from typing import Any

import grpc

from camera_grpc.core.controller import CameraController
from camera_grpc.core.recording import RecordingInfo, RecordingManager, RecordingRequest
from camera_grpc.core.recording_store import RecordingState, iter_chunks
from camera_grpc.core.recording_writers import RecordingFormat
from camera_grpc.core.settings_store import settings_from_json, settings_to_json
from camera_grpc.errors import InvalidArgumentError
from camera_grpc.gen.camera.v1 import recording_pb2 as rpb
from camera_grpc.gen.camera.v1 import recording_pb2_grpc
from camera_grpc.rpc import status
from camera_grpc.rpc.settings_wire import location_to_proto, settings_to_proto, timestamp
from camera_grpc.rpc.wire import serialize

log = logging.getLogger(__name__)

#: The service descriptor of ``camera.v1.RecordingService``.
RECORDING_SERVICE = rpb.DESCRIPTOR.services_by_name["RecordingService"]
#: Its full name (health and reflection list it).
RECORDING_SERVICE_NAME: str = RECORDING_SERVICE.full_name
#: Bytes per DownloadRecordingFileResponse.
DOWNLOAD_CHUNK_BYTES = 1024 * 1024

FORMATS: dict[int, RecordingFormat] = {
    rpb.RECORDING_FORMAT_UNSPECIFIED: RecordingFormat.OME_TIFF,
    rpb.RECORDING_FORMAT_OME_TIFF: RecordingFormat.OME_TIFF,
    rpb.RECORDING_FORMAT_OME_ZARR: RecordingFormat.OME_ZARR,
    rpb.RECORDING_FORMAT_MP4: RecordingFormat.MP4,
}
FORMAT_PROTOS: dict[RecordingFormat, int] = {
    RecordingFormat.OME_TIFF: rpb.RECORDING_FORMAT_OME_TIFF,
    RecordingFormat.OME_ZARR: rpb.RECORDING_FORMAT_OME_ZARR,
    RecordingFormat.MP4: rpb.RECORDING_FORMAT_MP4,
}
STATE_PROTOS: dict[RecordingState, int] = {
    RecordingState.RUNNING: rpb.RECORDING_STATE_RUNNING,
    RecordingState.COMPLETED: rpb.RECORDING_STATE_COMPLETED,
    RecordingState.STOPPED: rpb.RECORDING_STATE_STOPPED,
    RecordingState.FAILED: rpb.RECORDING_STATE_FAILED,
}

AcquisitionHold = Callable[[], AbstractAsyncContextManager[Any]]


class RecordingServicer(recording_pb2_grpc.RecordingServiceServicer):
    """camera.v1.RecordingService over a :class:`RecordingManager` (event loop)."""

    def __init__(
        self, recordings: RecordingManager, camera: CameraController, hold_acquisition: AcquisitionHold
    ) -> None:
        self._recordings = recordings
        self._camera = camera
        self._hold_acquisition = hold_acquisition
        self._holds: set[asyncio.Task[None]] = set()  #: one per running recording (event loop only)

    async def StartRecording(
        self, request: rpb.StartRecordingRequest, context: grpc.aio.ServicerContext
    ) -> rpb.StartRecordingResponse:
        if request.format not in FORMATS:
            raise InvalidArgumentError("format", request.format, reason=f"must be one of {sorted(FORMATS)}")
        wanted = RecordingRequest(
            recording_id=request.recording_id,
            format=FORMATS[request.format],
            max_frames=request.max_frames,
            max_duration_s=request.max_duration_s,
            frames_per_file=request.frames_per_file,
            max_width=request.max_width,
        ).validated()
        snapshot = await self._camera.get_settings()
        camera = await self._camera.info()
        hold = contextlib.AsyncExitStack()
        await hold.enter_async_context(self._hold_acquisition())  # frames flow before the recording begins
        try:
            info = await asyncio.to_thread(
                self._recordings.start,
                wanted,
                camera=camera,
                geometry=snapshot.geometry,
                settings=settings_to_json(snapshot.settings),
                frame_rate_fps=snapshot.actual_frame_rate_fps,
            )
        except BaseException:
            await hold.aclose()
            raise
        task = asyncio.get_running_loop().create_task(self._hold_until_ended(info.name, hold))
        self._holds.add(task)
        task.add_done_callback(self._holds.discard)
        return rpb.StartRecordingResponse(recording=recording_to_proto(info))

    async def _hold_until_ended(self, name: str, hold: contextlib.AsyncExitStack) -> None:
        try:
            async for _ in self._recordings.watch(name):
                pass
        except Exception:
            log.exception("following recording %s failed; acquisition is no longer held for it", name)
        finally:
            await hold.aclose()

    async def StopRecording(
        self, request: rpb.StopRecordingRequest, context: grpc.aio.ServicerContext
    ) -> rpb.StopRecordingResponse:
        info = await asyncio.to_thread(self._recordings.stop, request.name)
        return rpb.StopRecordingResponse(recording=recording_to_proto(info))

    async def GetRecording(
        self, request: rpb.GetRecordingRequest, context: grpc.aio.ServicerContext
    ) -> rpb.GetRecordingResponse:
        info = await asyncio.to_thread(self._recordings.get, request.name)
        return rpb.GetRecordingResponse(recording=recording_to_proto(info))

    async def ListRecordings(
        self, request: rpb.ListRecordingsRequest, context: grpc.aio.ServicerContext
    ) -> rpb.ListRecordingsResponse:
        page = await asyncio.to_thread(self._recordings.list, request.page_size, request.page_token)
        return rpb.ListRecordingsResponse(
            recordings=[recording_to_proto(info) for info in page.recordings], next_page_token=page.next_page_token
        )

    async def DeleteRecording(
        self, request: rpb.DeleteRecordingRequest, context: grpc.aio.ServicerContext
    ) -> rpb.DeleteRecordingResponse:
        await asyncio.to_thread(self._recordings.delete, request.name)
        return rpb.DeleteRecordingResponse()

    async def WatchRecording(
        self, request: rpb.WatchRecordingRequest, context: grpc.aio.ServicerContext
    ) -> AsyncIterator[rpb.WatchRecordingResponse]:
        async for info in self._recordings.watch(request.name):
            yield rpb.WatchRecordingResponse(recording=recording_to_proto(info))

    async def DownloadRecordingFile(
        self, request: rpb.DownloadRecordingFileRequest, context: grpc.aio.ServicerContext
    ) -> AsyncIterator[rpb.DownloadRecordingFileResponse]:
        handle, size = await asyncio.to_thread(self._recordings.open_file, request.name, request.file, request.offset)
        chunks = iter_chunks(handle, request.offset, DOWNLOAD_CHUNK_BYTES)
        try:
            while (chunk := await asyncio.to_thread(next, chunks, None)) is not None:
                offset, data = chunk
                yield rpb.DownloadRecordingFileResponse(data=data, offset=offset, size_bytes=size)
        finally:
            await asyncio.to_thread(chunks.close)

    async def GetRecordingThumbnail(
        self, request: rpb.GetRecordingThumbnailRequest, context: grpc.aio.ServicerContext
    ) -> rpb.GetRecordingThumbnailResponse:
        thumbnail = await asyncio.to_thread(self._recordings.thumbnail, request.name, request.max_width)
        return rpb.GetRecordingThumbnailResponse(
            content_type=thumbnail.content_type, data=thumbnail.data, frame_number=thumbnail.frame_number
        )


def recording_to_proto(info: RecordingInfo) -> rpb.Recording:
    return rpb.Recording(
        name=info.name,
        state=STATE_PROTOS[info.state],
        format=FORMAT_PROTOS[info.format],
        max_frames=info.max_frames,
        max_duration_s=info.max_duration_s,
        frames_per_file=info.frames_per_file,
        max_width=info.max_width,
        frames_written=info.frames_written,
        frames_dropped=info.frames_dropped,
        bytes_written=info.bytes_written,
        rate_fps=info.rate_fps,
        start_time=timestamp(info.start_time),
        end_time=timestamp(info.end_time) if info.end_time is not None else None,
        failure_reason=info.failure_reason,
        files=[
            rpb.RecordingFile(
                name=file.name,
                size_bytes=file.size_bytes,
                content_type=file.content_type,
                location=location_to_proto(file.location),
            )
            for file in info.files
        ],
        settings=settings_to_proto(settings_from_json(info.settings)) if info.settings else None,
    )


def add_to_server(servicer: RecordingServicer, server: grpc.aio.Server) -> None:
    """Register ``servicer`` for every RPC of camera.v1.RecordingService, each guarded by
    :func:`camera_grpc.rpc.status.guard` (as :func:`camera_grpc.rpc.servicer.add_to_server` does)."""
    server.add_generic_rpc_handlers((status.guarded_service(RECORDING_SERVICE, servicer, rpb, serialize),))
