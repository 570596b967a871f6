"""Recording engine: files read back with their standard readers (tifffile, zarr, PyAV), lifecycle, store, drops.

Frames come from the simulated camera (its frames carry their number in the pixels) or are made here; the
test thread plays the camera thread (it calls the frame listener, as the camera worker would).
"""

from __future__ import annotations

import asyncio
import itertools
import json
import threading
from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path
from xml.etree import ElementTree

import av
import numpy as np
import pytest
import tifffile
import zarr

from camera_grpc.core.events import EventHub, EventType
from camera_grpc.core.recording import FinishedRecording, RecordingInfo, RecordingManager, RecordingRequest
from camera_grpc.core.recording_store import (
    FRAME_LOG_NAME,
    METADATA_NAME,
    RecordingExistsError,
    RecordingNotFoundError,
    RecordingState,
    RecordingStateError,
    read_frame_log,
)
from camera_grpc.core.recording_writers import (
    FRAME_METADATA_TAG,
    ZARRAY_NAME,
    ZARRAY_PADDED_BYTES,
    FrameWriter,
    RecordingFormat,
    make_writer,
)
from camera_grpc.core.storage import LOCAL, StorageLocation, StorageState
from camera_grpc.device.base import Frame
from camera_grpc.device.settings import ImageGeometry
from camera_grpc.device.simulated import SimulatedCamera, read_frame_number
from camera_grpc.device.worker import CameraWorker
from camera_grpc.errors import InvalidArgumentError, StorageFullError
from camera_grpc.formats import PixelFormat
from tests.support.waiting import eventually

WIDTH, HEIGHT = 256, 128
SETTINGS = {"exposure_ms": 5.0, "gain_db": 1.0, "roi": {"width": WIDTH, "height": HEIGHT}}
#: A fast simulated camera, so a test's frames come at once.
FAST_FPS = 1000.0


def simulated_frames(count: int, pixel_format: PixelFormat = PixelFormat.MONO8, *, color: bool = False) -> list[Frame]:
    camera = SimulatedCamera(WIDTH, HEIGHT, pixel_format, max_frame_rate_fps=FAST_FPS, color=color)
    camera.open()
    try:
        camera.start_streaming()
        return [camera.grab() for _ in range(count)]
    finally:
        camera.close()


def made_frame(
    number: int, pixel_format: PixelFormat = PixelFormat.MONO8, bit_depth: int = 8, **fields: object
) -> Frame:
    """A frame whose pixels are all different and depend on its number."""
    rng = np.random.default_rng(number)
    shape = (HEIGHT, WIDTH, 3) if pixel_format is PixelFormat.RGB24 else (HEIGHT, WIDTH)
    pixels = rng.integers(0, 2**bit_depth, shape, dtype=np.uint16 if pixel_format.is_16_bit else np.uint8)
    values = {
        "pixels": pixels,
        "pixel_format": pixel_format,
        "bit_depth": bit_depth,
        "frame_number": number,
        "captured_at": datetime.now(UTC),
        "exposure_ms": 1.0 + number,
        "gain_db": 0.5 * number,
        "camera_time_s": 100.0 + number / 50,
        "camera_clock": "simulated:TEST",
    }
    values.update(fields)
    return Frame(**values)  # type: ignore[arg-type]


def geometry_of(frame: Frame) -> ImageGeometry:
    return ImageGeometry(frame.width, frame.height, frame.pixel_format, frame.bit_depth)


def record(manager: RecordingManager, frames: list[Frame], request: RecordingRequest) -> RecordingInfo:
    """Start, feed every frame (as the camera thread would), and wait for the end (max_frames or stop)."""
    info = manager.start(request, camera=None, geometry=geometry_of(frames[0]), settings=SETTINGS)
    for frame in frames:
        manager.on_frame(frame)
    if request.max_frames:
        manager._active.join() if manager._active is not None else None
        return manager.get(info.name)
    return manager.stop(info.name)


@pytest.fixture
def manager(tmp_path: Path) -> Iterator[RecordingManager]:
    recordings = RecordingManager(tmp_path / "recordings", disk_full_threshold_bytes=0, min_headroom_bytes=0)
    recordings.recover()
    yield recordings
    recordings.close()


