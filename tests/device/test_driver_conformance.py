"""One conformance suite for every camera driver (pymmcore-plus style): same assertions, each driver.

Drivers are provided by the ``driver_harness`` fixture, parametrised in
``DRIVER_HARNESSES``: the simulated camera, and the PixeLINK driver through the
unmodified pixelinkWrapper on the SDK emulator (loaded in this process;
unplug/replug are the emulator's), each as a mono and as a colour camera.

The settings tests (issue 12) derive every value from what the camera reports in
``info().features``: a feature the camera lacks is skipped by looking there, never
by the driver's name, so a driver passes by describing its camera truthfully.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, fields, is_dataclass, replace
from typing import Any

import numpy as np
import pytest

from camera_grpc.device.base import CameraDriver, Frame, PixelFormat
from camera_grpc.device.settings import (
    FEATURE_NAMES,
    GEOMETRY_FIELDS,
    SETTING_FIELDS,
    AddressingMode,
    AutoMode,
    CameraSettings,
    FeatureInfo,
    Features,
    FeatureUnsupportedError,
    Flip,
    FrameRate,
    FrameRateMode,
    Gpio,
    GpioMode,
    PixelAddressing,
    Range,
    Region,
    SettingsReading,
    Trigger,
    TriggerEdge,
    TriggerMode,
    TriggerSource,
    WhiteBalance,
    get_path,
    set_path,
    validate,
)
from camera_grpc.device.simulated import SimulatedCamera
from camera_grpc.errors import (
    CameraDisconnectedError,
    CameraUnavailableError,
    InvalidArgumentError,
    InvalidSettingError,
)
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


def simulated_colour_harness(request: pytest.FixtureRequest) -> Iterator[DriverHarness]:
    camera = SimulatedCamera(
        width=640, height=480, pixel_format=PixelFormat.BAYER8_RGGB, max_frame_rate_fps=200, color=True
    )
    yield DriverHarness(camera, camera.unplug, camera.replug)


#: The PixeLINK harness's emulated camera: one, small (frame size does not matter here), as fast as the simulated one.
EMULATED_SERIAL = 700000001
EMULATED_PROFILE = f"cameras={EMULATED_SERIAL}:640x480"
EMULATED_COLOUR_PROFILE = f"cameras={EMULATED_SERIAL}@colour:640x480"
EMULATED_FRAME_RATE_FPS = 200.0
FRAME_RATE_FEATURE = 18  # PxLApi.FeatureId.FRAME_RATE


def pixelink_harness(request: pytest.FixtureRequest, profile: str = EMULATED_PROFILE) -> Iterator[DriverHarness]:
    monkeypatch: pytest.MonkeyPatch = request.getfixturevalue("monkeypatch")
    emulator: EmulatorControl = request.getfixturevalue("emulator")  # loads the emulator before the wrapper
    monkeypatch.setenv("PXLEMU_CONFIG", profile)
    monkeypatch.setenv("PIXELINK_SDK_LIB", str(request.getfixturevalue("emulator_dir")))
    emulator.reset()
    emulator.set_feature_value(EMULATED_SERIAL, FRAME_RATE_FEATURE, 0, EMULATED_FRAME_RATE_FPS)
    from camera_grpc.device.pixelink import PixelinkCamera

    yield DriverHarness(
        PixelinkCamera(), lambda: emulator.unplug(EMULATED_SERIAL), lambda: emulator.replug(EMULATED_SERIAL)
    )


def pixelink_colour_harness(request: pytest.FixtureRequest) -> Iterator[DriverHarness]:
    yield from pixelink_harness(request, EMULATED_COLOUR_PROFILE)


#: name -> factory(request) yielding one harness (it may use other fixtures through ``request``).
DRIVER_HARNESSES: dict[str, Callable[[pytest.FixtureRequest], Iterator[DriverHarness]]] = {
    "simulated": simulated_harness,
    "simulated-colour": simulated_colour_harness,
    "pixelink": pixelink_harness,
    "pixelink-colour": pixelink_colour_harness,
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
    """Measured from the start of acquisition, so a consumer that is late for a frame (a loaded machine) cannot
    make the frames look shorter: the third frame cannot have ended before three exposures."""
    exposure_ms = 120.0
    driver.set_exposure_ms(exposure_ms)
    started = time.monotonic()
    driver.start_streaming()
    frames = [driver.grab() for _ in range(3)]
    assert time.monotonic() - started >= len(frames) * exposure_ms / 1000 * 0.95
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


# -- settings (issue 12): every feature the camera describes, the same assertions on every driver --------


#: Frames an auto adjustment in ONCE mode may take before it must have ended (cameras take a few).
ONCE_MAX_FRAMES = 120
#: A short exposure, milliseconds, where the frame rate is limited by readout rather than exposure.
SHORT_EXPOSURE_MS = 1.0
#: A long exposure, milliseconds, that limits the frame rate to at most 1000 / it frames per second.
LONG_EXPOSURE_MS = 100.0
#: A dark starting point for auto exposure and gain, milliseconds.
DARK_EXPOSURE_MS = 0.05
#: Frames grabbed after a change to see that every one of them has the new geometry.
FRAMES_AFTER_CHANGE = 3
#: Significant bits of MONO12_PACKED samples, delivered unpacked as MONO16.
PACKED_BIT_DEPTH = 12


def snap(info: FeatureInfo, wanted: float) -> float:
    """The valid value of a numeric feature nearest below ``wanted`` (within its limits, on its step)."""
    if info.values:
        return min(info.values, key=lambda allowed: abs(allowed - wanted))
    assert info.minimum is not None and info.maximum is not None, f"{info.name} reports no limits"
    value = min(max(wanted, info.minimum), info.maximum)
    if info.step:
        value = info.minimum + math.floor((value - info.minimum) / info.step + 1e-9) * info.step
    return value


def middle(info: FeatureInfo) -> float:
    assert info.minimum is not None and info.maximum is not None, f"{info.name} reports no limits"
    return snap(info, (info.minimum + info.maximum) / 2)


def another_choice(info: FeatureInfo, current: str) -> str | None:
    return next((choice for choice in info.choices if choice != current), None)


def new_value(name: str, current: CameraSettings, features: Features, sensor: tuple[int, int]) -> Any:
    """A value of setting ``name`` that differs from ``current`` and the camera says it takes; None if none."""
    if name == "exposure_ms":
        return snap(features["exposure_ms"], 20.0 if current.exposure_ms != 20.0 else 10.0)
    if name == "gain_db":
        info = features["gain_db"]
        assert info.minimum is not None
        return snap(info, info.minimum + 6.0 if current.gain_db != info.minimum + 6.0 else info.minimum)
    if name == "roi":
        width, height = sensor
        return Region(
            offset_x=int(snap(features["roi.offset_x"], width / 4)) if features.supported("roi.offset_x") else 0,
            offset_y=int(snap(features["roi.offset_y"], height / 4)) if features.supported("roi.offset_y") else 0,
            width=int(snap(features["roi.width"], width / 2)),
            height=int(snap(features["roi.height"], height / 2)),
        )
    if name == "pixel_addressing":
        mode_info = features["pixel_addressing.mode"]
        mode = another_choice(mode_info, current.pixel_addressing.mode.value) if mode_info.supported else None
        horizontal = int(snap(features["pixel_addressing.horizontal"], 2))
        vertical_info = features["pixel_addressing.vertical"]
        vertical = int(snap(vertical_info, 4)) if vertical_info.supported else horizontal
        return PixelAddressing(AddressingMode(mode) if mode else current.pixel_addressing.mode, horizontal, vertical)
    if name == "pixel_format":
        choice = another_choice(features["pixel_format"], current.pixel_format.value)
        return PixelFormat(choice) if choice else None
    if name == "flip":
        return Flip(features["flip.horizontal"].supported, features["flip.vertical"].supported)
    if name == "exposure_auto_limits_ms":
        info = features["exposure_auto_limits_ms"]
        return Range(snap(info, 1.0), snap(info, 50.0))
    if name in ("exposure_auto", "gain_auto"):
        # ONCE does not stay (it reads OFF when it has ended): CONTINUOUS is the mode that round-trips
        return AutoMode.CONTINUOUS if AutoMode.CONTINUOUS.value in features[name].choices else None
    if name == "frame_rate":
        if FrameRateMode.FIXED.value not in features["frame_rate.mode"].choices:
            return None
        info = features["frame_rate.fps"]
        assert info.maximum is not None
        return FrameRate(FrameRateMode.FIXED, snap(info, info.maximum / 2))
    if name == "white_balance":
        return WhiteBalance(
            AutoMode.OFF,
            red=snap(features["white_balance.red"], 1.5),
            green=snap(features["white_balance.green"], 1.0),
            blue=snap(features["white_balance.blue"], 2.0),
        )
    if name in ("black_level_pct", "gamma", "saturation_pct"):
        value = middle(features[name])
        return value if value != getattr(current, name) else snap(features[name], value / 2)
    if name == "trigger":
        # software: it changes nothing else (an armed hardware trigger takes over the input line, see test_triggering)
        if TriggerSource.SOFTWARE.value not in features["trigger.source"].choices:
            return None
        modes = features["trigger.mode"].choices
        return Trigger(
            source=TriggerSource.SOFTWARE,
            mode=TriggerMode.BURST if TriggerMode.BURST.value in modes else TriggerMode(modes[0]),
            edge=TriggerEdge.FALLING,
            delay_ms=snap(features["trigger.delay_ms"], 5.0),
            frames_per_trigger=int(snap(features["trigger.frames_per_trigger"], 3)),
        )
    if name == "gpio":
        if GpioMode.STROBE.value not in features["gpio.mode"].choices:
            return None
        line = int(max(features["gpio.line"].values))  # the last line: an output on every camera
        strobe = Gpio(
            line,
            GpioMode.STROBE,
            active_high=False,
            delay_ms=snap(features["gpio.delay_ms"], 1.0),
            duration_ms=snap(features["gpio.duration_ms"], 2.0),
        )
        return tuple(strobe if item.line == line else item for item in current.gpio)
    raise AssertionError(f"no test value for {name}")


def comparable(settings: CameraSettings) -> CameraSettings:
    """Settings without what the camera derives itself: the rate it runs at when free (exposure and region set it)."""
    if settings.frame_rate.mode is FrameRateMode.FREE:
        return replace(settings, frame_rate=FrameRate(FrameRateMode.FREE))
    return settings


def assert_reads(actual: Any, expected: Any, path: str) -> None:
    """``actual`` is ``expected`` (numbers within the read-back tolerance), leaf by leaf."""
    if is_dataclass(expected) and not isinstance(expected, type):
        for field in fields(expected):
            assert_reads(getattr(actual, field.name), getattr(expected, field.name), f"{path}.{field.name}")
    elif isinstance(expected, float):
        assert actual == pytest.approx(expected, rel=READBACK_RELATIVE, abs=1e-3), path
    else:
        assert actual == expected, path


def mirrored_phase(phase: str, horizontal: bool, vertical: bool) -> str:
    """The top-left 2x2 colours of an even-sized mosaic after a flip."""
    rows = [phase[:2], phase[2:]]
    if horizontal:
        rows = [row[::-1] for row in rows]
    if vertical:
        rows.reverse()
    return "".join(rows)


def sensor(driver: CameraDriver) -> tuple[int, int]:
    info = driver.info()
    return info.sensor_width, info.sensor_height


def assert_frames_match(driver: CameraDriver, reading: SettingsReading, after_frame: int) -> int:
    """The next frames have the reading's geometry and delivered format, and numbers after ``after_frame``."""
    geometry = reading.geometry
    for _ in range(FRAMES_AFTER_CHANGE):
        frame = driver.grab()
        assert frame.frame_number > after_frame
        after_frame = frame.frame_number
        assert (frame.width, frame.height) == (geometry.width, geometry.height)
        assert frame.pixel_format is geometry.pixel_format
        assert frame.bit_depth == geometry.bit_depth
        assert frame.pixels.dtype == geometry.pixel_format.sample_type
        assert int(frame.pixels.max()) < (1 << frame.bit_depth)
    return after_frame


