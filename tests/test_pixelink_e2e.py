"""End to end: the service as a process with CAMERA_BACKEND=pixelink on the SDK emulator, real gRPC calls.

The emulator lives inside the service process (loaded by the unmodified pixelinkWrapper through
LD_LIBRARY_PATH / PIXELINK_SDK_LIB); the tests watch and misbehave it through its control socket.
"""

from __future__ import annotations

import asyncio
import contextlib
import io
import itertools
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path

import grpc
import numpy as np
import psutil
import pytest
from google.protobuf import field_mask_pb2
from grpc_health.v1 import health_pb2, health_pb2_grpc
from PIL import Image

from camera_grpc.client import channel_options
from camera_grpc.contract import CAMERA_SERVICE_NAME
from camera_grpc.device.pixelink import GRAB_ATTEMPTS
from camera_grpc.gen.camera.v1 import camera_pb2 as pb
from camera_grpc.gen.camera.v1 import camera_pb2_grpc
from tests.support import STATE_TIMEOUT_S, ServiceProcess, wait_for_health
from tests.support.pxlemu import STAMP_BYTES, SocketControl, emulator_env, sensor_pattern

SERIAL = 700000001
ABSENT_SERIAL = 123456789
WIDTH, HEIGHT = 640, 480
ONE_SMALL_CAMERA = f"cameras={SERIAL}:{WIDTH}x{HEIGHT}"
# Feature ids (PxLApi.FeatureId) and return codes (PxLApi.ReturnCode, SDK-ABI.md 5.1) as the emulator takes them.
EXPOSURE, GAIN, ROI, PIXEL_FORMAT = 7, 8, 19, 22  # PxLApi.FeatureId
SDK_MONO12_PACKED = 13  # PxLApi.PixelFormat
API_CAMERA_TIMEOUT_ERROR = -1879048180  # 0x9000000C
API_OUT_OF_RANGE_ERROR = -2147483626  # 0x80000016
STREAM_STARTED = 0  # emulator "state" reply for START
#: Exposure at which a MONO8 frame is exactly the emulator's pattern, milliseconds.
UNSCALED_EXPOSURE_MS = 10.0
CALL_TIMEOUT_S = 10.0
#: An unplug must fail the in-flight call within this ("about a second"; the emulator wakes the grab at once).
FAIL_FAST_S = 1.0
UNPLUG_CYCLES = 50
#: Threads the service may have beyond its count after warming up (a leak of one per cycle would be 50).
THREAD_COUNT_TOLERANCE = 2
#: Exit status for a missing SDK (camera_grpc.cli.EXIT_CONFIG).
EXIT_CONFIG = 78
SERVICE_ENV = {
    "CAMERA_BACKEND": "pixelink",
    "DEFAULT_EXPOSURE": "2",
    "DEFAULT_GAIN": "0",
    "RECONNECT_INITIAL_DELAY_S": "0.05",
    "RECONNECT_MAX_DELAY_S": "0.2",
    "REST_ENABLED": "false",
    "SHUTDOWN_GRACE_S": "2",
    "FRAMES_LINGER_S": "0.2",
}

#: Loaded into the service process (sitecustomize on PYTHONPATH): after the service has shut down, print
#: what the emulator saw. The emulator itself is the witness; ctypes.CDLL finds the already loaded library.
EXIT_REPORT = """
import atexit, ctypes

def _pxlemu_exit_report():
    lib = ctypes.CDLL("libPxLApi.so")
    counts = (lib.PxLEmu_CallCount(b"PxLUninitialize"), lib.PxLEmu_OpenHandleCount(), lib.PxLEmu_StaleHandleCount())
    print("PXLEMU-EXIT uninitialize=%d open=%d stale=%d" % counts, flush=True)

atexit.register(_pxlemu_exit_report)
"""
EXIT_REPORT_LINE = re.compile(r"PXLEMU-EXIT uninitialize=(\d+) open=(\d+) stale=(\d+)")


