"""Camera control under load: geometry changes while streaming, a small ROI at a high rate, colour cost.

1. **Geometry change while 4 subscribers stream.** The service (``python -m camera_grpc``, simulated
   GAP_WIDTH x GAP_HEIGHT mono8 camera at GAP_FPS, exposure 1 ms) streams raw frames (LATEST) to
   GAP_SUBSCRIBERS subscribers, one TCP connection each. This process alternates ROI changes (full
   sensor <-> a centred quarter) and binning changes (1x1 <-> 2x2 BIN) with ``UpdateSettings``
   (FieldMask), GAP_CHANGES of each, CHANGE_SPACING_S apart. At each subscriber, the gap is the
   arrival time of the first frame of the new geometry minus that of the last frame of the old one.
   Baseline, in the same run, on the driver itself (a SimulatedCamera of the same size and rate in
   this process): the camera's restart time, ``stop_streaming()`` + ``write_setting()`` +
   ``start_streaming()``, and the gap a program calling the driver directly sees (last old frame
   grabbed -> first new frame grabbed). Aim: service gap <= restart time + 2 frame periods.
2. **Small ROI at a high rate.** The service's simulated camera (SIMULATED_FRAME_RATE = its maximum,
   HIGH_RATE_CAP_FPS; exposure 0.01 ms) set to a 640x480 ROI, then to fixed frame rates up the
   ladder RATES_FPS; one raw subscriber (QUEUE depth 64) at each for the run's duration. Delivered /
   produced = received / (received + reported missed), frames attributed by capture time (as
   bench/frames.py). Aim: >= 0.99 at 500 fps or more. Baseline, in the same run: this process grabbing
   from a SimulatedCamera with the same settings in a loop (no service), grabbed / produced. The ladder
   runs twice: the service as it is, and with ``sys.setswitchinterval`` at SHORT_SWITCH_INTERVAL_S (does
   the camera thread wait for the GIL?). Where the time per frame goes, measured in this process on the
   same pieces the service runs: the driver's grab (thread CPU time), the frame hub (dispatch to one
   subscriber and its delivery, on an event loop), serialisation of the FramesResponse, and the network
   (a plain grpcio stream of same-size byte messages, messages/s), against the service's whole CPU time
   per produced frame during the ladder run.
3. **Colour.** Demosaic (``cv2.cvtColor``, bilinear) of a 2448x2048 mosaic per Bayer phase and bit
   depth (median of DEMOSAIC_ROUNDS), a mono 5 MP frame's 8-bit reduction as the baseline; the whole
   colour JPEG preview encode (demosaic + downscale to 640 + JPEG); and the service's CPU per
   delivered colour JPEG preview (SIMULATED_COLOR, 2448x2048 bayer8 at COLOUR_FPS, max_width 640,
   quality 80) with 1 and 8 subscribers (encode-once: roughly flat, or falling, in subscribers).

Run: ``.venv/bin/python -m bench.settings`` (writes the "Camera control" section of docs/benchmarks.md;
``--quick`` for a short run, ``--no-write`` to print only).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import grpc
import httpx
import numpy as np
from google.protobuf import field_mask_pb2

from bench.frames import CHANNEL_OPTIONS, PREVIEW, fan_out, read_bytes_per_second
from bench.plain_stream import METHOD as PLAIN_METHOD
from bench.report import machine, write_section
from camera_grpc.core import imaging
from camera_grpc.core.streaming import FrameHub, Policy, StreamOptions
from camera_grpc.device.base import Frame, PixelFormat
from camera_grpc.device.settings import AddressingMode, FrameRate, FrameRateMode, PixelAddressing, Region
from camera_grpc.device.simulated import SimulatedCamera
from camera_grpc.gen.camera.v1 import camera_pb2 as pb
from camera_grpc.gen.camera.v1 import camera_pb2_grpc
from camera_grpc.rpc.servicer import _frames_message
from tests.support.process import ServiceProcess

# -- 1. geometry changes ------------------------------------------------------------------------------------
GAP_WIDTH, GAP_HEIGHT = 1024, 768
GAP_FPS = 50.0
GAP_EXPOSURE_MS = 1.0
GAP_SUBSCRIBERS = 4
GAP_CHANGES = 8  #: of each kind (ROI, binning)
CHANGE_SPACING_S = 0.5
FULL = Region(0, 0, GAP_WIDTH, GAP_HEIGHT)
QUARTER = Region(GAP_WIDTH // 4, GAP_HEIGHT // 4, GAP_WIDTH // 2, GAP_HEIGHT // 2)
UNBINNED = PixelAddressing(AddressingMode.BIN, 1, 1)
BINNED = PixelAddressing(AddressingMode.BIN, 2, 2)
#: The changes, in the order applied (each returns to the previous geometry two steps later).
CHANGES: tuple[tuple[str, object], ...] = (
    ("roi", QUARTER),
    ("roi", FULL),
    ("pixel_addressing", BINNED),
    ("pixel_addressing", UNBINNED),
)
#: Frames grabbed from the driver before each change in the driver baseline.
FRAMES_BEFORE_CHANGE = 3

# -- 2. small ROI, high rate --------------------------------------------------------------------------------
HIGH_RATE_CAP_FPS = 1000.0  #: the largest SIMULATED_FRAME_RATE (config)
HIGH_RATE_EXPOSURE_MS = 0.01
SMALL_ROI = Region((2448 - 640) // 2, (2048 - 480) // 2, 640, 480)
RATES_FPS = (250.0, 500.0, 750.0, 1000.0)
AIM_DELIVERED = 0.99
AIM_RATE_FPS = 500.0
RAW_QUEUE = pb.FramesRequest(encoding=pb.FRAME_ENCODING_RAW, policy=pb.DELIVERY_POLICY_QUEUE, queue_depth=64)
BREAKDOWN_FRAMES = 3000
#: The switch interval tried against Python's default (5 ms), seconds: see the report.
SHORT_SWITCH_INTERVAL_S = 0.0005
DROPPED = re.compile(r'frames_dropped_total\{reason="(\w+)"\} (\S+)')
REST_LISTENING = re.compile(r"REST gateway listening on (http://\S+)")

# -- 3. colour ----------------------------------------------------------------------------------------------
COLOUR_WIDTH, COLOUR_HEIGHT = 2448, 2048
DEMOSAIC_ROUNDS = 30
COLOUR_FPS = 15.0
PREVIEW_WIDTH = 640


def service(scratch: Path, **env: str) -> ServiceProcess:
    return ServiceProcess(
        {
            "CAMERA_BACKEND": "simulated",
            "REST_ENABLED": "false",
            "IMAGE_SAVE_PATH": str(scratch / "captures"),
            "STATE_PATH": str(scratch / "state"),
            "MAX_SUBSCRIBERS": "16",
            **env,
        },
        cwd=scratch,
    )


def to_proto(name: str, value: object) -> pb.UpdateSettingsRequest:
    """An UpdateSettings request setting one field (region, addressing or frame rate)."""
    if isinstance(value, Region):
        message: object = pb.Region(
            offset_x=value.offset_x, offset_y=value.offset_y, width=value.width, height=value.height
        )
    elif isinstance(value, PixelAddressing):
        mode = pb.AddressingMode.Value(f"ADDRESSING_MODE_{value.mode.name}")
        message = pb.PixelAddressing(mode=mode, horizontal=value.horizontal, vertical=value.vertical)
    elif isinstance(value, FrameRate):
        message = pb.FrameRate(mode=pb.FrameRateMode.Value(f"FRAME_RATE_MODE_{value.mode.name}"), fps=value.fps)
    else:
        raise TypeError(name)
    return pb.UpdateSettingsRequest(
        settings=pb.CameraSettings(**{name: message}), update_mask=field_mask_pb2.FieldMask(paths=[name])
    )


@dataclass
class Arrivals:
    """(arrival monotonic s, width, height, capture time s) of each message one subscriber received."""

    messages: list[tuple[float, int, int, float]] = field(default_factory=list)

    def gaps(self) -> tuple[list[float], list[float]]:
        """At each change of geometry: (arrival gap, capture-time gap), seconds."""
        arrival, captured = [], []
        for (t0, w0, h0, c0), (t1, w1, h1, c1) in zip(self.messages, self.messages[1:], strict=False):
            if (w0, h0) != (w1, h1):
                arrival.append(t1 - t0)
                captured.append(c1 - c0)
        return arrival, captured


async def record(port: int, arrivals: Arrivals) -> None:
    async with grpc.aio.insecure_channel(f"127.0.0.1:{port}", options=CHANNEL_OPTIONS) as channel:
        call = camera_pb2_grpc.CameraServiceStub(channel).Frames(pb.FramesRequest(policy=pb.DELIVERY_POLICY_LATEST))
        try:
            async for message in call:
                captured_s = message.captured_at.seconds + message.captured_at.nanos / 1e9
                arrivals.messages.append((time.monotonic(), message.width, message.height, captured_s))
        finally:
            call.cancel()


async def service_gaps(port: int) -> tuple[list[float], list[float], int]:
    """Arrival and capture-time gaps at every subscriber and change, and the changes made."""
    arrivals = [Arrivals() for _ in range(GAP_SUBSCRIBERS)]
    tasks = [asyncio.create_task(record(port, one)) for one in arrivals]
    async with grpc.aio.insecure_channel(f"127.0.0.1:{port}") as channel:
        stub = camera_pb2_grpc.CameraServiceStub(channel)
        await stub.UpdateSettings(to_proto("roi", FULL))
        await asyncio.sleep(1.0)  # everyone streaming
        made = 0
        for _ in range(GAP_CHANGES):
            for name, value in CHANGES:
                await stub.UpdateSettings(to_proto(name, value))
                made += 1
                await asyncio.sleep(CHANGE_SPACING_S)
    for task in tasks:
        task.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)
    arrival: list[float] = []
    captured: list[float] = []
    for one in arrivals:
        a, c = one.gaps()
        arrival += a
        captured += c
    return arrival, captured, made


def driver_restarts() -> tuple[list[float], list[float]]:
    """On the driver alone: restart times (stop + set + start) and last-old -> first-new frame gaps, seconds."""
    camera = SimulatedCamera(GAP_WIDTH, GAP_HEIGHT, max_frame_rate_fps=GAP_FPS)
    camera.open()
    camera.write_setting("exposure_ms", GAP_EXPOSURE_MS)
    camera.start_streaming()
    restarts, gaps = [], []
    try:
        for _ in range(GAP_CHANGES):
            for name, value in CHANGES:
                for _ in range(FRAMES_BEFORE_CHANGE):
                    camera.grab()
                last_old = time.monotonic()
                camera.stop_streaming()
                camera.write_setting(name, value)
                camera.start_streaming()
                restarted = time.monotonic()
                camera.grab()
                gaps.append(time.monotonic() - last_old)
                restarts.append(restarted - last_old)
    finally:
        camera.close()
    return restarts, gaps


# -- 2 ------------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class LadderStep:
    fps: float  #: frame rate set
    produced_fps: float
    delivered: float  #: delivered / produced
    cpu_ms: float  #: service CPU per produced frame
    drops: dict[str, float]  #: frames not delivered by reason (service metrics), over the step


def dropped_by_reason(client: httpx.Client, url: str) -> dict[str, float]:
    """The service's frames_dropped_total by reason (Prometheus text)."""
    text = client.get(f"{url}/metrics").text
    return {match[1]: float(match[2]) for match in DROPPED.finditer(text)}


