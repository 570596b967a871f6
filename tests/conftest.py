"""Shared fixtures: a real camera service on a real socket (port 0), real channels."""

from __future__ import annotations

import contextlib
import subprocess
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import grpc
import pytest
from grpc_health.v1 import health_pb2_grpc

from camera_grpc.client import channel_options
from camera_grpc.device.base import CameraDriver
from camera_grpc.gen.camera.v1 import camera_pb2_grpc
from camera_grpc.service import CameraRuntime
from tests.support import STATE_TIMEOUT_S, RunningService, ServiceFactory, make_settings


@pytest.fixture
async def start_service(tmp_path: Path) -> AsyncIterator[ServiceFactory]:
    """Start services with optional settings overrides (and an optional driver); all stopped at teardown."""
    stack = contextlib.AsyncExitStack()

    async def start(driver: CameraDriver | None = None, **overrides: object) -> RunningService:
        captures = overrides.pop("image_save_path", tmp_path / "captures")
        settings = make_settings(captures, **overrides)  # type: ignore[arg-type]
        runtime = CameraRuntime(settings, driver=driver)
        server, port = await runtime.create_server()
        runtime.start()
        await server.start()
        channel = grpc.aio.insecure_channel(
            f"127.0.0.1:{port}", options=channel_options(settings.grpc_max_message_bytes)
        )

        async def stop() -> None:
            await channel.close()
            await runtime.frames.close()
            await server.stop(0)
            await runtime.aclose()

        stack.push_async_callback(stop)
        assert await runtime.wait_until_connected(STATE_TIMEOUT_S), "simulated camera did not connect"
        return RunningService(
            settings,
            runtime,
            server,
            port,
            channel,
            camera_pb2_grpc.CameraServiceStub(channel),
            health_pb2_grpc.HealthStub(channel),
        )

    async with stack:
        yield start


@pytest.fixture
async def service(start_service: ServiceFactory) -> RunningService:
    """A service on the default simulated camera (2448x2048 mono8)."""
    return await start_service()


@pytest.fixture
def small_filesystem(tmp_path: Path) -> Iterator[Path]:
    """A real 1 MiB tmpfs (needs root, as on the project's machines and CI)."""
    mount_point = tmp_path / "small-disk"
    mount_point.mkdir()
    result = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=1m", "tmpfs", str(mount_point)], capture_output=True, text=True
    )
    if result.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {result.stderr.strip()}")
    try:
        yield mount_point
    finally:
        subprocess.run(["umount", "-l", str(mount_point)], check=False)


pytest_plugins = ["tests.support.emulator_fixtures"]
