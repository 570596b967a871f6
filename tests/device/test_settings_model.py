"""The settings model: field paths, partial merges and validation against reported capabilities."""

from __future__ import annotations

import math

import pytest

from camera_grpc.device.settings import (
    FEATURE_NAMES,
    SETTING_FIELDS,
    AddressingMode,
    AutoMode,
    CameraSettings,
    FeatureInfo,
    Features,
    FeatureUnsupportedError,
    Flip,
    FrameRate,
    Gpio,
    GpioMode,
    PixelAddressing,
    Range,
    Region,
    Trigger,
    TriggerSource,
    changed_fields,
    get_path,
    is_known_path,
    merge,
    set_path,
    validate,
)
from camera_grpc.errors import InvalidSettingError
from camera_grpc.formats import PixelFormat

SENSOR = (640, 480)
SETTINGS = CameraSettings(
    exposure_ms=10.0,
    gain_db=0.0,
    roi=Region(0, 0, 640, 480),
    pixel_addressing=PixelAddressing(),
    pixel_format=PixelFormat.MONO8,
    frame_rate=FrameRate(),
)
FEATURES = Features(
    [
        FeatureInfo("exposure_ms", minimum=0.01, maximum=10_000.0),
        FeatureInfo("gain_db", minimum=0.0, maximum=24.0),
        FeatureInfo("roi.offset_x", minimum=0, maximum=576, step=2, settable_while_streaming=False),
        FeatureInfo("roi.offset_y", minimum=0, maximum=416, step=2, settable_while_streaming=False),
        FeatureInfo("roi.width", minimum=64, maximum=640, step=8, settable_while_streaming=False),
        FeatureInfo("roi.height", minimum=64, maximum=480, step=8, settable_while_streaming=False),
        FeatureInfo("pixel_addressing.mode", choices=("decimate", "bin"), settable_while_streaming=False),
        FeatureInfo("pixel_addressing.horizontal", values=(1, 2, 4), settable_while_streaming=False),
        FeatureInfo("pixel_addressing.vertical", values=(1, 2, 4), settable_while_streaming=False),
        FeatureInfo("pixel_format", choices=("mono8", "mono16"), settable_while_streaming=False),
        FeatureInfo("exposure_auto", choices=("off", "once")),
    ]
)


def test_every_feature_name_is_a_path_of_the_settings() -> None:
    for name in FEATURE_NAMES:
        head = name.split(".")[0]
        assert head in SETTING_FIELDS, name
    assert set(SETTING_FIELDS) == set(CameraSettings.__dataclass_fields__)


def test_paths_read_and_write_nested_values_without_mutating() -> None:
    changed = set_path(SETTINGS, "roi.width", 320)
    assert get_path(changed, "roi.width") == 320
    assert SETTINGS.roi.width == 640
    assert is_known_path("roi") and is_known_path("roi.width") and not is_known_path("roi.depth")


def test_merge_takes_only_the_named_paths() -> None:
    requested = set_path(set_path(SETTINGS, "roi.width", 320), "gain_db", 6.0)
    merged = merge(SETTINGS, requested, ["roi.width"])
    assert merged.roi.width == 320
    assert merged.gain_db == 0.0
    assert changed_fields(SETTINGS, merged) == ("roi",)


def test_valid_settings_pass() -> None:
    target = set_path(SETTINGS, "roi", Region(64, 32, 320, 240))
    validate(target, ["roi", "exposure_ms"], FEATURES, SENSOR)


@pytest.mark.parametrize(
    ("path", "value", "words"),
    [
        ("exposure_ms", math.nan, "between 0.01 and 10000 (milliseconds)"),
        ("exposure_ms", math.inf, "between 0.01 and 10000"),
        ("gain_db", 30.0, "between 0 and 24 (dB)"),
        ("roi.width", 321, "multiple of the step 8"),
        ("roi.offset_x", 3, "multiple of the step 2"),
        ("roi.width", 32, "between 64 and 640"),
        ("pixel_addressing.horizontal", 3, "one of 1, 2, 4"),
        ("pixel_addressing.mode", AddressingMode.AVERAGE, "one of decimate, bin"),
        ("pixel_format", PixelFormat.BAYER8_RGGB, "one of mono8, mono16"),
        ("exposure_auto", AutoMode.CONTINUOUS, "one of off, once"),
    ],
)
def test_bad_values_are_refused_naming_the_field_and_the_rule(path: str, value: object, words: str) -> None:
    with pytest.raises(InvalidSettingError) as caught:
        validate(set_path(SETTINGS, path, value), [path.split(".")[0]], FEATURES, SENSOR)
    assert caught.value.field == path
    assert words in str(caught.value)


