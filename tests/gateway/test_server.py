"""Serving details: Nagle off on accepted connections, and settings answered while the camera is busy."""

from __future__ import annotations

import asyncio
import socket

import pytest

from camera_grpc.client import loopback_target
from camera_grpc.gateway.server import bind_socket
from tests.gateway.conftest import RunningGateway


async def test_connections_accepted_on_the_gateway_socket_have_nagle_off() -> None:
    """Without TCP_NODELAY every keep-alive response written in two parts waits ~40 ms for a delayed ACK."""
    accepted: asyncio.Future[socket.socket] = asyncio.get_running_loop().create_future()

    class Probe(asyncio.Protocol):
        def connection_made(self, transport: asyncio.BaseTransport) -> None:
            accepted.set_result(transport.get_extra_info("socket"))

    sock = bind_socket("127.0.0.1", 0)
    server = await asyncio.get_running_loop().create_server(Probe, sock=sock)
    try:
        _, writer = await asyncio.open_connection("127.0.0.1", sock.getsockname()[1])
        server_side = await asyncio.wait_for(accepted, 5)
        assert server_side.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY) == 1
        writer.close()
    finally:
        server.close()
        await server.wait_closed()


def test_a_busy_port_is_a_clear_error() -> None:
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        with pytest.raises(OSError, match=f"could not bind the REST gateway to 127.0.0.1:{port}"):
            bind_socket("127.0.0.1", port)


@pytest.mark.parametrize(
    ("host", "target"),
    [("127.0.0.1", "127.0.0.1:5"), ("0.0.0.0", "127.0.0.1:5"), ("::", "[::1]:5"), ("::1", "[::1]:5"), ("cam", "cam:5")],
)
def test_the_in_process_gateway_reaches_grpc_on_loopback(host: str, target: str) -> None:
    assert loopback_target(host, 5) == target


async def test_settings_are_answered_while_a_long_capture_is_exposing(gateway: RunningGateway) -> None:
    capture = asyncio.ensure_future(gateway.http.post("/capture", json={"exposure": 3000.0}))
    await asyncio.sleep(0.3)  # the camera is now exposing for 3 s
    assert not capture.done()
    settings = await gateway.http.get("/settings", timeout=1.0)  # does not wait for the exposure
    assert settings.status_code == 200
    assert settings.json()["exposure"] == pytest.approx(3000.0) and settings.json()["connected"] is True
    health = await gateway.http.get("/health/ready", timeout=1.0)
    assert health.status_code == 200
    assert (await capture).status_code == 200
