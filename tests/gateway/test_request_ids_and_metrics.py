"""The gateway's X-Request-ID (returned, and sent on to gRPC) and the service's /metrics served as one of its routes."""

from __future__ import annotations

import contextlib
import logging
import re
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path

import httpx
import pytest

from camera_grpc.auth import Role
from camera_grpc.gateway.server import GatewayServer
from camera_grpc.logs import RequestIdFilter
from tests.gateway.conftest import RunningGateway
from tests.support import RunningService, ServiceFactory
from tests.support.tokens import role_tokens

GENERATED = re.compile(r"[0-9a-f]{32}")
SMALL_CAMERA = {"simulated_width": 64, "simulated_height": 48}
MetricsGateway = Callable[..., Awaitable[tuple[GatewayServer, httpx.AsyncClient]]]


async def test_every_response_carries_its_request_id(gateway: RunningGateway) -> None:
    sent = await gateway.http.get("/settings", headers={"X-Request-ID": "nest-req-1"})
    assert sent.status_code == 200 and sent.headers["x-request-id"] == "nest-req-1"
    made = [await gateway.http.get("/settings") for _ in range(2)]
    assert all(GENERATED.fullmatch(response.headers["x-request-id"]) for response in made)
    assert made[0].headers["x-request-id"] != made[1].headers["x-request-id"]
    implausible = await gateway.http.get("/settings", headers={"X-Request-ID": "x" * 200})
    assert GENERATED.fullmatch(implausible.headers["x-request-id"])
    # errors too, those of the middleware included
    assert GENERATED.fullmatch((await gateway.http.get("/captures/capture_none.jpg")).headers["x-request-id"])
    refused_host = await gateway.http.get("/settings", headers={"Host": "rebound.example", "X-Request-ID": "h-1"})
    assert refused_host.status_code == 400 and refused_host.headers["x-request-id"] == "h-1"
    async with gateway.http.stream("GET", "/stream.mjpg", headers={"X-Request-ID": "view-1"}) as live:
        assert live.status_code == 200 and live.headers["x-request-id"] == "view-1"


async def test_the_request_id_goes_with_the_grpc_calls_it_makes(
    gateway: RunningGateway, caplog: pytest.LogCaptureFixture
) -> None:
    call_log = logging.getLogger("camera_grpc.rpc.metrics")  # the service's DEBUG line per call
    request_ids = RequestIdFilter()
    call_log.addFilter(request_ids)  # as the command's handler does: the id of the context the line is written in
    try:
        with caplog.at_level(logging.DEBUG, logger="camera_grpc.rpc.metrics"):
            await gateway.http.get("/settings", headers={"X-Request-ID": "rest-to-grpc"})
            await gateway.http.get("/health", headers={"X-Request-ID": "probe-1"})
            generated = (await gateway.http.get("/camera")).headers["x-request-id"]
    finally:
        call_log.removeFilter(request_ids)
    calls = {(getattr(record, "request_id", None), record.getMessage().split()[0]) for record in caplog.records}
    assert ("rest-to-grpc", "camera.v1.CameraService/GetSettings") in calls
    assert ("probe-1", "grpc.health.v1.Health/Check") in calls
    assert (generated, "camera.v1.CameraService/GetCameraInfo") in calls


@pytest.fixture
async def metrics_gateway() -> AsyncIterator[MetricsGateway]:
    """Gateways serving their service's registry at /metrics, as ``camera-grpc`` composes them."""
    stack = contextlib.AsyncExitStack()

    async def start(service: RunningService, **overrides: object) -> tuple[GatewayServer, httpx.AsyncClient]:
        metrics = service.runtime.metrics
        assert metrics is not None
        settings = service.settings.model_copy(update={"host": "127.0.0.1", "port": 0, **overrides})
        server = GatewayServer(settings, service.address, extra_routes={"/metrics": metrics.asgi_app()})
        metrics.follow_connections("http", lambda: server.open_connections)
        await server.start()
        stack.push_async_callback(server.stop)
        http = httpx.AsyncClient(base_url=server.url, timeout=30)
        stack.push_async_callback(http.aclose)
        return server, http

    async with stack:
        yield start


async def test_metrics_are_served_on_the_rest_port(
    start_service: ServiceFactory, metrics_gateway: MetricsGateway
) -> None:
    service = await start_service(**SMALL_CAMERA)
    server, http = await metrics_gateway(service)
    for _ in range(3):
        assert (await http.get("/settings")).status_code == 200
    response = await http.get("/metrics", headers={"Host": f"127.0.0.1:{server.port}"})  # a Prometheus on loopback
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain")
    text = response.text
    calls = 'camera_grpc_rpc_requests_total{code="OK",method="GetSettings",service="camera.v1.CameraService"}'
    assert f"{calls} 3.0" in text
    assert "camera_grpc_camera_connected 1.0" in text
    assert re.search(r'camera_grpc_open_connections\{protocol="http"\} [1-9]', text)
    assert re.search(r'camera_grpc_open_connections\{protocol="grpc"\} [1-9]', text)
    assert "process_open_fds" in text
    assert "/metrics" not in (await http.get("/openapi.json")).json()["paths"]
    assert (await http.get("/metrics", headers={"Host": "rebound.example"})).status_code == 400  # DNS rebinding
    assert (await http.post("/metrics")).status_code == 405


async def test_metrics_need_a_viewer_token_when_tokens_are_on(
    start_service: ServiceFactory, metrics_gateway: MetricsGateway, tmp_path: Path
) -> None:
    tokens = role_tokens(tmp_path / "tokens")
    service = await start_service(tokens_file=tokens.path, **SMALL_CAMERA)
    _, http = await metrics_gateway(service)
    assert (await http.get("/metrics")).status_code == 401
    assert (await http.get("/metrics", headers={"Authorization": "Bearer not-a-token"})).status_code == 401
    viewer = await http.get("/metrics", headers=tokens.header(Role.VIEWER))
    assert viewer.status_code == 200 and "camera_grpc_rpc_requests_total" in viewer.text


async def test_a_gateway_without_the_service_serves_no_metrics(gateway: RunningGateway) -> None:
    assert (await gateway.http.get("/metrics")).status_code == 404
