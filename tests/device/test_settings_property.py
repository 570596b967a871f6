"""Property test: random setting combinations through ``apply_settings`` on the PixeLINK driver and the emulator.

Each example draws a few top-level settings (region, pixel addressing, pixel format, flip, frame rate, exposure,
free-running or software trigger, GPIO lines),
mostly on the camera's grid and sometimes off it or beyond its limits, and applies them as the service does
(merged with the current settings, :func:`camera_grpc.device.settings.validate` first, then ``apply_settings``)
while the camera streams. Properties:

* an accepted combination is what the camera reports afterwards, and the next grabbed frame has exactly the
  reported geometry (width, height, delivered pixel format, bit depth, sample type);
* a refused one (by ``validate``, or by the camera after validate passed, e.g. a frame rate above the limit of
  the larger region written before it) leaves ``read_settings()`` as it was, and the stream running.

Deterministic (``derandomize``: the examples follow from the test's source, no example database) and bounded
(:data:`EXAMPLES` per camera profile, short exposures, frame rates of at least :data:`MIN_FPS`).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from camera_grpc.device.settings import (
    AddressingMode,
    FeatureInfo,
    Features,
    FeatureUnsupportedError,
    Flip,
    FrameRate,
    FrameRateMode,
    Gpio,
    GpioMode,
    PixelAddressing,
    Region,
    Trigger,
    TriggerEdge,
    TriggerMode,
    TriggerSource,
    validate,
)
from camera_grpc.errors import InvalidSettingError
from camera_grpc.formats import PixelFormat
from tests.support.pxlemu import EmulatorControl

SERIAL = 700000001
#: The two emulated cameras: mono (steps 8) and colour (Bayer, ROI steps 32/8), both small.
PROFILES = {
    "mono": f"cameras={SERIAL}:640x480",
    "colour": f"cameras={SERIAL}@colour:640x480",
}
#: Examples per profile (about 0.1 s each).
EXAMPLES = 60
#: Bounds that keep every grab short: exposure at most this, fixed frame rates at least this.
MAX_EXPOSURE_MS = 20.0
MIN_FPS = 20.0
#: How far beyond a limit an out-of-range draw may go: in steps (integers), as a factor (frame rates).
OVERSHOOT_STEPS = 2
OVERSHOOT_FACTOR = 1.5
#: Relative tolerance of a read-back exposure and frame rate (the camera rounds).
READBACK_RELATIVE = 0.01
#: The top-level settings the examples draw.
SETTINGS_UNDER_TEST = (
    "roi",
    "pixel_addressing",
    "pixel_format",
    "flip",
    "frame_rate",
    "exposure_ms",
    "trigger",
    "gpio",
)
#: Trigger delays drawn (a software trigger's grab waits this long more), and frames per trigger, at most.
MAX_TRIGGER_DELAY_MS = 5.0
MAX_FRAMES_PER_TRIGGER = 5
#: GPIO strobe times drawn, milliseconds, in steps of 0.1 ms (0 duration: a strobe the camera refuses).
MAX_STROBE_MS = 5.0
STROBE_STEP_MS = 0.1


@pytest.fixture(params=sorted(PROFILES))
def camera(
    request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch, emulator: EmulatorControl, emulator_dir: Path
) -> Iterator[Any]:
    monkeypatch.setenv("PXLEMU_CONFIG", PROFILES[request.param])
    monkeypatch.setenv("PIXELINK_SDK_LIB", str(emulator_dir))
    emulator.reset()
    from camera_grpc.device.pixelink import PixelinkCamera

    driver = PixelinkCamera()
    driver.open()
    try:
        yield driver
    finally:
        driver.close()


def on_grid_or_not(info: FeatureInfo) -> st.SearchStrategy[int]:
    """Values of a stepped integer feature: mostly on its grid, sometimes anywhere near or beyond its range."""
    assert info.minimum is not None and info.maximum is not None
    step = int(info.step or 1)
    low, high = int(info.minimum), int(info.maximum)
    on_grid = st.integers(0, (high - low) // step).map(lambda k: low + k * step)
    anywhere = st.integers(low - OVERSHOOT_STEPS * step, high + OVERSHOOT_STEPS * step)
    return st.one_of(on_grid, on_grid, on_grid, anywhere)


def changes_strategy(features: Features) -> st.SearchStrategy[dict[str, Any]]:
    """Some of the settings under test (by top-level name), within and sometimes beyond what ``features`` describe."""
    factors = st.sampled_from([int(v) for v in features["pixel_addressing.horizontal"].values])
    fps_max = features["frame_rate.fps"].maximum or MIN_FPS
    makers: dict[str, st.SearchStrategy[Any]] = {
        "roi": st.builds(
            Region, *(on_grid_or_not(features[f"roi.{part}"]) for part in ("offset_x", "offset_y", "width", "height"))
        ),
        "pixel_addressing": st.builds(
            PixelAddressing,
            st.sampled_from(features["pixel_addressing.mode"].choices).map(AddressingMode),
            factors,
            factors,
        ),
        "pixel_format": st.sampled_from(features["pixel_format"].choices).map(PixelFormat),
        "flip": st.builds(Flip, st.booleans(), st.booleans()),
        "frame_rate": st.one_of(
            st.just(FrameRate(FrameRateMode.FREE, MIN_FPS)),
            st.floats(MIN_FPS, fps_max * OVERSHOOT_FACTOR).map(
                lambda fps: FrameRate(FrameRateMode.FIXED, round(fps, 1))
            ),
        ),
        "exposure_ms": st.floats(features["exposure_ms"].minimum or 0.0, MAX_EXPOSURE_MS).map(lambda ms: round(ms, 3)),
        # free-running or software (each grab fires one trigger); delays and frame counts sometimes out of range
        "trigger": st.builds(
            Trigger,
            st.sampled_from((TriggerSource.FREE_RUNNING, TriggerSource.SOFTWARE)),
            st.sampled_from(features["trigger.mode"].choices).map(TriggerMode),
            st.sampled_from(tuple(TriggerEdge)),
            st.floats(-1.0, MAX_TRIGGER_DELAY_MS).map(lambda ms: round(ms, 1)),
            st.integers(0, MAX_FRAMES_PER_TRIGGER),
        ),
        # every line: the last one (an output) strobes, is driven, or is off; a zero strobe the camera refuses
        "gpio": st.one_of(
            st.builds(
                lambda high, delay, duration: lines_with(features, Gpio(0, GpioMode.STROBE, high, delay, duration)),
                st.booleans(),
                st.floats(0.0, MAX_STROBE_MS).map(lambda ms: round(ms, 1)),
                st.one_of(st.just(0.0), st.floats(STROBE_STEP_MS, MAX_STROBE_MS).map(lambda ms: round(ms, 1))),
            ),
            st.builds(lambda high: lines_with(features, Gpio(0, GpioMode.NORMAL, high)), st.booleans()),
            st.just(lines_with(features, Gpio(0))),
        ),
    }
    assert set(makers) == set(SETTINGS_UNDER_TEST)
    names = st.sets(st.sampled_from(SETTINGS_UNDER_TEST), min_size=1)
    return names.flatmap(lambda chosen: st.fixed_dictionaries({name: makers[name] for name in sorted(chosen)}))


def lines_with(features: Features, last: Gpio) -> tuple[Gpio, ...]:
    """Every GPIO line off but the last, which is ``last`` (its line number filled in)."""
    numbers = [int(line) for line in features["gpio.line"].values]
    return (*(Gpio(number) for number in numbers[:-1]), replace(last, line=numbers[-1]))


def test_random_combinations_give_the_reported_geometry_or_change_nothing(camera: Any) -> None:
    # An example starts from the full sensor or from its smallest region, whose frame-rate limit is higher: a
    # rate valid there is refused by the camera once a larger region has been written (after validate passed).
    initial = camera.read_settings().settings
    full = camera.info().features
    smallest = Region(0, 0, int(full["roi.width"].minimum or 0), int(full["roi.height"].minimum or 0))
    starts = {"full sensor": initial, "smallest region": replace(initial, roi=smallest)}
    camera.apply_settings(starts["smallest region"], ("roi",))
    fastest = camera.info().features["frame_rate.fps"].maximum or 0.0
    between = FrameRate(FrameRateMode.FIXED, round(((full["frame_rate.fps"].maximum or 0.0) + fastest) / 2))
    camera.start_streaming()
    outcomes = {"applied": 0, "refused by validate": 0, "refused by the camera": 0}
    sensor_region = Region(0, 0, int(full["roi.width"].maximum or 0), int(full["roi.height"].maximum or 0))
    other_format = PixelFormat(full["pixel_format"].choices[-1])

    @settings(
        max_examples=EXAMPLES,
        derandomize=True,
        database=None,
        deadline=None,
        suppress_health_check=[HealthCheck.too_slow],
    )
    @given(start=st.sampled_from(sorted(starts)), changes=changes_strategy(full))
    # Always tried: a larger region with a rate only the smaller one allows (the camera refuses the rate after the
    # region, and the format, were written: all must be restored).
    @example(start="smallest region", changes={"roi": sensor_region, "frame_rate": between})
    @example(
        start="smallest region", changes={"pixel_format": other_format, "roi": sensor_region, "frame_rate": between}
    )
    # Always tried: a software trigger with a delay and a strobe with both times, with a new region around them.
    @example(
        start="full sensor",
        changes={
            "roi": smallest,
            "trigger": Trigger(TriggerSource.SOFTWARE, TriggerMode.EDGE, TriggerEdge.FALLING, 2.5, 1),
            "gpio": lines_with(full, Gpio(0, GpioMode.STROBE, True, delay_ms=1.5, duration_ms=2.5)),
        },
    )
    def check(start: str, changes: dict[str, Any]) -> None:
        camera.apply_settings(starts[start], SETTINGS_UNDER_TEST)
        info = camera.info()
        before = camera.read_settings()
        target = replace(before.settings, **changes)
        refused_by = "validate"
        try:
            validate(target, tuple(changes), info.features, (info.sensor_width, info.sensor_height))
            refused_by = "the camera"
            reading = camera.apply_settings(target, tuple(changes))
        except (InvalidSettingError, FeatureUnsupportedError):
            outcomes[f"refused by {refused_by}"] += 1
            assert camera.read_settings() == before
            assert camera.is_streaming
            return
        outcomes["applied"] += 1
        applied = reading.settings
        for name in ("roi", "pixel_addressing", "pixel_format", "flip"):
            if name in changes:
                assert getattr(applied, name) == changes[name]
        if "exposure_ms" in changes:
            assert applied.exposure_ms == pytest.approx(changes["exposure_ms"], rel=READBACK_RELATIVE)
        if "frame_rate" in changes:
            assert applied.frame_rate.mode is changes["frame_rate"].mode
        if "trigger" in changes:  # free-running keeps no trigger configuration
            free = changes["trigger"].source is TriggerSource.FREE_RUNNING
            assert applied.trigger == (Trigger() if free else changes["trigger"])
        if "gpio" in changes:
            assert applied.gpio == changes["gpio"]
        geometry = reading.geometry
        assert geometry.width == applied.roi.width // applied.pixel_addressing.horizontal
        assert geometry.height == applied.roi.height // applied.pixel_addressing.vertical
        frame = camera.grab()
        assert (frame.width, frame.height) == (geometry.width, geometry.height)
        assert (frame.pixel_format, frame.bit_depth) == (geometry.pixel_format, geometry.bit_depth)
        assert frame.pixels.dtype == np.dtype(geometry.pixel_format.sample_type)
        assert geometry.pixel_format is applied.pixel_format.delivered or applied.flip != Flip()
        assert camera.read_settings().geometry == geometry

    check()
    assert all(outcomes.values()), outcomes  # every property was exercised