@dataclass
class EmulatedService:
    """The service process, the emulator's control socket in it, and a gRPC channel to it."""

    process: ServiceProcess
    control: SocketControl  # (None when started with emulated=False)
    channel: grpc.aio.Channel
    stub: camera_pb2_grpc.CameraServiceStub
    health: health_pb2_grpc.HealthStub

    async def health_status(self) -> int:
        request = health_pb2.HealthCheckRequest(service=CAMERA_SERVICE_NAME)
        return (await self.health.Check(request, timeout=CALL_TIMEOUT_S)).status

    async def wait_for_health(self, expected: int, timeout_s: float = STATE_TIMEOUT_S) -> None:
        try:
            await wait_for_health(self.health, expected, timeout_s=timeout_s)
        except AssertionError as failure:
            raise AssertionError(f"{failure}\n{self.process.log}") from None

    def emulator_value(self, feature_id: int) -> float:
        """The camera's own current value (SDK units), read by the emulator."""
        return self.control.feature_value(SERIAL, feature_id)


StartEmulated = Callable[..., Awaitable[EmulatedService]]


@pytest.fixture
async def start_emulated(emulator_dir: Path, tmp_path: Path) -> AsyncIterator[StartEmulated]:
    """Start the service on the emulator: ``await start(config=..., **environment)``; all stopped at teardown."""
    stack = contextlib.AsyncExitStack()
    socket_dir = Path(tempfile.mkdtemp(prefix="pxl-", dir="/tmp"))  # a short path: Unix sockets allow ~100 bytes
    stack.callback(shutil.rmtree, socket_dir, ignore_errors=True)

    numbers = itertools.count()

    async def start(config: str = ONE_SMALL_CAMERA, *, emulated: bool = True, **environment: str) -> EmulatedService:
        """``emulated=False``: the process is not expected to load the emulator (no control socket)."""
        socket_path = socket_dir / f"ctl{next(numbers)}.sock"
        env = {
            **emulator_env(emulator_dir, socket_path=socket_path, config=config, base={}),
            **SERVICE_ENV,
            "IMAGE_SAVE_PATH": str(tmp_path / "captures"),
            **environment,
        }
        process = ServiceProcess(env, cwd=tmp_path)
        stack.callback(process.kill)
        port = process.wait_listening()
        control = SocketControl(socket_path) if emulated else None
        if control is not None:
            stack.callback(control.close)
        channel = grpc.aio.insecure_channel(f"127.0.0.1:{port}", options=channel_options())
        stack.push_async_callback(channel.close)
        return EmulatedService(
            process,
            control,
            channel,
            camera_pb2_grpc.CameraServiceStub(channel),
            health_pb2_grpc.HealthStub(channel),
        )

    async with stack:
        yield start


def frame_matches_pattern(pixels: np.ndarray, frame_number: int) -> bool:
    expected = sensor_pattern(0, 0, pixels.shape[1], pixels.shape[0], frame_number)
    return bool(np.array_equal(pixels.ravel()[STAMP_BYTES:], expected.ravel()[STAMP_BYTES:]))


async def rpc_error(call: Awaitable[object]) -> grpc.aio.AioRpcError:
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await call
    return caught.value


# ------------------------------------------------------------------------------------------- the API


