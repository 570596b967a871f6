"""Triggering, frame metadata and events over gRPC (issue 13): a real server on port 0, the generated stub, the
simulated camera and its test hooks (``inject_trigger``, ``set_input``, ``unplug``/``replug``).
"""

from __future__ import annotations

import asyncio
import itertools
import json
import logging
from collections.abc import AsyncIterator

import grpc
import pytest
from google.protobuf.field_mask_pb2 import FieldMask
from grpc_health.v1 import health_pb2

from camera_grpc.core.events import EVENT_QUEUE_SIZE, EventType
from camera_grpc.device.simulated import SimulatedCamera, TriggerOutcome
from camera_grpc.gen.camera.v1 import camera_pb2 as pb
from camera_grpc.logs import REQUEST_ID_KEY
from tests.rpc.test_settings_rpc import details
from tests.support import RunningService, ServiceFactory
from tests.support.waiting import eventually

SERVING = health_pb2.HealthCheckResponse.SERVING
SMALL_CAMERA: dict[str, object] = {"width": 320, "height": 240, "max_frame_rate_fps": 200}
#: Long enough that a second trigger right after the first arrives while the sensor is still busy.
LONG_EXPOSURE_MS = 300.0
#: A client deadline for a Capture that no trigger will satisfy, seconds.
SHORT_DEADLINE_S = 0.5
CALL_TIMEOUT_S = 10.0


@pytest.fixture
async def small(start_service: ServiceFactory) -> RunningService:
    return await start_service(driver=SimulatedCamera(**SMALL_CAMERA))  # type: ignore[arg-type]


async def set_trigger(service: RunningService, source: int, **fields: object) -> pb.UpdateSettingsResponse:
    settings = pb.CameraSettings(trigger=pb.Trigger(source=source, **fields))  # type: ignore[arg-type]
    return await service.stub.UpdateSettings(
        pb.UpdateSettingsRequest(settings=settings, update_mask=FieldMask(paths=["trigger"])), timeout=CALL_TIMEOUT_S
    )


async def set_exposure(service: RunningService, exposure_ms: float) -> None:
    await service.stub.UpdateSettings(pb.UpdateSettingsRequest(exposure_ms=exposure_ms), timeout=CALL_TIMEOUT_S)


class Events:
    """A WatchEvents stream, subscribed (the hub counts it) before the test goes on."""

    def __init__(self, call: grpc.aio.UnaryStreamCall) -> None:
        self.call = call
        self.received: list[pb.WatchEventsResponse] = []

    @classmethod
    async def open(cls, service: RunningService, *types: int) -> Events:
        hub = service.runtime.events
        before = hub.subscriber_count
        events = cls(service.stub.WatchEvents(pb.WatchEventsRequest(types=list(types)), timeout=60))
        await events.call.initial_metadata()
        await eventually(lambda: hub.subscriber_count > before, what="the WatchEvents subscription")
        return events

    async def until(self, event_type: int) -> list[pb.WatchEventsResponse]:
        """Read until an event of ``event_type``; returns what was read (all of it is kept in ``received``)."""
        read = []
        async for message in self.call:
            read.append(message)
            self.received.append(message)
            if message.event.type == event_type:
                return read
        raise AssertionError(f"the stream ended before {pb.EventType.Name(event_type)}")

    def types(self) -> list[str]:
        return [pb.EventType.Name(message.event.type) for message in self.received]


async def frames(service: RunningService) -> AsyncIterator[pb.FramesResponse]:
    call = service.stub.Frames(pb.FramesRequest(policy=pb.DELIVERY_POLICY_QUEUE, queue_depth=64), timeout=60)
    async for message in call:
        yield message


async def streaming(service: RunningService) -> None:
    await eventually(lambda: service.camera.is_streaming, what="the camera streams")


async def trigger_accepted(camera: SimulatedCamera) -> None:
    """Inject trigger edges until one starts an exposure (the camera arms once the worker streams)."""
    await eventually(lambda: camera.inject_trigger() is TriggerOutcome.ACCEPTED, what="a trigger was accepted")


# -- software triggers ---------------------------------------------------------------------------------------


