"""The gateway as users run it: ``camera-grpc`` serving gRPC and REST in one process, and
``camera-grpc gateway --target`` alone in front of a service."""

from __future__ import annotations

import asyncio
import re
import signal
import socket
from collections.abc import Iterator
from pathlib import Path

import grpc
import httpx
import pytest

from camera_grpc.gen.camera.v1 import camera_pb2 as pb
from camera_grpc.gen.camera.v1 import camera_pb2_grpc
from tests.gateway.test_stream import mjpeg_parts
from tests.support import FAST_CAMERA, ServiceFactory, ServiceProcess, environment, eventually

REST_LISTENING = re.compile(r"REST gateway listening on (http://\S+)")


@pytest.fixture
def processes() -> Iterator[list[ServiceProcess]]:
    started: list[ServiceProcess] = []
    try:
        yield started
    finally:
        for process in started:
            process.kill()


async def rest_url(process: ServiceProcess) -> str:
    await eventually(lambda: REST_LISTENING.search(process.log) is not None or process.process.poll() is not None, 30)
    match = REST_LISTENING.search(process.log)
    assert match, f"no REST address logged:\n{process.log}"
    return match.group(1)


async def test_camera_grpc_serves_grpc_and_rest_in_one_process_and_stops_both_gracefully(
    processes: list[ServiceProcess], tmp_path: Path
) -> None:
    process = ServiceProcess({**environment(FAST_CAMERA), "IMAGE_SAVE_PATH": str(tmp_path / "captures")}, cwd=tmp_path)
    processes.append(process)
    grpc_port = await asyncio.to_thread(process.wait_listening)
    url = await rest_url(process)
    async with (
        httpx.AsyncClient(base_url=url, timeout=30) as http,
        grpc.aio.insecure_channel(f"127.0.0.1:{grpc_port}") as channel,
    ):
        stub = camera_pb2_grpc.CameraServiceStub(channel)
        assert (await http.get("/health/ready")).json()["status"] == "healthy"
        await stub.UpdateSettings(pb.UpdateSettingsRequest(gain_db=3.0))
        assert (await http.get("/settings")).json()["gain"] == pytest.approx(3.0)  # one camera, two front ends
        capture = (await http.post("/capture")).json()
        listed = await stub.ListCaptures(pb.ListCapturesRequest())
        assert [entry.filename for entry in listed.captures] == [capture["filename"]]

        # SIGTERM with a live view open and a long capture in flight: the capture completes, the stream ends.
        async with http.stream("GET", "/stream.mjpg", params={"max_width": 160}) as stream:
            parts = mjpeg_parts(stream)
            await anext(parts)
            slow = asyncio.ensure_future(http.post("/capture", json={"exposure": 1500.0}))
            await asyncio.sleep(0.5)
            process.process.send_signal(signal.SIGTERM)
            async for _ in parts:
                pass
            response = await slow
    assert response.status_code == 200, response.text
    assert Path(response.json()["path"]).exists()
    assert await asyncio.to_thread(process.stop) == 0
    assert "REST gateway listening on" in process.log and "stopped" in process.log
    assert "Traceback" not in process.log


async def test_the_gateway_runs_alone_in_front_of_a_remote_service(
    processes: list[ServiceProcess], start_service: ServiceFactory, tmp_path: Path
) -> None:
    service = await start_service()
    process = ServiceProcess({}, cwd=tmp_path, args=("gateway", "--target", service.address))
    processes.append(process)
    url = await rest_url(process)
    assert f"camera service: {service.address}" in process.log
    async with httpx.AsyncClient(base_url=url, timeout=30) as http:
        await http.put("/settings", json={"exposure": 7.0})
        settings = await service.stub.GetSettings(pb.GetSettingsRequest())
        assert settings.exposure_ms == pytest.approx(7.0)
        capture = (await http.post("/capture")).json()
        assert Path(capture["path"]).parent == service.captures
        download = await http.get(capture["url"])
        assert download.content == Path(capture["path"]).read_bytes()
    assert await asyncio.to_thread(process.stop, signal.SIGINT) == 0
    assert "Traceback" not in process.log


async def test_a_busy_rest_port_is_a_one_line_error(processes: list[ServiceProcess], tmp_path: Path) -> None:
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        process = ServiceProcess({"PORT": str(port)}, cwd=tmp_path, args=("gateway", "--target", "127.0.0.1:1"))
        processes.append(process)
        status = await asyncio.to_thread(process.process.wait, 30)
    await asyncio.to_thread(process.stop)  # collects the rest of its output
    assert status == 1
    assert f"camera-grpc: [Errno 98] could not bind the REST gateway to 127.0.0.1:{port}: Address already in use" in (
        process.log
    )
    assert "Traceback" not in process.log
