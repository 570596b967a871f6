"""Recording: sustained throughput against the disk, a 5 MP 30 fps run, overload, and MP4 cost.

Not run by the tests. Everything writes to ``--dir`` (default: a temporary folder on the disk of the
repository; pass one on the disk you care about).

1. **Throughput vs the disk**: the disk's own sequential write speed is ``dd if=/dev/zero bs=1M
   conv=fdatasync`` of THROUGHPUT_BYTES; it is measured before, between and after the recordings (``dd``,
   OME-TIFF, ``dd``, OME-Zarr, ``dd``, repeated ROUNDS times) so both see the same disk. A recording run
   is the recording's writer and frame log (what its writer thread does per frame) taking
   2448x2048 MONO8 frames as fast as they go, THROUGHPUT_BYTES in all, then ``fdatasync`` of every file
   (as ``dd`` does). Ratio: recording MB/s over the mean of the ``dd`` runs around it (aim >= 0.8).
2. **5 MP at 30 fps**: a paced feeder (a thread standing for the camera thread) hands 2448x2048 MONO8
   frames, each in a buffer of its own, to :meth:`RecordingManager.on_frame` at 30 fps for DURATION_S,
   while another thread JPEG-encodes the latest frame at 30 fps (a live preview subscriber). Aim: zero drops.
3. **Overload**: the feeder offers twice the ``dd`` rate (frames per second = 2 x dd bytes/s / frame bytes,
   as far as it can copy frames that fast) for OVERLOAD_S with a QUEUE_BUDGET_BYTES queue: frames fed =
   written + dropped exactly (consecutive frame numbers), and the process's RSS above its level before
   stays within the budget (sampled every RSS_SAMPLE_S).
4. **MP4**: the simulated camera's 2448x2048 frames (MONO8, and BAYER8 demosaiced to colour) to 1280-wide
   H.264 as fast as they go: frames per second and CPU seconds per frame (process CPU time, all threads,
   x264's included).

Run: ``.venv/bin/python -m bench.recording [--quick] [--dir DIR]``; prints the results as Markdown.
"""

from __future__ import annotations

import argparse
import os
import re
import subprocess
import tempfile
import threading
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import psutil

from bench.report import machine
from camera_grpc.core import imaging
from camera_grpc.core.recording import RecordingManager, RecordingRequest
from camera_grpc.core.recording_store import FrameLog
from camera_grpc.core.recording_writers import RecordingFormat, frame_metadata, make_writer
from camera_grpc.device.base import Frame
from camera_grpc.device.settings import ImageGeometry
from camera_grpc.device.simulated import SimulatedCamera
from camera_grpc.formats import PixelFormat

WIDTH, HEIGHT = 2448, 2048
FRAME_BYTES = WIDTH * HEIGHT
THROUGHPUT_BYTES = 4 * 1024**3
ROUNDS = 2
DURATION_S = 60.0
FPS = 30.0
OVERLOAD_S = 20.0
QUEUE_BUDGET_BYTES = 256 * 1024**2
RSS_SAMPLE_S = 0.05
MP4_WIDTH = 1280
MP4_FRAMES = 300
#: Distinct frame images cycled through (so nothing compresses or caches trivially).
TEMPLATES = 8
MIB = 1024**2


def templates(pixel_format: PixelFormat = PixelFormat.MONO8) -> list[np.ndarray]:
    rng = np.random.default_rng(0)
    return [rng.integers(0, 256, (HEIGHT, WIDTH), dtype=np.uint8) for _ in range(TEMPLATES)]


def frame(number: int, pixels: np.ndarray, pixel_format: PixelFormat = PixelFormat.MONO8) -> Frame:
    return Frame(pixels, pixel_format, 8, number, datetime.now(UTC), 10.0, 0.0, camera_time_s=number / FPS)


def dd_rate(directory: Path, total_bytes: int) -> float:
    """``dd`` with fdatasync: bytes per second."""
    target = directory / "dd.bin"
    count = total_bytes // MIB
    result = subprocess.run(
        ["dd", "if=/dev/zero", f"of={target}", "bs=1M", f"count={count}", "conv=fdatasync"],
        capture_output=True,
        text=True,
        check=True,
    )
    target.unlink()
    seconds = float(re.search(r"([\d.]+) s,", result.stderr).group(1))  # type: ignore[union-attr]
    return count * MIB / seconds


