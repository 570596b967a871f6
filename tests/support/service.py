"""A camera service started in the test's event loop, and the settings every test service starts from."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path

import grpc
from grpc_health.v1 import health_pb2, health_pb2_grpc

from camera_grpc.config import Settings, load_settings
from camera_grpc.contract import CAMERA_SERVICE_NAME
from camera_grpc.device.simulated import SimulatedCamera
from camera_grpc.gen.camera.v1 import camera_pb2_grpc
from camera_grpc.service import CameraRuntime
from tests.support.waiting import wait_for_health

#: The fast simulated camera of the tests: short exposure, many frames per second.
FAST_CAMERA: dict[str, object] = {
    "camera_backend": "simulated",
    "default_exposure": 2.0,
    "default_gain": 0.0,
    "simulated_frame_rate": 200.0,
}
#: Settings every test service starts from: the fast camera, any free port, quick reconnects and shutdown.
TEST_SETTINGS: dict[str, object] = {
    **FAST_CAMERA,
    "grpc_host": "127.0.0.1",
    "grpc_port": 0,
    "port": 0,
    "reconnect_initial_delay_s": 0.05,
    "reconnect_max_delay_s": 0.2,
    "frames_linger_s": 0.2,
    "shutdown_grace_s": 2.0,
}


def environment(settings: dict[str, object]) -> dict[str, str]:
    """Settings as the environment variables of a service process (``default_exposure`` -> ``DEFAULT_EXPOSURE``)."""
    return {name.upper(): str(value) for name, value in settings.items()}


def make_settings(captures: Path, **overrides: object) -> Settings:
    """Settings for a test service that ignore the environment's .env; its state (requested settings, presets)
    is kept next to ``captures`` (never in the working directory)."""
    return load_settings(
        None,
        **{
            **TEST_SETTINGS,
            "image_save_path": captures,
            "state_path": captures.parent / "state",
            "recordings_path": captures.parent / "recordings",
            **overrides,
        },
    )


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

    async def health_status(self, service: str = CAMERA_SERVICE_NAME) -> int:
        response = await self.health.Check(health_pb2.HealthCheckRequest(service=service), timeout=5)
        return response.status

    async def wait_for_health(self, expected: int, service: str = CAMERA_SERVICE_NAME) -> None:
        """Follow the health Watch stream until it reports ``expected``."""
        await wait_for_health(self.health, expected, service)


ServiceFactory = Callable[..., Awaitable[RunningService]]
