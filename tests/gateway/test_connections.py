"""Connections the gateway's HTTP server must survive: a crowd of idle ones, ones that never finish a
request, and running out of file descriptors. Real sockets against the real uvicorn server."""

from __future__ import annotations

import asyncio
import logging
import os
import resource
import socket
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path

import httpx
import pytest

from camera_grpc.gateway.server import GatewayServer
from tests.gateway.conftest import GatewayFactory
from tests.gateway.test_stream import mjpeg_parts
from tests.support import closed_port, eventually, make_settings

REFUSED = b"HTTP/1.1 503 Service Unavailable\r\n"


class RawConnection:
    """A TCP connection to the gateway; everything it receives, until the server closes it, is collected."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.writer = writer
        self.received = b""
        self.closed_by_server = asyncio.ensure_future(self._read(reader))

    async def _read(self, reader: asyncio.StreamReader) -> None:
        try:
            while chunk := await reader.read(65536):
                self.received += chunk
        except ConnectionError:
            pass

    @property
    def refused(self) -> bool:
        return self.closed_by_server.done() and self.received.startswith(REFUSED)

    async def send(self, data: bytes) -> None:
        self.writer.write(data)
        await self.writer.drain()

    def close(self) -> None:
        self.writer.close()
        self.closed_by_server.cancel()


Connect = Callable[[int, int], Awaitable[list[RawConnection]]]


@pytest.fixture
async def connect() -> AsyncIterator[Connect]:
    """``await connect(port, count)``: that many raw connections; all closed at teardown."""
    opened: list[RawConnection] = []

    async def open_many(port: int, count: int) -> list[RawConnection]:
        connections = []
        for _ in range(count):
            connection = RawConnection(*await asyncio.open_connection("127.0.0.1", port))
            connections.append(connection)
            opened.append(connection)
        return connections

    try:
        yield open_many
    finally:
        for connection in opened:
            connection.close()


async def test_connections_beyond_the_cap_are_refused_at_once_and_clients_already_connected_are_served(
    start_gateway: GatewayFactory, connect: Connect
) -> None:
    """uvicorn's limit_concurrency would answer the connected client's requests with 503 and keep the crowd."""
    cap = 50
    gateway = await start_gateway(rest_max_connections=cap, rest_read_timeout_s=60, rest_keepalive_timeout_s=60)
    live = await gateway.http.send(gateway.http.build_request("GET", "/stream.mjpg?max_width=160"), stream=True)
    parts = mjpeg_parts(live)
    await anext(parts)
    assert (await gateway.http.get("/health")).status_code == 200  # and a second, idle keep-alive connection
    already_open = 2

    crowd = await connect(gateway.port, 200)
    await eventually(lambda: sum(c.refused for c in crowd) == 200 - (cap - already_open), what="refusals")
    admitted = [c for c in crowd if not c.refused]
    assert not any(c.closed_by_server.done() for c in admitted)  # idle, and within the read timeout
    assert gateway.server.open_connections == cap

    # The clients that were connected are served as before.
    for _ in range(3):
        response = await gateway.http.get("/settings")
        assert response.status_code == 200
        await anext(parts)
    # A new one is turned away (503, or the connection closed under it), not queued.
    async with httpx.AsyncClient(base_url=gateway.url, timeout=10) as newcomer:
        try:
            refused = await newcomer.get("/health")
        except httpx.TransportError:
            pass
        else:
            assert refused.status_code == 503 and refused.headers["retry-after"] == "1"

    # Once the crowd is gone, new clients are served again.
    for connection in admitted:
        connection.close()
    await eventually(lambda: gateway.server.open_connections == already_open, what="the crowd's connections closed")
    async with httpx.AsyncClient(base_url=gateway.url, timeout=10) as newcomer:
        assert (await newcomer.get("/health")).status_code == 200
    await live.aclose()


async def test_connections_that_never_finish_a_request_and_idle_keep_alive_ones_are_closed(
    start_gateway: GatewayFactory, connect: Connect
) -> None:
    """Without a read timeout uvicorn keeps a silent connection (and a slow-headers one) open forever."""
    cap = 50
    gateway = await start_gateway(rest_max_connections=cap, rest_read_timeout_s=0.5, rest_keepalive_timeout_s=0.5)
    silent = await connect(gateway.port, 40)
    partial = await connect(gateway.port, 5)
    for connection in partial:
        await connection.send(b"GET /health HTTP/1.1\r\nHost: localhost\r\n")  # ... and never the blank line
    slow_body = await connect(gateway.port, 2)
    for connection in slow_body:
        head = b"PUT /settings HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\nContent-Length: 20\r\n"
        await connection.send(head + b"\r\n{")  # ... and never the rest of the body
    kept_alive = await connect(gateway.port, 2)
    for connection in kept_alive:
        await connection.send(b"GET /health HTTP/1.1\r\nHost: localhost\r\n\r\n")  # answered, then idle
    trickler = (await connect(gateway.port, 1))[0]

    async def trickle() -> None:  # a byte every 50 ms: each byte would restart a keep-alive timer
        for byte in b"GET /health HTTP/1.1\r\nHost: localhost\r\nX-Padding: " + b"a" * 10_000:
            if trickler.closed_by_server.done():
                return
            await trickler.send(bytes([byte]))
            await asyncio.sleep(0.05)

    trickling = asyncio.ensure_future(trickle())
    crowd = await connect(gateway.port, 150)
    everyone = silent + partial + slow_body + kept_alive + [trickler] + crowd
    try:
        await eventually(lambda: all(c.closed_by_server.done() for c in everyone), what="every connection closed")
    finally:
        trickling.cancel()
    for connection in silent + partial + slow_body + [trickler]:
        assert connection.received == b""  # closed without an answer
    for connection in crowd:
        assert connection.refused or connection.received == b""
    for connection in kept_alive:
        assert connection.received.startswith(b"HTTP/1.1 200 OK\r\n")
    await eventually(lambda: gateway.server.open_connections == 0, what="no connection left")
    async with httpx.AsyncClient(base_url=gateway.url, timeout=10) as client:
        assert (await client.get("/health")).status_code == 200


@pytest.fixture
async def lone_gateway() -> AsyncIterator[GatewayServer]:
    """A gateway in front of nothing (it makes no gRPC call here), so no other thread of this process needs
    a file descriptor while the test takes them all away."""
    gateway = GatewayServer(
        make_settings(Path("/nonexistent"), rest_max_connections=1000), f"127.0.0.1:{closed_port()}", port=0
    )
    await gateway.start()
    try:
        yield gateway
    finally:
        await gateway.stop()


async def test_running_out_of_file_descriptors_is_logged_once_not_once_per_accept_attempt(
    lone_gateway: GatewayServer, caplog: pytest.LogCaptureFixture
) -> None:
    """asyncio logs every failed accept() with a traceback: up to the backlog (uvicorn's: 2048) each second."""
    caplog.set_level(logging.INFO)
    clients = [socket.socket(socket.AF_INET, socket.SOCK_STREAM) for _ in range(3)]
    for client in clients:
        client.setblocking(False)
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    lowest_free = os.open(os.devnull, os.O_RDONLY)  # the next descriptor number; none may be made from here on
    os.close(lowest_free)
    accept_errors = lone_gateway.accept_errors
    assert accept_errors is not None
    resource.setrlimit(resource.RLIMIT_NOFILE, (lowest_free, hard))
    try:
        for client in clients:
            client.connect_ex(("127.0.0.1", lone_gateway.port))  # completes in the kernel's backlog
        await eventually(lambda: accept_errors.failures >= 3, what="three failed accept() calls")
    finally:
        resource.setrlimit(resource.RLIMIT_NOFILE, (soft, hard))
    try:
        # Descriptors again: the waiting connections are accepted at the next retry.
        await eventually(lambda: lone_gateway.open_connections == len(clients), what="the connections accepted")
    finally:
        for client in clients:
            client.close()
    from_asyncio = [record for record in caplog.records if "out of system resource" in record.getMessage()]
    assert from_asyncio == []
    ours = [record for record in caplog.records if "cannot accept connections" in record.getMessage()]
    assert len(ours) == 1
    assert "Too many open files" in ours[0].getMessage() and ours[0].exc_info is None
