"""camera.v1.RecordingService over a real server (port 0, simulated camera): start, watch to the end, the files
read back with their standard reader, stop, list/get/delete, chunked downloads from an offset, names that escape
the folder, and settings refused or allowed while a recording runs."""

from __future__ import annotations

import io
import json
from pathlib import Path

import av
import cv2
import grpc
import numpy as np
import pytest
import tifffile
import zarr
import zarr.storage
from google.protobuf.field_mask_pb2 import FieldMask

from camera_grpc.auth import Role
from camera_grpc.core.recording_store import FRAME_LOG_NAME, read_frame_log
from camera_grpc.core.recording_writers import FRAME_METADATA_TAG
from camera_grpc.device.simulated import read_frame_number
from camera_grpc.gen.camera.v1 import camera_pb2 as pb
from camera_grpc.gen.camera.v1 import recording_pb2 as rpb
from camera_grpc.gen.camera.v1 import recording_pb2_grpc
from tests.rpc.test_captures_rpc import error_info
from tests.rpc.test_triggering_rpc import Events
from tests.support import RunningService, ServiceFactory
from tests.support.tokens import role_tokens

#: A small sensor so recordings are quick and small.
SMALL_SENSOR = {"simulated_width": 256, "simulated_height": 128}
FRAMES = 12
#: Mean absolute difference allowed between a JPEG thumbnail and the frame scaled down, grey levels.
JPEG_TOLERANCE = 8


@pytest.fixture
async def recorder(start_service: ServiceFactory, tmp_path: Path) -> RunningService:
    return await start_service(recordings_path=tmp_path / "recordings", **SMALL_SENSOR)


def stub_of(service: RunningService) -> recording_pb2_grpc.RecordingServiceStub:
    return recording_pb2_grpc.RecordingServiceStub(service.channel)


async def refused(call: object) -> grpc.aio.AioRpcError:
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await call  # type: ignore[misc]
    return caught.value


async def watch_to_end(stub: recording_pb2_grpc.RecordingServiceStub, name: str) -> list[rpb.Recording]:
    seen = []
    async for response in stub.WatchRecording(rpb.WatchRecordingRequest(name=name), timeout=60):
        seen.append(response.recording)
    return seen


async def download(
    stub: recording_pb2_grpc.RecordingServiceStub, name: str, file: str, offset: int = 0
) -> tuple[bytes, list[rpb.DownloadRecordingFileResponse]]:
    chunks = [
        chunk
        async for chunk in stub.DownloadRecordingFile(
            rpb.DownloadRecordingFileRequest(name=name, file=file, offset=offset), timeout=60
        )
    ]
    return b"".join(chunk.data for chunk in chunks), chunks


async def test_a_recording_runs_to_max_frames_and_its_ome_tiff_holds_every_frame_in_order(
    recorder: RunningService,
) -> None:
    stub = stub_of(recorder)
    started = await stub.StartRecording(
        rpb.StartRecordingRequest(recording_id="run-1", format=rpb.RECORDING_FORMAT_OME_TIFF, max_frames=FRAMES)
    )
    assert started.recording.name == "recordings/run-1"
    assert started.recording.state == rpb.RECORDING_STATE_RUNNING
    progress = await watch_to_end(stub, started.recording.name)
    final = progress[-1]
    assert final.state == rpb.RECORDING_STATE_COMPLETED, final
    assert final.frames_written == FRAMES
    assert final.HasField("end_time") and final.settings.roi.width == SMALL_SENSOR["simulated_width"]
    tiffs = [file for file in final.files if file.name.endswith(".ome.tif")]
    assert len(tiffs) == 1 and tiffs[0].content_type == "image/tiff"
    path = recorder.runtime.recordings.store.path_of("run-1") / tiffs[0].name
    assert tiffs[0].size_bytes == path.stat().st_size
    pages = tifffile.imread(path)
    assert pages.shape == (FRAMES, SMALL_SENSOR["simulated_height"], SMALL_SENSOR["simulated_width"])
    numbers = [read_frame_number(page) for page in pages]
    assert numbers == logged_frame_numbers(recorder, "run-1")  # in order
    # Nothing lost by the recording: every number from the first to the last is written or counted dropped, and
    # the only drops are numbers the camera skipped (the simulator does when its host is slow, on a loaded machine).
    _, drops = read_frame_log(recorder.runtime.recordings.store.path_of("run-1") / FRAME_LOG_NAME)
    assert numbers[-1] - numbers[0] + 1 == FRAMES + final.frames_dropped
    assert {drop["reason"] for drop in drops} <= {"camera"}

    got = await stub.GetRecording(rpb.GetRecordingRequest(name="recordings/run-1"))
    assert got.recording.state == rpb.RECORDING_STATE_COMPLETED and got.recording.frames_written == FRAMES


