"""The README's grpcurl recipes, run as written with bash and the real grpcurl against real services.

The "Using it with grpcurl" section has two code blocks. The first (plaintext) is run as one bash
script from the repository's folder, with the README's ``localhost:50051`` replaced by the test
service's address and nothing else changed (the GetCapture recipe takes its file name from
ListCaptures, as a reader's shell would). The second (TLS and tokens) is run the same way from a folder
holding the ``ca.pem``, ``client.pem`` and ``client-key.pem`` it names (made for the test), with
``$TOKEN`` an operator's token, ``localhost:50051`` a service with TLS and tokens and ``localhost:50052``
one that also requires client certificates (mutual TLS). A ``grpcurl`` shell function records each
invocation (arguments, output, status) and runs the real command; each one's output is then checked.
A recipe with no check here, or an RPC of CameraService or RecordingService without a recipe, fails the suite.
"""

from __future__ import annotations

import asyncio
import base64
import json
import os
import re
import shlex
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import cv2
import numpy as np

from camera_grpc.auth import Role, new_token, token_line
from camera_grpc.core.recording_store import FRAME_LOG_NAME, read_frame_log
from camera_grpc.gen.camera.v1 import camera_pb2 as pb
from camera_grpc.gen.camera.v1 import recording_pb2 as rpb
from tests.support import REPO_ROOT, RunningService, ServiceFactory
from tests.support.certs import CertificateAuthority, tls_files

README = REPO_ROOT / "README.md"
README_ADDRESS = "localhost:50051"
#: The mutual-TLS service of the TLS block.
README_MTLS_ADDRESS = "localhost:50052"
SERVICE = pb.DESCRIPTOR.services_by_name["CameraService"]
RECORDING_SERVICE = rpb.DESCRIPTOR.services_by_name["RecordingService"]
#: Defined before the README's block: records every grpcurl invocation in $RECIPE_LOG (numbered, so
#: the order holds across subshells such as $(...)), then runs the real grpcurl (not in a dry run).
RECORDING_GRPCURL = r"""
grpcurl() {
  local n status
  n=$(( $(cat "$RECIPE_LOG/count" 2>/dev/null || echo 0) + 1 ))
  echo "$n" > "$RECIPE_LOG/count"
  printf '%s\0' "$@" > "$RECIPE_LOG/$n.args"
  if [ -n "${RECIPE_DRY_RUN:-}" ]; then
    : > "$RECIPE_LOG/$n.out"; : > "$RECIPE_LOG/$n.err"; status=0
  else
    command grpcurl "$@" > "$RECIPE_LOG/$n.out" 2> "$RECIPE_LOG/$n.err"; status=$?
  fi
  echo "$status" > "$RECIPE_LOG/$n.status"
  cat "$RECIPE_LOG/$n.out"
  return "$status"
}
"""


def grpcurl_binary() -> Path:
    binary = Path(sys.executable).with_name("grpcurl")
    assert binary.exists(), f"{binary} missing: install requirements-dev.lock (make test does)"
    return binary


def readme_blocks() -> list[str]:
    """The bash blocks of the README's "Using it with grpcurl" section."""
    text = README.read_text()
    assert "## Using it with grpcurl" in text, "README has no 'Using it with grpcurl' section"
    section = text.split("## Using it with grpcurl", 1)[1].split("\n## ", 1)[0]
    blocks = re.findall(r"```bash\n(.*?)```", section, re.DOTALL)
    assert blocks, "no ```bash block in the grpcurl section"
    return blocks


def readme_block() -> str:
    """The plaintext bash block of the grpcurl section (the first)."""
    return readme_blocks()[0]


def tls_block() -> str:
    """The TLS and token bash block of the grpcurl section (the one that gives grpcurl a CA certificate)."""
    blocks = [block for block in readme_blocks() if "-cacert" in block]
    assert len(blocks) == 1, "the grpcurl section needs one ```bash block of TLS and token recipes (-cacert)"
    return blocks[0]


