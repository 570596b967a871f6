"""GET /stream.mjpg: multipart MJPEG fed by the Frames RPC; leaving ends the subscription."""

from __future__ import annotations

import io
from collections.abc import AsyncIterator
from dataclasses import dataclass

import httpx
import numpy as np
from PIL import Image

from tests.gateway.conftest import GatewayFactory, RunningGateway
from tests.support import eventually

BOUNDARY = b"--frame\r\n"


@dataclass
class Part:
    headers: dict[str, str]
    body: bytes


async def mjpeg_parts(response: httpx.Response) -> AsyncIterator[Part]:
    """Parse a multipart/x-mixed-replace body as it arrives, whatever the chunking."""
    buffer = b""
    chunks = response.aiter_bytes()

    async def more() -> bytes:
        return await anext(chunks)

    while True:
        while b"\r\n\r\n" not in buffer:
            try:
                buffer += await more()
            except StopAsyncIteration:
                assert buffer == b"", "the stream ended inside a part"
                return
        head, _, buffer = buffer.partition(b"\r\n\r\n")
        assert head.startswith(BOUNDARY), head[:40]
        headers = {}
        for line in head[len(BOUNDARY) :].decode("ascii").split("\r\n"):
            name, _, value = line.partition(": ")
            headers[name.lower()] = value
        length = int(headers["content-length"])
        while len(buffer) < length + 2:
            buffer += await more()
        body, trailer, buffer = buffer[:length], buffer[length : length + 2], buffer[length + 2 :]
        assert trailer == b"\r\n"
        yield Part(headers, body)


async def test_the_stream_is_multipart_jpeg_of_live_downscaled_frames(gateway: RunningGateway) -> None:
    await gateway.http.put("/settings", json={"exposure": 40.0})  # bright enough to see the pattern move
    async with gateway.http.stream("GET", "/stream.mjpg", params={"max_width": 320, "quality": 80}) as response:
        assert response.status_code == 200
        assert response.headers["content-type"] == "multipart/x-mixed-replace; boundary=frame"
        assert "no-store" in response.headers["cache-control"]
        parts = []
        async for part in mjpeg_parts(response):
            parts.append(part)
            if len(parts) == 5:
                break
    numbers = [int(part.headers["x-frame-number"]) for part in parts]
    assert numbers == sorted(numbers) and len(set(numbers)) == 5
    images = []
    for part in parts:
        assert part.headers["content-type"] == "image/jpeg"
        with Image.open(io.BytesIO(part.body)) as image:
            assert image.format == "JPEG"
            assert image.size == (320, 268)  # 2448x2048 scaled to 320 wide
            images.append(np.asarray(image, dtype=np.int16))
    assert np.abs(images[0] - images[-1]).mean() > 5  # the pattern moves: the view is live
    await eventually(lambda: gateway.service.runtime.frames.subscriber_count == 0)


async def test_closing_the_connection_ends_the_subscription(gateway: RunningGateway) -> None:
    frames = gateway.service.runtime.frames
    clients = [httpx.AsyncClient(base_url=gateway.url, timeout=10) for _ in range(3)]
    responses = []
    try:
        for client in clients:
            request = client.build_request("GET", "/stream.mjpg", params={"max_width": 160})
            response = await client.send(request, stream=True)
            assert response.status_code == 200
            parts = mjpeg_parts(response)
            await anext(parts)
            responses.append((response, parts))
        assert frames.subscriber_count == 3
        await responses[0][0].aclose()  # one tab closed: only its subscription ends
        await eventually(lambda: frames.subscriber_count == 2)
    finally:
        for client in clients:
            await client.aclose()
    await eventually(lambda: frames.subscriber_count == 0)


async def test_the_stream_ends_when_the_camera_is_unplugged(gateway: RunningGateway) -> None:
    async with gateway.http.stream("GET", "/stream.mjpg", params={"max_width": 160}) as response:
        parts = mjpeg_parts(response)
        await anext(parts)
        gateway.service.camera.unplug()
        received = 0
        async for _ in parts:
            received += 1
    assert received < 100  # ended, rather than running on
    assert gateway.service.runtime.frames.subscriber_count == 0
    assert (await gateway.http.get("/stream.mjpg")).status_code == 503
    gateway.service.camera.replug()


async def test_one_client_address_cannot_take_every_stream(start_gateway: GatewayFactory) -> None:
    """Per client address at most REST_MAX_STREAMS_PER_CLIENT (429), all together REST_MAX_STREAMS (503)."""
    gateway = await start_gateway(rest_max_streams_per_client=2, rest_max_streams=3)
    frames = gateway.service.runtime.frames
    other = httpx.AsyncClient(  # a second client, from another loopback address
        base_url=gateway.url, timeout=10, transport=httpx.AsyncHTTPTransport(local_address="127.0.0.2")
    )
    opened: list[tuple[httpx.Response, AsyncIterator[Part]]] = []  # parts kept: a dropped one closes its stream

    async def open_stream(client: httpx.AsyncClient) -> httpx.Response:
        response = await client.send(client.build_request("GET", "/stream.mjpg?max_width=160"), stream=True)
        if response.status_code == 200:
            parts = mjpeg_parts(response)
            await anext(parts)
            opened.append((response, parts))
        else:
            await response.aread()
        return response

    try:
        assert (await open_stream(gateway.http)).status_code == 200
        assert (await open_stream(gateway.http)).status_code == 200
        greedy = await open_stream(gateway.http)
        assert greedy.status_code == 429
        assert greedy.headers["retry-after"] == "1"
        assert greedy.json() == {
            "detail": "too many live streams open from this address (at most 2)",
            "code": None,
            "reason": None,
        }
        assert (await open_stream(other)).status_code == 200  # another client still gets one
        assert frames.subscriber_count == 3
        full = await open_stream(other)
        assert full.status_code == 503 and full.headers["retry-after"] == "1"
        assert "too many live streams open (at most 3)" in full.json()["detail"]

        await opened.pop(0)[0].aclose()  # the first client closes one: a slot is free again
        await eventually(lambda: frames.subscriber_count == 2)
        assert (await open_stream(other)).status_code == 200
        assert (await open_stream(gateway.http)).status_code == 503
    finally:
        for response, _ in opened:
            await response.aclose()
        await other.aclose()
    await eventually(lambda: frames.subscriber_count == 0)
