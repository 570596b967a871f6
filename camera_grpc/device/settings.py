"""Camera settings and capabilities: the domain model every layer shares.

A :class:`CameraSettings` is one immutable snapshot of everything a client can set
(exposure, gain, region, pixel addressing, frame rate, pixel format, auto modes,
colour, tone, flip). Drivers read and write it; the core keeps the one a client
asked for, persists it, and publishes it with a revision; the rpc layer translates
it to ``camera.v1.CameraSettings``. Snapshots cross threads; they are never mutated.

A :class:`FeatureInfo` describes one settable field *as the camera reports it*
(supported or not, limits, step, allowed values, whether it can change while
streaming). Field names are the API's field paths (``exposure_ms``, ``roi.width``,
``pixel_addressing.mode``), the same strings a ``FieldMask`` carries, so an error,
a capability and a mask entry all name a setting the same way.

Nothing here knows a PixeLINK model: drivers build :class:`FeatureInfo` from what
the camera reports (the PixeLINK driver from ``getCameraFeatures``, the simulator
from its own constants).
"""

from __future__ import annotations

import enum
import math
from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass, fields, is_dataclass, replace
from typing import Any

from camera_grpc.errors import CameraServiceError, InvalidSettingError, unit_of
from camera_grpc.formats import PixelFormat


@dataclass(frozen=True)
class Range:
    """A closed interval ``[minimum, maximum]`` in the unit of the field that holds it."""

    minimum: float
    maximum: float

    def __contains__(self, value: object) -> bool:
        return isinstance(value, (int, float)) and self.minimum <= value <= self.maximum


class AutoMode(enum.Enum):
    """How the camera adjusts a setting by itself."""

    OFF = "off"  #: the client's value is used (manual)
    CONTINUOUS = "continuous"  #: the camera adjusts it on every frame
    ONCE = "once"  #: one adjustment; the mode reads OFF again when it has ended


class AddressingMode(enum.Enum):
    """How pixel addressing combines a block of sensor pixels into one image pixel."""

    DECIMATE = "decimate"  #: keep one pixel (of each colour) per block
    AVERAGE = "average"  #: average the block's pixels (of each colour)
    BIN = "bin"  #: sum the block's pixels (of each colour); brighter
    RESAMPLE = "resample"  #: convert the block to one colour pixel


class FrameRateMode(enum.Enum):
    """Whether the camera runs at a set frame rate or as fast as exposure and readout allow."""

    FREE = "free"
    FIXED = "fixed"


@dataclass(frozen=True)
class Region:
    """A rectangle of the sensor, in sensor pixels (before pixel addressing, unflipped)."""

    offset_x: int
    offset_y: int
    width: int
    height: int


@dataclass(frozen=True)
class PixelAddressing:
    """Binning or decimation: ``horizontal`` x ``vertical`` sensor pixels make one image pixel."""

    mode: AddressingMode = AddressingMode.DECIMATE
    horizontal: int = 1
    vertical: int = 1


@dataclass(frozen=True)
class FrameRate:
    """The frame-rate target: ``fps`` is used when ``mode`` is FIXED (the camera may deliver less)."""

    mode: FrameRateMode = FrameRateMode.FREE
    fps: float = 0.0


@dataclass(frozen=True)
class WhiteBalance:
    """Colour cameras: per-channel gains (1.0 is unity); ``mode`` ONCE balances once, then reads OFF."""

    mode: AutoMode = AutoMode.OFF
    red: float = 1.0
    green: float = 1.0
    blue: float = 1.0


class TriggerSource(enum.Enum):
    """What starts an exposure."""

    FREE_RUNNING = "free_running"  #: nothing: the camera takes frames continuously
    SOFTWARE = "software"  #: a program (``SoftwareTrigger``, ``Capture``)
    HARDWARE = "hardware"  #: an edge on the camera's trigger input


class TriggerMode(enum.Enum):
    """How a trigger turns into exposures (the SDK's trigger modes)."""

    EDGE = "edge"  #: one exposure of exposure_ms per trigger (SDK mode 0)
    PULSE_WIDTH = "pulse_width"  #: the exposure lasts as long as the pulse (SDK mode 1)
    BURST = "burst"  #: frames_per_trigger frames per trigger (SDK mode 4)
    SEQUENCE = "sequence"  #: frames_per_trigger frames at the frame rate, indexed (SDK mode 14)


