"""``GET /stream.mjpg``: the live view as multipart MJPEG, fed by the Frames RPC.

Works in an ``<img>`` tag. Each HTTP client is one Frames subscriber (JPEG,
DELIVERY_POLICY_LATEST: a slow client skips frames, it never lags behind).
The response starts only once the first frame arrived, so a camera that is
not connected is a 503, not an empty stream. When the client goes away, the
gRPC call is cancelled and the subscription ends. If the stream ends on the
service's side (camera unplugged, service stopping), the response ends; an
``<img>`` then fires ``error`` and the page can reconnect.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from typing import Annotated

import grpc
from fastapi import APIRouter, Query
from fastapi.responses import Response, StreamingResponse
from starlette.background import BackgroundTask

from camera_grpc.client import CameraRpcError
from camera_grpc.formats import JPEG_QUALITY_MAX, JPEG_QUALITY_MIN
from camera_grpc.gateway.dependencies import UpstreamDep
from camera_grpc.gateway.errors import error_responses, rpc_error_response
from camera_grpc.gen.camera.v1 import camera_pb2 as pb

log = logging.getLogger(__name__)

router = APIRouter(tags=["stream"])

BOUNDARY = "frame"
MEDIA_TYPE = f"multipart/x-mixed-replace; boundary={BOUNDARY}"


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


async def _parts(call: grpc.aio.UnaryStreamCall, first: pb.FramesResponse) -> AsyncIterator[bytes]:
    try:
        message: object = first
        while isinstance(message, pb.FramesResponse):
            yield part(message)
            message = await call.read()
    except grpc.aio.AioRpcError as exc:
        log.info("live stream ended by the camera service: %s", exc.code().name)
    finally:
        call.cancel()


@router.get(
    "/stream.mjpg",
    summary="Live view (multipart MJPEG)",
    response_class=StreamingResponse,
    responses={
        200: {
            "description": "An endless multipart/x-mixed-replace stream of JPEG images",
            "content": {MEDIA_TYPE: {"schema": {"type": "string", "format": "binary"}}},
        },
        **error_responses(422, 500, 503, 504),
    },
)
async def stream(
    upstream: UpstreamDep,
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
    call = upstream.camera.Frames(request)
    try:
        first = await asyncio.wait_for(call.read(), timeout=upstream.timeout_s)
    except TimeoutError:
        call.cancel()
        return rpc_error_response(CameraRpcError(grpc.StatusCode.DEADLINE_EXCEEDED, ""), location="query")
    except BaseException:
        call.cancel()
        raise
    if not isinstance(first, pb.FramesResponse):  # ended at once, without an error
        return rpc_error_response(CameraRpcError(grpc.StatusCode.UNAVAILABLE, ""), location="query")
    return StreamingResponse(
        _parts(call, first),
        media_type=MEDIA_TYPE,
        headers={"Cache-Control": "no-cache, no-store, must-revalidate", "Pragma": "no-cache"},
        background=BackgroundTask(call.cancel),  # runs when the client disconnects, too
    )
