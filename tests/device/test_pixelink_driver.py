"""The PixeLINK driver through the unmodified pixelinkWrapper, on the SDK emulator loaded in this process.

The conformance suite (tests/device/test_driver_conformance.py) runs the shared assertions, and
tests/device/test_settings_property.py random setting combinations; these tests cover what is specific to the
PixeLINK driver: units at the SDK boundary, the camera's limits and rounding, capabilities as the camera reports
them and as trials find them (formats, pixel addressing, ROI steps), every setting read and written with the
vendor's idioms, refusals naming the field, rollback, pixel formats checked against the emulator's documented test
pattern (emulator/README.md; MONO12_PACKED and BAYER16 pixel-exact), buffer reuse, the streaming rule, settings
channels, grab retries and deadlines, disconnects and clean-up.
"""

from __future__ import annotations

import logging
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from camera_grpc.device.base import NoTriggerYet, PixelFormat, Range
from camera_grpc.device.events import CameraEventType
from camera_grpc.device.settings import (
    AddressingMode,
    AutoMode,
    CameraSettings,
    FeatureInfo,
    FeatureUnsupportedError,
    Flip,
    FrameRate,
    FrameRateMode,
    Gpio,
    GpioMode,
    ImageGeometry,
    PixelAddressing,
    Region,
    SettingsReading,
    Trigger,
    TriggerEdge,
    TriggerMode,
    TriggerSource,
    WhiteBalance,
    validate,
)
from camera_grpc.errors import (
    CameraDisconnectedError,
    CameraSdkError,
    CameraTimeoutError,
    CameraUnavailableError,
    InvalidArgumentError,
    InvalidSettingError,
)
from tests.support.pxlemu import STAMP_BYTES, TRIGGER_ACCEPTED, EmulatorControl
from tests.support.pxlemu import sensor_pattern as pattern
from tests.support.waiting import eventually

SERIAL, OTHER_SERIAL = 700000001, 700000002
WIDTH, HEIGHT = 640, 480
ONE_SMALL_CAMERA = f"cameras={SERIAL}:{WIDTH}x{HEIGHT}"
TWO_SMALL_CAMERAS = f"cameras={SERIAL}:{WIDTH}x{HEIGHT},{OTHER_SERIAL}:{WIDTH}x{HEIGHT}"
# Feature ids (PxLApi.FeatureId)
BRIGHTNESS, EXPOSURE, GAIN, FRAME_RATE, ROI, PIXEL_ADDRESSING, PIXEL_FORMAT = 0, 7, 8, 18, 19, 21, 22
SDK_BAYER16_RGGB, SDK_BAYER8_RGGB, SDK_BAYER12_RGGB_PACKED = 10, 7, 15
SDK_MONO8, SDK_MONO16, SDK_MONO12_PACKED = 0, 1, 13
ONE_SMALL_COLOUR_CAMERA = f"cameras={SERIAL}@colour:{WIDTH}x{HEIGHT}"
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
def colour_emulated(monkeypatch: pytest.MonkeyPatch, emulated: EmulatorControl) -> EmulatorControl:
    """The emulator with one small colour (Bayer RGGB) camera."""
    monkeypatch.setenv("PXLEMU_CONFIG", ONE_SMALL_COLOUR_CAMERA)
    emulated.reset()
    return emulated


@pytest.fixture
def colour_camera(colour_emulated: EmulatorControl) -> Iterator[Any]:
    driver = make_camera()
    driver.open()
    try:
        yield driver
    finally:
        driver.close()


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
    # The emulated mono camera has MONO8, MONO16 and MONO12_PACKED (found by trial: the SDK lists no formats).
    assert info.pixel_formats == (PixelFormat.MONO8, PixelFormat.MONO16, PixelFormat.MONO12_PACKED)
    assert info.settings_channels == 1  # PxLApi.Settings: factory (0) and one user channel


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


def bayer_rggb(g: np.ndarray) -> np.ndarray:
    """The emulator's RGGB mosaic of pattern values ``g`` (any scale): R full, G half, B a quarter (default cast)."""
    expected = np.empty_like(g)
    expected[0::2, 0::2] = g[0::2, 0::2]  # R: full response
    expected[0::2, 1::2] = g[0::2, 1::2] >> 1  # G: half
    expected[1::2, 0::2] = g[1::2, 0::2] >> 1  # G: half
    expected[1::2, 1::2] = g[1::2, 1::2] >> 2  # B: quarter
    return expected


def test_colour_cameras_deliver_the_raw_bayer_mosaic(colour_camera: Any) -> None:
    colour_camera.set_exposure_ms(UNSCALED_EXPOSURE_MS)
    frame = grab_one(colour_camera)
    assert (frame.pixel_format, frame.bit_depth, frame.pixels.shape) == (PixelFormat.BAYER8_RGGB, 8, (HEIGHT, WIDTH))
    expected = bayer_rggb(pattern(0, 0, WIDTH, HEIGHT, frame.frame_number))
    assert np.array_equal(frame.pixels.ravel()[STAMP_BYTES:], expected.ravel()[STAMP_BYTES:])


