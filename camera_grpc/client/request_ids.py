"""Passing request ids on: calls made while a request id is current carry it (metadata ``x-request-id``).

The REST gateway gives each HTTP request an id (:data:`camera_grpc.logs.current_request_id`);
its channel to the camera service has these interceptors, so the service's log lines
for the calls that request made carry the same id.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import grpc

from camera_grpc.logs import REQUEST_ID_KEY, current_request_id


def _with_request_id(details: grpc.aio.ClientCallDetails) -> grpc.aio.ClientCallDetails:
    request_id = current_request_id.get()
    if request_id is None:
        return details
    metadata = grpc.aio.Metadata(*(details.metadata or ()))
    if REQUEST_ID_KEY not in metadata:
        metadata.add(REQUEST_ID_KEY, request_id)
    return details._replace(metadata=metadata)


class ForwardRequestIdUnaryUnary(grpc.aio.UnaryUnaryClientInterceptor):
    """Adds the current request id to unary calls."""

    async def intercept_unary_unary(
        self, continuation: Callable[..., Any], client_call_details: grpc.aio.ClientCallDetails, request: Any
    ) -> Any:
        return await continuation(_with_request_id(client_call_details), request)


class ForwardRequestIdUnaryStream(grpc.aio.UnaryStreamClientInterceptor):
    """Adds the current request id to server-streaming calls."""

    async def intercept_unary_stream(
        self, continuation: Callable[..., Any], client_call_details: grpc.aio.ClientCallDetails, request: Any
    ) -> Any:
        return await continuation(_with_request_id(client_call_details), request)


def request_id_interceptors() -> list[grpc.aio.ClientInterceptor]:
    """Interceptors for a channel whose calls carry the current request id."""
    return [ForwardRequestIdUnaryUnary(), ForwardRequestIdUnaryStream()]