async def high_rate_ladder(scratch: Path, duration_s: float, switch_interval_s: float | None) -> list[LadderStep]:
    """Each rate of RATES_FPS: what one raw subscriber got, the service's CPU and its drops by reason.

    ``switch_interval_s``: run the service with ``sys.setswitchinterval`` at that (a sitecustomize module on
    its PYTHONPATH); None: Python's default (5 ms).
    """
    steps = []
    env = {
        "SIMULATED_FRAME_RATE": str(HIGH_RATE_CAP_FPS),
        "DEFAULT_EXPOSURE": str(HIGH_RATE_EXPOSURE_MS),
        "REST_ENABLED": "true",  # for /metrics
    }
    if switch_interval_s is not None:
        site = scratch / "site"
        site.mkdir()
        (site / "sitecustomize.py").write_text(f"import sys\nsys.setswitchinterval({switch_interval_s})\n")
        env["PYTHONPATH"] = str(site)
    with service(scratch, **env) as fast, httpx.Client() as http:
        port = fast.wait_listening()
        url = next(match[1] for line in fast.lines if (match := REST_LISTENING.search(line)))
        async with grpc.aio.insecure_channel(f"127.0.0.1:{port}") as channel:
            stub = camera_pb2_grpc.CameraServiceStub(channel)
            await stub.UpdateSettings(to_proto("roi", SMALL_ROI))
            for fps in RATES_FPS:
                await stub.UpdateSettings(to_proto("frame_rate", FrameRate(FrameRateMode.FIXED, fps)))
                before = dropped_by_reason(http, url)
                (tally,), cpu_s = await fan_out(port, 1, RAW_QUEUE, duration_s, fast.process.pid)
                after = dropped_by_reason(http, url)
                produced = tally.received + tally.missed
                drops = {reason: after[reason] - before.get(reason, 0.0) for reason in after}
                steps.append(
                    LadderStep(
                        fps, produced / duration_s, tally.delivered_ratio, 1000 * cpu_s / max(produced, 1), drops
                    )
                )
    return steps