async def test_a_download_in_chunks_from_an_offset_equals_the_file(recorder: RunningService) -> None:
    stub = stub_of(recorder)
    await stub.StartRecording(rpb.StartRecordingRequest(recording_id="dl", max_frames=FRAMES))
    final = (await watch_to_end(stub, "recordings/dl"))[-1]
    file = next(file for file in final.files if file.name.endswith(".ome.tif"))
    content = (recorder.runtime.recordings.store.path_of("dl") / file.name).read_bytes()
    whole, _ = await download(stub, "recordings/dl", file.name)
    assert whole == content
    offset = len(content) // 3
    rest, chunks = await download(stub, "recordings/dl", file.name, offset)
    assert rest == content[offset:]
    assert chunks[0].offset == offset and all(chunk.size_bytes == len(content) for chunk in chunks)


@pytest.mark.parametrize("file", ["../../captures/x.jpg", "/etc/passwd", "..", "missing.ome.tif"])
async def test_a_file_name_that_is_not_one_of_the_recording_is_not_found(recorder: RunningService, file: str) -> None:
    stub = stub_of(recorder)
    await stub.StartRecording(rpb.StartRecordingRequest(recording_id="esc", max_frames=2))
    await watch_to_end(stub, "recordings/esc")
    error = await refused(download(stub, "recordings/esc", file))
    assert error.code() == grpc.StatusCode.NOT_FOUND


async def test_a_recording_name_escaping_the_folder_is_not_found(recorder: RunningService) -> None:
    error = await refused(stub_of(recorder).GetRecording(rpb.GetRecordingRequest(name="recordings/../state")))
    assert error.code() == grpc.StatusCode.NOT_FOUND


async def test_stop_ends_a_recording_as_stopped_and_list_get_delete_follow(recorder: RunningService) -> None:
    stub = stub_of(recorder)
    await stub.StartRecording(rpb.StartRecordingRequest(recording_id="first", max_frames=3))
    await watch_to_end(stub, "recordings/first")
    started = await stub.StartRecording(rpb.StartRecordingRequest(recording_id="open-ended"))
    assert started.recording.max_frames == 0
    error = await refused(stub.DeleteRecording(rpb.DeleteRecordingRequest(name="recordings/open-ended")))
    assert error.code() == grpc.StatusCode.FAILED_PRECONDITION
    stopped = (await stub.StopRecording(rpb.StopRecordingRequest(name="recordings/open-ended"))).recording
    assert stopped.state == rpb.RECORDING_STATE_STOPPED and stopped.HasField("end_time")

    listed = (await stub.ListRecordings(rpb.ListRecordingsRequest())).recordings
    assert [recording.name for recording in listed] == ["recordings/open-ended", "recordings/first"]
    await stub.DeleteRecording(rpb.DeleteRecordingRequest(name="recordings/first"))
    listed = (await stub.ListRecordings(rpb.ListRecordingsRequest())).recordings
    assert [recording.name for recording in listed] == ["recordings/open-ended"]
    error = await refused(stub.GetRecording(rpb.GetRecordingRequest(name="recordings/first")))
    assert error.code() == grpc.StatusCode.NOT_FOUND


