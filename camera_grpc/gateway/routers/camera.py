"""``GET /camera``: the camera's identity, sensor, valid ranges and features; the camera's own settings channels
(``POST /camera/channels/{channel}/save`` and ``.../load``)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Response

from camera_grpc.gateway.dependencies import UpstreamDep
from camera_grpc.gateway.errors import error_responses
from camera_grpc.gateway.routers.settings import WITH_ETAG, settings_answer
from camera_grpc.gateway.schemas import CameraInfo, CameraSettings
from camera_grpc.gateway.settings_schemas import UINT32_MAX
from camera_grpc.gen.camera.v1 import camera_pb2 as pb

router = APIRouter(tags=["camera"])

Channel = Annotated[int, Path(ge=0, le=UINT32_MAX, description="The camera's channel (GET /camera settings_channels)")]
#: What a 422 of the channel routes means.
BAD_CHANNEL = "No such channel on this camera (1 to settings_channels; load also takes 0, the factory defaults)"


@router.get("/camera", summary="Camera identity, valid ranges and features", responses=error_responses(500, 503, 504))
async def camera_info(upstream: UpstreamDep) -> CameraInfo:
    """Model, serial, driver, sensor size, the valid exposure (ms) and gain (dB) ranges, and every setting
    (``features``) as the camera reports it: supported or not, limits, step, choices, unit."""
    response = await upstream.camera.GetCameraInfo(pb.GetCameraInfoRequest(), timeout=upstream.timeout_s)
    return CameraInfo.from_proto(response)


@router.post(
    "/camera/channels/{channel}/save",
    summary="Save the settings in the camera",
    status_code=204,
    response_class=Response,
    responses=error_responses(403, 409, 422, 500, 503, 504, http_422=BAD_CHANNEL),
)
async def save_to_camera(channel: Channel, upstream: UpstreamDep) -> Response:
    """Stores the camera's current settings in one of its non-volatile user channels (1 to ``settings_channels``
    of GET /camera)."""
    await upstream.camera.SaveSettingsToCamera(
        pb.SaveSettingsToCameraRequest(channel=channel), timeout=upstream.timeout_s
    )
    return Response(status_code=204)


@router.post(
    "/camera/channels/{channel}/load",
    summary="Load settings stored in the camera",
    responses={**WITH_ETAG, **error_responses(403, 409, 422, 500, 503, 504, http_422=BAD_CHANNEL)},
)
async def load_from_camera(channel: Channel, upstream: UpstreamDep, response: Response) -> CameraSettings:
    """Loads the settings of one of the camera's channels (0: factory defaults) and makes them the requested
    settings; answers them as GET /settings does."""
    reply = await upstream.camera.LoadSettingsFromCamera(
        pb.LoadSettingsFromCameraRequest(channel=channel), timeout=upstream.timeout_s
    )
    return settings_answer(response, CameraSettings.from_settings(reply.settings, reply.connected))
