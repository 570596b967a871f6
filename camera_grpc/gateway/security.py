"""ASGI middleware that keeps hostile web pages and oversized requests out.

The gateway listens on localhost, and so does every browser on the machine: any page the user opens
can send it requests. In the order a request meets them (:func:`camera_grpc.gateway.app.create_app`
stacks them):

- :class:`SecurityHeaders`: every response says ``nosniff``, may not be framed, sends no referrer, and
  carries a same-origin-only Content-Security-Policy (unless the route set its own, as ``/docs`` does).
- :class:`HostAllowList`: a ``Host`` that is not an IP address, ``ALLOWED_HOSTS`` or ``HOST`` is 400.
  A page on a domain of its own that re-points its DNS name at 127.0.0.1 (DNS rebinding) is then
  same-origin with the gateway in the browser's eyes, but its requests still say ``Host: its-name``.
  An IP address cannot be rebound, so IP hosts are always served.
- (CORS, Starlette's, for ``ALLOWED_ORIGINS``.)
- :class:`BodyLimit`: a body larger than ``REST_MAX_BODY_BYTES`` is 413, refused from its
  ``Content-Length`` before any of it is read, or, when chunked, as soon as the bytes received pass
  the limit. The largest legitimate body is a few hundred bytes, so parsing never holds the loop.
- :class:`CrossSiteGuard`: a request that changes something (any method but GET, HEAD, OPTIONS) is 403
  when its ``Origin`` (or, without one, ``Sec-Fetch-Site``) shows another site than the gateway itself
  or ``ALLOWED_ORIGINS``, and 415 when it has a body that is not ``application/json``. Browsers send
  such "simple" requests (form posts, ``fetch`` with ``text/plain`` or no body) to any site without
  asking it first (no CORS preflight), so CORS alone does not stop a page from taking captures; but a
  browser always says where a cross-origin POST comes from. Clients that are not browsers (curl,
  scripts, the NestJS back end) send no ``Origin`` and are not affected.

Their errors have the gateway's ``ErrorBody`` shape.
"""

from __future__ import annotations

import ipaddress
import socket
from collections.abc import Iterable

from starlette.datastructures import Headers
from starlette.exceptions import HTTPException
from starlette.responses import JSONResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from camera_grpc.gateway.errors import ErrorBody

#: Content-Security-Policy of every response: this origin only, never framed.
CONTENT_SECURITY_POLICY = (
    "default-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
)
SECURITY_HEADERS: dict[str, str] = {
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "no-referrer",
}
#: Methods that change nothing (and that browsers send cross-site without asking, for a GET).
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
#: Listen addresses that are not a name a client could use.
WILDCARD_HOSTS = frozenset({"", "0.0.0.0", "::", "[::]"})
#: The only request body media type.
JSON = "application/json"


def error_response(status_code: int, detail: str, headers: dict[str, str] | None = None) -> JSONResponse:
    """An error of the HTTP layer, in the gateway's ErrorBody shape."""
    return JSONResponse(ErrorBody(detail=detail).model_dump(), status_code=status_code, headers=headers)


class SecurityHeaders:
    """Adds :data:`SECURITY_HEADERS` and, unless the response has one, :data:`CONTENT_SECURITY_POLICY`."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app
        self._headers = [
            (name.lower().encode("latin-1"), value.encode("latin-1")) for name, value in SECURITY_HEADERS.items()
        ]

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", []))
                present = {name.lower() for name, _ in headers}
                headers += [(name, value) for name, value in self._headers if name not in present]
                if b"content-security-policy" not in present:
                    headers.append((b"content-security-policy", CONTENT_SECURITY_POLICY.encode("latin-1")))
                message = {**message, "headers": headers}
            await send(message)

        await self.app(scope, receive, send_with_headers)


def host_name(host_header: str) -> str:
    """The name in a ``Host`` header: no port, no IPv6 brackets, lower case, no trailing dot."""
    host = host_header.strip().lower()
    if host.startswith("["):
        host = host[1:].partition("]")[0]
    elif host.count(":") == 1:
        host = host.partition(":")[0]
    return host.rstrip(".")


def is_ip_address(name: str) -> bool:
    try:
        ipaddress.ip_address(name)
    except ValueError:
        return False
    return True


def served_host_names(allowed_hosts: Iterable[str], bind_host: str) -> frozenset[str]:
    """The host names to serve: ``ALLOWED_HOSTS``, the bind address if it is a name, and, when bound to
    all interfaces, this machine's host name."""
    names = {host_name(name) for name in allowed_hosts}
    if bind_host in WILDCARD_HOSTS:
        names.add(host_name(socket.gethostname()))
    else:
        names.add(host_name(bind_host))
    return frozenset(names)