async def test_while_one_runs_a_second_start_and_geometry_changes_are_refused_naming_it(
    recorder: RunningService,
) -> None:
    stub = stub_of(recorder)
    await stub.StartRecording(rpb.StartRecordingRequest(recording_id="busy"))
    try:
        error = await refused(stub.StartRecording(rpb.StartRecordingRequest(recording_id="second")))
        assert error.code() == grpc.StatusCode.FAILED_PRECONDITION and "recordings/busy" in (error.details() or "")

        roi = pb.UpdateSettingsRequest(
            settings=pb.CameraSettings(roi=pb.Region(width=128)), update_mask=FieldMask(paths=["roi.width"])
        )
        error = await refused(recorder.stub.UpdateSettings(roi))
        assert error.code() == grpc.StatusCode.FAILED_PRECONDITION
        assert "recordings/busy" in (error.details() or "") and "roi" in (error.details() or "")
        assert error_info(error)[1] == "RECORDING_STATE"  # a conflict with the recording, not a camera outage

        exposure = pb.UpdateSettingsRequest(
            settings=pb.CameraSettings(exposure_ms=3.0), update_mask=FieldMask(paths=["exposure_ms"])
        )
        applied = await recorder.stub.UpdateSettings(exposure)
        assert applied.settings.exposure_ms == pytest.approx(3.0)
        assert applied.settings.roi.width == SMALL_SENSOR["simulated_width"]
    finally:
        await stub.StopRecording(rpb.StopRecordingRequest(name="recordings/busy"))
    applied = await recorder.stub.UpdateSettings(roi)  # allowed again once it ended
    assert applied.settings.roi.width == 128


async def test_an_existing_id_is_already_exists(recorder: RunningService) -> None:
    stub = stub_of(recorder)
    await stub.StartRecording(rpb.StartRecordingRequest(recording_id="twice", max_frames=1))
    await watch_to_end(stub, "recordings/twice")
    error = await refused(stub.StartRecording(rpb.StartRecordingRequest(recording_id="twice", max_frames=1)))
    assert error.code() == grpc.StatusCode.ALREADY_EXISTS


async def test_a_viewer_may_watch_recordings_and_only_an_operator_may_start_stop_and_delete_them(
    start_service: ServiceFactory, tmp_path: Path
) -> None:
    tokens = role_tokens(tmp_path / "tokens")
    service = await start_service(tokens_file=tokens.path, recordings_path=tmp_path / "recordings", **SMALL_SENSOR)
    stub = stub_of(service)
    viewer, operator = tokens.metadata(Role.VIEWER), tokens.metadata(Role.OPERATOR)
    start = rpb.StartRecordingRequest(recording_id="roles", max_frames=2)
    for call in (
        stub.StartRecording(start, metadata=viewer),
        stub.StopRecording(rpb.StopRecordingRequest(name="recordings/roles"), metadata=viewer),
        stub.DeleteRecording(rpb.DeleteRecordingRequest(name="recordings/roles"), metadata=viewer),
    ):
        assert (await refused(call)).code() == grpc.StatusCode.PERMISSION_DENIED
    await stub.StartRecording(start, metadata=operator)
    async for _ in stub.WatchRecording(rpb.WatchRecordingRequest(name="recordings/roles"), metadata=viewer):
        pass
    listed = await stub.ListRecordings(rpb.ListRecordingsRequest(), metadata=viewer)
    assert [recording.name for recording in listed.recordings] == ["recordings/roles"]
    got = (await stub.GetRecording(rpb.GetRecordingRequest(name="recordings/roles"), metadata=viewer)).recording
    file = got.files[0].name
    request = rpb.DownloadRecordingFileRequest(name="recordings/roles", file=file)
    assert [chunk async for chunk in stub.DownloadRecordingFile(request, metadata=viewer)]
    await stub.DeleteRecording(rpb.DeleteRecordingRequest(name="recordings/roles"), metadata=operator)


