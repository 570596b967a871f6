"""A simulated camera: no hardware, realistic timing, every setting visible in the frames.

The scene is a diagonal test pattern that moves a few pixels every frame, with the
frame number printed as a bar code in the top-left corner. A colour camera sees the
same pattern through horizontal bands of colour, lit by a warm illuminant, as a Bayer
mosaic (so demosaicing shows colour and white balance has something to correct).

Settings act as on a camera: brightness follows exposure and gain (twice the exposure
or +6 dB gives about twice the signal, clipped at full scale), black level and gamma;
the region of interest, pixel addressing (decimate, average, bin; per colour on a
mosaic) and flip change what is read out (a horizontal or vertical flip of a mosaic
changes the Bayer phase the frames report, as on PixeLINK cameras); auto exposure,
auto gain and one-shot white balance converge on the frames over a few of them.
:meth:`SimulatedCamera.info` describes every feature the way a camera reports it
(limits, steps, choices, whether it can change while streaming); nothing elsewhere
knows it is simulated.

Timing: frames come from a free-running clock. The shortest period is the longer of
exposure plus a fixed overhead and the readout of the rows in use (a full-sensor
readout takes ``1 / max_frame_rate_fps``, so a smaller region or vertical addressing
reads out faster); a FIXED frame rate lengthens it. As on PixeLINK cameras, the
frame-rate setting's limit is the readout's rate (it follows region and addressing),
a fixed rate is not lowered by a long exposure, and the actual rate is what results. A grab returns the newest finished
frame not yet returned, or waits for the next one, so a frame always takes at least
its exposure time and a consumer that falls behind sees gaps in the frame numbers.

Everything is vectorised numpy. The scene as read out (region, addressing, flip,
colour) is computed once per geometry or colour change as 16-bit indices; the lit
pattern at an exposure and gain is one table look-up of those, kept while frames use
it; a frame is one copy of a window of it into a recycled buffer plus the bar code.

Triggering (issue 13): ``trigger.source`` free-running uses the clock above. SOFTWARE: each
:meth:`~SimulatedCamera.grab` fires one trigger (as PixeLINK's ``getNextFrame`` does) and returns its
frame. HARDWARE: edges come from the test hooks :meth:`~SimulatedCamera.inject_trigger`,
:meth:`~SimulatedCamera.trigger_burst` (edges at scheduled times, acted on in order as the camera
thread grabs) and :meth:`~SimulatedCamera.set_input` (any thread; :meth:`~SimulatedCamera.trigger_counts`
tells what the camera took); every edge while armed is a HARDWARE_TRIGGER event (with its edge, as
PixeLINK cameras report both), and the active edge starts a sequence of
``frames_per_trigger`` frames (``delay_ms`` after the edge, one frame period apart) unless the sensor
is still busy with the previous one (from its trigger to the end of its last readout): then it is
missed (TRIGGER_MISSED, no frame). A grab waits up to
:data:`~camera_grpc.device.base.TRIGGER_WAIT_SLICE_S` for a triggered frame, then raises
:class:`~camera_grpc.device.base.NoTriggerYet`. The camera holds :data:`FRAME_BUFFERS` finished
frames; older ones not fetched in time are dropped and reported (FRAMES_SKIPPED), as a camera does
when the host is slower than a triggered burst. PULSE_WIDTH exposes for ``exposure_ms`` (the
simulated input has no pulse width). While free-running the other trigger fields read as their
defaults (as on a PixeLINK camera, whose TRIGGER is then OFF).

Frames carry ``camera_time_s``: seconds since the simulated power-up on a monotonic clock (clock
``simulated:<serial>``), taken at the end of the exposure, and, when triggered, the trigger's count
since the stream started and the frame's index within its trigger.

GPIO: two lines as on a PL-D camera (line 1: input or output, line 2: output only); ``read_io``
reports their levels (an INPUT line the input's level, a NORMAL line its ``active_high``) and fixed
temperatures. While the hardware trigger is armed, line 1 is its input (it reads INPUT; only INPUT or
OFF may be written to it). Events (hardware trigger edges, missed triggers, skipped frames, input edges,
disconnect) go to the listener of :meth:`~SimulatedCamera.set_event_listener`.

Threading: like every driver, used by the camera worker thread only; that thread
writes all state here, except the trigger state shared with the test hooks
(``_sensor``, guarded by ``_sensor_lock``; the hooks and the camera thread write it under the lock).
:meth:`SimulatedCamera.unplug` and :meth:`SimulatedCamera.replug` (test hooks) may be called from
any thread: they set events (and report the disconnect to the event listener).
"""

from __future__ import annotations

import collections
import enum
import math
import threading
import time
import types
from dataclasses import dataclass, field, fields, replace
from datetime import UTC, datetime
from typing import Any

import numpy as np

from camera_grpc.device.base import (
    TRIGGER_WAIT_SLICE_S,
    CameraDescription,
    CameraDriver,
    Frame,
    ImageGeometry,
    NoTriggerYet,
    PixelFormat,
    Range,
)
from camera_grpc.device.buffers import BufferPool
from camera_grpc.device.events import CameraEvent, CameraEventType, EventListener, GpioLineState, IoStatus
from camera_grpc.device.settings import (
    GEOMETRY_FIELDS,
    SETTING_FIELDS,
    AddressingMode,
    AutoMode,
    CameraSettings,
    FeatureInfo,
    Features,
    Flip,
    FrameRate,
    FrameRateMode,
    Gpio,
    GpioMode,
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
    CameraUnavailableError,
    InvalidArgumentError,
    InvalidSettingError,
)

#: Valid ranges; the same as the SDK emulator's default profile (1e-5 s .. 10 s, 0 .. 24 dB).
EXPOSURE_RANGE_MS = Range(0.01, 10_000.0)
GAIN_RANGE_DB = Range(0.0, 24.0)
#: Exposure at which the unscaled pattern is shown at its designed brightness.
REFERENCE_EXPOSURE_MS = 100.0
#: Pixels the pattern moves per frame, and the pattern's horizontal period (sensor pixels).
PATTERN_STEP_PX = 8
PATTERN_PERIOD_PX = 256
#: The frame-number bar code: bits, and the width and height of one bit's cell, in pixels.
BARCODE_BITS = 32
BARCODE_CELL_PX = 4
#: Significant bits of the 16-bit formats (a 12-bit sensor, as the emulator's profiles).
MONO16_BIT_DEPTH = 12
SENSOR_BIT_DEPTH = MONO16_BIT_DEPTH
#: Time a frame needs beyond its exposure before it is read out (transfer, processing), seconds.
READOUT_S = 0.0005

#: Region of interest granularity (sensor pixels): smallest size, size step, offset step.
ROI_MIN_PX = 64
ROI_SIZE_STEP_PX = 8
ROI_OFFSET_STEP_PX = 2
#: Pixel addressing: the modes offered (resample is left out) and the factors per axis.
ADDRESSING_MODES = (AddressingMode.DECIMATE, AddressingMode.AVERAGE, AddressingMode.BIN)
ADDRESSING_FACTORS = (1, 2, 4)
#: The slowest FIXED frame rate a client may ask for, frames per second.
FRAME_RATE_MIN_FPS = 0.05
#: Formats of a mono and of a colour sensor (native Bayer phase RGGB, as the emulator's colour profile).
MONO_FORMATS = (PixelFormat.MONO8, PixelFormat.MONO16, PixelFormat.MONO12_PACKED)
COLOUR_FORMATS = (PixelFormat.BAYER8_RGGB, PixelFormat.BAYER16_RGGB)
#: White balance gains (1.0 unity), saturation and tone ranges.
WHITE_BALANCE_GAIN_RANGE = Range(0.25, 4.0)
SATURATION_RANGE_PCT = Range(0.0, 200.0)
BLACK_LEVEL_RANGE_PCT = Range(0.0, 25.0)
GAMMA_RANGE = Range(0.1, 4.0)
DEFAULT_SATURATION_PCT = 100.0
#: User settings channels kept by the camera (channel 0 holds the factory defaults).
SETTINGS_CHANNELS = 2