def driver_alone(fps: float, duration_s: float) -> float:
    """Baseline: frames grabbed / frames produced when this process grabs 640x480 frames from a SimulatedCamera at
    ``fps`` in a loop for ``duration_s``, with no service (the camera and the machine alone)."""
    camera = SimulatedCamera(max_frame_rate_fps=HIGH_RATE_CAP_FPS)
    camera.open()
    camera.write_setting("roi", SMALL_ROI)
    camera.write_setting("exposure_ms", HIGH_RATE_EXPOSURE_MS)
    camera.write_setting("frame_rate", FrameRate(FrameRateMode.FIXED, fps))
    camera.start_streaming()
    try:
        first = camera.grab().frame_number
        grabbed, last = 1, first
        ends = time.monotonic() + duration_s
        while time.monotonic() < ends:
            last = camera.grab().frame_number
            grabbed += 1
        return grabbed / (last - first + 1)
    finally:
        camera.close()


def small_frame(number: int, pixels: np.ndarray) -> Frame:
    return Frame(pixels, PixelFormat.MONO8, 8, number, datetime.now(UTC), HIGH_RATE_EXPOSURE_MS, 0.0)


def grab_cpu_us() -> float:
    """The driver's CPU time per grab of a 640x480 frame (thread time: waiting for the frame clock excluded)."""
    camera = SimulatedCamera(max_frame_rate_fps=HIGH_RATE_CAP_FPS)
    camera.open()
    camera.write_setting("roi", SMALL_ROI)
    camera.write_setting("exposure_ms", HIGH_RATE_EXPOSURE_MS)
    camera.start_streaming()
    try:
        began = time.thread_time()
        for _ in range(BREAKDOWN_FRAMES):
            camera.grab()
        return 1e6 * (time.thread_time() - began) / BREAKDOWN_FRAMES
    finally:
        camera.close()


