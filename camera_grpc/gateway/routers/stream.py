"""``GET /stream.mjpg``: the live view as multipart MJPEG, fed by the Frames RPC; ``GET /stream/stats``: the live
frames' statistics (issue 17) as Server-Sent Events, from a Frames subscription without pixels
(FRAME_ENCODING_NONE) that asks for statistics.

Works in an ``<img>`` tag. Each HTTP client is one Frames subscriber (JPEG,
DELIVERY_POLICY_LATEST). A slow client skips frames, but it can lag: LATEST
only bounds what waits in the service for this subscriber (the newest frame).
Past that, frames are in flight: the gRPC channel's window (no BDP probing,
so about one frame), the part this handler is writing, the transport's write
buffer (uvicorn waits for it to drain below its high-water mark before the
next write) and the kernel's socket send buffer, which Linux autotunes up to
``net.ipv4.tcp_wmem`` (megabytes). A client reading slower than the stream
therefore sees frames that are as old as those buffers hold; a client that
keeps up sees the newest.

The response starts only once the first frame arrived, so a camera that is
not connected is a 503, not an empty stream. When the client goes away, the
gRPC call is cancelled and the subscription ends. If the stream ends on the
service's side (camera unplugged, service stopping), the response ends; an
``<img>`` then fires ``error`` and the page can reconnect.

Streams are limited: at most ``REST_MAX_STREAMS_PER_CLIENT`` per client
address (429 beyond), so one client cannot take every subscriber slot of the
service, and at most ``REST_MAX_STREAMS`` in all (503 beyond).
"""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import AsyncIterator
from typing import Annotated

import grpc
from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import Response, StreamingResponse
from starlette.background import BackgroundTask
from starlette.exceptions import HTTPException

from camera_grpc.formats import JPEG_QUALITY_MAX, JPEG_QUALITY_MIN
from camera_grpc.gateway.dependencies import ClientDep, UpstreamDep
from camera_grpc.gateway.errors import RETRY_AFTER_S, error_responses
from camera_grpc.gateway.recording_schemas import FrameStatistics
from camera_grpc.gateway.routers.sse import (
    EVENT_STREAM,
    end_call,
    event_stream,
    first_message,
    relayed,
)
from camera_grpc.gen.camera.v1 import camera_pb2 as pb

log = logging.getLogger(__name__)

router = APIRouter(tags=["stream"])

BOUNDARY = "frame"
MEDIA_TYPE = f"multipart/x-mixed-replace; boundary={BOUNDARY}"
#: Statistics events per second unless a client asks otherwise (enough for a histogram and a focus plot).
DEFAULT_STATS_FPS = 5.0
#: Most statistics events per second a client may ask for.
MAX_STATS_FPS = 100.0
#: Most histogram bins per channel (FrameStatisticsOptions; also at most 2^bit_depth, which the service checks).
MAX_HISTOGRAM_BINS = 4096
#: SSE event name of one frame's statistics.
STATS_EVENT = "statistics"


class StreamSlot:
    """One open live view; :meth:`release` (idempotent) gives the slot back."""

    def __init__(self, slots: StreamSlots, client: str) -> None:
        self._slots: StreamSlots | None = slots
        self.client = client

    def release(self) -> None:
        if self._slots is not None:
            self._slots.give_back(self.client)
            self._slots = None


class StreamSlots:
    """The live views open now, in total and per client address."""

    def __init__(self, max_total: int, max_per_client: int) -> None:
        self.max_total = max_total
        self.max_per_client = max_per_client
        self.per_client: Counter[str] = Counter()

    @property
    def total(self) -> int:
        return sum(self.per_client.values())

    def take(self, client: str) -> StreamSlot:
        """A slot for ``client``; HTTPException 429 when it has its share open, 503 when all are taken."""
        retry = {"Retry-After": str(RETRY_AFTER_S)}
        if self.per_client[client] >= self.max_per_client:
            raise HTTPException(
                429, f"too many live streams open from this address (at most {self.max_per_client})", retry
            )
        if self.total >= self.max_total:
            raise HTTPException(503, f"too many live streams open (at most {self.max_total}); retry later", retry)
        self.per_client[client] += 1
        return StreamSlot(self, client)

    def give_back(self, client: str) -> None:
        self.per_client[client] -= 1
        if self.per_client[client] <= 0:
            del self.per_client[client]


def get_stream_slots(request: Request) -> StreamSlots:
    """The app's :class:`StreamSlots` (``app.state.stream_slots``)."""
    slots: StreamSlots = request.app.state.stream_slots
    return slots


def part(frame: pb.FramesResponse) -> bytes:
    """One multipart part holding one JPEG."""
    head = (
        f"--{BOUNDARY}\r\n"
        "Content-Type: image/jpeg\r\n"
        f"Content-Length: {len(frame.data)}\r\n"
        f"X-Frame-Number: {frame.frame_number}\r\n"
        "\r\n"
    )
    return head.encode("ascii") + frame.data + b"\r\n"


