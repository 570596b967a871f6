"""camera_grpc.client against a real service (port 0, simulated camera).

The service runs on the test's event loop, so blocking-client calls run in a thread.
"""

from __future__ import annotations

import asyncio
import inspect
import io
import shutil
import subprocess
from pathlib import Path

import grpc
import pytest
from PIL import Image

from camera_grpc.client import AsyncCameraClient, CameraClient, CameraRpcError, FieldViolation, channel_options
from camera_grpc.gen.camera.v1 import camera_pb2 as pb
from tests.support import REPO_ROOT, RunningService, closed_port, eventually

#: A default deadline shorter than the 1.5 s exposures of the deadline tests, seconds.
SHORT_DEFAULT_S = 1.0
CALLS = (
    "capture",
    "get_settings",
    "update_settings",
    "get_camera_info",
    "list_captures",
    "get_capture",
    "frames",
    "software_trigger",
    "io_status",
    "watch_events",
    "get_recording_thumbnail",
    "get_storage_status",
    "get_download_url",
)


def test_each_call_is_written_once_for_both_clients() -> None:
    for name in CALLS:
        assert name not in vars(CameraClient) and name not in vars(AsyncCameraClient), f"{name} written twice"
        assert getattr(CameraClient, name).__doc__ == getattr(AsyncCameraClient, name).__doc__
    camera = CameraClient(f"127.0.0.1:{closed_port()}")
    assert list(inspect.signature(camera.get_capture).parameters) == ["filename", "thumbnail_max_width", "timeout_s"]
    assert camera.get_capture.__doc__.startswith("One saved capture's bytes")
    camera.close()
    tool = shutil.which("duplicates")  # the repository's duplicate finder, where it is installed
    if tool is not None:
        found = subprocess.run([tool, "--repo", "camera_grpc/client"], cwd=REPO_ROOT, capture_output=True, text=True)
        assert found.stdout.lower().startswith("no duplicates"), found.stdout


# -- blocking client ------------------------------------------------------------------------------


async def test_blocking_client_reads_and_changes_settings(service: RunningService) -> None:
    def scenario() -> tuple[pb.GetCameraInfoResponse, pb.UpdateSettingsResponse, pb.GetSettingsResponse]:
        with CameraClient(service.address) as camera:
            info = camera.get_camera_info()
            applied = camera.update_settings(gain_db=6.0)
            return info, applied, camera.get_settings()

    info, applied, current = await asyncio.to_thread(scenario)
    assert info.driver == pb.CAMERA_DRIVER_SIMULATED
    assert (info.sensor_width, info.sensor_height) == (2448, 2048)
    assert applied.gain_db == pytest.approx(6.0)
    assert applied.exposure_ms == pytest.approx(2.0)  # unchanged: only gain was given
    assert (current.exposure_ms, current.gain_db) == (pytest.approx(2.0), pytest.approx(6.0))
    assert current.connected


async def test_blocking_client_capture_returns_the_saved_image(service: RunningService) -> None:
    def capture() -> pb.CaptureResponse:
        with CameraClient(service.address) as camera:
            return camera.capture(exposure_ms=4.0, image_format=pb.IMAGE_FORMAT_PNG, include_image_data=True)

    saved = await asyncio.to_thread(capture)
    assert saved.format == pb.IMAGE_FORMAT_PNG
    assert saved.exposure_ms == pytest.approx(4.0)
    assert Path(saved.path).read_bytes() == saved.image_data
    assert len(saved.image_data) == saved.size_bytes
    assert Image.open(io.BytesIO(saved.image_data)).size == (saved.width, saved.height)


async def test_invalid_exposure_raises_invalid_argument_naming_the_field(service: RunningService) -> None:
    def update() -> None:
        with CameraClient(service.address) as camera:
            camera.update_settings(exposure_ms=-5.0)

    with pytest.raises(CameraRpcError) as caught:
        await asyncio.to_thread(update)
    error = caught.value
    assert error.code is grpc.StatusCode.INVALID_ARGUMENT
    assert "exposure_ms" in error.details
    assert str(error) == f"INVALID_ARGUMENT: {error.details}"
    assert [violation.field for violation in error.field_violations] == ["exposure_ms"]
    assert isinstance(error.field_violations[0], FieldViolation)
    assert error.reason  # ErrorInfo.reason from the service
    current = await service.stub.GetSettings(pb.GetSettingsRequest())
    assert current.exposure_ms == pytest.approx(2.0)