async def test_a_camera_unplugged_during_a_recording_ends_it_failed_with_its_frames_kept(
    recorder: RunningService,
) -> None:
    stub = stub_of(recorder)
    events = await Events.open(recorder, pb.EVENT_TYPE_RECORDING_FAILED)
    await stub.StartRecording(rpb.StartRecordingRequest(recording_id="unplugged"))
    async for update in stub.WatchRecording(rpb.WatchRecordingRequest(name="recordings/unplugged"), timeout=60):
        if update.recording.frames_written >= 2:
            break
    recorder.camera.unplug()
    final = (await watch_to_end(stub, "recordings/unplugged"))[-1]
    assert final.state == rpb.RECORDING_STATE_FAILED and final.failure_reason == "camera disconnected"
    file = next(file for file in final.files if file.name.endswith(".ome.tif"))
    pages = tifffile.imread(recorder.runtime.recordings.store.path_of("unplugged") / file.name)
    assert len(pages) == final.frames_written >= 2
    failed = (await events.until(pb.EVENT_TYPE_RECORDING_FAILED))[-1].event
    assert failed.message == "camera disconnected" and failed.count == final.frames_written
    events.call.cancel()


async def test_watch_events_sees_a_recording_start_then_end_with_the_frames_written(recorder: RunningService) -> None:
    events = await Events.open(
        recorder, pb.EVENT_TYPE_RECORDING_STARTED, pb.EVENT_TYPE_RECORDING_ENDED, pb.EVENT_TYPE_RECORDING_FAILED
    )
    stub = stub_of(recorder)
    await stub.StartRecording(rpb.StartRecordingRequest(recording_id="evented", max_frames=FRAMES))
    seen = await events.until(pb.EVENT_TYPE_RECORDING_ENDED)
    events.call.cancel()
    assert events.types() == ["EVENT_TYPE_RECORDING_STARTED", "EVENT_TYPE_RECORDING_ENDED"]
    started, ended = (message.event for message in seen)
    assert "recordings/evented" in started.message and "recordings/evented" in ended.message
    assert ended.count == FRAMES and ended.sequence_number > started.sequence_number


async def test_a_disk_below_disk_space_low_bytes_is_one_disk_space_low_event(
    start_service: ServiceFactory, tmp_path: Path
) -> None:
    # A threshold above any disk's free space: every measurement is low, and only the first crossing is an event.
    service = await start_service(recordings_path=tmp_path / "recordings", disk_space_low_bytes=2**50, **SMALL_SENSOR)
    events = await Events.open(service, pb.EVENT_TYPE_DISK_SPACE_LOW, pb.EVENT_TYPE_RECORDING_ENDED)
    await service.stub.Capture(pb.CaptureRequest(), timeout=30)
    low = (await events.until(pb.EVENT_TYPE_DISK_SPACE_LOW))[-1].event
    assert "bytes free" in low.message
    # Measured again by a capture and by a recording (its start and its writer): still low, no second event.
    await service.stub.Capture(pb.CaptureRequest(), timeout=30)
    await stub_of(service).StartRecording(rpb.StartRecordingRequest(recording_id="low", max_frames=FRAMES))
    await events.until(pb.EVENT_TYPE_RECORDING_ENDED)
    events.call.cancel()
    assert events.types() == ["EVENT_TYPE_DISK_SPACE_LOW", "EVENT_TYPE_RECORDING_ENDED"]


# -- thumbnails -------------------------------------------------------------------------------------------------


def decoded_jpeg(data: bytes) -> np.ndarray:
    image = cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_UNCHANGED)
    assert image is not None, "not a JPEG"
    return image


async def test_a_recording_thumbnail_is_a_small_jpeg_of_its_first_frame_made_once(recorder: RunningService) -> None:
    stub = stub_of(recorder)
    await stub.StartRecording(rpb.StartRecordingRequest(recording_id="thumbs", max_frames=FRAMES))
    final = (await watch_to_end(stub, "recordings/thumbs"))[-1]
    folder = recorder.runtime.recordings.store.path_of("thumbs")
    first_page = tifffile.imread(folder / "thumbs.ome.tif", key=0)

    answer = await stub.GetRecordingThumbnail(rpb.GetRecordingThumbnailRequest(name=final.name, max_width=64))
    assert answer.content_type == "image/jpeg"
    assert answer.frame_number == read_frame_number(first_page)
    image = decoded_jpeg(answer.data)
    assert image.shape == (32, 64)  # 256x128 scaled to 64 wide
    expected = cv2.resize(first_page, (64, 32), interpolation=cv2.INTER_AREA)
    assert np.abs(image.astype(int) - expected.astype(int)).mean() < JPEG_TOLERANCE
    default = await stub.GetRecordingThumbnail(rpb.GetRecordingThumbnailRequest(name=final.name))
    assert decoded_jpeg(default.data).shape[1] == SMALL_SENSOR["simulated_width"]  # 0: 256, never enlarged
    # Made once: served from the cache even when the data file is gone.
    (folder / "thumbs.ome.tif").unlink()
    again = await stub.GetRecordingThumbnail(rpb.GetRecordingThumbnailRequest(name=final.name, max_width=64))
    assert again.data == answer.data
    listed = await stub.GetRecording(rpb.GetRecordingRequest(name=final.name))
    assert all(not file.name.startswith(".") for file in listed.recording.files), "the cache is not a file of it"


