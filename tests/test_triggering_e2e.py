"""Triggering end to end on the PixeLINK SDK emulator (issue 13): the service (in this process) over the PixeLINK
driver and the unmodified pixelinkWrapper bound to the emulator; real gRPC calls; the emulator as the witness
(its trigger counts) and the hardware (trigger edges, bursts, the input line, unplug).
"""

from __future__ import annotations

import asyncio
import itertools
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import grpc
import pytest
from google.protobuf.field_mask_pb2 import FieldMask
from grpc_health.v1 import health_pb2

from camera_grpc.gen.camera.v1 import camera_pb2 as pb
from tests.support import RunningService, ServiceFactory
from tests.support.emulator_fixtures import use_emulator_sdk
from tests.support.pxlemu import EmulatorControl
from tests.support.waiting import eventually

SERIAL = 700000001
PROFILE = f"cameras={SERIAL}:320x240"
CLOCK = f"pixelink:{SERIAL}"
SERVING = health_pb2.HealthCheckResponse.SERVING
CALL_TIMEOUT_S = 10.0
SHORT_DEADLINE_S = 0.5
#: The emulator's PxLEmu_SetInput / TriggerPulse results.
TRIGGER_ACCEPTED, TRIGGER_MISSED = 1, 2
#: Long enough that a second pulse right after an accepted one finds the camera busy, milliseconds.
LONG_EXPOSURE_MS = 300.0
BURST_COUNT = 5
BURST_PERIOD_S = 0.05
#: How far a burst frame's camera time step may be from the trigger period (a period is not 0 nor 2 periods), s.
BURST_STEP_TOLERANCE_S = BURST_PERIOD_S / 2


@pytest.fixture
def pixelink_env(monkeypatch: pytest.MonkeyPatch, emulator: EmulatorControl, emulator_dir: Path) -> None:
    use_emulator_sdk(monkeypatch, emulator, emulator_dir, PROFILE)


@pytest.fixture
async def camera(pixelink_env: None, start_service: ServiceFactory) -> RunningService:
    from camera_grpc.device.pixelink import PixelinkCamera

    return await start_service(driver=PixelinkCamera())


async def set_trigger(service: RunningService, source: int, **fields: Any) -> pb.UpdateSettingsResponse:
    settings = pb.CameraSettings(trigger=pb.Trigger(source=source, **fields))
    return await service.stub.UpdateSettings(
        pb.UpdateSettingsRequest(settings=settings, update_mask=FieldMask(paths=["trigger"])), timeout=CALL_TIMEOUT_S
    )


async def open_events(service: RunningService, *types: int) -> grpc.aio.UnaryStreamCall:
    hub = service.runtime.events
    before = hub.subscriber_count
    call = service.stub.WatchEvents(pb.WatchEventsRequest(types=list(types)), timeout=60)
    await call.initial_metadata()
    await eventually(lambda: hub.subscriber_count > before, what="the WatchEvents subscription")
    return call


async def read_until(call: grpc.aio.UnaryStreamCall, event_type: int) -> list[pb.WatchEventsResponse]:
    read = []
    async for message in call:
        read.append(message)
        if message.event.type == event_type:
            return read
    raise AssertionError(f"the stream ended before {pb.EventType.Name(event_type)}")


async def live(service: RunningService) -> AsyncIterator[pb.FramesResponse]:
    async for message in service.stub.Frames(
        pb.FramesRequest(policy=pb.DELIVERY_POLICY_QUEUE, queue_depth=64), timeout=60
    ):
        yield message


async def grab_waiting(emulator: EmulatorControl) -> None:
    await eventually(lambda: emulator.waiting_grabs(SERIAL) > 0, what="a grab waits for a trigger")