async def test_trigger_count_equals_frame_count_over_a_run_of_software_triggers(small: RunningService) -> None:
    await set_trigger(small, pb.TRIGGER_SOURCE_SOFTWARE)
    runs = 12
    stream = frames(small)
    first_frame = asyncio.ensure_future(anext(stream))
    await eventually(lambda: small.runtime.frames.subscriber_count == 1, what="the Frames subscriber")
    answers = [
        await small.stub.SoftwareTrigger(pb.SoftwareTriggerRequest(), timeout=CALL_TIMEOUT_S) for _ in range(runs)
    ]
    delivered = [await first_frame] + [await anext(stream) for _ in range(runs - 1)]
    await stream.aclose()

    counts = [answer.metadata.trigger_count for answer in answers]
    assert counts == list(range(counts[0], counts[0] + runs)), "one trigger accepted per SoftwareTrigger"
    assert all(len(answer.frame_numbers) == 1 for answer in answers)
    assert [frame.frame_number for frame in delivered] == [answer.frame_numbers[0] for answer in answers]
    assert [frame.metadata.trigger_count for frame in delivered] == counts, "Frames got exactly the triggered frames"
    for frame in delivered:
        assert frame.metadata.trigger_source == pb.TRIGGER_SOURCE_SOFTWARE
        assert frame.metadata.frame_number == frame.frame_number
        assert frame.metadata.camera_clock == "simulated:SIM-0001"
    times = [frame.metadata.camera_time_s for frame in delivered]
    assert times == sorted(times) and len(set(times)) == runs


async def test_a_software_trigger_outside_software_mode_is_failed_precondition_naming_why(
    small: RunningService,
) -> None:
    for source in (pb.TRIGGER_SOURCE_FREE_RUNNING, pb.TRIGGER_SOURCE_HARDWARE):
        await set_trigger(small, source)
        with pytest.raises(grpc.aio.AioRpcError) as refused:
            await small.stub.SoftwareTrigger(pb.SoftwareTriggerRequest(), timeout=CALL_TIMEOUT_S)
        assert refused.value.code() == grpc.StatusCode.FAILED_PRECONDITION
        assert "trigger.source" in (refused.value.details() or "")
        _, info = details(refused.value)
        assert (info.reason, info.metadata["field"]) == ("TRIGGER_MODE", "trigger.source")


async def test_capture_in_software_mode_saves_exactly_the_frame_of_its_trigger(small: RunningService) -> None:
    await set_trigger(small, pb.TRIGGER_SOURCE_SOFTWARE)
    before = await small.stub.SoftwareTrigger(pb.SoftwareTriggerRequest(), timeout=CALL_TIMEOUT_S)
    saved = await small.stub.Capture(pb.CaptureRequest(format=pb.IMAGE_FORMAT_PNG), timeout=CALL_TIMEOUT_S)
    after = await small.stub.SoftwareTrigger(pb.SoftwareTriggerRequest(), timeout=CALL_TIMEOUT_S)

    assert saved.metadata.trigger_source == pb.TRIGGER_SOURCE_SOFTWARE
    assert saved.metadata.trigger_count == before.metadata.trigger_count + 1  # its own trigger, no other
    assert after.metadata.trigger_count == saved.metadata.trigger_count + 1
    assert saved.frame_number == saved.metadata.frame_number
    sidecar = json.loads((small.captures / saved.metadata_path.rsplit("/", 1)[1]).read_text())
    assert sidecar["metadata"]["trigger_source"] == "software"
    assert sidecar["metadata"]["trigger_count"] == saved.metadata.trigger_count
    assert sidecar["metadata"]["camera_time_s"] == pytest.approx(saved.metadata.camera_time_s)
    assert sidecar["metadata"]["camera_clock"] == saved.metadata.camera_clock == "simulated:SIM-0001"
    listed = await small.stub.ListCaptures(pb.ListCapturesRequest(), timeout=CALL_TIMEOUT_S)
    assert [summary.metadata for summary in listed.captures] == [saved.metadata]


# -- hardware triggers -----------------------------------------------------------------------------------