def recording_rate(
    directory: Path, recording_format: RecordingFormat, total_bytes: int, images: list[np.ndarray]
) -> float:
    """The writer and frame log taking frames as fast as they go, then fdatasync: bytes per second."""
    folder = Path(tempfile.mkdtemp(dir=directory))
    writer = make_writer(recording_format, folder, "bench", frames_per_file=0, estimated_file_bytes=None)
    log = FrameLog(folder / "frames.jsonl")
    count = total_bytes // FRAME_BYTES
    started = time.perf_counter()
    for number in range(count):
        item = frame(number, images[number % len(images)])
        writer.write(item)
        log.append(frame_metadata(item))
    writer.close()
    log.close()
    for path in folder.rglob("*"):
        if path.is_file():
            fd = os.open(path, os.O_RDONLY)
            os.fdatasync(fd)
            os.close(fd)
    elapsed = time.perf_counter() - started
    subprocess.run(["rm", "-rf", str(folder)], check=True)
    return count * FRAME_BYTES / elapsed


@dataclass
class FeedResult:
    fed: int
    written: int
    dropped: int
    offered_fps: float
    achieved_fps: float
    peak_rss_growth: int
    state: str


def feed(
    directory: Path,
    fps: float,
    duration_s: float,
    *,
    preview: bool,
    budget: int,
    recording_format: RecordingFormat = RecordingFormat.OME_TIFF,
) -> FeedResult:
    """A paced feeder at ``fps`` (each frame its own buffer) into a recording for ``duration_s``."""
    images = templates()
    manager = RecordingManager(directory, queue_budget_bytes=budget, min_headroom_bytes=0)
    process = psutil.Process()
    base_rss = process.memory_info().rss
    peak = [base_rss]
    done = threading.Event()
    latest: list[Frame | None] = [None]

    def sample() -> None:
        while not done.wait(RSS_SAMPLE_S):
            peak[0] = max(peak[0], process.memory_info().rss)

    def encode_previews() -> None:
        while not done.wait(1 / FPS):
            current = latest[0]
            if current is not None:
                imaging.encode_frame(current, "jpeg", 80, max_width=MP4_WIDTH)

    threads = [threading.Thread(target=sample, daemon=True)]
    if preview:
        threads.append(threading.Thread(target=encode_previews, daemon=True))
    for thread in threads:
        thread.start()
    info = manager.start(
        RecordingRequest(format=recording_format),
        camera=None,
        geometry=ImageGeometry(WIDTH, HEIGHT, PixelFormat.MONO8, 8),
        settings={},
    )
    started = time.perf_counter()
    number = 0
    while (now := time.perf_counter() - started) < duration_s:
        pixels = images[number % len(images)].copy()  # a buffer of its own, as a driver's frame
        item = frame(number, pixels)
        latest[0] = item
        manager.on_frame(item)
        number += 1
        delay = number / fps - (time.perf_counter() - started)
        if delay > 0:
            time.sleep(delay)
    final = manager.stop(info.name)
    done.set()
    for thread in threads:
        thread.join()
    manager.delete(info.name)
    manager.close()
    return FeedResult(
        fed=number,
        written=final.frames_written,
        dropped=final.frames_dropped,
        offered_fps=fps,
        achieved_fps=number / now,
        peak_rss_growth=peak[0] - base_rss,
        state=final.state.value,
    )