def tiff_pages(path: Path) -> tuple[np.ndarray, list[dict[str, object]], str]:
    """Pixels of every page, each page's frame metadata tag, and the OME-XML."""
    with tifffile.TiffFile(path, _useframes=False) as tif:
        metadata = [json.loads(page.tags[FRAME_METADATA_TAG].value) for page in tif.pages]
        pixels = np.stack([page.asarray() for page in tif.pages])
        return pixels, metadata, tif.ome_metadata or ""


# -- writers, read back ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("pixel_format", "bit_depth"),
    [
        (PixelFormat.MONO8, 8),
        (PixelFormat.MONO16, 12),
        (PixelFormat.BAYER8_RGGB, 8),
        (PixelFormat.BAYER16_GBRG, 16),
        (PixelFormat.RGB24, 8),
    ],
)
def test_ome_tiff_keeps_every_frame_exactly_with_its_metadata(
    manager: RecordingManager, pixel_format: PixelFormat, bit_depth: int
) -> None:
    frames = [made_frame(number, pixel_format, bit_depth) for number in range(10, 16)]

    info = record(manager, frames, RecordingRequest(recording_id="tiff", max_frames=len(frames)))

    assert info.state is RecordingState.COMPLETED and info.end_time is not None
    assert (info.frames_written, info.frames_dropped) == (6, 0)
    path = manager.store.path_of("tiff") / "tiff.ome.tif"
    pixels, metadata, ome = tiff_pages(path)
    np.testing.assert_array_equal(pixels, np.stack([frame.pixels for frame in frames]))
    assert [m["frame_number"] for m in metadata] == list(range(10, 16))
    assert [m["exposure_ms"] for m in metadata] == [frame.exposure_ms for frame in frames]
    assert [m["gain_db"] for m in metadata] == [frame.gain_db for frame in frames]
    assert [m["camera_time_s"] for m in metadata] == [frame.camera_time_s for frame in frames]
    with tifffile.TiffFile(path) as tif:  # the OME series, as OME readers see it
        assert tif.is_ome
        series = tif.series[0]
        assert series.shape == pixels.shape
        np.testing.assert_array_equal(series.asarray(), pixels)
    assert f'SignificantBits="{bit_depth}"' in ome
    planes = [element.attrib for element in ElementTree.fromstring(ome).iter() if element.tag.endswith("}Plane")]
    assert [float(plane["ExposureTime"]) for plane in planes] == [frame.exposure_ms for frame in frames]
    assert {plane["ExposureTimeUnit"] for plane in planes} == {"ms"}
    assert [float(plane["DeltaT"]) for plane in planes] == pytest.approx([n / 50 for n in range(6)])
    assert [int(plane["TheT"]) for plane in planes] == list(range(6))
    # the sidecar: settings, geometry, and one line per frame
    document = json.loads((manager.store.path_of("tiff") / METADATA_NAME).read_text())
    assert document["settings"] == SETTINGS and document["state"] == "completed"
    assert document["geometry"]["pixel_format"] == pixel_format.value
    logged, drops = read_frame_log(manager.store.path_of("tiff") / FRAME_LOG_NAME)
    assert [line["frame_number"] for line in logged] == list(range(10, 16)) and drops == []
    assert logged[2]["gain_db"] == frames[2].gain_db and logged[2]["camera_clock"] == "simulated:TEST"


def test_ome_tiff_of_the_simulated_camera_holds_its_frames_in_order(manager: RecordingManager) -> None:
    frames = simulated_frames(20)

    info = record(manager, frames, RecordingRequest(recording_id="sim"))

    assert info.state is RecordingState.STOPPED and info.frames_written == 20
    pixels, metadata, _ = tiff_pages(manager.store.path_of("sim") / "sim.ome.tif")
    numbers = [read_frame_number(page) for page in pixels]
    assert numbers == [frame.frame_number for frame in frames] == [m["frame_number"] for m in metadata]
    assert numbers == sorted(numbers) and len(set(numbers)) == 20
    np.testing.assert_array_equal(pixels, np.stack([frame.pixels for frame in frames]))


