"""The gRPC service end to end: real server on port 0, real channel, simulated camera."""

from __future__ import annotations

import asyncio
import json
import math
from pathlib import Path

import grpc
import numpy as np
import pytest
from google.rpc import error_details_pb2
from grpc_health.v1 import health_pb2
from grpc_status import rpc_status
from PIL import Image

from camera_grpc.device.simulated import read_frame_number
from camera_grpc.gen.camera.v1 import camera_pb2 as pb
from tests.support import RunningService, ServiceFactory, eventually

SERVING = health_pb2.HealthCheckResponse.SERVING
NOT_SERVING = health_pb2.HealthCheckResponse.NOT_SERVING


def capture_files(directory: Path) -> list[Path]:
    """Everything in the captures folder (including hidden temporary files)."""
    return sorted(directory.iterdir()) if directory.exists() else []


def bad_request_fields(error: grpc.aio.AioRpcError) -> list[str]:
    """Field names of the google.rpc.BadRequest details of an error."""
    status = rpc_status.from_call(error)
    assert status is not None, "no rich status details"
    fields = []
    for detail in status.details:
        bad_request = error_details_pb2.BadRequest()
        if detail.Unpack(bad_request):  # other details (ErrorInfo) are checked elsewhere
            fields.extend(violation.field for violation in bad_request.field_violations)
    return fields


# -- GetCameraInfo / GetSettings / UpdateSettings ---------------------------------------------


async def test_camera_info_describes_the_simulated_camera(service: RunningService) -> None:
    info = await service.stub.GetCameraInfo(pb.GetCameraInfoRequest())
    assert info.driver == pb.CAMERA_DRIVER_SIMULATED
    assert (info.sensor_width, info.sensor_height) == (2448, 2048)
    assert info.min_exposure_ms == pytest.approx(0.01)
    assert info.max_exposure_ms == pytest.approx(10_000)
    assert (info.min_gain_db, info.max_gain_db) == (0.0, 24.0)
    assert pb.PIXEL_FORMAT_MONO8 in info.supported_pixel_formats
    assert info.connected
    assert info.serial_number and info.model


async def test_settings_start_from_the_configured_defaults(service: RunningService) -> None:
    settings = await service.stub.GetSettings(pb.GetSettingsRequest())
    assert settings.exposure_ms == pytest.approx(2.0)
    assert settings.gain_db == 0.0
    assert (settings.width, settings.height) == (2448, 2048)
    assert settings.pixel_format == pb.PIXEL_FORMAT_MONO8
    assert settings.connected


async def test_update_settings_changes_only_the_fields_present(service: RunningService) -> None:
    applied = await service.stub.UpdateSettings(pb.UpdateSettingsRequest(gain_db=6.0))
    assert applied.gain_db == pytest.approx(6.0)
    assert applied.exposure_ms == pytest.approx(2.0)
    applied = await service.stub.UpdateSettings(pb.UpdateSettingsRequest(exposure_ms=12.5))
    assert (applied.exposure_ms, applied.gain_db) == (pytest.approx(12.5), pytest.approx(6.0))
    current = await service.stub.GetSettings(pb.GetSettingsRequest())
    assert (current.exposure_ms, current.gain_db) == (pytest.approx(12.5), pytest.approx(6.0))


INVALID_SETTINGS = [
    ("exposure_ms", math.nan),
    ("exposure_ms", math.inf),
    ("exposure_ms", -math.inf),
    ("exposure_ms", 0.0),
    ("exposure_ms", -5.0),
    ("exposure_ms", 0.001),
    ("exposure_ms", 10_000.5),
    ("gain_db", math.nan),
    ("gain_db", math.inf),
    ("gain_db", -0.5),
    ("gain_db", 24.01),
]