def test_features_describe_every_setting_and_what_the_camera_reads_is_valid(driver: CameraDriver) -> None:
    info = driver.info()
    features = info.features
    assert set(features) == set(FEATURE_NAMES)
    for name in ("exposure_ms", "gain_db", "pixel_format"):
        assert features[name].supported, name
    assert (features["exposure_ms"].minimum, features["exposure_ms"].maximum) == (
        info.exposure_ms.minimum,
        info.exposure_ms.maximum,
    )
    assert (features["gain_db"].minimum, features["gain_db"].maximum) == (info.gain_db.minimum, info.gain_db.maximum)
    assert set(features["pixel_format"].choices) == {fmt.value for fmt in info.pixel_formats}
    for name in FEATURE_NAMES:
        feature = features[name]
        if feature.supported and feature.minimum is not None and feature.maximum is not None:
            assert feature.minimum <= feature.maximum, name
    reading = driver.read_settings()
    validate(reading.settings, SETTING_FIELDS, features, sensor(driver))  # what it reads, it would take back
    roi, addressing = reading.settings.roi, reading.settings.pixel_addressing
    assert (reading.geometry.width, reading.geometry.height) == (
        roi.width // addressing.horizontal,
        roi.height // addressing.vertical,
    )
    assert reading.geometry == driver.geometry()
    colour = any(PixelFormat(choice).is_bayer for choice in features["pixel_format"].choices)
    assert (reading.settings.white_balance is not None) == features.supported("white_balance") == colour


