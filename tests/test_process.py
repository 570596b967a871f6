"""The service as users run it: a process, signals, graceful shutdown."""

from __future__ import annotations

import asyncio
import os
import resource
import signal
import socket
from collections.abc import Iterator
from pathlib import Path

import grpc
import pytest
from grpc_health.v1 import health_pb2, health_pb2_grpc

from camera_grpc.gen.camera.v1 import camera_pb2 as pb
from camera_grpc.gen.camera.v1 import camera_pb2_grpc
from camera_grpc.service import FD_HEADROOM, MIN_GRPC_CONNECTIONS, grpc_connection_cap
from tests.support import FAST_CAMERA, ServiceProcess, closed_port, environment, eventually, make_settings

SERVICE_ENV = {**environment(FAST_CAMERA), "SHUTDOWN_GRACE_S": "5", "REST_ENABLED": "false"}


@pytest.fixture
def service_process(tmp_path: Path) -> Iterator[ServiceProcess]:
    process = ServiceProcess({**SERVICE_ENV, "IMAGE_SAVE_PATH": str(tmp_path / "captures")}, cwd=tmp_path)
    try:
        yield process
    finally:
        process.kill()


async def test_starts_logs_its_backend_and_address_and_stops_on_sigterm(service_process: ServiceProcess) -> None:
    port = service_process.wait_listening()
    async with grpc.aio.insecure_channel(f"127.0.0.1:{port}") as channel:
        health = health_pb2_grpc.HealthStub(channel)
        response = await health.Check(health_pb2.HealthCheckRequest(service="camera.v1.CameraService"))
        assert response.status == health_pb2.HealthCheckResponse.SERVING  # the camera connects before serving
    assert "camera: Simulated Camera serial SIM-0001 (simulated driver), sensor 2448x2048" in service_process.log
    assert f"gRPC listening on 127.0.0.1:{port} (camera backend: simulated)" in service_process.log
    assert "using the simulated camera" not in service_process.log  # simulated was asked for, not a fallback
    assert service_process.stop(signal.SIGTERM) == 0
    assert "camera closed" in service_process.log
    assert "Traceback" not in service_process.log


async def test_sigint_lets_an_in_flight_capture_finish_and_ends_streams_with_a_status(
    service_process: ServiceProcess, tmp_path: Path
) -> None:
    port = service_process.wait_listening()
    async with grpc.aio.insecure_channel(f"127.0.0.1:{port}") as channel:
        stub = camera_pb2_grpc.CameraServiceStub(channel)
        await stub.GetSettings(pb.GetSettingsRequest(), wait_for_ready=True, timeout=10)
        stream = stub.Frames(pb.FramesRequest(max_fps=5, encoding=pb.FRAME_ENCODING_JPEG, max_width=320))
        assert (await stream.read()).sequence_number == 1
        capture = asyncio.ensure_future(stub.Capture(pb.CaptureRequest(exposure_ms=1500.0), timeout=20))
        await asyncio.sleep(0.4)  # the capture is now exposing
        service_process.process.send_signal(signal.SIGINT)

        response = await capture
        assert Path(response.path).exists() and Path(response.path).parent == tmp_path / "captures"
        assert response.exposure_ms == pytest.approx(1500.0)
        with pytest.raises(grpc.aio.AioRpcError) as caught:
            while True:
                message = await stream.read()
                assert message is not grpc.aio.EOF, "stream ended without a status"
        assert caught.value.code() == grpc.StatusCode.UNAVAILABLE
        assert "shutting down" in caught.value.details()
    assert service_process.process.wait(15) == 0  # exits by itself after SIGINT (no second signal)
    assert "camera closed" in service_process.log


@pytest.mark.parametrize("taken", ["grpc", "rest"])
def test_a_second_instance_on_a_taken_port_stops_before_opening_the_camera(tmp_path: Path, taken: str) -> None:
    grpc_port, rest_port = closed_port(), closed_port()
    env = {**SERVICE_ENV, "REST_ENABLED": "true", "IMAGE_SAVE_PATH": str(tmp_path / "captures")}
    with ServiceProcess({**env, "GRPC_PORT": str(grpc_port), "PORT": str(rest_port)}, cwd=tmp_path) as first:
        first.wait_listening()
        # the second instance shares exactly one port with the first
        ports = {"GRPC_PORT": str(grpc_port if taken == "grpc" else closed_port())}
        ports["PORT"] = str(rest_port if taken == "rest" else closed_port())
        with ServiceProcess({**env, **ports}, cwd=tmp_path) as second:
            assert second.process.wait(30) != 0
            second.stop()
        address = f"127.0.0.1:{grpc_port if taken == 'grpc' else rest_port}"
        naming = [line for line in second.lines if address in line]
        assert len(naming) == 1, second.log
        assert "already in use" in naming[0].lower(), second.log
        assert "Traceback" not in second.log
        assert "camera connected" not in second.log and "camera: " not in second.log  # never opened
        assert first.process.poll() is None  # the first instance is unharmed