@dataclass
class Run:
    args: list[str]
    returncode: int
    stdout: str
    stderr: str

    @property
    def request(self) -> dict[str, object]:
        """The -d JSON of the command ({} without one)."""
        if "-d" not in self.args:
            return {}
        parsed: dict[str, object] = json.loads(self.args[self.args.index("-d") + 1])
        return parsed

    def json(self) -> dict[str, object]:
        assert self.returncode == 0, f"{shlex.join(self.args)} failed:\n{self.stderr}"
        parsed: dict[str, object] = json.loads(self.stdout)
        return parsed

    def json_stream(self, status: int = 0) -> list[dict[str, object]]:
        """grpcurl prints one JSON object per streamed message (``status``: grpcurl's exit status)."""
        assert self.returncode == status, f"{shlex.join(self.args)} exited with {self.returncode}:\n{self.stderr}"
        decoder, messages, position = json.JSONDecoder(), [], 0
        text = self.stdout.strip()
        while position < len(text):
            message, position = decoder.raw_decode(text, position)
            messages.append(message)
            while position < len(text) and text[position].isspace():
                position += 1
        return messages


async def run_block(
    log: Path,
    address: str = README_ADDRESS,
    *,
    dry_run: bool = False,
    block: str | None = None,
    addresses: dict[str, str] | None = None,
    cwd: Path = REPO_ROOT,
    env: dict[str, str] | None = None,
) -> list[Run]:
    """Run a README block (the plaintext one unless ``block`` is given) with bash in ``cwd`` (the repository's
    folder), its addresses replaced (``addresses``, else ``localhost:50051`` by ``address``), with ``env``
    added to the environment; the grpcurl invocations it made, in order."""
    log.mkdir()
    script = readme_block() if block is None else block
    for written, actual in (addresses or {README_ADDRESS: address}).items():
        script = script.replace(written, actual)
    script = RECORDING_GRPCURL + script
    env = {
        **os.environ,
        **(env or {}),
        "PATH": f"{os.environ.get('PATH', '')}:{grpcurl_binary().parent}",  # the block puts .venv/bin first
        "RECIPE_LOG": str(log),
        **({"RECIPE_DRY_RUN": "1"} if dry_run else {}),
    }
    process = await asyncio.create_subprocess_exec(
        "bash", "-c", script, cwd=cwd, env=env, stdout=asyncio.subprocess.DEVNULL
    )
    await asyncio.wait_for(process.wait(), timeout=120)
    count = int((log / "count").read_text())
    return [
        Run(
            ["grpcurl", *(log / f"{n}.args").read_text().split("\0")[:-1]],
            int((log / f"{n}.status").read_text()),
            (log / f"{n}.out").read_text(),
            (log / f"{n}.err").read_text(),
        )
        for n in range(1, count + 1)
    ]


@dataclass
class Session:
    """State shared by the recipes in README order (the Capture recipe's file must be the one GetCapture gets)."""

    service: RunningService
    saved_capture: str | None = None
    checked: list[str] = field(default_factory=list)
    #: Captures a later recipe deletes (DeleteCapture): the checks run after the whole block, when they are gone.
    deleted_captures: set[str] = field(default_factory=set)
    #: The size of the Capture recipe's file, as it reported it.
    saved_size_bytes: int | None = None
    #: The settings' revision as the last recipe reported it (GetSettings, UpdateSettings).
    revision: int | None = None
    #: The settings of the preset the CreatePreset recipe saved.
    preset: dict[str, Any] | None = None
    #: The recordings the recipes started (name -> the request), and the last state each was reported in.
    recordings: dict[str, dict[str, object]] = field(default_factory=dict)
    recording_states: dict[str, str] = field(default_factory=dict)


# -- what each recipe must show -------------------------------------------------------------------


def check_list(run: Run, session: Session) -> None:
    services = set(run.stdout.split())
    assert {"camera.v1.CameraService", "camera.v1.RecordingService", "grpc.health.v1.Health"} <= services, run.stdout


