"""Waiting for a state without sleeping blindly, and a port nothing listens on."""

from __future__ import annotations

import asyncio
import socket
from collections.abc import Callable

from grpc_health.v1 import health_pb2, health_pb2_grpc

from camera_grpc.contract import CAMERA_SERVICE_NAME

#: How long a test waits for the camera or health to reach a state before failing.
STATE_TIMEOUT_S = 10.0


async def eventually(predicate: Callable[[], bool], timeout_s: float = STATE_TIMEOUT_S, what: str = "") -> None:
    """Wait until ``predicate()`` is true (polling), or fail saying ``what`` was awaited."""
    deadline = asyncio.get_running_loop().time() + timeout_s
    while not predicate():
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError(f"condition not reached in {timeout_s} s" + (f": {what}" if what else ""))
        await asyncio.sleep(0.01)


async def wait_for_health(
    health: health_pb2_grpc.HealthStub,
    expected: int,
    service: str = CAMERA_SERVICE_NAME,
    timeout_s: float = STATE_TIMEOUT_S,
) -> None:
    """Follow the standard health ``Watch`` stream until it reports ``expected``."""
    call = health.Watch(health_pb2.HealthCheckRequest(service=service), timeout=timeout_s)
    async for response in call:
        if response.status == expected:
            call.cancel()
            return
    raise AssertionError(
        f"health of {service!r} never became {health_pb2.HealthCheckResponse.ServingStatus.Name(expected)}"
    )


def closed_port() -> int:
    """A port nothing listens on (bound, then released)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])
