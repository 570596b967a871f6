"""``GET /events`` (issue 13): the camera's and the service's events (WatchEvents) as Server-Sent Events.

Each event is one SSE event: its name the event's type in lower case (``trigger_missed``), its ``id`` the
sequence number, its data the JSON of :class:`~camera_grpc.gateway.schemas.CameraEvent` (every field of
``camera.v1.Event`` and ``missed_events``). A quiet stream gets a keep-alive comment every
:data:`~camera_grpc.gateway.routers.sse.EVENTS_KEEPALIVE_S`. It counts as a live stream (the limits of
/stream.mjpg and /settings/events) and ends when the client goes (the watch is cancelled) or the service
stops (after ``service_stopping``). Should the watch fail once the response has started, a last ``error``
event carries the error body (as a JSON error answer would) and the stream ends.
"""

from __future__ import annotations

import logging
from typing import Annotated

from fastapi import APIRouter, Depends, Query, Response
from fastapi.exceptions import RequestValidationError
from fastapi.responses import StreamingResponse

from camera_grpc.client.settings import enum_choices, enum_number
from camera_grpc.gateway.dependencies import ClientDep, UpstreamDep
from camera_grpc.gateway.errors import error_responses
from camera_grpc.gateway.routers.sse import (
    EVENT_STREAM,
    event_stream,
    opened,
    relayed,
)
from camera_grpc.gateway.routers.stream import StreamSlots, get_stream_slots
from camera_grpc.gateway.schemas import CameraEvent
from camera_grpc.gen.camera.v1 import camera_pb2 as pb

log = logging.getLogger(__name__)

router = APIRouter(tags=["events"])

EventTypeName = Annotated[
    list[str] | None,
    Query(
        alias="type",
        description=f"Only events of these types (repeat it: ?type=trigger_missed&type=frames_skipped); "
        f"default: all. Types: {', '.join(enum_choices(pb.EventType.DESCRIPTOR))}",
    ),
]


def sse_event(message: pb.WatchEventsResponse) -> bytes:
    """One SSE event: the type as its name, the sequence number as its id, the event's JSON as its data."""
    event = CameraEvent.from_proto(message)
    return f"event: {event.type}\nid: {event.sequence_number}\ndata: {event.model_dump_json()}\n\n".encode()


@router.get(
    "/events",
    summary="Camera and service events (Server-Sent Events)",
    response_class=StreamingResponse,
    responses={
        200: {
            "description": "An endless text/event-stream: one event per camera or service event as it happens; "
            "its name is the type (camera_disconnected, trigger_missed, ...), its `id` the sequence number, its "
            "data the JSON of CameraEvent (with `missed_events`)",
            "content": {EVENT_STREAM: {"schema": {"type": "string"}}},
        },
        **error_responses(422, 429, 500, 503, 504),
    },
)
async def events(
    upstream: UpstreamDep,
    slots: Annotated[StreamSlots, Depends(get_stream_slots)],
    client: ClientDep,
    types: EventTypeName = None,
) -> Response:
    """For an ``EventSource("/events")``: events from now on, in order, with no gaps in ``id`` but those counted
    in ``missed_events`` (a reader too slow loses the oldest). Counts as a live stream; closing it ends the
    watch."""
    try:
        numbers = [enum_number("type", pb.EventType.DESCRIPTOR, name) for name in types or ()]
    except ValueError as exc:
        raise RequestValidationError([{"type": "enum", "loc": ("query", "type"), "msg": str(exc)}]) from None
    slot = slots.take(client)
    call = upstream.camera.WatchEvents(pb.WatchEventsRequest(types=numbers))
    # The service answers a watch with its headers at once; the events come when they happen.
    _, failed = await opened(call, slot, upstream, call.initial_metadata())
    if failed is None and call.done():  # failed at once (e.g. the service publishes no events)
        _, failed = await opened(call, slot, upstream, call.read())
    if failed is not None:
        return failed
    # ends after SERVICE_STOPPING (the service ends the watch)
    return event_stream(relayed(call, slot, sse_event, "events"), call, slot)