async def test_capture_in_hardware_mode_without_a_trigger_fails_at_the_deadline_and_changes_nothing(
    small: RunningService, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)
    settings = await set_trigger(small, pb.TRIGGER_SOURCE_HARDWARE)
    stream = frames(small)
    frame = asyncio.ensure_future(anext(stream))  # a live stream waits along
    await streaming(small)

    with pytest.raises(grpc.aio.AioRpcError) as expired:
        await small.stub.Capture(pb.CaptureRequest(), timeout=SHORT_DEADLINE_S)
    assert expired.value.code() == grpc.StatusCode.DEADLINE_EXCEEDED

    # The next trigger's frame goes to the live stream, not to the abandoned capture.
    await trigger_accepted(small.camera)
    delivered = await frame
    await stream.aclose()
    assert delivered.metadata.trigger_source == pb.TRIGGER_SOURCE_HARDWARE
    assert not small.captures.exists() or not any(small.captures.iterdir()), "no file written"
    now = await small.stub.GetSettings(pb.GetSettingsRequest(), timeout=CALL_TIMEOUT_S)
    assert now.settings.revision == settings.settings.revision, "no settings change"
    assert await small.health_status() == SERVING
    waits = [record for record in caplog.records if record.levelno >= logging.WARNING]
    assert not waits, f"waiting for a trigger is not a fault: {[record.getMessage() for record in waits]}"


async def test_capture_in_hardware_mode_saves_the_next_triggered_frame(small: RunningService) -> None:
    await set_trigger(small, pb.TRIGGER_SOURCE_HARDWARE)
    capture = asyncio.ensure_future(small.stub.Capture(pb.CaptureRequest(), timeout=CALL_TIMEOUT_S))
    await streaming(small)  # the capture's wait runs the stream
    await trigger_accepted(small.camera)
    saved = await capture
    assert saved.metadata.trigger_source == pb.TRIGGER_SOURCE_HARDWARE
    assert saved.metadata.trigger_count >= 1
    assert (small.captures / saved.filename).is_file()


async def test_a_hardware_trigger_during_readout_is_exactly_one_trigger_missed_event(small: RunningService) -> None:
    await set_exposure(small, LONG_EXPOSURE_MS)
    await set_trigger(small, pb.TRIGGER_SOURCE_HARDWARE)
    events = await Events.open(small)
    stream = frames(small)
    frame = asyncio.ensure_future(anext(stream))
    await streaming(small)
    await trigger_accepted(small.camera)
    # Right after an accepted trigger the sensor is still exposing (LONG_EXPOSURE_MS): the next edge is missed.
    await eventually(lambda: small.camera.inject_trigger() is TriggerOutcome.MISSED, what="a missed trigger")
    delivered = await frame
    await stream.aclose()
    await set_exposure(small, LONG_EXPOSURE_MS / 2)  # a marker: everything before it has been published

    await events.until(pb.EVENT_TYPE_SETTINGS_CHANGED)
    events.call.cancel()
    assert events.types().count("EVENT_TYPE_TRIGGER_MISSED") == 1
    missed = next(m.event for m in events.received if m.event.type == pb.EVENT_TYPE_TRIGGER_MISSED)
    triggers = [m.event for m in events.received if m.event.type == pb.EVENT_TYPE_HARDWARE_TRIGGER]
    assert missed.count == 1 and missed.camera_clock == "simulated:SIM-0001"
    assert triggers[-1].camera_time_s <= missed.camera_time_s
    assert delivered.metadata.camera_time_s > triggers[-2].camera_time_s  # the frame ends after its trigger
    assert sum(m.missed_events for m in events.received) == 0