class TriggerEdge(enum.Enum):
    """The edge of the trigger input that starts an exposure."""

    RISING = "rising"
    FALLING = "falling"


@dataclass(frozen=True)
class Trigger:
    """The trigger configuration (free-running by default)."""

    source: TriggerSource = TriggerSource.FREE_RUNNING
    mode: TriggerMode = TriggerMode.EDGE
    edge: TriggerEdge = TriggerEdge.RISING
    delay_ms: float = 0.0  #: from the trigger to the start of the exposure
    frames_per_trigger: int = 1  #: BURST and SEQUENCE


class GpioMode(enum.Enum):
    """What a GPIO line does."""

    OFF = "off"  #: not driven
    STROBE = "strobe"  #: a pulse of duration_ms, delay_ms after each exposure starts
    NORMAL = "normal"  #: a static level (active_high: high)
    PULSE = "pulse"  #: pulse_count pulses of duration_ms every interval_ms, once, when set
    BUSY = "busy"  #: active while the camera cannot accept a trigger
    FLASH = "flash"  #: active while the sensor exposes
    INPUT = "input"  #: an input (levels read with the camera's I/O status; edges are events)


@dataclass(frozen=True)
class Gpio:
    """One GPIO line's configuration."""

    line: int  #: 1-based, as the camera numbers its lines
    mode: GpioMode = GpioMode.OFF
    active_high: bool = True
    delay_ms: float = 0.0  #: STROBE
    duration_ms: float = 0.0  #: STROBE, PULSE
    pulse_count: int = 0  #: PULSE
    interval_ms: float = 0.0  #: PULSE


@dataclass(frozen=True)
class Flip:
    """Mirror the image left-right (``horizontal``) and/or top-bottom (``vertical``)."""

    horizontal: bool = False
    vertical: bool = False


@dataclass(frozen=True)
class CameraSettings:
    """Everything a client can set. Optional fields are None when the camera lacks the feature."""

    exposure_ms: float
    gain_db: float
    roi: Region
    pixel_addressing: PixelAddressing
    pixel_format: PixelFormat  #: the camera's format (MONO12_PACKED is delivered as MONO16)
    frame_rate: FrameRate
    exposure_auto: AutoMode = AutoMode.OFF
    exposure_auto_limits_ms: Range | None = None  #: the range auto exposure stays in
    gain_auto: AutoMode = AutoMode.OFF
    white_balance: WhiteBalance | None = None
    black_level_pct: float | None = None
    gamma: float | None = None  #: 1.0 is linear (also how a camera with gamma switched off reads)
    flip: Flip = Flip()
    saturation_pct: float | None = None
    trigger: Trigger = Trigger()
    gpio: tuple[Gpio, ...] = ()  #: the configured lines (a line not listed is left as the camera has it)


#: The top-level settings in the order drivers apply them: the pixel format and addressing decide the
#: valid regions, the region and exposure decide the frame-rate limits, auto modes come after the values
#: they override.
SETTING_FIELDS: tuple[str, ...] = (
    "pixel_format",
    "pixel_addressing",
    "roi",
    "flip",
    "trigger",
    "exposure_auto_limits_ms",
    "exposure_ms",
    "exposure_auto",
    "frame_rate",
    "gain_db",
    "gain_auto",
    "white_balance",
    "black_level_pct",
    "gamma",
    "saturation_pct",
    "gpio",
)
#: Settings that hold a list (a FieldMask names them whole: AIP-134 replaces repeated fields).
LIST_FIELDS = frozenset({"gpio"})
#: Settings that change the frames' geometry (size, layout): changing them restarts acquisition.
GEOMETRY_FIELDS = frozenset({"pixel_format", "pixel_addressing", "roi", "flip"})


@dataclass(frozen=True)
class ImageGeometry:
    """Size and layout of the frames the camera currently delivers."""

    width: int  #: pixels
    height: int  #: pixels
    pixel_format: PixelFormat  #: as delivered (MONO12_PACKED arrives as MONO16)
    bit_depth: int  #: significant bits per sample


