"""Gateway fixtures: the real gRPC service (port 0), then the real gateway served by uvicorn on port 0 in the
same event loop, reached with httpx over TCP."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass

import httpx
import pytest

from camera_grpc.gateway.server import GatewayServer
from tests.support import RunningService, ServiceFactory

#: Timeout of the test's HTTP client, seconds (generous: a failing test should fail on its assertion).
HTTP_TIMEOUT_S = 30.0


@dataclass
class RunningGateway:
    """A gateway in front of a service, and an HTTP client for it."""

    service: RunningService
    server: GatewayServer
    http: httpx.AsyncClient

    @property
    def url(self) -> str:
        return self.server.url

    @property
    def port(self) -> int:
        return self.server.port


GatewayFactory = Callable[..., Awaitable[RunningGateway]]


@pytest.fixture
async def start_gateway(start_service: ServiceFactory) -> AsyncIterator[GatewayFactory]:
    """Start gateways: ``start(service=None, target=None, **settings overrides)``; all stopped at teardown.

    Without ``service`` a default service is started; without ``target`` the gateway
    connects to that service's port (its own channel, as in production).
    """
    stack = contextlib.AsyncExitStack()

    async def start(
        service: RunningService | None = None, target: str | None = None, **overrides: object
    ) -> RunningGateway:
        service = service or await start_service()
        settings = service.settings.model_copy(update={"host": "127.0.0.1", "port": 0, **overrides})
        server = GatewayServer(settings, target or service.address)
        await server.start()
        stack.push_async_callback(server.stop)
        http = httpx.AsyncClient(base_url=server.url, timeout=HTTP_TIMEOUT_S)
        stack.push_async_callback(http.aclose)
        return RunningGateway(service, server, http)

    async with stack:
        yield start


@pytest.fixture
async def gateway(start_gateway: GatewayFactory) -> RunningGateway:
    """A gateway in front of a service on the default simulated camera (2448x2048 mono8, exposure 2 ms)."""
    return await start_gateway()