class _Acquiring:
    """The hub's view of a worker whose acquisition runs (frames come from this benchmark)."""

    is_acquiring = True

    def set_acquiring(self, acquiring: bool) -> Future[None]:
        done: Future[None] = Future()
        done.set_result(None)
        return done


async def hub_and_serialisation_us() -> tuple[float, float]:
    """Event-loop time per frame: hub dispatch + delivery to one raw subscriber; FramesResponse serialisation."""
    pixels = np.zeros((SMALL_ROI.height, SMALL_ROI.width), np.uint8)
    options = StreamOptions(policy=Policy.QUEUE, queue_depth=64)
    with ThreadPoolExecutor(1) as executor:
        hub = FrameHub(_Acquiring(), executor)  # type: ignore[arg-type]
        async with hub.subscribe(options) as subscription:
            reader = aiter(subscription)
            deliveries = []
            began = time.perf_counter()
            for number in range(1, BREAKDOWN_FRAMES + 1):
                hub._dispatch(small_frame(number, pixels))
                deliveries.append(await anext(reader))
            hub_s = time.perf_counter() - began
            began = time.perf_counter()
            for delivery in deliveries:
                _frames_message(delivery, options)
            serialise_s = time.perf_counter() - began
        await hub.close()
    return 1e6 * hub_s / BREAKDOWN_FRAMES, 1e6 * serialise_s / BREAKDOWN_FRAMES