async def test_a_capture_deadline_is_the_default_plus_its_exposure(service: RunningService) -> None:
    """A 1.5 s exposure with a 1 s default deadline (too short without the allowance): the capture gets 2.5 s (a
    capture changing the exposure takes about 2 s, more on a loaded machine); a call's own timeout_s is exact."""
    async with AsyncCameraClient(service.address, timeout_s=SHORT_DEFAULT_S) as camera:
        assert (await camera.capture(exposure_ms=1500.0)).exposure_ms == pytest.approx(1500.0)

    def calls() -> tuple[pb.CaptureResponse, CameraRpcError]:
        with CameraClient(service.address, timeout_s=SHORT_DEFAULT_S) as camera:
            assert camera.capture_deadline_s(1500.0) == pytest.approx(2.5)
            saved = camera.capture(exposure_ms=1500.0)
            try:
                camera.capture(exposure_ms=1500.0, timeout_s=0.3)
            except CameraRpcError as error:
                return saved, error
            raise AssertionError("a 1.5 s exposure finished within a 0.3 s deadline")

    saved, expired = await asyncio.to_thread(calls)
    assert saved.exposure_ms == pytest.approx(1500.0)
    assert expired.code is grpc.StatusCode.DEADLINE_EXCEEDED


async def test_a_capture_asking_no_exposure_allows_for_the_last_one_the_client_saw(service: RunningService) -> None:
    await service.stub.UpdateSettings(pb.UpdateSettingsRequest(exposure_ms=1500.0))  # by someone else

    def calls() -> pb.CaptureResponse:
        with CameraClient(service.address, timeout_s=SHORT_DEFAULT_S) as camera:
            assert camera.capture_deadline_s() == pytest.approx(SHORT_DEFAULT_S)  # knows no exposure yet
            camera.get_settings()  # now it knows: 1500 ms
            assert camera.capture_deadline_s() == pytest.approx(2.5)
            return camera.capture()

    assert (await asyncio.to_thread(calls)).exposure_ms == pytest.approx(1500.0)
    async with AsyncCameraClient(service.address, timeout_s=0.5) as camera:
        info = await camera.get_camera_info()  # the longest exposure, when nothing better is known
        assert camera.capture_deadline_s() == pytest.approx(0.5 + info.max_exposure_ms / 1000)
        await camera.update_settings(exposure_ms=3.0)
        assert camera.capture_deadline_s() == pytest.approx(0.503)
    assert CameraClient(service.address, timeout_s=None).capture_deadline_s(100.0) is None


async def test_blocking_frames_stream_full_size_raw_frames_then_ends(service: RunningService) -> None:
    """A raw 2448x2048 frame (4.8 MiB) is over gRPC's default 4 MiB limit: the client's options allow it."""

    def frames() -> list[pb.FramesResponse]:
        with CameraClient(service.address) as camera, camera.frames(max_frames=3) as stream:
            return list(stream)

    received = await asyncio.to_thread(frames)
    assert [frame.sequence_number for frame in received] == [1, 2, 3]
    assert all(len(frame.data) == 2448 * 2048 for frame in received)


async def test_cancelling_a_blocking_stream_ends_iteration_and_the_subscription(service: RunningService) -> None:
    def take_two_then_cancel() -> tuple[list[int], list[pb.FramesResponse]]:
        with CameraClient(service.address) as camera:
            stream = camera.frames(encoding=pb.FRAME_ENCODING_JPEG, max_width=320)
            numbers = [next(stream).sequence_number, next(stream).sequence_number]
            stream.cancel()
            return numbers, list(stream)

    numbers, after_cancel = await asyncio.to_thread(take_two_then_cancel)
    assert numbers == [1, 2]
    assert after_cancel == []
    await eventually(lambda: service.runtime.frames.subscriber_count == 0)


async def test_a_blocking_stream_error_carries_code_and_details(service: RunningService) -> None:
    def read_invalid_stream() -> None:
        with (
            CameraClient(service.address) as camera,
            camera.frames(quality=0, encoding=pb.FRAME_ENCODING_JPEG) as stream,
        ):
            list(stream)

    with pytest.raises(CameraRpcError) as caught:
        await asyncio.to_thread(read_invalid_stream)
    assert caught.value.code is grpc.StatusCode.INVALID_ARGUMENT
    assert [violation.field for violation in caught.value.field_violations] == ["quality"]