def check_describe(run: Run, session: Session) -> None:
    target = run.args[-1]
    if target == "camera.v1.CameraService":
        for method in SERVICE.methods:
            requests = "stream " if method.client_streaming else ""
            responses = "stream " if method.server_streaming else ""
            request, response = method.input_type.full_name, method.output_type.full_name
            expected = f"rpc {method.name} ( {requests}.{request} ) returns ( {responses}.{response} )"
            assert expected in run.stdout, f"{expected!r} not in:\n{run.stdout}"
    else:
        message = pb.DESCRIPTOR.message_types_by_name[target.removeprefix("camera.v1.")]
        assert f"message {message.name} {{" in run.stdout, run.stdout
        for field_descriptor in message.fields:
            assert f" {field_descriptor.name} = {field_descriptor.number};" in run.stdout, run.stdout


def check_get_camera_info(run: Run, session: Session) -> None:
    info = run.json()
    assert info["driver"] == "CAMERA_DRIVER_SIMULATED"
    assert (info["sensor_width"], info["sensor_height"]) == (2448, 2048)


#: grpcurl's exit status for a call that failed with a status code: 64 + the code.
GRPCURL_STATUS_BASE = 64


def revision_of(settings: object) -> int:
    """A CameraSettings' revision, as grpcurl prints it (a uint64: a string)."""
    assert isinstance(settings, dict), settings
    return int(str(settings["revision"]))


def check_get_settings(run: Run, session: Session) -> None:
    settings = run.json()
    assert settings["connected"] is True
    assert settings["pixel_format"] == "PIXEL_FORMAT_MONO8"
    session.revision = revision_of(settings["settings"])


def snake_case(path: str) -> str:
    """A FieldMask path as proto3 JSON writes it (``roi.width,exposureAuto``) as the proto names it."""
    return re.sub(r"[A-Z]", lambda letter: "_" + letter[0].lower(), path)


def at_path(message: object, path: str) -> object:
    for part in path.split("."):
        assert isinstance(message, dict), (path, message)
        message = message[part]
    return message


def check_update_settings(run: Run, session: Session) -> None:
    request = run.request
    exposure_ms = request.get("exposure_ms")
    if isinstance(exposure_ms, int | float) and exposure_ms <= 0:  # the error recipe
        assert run.returncode == GRPCURL_STATUS_BASE + 3, run.stderr  # INVALID_ARGUMENT
        assert "Code: InvalidArgument" in run.stderr
        assert "exposure_ms" in run.stderr and "must be between" in run.stderr
        assert "google.rpc.BadRequest" in run.stderr
        return
    applied = run.json()
    if "settings" not in request:  # exposure and gain, as older clients send them
        for name, value in request.items():
            assert applied[name] == value, (name, applied)
        session.revision = revision_of(applied["settings"])
        return
    # A FieldMask update: every path named has the value asked for; nothing else was asked.
    mask = request["update_mask"]
    # grpcurl takes a FieldMask as {"paths": [...]}; proto3 JSON's own form is one string of lowerCamelCase paths
    written = mask["paths"] if isinstance(mask, dict) else str(mask).split(",")
    paths = [snake_case(path) for path in written]
    assert len(paths) >= 1
    for path in paths:
        wanted = at_path(request["settings"], path)
        if path == "exposure_auto" and wanted == "AUTO_MODE_ONCE":
            # a one-shot adjustment reads OFF again once it has ended
            assert at_path(applied["settings"], path) in ("AUTO_MODE_ONCE", "AUTO_MODE_OFF"), applied
        else:
            assert at_path(applied["settings"], path) == wanted, (path, applied)
    revision = revision_of(applied["settings"])
    if "expected_revision" in request:  # the conditional update: the recipe passed the revision it read
        assert int(str(request["expected_revision"])) == session.revision, (request, session.revision)
    assert session.revision is None or revision > session.revision
    session.revision = revision


def check_watch_settings(run: Run, session: Session) -> None:
    # -max-time ended the endless stream: DEADLINE_EXCEEDED (4), after the messages that came
    messages = run.json_stream(status=GRPCURL_STATUS_BASE + 4)
    assert "Code: DeadlineExceeded" in run.stderr, run.stderr
    first = messages[0]
    assert (first["cause"], first["connected"]) == ("initial", True), first
    assert session.revision is not None and revision_of(first["settings"]) >= session.revision
    revisions = [revision_of(message["settings"]) for message in messages]
    assert revisions == sorted(set(revisions)), revisions  # each later message is a later revision
    session.revision = revisions[-1]


