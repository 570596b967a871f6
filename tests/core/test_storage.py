"""The captures folder: after a crash, start-up removes what an interrupted capture left, and nothing else; a
capture's sidecar says truthfully what was saved and how."""

from __future__ import annotations

import json
import logging
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

import cv2
import numpy as np
import pytest

from camera_grpc.core.storage import (
    CaptureStore,
    FrameMetadata,
    SpooledCapture,
    StorageLocation,
    StorageState,
)
from camera_grpc.core.uploads import SpoolFullError
from camera_grpc.device.base import Frame, PixelFormat
from camera_grpc.device.settings import (
    AddressingMode,
    AutoMode,
    CameraSettings,
    FrameRate,
    FrameRateMode,
    PixelAddressing,
    Range,
    Region,
    TriggerSource,
    WhiteBalance,
)
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
from camera_grpc.core.storage import (
    CaptureStore,
    FrameMetadata,
    SpooledCapture,
    StorageLocation,
    StorageState,
)
from camera_grpc.core.uploads import SpoolFullError
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


# -- what a capture's sidecar says --------------------------------------------------------------------------

#: A flat colour as 12-bit samples, and the mosaic a BAYER16_GRBG camera delivers of it.
COLOUR_12 = (3200, 1600, 512)


def grbg_frame() -> Frame:
    pixels = np.empty((32, 48), np.uint16)
    pixels[0::2, 0::2] = pixels[1::2, 1::2] = COLOUR_12[1]  # G R / B G
    pixels[0::2, 1::2] = COLOUR_12[0]
    pixels[1::2, 0::2] = COLOUR_12[2]
    return Frame(pixels, PixelFormat.BAYER16_GRBG, 12, 7, datetime.now(UTC), 12.5, 3.0)


CAMERA_SETTINGS = CameraSettings(
    exposure_ms=12.5,
    gain_db=3.0,
    roi=Region(8, 16, 48, 32),
    pixel_addressing=PixelAddressing(AddressingMode.BIN, 2, 2),
    pixel_format=PixelFormat.BAYER16_GRBG,
    frame_rate=FrameRate(FrameRateMode.FIXED, 25.0),
    white_balance=WhiteBalance(AutoMode.OFF, 1.5, 1.0, 2.0),
    exposure_auto_limits_ms=Range(1.0, 50.0),
)


@pytest.mark.parametrize("image_format", ["jpeg", "png", "tiff", "bmp"])
def test_a_colour_capture_is_saved_demosaiced_with_a_truthful_sidecar_and_every_setting(
    tmp_path: Path, image_format: str
) -> None:
    store = CaptureStore(tmp_path)
    saved = store.save(grbg_frame(), image_format, 90, None, settings=CAMERA_SETTINGS)
    sidecar = json.loads(saved.metadata_path.read_text())
    sixteen = image_format in ("png", "tiff")
    assert (sidecar["pixel_format"], sidecar["bit_depth"], sidecar["width"], sidecar["height"]) == (
        "bayer16_grbg",
        12,
        48,
        32,
    )
    assert sidecar["image"] == {
        "color": "rgb",
        "channels": 3,
        "bits_per_sample": 16 if sixteen else 8,
        "significant_bits": 12 if sixteen else 8,
        "demosaiced_from": "grbg",
    }
    assert sidecar["settings"] == {"exposure_ms": 12.5, "gain_db": 3.0}  # what the frame was taken with
    settings = sidecar["camera_settings"]
    assert settings["roi"] == {"offset_x": 8, "offset_y": 16, "width": 48, "height": 32}
    assert settings["pixel_addressing"] == {"mode": "bin", "horizontal": 2, "vertical": 2}
    assert (settings["pixel_format"], settings["frame_rate"]) == ("bayer16_grbg", {"mode": "fixed", "fps": 25.0})
    assert settings["white_balance"]["blue"] == 2.0 and settings["exposure_auto_limits_ms"]["maximum"] == 50.0
    decoded = cv2.imdecode(np.frombuffer(saved.path.read_bytes(), np.uint8), cv2.IMREAD_UNCHANGED)[:, :, ::-1]
    expected = COLOUR_12 if sixteen else tuple(channel >> 4 for channel in COLOUR_12)
    assert decoded.dtype == (np.uint16 if sixteen else np.uint8)
    assert np.abs(decoded[16, 24].astype(int) - expected).max() <= (3 if image_format == "jpeg" else 0)


def test_a_capture_without_settings_still_saves_and_names_the_delivered_format(tmp_path: Path) -> None:
    store = CaptureStore(tmp_path)
    # a camera set to packed MONO12 delivers MONO16 with 12 significant bits
    frame = Frame(np.full((8, 8), 4095, np.uint16), PixelFormat.MONO16, 12, 1, datetime.now(UTC), 1.0, 0.0)
    saved = store.save(frame, "png", 95, None)
    sidecar = json.loads(saved.metadata_path.read_text())
    assert "camera_settings" not in sidecar
    assert (sidecar["pixel_format"], sidecar["bit_depth"]) == ("mono16", 12)
    assert sidecar["image"]["color"] == "grey" and sidecar["image"]["bits_per_sample"] == 16
    record, _ = store.read_capture(saved.filename)
    assert (record.width, record.height, record.exposure_ms) == (8, 8, 1.0)


