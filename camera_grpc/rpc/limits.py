"""A limit on the long-lived streams a gRPC server holds at once, whatever their service.

``Frames`` streams have limits of their own (in total and per connection, in the
frame hub); this one also counts the standard health ``Watch`` streams and the
reflection stream, which otherwise cost memory and a task each with no bound.

It also writes every stream's messages itself (``context.write``), so that a client
that goes away while a message waits to be sent (a stalled stream, cancelled)
ends the call quietly: grpcio would log a traceback for each such client.
"""

from __future__ import annotations

import asyncio
import inspect
from collections.abc import Awaitable, Callable
from typing import Any

import grpc

from camera_grpc.errors import TooManyStreamsError
from camera_grpc.rpc import status
from camera_grpc.rpc.handlers import rewrap

try:  # what a write raises when the call is gone (grpcio's own handler takes it as "the client left")
    from grpc._cython.cygrpc import ExecuteBatchError as SEND_FAILED
except ImportError:  # pragma: no cover  (another grpcio: such failures are logged by grpcio as before)
    SEND_FAILED = ()  # type: ignore[assignment, misc]


class StreamLimit(grpc.aio.ServerInterceptor):
    """Refuses (RESOURCE_EXHAUSTED) a server-streaming call while ``limit`` of them are open."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self.open = 0  #: streams open now (event loop only)

    async def intercept_service(
        self,
        continuation: Callable[[grpc.HandlerCallDetails], Awaitable[grpc.RpcMethodHandler]],
        handler_call_details: grpc.HandlerCallDetails,
    ) -> grpc.RpcMethodHandler:
        handler = await continuation(handler_call_details)
        if handler is None or not handler.response_streaming:
            return handler
        return rewrap(handler, self._limited)

    def _limited(self, behavior: Callable[[Any, grpc.aio.ServicerContext], Any]) -> Callable[..., Any]:
        """``behavior`` counted while it runs, its messages written here (it may be an async generator, or a
        coroutine that writes to its context itself)."""
        streams = inspect.isasyncgenfunction(behavior)

        async def limited(request: Any, context: grpc.aio.ServicerContext) -> None:
            await self._enter(context)
            try:
                if streams:
                    async for response in behavior(request, context):
                        await context.write(response)
                        del response  # not kept while the next one is awaited (a frame can be megabytes)
                else:
                    await behavior(request, context)
            except (asyncio.CancelledError, grpc.aio.AbortError):
                raise
            except SEND_FAILED:  # the client left while a message waited to be sent: there is no one to report to
                context.set_code(grpc.StatusCode.CANCELLED)  # (for the call's metrics)
            finally:
                self.open -= 1

        return limited

    async def _enter(self, context: grpc.aio.ServicerContext) -> None:
        if self.open >= self.limit:
            await status.abort(
                context,
                TooManyStreamsError(f"at most {self.limit} long-lived streams may be open at once (GRPC_MAX_STREAMS)"),
            )
        self.open += 1
