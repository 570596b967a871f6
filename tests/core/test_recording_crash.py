"""Recording under real failures: ``kill -9`` of a recording process, and a full disk (a small tmpfs).

Each runs a real child process. The kill test waits for the child to report frames written (a line on its
stdout), kills it with SIGKILL, and opens the files with tifffile and zarr. The disk tests mount a small
tmpfs in a private mount namespace (``unshare --user --map-root-user --mount``, so no privileges are needed
where user namespaces are allowed; the tests are skipped where they are not), record into it until the disk
is full, and copy the recording out for the readers.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest
import tifffile
import zarr

from camera_grpc.core.recording import RecordingManager
from camera_grpc.core.recording_store import FRAME_LOG_NAME, RecordingState, read_frame_log
from camera_grpc.device.simulated import read_frame_number

#: Frames the child must have written before it is killed.
FRAMES_BEFORE_KILL = 15
#: Longest a child may take, seconds (a hung child fails the test instead of hanging it).
CHILD_TIMEOUT_S = 60.0
#: Size of the small tmpfs of the disk tests, and the frame size written to it.
TMPFS_SIZE = "3m"

KILLED_CHILD = textwrap.dedent(
    """
    import sys
    from pathlib import Path

    from camera_grpc.core.recording import RecordingManager, RecordingRequest
    from camera_grpc.core.recording_writers import RecordingFormat
    from camera_grpc.device.simulated import SimulatedCamera

    directory, recording_format = Path(sys.argv[1]), RecordingFormat(sys.argv[2])
    camera = SimulatedCamera(256, 128, max_frame_rate_fps=500.0)
    camera.open()
    camera.start_streaming()
    manager = RecordingManager(directory, disk_full_threshold_bytes=0, min_headroom_bytes=0)
    manager.recover()
    info = manager.start(
        RecordingRequest(recording_id="killed", format=recording_format),
        camera=camera.info(), geometry=camera.geometry(), settings={"exposure_ms": 1.0},
    )
    reported = 0
    while True:  # until killed
        manager.on_frame(camera.grab())
        written = manager.get(info.name).frames_written
        if written != reported:
            print(written, flush=True)
            reported = written
    """
)

DISK_CHILD = textwrap.dedent(
    """
    import json
    import shutil
    import sys
    from datetime import UTC, datetime
    from pathlib import Path

    import numpy as np

    from camera_grpc.core.recording import RecordingManager, RecordingRequest
    from camera_grpc.device.base import Frame
    from camera_grpc.device.settings import ImageGeometry
    from camera_grpc.formats import PixelFormat

    directory, out, threshold = Path(sys.argv[1]), Path(sys.argv[2]), int(sys.argv[3])
    manager = RecordingManager(directory, disk_full_threshold_bytes=threshold, min_headroom_bytes=4096)
    geometry = ImageGeometry(256, 128, PixelFormat.MONO8, 8)
    info = manager.start(RecordingRequest(recording_id="full"), camera=None, geometry=geometry, settings={})
    fed = 0
    while manager.is_recording and fed < 10_000:
        pixels = np.random.default_rng(fed).integers(0, 256, (128, 256), dtype=np.uint8)
        manager.on_frame(Frame(pixels, PixelFormat.MONO8, 8, fed, datetime.now(UTC), 1.0, 0.0))
        fed += 1
    final = manager.stop(info.name)
    manager.close()
    free = shutil.disk_usage(directory).free
    shutil.copytree(directory / "full", out)
    print(json.dumps({"state": final.state.value, "reason": final.failure_reason, "free": free,
                      "written": final.frames_written, "dropped": final.frames_dropped, "fed": fed}))
    """
)


def _child_env() -> dict[str, str]:
    root = Path(__file__).resolve().parents[2]
    return {**os.environ, "PYTHONPATH": str(root)}


@pytest.mark.parametrize("recording_format", ["ome-tiff", "ome-zarr"])
def test_kill_9_leaves_files_their_readers_open_with_every_flushed_frame(tmp_path: Path, recording_format: str) -> None:
    script = tmp_path / "child.py"
    script.write_text(KILLED_CHILD)
    directory = tmp_path / "recordings"
    child = subprocess.Popen(
        [sys.executable, str(script), str(directory), recording_format],
        stdout=subprocess.PIPE,
        text=True,
        env=_child_env(),
    )
    try:
        assert child.stdout is not None
        for line in child.stdout:  # the child's progress: frames written so far
            if int(line) >= FRAMES_BEFORE_KILL:
                break
        child.send_signal(signal.SIGKILL)
    finally:
        child.kill()
        child.wait(CHILD_TIMEOUT_S)
    assert child.returncode == -signal.SIGKILL

    folder = directory / "killed"
    logged, _ = read_frame_log(folder / FRAME_LOG_NAME)
    numbers = [line["frame_number"] for line in logged]
    assert len(numbers) >= FRAMES_BEFORE_KILL
    if recording_format == "ome-tiff":
        with tifffile.TiffFile(folder / "killed.ome.tif", _useframes=False) as tif:
            assert len(tif.pages) >= len(numbers)  # a frame written but not yet logged may follow
            stored = [read_frame_number(tif.pages[index].asarray()) for index in range(len(numbers))]
    else:
        array = zarr.open_group(str(folder / "killed.ome.zarr"), mode="r")["0"]
        assert array.shape[0] >= len(numbers)
        stored = [read_frame_number(pixels) for pixels in array[: len(numbers)]]
    assert stored == numbers

    recovered = RecordingManager(directory)
    assert recovered.recover() == ["killed"]
    info = recovered.get("recordings/killed")
    assert info.state is RecordingState.FAILED and info.failure_reason == "service stopped"
    assert info.frames_written == len(numbers) and info.end_time is not None
    recovered.close()
    if recording_format == "ome-tiff":  # recovery also wrote the OME-XML, for the complete pages
        with tifffile.TiffFile(folder / "killed.ome.tif") as tif:
            assert tif.is_ome and tif.series[0].shape[0] >= len(numbers)
            series = tif.series[0].asarray()
            assert [read_frame_number(page) for page in series[: len(numbers)]] == numbers


def _unshare_works() -> bool:
    if shutil.which("unshare") is None:
        return False
    probe = subprocess.run(
        ["unshare", "--user", "--map-root-user", "--mount", "true"], capture_output=True, timeout=CHILD_TIMEOUT_S
    )
    return probe.returncode == 0


def _record_on_small_tmpfs(tmp_path: Path, threshold_bytes: int) -> tuple[dict[str, object], Path]:
    if not _unshare_works():
        pytest.skip("needs a private mount namespace (unshare --user --mount) for a small tmpfs")
    script = tmp_path / "child.py"
    script.write_text(DISK_CHILD)
    mount_point, out = tmp_path / "tmpfs", tmp_path / "out"
    mount_point.mkdir()
    command = f'mount -t tmpfs -o size={TMPFS_SIZE} tmpfs "$1" && exec "$2" "$3" "$1/recordings" "$4" {threshold_bytes}'
    result = subprocess.run(
        ["unshare", "--user", "--map-root-user", "--mount", "sh", "-c", command, "sh",
         str(mount_point), sys.executable, str(script), str(out)],
        capture_output=True, text=True, env=_child_env(), timeout=CHILD_TIMEOUT_S,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout.strip().splitlines()[-1]), out


def _assert_readable_up_to(out: Path, written: int) -> int:
    """Check the first ``written`` frames are in the file and the log; returns the frames the log says dropped."""
    logged, drops = read_frame_log(out / FRAME_LOG_NAME)
    assert [line["frame_number"] for line in logged] == list(range(written))
    with tifffile.TiffFile(out / "full.ome.tif", _useframes=False) as tif:
        assert len(tif.pages) == written
        for index in (0, written - 1):
            expected = np.random.default_rng(index).integers(0, 256, (128, 256), dtype=np.uint8)
            np.testing.assert_array_equal(tif.pages[index].asarray(), expected)
    return sum(drop["dropped_to"] - drop["dropped_from"] + 1 for drop in drops)


def test_a_real_full_disk_fails_the_recording_with_what_was_written_readable(tmp_path: Path) -> None:
    result, out = _record_on_small_tmpfs(tmp_path, threshold_bytes=0)  # only ENOSPC stops it

    assert (result["state"], result["reason"]) == ("failed", "disk full")
    written = int(result["written"])  # type: ignore[call-overload]
    assert 10 < written < int(result["fed"])  # type: ignore[call-overload]
    dropped = _assert_readable_up_to(out, written)
    document = json.loads((out / "recording.json").read_text())
    assert dropped == result["dropped"] == document["frames_dropped"] and dropped >= 1  # at least the one that failed
    assert (document["state"], document["failure_reason"]) == ("failed", "disk full")


def test_free_space_below_the_threshold_ends_the_recording_before_the_disk_is_full(tmp_path: Path) -> None:
    threshold_bytes = 1024 * 1024
    result, out = _record_on_small_tmpfs(tmp_path, threshold_bytes=threshold_bytes)

    assert (result["state"], result["reason"]) == ("failed", "disk full")
    # checked at least every half threshold written: it stopped with most of the threshold still free
    assert int(result["free"]) > threshold_bytes // 4  # type: ignore[call-overload]
    written = int(result["written"])  # type: ignore[call-overload]
    _assert_readable_up_to(out, written)
    with tifffile.TiffFile(out / "full.ome.tif") as tif:  # finished properly: room was left for the OME-XML
        assert tif.is_ome and tif.series[0].shape[0] == written
