"""Camera settings: ``GET /settings``, ``PUT /settings`` (legacy: exposure in milliseconds, gain in decibels),
``PATCH /settings`` (any setting, a partial update with ``If-Match``) and ``GET /settings/events`` (Server-Sent
Events of WatchSettings).

Revisions are entity tags: every settings answer has ``ETag: "<revision>"``, and a PATCH (or a preset's apply)
with ``If-Match: "<revision>"`` is applied only if the settings still have that revision (else 412, nothing
changed). ``If-Match: *`` is unconditional; a weak or non-numeric tag can never match (412).
"""

from __future__ import annotations

import logging
from typing import Annotated

from fastapi import APIRouter, Depends, Header, Response
from fastapi.responses import StreamingResponse
from starlette.exceptions import HTTPException

from camera_grpc.gateway.dependencies import ClientDep, UpstreamDep
from camera_grpc.gateway.errors import error_responses
from camera_grpc.gateway.routers.sse import (
    EVENT_STREAM,
    event_stream,
    first_message,
    relayed,
)
from camera_grpc.gateway.routers.stream import StreamSlots, get_stream_slots
from camera_grpc.gateway.schemas import CameraSettings, SettingsEvent, SettingsUpdate
from camera_grpc.gateway.settings_schemas import SettingsPatch
from camera_grpc.gen.camera.v1 import camera_pb2 as pb

log = logging.getLogger(__name__)

router = APIRouter(tags=["settings"])

#: Name of the events of GET /settings/events.
SETTINGS_EVENT = "settings"
#: ``If-Match`` value that matches any revision.
ANY_REVISION = "*"
#: Largest revision (a uint64).
UINT64_MAX = 2**64 - 1
PRECONDITION_FAILED = "If-Match names another revision than the settings have now; read them again"

#: OpenAPI of a settings answer's ETag header.
WITH_ETAG: dict[int | str, dict[str, object]] = {
    200: {
        "headers": {
            "ETag": {
                "description": 'The settings\' revision, "7" (send it back as If-Match)',
                "schema": {"type": "string"},
            }
        }
    }
}

IfMatch = Annotated[
    str | None,
    Header(
        description='Apply only if the settings still have this revision: the ETag of a settings answer, "7"',
        examples=['"7"'],
    ),
]


def etag(revision: int) -> str:
    """The entity tag of a revision: ``"7"``."""
    return f'"{revision}"'


def expected_revision(if_match: str | None) -> int | None:
    """The revision an ``If-Match`` value names (None: unconditional). HTTPException 412 for a value that can
    never match one (weak, not a number, several tags)."""
    if if_match is None or if_match.strip() == ANY_REVISION:
        return None
    tag = if_match.strip()
    digits = tag[1:-1] if len(tag) > 2 and tag.startswith('"') and tag.endswith('"') else ""
    valid = digits.isascii() and digits.isdigit() and len(digits) <= len(str(UINT64_MAX))
    if not valid or int(digits) > UINT64_MAX:  # (the length first: int() refuses thousands of digits)
        raise HTTPException(412, PRECONDITION_FAILED)
    return int(digits)


def settings_answer(response: Response, settings: CameraSettings) -> CameraSettings:
    """``settings`` with its ETag (when the service reports revisions)."""
    if settings.revision is not None:
        response.headers["ETag"] = etag(settings.revision)
    return settings


@router.get("/settings", summary="Current camera settings", responses={**WITH_ETAG, **error_responses(500, 503, 504)})
async def get_settings(upstream: UpstreamDep, response: Response) -> CameraSettings:
    """Exposure, gain, resolution and connection status (last known values while disconnected), and every
    other setting with its revision (also the ``ETag``)."""
    reply = await upstream.camera.GetSettings(pb.GetSettingsRequest(), timeout=upstream.timeout_s)
    return settings_answer(response, CameraSettings.from_proto(reply))


@router.put(
    "/settings",
    summary="Change exposure and/or gain",
    responses={**WITH_ETAG, **error_responses(403, 413, 415, 422, 500, 503, 504)},
)
async def update_settings(update: SettingsUpdate, upstream: UpstreamDep, response: Response) -> CameraSettings:
    """Applies the fields given, all or nothing, and returns what the camera applied (it may round)."""
    request = pb.UpdateSettingsRequest()
    if update.exposure is not None:
        request.exposure_ms = update.exposure
    if update.gain is not None:
        request.gain_db = update.gain
    reply = await upstream.camera.UpdateSettings(request, timeout=upstream.timeout_s)
    return settings_answer(response, CameraSettings.from_proto(reply))


@router.patch(
    "/settings",
    summary="Change any settings (partial update)",
    responses={**WITH_ETAG, **error_responses(403, 409, 412, 413, 415, 422, 500, 503, 504)},
)
async def patch_settings(
    patch: SettingsPatch, upstream: UpstreamDep, response: Response, if_match: IfMatch = None
) -> CameraSettings:
    """Changes the settings present in the body (nested objects: only their fields present), all or nothing,
    and returns every setting as the camera applied it. Valid values: GET /camera ``features``. Enum values
    are lower-case names, as in the features' ``choices``.

    Errors: 422 for a value outside the camera's range or step (the field, the range and the unit), an unknown
    field or enum value; 409 for a feature the camera does not have (the message names it); 412 when
    ``If-Match`` names another revision. Nothing changes on any error.
    """
    revision = expected_revision(if_match)
    request = patch.to_request(revision)
    if request is None:  # nothing to change: the current settings
        reply = await upstream.camera.GetSettings(pb.GetSettingsRequest(), timeout=upstream.timeout_s)
        current = CameraSettings.from_proto(reply)
        if revision is not None and current.revision != revision:
            raise HTTPException(412, PRECONDITION_FAILED)
        return settings_answer(response, current)
    reply = await upstream.camera.UpdateSettings(request, timeout=upstream.timeout_s)
    return settings_answer(response, CameraSettings.from_proto(reply))


# -- Server-Sent Events --------------------------------------------------------------------------------------


def settings_event(message: pb.WatchSettingsResponse) -> bytes:
    """One ``settings`` event: the revision as its id, the settings as GET /settings shows them, and the cause."""
    event = SettingsEvent(
        **CameraSettings.from_settings(message.settings, message.connected).model_dump(), cause=message.cause
    )
    return (f"event: {SETTINGS_EVENT}\nid: {message.settings.revision}\ndata: {event.model_dump_json()}\n\n").encode()


@router.get(
    "/settings/events",
    summary="Settings changes (Server-Sent Events)",
    response_class=StreamingResponse,
    responses={
        200: {
            "description": "An endless text/event-stream: a `settings` event at once and after every change, "
            "whoever made it; its `id` is the revision, its data the JSON of GET /settings plus `cause`",
            "content": {EVENT_STREAM: {"schema": {"type": "string"}}},
        },
        **error_responses(429, 500, 503, 504),
    },
)
async def settings_events(
    upstream: UpstreamDep, slots: Annotated[StreamSlots, Depends(get_stream_slots)], client: ClientDep
) -> Response:
    """For an ``EventSource("/settings/events")``. Counts as a live stream (the limits of /stream.mjpg); closing
    it ends the watch. A watcher that reads slowly gets the newest settings (revisions may be skipped)."""
    slot = slots.take(client)
    call = upstream.camera.WatchSettings(pb.WatchSettingsRequest())
    first, failed = await first_message(call, slot, upstream, pb.WatchSettingsResponse)
    if failed is not None:
        return failed
    # ends when the service ends the watch (stopping)
    body = relayed(call, slot, settings_event, "settings events", first, report_errors=False)
    return event_stream(body, call, slot)
