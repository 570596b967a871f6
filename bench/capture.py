"""Capture round trip over gRPC against the same work done in-process, in one run.

Baseline (in-process, no gRPC): start streaming, grab one 2448x2048 mono8 frame
from the simulated camera, stop streaming, encode JPEG quality 95, write the
image and its sidecar atomically (``CaptureStore.save``): exactly the work a
``Capture`` does.

Measured: a ``Capture`` RPC from a Python client to the service running as a
separate process (``python -m camera_grpc`` on the simulated camera), same
settings, same disk. The two are interleaved in blocks so drift (disk, CPU
frequency, the other core) hits both alike. Reported: p50, p95 and the ratio
of p50s (gRPC / in-process). Aim: ratio of p50s <= 1.15.

Run: ``.venv/bin/python bench/capture.py [--iterations N]`` (writes docs/benchmarks.md).
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import grpc

from bench.report import machine, percentiles_ms, write_section
from camera_grpc.core.storage import CaptureStore
from camera_grpc.device.simulated import SimulatedCamera
from camera_grpc.gen.camera.v1 import camera_pb2 as pb
from camera_grpc.gen.camera.v1 import camera_pb2_grpc
from tests.support.process import ServiceProcess

WIDTH, HEIGHT = 2448, 2048
EXPOSURE_MS = 1.0
QUALITY = 95
#: High enough that the frame period is the exposure, not a frame-rate cap.
FRAME_RATE_FPS = 1000.0
BLOCK = 10
WARMUP = 5


def in_process_capture(camera: SimulatedCamera, store: CaptureStore) -> float:
    started = time.perf_counter()
    camera.start_streaming()
    frame = camera.grab()
    camera.stop_streaming()
    store.save(frame, "jpeg", QUALITY, None)
    return time.perf_counter() - started


def grpc_capture(stub: camera_pb2_grpc.CameraServiceStub) -> float:
    started = time.perf_counter()
    stub.Capture(pb.CaptureRequest(format=pb.IMAGE_FORMAT_JPEG, quality=QUALITY), timeout=10)
    return time.perf_counter() - started


def service_env(captures: Path) -> dict[str, str]:
    return {
        "CAMERA_BACKEND": "simulated",
        "REST_ENABLED": "false",
        "DEFAULT_EXPOSURE": str(EXPOSURE_MS),
        "SIMULATED_FRAME_RATE": str(FRAME_RATE_FPS),
        "IMAGE_SAVE_PATH": str(captures),
        "IMAGE_QUALITY": str(QUALITY),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--iterations", type=int, default=100, help="captures per side (default 100)")
    parser.add_argument("--no-write", action="store_true", help="print only; do not update docs/benchmarks.md")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory(dir=Path.cwd()) as scratch:
        scratch_path = Path(scratch)
        camera = SimulatedCamera(WIDTH, HEIGHT, max_frame_rate_fps=FRAME_RATE_FPS)
        camera.open()
        camera.set_exposure_ms(EXPOSURE_MS)
        store = CaptureStore(scratch_path / "in-process")
        store.ensure_writable()
        with ServiceProcess(service_env(scratch_path / "grpc"), cwd=scratch_path) as service:
            port = service.wait_listening()
            with grpc.insecure_channel(f"127.0.0.1:{port}") as channel:
                stub = camera_pb2_grpc.CameraServiceStub(channel)
                stub.GetSettings(pb.GetSettingsRequest(), wait_for_ready=True, timeout=30)
                for _ in range(WARMUP):
                    in_process_capture(camera, store)
                    grpc_capture(stub)
                local: list[float] = []
                remote: list[float] = []
                while len(local) < args.iterations:
                    local += [in_process_capture(camera, store) for _ in range(BLOCK)]
                    remote += [grpc_capture(stub) for _ in range(BLOCK)]

    local_p50, local_p95 = percentiles_ms(local)
    remote_p50, remote_p95 = percentiles_ms(remote)
    ratio = remote_p50 / local_p50
    verdict = "meets" if ratio <= 1.15 else "misses"
    body = f"""
`bench/capture.py`: a `Capture` round trip over gRPC against the same grab + encode + save done
in-process without gRPC, in one run.

Method: simulated camera 2448x2048 mono8, exposure {EXPOSURE_MS:g} ms (frame-rate cap {FRAME_RATE_FPS:g} fps so
the exposure sets the frame time), JPEG quality {QUALITY}, files written with their JSON sidecar
(temporary file, fsync, link). In-process: `start_streaming`, `grab`, `stop_streaming`,
`CaptureStore.save`. gRPC: a synchronous Python client calling `Capture` on the service running
as a separate process (`python -m camera_grpc`) on loopback. {args.iterations} captures per side after
{WARMUP} warm-up captures each, interleaved in blocks of {BLOCK}. Machine: {machine()}.

| path | p50 (ms) | p95 (ms) |
|---|---|---|
| in-process (baseline) | {local_p50:.1f} | {local_p95:.1f} |
| gRPC `Capture` | {remote_p50:.1f} | {remote_p95:.1f} |

Ratio of p50s (gRPC / in-process): **{ratio:.3f}** ({verdict} the aim of at most 1.15).
Ratio of p95s: {remote_p95 / local_p95:.3f}.

Where the difference goes (measured separately on this machine, captures on tmpfs, server-side
timestamps around each step): the service's own hand-offs (event loop -> camera thread -> encoder
pool -> event loop) add about 0.4 ms per capture; an empty unary call (`GetSettings`, answered
without touching the camera) costs about 0.55 ms round trip from this Python client; the rest is
the larger response and thread wake-ups on a 2-core VM. The save (JPEG encode + two fsync'd files)
dominates both paths and varies with the disk by a few milliseconds between runs, which moves the
ratio between about 1.15 and 1.3 from run to run. Steps taken: recycled frame buffers (fresh 5 MB
allocations on a non-main thread cost ~3.5 ms of page faults), simplejpeg instead of Pillow for JPEG
(3.5x faster, releases the GIL), the frame handed from the camera thread straight to the encoder
pool, and the folder pre-check only when settings change.
"""
    print(body)
    if not args.no_write:
        write_section("Capture round trip", body)


if __name__ == "__main__":
    main()
