"""Serving the gateway with uvicorn, inside an existing event loop.

:class:`GatewayServer` binds its socket when created (so a busy port fails
before anything starts, and port 0 is resolved at once), then runs uvicorn's
``Server.serve`` as a task of the current loop, next to the gRPC server when
``camera-grpc`` serves both. Signals are left to the host: the caller decides
when to :meth:`GatewayServer.stop`. :func:`run_gateway` runs the gateway alone
(``camera-grpc gateway --target``) until SIGINT/SIGTERM.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
import socket
from collections.abc import Iterator, Mapping
from typing import Any

import grpc
import uvicorn
from starlette.types import ASGIApp

from camera_grpc.auth import Authenticator
from camera_grpc.config import Settings, check_network_exposure
from camera_grpc.gateway.app import create_app
from camera_grpc.gateway.connections import AcceptErrorThrottle, ConnectionLimits, limited_protocol
from camera_grpc.tls import ServerTls

log = logging.getLogger(__name__)

#: How long start() waits for uvicorn to accept connections, seconds.
START_TIMEOUT_S = 10.0


class _EmbeddedServer(uvicorn.Server):
    """uvicorn without its own signal handlers (the process that embeds it handles signals), and with a TLS
    handshake timeout.

    uvicorn gives asyncio no handshake timeout (its default is 60 s), and a connection is counted by the
    connection cap only once its handshake is done: the handshake must end within ``tls_handshake_timeout_s``
    (``REST_READ_TIMEOUT_S``), so connections that never finish it cannot pile up.
    """

    def __init__(self, config: uvicorn.Config, *, tls_handshake_timeout_s: float) -> None:
        super().__init__(config)
        self._tls_handshake_timeout_s = tls_handshake_timeout_s

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        yield

    async def startup(self, sockets: list[socket.socket] | None = None) -> None:
        loop = asyncio.get_running_loop()
        create_server = loop.create_server

        def with_handshake_timeout(*args: Any, **kwargs: Any) -> Any:
            if kwargs.get("ssl") is not None:
                kwargs.setdefault("ssl_handshake_timeout", self._tls_handshake_timeout_s)
            return create_server(*args, **kwargs)

        loop.create_server = with_handshake_timeout  # type: ignore[method-assign]  # uvicorn's calls, meanwhile
        try:
            await super().startup(sockets)
        finally:
            del loop.create_server  # the loop's own method again


def bind_socket(host: str, port: int) -> socket.socket:
    """A TCP socket bound to ``host:port`` (port 0: any free port), ready for uvicorn.

    Created with an explicit IPPROTO_TCP: asyncio turns Nagle's algorithm off
    (TCP_NODELAY) only on connections of such sockets, and with it on, a
    response written in two parts waits ~40 ms for the client's delayed ACK
    on every keep-alive request.
    """
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((host, port))
    except OSError as exc:
        sock.close()
        raise OSError(exc.errno, f"could not bind the REST gateway to {host}:{port}: {exc.strerror}") from None
    return sock


class GatewayServer:
    """The gateway app served by uvicorn on a socket bound at creation."""

    def __init__(
        self,
        settings: Settings,
        channel_or_target: grpc.aio.Channel | str,
        *,
        host: str | None = None,
        port: int | None = None,
        authenticator: Authenticator | None = None,
        tls: ServerTls | None = None,
        credentials: grpc.ChannelCredentials | None = None,
        extra_routes: Mapping[str, ASGIApp] | None = None,
    ) -> None:
        """``authenticator`` and ``tls`` (HTTPS with the TLS files): default from the settings (ConfigurationError
        if their files are unusable); ``credentials``: of the channel to the camera service (TLS), if any;
        ``extra_routes``: ASGI apps served at these paths (see :func:`~camera_grpc.gateway.app.create_app`)."""
        self.host = settings.host if host is None else host
        authenticator = authenticator if authenticator is not None else Authenticator.from_settings(settings)
        self.tls = tls if tls is not None else ServerTls.from_settings(settings)
        self._socket = bind_socket(self.host, settings.port if port is None else port)
        self.port: int = self._socket.getsockname()[1]
        self.app = create_app(
            settings,
            channel_or_target,
            host=self.host,
            authenticator=authenticator,
            credentials=credentials,
            extra_routes=extra_routes,
        )
        self.limits = ConnectionLimits(settings.rest_max_connections, settings.rest_read_timeout_s)
        config = uvicorn.Config(
            self.app,
            http=limited_protocol(self.limits),  # h11 with a connection cap and a read timeout
            lifespan="on",
            log_config=None,  # keep the process's logging set-up
            access_log=settings.debug,
            ws="none",
            timeout_keep_alive=settings.rest_keepalive_timeout_s,  # type: ignore[arg-type]  # any number works
            timeout_graceful_shutdown=max(settings.shutdown_grace_s, 0.1),
            # HTTPS: a context of ours, which serves the TLS files as they are at each handshake (rotation).
            ssl_context_factory=(lambda config, default: self.tls.ssl_context()) if self.tls is not None else None,
        )
        self._server = _EmbeddedServer(config, tls_handshake_timeout_s=settings.rest_read_timeout_s)
        self._task: asyncio.Task[None] | None = None
        self.accept_errors: AcceptErrorThrottle | None = None

    @property
    def open_connections(self) -> int:
        """HTTP connections open now (those being refused over the cap included, until closed)."""
        return len(self._server.server_state.connections)

    @property
    def url(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"{'https' if self.tls is not None else 'http'}://{host}:{self.port}"

    async def start(self) -> None:
        """Start serving; returns once connections are accepted.

        Also installs an :class:`AcceptErrorThrottle` on the loop (removed by :meth:`stop`), so failed
        accepts (too many open files) are logged once a minute rather than each second with a traceback.
        """
        loop = asyncio.get_running_loop()
        self.accept_errors = AcceptErrorThrottle(loop.get_exception_handler())
        loop.set_exception_handler(self.accept_errors)
        self._task = loop.create_task(self._server.serve(sockets=[self._socket]))
        deadline = asyncio.get_running_loop().time() + START_TIMEOUT_S
        while not self._server.started:
            if self._task.done():
                self._task.result()  # raises what stopped it
                raise RuntimeError("the REST gateway stopped while starting")
            if asyncio.get_running_loop().time() > deadline:
                raise TimeoutError("the REST gateway did not start in time")
            await asyncio.sleep(0.01)

    async def stop(self) -> None:
        """Stop accepting, let running requests finish (up to the shutdown grace), close the channel it opened."""
        self._server.should_exit = True
        if self._task is not None:
            await self._task
        self._socket.close()
        loop = asyncio.get_running_loop()
        if self.accept_errors is not None and loop.get_exception_handler() is self.accept_errors:
            loop.set_exception_handler(self.accept_errors.previous)


async def run_gateway(settings: Settings, target: str, credentials: grpc.ChannelCredentials | None = None) -> None:
    """Serve the gateway alone, in front of the camera service at ``target`` (reached with ``credentials``, if
    any), until SIGINT/SIGTERM."""
    exposure = check_network_exposure(settings, grpc=False, rest=True)  # ConfigurationError
    if exposure is not None:
        log.warning("%s", exposure)
    gateway = GatewayServer(settings, target, credentials=credentials)
    await gateway.start()
    log.info("REST gateway listening on %s (camera service: %s; docs: /docs, viewer: /)", gateway.url, target)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, stop.set)
    try:
        await stop.wait()
    finally:
        log.info("shutting down the REST gateway (grace %.1f s)", settings.shutdown_grace_s)
        await gateway.stop()
        for signum in (signal.SIGINT, signal.SIGTERM):
            with contextlib.suppress(Exception):
                loop.remove_signal_handler(signum)
        log.info("stopped")