def check_create_preset(run: Run, session: Session) -> None:
    preset = run.json()["preset"]
    assert isinstance(preset, dict)
    assert preset["name"] == f"presets/{run.request['preset_id']}"
    assert "create_time" in preset
    session.preset = preset


def check_list_presets(run: Run, session: Session) -> None:
    assert session.preset is not None
    names = [preset["name"] for preset in run.json()["presets"]]  # type: ignore[attr-defined]
    assert session.preset["name"] in names, names


def check_get_preset(run: Run, session: Session) -> None:
    assert session.preset is not None
    assert run.json()["preset"] == session.preset


def check_apply_preset(run: Run, session: Session) -> None:
    assert session.preset is not None
    applied = run.json()
    assert applied["connected"] is True
    for path in ("roi", "gain_db", "pixel_format"):
        assert at_path(applied["settings"], path) == at_path(session.preset["settings"], path), path
    session.revision = revision_of(applied["settings"])


def check_delete_preset(run: Run, session: Session) -> None:
    assert run.json() == {}
    assert session.preset is not None and run.request["name"] == session.preset["name"]


def check_save_settings_to_camera(run: Run, session: Session) -> None:
    assert run.json() == {}


def check_load_settings_from_camera(run: Run, session: Session) -> None:
    loaded = run.json()
    assert loaded["connected"] is True
    assert session.revision is not None and revision_of(loaded["settings"]) > session.revision
    session.revision = revision_of(loaded["settings"])


def check_capture(run: Run, session: Session) -> None:
    saved = run.json()
    request = run.request
    path = Path(str(saved["path"]))
    assert path.parent == session.service.captures
    session.saved_size_bytes = int(str(saved["size_bytes"]))
    if path.name not in session.deleted_captures:
        assert path.is_file() and path.stat().st_size == session.saved_size_bytes
    assert saved["format"] == request.get("format", "IMAGE_FORMAT_JPEG")
    assert (saved["exposure_ms"], saved["gain_db"]) == (request["exposure_ms"], request["gain_db"])
    session.saved_capture = str(saved["filename"])


def check_list_captures(run: Run, session: Session) -> None:
    page = run.json()
    names = [capture["filename"] for capture in page["captures"]]  # type: ignore[attr-defined]
    assert session.saved_capture in names, names


def check_get_capture(run: Run, session: Session) -> None:
    capture = run.json()
    assert capture["capture"]["filename"] == session.saved_capture  # type: ignore[index]
    data = base64.b64decode(str(capture["data"]))
    assert capture["content_type"] == "image/png"
    if session.saved_capture in session.deleted_captures:  # deleted by a later recipe: as the Capture recipe said
        assert len(data) == session.saved_size_bytes and data.startswith(b"\x89PNG\r\n\x1a\n")
    else:
        assert data == (session.service.captures / str(session.saved_capture)).read_bytes()


def check_delete_capture(run: Run, session: Session) -> None:
    assert run.returncode == 0, run.stderr
    assert run.json() == {}
    assert run.request == {"filename": session.saved_capture}
    image = session.service.captures / str(session.saved_capture)
    assert not image.exists() and not image.with_suffix(".json").exists()


def check_frames(run: Run, session: Session) -> None:
    frames = run.json_stream()
    request = run.request
    assert len(frames) == request["max_frames"], run.stdout[:2000]
    assert [int(str(frame["sequence_number"])) for frame in frames] == list(range(1, len(frames) + 1))
    for frame in frames:
        assert frame["encoding"] == request["encoding"]
        assert frame["width"] == request["max_width"]
        assert base64.b64decode(str(frame["data"])).startswith(b"\xff\xd8\xff")  # JPEG


def check_live_frames(run: Run, session: Session) -> None:
    messages = run.json_stream()
    subscription = run.request["subscription"]
    assert isinstance(subscription, dict)
    assert len(messages) == subscription["max_frames"] <= int(str(run.request["credits"])), run.stdout[:2000]
    frames: list[dict[str, object]] = [message["frame"] for message in messages]  # type: ignore[misc]
    assert [int(str(frame["sequence_number"])) for frame in frames] == list(range(1, len(frames) + 1))
    for frame in frames:
        assert frame["encoding"] == subscription["encoding"]
        assert frame["width"] == subscription["max_width"]
        assert base64.b64decode(str(frame["data"])).startswith(b"\xff\xd8\xff")  # JPEG


