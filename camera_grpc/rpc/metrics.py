"""What every gRPC call leaves behind: its request id, its metrics, and (at DEBUG) one log line.

:class:`CallObserver` is the server's outermost interceptor, so it sees every call,
including those the interceptors after it refuse. For each call it

- takes the request id the client sent (metadata ``x-request-id``) or makes one,
  sends it back in the call's initial metadata and holds it in
  :data:`camera_grpc.logs.current_request_id` while the call runs, so log lines
  written for the call carry it;
- counts the call by method and status code when it ends (a stream when it ends,
  however long it ran) and observes its duration (:class:`~camera_grpc.core.metrics.ServiceMetrics`);
- logs ``<method> <code> <ms>`` at DEBUG (nothing at INFO: a flood of calls adds nothing to the log).
"""

from __future__ import annotations

import asyncio
import inspect
import json
import logging
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any, NoReturn

import grpc

from camera_grpc.core.metrics import ServiceMetrics
from camera_grpc.logs import REQUEST_ID_KEY, current_request_id, request_id_from
from camera_grpc.rpc.handlers import rewrap

log = logging.getLogger(__name__)

#: Labels of a method that is not registered (the server answers UNIMPLEMENTED).
UNKNOWN = "unknown"
#: Methods whose wrapped handler is kept for reuse (the registered methods are far fewer).
MAX_CACHED_HANDLERS = 256
#: Status code names by the numbers ``context.code()`` may give.
_CODE_NAMES = {code.value[0]: code.name for code in grpc.StatusCode}


class CallObserver(grpc.aio.ServerInterceptor):
    """Request ids, per-call metrics (when ``metrics`` is given) and DEBUG call lines for every call."""

    def __init__(self, metrics: ServiceMetrics | None, *, own_headers: frozenset[str] = frozenset()) -> None:
        """``own_headers``: full names of streaming methods whose handler sends the response headers itself (with
        ``context.send_initial_metadata(())``, the request id added here) once it is ready, e.g. subscribed, so a
        client that has the headers knows nothing after them is missed. Sent before the first message anyway."""
        self._metrics = metrics
        self._own_headers = own_headers
        #: The wrapped handler of each method, with the handler it wraps: reused while the server hands out the same
        #: one (unary methods; streams get a new one per call from the stream limit).
        self._wrapped: dict[str, tuple[grpc.RpcMethodHandler, grpc.RpcMethodHandler]] = {}

    async def intercept_service(
        self,
        continuation: Callable[[grpc.HandlerCallDetails], Awaitable[grpc.RpcMethodHandler]],
        handler_call_details: grpc.HandlerCallDetails,
    ) -> grpc.RpcMethodHandler:
        handler = await continuation(handler_call_details)
        if handler is None:  # not a registered method: grpc answers UNIMPLEMENTED
            if self._metrics is not None:
                self._metrics.rpc_requests.labels(UNKNOWN, UNKNOWN, grpc.StatusCode.UNIMPLEMENTED.name).inc()
            return handler
        cached = self._wrapped.get(handler_call_details.method)
        if cached is not None and cached[0] is handler:
            return cached[1]
        wrapped = self._wrap(
            handler,
            *_split(handler_call_details.method),
            own_headers=handler_call_details.method in self._own_headers,
        )
        if len(self._wrapped) < MAX_CACHED_HANDLERS:
            self._wrapped[handler_call_details.method] = (handler, wrapped)
        return wrapped

    def _wrap(
        self, handler: grpc.RpcMethodHandler, service: str, method: str, *, own_headers: bool
    ) -> grpc.RpcMethodHandler:
        call = _Call(self._metrics, service, method, own_headers=own_headers)
        return rewrap(handler, lambda behavior: call.wrap(behavior, streaming=handler.response_streaming))


def _split(full_method: str) -> tuple[str, str]:
    """``/package.Service/Method`` -> (``package.Service``, ``Method``)."""
    service, _, method = full_method.lstrip("/").rpartition("/")
    return service or UNKNOWN, method or UNKNOWN


class _Call:
    """The observation of one method's calls (its metrics' series looked up once)."""

    __slots__ = ("_active", "_by_code", "_duration", "method", "metrics", "own_headers", "service")

    def __init__(self, metrics: ServiceMetrics | None, service: str, method: str, *, own_headers: bool) -> None:
        self.metrics = metrics
        self.service = service
        self.method = method
        self.own_headers = own_headers
        if metrics is not None:
            self._active = metrics.rpc_active.labels(service, method)
            self._duration = metrics.rpc_duration.labels(service, method)
            self._by_code: dict[str, Any] = {}

    def wrap(self, behavior: Callable[..., Any], *, streaming: bool) -> Callable[..., Any]:
        """``behavior`` (a coroutine function, or an async generator function for a stream) observed."""
        if inspect.isasyncgenfunction(behavior):

            async def stream(request: Any, context: grpc.aio.ServicerContext) -> AsyncIterator[Any]:
                observed, token, started = await self._begin(context, streaming)
                code = grpc.StatusCode.UNKNOWN.name
                try:
                    async for response in behavior(request, observed):
                        if not observed.headers_sent:  # a handler sending its own headers had not yet
                            await observed.send_initial_metadata(())
                        yield response
                        del response  # not kept while the next one is awaited (a frame can be megabytes)
                    code = _code(context)
                except BaseException as exc:
                    code = _failure_code(exc, observed)
                    raise
                finally:
                    self._end(token, started, code)

            return stream

        async def call(request: Any, context: grpc.aio.ServicerContext) -> Any:
            observed, token, started = await self._begin(context, streaming)
            code = grpc.StatusCode.UNKNOWN.name
            try:
                result = await behavior(request, observed)
                code = _code(context)
                return result
            except BaseException as exc:
                code = _failure_code(exc, observed)
                raise
            finally:
                self._end(token, started, code)

        return call

    async def _begin(self, context: grpc.aio.ServicerContext, streaming: bool) -> tuple[_ObservedContext, Any, float]:
        sent = next((value for key, value in context.invocation_metadata() or () if key == REQUEST_ID_KEY), None)
        request_id = request_id_from(sent)
        token = current_request_id.set(request_id)
        if self.metrics is not None:
            self._active.inc()
        started = time.perf_counter()
        observed = _ObservedContext(context, request_id)
        if streaming and not self.own_headers:  # the client has it at once, before the first message
            await observed.send_initial_metadata(())
        elif not streaming:  # sent with the status: initial metadata of its own would cost a unary call ~0.1 ms
            context.set_trailing_metadata(((REQUEST_ID_KEY, request_id),))
        return observed, token, started

    def _end(self, token: Any, started: float, code: str) -> None:
        seconds = time.perf_counter() - started
        if self.metrics is not None:
            self._active.dec()
            requests = self._by_code.get(code)
            if requests is None:
                requests = self._by_code[code] = self.metrics.rpc_requests.labels(self.service, self.method, code)
            requests.inc()
            self._duration.observe(seconds)
        if log.isEnabledFor(logging.DEBUG):
            log.debug("%s/%s %s %.3f ms", self.service, self.method, code, seconds * 1000)
        current_request_id.reset(token)