@pytest.mark.parametrize(("field", "value"), INVALID_SETTINGS)
async def test_invalid_settings_are_refused_with_the_range_and_change_nothing(
    service: RunningService, field: str, value: float
) -> None:
    before = await service.stub.GetSettings(pb.GetSettingsRequest())
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await service.stub.UpdateSettings(pb.UpdateSettingsRequest(**{field: value}))
    assert caught.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    valid = "between 0.01 and 10000 (milliseconds)" if field == "exposure_ms" else "between 0 and 24 (dB)"
    assert field in caught.value.details() and valid in caught.value.details()  # the range with its unit
    assert bad_request_fields(caught.value) == [field]
    assert await service.stub.GetSettings(pb.GetSettingsRequest()) == before


async def test_update_settings_is_all_or_nothing(service: RunningService) -> None:
    before = await service.stub.GetSettings(pb.GetSettingsRequest())
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await service.stub.UpdateSettings(pb.UpdateSettingsRequest(exposure_ms=50.0, gain_db=99.0))
    assert caught.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert await service.stub.GetSettings(pb.GetSettingsRequest()) == before


# -- Capture ---------------------------------------------------------------------------------


async def test_capture_saves_a_readable_image_with_a_matching_sidecar(service: RunningService) -> None:
    response = await service.stub.Capture(pb.CaptureRequest())
    path = Path(response.path)
    assert path.is_absolute() and path.parent == service.captures
    assert path.name == response.filename
    assert response.filename.startswith("capture_") and response.filename.endswith(".jpg")
    assert response.format == pb.IMAGE_FORMAT_JPEG
    assert response.size_bytes == path.stat().st_size > 0
    with Image.open(path) as image:
        assert image.format == "JPEG"
        assert image.size == (response.width, response.height) == (2448, 2048)
    sidecar = json.loads(Path(response.metadata_path).read_text())
    assert sidecar["filename"] == response.filename
    assert sidecar["path"] == response.path
    assert sidecar["size_bytes"] == response.size_bytes
    assert (sidecar["width"], sidecar["height"]) == (response.width, response.height)
    assert sidecar["frame_number"] == response.frame_number
    assert sidecar["settings"] == {"exposure_ms": response.exposure_ms, "gain_db": response.gain_db}
    assert sidecar["captured_at"].startswith(response.captured_at.ToDatetime().strftime("%Y-%m-%dT%H:%M:%S"))
    assert sidecar["camera"]["driver"] == "simulated"
    assert sidecar["quality"] == 95
    assert response.image_data == b""  # not asked for


async def test_capture_applies_and_keeps_the_requested_settings(service: RunningService) -> None:
    response = await service.stub.Capture(pb.CaptureRequest(exposure_ms=40.0, gain_db=3.5))
    assert (response.exposure_ms, response.gain_db) == (pytest.approx(40.0), pytest.approx(3.5))
    current = await service.stub.GetSettings(pb.GetSettingsRequest())
    assert (current.exposure_ms, current.gain_db) == (pytest.approx(40.0), pytest.approx(3.5))


async def test_brightness_follows_exposure_and_gain(service: RunningService) -> None:
    async def mean_level(**settings: float) -> float:
        response = await service.stub.Capture(pb.CaptureRequest(format=pb.IMAGE_FORMAT_PNG, **settings))
        with Image.open(response.path) as image:
            return float(np.asarray(image)[16:].mean())  # below the frame-number bar code

    dark = await mean_level(exposure_ms=10.0, gain_db=0.0)
    brighter = await mean_level(exposure_ms=40.0, gain_db=0.0)
    brightest = await mean_level(exposure_ms=40.0, gain_db=6.0)
    assert dark < brighter < brightest
    assert brighter == pytest.approx(4 * dark, rel=0.1)


