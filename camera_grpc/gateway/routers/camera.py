"""``GET /camera``: the camera's identity, sensor and valid exposure and gain ranges."""

from __future__ import annotations

from fastapi import APIRouter

from camera_grpc.gateway.dependencies import UpstreamDep
from camera_grpc.gateway.errors import error_responses
from camera_grpc.gateway.schemas import CameraInfo
from camera_grpc.gen.camera.v1 import camera_pb2 as pb

router = APIRouter(tags=["camera"])


@router.get("/camera", summary="Camera identity and valid ranges", responses=error_responses(500, 503, 504))
async def camera_info(upstream: UpstreamDep) -> CameraInfo:
    """Model, serial, driver, sensor size and the valid exposure (ms) and gain (dB) ranges."""
    response = await upstream.camera.GetCameraInfo(pb.GetCameraInfoRequest(), timeout=upstream.timeout_s)
    return CameraInfo.from_proto(response)