@pytest.mark.parametrize(
    ("pixel_format", "bit_depth"), [(PixelFormat.MONO8, 8), (PixelFormat.MONO16, 12), (PixelFormat.RGB24, 8)]
)
def test_ome_zarr_keeps_every_frame_in_its_own_chunk(
    manager: RecordingManager, pixel_format: PixelFormat, bit_depth: int
) -> None:
    frames = [made_frame(number, pixel_format, bit_depth) for number in range(5)]

    info = record(manager, frames, RecordingRequest(recording_id="zarr", format=RecordingFormat.OME_ZARR))

    assert info.state is RecordingState.STOPPED and info.frames_written == 5
    group = zarr.open_group(str(manager.store.path_of("zarr") / "zarr.ome.zarr"), mode="r")
    array = group["0"]
    stored = np.stack([frame.pixels for frame in frames])
    if pixel_format is PixelFormat.RGB24:
        stored = np.moveaxis(stored, -1, 1)  # t, c, y, x
    assert array.chunks == (1, *stored.shape[1:])
    np.testing.assert_array_equal(array[:], stored)
    multiscales = group.attrs["multiscales"][0]
    assert multiscales["version"] == "0.4" and multiscales["datasets"][0]["path"] == "0"
    assert [axis["name"] for axis in multiscales["axes"]] == (
        ["t", "c", "y", "x"] if pixel_format is PixelFormat.RGB24 else ["t", "y", "x"]
    )
    logged, _ = read_frame_log(manager.store.path_of("zarr") / FRAME_LOG_NAME)
    assert [line["frame_number"] for line in logged] == list(range(5))


@pytest.mark.parametrize(("pixel_format", "color"), [(PixelFormat.MONO8, False), (PixelFormat.BAYER8_RGGB, True)])
def test_mp4_is_browser_playable_h264_at_the_chosen_width(
    manager: RecordingManager, pixel_format: PixelFormat, color: bool
) -> None:
    frames = simulated_frames(12, pixel_format, color=color)

    info = record(manager, frames, RecordingRequest(recording_id="video", format=RecordingFormat.MP4, max_width=128))

    assert info.state is RecordingState.STOPPED and info.frames_written == 12
    with av.open(str(manager.store.path_of("video") / "video.mp4")) as container:
        stream = container.streams.video[0]
        assert stream.codec_context.name == "h264" and stream.codec_context.pix_fmt == "yuv420p"
        decoded = [frame.to_ndarray(format="rgb24") for frame in container.decode(video=0)]
    assert len(decoded) == 12
    assert decoded[0].shape == (64, 128, 3)  # 256x128 scaled to 128 wide
    spread = np.ptp(decoded[-1].reshape(-1, 3).mean(axis=0).astype(float))
    assert (spread > 5) == color  # colour demosaiced; mono is grey


def test_frames_per_file_starts_a_new_file(manager: RecordingManager) -> None:
    frames = [made_frame(number) for number in range(7)]

    info = record(manager, frames, RecordingRequest(recording_id="split", max_frames=7, frames_per_file=3))

    names = [file.name for file in info.files]
    assert names[:3] == ["split_0001.ome.tif", "split_0002.ome.tif", "split_0003.ome.tif"]
    assert names[3:] == [METADATA_NAME, FRAME_LOG_NAME]
    read = [tiff_pages(manager.store.path_of("split") / name)[0] for name in names[:3]]
    assert [len(pixels) for pixels in read] == [3, 3, 1]
    np.testing.assert_array_equal(np.concatenate(read), np.stack([frame.pixels for frame in frames]))


def test_large_estimate_writes_bigtiff(tmp_path: Path) -> None:
    writer = make_writer(RecordingFormat.OME_TIFF, tmp_path, "big", frames_per_file=0, estimated_file_bytes=2**33)
    writer.write(made_frame(1))
    writer.close()
    with tifffile.TiffFile(tmp_path / "big.ome.tif") as tif:
        assert tif.is_bigtiff and tif.is_ome
    writer = make_writer(RecordingFormat.OME_TIFF, tmp_path, "small", frames_per_file=0, estimated_file_bytes=2**20)
    writer.write(made_frame(1))
    writer.close()
    with tifffile.TiffFile(tmp_path / "small.ome.tif") as tif:
        assert not tif.is_bigtiff


