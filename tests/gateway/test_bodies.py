"""Request bodies are small: one over REST_MAX_BODY_BYTES is refused with 413 before it is read (by its
Content-Length), or as soon as the bytes received pass the limit (chunked)."""

from __future__ import annotations

import asyncio
import json

from camera_grpc.gen.camera.v1 import camera_pb2 as pb
from tests.gateway.conftest import GatewayFactory, RunningGateway

#: Failure deadline of one exchange, seconds.
ANSWER_TIMEOUT_S = 10


async def read_response(reader: asyncio.StreamReader) -> tuple[int, dict[str, str], bytes]:
    """Status, headers and body of one HTTP/1.1 response with a Content-Length."""
    head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), ANSWER_TIMEOUT_S)
    status_line, *lines = head.decode("latin-1").strip().split("\r\n")
    headers = {name.lower(): value.strip() for name, _, value in (line.partition(":") for line in lines)}
    body = await asyncio.wait_for(reader.readexactly(int(headers["content-length"])), ANSWER_TIMEOUT_S)
    return int(status_line.split()[1]), headers, body


async def test_a_huge_declared_body_is_413_before_it_is_sent(gateway: RunningGateway) -> None:
    before = await gateway.service.stub.GetSettings(pb.GetSettingsRequest())
    reader, writer = await asyncio.open_connection("127.0.0.1", gateway.port)
    try:
        writer.write(
            b"PUT /settings HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\n"
            b"Content-Length: 104857600\r\n\r\n" + b'{"exposure": 5, "padding": "' + b"x" * 1000
        )  # 100 MB announced, 1 KB sent: the answer cannot wait for the rest
        await writer.drain()
        status, headers, body = await read_response(reader)
        assert status == 413
        assert headers["connection"] == "close"
        assert json.loads(body) == {
            "detail": "the request body is larger than 65536 bytes",
            "code": None,
            "reason": None,
        }
        assert await asyncio.wait_for(reader.read(), ANSWER_TIMEOUT_S) == b""  # and the connection is closed
    finally:
        writer.close()
    assert await gateway.service.stub.GetSettings(pb.GetSettingsRequest()) == before


async def test_a_chunked_body_is_cut_off_at_the_limit(start_gateway: GatewayFactory) -> None:
    gateway = await start_gateway(rest_max_body_bytes=4096)
    reader, writer = await asyncio.open_connection("127.0.0.1", gateway.port)
    try:
        writer.write(
            b"POST /capture HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\n"
            b"Transfer-Encoding: chunked\r\n\r\n" + b"400\r\n" + b"x" * 1024 + b"\r\n"
        )
        for _ in range(7):  # 8 KiB in all, no last chunk: the body goes on, as far as the server knows
            await writer.drain()
            writer.write(b"400\r\n" + b" " * 1024 + b"\r\n")
        await writer.drain()
        status, headers, body = await read_response(reader)
    finally:
        writer.close()
    assert status == 413, body
    assert headers["connection"] == "close"
    assert json.loads(body)["detail"] == "the request body is larger than 4096 bytes"
    assert list(gateway.service.captures.glob("*")) == []


async def test_small_bodies_pass_chunked_or_not(start_gateway: GatewayFactory) -> None:
    gateway = await start_gateway(rest_max_body_bytes=1024)

    async def chunks() -> object:
        yield b'{"exposure": 3.5,'
        yield b' "gain": 2.0}'

    response = await gateway.http.put("/settings", content=chunks(), headers={"Content-Type": "application/json"})
    assert response.status_code == 200, response.text
    assert (response.json()["exposure"], response.json()["gain"]) == (3.5, 2.0)
    response = await gateway.http.put("/settings", json={"gain": 1.0, "exposure": 4.0})
    assert response.status_code == 200
    too_large = await gateway.http.put("/settings", json={"gain": 1.0, "padding": "x" * 1024})
    assert too_large.status_code == 413