@pytest.mark.parametrize("name", SETTING_FIELDS)
def test_each_setting_the_camera_has_round_trips_and_changes_nothing_else(driver: CameraDriver, name: str) -> None:
    features = driver.info().features
    if not features.supported(name):
        pytest.skip(f"the camera does not have {name}")
    before = driver.read_settings().settings
    value = new_value(name, before, features, sensor(driver))
    if value is None:
        pytest.skip(f"the camera offers no other value of {name}")
    target = replace(before, **{name: value})
    validate(target, (name,), features, sensor(driver))  # the test asks only for what the camera describes
    reading = driver.apply_settings(target, (name,))
    assert_reads(getattr(reading.settings, name), value, name)
    assert reading == driver.read_settings() or comparable(reading.settings) == comparable(
        driver.read_settings().settings
    )
    others = [other for other in SETTING_FIELDS if other != name]
    for other in others:
        assert_reads(getattr(comparable(reading.settings), other), getattr(comparable(before), other), other)


def test_applying_what_the_camera_reads_changes_nothing(driver: CameraDriver) -> None:
    before = driver.read_settings()
    after = driver.apply_settings(before.settings, SETTING_FIELDS)
    assert_reads(comparable(after.settings), comparable(before.settings), "settings")
    assert after.geometry == before.geometry