# -- drops and the memory budget ---------------------------------------------------------------------------


class GatedWriter(FrameWriter):
    """A writer that holds each write until the test opens the gate: a disk slower than the camera."""

    def __init__(self, inner: FrameWriter) -> None:
        self.inner = inner
        self.gate = threading.Event()
        self.writing = threading.Event()

    def write(self, frame: Frame) -> None:
        self.writing.set()
        self.gate.wait()
        self.inner.write(frame)

    def close(self) -> None:
        self.inner.close()

    @property
    def files(self):  # type: ignore[no-untyped-def]
        return self.inner.files


async def test_a_slow_disk_drops_frames_counted_exactly_and_memory_stays_in_budget(tmp_path: Path) -> None:
    frame_size = WIDTH * HEIGHT
    writers: list[GatedWriter] = []

    def gated(*args: object, **kwargs: object) -> FrameWriter:
        writers.append(GatedWriter(make_writer(*args, **kwargs)))  # type: ignore[arg-type]
        return writers[-1]

    manager = RecordingManager(
        tmp_path, queue_budget_bytes=3 * frame_size, disk_full_threshold_bytes=0, min_headroom_bytes=0,
        writer_factory=gated,
    )  # fmt: skip
    frames = [made_frame(number) for number in range(100, 120)]
    info = manager.start(
        RecordingRequest(recording_id="slow"), camera=None, geometry=geometry_of(frames[0]), settings={}
    )
    manager.on_frame(frames[0])
    await eventually(writers[0].writing.is_set, what="the writer thread took the first frame")
    for frame in frames[1:]:  # the writer is stuck on frame 100: two more fit the budget, the rest are dropped
        manager.on_frame(frame)
    writers[0].gate.set()
    final = manager.stop(info.name)

    assert (final.frames_written, final.frames_dropped) == (3, 17)
    assert manager._last is not None and manager._last.peak_held_bytes == 3 * frame_size
    logged, drops = read_frame_log(manager.store.path_of("slow") / FRAME_LOG_NAME)
    assert [line["frame_number"] for line in logged] == [100, 101, 102]
    assert drops == [{"dropped_from": 103, "dropped_to": 119, "reason": "queue"}]
    pixels, _, _ = tiff_pages(manager.store.path_of("slow") / "slow.ome.tif")
    np.testing.assert_array_equal(pixels, np.stack([frame.pixels for frame in frames[:3]]))
    manager.close()


def test_frame_numbers_the_camera_skipped_are_counted_as_dropped(manager: RecordingManager) -> None:
    frames = [made_frame(number) for number in (1, 2, 5, 6, 9)]

    info = record(manager, frames, RecordingRequest(recording_id="gaps"))

    assert (info.frames_written, info.frames_dropped) == (5, 4)
    _, drops = read_frame_log(manager.store.path_of("gaps") / FRAME_LOG_NAME)
    assert drops == [
        {"dropped_from": 3, "dropped_to": 4, "reason": "camera"},
        {"dropped_from": 7, "dropped_to": 8, "reason": "camera"},
    ]


def test_a_new_acquisition_run_is_not_counted_as_drops(manager: RecordingManager) -> None:
    frames = [made_frame(number) for number in (7, 8, 1, 2)]  # numbering started again

    info = record(manager, frames, RecordingRequest(recording_id="runs"))

    assert (info.frames_written, info.frames_dropped) == (4, 0)


def test_frames_after_max_frames_are_not_part_of_the_recording(manager: RecordingManager) -> None:
    frames = [made_frame(number) for number in range(10)]

    info = record(manager, frames, RecordingRequest(recording_id="four", max_frames=4))

    assert info.state is RecordingState.COMPLETED
    assert (info.frames_written, info.frames_dropped) == (4, 0)
    assert len(tiff_pages(manager.store.path_of("four") / "four.ome.tif")[0]) == 4


