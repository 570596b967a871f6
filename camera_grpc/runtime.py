"""The running pieces of one camera service, built from settings.

:class:`CameraRuntime` owns the camera worker thread, the encode executor, the
controller and the frame hub. The gRPC server (:mod:`camera_grpc.server`) and
the REST gateway are front ends over it.
"""

from __future__ import annotations

import asyncio
from concurrent.futures import ThreadPoolExecutor

from camera_grpc.config import Settings
from camera_grpc.controller import CameraController
from camera_grpc.drivers import create_driver
from camera_grpc.drivers.base import CameraDriver
from camera_grpc.storage import CaptureStore
from camera_grpc.streaming import FrameHub
from camera_grpc.worker import CameraWorker

#: Threads that encode images and write files (never the camera thread).
ENCODE_THREADS = 2


class CameraRuntime:
    """Worker, executor, controller and frame hub. Create inside a running event loop."""

    def __init__(self, settings: Settings, driver: CameraDriver | None = None) -> None:
        self.settings = settings
        self.driver = driver if driver is not None else create_driver(settings)
        self.worker = CameraWorker(
            self.driver,
            reconnect_initial_delay_s=settings.reconnect_initial_delay_s,
            reconnect_max_delay_s=settings.reconnect_max_delay_s,
        )
        self.executor = ThreadPoolExecutor(max_workers=ENCODE_THREADS, thread_name_prefix="encode")
        self.store = CaptureStore(settings.image_save_path)
        self.controller = CameraController(
            self.worker,
            self.store,
            self.executor,
            default_exposure_ms=settings.default_exposure,
            default_gain_db=settings.default_gain,
            default_image_format=settings.image_format,
            default_quality=settings.image_quality,
        )
        self.frames = FrameHub(
            self.worker,
            self.executor,
            linger_s=settings.frames_linger_s,
            max_subscribers=settings.max_subscribers,
        )

    def start(self) -> None:
        """Start the camera thread (it connects in the background)."""
        self.worker.start()

    async def wait_until_connected(self, timeout_s: float) -> bool:
        """Wait, without blocking the loop, until the camera is connected."""
        return await asyncio.to_thread(self.worker.wait_until_connected, timeout_s)

    async def aclose(self) -> None:
        """End streams, stop the camera thread (closing the camera), stop the executor."""
        await self.frames.close()
        await asyncio.to_thread(self.worker.stop)
        self.executor.shutdown(wait=True)
