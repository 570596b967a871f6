"""Test helpers: settings for test services, the running-service handle, polling."""

from __future__ import annotations

import asyncio
import os
import re
import signal
import subprocess
import sys
import threading
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path

import grpc
from grpc_health.v1 import health_pb2, health_pb2_grpc

from camera_grpc.config import Settings, load_settings
from camera_grpc.drivers.simulated import SimulatedCamera
from camera_grpc.gen.camera.v1 import camera_pb2_grpc
from camera_grpc.runtime import CameraRuntime

#: How long a test waits for the camera or health to reach a state before failing.
STATE_TIMEOUT_S = 10.0

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


class ServiceProcess:
    """``python -m camera_grpc`` as a subprocess on free ports; its log is collected line by line."""

    LISTENING = re.compile(r"gRPC listening on (\S+):(\d+)")

    def __init__(self, env: dict[str, str], cwd: Path, args: tuple[str, ...] = ()) -> None:
        base = {key: value for key, value in os.environ.items() if key in ("PATH", "HOME", "LANG", "LD_LIBRARY_PATH")}
        self.process = subprocess.Popen(
            [sys.executable, "-m", "camera_grpc", "--env-file", "/dev/null", *args],
            env={"GRPC_PORT": "0", "PORT": "0", **base, **env},
            cwd=cwd,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        self.lines: list[str] = []
        self._port: int | None = None
        self._listening = threading.Event()
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self) -> None:
        assert self.process.stdout is not None
        for line in self.process.stdout:
            self.lines.append(line.rstrip("\n"))
            match = self.LISTENING.search(line)
            if match:
                self._port = int(match.group(2))
                self._listening.set()
        self._listening.set()  # exited

    @property
    def log(self) -> str:
        return "\n".join(self.lines)

    def wait_listening(self, timeout_s: float = STATE_TIMEOUT_S) -> int:
        """The bound gRPC port, once logged."""
        self._listening.wait(timeout_s)
        if self._port is None:
            raise AssertionError(f"service did not start:\n{self.log}")
        return self._port

    def stop(self, signum: int = signal.SIGTERM, timeout_s: float = 15.0) -> int:
        """Send ``signum`` and return the exit status."""
        if self.process.poll() is None:
            self.process.send_signal(signum)
        try:
            return self.process.wait(timeout_s)
        finally:
            self._reader.join(5)

    def kill(self) -> None:
        if self.process.poll() is None:
            self.process.kill()
            self.process.wait(10)