async def test_max_duration_ends_the_recording_completed(manager: RecordingManager) -> None:
    info = manager.start(
        RecordingRequest(recording_id="short", max_duration_s=0.05), camera=None,
        geometry=geometry_of(made_frame(0)), settings={},
    )  # fmt: skip

    await eventually(lambda: not manager.get(info.name).running, what="the duration to pass")

    assert manager.get(info.name).state is RecordingState.COMPLETED
    assert manager.is_recording is False


# -- lifecycle and store -----------------------------------------------------------------------------------


def test_camera_disconnect_fails_the_recording_with_its_frames_kept(manager: RecordingManager) -> None:
    frames = [made_frame(number) for number in range(3)]
    info = manager.start(
        RecordingRequest(recording_id="unplug"), camera=None, geometry=geometry_of(frames[0]), settings={}
    )
    for frame in frames:
        manager.on_frame(frame)

    manager.camera_disconnected()
    final = manager.stop(info.name)  # already ending: waits, state stays FAILED

    assert final.state is RecordingState.FAILED and final.failure_reason == "camera disconnected"
    assert final.frames_written == 3 and final.end_time is not None
    assert len(tiff_pages(manager.store.path_of("unplug") / "unplug.ome.tif")[0]) == 3
    assert json.loads((manager.store.path_of("unplug") / METADATA_NAME).read_text())["state"] == "failed"


def test_one_recording_at_a_time_and_no_delete_while_running(manager: RecordingManager) -> None:
    geometry = geometry_of(made_frame(0))
    info = manager.start(RecordingRequest(recording_id="first"), camera=None, geometry=geometry, settings={})
    assert manager.is_recording
    assert json.loads((manager.store.path_of("first") / METADATA_NAME).read_text())["state"] == "running"

    with pytest.raises(RecordingStateError, match="recordings/first is running"):
        manager.start(RecordingRequest(recording_id="second"), camera=None, geometry=geometry, settings={})
    with pytest.raises(RecordingStateError, match="stop it before deleting"):
        manager.delete(info.name)
    manager.stop(info.name)
    with pytest.raises(RecordingExistsError):
        manager.start(RecordingRequest(recording_id="first"), camera=None, geometry=geometry, settings={})

    manager.delete(info.name)

    assert not manager.store.path_of("first").exists()
    with pytest.raises(RecordingNotFoundError):
        manager.get(info.name)
    with pytest.raises(RecordingNotFoundError):
        manager.delete(info.name)


def test_list_is_newest_first_in_pages(manager: RecordingManager) -> None:
    geometry = geometry_of(made_frame(0))
    for recording_id in ("a", "b", "c", "d", "e"):
        manager.stop(
            manager.start(RecordingRequest(recording_id=recording_id), camera=None, geometry=geometry, settings={}).name
        )

    first = manager.list(page_size=2)
    second = manager.list(page_size=2, page_token=first.next_page_token)
    third = manager.list(page_size=2, page_token=second.next_page_token)

    assert [[r.recording_id for r in page.recordings] for page in (first, second, third)] == [
        ["e", "d"],
        ["c", "b"],
        ["a"],
    ]
    assert third.next_page_token == ""
    with pytest.raises(InvalidArgumentError, match="page_token"):
        manager.list(page_token="nonsense")


@pytest.mark.parametrize(
    ("field", "request_"),
    [
        ("recording_id", RecordingRequest(recording_id="Has Spaces")),
        ("recording_id", RecordingRequest(recording_id="../escape")),
        ("max_duration_s", RecordingRequest(max_duration_s=float("nan"))),
        ("max_frames", RecordingRequest(max_frames=-1)),
        ("max_width", RecordingRequest(max_width=640)),  # not MP4
        ("max_width", RecordingRequest(format=RecordingFormat.MP4, max_width=2)),
    ],
)
def test_bad_requests_name_the_field_and_change_nothing(
    manager: RecordingManager, field: str, request_: RecordingRequest
) -> None:
    with pytest.raises(InvalidArgumentError) as raised:
        manager.start(request_, camera=None, geometry=geometry_of(made_frame(0)), settings={})
    assert raised.value.field == field
    assert manager.store.ids() == [] and not manager.is_recording