async def test_a_disconnect_while_waiting_for_a_trigger_ends_the_waits_with_unavailable_and_reports_it(
    small: RunningService,
) -> None:
    settings = await set_trigger(small, pb.TRIGGER_SOURCE_HARDWARE)
    events = await Events.open(small)
    capture = asyncio.ensure_future(small.stub.Capture(pb.CaptureRequest(), timeout=CALL_TIMEOUT_S))
    live = small.stub.Frames(pb.FramesRequest(), timeout=CALL_TIMEOUT_S)
    await streaming(small)
    small.camera.unplug()

    with pytest.raises(grpc.aio.AioRpcError) as capture_failed:
        await capture
    assert capture_failed.value.code() == grpc.StatusCode.UNAVAILABLE
    with pytest.raises(grpc.aio.AioRpcError) as stream_failed:
        async for _ in live:
            pass
    assert stream_failed.value.code() == grpc.StatusCode.UNAVAILABLE
    await events.until(pb.EVENT_TYPE_CAMERA_DISCONNECTED)
    small.camera.replug()
    reconnected = (await events.until(pb.EVENT_TYPE_CAMERA_RECONNECTED))[-1].event
    events.call.cancel()

    assert events.types().count("EVENT_TYPE_CAMERA_DISCONNECTED") == 1
    assert reconnected.settings_revision > settings.settings.revision
    now = await small.stub.GetSettings(pb.GetSettingsRequest(), timeout=CALL_TIMEOUT_S)
    assert now.settings.revision == reconnected.settings_revision
    assert now.settings.trigger.source == pb.TRIGGER_SOURCE_HARDWARE, "the trigger setting was re-applied"
    assert await small.health_status() == SERVING


async def test_a_burst_gives_its_frames_one_trigger_count_indexed_and_a_frame_period_apart(
    small: RunningService,
) -> None:
    burst = 4
    await set_trigger(small, pb.TRIGGER_SOURCE_HARDWARE, mode=pb.TRIGGER_MODE_BURST, frames_per_trigger=burst)
    info = await small.stub.GetSettings(pb.GetSettingsRequest(), timeout=CALL_TIMEOUT_S)
    stream = frames(small)
    first = asyncio.ensure_future(anext(stream))
    await streaming(small)
    await trigger_accepted(small.camera)
    delivered = [await first] + [await anext(stream) for _ in range(burst - 1)]
    await stream.aclose()

    assert [frame.metadata.trigger_frame_index for frame in delivered] == list(range(burst))
    assert len({frame.metadata.trigger_count for frame in delivered}) == 1
    period_s = 1 / info.settings.actual_frame_rate_fps
    steps = [b.metadata.camera_time_s - a.metadata.camera_time_s for a, b in itertools.pairwise(delivered)]
    assert steps == pytest.approx([period_s] * (burst - 1), rel=1e-6)


# -- settings ------------------------------------------------------------------------------------------


async def test_a_trigger_change_while_frames_stream_restarts_acquisition_without_ending_the_stream(
    small: RunningService,
) -> None:
    stream = frames(small)
    assert (await anext(stream)).metadata.trigger_source == pb.TRIGGER_SOURCE_FREE_RUNNING
    await set_trigger(small, pb.TRIGGER_SOURCE_SOFTWARE)
    fired = await small.stub.SoftwareTrigger(pb.SoftwareTriggerRequest(), timeout=CALL_TIMEOUT_S)
    while (frame := await anext(stream)).frame_number != fired.frame_numbers[0]:
        assert frame.metadata.trigger_source == pb.TRIGGER_SOURCE_FREE_RUNNING  # in flight before the change
    assert frame.metadata.trigger_source == pb.TRIGGER_SOURCE_SOFTWARE
    await set_trigger(small, pb.TRIGGER_SOURCE_FREE_RUNNING)
    while (frame := await anext(stream)).metadata.trigger_source != pb.TRIGGER_SOURCE_FREE_RUNNING:
        pass
    await stream.aclose()


