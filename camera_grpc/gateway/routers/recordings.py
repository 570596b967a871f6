"""Recordings over REST (issue 14): ``/recordings``, over camera.v1.RecordingService.

Start, list, read, stop and delete recordings; follow one's progress as Server-Sent Events (WatchRecording);
download its files with HTTP range requests; a thumbnail of its first frame.

Downloads (``GET /recordings/{id}/files/{file}``) stream DownloadRecordingFile's chunks from the range's first
byte and stop after its last, so a multi-GB file never sits in the gateway's memory: ``Accept-Ranges: bytes``,
``Range: bytes=a-b``, ``a-`` and ``-n`` (206 with ``Content-Range``), 416 with ``Content-Range: bytes */size``
for a range past the end; ``ETag`` (an ended recording's files do not change; a running one's have none) and
``If-Range``. A name that is not one of the recording's files is 404 (NOT_FOUND, as for captures). When the file
is in the object store and ``S3_DOWNLOAD_REDIRECT`` is on, the answer is a 307 to a pre-signed URL
(StorageService.GetDownloadUrl), so large files do not pass through the service.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import AsyncIterator
from typing import Annotated

import grpc
from fastapi import APIRouter, Depends, Header, Path, Query
from fastapi.responses import RedirectResponse, Response, StreamingResponse
from starlette.background import BackgroundTask

from camera_grpc.client import (
    DEFAULT_THUMBNAIL_WIDTH_PX,
    THUMBNAIL_MAX_WIDTH_PX,
    THUMBNAIL_MIN_WIDTH_PX,
    CameraRpcError,
    recording_file_name,
    recording_name,
)
from camera_grpc.gateway.dependencies import (
    DEFAULT_PAGE_SIZE,
    ClientDep,
    PageToken,
    Upstream,
    UpstreamDep,
    page_size_query,
)
from camera_grpc.gateway.errors import error_responses, rpc_error_response
from camera_grpc.gateway.ranges import (
    BYTES_UNIT,
    UNSATISFIABLE,
    ByteRange,
    requested_range,
    unsatisfied_range,
)
from camera_grpc.gateway.recording_schemas import (
    THUMBNAIL_WIDTH_DESCRIPTION,
    Recording,
    RecordingPage,
    RecordingStart,
)
from camera_grpc.gateway.routers.captures import REDIRECT_RESPONSE, signed_url, too_long
from camera_grpc.gateway.routers.sse import (
    EVENT_STREAM,
    event_stream,
    first_message,
    opened,
    relayed,
)
from camera_grpc.gateway.routers.stream import StreamSlots, get_stream_slots
from camera_grpc.gen.camera.v1 import camera_pb2 as pb
from camera_grpc.gen.camera.v1 import recording_pb2 as rpb

log = logging.getLogger(__name__)

router = APIRouter(tags=["recordings"])

RecordingId = Annotated[str, Path(description="The recording's id (as in its name, recordings/{recording_id})")]
FileName = Annotated[str, Path(description="One of the recording's files (its files[].name)")]
NO_RECORDING = "No recording has this id"
NO_FILE = "No recording has this id, or it has no file of this name"
#: SSE event name of a recording's progress (its data: the Recording JSON).
PROGRESS_EVENT = "progress"
#: How long browsers may keep a thumbnail, seconds (it shows the first frame: it never changes).
THUMBNAIL_MAX_AGE_S = 3600
#: Status of a download whose offset the service refused (past the file's end): INVALID_ARGUMENT.
OFFSET_REFUSED = 422
#: Hex digits of a file's ETag (128 bits).
ETAG_HEX_DIGITS = 32
#: A file of any type (OME-TIFF, a zip, MP4, JSON).
ANY_CONTENT = "*/*"
BINARY = {"schema": {"type": "string", "format": "binary"}}


def not_found() -> Response:
    """The 404 answer of a name the gateway knows is not a recording's file (without asking the service)."""
    return rpc_error_response(CameraRpcError(grpc.StatusCode.NOT_FOUND, ""), location="path")