async def network_us(frame_bytes: int, duration_s: float) -> float:
    """Wall time per message of a plain grpcio stream of ``frame_bytes`` messages (one client, this machine)."""
    server = subprocess.Popen(
        [sys.executable, "-m", "bench.plain_stream", str(frame_bytes)], stdout=subprocess.PIPE, text=True
    )
    try:
        assert server.stdout is not None
        port = int(re.search(r"listening on (\d+)", server.stdout.readline()).group(1))  # type: ignore[union-attr]
        bytes_per_s = await read_bytes_per_second(port, PLAIN_METHOD, b"", duration_s)
    finally:
        server.kill()
        server.wait()
    return 1e6 * frame_bytes / bytes_per_s


# -- 3 ------------------------------------------------------------------------------------------------------


def median_ms(work: Callable[[], object], rounds: int = DEMOSAIC_ROUNDS) -> float:
    work()  # warm up
    samples = []
    for _ in range(rounds):
        began = time.perf_counter()
        work()
        samples.append(time.perf_counter() - began)
    return 1000 * statistics.median(samples)


def colour_costs() -> tuple[list[tuple[str, float]], float, float, float]:
    """Demosaic ms per Bayer format, the mono 8-bit reduction ms, and JPEG preview encode ms (colour, mono)."""
    rng = np.random.default_rng(0)
    eight = rng.integers(0, 256, (COLOUR_HEIGHT, COLOUR_WIDTH), dtype=np.uint8)
    sixteen = eight.astype(np.uint16) << 4
    rows = []
    for pixel_format in (fmt for fmt in PixelFormat if fmt.is_bayer):
        mosaic = sixteen if pixel_format.is_bayer16 else eight
        rows.append((pixel_format.value, median_ms(lambda m=mosaic, f=pixel_format: imaging.demosaic(m, f))))
    reduce_ms = median_ms(lambda: imaging.eight_bit(sixteen, PixelFormat.MONO16, 12))
    bayer = Frame(eight, PixelFormat.BAYER8_RGGB, 8, 1, datetime.now(UTC), 1.0, 0.0)
    mono = Frame(eight, PixelFormat.MONO8, 8, 1, datetime.now(UTC), 1.0, 0.0)
    colour_ms = median_ms(lambda: imaging.encode_frame(bayer, "jpeg", 80, PREVIEW_WIDTH))
    mono_ms = median_ms(lambda: imaging.encode_frame(mono, "jpeg", 80, PREVIEW_WIDTH))
    return rows, reduce_ms, colour_ms, mono_ms


async def colour_preview_cpu(scratch: Path, duration_s: float) -> dict[int, tuple[float, float]]:
    """Subscribers -> (service CPU ms per delivered colour JPEG preview frame, worst delivered/produced)."""
    results = {}
    env = {"SIMULATED_COLOR": "true", "SIMULATED_FRAME_RATE": str(COLOUR_FPS), "DEFAULT_EXPOSURE": "1.0"}
    with service(scratch, **env) as colour:
        port = colour.wait_listening()
        for subscribers in (1, 8):
            tallies, cpu_s = await fan_out(port, subscribers, PREVIEW, duration_s, colour.process.pid)
            delivered = sum(tally.received for tally in tallies)
            results[subscribers] = (1000 * cpu_s / max(delivered, 1), min(t.delivered_ratio for t in tallies))
    return results