@dataclass(frozen=True)
class SettingsReading:
    """Settings read from the camera, with what they result in."""

    settings: CameraSettings
    geometry: ImageGeometry
    actual_frame_rate_fps: float  #: what the camera achieves now (0 when it cannot say)


@dataclass(frozen=True)
class FeatureInfo:
    """One setting as the camera reports it. ``name`` is the field path (``roi.width``)."""

    name: str
    supported: bool = True
    minimum: float | None = None  #: in the field's unit (see :func:`camera_grpc.errors.unit_of`)
    maximum: float | None = None
    step: float | None = None  #: values must be ``minimum + k * step`` (None: any value in range)
    choices: tuple[str, ...] = ()  #: allowed enum values (API names: ``mono8``, ``bin``, ``once``)
    values: tuple[float, ...] = ()  #: allowed discrete numbers (pixel addressing factors)
    settable_while_streaming: bool = True  #: False: setting it stops and restarts acquisition

    @property
    def unit(self) -> str:
        """The unit the name declares (``milliseconds`` for ``exposure_ms``, ``frames per second`` for
        ``frame_rate.fps``: the path's last part may be the suffix itself)."""
        return unit_of(self.name.replace(".", "_"))


#: The field paths a camera describes (every leaf of :class:`CameraSettings`), in a stable order.
FEATURE_NAMES: tuple[str, ...] = (
    "exposure_ms",
    "gain_db",
    "roi.offset_x",
    "roi.offset_y",
    "roi.width",
    "roi.height",
    "pixel_addressing.mode",
    "pixel_addressing.horizontal",
    "pixel_addressing.vertical",
    "pixel_format",
    "frame_rate.mode",
    "frame_rate.fps",
    "exposure_auto",
    "exposure_auto_limits_ms",
    "gain_auto",
    "white_balance.mode",
    "white_balance.red",
    "white_balance.green",
    "white_balance.blue",
    "black_level_pct",
    "gamma",
    "flip.horizontal",
    "flip.vertical",
    "saturation_pct",
    "trigger.source",
    "trigger.mode",
    "trigger.edge",
    "trigger.delay_ms",
    "trigger.frames_per_trigger",
    "gpio.line",
    "gpio.mode",
    "gpio.active_high",
    "gpio.delay_ms",
    "gpio.duration_ms",
    "gpio.pulse_count",
    "gpio.interval_ms",
)


class FeatureUnsupportedError(CameraServiceError):
    """A request sets a feature the camera does not have (FAILED_PRECONDITION; ``field`` names it)."""

    def __init__(self, field: str, camera: str = "the camera") -> None:
        super().__init__(f"{field}: {camera} does not have this feature (see GetCameraInfo features)")
        self.field = field


class TriggerModeError(FeatureUnsupportedError):
    """A software trigger was asked for while ``trigger.source`` is not software (FAILED_PRECONDITION)."""

    def __init__(self, source: TriggerSource) -> None:
        CameraServiceError.__init__(
            self,
            f"trigger.source is {source.value}: a software trigger needs trigger.source {TriggerSource.SOFTWARE.value}",
        )
        self.field = "trigger.source"


class Features(Mapping[str, FeatureInfo]):
    """The camera's :class:`FeatureInfo` by field path; paths it does not describe are unsupported."""

    def __init__(self, infos: Iterable[FeatureInfo]) -> None:
        self._infos = {info.name: info for info in infos}

    def __getitem__(self, name: str) -> FeatureInfo:
        return self._infos.get(name) or FeatureInfo(name, supported=False)

    def __iter__(self):  # type: ignore[no-untyped-def]
        return iter(FEATURE_NAMES)

    def __len__(self) -> int:
        return len(FEATURE_NAMES)

    def __repr__(self) -> str:
        return f"Features({list(self._infos.values())!r})"

    def supported(self, field: str) -> bool:
        """Whether any path at or under ``field`` (``roi`` or ``roi.width``) is supported."""
        return any(
            info.supported for name, info in self._infos.items() if name == field or name.startswith(field + ".")
        )

    def settable_while_streaming(self, field: str) -> bool:
        """Whether every supported path at or under ``field`` can change while the camera streams."""
        return all(
            info.settable_while_streaming
            for name, info in self._infos.items()
            if info.supported and (name == field or name.startswith(field + "."))
        )