class _ObservedContext:
    """The servicer context as the handlers after the observer see it: an abort is remembered (grpc keeps no
    trace of its code) and keeps the request id in the trailing metadata."""

    __slots__ = ("_context", "_request_id", "aborted_with", "headers_sent")

    def __init__(self, context: grpc.aio.ServicerContext, request_id: str) -> None:
        self._context = context
        self._request_id = request_id
        self.aborted_with: grpc.StatusCode | None = None
        self.headers_sent = False

    def __getattr__(self, name: str) -> Any:
        return getattr(self._context, name)

    async def send_initial_metadata(self, initial_metadata: Any) -> None:
        """The response headers, with the request id."""
        self.headers_sent = True
        await self._context.send_initial_metadata((*tuple(initial_metadata), (REQUEST_ID_KEY, self._request_id)))

    async def abort(self, code: grpc.StatusCode, details: str = "", trailing_metadata: Any = ()) -> NoReturn:
        self.aborted_with = code
        metadata = tuple(trailing_metadata) or tuple(self._context.trailing_metadata() or ())
        if not any(key == REQUEST_ID_KEY for key, _ in metadata):
            metadata += ((REQUEST_ID_KEY, self._request_id),)
        await self._context.abort(code, details, metadata)
        raise AssertionError("unreachable: abort raises")

    async def abort_with_status(self, status: grpc.Status) -> NoReturn:
        await self.abort(status.code, status.details, status.trailing_metadata)


def _code(context: grpc.aio.ServicerContext) -> str:
    """The status a call ends with when its handler returned: OK unless it set another."""
    code = context.code()
    if code is None:
        return grpc.StatusCode.OK.name
    if isinstance(code, grpc.StatusCode):
        return code.name
    return _CODE_NAMES.get(int(code), grpc.StatusCode.UNKNOWN.name)


def _failure_code(exc: BaseException, context: _ObservedContext) -> str:
    """The status a call ends with when its handler raised ``exc``."""
    if isinstance(exc, grpc.aio.AbortError):
        code = context.aborted_with
        return code.name if isinstance(code, grpc.StatusCode) else grpc.StatusCode.UNKNOWN.name
    if isinstance(exc, asyncio.CancelledError):  # the client cancelled, its deadline passed, or the server stops
        remaining = context.time_remaining()
        expired = remaining is not None and remaining <= 0
        return (grpc.StatusCode.DEADLINE_EXCEEDED if expired else grpc.StatusCode.CANCELLED).name
    return grpc.StatusCode.UNKNOWN.name  # what grpc answers for an exception it is left with


# -- open gRPC connections: from grpc's channelz, the only place grpcio keeps them -----------------------------

try:  # grpcio's channelz queries (what the grpcio-channelz service serves); not a public API
    from grpc._cython.cygrpc import channelz_get_server_sockets, channelz_get_servers
except ImportError:  # pragma: no cover  (another grpcio: the count is reported as unknown)
    channelz_get_servers = channelz_get_server_sockets = None

#: Sockets asked for per channelz page.
_PAGE = 1000


def channelz_server_ids() -> set[int]:
    """The channelz ids of the gRPC servers of this process (empty if channelz cannot be queried)."""
    if channelz_get_servers is None:
        return set()
    ids: set[int] = set()
    start = 0
    while True:
        page = json.loads(channelz_get_servers(start))
        servers = page.get("server", [])
        ids.update(int(server["ref"]["serverId"]) for server in servers)
        if page.get("end", True) or not servers:
            return ids
        start = max(ids) + 1


def connection_counter(server_id: int | None) -> Callable[[], int | None]:
    """A function counting the connections the server with channelz id ``server_id`` holds now (None if
    it cannot tell)."""

    def count() -> int | None:
        if server_id is None or channelz_get_server_sockets is None:
            return None
        total, start = 0, 0
        try:
            while True:
                page = json.loads(channelz_get_server_sockets(server_id, start, _PAGE))
                sockets = page.get("socketRef", [])
                total += len(sockets)
                if page.get("end", True) or not sockets:
                    return total
                start = int(sockets[-1]["socketId"]) + 1
        except (ValueError, KeyError, RuntimeError):  # e.g. the server is gone
            return None

    return count