async def _parts(call: grpc.aio.UnaryStreamCall, first: pb.FramesResponse, slot: StreamSlot) -> AsyncIterator[bytes]:
    try:
        message: object = first
        while isinstance(message, pb.FramesResponse):
            yield part(message)
            message = await call.read()
    except grpc.aio.AioRpcError as exc:
        log.info("live stream ended by the camera service: %s", exc.code().name)
    finally:
        end_call(call, slot)


@router.get(
    "/stream.mjpg",
    summary="Live view (multipart MJPEG)",
    response_class=StreamingResponse,
    responses={
        200: {
            "description": "An endless multipart/x-mixed-replace stream of JPEG images",
            "content": {MEDIA_TYPE: {"schema": {"type": "string", "format": "binary"}}},
        },
        **error_responses(422, 429, 500, 503, 504),
    },
)
async def stream(
    upstream: UpstreamDep,
    slots: Annotated[StreamSlots, Depends(get_stream_slots)],
    client: ClientDep,
    max_fps: Annotated[
        float | None, Query(gt=0, le=1000, allow_inf_nan=False, description="Most frames per second; default: all")
    ] = None,
    max_width: Annotated[
        int | None, Query(ge=16, le=65535, description="Downscale wider frames to this many pixels")
    ] = None,
    quality: Annotated[
        int | None, Query(ge=JPEG_QUALITY_MIN, le=JPEG_QUALITY_MAX, description="JPEG quality; default: IMAGE_QUALITY")
    ] = None,
) -> Response:
    """Open it in an ``<img src="/stream.mjpg?max_width=960&max_fps=15">``; closing the page ends the subscription."""
    request = pb.FramesRequest(encoding=pb.FRAME_ENCODING_JPEG, policy=pb.DELIVERY_POLICY_LATEST)
    if max_fps is not None:
        request.max_fps = max_fps
    if max_width is not None:
        request.max_width = max_width
    if quality is not None:
        request.quality = quality
    slot = slots.take(client)
    call = upstream.camera.Frames(request)
    first, failed = await first_message(call, slot, upstream, pb.FramesResponse)
    if failed is not None:
        return failed
    return StreamingResponse(
        _parts(call, first, slot),
        media_type=MEDIA_TYPE,
        headers={"Cache-Control": "no-cache, no-store, must-revalidate", "Pragma": "no-cache"},
        background=BackgroundTask(end_call, call, slot),  # runs when the client disconnects, too
    )


def stats_event(frame: pb.FramesResponse) -> bytes:
    """One SSE event: the frame's statistics as JSON, its frame number as the id."""
    data = FrameStatistics.from_proto(frame).model_dump_json()
    return f"event: {STATS_EVENT}\nid: {frame.frame_number}\ndata: {data}\n\n".encode()


@router.get(
    "/stream/stats",
    summary="Live frame statistics (Server-Sent Events)",
    response_class=StreamingResponse,
    responses={
        200: {
            "description": "An endless text/event-stream: one `statistics` event per frame (at most max_fps), `id:` "
            "its frame number, data the JSON of FrameStatistics (histogram, min, max, mean and saturated fraction "
            "per channel, focus score) computed by the service from the raw pixels",
            "content": {EVENT_STREAM: {"schema": {"type": "string"}}},
        },
        **error_responses(422, 429, 500, 501, 503, 504),
    },
)
async def stream_statistics(
    upstream: UpstreamDep,
    slots: Annotated[StreamSlots, Depends(get_stream_slots)],
    client: ClientDep,
    max_fps: Annotated[
        float, Query(gt=0, le=MAX_STATS_FPS, allow_inf_nan=False, description="Most events per second")
    ] = DEFAULT_STATS_FPS,
    histogram_bins: Annotated[
        int | None,
        Query(
            ge=1,
            le=MAX_HISTOGRAM_BINS,
            description="Histogram bins per channel (at most 2^bit_depth); default: the service's 256",
        ),
    ] = None,
) -> Response:
    """For an ``EventSource("/stream/stats?max_fps=5")`` next to the live view: the statistics of the newest frame,
    no pixels. Counts as a live stream (the limits of /stream.mjpg); closing it ends the subscription."""
    request = pb.FramesRequest(
        encoding=pb.FRAME_ENCODING_NONE,
        policy=pb.DELIVERY_POLICY_LATEST,
        max_fps=max_fps,
        statistics=pb.FrameStatisticsOptions(histogram_bins=histogram_bins or 0),
    )
    slot = slots.take(client)
    call = upstream.camera.Frames(request)
    first, failed = await first_message(call, slot, upstream, pb.FramesResponse)
    if failed is not None:
        return failed
    return event_stream(relayed(call, slot, stats_event, "statistics stream", first), call, slot)
