"""The client subcommands of ``camera-grpc`` (capture, settings, info, watch), run as real processes
(``python -m camera_grpc``) against a real service on port 0."""

from __future__ import annotations

import asyncio
import json
import os
import re
import signal
import sys
import threading
import time
from dataclasses import dataclass
from pathlib import Path

import pytest

from camera_grpc.client.cli import CtrlC, StreamStats, default_target, message_json, watch_intro
from camera_grpc.gen.camera.v1 import camera_pb2 as pb
from tests.support import STATE_TIMEOUT_S, RunningService, closed_port, eventually, make_settings

SUMMARY = re.compile(
    r"^(?P<frames>\d+) frames in (?P<seconds>[\d.]+) s: (?P<fps>[\d.]+) fps, (?P<dropped>\d+) dropped"
    r"(, camera frames (?P<first>\d+)-(?P<last>\d+))?$",
    re.MULTILINE,
)

ANSI_ESCAPE = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]")


@dataclass
class Result:
    returncode: int
    stdout: str
    stderr: str

    def json(self) -> dict[str, object]:
        assert self.returncode == 0, self.stderr
        parsed: dict[str, object] = json.loads(self.stdout)
        return parsed


async def camera_grpc(
    cwd: Path, *args: str, env: dict[str, str] | None = None, started: asyncio.Event | None = None
) -> Result:
    """Run ``python -m camera_grpc ARGS`` without blocking the loop the service runs on."""
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "camera_grpc",
        *args,
        cwd=cwd,  # no .env there
        env={**os.environ, **(env or {})},
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    stdout, stderr = await asyncio.wait_for(process.communicate(), timeout=60)
    assert process.returncode is not None
    return Result(process.returncode, stdout.decode(), stderr.decode())


async def test_info_prints_the_camera_as_json(service: RunningService, tmp_path: Path) -> None:
    info = (await camera_grpc(tmp_path, "info", "--target", service.address)).json()
    assert info["driver"] == "CAMERA_DRIVER_SIMULATED"
    assert (info["sensor_width"], info["sensor_height"]) == (2448, 2048)
    assert "PIXEL_FORMAT_MONO8" in info["supported_pixel_formats"]  # type: ignore[operator]
    assert any(feature["name"] == "roi.width" for feature in info["features"])  # type: ignore[attr-defined]
    assert info["connected"] is True
    assert list(info) == [field.name for field in pb.GetCameraInfoResponse.DESCRIPTOR.fields]


def test_json_output_keeps_the_proto_order_in_nested_messages_and_leaves_out_empty_bytes() -> None:
    page = pb.ListCapturesResponse(captures=[pb.CaptureSummary(filename="a.png", gain_db=0.0, exposure_ms=5.0)])
    printed = json.loads(message_json(page))
    assert list(printed) == ["captures", "next_page_token"]
    unset = ("captured_at", "metadata", "location")  # messages, unset
    names = [field.name for field in pb.CaptureSummary.DESCRIPTOR.fields if field.name not in unset]
    assert list(printed["captures"][0]) == names
    stored = json.loads(message_json(pb.GetCaptureResponse(content_type="image/png", data=b"\x89PNG")))
    assert stored == {"content_type": "image/png", "data": "iVBORw=="}
    assert "data" not in json.loads(message_json(pb.GetCaptureResponse()))


async def test_settings_prints_and_changes_the_settings(service: RunningService, tmp_path: Path) -> None:
    before = (await camera_grpc(tmp_path, "settings", "--target", service.address)).json()
    assert (before["exposure_ms"], before["gain_db"]) == (2.0, 0.0)
    applied = (
        await camera_grpc(tmp_path, "settings", "--target", service.address, "--exposure-ms", "12.5", "--gain-db", "3")
    ).json()
    assert (applied["exposure_ms"], applied["gain_db"]) == (12.5, 3.0)
    current = await service.stub.GetSettings(pb.GetSettingsRequest())
    assert (current.exposure_ms, current.gain_db) == (12.5, 3.0)


