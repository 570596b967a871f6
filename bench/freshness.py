"""Frame age at a slow subscriber: how old is the frame a LATEST subscriber gets, per client and mode?

One service process (``python -m camera_grpc``, simulated 2448x2048 mono8 camera at CAMERA_FPS,
gRPC and the REST gateway), and, in this process, one slow consumer at a time that spends
CONSUMER_S (a sleep: it stands for the consumer's own work) on each frame before asking for the
next, for RUN_S. A frame's age is the time it is received minus the time it was captured
(``captured_at``, the service's clock: same host). Modes, all with policy LATEST:

* ``Frames``, raw grpc.aio channel with gRPC's defaults (BDP probing on: the window grows to hold
  many frames in flight, out of the server's reach);
* ``Frames`` through the Python client (its channel turns BDP probing off);
* ``LiveFrames`` through the Python client (credits) on a channel with BDP probing ON: credits keep it
  fresh whatever the channel's window;
* ``GET /stream.mjpg`` of the REST gateway (its channel is the client layer's): the frame number is
  read from the bar code the simulated camera draws in the pixels, and its capture time from a
  separate fast subscriber of the same camera.

Each for raw frames (5 MB) and JPEG previews (full size, quality 80), except MJPEG (JPEG only, with
and without ``max_fps`` at the consumer's rate).
Aim (issue 11): p95 age within the consumer's time per frame + 2 camera frame periods.

Run: ``.venv/bin/python -m bench.freshness`` (writes docs/benchmarks.md; ``--quick`` for a short run).
"""

from __future__ import annotations

import argparse
import asyncio
import io
import re
import tempfile
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import UTC, datetime
from pathlib import Path

import grpc
import httpx
import numpy as np
from PIL import Image

from bench.report import machine, percentiles_ms, write_section
from camera_grpc.client import AsyncCameraClient
from camera_grpc.device.simulated import read_frame_number
from camera_grpc.gen.camera.v1 import camera_pb2 as pb
from camera_grpc.gen.camera.v1 import camera_pb2_grpc
from tests.support import ServiceProcess

CAMERA_FPS = 30.0
CONSUMER_S = 0.050
#: A consumer that knows its own pace asks MJPEG for no more than it can take (a little less, for its reading).
CONSUMER_FPS = 0.8 / CONSUMER_S
RUN_S = 8.0
MAX_MESSAGE_BYTES = 64 * 1024 * 1024
BDP_ON = [("grpc.max_receive_message_length", MAX_MESSAGE_BYTES), ("grpc.http2.bdp_probe", 1)]
REST_LISTENING = re.compile(r"REST gateway listening on (http://\S+)")
ENCODINGS = {"raw": pb.FRAME_ENCODING_RAW, "jpeg": pb.FRAME_ENCODING_JPEG}
QUALITY = 80

Consumer = Callable[[str, str, int, float], Awaitable[list[float]]]


def age_s(captured_at: datetime | pb.FramesResponse) -> float:
    if isinstance(captured_at, pb.FramesResponse):
        captured_at = captured_at.captured_at.ToDatetime(tzinfo=UTC)
    return time.time() - captured_at.timestamp()


async def consume(frames: AsyncIterator[pb.FramesResponse], run_s: float) -> list[float]:
    """Ages of the frames a slow consumer gets during ``run_s`` (the first second is warm-up)."""
    ages = []
    started = time.monotonic()
    async for frame in frames:
        now = time.monotonic()
        if now - started > 1.0:
            ages.append(age_s(frame))
        if now - started > run_s:
            break
        await asyncio.sleep(CONSUMER_S)
    return ages


async def raw_channel_frames(grpc_target: str, rest_url: str, encoding: int, run_s: float) -> list[float]:
    async with grpc.aio.insecure_channel(grpc_target, options=BDP_ON) as channel:
        call = camera_pb2_grpc.CameraServiceStub(channel).Frames(
            pb.FramesRequest(encoding=encoding, quality=QUALITY, policy=pb.DELIVERY_POLICY_LATEST)
        )
        try:
            return await consume(call, run_s)
        finally:
            call.cancel()


async def client_frames(grpc_target: str, rest_url: str, encoding: int, run_s: float) -> list[float]:
    async with AsyncCameraClient(grpc_target) as camera:
        stream = camera.frames(encoding=encoding, quality=QUALITY, policy=pb.DELIVERY_POLICY_LATEST)
        try:
            return await consume(stream, run_s)
        finally:
            stream.cancel()


async def client_live_frames(grpc_target: str, rest_url: str, encoding: int, run_s: float) -> list[float]:
    async with AsyncCameraClient(grpc_target, options=BDP_ON) as camera:
        stream = camera.live_frames(encoding=encoding, quality=QUALITY, policy=pb.DELIVERY_POLICY_LATEST)
        try:
            return await consume(stream, run_s)
        finally:
            stream.cancel()