def refused_values(features: Features, current: CameraSettings) -> Iterator[tuple[str, str, CameraSettings]]:
    """(field path, top-level setting, settings with that field beyond what the camera reports) for each feature."""
    for path in FEATURE_NAMES:
        info = features[path]
        top = path.split(".")[0]
        if not info.supported or getattr(current, top) is None:
            continue
        if top in ("trigger", "gpio"):
            yield from refused_trigger_or_gpio(path, info, current)
            continue
        if info.values:
            yield path, top, set_path(current, path, type(get_path(current, path))(max(info.values) * 2 + 1))
        elif info.maximum is not None and info.minimum is not None:
            beyond = info.maximum + max(info.maximum - info.minimum, 1.0)
            if path == "exposure_auto_limits_ms":
                yield path, top, set_path(current, path, Range(info.minimum, beyond))
                continue
            if path == "frame_rate.fps":  # a rate only counts when fixed
                yield path, top, set_path(current, "frame_rate", FrameRate(FrameRateMode.FIXED, beyond))
                continue
            if isinstance(get_path(current, path), int):
                beyond = int(beyond)
            yield path, top, set_path(current, path, beyond)
    if PixelFormat.BAYER8_RGGB.value not in features["pixel_format"].choices:
        yield "pixel_format", "pixel_format", replace(current, pixel_format=PixelFormat.BAYER8_RGGB)
    else:
        yield "pixel_format", "pixel_format", replace(current, pixel_format=PixelFormat.MONO8)