class HostAllowList:
    """400 for a ``Host`` that is neither an IP address nor one of ``names`` (``*`` in names: any)."""

    def __init__(self, app: ASGIApp, names: Iterable[str]) -> None:
        self.app = app
        self.names = frozenset(names)
        self.any = "*" in self.names

    def allowed(self, host_header: str | None) -> bool:
        if host_header is None or self.any:
            return True  # HTTP/1.0 without Host: not a browser
        name = host_name(host_header)
        return name in self.names or is_ip_address(name)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and not self.allowed(Headers(scope=scope).get("host")):
            response = error_response(
                400, "unknown host name; ask for this service by a name in ALLOWED_HOSTS or by its IP address"
            )
            await response(scope, receive, send)
            return
        await self.app(scope, receive, send)


class BodyTooLarge(HTTPException):
    """The body passed the limit while being read (an HTTPException, so FastAPI's body parsing lets it through)."""

    def __init__(self, limit: int) -> None:
        super().__init__(413, too_large_message(limit), headers={"Connection": "close"})


def too_large_message(limit: int) -> str:
    return f"the request body is larger than {limit} bytes"


class BodyLimit:
    """413 for a body larger than ``max_bytes``: from its Content-Length up front, or counted as it streams."""

    def __init__(self, app: ASGIApp, max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = Headers(scope=scope).get("content-length")
        if declared is not None and (not declared.strip().isdigit() or int(declared) > self.max_bytes):
            # Not read: the connection closes after the answer.
            response = error_response(413, too_large_message(self.max_bytes), headers={"Connection": "close"})
            await response(scope, receive, send)
            return
        received = 0
        started = False

        async def counting_receive() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.max_bytes:
                    if started:  # too late for a 413: end the exchange as if the client had left
                        return {"type": "http.disconnect"}
                    raise BodyTooLarge(self.max_bytes)
            return message

        async def watching_send(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        await self.app(scope, counting_receive, watching_send)


def request_origin(scope: Scope, headers: Headers) -> str:
    """This gateway's origin as the request addressed it (``http://host:port``; the Host is checked before)."""
    return f"{scope.get('scheme', 'http')}://{headers.get('host', '')}".lower()


class CrossSiteGuard:
    """403 for state-changing requests from other sites; 415 for their bodies that are not JSON."""

    def __init__(self, app: ASGIApp, allowed_origins: Iterable[str]) -> None:
        self.app = app
        self.allowed_origins = frozenset(origin.rstrip("/").lower() for origin in allowed_origins)

    def cross_site(self, scope: Scope, headers: Headers) -> bool:
        origin = headers.get("origin")
        if origin is not None:
            origin = origin.strip().rstrip("/").lower()
            return origin != request_origin(scope, headers) and origin not in self.allowed_origins
        # No Origin (browsers send one on every cross-origin POST/PUT; only old ones may not).
        return headers.get("sec-fetch-site", "same-origin").strip().lower() not in ("same-origin", "none")

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] in SAFE_METHODS:
            await self.app(scope, receive, send)
            return
        headers = Headers(scope=scope)
        has_body = "transfer-encoding" in headers or headers.get("content-length", "0").strip() not in ("", "0")
        close = {"Connection": "close"} if has_body else None  # the body is not read
        if self.cross_site(scope, headers):
            message = "cross-site request refused: the page's origin is not in the gateway's ALLOWED_ORIGINS"
            await error_response(403, message, close)(scope, receive, send)
            return
        media_type = headers.get("content-type", "").partition(";")[0].strip().lower()
        if has_body and media_type != JSON:
            message = "send the request body as JSON, with the header Content-Type: application/json"
            await error_response(415, message, close)(scope, receive, send)
            return
        await self.app(scope, receive, send)
