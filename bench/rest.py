"""REST: GET /settings latency, idle and under capture load, and capture throughput, for the REST gateway
and for seed-style apps (bench/seed_app.py), in one run.

Each app runs as its own process on the same simulated camera (2448x2048 mono8, exposure
EXPOSURE_MS, frame-rate cap high enough that the exposure sets the frame time, JPEG quality 95,
files written with their sidecar):

* gateway: ``python -m camera_grpc`` (gRPC service and REST gateway in one process, the default);
* seed ``def`` and seed ``async def``: FastAPI endpoints calling the camera directly.

For each: warm-up, then IDLE_SAMPLES sequential ``GET /settings`` (idle), then CLIENTS clients in a
separate process run ``POST /capture`` in a loop for LOAD_S seconds while this process keeps probing
``GET /settings`` sequentially (under load). Reported: p50/p95 of both, the p95 ratio and captures
per second. Aims: the gateway's p95 under load within 2x its idle p95; its captures per second no
lower than the seed-style apps'.

Run: ``.venv/bin/python -m bench.rest [--seconds N] [--no-write]`` (writes docs/benchmarks.md).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import re
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass
from pathlib import Path

import httpx

from bench.report import machine, percentiles_ms, write_section
from camera_grpc.core import imaging
from camera_grpc.device.simulated import SimulatedCamera
from tests.support.process import ServiceProcess

EXPOSURE_MS = 10.0
FRAME_RATE_FPS = 1000.0
QUALITY = 95
CLIENTS = 4
LOAD_S = 15.0
#: Load starts this long before probing does, and probing ends this long before the load.
RAMP_S = 1.0
IDLE_SAMPLES = 300
#: Pause between two probes, seconds (a steady trickle, not a flood).
PROBE_GAP_S = 0.01
WARMUP_CAPTURES = 3
CAPTURE_BODY = {"exposure": EXPOSURE_MS, "gain": 0.0}
REQUEST_TIMEOUT_S = 60.0
#: The load process runs this much nicer: its clients stand for callers on other machines, so on this
#: small machine it should not take the CPU from the app under test (the same for every app).
LOAD_NICENESS = 10
REST_LISTENING = re.compile(r"REST gateway listening on (http://\S+)")
SEED_LISTENING = re.compile(r"seed app listening on (http://\S+)")


@dataclass
class Result:
    name: str
    idle_s: list[float]
    load_s: list[float]
    captures: int
    capture_errors: int
    load_elapsed_s: float

    @property
    def captures_per_s(self) -> float:
        return self.captures / self.load_elapsed_s


# -- the apps ------------------------------------------------------------------------------------


def start_gateway(scratch: Path) -> tuple[ServiceProcess, str]:
    env = {
        "CAMERA_BACKEND": "simulated",
        "DEFAULT_EXPOSURE": str(EXPOSURE_MS),
        "SIMULATED_FRAME_RATE": str(FRAME_RATE_FPS),
        "IMAGE_SAVE_PATH": str(scratch / "gateway"),
        "IMAGE_QUALITY": str(QUALITY),
    }
    process = ServiceProcess(env, cwd=scratch)
    process.wait_listening()
    deadline = time.monotonic() + 30
    while not (match := REST_LISTENING.search(process.log)):
        if time.monotonic() > deadline:
            raise RuntimeError(f"the gateway did not start:\n{process.log}")
        time.sleep(0.05)
    return process, match.group(1)


def start_seed(variant: str, scratch: Path) -> tuple[subprocess.Popen[str], str]:
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "bench.seed_app",
            "--variant",
            variant,
            "--captures",
            str(scratch / f"seed-{variant}"),
            "--exposure-ms",
            str(EXPOSURE_MS),
            "--frame-rate",
            str(FRAME_RATE_FPS),
            "--quality",
            str(QUALITY),
        ],
        stdout=subprocess.PIPE,
        text=True,
        cwd=Path(__file__).resolve().parents[1],
    )
    assert process.stdout is not None
    line = process.stdout.readline()
    match = SEED_LISTENING.search(line)
    if not match:
        process.kill()
        raise RuntimeError(f"the seed app did not start: {line!r}")
    return process, match.group(1)


# -- load and probes -------------------------------------------------------------------------------


def probe(client: httpx.Client, *, count: int | None = None, until: float | None = None) -> list[float]:
    """Sequential GET /settings: ``count`` of them, or until ``time.monotonic()`` reaches ``until``."""
    samples: list[float] = []
    while (count is not None and len(samples) < count) or (until is not None and time.monotonic() < until):
        started = time.perf_counter()
        response = client.get("/settings")
        samples.append(time.perf_counter() - started)
        response.raise_for_status()
        time.sleep(PROBE_GAP_S)
    return samples


async def capture_loop(url: str, clients: int, seconds: float) -> dict[str, float]:
    """CLIENTS concurrent clients posting /capture until ``seconds`` have passed (the load process)."""
    done = errors = 0
    started = time.monotonic()
    deadline = started + seconds

    async def client_loop() -> None:
        nonlocal done, errors
        async with httpx.AsyncClient(base_url=url, timeout=REQUEST_TIMEOUT_S) as client:
            while time.monotonic() < deadline:
                response = await client.post("/capture", json=CAPTURE_BODY)
                if response.status_code == 200:
                    done += 1
                else:
                    errors += 1

    await asyncio.gather(*(client_loop() for _ in range(clients)))
    return {"captures": done, "errors": errors, "elapsed_s": time.monotonic() - started}


def measure(name: str, url: str, load_s: float) -> Result:
    with httpx.Client(base_url=url, timeout=REQUEST_TIMEOUT_S) as client:
        for _ in range(WARMUP_CAPTURES):
            client.post("/capture", json=CAPTURE_BODY).raise_for_status()
        probe(client, count=20)
        idle = probe(client, count=IDLE_SAMPLES)
        load = subprocess.Popen(
            [sys.executable, "-m", "bench.rest", "--load", url, "--seconds", str(load_s)],
            stdout=subprocess.PIPE,
            text=True,
            cwd=Path(__file__).resolve().parents[1],
        )
        time.sleep(RAMP_S)
        under_load = probe(client, until=time.monotonic() + load_s - 2 * RAMP_S)
        stdout, _ = load.communicate(timeout=load_s + REQUEST_TIMEOUT_S)
    outcome = json.loads(stdout)
    return Result(name, idle, under_load, int(outcome["captures"]), int(outcome["errors"]), outcome["elapsed_s"])


# -- report --------------------------------------------------------------------------------------------


def wakeup_delay_ms(encoders: int, seconds: float = 2.0) -> tuple[float, float]:
    """p50/p95 of how late a thread wakes from a 1 ms sleep while ``encoders`` threads JPEG-encode frames
    as the service's encode threads do (imaging.encode_frame)."""
    camera = SimulatedCamera(2448, 2048, max_frame_rate_fps=FRAME_RATE_FPS)
    camera.open()
    camera.start_streaming()
    frame = camera.grab()
    stop = threading.Event()

    def encode() -> None:
        while not stop.is_set():
            imaging.encode_frame(frame, "jpeg", QUALITY)

    threads = [threading.Thread(target=encode) for _ in range(encoders)]
    for thread in threads:
        thread.start()
    late: list[float] = []
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        started = time.perf_counter()
        time.sleep(0.001)
        late.append(time.perf_counter() - started - 0.001)
    stop.set()
    for thread in threads:
        thread.join()
    return percentiles_ms(late)


