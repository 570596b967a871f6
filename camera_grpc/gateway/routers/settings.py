"""``GET /settings`` and ``PUT /settings`` (legacy): exposure in milliseconds, gain in decibels."""

from __future__ import annotations

from fastapi import APIRouter

from camera_grpc.gateway.dependencies import UpstreamDep
from camera_grpc.gateway.errors import error_responses
from camera_grpc.gateway.schemas import CameraSettings, SettingsUpdate
from camera_grpc.gen.camera.v1 import camera_pb2 as pb

router = APIRouter(tags=["settings"])


@router.get("/settings", summary="Current camera settings", responses=error_responses(500, 503, 504))
async def get_settings(upstream: UpstreamDep) -> CameraSettings:
    """Exposure, gain, resolution and connection status (last known values while disconnected)."""
    response = await upstream.camera.GetSettings(pb.GetSettingsRequest(), timeout=upstream.timeout_s)
    return CameraSettings.from_proto(response)


@router.put(
    "/settings", summary="Change exposure and/or gain", responses=error_responses(403, 413, 415, 422, 500, 503, 504)
)
async def update_settings(update: SettingsUpdate, upstream: UpstreamDep) -> CameraSettings:
    """Applies the fields given, all or nothing, and returns what the camera applied (it may round)."""
    request = pb.UpdateSettingsRequest()
    if update.exposure is not None:
        request.exposure_ms = update.exposure
    if update.gain is not None:
        request.gain_db = update.gain
    response = await upstream.camera.UpdateSettings(request, timeout=upstream.timeout_s)
    return CameraSettings.from_proto(response)
