"""What the gateway's streaming routes share: opening a server-streaming call within the gateway's deadline
(an error answer, and the call ended, if it fails), and a stream's messages with keep-alives.

A streaming response holds a :class:`~camera_grpc.gateway.routers.stream.StreamSlot`; :func:`end_call` cancels
the call and gives the slot back (idempotent: it runs when the body ends and again when the client goes).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any, Protocol, TypeVar

import grpc
from fastapi import Response
from fastapi.responses import StreamingResponse
from starlette.background import BackgroundTask

from camera_grpc.client import CameraRpcError
from camera_grpc.gateway.dependencies import Upstream
from camera_grpc.gateway.errors import rpc_error_response


class StreamSlot(Protocol):
    """A live stream's place in the limits (``routers.stream.StreamSlot``, which uses this module)."""

    def release(self) -> None: ...


EVENT_STREAM = "text/event-stream"
#: Seconds between keep-alive comments on a quiet event stream (proxies close idle connections; a write also
#: finds out that a client went away without saying so).
EVENTS_KEEPALIVE_S = 15.0
KEEPALIVE = b": keep-alive\n\n"
#: Headers of an event stream: never cached, not buffered by a proxy (nginx).
EVENT_STREAM_HEADERS = {"Cache-Control": "no-cache", "X-Accel-Buffering": "no"}

#: SSE event name of a failure after the stream started (its data: the error body, as a JSON answer would have).
ERROR_EVENT = "error"

log = logging.getLogger(__name__)

_T = TypeVar("_T")
_M = TypeVar("_M")


def end_call(call: grpc.aio.UnaryStreamCall, slot: StreamSlot) -> None:
    call.cancel()
    slot.release()


async def opened(
    call: grpc.aio.UnaryStreamCall, slot: StreamSlot, upstream: Upstream, first: Awaitable[_T]
) -> tuple[_T, None] | tuple[None, Response]:
    """``first`` (the call's first message, or its headers) within the gateway's deadline; else the error answer
    (504 past the deadline, the call's own status if it failed), the call ended and its slot given back."""
    try:
        return await asyncio.wait_for(first, timeout=upstream.timeout_s), None
    except TimeoutError:
        failure = CameraRpcError(grpc.StatusCode.DEADLINE_EXCEEDED, "")
    except grpc.aio.AioRpcError as exc:
        failure = CameraRpcError.from_rpc_error(exc)
    except BaseException:
        end_call(call, slot)
        raise
    end_call(call, slot)
    return None, rpc_error_response(failure, location="query")


def ended_at_once(call: grpc.aio.UnaryStreamCall, slot: StreamSlot) -> Response:
    """The answer to a stream that ended before its first message, without an error: 503."""
    end_call(call, slot)
    return rpc_error_response(CameraRpcError(grpc.StatusCode.UNAVAILABLE, ""), location="query")


async def first_message(
    call: grpc.aio.UnaryStreamCall, slot: StreamSlot, upstream: Upstream, message_type: type[_M]
) -> tuple[_M, None] | tuple[None, Response]:
    """The call's first message (a ``message_type``) within the gateway's deadline; else the error answer (see
    :func:`opened`; a stream that ended without one: 503), the call ended and its slot given back."""
    first, failed = await opened(call, slot, upstream, call.read())
    if failed is not None:
        return None, failed
    if not isinstance(first, message_type):  # ended at once, without an error
        return None, ended_at_once(call, slot)
    return first, None


def error_event(failure: CameraRpcError) -> bytes:
    """The last event of a stream whose call failed after it started: the error body an answer would have had."""
    response = rpc_error_response(failure, location="query")
    return f"event: {ERROR_EVENT}\ndata: {bytes(response.body).decode()}\n\n".encode()


async def relayed(
    call: grpc.aio.UnaryStreamCall,
    slot: StreamSlot,
    render: Callable[[Any], bytes],
    what: str,
    first: object | None = None,
    *,
    report_errors: bool = True,
) -> AsyncIterator[bytes]:
    """An event stream's body: ``first`` (read already, if any), then each message of ``call`` as ``render`` makes
    it, a keep-alive comment when quiet, until the call ends; if it fails, a last :func:`error_event`
    (``report_errors``) and a log line naming ``what``. The call is ended and the slot given back at the end."""
    try:
        if first is not None:
            yield render(first)
        async for message in with_keepalives(call):
            yield KEEPALIVE if message is None else render(message)
    except grpc.aio.AioRpcError as exc:
        log.info("%s ended by the camera service: %s", what, exc.code().name)
        if report_errors:
            yield error_event(CameraRpcError.from_rpc_error(exc))
    finally:
        end_call(call, slot)


async def with_keepalives(call: grpc.aio.UnaryStreamCall) -> AsyncIterator[object | None]:
    """The call's messages until it ends (grpc.aio.EOF), and None for every :data:`EVENTS_KEEPALIVE_S` without
    one (time for a keep-alive comment)."""
    reading: asyncio.Future[object] | None = None
    try:
        while True:
            reading = asyncio.ensure_future(call.read())
            while not reading.done():
                done, _ = await asyncio.wait({reading}, timeout=EVENTS_KEEPALIVE_S)
                if not done:
                    yield None
            message = reading.result()
            reading = None
            if message is grpc.aio.EOF:
                return
            yield message
    finally:
        if reading is not None:
            reading.cancel()


def event_stream(body: AsyncIterator[bytes], call: grpc.aio.UnaryStreamCall, slot: StreamSlot) -> StreamingResponse:
    """A text/event-stream response of ``body``; the call is cancelled and the slot given back when it ends."""
    return StreamingResponse(
        body,
        media_type=EVENT_STREAM,
        headers=EVENT_STREAM_HEADERS,
        background=BackgroundTask(end_call, call, slot),  # runs when the client disconnects, too
    )
