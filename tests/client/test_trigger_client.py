"""The clients' trigger, I/O and event calls (issue 13): software_trigger, io_status, watch_events (blocking and
asyncio), trigger and gpio through update_settings, frame metadata; the request building alone, then both clients
against a real service on the default simulated camera (GPIO lines 1 and 2)."""

from __future__ import annotations

import asyncio

import grpc
import pytest

from camera_grpc.client import AsyncCameraClient, CameraClient, CameraRpcError, SettingsValueError, update_request
from camera_grpc.client.camera import events_request
from camera_grpc.client.settings import parse_value
from camera_grpc.gen.camera.v1 import camera_pb2 as pb
from tests.support import STATE_TIMEOUT_S, RunningService, eventually

# -- building requests (no service) ---------------------------------------------------------------


def test_a_gpio_list_is_replaced_whole_from_messages_or_mappings() -> None:
    request = update_request(
        {"gpio": [pb.Gpio(line=1, mode=pb.GPIO_MODE_STROBE, duration_ms=2.0), {"line": 2, "mode": "input"}]}
    )
    assert list(request.update_mask.paths) == ["gpio"]
    assert [(line.line, line.mode) for line in request.settings.gpio] == [
        (1, pb.GPIO_MODE_STROBE),
        (2, pb.GPIO_MODE_INPUT),
    ]
    assert list(update_request({"gpio": []}).update_mask.paths) == ["gpio"]  # no line configured: still named


@pytest.mark.parametrize(
    ("values", "message"),
    [
        ({"gpio": {"line": 1}}, "gpio: is a list"),
        ({"gpio": [{"line": 1, "colour": "red"}]}, "gpio[0].colour: not a part of gpio"),
        ({"gpio": [{"line": 1, "mode": "sometimes"}]}, "gpio.mode: must be one of off, strobe"),
        ({"gpio": [pb.Trigger()]}, "gpio[0]: must be a camera.v1.Gpio"),
        ({"trigger": {"source": "now"}}, "trigger.source: must be one of free_running, software, hardware"),
    ],
)
def test_a_trigger_or_gpio_the_client_cannot_send_is_an_error_naming_it(
    values: dict[str, object], message: str
) -> None:
    with pytest.raises(SettingsValueError) as raised:
        update_request(values)
    assert message in str(raised.value)


def test_command_line_trigger_paths_and_a_gpio_list_as_json() -> None:
    assert parse_value("trigger.source", "software") == pb.TRIGGER_SOURCE_SOFTWARE
    assert parse_value("trigger.delay_ms", "1.5") == 1.5
    assert parse_value("gpio", '[{"line": 1, "mode": "strobe"}]') == [{"line": 1, "mode": "strobe"}]
    with pytest.raises(SettingsValueError, match="gpio: is a list: give it whole as a JSON list"):
        parse_value("gpio", "strobe")


def test_event_types_by_short_name_full_name_or_number() -> None:
    request = events_request(["trigger_missed", "EVENT_TYPE_FRAMES_SKIPPED", pb.EVENT_TYPE_CAPTURE_SAVED])
    assert list(request.types) == [
        pb.EVENT_TYPE_TRIGGER_MISSED,
        pb.EVENT_TYPE_FRAMES_SKIPPED,
        pb.EVENT_TYPE_CAPTURE_SAVED,
    ]
    assert list(events_request().types) == []
    with pytest.raises(SettingsValueError, match="types: must be one of camera_connected"):
        events_request(["sunrise"])


# -- against the service ---------------------------------------------------------------------------------


