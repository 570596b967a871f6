"""Request ids on the REST gateway, and ASGI apps served as routes.

:class:`RequestIds` (the outermost middleware) gives every HTTP request an id: the
client's ``X-Request-ID`` when it is a plausible one, else a new one
(:func:`camera_grpc.logs.request_id_from`). It is held in
:data:`camera_grpc.logs.current_request_id` while the request is served, so the
gateway's log lines carry it and the gRPC calls the request makes send it on
(:mod:`camera_grpc.client.request_ids`, on the gateway's channel): the service logs
the same id. The response carries it in ``X-Request-ID``.

:func:`asgi_endpoint` serves an ASGI app (e.g. Prometheus' ``/metrics``, handed over by
whoever composes the process) as an ordinary route, so the gateway's dependencies (the
token check) apply to it like to every other route.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from starlette.datastructures import Headers
from starlette.requests import Request
from starlette.responses import Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from camera_grpc.logs import REQUEST_ID_KEY, current_request_id, request_id_from

_HEADER = REQUEST_ID_KEY.encode("ascii")


class RequestIds:
    """Sets the request's id for its handling and returns it in ``X-Request-ID``."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        request_id = request_id_from(Headers(scope=scope).get(REQUEST_ID_KEY))
        header = (_HEADER, request_id.encode("ascii"))

        async def send_with_id(message: Message) -> None:
            if message["type"] == "http.response.start":
                message = {**message, "headers": [*message.get("headers", ()), header]}
            await send(message)

        token = current_request_id.set(request_id)
        try:
            await self.app(scope, receive, send_with_id)
        finally:
            current_request_id.reset(token)


class _AsgiResponse(Response):
    """A response that an ASGI app writes."""

    def __init__(self, app: ASGIApp) -> None:
        super().__init__()
        self._app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        await self._app(scope, receive, send)


def asgi_endpoint(app: ASGIApp) -> Callable[[Request], Awaitable[Response]]:
    """A route endpoint whose response is written by ``app``."""

    async def endpoint(request: Request) -> Response:
        return _AsgiResponse(app)

    return endpoint