@router.post(
    "/recordings",
    summary="Start a recording",
    status_code=201,
    responses=error_responses(
        403,
        409,
        413,
        415,
        422,
        500,
        501,
        503,
        504,
        507,
        http_409="A recording is running already (reason RECORDING_STATE), or one has this id (ALREADY_EXISTS)",
        http_507="The recording's estimated size does not fit on the disk; nothing was started",
    ),
)
async def start_recording(body: RecordingStart, upstream: UpstreamDep) -> Recording:
    """Starts recording the camera's frames to files on the service, with the current settings and trigger mode;
    it stops after ``max_frames`` or ``max_duration_s`` (0: no limit) or ``POST /recordings/{id}/stop``. Answers
    the recording (``running``); follow it with ``GET /recordings/{id}/events``."""
    reply = await upstream.recordings.StartRecording(body.to_proto(), timeout=upstream.timeout_s)
    return Recording.from_proto(reply.recording)


@router.get("/recordings", summary="Recordings, newest first", responses=error_responses(422, 500, 501, 503, 504))
async def list_recordings(
    upstream: UpstreamDep,
    page_size: Annotated[int, page_size_query("Recordings")] = DEFAULT_PAGE_SIZE,
    page_token: PageToken = "",
) -> RecordingPage:
    """One page of recordings with their progress and files; follow ``next_page_token`` for older ones."""
    reply = await upstream.recordings.ListRecordings(
        rpb.ListRecordingsRequest(page_size=page_size, page_token=page_token), timeout=upstream.timeout_s
    )
    return RecordingPage(
        recordings=[Recording.from_proto(entry) for entry in reply.recordings],
        next_page_token=reply.next_page_token,
    )


@router.get(
    "/recordings/{recording_id}",
    summary="One recording",
    responses=error_responses(404, 422, 500, 501, 503, 504, http_404=NO_RECORDING),
)
async def get_recording(recording_id: RecordingId, upstream: UpstreamDep) -> Recording:
    """The recording's state, progress and files."""
    reply = await upstream.recordings.GetRecording(
        rpb.GetRecordingRequest(name=recording_name(recording_id)), timeout=upstream.timeout_s
    )
    return Recording.from_proto(reply.recording)


@router.post(
    "/recordings/{recording_id}/stop",
    summary="Stop a recording",
    responses=error_responses(403, 404, 409, 422, 500, 501, 503, 504, http_404=NO_RECORDING),
)
async def stop_recording(recording_id: RecordingId, upstream: UpstreamDep) -> Recording:
    """Stops a running recording; answers it in its final state (``stopped``), its files complete."""
    reply = await upstream.recordings.StopRecording(
        rpb.StopRecordingRequest(name=recording_name(recording_id)), timeout=upstream.timeout_s
    )
    return Recording.from_proto(reply.recording)


@router.delete(
    "/recordings/{recording_id}",
    summary="Delete a recording",
    status_code=204,
    response_class=Response,
    responses=error_responses(
        403, 404, 409, 422, 500, 501, 503, 504, http_404=NO_RECORDING, http_409="It is running; stop it first"
    ),
)
async def delete_recording(recording_id: RecordingId, upstream: UpstreamDep) -> Response:
    """Deletes a recording that is not running, and its files."""
    await upstream.recordings.DeleteRecording(
        rpb.DeleteRecordingRequest(name=recording_name(recording_id)), timeout=upstream.timeout_s
    )
    return Response(status_code=204)


# -- progress --------------------------------------------------------------------------------------------------


def progress_event(message: rpb.WatchRecordingResponse) -> bytes:
    return f"event: {PROGRESS_EVENT}\ndata: {Recording.from_proto(message.recording).model_dump_json()}\n\n".encode()