async def test_trigger_and_gpio_persist_across_a_restart_and_round_trip_through_a_preset(
    start_service: ServiceFactory,
) -> None:
    first = await start_service(driver=SimulatedCamera(**SMALL_CAMERA))  # type: ignore[arg-type]
    chosen = pb.CameraSettings(
        trigger=pb.Trigger(
            source=pb.TRIGGER_SOURCE_HARDWARE, mode=pb.TRIGGER_MODE_BURST, frames_per_trigger=3, delay_ms=1.5
        ),
        gpio=[pb.Gpio(line=1, mode=pb.GPIO_MODE_INPUT), pb.Gpio(line=2, mode=pb.GPIO_MODE_STROBE, duration_ms=2.0)],
    )
    applied = await first.stub.UpdateSettings(
        pb.UpdateSettingsRequest(settings=chosen, update_mask=FieldMask(paths=["trigger", "gpio"])),
        timeout=CALL_TIMEOUT_S,
    )
    await first.stub.CreatePreset(pb.CreatePresetRequest(preset_id="triggered"), timeout=CALL_TIMEOUT_S)
    await set_trigger(first, pb.TRIGGER_SOURCE_FREE_RUNNING)
    restored = await first.stub.ApplyPreset(pb.ApplyPresetRequest(name="presets/triggered"), timeout=CALL_TIMEOUT_S)
    assert restored.settings.trigger == applied.settings.trigger
    assert list(restored.settings.gpio) == list(applied.settings.gpio)
    await first.runtime.aclose()

    second = await start_service(driver=SimulatedCamera(**SMALL_CAMERA))  # type: ignore[arg-type]  # same STATE_PATH
    again = await second.stub.GetSettings(pb.GetSettingsRequest(), timeout=CALL_TIMEOUT_S)
    assert again.settings.trigger == applied.settings.trigger
    assert list(again.settings.gpio) == list(applied.settings.gpio)


# -- I/O and events ------------------------------------------------------------------------------------------


async def test_io_status_reads_input_levels_and_temperatures_and_an_input_edge_is_an_event(
    small: RunningService,
) -> None:
    gpio = pb.CameraSettings(gpio=[pb.Gpio(line=1, mode=pb.GPIO_MODE_INPUT)])
    await small.stub.UpdateSettings(
        pb.UpdateSettingsRequest(settings=gpio, update_mask=FieldMask(paths=["gpio"])), timeout=CALL_TIMEOUT_S
    )
    events = await Events.open(small, pb.EVENT_TYPE_GPIO_INPUT)
    small.camera.set_input(True)
    status = await small.stub.GetIoStatus(pb.GetIoStatusRequest(), timeout=CALL_TIMEOUT_S)
    edge = (await events.until(pb.EVENT_TYPE_GPIO_INPUT))[-1]
    events.call.cancel()

    line = next(line for line in status.lines if line.line == 1)
    assert (line.mode, line.high) == (pb.GPIO_MODE_INPUT, True)
    assert status.HasField("sensor_temperature_c") and status.HasField("body_temperature_c")
    assert (edge.event.line, edge.event.high) == (1, True)
    assert events.types() == ["EVENT_TYPE_GPIO_INPUT"], "the filter let only GPIO input events through"


async def test_events_arrive_in_order_without_gaps_settings_and_captures_included(small: RunningService) -> None:
    events = await Events.open(small)
    changes = 5
    for index in range(changes):
        await small.stub.UpdateSettings(pb.UpdateSettingsRequest(gain_db=float(index)), timeout=CALL_TIMEOUT_S)
    saved = await small.stub.Capture(pb.CaptureRequest(), timeout=CALL_TIMEOUT_S)
    read = await events.until(pb.EVENT_TYPE_CAPTURE_SAVED)
    events.call.cancel()

    numbers = [message.event.sequence_number for message in read]
    assert numbers == list(range(numbers[0], numbers[0] + len(numbers)))
    assert all(message.missed_events == 0 for message in read)
    changed = [message.event for message in read if message.event.type == pb.EVENT_TYPE_SETTINGS_CHANGED]
    assert len(changed) == changes and {event.cause for event in changed} == {"update"}
    revisions = [event.settings_revision for event in changed]
    assert revisions == list(range(revisions[0], revisions[0] + changes))
    assert read[-1].event.filename == saved.filename


async def test_watch_events_headers_come_once_subscribed_so_an_event_right_after_them_arrives(
    small: RunningService,
) -> None:
    hub = small.runtime.events
    call = small.stub.WatchEvents(pb.WatchEventsRequest(types=[pb.EVENT_TYPE_CAPTURE_SAVED]), timeout=60)
    headers = dict(await call.initial_metadata())
    assert hub.subscriber_count == 1  # no waiting: the headers mean subscribed
    assert headers.get(REQUEST_ID_KEY)  # and still carry the request id
    taken = await small.stub.Capture(pb.CaptureRequest(), timeout=CALL_TIMEOUT_S)
    got = await anext(aiter(call))
    assert got.event.filename == taken.filename
    call.cancel()


