"""Recording end to end on the PixeLINK SDK emulator (issue 14): the service (in this process) over the PixeLINK
driver and the unmodified pixelinkWrapper bound to the emulator; real gRPC calls; the emulator as the hardware
(its frames carry their number in the first bytes and a pattern of it everywhere else; the unplug).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import tifffile

from camera_grpc.core.recording_store import FRAME_LOG_NAME, read_frame_log
from camera_grpc.gen.camera.v1 import camera_pb2 as pb
from camera_grpc.gen.camera.v1 import recording_pb2 as rpb
from camera_grpc.gen.camera.v1 import recording_pb2_grpc
from tests.rpc.test_triggering_rpc import Events
from tests.support import RunningService, ServiceFactory
from tests.support.emulator_fixtures import use_emulator_sdk
from tests.support.pxlemu import STAMP_BYTES, EmulatorControl, sensor_pattern

SERIAL = 700000001
WIDTH, HEIGHT = 320, 240
PROFILE = f"cameras={SERIAL}:{WIDTH}x{HEIGHT}"
CALL_TIMEOUT_S = 10.0
#: Exposure and gain at which the emulator's frames are exactly its pattern (emulator/README.md), ms and dB.
UNSCALED_EXPOSURE_MS, UNSCALED_GAIN_DB = 10.0, 0.0
#: Frames written before the camera is unplugged.
FRAMES_BEFORE_UNPLUG = 3


@pytest.fixture
def pixelink_env(monkeypatch: pytest.MonkeyPatch, emulator: EmulatorControl, emulator_dir: Path) -> None:
    use_emulator_sdk(monkeypatch, emulator, emulator_dir, PROFILE)


@pytest.fixture
async def camera(pixelink_env: None, start_service: ServiceFactory, tmp_path: Path) -> RunningService:
    from camera_grpc.device.pixelink import PixelinkCamera

    return await start_service(driver=PixelinkCamera(), recordings_path=tmp_path / "recordings")


async def test_an_unplug_during_a_recording_ends_it_failed_with_every_written_frame_kept_and_readable(
    camera: RunningService, emulator: EmulatorControl
) -> None:
    await camera.stub.UpdateSettings(
        pb.UpdateSettingsRequest(exposure_ms=UNSCALED_EXPOSURE_MS, gain_db=UNSCALED_GAIN_DB), timeout=CALL_TIMEOUT_S
    )
    events = await Events.open(camera, pb.EVENT_TYPE_RECORDING_FAILED)
    stub = recording_pb2_grpc.RecordingServiceStub(camera.channel)
    await stub.StartRecording(rpb.StartRecordingRequest(recording_id="unplugged"), timeout=CALL_TIMEOUT_S)
    name = "recordings/unplugged"
    async for update in stub.WatchRecording(rpb.WatchRecordingRequest(name=name), timeout=60):
        if update.recording.frames_written >= FRAMES_BEFORE_UNPLUG:
            break
    emulator.unplug(SERIAL)
    final = [update.recording async for update in stub.WatchRecording(rpb.WatchRecordingRequest(name=name))][-1]
    failed = (await events.until(pb.EVENT_TYPE_RECORDING_FAILED))[-1].event
    events.call.cancel()

    assert final.state == rpb.RECORDING_STATE_FAILED and final.failure_reason == "camera disconnected"
    assert final.HasField("end_time") and final.frames_written >= FRAMES_BEFORE_UNPLUG
    assert failed.message == "camera disconnected" and failed.count == final.frames_written
    folder = camera.runtime.recordings.store.path_of("unplugged")
    logged, _ = read_frame_log(folder / FRAME_LOG_NAME)
    numbers = [int(frame["frame_number"]) for frame in logged]
    with tifffile.TiffFile(folder / "unplugged.ome.tif") as tiff:
        assert tiff.is_ome, "the OME-XML was written when the recording ended"
        pages = tiff.series[0].asarray()
    assert len(pages) == len(numbers) == final.frames_written
    for number, page in zip(numbers, pages, strict=True):
        assert int.from_bytes(page.ravel()[:STAMP_BYTES].tobytes(), "little") == number
        expected = sensor_pattern(0, 0, WIDTH, HEIGHT, number).ravel()[STAMP_BYTES:]
        assert np.array_equal(page.ravel()[STAMP_BYTES:], expected), f"frame {number} is not the camera's"