def refused_trigger_or_gpio(
    path: str, info: FeatureInfo, current: CameraSettings
) -> Iterator[tuple[str, str, CameraSettings]]:
    """A trigger or GPIO line value beyond what the camera reports, in a mode that uses it (so a camera sends it)."""
    top, leaf = path.split(".")
    if info.values:
        beyond: Any = int(max(info.values) * 2 + 1)
    elif info.maximum is not None and info.minimum is not None:
        beyond = info.maximum + max(info.maximum - info.minimum, 1.0)
        beyond = int(beyond) if leaf in ("frames_per_trigger", "pulse_count") else beyond
    else:
        return
    if top == "trigger":
        trigger = replace(current.trigger, source=TriggerSource.SOFTWARE, **{leaf: beyond})
        yield path, top, replace(current, trigger=trigger)
        return
    last = current.gpio[-1]
    mode = GpioMode.PULSE if leaf in ("pulse_count", "interval_ms") else GpioMode.STROBE
    line = Gpio(last.line, mode, duration_ms=1.0, pulse_count=1, interval_ms=1.0)
    yield path, top, replace(current, gpio=(*current.gpio[:-1], replace(line, **{leaf: beyond})))


def test_values_beyond_what_the_camera_reports_are_refused_and_change_nothing(driver: CameraDriver) -> None:
    features = driver.info().features
    before = driver.read_settings()
    refused = list(refused_values(features, before.settings))
    assert len(refused) > len(("exposure_ms", "gain_db", "pixel_format"))
    for path, top, target in refused:
        with pytest.raises(InvalidArgumentError):  # the features say so before any camera work
            validate(target, (top,), features, sensor(driver))
        with pytest.raises(InvalidSettingError) as caught:  # and the camera itself refuses it
            driver.apply_settings(target, (top,))
        assert caught.value.field.split(".")[0] == top, path
        assert driver.read_settings() == before, f"refusing {path} changed the settings"


def test_features_the_camera_lacks_are_refused_by_name(driver: CameraDriver) -> None:
    features = driver.info().features
    current = driver.read_settings().settings
    asks = {
        "white_balance": WhiteBalance(AutoMode.ONCE, 2.0, 1.0, 2.0),
        "saturation_pct": 150.0,
        "gamma": 2.2,
        "black_level_pct": 5.0,
        "exposure_auto": AutoMode.CONTINUOUS,
        "gain_auto": AutoMode.CONTINUOUS,
        "flip": Flip(True, True),
    }
    lacking = [name for name in asks if not features.supported(name)]
    for name in lacking:
        with pytest.raises(FeatureUnsupportedError) as caught:
            validate(replace(current, **{name: asks[name]}), (name,), features, sensor(driver))
        assert caught.value.field.split(".")[0] == name


