"""A real Prometheus server (Debian's ``prometheus``, installed by scripts/setup_test_env.sh) scrapes ``camera-grpc``
at /metrics on its REST port, with the README's scrape configuration, and its HTTP API has the series."""

from __future__ import annotations

import asyncio
import re
import shutil
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import grpc
import httpx
import pytest

from camera_grpc.gen.camera.v1 import camera_pb2 as pb
from camera_grpc.gen.camera.v1 import camera_pb2_grpc
from tests.support import FAST_CAMERA, ServiceProcess, closed_port, environment, eventually

REST_LISTENING = re.compile(r"REST gateway listening on (http://\S+)")
SMALL_CAMERA = {"SIMULATED_WIDTH": "320", "SIMULATED_HEIGHT": "240"}
#: How long the whole exchange may take: Prometheus starts in about a second and scrapes every second.
DEADLINE_S = 25.0
GET_SETTINGS_CALLS = 5

SCRAPE_CONFIG = """\
global:
  scrape_interval: 1s
  scrape_timeout: 1s
scrape_configs:
  - job_name: camera-grpc
    static_configs:
      - targets: ["{target}"]
"""


@pytest.fixture
def prometheus_binary() -> str:
    binary = shutil.which("prometheus")
    assert binary, "prometheus is not installed: run scripts/setup_test_env.sh (Debian package prometheus)"
    return binary


@pytest.fixture
def prometheus_processes() -> Iterator[list[subprocess.Popen[bytes]]]:
    started: list[subprocess.Popen[bytes]] = []
    try:
        yield started
    finally:
        for process in started:
            if process.poll() is None:
                process.terminate()
                try:
                    process.wait(10)
                except subprocess.TimeoutExpired:
                    process.kill()
                    process.wait(10)


class PrometheusApi:
    """Instant queries against a Prometheus server's HTTP API."""

    def __init__(self, http: httpx.AsyncClient) -> None:
        self.http = http

    async def query(self, expression: str) -> dict[tuple[tuple[str, str], ...], float]:
        """The instant vector of ``expression`` now, as {sorted labels (without __name__): value}; empty if the server
        is not answering yet."""
        try:
            response = await self.http.get("/api/v1/query", params={"query": expression})
        except httpx.TransportError:
            return {}
        if response.status_code == httpx.codes.SERVICE_UNAVAILABLE:  # plain text while its storage starts up
            return {}
        body = response.json()
        assert body["status"] == "success", body
        return {
            tuple(sorted((key, value) for key, value in item["metric"].items() if key != "__name__")): float(
                item["value"][1]
            )
            for item in body["data"]["result"]
        }


async def test_prometheus_scrapes_the_service(
    tmp_path: Path, prometheus_binary: str, prometheus_processes: list[subprocess.Popen[bytes]]
) -> None:
    started = time.monotonic()
    env = {**environment(FAST_CAMERA), **SMALL_CAMERA, "IMAGE_SAVE_PATH": str(tmp_path / "captures")}
    with ServiceProcess(env, cwd=tmp_path) as service:
        grpc_port = await asyncio.to_thread(service.wait_listening)
        await eventually(lambda: REST_LISTENING.search(service.log) is not None, 30, "the REST address logged")
        match = REST_LISTENING.search(service.log)
        assert match
        rest = match.group(1).removeprefix("http://")

        # Calls to count, a stream to produce frames and a capture to time.
        async with grpc.aio.insecure_channel(f"127.0.0.1:{grpc_port}") as channel:
            stub = camera_pb2_grpc.CameraServiceStub(channel)
            for _ in range(GET_SETTINGS_CALLS):
                await stub.GetSettings(pb.GetSettingsRequest())
            frames = [message async for message in stub.Frames(pb.FramesRequest(max_frames=5))]
            assert len(frames) == 5
            await stub.Capture(pb.CaptureRequest())

        config = tmp_path / "prometheus.yml"
        config.write_text(SCRAPE_CONFIG.format(target=rest))
        web = f"127.0.0.1:{closed_port()}"
        log = (tmp_path / "prometheus.log").open("wb")
        prometheus_processes.append(
            subprocess.Popen(
                [
                    prometheus_binary,
                    f"--config.file={config}",
                    f"--storage.tsdb.path={tmp_path / 'tsdb'}",
                    f"--web.listen-address={web}",
                ],
                stdout=log,
                stderr=subprocess.STDOUT,
                cwd=tmp_path,
            )
        )

        async with httpx.AsyncClient(base_url=f"http://{web}", timeout=5) as http:
            api = PrometheusApi(http)
            remaining = DEADLINE_S - (time.monotonic() - started)
            calls = 'camera_grpc_rpc_requests_total{service="camera.v1.CameraService",method="GetSettings",code="OK"}'

            scraped: dict[tuple[tuple[str, str], ...], float] = {}
            deadline = time.monotonic() + remaining
            while not scraped and time.monotonic() < deadline:  # until Prometheus is up and has scraped once
                assert prometheus_processes[0].poll() is None, (tmp_path / "prometheus.log").read_text()
                scraped = await api.query(calls)
                if not scraped:
                    await asyncio.sleep(0.25)
            assert scraped, f"no series after {remaining:.0f} s:\n{(tmp_path / 'prometheus.log').read_text()}"

            assert list(scraped.values()) == [GET_SETTINGS_CALLS]
            assert await api.query('up{job="camera-grpc"}') == {(("instance", rest), ("job", "camera-grpc")): 1.0}
            labels = (("instance", rest), ("job", "camera-grpc"))
            assert await api.query("camera_grpc_camera_connected") == {labels: 1.0}
            (produced,) = (await api.query("camera_grpc_frames_produced_total")).values()
            assert produced >= 5
            frames_ok = await api.query('camera_grpc_rpc_requests_total{method="Frames",code="OK"}')
            assert list(frames_ok.values()) == [1.0]
            stages = await api.query("camera_grpc_capture_stage_seconds_count")
            assert {dict(key)["stage"]: value for key, value in stages.items()} == {
                "grab": 1.0,
                "encode": 1.0,
                "write": 1.0,
            }
            reasons = await api.query("camera_grpc_frames_dropped_total")
            assert {dict(key)["reason"] for key in reasons} == {"policy", "budget", "max_fps", "camera"}
            (free,) = (await api.query("camera_grpc_captures_disk_free_bytes")).values()
            assert free > 0
            (fds,) = (await api.query("process_open_fds")).values()
            assert fds > 0
            assert set(await api.query('camera_grpc_open_connections{protocol="http"}')) == {
                (("instance", rest), ("job", "camera-grpc"), ("protocol", "http"))
            }
        assert service.stop() == 0
    assert time.monotonic() - started < 30