def check_software_trigger(run: Run, session: Session) -> None:
    # The recipe before switched to software-trigger mode: one frame, numbered, with its trigger's metadata.
    answer = run.json()
    numbers = [int(str(number)) for number in answer["frame_numbers"]]  # type: ignore[attr-defined]
    assert len(numbers) == 1, answer
    metadata = answer["metadata"]
    assert isinstance(metadata, dict)
    assert int(str(metadata["frame_number"])) == numbers[0]
    assert metadata["trigger_source"] == "TRIGGER_SOURCE_SOFTWARE"
    assert int(str(metadata["trigger_count"])) >= 1
    assert str(metadata["camera_clock"]).startswith("simulated:")
    assert "received_at" in metadata


def check_get_io_status(run: Run, session: Session) -> None:
    status = run.json()
    lines = status["lines"]
    assert isinstance(lines, list) and [line["line"] for line in lines] == [1, 2], status
    assert all(str(line["mode"]).startswith("GPIO_MODE_") for line in lines), status


def check_watch_events(run: Run, session: Session) -> None:
    # -max-time ended the endless stream: DEADLINE_EXCEEDED (4), after the events that came
    messages = run.json_stream(status=GRPCURL_STATUS_BASE + 4)
    assert "Code: DeadlineExceeded" in run.stderr, run.stderr
    wanted = run.request["types"]
    assert isinstance(wanted, list)
    for message in messages:
        event = message["event"]
        assert event["type"] in wanted, message
        assert int(str(event["sequence_number"])) >= 1 and "time" in event, message
    numbers = [int(str(message["event"]["sequence_number"])) for message in messages]
    assert numbers == sorted(set(numbers)), numbers


def recording_folder(session: Session, name: str) -> Path:
    return session.service.runtime.recordings.store.path_of(name.removeprefix("recordings/"))


def check_start_recording(run: Run, session: Session) -> None:
    recording = run.json()["recording"]
    assert isinstance(recording, dict)
    request = run.request
    assert recording["name"] == f"recordings/{request['recording_id']}", recording
    assert recording["state"] == "RECORDING_STATE_RUNNING" and recording["format"] == request["format"], recording
    session.recordings[str(recording["name"])] = request
    session.recording_states[str(recording["name"])] = "RECORDING_STATE_RUNNING"


def check_watch_recording(run: Run, session: Session) -> None:
    # The stream ends by itself with the recording's final state (exit status 0).
    updates = [message["recording"] for message in run.json_stream()]
    name = run.request["name"]
    assert all(update["name"] == name for update in updates)
    assert [update["state"] for update in updates[:-1]] == ["RECORDING_STATE_RUNNING"] * (len(updates) - 1)
    final = updates[-1]
    wanted = int(str(session.recordings[str(name)]["max_frames"]))
    assert final["state"] == "RECORDING_STATE_COMPLETED" and int(str(final["frames_written"])) == wanted, final
    written = [int(str(update.get("frames_written", 0))) for update in updates]
    assert written == sorted(written), written
    assert "end_time" in final
    session.recording_states[str(name)] = str(final["state"])


def check_get_recording(run: Run, session: Session) -> None:
    recording = run.json()["recording"]
    assert isinstance(recording, dict)
    assert recording["state"] == session.recording_states[str(run.request["name"])], recording
    folder = recording_folder(session, str(recording["name"]))
    files = {file["name"]: file for file in recording["files"]}
    for file in files.values():
        assert int(str(file["size_bytes"])) == (folder / file["name"]).stat().st_size, file
        assert file["location"]["state"] == "STORAGE_STATE_LOCAL", file
    assert {"demo.ome.tif", "recording.json", "frames.jsonl"} <= set(files), files
    assert files["demo.ome.tif"]["content_type"] == "image/tiff"


def check_list_recordings(run: Run, session: Session) -> None:
    names = [recording["name"] for recording in run.json()["recordings"]]  # type: ignore[attr-defined]
    assert set(session.recordings) <= set(names), names