#: Service processes killed (kill -9) during captures, at most, until one leaves debris behind.
KILL_ROUNDS = 8


def leftovers(folder: Path) -> list[str]:
    """Temporary files and sidecars without their image."""
    names = {path.name for path in folder.iterdir()} if folder.exists() else set()
    return sorted(
        name
        for name in names
        if name.endswith(".part") or (name.endswith(".json") and name.replace(".json", ".bmp") not in names)
    )


async def test_kill_9_during_captures_leaves_nothing_behind_after_the_next_start(tmp_path: Path) -> None:
    folder = tmp_path / "captures"
    env = {**SERVICE_ENV, "IMAGE_SAVE_PATH": str(folder), "IMAGE_FORMAT": "bmp"}
    left: list[str] = []
    for _ in range(KILL_ROUNDS):
        with ServiceProcess(env, cwd=tmp_path) as victim:
            port = victim.wait_listening()
            async with grpc.aio.insecure_channel(f"127.0.0.1:{port}") as channel:
                stub = camera_pb2_grpc.CameraServiceStub(channel)
                done: list[object] = []

                async def keep_capturing(stub: camera_pb2_grpc.CameraServiceStub = stub, done: list = done) -> None:
                    while True:
                        done.append(await stub.Capture(pb.CaptureRequest(), timeout=20))

                workers = [asyncio.ensure_future(keep_capturing()) for _ in range(4)]
                await eventually(lambda done=done: len(done) >= 3, what="captures saved")
                victim.kill()  # SIGKILL, mid-capture
                await asyncio.gather(*workers, return_exceptions=True)
        left = leftovers(folder)
        if left:
            break
    assert left, f"no kill in {KILL_ROUNDS} rounds interrupted a capture"

    with ServiceProcess(env, cwd=tmp_path) as service:
        port = service.wait_listening()
        assert leftovers(folder) == []
        removal = [line for line in service.lines if "removed" in line]
        assert len(removal) == 1 and all(name in removal[0] for name in left), service.log
        async with grpc.aio.insecure_channel(f"127.0.0.1:{port}") as channel:
            stub = camera_pb2_grpc.CameraServiceStub(channel)
            listed = await stub.ListCaptures(pb.ListCapturesRequest(page_size=1000), timeout=10)
        images = sorted(path.name for path in folder.glob("*.bmp"))
        assert sorted(entry.filename for entry in listed.captures) == images


def test_start_up_raises_the_open_files_soft_limit_to_the_hard_limit(tmp_path: Path) -> None:
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if hard == resource.RLIM_INFINITY or hard <= 512:
        pytest.skip(f"needs a finite hard open-files limit above 512 (here {hard})")
    resource.setrlimit(resource.RLIMIT_NOFILE, (512, hard))  # the child starts with the common low soft limit
    try:
        service = ServiceProcess({**SERVICE_ENV, "IMAGE_SAVE_PATH": str(tmp_path / "captures")}, cwd=tmp_path)
    finally:
        resource.setrlimit(resource.RLIMIT_NOFILE, (soft, hard))
    with service:
        service.wait_listening()
        assert resource.prlimit(service.process.pid, resource.RLIMIT_NOFILE) == (hard, hard)
        logged = [line for line in service.lines if "open files" in line]
        assert len(logged) == 1 and f"from 512 to {hard}" in logged[0], service.log


#: Open-files limit of the starved service, and the idle connections thrown at it.
STARVED_LIMIT = 256
IDLE_CONNECTIONS = 400


async def closed_by_peer(sock: socket.socket) -> None:
    """Return once the other end closed ``sock`` (reading and dropping whatever it sent first)."""
    loop = asyncio.get_running_loop()
    try:
        while await loop.sock_recv(sock, 4096):
            pass
    except ConnectionError:
        pass


async def test_idle_connections_cannot_starve_the_service_of_file_descriptors(tmp_path: Path) -> None:
    env = {**SERVICE_ENV, "IMAGE_SAVE_PATH": str(tmp_path / "captures"), "GRPC_HANDSHAKE_TIMEOUT_S": "1"}
    with ServiceProcess(env, cwd=tmp_path) as service:
        # Both limits, so start-up cannot raise it (whether or not it already tried).
        resource.prlimit(service.process.pid, resource.RLIMIT_NOFILE, (STARVED_LIMIT, STARVED_LIMIT))
        port = service.wait_listening()
        async with grpc.aio.insecure_channel(f"127.0.0.1:{port}") as channel:
            stub = camera_pb2_grpc.CameraServiceStub(channel)
            await stub.GetSettings(pb.GetSettingsRequest(), timeout=10)  # an existing client
            idle: list[socket.socket] = []
            try:
                for _ in range(IDLE_CONNECTIONS):  # connect, then say nothing (not even the HTTP/2 preface)
                    sock = socket.create_connection(("127.0.0.1", port), timeout=10)
                    sock.setblocking(False)
                    idle.append(sock)
                # The existing client keeps working, captures included.
                assert (await stub.GetSettings(pb.GetSettingsRequest(), timeout=10)).connected
                saved = await stub.Capture(pb.CaptureRequest(), timeout=20)
                assert Path(saved.path).exists()
                # Every idle connection is closed: at once beyond the connection cap, else at the handshake timeout.
                await asyncio.wait_for(asyncio.gather(*(closed_by_peer(sock) for sock in idle)), 30)
            finally:
                for sock in idle:
                    sock.close()
        async with grpc.aio.insecure_channel(f"127.0.0.1:{port}") as fresh:  # and a new client is served
            stub = camera_pb2_grpc.CameraServiceStub(fresh)
            assert (await stub.GetSettings(pb.GetSettingsRequest(), timeout=10)).connected
        assert len(os.listdir(f"/proc/{service.process.pid}/fd")) < STARVED_LIMIT
    assert "Too many open files" not in service.log and "Traceback" not in service.log, service.log


