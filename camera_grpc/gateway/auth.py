"""Who may call which REST endpoint: the one place where the gateway checks tokens (a FastAPI dependency).

With ``TOKENS_FILE`` set, :func:`authorize` (a dependency of the whole app) runs before every route: the
route needs the role :data:`ROUTE_ROLES` gives its method and path, with the same tokens, roles and
per-client failure count as gRPC (:class:`camera_grpc.auth.Authenticator`; in one process, the very same
count). A route the table does not name is refused (403) whatever the token, and
``tests/gateway/test_auth_rest.py`` fails for a route without an entry. Open: ``/health``,
``/health/ready``, the viewer page ``/`` and ``/docs`` (page shells that hold no camera data; the data they
show comes from routes that need a token), the static files under ``/static`` and ``/openapi.json``.

- No ``Authorization: Bearer <token>``, a malformed one, an unknown token, or a client address that used up
  its failed checks: 401 with ``WWW-Authenticate: Bearer``, always with the same body.
- A valid token whose role is too low: 403.

The gateway is a gRPC client of the camera service: the caller's ``Authorization`` value goes with every
gRPC call the request makes (:func:`forward_token`, client interceptors on the gateway's channel), so one
token works on both ports and the service checks it again; only over TLS or to a service on this host, never
in plaintext over a network. Without ``TOKENS_FILE`` the gateway checks nothing and forwards the value as
it came (a service elsewhere may check it).
"""

from __future__ import annotations

from collections.abc import Callable
from contextvars import ContextVar
from typing import Any

import grpc
from fastapi import FastAPI, Request
from starlette.exceptions import HTTPException
from starlette.routing import Route

from camera_grpc.auth import BEARER, Authenticator, Role, bearer_token
from camera_grpc.gateway.dependencies import client_address

#: A route anyone may call, without a token.
OPEN = None
#: Role needed per (method, path template) of every route of the app. Routes not here are refused.
ROUTE_ROLES: dict[tuple[str, str], Role | None] = {
    ("GET", "/health"): OPEN,
    ("GET", "/health/ready"): OPEN,
    ("GET", "/"): OPEN,
    ("GET", "/docs"): OPEN,
    ("GET", "/settings"): Role.VIEWER,
    ("GET", "/camera"): Role.VIEWER,
    ("GET", "/captures"): Role.VIEWER,
    ("GET", "/captures/{filename}"): Role.VIEWER,
    ("GET", "/captures/{filename}/thumbnail"): Role.VIEWER,
    ("DELETE", "/captures/{filename}"): Role.OPERATOR,  # DeleteCapture (issue 17)
    ("GET", "/stream.mjpg"): Role.VIEWER,
    ("GET", "/stream/stats"): Role.VIEWER,
    ("GET", "/metrics"): Role.VIEWER,
    ("PUT", "/settings"): Role.OPERATOR,
    ("POST", "/capture"): Role.OPERATOR,
    ("PATCH", "/settings"): Role.OPERATOR,
    ("GET", "/settings/events"): Role.VIEWER,
    ("GET", "/presets"): Role.VIEWER,
    ("GET", "/presets/{preset_id}"): Role.VIEWER,
    ("POST", "/presets"): Role.OPERATOR,
    ("POST", "/presets/{preset_id}/apply"): Role.OPERATOR,
    ("DELETE", "/presets/{preset_id}"): Role.ADMIN,
    ("POST", "/camera/channels/{channel}/load"): Role.OPERATOR,
    ("POST", "/camera/channels/{channel}/save"): Role.ADMIN,
    ("POST", "/trigger"): Role.OPERATOR,
    ("GET", "/io"): Role.VIEWER,
    ("GET", "/events"): Role.VIEWER,
    ("GET", "/recordings"): Role.VIEWER,
    ("GET", "/recordings/{recording_id}"): Role.VIEWER,
    ("GET", "/recordings/{recording_id}/events"): Role.VIEWER,
    ("GET", "/recordings/{recording_id}/files/{file}"): Role.VIEWER,
    ("GET", "/recordings/{recording_id}/thumbnail"): Role.VIEWER,
    ("POST", "/recordings"): Role.OPERATOR,
    ("POST", "/recordings/{recording_id}/stop"): Role.OPERATOR,
    ("DELETE", "/recordings/{recording_id}"): Role.OPERATOR,
    ("GET", "/storage"): Role.VIEWER,
}
UNAUTHENTICATED_MESSAGE = "missing or invalid token"
PERMISSION_DENIED_MESSAGE = "the token's role does not allow this request"
#: What a 401 says about how to authenticate (RFC 6750).
CHALLENGE = {"WWW-Authenticate": BEARER}