def check_download_recording_file(run: Run, session: Session) -> None:
    chunks = run.json_stream()
    request = run.request
    content = (recording_folder(session, str(request["name"])) / str(request["file"])).read_bytes()
    offset = int(str(request.get("offset", 0)))
    assert int(str(chunks[0].get("offset", 0))) == offset
    assert {int(str(chunk["size_bytes"])) for chunk in chunks} == {len(content)}
    assert b"".join(base64.b64decode(str(chunk["data"])) for chunk in chunks) == content[offset:]


def check_get_recording_thumbnail(run: Run, session: Session) -> None:
    answer = run.json()
    assert answer["content_type"] == "image/jpeg"
    image = cv2.imdecode(np.frombuffer(base64.b64decode(str(answer["data"])), np.uint8), cv2.IMREAD_UNCHANGED)
    assert image is not None and image.shape[1] == run.request["max_width"], answer.keys()
    frames, _ = read_frame_log(recording_folder(session, str(run.request["name"])) / FRAME_LOG_NAME)
    assert int(str(answer["frame_number"])) == frames[0]["frame_number"]


def check_stop_recording(run: Run, session: Session) -> None:
    recording = run.json()["recording"]
    assert isinstance(recording, dict)
    assert recording["state"] == "RECORDING_STATE_STOPPED" and "end_time" in recording, recording
    assert session.recording_states[str(recording["name"])] == "RECORDING_STATE_RUNNING"
    session.recording_states[str(recording["name"])] = str(recording["state"])


def check_delete_recording(run: Run, session: Session) -> None:
    # Checked after the whole block ran: the recipes keep "demo" (the earlier checks read its files).
    assert run.json() == {}
    assert not recording_folder(session, str(run.request["name"])).exists()


def check_health(run: Run, session: Session) -> None:
    assert run.json() == {"status": "SERVING"}


CHECKS: dict[str, Callable[[Run, Session], None]] = {
    "list": check_list,
    "describe": check_describe,
    "camera.v1.CameraService/GetCameraInfo": check_get_camera_info,
    "camera.v1.CameraService/GetSettings": check_get_settings,
    "camera.v1.CameraService/UpdateSettings": check_update_settings,
    "camera.v1.CameraService/WatchSettings": check_watch_settings,
    "camera.v1.CameraService/CreatePreset": check_create_preset,
    "camera.v1.CameraService/ListPresets": check_list_presets,
    "camera.v1.CameraService/GetPreset": check_get_preset,
    "camera.v1.CameraService/ApplyPreset": check_apply_preset,
    "camera.v1.CameraService/DeletePreset": check_delete_preset,
    "camera.v1.CameraService/SaveSettingsToCamera": check_save_settings_to_camera,
    "camera.v1.CameraService/LoadSettingsFromCamera": check_load_settings_from_camera,
    "camera.v1.CameraService/Capture": check_capture,
    "camera.v1.CameraService/ListCaptures": check_list_captures,
    "camera.v1.CameraService/GetCapture": check_get_capture,
    "camera.v1.CameraService/DeleteCapture": check_delete_capture,
    "camera.v1.CameraService/Frames": check_frames,
    "camera.v1.CameraService/LiveFrames": check_live_frames,
    "camera.v1.CameraService/SoftwareTrigger": check_software_trigger,
    "camera.v1.CameraService/GetIoStatus": check_get_io_status,
    "camera.v1.CameraService/WatchEvents": check_watch_events,
    "camera.v1.RecordingService/StartRecording": check_start_recording,
    "camera.v1.RecordingService/WatchRecording": check_watch_recording,
    "camera.v1.RecordingService/GetRecording": check_get_recording,
    "camera.v1.RecordingService/ListRecordings": check_list_recordings,
    "camera.v1.RecordingService/DownloadRecordingFile": check_download_recording_file,
    "camera.v1.RecordingService/GetRecordingThumbnail": check_get_recording_thumbnail,
    "camera.v1.RecordingService/StopRecording": check_stop_recording,
    "camera.v1.RecordingService/DeleteRecording": check_delete_recording,
    "grpc.health.v1.Health/Check": check_health,
}


