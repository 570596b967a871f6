"""One conformance suite for every camera driver (pymmcore-plus style): same assertions, each driver.

Drivers are provided by the ``driver_harness`` fixture, parametrised in
``DRIVER_HARNESSES``: the simulated camera, and the PixeLINK driver through the
unmodified pixelinkWrapper on the SDK emulator (loaded in this process;
unplug/replug are the emulator's).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass

import numpy as np
import pytest

from camera_grpc.device.base import CameraDriver, Frame, PixelFormat
from camera_grpc.device.simulated import SimulatedCamera
from camera_grpc.errors import CameraDisconnectedError, CameraUnavailableError, InvalidSettingError
from tests.support.pxlemu import EmulatorControl

#: Relative tolerance for a value read back after a set (cameras round to their step).
READBACK_RELATIVE = 0.01


@dataclass
class DriverHarness:
    """A driver under test and the hardware-boundary hooks to misbehave with."""

    driver: CameraDriver
    unplug: Callable[[], None]
    replug: Callable[[], None]


def simulated_harness(request: pytest.FixtureRequest) -> Iterator[DriverHarness]:
    camera = SimulatedCamera(width=640, height=480, max_frame_rate_fps=200)
    yield DriverHarness(camera, camera.unplug, camera.replug)


#: The PixeLINK harness's emulated camera: one, small (frame size does not matter here), as fast as the simulated one.
EMULATED_SERIAL = 700000001
EMULATED_PROFILE = f"cameras={EMULATED_SERIAL}:640x480"
EMULATED_FRAME_RATE_FPS = 200.0
FRAME_RATE_FEATURE = 18  # PxLApi.FeatureId.FRAME_RATE


def pixelink_harness(request: pytest.FixtureRequest) -> Iterator[DriverHarness]:
    monkeypatch: pytest.MonkeyPatch = request.getfixturevalue("monkeypatch")
    emulator: EmulatorControl = request.getfixturevalue("emulator")  # loads the emulator before the wrapper
    monkeypatch.setenv("PXLEMU_CONFIG", EMULATED_PROFILE)
    monkeypatch.setenv("PIXELINK_SDK_LIB", str(request.getfixturevalue("emulator_dir")))
    emulator.reset()
    emulator.set_feature_value(EMULATED_SERIAL, FRAME_RATE_FEATURE, 0, EMULATED_FRAME_RATE_FPS)
    from camera_grpc.device.pixelink import PixelinkCamera

    yield DriverHarness(
        PixelinkCamera(), lambda: emulator.unplug(EMULATED_SERIAL), lambda: emulator.replug(EMULATED_SERIAL)
    )


#: name -> factory(request) yielding one harness (it may use other fixtures through ``request``).
DRIVER_HARNESSES: dict[str, Callable[[pytest.FixtureRequest], Iterator[DriverHarness]]] = {
    "simulated": simulated_harness,
    "pixelink": pixelink_harness,
}


@pytest.fixture(params=sorted(DRIVER_HARNESSES))
def driver_harness(request: pytest.FixtureRequest) -> Iterator[DriverHarness]:
    harness_iterator = DRIVER_HARNESSES[request.param](request)
    harness = next(harness_iterator)
    harness.driver.open()
    try:
        yield harness
    finally:
        harness.driver.close()
        for _ in harness_iterator:  # run the factory's clean-up
            pass


@pytest.fixture
def driver(driver_harness: DriverHarness) -> CameraDriver:
    return driver_harness.driver


def test_open_camera_describes_itself(driver: CameraDriver) -> None:
    assert driver.is_open
    info = driver.info()
    assert info.driver == driver.name
    assert info.serial_number and info.model
    assert info.sensor_width > 0 and info.sensor_height > 0
    assert 0 < info.exposure_ms.minimum < info.exposure_ms.maximum
    assert info.gain_db.minimum < info.gain_db.maximum
    assert info.pixel_formats and all(isinstance(fmt, PixelFormat) for fmt in info.pixel_formats)
    geometry = driver.geometry()
    assert geometry.pixel_format in info.pixel_formats
    assert 0 < geometry.width <= info.sensor_width and 0 < geometry.height <= info.sensor_height


def test_exposure_is_set_in_milliseconds_and_read_back(driver: CameraDriver) -> None:
    for exposure_ms in (1.0, 25.0, 100.0):
        applied = driver.set_exposure_ms(exposure_ms)
        assert applied == pytest.approx(exposure_ms, rel=READBACK_RELATIVE)
        assert driver.get_exposure_ms() == pytest.approx(applied)


def test_gain_is_set_in_decibels_and_read_back(driver: CameraDriver) -> None:
    low = driver.info().gain_db.minimum
    for gain_db in (low, low + 3.0, low + 6.0):
        applied = driver.set_gain_db(gain_db)
        assert applied == pytest.approx(gain_db, rel=READBACK_RELATIVE, abs=0.05)
        assert driver.get_gain_db() == pytest.approx(applied)


def test_out_of_range_values_are_refused_and_change_nothing(driver: CameraDriver) -> None:
    info = driver.info()
    driver.set_exposure_ms(10.0)
    before = (driver.get_exposure_ms(), driver.get_gain_db())
    with pytest.raises(InvalidSettingError) as caught:
        driver.set_exposure_ms(info.exposure_ms.maximum * 10)
    assert caught.value.field == "exposure_ms"
    with pytest.raises(InvalidSettingError) as caught:
        driver.set_gain_db(info.gain_db.maximum + 10)
    assert caught.value.field == "gain_db"
    assert (driver.get_exposure_ms(), driver.get_gain_db()) == before


def test_frames_match_the_geometry_and_carry_their_settings(driver: CameraDriver) -> None:
    driver.set_exposure_ms(2.0)
    driver.set_gain_db(driver.info().gain_db.minimum)
    geometry = driver.geometry()
    driver.start_streaming()
    assert driver.is_streaming
    frames = [driver.grab() for _ in range(3)]
    numbers = [frame.frame_number for frame in frames]
    assert numbers == sorted(numbers) and len(set(numbers)) == 3
    for frame in frames:
        assert frame.pixel_format is geometry.pixel_format
        assert frame.pixels.dtype == geometry.pixel_format.sample_type
        assert (frame.width, frame.height) == (geometry.width, geometry.height)
        expected_shape = (geometry.height, geometry.width) + ((3,) if geometry.pixel_format.channels == 3 else ())
        assert frame.pixels.shape == expected_shape
        assert frame.exposure_ms == pytest.approx(2.0, rel=READBACK_RELATIVE)
        assert frame.captured_at.tzinfo is not None
        assert int(frame.pixels.max()) < (1 << frame.bit_depth)
    driver.stop_streaming()
    assert not driver.is_streaming


def test_a_frame_takes_at_least_its_exposure(driver: CameraDriver) -> None:
    exposure_ms = 120.0
    driver.set_exposure_ms(exposure_ms)
    driver.start_streaming()
    driver.grab()
    started = time.monotonic()
    driver.grab()
    driver.grab()
    assert time.monotonic() - started >= 2 * exposure_ms / 1000 * 0.95
    driver.stop_streaming()


def test_a_frame_reporting_a_new_exposure_was_exposed_after_it_was_set(driver: CameraDriver) -> None:
    """Frames already exposed when the exposure changes (in flight) report the exposure they had: a frame that
    says it was exposed for 300 ms cannot arrive sooner than 300 ms after that exposure was set. (A lower bound:
    a loaded machine only makes it later.)"""
    driver.set_exposure_ms(1.0)
    driver.start_streaming()
    for _ in range(3):
        driver.grab()
    time.sleep(0.05)  # not synchronisation: let frames complete at 1 ms that nobody has taken yet
    exposure_ms = 300.0
    set_at = time.monotonic()
    driver.set_exposure_ms(exposure_ms)
    frame = driver.grab()
    while frame.exposure_ms != pytest.approx(exposure_ms, rel=1e-3):
        assert frame.exposure_ms == pytest.approx(1.0, rel=1e-3)  # one from before the change
        frame = driver.grab()
    assert time.monotonic() - set_at >= exposure_ms / 1000 * 0.95
    driver.stop_streaming()


def test_brightness_follows_exposure(driver: CameraDriver) -> None:
    def mean_level(exposure_ms: float) -> float:
        driver.set_exposure_ms(exposure_ms)
        driver.start_streaming()
        frame = driver.grab()
        driver.stop_streaming()
        return float(np.mean(frame.pixels[16:]))

    assert mean_level(5.0) < mean_level(20.0)


def test_unplug_fails_calls_close_still_works_and_replug_reopens(driver_harness: DriverHarness) -> None:
    driver = driver_harness.driver
    driver.start_streaming()
    driver_harness.unplug()
    with pytest.raises(CameraDisconnectedError):
        driver.grab()
    with pytest.raises(CameraDisconnectedError):
        driver.get_exposure_ms()
    driver.close()
    driver.close()  # idempotent
    assert not driver.is_open
    with pytest.raises(CameraUnavailableError):
        driver.open()
    driver_harness.replug()
    driver.open()
    assert driver.is_open
    driver.start_streaming()
    assert driver.grab().pixels.size > 0


def test_frames_the_caller_keeps_are_never_overwritten(driver: CameraDriver) -> None:
    """Checked during the run of grabs, not only after it: each frame's pixels are copied the moment it
    arrives, so a buffer lent again while a kept frame still uses it shows up as a changed frame."""
    driver.set_exposure_ms(1.0)
    driver.start_streaming()
    kept: list[Frame] = []
    snapshots: list[np.ndarray] = []
    for _ in range(24):  # more frames than any buffer pool keeps
        frame = driver.grab()
        kept.append(frame)
        snapshots.append(frame.pixels.copy())
        for earlier, snapshot in zip(kept, snapshots, strict=True):
            assert np.array_equal(earlier.pixels, snapshot), f"frame {earlier.frame_number} was overwritten"
    view = kept[0].pixels[::2, ::2]  # a view keeps its buffer out of reuse too
    del kept[0]
    for _ in range(24):
        driver.grab()
    driver.stop_streaming()
    for frame, snapshot in zip(kept, snapshots[1:], strict=True):
        assert np.array_equal(frame.pixels, snapshot), f"frame {frame.frame_number} was overwritten"
    assert np.array_equal(view, snapshots[0][::2, ::2])