async def test_a_slow_subscriber_is_told_exactly_how_many_events_it_missed(small: RunningService) -> None:
    events = await Events.open(small)
    hub = small.runtime.events
    published = 3 * EVENT_QUEUE_SIZE
    for index in range(published):  # all at once on the loop: the stream cannot read in between
        hub.publish(EventType.CAPTURE_SAVED, f"event {index}", filename=f"capture_{index}.png")
    last = hub.last_sequence_number
    read = await events.until(pb.EVENT_TYPE_CAPTURE_SAVED)
    while read[-1].event.sequence_number != last:
        read += await events.until(pb.EVENT_TYPE_CAPTURE_SAVED)
    events.call.cancel()

    assert len(read) == EVENT_QUEUE_SIZE
    assert read[0].missed_events == published - EVENT_QUEUE_SIZE
    previous = read[0].event.sequence_number - 1 - read[0].missed_events
    for message in read:
        assert message.event.sequence_number == previous + 1 + message.missed_events
        previous = message.event.sequence_number
    assert sum(message.missed_events for message in read) == published - EVENT_QUEUE_SIZE


async def test_the_event_stream_ends_after_service_stopping(small: RunningService) -> None:
    events = await Events.open(small)
    small.runtime.stop_events()  # what shutting down does first
    read = [message async for message in events.call]
    assert read[-1].event.type == pb.EVENT_TYPE_SERVICE_STOPPING
    assert await events.call.code() == grpc.StatusCode.OK
    with pytest.raises(grpc.aio.AioRpcError) as late:
        async for _ in small.stub.WatchEvents(pb.WatchEventsRequest(), timeout=CALL_TIMEOUT_S):
            pass
    assert late.value.code() == grpc.StatusCode.UNAVAILABLE


async def test_an_unknown_event_type_in_the_filter_is_invalid_argument(small: RunningService) -> None:
    with pytest.raises(grpc.aio.AioRpcError) as refused:
        async for _ in small.stub.WatchEvents(pb.WatchEventsRequest(types=[pb.EVENT_TYPE_UNSPECIFIED])):
            pass
    assert refused.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert "types" in (refused.value.details() or "")


async def test_triggers_missed_triggers_and_events_are_counted_in_the_metrics(small: RunningService) -> None:
    metrics = small.runtime.metrics
    assert metrics is not None

    def value(name: str, **labels: str) -> float:
        return metrics.registry.get_sample_value(f"camera_grpc_{name}", labels) or 0.0

    await set_trigger(small, pb.TRIGGER_SOURCE_SOFTWARE)
    fired = 3
    for _ in range(fired):
        await small.stub.SoftwareTrigger(pb.SoftwareTriggerRequest(), timeout=CALL_TIMEOUT_S)
    await small.stub.Capture(pb.CaptureRequest(), timeout=CALL_TIMEOUT_S)
    assert value("triggers_total", source="software") == fired + 1
    assert value("events_total", type="capture_saved") == 1

    await set_exposure(small, LONG_EXPOSURE_MS)
    await set_trigger(small, pb.TRIGGER_SOURCE_HARDWARE)
    stream = frames(small)
    frame = asyncio.ensure_future(anext(stream))
    await streaming(small)
    await trigger_accepted(small.camera)
    await eventually(lambda: small.camera.inject_trigger() is TriggerOutcome.MISSED, what="a missed trigger")
    await frame
    await stream.aclose()
    hub = small.runtime.events
    await eventually(lambda: value("triggers_missed_total") == 1, what="the missed trigger counted")
    assert value("triggers_total", source="hardware") == value("events_total", type="hardware_trigger") >= 2
    assert value("events_total", type="settings_changed") >= 3
    assert sum(value("events_total", type=kind.value) for kind in EventType) == hub.last_sequence_number