def recipe_key(args: list[str], address: str | tuple[str, ...] = README_ADDRESS) -> str:
    """What a recipe does: the word or method after the address (``list``, ``describe``, ``pkg.Service/Method``)."""
    addresses = (address,) if isinstance(address, str) else address
    found = [argument for argument in args if argument in addresses]
    assert found, f"recipe does not use {' or '.join(addresses)}: {shlex.join(args)}"
    return args[args.index(found[0]) + 1]


async def test_the_readme_has_a_recipe_for_every_rpc_and_a_check_for_every_recipe(tmp_path: Path) -> None:
    keys = [recipe_key(run.args) for run in await run_block(tmp_path / "log", dry_run=True)]
    unchecked = sorted(set(keys) - set(CHECKS))
    assert not unchecked, f"README recipes without a check in this test: {unchecked}"
    missing = [
        method.full_name
        for service in (SERVICE, RECORDING_SERVICE)
        for method in service.methods
        if f"{service.full_name}/{method.name}" not in keys
    ]
    assert not missing, f"RPCs without a grpcurl recipe in README.md: {missing}"
    assert {"list", "describe", "grpc.health.v1.Health/Check"} <= set(keys)


async def test_every_readme_recipe_works_as_written_with_the_real_grpcurl(
    service: RunningService, tmp_path: Path
) -> None:
    session = Session(service)
    runs = await run_block(tmp_path / "log", service.address)
    session.deleted_captures = {
        str(run.request["filename"])
        for run in runs
        if recipe_key(run.args, service.address) == "camera.v1.CameraService/DeleteCapture"
    }
    for run in runs:
        CHECKS[recipe_key(run.args, service.address)](run, session)
        session.checked.append(shlex.join(run.args))
    expected = len(await run_block(tmp_path / "dry-run", dry_run=True))
    assert len(session.checked) == expected >= len(SERVICE.methods) + len(RECORDING_SERVICE.methods) + 3
    assert set(session.recording_states.values()) == {"RECORDING_STATE_COMPLETED", "RECORDING_STATE_STOPPED"}


# -- the TLS and token block ------------------------------------------------------------------------


@dataclass
class TlsSession:
    """The services and files of the TLS block's run."""

    tls: RunningService  #: TLS and tokens (``localhost:50051`` in the README)
    mutual: RunningService  #: also client certificates (``localhost:50052``)
    token: str
    saved_capture: str | None = None

    @property
    def addresses(self) -> dict[str, str]:
        return {README_ADDRESS: self.tls.address, README_MTLS_ADDRESS: self.mutual.address}


def with_token(run: Run, session: TlsSession) -> bool:
    """Whether the recipe sends the token, as ``-H "authorization: Bearer $TOKEN"`` (expanded by bash)."""
    return f"authorization: Bearer {session.token}" in run.args


def check_tls_get_settings(run: Run, session: TlsSession) -> None:
    if not with_token(run, session):  # the refusal recipe: grpcurl's first call, reflection, is refused
        assert run.returncode != 0, run.stdout
        assert "code = Unauthenticated" in run.stderr and "missing or invalid token" in run.stderr, run.stderr
        return
    assert run.json()["connected"] is True
    if session.mutual.address in run.args:
        assert {"-cert", "-key"} <= set(run.args), run.args


def check_tls_capture(run: Run, session: TlsSession) -> None:
    assert with_token(run, session)
    saved = run.json()
    path = Path(str(saved["path"]))
    assert path.is_file() and path.parent == session.tls.captures
    assert saved["format"] == run.request["format"]
    assert saved["exposure_ms"] == run.request["exposure_ms"]
    session.saved_capture = str(saved["filename"])


def check_tls_list(run: Run, session: TlsSession) -> None:
    assert with_token(run, session)  # reflection needs a token too
    check_list(run, Session(session.tls))


def check_tls_frames(run: Run, session: TlsSession) -> None:
    assert with_token(run, session)
    check_frames(run, Session(session.tls))


def check_tls_health(run: Run, session: TlsSession) -> None:
    assert with_token(run, session)  # health is open, but grpcurl's reflection lookup needs the token
    check_health(run, Session(session.tls))