async def test_capture_prints_the_metadata_of_the_saved_file(service: RunningService, tmp_path: Path) -> None:
    saved = (await camera_grpc(tmp_path, "capture", "--target", service.address, "--exposure-ms", "5")).json()
    assert saved["format"] == "IMAGE_FORMAT_JPEG"  # the service's default
    assert saved["exposure_ms"] == 5.0
    assert Path(str(saved["path"])).parent == service.captures
    assert Path(str(saved["path"])).stat().st_size == int(str(saved["size_bytes"]))
    # Every field in the proto's order, zero values in place; no image_data: not asked for.
    assert list(saved) == [field.name for field in pb.CaptureResponse.DESCRIPTOR.fields if field.name != "image_data"]
    assert saved["gain_db"] == 0.0


async def test_capture_output_saves_the_image_bytes(service: RunningService, tmp_path: Path) -> None:
    output = tmp_path / "frame.png"
    result = await camera_grpc(
        tmp_path, "capture", "--target", service.address, "--format", "png", "--output", str(output)
    )
    saved = result.json()
    assert saved["format"] == "IMAGE_FORMAT_PNG"
    assert output.read_bytes() == Path(str(saved["path"])).read_bytes()
    assert output.read_bytes().startswith(b"\x89PNG")
    assert "image_data" not in saved  # the bytes went to the file, not the terminal
    assert f"saved {output.stat().st_size} bytes to {output}" in result.stderr


async def test_an_invalid_exposure_is_one_error_line_and_a_failure_status(
    service: RunningService, tmp_path: Path
) -> None:
    result = await camera_grpc(tmp_path, "settings", "--target", service.address, "--exposure-ms", "-1")
    assert result.returncode == 1
    assert result.stdout == ""
    lines = result.stderr.splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("camera-grpc: INVALID_ARGUMENT: ")
    assert "exposure_ms" in lines[0]


async def test_the_timeout_option_is_the_call_deadline(service: RunningService, tmp_path: Path) -> None:
    result = await camera_grpc(
        tmp_path, "capture", "--target", service.address, "--exposure-ms", "1500", "--timeout", "0.3"
    )
    assert result.returncode == 1
    assert result.stderr.startswith("camera-grpc: DEADLINE_EXCEEDED: ")


async def test_an_unreachable_service_is_reported_as_unavailable(tmp_path: Path) -> None:
    result = await camera_grpc(tmp_path, "info", "--target", f"127.0.0.1:{closed_port()}")
    assert result.returncode == 1
    assert result.stderr.startswith("camera-grpc: UNAVAILABLE: ")


async def test_the_target_defaults_to_the_configured_grpc_address(service: RunningService, tmp_path: Path) -> None:
    info = (await camera_grpc(tmp_path, "info", env={"GRPC_HOST": "0.0.0.0", "GRPC_PORT": str(service.port)})).json()
    assert info["driver"] == "CAMERA_DRIVER_SIMULATED"


@pytest.mark.parametrize(
    ("host", "target"),
    [("127.0.0.1", "127.0.0.1:7"), ("0.0.0.0", "127.0.0.1:7"), ("::", "[::1]:7"), ("camera-host", "camera-host:7")],
)
def test_default_target_reaches_a_wildcard_listener_on_loopback(tmp_path: Path, host: str, target: str) -> None:
    assert default_target(make_settings(tmp_path, grpc_host=host, grpc_port=7)) == target


async def test_watch_counts_frames_and_prints_a_summary(service: RunningService, tmp_path: Path) -> None:
    result = await camera_grpc(
        tmp_path, "watch", "--target", service.address, "--frames", "6", "--encoding", "jpeg", "--max-width", "160"
    )
    assert result.returncode == 0, result.stderr
    intro = f"camera-grpc: watching 6 frames of {service.address}: at least 0.012 s at the 2 ms exposure (Ctrl-C stops)"
    assert result.stderr.splitlines()[0] == intro
    summary = SUMMARY.search(result.stdout)
    assert summary, result.stdout
    assert int(summary["frames"]) == 6
    assert float(summary["fps"]) > 0
    first, last = int(summary["first"]), int(summary["last"])
    # Every camera frame produced while watching is received or counted as dropped.
    assert last - first + 1 == 6 + int(summary["dropped"])