def test_a_recording_that_cannot_fit_is_refused_before_anything_is_written(manager: RecordingManager) -> None:
    with pytest.raises(StorageFullError, match="not enough disk space"):
        manager.start(
            RecordingRequest(recording_id="huge", max_frames=10**12), camera=None,
            geometry=geometry_of(made_frame(0)), settings={},
        )  # fmt: skip
    assert manager.store.ids() == [] and not manager.is_recording


def test_downloads_resume_at_an_offset_and_names_outside_the_recording_are_not_found(manager: RecordingManager) -> None:
    info = record(manager, [made_frame(n) for n in range(3)], RecordingRequest(recording_id="dl"))
    (manager.store.directory / "secret.txt").write_text("not a recording file")
    whole = (manager.store.path_of("dl") / "dl.ome.tif").read_bytes()

    handle, size = manager.open_file(info.name, "dl.ome.tif", offset=100)
    with handle:
        assert size == len(whole) and handle.read() == whole[100:]
    for name in ("../secret.txt", "/etc/passwd", ".", "", "dl", ".tmp-x", "..", "frames.jsonl/"):
        with pytest.raises(RecordingNotFoundError):
            manager.open_file(info.name, name)
    (manager.store.path_of("dl") / "link.ome.tif").symlink_to(manager.store.directory / "secret.txt")
    with pytest.raises(RecordingNotFoundError):
        manager.open_file(info.name, "link.ome.tif")
    for name in ("../dl", "recordings/../../x", "recordings/Nope"):
        with pytest.raises(RecordingNotFoundError):
            manager.open_file(name, "dl.ome.tif")
    with pytest.raises(InvalidArgumentError, match="offset"):
        manager.open_file(info.name, "dl.ome.tif", offset=size + 1)


def test_an_ome_zarr_store_downloads_as_a_zip(manager: RecordingManager, tmp_path: Path) -> None:
    frames = [made_frame(n) for n in range(3)]
    info = record(manager, frames, RecordingRequest(recording_id="zz", format=RecordingFormat.OME_ZARR))
    assert "zz.ome.zarr.zip" in [file.name for file in info.files]

    handle, size = manager.open_file(info.name, "zz.ome.zarr.zip")
    with handle:
        (tmp_path / "copy.zip").write_bytes(handle.read())

    group = zarr.open_group(store=zarr.storage.ZipStore(tmp_path / "copy.zip", mode="r"), mode="r", path="zz.ome.zarr")
    np.testing.assert_array_equal(group["0"][:], np.stack([frame.pixels for frame in frames]))
    assert size == (tmp_path / "copy.zip").stat().st_size


async def test_watch_sends_progress_and_ends_with_the_final_state(manager: RecordingManager) -> None:
    frames = [made_frame(n) for n in range(5)]
    info = manager.start(
        RecordingRequest(recording_id="w", max_frames=5), camera=None, geometry=geometry_of(frames[0]), settings={}
    )
    seen: list[RecordingInfo] = []

    async def watch() -> None:
        async for snapshot in manager.watch(info.name, interval_s=0.01):
            seen.append(snapshot)
            if len(seen) == 1:
                for frame in frames:
                    manager.on_frame(frame)

    await watch()

    assert seen[0].state is RecordingState.RUNNING
    assert seen[-1].state is RecordingState.COMPLETED and seen[-1].frames_written == 5
    assert all(a != b for a, b in itertools.pairwise(seen))  # a snapshot only when something changed
    assert [s.frames_written for s in seen] == sorted(s.frames_written for s in seen)


