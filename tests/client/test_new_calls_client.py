"""The Python client's calls for issues 16 and 17 (frame statistics, thumbnails, storage) and ``camera-grpc storage``,
against a real service on port 0 with the simulated camera."""

from __future__ import annotations

import asyncio
import io
import json
from pathlib import Path

import pytest
from PIL import Image

from camera_grpc.client import AsyncCameraClient, CameraClient, CameraRpcError
from camera_grpc.gen.camera.v1 import camera_pb2 as pb
from camera_grpc.gen.camera.v1 import storage_pb2 as spb
from tests.client.test_cli_client import camera_grpc
from tests.support import RunningService, ServiceFactory

SMALL_SENSOR = {"simulated_width": 256, "simulated_height": 128}
BINS = 8


@pytest.fixture
async def small(start_service: ServiceFactory) -> RunningService:
    return await start_service(**SMALL_SENSOR)


def check_statistics(frame: pb.FramesResponse) -> None:
    assert frame.encoding == pb.FRAME_ENCODING_NONE and frame.data == b""
    [mono] = frame.statistics.channels
    assert mono.channel == "mono" and len(mono.histogram) == BINS
    assert frame.statistics.bit_depth == 8 and frame.statistics.subsample_step >= 1
    assert mono.min <= mono.mean <= mono.max


async def test_frames_with_statistics_and_no_pixels_both_clients(small: RunningService) -> None:
    async with AsyncCameraClient(small.address) as client:
        frames = [
            frame
            async for frame in client.frames(
                encoding=pb.FRAME_ENCODING_NONE, statistics=True, histogram_bins=BINS, max_frames=2
            )
        ]
        assert len(frames) == 2
        for frame in frames:
            check_statistics(frame)
        plain = [frame async for frame in client.frames(max_frames=1)]
        assert not plain[0].HasField("statistics")  # only when asked for

    def blocking() -> list[pb.FramesResponse]:
        with CameraClient(small.address) as client:
            return list(client.frames(encoding=pb.FRAME_ENCODING_NONE, histogram_bins=BINS, max_frames=2))

    for frame in await asyncio.to_thread(blocking):
        check_statistics(frame)


async def test_thumbnails_of_a_capture_and_a_recording(small: RunningService) -> None:
    async with AsyncCameraClient(small.address) as client:
        saved = await client.capture()
        got = await client.get_capture(saved.filename, thumbnail_max_width=32)
        assert got.content_type == "image/jpeg"
        with Image.open(io.BytesIO(got.data)) as image:
            assert (image.format, image.width, image.height) == ("JPEG", 32, 16)
        await client.start_recording(recording_id="thumbs", max_frames=2)
        [_ async for _ in client.watch_recording("thumbs")]
        thumbnail = await client.get_recording_thumbnail("thumbs", max_width=64)
        with Image.open(io.BytesIO(thumbnail.data)) as image:
            assert (image.format, image.width) == ("JPEG", 64)
        with pytest.raises(CameraRpcError) as refused:
            await client.get_recording_thumbnail("thumbs", max_width=8)
        assert refused.value.code.name == "INVALID_ARGUMENT"


async def test_storage_status_download_urls_and_the_cli(small: RunningService, tmp_path: Path) -> None:
    def blocking() -> spb.GetStorageStatusResponse:
        with CameraClient(small.address) as client:
            with pytest.raises(CameraRpcError) as not_stored:
                client.get_download_url("captures/capture_20260101_000000_000000_1.jpg")
            assert not_stored.value.code.name in ("NOT_FOUND", "FAILED_PRECONDITION")
            return client.get_storage_status()

    status = await asyncio.to_thread(blocking)
    assert status.backend == spb.STORAGE_BACKEND_LOCAL and status.disk_free_bytes > 0
    shown = await camera_grpc(tmp_path, "storage", "--target", small.address)
    assert shown.returncode == 0, shown.stderr
    assert shown.stdout.splitlines()[0] == "local folders (no object store)" and "disk free: " in shown.stdout
    as_json = json.loads((await camera_grpc(tmp_path, "storage", "--json", "--target", small.address)).stdout)
    assert as_json["backend"] == "STORAGE_BACKEND_LOCAL"