@router.get(
    "/recordings/{recording_id}/events",
    summary="A recording's progress (Server-Sent Events)",
    response_class=StreamingResponse,
    responses={
        200: {
            "description": "A text/event-stream of `progress` events, each the Recording JSON: one at once, then "
            "on every change of its progress (a few per second at most) until it ends; the last has its final "
            "state, then the stream ends",
            "content": {EVENT_STREAM: {"schema": {"type": "string"}}},
        },
        **error_responses(404, 422, 429, 500, 501, 503, 504, http_404=NO_RECORDING),
    },
)
async def recording_events(
    recording_id: RecordingId,
    upstream: UpstreamDep,
    slots: Annotated[StreamSlots, Depends(get_stream_slots)],
    client: ClientDep,
) -> Response:
    """For an ``EventSource("/recordings/{id}/events")``: the recording's progress until it ends. Counts as a live
    stream (REST_MAX_STREAMS_PER_CLIENT, REST_MAX_STREAMS) while open."""
    slot = slots.take(client)
    call = upstream.recordings.WatchRecording(rpb.WatchRecordingRequest(name=recording_name(recording_id)))
    first, failed = await first_message(call, slot, upstream, rpb.WatchRecordingResponse)
    if failed is not None:
        return failed
    # ends after the recording's final state
    return event_stream(relayed(call, slot, progress_event, "recording progress", first), call, slot)


# -- files -----------------------------------------------------------------------------------------------------


class _NoSlot:
    """Downloads are not live views: they take no stream slot."""

    def release(self) -> None:
        return None


def file_etag(recording: rpb.Recording, file: str, size: int) -> str | None:
    """A strong ETag of an ended recording's file of ``size`` bytes (its files no longer change: the recording,
    its start and end and the file's name and size identify the content); None while it runs."""
    if recording.state == rpb.RECORDING_STATE_RUNNING or not recording.HasField("end_time"):
        return None
    identity = (recording.name, recording.start_time.ToJsonString(), recording.end_time.ToJsonString(), file)
    digest = hashlib.sha256("\0".join((*identity, str(size))).encode()).hexdigest()
    return f'"{digest[:ETAG_HEX_DIGITS]}"'


def content_disposition(name: str) -> str:
    """``attachment`` with the file's name (RFC 6266; the names the service lists are plain ASCII)."""
    safe = name.isascii() and name.isprintable() and '"' not in name and "\\" not in name
    return f'attachment; filename="{name}"' if safe else "attachment"


async def _chunks(call: grpc.aio.UnaryStreamCall, first: object, length: int) -> AsyncIterator[bytes]:
    """``length`` bytes of the download's chunks (``first`` read already), then the call is cancelled."""
    left = length
    message = first
    try:
        while left > 0 and isinstance(message, rpb.DownloadRecordingFileResponse):
            data = message.data[:left]
            left -= len(data)
            if data:
                yield data
            if left > 0:
                message = await call.read()
        if left > 0:  # the file ended early (it cannot shrink): the client sees a short body
            log.warning("recording file download ended %d bytes short", left)
    except grpc.aio.AioRpcError as exc:
        log.info("recording file download ended by the camera service: %s", exc.code().name)
    finally:
        call.cancel()


async def _open_download(
    upstream: Upstream, name: str, file: str, offset: int
) -> tuple[grpc.aio.UnaryStreamCall, object, int | None] | Response:
    """The download call from ``offset``, its first message (EOF when nothing is left) and the file's size it
    reports (None without a message); or the error answer."""
    call = upstream.recordings.DownloadRecordingFile(
        rpb.DownloadRecordingFileRequest(name=name, file=file, offset=offset)
    )
    first, failed = await opened(call, _NoSlot(), upstream, call.read())
    if failed is not None:
        return failed
    size = first.size_bytes if isinstance(first, rpb.DownloadRecordingFileResponse) else None
    return call, first, size