def test_start_up_recovery_marks_a_running_recording_failed(tmp_path: Path) -> None:
    first = RecordingManager(tmp_path, disk_full_threshold_bytes=0, min_headroom_bytes=0)
    info = first.start(
        RecordingRequest(recording_id="cut"), camera=None, geometry=geometry_of(made_frame(0)), settings={}
    )
    for number in range(4):
        first.on_frame(made_frame(number))
    first.stop(info.name)
    document = json.loads((first.store.path_of("cut") / METADATA_NAME).read_text())
    first.store.write_metadata("cut", {**document, "state": "running", "end_time": None, "frames_written": 0})
    first.close()

    again = RecordingManager(tmp_path)
    assert again.recover() == ["cut"]
    recovered = again.get("recordings/cut")
    assert recovered.state is RecordingState.FAILED and recovered.failure_reason == "service stopped"
    assert recovered.frames_written == 4 and recovered.end_time is not None
    assert again.recover() == []  # done once
    again.close()


def test_a_snapshot_is_immutable() -> None:
    info = RecordingInfo(
        "x", RecordingState.RUNNING, RecordingFormat.MP4, 0, 0.0, 0, 0, 0, 0, 0, 0.0,
        datetime.now(UTC), None, "", (), {},
    )  # fmt: skip
    with pytest.raises(AttributeError):
        info.frames_written = 3  # type: ignore[misc]
    assert replace(info, frames_written=3).frames_written == 3


# -- through the camera worker (the real camera thread) ----------------------------------------------------


async def test_recording_from_the_camera_worker_keeps_every_frame_and_an_unplug_fails_it(tmp_path: Path) -> None:
    camera = SimulatedCamera(WIDTH, HEIGHT, max_frame_rate_fps=200.0)
    worker = CameraWorker(camera)
    manager = RecordingManager(tmp_path, disk_full_threshold_bytes=0, min_headroom_bytes=0)
    worker.add_frame_listener(manager.on_frame)
    worker.add_state_listener(lambda state: manager.camera_disconnected() if not state.usable else None)
    worker.start()
    try:
        assert worker.wait_until_connected(10.0)
        geometry = await worker.call(lambda driver: driver.geometry())
        worker.set_acquiring(True).result(10.0)
        info = manager.start(
            RecordingRequest(recording_id="live", max_frames=30), camera=camera.info(), geometry=geometry, settings={}
        )
        await eventually(lambda: not manager.get(info.name).running, what="30 frames recorded")
        done = manager.get(info.name)
        assert (done.state, done.frames_written, done.frames_dropped) == (RecordingState.COMPLETED, 30, 0)
        pixels, metadata, _ = tiff_pages(manager.store.path_of("live") / "live.ome.tif")
        numbers = [read_frame_number(page) for page in pixels]
        assert numbers == [m["frame_number"] for m in metadata]
        assert numbers == list(range(numbers[0], numbers[0] + 30))  # consecutive: nothing lost

        unplugged = manager.start(
            RecordingRequest(recording_id="unplugged"), camera=None, geometry=geometry, settings={}
        )
        await eventually(lambda: manager.get(unplugged.name).frames_written >= 3, what="frames recorded")
        await worker.call(lambda driver: driver.unplug())  # type: ignore[attr-defined]
        await eventually(lambda: not manager.get(unplugged.name).running, what="the unplug to end the recording")
        ended = manager.get(unplugged.name)
        assert (ended.state, ended.failure_reason) == (RecordingState.FAILED, "camera disconnected")
        kept = tiff_pages(manager.store.path_of("unplugged") / "unplugged.ome.tif")[0]
        assert len(kept) == ended.frames_written >= 3
    finally:
        worker.stop()
        manager.close()


# -- hooks: on_finished, locate, events ---------------------------------------------------------------------


def test_on_finished_is_called_once_after_the_final_metadata_with_the_folder_and_its_files(tmp_path: Path) -> None:
    finished: list[tuple[FinishedRecording, dict[str, object], str]] = []

    def on_finished(recording: FinishedRecording) -> None:
        metadata = json.loads((recording.folder / METADATA_NAME).read_text())
        finished.append((recording, metadata, threading.current_thread().name))

    manager = RecordingManager(
        tmp_path / "recordings", disk_full_threshold_bytes=0, min_headroom_bytes=0, on_finished=on_finished
    )
    frames = [made_frame(number) for number in range(4)]
    info = record(manager, frames, RecordingRequest(recording_id="hooked", max_frames=len(frames)))
    manager.stop(info.name)  # already ended: no second call
    manager.close()

    assert len(finished) == 1
    recording, metadata, thread = finished[0]
    assert recording.recording_id == "hooked" and recording.info.state is RecordingState.COMPLETED
    assert metadata["state"] == "completed" and metadata["frames_written"] == len(frames)  # final when called
    assert recording.folder == manager.store.path_of("hooked")
    assert [path.name for path in recording.paths] == sorted([FRAME_LOG_NAME, METADATA_NAME, "hooked.ome.tif"])
    assert thread == "recording-hooked"  # the recording's own writer thread