# -- field paths --------------------------------------------------------------------------------------


def get_path(settings: Any, path: str) -> Any:
    """The value at a dotted field path (``roi.width``)."""
    value = settings
    for part in path.split("."):
        value = getattr(value, part)
    return value


def set_path(settings: Any, path: str, value: Any) -> Any:
    """A copy of ``settings`` with the dotted field path set to ``value``."""
    head, _, rest = path.partition(".")
    if not rest:
        return replace(settings, **{head: value})
    return replace(settings, **{head: set_path(getattr(settings, head), rest, value)})


def is_known_path(path: str) -> bool:
    """Whether ``path`` names a setting or a part of one (``roi``, ``roi.width``, ``exposure_ms``)."""
    return path in SETTING_FIELDS or path in FEATURE_NAMES


def merge(current: CameraSettings, requested: CameraSettings, paths: Collection[str]) -> CameraSettings:
    """``current`` with the values at ``paths`` taken from ``requested`` (an AIP-134 partial update)."""
    merged = current
    for path in paths:
        merged = set_path(merged, path, get_path(requested, path))
    return merged


def changed_fields(before: CameraSettings, after: CameraSettings) -> tuple[str, ...]:
    """The top-level settings that differ, in :data:`SETTING_FIELDS` order."""
    return tuple(name for name in SETTING_FIELDS if getattr(before, name) != getattr(after, name))


# -- validation ---------------------------------------------------------------------------------------


def validate(
    target: CameraSettings, fields_to_set: Collection[str], features: Features, sensor: tuple[int, int]
) -> None:
    """Refuse what the camera's reported capabilities exclude, before any camera work.

    Checks every leaf under ``fields_to_set`` (top-level names): numbers finite and within
    ``[minimum, maximum]``, on the step grid, in the allowed values; enums among the choices;
    the region inside the ``sensor`` (width, height) at its offset. Raises
    :class:`FeatureUnsupportedError` for a feature the camera lacks, and
    :class:`~camera_grpc.errors.InvalidSettingError` naming the field, the rule and the unit otherwise.
    """
    for top in fields_to_set:
        value = getattr(target, top)
        if value is None:
            continue
        for path, leaf in _leaves(top, value):
            if path == "frame_rate.fps" and target.frame_rate.mode is FrameRateMode.FREE:
                continue  # not used while free (it reads the rate the camera runs at, whose limit moves)
            described = path in FEATURE_NAMES or features.supported(path)
            _check_leaf(path, leaf, features[path] if described else features[top])
    if "roi" in fields_to_set:
        _check_region(target.roi, sensor)


def _leaves(path: str, value: Any) -> Iterable[tuple[str, Any]]:
    if isinstance(value, tuple):  # a list setting (gpio): each item's leaves, under the list's path
        for item in value:
            yield from _leaves(path, item)
    elif is_dataclass(value) and not isinstance(value, Range):
        for field in fields(value):
            yield from _leaves(f"{path}.{field.name}", getattr(value, field.name))
    else:
        yield path, value


def _check_leaf(path: str, value: Any, info: FeatureInfo) -> None:
    if not info.supported:
        if _is_neutral(path, value):
            return  # e.g. flip off, factor 1, auto off on a camera without the feature: nothing to do
        raise FeatureUnsupportedError(path)
    if isinstance(value, enum.Enum):
        if info.choices and value.value not in info.choices:
            raise InvalidSettingError(path, value.value, reason=f"must be one of {', '.join(info.choices)}")
        return
    if isinstance(value, bool):
        return
    if isinstance(value, Range):
        for bound in (value.minimum, value.maximum):
            _check_number(path, bound, info)
        if value.minimum > value.maximum:
            raise InvalidSettingError(path, (value.minimum, value.maximum), reason="minimum must not exceed maximum")
        return
    _check_number(path, value, info)