def test_a_region_past_the_sensor_edge_names_the_largest_that_fits() -> None:
    target = set_path(SETTINGS, "roi", Region(128, 0, 576, 480))
    with pytest.raises(InvalidSettingError) as caught:
        validate(target, ["roi"], FEATURES, SENSOR)
    assert caught.value.field == "roi.width"
    assert "largest width is 512" in str(caught.value)


def test_a_feature_the_camera_lacks_is_refused_unless_the_value_asks_for_nothing() -> None:
    validate(set_path(SETTINGS, "flip", Flip()), ["flip"], FEATURES, SENSOR)  # neutral: fine
    with pytest.raises(FeatureUnsupportedError) as caught:
        validate(set_path(SETTINGS, "flip", Flip(horizontal=True)), ["flip"], FEATURES, SENSOR)
    assert caught.value.field == "flip.horizontal"
    with pytest.raises(FeatureUnsupportedError):
        validate(set_path(SETTINGS, "gamma", 2.2), ["gamma"], FEATURES, SENSOR)


def test_auto_limits_are_checked_as_a_range() -> None:
    features = Features(
        [info for info in (FEATURES[n] for n in FEATURE_NAMES) if info.supported]
        + [FeatureInfo("exposure_auto_limits_ms", minimum=0.01, maximum=1000.0)]
    )
    validate(
        set_path(SETTINGS, "exposure_auto_limits_ms", Range(1, 100)), ["exposure_auto_limits_ms"], features, SENSOR
    )
    with pytest.raises(InvalidSettingError, match="minimum must not exceed maximum"):
        validate(
            set_path(SETTINGS, "exposure_auto_limits_ms", Range(100, 1)), ["exposure_auto_limits_ms"], features, SENSOR
        )


def test_capabilities_report_what_streaming_allows() -> None:
    assert not FEATURES.settable_while_streaming("roi")
    assert FEATURES.settable_while_streaming("exposure_ms")
    assert FEATURES.supported("roi") and not FEATURES.supported("flip")
    assert not FEATURES["white_balance.red"].supported
    assert FEATURES["exposure_ms"].unit == "milliseconds"


def test_trigger_and_gpio_are_checked_like_the_other_settings() -> None:
    features = Features(
        [
            FeatureInfo("trigger.source", choices=("free_running", "software")),
            FeatureInfo("trigger.delay_ms", minimum=0.0, maximum=10_000.0),
            FeatureInfo("gpio.line", values=(1, 2)),
            FeatureInfo("gpio.mode", choices=("off", "strobe")),
            FeatureInfo("gpio.duration_ms", minimum=0.0, maximum=1000.0),
        ]
    )
    software = set_path(SETTINGS, "trigger", Trigger(source=TriggerSource.SOFTWARE))
    validate(software, ["trigger"], features, SENSOR)
    with pytest.raises(InvalidSettingError, match="one of free_running, software"):
        validate(set_path(SETTINGS, "trigger", Trigger(source=TriggerSource.HARDWARE)), ["trigger"], features, SENSOR)
    strobe = (Gpio(line=2, mode=GpioMode.STROBE, duration_ms=5.0),)
    validate(set_path(SETTINGS, "gpio", strobe), ["gpio"], features, SENSOR)
    with pytest.raises(InvalidSettingError) as caught:
        validate(set_path(SETTINGS, "gpio", (Gpio(line=3),)), ["gpio"], features, SENSOR)
    assert caught.value.field == "gpio.line"
    with pytest.raises(FeatureUnsupportedError):  # a camera without frames per trigger: only the default is fine
        validate(set_path(SETTINGS, "trigger", Trigger(frames_per_trigger=5)), ["trigger"], features, SENSOR)