async def test_every_rpc_reaches_the_camera_in_its_units(start_emulated: StartEmulated) -> None:
    service = await start_emulated()
    stub = service.stub
    assert await service.health_status() == health_pb2.HealthCheckResponse.SERVING
    assert "PixeLINK camera 700000001 (PL-EMU-5MP, firmware 1.0.0) initialized: 640x480 mono8" in service.process.log

    info = await stub.GetCameraInfo(pb.GetCameraInfoRequest(), timeout=CALL_TIMEOUT_S)
    assert (info.driver, info.model, info.serial_number) == (pb.CAMERA_DRIVER_PIXELINK, "PL-EMU-5MP", str(SERIAL))
    assert (info.sensor_width, info.sensor_height) == (WIDTH, HEIGHT)
    assert (info.min_exposure_ms, info.max_exposure_ms, info.min_gain_db, info.max_gain_db) == (0.01, 10000, 0, 24)
    assert list(info.supported_pixel_formats) == [
        pb.PIXEL_FORMAT_MONO8,
        pb.PIXEL_FORMAT_MONO16,
        pb.PIXEL_FORMAT_MONO12_PACKED,
    ]

    assert service.emulator_value(EXPOSURE) == pytest.approx(0.002)  # DEFAULT_EXPOSURE=2 (ms)
    updated = await stub.UpdateSettings(pb.UpdateSettingsRequest(exposure_ms=100, gain_db=6), timeout=CALL_TIMEOUT_S)
    assert (updated.exposure_ms, updated.gain_db, updated.connected) == (100, 6, True)
    assert service.emulator_value(EXPOSURE) == 0.1  # seconds at the SDK
    assert service.emulator_value(GAIN) == 6.0
    settings = await stub.GetSettings(pb.GetSettingsRequest(), timeout=CALL_TIMEOUT_S)
    assert (settings.exposure_ms, settings.gain_db, settings.width, settings.height) == (100, 6, WIDTH, HEIGHT)
    assert settings.pixel_format == pb.PIXEL_FORMAT_MONO8

    capture = await stub.Capture(
        pb.CaptureRequest(
            exposure_ms=UNSCALED_EXPOSURE_MS, gain_db=0, format=pb.IMAGE_FORMAT_PNG, include_image_data=True
        ),
        timeout=CALL_TIMEOUT_S,
    )
    assert (capture.exposure_ms, capture.gain_db, capture.width, capture.height) == (10, 0, WIDTH, HEIGHT)
    assert capture.frame_number == service.control.last_frame_number(SERIAL)
    assert service.emulator_value(EXPOSURE) == 0.01
    assert frame_matches_pattern(np.asarray(Image.open(io.BytesIO(capture.image_data))), capture.frame_number)

    numbers = []
    async for message in stub.Frames(pb.FramesRequest(encoding=pb.FRAME_ENCODING_RAW, max_frames=3)):
        pixels = np.frombuffer(message.data, np.uint8).reshape(message.height, message.width)
        assert message.exposure_ms == UNSCALED_EXPOSURE_MS and frame_matches_pattern(pixels, message.frame_number)
        numbers.append(message.frame_number)
    assert len(numbers) == 3 and numbers == sorted(set(numbers))


async def test_a_value_out_of_range_is_invalid_argument(start_emulated: StartEmulated) -> None:
    service = await start_emulated()
    error = await rpc_error(service.stub.UpdateSettings(pb.UpdateSettingsRequest(exposure_ms=20_000)))
    assert error.code() == grpc.StatusCode.INVALID_ARGUMENT and "between 0.01 and 10000" in error.details()
    # A value inside the limits the camera reported, refused by the SDK all the same (limits can be dynamic).
    service.control.fail_next("PxLSetFeature", API_OUT_OF_RANGE_ERROR)
    error = await rpc_error(service.stub.UpdateSettings(pb.UpdateSettingsRequest(exposure_ms=20)))
    assert error.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert "exposure_ms" in error.details() and "ApiOutOfRangeError" in error.details()
    assert service.emulator_value(EXPOSURE) == pytest.approx(0.002)  # unchanged


async def test_timeouts_are_retried_then_reported_as_deadline_exceeded(
    start_emulated: StartEmulated,
) -> None:
    service = await start_emulated()
    control = service.control
    control.reset_counts()
    control.fail_next("PxLGetNextFrame", API_CAMERA_TIMEOUT_ERROR, GRAB_ATTEMPTS - 1)
    capture = await service.stub.Capture(pb.CaptureRequest(), timeout=CALL_TIMEOUT_S)
    assert capture.frame_number > 0
    assert control.call_count("PxLGetNextFrame") == GRAB_ATTEMPTS  # retried, the last attempt succeeded

    control.reset_counts()
    control.fail_next("PxLGetNextFrame", API_CAMERA_TIMEOUT_ERROR, 10 * GRAB_ATTEMPTS)
    error = await rpc_error(service.stub.Capture(pb.CaptureRequest(), timeout=CALL_TIMEOUT_S))
    assert error.code() == grpc.StatusCode.DEADLINE_EXCEEDED and "ApiCameraTimeoutError" in error.details()
    assert control.call_count("PxLGetNextFrame") == GRAB_ATTEMPTS
    assert await service.health_status() == health_pb2.HealthCheckResponse.SERVING  # a timeout is no disconnect
    control.clear_faults()
    assert (await service.stub.Capture(pb.CaptureRequest(), timeout=CALL_TIMEOUT_S)).frame_number > 0