#: Triggering limits (as the SDK emulator's TRIGGER feature: DELAY 0..10 s, PARAMETER up to 1000).
TRIGGER_DELAY_RANGE_MS = Range(0.0, 10_000.0)
FRAMES_PER_TRIGGER_RANGE = Range(1, 1000)
#: Finished frames the camera holds for the host; more not fetched in time are dropped (FRAMES_SKIPPED).
FRAME_BUFFERS = 4
#: GPIO lines as on a PL-D camera: line 1 is the input line (or an output), line 2 an output only.
GPIO_LINES = (1, 2)
INPUT_LINE = 1
GPIO_MODES_BY_LINE: dict[int, tuple[GpioMode, ...]] = {
    1: tuple(GpioMode),
    2: tuple(mode for mode in GpioMode if mode is not GpioMode.INPUT),
}
#: GPIO parameter limits (the emulator's: PARAM_1 0..1000 (s or a count), PARAM_2 and PARAM_3 0..10 s).
GPIO_DELAY_RANGE_MS = Range(0.0, 1_000_000.0)
GPIO_TIME_RANGE_MS = Range(0.0, 10_000.0)
GPIO_PULSE_COUNT_RANGE = Range(0, 1000)
#: Temperatures read_io reports, degrees C (plausible for a camera at work).
SENSOR_TEMPERATURE_C = 40.0
BODY_TEMPERATURE_C = 45.0
MS_PER_S = 1000.0


class TriggerOutcome(enum.Enum):
    """What an edge injected with :meth:`SimulatedCamera.inject_trigger` did."""

    ACCEPTED = "accepted"  #: it started an exposure
    MISSED = "missed"  #: the sensor was busy (TRIGGER_MISSED)
    IGNORED = "ignored"  #: not a trigger (not armed, not streaming, or the inactive edge)


@dataclass(frozen=True)
class _Arming:
    """How the sensor takes triggers now (a snapshot the camera thread publishes under the sensor lock)."""

    trigger: Trigger
    streaming: bool
    exposure_ms: float
    gain_db: float
    frame_s: float  #: a frame's exposure plus readout
    period_s: float  #: between the frames of one trigger
    input_is_gpi: bool  #: line 1 is configured as INPUT (its edges are GPIO_INPUT events when not armed)


@dataclass(frozen=True)
class _Triggered:
    """A frame a trigger started."""

    number: int
    trigger_count: int
    index: int
    exposure_end: float  #: monotonic seconds
    ready_at: float  #: monotonic seconds (end of its readout)
    exposure_ms: float
    gain_db: float
    source: TriggerSource


@dataclass
class _Sensor:
    """Trigger state shared by the camera thread and the test hooks (guarded by ``_sensor_lock``)."""

    arming: _Arming | None = None
    busy_until: float = 0.0  #: monotonic seconds
    frames: collections.deque[_Triggered] = field(default_factory=collections.deque)
    trigger_count: int = 0  #: triggers accepted since the stream started
    missed_count: int = 0  #: triggers missed since the stream started
    frame_counter: int = 0  #: the last frame number the sensor used
    input_high: bool = False
    listener: EventListener | None = None
    scheduled: collections.deque[float] = field(default_factory=collections.deque)  #: trigger_burst's edges


#: Auto exposure / gain: the mean level aimed at (fraction of full scale), how close counts as there,
#: the fraction of the log-error corrected per frame, the largest change per frame (factor), and the most
#: frames a one-shot adjustment takes before it ends with what it has.
AUTO_TARGET_LEVEL = 0.45
AUTO_TOLERANCE = 0.04
AUTO_DAMPING = 0.8
AUTO_MAX_STEP = 8.0
AUTO_ONCE_MAX_FRAMES = 40
#: Pixels between samples when the auto functions measure a frame (both axes; even keeps Bayer sites).
AUTO_SAMPLE_STRIDE_PX = 8

#: The colour scene: horizontal bands (top to bottom, repeating) of these reflectances (red, green, blue).
COLOUR_BANDS: tuple[tuple[str, tuple[float, float, float]], ...] = (
    ("red", (0.95, 0.12, 0.12)),
    ("yellow", (0.95, 0.95, 0.12)),
    ("green", (0.12, 0.95, 0.12)),
    ("cyan", (0.12, 0.95, 0.95)),
    ("blue", (0.12, 0.12, 0.95)),
    ("magenta", (0.95, 0.12, 0.95)),
    ("white", (0.95, 0.95, 0.95)),
    ("grey", (0.5, 0.5, 0.5)),
)
#: The colour scene's light (red, green, blue): warm, so unbalanced frames look orange.
ILLUMINANT_RGB = (1.0, 0.85, 0.6)
#: Indices of the scene's channels.
RED, GREEN, BLUE = 0, 1, 2
#: 16-bit scene indices: full scale of the table look-up that lights the scene.
_SCENE_LEVELS = 1 << 16


def bayer_colours(phase: str) -> tuple[tuple[int, int], tuple[int, int]]:
    """The channel (RED, GREEN, BLUE) at each site of a 2x2 Bayer cell of ``phase`` (``rggb``): [row][col]."""
    channel = {"r": RED, "g": GREEN, "b": BLUE}
    return (channel[phase[0]], channel[phase[1]]), (channel[phase[2]], channel[phase[3]])


def flipped_format(pixel_format: PixelFormat, horizontal: bool, vertical: bool) -> PixelFormat:
    """The format a mosaic of even size reports after a flip (its top-left 2x2 cell is another one)."""
    if not pixel_format.is_bayer or not (horizontal or vertical):
        return pixel_format
    phase = pixel_format.bayer_phase
    rows = [phase[0:2], phase[2:4]]
    if horizontal:
        rows = [row[::-1] for row in rows]
    if vertical:
        rows = rows[::-1]
    return PixelFormat[f"{pixel_format.name.rsplit('_', 1)[0]}_{''.join(rows).upper()}"]


def colour_format(pixel_format: PixelFormat) -> PixelFormat:
    """The colour sensor's format of the same sample size as a mono one (``mono8`` -> ``bayer8_rggb``)."""
    if pixel_format.is_bayer:
        return pixel_format
    return COLOUR_FORMATS[1] if pixel_format.is_16_bit else COLOUR_FORMATS[0]


@dataclass(frozen=True)
class _Readout:
    """The scene as the current settings read it out: 16-bit indices, with spare columns for motion."""

    indices: np.ndarray  #: (height, width + margin) uint16 indices into the lighting table
    radiance_per_index: float  #: scene radiance (at the reference exposure, unity gain) of one index step
    margin_px: int  #: spare columns: a frame is the window at a motion offset in [0, margin)
    step_px: int  #: columns the window moves per frame
    flipped: bool  #: the window moves from the right (a horizontally flipped readout)