async def test_watch_shows_a_live_progress_line_on_a_terminal(service: RunningService, tmp_path: Path) -> None:
    result = await camera_grpc(
        tmp_path,
        "watch",
        "--target",
        service.address,
        "--frames",
        "4",
        "--max-width",
        "64",
        env={"TTY_COMPATIBLE": "1", "COLUMNS": "120"},  # rich renders as on a terminal
    )
    assert result.returncode == 0, result.stderr
    screen = ANSI_ESCAPE.sub("", result.stderr)
    assert re.search(r"4/4 +[\d.]+ fps \d+ dropped", screen), screen


async def test_watch_stops_on_ctrl_c_with_a_summary(service: RunningService, tmp_path: Path) -> None:
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "camera_grpc",
        "watch",
        "--target",
        service.address,
        "--max-width",
        "64",
        "--encoding",
        "jpeg",
        cwd=tmp_path,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    await eventually(lambda: service.runtime.frames.subscriber_count == 1, timeout_s=STATE_TIMEOUT_S)
    process.send_signal(signal.SIGINT)
    stdout, stderr = await asyncio.wait_for(process.communicate(), timeout=30)
    assert process.returncode == 0, stderr.decode()
    assert SUMMARY.search(stdout.decode()), stdout.decode()
    await eventually(lambda: service.runtime.frames.subscriber_count == 0)


def test_watch_statistics_count_frames_dropped_before_the_first_delivery() -> None:
    stats = StreamStats()
    assert stats.summary() == "0 frames in 0.00 s: 0.0 fps, 0 dropped"
    stats.add(pb.FramesResponse(frame_number=12, missed_frames=2), at_s=10.0)  # 10 and 11 were skipped
    stats.add(pb.FramesResponse(frame_number=15, missed_frames=2), at_s=10.5)
    stats.add(pb.FramesResponse(frame_number=16, missed_frames=0), at_s=11.0)
    assert (stats.frames, stats.dropped) == (3, 4)
    assert stats.summary() == "3 frames in 1.00 s: 2.0 fps, 4 dropped, camera frames 10-16"


@pytest.mark.parametrize(
    ("frames", "exposure_ms", "max_fps", "expected"),
    [
        (300, 100.0, None, "watching 300 frames of h:1: at least 30 s at the 100 ms exposure (Ctrl-C stops)"),
        (3000, 100.0, None, "watching 3000 frames of h:1: at least 5 min at the 100 ms exposure (Ctrl-C stops)"),
        (
            50,
            2.0,
            10.0,
            "watching 50 frames of h:1: at least 5 s at the 2 ms exposure and at most 10 fps (Ctrl-C stops)",
        ),
        (0, 100.0, None, "watching the live frames of h:1 until Ctrl-C"),
    ],
)
def test_watch_says_how_long_it_will_take(
    frames: int, exposure_ms: float, max_fps: float | None, expected: str
) -> None:
    assert watch_intro("h:1", frames, exposure_ms, max_fps) == f"camera-grpc: {expected}"


def test_ctrl_c_while_watching_cancels_the_stream_from_another_thread() -> None:
    """No KeyboardInterrupt inside grpc (it can leave the channel unable to close): the stream is cancelled."""

    class Stream:
        cancelled_by: list[str] = []

        def cancel(self) -> None:
            self.cancelled_by.append(threading.current_thread().name)

    before = signal.getsignal(signal.SIGINT)
    with CtrlC() as ctrl_c:
        os.kill(os.getpid(), signal.SIGINT)  # before the stream: remembered
        ctrl_c.cancels(Stream())  # type: ignore[arg-type]
        assert ctrl_c.pressed.is_set() and Stream.cancelled_by == ["MainThread"]
        os.kill(os.getpid(), signal.SIGINT)  # while streaming: cancelled from a thread of its own
        for _ in range(500):
            if len(Stream.cancelled_by) == 2:
                break
            time.sleep(0.01)
    assert Stream.cancelled_by == ["MainThread", "watch-ctrl-c"]
    assert signal.getsignal(signal.SIGINT) is before  # restored


# -- settings, presets and camera channels (issue 12) ---------------------------------------------