@pytest.mark.parametrize(
    ("image_format", "pil_format", "extension"),
    [
        (pb.IMAGE_FORMAT_PNG, "PNG", ".png"),
        (pb.IMAGE_FORMAT_TIFF, "TIFF", ".tiff"),
        (pb.IMAGE_FORMAT_BMP, "BMP", ".bmp"),
        (pb.IMAGE_FORMAT_JPEG, "JPEG", ".jpg"),
    ],
)
async def test_capture_formats_and_inline_bytes(
    service: RunningService, image_format: int, pil_format: str, extension: str
) -> None:
    response = await service.stub.Capture(pb.CaptureRequest(format=image_format, include_image_data=True))
    path = Path(response.path)
    assert path.suffix == extension
    assert response.image_data == path.read_bytes()
    with Image.open(path) as image:
        assert image.format == pil_format
        assert image.size == (2448, 2048)
        if image_format != pb.IMAGE_FORMAT_JPEG:  # lossless: the frame's bar code is intact
            assert read_frame_number(np.asarray(image)) == response.frame_number


async def test_twenty_concurrent_captures_give_twenty_distinct_valid_files(service: RunningService) -> None:
    responses = await asyncio.gather(*(service.stub.Capture(pb.CaptureRequest()) for _ in range(20)))
    paths = {Path(response.path) for response in responses}
    assert len(paths) == 20
    assert len({response.frame_number for response in responses}) == 20
    for path in paths:
        with Image.open(path) as image:
            image.load()
            assert image.size == (2448, 2048)
        assert path.with_suffix(".json").exists()
    assert len(capture_files(service.captures)) == 40  # 20 images + 20 sidecars, no leftovers


async def test_invalid_capture_settings_change_nothing_and_save_nothing(service: RunningService) -> None:
    before = await service.stub.GetSettings(pb.GetSettingsRequest())
    for request in (
        pb.CaptureRequest(exposure_ms=-1.0),
        pb.CaptureRequest(exposure_ms=5.0, gain_db=math.nan),
        pb.CaptureRequest(quality=0),
        pb.CaptureRequest(quality=101),
        pb.CaptureRequest(format=42),  # type: ignore[arg-type]
    ):
        with pytest.raises(grpc.aio.AioRpcError) as caught:
            await service.stub.Capture(request)
        assert caught.value.code() == grpc.StatusCode.INVALID_ARGUMENT, request
    assert await service.stub.GetSettings(pb.GetSettingsRequest()) == before
    assert capture_files(service.captures) == []


async def test_unwritable_captures_folder_is_failed_precondition(start_service: ServiceFactory, tmp_path: Path) -> None:
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("a file where the captures folder should be")
    service = await start_service(image_save_path=blocker / "captures")
    before = await service.stub.GetSettings(pb.GetSettingsRequest())
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await service.stub.Capture(pb.CaptureRequest(exposure_ms=33.0))
    assert caught.value.code() == grpc.StatusCode.FAILED_PRECONDITION
    assert "captures" in caught.value.details()
    assert await service.stub.GetSettings(pb.GetSettingsRequest()) == before


async def test_full_disk_is_resource_exhausted_and_leaves_no_partial_file(
    start_service: ServiceFactory, small_filesystem: Path
) -> None:
    service = await start_service(image_save_path=small_filesystem)
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await service.stub.Capture(pb.CaptureRequest(format=pb.IMAGE_FORMAT_BMP))  # 5 MB > the 1 MiB disk
    assert caught.value.code() == grpc.StatusCode.RESOURCE_EXHAUSTED
    assert "no space" in caught.value.details()
    assert capture_files(small_filesystem) == []
    # A capture that fits still works afterwards.
    response = await service.stub.Capture(pb.CaptureRequest(format=pb.IMAGE_FORMAT_JPEG, exposure_ms=0.05, quality=10))
    assert Path(response.path).exists()


# -- deadlines, cancellation ---------------------------------------------------------------------


async def test_client_deadline_is_honoured_and_the_camera_stays_consistent(service: RunningService) -> None:
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await service.stub.Capture(pb.CaptureRequest(exposure_ms=1500.0), timeout=0.3)
    assert caught.value.code() == grpc.StatusCode.DEADLINE_EXCEEDED
    # The camera finishes that exposure and keeps working; the deadline-exceeded capture is not saved.
    response = await service.stub.Capture(pb.CaptureRequest(exposure_ms=5.0), timeout=10)
    assert response.exposure_ms == pytest.approx(5.0)
    assert [path.name for path in capture_files(service.captures)] == [
        response.filename,
        Path(response.metadata_path).name,
    ]