class SimulatedCamera(CameraDriver):
    """A camera made of numpy. Also offers :meth:`unplug` / :meth:`replug` for tests."""

    name = "simulated"

    def __init__(
        self,
        width: int = 2448,
        height: int = 2048,
        pixel_format: PixelFormat = PixelFormat.MONO8,
        max_frame_rate_fps: float = 30.0,
        serial_number: str = "SIM-0001",
        color: bool = False,
    ) -> None:
        formats = COLOUR_FORMATS if color else MONO_FORMATS
        if pixel_format not in formats:
            kind = "colour" if color else "mono"
            raise ValueError(
                f"the simulated {kind} camera takes {', '.join(fmt.value for fmt in formats)}, not {pixel_format.value}"
            )
        self._width = width
        self._height = height
        self._color = color
        self._formats = formats
        self._power_up_format = pixel_format
        self._max_frame_rate_fps = max_frame_rate_fps
        self._serial_number = serial_number
        self._plugged = threading.Event()
        self._plugged.set()
        self._unplugged = threading.Event()  # wakes a grab that is waiting for its frame
        self._open = False
        self._streaming = False
        # Everything below is written by the camera worker thread only.
        self._settings = self._factory_settings()  # as set (exposure and gain: the values in use now)
        self._once_frames = 0  # frames a running ONCE adjustment has taken
        self._channels: dict[int, CameraSettings] = {}  # non-volatile user channels: kept across power cycles
        self._readout: _Readout | None = None
        self._lit_patterns: dict[tuple[float, float], np.ndarray] = {}  # the readout at an exposure and gain
        # Settings by frame: frames numbered from the first number on are exposed with them. A frame that
        # was exposed before a change (in flight, as in a real camera) carries the settings it had.
        self._settings_from: list[tuple[int, float, float]] = [(0, REFERENCE_EXPOSURE_MS, 0.0)]
        self._buffers = self._new_buffers()
        # Free-running frame clock: frame n is ready at anchor_time + (n - anchor_number) * period.
        self._anchor_time = 0.0
        self._anchor_number = 0
        self._last_returned = 0
        self._clock = f"simulated:{serial_number}"
        self._powered_up_at = time.monotonic()  # the camera clock's zero
        self._power_cycled = threading.Event()  # set by replug: the clock restarts at the next open
        self._sensor_lock = threading.Condition()
        self._sensor = _Sensor()  # guarded by _sensor_lock

    # -- test hooks (thread-safe) -------------------------------------------------

    def unplug(self) -> None:
        """Simulate pulling the cable: every call fails until :meth:`replug` (the listener hears DISCONNECTED)."""
        self._plugged.clear()
        self._unplugged.set()
        with self._sensor_lock:
            self._sensor.frames.clear()
            self._sensor.arming = None
            self._emit_locked(CameraEvent(CameraEventType.DISCONNECTED, self._camera_time(time.monotonic())))
            self._sensor_lock.notify_all()

    def replug(self) -> None:
        """Simulate plugging the camera back in (settings revert to power-up values, the clock restarts)."""
        self._power_cycled.set()
        self._unplugged.clear()
        self._plugged.set()

    def inject_trigger(self, edge: TriggerEdge | None = None) -> TriggerOutcome:
        """An edge on the trigger input (default: the active edge of the trigger configured now), from any thread.

        Armed (``trigger.source`` hardware), every edge is a HARDWARE_TRIGGER event; the active edge while
        streaming starts a sequence, or is missed (TRIGGER_MISSED, no frame) while the sensor is busy."""
        with self._sensor_lock:
            self._process_scheduled_locked(time.monotonic())
            arming = self._sensor.arming
            if edge is None:
                edge = arming.trigger.edge if arming is not None else TriggerEdge.RISING
            return self._edge_locked(edge, time.monotonic())

    def trigger_burst(self, count: int, period_s: float) -> None:
        """``count`` active edges ``period_s`` apart, the first now, from any thread (returns at once). They act at
        their scheduled times on the camera clock (taken as the camera thread grabs, in order)."""
        with self._sensor_lock:
            start = time.monotonic()
            self._sensor.scheduled.extend(start + index * period_s for index in range(count))
            self._sensor_lock.notify_all()

    def trigger_counts(self) -> tuple[int, int]:
        """(triggers accepted, triggers missed) since the stream started (edges of a burst that are due included)."""
        with self._sensor_lock:
            self._process_scheduled_locked(time.monotonic())
            return self._sensor.trigger_count, self._sensor.missed_count

    def set_input(self, level: bool) -> TriggerOutcome:
        """The input line (shared by the trigger and GPIO line 1) goes to ``level``, from any thread; an edge
        acts as :meth:`inject_trigger` when armed, else it is a GPIO_INPUT event on an INPUT line."""
        with self._sensor_lock:
            if bool(level) == self._sensor.input_high:
                return TriggerOutcome.IGNORED
            return self._edge_locked(TriggerEdge.RISING if level else TriggerEdge.FALLING, time.monotonic())

    def set_event_listener(self, listener: EventListener | None) -> None:
        with self._sensor_lock:
            self._sensor.listener = listener

    def read_io(self) -> IoStatus:
        self._check()
        with self._sensor_lock:
            input_high = self._sensor.input_high
        armed = self._settings.trigger.source is TriggerSource.HARDWARE
        lines = []
        for line in self._settings.gpio:
            mode = GpioMode.INPUT if armed and line.line == INPUT_LINE else line.mode
            high = input_high if mode is GpioMode.INPUT else mode is GpioMode.NORMAL and line.active_high
            lines.append(GpioLineState(line.line, mode, high))
        return IoStatus(tuple(lines), SENSOR_TEMPERATURE_C, BODY_TEMPERATURE_C)

    @property
    def trigger_source(self) -> TriggerSource:
        return self._settings.trigger.source

    # -- CameraDriver ------------------------------------------------------------------

    def open(self) -> None:
        if not self._plugged.is_set():
            raise CameraUnavailableError(f"simulated camera {self._serial_number} is not connected")
        self._streaming = False
        if self._power_cycled.is_set():
            self._power_cycled.clear()
            self._powered_up_at = time.monotonic()
        self._set_all(self._factory_settings())
        self._settings_from = [(self._last_returned, self._settings.exposure_ms, self._settings.gain_db)]
        self._open = True
        self._rearm()

    def close(self) -> None:
        self._streaming = False
        self._open = False
        with self._sensor_lock:  # no event after close returns
            self._sensor.listener = None
            self._sensor.arming = None
            self._sensor.frames.clear()
            self._sensor_lock.notify_all()

    @property
    def is_open(self) -> bool:
        return self._open

    def info(self) -> CameraDescription:
        self._check()
        return CameraDescription(
            model="Simulated Colour Camera" if self._color else "Simulated Camera",
            serial_number=self._serial_number,
            firmware_version="sim-2.0",
            driver=self.name,
            sensor_width=self._width,
            sensor_height=self._height,
            exposure_ms=EXPOSURE_RANGE_MS,
            gain_db=GAIN_RANGE_DB,
            pixel_formats=self._formats,
            camera_name="simulated",
            features=self._features(),
            settings_channels=SETTINGS_CHANNELS,
        )

    def get_exposure_ms(self) -> float:
        self._check()
        return self._settings.exposure_ms

    def set_exposure_ms(self, exposure_ms: float) -> float:
        self._check()
        _check_range("exposure_ms", exposure_ms, EXPOSURE_RANGE_MS)
        self._update(exposure_ms=float(exposure_ms))
        return self._settings.exposure_ms

    def get_gain_db(self) -> float:
        self._check()
        return self._settings.gain_db

    def set_gain_db(self, gain_db: float) -> float:
        self._check()
        _check_range("gain_db", gain_db, GAIN_RANGE_DB)
        self._update(gain_db=float(gain_db))
        return self._settings.gain_db

    def geometry(self) -> ImageGeometry:
        self._check()
        return self._geometry(self._settings)

    def read_settings(self) -> SettingsReading:
        self._check()
        settings = self._settings
        actual_fps = 1.0 / self._period_s()
        if settings.frame_rate.mode is FrameRateMode.FREE:  # reads the rate it runs at
            settings = replace(settings, frame_rate=FrameRate(FrameRateMode.FREE, actual_fps))
        if settings.trigger.source is TriggerSource.FREE_RUNNING:  # no trigger configuration while free-running
            settings = replace(settings, trigger=Trigger())
        elif settings.trigger.source is TriggerSource.HARDWARE:  # the input line is the trigger's
            gpio = tuple(
                Gpio(INPUT_LINE, GpioMode.INPUT) if line.line == INPUT_LINE else line for line in settings.gpio
            )
            settings = replace(settings, gpio=gpio)
        return SettingsReading(settings, self._geometry(self._settings), actual_fps)

    def write_setting(self, name: str, value: Any) -> None:
        self._check()
        if name not in _SETTINGS:
            raise InvalidSettingError(name, value, reason=f"is not a setting (settings: {', '.join(_SETTINGS)})")
        if name in ("trigger", "gpio"):
            if self._streaming and not self._features().settable_while_streaming(name):
                raise RuntimeError(f"{name} cannot change while the camera streams (apply_settings stops it first)")
            if name == "trigger":
                self._check_trigger(value)
                self._update(trigger=value)
            else:
                self._update(gpio=self._merged_gpio(value))
            return
        if name == "exposure_ms":
            self.set_exposure_ms(value)  # one path for old and new callers (and subclasses that refuse values)
            return
        if name == "gain_db":
            self.set_gain_db(value)
            return
        if value is None and getattr(self._settings, name) is not None:
            return  # an optional setting not given: the camera keeps its value
        checked = value
        if name == "frame_rate" and value.mode is FrameRateMode.FREE:
            checked = replace(value, fps=self._max_fps())  # the rate is not used while free: any value is fine
        target = replace(self._settings, **{name: checked})
        validate(target, (name,), self._features(), (self._width, self._height))  # what the camera refuses
        if self._streaming and not self._features().settable_while_streaming(name):
            raise RuntimeError(f"{name} cannot change while the camera streams (apply_settings stops it first)")
        if name in GEOMETRY_FIELDS:
            self._check_mosaic(target)
        self._update(**{name: value})
        if AutoMode.ONCE in (value, getattr(value, "mode", None)):  # a one-shot adjustment starts
            self._once_frames = 0

    def save_settings_to_channel(self, channel: int) -> None:
        self._check()
        self._check_channel(channel, first=1)
        settings = self._settings
        for name in _AUTO_MODES:  # a one-shot adjustment in progress is stored as what it has found so far
            if getattr(settings, name) is AutoMode.ONCE:
                settings = replace(settings, **{name: AutoMode.OFF})
        if settings.white_balance is not None and settings.white_balance.mode is AutoMode.ONCE:
            settings = replace(settings, white_balance=replace(settings.white_balance, mode=AutoMode.OFF))
        self._channels[channel] = settings

    def load_settings_from_channel(self, channel: int) -> SettingsReading:
        self._check()
        self._check_channel(channel, first=0)
        stored = self._channels.get(channel, self._factory_settings())
        return self.apply_settings(stored, SETTING_FIELDS)

    def start_streaming(self) -> None:
        self._check()
        if not self._streaming:
            # the scene as read out now is prepared before the clock starts, as a camera sets up before it exposes
            self._lit(self._settings.exposure_ms, self._settings.gain_db, self._geometry(self._settings))
            self._anchor_time = time.monotonic()
            with self._sensor_lock:
                self._last_returned = max(self._last_returned, self._sensor.frame_counter)
                self._sensor.frame_counter = self._last_returned
                self._sensor.trigger_count = self._sensor.missed_count = 0
                self._sensor.frames.clear()
            self._anchor_number = self._last_returned
            self._streaming = True
            self._rearm()

    def stop_streaming(self) -> None:
        self._check()
        self._streaming = False
        self._rearm()

    @property
    def is_streaming(self) -> bool:
        return self._streaming

    def grab(self) -> Frame:
        self._check()
        if not self._streaming:
            raise RuntimeError("grab() needs start_streaming() first")
        source = self._settings.trigger.source
        if source is not TriggerSource.FREE_RUNNING:
            return self._grab_triggered(source)
        period_s = self._period_s()
        now = time.monotonic()
        completed = self._anchor_number + math.floor((now - self._anchor_time) / period_s)
        number = max(completed, self._last_returned + 1)
        ready_at = self._anchor_time + (number - self._anchor_number) * period_s
        if ready_at > now and self._unplugged.wait(ready_at - now):
            raise CameraDisconnectedError(f"simulated camera {self._serial_number} was unplugged")
        self._last_returned = number
        exposure_ms, gain_db = self._settings_of(number)
        geometry = self._geometry(self._settings)
        frame = Frame(
            pixels=self._render(number, exposure_ms, gain_db, geometry),
            pixel_format=geometry.pixel_format,
            bit_depth=geometry.bit_depth,
            frame_number=number,
            captured_at=datetime.now(UTC),
            exposure_ms=exposure_ms,
            gain_db=gain_db,
            camera_time_s=self._camera_time(ready_at - READOUT_S),
            camera_clock=self._clock,
        )
        if self._auto_running():
            self._adjust(frame)
        return frame

    def _grab_triggered(self, source: TriggerSource) -> Frame:
        """SOFTWARE: fire one trigger and wait for its frame; HARDWARE: wait a slice for a triggered frame."""
        with self._sensor_lock:
            now = time.monotonic()
            if source is TriggerSource.SOFTWARE:
                self._collect_locked(now, keep=0)  # frames of earlier triggers nobody took are lost
                fired = self._fire_locked(max(now, self._sensor.busy_until), source)
                assert fired
                deadline = None
            else:
                deadline = now + TRIGGER_WAIT_SLICE_S
            while True:
                if not self._plugged.is_set():
                    raise CameraDisconnectedError(f"simulated camera {self._serial_number} was unplugged")
                if not self._open or not self._streaming:
                    raise CameraUnavailableError("simulated camera is not open")
                now = time.monotonic()
                self._process_scheduled_locked(now)
                self._collect_locked(now)
                frames = self._sensor.frames
                if frames and frames[0].ready_at <= now:
                    taken = frames.popleft()
                    break
                wake_at = frames[0].ready_at if frames else math.inf
                if self._sensor.scheduled:
                    wake_at = min(wake_at, self._sensor.scheduled[0])
                if deadline is not None:
                    if now >= deadline:
                        raise NoTriggerYet()
                    wake_at = min(wake_at, deadline)
                self._sensor_lock.wait(None if math.isinf(wake_at) else wake_at - now)
        self._last_returned = max(self._last_returned, taken.number)
        geometry = self._geometry(self._settings)
        frame = Frame(
            pixels=self._render(taken.number, taken.exposure_ms, taken.gain_db, geometry),
            pixel_format=geometry.pixel_format,
            bit_depth=geometry.bit_depth,
            frame_number=taken.number,
            captured_at=datetime.now(UTC),
            exposure_ms=taken.exposure_ms,
            gain_db=taken.gain_db,
            camera_time_s=self._camera_time(taken.exposure_end),
            camera_clock=self._clock,
            trigger_source=taken.source,
            trigger_count=taken.trigger_count,
            trigger_frame_index=taken.index,
        )
        if self._auto_running():
            self._adjust(frame)
        return frame

    # -- the trigger model (callers hold _sensor_lock) -------------------------------------------

    def _camera_time(self, monotonic_s: float) -> float:
        return monotonic_s - self._powered_up_at

    def _emit_locked(self, event: CameraEvent) -> None:
        listener = self._sensor.listener
        if listener is not None:
            listener(event)

    def _edge_locked(self, edge: TriggerEdge, now: float) -> TriggerOutcome:
        sensor = self._sensor
        sensor.input_high = edge is TriggerEdge.RISING
        arming = sensor.arming
        if arming is None:
            return TriggerOutcome.IGNORED
        if arming.trigger.source is not TriggerSource.HARDWARE:
            if arming.input_is_gpi:
                high = edge is TriggerEdge.RISING
                self._emit_locked(
                    CameraEvent(
                        CameraEventType.GPIO_INPUT, self._camera_time(now), edge=edge, line=INPUT_LINE, high=high
                    )
                )
            return TriggerOutcome.IGNORED
        self._collect_locked(now)
        self._emit_locked(CameraEvent(CameraEventType.HARDWARE_TRIGGER, self._camera_time(now), edge=edge))
        if edge is not arming.trigger.edge or not arming.streaming:
            return TriggerOutcome.IGNORED
        if not self._fire_locked(now, TriggerSource.HARDWARE):
            sensor.missed_count += 1
            self._emit_locked(CameraEvent(CameraEventType.TRIGGER_MISSED, self._camera_time(now)))
            return TriggerOutcome.MISSED
        self._sensor_lock.notify_all()
        return TriggerOutcome.ACCEPTED

    def _process_scheduled_locked(self, now: float) -> None:
        """Act on the burst's edges that are due, at their own times."""
        scheduled = self._sensor.scheduled
        while scheduled and scheduled[0] <= now:
            at = scheduled.popleft()
            arming = self._sensor.arming
            self._edge_locked(arming.trigger.edge if arming is not None else TriggerEdge.RISING, at)

    def _fire_locked(self, at: float, source: TriggerSource) -> bool:
        """A trigger at monotonic time ``at``: schedule its frames, or False if the sensor is busy then."""
        sensor, arming = self._sensor, self._sensor.arming
        if arming is None or at < sensor.busy_until:
            return False
        sensor.trigger_count += 1
        frames_per_trigger = arming.trigger.frames_per_trigger
        if arming.trigger.mode in (TriggerMode.EDGE, TriggerMode.PULSE_WIDTH) or source is TriggerSource.SOFTWARE:
            frames_per_trigger = 1
        start = at + arming.trigger.delay_ms / MS_PER_S
        for index in range(frames_per_trigger):
            exposure_start = start + index * arming.period_s
            sensor.frame_counter += 1
            sensor.frames.append(
                _Triggered(
                    number=sensor.frame_counter,
                    trigger_count=sensor.trigger_count,
                    index=index,
                    exposure_end=exposure_start + arming.exposure_ms / MS_PER_S,
                    ready_at=exposure_start + arming.frame_s,
                    exposure_ms=arming.exposure_ms,
                    gain_db=arming.gain_db,
                    source=source,
                )
            )
        sensor.busy_until = sensor.frames[-1].ready_at
        return True

    def _collect_locked(self, now: float, keep: int = FRAME_BUFFERS) -> None:
        """Drop finished frames beyond the ``keep`` oldest the camera holds (reported as FRAMES_SKIPPED)."""
        frames = self._sensor.frames
        ready = sum(1 for frame in frames if frame.ready_at <= now)
        if ready <= keep:
            return
        for _ in range(ready - keep):
            frames.popleft()
        self._emit_locked(CameraEvent(CameraEventType.FRAMES_SKIPPED, self._camera_time(now), count=ready - keep))

    def _rearm(self) -> None:
        """Publish how the sensor takes triggers now (after every settings or stream change; camera thread)."""
        settings = self._settings
        gpi = any(line.line == INPUT_LINE and line.mode is GpioMode.INPUT for line in settings.gpio)
        arming = (
            _Arming(
                trigger=settings.trigger,
                streaming=self._streaming,
                exposure_ms=settings.exposure_ms,
                gain_db=settings.gain_db,
                frame_s=self._free_period_s(settings),
                period_s=self._period_s(),
                input_is_gpi=gpi,
            )
            if self._open
            else None
        )
        with self._sensor_lock:
            self._sensor.arming = arming
            if not self._streaming:
                self._sensor.frames.clear()
                self._sensor.scheduled.clear()
                self._sensor.busy_until = 0.0
            self._sensor_lock.notify_all()

    def _check_trigger(self, trigger: Trigger) -> None:
        validate(types.SimpleNamespace(trigger=trigger), ("trigger",), self._features(), (self._width, self._height))

    def _merged_gpio(self, lines: tuple[Gpio, ...]) -> tuple[Gpio, ...]:
        """The camera's lines with ``lines`` replacing theirs, after checking each as the camera would."""
        features = self._features()
        by_line = {line.line: line for line in self._settings.gpio}
        for line in lines:
            validate(types.SimpleNamespace(gpio=line), ("gpio",), features, (self._width, self._height))
            allowed = GPIO_MODES_BY_LINE[line.line]
            if line.mode not in allowed:
                choices = ", ".join(mode.value for mode in allowed)
                raise InvalidSettingError(
                    "gpio.mode", line.mode.value, reason=f"must be one of {choices} on line {line.line}"
                )
            _check_gpio_parameters(line)
            if line.line == INPUT_LINE and self._settings.trigger.source is TriggerSource.HARDWARE:
                if line.mode in (GpioMode.INPUT, GpioMode.OFF):
                    continue  # the armed trigger's input: it is an input already
                raise InvalidSettingError(
                    "gpio.mode",
                    line.mode.value,
                    reason=f"line {line.line} is the hardware trigger's input while trigger.source is hardware "
                    "(it can only be input or off)",
                )
            by_line[line.line] = line
        return tuple(by_line[number] for number in sorted(by_line))

    def check_connection(self) -> None:
        self._check()

    # -- settings and features -------------------------------------------------------------

    def _factory_settings(self) -> CameraSettings:
        width_limits, height_limits = _size_limits(self._width), _size_limits(self._height)
        return CameraSettings(
            exposure_ms=REFERENCE_EXPOSURE_MS,
            gain_db=GAIN_RANGE_DB.minimum,
            roi=Region(0, 0, int(width_limits.maximum), int(height_limits.maximum)),
            pixel_addressing=PixelAddressing(),
            pixel_format=self._power_up_format,
            frame_rate=FrameRate(FrameRateMode.FREE, 0.0),
            exposure_auto=AutoMode.OFF,
            exposure_auto_limits_ms=EXPOSURE_RANGE_MS,
            gain_auto=AutoMode.OFF,
            white_balance=WhiteBalance() if self._color else None,
            black_level_pct=BLACK_LEVEL_RANGE_PCT.minimum,
            gamma=1.0,
            flip=Flip(),
            saturation_pct=DEFAULT_SATURATION_PCT if self._color else None,
            trigger=Trigger(),
            gpio=tuple(Gpio(line) for line in GPIO_LINES),
        )

    def _features(self) -> Features:
        """Every setting as this camera describes it; the frame-rate limit follows exposure and region."""
        width_limits, height_limits = _size_limits(self._width), _size_limits(self._height)
        stopped = {"settable_while_streaming": False}
        auto_choices = tuple(mode.value for mode in AutoMode)
        infos = [
            FeatureInfo("exposure_ms", minimum=EXPOSURE_RANGE_MS.minimum, maximum=EXPOSURE_RANGE_MS.maximum),
            FeatureInfo("gain_db", minimum=GAIN_RANGE_DB.minimum, maximum=GAIN_RANGE_DB.maximum),
            FeatureInfo(
                "roi.offset_x",
                minimum=0,
                maximum=self._width - width_limits.minimum,
                step=ROI_OFFSET_STEP_PX,
                **stopped,
            ),
            FeatureInfo(
                "roi.offset_y",
                minimum=0,
                maximum=self._height - height_limits.minimum,
                step=ROI_OFFSET_STEP_PX,
                **stopped,
            ),
            FeatureInfo(
                "roi.width",
                minimum=width_limits.minimum,
                maximum=width_limits.maximum,
                step=ROI_SIZE_STEP_PX,
                **stopped,
            ),
            FeatureInfo(
                "roi.height",
                minimum=height_limits.minimum,
                maximum=height_limits.maximum,
                step=ROI_SIZE_STEP_PX,
                **stopped,
            ),
            FeatureInfo("pixel_addressing.mode", choices=tuple(mode.value for mode in ADDRESSING_MODES), **stopped),
            FeatureInfo("pixel_addressing.horizontal", values=ADDRESSING_FACTORS, **stopped),
            FeatureInfo("pixel_addressing.vertical", values=ADDRESSING_FACTORS, **stopped),
            FeatureInfo("pixel_format", choices=tuple(fmt.value for fmt in self._formats), **stopped),
            # as on PixeLINK cameras, the frame rate too is set with acquisition stopped
            FeatureInfo("frame_rate.mode", choices=tuple(mode.value for mode in FrameRateMode), **stopped),
            FeatureInfo("frame_rate.fps", minimum=FRAME_RATE_MIN_FPS, maximum=self._max_fps(), **stopped),
            FeatureInfo("exposure_auto", choices=auto_choices),
            FeatureInfo(
                "exposure_auto_limits_ms", minimum=EXPOSURE_RANGE_MS.minimum, maximum=EXPOSURE_RANGE_MS.maximum
            ),
            FeatureInfo("gain_auto", choices=auto_choices),
            FeatureInfo(
                "black_level_pct", minimum=BLACK_LEVEL_RANGE_PCT.minimum, maximum=BLACK_LEVEL_RANGE_PCT.maximum
            ),
            FeatureInfo("gamma", minimum=GAMMA_RANGE.minimum, maximum=GAMMA_RANGE.maximum),
            FeatureInfo("flip.horizontal", **stopped),
            FeatureInfo("flip.vertical", **stopped),
            FeatureInfo("trigger.source", choices=tuple(source.value for source in TriggerSource), **stopped),
            FeatureInfo("trigger.mode", choices=tuple(mode.value for mode in TriggerMode), **stopped),
            FeatureInfo("trigger.edge", choices=tuple(edge.value for edge in TriggerEdge), **stopped),
            FeatureInfo(
                "trigger.delay_ms",
                minimum=TRIGGER_DELAY_RANGE_MS.minimum,
                maximum=TRIGGER_DELAY_RANGE_MS.maximum,
                **stopped,
            ),
            FeatureInfo(
                "trigger.frames_per_trigger",
                minimum=FRAMES_PER_TRIGGER_RANGE.minimum,
                maximum=FRAMES_PER_TRIGGER_RANGE.maximum,
                step=1,
                **stopped,
            ),
            FeatureInfo("gpio.line", values=tuple(float(line) for line in GPIO_LINES)),
            FeatureInfo("gpio.mode", choices=tuple(mode.value for mode in GpioMode)),
            FeatureInfo("gpio.active_high"),
            FeatureInfo("gpio.delay_ms", minimum=GPIO_DELAY_RANGE_MS.minimum, maximum=GPIO_DELAY_RANGE_MS.maximum),
            FeatureInfo("gpio.duration_ms", minimum=GPIO_TIME_RANGE_MS.minimum, maximum=GPIO_TIME_RANGE_MS.maximum),
            FeatureInfo(
                "gpio.pulse_count",
                minimum=GPIO_PULSE_COUNT_RANGE.minimum,
                maximum=GPIO_PULSE_COUNT_RANGE.maximum,
                step=1,
            ),
            FeatureInfo("gpio.interval_ms", minimum=GPIO_TIME_RANGE_MS.minimum, maximum=GPIO_TIME_RANGE_MS.maximum),
        ]
        if self._color:
            gain = {"minimum": WHITE_BALANCE_GAIN_RANGE.minimum, "maximum": WHITE_BALANCE_GAIN_RANGE.maximum}
            infos += [
                FeatureInfo("white_balance.mode", choices=(AutoMode.OFF.value, AutoMode.ONCE.value)),
                FeatureInfo("white_balance.red", **gain),
                FeatureInfo("white_balance.green", **gain),
                FeatureInfo("white_balance.blue", **gain),
                FeatureInfo(
                    "saturation_pct", minimum=SATURATION_RANGE_PCT.minimum, maximum=SATURATION_RANGE_PCT.maximum
                ),
            ]
        return Features(infos)

    def _check_mosaic(self, target: CameraSettings) -> None:
        """A mosaic is addressed per colour: the region must hold whole 2x2 cells of each block."""
        if not target.pixel_format.is_bayer:
            return
        for size_name, size, factor in (
            ("width", target.roi.width, target.pixel_addressing.horizontal),
            ("height", target.roi.height, target.pixel_addressing.vertical),
        ):
            if size % (2 * factor):
                raise InvalidSettingError(
                    f"roi.{size_name}",
                    size,
                    reason=f"must be a multiple of {2 * factor} pixels (a Bayer cell of 2 times the pixel addressing "
                    f"factor {factor})",
                )

    def _check_channel(self, channel: int, first: int) -> None:
        if isinstance(channel, bool) or not isinstance(channel, int) or not first <= channel <= SETTINGS_CHANNELS:
            raise InvalidArgumentError(
                "channel",
                channel,
                minimum=first,
                maximum=SETTINGS_CHANNELS,
                reason=f"must be a settings channel from {first} to {SETTINGS_CHANNELS}"
                + (" (0: factory defaults)" if first == 0 else ""),
            )

    def _geometry(self, settings: CameraSettings) -> ImageGeometry:
        fmt = settings.pixel_format
        delivered = flipped_format(fmt.delivered, settings.flip.horizontal, settings.flip.vertical)
        return ImageGeometry(
            settings.roi.width // settings.pixel_addressing.horizontal,
            settings.roi.height // settings.pixel_addressing.vertical,
            delivered,
            SENSOR_BIT_DEPTH if delivered.is_16_bit else 8,
        )

    def _update(self, **changes: Any) -> None:
        """Take new settings: frames from the next one to start exposing use them (those in flight keep theirs)."""
        self._rebase_clock()
        before = self._settings
        self._set_all(replace(before, **changes))
        if (self._settings.exposure_ms, self._settings.gain_db) != (before.exposure_ms, before.gain_db):
            self._settings_changed()

    def _set_all(self, settings: CameraSettings) -> None:
        """Replace the settings; rebuild the readout (and its buffers) when what is read out changes."""
        before = self._settings
        self._settings = settings
        self._rearm()
        if self._readout is None or any(getattr(before, name) != getattr(settings, name) for name in _READOUT_FIELDS):
            self._readout = None
            self._lit_patterns = {}
            if self._geometry(before) != self._geometry(settings) or self._buffers.shape != self._shape():
                self._buffers = self._new_buffers()
        elif any(getattr(before, name) != getattr(settings, name) for name in _TONE_FIELDS):
            self._lit_patterns = {}

    def _shape(self) -> tuple[int, int]:
        geometry = self._geometry(self._settings)
        return geometry.height, geometry.width

    def _new_buffers(self) -> BufferPool:
        return BufferPool(self._shape(), self._settings.pixel_format.sample_type)

    # -- timing ------------------------------------------------------------------------------

    def _readout_s(self, settings: CameraSettings) -> float:
        """Time to read out the rows in use: a full-sensor readout takes ``1 / max_frame_rate_fps``."""
        full_sensor_s = 1.0 / self._max_frame_rate_fps
        rows = settings.roi.height / settings.pixel_addressing.vertical
        return READOUT_S + max(full_sensor_s - READOUT_S, 0.0) * rows / self._height

    def _free_period_s(self, settings: CameraSettings) -> float:
        return max(settings.exposure_ms / 1000.0 + READOUT_S, self._readout_s(settings))

    def _max_fps(self) -> float:
        """The fastest frame rate the current region and addressing allow (the readout; as on PixeLINK cameras,
        the limit of the frame-rate setting does not follow the exposure: a long exposure lowers the actual rate)."""
        return 1.0 / self._readout_s(self._settings)

    def _period_s(self) -> float:
        settings = self._settings
        free_s = self._free_period_s(settings)
        if settings.frame_rate.mode is FrameRateMode.FIXED:
            return max(free_s, 1.0 / settings.frame_rate.fps)
        return free_s

    def _rebase_clock(self) -> None:
        """Keep frame numbers continuous when the period changes mid-stream."""
        if self._streaming:
            now = time.monotonic()
            period_s = self._period_s()
            done = math.floor((now - self._anchor_time) / period_s)
            self._anchor_number += done
            self._anchor_time += done * period_s

    def _settings_changed(self) -> None:
        """Frames from the next one to start exposing take the new settings; those before keep theirs."""
        first = (self._anchor_number if self._streaming else self._last_returned) + 1
        kept = [entry for entry in self._settings_from if entry[0] < first]
        # Only the newest entry at or before the last returned frame can still be needed.
        older = [entry for entry in kept if entry[0] <= self._last_returned]
        self._settings_from = [*older[-1:], *[entry for entry in kept if entry[0] > self._last_returned]]
        self._settings_from.append((first, self._settings.exposure_ms, self._settings.gain_db))

    def _settings_of(self, frame_number: int) -> tuple[float, float]:
        """Exposure and gain a frame was exposed with."""
        _, exposure_ms, gain_db = next(entry for entry in reversed(self._settings_from) if entry[0] <= frame_number)
        return exposure_ms, gain_db

    # -- auto exposure, auto gain, white balance -------------------------------------------------

    def _auto_running(self) -> bool:
        settings = self._settings
        return (
            settings.exposure_auto is not AutoMode.OFF
            or settings.gain_auto is not AutoMode.OFF
            or (settings.white_balance is not None and settings.white_balance.mode is AutoMode.ONCE)
        )

    def _adjust(self, frame: Frame) -> None:
        """One step of the camera's auto functions, measured on a frame exposed with the current values."""
        settings = self._settings
        if (frame.exposure_ms, frame.gain_db) != (settings.exposure_ms, settings.gain_db):
            return  # exposed before the last adjustment: it says nothing about the current values
        self._once_frames += 1
        means = channel_means(frame.pixels, frame.pixel_format)
        full_scale = float((1 << frame.bit_depth) - 1)
        changes: dict[str, Any] = {}
        if settings.white_balance is not None and settings.white_balance.mode is AutoMode.ONCE:
            changes["white_balance"] = self._balance_step(means, settings.white_balance)
        level = max(float(np.mean(list(means.values()))) / full_scale, 1.0 / full_scale)
        error = AUTO_TARGET_LEVEL / level
        settled = abs(error - 1.0) <= AUTO_TOLERANCE
        factor = min(max(error**AUTO_DAMPING, 1.0 / AUTO_MAX_STEP), AUTO_MAX_STEP)
        exposure_pinned = True
        if settings.exposure_auto is not AutoMode.OFF:
            limits = settings.exposure_auto_limits_ms or EXPOSURE_RANGE_MS
            exposure_ms = min(max(settings.exposure_ms * factor, limits.minimum), limits.maximum)
            exposure_pinned = math.isclose(exposure_ms, settings.exposure_ms)
            if not settled and not exposure_pinned:
                changes["exposure_ms"] = exposure_ms
            elif self._once_ended(settings.exposure_auto, settled or exposure_pinned):
                changes["exposure_auto"] = AutoMode.OFF
        if settings.gain_auto is not AutoMode.OFF:
            # with auto exposure too, gain makes up only what exposure cannot (it reached a limit)
            gain_db = min(max(settings.gain_db + 20 * math.log10(factor), GAIN_RANGE_DB.minimum), GAIN_RANGE_DB.maximum)
            gain_pinned = math.isclose(gain_db, settings.gain_db, abs_tol=1e-3)
            if not settled and exposure_pinned and not gain_pinned:
                changes["gain_db"] = gain_db
            elif self._once_ended(settings.gain_auto, settled or (exposure_pinned and gain_pinned)):
                changes["gain_auto"] = AutoMode.OFF
        if changes:
            self._update(**changes)

    def _once_ended(self, mode: AutoMode, done: bool) -> bool:
        return mode is AutoMode.ONCE and (done or self._once_frames >= AUTO_ONCE_MAX_FRAMES)

    def _balance_step(self, channel_mean: dict[int, float], balance: WhiteBalance) -> WhiteBalance:
        """Grey-world white balance: gains that make the channel means equal (green unchanged)."""
        means = {channel: max(mean, 1.0) for channel, mean in channel_mean.items()}
        red = balance.red * means[GREEN] / means[RED]
        blue = balance.blue * means[GREEN] / means[BLUE]
        balanced = all(abs(means[GREEN] / means[channel] - 1.0) <= AUTO_TOLERANCE for channel in (RED, BLUE))
        done = balanced or self._once_frames >= AUTO_ONCE_MAX_FRAMES
        clamp = WHITE_BALANCE_GAIN_RANGE
        return WhiteBalance(
            mode=AutoMode.OFF if done else AutoMode.ONCE,
            red=balance.red if balanced else min(max(red, clamp.minimum), clamp.maximum),
            green=balance.green,
            blue=balance.blue if balanced else min(max(blue, clamp.minimum), clamp.maximum),
        )

    # -- rendering -------------------------------------------------------------------------------

    def _make_readout(self) -> _Readout:
        """The scene radiance as the current region, addressing, flip and colour settings read it out."""
        settings = self._settings
        roi, addressing = settings.roi, settings.pixel_addressing
        bayer = settings.pixel_format.is_bayer
        cols = np.arange(roi.offset_x, roi.offset_x + roi.width + PATTERN_PERIOD_PX, dtype=np.float32)
        rows = np.arange(roi.offset_y, roi.offset_y + roi.height, dtype=np.float32)
        diagonal = (cols[None, :] + rows[:, None]) % PATTERN_PERIOD_PX / PATTERN_PERIOD_PX
        vertical = rows[:, None] / max(self._height - 1, 1)
        scene = 0.15 + 0.55 * diagonal + 0.3 * vertical
        if bayer:
            scene *= self._mosaic_factors(settings, rows.astype(np.int64))
        cell = 2 if bayer else 1
        height, width = scene.shape
        fx, fy = addressing.horizontal, addressing.vertical
        blocks = scene.reshape(height // (cell * fy), fy, cell, width // (cell * fx), fx, cell)
        if addressing.mode is AddressingMode.DECIMATE:
            combined = blocks[:, 0, :, :, 0, :]
        elif addressing.mode is AddressingMode.BIN:
            combined = blocks.sum(axis=(1, 4))
        else:
            combined = blocks.mean(axis=(1, 4))
        readout = combined.reshape(height // fy, width // fx)
        if settings.flip.vertical:
            readout = readout[::-1]
        if settings.flip.horizontal:
            readout = readout[:, ::-1]
        peak = max(float(readout.max()), np.finfo(np.float32).tiny)
        radiance_per_index = peak / (_SCENE_LEVELS - 1)
        indices = np.rint(readout / radiance_per_index).astype(np.uint16)
        return _Readout(
            indices=np.ascontiguousarray(indices),
            radiance_per_index=radiance_per_index,
            margin_px=PATTERN_PERIOD_PX // fx,
            step_px=PATTERN_STEP_PX // fx,
            flipped=settings.flip.horizontal,
        )

    def _mosaic_factors(self, settings: CameraSettings, rows: np.ndarray) -> np.ndarray:
        """Per sensor row and column parity: the band's reflectance of the site's colour, lit, white-balanced."""
        balance = settings.white_balance or WhiteBalance()
        gains = (balance.red, balance.green, balance.blue)
        saturation = (settings.saturation_pct if settings.saturation_pct is not None else DEFAULT_SATURATION_PCT) / 100
        reflectance = np.array([colours for _, colours in COLOUR_BANDS], dtype=np.float32)
        grey = reflectance.mean(axis=1, keepdims=True)
        reflectance = np.clip(grey + saturation * (reflectance - grey), 0.0, 1.0)
        per_band = reflectance * np.array(ILLUMINANT_RGB, dtype=np.float32) * np.array(gains, dtype=np.float32)
        band_px = max(self._height // len(COLOUR_BANDS), 1)
        band = (rows // band_px) % len(COLOUR_BANDS)
        colours = bayer_colours(settings.pixel_format.bayer_phase)  # the sensor's phase at offsets that are even
        row_parity = rows % 2
        even_cols = np.where(row_parity == 0, per_band[band, colours[0][0]], per_band[band, colours[1][0]])
        odd_cols = np.where(row_parity == 0, per_band[band, colours[0][1]], per_band[band, colours[1][1]])
        factors = np.empty((rows.size, settings.roi.width + PATTERN_PERIOD_PX), dtype=np.float32)
        factors[:, 0::2] = even_cols[:, None]
        factors[:, 1::2] = odd_cols[:, None]
        return factors

    def _lit(self, exposure_ms: float, gain_db: float, geometry: ImageGeometry) -> np.ndarray:
        """The readout at an exposure and gain (computed once for each, while frames use them)."""
        key = (exposure_ms, gain_db)
        lit = self._lit_patterns.get(key)
        if lit is None:
            if self._readout is None:
                self._readout = self._make_readout()
            settings = self._settings
            full_scale = (1 << geometry.bit_depth) - 1
            scale = (exposure_ms / REFERENCE_EXPOSURE_MS) * 10 ** (gain_db / 20)
            radiance = np.arange(_SCENE_LEVELS, dtype=np.float64) * self._readout.radiance_per_index
            level = np.clip(radiance * scale + (settings.black_level_pct or 0.0) / 100, 0.0, 1.0)
            if settings.gamma is not None and settings.gamma != 1.0:
                level = level ** (1.0 / settings.gamma)
            lut = np.rint(level * full_scale).astype(geometry.pixel_format.sample_type)
            in_use = {(exposure, gain) for _, exposure, gain in self._settings_from}
            self._lit_patterns = {k: v for k, v in self._lit_patterns.items() if k in in_use}
            lit = self._lit_patterns[key] = np.take(lut, self._readout.indices)
        return lit

    def _render(self, frame_number: int, exposure_ms: float, gain_db: float, geometry: ImageGeometry) -> np.ndarray:
        lit = self._lit(exposure_ms, gain_db, geometry)
        readout = self._readout
        assert readout is not None
        offset = (frame_number * readout.step_px) % readout.margin_px
        if readout.flipped:
            offset = readout.margin_px - offset
        pixels = self._buffers.acquire()
        np.copyto(pixels, lit[:, offset : offset + geometry.width])
        stamp_frame_number(pixels, frame_number, full_scale=(1 << geometry.bit_depth) - 1)
        return pixels

    # -- internals -----------------------------------------------------------------------

    def _check(self) -> None:
        if not self._plugged.is_set():
            raise CameraDisconnectedError(f"simulated camera {self._serial_number} was unplugged")
        if not self._open:
            raise CameraUnavailableError("simulated camera is not open")


#: Settings that change what is read out (the readout is rebuilt), and those that only change its lighting.
_READOUT_FIELDS = ("pixel_format", "pixel_addressing", "roi", "flip", "white_balance", "saturation_pct")
_TONE_FIELDS = ("black_level_pct", "gamma")
_AUTO_MODES = ("exposure_auto", "gain_auto")
#: Every top-level setting (SETTING_FIELDS is the apply order; trigger and gpio join it in issue 13).
_SETTINGS = tuple(setting.name for setting in fields(CameraSettings))


def _check_gpio_parameters(line: Gpio) -> None:
    """What the camera refuses of a line's parameters (the emulator's ApiGpioConfigurationError cases)."""
    if line.mode is GpioMode.STROBE and line.duration_ms <= 0:
        raise InvalidSettingError("gpio.duration_ms", line.duration_ms, reason="must be above 0 ms for a strobe")
    if line.mode is GpioMode.PULSE:
        if line.pulse_count < 1:
            raise InvalidSettingError("gpio.pulse_count", line.pulse_count, reason="must be at least 1 for pulses")
        if line.duration_ms <= 0:
            raise InvalidSettingError("gpio.duration_ms", line.duration_ms, reason="must be above 0 ms for pulses")
        if line.interval_ms < line.duration_ms:
            raise InvalidSettingError(
                "gpio.interval_ms",
                line.interval_ms,
                reason=f"must be at least gpio.duration_ms ({line.duration_ms:g} ms) for pulses",
            )


def _size_limits(sensor_px: int) -> Range:
    """Smallest and largest region size along a sensor axis, on the size step."""
    minimum = min(ROI_MIN_PX, sensor_px // ROI_SIZE_STEP_PX * ROI_SIZE_STEP_PX)
    return Range(minimum, minimum + (sensor_px - minimum) // ROI_SIZE_STEP_PX * ROI_SIZE_STEP_PX)


def channel_means(pixels: np.ndarray, pixel_format: PixelFormat) -> dict[int, float]:
    """Mean sample value of each colour (RED, GREEN, BLUE; GREEN only for mono), sampled, below the bar code."""
    start = BARCODE_CELL_PX * 2
    if not pixel_format.is_bayer:
        samples = pixels[start::AUTO_SAMPLE_STRIDE_PX, ::AUTO_SAMPLE_STRIDE_PX]
        return {GREEN: float(np.mean(samples))}
    sums: dict[int, list[float]] = {RED: [], GREEN: [], BLUE: []}
    for row, colours in enumerate(bayer_colours(pixel_format.bayer_phase)):
        for col, channel in enumerate(colours):
            sums[channel].append(
                float(np.mean(pixels[start + row :: AUTO_SAMPLE_STRIDE_PX, col::AUTO_SAMPLE_STRIDE_PX]))
            )
    return {channel: float(np.mean(values)) for channel, values in sums.items()}


def stamp_frame_number(pixels: np.ndarray, frame_number: int, full_scale: int) -> None:
    """Draw ``frame_number`` as a bar code (black/``full_scale`` cells, LSB first) in the top rows."""
    bits = (frame_number >> np.arange(BARCODE_BITS)) & 1
    cells = np.repeat(bits * full_scale, BARCODE_CELL_PX).astype(pixels.dtype)
    width = min(cells.size, pixels.shape[1])
    pixels[:BARCODE_CELL_PX, :width] = cells[:width]


def read_frame_number(pixels: np.ndarray, full_scale: int = 255) -> int:
    """Decode the bar code drawn by :func:`stamp_frame_number` (for tests and clients)."""
    row = pixels[BARCODE_CELL_PX // 2, : BARCODE_BITS * BARCODE_CELL_PX].astype(np.int64)
    bits = row[BARCODE_CELL_PX // 2 :: BARCODE_CELL_PX] > full_scale // 2
    return int(sum(int(bit) << index for index, bit in enumerate(bits)))


def _check_range(field: str, value: float, valid: Range) -> None:
    if not isinstance(value, (int, float)) or not math.isfinite(value) or value not in valid:
        raise InvalidSettingError(field, value, minimum=valid.minimum, maximum=valid.maximum)


__all__ = [
    "COLOUR_BANDS",
    "SimulatedCamera",
    "bayer_colours",
    "channel_means",
    "colour_format",
    "flipped_format",
    "read_frame_number",
    "stamp_frame_number",
]