def test_a_refused_setting_undoes_the_others_of_the_request_while_streaming(driver: CameraDriver) -> None:
    features = driver.info().features
    driver.start_streaming()
    last = driver.grab().frame_number
    before = driver.read_settings()
    gain = features["gain_db"]
    assert gain.maximum is not None
    target = replace(
        before.settings,
        exposure_ms=new_value("exposure_ms", before.settings, features, sensor(driver)),
        roi=new_value("roi", before.settings, features, sensor(driver)),
        gain_db=gain.maximum + 10.0,  # applied after the exposure and the region: refused, so they are undone
    )
    with pytest.raises(InvalidSettingError) as caught:
        driver.apply_settings(target, ("exposure_ms", "roi", "gain_db"))
    assert caught.value.field == "gain_db"
    assert driver.read_settings() == before
    assert driver.is_streaming
    assert_frames_match(driver, before, last)
    driver.stop_streaming()


@pytest.mark.parametrize("name", sorted(GEOMETRY_FIELDS))
def test_a_geometry_change_while_streaming_gives_frames_of_the_reported_geometry(
    driver: CameraDriver, name: str
) -> None:
    features = driver.info().features
    if not features.supported(name):
        pytest.skip(f"the camera does not have {name}")
    driver.set_exposure_ms(snap(features["exposure_ms"], SHORT_EXPOSURE_MS))
    before = driver.read_settings()
    value = new_value(name, before.settings, features, sensor(driver))
    if value is None:
        pytest.skip(f"the camera offers no other value of {name}")
    driver.start_streaming()
    last = assert_frames_match(driver, before, 0)
    reading = driver.apply_settings(replace(before.settings, **{name: value}), (name,))
    assert driver.is_streaming
    assert reading.geometry == driver.geometry()
    settings = reading.settings
    assert (reading.geometry.width, reading.geometry.height) == (
        settings.roi.width // settings.pixel_addressing.horizontal,
        settings.roi.height // settings.pixel_addressing.vertical,
    )
    assert reading.geometry.pixel_format.bayer_phase == mirrored_phase(
        settings.pixel_format.bayer_phase, settings.flip.horizontal, settings.flip.vertical
    )
    if name != "flip" or reading.geometry.pixel_format.is_bayer:  # a mono image keeps its geometry when flipped
        assert reading.geometry != before.geometry
    assert_frames_match(driver, reading, last)  # frame numbers continue across the restart
    driver.stop_streaming()


def test_every_pixel_format_is_delivered_as_described(driver: CameraDriver) -> None:
    features = driver.info().features
    driver.set_exposure_ms(snap(features["exposure_ms"], SHORT_EXPOSURE_MS))
    last = 0
    for choice in features["pixel_format"].choices:
        fmt = PixelFormat(choice)
        reading = driver.apply_settings(replace(driver.read_settings().settings, pixel_format=fmt), ("pixel_format",))
        assert reading.settings.pixel_format is fmt
        assert reading.geometry.pixel_format is fmt.delivered  # MONO12_PACKED arrives unpacked as MONO16
        if fmt is PixelFormat.MONO12_PACKED:
            assert reading.geometry.bit_depth == PACKED_BIT_DEPTH
        elif fmt.is_16_bit:
            assert 8 < reading.geometry.bit_depth <= 16  # right-aligned samples of a 10-, 12- or 14-bit sensor
        else:
            assert reading.geometry.bit_depth == 8
        driver.start_streaming()
        last = assert_frames_match(driver, reading, last)
        driver.stop_streaming()