async def test_trigger_count_equals_frame_count_over_software_triggers(
    camera: RunningService, emulator: EmulatorControl
) -> None:
    await set_trigger(camera, pb.TRIGGER_SOURCE_SOFTWARE)
    accepted_before = emulator.trigger_counts(SERIAL)[0]
    runs = 10
    answers = [
        await camera.stub.SoftwareTrigger(pb.SoftwareTriggerRequest(), timeout=CALL_TIMEOUT_S) for _ in range(runs)
    ]
    counts = [answer.metadata.trigger_count for answer in answers]
    assert counts == list(range(counts[0], counts[0] + runs))
    assert emulator.trigger_counts(SERIAL)[0] - accepted_before == runs, "one trigger per call, as the camera counts"
    assert len({answer.frame_numbers[0] for answer in answers}) == runs
    for answer in answers:
        assert answer.metadata.trigger_source == pb.TRIGGER_SOURCE_SOFTWARE
        assert answer.metadata.camera_clock == CLOCK
    times = [answer.metadata.camera_time_s for answer in answers]
    assert all(later > earlier for earlier, later in itertools.pairwise(times))

    saved = await camera.stub.Capture(pb.CaptureRequest(), timeout=CALL_TIMEOUT_S)
    assert saved.metadata.trigger_count == counts[-1] + 1, "Capture fired and saved exactly its own trigger"
    assert emulator.trigger_counts(SERIAL)[0] - accepted_before == runs + 1


async def test_hardware_capture_without_a_trigger_is_deadline_exceeded_and_changes_nothing(
    camera: RunningService, emulator: EmulatorControl
) -> None:
    settings = await set_trigger(camera, pb.TRIGGER_SOURCE_HARDWARE)
    with pytest.raises(grpc.aio.AioRpcError) as expired:
        await camera.stub.Capture(pb.CaptureRequest(), timeout=SHORT_DEADLINE_S)
    assert expired.value.code() == grpc.StatusCode.DEADLINE_EXCEEDED
    assert not camera.captures.exists() or not any(camera.captures.iterdir())
    now = await camera.stub.GetSettings(pb.GetSettingsRequest(), timeout=CALL_TIMEOUT_S)
    assert now.settings.revision == settings.settings.revision
    assert now.connected and await camera.health_status() == SERVING

    # A capture gets a triggered frame. (Edges until it has one: an edge that comes while the stream the abandoned
    # capture ran is stopping, or between two waits, is lost, as on a camera.)
    capture = asyncio.ensure_future(camera.stub.Capture(pb.CaptureRequest(), timeout=CALL_TIMEOUT_S))
    await eventually(lambda: capture.done() or pulse_and_wait(emulator), what="a triggered capture")
    saved = await capture
    assert saved.metadata.trigger_source == pb.TRIGGER_SOURCE_HARDWARE
    assert (camera.captures / saved.filename).is_file()


async def test_a_trigger_during_readout_is_exactly_one_trigger_missed_event(
    camera: RunningService, emulator: EmulatorControl
) -> None:
    await camera.stub.UpdateSettings(pb.UpdateSettingsRequest(exposure_ms=LONG_EXPOSURE_MS), timeout=CALL_TIMEOUT_S)
    await set_trigger(camera, pb.TRIGGER_SOURCE_HARDWARE)
    events = await open_events(camera, pb.EVENT_TYPE_TRIGGER_MISSED, pb.EVENT_TYPE_SETTINGS_CHANGED)
    frames = live(camera)
    frame = asyncio.ensure_future(anext(frames))
    await grab_waiting(emulator)
    await eventually(lambda: emulator.trigger_pulse(SERIAL) == TRIGGER_ACCEPTED, what="an accepted trigger")
    await eventually(lambda: emulator.trigger_pulse(SERIAL) == TRIGGER_MISSED, what="a missed trigger")
    delivered = await frame
    await frames.aclose()
    await camera.stub.UpdateSettings(pb.UpdateSettingsRequest(gain_db=1.0), timeout=CALL_TIMEOUT_S)  # a marker
    read = await read_until(events, pb.EVENT_TYPE_SETTINGS_CHANGED)
    events.cancel()

    missed = [message.event for message in read if message.event.type == pb.EVENT_TYPE_TRIGGER_MISSED]
    assert len(missed) == 1 and missed[0].count == 1
    assert emulator.trigger_counts(SERIAL)[1] == 1, "the camera counted one missed trigger too"
    assert delivered.metadata.trigger_source == pb.TRIGGER_SOURCE_HARDWARE


