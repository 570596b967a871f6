"""Presets: named sets of settings kept by the camera service (``/presets``)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Response

from camera_grpc.client.settings import preset_name
from camera_grpc.gateway.dependencies import UpstreamDep
from camera_grpc.gateway.errors import error_responses
from camera_grpc.gateway.routers.settings import WITH_ETAG, IfMatch, expected_revision, settings_answer
from camera_grpc.gateway.schemas import CameraSettings, Preset, PresetCreate, PresetList
from camera_grpc.gen.camera.v1 import camera_pb2 as pb

router = APIRouter(tags=["presets"])

PresetId = Annotated[str, Path(description="The preset's id", examples=["bright-field"])]
NO_PRESET = "No preset has this id"
BAD_ID = "The id is not valid (1 to 63 lower-case letters, digits and '-', starting with a letter)"


@router.get("/presets", summary="List the presets", responses=error_responses(500, 503, 504))
async def list_presets(upstream: UpstreamDep) -> PresetList:
    """Every saved preset with its settings, sorted by id."""
    reply = await upstream.camera.ListPresets(pb.ListPresetsRequest(), timeout=upstream.timeout_s)
    return PresetList(presets=[Preset.from_proto(preset) for preset in reply.presets])


@router.post(
    "/presets",
    summary="Save the current settings as a preset",
    status_code=201,
    responses=error_responses(403, 413, 415, 422, 500, 503, 504, http_422=BAD_ID),
)
async def create_preset(body: PresetCreate, upstream: UpstreamDep) -> Preset:
    """Saves the camera's current settings under ``preset_id`` (an existing preset of that id is replaced)."""
    reply = await upstream.camera.CreatePreset(
        pb.CreatePresetRequest(preset_id=body.preset_id), timeout=upstream.timeout_s
    )
    return Preset.from_proto(reply.preset)


@router.get(
    "/presets/{preset_id}",
    summary="One preset",
    responses=error_responses(404, 422, 500, 503, 504, http_404=NO_PRESET, http_422=BAD_ID),
)
async def get_preset(preset_id: PresetId, upstream: UpstreamDep) -> Preset:
    reply = await upstream.camera.GetPreset(
        pb.GetPresetRequest(name=preset_name(preset_id)), timeout=upstream.timeout_s
    )
    return Preset.from_proto(reply.preset)


@router.delete(
    "/presets/{preset_id}",
    summary="Delete a preset",
    status_code=204,
    response_class=Response,
    responses=error_responses(403, 404, 422, 500, 503, 504, http_404=NO_PRESET, http_422=BAD_ID),
)
async def delete_preset(preset_id: PresetId, upstream: UpstreamDep) -> Response:
    await upstream.camera.DeletePreset(pb.DeletePresetRequest(name=preset_name(preset_id)), timeout=upstream.timeout_s)
    return Response(status_code=204)


@router.post(
    "/presets/{preset_id}/apply",
    summary="Apply a preset",
    responses={**WITH_ETAG, **error_responses(403, 404, 409, 412, 422, 500, 503, 504, http_404=NO_PRESET)},
)
async def apply_preset(
    preset_id: PresetId, upstream: UpstreamDep, response: Response, if_match: IfMatch = None
) -> CameraSettings:
    """Applies the preset's settings, all or nothing, and answers the settings as GET /settings does. With
    ``If-Match``: only if the settings still have that revision (else 412)."""
    request = pb.ApplyPresetRequest(name=preset_name(preset_id))
    revision = expected_revision(if_match)
    if revision is not None:
        request.expected_revision = revision
    reply = await upstream.camera.ApplyPreset(request, timeout=upstream.timeout_s)
    return settings_answer(response, CameraSettings.from_settings(reply.settings, reply.connected))