def test_the_sidecar_keeps_the_frame_metadata_and_the_listing_reads_it_back(tmp_path: Path) -> None:
    store = CaptureStore(tmp_path)
    frame = Frame(
        np.zeros((8, 8), np.uint8),
        PixelFormat.MONO8,
        8,
        41,
        datetime(2026, 1, 2, 3, 4, 5, 678901, tzinfo=UTC),
        2.0,
        0.0,
        camera_time_s=1234.5678,
        camera_clock="pixelink:700000001",
        trigger_source=TriggerSource.HARDWARE,
        trigger_count=17,
        trigger_frame_index=2,
    )
    saved = store.save(frame, "png", 95, None)
    sidecar = json.loads(saved.metadata_path.read_text())
    assert sidecar["metadata"] == {
        "frame_number": 41,
        "camera_time_s": 1234.5678,
        "camera_clock": "pixelink:700000001",
        "received_at": "2026-01-02T03:04:05.678901+00:00",
        "trigger_source": "hardware",
        "trigger_count": 17,
        "trigger_frame_index": 2,
    }
    [listed] = store.list_captures().captures
    assert listed.metadata == saved.metadata == FrameMetadata.of(frame)


def test_a_capture_saved_before_frame_metadata_is_still_listed_without_it(tmp_path: Path) -> None:
    store = CaptureStore(tmp_path)
    saved = store.save(
        Frame(np.zeros((8, 8), np.uint8), PixelFormat.MONO8, 8, 3, datetime.now(UTC), 1.0, 0.0), "png", 95, None
    )
    sidecar = json.loads(saved.metadata_path.read_text())
    del sidecar["metadata"]
    saved.metadata_path.write_text(json.dumps(sidecar))
    [listed] = store.list_captures().captures
    assert (listed.frame_number, listed.metadata) == (3, None)


class SpoolSide:
    """The upload spool as the capture store sees it (camera_grpc.core.storage.CaptureUploads), in memory: the
    real uploader is exercised against a real store in tests/core/test_uploads.py and tests/test_object_store.py."""

    bucket = "lab-bucket"

    def __init__(self) -> None:
        self.full = False
        self.queued: list[SpooledCapture] = []
        self.objects: dict[str, bytes] = {}

    def check_room(self) -> None:
        if self.full:
            raise SpoolFullError("the upload spool is full (SPOOL_BUDGET_BYTES=1048576 bytes)")

    def key_of(self, camera: object, filename: str) -> str:
        return f"prefix/SIM-7/captures/{filename}"

    def enqueue(self, capture: SpooledCapture) -> None:
        self.queued.append(capture)

    def fetch(self, key: str) -> bytes:
        return self.objects[key]


def small_frame(number: int) -> Frame:
    return Frame(np.full((8, 8), number, np.uint8), PixelFormat.MONO8, 8, number, datetime.now(UTC), 1.0, 0.0)


def test_a_spooled_capture_is_queued_and_says_where_it_will_go(tmp_path: Path) -> None:
    spool = SpoolSide()
    store = CaptureStore(tmp_path, uploads=spool)
    saved = store.save(small_frame(1), "png", 95, None)
    [queued] = spool.queued
    assert (queued.path, queued.metadata_path) == (saved.path, saved.metadata_path)  # saved exactly as without a store
    assert (queued.key, queued.sidecar_key) == (
        f"prefix/SIM-7/captures/{saved.filename}",
        f"prefix/SIM-7/captures/{saved.path.stem}.json",
    )
    [listed] = store.list_captures().captures
    assert listed.location == StorageLocation(StorageState.SPOOLED, "lab-bucket", queued.key)
    assert store.spooled() == [queued]  # what a restart queues again


def test_an_uploaded_capture_leaves_the_spool_and_is_read_from_the_bucket(tmp_path: Path) -> None:
    spool = SpoolSide()
    store = CaptureStore(tmp_path, uploads=spool)
    saved = store.save(small_frame(2), "png", 95, None)
    kept = store.save(small_frame(3), "png", 95, None)
    key = spool.queued[0].key
    spool.objects[key] = saved.data
    store.mark_uploaded(saved.filename, {"bucket": "lab-bucket", "key": key})
    assert not saved.path.exists() and saved.metadata_path.exists()
    assert store.clean_up() == []  # its sidecar is no orphan
    listed = {capture.filename: capture.location for capture in store.list_captures().captures}
    assert listed == {
        saved.filename: StorageLocation(StorageState.UPLOADED, "lab-bucket", key),
        kept.filename: StorageLocation(StorageState.SPOOLED, "lab-bucket", spool.queued[1].key),
    }
    record, data = store.read_capture(saved.filename)
    assert data == saved.data and record.location.state is StorageState.UPLOADED
    assert [capture.filename for capture in store.spooled()] == [kept.filename]


def test_a_full_spool_refuses_a_capture_before_anything_is_written(tmp_path: Path) -> None:
    spool = SpoolSide()
    store = CaptureStore(tmp_path, uploads=spool)
    earlier = store.save(small_frame(4), "png", 95, None)
    spool.full = True
    with pytest.raises(SpoolFullError, match="SPOOL_BUDGET_BYTES"):
        store.save(small_frame(5), "png", 95, None)
    assert sorted(path.name for path in tmp_path.iterdir()) == sorted([earlier.filename, earlier.metadata_path.name])
    assert len(spool.queued) == 1


def test_without_an_object_store_captures_are_local(tmp_path: Path) -> None:
    store = CaptureStore(tmp_path)
    saved = store.save(small_frame(6), "png", 95, None)
    assert "storage" not in json.loads(saved.metadata_path.read_text())
    [listed] = store.list_captures().captures
    assert listed.location == StorageLocation(StorageState.LOCAL)
