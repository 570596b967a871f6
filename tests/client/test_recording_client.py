"""Recordings through the Python client (blocking and asyncio) and the ``camera-grpc record`` / ``recordings``
commands, against a real service on port 0 with the simulated camera."""

from __future__ import annotations

import asyncio
import re
from pathlib import Path

import pytest
import tifffile

from camera_grpc.client import AsyncCameraClient, CameraClient, CameraRpcError
from camera_grpc.device.simulated import read_frame_number
from camera_grpc.gen.camera.v1 import recording_pb2 as rpb
from tests.client.test_cli_client import camera_grpc
from tests.support import RunningService, ServiceFactory

SMALL_SENSOR = {"simulated_width": 256, "simulated_height": 128}
FRAMES = 8


@pytest.fixture
async def recorder(start_service: ServiceFactory, tmp_path: Path) -> RunningService:
    return await start_service(recordings_path=tmp_path / "recordings", **SMALL_SENSOR)


async def test_the_async_client_records_watches_and_downloads_a_readable_file(
    recorder: RunningService, tmp_path: Path
) -> None:
    async with AsyncCameraClient(recorder.address) as client:
        started = (await client.start_recording(recording_id="a1", format="ome-tiff", max_frames=FRAMES)).recording
        assert started.state == rpb.RECORDING_STATE_RUNNING
        final = [update.recording async for update in client.watch_recording("a1")][-1]
        assert final.state == rpb.RECORDING_STATE_COMPLETED and final.frames_written == FRAMES
        file = next(file for file in final.files if file.name.endswith(".ome.tif"))
        dest = tmp_path / "copy.ome.tif"
        size = await client.download_recording_file("a1", file.name, dest)
        assert size == file.size_bytes == dest.stat().st_size
        numbers = [read_frame_number(page) for page in tifffile.imread(dest)]
        # In order, each once (a loaded machine's simulated camera may skip a number: the camera's own drop).
        assert len(numbers) == FRAMES and numbers == sorted(set(numbers))
        assert [r.name for r in (await client.list_recordings()).recordings] == ["recordings/a1"]
        assert (await client.get_recording("recordings/a1")).recording.frames_written == FRAMES


async def test_the_blocking_client_resumes_a_download_and_stops_and_deletes(
    recorder: RunningService, tmp_path: Path
) -> None:
    await asyncio.to_thread(blocking_session, recorder.address, tmp_path)


def blocking_session(address: str, tmp_path: Path) -> None:
    with CameraClient(address) as client:
        client.start_recording(recording_id="b1", max_frames=FRAMES)
        final = [update.recording for update in client.watch_recording("b1")][-1]
        file = next(file for file in final.files if file.name.endswith(".ome.tif"))
        whole = tmp_path / "whole.ome.tif"
        client.download_recording_file("b1", file.name, whole)
        partial = tmp_path / "partial.ome.tif"
        half = whole.stat().st_size // 2
        partial.write_bytes(whole.read_bytes()[:half] + b"\0" * whole.stat().st_size)  # past the offset: dropped
        client.download_recording_file("b1", file.name, partial, offset=half)
        assert partial.read_bytes() == whole.read_bytes()

        client.start_recording(recording_id="b2")
        stopped = client.stop_recording("b2").recording
        assert stopped.state == rpb.RECORDING_STATE_STOPPED
        client.delete_recording("b2")
        with pytest.raises(CameraRpcError) as caught:
            client.get_recording("b2")
        assert caught.value.code.name == "NOT_FOUND"


async def test_cli_record_shows_progress_and_prints_where_the_files_are(
    recorder: RunningService, tmp_path: Path
) -> None:
    target = ["--target", recorder.address]
    result = await camera_grpc(
        tmp_path, "record", "--frames", str(FRAMES), "--format", "ome-tiff", "--id", "c1", *target
    )
    assert result.returncode == 0, result.stderr
    # (drops are counted, not zero, on a loaded machine)
    assert re.search(r"recordings/c1: completed, 8 frames written, \d+ dropped, \d+ bytes", result.stdout)
    assert "recordings/c1/c1" in result.stdout and ".ome.tif" in result.stdout
    assert "dropped" in result.stderr  # the progress bar

    listed = await camera_grpc(tmp_path, "recordings", "list", *target)
    assert listed.returncode == 0 and "recordings/c1" in listed.stdout
    file = next(f.name for f in recorder.runtime.recordings.get("c1").files if f.name.endswith(".ome.tif"))
    out = tmp_path / "out.ome.tif"
    fetched = await camera_grpc(tmp_path, "recordings", "download", "c1", file, "-o", str(out), *target)
    assert fetched.returncode == 0, fetched.stderr
    assert out.read_bytes() == (recorder.runtime.recordings.store.path_of("c1") / file).read_bytes()
    deleted = await camera_grpc(tmp_path, "recordings", "delete", "c1", *target)
    assert deleted.returncode == 0
    missing = await camera_grpc(tmp_path, "recordings", "show", "c1", *target)
    assert missing.returncode == 1 and "NOT_FOUND" in missing.stderr