def test_the_frame_rate_limit_follows_the_region_the_actual_rate_the_exposure(driver: CameraDriver) -> None:
    features = driver.info().features
    if FrameRateMode.FIXED.value not in features["frame_rate.mode"].choices:
        pytest.skip("the camera has no fixed frame rate")
    full_sensor = features["frame_rate.fps"]
    current = driver.read_settings().settings
    driver.apply_settings(replace(current, roi=new_value("roi", current, features, sensor(driver))), ("roi",))
    smaller_region = driver.info().features["frame_rate.fps"]
    assert full_sensor.maximum is not None and smaller_region.maximum is not None
    assert smaller_region.maximum > full_sensor.maximum  # fewer rows read out: faster
    driver.set_exposure_ms(snap(features["exposure_ms"], LONG_EXPOSURE_MS))
    assert driver.read_settings().actual_frame_rate_fps <= 1000.0 / LONG_EXPOSURE_MS * (1 + READBACK_RELATIVE)
    driver.set_exposure_ms(snap(features["exposure_ms"], SHORT_EXPOSURE_MS))
    fixed = FrameRate(FrameRateMode.FIXED, snap(smaller_region, smaller_region.maximum / 4))
    reading = driver.apply_settings(replace(driver.read_settings().settings, frame_rate=fixed), ("frame_rate",))
    assert reading.settings.frame_rate.mode is FrameRateMode.FIXED
    assert reading.settings.frame_rate.fps == pytest.approx(fixed.fps, rel=READBACK_RELATIVE)
    driver.start_streaming()
    driver.grab()
    assert driver.read_settings().actual_frame_rate_fps == pytest.approx(fixed.fps, rel=READBACK_RELATIVE)
    driver.stop_streaming()


ONCE_SETTINGS = ("exposure_auto", "gain_auto", "white_balance")


def once_mode(settings: CameraSettings, name: str) -> AutoMode:
    return (
        settings.white_balance.mode if name == "white_balance" and settings.white_balance else getattr(settings, name)
    )


@pytest.mark.parametrize("name", ONCE_SETTINGS)
def test_a_once_adjustment_ends_reading_off_with_the_value_it_found(driver: CameraDriver, name: str) -> None:
    features = driver.info().features
    mode_path = "white_balance.mode" if name == "white_balance" else name
    if AutoMode.ONCE.value not in features[mode_path].choices:
        pytest.skip(f"the camera has no one-shot {name}")
    driver.set_exposure_ms(snap(features["exposure_ms"], DARK_EXPOSURE_MS if name != "white_balance" else 20.0))
    driver.set_gain_db(features["gain_db"].minimum or 0.0)
    before = driver.read_settings().settings
    once = (
        replace(before, white_balance=replace(before.white_balance, mode=AutoMode.ONCE))
        if name == "white_balance" and before.white_balance
        else replace(before, **{name: AutoMode.ONCE})
    )
    driver.apply_settings(once, (name,))
    driver.start_streaming()
    for _ in range(ONCE_MAX_FRAMES):
        driver.grab()
        settings = driver.read_settings().settings
        if once_mode(settings, name) is AutoMode.OFF:
            break
    else:
        pytest.fail(f"{name} ONCE did not end within {ONCE_MAX_FRAMES} frames")
    driver.stop_streaming()
    if name == "exposure_auto":
        assert settings.exposure_ms > before.exposure_ms  # it started dark: it found a longer exposure
    elif name == "gain_auto":
        assert settings.gain_db > before.gain_db
    after = driver.read_settings().settings
    assert once_mode(after, name) is AutoMode.OFF
    assert (after.exposure_ms, after.gain_db) == (settings.exposure_ms, settings.gain_db)  # the values it found stay


def test_settings_saved_to_a_channel_load_back_and_channel_zero_restores_the_factory_ones(
    driver_harness: DriverHarness,
) -> None:
    driver = driver_harness.driver
    info = driver.info()
    if info.settings_channels < 1:
        pytest.skip("the camera has no settings channels")
    features = info.features
    power_up = driver.read_settings().settings
    saved = replace(
        power_up,
        exposure_ms=new_value("exposure_ms", power_up, features, sensor(driver)),
        gain_db=new_value("gain_db", power_up, features, sensor(driver)),
        roi=new_value("roi", power_up, features, sensor(driver)),
    )
    driver.apply_settings(saved, ("exposure_ms", "gain_db", "roi"))
    driver.save_settings_to_channel(1)
    driver.apply_settings(power_up, ("exposure_ms", "gain_db", "roi"))
    with pytest.raises(InvalidArgumentError) as caught:
        driver.save_settings_to_channel(info.settings_channels + 1)
    assert caught.value.field == "channel"
    driver_harness.unplug()  # the channels are the camera's non-volatile memory: a power cycle keeps them
    driver.close()
    driver_harness.replug()
    driver.open()
    loaded = driver.load_settings_from_channel(1)
    for name in ("exposure_ms", "gain_db", "roi"):
        assert_reads(getattr(loaded.settings, name), getattr(saved, name), name)
    assert loaded == driver.read_settings()
    factory = driver.load_settings_from_channel(0)
    for name in ("exposure_ms", "gain_db", "roi", "pixel_format", "pixel_addressing"):
        assert_reads(getattr(factory.settings, name), getattr(power_up, name), name)