async def test_a_burst_of_edges_gives_one_frame_each_a_trigger_period_apart(
    camera: RunningService, emulator: EmulatorControl
) -> None:
    await set_trigger(camera, pb.TRIGGER_SOURCE_HARDWARE)
    events = await open_events(camera, pb.EVENT_TYPE_HARDWARE_TRIGGER)
    frames = live(camera)
    first = asyncio.ensure_future(anext(frames))
    await grab_waiting(emulator)
    emulator.trigger_burst(SERIAL, BURST_COUNT, BURST_PERIOD_S)
    delivered = [await first] + [await anext(frames) for _ in range(BURST_COUNT - 1)]
    await frames.aclose()
    edges = [message.event async for message in _take(events, BURST_COUNT)]
    events.cancel()

    counts = [frame.metadata.trigger_count for frame in delivered]
    assert counts == list(range(counts[0], counts[0] + BURST_COUNT)), "one frame per trigger, none lost"
    assert emulator.trigger_counts(SERIAL)[0] == counts[-1]
    steps = [b.metadata.camera_time_s - a.metadata.camera_time_s for a, b in itertools.pairwise(delivered)]
    assert steps == pytest.approx([BURST_PERIOD_S] * (BURST_COUNT - 1), abs=BURST_STEP_TOLERANCE_S)
    assert {frame.metadata.camera_clock for frame in delivered} == {CLOCK}
    assert [edge.count for edge in edges] == sorted(edge.count for edge in edges)


async def _take(call: grpc.aio.UnaryStreamCall, count: int) -> AsyncIterator[pb.WatchEventsResponse]:
    taken = 0
    async for message in call:
        yield message
        taken += 1
        if taken == count:
            return


async def test_a_disconnect_while_waiting_for_a_trigger_ends_waits_with_unavailable_then_reconnects(
    camera: RunningService, emulator: EmulatorControl
) -> None:
    settings = await set_trigger(camera, pb.TRIGGER_SOURCE_HARDWARE)
    events = await open_events(camera, pb.EVENT_TYPE_CAMERA_DISCONNECTED, pb.EVENT_TYPE_CAMERA_RECONNECTED)
    capture = asyncio.ensure_future(camera.stub.Capture(pb.CaptureRequest(), timeout=CALL_TIMEOUT_S))
    await grab_waiting(emulator)
    emulator.unplug(SERIAL)
    with pytest.raises(grpc.aio.AioRpcError) as failed:
        await capture
    assert failed.value.code() == grpc.StatusCode.UNAVAILABLE
    await read_until(events, pb.EVENT_TYPE_CAMERA_DISCONNECTED)
    emulator.replug(SERIAL)
    reconnected = (await read_until(events, pb.EVENT_TYPE_CAMERA_RECONNECTED))[-1].event
    events.cancel()
    assert reconnected.settings_revision > settings.settings.revision
    now = await camera.stub.GetSettings(pb.GetSettingsRequest(), timeout=CALL_TIMEOUT_S)
    assert now.settings.trigger.source == pb.TRIGGER_SOURCE_HARDWARE
    await camera.wait_for_health(SERVING)


async def test_io_status_reads_the_input_line_and_temperatures(
    camera: RunningService, emulator: EmulatorControl
) -> None:
    gpio = pb.CameraSettings(gpio=[pb.Gpio(line=1, mode=pb.GPIO_MODE_INPUT)])
    await camera.stub.UpdateSettings(
        pb.UpdateSettingsRequest(settings=gpio, update_mask=FieldMask(paths=["gpio"])), timeout=CALL_TIMEOUT_S
    )
    emulator.set_temperature(SERIAL, 41.5, 44.0)
    emulator.set_gpi(SERIAL, 1)
    status = await camera.stub.GetIoStatus(pb.GetIoStatusRequest(), timeout=CALL_TIMEOUT_S)
    line = next(line for line in status.lines if line.line == 1)
    assert (line.mode, line.high) == (pb.GPIO_MODE_INPUT, True)
    assert status.sensor_temperature_c == pytest.approx(41.5)
    emulator.set_gpi(SERIAL, 0)
    status = await camera.stub.GetIoStatus(pb.GetIoStatusRequest(), timeout=CALL_TIMEOUT_S)
    assert not next(line for line in status.lines if line.line == 1).high


def pulse_and_wait(emulator: EmulatorControl) -> bool:
    """One trigger pulse; False, so that ``eventually`` looks again (and pulses again until the capture has its
    frame: a pulse that found the trigger disarmed, or whose frame nobody waited for, does not end the wait)."""
    emulator.trigger_pulse(SERIAL)
    return False