def test_channels_reconnect_within_a_second_after_an_outage() -> None:
    """gRPC's default reconnect backoff grows to 120 s: clients (the gateway too) stayed failed long after the
    service was back. The channel options cap it at 1 s, as the NestJS client does."""
    options = dict(channel_options())
    assert options["grpc.initial_reconnect_backoff_ms"] <= options["grpc.max_reconnect_backoff_ms"] <= 1000


async def test_an_unreachable_service_is_unavailable() -> None:
    def call() -> None:
        with CameraClient(f"127.0.0.1:{closed_port()}", timeout_s=5.0) as camera:
            camera.get_settings()

    with pytest.raises(CameraRpcError) as caught:
        await asyncio.to_thread(call)
    assert caught.value.code is grpc.StatusCode.UNAVAILABLE


# -- asyncio client -------------------------------------------------------------------------------


async def test_async_client_calls_every_rpc(service: RunningService) -> None:
    async with AsyncCameraClient(service.address) as camera:
        info = await camera.get_camera_info()
        applied = await camera.update_settings(exposure_ms=3.0, gain_db=1.5)
        current = await camera.get_settings()
        saved = await camera.capture(image_format=pb.IMAGE_FORMAT_JPEG, quality=80)
        async with camera.frames(max_frames=2, encoding=pb.FRAME_ENCODING_PNG, max_width=200) as stream:
            frames = [frame async for frame in stream]
    assert info.model and info.connected
    assert (applied.exposure_ms, applied.gain_db) == (pytest.approx(3.0), pytest.approx(1.5))
    assert (current.exposure_ms, current.gain_db) == (pytest.approx(3.0), pytest.approx(1.5))
    assert saved.format == pb.IMAGE_FORMAT_JPEG and Path(saved.path).exists()
    assert saved.image_data == b""  # not asked for
    assert [frame.sequence_number for frame in frames] == [1, 2]
    for frame in frames:
        assert frame.encoding == pb.FRAME_ENCODING_PNG
        assert Image.open(io.BytesIO(frame.data)).size == (frame.width, frame.height) == (200, 167)


async def test_clients_list_saved_captures_and_fetch_their_bytes(service: RunningService) -> None:
    async with AsyncCameraClient(service.address) as camera:
        first = await camera.capture()
        second = await camera.capture(image_format=pb.IMAGE_FORMAT_PNG)
        page = await camera.list_captures(page_size=1)
        rest = await camera.list_captures(page_size=1, page_token=page.next_page_token)
        stored = await camera.get_capture(second.filename)
        with pytest.raises(CameraRpcError) as missing:
            await camera.get_capture("../secret.jpg")

    def blocking_list() -> list[str]:
        with CameraClient(service.address) as blocking:
            return [capture.filename for capture in blocking.list_captures().captures]

    assert [capture.filename for capture in page.captures] == [second.filename]  # newest first
    assert [capture.filename for capture in rest.captures] == [first.filename]
    assert stored.content_type == "image/png"
    assert stored.data == Path(second.path).read_bytes()
    assert missing.value.code is grpc.StatusCode.NOT_FOUND
    assert await asyncio.to_thread(blocking_list) == [second.filename, first.filename]


async def test_async_client_errors_carry_code_and_details(service: RunningService) -> None:
    async with AsyncCameraClient(service.address) as camera:
        with pytest.raises(CameraRpcError) as invalid:
            await camera.capture(gain_db=99.0)
        with pytest.raises(CameraRpcError) as expired:
            await camera.capture(exposure_ms=1500.0, timeout_s=0.3)
    assert invalid.value.code is grpc.StatusCode.INVALID_ARGUMENT
    assert "gain_db" in invalid.value.details
    assert [violation.field for violation in invalid.value.field_violations] == ["gain_db"]
    assert expired.value.code is grpc.StatusCode.DEADLINE_EXCEEDED


async def test_async_stream_errors_and_cancellation(service: RunningService) -> None:
    async with AsyncCameraClient(service.address) as camera:
        with pytest.raises(CameraRpcError) as caught:
            async for _ in camera.frames(quality=0, encoding=pb.FRAME_ENCODING_JPEG):
                pass
        assert caught.value.code is grpc.StatusCode.INVALID_ARGUMENT
        assert "quality" in caught.value.details

        stream = camera.frames(encoding=pb.FRAME_ENCODING_JPEG, max_width=320)
        first = await anext(stream)
        stream.cancel()
        assert [frame async for frame in stream] == []
    assert first.sequence_number == 1
    await eventually(lambda: service.runtime.frames.subscriber_count == 0)