@router.get(
    "/recordings/{recording_id}/files/{file}",
    summary="Download a recording's file (range requests)",
    response_class=StreamingResponse,
    responses={
        200: {
            "description": "The whole file, with its content type (Accept-Ranges: bytes; ETag once the recording "
            "has ended)",
            "content": {ANY_CONTENT: BINARY},
        },
        206: {"description": "The range asked for (Content-Range)", "content": {ANY_CONTENT: BINARY}},
        307: REDIRECT_RESPONSE,
        416: {"description": "The range is past the end of the file (Content-Range: bytes */size)"},
        **error_responses(404, 409, 422, 500, 501, 503, 504, http_404=NO_FILE),
    },
)
async def download_recording_file(
    recording_id: RecordingId,
    file: FileName,
    upstream: UpstreamDep,
    range_header: Annotated[str | None, Header(alias="range", include_in_schema=False)] = None,
    if_range: Annotated[str | None, Header(alias="if-range", include_in_schema=False)] = None,
) -> Response:
    """The file, streamed from the service without being held in memory. Resume an interrupted download with
    ``Range: bytes=<bytes you have>-`` (and ``If-Range: <its ETag>`` to get the whole file should it have
    changed); ``curl -C -`` does."""
    if too_long(file):
        return not_found()
    name = recording_name(recording_id)
    recording = (
        await upstream.recordings.GetRecording(rpb.GetRecordingRequest(name=name), timeout=upstream.timeout_s)
    ).recording
    entry = next((listed for listed in recording.files if listed.name == file), None)
    if entry is None:
        return not_found()
    if entry.location.state == pb.STORAGE_STATE_UPLOADED:  # (asked only then: one call less per download)
        url = await signed_url(upstream, recording_file_name(name, file))
        if url is not None:
            return RedirectResponse(url, status_code=307)
    # The listed size is a first guess (a running recording's files grow; an OME-Zarr store's zip is made on its
    # first download): the size the download itself reports decides, and a range it moves is opened again.
    guess = requested_range(range_header, entry.size_bytes)
    offset = guess.start if isinstance(guess, ByteRange) else 0
    opened_download = await _open_download(upstream, name, file, offset)
    if isinstance(opened_download, Response) and opened_download.status_code == OFFSET_REFUSED and offset > 0:
        offset = 0  # past the real end: learn the size from the start
        opened_download = await _open_download(upstream, name, file, offset)
    if isinstance(opened_download, Response):
        return opened_download
    call, first, reported = opened_download
    size = reported if reported is not None else offset  # no chunk at all: the file ends at offset
    etag = file_etag(recording, file, size)
    headers = {"Accept-Ranges": BYTES_UNIT, "Content-Disposition": content_disposition(file)}
    if etag is not None:
        headers["ETag"] = etag
    wanted = requested_range(range_header, size, if_range=if_range, etag=etag)
    start = wanted.start if isinstance(wanted, ByteRange) else 0
    if wanted is not UNSATISFIABLE and start != offset:
        call.cancel()
        reopened = await _open_download(upstream, name, file, start)
        if isinstance(reopened, Response):
            return reopened
        call, first, _ = reopened
    if wanted is UNSATISFIABLE:
        call.cancel()
        return Response(status_code=416, headers={**headers, "Content-Range": unsatisfied_range(size)})
    if isinstance(wanted, ByteRange):
        headers["Content-Range"] = wanted.content_range
        status_code, length = 206, wanted.length
    else:
        status_code, length = 200, size
    headers["Content-Length"] = str(length)
    return StreamingResponse(
        _chunks(call, first, length),
        status_code=status_code,
        media_type=entry.content_type or "application/octet-stream",
        headers=headers,
        background=BackgroundTask(call.cancel),  # runs when the client disconnects, too
    )


@router.get(
    "/recordings/{recording_id}/thumbnail",
    summary="A small JPEG of a recording's first frame",
    response_class=Response,
    responses={
        200: {
            "description": "A JPEG no wider than max_width (X-Frame-Number: its frame)",
            "content": {"image/jpeg": BINARY},
        },
        **error_responses(
            404, 409, 422, 500, 501, 503, 504, http_404=NO_RECORDING, http_409="It has no frame written yet"
        ),
    },
)
async def recording_thumbnail(
    recording_id: RecordingId,
    upstream: UpstreamDep,
    max_width: Annotated[
        int, Query(ge=THUMBNAIL_MIN_WIDTH_PX, le=THUMBNAIL_MAX_WIDTH_PX, description=THUMBNAIL_WIDTH_DESCRIPTION)
    ] = DEFAULT_THUMBNAIL_WIDTH_PX,
) -> Response:
    """Made once by the service and cached; never the full frame (for a recordings browser)."""
    reply = await upstream.recordings.GetRecordingThumbnail(
        rpb.GetRecordingThumbnailRequest(name=recording_name(recording_id), max_width=max_width),
        timeout=upstream.timeout_s,
    )
    return Response(
        content=reply.data,
        media_type=reply.content_type or "image/jpeg",
        headers={
            "Cache-Control": f"private, max-age={THUMBNAIL_MAX_AGE_S}",
            "X-Frame-Number": str(reply.frame_number),
        },
    )
