"""live_frames(): the clients pace LiveFrames by their own loop, so a slow loop still gets the newest frame."""

from __future__ import annotations

import asyncio
import itertools
import threading

import pytest

from camera_grpc.client import AsyncCameraClient, CameraClient
from camera_grpc.gen.camera.v1 import camera_pb2 as pb
from tests.rpc.test_frames import SMALL_CAMERA, record_published
from tests.support import STATE_TIMEOUT_S, RunningService, ServiceFactory, eventually

#: Frames the camera produces while the loop "works" on a frame (a slow consumer, without sleeping).
FRAMES_PER_STEP = 5


@pytest.fixture
async def small(start_service: ServiceFactory) -> RunningService:
    return await start_service(**SMALL_CAMERA)


async def test_the_async_client_gets_the_newest_frame_at_each_step(small: RunningService) -> None:
    published = record_published(small)
    async with AsyncCameraClient(small.address) as camera:
        stream = camera.live_frames(encoding=pb.FRAME_ENCODING_JPEG)
        numbers = []
        for _ in range(4):
            asked_at = published[-1] if published else 0
            frame = await anext(stream)
            assert frame.frame_number >= asked_at and frame.data[:2] == b"\xff\xd8"
            numbers.append(frame.frame_number)
            target = frame.frame_number + FRAMES_PER_STEP
            # the loop is busy meanwhile (the first frame may be one produced before the recording began)
            await eventually(lambda target=target: bool(published) and published[-1] >= target)
        stream.cancel()
    assert all(later - earlier >= FRAMES_PER_STEP for earlier, later in itertools.pairwise(numbers))


async def test_the_blocking_client_gets_the_newest_frame_at_each_step(small: RunningService) -> None:
    published = record_published(small)
    await eventually(lambda: len(published) > 0 or small.runtime.frames.subscriber_count == 0)

    def consume() -> list[tuple[int, int]]:
        seen = []
        produced = threading.Event()
        with CameraClient(small.address) as camera:
            stream = camera.live_frames()
            for _ in range(3):
                asked_at = published[-1] if published else 0
                frame = next(stream)
                seen.append((asked_at, frame.frame_number))
                target = frame.frame_number + FRAMES_PER_STEP
                for _ in range(int(STATE_TIMEOUT_S / 0.01)):  # the loop is busy until the camera moved on
                    if published and published[-1] >= target:
                        break
                    produced.wait(0.01)
            stream.cancel()
        return seen

    seen = await asyncio.to_thread(consume)
    assert all(number >= asked_at for asked_at, number in seen)
    numbers = [number for _, number in seen]
    assert all(later - earlier >= FRAMES_PER_STEP for earlier, later in itertools.pairwise(numbers))