async def test_settings_set_changes_the_fields_named_by_path_and_show_reads_them(
    service: RunningService, tmp_path: Path
) -> None:
    info = await service.stub.GetCameraInfo(pb.GetCameraInfoRequest())
    width = next(feature for feature in info.features if feature.name == "roi.width")
    new_width = int(width.minimum + 2 * width.step)
    before = (await camera_grpc(tmp_path, "settings", "show", "--target", service.address)).json()
    applied = (
        await camera_grpc(
            tmp_path, "settings", "set", f"roi.width={new_width}", "flip.horizontal=true", "--target", service.address
        )
    ).json()
    settings = applied["settings"]
    assert isinstance(settings, dict) and isinstance(before["settings"], dict)
    assert settings["roi"]["width"] == new_width
    assert settings["roi"]["height"] == before["settings"]["roi"]["height"]  # not named: unchanged
    assert settings["flip"] == {"horizontal": True, "vertical": False}
    assert int(settings["revision"]) > int(before["settings"]["revision"])
    current = await service.stub.GetSettings(pb.GetSettingsRequest())
    assert (current.settings.roi.width, current.settings.flip.horizontal) == (new_width, True)


async def test_settings_set_with_a_stale_revision_is_aborted_and_changes_nothing(
    service: RunningService, tmp_path: Path
) -> None:
    stale = (await service.stub.GetSettings(pb.GetSettingsRequest())).settings.revision
    await service.stub.UpdateSettings(pb.UpdateSettingsRequest(gain_db=2.0))
    result = await camera_grpc(
        tmp_path, "settings", "set", "gain_db=5", "--expected-revision", str(stale), "--target", service.address
    )
    assert result.returncode == 1
    assert result.stderr.startswith("camera-grpc: ABORTED: "), result.stderr
    assert (await service.stub.GetSettings(pb.GetSettingsRequest())).gain_db == 2.0


@pytest.mark.parametrize(
    ("assignment", "message"),
    [
        ("roi.width=wide", "roi.width: must be a whole number, not 'wide'"),
        ("exposure_auto=sometimes", "exposure_auto: must be one of off, continuous, once, not 'sometimes'"),
        ("roi=640", "roi: is a group of settings: set its parts (roi.offset_x, roi.offset_y, roi.width, roi.height)"),
        ("brightness=3", "brightness: not a setting"),
        ("roi.width", "'roi.width' is not PATH=VALUE"),
    ],
)
async def test_settings_set_refuses_a_value_of_the_wrong_type_before_calling(
    service: RunningService, tmp_path: Path, assignment: str, message: str
) -> None:
    result = await camera_grpc(tmp_path, "settings", "set", assignment, "--target", service.address)
    assert result.returncode == 2  # a usage error, as argparse's
    assert result.stdout == ""
    assert result.stderr.splitlines()[-1].startswith(f"camera-grpc settings set: error: argument PATH=VALUE: {message}")


async def test_settings_set_of_a_value_the_camera_refuses_is_its_error_line(
    service: RunningService, tmp_path: Path
) -> None:
    result = await camera_grpc(tmp_path, "settings", "set", "white_balance.red=1.5", "--target", service.address)
    assert result.returncode == 1
    assert result.stderr.startswith("camera-grpc: FAILED_PRECONDITION: white_balance"), result.stderr
    nan = await camera_grpc(tmp_path, "settings", "set", "exposure_ms=nan", "--target", service.address)
    assert nan.returncode == 1 and nan.stderr.startswith("camera-grpc: INVALID_ARGUMENT: exposure_ms"), nan.stderr


async def test_settings_features_is_a_table_of_what_the_camera_offers(service: RunningService, tmp_path: Path) -> None:
    info = await service.stub.GetCameraInfo(pb.GetCameraInfoRequest())
    result = await camera_grpc(tmp_path, "settings", "features", "--target", service.address)
    assert result.returncode == 0, result.stderr
    rows = {
        line.split("│")[1].strip(): [cell.strip() for cell in line.split("│")[2:-1]]
        for line in result.stdout.splitlines()
        if line.count("│") > 2
    }
    for feature in info.features:
        assert feature.name in rows, result.stdout
        assert rows[feature.name][0] == ("yes" if feature.supported else "no")
    width = next(feature for feature in info.features if feature.name == "roi.width")
    assert rows["roi.width"][1:4] == [f"{width.minimum:g}", f"{width.maximum:g}", f"{width.step:g}"]
    assert "mono8" in rows["pixel_format"][5]
    assert rows["exposure_ms"][4] == "milliseconds"
    assert f"settings channels: {info.settings_channels or 'none'}" in result.stdout