def test_a_camera_found_in_a_format_not_delivered_is_switched_to_the_closest(
    colour_emulated: EmulatorControl, caplog: pytest.LogCaptureFixture
) -> None:
    colour_emulated.set_feature_value(SERIAL, PIXEL_FORMAT, 0, SDK_BAYER12_RGGB_PACKED)
    camera = make_camera()
    with caplog.at_level(logging.WARNING):
        camera.open()
    try:
        assert camera.geometry().pixel_format is PixelFormat.BAYER16_RGGB
        assert colour_emulated.feature_value(SERIAL, PIXEL_FORMAT) == SDK_BAYER16_RGGB
        assert "pixel format BAYER12_RGGB_PACKED" in caplog.text
    finally:
        camera.close()


@pytest.mark.parametrize("sdk_pixel_format", [SDK_MONO16, SDK_MONO12_PACKED])
def test_formats_the_driver_delivers_are_kept_at_open(emulated: EmulatorControl, sdk_pixel_format: int) -> None:
    camera = open_in(emulated, sdk_pixel_format)
    try:
        assert emulated.feature_value(SERIAL, PIXEL_FORMAT) == sdk_pixel_format  # no silent fallback
        assert camera.geometry().pixel_format is PixelFormat.MONO16
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


# ------------------------------------------------------------------------------------ settings (issue 12)

SETTABLE_WHILE_STREAMING = {
    "exposure_ms",
    "exposure_auto",
    "exposure_auto_limits_ms",
    "gain_db",
    "gain_auto",
    "black_level_pct",
    "gamma",
    # GPIO is settable while streaming (the emulator's flags); TRIGGER is not (FEATURES.md 11.2)
    "gpio.line",
    "gpio.mode",
    "gpio.active_high",
    "gpio.delay_ms",
    "gpio.duration_ms",
    "gpio.pulse_count",
    "gpio.interval_ms",
}
#: Frames to grab at most while an auto adjustment runs (the emulator's ONEPUSH takes a few frames).
AUTO_FRAMES = 40
FACTORY_EXPOSURE_MS = 10.0
#: PxLApi.FeatureFlags.OFF, and FeatureId.GAMMA (the vendor's tools can switch gamma off).
FLAG_OFF, GAMMA = 16, 6


def apply(camera: Any, **changes: Any) -> SettingsReading:
    """Change top-level settings the way the service does: merged with the current ones, validated, applied."""
    current = camera.read_settings().settings
    target = replace(current, **changes)
    info = camera.info()
    validate(target, tuple(changes), info.features, (info.sensor_width, info.sensor_height))
    return camera.apply_settings(target, tuple(changes))


def grab_until(camera: Any, done: Any) -> SettingsReading:
    """Grab frames (driving the camera's auto adjustments) until ``done(reading)``; the last reading."""
    for _ in range(AUTO_FRAMES):
        camera.grab()
        reading = camera.read_settings()
        if done(reading):
            return reading
    pytest.fail(f"not done after {AUTO_FRAMES} frames: {camera.read_settings()}")


def test_capabilities_are_what_the_camera_reports_and_what_trials_found(camera: Any) -> None:
    features = camera.info().features
    assert features["exposure_ms"] == FeatureInfo("exposure_ms", minimum=0.01, maximum=10_000.0)
    assert (features["roi.width"].minimum, features["roi.width"].maximum, features["roi.width"].step) == (64, WIDTH, 8)
    assert (features["roi.offset_x"].maximum, features["roi.offset_x"].step) == (WIDTH - 64, 8)
    assert features["pixel_addressing.mode"].choices == ("decimate", "average", "bin")
    assert features["pixel_addressing.horizontal"].values == (1, 2, 3, 4, 6, 8)
    assert features["pixel_format"].choices == ("mono8", "mono16", "mono12_packed")
    assert features["frame_rate.mode"].choices == ("free", "fixed")
    assert features["exposure_auto"].choices == ("off", "continuous", "once")
    assert features["exposure_auto_limits_ms"].maximum == 10_000.0
    assert not features["white_balance.mode"].supported and not features["saturation_pct"].supported
    assert features["flip.horizontal"].supported and features["gamma"].supported
    streaming = {name for name, info in features.items() if info.supported and info.settable_while_streaming}
    assert streaming == SETTABLE_WHILE_STREAMING  # from each feature's SETTABLE_WHILE_STREAMING flag


def test_the_frame_rate_limit_follows_the_region(camera: Any) -> None:
    full = camera.info().features["frame_rate.fps"].maximum
    apply(camera, roi=Region(0, 0, 128, 64))
    assert camera.info().features["frame_rate.fps"].maximum > full  # less readout: re-read, not cached


def test_roi_steps_come_from_trials_on_each_camera(colour_camera: Any) -> None:
    features = colour_camera.info().features
    steps = [features[name].step for name in ("roi.offset_x", "roi.offset_y", "roi.width", "roi.height")]
    assert steps == [32, 8, 32, 8]  # the colour profile's granularity, nothing hard-coded
    assert features["pixel_format"].choices == ("bayer8_rggb", "bayer16_rggb")
    assert features["white_balance.mode"].choices == ("off", "once")
    assert features["saturation_pct"].maximum == 200.0


