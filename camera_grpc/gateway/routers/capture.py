"""``POST /capture`` (legacy): take one image, save it on the service's host, return its metadata."""

from __future__ import annotations

from fastapi import APIRouter

from camera_grpc.gateway.dependencies import UpstreamDep
from camera_grpc.gateway.errors import error_responses
from camera_grpc.gateway.schemas import CaptureRequest, CaptureResult

router = APIRouter(tags=["capture"])


@router.post(
    "/capture", summary="Capture and save one image", responses=error_responses(403, 413, 415, 422, 500, 503, 504, 507)
)
async def capture(upstream: UpstreamDep, body: CaptureRequest | None = None) -> CaptureResult:
    """Optional ``exposure`` (ms) and ``gain`` (dB) are applied first and stay in effect afterwards.
    The body may be left out. The file can then be downloaded from ``url``."""
    request = (body or CaptureRequest()).to_proto()
    response = await upstream.camera.Capture(request, timeout=upstream.timeout_s)
    return CaptureResult.from_proto(response)