def test_the_grpc_connection_cap_fits_the_open_files_limit(tmp_path: Path) -> None:
    both = make_settings(tmp_path, rest_enabled=True, rest_max_connections=256, grpc_max_connections=128)
    assert grpc_connection_cap(both, 1 << 20) == 128  # plenty: the setting
    assert grpc_connection_cap(both, 1024) == 128  # 1024 - 256 REST - 64 headroom leaves 704
    assert grpc_connection_cap(both, 400) == 400 - 256 - FD_HEADROOM  # lowered to fit
    assert grpc_connection_cap(both, 256) == MIN_GRPC_CONNECTIONS  # never below what the gateway needs
    grpc_only = make_settings(tmp_path, rest_enabled=False, grpc_max_connections=128)
    assert grpc_connection_cap(grpc_only, 256) == 128


#: Bad requests thrown at a service, and the most its log may grow meanwhile, bytes.
FLOOD = 512
FLOOD_LOG_BOUND = 2048


async def test_a_flood_of_malformed_and_refused_requests_leaves_the_log_nearly_untouched(tmp_path: Path) -> None:
    env = {**SERVICE_ENV, "IMAGE_SAVE_PATH": str(tmp_path / "captures"), "GRPC_MAX_STREAMS": "2"}
    with ServiceProcess(env, cwd=tmp_path) as service_process:
        port = service_process.wait_listening()
        async with grpc.aio.insecure_channel(f"127.0.0.1:{port}") as channel:
            stub = camera_pb2_grpc.CameraServiceStub(channel)
            health = health_pb2_grpc.HealthStub(channel)
            watching = [health.Watch(health_pb2.HealthCheckRequest(), timeout=30) for _ in range(2)]  # every slot
            for watch in watching:
                await watch.read()
            await stub.GetSettings(pb.GetSettingsRequest(), timeout=10)
            before = len(service_process.lines)
            raw = {
                name: channel.unary_unary(
                    f"/camera.v1.CameraService/{name}", request_serializer=bytes, response_deserializer=bytes
                )
                for name in ("UpdateSettings", "Capture", "GetCapture", "ListCaptures")
            }
            bad_calls = [
                # bytes that do not parse, values refused, names not found, streams beyond the limit
                *(raw[name](b"\xff\xff\xff\xff", timeout=10) for name in raw for _ in range(FLOOD // 8)),
                *(
                    stub.UpdateSettings(pb.UpdateSettingsRequest(exposure_ms=-1.0), timeout=10)
                    for _ in range(FLOOD // 8)
                ),
                *(stub.GetCapture(pb.GetCaptureRequest(filename="../x" * 1000), timeout=10) for _ in range(FLOOD // 8)),
                *(stub.ListCaptures(pb.ListCapturesRequest(page_token="bad"), timeout=10) for _ in range(FLOOD // 8)),
                *(stub.Frames(pb.FramesRequest(), timeout=10).read() for _ in range(FLOOD // 16)),  # no stream slot
                *(health.Watch(health_pb2.HealthCheckRequest(), timeout=10).read() for _ in range(FLOOD // 16)),
            ]
            outcomes = await asyncio.gather(*bad_calls, return_exceptions=True)
            assert len(outcomes) >= FLOOD
            codes = {outcome.code() for outcome in outcomes if isinstance(outcome, grpc.aio.AioRpcError)}
            assert codes == {
                grpc.StatusCode.INVALID_ARGUMENT,
                grpc.StatusCode.NOT_FOUND,
                grpc.StatusCode.RESOURCE_EXHAUSTED,
            }, codes
            await stub.GetSettings(pb.GetSettingsRequest(), timeout=10)  # still fine
            for watch in watching:
                watch.cancel()
        assert service_process.stop() == 0  # the whole log is read once the process has exited
        during = service_process.lines[before:]
        during = during[: next(i for i, line in enumerate(during) if "shutting down" in line)]
        assert len("\n".join(during)) < FLOOD_LOG_BOUND, during