# -- report -------------------------------------------------------------------------------------------------


def ms(seconds: list[float]) -> tuple[float, float, float]:
    """p50, p95 and max in milliseconds."""
    p50, p95 = np.percentile(np.asarray(seconds) * 1000, [50, 95])
    return float(p50), float(p95), 1000 * max(seconds)


@contextlib.contextmanager
def scratch_folder() -> Iterator[Path]:
    with tempfile.TemporaryDirectory() as scratch:
        yield Path(scratch)


async def run(duration_s: float) -> str:
    load_before = os.getloadavg()[0]
    period_ms = 1000 / GAP_FPS
    restarts, driver_gaps = driver_restarts()
    with scratch_folder() as scratch:
        gap_env = {
            "SIMULATED_WIDTH": str(GAP_WIDTH),
            "SIMULATED_HEIGHT": str(GAP_HEIGHT),
            "SIMULATED_FRAME_RATE": str(GAP_FPS),
            "DEFAULT_EXPOSURE": str(GAP_EXPOSURE_MS),
        }
        with service(scratch, **gap_env) as gap_service:
            arrival, captured, made = await service_gaps(gap_service.wait_listening())
    restart_p50, restart_p95, _ = ms(restarts)
    arrival_p50, arrival_p95, _ = ms(arrival)
    driver_p50, _, _ = ms(driver_gaps)
    # like with like: each percentile of the gap against the same percentile of the restart time
    aim_p50_ms, aim_p95_ms = restart_p50 + 2 * period_ms, restart_p95 + 2 * period_ms
    met = [
        name for name, gap, aim in (("p50", arrival_p50, aim_p50_ms), ("p95", arrival_p95, aim_p95_ms)) if gap <= aim
    ]
    verdict = {2: "met", 1: f"met at {met[0]} only", 0: "missed"}[len(met)]
    gap_table = "\n".join(
        [
            "| measured | p50 (ms) | p95 (ms) | max (ms) |",
            "|---|---|---|---|",
            *(
                f"| {name} | {p50:.1f} | {p95:.1f} | {top:.1f} |"
                for name, (p50, p95, top) in (
                    ("camera restart on the driver (stop + set + start)", ms(restarts)),
                    ("last old -> first new frame, driver alone", ms(driver_gaps)),
                    ("last old -> first new frame, at the subscribers (arrival)", ms(arrival)),
                    ("the same frames' capture times (the service's camera thread)", ms(captured)),
                )
            ),
        ]
    )
    seen = len(arrival) / (made * GAP_SUBSCRIBERS)

    with scratch_folder() as scratch:
        ladder = await high_rate_ladder(scratch, duration_s, None)
    with scratch_folder() as scratch:
        short_switch = await high_rate_ladder(scratch, duration_s, SHORT_SWITCH_INTERVAL_S)
    grab_us = grab_cpu_us()
    hub_us, serialise_us = await hub_and_serialisation_us()
    net_us = await network_us(SMALL_ROI.width * SMALL_ROI.height, duration_s)
    alone = {fps: driver_alone(fps, duration_s) for fps in RATES_FPS}
    best = max((step.fps for step in ladder if step.delivered >= AIM_DELIVERED), default=0.0)
    best_short = max((step.fps for step in short_switch if step.delivered >= AIM_DELIVERED), default=0.0)
    ladder_rows = "\n".join(
        f"| {label} | {step.fps:g} | {step.produced_fps:.0f} | {step.delivered:.4f} | {alone[step.fps]:.4f} "
        f"| {step.cpu_ms:.2f} "
        f"| {step.drops.get('camera', 0):.0f} | {step.drops.get('policy', 0) + step.drops.get('budget', 0):.0f} |"
        for label, steps in (("default 5 ms", ladder), (f"{1000 * SHORT_SWITCH_INTERVAL_S:g} ms", short_switch))
        for step in steps
    )
    ladder_header = (
        "| service switch interval | frame rate set (fps) | produced (fps) | delivered / produced "
        "| baseline: driver alone, grabbed / produced | service CPU ms per produced frame | skipped by the camera "
        "| dropped by the subscriber's queue |\n"
        "|---|---|---|---|---|---|---|---|"
    )
    all_steps = [*ladder, *short_switch]
    skipped = sum(step.drops.get("camera", 0) for step in all_steps)
    queue_dropped = sum(step.drops.get("policy", 0) + step.drops.get("budget", 0) for step in all_steps)
    where_lost = (
        "every frame missed was skipped by the camera (the camera thread was late for the next frame); "
        "none was lost between the frame hub and the client"
        if queue_dropped == 0
        else f"{skipped:.0f} frames were skipped by the camera (the camera thread late for the next frame) and "
        f"{queue_dropped:.0f} dropped by the subscriber's queue (the sending side too slow)"
    )
    at_aim = next(step for step in ladder if step.fps == AIM_RATE_FPS)
    reading = (
        f"the frame hub and serialisation take {hub_us + serialise_us:.0f} us of the service's "
        f"{1000 * at_aim.cpu_ms:.0f} us per frame and lost nothing; the frames missed are the camera thread "
        "coming back for the next frame late while the service's other threads (event loop, gRPC) hold the GIL, "
        "and the simulated camera, keeping no frame buffer, skips what it could not hand over in time. Remedies "
        "lie outside the frame hub: a few frames of buffer in the simulated driver (as real cameras' drivers "
        "have), a shorter switch interval set by the composition root (the rows above), or grabbing without "
        "the GIL."
        if queue_dropped == 0
        else "frames were lost on both sides of the frame hub; see the two drop columns."
    )
    at_aim_short = next(step for step in short_switch if step.fps == AIM_RATE_FPS)

    demosaic_rows, reduce_ms, colour_jpeg_ms, mono_jpeg_ms = colour_costs()
    with scratch_folder() as scratch:
        preview = await colour_preview_cpu(scratch, duration_s)
    demosaic_table = "\n".join(f"| {name} | {cost:.2f} |" for name, cost in demosaic_rows)
    preview_ratio = preview[8][0] / preview[1][0]

    load = f"{load_before:.1f} at the start, {os.getloadavg()[0]:.1f} at the end"
    return f"""
`bench/settings.py`: changing the camera's geometry while frames stream, a small ROI at a high frame rate,
and the cost of colour. Method: see the script's docstring. Machine: {machine()}; the service, the clients
and the in-process baselines share its 2 cores. Load average (1 min) {load}: above 2, other work competed
for the cores during the run, and timings (the high-rate ladder most) are that much noisier.

**Geometry change while {GAP_SUBSCRIBERS} subscribers stream** (simulated {GAP_WIDTH}x{GAP_HEIGHT} mono8
at {GAP_FPS:g} fps, frame period {period_ms:.0f} ms; {made} changes: ROI full <-> {QUARTER.width}x{QUARTER.height},
binning 1x1 <-> 2x2; raw LATEST subscribers):

{gap_table}

- Aim: gap at the subscribers <= restart + 2 frame periods, percentile for percentile: p50 **{arrival_p50:.1f} ms**
  against {aim_p50_ms:.1f} ms, p95 **{arrival_p95:.1f} ms** against {aim_p95_ms:.1f} ms: **{verdict}**.
  Ratio to the driver-alone gap (p50): **{arrival_p50 / driver_p50:.2f}x**. A program calling the driver
  itself waits up to one period for the last old frame's successor and one period for the first new frame
  (the simulated camera exposes it after the restart), so about 1-2 periods beyond the restart are the camera's.
- The emulator (SDK) driver was not measured here; the simulated camera's restart includes rebuilding its test
  pattern for the new geometry at start_streaming (measured: most of its restart time).
- Every subscriber saw {seen:.0%} of the changes as a change of width/height between two consecutive messages
  (none ended; a LATEST subscriber may skip a geometry that lasted less than its read).

**Small ROI at a high rate** (640x480 mono8, simulated camera capped at {HIGH_RATE_CAP_FPS:g} fps, exposure
{HIGH_RATE_EXPOSURE_MS} ms; one raw QUEUE subscriber, {duration_s:g} s per rate):

{ladder_header}
{ladder_rows}

- Aim: >= {AIM_DELIVERED} delivered at >= {AIM_RATE_FPS:g} fps. Highest rate with >= {AIM_DELIVERED}: **{best:g} fps**
  ({"met" if best >= AIM_RATE_FPS else "missed"}); with the service's switch interval at
  {1000 * SHORT_SWITCH_INTERVAL_S:g} ms: **{best_short:g} fps**. "Skipped by the camera": frame numbers the
  simulated camera skipped because the camera thread came back for the next frame more than a period late (it
  keeps no frame buffer; a real camera's driver queues a few); "dropped by the subscriber's queue": frames the
  subscriber's QUEUE (depth 64) had no room for. Drop counts include the 2 s before each measurement.
  Baseline: this process grabbing from a SimulatedCamera of the same settings in a loop, no service, same
  duration, measured in the same run (the camera thread's share of the machine, without the service's work).
- Over the whole ladder, {where_lost}.
- Where a frame's time goes (640x480 mono8, 307200 B; per frame, in this process on the service's own code):
  driver grab (render into a recycled buffer, thread CPU) **{grab_us:.0f} us**; frame hub dispatch +
  delivery to one raw subscriber (a view, no copy) **{hub_us:.0f} us**; FramesResponse serialisation
  (the data appended without a protobuf copy) **{serialise_us:.0f} us**; network, a plain grpcio stream of
  same-size messages (both ends on this machine) **{net_us:.0f} us** per message. The service's whole CPU per
  produced frame at {AIM_RATE_FPS:g} fps: **{1000 * at_aim.cpu_ms:.0f} us** (the rest: the camera thread's
  hand-off, gRPC's send path and the Python around it).
- At {AIM_RATE_FPS:g} fps the service delivered **{at_aim.delivered:.4f}** ({at_aim_short.delivered:.4f} with the short
  switch interval) of produced frames where the driver alone, in this process with nothing else to do, grabbed
  **{alone[AIM_RATE_FPS]:.4f}**: ratio **{at_aim.delivered / alone[AIM_RATE_FPS]:.3f}**.
- Reading: {reading} One run's ladder is noisy on a shared 2-core machine (how late the camera thread comes
  back depends on everything else running): rerun before drawing conclusions from one row.

**Colour** (2448x2048 = 5 MP):

| Bayer format | demosaic (ms, median of {DEMOSAIC_ROUNDS}) |
|---|---|
{demosaic_table}

- Baseline: reducing a mono16 5 MP frame to 8 bits (what a mono JPEG needs) **{reduce_ms:.2f} ms**.
- A whole JPEG preview (max_width {PREVIEW_WIDTH}, quality 80) from a 5 MP frame: colour (demosaic, downscale,
  RGB JPEG) **{colour_jpeg_ms:.1f} ms**, mono **{mono_jpeg_ms:.1f} ms** ({colour_jpeg_ms / mono_jpeg_ms:.1f}x).
- Service CPU per delivered colour JPEG preview (simulated colour camera, bayer8 at {COLOUR_FPS:g} fps):
  1 subscriber **{preview[1][0]:.1f} ms**, 8 subscribers **{preview[8][0]:.1f} ms** (ratio {preview_ratio:.2f}; 1/8 =
  0.125 would mean all per-frame work is shared). Per produced frame (all subscribers together):
  **{preview[1][0]:.1f} ms** with 1, **{8 * preview[8][0]:.1f} ms** with 8: encode-once holds when these are
  about equal. Worst subscriber's delivered / produced: {preview[1][1]:.3f} (1), {preview[8][1]:.3f} (8).
"""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="short run (2 s measurements)")
    parser.add_argument("--no-write", action="store_true", help="print only; do not update docs/benchmarks.md")
    args = parser.parse_args()
    body = asyncio.run(run(2.0 if args.quick else 6.0))
    print(body)
    if not args.no_write:
        write_section("Camera control", body)


if __name__ == "__main__":
    main()