async def test_cancelled_capture_leaves_the_camera_usable(service: RunningService) -> None:
    call = service.stub.Capture(pb.CaptureRequest(exposure_ms=800.0))
    await asyncio.sleep(0.2)
    call.cancel()
    with pytest.raises(asyncio.CancelledError):
        await call
    settings = await service.stub.GetSettings(pb.GetSettingsRequest(), timeout=10)
    assert settings.exposure_ms == pytest.approx(800.0)  # applied before the grab; kept
    response = await service.stub.Capture(pb.CaptureRequest(exposure_ms=2.0), timeout=10)
    assert Path(response.path).exists()
    assert len(capture_files(service.captures)) == 2  # only the second capture and its sidecar


# -- health and disconnects -------------------------------------------------------------------


async def test_health_follows_the_camera_and_settings_are_restored(service: RunningService) -> None:
    assert await service.health_status() == SERVING
    assert await service.health_status("") == SERVING
    await service.stub.UpdateSettings(pb.UpdateSettingsRequest(exposure_ms=7.0, gain_db=2.0))

    service.camera.unplug()
    await service.wait_for_health(NOT_SERVING)
    assert await service.health_status("") == NOT_SERVING
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await service.stub.Capture(pb.CaptureRequest(), timeout=5)
    assert caught.value.code() == grpc.StatusCode.UNAVAILABLE
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await service.stub.UpdateSettings(pb.UpdateSettingsRequest(exposure_ms=9.0), timeout=5)
    assert caught.value.code() == grpc.StatusCode.UNAVAILABLE
    disconnected = await service.stub.GetSettings(pb.GetSettingsRequest(), timeout=5)
    assert not disconnected.connected
    assert (disconnected.exposure_ms, disconnected.gain_db) == (pytest.approx(7.0), pytest.approx(2.0))

    service.camera.replug()  # a replugged camera starts from its power-up settings...
    await service.wait_for_health(SERVING)
    restored = await service.stub.GetSettings(pb.GetSettingsRequest(), timeout=5)
    assert restored.connected  # ...and the service re-applies what clients asked for
    assert (restored.exposure_ms, restored.gain_db) == (pytest.approx(7.0), pytest.approx(2.0))


async def test_unplug_during_a_capture_fails_it_fast_with_unavailable(service: RunningService) -> None:
    call = service.stub.Capture(pb.CaptureRequest(exposure_ms=5000.0), timeout=30)
    await asyncio.sleep(0.3)
    loop = asyncio.get_running_loop()
    unplugged_at = loop.time()
    service.camera.unplug()
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await call
    assert caught.value.code() == grpc.StatusCode.UNAVAILABLE
    assert loop.time() - unplugged_at < 2.0  # not the remaining 4.7 s of exposure
    service.camera.replug()
    await service.wait_for_health(SERVING)


# -- Frames (first implementation; the full design has its own tests) ---------------------------


async def test_frames_streams_numbered_raw_frames(service: RunningService) -> None:
    frames = [
        frame async for frame in service.stub.Frames(pb.FramesRequest(max_frames=5, policy=pb.DELIVERY_POLICY_QUEUE))
    ]
    assert [frame.sequence_number for frame in frames] == [1, 2, 3, 4, 5]
    numbers = [frame.frame_number for frame in frames]
    assert numbers == sorted(numbers) and len(set(numbers)) == 5
    for frame in frames:
        assert frame.encoding == pb.FRAME_ENCODING_RAW
        assert (frame.width, frame.height) == (2448, 2048)
        pixels = np.frombuffer(frame.data, dtype=np.uint8).reshape(frame.height, frame.width)
        assert read_frame_number(pixels) == frame.frame_number
    await eventually(lambda: not service.runtime.worker.is_acquiring)  # stops after the linger
