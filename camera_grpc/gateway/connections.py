"""Connection-level limits of the gateway's HTTP server: a cap on open connections, a read timeout, and
accept errors logged once per interval.

uvicorn's own ``limit_concurrency`` is not used: it counts open connections (idle keep-alive ones too)
plus running requests and, past the limit, answers *every* request with 503 while keeping all the
connections open. A crowd of idle connections then locks out clients that were already connected,
and nothing frees their file descriptors. uvicorn also has no timeout for a connection that never
sends a (complete) request: its keep-alive timer only starts after a response, and any byte received
resets it.

:class:`LimitedH11Protocol` (uvicorn's h11 protocol, which serves the gateway) adds both:

- **a connection cap**: a connection accepted while ``max_connections`` are open gets a short 503 and
  is closed at once, so it holds no descriptor and the connections already open keep being served;
- **a read timeout**: from the moment a connection is made, or a new request on it starts, the whole
  request (headers and body) must arrive within ``read_timeout_s``, however it trickles in, or the
  connection is closed. Between requests uvicorn's keep-alive timeout applies.

:class:`AcceptErrorThrottle` is a loop exception handler: asyncio reports every failed ``accept()``
(``EMFILE`` "Too many open files" and the like; it retries each second) with a traceback through
``loop.call_exception_handler``; this lets one line through per interval, with the number of failures.
"""

from __future__ import annotations

import asyncio
import errno
import logging
import math
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, ClassVar

import h11
from uvicorn.protocols.http.h11_impl import H11Protocol

log = logging.getLogger(__name__)

#: Seconds between two log lines about refused connections or failed accepts.
LOG_INTERVAL_S = 60.0
#: ``accept()`` errors asyncio retries after a pause (selector_events ``_accept_connection``).
ACCEPT_RESOURCE_ERRNOS = frozenset({errno.EMFILE, errno.ENFILE, errno.ENOBUFS, errno.ENOMEM})
_REFUSED_BODY = b'{"detail":"too many open connections; retry later","code":null,"reason":null}'
#: What a connection over the cap gets before it is closed (an ErrorBody, as the gateway's other errors).
REFUSED_RESPONSE = (
    b"HTTP/1.1 503 Service Unavailable\r\n"
    b"Content-Type: application/json\r\n"
    b"Retry-After: 1\r\n"
    b"Connection: close\r\n"
    b"Content-Length: " + str(len(_REFUSED_BODY)).encode("ascii") + b"\r\n"
    b"\r\n" + _REFUSED_BODY
)
_REQUEST_IN_PROGRESS = (h11.IDLE, h11.SEND_BODY)


class Throttle:
    """Lets an event through at most once per ``interval_s``; counts the ones held back meanwhile."""

    def __init__(self, interval_s: float = LOG_INTERVAL_S, clock: Callable[[], float] = time.monotonic) -> None:
        self.interval_s = interval_s
        self._clock = clock
        self._next = -math.inf
        self.total = 0  #: events so far
        self._held_back = 0

    def tick(self) -> int | None:
        """Count one event: the number held back since the last one let through if this one goes through, else None."""
        self.total += 1
        now = self._clock()
        if now < self._next:
            self._held_back += 1
            return None
        self._next = now + self.interval_s
        held_back, self._held_back = self._held_back, 0
        return held_back


def _since(held_back: int) -> str:
    return f" ({held_back} more since the last message)" if held_back else ""


@dataclass
class ConnectionLimits:
    """The limits of one server, and what it refused."""

    max_connections: int
    read_timeout_s: float
    refused: Throttle = field(default_factory=Throttle)


class LimitedH11Protocol(H11Protocol):
    """uvicorn's h11 protocol with a cap on open connections and a read timeout (see the module)."""

    limits: ClassVar[ConnectionLimits]

    _read_timer: asyncio.TimerHandle | None = None
    _refused = False

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        if len(self.connections) > self.limits.max_connections:
            self._refused = True
            held_back = self.limits.refused.tick()
            if held_back is not None:
                log.warning(
                    "REST gateway: refused a connection from %s: %d connections are open (REST_MAX_CONNECTIONS)%s",
                    self.client[0] if self.client else "?",
                    self.limits.max_connections,
                    _since(held_back),
                )
            transport.write(REFUSED_RESPONSE)
            transport.close()
            return
        self._start_read_timer()

    def data_received(self, data: bytes) -> None:
        if self._refused:
            return
        if self._read_timer is None and self.conn.their_state in _REQUEST_IN_PROGRESS:
            self._start_read_timer()  # a new request starts (uvicorn has just stopped its keep-alive timer)
        super().data_received(data)
        if self.conn.their_state not in _REQUEST_IN_PROGRESS:
            self._stop_read_timer()  # the whole request is in

    def connection_lost(self, exc: Exception | None) -> None:
        self._stop_read_timer()
        super().connection_lost(exc)

    def _start_read_timer(self) -> None:
        if not self.transport.is_closing():
            self._read_timer = self.loop.call_later(self.limits.read_timeout_s, self._read_timed_out)

    def _stop_read_timer(self) -> None:
        if self._read_timer is not None:
            self._read_timer.cancel()
            self._read_timer = None

    def _read_timed_out(self) -> None:
        self._read_timer = None
        if not self.transport.is_closing():
            log.debug("REST gateway: closing a connection that sent no complete request in time")
            self.transport.close()


def limited_protocol(limits: ConnectionLimits) -> type[LimitedH11Protocol]:
    """A :class:`LimitedH11Protocol` class for one server (uvicorn's ``http=``), with its own limits."""
    return type("LimitedH11Protocol", (LimitedH11Protocol,), {"limits": limits})


class AcceptErrorThrottle:
    """An event loop exception handler: failed ``accept()`` calls are logged once per interval, with a count;
    anything else goes to the handler that was there before (or the loop's default)."""

    def __init__(
        self,
        previous: Callable[[asyncio.AbstractEventLoop, dict[str, Any]], object] | None,
        interval_s: float = LOG_INTERVAL_S,
    ) -> None:
        self.previous = previous
        self.throttle = Throttle(interval_s)

    @property
    def failures(self) -> int:
        """``accept()`` failures seen so far."""
        return self.throttle.total

    def __call__(self, loop: asyncio.AbstractEventLoop, context: dict[str, Any]) -> None:
        exc = context.get("exception")
        if (
            isinstance(exc, OSError)
            and exc.errno in ACCEPT_RESOURCE_ERRNOS
            and str(context.get("message", "")).startswith("socket.accept()")
        ):
            held_back = self.throttle.tick()
            if held_back is not None:
                log.error(
                    "REST gateway: cannot accept connections: [Errno %d] %s; retrying every second%s. "
                    "Raise the open files limit (ulimit -n) or lower REST_MAX_CONNECTIONS",
                    exc.errno,
                    exc.strerror,
                    _since(held_back),
                )
            return
        if self.previous is not None:
            self.previous(loop, context)
        else:
            loop.default_exception_handler(context)