async def test_a_software_trigger_returns_its_frame_which_a_frames_subscriber_gets_too(service: RunningService) -> None:
    async with AsyncCameraClient(service.address) as camera:
        applied = await camera.update_settings(trigger={"source": "software"})
        assert applied.settings.trigger.source == pb.TRIGGER_SOURCE_SOFTWARE
        async with camera.frames(encoding=pb.FRAME_ENCODING_RAW) as frames:
            fired = await camera.software_trigger()
            (number,) = fired.frame_numbers
            frame = await asyncio.wait_for(anext(frames), STATE_TIMEOUT_S)
            while frame.frame_number < number:  # (a frame of the free-running camera may have been on its way)
                frame = await asyncio.wait_for(anext(frames), STATE_TIMEOUT_S)
        assert frame.frame_number == number
        assert frame.metadata == fired.metadata
        assert fired.metadata.trigger_source == pb.TRIGGER_SOURCE_SOFTWARE
        again = await camera.software_trigger()
        assert again.metadata.trigger_count == fired.metadata.trigger_count + 1
        saved = await camera.capture()
        assert saved.metadata.trigger_source == pb.TRIGGER_SOURCE_SOFTWARE
        assert saved.metadata.trigger_count == again.metadata.trigger_count + 1  # the capture fired its own
        assert saved.metadata.frame_number == saved.frame_number


async def test_a_trigger_outside_software_mode_is_failed_precondition_with_its_reason(
    service: RunningService,
) -> None:
    def trigger() -> CameraRpcError:
        with CameraClient(service.address) as camera, pytest.raises(CameraRpcError) as raised:
            camera.software_trigger()
        return raised.value

    error = await asyncio.to_thread(trigger)
    assert (error.code, error.reason) == (grpc.StatusCode.FAILED_PRECONDITION, "TRIGGER_MODE")
    assert "free_running" in error.details


async def test_io_status_reads_the_lines_as_configured(service: RunningService) -> None:
    async with AsyncCameraClient(service.address) as camera:
        await camera.update_settings(gpio=[{"line": 1, "mode": "input"}, pb.Gpio(line=2, mode=pb.GPIO_MODE_NORMAL)])
        service.camera.set_input(True)
        status = await camera.io_status()
    assert [(line.line, line.mode, line.high) for line in status.lines] == [
        (1, pb.GPIO_MODE_INPUT, True),
        (2, pb.GPIO_MODE_NORMAL, False),
    ]

    def blocking() -> pb.GetIoStatusResponse:
        with CameraClient(service.address) as camera:
            return camera.io_status()

    assert (await asyncio.to_thread(blocking)).lines == status.lines


async def test_watch_events_delivers_only_the_types_asked_for(service: RunningService) -> None:
    async with (
        AsyncCameraClient(service.address) as camera,
        camera.watch_events(["settings_changed"]) as settings_events,
        camera.watch_events([pb.EVENT_TYPE_CAPTURE_SAVED]) as capture_events,
    ):
        await eventually(lambda: service.runtime.events.subscriber_count == 2, what="the watches subscribed")
        applied = await camera.update_settings(gamma=2.0)
        saved = await camera.capture()
        changed = await asyncio.wait_for(anext(settings_events), STATE_TIMEOUT_S)
        captured = await asyncio.wait_for(anext(capture_events), STATE_TIMEOUT_S)  # not the change before it
    assert (changed.event.type, changed.event.settings_revision, changed.event.cause) == (
        pb.EVENT_TYPE_SETTINGS_CHANGED,
        applied.settings.revision,
        "update",
    )
    assert (captured.event.type, captured.event.filename) == (pb.EVENT_TYPE_CAPTURE_SAVED, saved.filename)
    assert captured.event.sequence_number > changed.event.sequence_number
    assert changed.missed_events == captured.missed_events == 0


async def test_the_blocking_watch_of_events_ends_when_cancelled(service: RunningService) -> None:
    def watch() -> list[pb.WatchEventsResponse]:
        with CameraClient(service.address) as camera, camera.watch_events(["camera_disconnected"]) as events:
            first = next(events)
            events.cancel()
            return [first, *events]  # nothing more: the stream ended

    watching = asyncio.ensure_future(asyncio.to_thread(watch))
    await eventually(lambda: service.runtime.events.subscriber_count == 1, what="the watch subscribed")
    service.camera.unplug()
    received = await asyncio.wait_for(watching, STATE_TIMEOUT_S)
    assert [message.event.type for message in received] == [pb.EVENT_TYPE_CAMERA_DISCONNECTED]
