"""The PixeLINK driver through the unmodified pixelinkWrapper, on the SDK emulator loaded in this process.

The conformance suite (tests/test_driver_conformance.py) runs the shared assertions; these tests cover what
is specific to the PixeLINK driver: units at the SDK boundary, the camera's limits and rounding, pixel formats
checked against the emulator's documented test pattern (emulator/README.md), buffer reuse, the streaming rule,
grab retries and deadlines, disconnects and clean-up.
"""

from __future__ import annotations

import logging
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from camera_grpc.device.base import PixelFormat, Range
from camera_grpc.errors import (
    CameraDisconnectedError,
    CameraSdkError,
    CameraTimeoutError,
    CameraUnavailableError,
    InvalidSettingError,
)
from tests.support.pxlemu import STAMP_BYTES, EmulatorControl
from tests.support.pxlemu import sensor_pattern as pattern

SERIAL, OTHER_SERIAL = 700000001, 700000002
WIDTH, HEIGHT = 640, 480
ONE_SMALL_CAMERA = f"cameras={SERIAL}:{WIDTH}x{HEIGHT}"
TWO_SMALL_CAMERAS = f"cameras={SERIAL}:{WIDTH}x{HEIGHT},{OTHER_SERIAL}:{WIDTH}x{HEIGHT}"
# Feature ids (PxLApi.FeatureId)
EXPOSURE, GAIN, FRAME_RATE, PIXEL_FORMAT = 7, 8, 18, 22
SDK_BAYER16_RGGB, SDK_BAYER8_RGGB = 10, 7
SDK_MONO8, SDK_MONO16 = 0, 1
#: Exposure at which the emulator's pattern is unscaled (MONO8 pixel == pattern value), milliseconds.
UNSCALED_EXPOSURE_MS = 10.0
SENSOR_BITS = 12
#: An unplug must end a blocked grab within this (it is woken at once; generous fail-fast bound).
FAIL_FAST_S = 1.0


@pytest.fixture
def emulated(monkeypatch: pytest.MonkeyPatch, emulator: EmulatorControl, emulator_dir: Path) -> EmulatorControl:
    """The in-process emulator with one small camera (and PIXELINK_SDK_LIB set, as the driver requires)."""
    monkeypatch.setenv("PXLEMU_CONFIG", ONE_SMALL_CAMERA)
    monkeypatch.setenv("PIXELINK_SDK_LIB", str(emulator_dir))
    emulator.reset()
    return emulator


@pytest.fixture
def codes(pxl_api: Any) -> Any:
    """``PxLApi.ReturnCode`` of the wrapper."""
    return pxl_api.ReturnCode


def make_camera(serial_number: int | None = None) -> Any:
    from camera_grpc.device.pixelink import PixelinkCamera

    return PixelinkCamera(serial_number)


@pytest.fixture
def camera(emulated: EmulatorControl) -> Iterator[Any]:
    driver = make_camera()
    driver.open()
    try:
        yield driver
    finally:
        driver.close()


def open_in(emulated: EmulatorControl, sdk_pixel_format: int) -> Any:
    """A driver opened on a camera that was left in ``sdk_pixel_format`` (set with the vendor's tools)."""
    emulated.set_feature_value(SERIAL, PIXEL_FORMAT, 0, sdk_pixel_format)
    driver = make_camera()
    driver.open()
    return driver


def grab_one(camera: Any) -> Any:
    camera.start_streaming()
    return camera.grab()


# ------------------------------------------------------------------------------------------------- loading