def test_locate_gives_each_reported_file_its_storage_location(tmp_path: Path) -> None:
    asked: list[Path] = []

    def locate(path: Path) -> StorageLocation:
        asked.append(path)
        return StorageLocation(StorageState.SPOOLED, "bucket", f"cam/recordings/located/{path.name}")

    manager = RecordingManager(
        tmp_path / "recordings", disk_full_threshold_bytes=0, min_headroom_bytes=0, locate=locate
    )
    frames = [made_frame(number) for number in range(2)]
    info = record(manager, frames, RecordingRequest(recording_id="located", max_frames=len(frames)))
    for reported in (manager.get(info.name), manager.list().recordings[0]):
        assert {file.location.object_key for file in reported.files} == {
            f"cam/recordings/located/{name}" for name in ("located.ome.tif", METADATA_NAME, FRAME_LOG_NAME)
        }
    assert all(path.parent == manager.store.path_of("located") for path in asked)
    manager.close()
    plain = RecordingManager(tmp_path / "recordings")
    assert {file.location for file in plain.get(info.name).files} == {LOCAL}


async def test_a_recording_publishes_started_then_ended_naming_it_and_a_failure_its_reason(tmp_path: Path) -> None:
    hub = EventHub(queue_size=16)
    manager = RecordingManager(tmp_path / "recordings", disk_full_threshold_bytes=0, min_headroom_bytes=0, events=hub)
    frames = [made_frame(number) for number in range(3)]
    async with hub.subscribe() as subscription:
        await asyncio.to_thread(record, manager, frames, RecordingRequest(recording_id="told", max_frames=len(frames)))
        info = await asyncio.to_thread(
            manager.start,
            RecordingRequest(recording_id="cut"),
            camera=None,
            geometry=geometry_of(frames[0]),
            settings={},
        )
        manager.camera_disconnected()
        await asyncio.to_thread(manager.stop, info.name)
        await asyncio.to_thread(manager.close)
        hub.publish_threadsafe(EventType.SERVICE_STOPPING, "end of test")  # after all of the above (FIFO hand-off)
        events = [delivery.event async for delivery in subscription]
    assert [(event.type, event.recording, event.count) for event in events[:4]] == [
        (EventType.RECORDING_STARTED, "recordings/told", 0),
        (EventType.RECORDING_ENDED, "recordings/told", len(frames)),
        (EventType.RECORDING_STARTED, "recordings/cut", 0),
        (EventType.RECORDING_FAILED, "recordings/cut", 0),
    ]
    assert events[3].message == "camera disconnected"


def test_an_ome_zarr_store_shows_exactly_the_frames_written_after_each_one(tmp_path: Path) -> None:
    """Each frame's chunk is complete before the array's shape includes it; the metadata keeps one length."""
    writer = make_writer(RecordingFormat.OME_ZARR, tmp_path, "each", frames_per_file=0, estimated_file_bytes=None)
    frames = [made_frame(number, PixelFormat.MONO16, 12) for number in range(3)]
    store = tmp_path / "each.ome.zarr"
    for count, frame in enumerate(frames, start=1):
        writer.write(frame)
        array = zarr.open_group(str(store), mode="r")["0"]
        assert array.shape[0] == count
        np.testing.assert_array_equal(array[count - 1], frame.pixels)
        assert (store / "0" / ZARRAY_NAME).stat().st_size == ZARRAY_PADDED_BYTES
    writer.close()
    writer.close()