def test_trials_at_open_leave_the_camera_as_it_was(emulated: EmulatorControl) -> None:
    emulated.set_feature_value(SERIAL, PIXEL_FORMAT, 0, SDK_MONO16)
    before = [emulated.feature_value(SERIAL, ROI, param) for param in range(4)]
    camera = make_camera()
    camera.open()
    try:
        assert [emulated.feature_value(SERIAL, ROI, param) for param in range(4)] == before
        assert emulated.feature_value(SERIAL, PIXEL_FORMAT) == SDK_MONO16
        assert camera.read_settings().settings.pixel_addressing == PixelAddressing()
        emulated.reset_counts()
    finally:
        camera.close()
    camera.open()  # the same camera again: its trials are cached
    try:
        assert emulated.call_count("PxLSetFeature") == 0
    finally:
        camera.close()


def test_read_settings_reports_every_setting(camera: Any) -> None:
    reading = camera.read_settings()
    assert reading.settings == CameraSettings(
        exposure_ms=FACTORY_EXPOSURE_MS,
        gain_db=0.0,
        roi=Region(0, 0, WIDTH, HEIGHT),
        pixel_addressing=PixelAddressing(),
        pixel_format=PixelFormat.MONO8,
        frame_rate=FrameRate(FrameRateMode.FIXED, 30.0),
        exposure_auto=AutoMode.OFF,
        exposure_auto_limits_ms=Range(0.1, 1000.0),
        gain_auto=AutoMode.OFF,
        white_balance=None,  # a mono camera
        black_level_pct=0.0,
        gamma=1.0,
        flip=Flip(),
        saturation_pct=None,
        trigger=Trigger(),  # TRIGGER OFF: free-running
        gpio=(Gpio(1), Gpio(2)),  # both lines off
    )
    assert reading.geometry == ImageGeometry(WIDTH, HEIGHT, PixelFormat.MONO8, 8)
    assert reading.actual_frame_rate_fps == pytest.approx(30.0)


def test_region_of_interest(camera: Any, emulated: EmulatorControl) -> None:
    reading = apply(camera, roi=Region(16, 8, 320, 240), exposure_ms=UNSCALED_EXPOSURE_MS)
    assert reading.settings.roi == Region(16, 8, 320, 240)
    assert reading.geometry == ImageGeometry(320, 240, PixelFormat.MONO8, 8)
    assert [emulated.feature_value(SERIAL, ROI, param) for param in range(4)] == [16, 8, 320, 240]
    frame = grab_one(camera)
    expected = pattern(16, 8, 320, 240, frame.frame_number)
    assert np.array_equal(frame.pixels.ravel()[STAMP_BYTES:], expected.ravel()[STAMP_BYTES:])


@pytest.mark.parametrize(
    ("roi", "field", "message"),
    [
        (Region(0, 0, 321, 240), "roi.width", "multiple of the step 8"),
        (Region(4, 0, 320, 240), "roi.offset_x", "multiple of the step 8"),
        (Region(0, 0, 32, 240), "roi.width", "between 64 and 640"),
        (Region(400, 0, 320, 240), "roi.width", "exceeds the sensor's 640 pixels"),
    ],
)
def test_regions_the_camera_cannot_take_are_refused_naming_the_field(
    camera: Any, emulated: EmulatorControl, roi: Region, field: str, message: str
) -> None:
    emulated.reset_counts()
    with pytest.raises(InvalidSettingError, match=message) as caught:
        camera.write_setting("roi", roi)  # straight to the driver: its own checks, not validate()'s
    assert caught.value.field == field
    assert emulated.call_count("PxLSetFeature") == 0
    assert camera.read_settings().settings.roi == Region(0, 0, WIDTH, HEIGHT)