async def test_region_and_packed_format_change_over_grpc_while_frames_stream(start_emulated: StartEmulated) -> None:
    service = await start_emulated()
    info = await service.stub.GetCameraInfo(pb.GetCameraInfoRequest(), timeout=CALL_TIMEOUT_S)
    width_feature = next(feature for feature in info.features if feature.name == "roi.width")
    assert (width_feature.minimum, width_feature.maximum, width_feature.step) == (64, WIDTH, 8)  # found by trial
    assert not width_feature.settable_while_streaming
    stream = service.stub.Frames(pb.FramesRequest(encoding=pb.FRAME_ENCODING_RAW))
    first = await stream.read()
    assert (first.width, first.pixel_format) == (WIDTH, pb.PIXEL_FORMAT_MONO8)
    request = pb.UpdateSettingsRequest(
        settings=pb.CameraSettings(
            roi=pb.Region(offset_x=8, offset_y=16, width=320, height=240), pixel_format=pb.PIXEL_FORMAT_MONO12_PACKED
        ),
        update_mask=field_mask_pb2.FieldMask(paths=["roi", "pixel_format"]),
    )
    updated = await service.stub.UpdateSettings(request, timeout=CALL_TIMEOUT_S)
    assert (updated.settings.width, updated.settings.height, updated.settings.bit_depth) == (320, 240, 12)
    assert updated.settings.delivered_pixel_format == pb.PIXEL_FORMAT_MONO16
    assert [service.control.feature_value(SERIAL, ROI, param) for param in range(4)] == [8, 16, 320, 240]
    assert service.emulator_value(PIXEL_FORMAT) == SDK_MONO12_PACKED
    for _ in range(10):  # the stream goes on, with the new geometry once the camera restarted
        message = await stream.read()
        assert message is not grpc.aio.EOF
        if message.width == 320:
            assert (message.height, message.pixel_format, message.bit_depth) == (240, pb.PIXEL_FORMAT_MONO16, 12)
            assert len(message.data) == 320 * 240 * 2
            break
    else:
        raise AssertionError("no frame with the new region")
    stream.cancel()


async def test_a_setting_that_needs_a_stopped_stream_changes_while_frames_stream(
    start_emulated: StartEmulated,
) -> None:
    service = await start_emulated(config=f"{ONE_SMALL_CAMERA};nosws={EXPOSURE}")  # exposure needs a stopped stream
    stream = service.stub.Frames(pb.FramesRequest(encoding=pb.FRAME_ENCODING_RAW))
    first = await stream.read()
    assert first.exposure_ms == 2
    service.control.reset_counts()
    updated = await service.stub.UpdateSettings(pb.UpdateSettingsRequest(exposure_ms=5), timeout=CALL_TIMEOUT_S)
    assert updated.exposure_ms == 5
    assert service.control.call_count("PxLSetStreamState") == 2  # stopped and restarted around the change
    for _ in range(10):
        message = await stream.read()
        assert message is not grpc.aio.EOF and message.frame_number > first.frame_number
        if message.exposure_ms == 5:
            break
    else:
        raise AssertionError("no frame with the new exposure")
    stream.cancel()


# ------------------------------------------------------------------------------------------- disconnects


