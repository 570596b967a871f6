"""Triggering and events (issue 13): software trigger to frame at the client, hardware edge to WatchEvents.

The service runs as a process (``python -m camera_grpc``, CAMERA_BACKEND=pixelink) on the SDK emulator
(one WIDTH x HEIGHT mono camera, the emulator's control socket enabled); this process is the client,
over TCP on loopback.

1. **Software trigger -> frame delivered at the client.** ``trigger.source`` SOFTWARE; one raw Frames
   subscriber (QUEUE) open. For each exposure of EXPOSURES_MS, TRIGGERS ``SoftwareTrigger`` calls one
   after the other; the latency of one is from sending the call to the arrival, on the Frames stream,
   of the frame whose number the call answers with (and, reported too, to the call's own answer).
   Baselines in the same run: the exposure itself, and a ``GetSettings`` round trip (what any call
   costs); the excess over the exposure is also given in round trips. Aim: p95 <= exposure +
   AIM_SOFTWARE_MARGIN_MS.
2. **Hardware trigger edge -> WatchEvents delivery.** ``trigger.source`` HARDWARE, a Frames subscriber
   open (the camera armed), a WatchEvents subscriber filtered to HARDWARE_TRIGGER. EDGES pulses through
   the emulator's control socket (``trigger <serial> pulse 0``), EDGE_SPACING_S apart; the latency is
   from just before the socket command is sent to the event's arrival at the client. Baseline in the
   same run: the control socket's own round trip (``ping``), which the measured latency includes.
   Aim: p95 < AIM_EVENT_MS.

Run: ``.venv/bin/python -m bench.triggering`` (writes the "Triggering and events" section of
docs/benchmarks.md; ``--quick`` for fewer samples, ``--no-write`` to print only).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import grpc
from google.protobuf.field_mask_pb2 import FieldMask

from bench.frames import CHANNEL_OPTIONS
from bench.report import machine, percentiles_ms, write_section
from camera_grpc.gen.camera.v1 import camera_pb2 as pb
from camera_grpc.gen.camera.v1 import camera_pb2_grpc
from tests.support.process import ServiceProcess
from tests.support.pxlemu import SocketControl, build_emulator, emulator_env

SERIAL = 700000001
WIDTH, HEIGHT = 640, 480
EXPOSURES_MS = (1.0, 5.0, 20.0)
TRIGGERS = 200
EDGES = 200
#: Time between hardware edges: longer than a frame at the longest exposure used (no missed triggers).
EDGE_SPACING_S = 0.02
AIM_SOFTWARE_MARGIN_MS = 2.0
#: The emulator's readout of the mono profile (emulator/README.md): 0.5 ms + rows x (1 us + columns x 1 ns), ms.
EMULATED_READOUT_MS = 0.5 + HEIGHT * (1e-3 + WIDTH * 1e-6)
AIM_EVENT_MS = 5.0
BASELINE_CALLS = 200
CALL_TIMEOUT_S = 10.0


@contextlib.contextmanager
def emulated_service(scratch: Path) -> Iterator[tuple[ServiceProcess, SocketControl]]:
    library = build_emulator(scratch / "pxlemu")
    socket_path = scratch / "pxlemu.sock"
    env = {
        **emulator_env(library, socket_path=socket_path, config=f"cameras={SERIAL}:{WIDTH}x{HEIGHT}", base={}),
        "CAMERA_BACKEND": "pixelink",
        "REST_ENABLED": "false",
        "DEFAULT_EXPOSURE": str(EXPOSURES_MS[0]),
        "IMAGE_SAVE_PATH": str(scratch / "captures"),
        "STATE_PATH": str(scratch / "state"),
        "FRAMES_LINGER_S": "0.2",
    }
    with ServiceProcess(env, cwd=scratch) as process:
        process.wait_listening()
        control = SocketControl(socket_path)
        try:
            yield process, control
        finally:
            control.close()


async def set_trigger(stub: camera_pb2_grpc.CameraServiceStub, source: int) -> None:
    settings = pb.CameraSettings(trigger=pb.Trigger(source=source))
    await stub.UpdateSettings(
        pb.UpdateSettingsRequest(settings=settings, update_mask=FieldMask(paths=["trigger"])), timeout=CALL_TIMEOUT_S
    )


async def round_trips(stub: camera_pb2_grpc.CameraServiceStub, count: int) -> list[float]:
    samples = []
    for _ in range(count):
        started = time.perf_counter()
        await stub.GetSettings(pb.GetSettingsRequest(), timeout=CALL_TIMEOUT_S)
        samples.append(time.perf_counter() - started)
    return samples


async def software_latencies(
    stub: camera_pb2_grpc.CameraServiceStub, exposure_ms: float, count: int
) -> tuple[list[float], list[float]]:
    """(trigger -> frame on the Frames stream, trigger -> SoftwareTrigger answer), seconds."""
    await stub.UpdateSettings(pb.UpdateSettingsRequest(exposure_ms=exposure_ms), timeout=CALL_TIMEOUT_S)
    arrivals: dict[int, float] = {}
    stream = stub.Frames(pb.FramesRequest(policy=pb.DELIVERY_POLICY_QUEUE, queue_depth=64))

    async def receive() -> None:
        async for message in stream:
            arrivals[message.frame_number] = time.perf_counter()

    receiving = asyncio.ensure_future(receive())
    await stub.SoftwareTrigger(pb.SoftwareTriggerRequest(), timeout=CALL_TIMEOUT_S)  # warm: the stream is live
    to_frame, to_answer = [], []
    for _ in range(count):
        started = time.perf_counter()
        answer = await stub.SoftwareTrigger(pb.SoftwareTriggerRequest(), timeout=CALL_TIMEOUT_S)
        to_answer.append(time.perf_counter() - started)
        number = answer.frame_numbers[0]
        while number not in arrivals:
            await asyncio.sleep(0)
        to_frame.append(arrivals[number] - started)
    stream.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await receiving
    return to_frame, to_answer


async def event_latencies(
    stub: camera_pb2_grpc.CameraServiceStub, control: SocketControl, count: int
) -> tuple[list[float], list[float], int]:
    """(edge -> HARDWARE_TRIGGER event at the client, control socket ping), seconds; and triggers missed."""
    await set_trigger(stub, pb.TRIGGER_SOURCE_HARDWARE)
    frames = stub.Frames(pb.FramesRequest(max_width=64, encoding=pb.FRAME_ENCODING_JPEG))
    draining = asyncio.ensure_future(_drain(frames))
    while control.waiting_grabs(SERIAL) == 0:  # armed: a grab waits for an edge
        await asyncio.sleep(0.01)
    events = stub.WatchEvents(pb.WatchEventsRequest(types=[pb.EVENT_TYPE_HARDWARE_TRIGGER]))
    await events.initial_metadata()
    await asyncio.sleep(0.2)  # the subscription is made after the headers: let it settle before the first edge
    latencies, pings = [], []
    missed_before = control.trigger_counts(SERIAL)[1]
    for _ in range(count):
        started = time.perf_counter()
        await asyncio.to_thread(control.trigger_pulse, SERIAL, 0.0)
        await anext(aiter(events))
        latencies.append(time.perf_counter() - started)
        ping_started = time.perf_counter()
        control.ping()
        pings.append(time.perf_counter() - ping_started)
        await asyncio.sleep(EDGE_SPACING_S)
    missed = control.trigger_counts(SERIAL)[1] - missed_before
    events.cancel()
    frames.cancel()
    with contextlib.suppress(asyncio.CancelledError, grpc.aio.AioRpcError):
        await draining
    return latencies, pings, missed


async def _drain(call: grpc.aio.UnaryStreamCall) -> None:
    async for _ in call:
        pass


async def run(triggers: int, edges: int) -> str:
    load_before = os.getloadavg()[0]
    with tempfile.TemporaryDirectory() as folder, emulated_service(Path(folder)) as (process, control):
        async with grpc.aio.insecure_channel(
            f"127.0.0.1:{process.wait_listening()}", options=CHANNEL_OPTIONS
        ) as channel:
            stub = camera_pb2_grpc.CameraServiceStub(channel)
            baseline = await round_trips(stub, BASELINE_CALLS)
            await set_trigger(stub, pb.TRIGGER_SOURCE_SOFTWARE)
            software = {exposure: await software_latencies(stub, exposure, triggers) for exposure in EXPOSURES_MS}
            await stub.UpdateSettings(pb.UpdateSettingsRequest(exposure_ms=EXPOSURES_MS[0]), timeout=CALL_TIMEOUT_S)
            hardware, pings, missed = await event_latencies(stub, control, edges)
    rtt_p50, rtt_p95 = percentiles_ms(baseline)
    lines = [
        f"Machine: {machine()}; load average before the run {load_before:.2f}. "
        f"Emulated PixeLINK camera {WIDTH}x{HEIGHT} mono8, service as a process, client over loopback TCP.",
        "",
        "Method: see the docstring of `bench/triggering.py` (run `.venv/bin/python -m bench.triggering`).",
        "",
        f"Baseline (same run): `GetSettings` round trip p50 {rtt_p50:.2f} ms, p95 {rtt_p95:.2f} ms.",
        "",
        f"### Software trigger to frame delivered at the client ({triggers} triggers per exposure)",
        "",
        "| exposure | to frame p50 | to frame p95 | p95 - exposure (in round trips) | answer p50 / p95 "
        f"| aim (p95 <= exposure + {AIM_SOFTWARE_MARGIN_MS:g} ms) |",
        "|---|---|---|---|---|---|",
    ]
    for exposure, (to_frame, to_answer) in software.items():
        frame_p50, frame_p95 = percentiles_ms(to_frame)
        answer_p50, answer_p95 = percentiles_ms(to_answer)
        met = "met" if frame_p95 <= exposure + AIM_SOFTWARE_MARGIN_MS else "not met"
        lines.append(
            f"| {exposure:g} ms | {frame_p50:.2f} ms | {frame_p95:.2f} ms | {frame_p95 - exposure:.2f} ms "
            f"({(frame_p95 - exposure) / rtt_p50:.1f}) | {answer_p50:.2f} / {answer_p95:.2f} ms | {met} |"
        )
    lines += [
        "",
        f"The camera's own trigger-to-frame time is the exposure plus the readout, {EMULATED_READOUT_MS:.2f} ms for "
        f"{WIDTH}x{HEIGHT} on the emulator (emulator/README.md), so the service and the client add about "
        "p95 - exposure - readout; the aim (2 ms beyond the exposure) leaves 0.7 ms for that, less than two gRPC "
        "calls' worth, and is not met. Where the rest goes (the call, the camera thread's hand-off, the frame hub, "
        "the stream) was not broken down in this run.",
    ]
    event_p50, event_p95 = percentiles_ms(hardware)
    ping_p50, ping_p95 = percentiles_ms(pings)
    met = "met" if event_p95 < AIM_EVENT_MS else "not met"
    lines += [
        "",
        f"### Hardware trigger edge to WatchEvents delivery ({edges} edges, {EDGE_SPACING_S * 1000:g} ms apart)",
        "",
        "| edge -> event p50 | p95 | control socket round trip p50 / p95 (included) | missed triggers "
        f"| aim (p95 < {AIM_EVENT_MS:g} ms) |",
        "|---|---|---|---|---|",
        f"| {event_p50:.2f} ms | {event_p95:.2f} ms | {ping_p50:.2f} / {ping_p95:.2f} ms | {missed} | {met} |",
    ]
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer samples (50 of each)")
    parser.add_argument("--no-write", action="store_true", help="print only; do not update docs/benchmarks.md")
    args = parser.parse_args()
    count = 50 if args.quick else None
    body = asyncio.run(run(count or TRIGGERS, count or EDGES))
    print(body)
    if not args.no_write:
        write_section("Triggering and events", body)


if __name__ == "__main__":
    main()