def test_pixel_addressing_modes_and_factors(camera: Any, emulated: EmulatorControl) -> None:
    reading = apply(camera, pixel_addressing=PixelAddressing(AddressingMode.BIN, 2, 2))
    assert reading.settings.pixel_addressing == PixelAddressing(AddressingMode.BIN, 2, 2)
    assert reading.geometry.width == WIDTH // 2 and reading.geometry.height == HEIGHT // 2
    assert [emulated.feature_value(SERIAL, PIXEL_ADDRESSING, p) for p in range(4)] == [2, 2, 2, 2]  # VALUE = X
    reading = apply(camera, pixel_addressing=PixelAddressing(AddressingMode.DECIMATE, 4, 1))  # asymmetric
    assert (reading.geometry.width, reading.geometry.height) == (WIDTH // 4, HEIGHT)
    frame = grab_one(camera)
    assert frame.pixels.shape == (HEIGHT, WIDTH // 4)
    with pytest.raises(InvalidSettingError, match="one of 1, 2, 3, 4, 6, 8") as caught:
        camera.write_setting("pixel_addressing", PixelAddressing(AddressingMode.DECIMATE, 1, 5))
    assert caught.value.field == "pixel_addressing.vertical"
    with pytest.raises(InvalidSettingError, match="one of decimate, average, bin") as caught:
        camera.write_setting("pixel_addressing", PixelAddressing(AddressingMode.RESAMPLE, 2, 2))
    assert caught.value.field == "pixel_addressing.mode"
    assert camera.read_settings().settings.pixel_addressing == PixelAddressing(AddressingMode.DECIMATE, 4, 1)


def test_frame_rate_fixed_and_free(camera: Any) -> None:
    camera.set_exposure_ms(1.0)
    reading = apply(camera, frame_rate=FrameRate(FrameRateMode.FIXED, 50.0))
    assert reading.settings.frame_rate == FrameRate(FrameRateMode.FIXED, 50.0)
    assert reading.actual_frame_rate_fps == pytest.approx(50.0)
    reading = apply(camera, frame_rate=FrameRate(FrameRateMode.FREE, 50.0))
    assert reading.settings.frame_rate.mode is FrameRateMode.FREE
    assert reading.actual_frame_rate_fps > 100.0  # as fast as 1 ms exposure + readout allow (ACTUAL_FRAME_RATE)
    maximum = camera.info().features["frame_rate.fps"].maximum
    with pytest.raises(InvalidSettingError) as caught:
        camera.write_setting("frame_rate", FrameRate(FrameRateMode.FIXED, maximum * 2))  # refused by the camera
    assert (caught.value.field, caught.value.maximum) == ("frame_rate.fps", maximum)
    assert camera.read_settings().settings.frame_rate.mode is FrameRateMode.FREE


def test_pixel_formats_are_set_and_delivered(camera: Any) -> None:
    reading = apply(camera, pixel_format=PixelFormat.MONO12_PACKED)
    assert reading.settings.pixel_format is PixelFormat.MONO12_PACKED  # the camera's format ...
    assert reading.geometry == ImageGeometry(WIDTH, HEIGHT, PixelFormat.MONO16, SENSOR_BITS)  # ... as delivered
    with pytest.raises(InvalidSettingError, match="mono8, mono16, mono12_packed") as caught:
        camera.write_setting("pixel_format", PixelFormat.BAYER8_RGGB)  # a mono camera
    assert caught.value.field == "pixel_format"


#: An exposure at which 12-bit sensor values use their low 4 bits too (at 10 ms they are multiples of 16).
ODD_EXPOSURE_MS = 10.3
#: Pixels of a MONO12_PACKED frame whose bytes hold the frame-number stamp.
PACKED_STAMP_PIXELS = STAMP_BYTES * 2 // 3 + 1


def sensor_levels(camera: Any, exposure_ms: float) -> np.ndarray:
    """The 12-bit sensor value of each pattern value at ``exposure_ms``, read from a MONO16 frame."""
    apply(camera, pixel_format=PixelFormat.MONO16, exposure_ms=exposure_ms)
    frame = grab_one(camera)
    camera.stop_streaming()
    skip = STAMP_BYTES // 2
    levels = pattern(0, 0, frame.width, frame.height, frame.frame_number).ravel()[skip:]
    values = frame.pixels.ravel()[skip:]
    lut = np.zeros(256, np.uint16)
    lut[levels] = values
    assert np.array_equal(lut[levels], values)  # one sensor value per pattern value
    assert (lut & 0xF).any(), "the low bits must be exercised"
    return lut


def test_mono12_packed_is_unpacked_pixel_exact(camera: Any) -> None:
    lut = sensor_levels(camera, ODD_EXPOSURE_MS)
    apply(camera, pixel_format=PixelFormat.MONO12_PACKED)
    frame = grab_one(camera)
    assert (frame.pixel_format, frame.bit_depth, frame.pixels.dtype) == (PixelFormat.MONO16, SENSOR_BITS, np.uint16)
    expected = lut[pattern(0, 0, WIDTH, HEIGHT, frame.frame_number)]
    skip = PACKED_STAMP_PIXELS
    assert np.array_equal(frame.pixels.ravel()[skip:], expected.ravel()[skip:])


def test_mono12_packed_with_an_odd_pixel_count(camera: Any) -> None:
    lut = sensor_levels(camera, ODD_EXPOSURE_MS)
    # 72x72 sensor pixels decimated by 8: 9x9 = 81 pixels, the last one alone in its 3-byte group.
    factor, size = 8, 9
    apply(
        camera,
        pixel_format=PixelFormat.MONO12_PACKED,
        roi=Region(0, 0, factor * size, factor * size),
        pixel_addressing=PixelAddressing(AddressingMode.DECIMATE, factor, factor),
    )
    frame = grab_one(camera)
    y, x = np.mgrid[0:size, 0:size]
    expected = lut[(x * factor + y * factor + frame.frame_number) & 0xFF]
    assert frame.pixels.shape == (size, size)
    assert np.array_equal(frame.pixels.ravel()[PACKED_STAMP_PIXELS:], expected.ravel()[PACKED_STAMP_PIXELS:])


def test_mono12_packed_frames_reuse_their_buffers(camera: Any) -> None:
    apply(camera, pixel_format=PixelFormat.MONO12_PACKED, exposure_ms=1.0)
    camera.start_streaming()
    memory = camera.grab().pixels.__array_interface__["data"][0]  # released at once
    for _ in range(3):
        assert camera.grab().pixels.__array_interface__["data"][0] == memory


def test_bayer16_is_delivered_right_aligned(colour_camera: Any) -> None:
    reading = apply(colour_camera, pixel_format=PixelFormat.BAYER16_RGGB, exposure_ms=UNSCALED_EXPOSURE_MS)
    assert reading.geometry == ImageGeometry(WIDTH, HEIGHT, PixelFormat.BAYER16_RGGB, SENSOR_BITS)
    frame = grab_one(colour_camera)
    assert (frame.pixel_format, frame.bit_depth, frame.pixels.dtype) == (PixelFormat.BAYER16_RGGB, 12, np.uint16)
    expected = bayer_rggb(pattern(0, 0, WIDTH, HEIGHT, frame.frame_number) * 16)
    skip = STAMP_BYTES // 2
    assert np.array_equal(frame.pixels.ravel()[skip:], expected.ravel()[skip:])


def test_flip_mirrors_the_frames_and_shifts_the_bayer_phase(colour_camera: Any) -> None:
    reading = apply(colour_camera, flip=Flip(horizontal=True), exposure_ms=UNSCALED_EXPOSURE_MS)
    assert reading.settings.flip == Flip(horizontal=True)
    assert reading.geometry.pixel_format is PixelFormat.BAYER8_GRBG  # the row now starts at an odd column
    frame = grab_one(colour_camera)
    assert frame.pixel_format is PixelFormat.BAYER8_GRBG
    expected = np.fliplr(bayer_rggb(pattern(0, 0, WIDTH, HEIGHT, frame.frame_number)))
    assert np.array_equal(frame.pixels.ravel()[STAMP_BYTES:], expected.ravel()[STAMP_BYTES:])


def test_vertical_flip_of_a_mono_camera(camera: Any) -> None:
    apply(camera, flip=Flip(vertical=True), exposure_ms=UNSCALED_EXPOSURE_MS)
    frame = grab_one(camera)
    expected = np.flipud(pattern(0, 0, WIDTH, HEIGHT, frame.frame_number))
    assert frame.pixel_format is PixelFormat.MONO8
    assert np.array_equal(frame.pixels.ravel()[STAMP_BYTES:], expected.ravel()[STAMP_BYTES:])


def test_tone_settings(camera: Any, emulated: EmulatorControl) -> None:
    reading = apply(camera, black_level_pct=10.0, gamma=2.0, gain_db=6.0)
    assert (reading.settings.black_level_pct, reading.settings.gamma, reading.settings.gain_db) == (10.0, 2.0, 6.0)
    assert emulated.feature_value(SERIAL, BRIGHTNESS) == 10.0
    with pytest.raises(InvalidSettingError) as caught:
        camera.write_setting("gamma", 9.0)  # refused by the camera: out of its range
    assert (caught.value.field, caught.value.minimum, caught.value.maximum) == ("gamma", 0.1, 4.0)


def test_gamma_switched_off_reads_as_linear(camera: Any) -> None:
    apply(camera, gamma=2.0)
    camera._api.setFeature(camera._camera.handle, GAMMA, FLAG_OFF, [2.0])  # as the vendor's GUI "disable" does
    assert camera.read_settings().settings.gamma == 1.0
    assert apply(camera, gamma=1.5).settings.gamma == 1.5  # a value switches it on again


def test_features_a_camera_lacks_are_refused_unless_neutral(camera: Any) -> None:
    with pytest.raises(FeatureUnsupportedError, match="saturation_pct"):
        camera.write_setting("saturation_pct", 120.0)
    with pytest.raises(FeatureUnsupportedError, match="white_balance"):
        camera.write_setting("white_balance", WhiteBalance())
    camera.write_setting("saturation_pct", None)  # nothing asked for: nothing to do
    camera.write_setting("white_balance", None)


def test_auto_exposure_once_ends_and_is_observed(camera: Any, emulated: EmulatorControl) -> None:
    emulated.set_scene(SERIAL, 2.0)  # twice as bright: the camera settles at 5 ms
    camera.set_exposure_ms(1.0)
    camera.start_streaming()
    reading = apply(camera, exposure_auto=AutoMode.ONCE)
    assert reading.settings.exposure_auto is AutoMode.ONCE
    reading = grab_until(camera, lambda r: r.settings.exposure_auto is AutoMode.OFF)
    assert reading.settings.exposure_ms == pytest.approx(5.0)


def test_continuous_auto_exposure_and_gain_and_switching_them_off(camera: Any, emulated: EmulatorControl) -> None:
    emulated.set_scene(SERIAL, 2.0)
    camera.start_streaming()
    reading = apply(
        camera,
        exposure_auto=AutoMode.CONTINUOUS,
        exposure_auto_limits_ms=Range(0.5, 3.0),
        gain_auto=AutoMode.CONTINUOUS,
    )
    assert (reading.settings.exposure_auto, reading.settings.gain_auto) == (AutoMode.CONTINUOUS, AutoMode.CONTINUOUS)
    assert reading.settings.exposure_auto_limits_ms == Range(0.5, 3.0)
    grab_until(camera, lambda r: r.settings.exposure_ms == 3.0)  # the target (5 ms) is above the limit
    reading = apply(camera, exposure_auto=AutoMode.OFF)
    assert reading.settings.exposure_auto is AutoMode.OFF  # MANUAL with the value the camera chose
    assert reading.settings.exposure_ms == 3.0
    assert emulated.feature_value(SERIAL, EXPOSURE) == pytest.approx(0.003)


def test_auto_modes_are_set_with_the_value_ignored(camera: Any, emulated: EmulatorControl) -> None:
    camera.set_exposure_ms(10_000.0)  # the largest value: passed back with AUTO, which must not trip a range check
    emulated.reset_counts()
    assert apply(camera, exposure_auto=AutoMode.CONTINUOUS).settings.exposure_auto is AutoMode.CONTINUOUS
    assert emulated.call_count("PxLSetFeature") == 1


def test_white_balance_gains_and_one_push(colour_camera: Any, colour_emulated: EmulatorControl) -> None:
    reading = apply(colour_camera, white_balance=WhiteBalance(AutoMode.OFF, 1.5, 1.0, 2.0), saturation_pct=150.0)
    assert reading.settings.white_balance == WhiteBalance(AutoMode.OFF, 1.5, 1.0, 2.0)
    assert reading.settings.saturation_pct == 150.0
    with pytest.raises(InvalidSettingError) as caught:
        colour_camera.write_setting("white_balance", WhiteBalance(AutoMode.OFF, 1.0, 9.0, 1.0))
    assert (caught.value.field, caught.value.maximum) == ("white_balance.green", 4.0)
    # One push (without a stream, as the vendor's sample does): the scene's default cast R 1, G 1/2, B 1/4.
    reading = apply(colour_camera, white_balance=WhiteBalance(AutoMode.ONCE))
    assert reading.settings.white_balance == WhiteBalance(AutoMode.OFF, 0.5, 1.0, 2.0)


def test_settings_not_settable_while_streaming_restart_the_stream_once(camera: Any, emulated: EmulatorControl) -> None:
    grab_one(camera)
    emulated.reset_counts()
    reading = apply(camera, pixel_format=PixelFormat.MONO16, roi=Region(0, 0, 320, 240), gain_db=2.0)
    assert emulated.call_count("PxLSetStreamState") == 2  # one stop, one start, around all three
    assert camera.is_streaming
    frame = camera.grab()
    assert (frame.width, frame.height, frame.pixel_format) == (320, 240, PixelFormat.MONO16)
    assert reading.geometry == ImageGeometry(320, 240, PixelFormat.MONO16, SENSOR_BITS)
    emulated.reset_counts()
    apply(camera, exposure_ms=2.0)  # settable while streaming
    assert emulated.call_count("PxLSetStreamState") == 0


def test_a_refused_setting_leaves_the_earlier_ones_unchanged(camera: Any, emulated: EmulatorControl) -> None:
    grab_one(camera)
    before = camera.read_settings()
    target = replace(before.settings, pixel_format=PixelFormat.MONO16, gamma=9.0)  # gamma is refused by the camera
    with pytest.raises(InvalidSettingError, match="gamma"):
        camera.apply_settings(target, ("pixel_format", "gamma"))
    assert camera.read_settings() == before
    assert emulated.feature_value(SERIAL, PIXEL_FORMAT) == SDK_MONO8
    assert camera.is_streaming and camera.grab().pixel_format is PixelFormat.MONO8


def test_settings_channels_save_and_load(camera: Any) -> None:
    saved = apply(camera, exposure_ms=20.0, roi=Region(8, 8, 320, 240)).settings
    camera.save_settings_to_channel(1)
    apply(camera, exposure_ms=5.0, roi=Region(0, 0, WIDTH, HEIGHT))
    camera.start_streaming()  # loading stops the stream and starts it again
    reading = camera.load_settings_from_channel(1)
    assert (reading.settings.exposure_ms, reading.settings.roi) == (20.0, saved.roi)
    assert camera.is_streaming and camera.grab().pixels.shape == (240, 320)
    factory = camera.load_settings_from_channel(0)
    assert (factory.settings.exposure_ms, factory.settings.roi) == (FACTORY_EXPOSURE_MS, Region(0, 0, WIDTH, HEIGHT))
    for bad in (2, -1):
        with pytest.raises(InvalidArgumentError) as caught:
            camera.load_settings_from_channel(bad)
        assert (caught.value.field, caught.value.minimum, caught.value.maximum) == ("channel", 0, 1)
    with pytest.raises(InvalidArgumentError):
        camera.save_settings_to_channel(0)  # the factory channel is read-only


@pytest.fixture
def symmetric_only(monkeypatch: pytest.MonkeyPatch, pxl_api: Any) -> None:
    """Cameras (older APIs) whose PIXEL_ADDRESSING has 2 parameters, VALUE and MODE: symmetric only (FEATURES.md 3).

    The emulator's 4-parameter feature, seen through a wrapper that reports and returns the first two.
    """
    real_get_feature, real_get_camera_features = pxl_api.getFeature, pxl_api.getCameraFeatures

    def get_feature(handle: int, feature_id: int, params: Any = None) -> tuple[Any, ...]:
        ret = real_get_feature(handle, feature_id, params)
        return (*ret[:2], ret[2][:2]) if feature_id == PIXEL_ADDRESSING and ret[0] >= 0 else ret

    def get_camera_features(handle: int, feature_id: int) -> tuple[Any, ...]:
        ret = real_get_camera_features(handle, feature_id)
        if ret[0] >= 0:
            for index in range(ret[1].uNumberOfFeatures):
                if ret[1].Features[index].uFeatureId == PIXEL_ADDRESSING:
                    ret[1].Features[index].uNumberOfParameters = 2
        return ret

    monkeypatch.setattr(pxl_api, "getFeature", get_feature)
    monkeypatch.setattr(pxl_api, "getCameraFeatures", get_camera_features)


@pytest.mark.usefixtures("symmetric_only")
def test_cameras_with_two_addressing_parameters_bin_symmetrically(camera: Any, emulated: EmulatorControl) -> None:
    assert camera.info().features["pixel_addressing.vertical"].values == (1, 2, 3, 4, 6, 8)
    emulated.reset_counts()
    reading = apply(camera, pixel_addressing=PixelAddressing(AddressingMode.BIN, 2, 2))
    assert reading.settings.pixel_addressing == PixelAddressing(AddressingMode.BIN, 2, 2)
    assert (reading.geometry.width, reading.geometry.height) == (WIDTH // 2, HEIGHT // 2)
    with pytest.raises(InvalidSettingError, match="symmetrically only") as caught:
        camera.write_setting("pixel_addressing", PixelAddressing(AddressingMode.BIN, 2, 1))
    assert caught.value.field == "pixel_addressing.vertical"
    assert camera.read_settings().settings.pixel_addressing == PixelAddressing(AddressingMode.BIN, 2, 2)


def test_the_bayer_phase_frames_report_is_believed(
    colour_camera: Any, monkeypatch: pytest.MonkeyPatch, pxl_api: Any
) -> None:
    """A camera that reports another mosaic phase in its frames than the driver expected (FLIP, FEATURES.md 5)."""
    real_grab = pxl_api.getNextNumPyFrame

    def grab_reporting_grbg(handle: int, frame: Any = None) -> tuple[Any, ...]:
        ret = real_grab(handle, frame)
        if ret[0] >= 0:
            ret[1].PixelFormat.fValue = pxl_api.PixelFormat.BAYER8_GRBG
        return ret

    monkeypatch.setattr(pxl_api, "getNextNumPyFrame", grab_reporting_grbg)
    assert colour_camera.geometry().pixel_format is PixelFormat.BAYER8_RGGB
    assert grab_one(colour_camera).pixel_format is PixelFormat.BAYER8_GRBG  # same buffers, the camera's phase
    assert colour_camera.geometry().pixel_format is PixelFormat.BAYER8_GRBG


def test_auto_gain_once_ends_and_auto_limits_the_camera_refuses(camera: Any, emulated: EmulatorControl) -> None:
    emulated.set_scene(SERIAL, 0.5)  # half as bright: at 10 ms the camera needs 20 log10(2) = 6 dB
    camera.start_streaming()
    assert apply(camera, gain_auto=AutoMode.ONCE).settings.gain_auto is AutoMode.ONCE
    reading = grab_until(camera, lambda r: r.settings.gain_auto is AutoMode.OFF)
    assert reading.settings.gain_db == 6.0
    with pytest.raises(InvalidSettingError, match="ApiInvalidParameterError") as caught:
        camera.write_setting("exposure_auto_limits_ms", Range(5.0, 1.0))  # minimum above maximum
    assert caught.value.field == "exposure_auto_limits_ms"
    assert camera.read_settings().settings.exposure_auto_limits_ms == Range(0.1, 1000.0)


# -- issue 13: triggering, GPIO, events, I/O (the shared behaviour is in test_triggering.py) -------------------

TRIGGER, GPIO = 12, 17  # PxLApi.FeatureId
HARDWARE_TYPE, SOFTWARE_TYPE = 2, 1  # PxLApi.TriggerTypes
#: How long the emulator's hardware-trigger grabs wait before ApiCameraTimeoutError in the timeout test, s.
SHORT_TRIGGER_TIMEOUT_S = 0.02


def trigger_state(camera: Any) -> tuple[int, list[float]]:
    """TRIGGER's flags and parameters as the camera holds them (read on the driver's own handle)."""
    ret = camera._api.getFeature(camera._camera.handle, TRIGGER)
    assert ret[0] >= 0
    return int(ret[1]), [round(value, 6) for value in ret[2]]


def test_trigger_is_written_with_the_vendor_idioms(camera: Any) -> None:
    flags = camera._api.FeatureFlags
    camera.write_setting(
        "trigger",
        Trigger(TriggerSource.HARDWARE, TriggerMode.BURST, TriggerEdge.FALLING, delay_ms=2.5, frames_per_trigger=3),
    )
    state_flags, params = trigger_state(camera)
    assert state_flags & flags.MANUAL and not state_flags & flags.OFF
    # [mode 4, type HARDWARE, polarity POSITIVE (= falling edge, FEATURES.md 11.4), delay in seconds, frames]
    assert params == [4.0, float(HARDWARE_TYPE), 1.0, 0.0025, 3.0]
    camera.write_setting("trigger", Trigger(TriggerSource.SOFTWARE, edge=TriggerEdge.RISING))
    assert trigger_state(camera)[1][:3] == [0.0, float(SOFTWARE_TYPE), 0.0]  # NEGATIVE: rising
    camera.write_setting("trigger", Trigger())
    assert trigger_state(camera)[0] & flags.OFF  # free-running is TRIGGER OFF


def test_only_the_configured_edge_triggers(camera: Any, emulated: EmulatorControl) -> None:
    camera.write_setting("trigger", Trigger(TriggerSource.HARDWARE, edge=TriggerEdge.FALLING))
    camera.start_streaming()
    assert emulated.trigger_edge(SERIAL, "rising") == 0  # not the active edge
    assert emulated.trigger_edge(SERIAL, "falling") == TRIGGER_ACCEPTED
    frame = next_triggered(camera)
    assert (frame.trigger_source, frame.trigger_count) == (TriggerSource.HARDWARE, 1)


async def test_gpio_times_are_sent_in_seconds(camera: Any, emulated: EmulatorControl) -> None:
    pulses = 3
    camera.write_setting(
        "gpio", (Gpio(2, GpioMode.PULSE, active_high=True, duration_ms=1.0, pulse_count=pulses, interval_ms=2.0),)
    )
    assert camera.read_settings().settings.gpio[1] == Gpio(
        2, GpioMode.PULSE, active_high=True, duration_ms=1.0, pulse_count=pulses, interval_ms=2.0
    )
    ret = camera._api.getFeature(camera._camera.handle, GPIO, [2.0])  # as the camera holds it: seconds
    assert [round(value, 6) for value in ret[2]] == [2.0, 2.0, 1.0, float(pulses), 0.001, 0.002]  # line, PULSE, high
    await eventually(lambda: emulated.gpo(SERIAL, 2)[1] == pulses)  # and the camera pulses
    camera.write_setting("gpio", (Gpio(2, GpioMode.NORMAL, active_high=True),))
    assert emulated.gpo(SERIAL, 2)[0] == 1
    camera.write_setting("gpio", (Gpio(2),))
    assert emulated.gpo(SERIAL, 2) == (0, 0)  # OFF
    assert camera.read_settings().settings.gpio[1] == Gpio(2)


def test_io_status_reads_the_camera_temperatures(camera: Any, emulated: EmulatorControl) -> None:
    emulated.set_temperature(SERIAL, 51.5, 60.0)
    status = camera.read_io()
    assert (status.sensor_temperature_c, status.body_temperature_c) == (51.5, 60.0)


def test_trigger_timeouts_of_the_sdk_are_neither_errors_nor_warnings(
    camera: Any, emulated: EmulatorControl, caplog: pytest.LogCaptureFixture
) -> None:
    emulated.set_trigger_timeout(SERIAL, SHORT_TRIGGER_TIMEOUT_S)  # the SDK returns ApiCameraTimeoutError often
    camera.write_setting("trigger", Trigger(TriggerSource.HARDWARE))
    camera.start_streaming()
    caplog.set_level(logging.INFO)
    timeouts_before = emulated.call_count("PxLGetNextFrame")
    for _ in range(3):
        with pytest.raises(NoTriggerYet):
            camera.grab()
    assert emulated.call_count("PxLGetNextFrame") > timeouts_before + 1  # the helper waited again after timeouts
    assert not [record for record in caplog.records if record.levelno >= logging.WARNING]
    assert emulated.trigger_pulse(SERIAL) == TRIGGER_ACCEPTED
    assert next_triggered(camera).trigger_count == 1
    camera.stop_streaming()  # ends the helper's wait
    assert emulated.waiting_grabs(SERIAL) == 0


async def test_event_ids_the_camera_does_not_support_are_skipped(
    camera: Any, emulated: EmulatorControl, codes: Any
) -> None:
    emulated.fail_next("PxLSetEventCallback", codes.ApiThisEventNotSupported)  # the first id: CAMERA_DISCONNECTED
    received: list[Any] = []
    camera.set_event_listener(received.append)
    camera.write_setting("trigger", Trigger(TriggerSource.HARDWARE))
    assert emulated.trigger_pulse(SERIAL) == 0  # not streaming: an edge, no trigger
    await eventually(lambda: len(received) == 2)  # rising and falling edges
    assert [event.edge for event in received] == [TriggerEdge.RISING, TriggerEdge.FALLING]
    emulated.unplug(SERIAL)
    camera.close()  # not registered for disconnects: none came (and none can come now)
    assert all(event.type is CameraEventType.HARDWARE_TRIGGER for event in received)


async def test_a_cancelled_listener_hears_nothing_more(camera: Any, emulated: EmulatorControl) -> None:
    received: list[Any] = []
    camera.set_event_listener(received.append)
    calls = emulated.call_count("PxLSetEventCallback")
    camera.set_event_listener(None)
    assert emulated.call_count("PxLSetEventCallback") == calls * 2  # one cancel per registered id
    camera.write_setting("trigger", Trigger(TriggerSource.HARDWARE))
    emulated.trigger_pulse(SERIAL)  # to nobody
    ret = camera._api.getCurrentTimestamp(camera._camera.handle)
    assert ret[0] >= 0
    camera.set_event_listener(received.append)  # a witness: events come in order
    emulated.trigger_pulse(SERIAL)
    await eventually(lambda: any(event.edge is TriggerEdge.FALLING for event in received))
    assert [event.edge for event in received] == [TriggerEdge.RISING, TriggerEdge.FALLING]
    assert all(event.camera_time_s >= ret[1] for event in received)


def next_triggered(camera: Any) -> Any:
    for _ in range(MAX_TRIGGER_SLICES):
        try:
            return camera.grab()
        except NoTriggerYet:
            continue
    raise AssertionError("no triggered frame")


#: Wait slices a test grabs through before it gives up on a triggered frame.
MAX_TRIGGER_SLICES = 100