def report(results: list[Result], load_s: float, wakeups: dict[int, tuple[float, float]]) -> str:
    rows = []
    for result in results:
        idle_p50, idle_p95 = percentiles_ms(result.idle_s)
        load_p50, load_p95 = percentiles_ms(result.load_s)
        rows.append(
            f"| {result.name} | {idle_p50:.2f} | {idle_p95:.2f} | {load_p50:.2f} | {load_p95:.2f} "
            f"| {load_p95 / idle_p95:.1f}x | {result.captures_per_s:.1f} |"
        )
    gateway, seeds = results[0], results[1:]
    ratio = percentiles_ms(gateway.load_s)[1] / percentiles_ms(gateway.idle_s)[1]
    best_seed = max(seed.captures_per_s for seed in seeds)
    errors = ", ".join(f"{result.name}: {result.capture_errors}" for result in results)
    table = "\n".join(rows)
    return f"""
`bench/rest.py`: `GET /settings` latency idle and while {CLIENTS} clients run `POST /capture` in a loop,
and captures per second, for the REST gateway and for seed-style apps written the way the legacy
README suggests (`bench/seed_app.py`: FastAPI endpoints calling the camera wrapper directly, in a
`def` and an `async def` variant), in one run.

Method: every app is its own process on the same simulated camera (2448x2048 mono8, exposure
{EXPOSURE_MS:g} ms, frame-rate cap {FRAME_RATE_FPS:g} fps so the exposure sets the frame time), JPEG quality
{QUALITY}, each capture written with its JSON sidecar; the gateway is `python -m camera_grpc` (gRPC
service and REST gateway in one process, the default). Idle: {IDLE_SAMPLES} sequential `GET /settings`
from this process (httpx, keep-alive, {PROBE_GAP_S * 1000:g} ms between requests). Load: {CLIENTS} httpx
clients in a separate process post `{json.dumps(CAPTURE_BODY)}` to `/capture` back to back for
{load_s:g} s while this process keeps probing `GET /settings` the same way (from {RAMP_S:g} s after the
load starts to {RAMP_S:g} s before it ends). Captures per second: captures completed by the load
process over its run. Machine: {machine()}.

| app | idle p50 (ms) | idle p95 (ms) | under load p50 (ms) | under load p95 (ms) | p95 load / idle | captures/s |
|---|---|---|---|---|---|---|
{table}

Aims: the gateway's `GET /settings` p95 under load within 2x its idle p95: **{ratio:.2f}x**
({"meets" if ratio <= 2 else "misses"} the aim); its capture throughput no lower than the seed-style
apps': **{gateway.captures_per_s:.1f}/s** against at best {best_seed:.1f}/s
({"meets" if gateway.captures_per_s >= best_seed else "misses"} the aim). Failed captures: {errors}.

Why: in the seed-style apps a capture holds the camera (the `def` variant's lock, or the event loop
itself in the `async def` variant) for the whole grab + encode + save, so `GET /settings` waits
behind it. In the service, the camera thread only grabs; encoding and writing run on worker
threads, and `GetSettings` is answered from the settings the camera last reported (every change
goes through the service and is read back), so it never waits for an exposure.

The GIL: every Python thread, the event loop included, waits while another thread holds it. The
service encodes JPEG with simplejpeg (libjpeg-turbo), which releases it while compressing (Pillow's
encoder did not: that was most of the gateway's remaining tail). How late a thread wakes from a 1 ms
sleep, p50 / p95: {wakeups[0][0]:.2f} / {wakeups[0][1]:.2f} ms with no encoding,
{wakeups[1][0]:.2f} / {wakeups[1][1]:.2f} ms while one thread encodes frames as the service does.
"""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=LOAD_S, help=f"load duration per app (default {LOAD_S:g})")
    parser.add_argument("--no-write", action="store_true", help="print only; do not update docs/benchmarks.md")
    parser.add_argument("--load", metavar="URL", help=argparse.SUPPRESS)  # internal: be the load process
    args = parser.parse_args()
    if args.load:
        os.nice(LOAD_NICENESS)
        print(json.dumps(asyncio.run(capture_loop(args.load, CLIENTS, args.seconds))))
        return

    results = []
    with tempfile.TemporaryDirectory(dir=Path.cwd()) as scratch:
        scratch_path = Path(scratch)
        with start_gateway(scratch_path)[0] as gateway:
            url = REST_LISTENING.search(gateway.log).group(1)  # type: ignore[union-attr]
            results.append(measure("REST gateway (camera-grpc)", url, args.seconds))
        for variant, name in (("def", "seed-style, `def` endpoints"), ("async", "seed-style, `async def` endpoints")):
            process, url = start_seed(variant, scratch_path)
            try:
                results.append(measure(name, url, args.seconds))
            finally:
                process.terminate()
                process.wait(10)
    wakeups = {encoders: wakeup_delay_ms(encoders) for encoders in (0, 1)}
    body = report(results, args.seconds, wakeups)
    print(body)
    if not args.no_write:
        write_section("REST gateway", body)


if __name__ == "__main__":
    main()