@pytest.mark.parametrize("max_width", [15, 1025])
async def test_a_thumbnail_width_out_of_range_is_invalid_argument_naming_the_range(
    recorder: RunningService, max_width: int
) -> None:
    error = await refused(
        stub_of(recorder).GetRecordingThumbnail(
            rpb.GetRecordingThumbnailRequest(name="recordings/anything", max_width=max_width)
        )
    )
    assert error.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert "max_width" in error.details() and "16 and 1024 pixels" in error.details()


async def test_the_thumbnail_of_an_unknown_recording_is_not_found(recorder: RunningService) -> None:
    error = await refused(
        stub_of(recorder).GetRecordingThumbnail(rpb.GetRecordingThumbnailRequest(name="recordings/nothing-here"))
    )
    assert error.code() == grpc.StatusCode.NOT_FOUND


# -- a triggered recording ---------------------------------------------------------------------------------------


async def test_a_triggered_recording_holds_exactly_the_triggered_frames_in_order_with_their_trigger_metadata(
    recorder: RunningService,
) -> None:
    settings = pb.CameraSettings(trigger=pb.Trigger(source=pb.TRIGGER_SOURCE_SOFTWARE))
    await recorder.stub.UpdateSettings(
        pb.UpdateSettingsRequest(settings=settings, update_mask=FieldMask(paths=["trigger"])), timeout=30
    )
    stub = stub_of(recorder)
    triggers = 5
    await stub.StartRecording(rpb.StartRecordingRequest(recording_id="triggered", max_frames=triggers))
    # Nothing triggered yet: no frame, so no thumbnail.
    error = await refused(stub.GetRecordingThumbnail(rpb.GetRecordingThumbnailRequest(name="recordings/triggered")))
    assert error.code() == grpc.StatusCode.FAILED_PRECONDITION and "no frame" in error.details()
    answers = [await recorder.stub.SoftwareTrigger(pb.SoftwareTriggerRequest(), timeout=30) for _ in range(triggers)]
    final = (await watch_to_end(stub, "recordings/triggered"))[-1]

    assert final.state == rpb.RECORDING_STATE_COMPLETED and final.frames_written == triggers
    assert final.frames_dropped == 0
    with tifffile.TiffFile(recorder.runtime.recordings.store.path_of("triggered") / "triggered.ome.tif") as tiff:
        pages = [page.asarray() for page in tiff.pages]
        metadata = [json.loads(page.tags[FRAME_METADATA_TAG].value) for page in tiff.pages]
    triggered = [answer.frame_numbers[0] for answer in answers]
    assert [read_frame_number(page) for page in pages] == triggered
    assert [entry["frame_number"] for entry in metadata] == triggered
    assert [entry["trigger_count"] for entry in metadata] == [answer.metadata.trigger_count for answer in answers]
    assert {entry["trigger_source"] for entry in metadata} == {"software"}


# -- OME-Zarr and MP4 through the API ----------------------------------------------------------------------------


def logged_frame_numbers(service: RunningService, recording_id: str) -> list[int]:
    """The frame numbers the recording's frame log lists as written: increasing (a number the camera skipped is a
    drop the log also lists)."""
    frames, _ = read_frame_log(service.runtime.recordings.store.path_of(recording_id) / FRAME_LOG_NAME)
    numbers = [int(frame["frame_number"]) for frame in frames]
    assert numbers == sorted(set(numbers))
    return numbers