def mp4_cost(directory: Path, pixel_format: PixelFormat, count: int) -> tuple[float, float]:
    """(frames per second, CPU seconds per frame) of 1280-wide H.264 from the simulated camera's 5 MP frames
    (camera-like content: noise alone would be the encoder's worst case, ~30x the bytes)."""
    camera = SimulatedCamera(WIDTH, HEIGHT, pixel_format, max_frame_rate_fps=1000.0, color=pixel_format.is_bayer)
    camera.open()
    camera.start_streaming()
    grabbed = [camera.grab() for _ in range(TEMPLATES)]
    camera.close()
    folder = Path(tempfile.mkdtemp(dir=directory))
    writer = make_writer(
        RecordingFormat.MP4, folder, "bench", frames_per_file=0, estimated_file_bytes=None, max_width=MP4_WIDTH
    )
    wall, cpu = time.perf_counter(), time.process_time()
    for number in range(count):
        template = grabbed[number % len(grabbed)]
        writer.write(frame(number, template.pixels, pixel_format))
    writer.close()
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    subprocess.run(["rm", "-rf", str(folder)], check=True)
    return count / wall, cpu / count


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="smaller and shorter runs")
    parser.add_argument("--dir", type=Path, default=None, help="folder on the disk to measure")
    args = parser.parse_args()
    scale = 0.125 if args.quick else 1.0
    total = int(THROUGHPUT_BYTES * scale)
    base = args.dir or Path(tempfile.mkdtemp(prefix="bench-recording-", dir=Path(__file__).resolve().parents[1]))
    base.mkdir(parents=True, exist_ok=True)
    images = templates()

    lines = [f"Machine: {machine()}; folder {base}.", ""]
    lines += ["| run | dd before MB/s | recording MB/s | dd after MB/s | ratio |", "|---|---|---|---|---|"]
    dd_rates = [dd_rate(base, total)]
    for round_index in range(ROUNDS):
        for recording_format in (RecordingFormat.OME_TIFF, RecordingFormat.OME_ZARR):
            rate = recording_rate(base, recording_format, total, images)
            dd_rates.append(dd_rate(base, total))
            disk = (dd_rates[-2] + dd_rates[-1]) / 2
            lines.append(
                f"| {recording_format.value} #{round_index + 1} | {dd_rates[-2] / MIB:.0f} | {rate / MIB:.0f} | "
                f"{dd_rates[-1] / MIB:.0f} | {rate / disk:.2f} |"
            )
    disk_rate = float(np.mean(dd_rates))

    steady_s = DURATION_S * (0.25 if args.quick else 1.0)
    steady = feed(base, FPS, steady_s, preview=True, budget=QUEUE_BUDGET_BYTES)
    steady_zarr = feed(
        base, FPS, steady_s, preview=True, budget=QUEUE_BUDGET_BYTES, recording_format=RecordingFormat.OME_ZARR
    )
    overload_fps = 2 * disk_rate / FRAME_BYTES
    over = feed(base, overload_fps, OVERLOAD_S * (0.5 if args.quick else 1.0), preview=False, budget=QUEUE_BUDGET_BYTES)
    lines += [
        "",
        "| paced run | offered fps | achieved fps | fed | written | dropped | fed = written + dropped | "
        "peak RSS growth MiB (budget) |",
        "|---|---|---|---|---|---|---|---|",
    ]
    runs = (
        ("OME-TIFF, 5 MP MONO8 at 30 fps + JPEG preview", steady),
        ("OME-Zarr, 5 MP MONO8 at 30 fps + JPEG preview", steady_zarr),
        ("OME-TIFF, 2x the dd rate", over),
    )
    for label, result in runs:
        lines.append(
            f"| {label} | {result.offered_fps:.1f} | {result.achieved_fps:.1f} | {result.fed} | {result.written} | "
            f"{result.dropped} | {result.fed == result.written + result.dropped} | "
            f"{result.peak_rss_growth / MIB:.0f} ({QUEUE_BUDGET_BYTES / MIB:.0f}) |"
        )
    count = MP4_FRAMES // (4 if args.quick else 1)
    lines += ["", "| MP4 1280 wide from 2448x2048 | fps | CPU ms per frame |", "|---|---|---|"]
    for label, pixel_format in (
        ("MONO8 (grey)", PixelFormat.MONO8),
        ("BAYER8 (demosaiced colour)", PixelFormat.BAYER8_RGGB),
    ):
        rate, cpu = mp4_cost(base, pixel_format, count)
        lines.append(f"| {label} | {rate:.1f} | {cpu * 1000:.1f} |")
    if args.dir is None:
        subprocess.run(["rm", "-rf", str(base)], check=True)
    print("\n".join(lines))


if __name__ == "__main__":
    main()