#: The ``Authorization`` value of the request being served, for its gRPC calls (set by :func:`authorize`).
_forwarded: ContextVar[str | None] = ContextVar("forwarded_authorization", default=None)


def route_key(request: Request) -> tuple[str, str] | None:
    """(method, path template) of the route serving ``request``."""
    route = request.scope.get("route")
    if not isinstance(route, Route):
        return None
    return request.method, route.path_format


async def authorize(request: Request) -> None:
    """The app's dependency: refuse a request whose token does not allow its route; note the value to forward.

    An ``async`` dependency, so that what it sets in the request's context is seen by the route it guards.
    """
    key = route_key(request)
    if key is not None and key in ROUTE_ROLES and ROUTE_ROLES[key] is OPEN:
        return
    values = request.headers.getlist("authorization")
    authorization = values[0] if len(values) == 1 else None  # several: malformed
    authenticator: Authenticator | None = request.app.state.authenticator
    if authenticator is not None:
        holder = authenticator.authenticate(authorization, client_address(request))
        if holder is None:
            raise HTTPException(401, UNAUTHENTICATED_MESSAGE, headers=CHALLENGE)
        required = ROUTE_ROLES.get(key) if key is not None else None
        if required is None or holder.role < required:
            raise HTTPException(403, PERMISSION_DENIED_MESSAGE)
    if bearer_token(authorization) is not None and authorization is not None and authorization.isascii():
        _forwarded.set(authorization)  # only well-formed values: gRPC metadata is printable ASCII


def _with_authorization(details: grpc.aio.ClientCallDetails) -> grpc.aio.ClientCallDetails:
    authorization = _forwarded.get()
    if authorization is None:
        return details
    metadata = grpc.aio.Metadata(*(details.metadata or ()))
    metadata["authorization"] = authorization
    return grpc.aio.ClientCallDetails(
        details.method, details.timeout, metadata, details.credentials, details.wait_for_ready
    )


class _ForwardUnary(grpc.aio.UnaryUnaryClientInterceptor):
    async def intercept_unary_unary(
        self, continuation: Callable[..., Any], client_call_details: grpc.aio.ClientCallDetails, request: Any
    ) -> Any:
        return await continuation(_with_authorization(client_call_details), request)


class _ForwardStream(grpc.aio.UnaryStreamClientInterceptor):
    async def intercept_unary_stream(
        self, continuation: Callable[..., Any], client_call_details: grpc.aio.ClientCallDetails, request: Any
    ) -> Any:
        return await continuation(_with_authorization(client_call_details), request)


def forward_token() -> list[grpc.aio.ClientInterceptor]:
    """Client interceptors that send the ``Authorization`` value of the REST request being served with each gRPC
    call it makes (unary and server-streaming: grpc takes one kind of call per interceptor object)."""
    return [_ForwardUnary(), _ForwardStream()]


#: The OpenAPI security scheme of the token (Swagger UI's "Authorize" on /docs).
SECURITY_SCHEME = "bearer"


def document_tokens(app: FastAPI) -> None:
    """Make ``app``'s OpenAPI document say which operations need a token and which role (tokens on only).

    Adds an HTTP bearer security scheme, and to each operation that needs a token its ``security``, its role in
    the description, and its 401 and 403 responses, so Swagger UI on ``/docs`` sends the token it is given.
    """
    make_schema = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is not None:
            return app.openapi_schema
        schema = make_schema()
        schema.setdefault("components", {}).setdefault("securitySchemes", {})[SECURITY_SCHEME] = {
            "type": "http",
            "scheme": "bearer",
            "description": "A token of TOKENS_FILE (camera-grpc token add); each operation names the role it needs",
        }
        for path, operations in schema.get("paths", {}).items():
            for method, operation in operations.items():
                role = ROUTE_ROLES.get((method.upper(), path), OPEN)
                if role is OPEN:
                    continue
                operation["security"] = [{SECURITY_SCHEME: []}]
                operation["description"] = (
                    operation.get("description", "") + f"\n\nNeeds a token of role **{role.name.lower()}** or higher."
                ).strip()
                responses = operation.setdefault("responses", {})
                error = {"$ref": "#/components/schemas/ErrorBody"}
                responses.setdefault(
                    "401",
                    {
                        "description": "No token, or not a valid one (WWW-Authenticate: Bearer)",
                        "content": {"application/json": {"schema": error}},
                    },
                )
                forbidden = responses.setdefault(
                    "403", {"description": "", "content": {"application/json": {"schema": error}}}
                )
                forbidden["description"] = " ".join(
                    part for part in (forbidden["description"], "Or: the token's role is too low") if part
                )
        app.openapi_schema = schema
        return schema

    app.openapi = openapi  # type: ignore[method-assign]