def tap_frames(service: RunningService) -> dict[int, np.ndarray]:
    """Every frame the camera delivers from now on, by number (copied on the camera thread, as it was recorded)."""
    seen: dict[int, np.ndarray] = {}
    service.runtime.worker.add_frame_listener(lambda frame: seen.setdefault(frame.frame_number, frame.pixels.copy()))
    return seen


async def test_an_ome_zarr_recording_holds_the_simulated_frames_pixel_for_pixel_in_order(
    recorder: RunningService,
) -> None:
    delivered = tap_frames(recorder)
    stub = stub_of(recorder)
    await stub.StartRecording(
        rpb.StartRecordingRequest(recording_id="zarred", format=rpb.RECORDING_FORMAT_OME_ZARR, max_frames=FRAMES)
    )
    final = (await watch_to_end(stub, "recordings/zarred"))[-1]
    assert final.state == rpb.RECORDING_STATE_COMPLETED and final.frames_written == FRAMES

    assert "zarred.ome.zarr.zip" in {file.name for file in final.files}
    store = recorder.runtime.recordings.store.path_of("zarred") / "zarred.ome.zarr"
    group = zarr.open_group(store=str(store), mode="r")
    array = np.asarray(group["0"])
    assert array.shape == (FRAMES, SMALL_SENSOR["simulated_height"], SMALL_SENSOR["simulated_width"])
    numbers = [read_frame_number(frame) for frame in array]
    assert numbers == logged_frame_numbers(recorder, "zarred"), "every frame written, in order"
    for number, frame in zip(numbers, array, strict=True):
        assert np.array_equal(frame, delivered[number]), f"frame {number} differs from the camera's"
    assert group.attrs["multiscales"][0]["axes"][0]["name"] == "t"
    thumbnail = await stub.GetRecordingThumbnail(rpb.GetRecordingThumbnailRequest(name=final.name, max_width=32))
    assert thumbnail.frame_number == numbers[0] and decoded_jpeg(thumbnail.data).shape == (16, 32)
    # The download is a zip holding the store's folder, which zarr opens inside it.
    zipped, _ = await download(stub, final.name, "zarred.ome.zarr.zip")
    archive = recorder.runtime.recordings.store.path_of("zarred") / "copy.zip"
    archive.write_bytes(zipped)
    from_zip = zarr.open_group(store=zarr.storage.ZipStore(archive, mode="r"), path="zarred.ome.zarr", mode="r")
    assert np.array_equal(np.asarray(from_zip["0"]), array)


async def test_an_mp4_recording_decodes_to_every_frame_at_the_chosen_width(recorder: RunningService) -> None:
    stub = stub_of(recorder)
    width = SMALL_SENSOR["simulated_width"] // 2
    await stub.StartRecording(
        rpb.StartRecordingRequest(
            recording_id="video", format=rpb.RECORDING_FORMAT_MP4, max_frames=FRAMES, max_width=width
        )
    )
    final = (await watch_to_end(stub, "recordings/video"))[-1]
    assert final.state == rpb.RECORDING_STATE_COMPLETED and final.frames_written == FRAMES
    (file,) = [file for file in final.files if file.name.endswith(".mp4")]
    assert file.content_type == "video/mp4"
    data, _ = await download(stub, final.name, file.name)
    with av.open(io.BytesIO(data)) as container:
        decoded = [frame.to_ndarray(format="gray") for frame in container.decode(video=0)]
    assert len(decoded) == FRAMES
    assert {frame.shape for frame in decoded} == {(SMALL_SENSOR["simulated_height"] // 2, width)}
    # The bar code of the frame number survives the scaling to half size (cells of 2 pixels) and H.264.
    numbers = [
        read_frame_number(cv2.resize(frame, None, fx=2, fy=2, interpolation=cv2.INTER_NEAREST)) for frame in decoded
    ]
    assert numbers == logged_frame_numbers(recorder, "video"), "every frame written, in order"
    thumbnail = await stub.GetRecordingThumbnail(rpb.GetRecordingThumbnailRequest(name=final.name))
    assert decoded_jpeg(thumbnail.data).shape[:2] == decoded[0].shape  # never enlarged