async def test_unplug_fails_calls_fast_and_replug_restores_the_requested_settings(
    start_emulated: StartEmulated,
) -> None:
    service = await start_emulated()
    stub, control = service.stub, service.control
    await stub.UpdateSettings(pb.UpdateSettingsRequest(exposure_ms=50, gain_db=3), timeout=CALL_TIMEOUT_S)
    capture = asyncio.ensure_future(stub.Capture(pb.CaptureRequest(exposure_ms=1500), timeout=CALL_TIMEOUT_S))
    while control.stream_state(SERIAL) != STREAM_STARTED:  # the capture's frame is now exposing
        await asyncio.sleep(0.01)
    await asyncio.sleep(0.1)
    unplugged = time.monotonic()
    control.unplug(SERIAL)
    error = await rpc_error(capture)
    assert error.code() == grpc.StatusCode.UNAVAILABLE
    assert time.monotonic() - unplugged < FAIL_FAST_S
    await service.wait_for_health(health_pb2.HealthCheckResponse.NOT_SERVING, timeout_s=FAIL_FAST_S)
    started = time.monotonic()
    error = await rpc_error(stub.Capture(pb.CaptureRequest(), timeout=CALL_TIMEOUT_S))
    assert error.code() == grpc.StatusCode.UNAVAILABLE and time.monotonic() - started < FAIL_FAST_S
    settings = await stub.GetSettings(pb.GetSettingsRequest(), timeout=CALL_TIMEOUT_S)
    assert (settings.connected, settings.exposure_ms, settings.gain_db) == (False, 1500, 3)

    control.replug(SERIAL)  # a power cycle: the camera comes back with its factory settings
    await service.wait_for_health(health_pb2.HealthCheckResponse.SERVING)
    assert (service.emulator_value(EXPOSURE), service.emulator_value(GAIN)) == (1.5, 3.0)  # re-applied
    settings = await stub.GetSettings(pb.GetSettingsRequest(), timeout=CALL_TIMEOUT_S)
    assert (settings.connected, settings.exposure_ms, settings.gain_db) == (True, 1500, 3)
    log = service.process.log
    for step in ("camera disconnected: PixeLINK camera 700000001 is gone", "PixeLINK camera 700000001 uninitialized",
                 "camera not available: PixeLINK camera 700000001 is not connected", "camera connected",
                 "applied the requested settings: exposure 1500 ms (off), gain 3 dB (off)"):  # fmt: skip
        assert step in log, step


async def test_an_unplug_ends_a_frames_stream_with_unavailable(start_emulated: StartEmulated) -> None:
    service = await start_emulated()
    stream = service.stub.Frames(pb.FramesRequest(encoding=pb.FRAME_ENCODING_RAW))
    assert (await stream.read()).frame_number > 0
    unplugged = time.monotonic()
    service.control.unplug(SERIAL)
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        while (await stream.read()) is not grpc.aio.EOF:
            pass
    assert caught.value.code() == grpc.StatusCode.UNAVAILABLE
    assert time.monotonic() - unplugged < FAIL_FAST_S


@pytest.mark.parametrize("before_shutdown", ["connected", "unplugged", "unplugged and replugged"])
async def test_the_camera_is_uninitialized_at_shutdown(
    start_emulated: StartEmulated, tmp_path: Path, before_shutdown: str
) -> None:
    site = tmp_path / "site"
    site.mkdir()
    (site / "sitecustomize.py").write_text(EXIT_REPORT)
    service = await start_emulated(PYTHONPATH=str(site))
    assert (await service.stub.Capture(pb.CaptureRequest(), timeout=CALL_TIMEOUT_S)).frame_number > 0
    if before_shutdown != "connected":
        service.control.unplug(SERIAL)
    if before_shutdown == "unplugged and replugged":
        service.control.replug(SERIAL)  # the service's handle is now stale
    assert service.process.stop(signal.SIGTERM) == 0
    report = EXIT_REPORT_LINE.search(service.process.log)
    assert report, service.process.log
    uninitialized, open_handles, stale_handles = (int(group) for group in report.groups())
    assert uninitialized >= 1 and (open_handles, stale_handles) == (0, 0)


async def test_many_unplug_replug_cycles_leak_no_handles_or_threads(
    start_emulated: StartEmulated,
) -> None:
    service = await start_emulated()
    stub, control = service.stub, service.control
    threads = psutil.Process(service.process.process.pid)

    async def cycle() -> None:
        control.unplug(SERIAL)
        # A call that reaches the camera notices the unplug at once (idle checks run once a second).
        error = await rpc_error(stub.Capture(pb.CaptureRequest(), timeout=CALL_TIMEOUT_S))
        assert error.code() == grpc.StatusCode.UNAVAILABLE
        # Health follows the camera thread through the event loop: wait until it has seen the unplug, or a
        # SERVING left over from before it would let the next capture race the reconnect.
        await service.wait_for_health(health_pb2.HealthCheckResponse.NOT_SERVING)
        control.replug(SERIAL)
        await service.wait_for_health(health_pb2.HealthCheckResponse.SERVING)

    await stub.Capture(pb.CaptureRequest(), timeout=CALL_TIMEOUT_S)
    await cycle()  # warm up: lazily started threads (encoders, gRPC) exist from here on
    baseline = threads.num_threads()
    for number in range(1, UNPLUG_CYCLES + 1):
        await cycle()
        if number % 10 == 0:
            assert (await stub.Capture(pb.CaptureRequest(), timeout=CALL_TIMEOUT_S)).frame_number > 0
    assert (control.open_handles(), control.stale_handles()) == (1, 0)
    assert threads.num_threads() <= baseline + THREAD_COUNT_TOLERANCE
    assert service.process.process.poll() is None