def divisible_size(info: FeatureInfo, sensor_px: int, divisor: int) -> int:
    """The largest size the feature allows that ``divisor`` divides (a region that suits an addressing factor)."""
    size = int(snap(info, sensor_px))
    assert info.minimum is not None
    while size % divisor:
        size -= int(info.step or 1)
        assert size >= info.minimum, f"no {info.name} is a multiple of {divisor}"
    return size


def test_every_addressing_mode_and_factor_gives_frames_of_the_reported_geometry(driver: CameraDriver) -> None:
    features = driver.info().features
    if not features.supported("pixel_addressing"):
        pytest.skip("the camera has no pixel addressing")
    driver.set_exposure_ms(snap(features["exposure_ms"], SHORT_EXPOSURE_MS))
    current = driver.read_settings().settings
    cell = 2 if current.pixel_format.is_bayer else 1  # a mosaic is addressed per colour: whole 2x2 cells
    modes = [AddressingMode(choice) for choice in features["pixel_addressing.mode"].choices] or [
        AddressingMode.DECIMATE
    ]
    factors = [int(factor) for factor in features["pixel_addressing.horizontal"].values]
    combinations = [PixelAddressing(mode, 2, 2) for mode in modes if 2 in factors]
    combinations += [PixelAddressing(modes[0], factor, factor) for factor in factors]
    width, height = sensor(driver)
    last = 0
    for addressing in combinations:
        roi = Region(
            0,
            0,
            divisible_size(features["roi.width"], width, cell * addressing.horizontal),
            divisible_size(features["roi.height"], height, cell * addressing.vertical),
        )
        target = replace(driver.read_settings().settings, roi=roi, pixel_addressing=addressing)
        validate(target, ("pixel_addressing", "roi"), features, (width, height))
        reading = driver.apply_settings(target, ("pixel_addressing", "roi"))
        assert reading.settings.pixel_addressing == addressing
        assert (reading.geometry.width, reading.geometry.height) == (
            roi.width // addressing.horizontal,
            roi.height // addressing.vertical,
        )
        driver.start_streaming()
        last = assert_frames_match(driver, reading, last)
        driver.stop_streaming()


def test_continuous_auto_exposure_brightens_a_dark_scene(driver: CameraDriver) -> None:
    features = driver.info().features
    if AutoMode.CONTINUOUS.value not in features["exposure_auto"].choices:
        pytest.skip("the camera has no continuous auto exposure")
    driver.set_exposure_ms(snap(features["exposure_ms"], DARK_EXPOSURE_MS))
    driver.apply_settings(
        replace(driver.read_settings().settings, exposure_auto=AutoMode.CONTINUOUS), ("exposure_auto",)
    )
    driver.start_streaming()
    first = driver.grab()
    for _ in range(ONCE_MAX_FRAMES):
        frame = driver.grab()
        if frame.exposure_ms > 2 * first.exposure_ms and np.mean(frame.pixels) > 2 * np.mean(first.pixels):
            break
    else:
        pytest.fail(f"continuous auto exposure did not brighten the frames within {ONCE_MAX_FRAMES} frames")
    settings = driver.read_settings().settings
    driver.stop_streaming()
    assert settings.exposure_auto is AutoMode.CONTINUOUS
    assert settings.exposure_ms > first.exposure_ms  # it reads the exposure it chose