def _check_number(path: str, value: Any, info: FeatureInfo) -> None:
    number = isinstance(value, (int, float)) and not isinstance(value, bool)
    unit = info.unit
    in_unit = f" ({unit})" if unit else ""
    if not number or not math.isfinite(value):
        if info.minimum is not None and info.maximum is not None:
            raise InvalidSettingError(path, value, minimum=info.minimum, maximum=info.maximum)
        raise InvalidSettingError(path, value, reason="must be a finite number")
    if info.values:
        if not any(math.isclose(value, allowed) for allowed in info.values):
            allowed_text = ", ".join(f"{allowed:g}" for allowed in info.values)
            raise InvalidSettingError(path, value, reason=f"must be one of {allowed_text}{in_unit}")
        return
    if info.minimum is not None and info.maximum is not None and not info.minimum <= value <= info.maximum:
        raise InvalidSettingError(path, value, minimum=info.minimum, maximum=info.maximum)
    if info.step:
        base = info.minimum or 0.0
        steps = (value - base) / info.step
        if not math.isclose(steps, round(steps), abs_tol=1e-6):
            raise InvalidSettingError(
                path,
                value,
                minimum=info.minimum,
                maximum=info.maximum,
                reason=f"must be a multiple of the step {info.step:g}{in_unit}" + (f" from {base:g}" if base else ""),
            )


def _is_neutral(path: str, value: Any) -> bool:
    """Whether a value of an unsupported feature asks for nothing (its default)."""
    if path in _NEUTRAL_LEAVES:
        return bool(value == _NEUTRAL_LEAVES[path])
    return value in (None, False, AutoMode.OFF)


#: The defaults of the settings that are messages: what a camera without the feature reads.
_NEUTRAL_LEAVES: dict[str, Any] = {
    path: leaf
    for top, default in (
        ("pixel_addressing", PixelAddressing()),
        ("frame_rate", FrameRate()),
        ("flip", Flip()),
        ("trigger", Trigger()),
        ("gpio", Gpio(line=0)),
    )
    for path, leaf in _leaves(top, default)
}


def _check_region(roi: Region, sensor: tuple[int, int]) -> None:
    """The region must lie on the sensor. (Sizes need not divide by the addressing factors: as the
    SDK does, frames are ``roi.width // horizontal`` by ``roi.height // vertical`` pixels.)"""
    sensor_width, sensor_height = sensor
    for axis, offset, size, limit in (
        ("x", roi.offset_x, roi.width, sensor_width),
        ("y", roi.offset_y, roi.height, sensor_height),
    ):
        size_name = "width" if axis == "x" else "height"
        if offset + size > limit:
            raise InvalidSettingError(
                f"roi.{size_name}",
                size,
                minimum=0,
                maximum=max(limit - offset, 0),
                reason=f"roi.offset_{axis} + roi.{size_name} = {offset + size} exceeds the sensor's "
                f"{size_name} of {limit} pixels (at offset {offset} the largest {size_name} is {limit - offset})",
            )


def describe(settings: CameraSettings) -> str:
    """A short human summary for logs."""
    roi = settings.roi
    return (
        f"exposure {settings.exposure_ms:.4g} ms ({settings.exposure_auto.value}), gain {settings.gain_db:.4g} dB "
        f"({settings.gain_auto.value}), roi {roi.width}x{roi.height}+{roi.offset_x}+{roi.offset_y}, "
        f"{settings.pixel_format.value}, addressing {settings.pixel_addressing.mode.value} "
        f"{settings.pixel_addressing.horizontal}x{settings.pixel_addressing.vertical}, "
        f"frame rate {settings.frame_rate.mode.value}"
        + (f" {settings.frame_rate.fps:g} fps" if settings.frame_rate.mode is FrameRateMode.FIXED else "")
    )


__all__ = [
    "GEOMETRY_FIELDS",
    "LIST_FIELDS",
    "SETTING_FIELDS",
    "AddressingMode",
    "AutoMode",
    "CameraSettings",
    "FeatureInfo",
    "FeatureUnsupportedError",
    "Features",
    "Flip",
    "FrameRate",
    "FrameRateMode",
    "Gpio",
    "GpioMode",
    "ImageGeometry",
    "PixelAddressing",
    "Range",
    "Region",
    "SettingsReading",
    "Trigger",
    "TriggerEdge",
    "TriggerMode",
    "TriggerModeError",
    "TriggerSource",
    "WhiteBalance",
    "changed_fields",
    "describe",
    "get_path",
    "merge",
    "set_path",
    "validate",
]