def test_importing_the_service_does_not_load_the_sdk() -> None:
    code = (
        "import sys, camera_grpc, camera_grpc.device, camera_grpc.device.pixelink, camera_grpc.rpc.server; "
        "loaded = sorted(name for name in sys.modules if name.startswith('pixelinkWrapper')); "
        "print(loaded); sys.exit(1 if loaded else 0)"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stdout + result.stderr


# ---------------------------------------------------------------------------------------- units and limits


def test_exposure_goes_to_the_sdk_in_seconds_and_gain_in_decibels(camera: Any, emulated: EmulatorControl) -> None:
    assert camera.set_exposure_ms(100.0) == 100.0
    assert emulated.feature_value(SERIAL, EXPOSURE) == pytest.approx(0.1)
    assert camera.set_gain_db(6.0) == 6.0
    assert emulated.feature_value(SERIAL, GAIN) == pytest.approx(6.0)
    emulated.set_feature_value(SERIAL, EXPOSURE, 0, 0.25)  # changed behind the driver's back
    assert camera.get_exposure_ms() == 250.0


def test_the_value_the_camera_applied_is_read_back(camera: Any) -> None:
    # The emulator rounds exposure to 1 us and gain to 0.1 dB (ApiSuccessParametersChanged).
    assert camera.set_exposure_ms(2.0004) == 2.0
    assert camera.set_gain_db(6.04) == 6.0


def test_identity_and_limits_come_from_the_camera(camera: Any) -> None:
    info = camera.info()
    assert (info.model, info.serial_number, info.firmware_version) == ("PL-EMU-5MP", str(SERIAL), "1.0.0")
    assert (info.driver, info.camera_name) == ("pixelink", f"PxLEmu {SERIAL}")
    assert (info.sensor_width, info.sensor_height) == (WIDTH, HEIGHT)
    assert info.exposure_ms == Range(0.01, 10_000.0)  # 1e-5 s .. 10 s
    assert info.gain_db == Range(0.0, 24.0)
    # The emulated camera has MONO8, MONO16, BAYER8_RGGB and BAYER16_RGGB; the driver delivers the first three.
    assert info.pixel_formats == (PixelFormat.MONO8, PixelFormat.MONO16, PixelFormat.BAYER8_RGGB)


def test_a_value_the_sdk_refuses_is_an_invalid_setting_naming_the_range(
    camera: Any, emulated: EmulatorControl, codes: Any
) -> None:
    camera.set_exposure_ms(5.0)
    with pytest.raises(InvalidSettingError) as caught:
        camera.set_exposure_ms(20_000.0)  # out of range: refused by the emulator, not by a check in the driver
    assert (caught.value.field, caught.value.minimum, caught.value.maximum) == ("exposure_ms", 0.01, 10_000.0)
    emulated.fail_next("PxLSetFeature", codes.ApiOutOfRangeError)  # a value inside the range, refused anyway
    with pytest.raises(InvalidSettingError) as caught:
        camera.set_exposure_ms(20.0)
    assert "ApiOutOfRangeError" in caught.value.reason and caught.value.maximum == 10_000.0
    with pytest.raises(InvalidSettingError):
        camera.set_gain_db(float("nan"))
    assert camera.get_exposure_ms() == 5.0
    assert emulated.feature_value(SERIAL, EXPOSURE) == pytest.approx(0.005)


# ------------------------------------------------------------------------------------------ pixel formats


def test_mono8_frames_are_the_sensor_pattern_with_their_metadata(camera: Any) -> None:
    camera.set_exposure_ms(UNSCALED_EXPOSURE_MS)
    camera.set_gain_db(0.0)
    frame = grab_one(camera)
    assert (frame.pixel_format, frame.bit_depth, frame.pixels.dtype) == (PixelFormat.MONO8, 8, np.uint8)
    assert frame.pixels.shape == (HEIGHT, WIDTH)
    assert int.from_bytes(frame.pixels.tobytes()[:STAMP_BYTES], "little") == frame.frame_number > 0
    expected = pattern(0, 0, WIDTH, HEIGHT, frame.frame_number)
    assert np.array_equal(frame.pixels.ravel()[STAMP_BYTES:], expected.ravel()[STAMP_BYTES:])
    assert (frame.exposure_ms, frame.gain_db) == (UNSCALED_EXPOSURE_MS, 0.0)
    assert frame.captured_at.tzinfo is not None


def test_mono16_becomes_native_right_aligned_samples_of_the_sensor_depth(emulated: EmulatorControl) -> None:
    camera = open_in(emulated, SDK_MONO16)
    camera.set_exposure_ms(UNSCALED_EXPOSURE_MS)
    geometry = camera.geometry()
    assert (geometry.pixel_format, geometry.bit_depth) == (PixelFormat.MONO16, SENSOR_BITS)
    frame = grab_one(camera)
    assert frame.pixels.dtype == np.dtype(np.uint16) and frame.pixels.dtype.isnative
    assert frame.bit_depth == SENSOR_BITS and frame.pixels.shape == (HEIGHT, WIDTH)
    value12 = pattern(0, 0, WIDTH, HEIGHT, frame.frame_number) * 16  # 12-bit sensor value at unit scale
    skip = STAMP_BYTES // 2
    assert np.array_equal(frame.pixels.ravel()[skip:], value12.ravel()[skip:])
    assert int(frame.pixels.max()) < 1 << SENSOR_BITS
    camera.close()


def test_colour_cameras_deliver_the_raw_bayer_mosaic(emulated: EmulatorControl) -> None:
    camera = open_in(emulated, SDK_BAYER8_RGGB)
    camera.set_exposure_ms(UNSCALED_EXPOSURE_MS)
    frame = grab_one(camera)
    camera.close()
    assert (frame.pixel_format, frame.bit_depth, frame.pixels.shape) == (PixelFormat.BAYER8_RGGB, 8, (HEIGHT, WIDTH))
    g = pattern(0, 0, WIDTH, HEIGHT, frame.frame_number)
    expected = np.empty_like(g)
    expected[0::2, 0::2] = g[0::2, 0::2]  # R: full response
    expected[0::2, 1::2] = g[0::2, 1::2] >> 1  # G: half
    expected[1::2, 0::2] = g[1::2, 0::2] >> 1  # G: half
    expected[1::2, 1::2] = g[1::2, 1::2] >> 2  # B: quarter
    assert np.array_equal(frame.pixels.ravel()[STAMP_BYTES:], expected.ravel()[STAMP_BYTES:])


def test_a_camera_found_in_a_format_not_delivered_is_switched_to_the_closest(
    emulated: EmulatorControl, caplog: pytest.LogCaptureFixture
) -> None:
    emulated.set_feature_value(SERIAL, PIXEL_FORMAT, 0, SDK_BAYER16_RGGB)
    camera = make_camera()
    with caplog.at_level(logging.WARNING):
        camera.open()
    try:
        assert camera.geometry().pixel_format is PixelFormat.BAYER8_RGGB
        assert emulated.feature_value(SERIAL, PIXEL_FORMAT) == SDK_BAYER8_RGGB
        assert "pixel format BAYER16_RGGB" in caplog.text
    finally:
        camera.close()


@pytest.mark.parametrize("sdk_pixel_format", [SDK_MONO8, SDK_MONO16])
def test_frame_buffers_are_reused_once_released(emulated: EmulatorControl, sdk_pixel_format: int) -> None:
    camera = open_in(emulated, sdk_pixel_format)
    camera.set_exposure_ms(1.0)
    camera.start_streaming()
    first = camera.grab()
    memory = first.pixels.__array_interface__["data"][0]  # the pool keeps this memory: no other buffer gets it
    held = camera.grab()  # held: its memory is not lent again while this frame lives
    held_memory = held.pixels.__array_interface__["data"][0]
    del first  # released: the next frame may use its memory again
    for _ in range(5):
        frame = camera.grab()
        assert frame.pixels.__array_interface__["data"][0] == memory
        assert frame.frame_number > held.frame_number
        del frame
    assert held.pixels.__array_interface__["data"][0] == held_memory
    camera.close()


# --------------------------------------------------------------------------------------- streaming rule


def test_a_feature_without_settable_while_streaming_is_set_around_a_stream_stop(
    monkeypatch: pytest.MonkeyPatch, emulated: EmulatorControl
) -> None:
    monkeypatch.setenv("PXLEMU_CONFIG", f"{ONE_SMALL_CAMERA};nosws={EXPOSURE}")  # a camera like older models
    emulated.reset()
    camera = make_camera()
    camera.open()
    try:
        grab_one(camera)
        emulated.reset_counts()
        assert camera.set_gain_db(3.0) == 3.0  # settable while streaming: no stop
        assert emulated.call_count("PxLSetStreamState") == 0
        assert camera.set_exposure_ms(5.0) == 5.0
        assert emulated.call_count("PxLSetStreamState") == 2
        assert emulated.call_count("PxLSetFeature") == 2  # gain, exposure: the flags are honoured up front
        assert camera.is_streaming and camera.grab().exposure_ms == 5.0
    finally:
        camera.close()


def test_an_unexpected_not_permitted_while_streaming_is_retried_with_the_stream_stopped(
    camera: Any, emulated: EmulatorControl, codes: Any
) -> None:
    grab_one(camera)
    emulated.reset_counts()
    emulated.fail_next("PxLSetFeature", codes.ApiNotPermittedWhileStreaming)
    assert camera.set_gain_db(3.0) == 3.0
    assert emulated.call_count("PxLSetStreamState") == 2 and camera.is_streaming
    assert camera.grab().gain_db == 3.0


# ----------------------------------------------------------------------------------------- grab retries


def test_grab_timeouts_are_retried_then_reported(camera: Any, emulated: EmulatorControl, codes: Any) -> None:
    from camera_grpc.device.pixelink import GRAB_ATTEMPTS

    camera.set_exposure_ms(1.0)
    camera.start_streaming()
    emulated.reset_counts()
    emulated.fail_next("PxLGetNextFrame", codes.ApiCameraTimeoutError, GRAB_ATTEMPTS - 1)
    assert camera.grab().pixels.size == WIDTH * HEIGHT
    assert emulated.call_count("PxLGetNextFrame") == GRAB_ATTEMPTS
    emulated.reset_counts()
    emulated.fail_next("PxLGetNextFrame", codes.ApiCameraTimeoutError, 10 * GRAB_ATTEMPTS)
    with pytest.raises(CameraTimeoutError, match="ApiCameraTimeoutError"):
        camera.grab()
    assert emulated.call_count("PxLGetNextFrame") == GRAB_ATTEMPTS
    emulated.clear_faults()
    assert camera.grab().pixels.size == WIDTH * HEIGHT


def test_a_timeout_from_a_camera_that_is_gone_is_a_disconnect(
    camera: Any, emulated: EmulatorControl, codes: Any
) -> None:
    grab_one(camera)
    emulated.fail_next("PxLGetNextFrame", codes.ApiCameraTimeoutError, 10)
    emulated.unplug(SERIAL)  # a pulled camera may first look like a timeout: the driver checks after each one
    emulated.reset_counts()
    with pytest.raises(CameraDisconnectedError):
        camera.grab()
    assert emulated.call_count("PxLGetNextFrame") == 1


@pytest.mark.parametrize(("exposure_ms", "attempts"), [(2.0, 3), (500.0, 4)])
def test_the_grab_deadline_follows_exposure_and_frame_rate(
    camera: Any, emulated: EmulatorControl, codes: Any, exposure_ms: float, attempts: int
) -> None:
    """Each timed-out attempt takes 0.4 s here. Deadline = 1 s + 3 frame periods (30 fps or the exposure):
    2 ms -> 1.1 s, so the third attempt (ending at 1.2 s) is the last; 500 ms -> 2.5 s, all 4 attempts."""
    from camera_grpc.device.pixelink import GRAB_ATTEMPTS

    assert emulated.feature_value(SERIAL, FRAME_RATE) == 30.0
    camera.set_exposure_ms(exposure_ms)
    camera.start_streaming()
    emulated.set_latency("PxLGetNextFrame", 400_000)
    emulated.fail_next("PxLGetNextFrame", codes.ApiCameraTimeoutError, 10 * GRAB_ATTEMPTS)
    emulated.reset_counts()
    with pytest.raises(CameraTimeoutError):
        camera.grab()
    assert emulated.call_count("PxLGetNextFrame") == attempts


def test_success_codes_with_a_remark_are_successes(camera: Any, emulated: EmulatorControl, codes: Any) -> None:
    emulated.fail_next("PxLGetNextFrame", codes.ApiSuccessWithFrameLoss)
    assert grab_one(camera).pixels.shape == (HEIGHT, WIDTH)
    emulated.fail_next("PxLSetStreamState", codes.ApiSuccessAlreadyRunning)
    camera.stop_streaming()
    camera.start_streaming()
    assert camera.grab().frame_number > 0


def test_a_stream_stopped_under_the_driver_is_reported_and_restartable(
    camera: Any, emulated: EmulatorControl, codes: Any
) -> None:
    grab_one(camera)
    emulated.fail_next("PxLGetNextFrame", codes.ApiStreamStopped)
    with pytest.raises(CameraSdkError, match="ApiStreamStopped"):
        camera.grab()
    assert not camera.is_streaming
    assert grab_one(camera).frame_number > 0


# ------------------------------------------------------------------------------- opening and disconnects


def test_a_serial_that_is_not_connected_is_a_clear_unavailable_error(emulated: EmulatorControl) -> None:
    camera = make_camera(123456789)
    with pytest.raises(CameraUnavailableError) as caught:
        camera.open()
    assert str(caught.value) == (
        f"PixeLINK camera 123456789 is not connected (connected cameras: {SERIAL}); check CAMERA_SERIAL_NUMBER"
    )
    assert not camera.is_open and emulated.open_handles() == 0


def test_no_camera_and_a_camera_in_use_are_unavailable(camera: Any, emulated: EmulatorControl) -> None:
    with pytest.raises(CameraUnavailableError, match=f"PixeLINK camera {SERIAL} is in use"):
        make_camera(SERIAL).open()
    camera.close()
    emulated.remove_camera(SERIAL)
    with pytest.raises(CameraUnavailableError, match="no PixeLINK camera found"):
        make_camera().open()


def test_reconnects_go_back_to_the_camera_first_opened(
    monkeypatch: pytest.MonkeyPatch, emulated: EmulatorControl
) -> None:
    monkeypatch.setenv("PXLEMU_CONFIG", TWO_SMALL_CAMERAS)
    emulated.reset()
    camera = make_camera()  # CAMERA_SERIAL_NUMBER empty: the first camera
    camera.open()
    assert camera.info().serial_number == str(SERIAL)
    emulated.unplug(SERIAL)
    camera.close()
    with pytest.raises(CameraUnavailableError, match=f"camera {SERIAL} is not connected.*{OTHER_SERIAL}"):
        camera.open()  # not the other camera
    emulated.replug(SERIAL)
    camera.open()
    try:
        assert camera.info().serial_number == str(SERIAL)
    finally:
        camera.close()


def test_an_unplug_wakes_a_blocked_grab_at_once(camera: Any, emulated: EmulatorControl) -> None:
    camera.set_exposure_ms(3_000.0)
    camera.start_streaming()
    outcome: list[BaseException] = []

    def grab() -> None:
        try:
            camera.grab()
        except BaseException as exc:
            outcome.append(exc)

    grabber = threading.Thread(target=grab)
    grabber.start()
    time.sleep(0.3)  # the grab is now waiting for its 3 s exposure
    unplugged = time.monotonic()
    emulated.unplug(SERIAL)
    grabber.join(FAIL_FAST_S)
    assert not grabber.is_alive(), "the grab still hangs after the unplug"
    assert time.monotonic() - unplugged < FAIL_FAST_S
    assert len(outcome) == 1 and isinstance(outcome[0], CameraDisconnectedError)


def test_calls_after_an_unplug_raise_disconnected(camera: Any, emulated: EmulatorControl) -> None:
    camera.check_connection()
    emulated.unplug(SERIAL)
    for call in (camera.check_connection, camera.info, lambda: camera.set_gain_db(1.0), camera.start_streaming):
        with pytest.raises(CameraDisconnectedError, match="ApiNoCameraError"):
            call()


@pytest.mark.parametrize("replug_first", [False, True])
def test_close_always_uninitializes(camera: Any, emulated: EmulatorControl, replug_first: bool) -> None:
    grab_one(camera)
    emulated.unplug(SERIAL)
    if replug_first:
        emulated.replug(SERIAL)  # the old handle is now stale
    emulated.reset_counts()
    camera.close()
    camera.close()
    assert emulated.call_count("PxLUninitialize") == 1
    assert (emulated.open_handles(), emulated.stale_handles()) == (0, 0)
