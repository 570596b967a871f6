"""Test helpers: settings for test services, the running-service handle, polling."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path

import grpc
from grpc_health.v1 import health_pb2, health_pb2_grpc

from camera_grpc.config import Settings, load_settings
from camera_grpc.drivers.simulated import SimulatedCamera
from camera_grpc.gen.camera.v1 import camera_pb2_grpc
from camera_grpc.runtime import CameraRuntime
from camera_grpc.testing import ServiceProcess

#: How long a test waits for the camera or health to reach a state before failing.
STATE_TIMEOUT_S = 10.0

__all__ = ["STATE_TIMEOUT_S", "RunningService", "ServiceFactory", "ServiceProcess", "eventually", "make_settings"]

#: Settings every test service starts from: fast frames, short exposure, any free port.
TEST_SETTINGS: dict[str, object] = {
    "camera_backend": "simulated",
    "grpc_host": "127.0.0.1",
    "grpc_port": 0,
    "port": 0,
    "default_exposure": 2.0,
    "default_gain": 0.0,
    "simulated_frame_rate": 200.0,
    "reconnect_initial_delay_s": 0.05,
    "reconnect_max_delay_s": 0.2,
    "frames_linger_s": 0.2,
    "shutdown_grace_s": 2.0,
}


def make_settings(captures: Path, **overrides: object) -> Settings:
    """Settings for a test service that ignore the environment's .env."""
    return load_settings(None, **{**TEST_SETTINGS, "image_save_path": captures, **overrides})


@dataclass
class RunningService:
    """A started service and real clients connected to it over TCP."""

    settings: Settings
    runtime: CameraRuntime
    server: grpc.aio.Server
    port: int
    channel: grpc.aio.Channel
    stub: camera_pb2_grpc.CameraServiceStub
    health: health_pb2_grpc.HealthStub

    @property
    def address(self) -> str:
        return f"127.0.0.1:{self.port}"

    @property
    def captures(self) -> Path:
        return self.runtime.store.directory

    @property
    def camera(self) -> SimulatedCamera:
        assert isinstance(self.runtime.driver, SimulatedCamera)
        return self.runtime.driver

    async def health_status(self, service: str = "camera.v1.CameraService") -> int:
        response = await self.health.Check(health_pb2.HealthCheckRequest(service=service), timeout=5)
        return response.status

    async def wait_for_health(self, expected: int, service: str = "camera.v1.CameraService") -> None:
        """Follow the health Watch stream until it reports ``expected``."""
        call = self.health.Watch(health_pb2.HealthCheckRequest(service=service), timeout=STATE_TIMEOUT_S)
        async for response in call:
            if response.status == expected:
                call.cancel()
                return
        raise AssertionError(f"health never became {expected}")


ServiceFactory = Callable[..., Awaitable[RunningService]]


async def eventually(predicate: Callable[[], bool], timeout_s: float = STATE_TIMEOUT_S) -> None:
    """Wait until ``predicate()`` is true (polling), or fail."""
    deadline = asyncio.get_running_loop().time() + timeout_s
    while not predicate():
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError("condition not reached in time")
        await asyncio.sleep(0.01)