async def test_settings_watch_prints_one_json_line_per_change(service: RunningService, tmp_path: Path) -> None:
    result = await camera_grpc(tmp_path, "settings", "watch", "--count", "1", "--target", service.address)
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert len(lines) == 1
    change = json.loads(lines[0])
    assert (change["cause"], change["connected"]) == ("initial", True)
    current = await service.stub.GetSettings(pb.GetSettingsRequest())
    assert int(change["settings"]["revision"]) == current.settings.revision


async def test_settings_watch_stops_on_ctrl_c(service: RunningService, tmp_path: Path) -> None:
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "camera_grpc",
        "settings",
        "watch",
        "--target",
        service.address,
        cwd=tmp_path,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    assert process.stdout is not None
    first = json.loads(await asyncio.wait_for(process.stdout.readline(), timeout=30))
    assert first["cause"] == "initial"
    await service.stub.UpdateSettings(pb.UpdateSettingsRequest(gain_db=4.0))
    change = json.loads(await asyncio.wait_for(process.stdout.readline(), timeout=30))
    assert change["settings"]["gain_db"] == 4.0 and int(change["settings"]["revision"]) > int(
        first["settings"]["revision"]
    )
    process.send_signal(signal.SIGINT)
    _, stderr = await asyncio.wait_for(process.communicate(), timeout=30)
    assert process.returncode == 0, stderr.decode()


async def test_presets_from_the_command_line(service: RunningService, tmp_path: Path) -> None:
    target = ("--target", service.address)
    await service.stub.UpdateSettings(pb.UpdateSettingsRequest(gain_db=6.0))
    saved = (await camera_grpc(tmp_path, "preset", "save", "evening", *target)).json()
    assert saved["preset"]["name"] == "presets/evening"  # type: ignore[index]
    await service.stub.UpdateSettings(pb.UpdateSettingsRequest(gain_db=1.0))
    listed = (await camera_grpc(tmp_path, "preset", "list", *target)).json()
    assert [preset["name"] for preset in listed["presets"]] == ["presets/evening"]  # type: ignore[attr-defined]
    shown = (await camera_grpc(tmp_path, "preset", "show", "presets/evening", *target)).json()
    assert shown["preset"]["settings"]["gain_db"] == 6.0  # type: ignore[index]
    loaded = (await camera_grpc(tmp_path, "preset", "load", "evening", *target)).json()
    assert loaded["settings"]["gain_db"] == 6.0  # type: ignore[index]
    assert (await service.stub.GetSettings(pb.GetSettingsRequest())).gain_db == 6.0
    deleted = await camera_grpc(tmp_path, "preset", "delete", "evening", *target)
    assert deleted.returncode == 0 and "deleted presets/evening" in deleted.stderr
    missing = await camera_grpc(tmp_path, "preset", "load", "evening", *target)
    assert missing.returncode == 1 and missing.stderr.startswith("camera-grpc: NOT_FOUND: "), missing.stderr


async def test_camera_channels_from_the_command_line(service: RunningService, tmp_path: Path) -> None:
    target = ("--target", service.address)
    await service.stub.UpdateSettings(pb.UpdateSettingsRequest(gain_db=8.0))
    saved = await camera_grpc(tmp_path, "camera-channel", "save", "1", *target)
    assert saved.returncode == 0 and "channel 1" in saved.stderr, saved.stderr
    await service.stub.UpdateSettings(pb.UpdateSettingsRequest(gain_db=2.0))
    loaded = (await camera_grpc(tmp_path, "camera-channel", "load", "1", *target)).json()
    assert loaded["settings"]["gain_db"] == 8.0  # type: ignore[index]
    refused = await camera_grpc(tmp_path, "camera-channel", "load", "-1", *target)
    assert refused.returncode == 2 and "must be 0 (factory defaults) or a user channel" in refused.stderr