async def test_an_absent_serial_keeps_the_service_up_and_not_serving(
    start_emulated: StartEmulated,
) -> None:
    service = await start_emulated(CAMERA_SERIAL_NUMBER=str(ABSENT_SERIAL))
    assert await service.health_status() == health_pb2.HealthCheckResponse.NOT_SERVING
    error = await rpc_error(service.stub.GetSettings(pb.GetSettingsRequest(), timeout=CALL_TIMEOUT_S))
    assert error.code() == grpc.StatusCode.UNAVAILABLE
    expected = (
        f"camera not available: PixeLINK camera {ABSENT_SERIAL} is not connected (connected cameras: {SERIAL}); "
        "check CAMERA_SERIAL_NUMBER"
    )
    assert expected in service.process.log and "Traceback" not in service.process.log
    service.control.add_camera(ABSENT_SERIAL, width=WIDTH, height=HEIGHT)  # plugged in later: picked up
    await service.wait_for_health(health_pb2.HealthCheckResponse.SERVING)
    info = await service.stub.GetCameraInfo(pb.GetCameraInfoRequest(), timeout=CALL_TIMEOUT_S)
    assert info.serial_number == str(ABSENT_SERIAL)


# ------------------------------------------------------------------------------------------- no SDK


@pytest.mark.parametrize(
    ("case", "missing"),
    [
        ("unset", "PIXELINK_SDK_LIB is not set"),
        ("no library", "libPxLApi.so: cannot open shared object file"),
        ("no version file", "holds no single libPxLApi.so.<version> file"),
        ("no such folder", "version probe failed"),
    ],
)
def test_pixelink_without_an_sdk_stops_with_one_line(
    emulator_dir: Path, tmp_path: Path, case: str, missing: str
) -> None:
    empty = tmp_path / "empty"
    empty.mkdir()
    sdk_lib = {"unset": "", "no library": str(empty), "no version file": str(empty)}.get(case, str(tmp_path / "nope"))
    library_path = "" if case in ("unset", "no library") else str(emulator_dir)
    env = {
        "PATH": "/usr/bin:/bin",
        "CAMERA_BACKEND": "pixelink",
        "REST_ENABLED": "false",
        "GRPC_PORT": "0",
        "PIXELINK_SDK_LIB": sdk_lib,
        "LD_LIBRARY_PATH": library_path,
    }
    result = subprocess.run(
        [sys.executable, "-m", "camera_grpc", "--env-file", "/dev/null"],
        env=env,
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == EXIT_CONFIG, result.stderr
    lines = (result.stdout + result.stderr).splitlines()
    assert len(lines) == 1, lines
    assert lines[0].startswith("camera-grpc: ") and missing in lines[0]
    assert "scripts/build_emulator.sh" in lines[0]


async def test_auto_falls_back_to_the_simulated_camera_with_a_warning(
    start_emulated: StartEmulated, tmp_path: Path
) -> None:
    empty = tmp_path / "empty"
    empty.mkdir()
    service = await start_emulated(
        emulated=False, CAMERA_BACKEND="auto", PIXELINK_SDK_LIB=str(empty), LD_LIBRARY_PATH=""
    )
    log = service.process.log
    assert "WARNING camera_grpc.device: CAMERA_BACKEND=auto: PixeLINK SDK not available (PixeLINK SDK library" in log
    assert "camera backend: simulated" in log
    assert await service.health_status() == health_pb2.HealthCheckResponse.SERVING
