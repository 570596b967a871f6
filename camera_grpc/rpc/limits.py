"""A limit on the long-lived streams a gRPC server holds at once, whatever their service.

``Frames`` streams have limits of their own (in total and per connection, in the
frame hub); this one also counts the standard health ``Watch`` streams and the
reflection stream, which otherwise cost memory and a task each with no bound.
"""

from __future__ import annotations

import inspect
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import grpc

from camera_grpc.errors import TooManyStreamsError
from camera_grpc.rpc import status


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
        if handler.request_streaming:
            return grpc.stream_stream_rpc_method_handler(
                self._limited(handler.stream_stream),
                request_deserializer=handler.request_deserializer,
                response_serializer=handler.response_serializer,
            )
        return grpc.unary_stream_rpc_method_handler(
            self._limited(handler.unary_stream),
            request_deserializer=handler.request_deserializer,
            response_serializer=handler.response_serializer,
        )

    def _limited(self, behavior: Callable[[Any, grpc.aio.ServicerContext], Any]) -> Callable[..., Any]:
        """``behavior`` counted while it runs (an async generator, or a coroutine that writes to its context)."""
        if inspect.isasyncgenfunction(behavior):

            async def stream(request: Any, context: grpc.aio.ServicerContext) -> AsyncIterator[Any]:
                await self._enter(context)
                try:
                    async for response in behavior(request, context):
                        yield response
                        del response  # not kept while the next one is awaited (a frame can be megabytes)
                finally:
                    self.open -= 1

            return stream

        async def writer(request: Any, context: grpc.aio.ServicerContext) -> Any:
            await self._enter(context)
            try:
                return await behavior(request, context)
            finally:
                self.open -= 1

        return writer

    async def _enter(self, context: grpc.aio.ServicerContext) -> None:
        if self.open >= self.limit:
            await status.abort(
                context,
                TooManyStreamsError(f"at most {self.limit} long-lived streams may be open at once (GRPC_MAX_STREAMS)"),
            )
        self.open += 1
