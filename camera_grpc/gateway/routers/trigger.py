"""Triggering and I/O (issue 13): ``POST /trigger`` (a software trigger) and ``GET /io`` (GPIO levels and
temperatures)."""

from __future__ import annotations

from fastapi import APIRouter

from camera_grpc.gateway.dependencies import UpstreamDep
from camera_grpc.gateway.errors import error_responses
from camera_grpc.gateway.schemas import IoStatus, TriggerResult
from camera_grpc.gen.camera.v1 import camera_pb2 as pb

router = APIRouter(tags=["trigger"])


@router.post(
    "/trigger",
    summary="Fire one software trigger",
    responses=error_responses(
        403,
        409,
        500,
        503,
        504,
        http_409="The camera is not in software-trigger mode (reason TRIGGER_MODE; the message names the mode): "
        'PATCH /settings {"trigger": {"source": "software"}} first; nothing was triggered',
    ),
)
async def software_trigger(upstream: UpstreamDep) -> TriggerResult:
    """Fires one trigger and answers, once the camera has delivered it, with the frame number(s) it produced and
    the first frame's metadata (camera timestamp, trigger count). Live views receive that frame too. Takes no
    body."""
    reply = await upstream.camera.SoftwareTrigger(pb.SoftwareTriggerRequest(), timeout=upstream.timeout_s)
    return TriggerResult.from_proto(reply)


@router.get("/io", summary="GPIO lines and temperatures", responses=error_responses(500, 503, 504))
async def io_status(upstream: UpstreamDep) -> IoStatus:
    """Each GPIO line's mode and level (inputs: read now), and the camera's temperatures where it has them."""
    reply = await upstream.camera.GetIoStatus(pb.GetIoStatusRequest(), timeout=upstream.timeout_s)
    return IoStatus.from_proto(reply)
