"""Method handlers of the four kinds (unary or streaming, each way), made and re-made in one place.

The servicer registers its methods through :data:`HANDLER_FACTORIES`; the server
interceptors (metrics, tokens, the stream limit) wrap a handler's behaviour with
:func:`rewrap`, which keeps its kind and (de)serializers.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import grpc

#: Handler factory by (client streaming, server streaming).
HANDLER_FACTORIES: dict[tuple[bool, bool], Callable[..., grpc.RpcMethodHandler]] = {
    (False, False): grpc.unary_unary_rpc_method_handler,
    (False, True): grpc.unary_stream_rpc_method_handler,
    (True, False): grpc.stream_unary_rpc_method_handler,
    (True, True): grpc.stream_stream_rpc_method_handler,
}

Behavior = Callable[..., Any]


def behavior_of(handler: grpc.RpcMethodHandler) -> Behavior:
    """The function that serves ``handler``'s calls (whichever of its four slots holds it)."""
    kind = (handler.request_streaming, handler.response_streaming)
    return {
        (False, False): handler.unary_unary,
        (False, True): handler.unary_stream,
        (True, False): handler.stream_unary,
        (True, True): handler.stream_stream,
    }[kind]


def rewrap(handler: grpc.RpcMethodHandler, wrap: Callable[[Behavior], Behavior]) -> grpc.RpcMethodHandler:
    """``handler`` with its behaviour replaced by ``wrap(behaviour)``: same kind, same (de)serializers."""
    return HANDLER_FACTORIES[(handler.request_streaming, handler.response_streaming)](
        wrap(behavior_of(handler)),
        request_deserializer=handler.request_deserializer,
        response_serializer=handler.response_serializer,
    )
