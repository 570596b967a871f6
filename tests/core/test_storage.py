"""The captures folder after a crash: start-up removes what an interrupted capture left, and nothing else."""

from __future__ import annotations

import json
import logging
import subprocess
import sys
from pathlib import Path

import pytest

from camera_grpc.gen.camera.v1 import camera_pb2 as pb
from tests.support import REPO_ROOT, ServiceFactory

COMPLETE = "capture_20260101_000000_000001_1"
ORPHAN = "capture_20260101_000000_000002_2"


def leave_debris(folder: Path) -> None:
    """What kill -9 leaves (temporary files, a sidecar whose image was never linked) beside files to keep."""
    folder.mkdir(parents=True, exist_ok=True)
    sidecar = {
        "captured_at": "2026-01-01T00:00:00.000001+00:00",
        "size_bytes": 3,
        "width": 1,
        "height": 1,
        "frame_number": 1,
        "settings": {"exposure_ms": 2.0, "gain_db": 0.0},
    }
    (folder / f"{COMPLETE}.jpg").write_bytes(b"jpg")
    (folder / f"{COMPLETE}.json").write_text(json.dumps(sidecar))
    (folder / f"{ORPHAN}.json").write_text(json.dumps(sidecar))  # its image was never linked
    (folder / ".tmp-a1b2c3.part").write_bytes(b"half an image")
    (folder / ".tmp-d4e5f6.part").write_bytes(b"")
    (folder / "notes.txt").write_text("a user's file: not ours")
    (folder / "capture_20260101_000000_000003_3.png").write_bytes(b"an image without a sidecar: not ours to judge")


async def test_start_up_removes_temporary_files_and_sidecars_without_an_image(
    start_service: ServiceFactory, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    folder = tmp_path / "captures"
    leave_debris(folder)
    with caplog.at_level(logging.INFO, logger="camera_grpc"):
        service = await start_service(image_save_path=folder)
    left = sorted(path.name for path in folder.iterdir())
    assert left == sorted([f"{COMPLETE}.jpg", f"{COMPLETE}.json", "notes.txt", "capture_20260101_000000_000003_3.png"])
    removal = [record.getMessage() for record in caplog.records if "removed" in record.getMessage()]
    assert len(removal) == 1, removal  # one line, naming what it removed
    for name in (".tmp-a1b2c3.part", ".tmp-d4e5f6.part", f"{ORPHAN}.json"):
        assert name in removal[0]
    listed = (await service.stub.ListCaptures(pb.ListCapturesRequest())).captures
    assert [entry.filename for entry in listed] == [f"{COMPLETE}.jpg"]


async def test_a_clean_folder_is_left_alone_and_nothing_is_logged(
    start_service: ServiceFactory, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    folder = tmp_path / "captures"
    service = await start_service(image_save_path=folder)
    taken = await service.stub.Capture(pb.CaptureRequest(), timeout=10)
    await service.runtime.aclose()
    with caplog.at_level(logging.INFO, logger="camera_grpc"):
        await start_service(image_save_path=folder)
    assert sorted(path.name for path in folder.iterdir()) == sorted([taken.filename, Path(taken.metadata_path).name])
    assert not [record for record in caplog.records if "removed" in record.getMessage()]


#: Runs in a child process: the store saves and reads a capture once the process has no descriptor left.
NO_DESCRIPTOR_LEFT = """
import errno, os, resource, sys
from datetime import UTC, datetime
from pathlib import Path
import numpy as np
from camera_grpc.core.storage import CaptureStore
from camera_grpc.device.base import Frame, PixelFormat

store = CaptureStore(Path(sys.argv[1]), fd_reserve=int(sys.argv[2]))
store.ensure_writable()
frame = Frame(np.zeros((8, 8), np.uint8), PixelFormat.MONO8, 8, 1, datetime.now(UTC), 1.0, 0.0)
resource.setrlimit(resource.RLIMIT_NOFILE, (64, resource.getrlimit(resource.RLIMIT_NOFILE)[1]))
hog = []
while True:  # take every descriptor left, as a crowd of idle connections would
    try:
        hog.append(os.open(os.devnull, os.O_RDONLY))
    except OSError as exc:
        assert exc.errno == errno.EMFILE
        break
for _ in range(3):
    saved = store.save(frame, "png", 95, None)
    record, data = store.read_capture(saved.filename)
    assert record.filename == saved.filename and data == saved.data
print("saved")
"""


@pytest.mark.parametrize("reserve", [8, 0], ids=["with-reserve", "without"])
def test_captures_are_saved_and_read_when_the_process_has_no_descriptor_left(tmp_path: Path, reserve: int) -> None:
    result = subprocess.run(
        [sys.executable, "-c", NO_DESCRIPTOR_LEFT, str(tmp_path / "captures"), str(reserve)],
        capture_output=True,
        text=True,
        cwd=REPO_ROOT,
        timeout=60,
    )
    if reserve:
        assert (result.returncode, result.stdout.strip()) == (0, "saved"), result.stderr
    else:  # the control: without a reserve, the same save fails
        assert result.returncode != 0 and "Too many open files" in result.stderr


async def test_an_unreadable_sidecar_is_logged_once_however_often_captures_are_listed(
    start_service: ServiceFactory, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    folder = tmp_path / "captures"
    folder.mkdir()
    (folder / f"{COMPLETE}.jpg").write_bytes(b"jpg")
    (folder / f"{COMPLETE}.json").write_text("{not json")
    service = await start_service(image_save_path=folder)
    with caplog.at_level(logging.INFO, logger="camera_grpc"):
        for _ in range(50):
            assert not (await service.stub.ListCaptures(pb.ListCapturesRequest())).captures
    assert [record.getMessage() for record in caplog.records].count(
        f"ignoring capture {COMPLETE}.jpg: unreadable sidecar (Expecting property name enclosed in double quotes: "
        "line 1 column 2 (char 1))"
    ) == 1
    assert len(caplog.records) == 1