TLS_CHECKS: dict[str, Callable[[Run, TlsSession], None]] = {
    "list": check_tls_list,
    "camera.v1.CameraService/GetSettings": check_tls_get_settings,
    "camera.v1.CameraService/Capture": check_tls_capture,
    "camera.v1.CameraService/Frames": check_tls_frames,
    "grpc.health.v1.Health/Check": check_tls_health,
}
TLS_ADDRESSES = (README_ADDRESS, README_MTLS_ADDRESS)


async def test_the_tls_block_has_a_check_for_every_recipe_and_never_goes_plaintext(tmp_path: Path) -> None:
    runs = await run_block(tmp_path / "log", block=tls_block(), dry_run=True, env={"TOKEN": "t"})
    keys = [recipe_key(run.args, TLS_ADDRESSES) for run in runs]
    unchecked = sorted(set(keys) - set(TLS_CHECKS))
    assert not unchecked, f"README TLS recipes without a check in this test: {unchecked}"
    for run in runs:
        assert "-plaintext" not in run.args and run.args[run.args.index("-cacert") + 1] == "ca.pem", run.args
    assert any(README_MTLS_ADDRESS in run.args for run in runs), "no mutual TLS recipe"


async def test_the_tls_and_token_recipes_work_as_written_against_services_with_tls_and_tokens(
    start_service: ServiceFactory, tmp_path: Path
) -> None:
    files = tls_files(tmp_path / "pki")
    token = new_token()
    tokens_file = tmp_path / "tokens"
    tokens_file.write_text(token_line("grpcurl", Role.OPERATOR, token))
    common = {"tokens_file": tokens_file, "auth_max_failures": 1000, "image_save_path": tmp_path / "captures"}
    session = TlsSession(
        await start_service(**files.server_settings(), **common),
        await start_service(**files.server_settings(mutual=True), **common),
        token,
    )
    # The reader's folder: the files the block names.
    folder = tmp_path / "reader"
    folder.mkdir()
    for source, name in (
        (files.ca_file, "ca.pem"),
        (files.client_cert, "client.pem"),
        (files.client_key, "client-key.pem"),
    ):
        (folder / name).write_bytes(source.read_bytes())
    runs = await run_block(
        tmp_path / "log", block=tls_block(), addresses=session.addresses, cwd=folder, env={"TOKEN": token}
    )
    for run in runs:
        TLS_CHECKS[recipe_key(run.args, (session.tls.address, session.mutual.address))](run, session)
    assert session.saved_capture is not None
    expected = len(await run_block(tmp_path / "dry-run", block=tls_block(), dry_run=True, env={"TOKEN": token}))
    assert len(runs) == expected >= 7

    # The handshakes were real: without TLS, trusting another CA, or without a client certificate for the
    # mutual-TLS service, grpcurl cannot connect (it retries until -connect-timeout).
    grpcurl = [str(grpcurl_binary()), "-connect-timeout", "2"]
    auth = ["-H", f"authorization: Bearer {token}"]
    method = "camera.v1.CameraService/GetSettings"
    plaintext = await run_grpcurl(*grpcurl, "-plaintext", *auth, session.tls.address, method)
    assert plaintext.returncode != 0 and "Failed to dial" in plaintext.stderr, plaintext.stderr
    CertificateAuthority("another CA").write(folder / "other-ca.pem")
    wrong_ca = await run_grpcurl(*grpcurl, "-cacert", str(folder / "other-ca.pem"), *auth, session.tls.address, method)
    assert wrong_ca.returncode != 0 and "certificate signed by unknown authority" in wrong_ca.stderr, wrong_ca.stderr
    no_client_cert = await run_grpcurl(*grpcurl, "-cacert", str(files.ca_file), *auth, session.mutual.address, method)
    assert no_client_cert.returncode != 0 and "Failed to dial" in no_client_cert.stderr, no_client_cert.stderr


async def run_grpcurl(*args: str) -> Run:
    process = await asyncio.create_subprocess_exec(
        *args, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE
    )
    stdout, stderr = await asyncio.wait_for(process.communicate(), timeout=60)
    assert process.returncode is not None
    return Run(list(args), process.returncode, stdout.decode(), stderr.decode())