# -- triggering, I/O and events (issue 13) ------------------------------------------------------------------------


async def test_trigger_and_io_from_the_command_line(service: RunningService, tmp_path: Path) -> None:
    target = ("--target", service.address)
    refused = await camera_grpc(tmp_path, "trigger", *target)
    assert refused.returncode == 1
    assert refused.stderr.startswith("camera-grpc: FAILED_PRECONDITION: trigger.source is free_running")
    switched = await camera_grpc(
        tmp_path, "settings", "set", "trigger.source=software", "trigger.delay_ms=0.5", *target
    )
    assert switched.json()["settings"]["trigger"]["source"] == "TRIGGER_SOURCE_SOFTWARE"  # type: ignore[index]
    fired = (await camera_grpc(tmp_path, "trigger", *target)).json()
    (number,) = fired["frame_numbers"]  # type: ignore[misc]
    metadata = fired["metadata"]
    assert isinstance(metadata, dict)
    assert (metadata["frame_number"], metadata["trigger_source"]) == (number, "TRIGGER_SOURCE_SOFTWARE")
    lines = '[{"line": 1, "mode": "input"}, {"line": 2, "mode": "strobe", "duration_ms": 1}]'
    assert (await camera_grpc(tmp_path, "settings", "set", f"gpio={lines}", *target)).returncode == 0
    io = (await camera_grpc(tmp_path, "io", *target)).json()
    assert [(line["line"], line["mode"]) for line in io["lines"]] == [  # type: ignore[attr-defined]
        (1, "GPIO_MODE_INPUT"),
        (2, "GPIO_MODE_STROBE"),
    ]


#: Settings changes ``run_events`` makes at most while the command has not printed its --count.
MAX_EVENT_ROUNDS = 50


async def run_events(service: RunningService, tmp_path: Path, *args: str) -> Result:
    """``camera-grpc events ARGS`` while the settings change until it has printed what it was asked for."""
    command = asyncio.ensure_future(camera_grpc(tmp_path, "events", *args, "--target", service.address))
    hub = service.runtime.events
    await eventually(lambda: hub.subscriber_count == 1 or command.done(), what="the events command subscribed")
    for round_number in range(MAX_EVENT_ROUNDS):  # a settings change per round, until the command has its --count
        if command.done():
            break
        published = hub.last_sequence_number
        await service.stub.UpdateSettings(pb.UpdateSettingsRequest(gain_db=float(round_number % 2 + 1)))
        await eventually(lambda: hub.last_sequence_number > published, what="the change published")  # noqa: B023
        await asyncio.wait({command}, timeout=0)  # let the command's output be read
    return await command


async def test_events_prints_one_line_per_event_of_the_types_asked_for(service: RunningService, tmp_path: Path) -> None:
    result = await run_events(service, tmp_path, "--count", "2", "--type", "settings_changed")
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert len(lines) == 2, result.stdout
    for line in lines:
        assert re.fullmatch(
            r"#\d+ \d\d:\d\d:\d\d\.\d{3} settings_changed settings changed \(update\), revision \d+", line
        )
    first, second = (int(line.split()[0].removeprefix("#")) for line in lines)
    assert second > first


async def test_events_json_prints_the_messages_as_grpcurl_does(service: RunningService, tmp_path: Path) -> None:
    result = await run_events(service, tmp_path, "--json", "--count", "1")
    assert result.returncode == 0, result.stderr
    message = json.loads(result.stdout)
    assert message["event"]["type"] == "EVENT_TYPE_SETTINGS_CHANGED"
    assert list(message) == ["event", "missed_events"]
    assert list(message["event"]) == [field.name for field in pb.Event.DESCRIPTOR.fields]


async def test_events_refuses_an_unknown_type(tmp_path: Path) -> None:
    result = await camera_grpc(tmp_path, "events", "--type", "sunrise")
    assert result.returncode == 2
    assert "invalid choice: 'sunrise'" in result.stderr and "trigger_missed" in result.stderr