async def mjpeg(
    grpc_target: str, rest_url: str, encoding: int, run_s: float, max_fps: float | None = None
) -> list[float]:
    """MJPEG parts; each frame's capture time comes from a fast side subscriber that records them all."""
    captured: dict[int, datetime] = {}

    async def record() -> None:
        async with AsyncCameraClient(grpc_target) as camera:
            request = {"encoding": pb.FRAME_ENCODING_JPEG, "max_width": 64, "policy": pb.DELIVERY_POLICY_QUEUE}
            async for frame in camera.frames(queue_depth=64, **request):  # type: ignore[arg-type]
                captured[frame.frame_number] = frame.captured_at.ToDatetime(tzinfo=UTC)

    recorder = asyncio.ensure_future(record())
    ages: list[float] = []
    try:
        async with (
            httpx.AsyncClient(base_url=rest_url, timeout=30) as http,
            http.stream(
                "GET", f"/stream.mjpg?quality={QUALITY}" + (f"&max_fps={max_fps}" if max_fps else "")
            ) as response,
        ):
            started = time.monotonic()
            buffer = b""
            async for chunk in response.aiter_bytes():
                buffer += chunk
                while (start := buffer.find(b"\xff\xd8")) >= 0 and (end := buffer.find(b"\xff\xd9", start)) >= 0:
                    jpeg, buffer = buffer[start : end + 2], buffer[end + 2 :]  # each part in order, as a browser
                    received = time.time()
                    with Image.open(io.BytesIO(jpeg)) as image:
                        number = read_frame_number(np.asarray(image))
                    if time.monotonic() - started > 1.0 and number in captured:
                        ages.append(received - captured[number].timestamp())
                    await asyncio.sleep(CONSUMER_S)
                if time.monotonic() - started > run_s:
                    break
    finally:
        recorder.cancel()
    return ages


MODES: list[tuple[str, Consumer, tuple[str, ...]]] = [
    ("Frames, grpc.aio channel with gRPC defaults (BDP on)", raw_channel_frames, ("raw", "jpeg")),
    ("Frames, Python client (BDP off)", client_frames, ("raw", "jpeg")),
    ("LiveFrames, Python client on a BDP-on channel (credits)", client_live_frames, ("raw", "jpeg")),
    ("GET /stream.mjpg (REST gateway)", mjpeg, ("jpeg",)),
    (
        "GET /stream.mjpg?max_fps=<consumer's rate> (REST gateway)",
        lambda *args: mjpeg(*args, max_fps=CONSUMER_FPS),
        ("jpeg",),
    ),
]


async def rest_url_of(process: ServiceProcess) -> str:
    deadline = time.monotonic() + 30
    while (match := REST_LISTENING.search(process.log)) is None:
        if time.monotonic() > deadline:
            raise RuntimeError(f"no REST address logged:\n{process.log}")
        await asyncio.sleep(0.05)
    return match.group(1)


async def run(run_s: float) -> str:
    env = {"CAMERA_BACKEND": "simulated", "DEFAULT_EXPOSURE": "1", "SIMULATED_FRAME_RATE": str(CAMERA_FPS)}
    period_ms = 1000 / CAMERA_FPS
    aim_ms = CONSUMER_S * 1000 + 2 * period_ms
    rows = []
    with (
        tempfile.TemporaryDirectory() as folder,
        ServiceProcess({**env, "IMAGE_SAVE_PATH": str(Path(folder) / "captures")}, cwd=Path(folder)) as process,
    ):
        target = f"127.0.0.1:{process.wait_listening()}"
        rest_url = await rest_url_of(process)
        for title, consumer, encodings in MODES:
            for encoding in encodings:
                ages = await consumer(target, rest_url, ENCODINGS[encoding], run_s)
                p50, p95 = percentiles_ms(ages) if ages else (float("nan"), float("nan"))
                verdict = "met" if p95 <= aim_ms else "**not met**"
                rows.append(f"| {title} | {encoding} | {len(ages)} | {p50:.0f} | {p95:.0f} | {verdict} |")
    return "\n".join(
        [
            f"Camera {CAMERA_FPS:g} fps (frame period {period_ms:.0f} ms), 2448x2048 mono8; the consumer takes "
            f"{CONSUMER_S * 1000:.0f} ms per frame; policy LATEST; {run_s:g} s per mode (first second dropped). "
            f"Age = receive time - captured_at (same host). Aim: p95 <= consumer time + 2 frame periods = "
            f"{aim_ms:.0f} ms. Machine: {machine()}.",
            "",
            "| client and mode | encoding | frames | age p50 (ms) | age p95 (ms) | aim |",
            "|---|---|---|---|---|---|",
            *rows,
            "",
            "Method: `bench/freshness.py`, one service process, the modes one after another in one run. "
            "MJPEG: an HTTP client has no way to tell the service it is behind, so a client slower than the camera "
            "reads frames that waited in socket buffers (the client's receive buffer grows to megabytes); asking "
            "for no more than it can take (`max_fps`) keeps it fresh, and the viewer page does so. "
            "The NestJS module (@grpc/grpc-js) is not measured here: grpc-js does no BDP probing (its stream "
            "window stays at 64 KiB unless `grpc-node.flow_control_window` is set), so its `frames` behaves like "
            "the Python client's; a NestJS app that must stay fresh whatever its options uses LiveFrames.",
        ]
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="3 s per mode")
    args = parser.parse_args()
    body = asyncio.run(run(3.0 if args.quick else RUN_S))
    print(body)
    if not args.quick:
        write_section("Frame age at a slow subscriber", body)


if __name__ == "__main__":
    main()
