"""The PixeLINK camera driver, through the unmodified ``pixelinkWrapper`` (PixeLINK 4.0 API).

The wrapper (and with it ``libPxLApi.so``) is loaded when a driver is created, never at import
(:func:`camera_grpc.device.pixelink_sdk.load_sdk`). Facts about the SDK used here come from the
vendor's wrapper source (``pixelinkWrapper/pixelink.py``, installed with the package), headers and
samples (summarised in ``/work/shared/pixelink/FEATURES.md``); the emulator in ``emulator/`` (see its
README) follows the same facts.

Units
    Exposure is **seconds** in the SDK and milliseconds here (``exposure_ms / 1000`` on the way in,
    ``* 1000`` on the way out); gain is decibels, frame rate frames per second, black level
    (BRIGHTNESS) and saturation percent on both sides. Values come back from the camera as float32
    and are rounded to float32 precision (0.1 s arrives as 0.100000001).

Capabilities
    Nothing about a model is hard-coded: :meth:`PixelinkCamera.info` describes every setting
    (:data:`~camera_grpc.device.settings.FEATURE_NAMES`) from ``getCameraFeatures`` (re-read each
    time: limits such as the frame rate's depend on other settings): presence, min/max per
    parameter, ``SETTABLE_WHILE_STREAMING``, and the AUTO / ONEPUSH / OFF flags that give the auto
    modes and the frame-rate modes. What the SDK does not report is found by trial once per camera
    (stream stopped, at open; cached by serial number, as the vendor's GUI does): the pixel formats
    the camera accepts, its pixel addressing modes and factors, and its ROI steps (a value is on
    the step grid when the camera takes it unchanged, ``ApiSuccess`` rather than
    ``ApiSuccessParametersChanged``; the candidates are the divisors of each parameter's span).
    Every setting changed by a trial is restored.

Settings
    :meth:`PixelinkCamera.write_setting` follows the vendor's idioms: AUTO / ONEPUSH are set with
    the current parameters (the value is ignored by the camera), switching AUTO off sets MANUAL
    with the value the camera chose; frame rate FREE is FRAME_RATE OFF, FIXED is MANUAL with the
    rate; pixel addressing sends all four parameters (VALUE = X_VALUE) or, on cameras that report
    two, the symmetric form; ROI its four parameters; FLIP ``[horizontal, vertical]``; white
    balance is WHITE_SHADING's three gains, or ONEPUSH. The driver checks what the camera itself
    would only round (ROI steps, ROI inside the sensor, addressing modes and factors found by trial)
    so that the error names the field; everything else the camera decides: ``ApiOutOfRangeError`` /
    ``ApiInvalidParameterError`` become :class:`~camera_grpc.errors.InvalidSettingError` naming the
    field path and the camera's current range. After every set the applied value is read back
    (rounding and ``ApiSuccessParametersChanged`` are normal).

Streaming rule
    A feature whose capability flags lack ``SETTABLE_WHILE_STREAMING`` is set with the stream
    stopped and restarted around it (what the vendor's Capture OEM application does); an unexpected
    ``ApiNotPermittedWhileStreaming`` gets the same treatment. Loading a settings channel stops the
    stream too (the vendor GUIs do). :meth:`~camera_grpc.device.base.CameraDriver.apply_settings`
    stops it once around several such settings.

Frames
    Geometry is ROI / pixel addressing (floored, as the wrapper does), pixel format and FLIP from the
    camera. MONO8 and BAYER8_* frames are grabbed straight into buffers of a
    :class:`~camera_grpc.device.buffers.BufferPool` (no copy). MONO16 and BAYER16_* (big-endian,
    MSB-aligned in the SDK) are grabbed into one reused raw buffer and converted into a pooled native
    ``uint16`` array shifted right to ``MAX_PIXEL_SIZE`` bits. MONO12_PACKED (GigE Vision 1.0: two
    pixels in three bytes) is grabbed into the raw buffer and unpacked with vectorised numpy into a
    pooled ``uint16`` array, delivered as MONO16 with ``bit_depth`` 12 (or ``MAX_PIXEL_SIZE`` if
    smaller). Colour cameras deliver their **raw Bayer mosaic** (phase as the frame descriptor
    reports it: FLIP shifts it); demosaicing is the consumer's choice. The camera thread allocates
    nothing per frame in steady state; buffers are replaced when the geometry changes. Formats
    still not delivered (10/12-bit MSFIRST and Bayer-packed, YUV, RGB): at open, a camera in such a
    format is switched to the closest delivered one, with a warning.

Grabs and timeouts
    ``PxLGetNextFrame`` has no timeout argument; it returns ``ApiCameraTimeoutError`` "on occasion"
    (vendor samples). Like the samples, a grab retries up to :data:`GRAB_ATTEMPTS` times, probing the
    camera after each timeout (a failing probe means disconnected), and gives up with
    :class:`~camera_grpc.errors.CameraTimeoutError` once the attempts are used or the grab deadline has
    passed: :data:`GRAB_TIMEOUT_MARGIN_S` + :data:`GRAB_TIMEOUT_FRAME_PERIODS` frame periods, the frame
    period being ``max(exposure, 1 / frame rate)`` (the auto-exposure maximum while auto exposure runs).

Disconnects
    Return codes of a vanished camera (table in :mod:`~camera_grpc.device.pixelink_sdk`) raise
    :class:`~camera_grpc.errors.CameraDisconnectedError` at once, from any call (a grab blocked in the
    SDK is woken by the unplug). The worker then closes the driver (``uninitialize`` always runs, also
    for an unplugged camera) and reopens it with backoff. With ``CAMERA_SERIAL_NUMBER`` empty the first
    camera found is opened, and reconnects go back to that same camera.

Triggering (issue 13, FEATURES.md 11)
    ``trigger`` is the TRIGGER feature: free-running is TRIGGER **OFF** (the camera then reads its
    parameters as defaults, so free-running reads the default :class:`Trigger`); software and hardware
    are MANUAL ``[mode, type, polarity, delay s, parameter]``. PixeLINK polarity is inverted against
    the edge names: POSITIVE (1) triggers on the **falling** edge, NEGATIVE (0) on the rising one
    (FEATURES.md 11.4, KB 3000062128). ``trigger.source`` offers free_running always, software when the
    camera has TRIGGER, hardware when TYPE HARDWARE (2) is inside the TYPE range (11.2); the trigger
    modes (edge 0, pulse width 1, burst 4, sequence 14) are found by trial at open, as the vendor GUI
    does. TRIGGER is not settable while streaming (its flags): the stream is stopped around it.

    Grabs by source: FREE_RUNNING as above. SOFTWARE: every ``PxLGetNextFrame`` fires one trigger and
    blocks until its frame (FEATURES.md 11.3), so a grab is one trigger (the grab deadline adds the
    trigger delay). HARDWARE: ``PxLGetNextFrame`` blocks until a triggered frame arrives; no timeout is
    documented (CS aborttrigger.cpp), though samples see ``ApiCameraTimeoutError`` "on occasion" and
    the emulator returns it after its trigger timeout (FEATURES.md 24.11 leaves it open). So the
    blocking calls run on a helper thread (one per stream, ``pixelink-trigger-wait``) that does nothing
    but call ``getNextNumPyFrame`` into the buffers the camera thread hands it (up to
    :data:`TRIGGER_WAIT_BUFFERS` at a time), again after each timeout code, one after the other, and
    hand each return code and descriptor back through a queue: a frame that follows at once (a burst, a
    sequence) finds a grab already waiting, as the SDK requires (frames nobody waits for are lost).
    :meth:`PixelinkCamera.grab` waits for the next outcome at most
    :data:`~camera_grpc.device.base.TRIGGER_WAIT_SLICE_S`, probes the camera (a cheap read: an unplug is
    noticed even if the SDK kept the grab blocked) and raises
    :class:`~camera_grpc.device.base.NoTriggerYet`; the helper keeps waiting, so no frame is lost
    between slices. It starts with the stream (or at the first grab after the trigger was armed).
    Control calls meanwhile are allowed by the SDK (the vendor's aborttrigger sample stops the stream
    from another thread while a grab blocks; the emulator documents the same). Every stream STOP
    (stop_streaming, a setting that needs a stopped stream, close) wakes the helper with
    ``ApiStreamStopped`` (aborttrigger.cpp); it ends and what it had is dropped (a frame completed in
    that instant is lost). An unplug wakes it with a disconnect code, raised at the next grab.

    Per-frame metadata: ``camera_time_s`` is the descriptor's ``dFrameTime`` (``fFrameTime`` if 0):
    seconds on the camera's clock (``pixelink:<serial>``; latched at the end of the exposure, FEATURES.md
    17; the clock of ``PxLGetCurrentTimestamp`` and of events). ``trigger_count`` counts the triggers
    accepted since the stream started: SOFTWARE, the grabs (each fired one); HARDWARE, from the
    descriptor's frame number n and ``TriggerNumber`` i (the frame's index within a burst/sequence
    trigger, else 0): the camera numbers every frame its sensor produced, fetched or lost (11.3), and a
    missed trigger produces none, so with F frames per trigger (1 for edge and pulse width) the trigger
    is ``(n - i - b) / F + 1``, b being ``n - i`` of the first triggered frame received after the
    stream started. Two cameras wired to one trigger line and started before the first edge therefore
    give the same ``trigger_count`` to the frames of the same edge, unless one of them missed an edge
    (a TRIGGER_MISSED event; it then counts one less from there) or lost every frame of the first
    trigger; ``camera_time_s`` differences cross-check (each camera has its own clock). A stream
    restart (a setting that needs a stopped stream) starts the count again.

    GPIO (FEATURES.md 12): the lines are 1..``Params[INDEX].fMaxValue``; each is read with its index
    preloaded (``getFeature(h, GPIO, [line])``), set MANUAL ``[index, mode, polarity, p1, p2, p3]``
    (STROBE p1 delay s, p2 duration s; PULSE p1 count, p2 duration s, p3 interval s; other modes 0s,
    and the fields a mode does not use read 0) or OFF ``[index]``. Each line's modes are found by
    trial at open, as the vendor GUI does (the MODE minimum is not trustworthy, 12.3), and restored;
    with the hardware trigger armed the trigger is switched off around the trials. While armed, the
    trigger input line reads mode HARDWARE_TRIGGER (9): it is reported as INPUT, and a write that
    leaves it INPUT or OFF skips it (any other mode is refused naming ``gpio.mode``: the camera answers
    ``ApiGpiHardwareTriggerConflict``).

Events (FEATURES.md 15)
    :meth:`PixelinkCamera.set_event_listener` registers one ``setEventCallback`` function for each event
    id the driver maps (disconnect, trigger edges, missed trigger, skipped frames, input edges); ids the
    camera does not support (``ApiThisEventNotSupported`` / ``ApiNotSupportedError``) are skipped, as
    the vendor GUI does. The callback runs on an SDK thread: it only builds a
    :class:`~camera_grpc.device.events.CameraEvent` from its arguments and calls the listener (it reads
    nothing of the driver; a closed flag captured with it stops delivery once close has begun). The
    CFUNCTYPE object is kept alive until the registrations are cancelled and the handle uninitialized
    (``close``, also after an unplug, when cancelling fails but uninitialize ends them). FRAMES_SKIPPED
    carries the count as 4 little-endian bytes (1 when the camera sends none).

Threading
    Like every driver, used by the camera worker's thread only; all state here is written by it (the
    trigger-wait helper and the event callback only make SDK calls and hand back results).
"""

from __future__ import annotations

import enum
import logging
import math
import queue
import threading
import time
from dataclasses import dataclass, field, fields, replace
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

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
from camera_grpc.device.pixelink_sdk import RcKind, ReturnCodes, load_sdk
from camera_grpc.device.settings import (
    FEATURE_NAMES,
    GEOMETRY_FIELDS,
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
    Region,
    SettingsReading,
    Trigger,
    TriggerEdge,
    TriggerMode,
    TriggerSource,
    WhiteBalance,
)
from camera_grpc.errors import (
    CameraDisconnectedError,
    CameraSdkError,
    CameraServiceError,
    CameraTimeoutError,
    CameraUnavailableError,
    InvalidArgumentError,
    InvalidSettingError,
)

if TYPE_CHECKING:
    from camera_grpc.config import Settings

log = logging.getLogger(__name__)

#: ``PxLInitializeEx`` serial number meaning "the first camera found".
ANY_CAMERA = 0
MS_PER_S = 1000.0
#: Significant decimal digits of a float32: values read from the SDK are rounded to this many.
FLOAT32_DIGITS = 7
#: Grab attempts before a timeout is reported (vendor samples: 4 in getSnapshot.py, 5 in getNextFrame.py).
GRAB_ATTEMPTS = 4
#: Grab deadline = margin (USB/GigE transfer, camera latency) + this many frame periods.
GRAB_TIMEOUT_MARGIN_S = 1.0
GRAB_TIMEOUT_FRAME_PERIODS = 3
#: Bits per sample of the 8-bit formats, of a packed 12-bit sample, and the width of a 16-bit SDK sample.
BITS_8 = 8
BITS_12 = 12
BITS_16 = 16
#: GigE Vision 1.0 12-bit packing: this many pixels in this many bytes (FEATURES.md 5.1).
PACKED_PIXELS, PACKED_BYTES = 2, 3
LOW_NIBBLE = 0x0F
NIBBLE_BITS = 4

#: The features the driver needs (``PxLApi.FeatureId`` names).
REQUIRED_FEATURES = ("EXPOSURE", "GAIN", "ROI", "PIXEL_FORMAT")
#: The PxLApi.FeatureId name behind each setting's field path (what presence and SETTABLE_WHILE_STREAMING come from).
FEATURE_OF: dict[str, str] = {
    "exposure_ms": "EXPOSURE",
    "gain_db": "GAIN",
    "roi.offset_x": "ROI",
    "roi.offset_y": "ROI",
    "roi.width": "ROI",
    "roi.height": "ROI",
    "pixel_addressing.mode": "PIXEL_ADDRESSING",
    "pixel_addressing.horizontal": "PIXEL_ADDRESSING",
    "pixel_addressing.vertical": "PIXEL_ADDRESSING",
    "pixel_format": "PIXEL_FORMAT",
    "frame_rate.mode": "FRAME_RATE",
    "frame_rate.fps": "FRAME_RATE",
    "exposure_auto": "EXPOSURE",
    "exposure_auto_limits_ms": "EXPOSURE",
    "gain_auto": "GAIN",
    "white_balance.mode": "WHITE_SHADING",
    "white_balance.red": "WHITE_SHADING",
    "white_balance.green": "WHITE_SHADING",
    "white_balance.blue": "WHITE_SHADING",
    "black_level_pct": "BRIGHTNESS",
    "gamma": "GAMMA",
    "flip.horizontal": "FLIP",
    "flip.vertical": "FLIP",
    "saturation_pct": "SATURATION",
}
#: Field paths that are one parameter of their feature: (parameter index, SDK unit -> API unit factor).
NUMERIC_PARAMS: dict[str, tuple[int, float]] = {
    "exposure_ms": (0, MS_PER_S),
    "gain_db": (0, 1.0),
    "roi.offset_x": (0, 1.0),
    "roi.offset_y": (1, 1.0),
    "roi.width": (2, 1.0),
    "roi.height": (3, 1.0),
    "frame_rate.fps": (0, 1.0),
    "white_balance.red": (0, 1.0),
    "white_balance.green": (1, 1.0),
    "white_balance.blue": (2, 1.0),
    "black_level_pct": (0, 1.0),
    "gamma": (0, 1.0),
    "saturation_pct": (0, 1.0),
}
#: Top-level settings after which the grab deadline is recomputed (they change the frame period, or add a delay).
TIMING_FIELDS = frozenset({"exposure_ms", "exposure_auto", "exposure_auto_limits_ms", "frame_rate", "trigger"})
ROI_FIELDS = ("roi.offset_x", "roi.offset_y", "roi.width", "roi.height")
WHITE_BALANCE_FIELDS = ("white_balance.red", "white_balance.green", "white_balance.blue")
#: EXPOSURE parameters (PxLApi.ExposureParams): the value, and the range auto exposure stays in.
EXPOSURE_VALUE, EXPOSURE_AUTO_MIN, EXPOSURE_AUTO_MAX = 0, 1, 2
#: PIXEL_ADDRESSING parameters (PxLApi.PixelAddressingParams); cameras reporting 2 are symmetric only.
PA_VALUE, PA_MODE, PA_X, PA_Y = 0, 1, 2, 3
PA_ASYMMETRIC_PARAMS = 4
#: Camera pixel formats the driver never delivers: the SDK's RGB24 is a bottom-up BGR DIB.
NOT_DELIVERED = frozenset({PixelFormat.RGB24})
BAYER_PHASES = tuple(sorted({fmt.bayer_phase.upper() for fmt in PixelFormat if fmt.is_bayer}))
#: For a camera found in a format the driver does not deliver (PxLApi.PixelFormat names): the delivered ones
#: to try, best first.
FALLBACK_FORMATS: dict[str, tuple[str, ...]] = {
    "MONO12_PACKED_MSFIRST": ("MONO12_PACKED", "MONO16", "MONO8"),
    "MONO10_PACKED_MSFIRST": ("MONO16", "MONO8"),
    **{
        f"{family}_{phase}_{packing}": (f"BAYER16_{phase}", f"BAYER8_{phase}")
        for phase in BAYER_PHASES
        for family, packing in (("BAYER12", "PACKED"), ("BAYER12", "PACKED_MSFIRST"), ("BAYER10", "PACKED_MSFIRST"))
    },
}


#: Every top-level setting write_setting takes (SETTING_FIELDS is their apply order).
WRITABLE_SETTINGS = tuple(setting.name for setting in fields(CameraSettings))
#: The SDK's trigger modes (PxLApi.TriggerModes names) behind each TriggerMode.
TRIGGER_MODE_NAMES = {
    TriggerMode.EDGE: "MODE_0",
    TriggerMode.PULSE_WIDTH: "MODE_1",
    TriggerMode.BURST: "MODE_4",
    TriggerMode.SEQUENCE: "MODE_14",
}
#: Trigger modes whose PARAMETER is the number of frames per trigger.
MULTI_FRAME_MODES = frozenset({TriggerMode.BURST, TriggerMode.SEQUENCE})
#: The SDK's GPIO modes (PxLApi.GpioModes names) behind each GpioMode but OFF (the OFF flag).
GPIO_MODE_NAMES = {
    GpioMode.STROBE: "STROBE",
    GpioMode.NORMAL: "NORMAL",
    GpioMode.PULSE: "PULSE",
    GpioMode.BUSY: "BUSY",
    GpioMode.FLASH: "FLASH",
    GpioMode.INPUT: "INPUT",
}
#: Times tried with STROBE and PULSE when the line modes are found (a valid combination: 1 pulse of 1 ms), s.
GPIO_TRIAL_TIME_S = 0.001
GPIO_TRIAL_PULSES = 1.0
#: GPI line of cameras with three GPIOs (PL-X); others use line 1 (FEATURES.md 12.3, PW gpio.py).
THREE_LINE_GPI = 3
DEFAULT_GPI = 1
#: Events mapped (PxLApi.EventId name -> type, edge, input level).
EVENT_TYPES: dict[str, tuple[CameraEventType, TriggerEdge | None, bool]] = {
    "CAMERA_DISCONNECTED": (CameraEventType.DISCONNECTED, None, False),
    "HW_TRIGGER_RISING_EDGE": (CameraEventType.HARDWARE_TRIGGER, TriggerEdge.RISING, True),
    "HW_TRIGGER_FALLING_EDGE": (CameraEventType.HARDWARE_TRIGGER, TriggerEdge.FALLING, False),
    "GPI_RISING_EDGE": (CameraEventType.GPIO_INPUT, TriggerEdge.RISING, True),
    "GPI_FALLING_EDGE": (CameraEventType.GPIO_INPUT, TriggerEdge.FALLING, False),
    "HW_TRIGGER_MISSED": (CameraEventType.TRIGGER_MISSED, None, False),
    "FRAMES_SKIPPED": (CameraEventType.FRAMES_SKIPPED, None, False),
}
#: FRAMES_SKIPPED data: the count of frames lost, uint32 little-endian.
SKIPPED_COUNT_BYTES = 4
#: Longest a stream stop waits for the trigger-wait helper's blocked grab to end, seconds.
TRIGGER_WAIT_END_S = 2.0
#: Buffers the trigger-wait helper holds: one being filled, the others for frames that follow at once (a burst).
TRIGGER_WAIT_BUFFERS = 3


class _Layout(enum.Enum):
    """How the SDK lays a frame's samples out."""

    BYTES = "one byte per sample"
    BIG_ENDIAN_16 = "16-bit big-endian, MSB-aligned"
    PACKED_12 = "12-bit, two samples in three bytes (GigE Vision 1.0)"


def _from_sdk(value: float, scale: float = 1.0) -> float:
    """A float32 from the SDK (times ``scale``) as the shortest decimal it stands for: 0.1 s, not 0.100000001."""
    return float(f"{float(value) * scale:.{FLOAT32_DIGITS}g}")


def _shifted_bayer(fmt: PixelFormat, dx: int, dy: int) -> PixelFormat:
    """The Bayer format of an image whose top-left pixel is the old image's pixel (dx, dy) (both 0 or 1)."""
    if not fmt.is_bayer or not (dx or dy):
        return fmt
    phase = fmt.bayer_phase.upper()
    rows = (phase[:2], phase[2:])
    shifted = "".join(rows[(y + dy) % 2][(x + dx) % 2] for y in (0, 1) for x in (0, 1))
    family = fmt.name.rsplit("_", 1)[0]
    return PixelFormat[f"{family}_{shifted}"]


def _divisors(number: int) -> list[int]:
    """The positive divisors of ``number`` (> 0), ascending."""
    small = [d for d in range(1, math.isqrt(number) + 1) if number % d == 0]
    return sorted({*small, *(number // d for d in small)})


@dataclass(frozen=True)
class _Feature:
    """What ``getCameraFeatures`` says about one feature."""

    flags: int
    limits: tuple[Range, ...]  #: per parameter, in the SDK's unit


@dataclass(frozen=True)
class _Discovered:
    """What the SDK does not report and the driver found by trial (once per camera, cached by serial)."""

    pixel_formats: tuple[PixelFormat, ...]  #: camera formats it accepts and the driver delivers
    addressing_modes: tuple[AddressingMode, ...]
    addressing_factors: tuple[int, ...]
    roi_steps: tuple[int | None, ...]  #: left, top, width, height (None: the parameter cannot change)
    trigger_modes: tuple[TriggerMode, ...] = ()  #: () when the camera has no TRIGGER
    gpio_modes: tuple[tuple[GpioMode, ...], ...] = ()  #: per line (index 0 = line 1), OFF included


@dataclass(frozen=True)
class _Geometry:
    """The frames the camera delivers now."""

    width: int  #: pixels
    height: int  #: pixels
    roi: tuple[int, int, int, int]  #: left, top, width, height in sensor pixels
    sdk_format: int  #: the camera's PxLApi.PixelFormat value
    frame_sdk_format: int  #: the format frame descriptors report (FLIP shifts a Bayer phase)
    pixel_format: PixelFormat  #: as delivered
    bit_depth: int
    layout: _Layout

    @property
    def frame_bytes(self) -> int:
        """Bytes of one frame as the SDK writes it."""
        pixels = self.width * self.height
        if self.layout is _Layout.PACKED_12:
            return (pixels * PACKED_BYTES + 1) // PACKED_PIXELS  # an odd last pixel takes 2 bytes
        return pixels * (2 if self.layout is _Layout.BIG_ENDIAN_16 else 1)


class _FrameBuffers:
    """Reused buffers for one geometry: what the SDK writes into, and what frames are handed out in.

    Written and used by the camera thread only (the pool's buffers are handed out with the frames).
    """

    def __init__(self, geometry: _Geometry) -> None:
        self.geometry = geometry
        self.pool = BufferPool((geometry.height, geometry.width), geometry.pixel_format.sample_type)
        #: 16-bit and packed formats: the SDK's bytes (flat uint8), converted into a pooled array per frame.
        self.raw = None if geometry.layout is _Layout.BYTES else np.empty(geometry.frame_bytes, np.uint8)
        #: Raw buffers of hardware-trigger grabs, several of which are handed to the wait helper at once.
        self.raw_pool = None if self.raw is None else BufferPool((geometry.frame_bytes,), np.uint8)
        self._pairs = geometry.width * geometry.height // PACKED_PIXELS
        self._scratch = np.empty(self._pairs, np.uint16) if geometry.layout is _Layout.PACKED_12 else None

    def sdk_target(self) -> np.ndarray:
        """The uint8 array the SDK fills (pixelinkWrapper passes ``array.size`` as the byte count)."""
        return self.raw if self.raw is not None else self.pool.acquire()

    def spare_target(self) -> np.ndarray:
        """Like :meth:`sdk_target`, but never the one reused raw buffer (for targets handed out ahead)."""
        return self.raw_pool.acquire() if self.raw_pool is not None else self.pool.acquire()

    def to_pixels(self, target: np.ndarray) -> np.ndarray:
        """The frame's pixels in the delivered layout (a pooled array)."""
        layout = self.geometry.layout
        if layout is _Layout.BYTES:
            return target  # 8-bit: the SDK wrote straight into a pooled buffer
        pixels = self.pool.acquire()
        if layout is _Layout.BIG_ENDIAN_16:
            np.copyto(pixels, target.view(">u2").reshape(pixels.shape))  # big-endian -> native
            shift = BITS_16 - self.geometry.bit_depth
        else:
            self._unpack_12(pixels, target)
            shift = BITS_12 - self.geometry.bit_depth
        if shift > 0:
            np.right_shift(pixels, shift, out=pixels)  # MSB-aligned -> right-aligned
        return pixels

    def _unpack_12(self, pixels: np.ndarray, raw: np.ndarray) -> None:
        """GigE Vision 1.0: b0 = P0[11:4], b1 = P0[3:0] | P1[3:0] << 4, b2 = P1[11:4] (FEATURES.md 5.1)."""
        assert self._scratch is not None
        pairs, scratch, u16 = self._pairs, self._scratch, np.uint16
        packed = raw[: pairs * PACKED_BYTES].reshape(pairs, PACKED_BYTES)
        flat = pixels.reshape(-1)
        out = flat[: pairs * PACKED_PIXELS].reshape(pairs, PACKED_PIXELS)
        first, second = out[:, 0], out[:, 1]
        np.left_shift(packed[:, 0], NIBBLE_BITS, out=first, dtype=u16)
        np.bitwise_and(packed[:, 1], LOW_NIBBLE, out=scratch, dtype=u16)
        np.bitwise_or(first, scratch, out=first)
        np.left_shift(packed[:, 2], NIBBLE_BITS, out=second, dtype=u16)
        np.right_shift(packed[:, 1], NIBBLE_BITS, out=scratch, dtype=u16)
        np.bitwise_or(second, scratch, out=second)
        if flat.size % PACKED_PIXELS:  # an odd last pixel: b0 = P[11:4], b1 = P[3:0]
            flat[-1] = (int(raw[-2]) << NIBBLE_BITS) | (int(raw[-1]) & LOW_NIBBLE)


@dataclass
class _Camera:
    """Per-connection state (one ``initialize`` ... ``uninitialize``); the camera thread's."""

    handle: int
    serial: int
    model: str
    firmware_version: str
    camera_name: str
    features: dict[int, _Feature]
    sensor_width: int
    sensor_height: int
    max_pixel_bits: int
    discovered: _Discovered | None = None
    buffers: _FrameBuffers | None = None
    streaming: bool = False
    grab_timeout_s: float = GRAB_TIMEOUT_MARGIN_S
    trigger: Trigger = field(default_factory=Trigger)  #: as last read or written
    trigger_waiter: _TriggerWaiter | None = None  #: HARDWARE: the wait helper of this stream
    trigger_base: int | None = None  #: HARDWARE: first frame number of the first trigger of this stream
    software_triggers: int = 0  #: SOFTWARE: grabs (= triggers) since the stream started
    events: _EventRegistration | None = None


@dataclass
class _TriggerWaiter:
    """The hardware-trigger wait helper: it grabs into the targets the camera thread supplies, one after the
    other, and hands back each outcome with its buffer."""

    targets: queue.SimpleQueue[tuple[_FrameBuffers, np.ndarray] | None]  #: None: stop
    results: queue.SimpleQueue[tuple[Any, _FrameBuffers, np.ndarray]]  #: (getNextNumPyFrame's return or error, ...)
    thread: threading.Thread
    supplied: int = 0  #: targets handed over whose outcome the camera thread has not taken (camera thread)


@dataclass(frozen=True)
class _EventRegistration:
    """The event callback the SDK holds (kept alive here until the handle is released)."""

    callback: Any  #: the CFUNCTYPE object
    event_ids: tuple[int, ...]
    closed: threading.Event  #: set when delivery must stop (close, a new listener)


class PixelinkCamera(CameraDriver):
    """One PixeLINK camera (the first one, or the one with ``serial_number``). See the module docstring."""

    name = "pixelink"

    def __init__(self, serial_number: int | None = None) -> None:
        """Load the SDK (raises SdkUnavailableError with a one-line fix); the camera is opened by :meth:`open`."""
        self._api = load_sdk()
        self._codes = ReturnCodes(self._api.ReturnCode)
        self._flags = self._api.FeatureFlags
        self._requested_serial = serial_number or None
        self._bound_serial: int | None = None  # the camera this driver owns once it has opened one
        self._discovered_by_serial: dict[int, _Discovered] = {}
        self._handle: int | None = None
        self._camera: _Camera | None = None
        feature_id = self._api.FeatureId
        used = {
            *FEATURE_OF.values(),
            *REQUIRED_FEATURES,
            "MAX_PIXEL_SIZE",
            "ACTUAL_FRAME_RATE",
            "TRIGGER",
            "GPIO",
            "SENSOR_TEMPERATURE",
            "BODY_TEMPERATURE",
        }
        self._id: dict[str, int] = {name: getattr(feature_id, name) for name in sorted(used)}
        self._feature_names = {value: name for name, value in self._id.items()}
        formats = self._api.PixelFormat
        self._sdk_format_of = {
            fmt: getattr(formats, fmt.name)
            for fmt in PixelFormat
            if fmt not in NOT_DELIVERED and isinstance(getattr(formats, fmt.name, None), int)
        }
        self._delivered = {value: fmt for fmt, value in self._sdk_format_of.items()}
        self._format_names = {value: name for name, value in reversed(vars(formats).items()) if isinstance(value, int)}
        modes = self._api.PixelAddressingModes
        self._sdk_mode_of = {mode: getattr(modes, mode.name) for mode in AddressingMode}
        self._mode_of = {value: mode for mode, value in self._sdk_mode_of.items()}
        self._trigger_mode_of = {
            getattr(self._api.TriggerModes, name): mode for mode, name in TRIGGER_MODE_NAMES.items()
        }
        self._sdk_trigger_mode = {mode: value for value, mode in self._trigger_mode_of.items()}
        self._gpio_mode_of = {getattr(self._api.GpioModes, name): mode for mode, name in GPIO_MODE_NAMES.items()}
        self._sdk_gpio_mode = {mode: value for value, mode in self._gpio_mode_of.items()}
        self._event_types = {getattr(self._api.EventId, name): kind for name, kind in EVENT_TYPES.items()}
        channels = self._api.Settings
        self._factory_channel = channels.SETTINGS_FACTORY
        #: Non-volatile user channels: the PxLApi.Settings values above the factory one.
        self._user_channels = tuple(
            sorted(
                value
                for name, value in vars(channels).items()
                if not name.startswith("_") and isinstance(value, int) and value != channels.SETTINGS_FACTORY
            )
        )

    @classmethod
    def from_settings(cls, settings: Settings) -> PixelinkCamera:
        """The camera chosen by ``CAMERA_SERIAL_NUMBER`` (empty: the first one found)."""
        return cls(serial_number=settings.camera_serial_number)

    # -- CameraDriver: connection -----------------------------------------------------------------

    def open(self) -> None:
        if self._camera is not None:
            return
        serial = self._requested_serial or self._bound_serial or ANY_CAMERA
        ret = self._api.initialize(serial, self._api.InitializeExFlags.ISSUE_STREAM_STOP)
        if ret[0] < 0:
            raise self._open_error(ret[0], serial)
        self._handle = ret[1]
        try:
            camera = self._set_up(ret[1])
        except BaseException:
            self.close()
            raise
        self._camera = camera
        self._bound_serial = camera.serial
        geometry = self._geometry()
        log.info(
            "PixeLINK camera %d (%s, firmware %s) initialized: %dx%d %s, %d-bit, exposure %.4g ms, gain %.4g dB",
            camera.serial,
            camera.model,
            camera.firmware_version,
            geometry.width,
            geometry.height,
            geometry.pixel_format.value,
            geometry.bit_depth,
            self.get_exposure_ms(),
            self.get_gain_db(),
        )

    def close(self) -> None:
        handle, camera = self._handle, self._camera
        self._handle = self._camera = None
        if handle is None:
            return
        label = camera.serial if camera is not None else "(opening)"
        registration = camera.events if camera is not None else None  # kept alive until uninitialize returned
        try:
            if registration is not None:
                self._cancel_events(handle, registration)
            if camera is not None and camera.streaming:
                self._api.setStreamState(handle, self._api.StreamState.STOP)  # best effort; uninitialize stops too
            rc = self._api.uninitialize(handle)[0]
        except Exception:  # never raise from close
            log.exception("PixeLINK camera %s: uninitialize failed", label)
            return
        finally:
            if camera is not None:
                self._end_trigger_wait(camera)
        if rc < 0:
            log.info("PixeLINK camera %s uninitialized (%s: it was gone)", label, self._codes.name(rc))
        else:
            log.info("PixeLINK camera %s uninitialized", label)

    @property
    def is_open(self) -> bool:
        return self._camera is not None

    def check_connection(self) -> None:
        self._read(self._require(), self._id["EXPOSURE"])

    # -- CameraDriver: identity and capabilities ------------------------------------------------------

    def info(self) -> CameraDescription:
        camera = self._require()
        camera.features = self._read_features(camera.handle, self._api.FeatureId.ALL)  # limits can change
        features = self._describe(camera)
        exposure, gain = features["exposure_ms"], features["gain_db"]
        assert camera.discovered is not None
        return CameraDescription(
            model=camera.model,
            serial_number=str(camera.serial),
            firmware_version=camera.firmware_version,
            driver=self.name,
            sensor_width=camera.sensor_width,
            sensor_height=camera.sensor_height,
            exposure_ms=Range(exposure.minimum or 0.0, exposure.maximum or 0.0),
            gain_db=Range(gain.minimum or 0.0, gain.maximum or 0.0),
            pixel_formats=camera.discovered.pixel_formats,
            camera_name=camera.camera_name,
            features=features,
            settings_channels=len(self._user_channels),
        )

    def _describe(self, camera: _Camera) -> Features:
        """Every field path the camera supports, as it reports it (and as the trials at open found)."""
        infos = []
        for path in FEATURE_NAMES:
            if path not in FEATURE_OF:
                continue  # trigger.* and gpio.*: below
            feature = camera.features.get(self._id[FEATURE_OF[path]])
            if feature is None or feature.flags & self._flags.READ_ONLY:
                continue
            info = self._describe_one(camera, path, feature)
            if info is not None:
                infos.append(info)
        return Features([*infos, *self._describe_trigger(camera), *self._describe_gpio(camera)])

    def _describe_trigger(self, camera: _Camera) -> list[FeatureInfo]:
        """trigger.*: sources from TYPE's range, modes as found by trial, delay and frames from the limits."""
        feature = self._trigger_feature(camera)
        if feature is None:
            return []
        assert camera.discovered is not None
        params = self._api.TriggerParams
        sws = bool(feature.flags & self._flags.SETTABLE_WHILE_STREAMING)
        delay = _scaled(feature.limits[params.DELAY], MS_PER_S)
        frames = feature.limits[params.PARAMETER]
        return [
            FeatureInfo(
                "trigger.source",
                choices=tuple(source.value for source in self._trigger_sources(feature)),
                settable_while_streaming=sws,
            ),
            FeatureInfo(
                "trigger.mode",
                choices=tuple(mode.value for mode in camera.discovered.trigger_modes),
                settable_while_streaming=sws,
            ),
            FeatureInfo(
                "trigger.edge", choices=tuple(edge.value for edge in TriggerEdge), settable_while_streaming=sws
            ),
            FeatureInfo("trigger.delay_ms", minimum=delay.minimum, maximum=delay.maximum, settable_while_streaming=sws),
            FeatureInfo(
                "trigger.frames_per_trigger",
                minimum=max(1, math.ceil(frames.minimum)),
                maximum=math.floor(frames.maximum),
                step=1,
                settable_while_streaming=sws,
            ),
        ]

    def _describe_gpio(self, camera: _Camera) -> list[FeatureInfo]:
        """gpio.*: lines 1..INDEX maximum, the modes the trials found on any line, parameters from the limits."""
        feature = self._gpio_feature(camera)
        assert camera.discovered is not None
        if feature is None or not camera.discovered.gpio_modes:
            return []
        params = self._api.GpioParams
        sws = bool(feature.flags & self._flags.SETTABLE_WHILE_STREAMING)
        lines = tuple(float(line) for line in range(1, len(camera.discovered.gpio_modes) + 1))
        offered = {mode for modes in camera.discovered.gpio_modes for mode in modes}
        first, second, third = (feature.limits[index] for index in (params.PARAM_1, params.PARAM_2, params.PARAM_3))
        delay, duration, interval = _scaled(first, MS_PER_S), _scaled(second, MS_PER_S), _scaled(third, MS_PER_S)
        return [
            FeatureInfo(
                "gpio.line", minimum=min(lines), maximum=max(lines), values=lines, settable_while_streaming=sws
            ),
            FeatureInfo(
                "gpio.mode",
                choices=tuple(mode.value for mode in GpioMode if mode in offered),
                settable_while_streaming=sws,
            ),
            FeatureInfo("gpio.active_high", settable_while_streaming=sws),
            FeatureInfo("gpio.delay_ms", minimum=delay.minimum, maximum=delay.maximum, settable_while_streaming=sws),
            FeatureInfo(
                "gpio.duration_ms", minimum=duration.minimum, maximum=duration.maximum, settable_while_streaming=sws
            ),
            FeatureInfo(
                "gpio.pulse_count",
                minimum=math.ceil(first.minimum),
                maximum=math.floor(first.maximum),
                step=1,
                settable_while_streaming=sws,
            ),
            FeatureInfo(
                "gpio.interval_ms", minimum=interval.minimum, maximum=interval.maximum, settable_while_streaming=sws
            ),
        ]

    def _trigger_feature(self, camera: _Camera) -> _Feature | None:
        """TRIGGER as the camera reports it, if it has the five parameters of FEATURES.md 11.1."""
        feature = camera.features.get(self._id["TRIGGER"])
        if feature is None or len(feature.limits) < self._api.TriggerParams.NUM_PARAMS:
            return None
        return feature

    def _gpio_feature(self, camera: _Camera) -> _Feature | None:
        """GPIO as the camera reports it, if it has the six parameters of FEATURES.md 12.1."""
        feature = camera.features.get(self._id["GPIO"])
        if feature is None or len(feature.limits) < self._api.GpioParams.NUM_PARAMS:
            return None
        return feature

    def _trigger_sources(self, feature: _Feature) -> tuple[TriggerSource, ...]:
        """Free-running always; software with TRIGGER; hardware when TYPE HARDWARE is in TYPE's range (11.2)."""
        types = self._api.TriggerTypes
        hardware = types.HARDWARE in feature.limits[self._api.TriggerParams.TYPE]
        return (TriggerSource.FREE_RUNNING, TriggerSource.SOFTWARE, *((TriggerSource.HARDWARE,) if hardware else ()))

    def _describe_one(self, camera: _Camera, path: str, feature: _Feature) -> FeatureInfo | None:
        sws = bool(feature.flags & self._flags.SETTABLE_WHILE_STREAMING)
        discovered = camera.discovered
        assert discovered is not None
        if path in NUMERIC_PARAMS:
            index, scale = NUMERIC_PARAMS[path]
            if index >= len(feature.limits):
                return None
            limits = _scaled(feature.limits[index], scale)
            step = discovered.roi_steps[index] if path in ROI_FIELDS else None
            return FeatureInfo(
                path, minimum=limits.minimum, maximum=limits.maximum, step=step, settable_while_streaming=sws
            )
        if path == "exposure_auto_limits_ms":
            if len(feature.limits) <= EXPOSURE_AUTO_MAX:
                return None
            return FeatureInfo(
                path,
                minimum=_from_sdk(feature.limits[EXPOSURE_AUTO_MIN].minimum, MS_PER_S),
                maximum=_from_sdk(feature.limits[EXPOSURE_AUTO_MAX].maximum, MS_PER_S),
                settable_while_streaming=sws,
            )
        if path in ("exposure_auto", "gain_auto", "white_balance.mode"):
            choices = tuple(mode.value for mode in self._auto_modes(feature.flags))
            if path != "white_balance.mode" and choices == (AutoMode.OFF.value,):  # no auto mode: nothing to set
                return None
            return FeatureInfo(path, choices=choices, settable_while_streaming=sws)
        if path == "pixel_format":
            choices = tuple(fmt.value for fmt in discovered.pixel_formats)
            return FeatureInfo(path, choices=choices, settable_while_streaming=sws)
        if path == "pixel_addressing.mode":
            choices = tuple(mode.value for mode in discovered.addressing_modes)
            return FeatureInfo(path, choices=choices, settable_while_streaming=sws)
        if path in ("pixel_addressing.horizontal", "pixel_addressing.vertical"):
            factors = tuple(float(factor) for factor in discovered.addressing_factors)
            return FeatureInfo(
                path, minimum=min(factors), maximum=max(factors), values=factors, settable_while_streaming=sws
            )
        if path == "frame_rate.mode":
            choices = tuple(
                mode.value
                for mode, flag in ((FrameRateMode.FREE, self._flags.OFF), (FrameRateMode.FIXED, self._flags.MANUAL))
                if feature.flags & flag
            )
            return FeatureInfo(path, choices=choices, settable_while_streaming=sws)
        return FeatureInfo(path, settable_while_streaming=sws)  # flip.horizontal, flip.vertical: on or off

    def _auto_modes(self, capability_flags: int) -> tuple[AutoMode, ...]:
        """The auto modes a feature's capability flags offer: OFF (manual), CONTINUOUS (AUTO), ONCE (ONEPUSH)."""
        flags = self._flags
        offered = {AutoMode.OFF: True, AutoMode.CONTINUOUS: flags.AUTO, AutoMode.ONCE: flags.ONEPUSH}
        return tuple(mode for mode, flag in offered.items() if flag is True or capability_flags & flag)

    def _auto_mode(self, state_flags: int) -> AutoMode:
        """A feature's auto mode from its getFeature flags."""
        if state_flags & self._flags.ONEPUSH:
            return AutoMode.ONCE
        if state_flags & self._flags.AUTO:
            return AutoMode.CONTINUOUS
        return AutoMode.OFF

    # -- CameraDriver: settings -------------------------------------------------------------------------

    def get_exposure_ms(self) -> float:
        return _from_sdk(self._read(self._require(), self._id["EXPOSURE"])[EXPOSURE_VALUE], MS_PER_S)

    def set_exposure_ms(self, exposure_ms: float) -> float:
        camera = self._require()
        self._write_exposure_ms(camera, exposure_ms)
        self._update_grab_timeout(camera)
        return self.get_exposure_ms()

    def get_gain_db(self) -> float:
        return _from_sdk(self._read(self._require(), self._id["GAIN"])[0])

    def set_gain_db(self, gain_db: float) -> float:
        camera = self._require()
        self._write_gain_db(camera, gain_db)
        return self.get_gain_db()

    def geometry(self) -> ImageGeometry:
        return _image_geometry(self._geometry())

    def read_settings(self) -> SettingsReading:
        camera = self._require()
        names = sorted({*FEATURE_OF.values(), "ACTUAL_FRAME_RATE"})
        values = {name: self._read_flags(camera, self._id[name]) for name in names if self._id[name] in camera.features}
        geometry = self._install_geometry(camera, self._geometry_from(camera, values))
        exposure_flags, exposure = values["EXPOSURE"]
        gain_flags, gain = values["GAIN"]
        settings = CameraSettings(
            exposure_ms=_from_sdk(exposure[EXPOSURE_VALUE], MS_PER_S),
            gain_db=_from_sdk(gain[0]),
            roi=Region(*geometry.roi),
            pixel_addressing=self._addressing(values.get("PIXEL_ADDRESSING")),
            pixel_format=self._delivered[geometry.sdk_format],
            frame_rate=self._frame_rate(values.get("FRAME_RATE")),
            exposure_auto=self._auto_mode(exposure_flags),
            exposure_auto_limits_ms=(
                Range(
                    _from_sdk(exposure[EXPOSURE_AUTO_MIN], MS_PER_S), _from_sdk(exposure[EXPOSURE_AUTO_MAX], MS_PER_S)
                )
                if len(exposure) > EXPOSURE_AUTO_MAX
                else None
            ),
            gain_auto=self._auto_mode(gain_flags),
            white_balance=self._white_balance(values.get("WHITE_SHADING")),
            black_level_pct=_first(values.get("BRIGHTNESS")),
            gamma=self._gamma(values.get("GAMMA")),
            flip=Flip(*(bool(round(v)) for v in values["FLIP"][1][:2])) if "FLIP" in values else Flip(),
            saturation_pct=_first(values.get("SATURATION")),
            trigger=self._read_trigger(camera),
            gpio=self._read_gpio(camera),
        )
        actual = _first(values.get("ACTUAL_FRAME_RATE"))
        if actual is None:
            fixed = settings.frame_rate.mode is FrameRateMode.FIXED
            actual = settings.frame_rate.fps if fixed else 0.0
        return SettingsReading(settings, _image_geometry(geometry), actual)

    def _addressing(self, state: tuple[int, list[float]] | None) -> PixelAddressing:
        if state is None:
            return PixelAddressing()
        params = state[1]
        horizontal = vertical = max(round(params[PA_VALUE]), 1)
        if len(params) >= PA_ASYMMETRIC_PARAMS and params[PA_X] > 0 and params[PA_Y] > 0:
            horizontal, vertical = round(params[PA_X]), round(params[PA_Y])
        mode = self._mode_of.get(round(params[PA_MODE]), AddressingMode.DECIMATE) if len(params) > PA_MODE else None
        return PixelAddressing(mode or AddressingMode.DECIMATE, horizontal, vertical)

    def _frame_rate(self, state: tuple[int, list[float]] | None) -> FrameRate:
        if state is None:
            return FrameRate()
        flags, params = state
        fps = _from_sdk(params[0])
        if flags & self._flags.MANUAL:
            return FrameRate(FrameRateMode.FIXED, fps)
        return FrameRate(FrameRateMode.FREE, fps)  # OFF (or the camera's own AUTO): as fast as it can

    def _white_balance(self, state: tuple[int, list[float]] | None) -> WhiteBalance | None:
        if state is None:
            return None
        flags, params = state
        red, green, blue = (_from_sdk(value) for value in params[:3])
        return WhiteBalance(self._auto_mode(flags), red, green, blue)

    def _gamma(self, state: tuple[int, list[float]] | None) -> float | None:
        if state is None:
            return None
        flags, params = state
        return 1.0 if flags & self._flags.OFF else _from_sdk(params[0])

    def write_setting(self, name: str, value: Any) -> None:
        camera = self._require()
        if name not in WRITABLE_SETTINGS:
            raise ValueError(f"unknown setting {name!r} (not a field of CameraSettings)")
        getattr(self, f"_write_{name}")(camera, value)
        if name in GEOMETRY_FIELDS:
            self._read_geometry(camera)
        if name in TIMING_FIELDS:
            self._update_grab_timeout(camera)

    def save_settings_to_channel(self, channel: int) -> None:
        camera = self._require()
        self._check_channel(channel, self._user_channels)
        self._call_with_stream_rule(camera, lambda: self._api.saveSettings(camera.handle, channel)[0], "save", channel)
        log.info("PixeLINK camera %d: settings saved to channel %d", camera.serial, channel)

    def load_settings_from_channel(self, channel: int) -> SettingsReading:
        camera = self._require()
        self._check_channel(channel, (self._factory_channel, *self._user_channels))
        restart = camera.streaming
        if restart:  # the vendor GUIs stop the stream to load (the camera is busy until it is done)
            self.stop_streaming()
        try:
            rc = self._api.loadSettings(camera.handle, channel)[0]
            if rc < 0:
                raise self._channel_error(camera, rc, "load", channel)
            camera.features = self._read_features(camera.handle, self._api.FeatureId.ALL)
            current = round(self._read(camera, self._id["PIXEL_FORMAT"])[0])
            if current not in self._delivered:
                self._choose_format(camera, current)
            self._read_geometry(camera)
            self._read_trigger(camera)
            self._update_grab_timeout(camera)
        except CameraUnavailableError:
            raise  # gone: nothing to restart
        except BaseException:
            if restart:
                self.start_streaming()
            raise
        if restart:
            self.start_streaming()
        log.info("PixeLINK camera %d: settings loaded from channel %d", camera.serial, channel)
        return self.read_settings()

    def _check_channel(self, channel: int, valid: tuple[int, ...]) -> None:
        if isinstance(channel, bool) or not isinstance(channel, int) or channel not in valid:
            if not valid:
                raise InvalidArgumentError("channel", channel, reason="this camera has no settings channels")
            raise InvalidArgumentError("channel", channel, minimum=min(valid), maximum=max(valid))

    def _channel_error(self, camera: _Camera, rc: int, action: str, channel: int) -> CameraServiceError:
        if self._codes.kind(rc) is RcKind.INVALID_VALUE:
            return InvalidArgumentError(
                "channel", channel, reason=f"was refused by the camera ({self._codes.name(rc)})"
            )
        return self._error(camera, rc, f"{action} settings channel {channel}")

    def _call_with_stream_rule(self, camera: _Camera, call: Any, action: str, channel: int) -> None:
        """A call that may need a stopped stream: retried with the stream stopped if the camera says so."""
        rc = call()
        if self._codes.kind(rc) is RcKind.NOT_PERMITTED_WHILE_STREAMING and camera.streaming:
            self._stream(camera, self._api.StreamState.STOP, f"stop the stream to {action} settings")
            rc = call()
            if self._codes.kind(rc) is not RcKind.DISCONNECTED:
                self._stream(camera, self._api.StreamState.START, "restart the stream")
        if rc < 0:
            raise self._channel_error(camera, rc, action, channel)

    # -- writers: one per top-level setting (SETTING_FIELDS), called by write_setting -------------------

    def _write_pixel_format(self, camera: _Camera, fmt: PixelFormat) -> None:
        assert camera.discovered is not None
        accepted = camera.discovered.pixel_formats
        if fmt not in accepted:
            choices = ", ".join(f.value for f in accepted)
            raise InvalidSettingError("pixel_format", fmt.value, reason=f"must be one of {choices} (this camera's)")
        self._set_params(camera, self._id["PIXEL_FORMAT"], [float(self._sdk_format_of[fmt])], "pixel_format", fmt.value)

    def _write_pixel_addressing(self, camera: _Camera, addressing: PixelAddressing) -> None:
        feature_id = self._id["PIXEL_ADDRESSING"]
        if feature_id not in camera.features:
            _unsupported_unless_neutral("pixel_addressing", addressing, PixelAddressing())
            return
        assert camera.discovered is not None
        modes, factors = camera.discovered.addressing_modes, camera.discovered.addressing_factors
        if addressing.mode not in modes:
            choices = ", ".join(mode.value for mode in modes)
            raise InvalidSettingError(
                "pixel_addressing.mode", addressing.mode.value, reason=f"must be one of {choices}"
            )
        for path, factor in (
            ("pixel_addressing.horizontal", addressing.horizontal),
            ("pixel_addressing.vertical", addressing.vertical),
        ):
            if factor not in factors:
                allowed = ", ".join(str(f) for f in factors)
                raise InvalidSettingError(path, factor, reason=f"must be one of {allowed}")
        mode = float(self._sdk_mode_of[addressing.mode])
        horizontal, vertical = float(addressing.horizontal), float(addressing.vertical)
        if len(camera.features[feature_id].limits) >= PA_ASYMMETRIC_PARAMS:
            params = [horizontal, mode, horizontal, vertical]  # VALUE = X, as the vendor GUI sends
        elif horizontal != vertical:
            raise InvalidSettingError(
                "pixel_addressing.vertical",
                addressing.vertical,
                reason=f"must equal pixel_addressing.horizontal ({addressing.horizontal}): "
                "this camera combines pixels symmetrically only",
            )
        else:
            params = [horizontal, mode]
        self._set_params(camera, feature_id, params, "pixel_addressing.horizontal", addressing.horizontal)

    def _write_roi(self, camera: _Camera, roi: Region) -> None:
        feature_id = self._id["ROI"]
        limits = self._refresh_feature(camera, feature_id).limits
        assert camera.discovered is not None
        requested = (roi.offset_x, roi.offset_y, roi.width, roi.height)
        for path, value, valid, step in zip(ROI_FIELDS, requested, limits, camera.discovered.roi_steps, strict=False):
            low, high = round(valid.minimum), round(valid.maximum)
            if not low <= value <= high:
                raise InvalidSettingError(path, value, minimum=low, maximum=high)
            if step and (value - low) % step:
                raise InvalidSettingError(
                    path,
                    value,
                    minimum=low,
                    maximum=high,
                    reason=f"must be a multiple of the step {step} pixels" + (f" from {low}" if low else ""),
                )
        for offset_path, offset, size_path, size, sensor in (
            ("roi.offset_x", roi.offset_x, "roi.width", roi.width, camera.sensor_width),
            ("roi.offset_y", roi.offset_y, "roi.height", roi.height, camera.sensor_height),
        ):
            if offset + size > sensor:
                raise InvalidSettingError(
                    size_path,
                    size,
                    maximum=sensor - offset,
                    minimum=0,
                    reason=f"{offset_path} + {size_path} = {offset + size} exceeds the sensor's {sensor} pixels "
                    f"(at offset {offset} the largest is {sensor - offset})",
                )
        self._set_params(camera, feature_id, [float(v) for v in requested], "roi", requested)
        applied = tuple(round(v) for v in self._read(camera, feature_id)[:4])
        if applied != requested:
            log.warning("PixeLINK camera %d adjusted the ROI %s to %s", camera.serial, requested, applied)

    def _write_flip(self, camera: _Camera, flip: Flip) -> None:
        feature_id = self._id["FLIP"]
        if feature_id not in camera.features:
            _unsupported_unless_neutral("flip", flip, Flip())
            return
        self._set_params(camera, feature_id, [float(flip.horizontal), float(flip.vertical)], "flip", flip)

    def _write_exposure_auto_limits_ms(self, camera: _Camera, limits: Range | None) -> None:
        if limits is None:
            return
        feature_id = self._id["EXPOSURE"]
        if len(camera.features[feature_id].limits) <= EXPOSURE_AUTO_MAX:
            raise FeatureUnsupportedError("exposure_auto_limits_ms")
        valid = self._refresh_feature(camera, feature_id).limits
        low = _from_sdk(valid[EXPOSURE_AUTO_MIN].minimum, MS_PER_S)
        high = _from_sdk(valid[EXPOSURE_AUTO_MAX].maximum, MS_PER_S)
        if limits.minimum not in Range(low, high) or limits.maximum not in Range(low, high):
            raise InvalidSettingError(
                "exposure_auto_limits_ms", (limits.minimum, limits.maximum), minimum=low, maximum=high
            )
        flags, params = self._read_flags(camera, feature_id)
        params[EXPOSURE_AUTO_MIN] = limits.minimum / MS_PER_S
        params[EXPOSURE_AUTO_MAX] = limits.maximum / MS_PER_S
        mode = flags & (self._flags.AUTO | self._flags.ONEPUSH) or self._flags.MANUAL  # keep a running auto mode
        value = (limits.minimum, limits.maximum)
        self._set_params(camera, feature_id, params, "exposure_auto_limits_ms", value, flags=mode)

    def _write_exposure_ms(self, camera: _Camera, exposure_ms: float) -> None:
        sdk_value = exposure_ms / MS_PER_S
        self._set_value(camera, self._id["EXPOSURE"], EXPOSURE_VALUE, sdk_value, "exposure_ms", exposure_ms, MS_PER_S)

    def _write_exposure_auto(self, camera: _Camera, mode: AutoMode) -> None:
        self._write_auto(camera, self._id["EXPOSURE"], "exposure_auto", mode)

    def _write_frame_rate(self, camera: _Camera, frame_rate: FrameRate) -> None:
        feature_id = self._id["FRAME_RATE"]
        feature = camera.features.get(feature_id)
        if feature is None:
            if frame_rate.mode is not FrameRateMode.FREE:
                raise FeatureUnsupportedError("frame_rate.mode")
            return
        if frame_rate.mode is FrameRateMode.FIXED:
            self._set_params(camera, feature_id, [frame_rate.fps], "frame_rate.fps", frame_rate.fps, 1.0)
            return
        if not feature.flags & self._flags.OFF:
            raise InvalidSettingError(
                "frame_rate.mode", frame_rate.mode.value, reason="must be fixed: this camera always limits its rate"
            )
        params = self._read(camera, feature_id)  # OFF keeps the rate for when it is fixed again
        self._set_params(camera, feature_id, params, "frame_rate.mode", frame_rate.mode.value, flags=self._flags.OFF)

    def _write_gain_db(self, camera: _Camera, gain_db: float) -> None:
        self._set_value(camera, self._id["GAIN"], 0, gain_db, "gain_db", gain_db, 1.0)

    def _write_gain_auto(self, camera: _Camera, mode: AutoMode) -> None:
        self._write_auto(camera, self._id["GAIN"], "gain_auto", mode)

    def _write_white_balance(self, camera: _Camera, balance: WhiteBalance | None) -> None:
        if balance is None:
            return
        feature_id = self._id["WHITE_SHADING"]
        if feature_id not in camera.features:
            raise FeatureUnsupportedError("white_balance.mode")
        if balance.mode is not AutoMode.OFF:
            self._write_auto(camera, feature_id, "white_balance.mode", balance.mode)
            return
        gains = (balance.red, balance.green, balance.blue)
        limits = self._refresh_feature(camera, feature_id).limits
        for path, gain, valid in zip(WHITE_BALANCE_FIELDS, gains, limits, strict=False):
            scaled = _scaled(valid)
            if not (isinstance(gain, (int, float)) and math.isfinite(gain) and gain in scaled):
                raise InvalidSettingError(path, gain, minimum=scaled.minimum, maximum=scaled.maximum)
        self._set_params(camera, feature_id, [float(g) for g in gains], "white_balance.red", balance.red, 1.0)

    def _write_black_level_pct(self, camera: _Camera, value: float | None) -> None:
        self._write_single(camera, "BRIGHTNESS", "black_level_pct", value)

    def _write_gamma(self, camera: _Camera, value: float | None) -> None:
        self._write_single(camera, "GAMMA", "gamma", value)  # MANUAL with a value also ends gamma OFF

    def _write_saturation_pct(self, camera: _Camera, value: float | None) -> None:
        self._write_single(camera, "SATURATION", "saturation_pct", value)

    def _write_single(self, camera: _Camera, feature: str, path: str, value: float | None) -> None:
        """A one-parameter feature (percent or no unit) set to ``value``; None: the camera lacks it, nothing to do."""
        if value is None:
            return
        feature_id = self._id[feature]
        if feature_id not in camera.features:
            raise FeatureUnsupportedError(path)
        self._set_params(camera, feature_id, [value], path, value, 1.0)

    def _write_auto(self, camera: _Camera, feature_id: int, path: str, mode: AutoMode) -> None:
        """The vendor's auto idioms: AUTO / ONEPUSH with the current values (ignored); OFF = MANUAL with the
        value the camera chose (read back)."""
        feature = camera.features.get(feature_id)
        if feature is None:
            if mode is not AutoMode.OFF:
                raise FeatureUnsupportedError(path)
            return
        offered = self._auto_modes(feature.flags)
        if mode not in offered:
            choices = ", ".join(m.value for m in offered)
            raise InvalidSettingError(path, mode.value, reason=f"must be one of {choices} (this camera's)")
        flags, params = self._read_flags(camera, feature_id)
        automatic = self._flags.AUTO | self._flags.ONEPUSH
        if mode is AutoMode.OFF and not flags & automatic:
            return  # already manual
        flag = {
            AutoMode.OFF: self._flags.MANUAL,
            AutoMode.CONTINUOUS: self._flags.AUTO,
            AutoMode.ONCE: self._flags.ONEPUSH,
        }
        self._set_params(camera, feature_id, params, path, mode.value, flags=flag[mode])

    def _write_trigger(self, camera: _Camera, trigger: Trigger) -> None:
        """Free-running: TRIGGER OFF; software / hardware: MANUAL [mode, type, polarity, delay s, parameter]."""
        feature_id = self._id["TRIGGER"]
        feature = self._trigger_feature(camera)
        if feature is None:
            if trigger.source is not TriggerSource.FREE_RUNNING:
                raise FeatureUnsupportedError("trigger.source")
            return
        sources = self._trigger_sources(feature)
        if trigger.source not in sources:
            choices = ", ".join(source.value for source in sources)
            raise InvalidSettingError(
                "trigger.source", trigger.source.value, reason=f"must be one of {choices} (this camera's)"
            )
        if trigger.source is TriggerSource.FREE_RUNNING:
            params = self._read(camera, feature_id)
            self._set_params(camera, feature_id, params, "trigger.source", trigger.source.value, flags=self._flags.OFF)
            self._read_trigger(camera)
            return
        assert camera.discovered is not None
        if trigger.mode not in camera.discovered.trigger_modes:
            choices = ", ".join(mode.value for mode in camera.discovered.trigger_modes)
            raise InvalidSettingError(
                "trigger.mode", trigger.mode.value, reason=f"must be one of {choices} (this camera's)"
            )
        names = self._api.TriggerParams
        limits = self._refresh_feature(camera, feature_id).limits
        delay = _scaled(limits[names.DELAY], MS_PER_S)
        if trigger.delay_ms not in delay:
            raise InvalidSettingError(
                "trigger.delay_ms", trigger.delay_ms, minimum=delay.minimum, maximum=delay.maximum
            )
        frames = limits[names.PARAMETER]
        lowest, highest = max(1, math.ceil(frames.minimum)), math.floor(frames.maximum)
        if not lowest <= trigger.frames_per_trigger <= highest:
            raise InvalidSettingError(
                "trigger.frames_per_trigger", trigger.frames_per_trigger, minimum=lowest, maximum=highest
            )
        types, polarity = self._api.TriggerTypes, self._api.Polarity
        params = [0.0] * names.NUM_PARAMS
        params[names.MODE] = float(self._sdk_trigger_mode[trigger.mode])
        params[names.TYPE] = float(types.SOFTWARE if trigger.source is TriggerSource.SOFTWARE else types.HARDWARE)
        # PixeLINK polarity: POSITIVE triggers on the falling edge, NEGATIVE on the rising one (FEATURES.md 11.4)
        params[names.POLARITY] = float(polarity.POSITIVE if trigger.edge is TriggerEdge.FALLING else polarity.NEGATIVE)
        params[names.DELAY] = trigger.delay_ms / MS_PER_S
        params[names.PARAMETER] = float(trigger.frames_per_trigger)
        self._set_params(camera, feature_id, params, "trigger", trigger)
        self._read_trigger(camera)

    def _read_trigger(self, camera: _Camera) -> Trigger:
        """The trigger as the camera has it (remembered as the camera's trigger source)."""
        if self._trigger_feature(camera) is None:
            camera.trigger = Trigger()
            return camera.trigger
        flags, params = self._read_flags(camera, self._id["TRIGGER"])
        camera.trigger = self._trigger_from(flags, params)
        return camera.trigger

    def _trigger_from(self, flags: int, params: list[float]) -> Trigger:
        names, types = self._api.TriggerParams, self._api.TriggerTypes
        if flags & self._flags.OFF or len(params) < names.NUM_PARAMS:
            return Trigger()  # OFF: free-running (the camera reads its defaults then)
        sdk_type = round(params[names.TYPE])
        if sdk_type == types.FREE_RUNNING:
            return Trigger()
        # HARDWARE is LINE1; other lines (and ACTION) are hardware signals too
        source = TriggerSource.SOFTWARE if sdk_type == types.SOFTWARE else TriggerSource.HARDWARE
        mode = self._trigger_mode_of.get(round(params[names.MODE]), TriggerMode.EDGE)
        positive = round(params[names.POLARITY]) == self._api.Polarity.POSITIVE
        return Trigger(
            source=source,
            mode=mode,
            edge=TriggerEdge.FALLING if positive else TriggerEdge.RISING,
            delay_ms=_from_sdk(params[names.DELAY], MS_PER_S),
            frames_per_trigger=max(round(params[names.PARAMETER]), 1),
        )

    def _write_gpio(self, camera: _Camera, lines: tuple[Gpio, ...]) -> None:
        """Each line given: MANUAL [index, mode, polarity, p1, p2, p3] (seconds), or OFF [index]."""
        feature_id = self._id["GPIO"]
        assert camera.discovered is not None
        modes_by_line = camera.discovered.gpio_modes
        if self._gpio_feature(camera) is None or not modes_by_line:
            for line in lines:
                if line.mode is not GpioMode.OFF:
                    raise FeatureUnsupportedError("gpio.mode")
            return
        for line in lines:
            if (
                isinstance(line.line, bool)
                or not isinstance(line.line, int)
                or not 1 <= line.line <= len(modes_by_line)
            ):
                raise InvalidSettingError("gpio.line", line.line, minimum=1, maximum=len(modes_by_line))
            allowed = modes_by_line[line.line - 1]
            if line.mode not in allowed:
                choices = ", ".join(mode.value for mode in allowed)
                raise InvalidSettingError(
                    "gpio.mode", line.mode.value, reason=f"must be one of {choices} on line {line.line} (this camera's)"
                )
        names, polarity = self._api.GpioParams, self._api.Polarity
        for line in lines:
            flags, current = self._read_gpio_line(camera, line.line)
            if not flags & self._flags.OFF and round(current[names.MODE]) == self._api.GpioModes.HARDWARE_TRIGGER:
                if line.mode in (GpioMode.INPUT, GpioMode.OFF):
                    continue  # the armed trigger's input: it is an input already
                raise InvalidSettingError(
                    "gpio.mode",
                    line.mode.value,
                    reason=f"line {line.line} is the hardware trigger's input while trigger.source is hardware "
                    "(it can only be input or off)",
                )
            if line.mode is GpioMode.OFF:
                self._set_params(camera, feature_id, [float(line.line)], "gpio.mode", "off", flags=self._flags.OFF)
                continue
            params = [0.0] * names.NUM_PARAMS
            params[names.INDEX] = float(line.line)
            params[names.MODE] = float(self._sdk_gpio_mode[line.mode])
            params[names.POLARITY] = float(polarity.ACTIVE_HIGH if line.active_high else polarity.ACTIVE_LOW)
            if line.mode is GpioMode.STROBE:
                params[names.PARAM_1] = line.delay_ms / MS_PER_S
                params[names.PARAM_2] = line.duration_ms / MS_PER_S
            elif line.mode is GpioMode.PULSE:
                params[names.PARAM_1] = float(line.pulse_count)
                params[names.PARAM_2] = line.duration_ms / MS_PER_S
                params[names.PARAM_3] = line.interval_ms / MS_PER_S
            self._set_params(camera, feature_id, params, "gpio.mode", f"{line.mode.value} on line {line.line}")

    def _read_gpio(self, camera: _Camera) -> tuple[Gpio, ...]:
        """Every GPIO line as the camera has it (the armed trigger's input reads INPUT)."""
        assert camera.discovered is not None
        if self._gpio_feature(camera) is None:
            return ()
        lines = range(1, len(camera.discovered.gpio_modes) + 1)
        return tuple(self._gpio_from(line, *self._read_gpio_line(camera, line)) for line in lines)

    def _read_gpio_line(self, camera: _Camera, line: int) -> tuple[int, list[float]]:
        """getFeature(GPIO) for one line: its index preloaded in params[0] (FEATURES.md 12.1)."""
        ret = self._api.getFeature(camera.handle, self._id["GPIO"], [float(line)])
        if ret[0] < 0:
            raise self._error(camera, ret[0], f"read GPIO line {line}")
        return int(ret[1]), list(ret[2])

    def _gpio_from(self, line: int, flags: int, params: list[float]) -> Gpio:
        if flags & self._flags.OFF:
            return Gpio(line)
        names = self._api.GpioParams
        sdk_mode = round(params[names.MODE])
        if sdk_mode == self._api.GpioModes.HARDWARE_TRIGGER:
            return Gpio(line, GpioMode.INPUT)  # the armed trigger's input (its own setting returns when disarmed)
        mode = self._gpio_mode_of.get(sdk_mode)
        if mode is None:
            log.debug("GPIO line %d is in mode %d, which this driver does not offer: reported off", line, sdk_mode)
            return Gpio(line)
        active_high = round(params[names.POLARITY]) == self._api.Polarity.ACTIVE_HIGH
        first, second, third = params[names.PARAM_1], params[names.PARAM_2], params[names.PARAM_3]
        if mode is GpioMode.STROBE:
            return Gpio(
                line, mode, active_high, delay_ms=_from_sdk(first, MS_PER_S), duration_ms=_from_sdk(second, MS_PER_S)
            )
        if mode is GpioMode.PULSE:
            return Gpio(
                line,
                mode,
                active_high,
                duration_ms=_from_sdk(second, MS_PER_S),
                pulse_count=round(first),
                interval_ms=_from_sdk(third, MS_PER_S),
            )
        return Gpio(line, mode, active_high)

    # -- CameraDriver: triggering, events and I/O ------------------------------------------------------

    @property
    def trigger_source(self) -> TriggerSource:
        return self._camera.trigger.source if self._camera is not None else TriggerSource.FREE_RUNNING

    def read_io(self) -> IoStatus:
        camera = self._require()
        lines = []
        names = self._api.GpioParams
        assert camera.discovered is not None
        count = len(camera.discovered.gpio_modes) if self._gpio_feature(camera) is not None else 0
        for line in range(1, count + 1):
            flags, params = self._read_gpio_line(camera, line)
            gpio_line = self._gpio_from(line, flags, params)
            input_line = not flags & self._flags.OFF and round(params[names.MODE]) == self._api.GpioModes.INPUT
            if input_line:
                high = round(params[self._api.GpioModeInput.STATUS]) != 0
            else:  # NORMAL: the polarity is the level; others: idle (the trigger input's level is not readable)
                high = gpio_line.mode is GpioMode.NORMAL and gpio_line.active_high
            lines.append(GpioLineState(gpio_line.line, gpio_line.mode, high))
        temperatures = []
        for name in ("SENSOR_TEMPERATURE", "BODY_TEMPERATURE"):
            feature_id = self._id[name]
            temperatures.append(_from_sdk(self._read(camera, feature_id)[0]) if feature_id in camera.features else None)
        return IoStatus(tuple(lines), *temperatures)

    def set_event_listener(self, listener: EventListener | None) -> None:
        camera = self._require()
        if camera.events is not None:
            self._cancel_events(camera.handle, camera.events)  # the SDK no longer calls it once this returns
            camera.events = None
        if listener is None:
            return
        closed = threading.Event()
        callback = self._api._eventProcessFunction(
            _event_callback(listener, closed, self._event_types, self._gpi_line(camera))
        )
        registered: list[int] = []
        try:
            for event_id in self._event_types:
                rc = self._api.setEventCallback(camera.handle, event_id, None, callback)[0]
                kind = self._codes.kind(rc)
                if kind is RcKind.SUCCESS:
                    registered.append(event_id)
                elif kind is not RcKind.NOT_SUPPORTED:  # an event this camera does not report: skipped
                    raise self._error(camera, rc, f"register the event callback for event {event_id}")
        finally:
            camera.events = _EventRegistration(callback, tuple(registered), closed)
        log.debug("PixeLINK camera %d: event callback registered for events %s", camera.serial, registered)

    def _cancel_events(self, handle: int, registration: _EventRegistration) -> None:
        """Stop delivery and cancel each registration (fails harmlessly for an unplugged camera)."""
        registration.closed.set()
        for event_id in registration.event_ids:
            rc = self._api.setEventCallback(handle, event_id, None, None)[0]
            if rc < 0:
                log.debug("cancelling the callback of event %d: %s", event_id, self._codes.name(rc))

    def _gpi_line(self, camera: _Camera) -> int:
        """The line whose edges are GPI events: 3 on cameras with three GPIOs (PL-X), else 1 (FEATURES.md 12.3)."""
        feature = self._gpio_feature(camera)
        if feature is not None and round(feature.limits[self._api.GpioParams.INDEX].maximum) == THREE_LINE_GPI:
            return THREE_LINE_GPI
        return DEFAULT_GPI

    # -- CameraDriver: streaming ---------------------------------------------------------------------

    def start_streaming(self) -> None:
        camera = self._require()
        if camera.streaming:
            return
        self._stream(camera, self._api.StreamState.START, "start the stream")
        camera.streaming = True
        self._update_grab_timeout(camera)

    def stop_streaming(self) -> None:
        camera = self._require()
        if not camera.streaming:
            return
        camera.streaming = False
        self._stream(camera, self._api.StreamState.STOP, "stop the stream")

    @property
    def is_streaming(self) -> bool:
        return self._camera is not None and self._camera.streaming

    def grab(self) -> Frame:
        camera = self._require()
        if not camera.streaming:
            raise RuntimeError("grab() needs start_streaming() first")
        if camera.trigger.source is TriggerSource.HARDWARE:
            return self._grab_triggered(camera)
        started = time.monotonic()
        deadline = started + camera.grab_timeout_s
        problem = "no attempt"
        for attempt in range(1, GRAB_ATTEMPTS + 1):
            buffers = self._buffers(camera)
            target = buffers.sdk_target()
            ret = self._api.getNextNumPyFrame(camera.handle, target)
            rc = ret[0]
            kind = self._codes.kind(rc)
            if kind is RcKind.SUCCESS:
                descriptor = ret[1]
                geometry = self._frame_geometry(descriptor, buffers.geometry)
                if geometry is not None:
                    if geometry != buffers.geometry:
                        log.info("PixeLINK camera %d delivers %s frames", camera.serial, geometry.pixel_format.value)
                        buffers.geometry = geometry  # same layout, the Bayer phase the camera reports
                    return self._frame(camera, descriptor, buffers, target)
                problem = "the frame's geometry changed"
                log.warning("PixeLINK camera %d: %s; re-reading it", camera.serial, problem)
                self._read_geometry(camera)
            elif kind is RcKind.TIMEOUT:
                problem = self._codes.name(rc)
                self._read(camera, self._id["EXPOSURE"])  # still there? (raises CameraDisconnectedError if not)
                log.warning(
                    "PixeLINK camera %d: grab attempt %d/%d: %s", camera.serial, attempt, GRAB_ATTEMPTS, problem
                )
                if time.monotonic() >= deadline:
                    break
            elif kind is RcKind.BUFFER_TOO_SMALL:
                problem = "the frame is larger than expected"
                log.warning("PixeLINK camera %d: %s; re-reading the geometry", camera.serial, problem)
                self._read_geometry(camera)
            elif kind is RcKind.STREAM_STOPPED:
                camera.streaming = False  # the next acquisition starts it again
                raise CameraSdkError(f"PixeLINK camera {camera.serial}: the stream stopped ({self._codes.name(rc)})")
            else:
                raise self._error(camera, rc, "grab a frame")
        elapsed = time.monotonic() - started
        raise CameraTimeoutError(
            f"PixeLINK camera {camera.serial}: no frame after {attempt} attempts in {elapsed:.2f} s ({problem}; "
            f"grab deadline {camera.grab_timeout_s:.2f} s)"
        )

    def _grab_triggered(self, camera: _Camera) -> Frame:
        """HARDWARE: the next outcome of the wait helper, waited for up to a slice (see the module docstring)."""
        deadline = time.monotonic() + TRIGGER_WAIT_SLICE_S
        while True:
            waiter = self._trigger_waiter(camera)
            try:
                ret, buffers, target = waiter.results.get(timeout=max(deadline - time.monotonic(), 0.0))
            except queue.Empty:
                self._read(camera, self._id["EXPOSURE"])  # still there? (raises CameraDisconnectedError if not)
                raise NoTriggerYet() from None
            waiter.supplied -= 1
            if isinstance(ret, BaseException):
                self._end_trigger_wait(camera)
                raise ret
            rc = ret[0]
            kind = self._codes.kind(rc)
            if kind is RcKind.SUCCESS:
                geometry = self._frame_geometry(ret[1], buffers.geometry)
                if geometry is not None:
                    buffers.geometry = geometry
                    return self._frame(camera, ret[1], buffers, target)
                log.warning("PixeLINK camera %d: a triggered frame's geometry changed; re-reading it", camera.serial)
                self._read_geometry(camera)
            elif kind is RcKind.BUFFER_TOO_SMALL:
                log.warning("PixeLINK camera %d: a triggered frame is larger than expected", camera.serial)
                self._read_geometry(camera)
            else:  # the helper has ended
                self._end_trigger_wait(camera)
                if kind is RcKind.STREAM_STOPPED:
                    camera.streaming = False
                    raise CameraSdkError(
                        f"PixeLINK camera {camera.serial}: the stream stopped ({self._codes.name(rc)})"
                    )
                raise self._error(camera, rc, "wait for a triggered frame")
            if time.monotonic() >= deadline:
                raise NoTriggerYet()

    def _trigger_waiter(self, camera: _Camera) -> _TriggerWaiter:
        """The stream's wait helper (started if need be), with its buffers topped up."""
        waiter = camera.trigger_waiter or self._start_trigger_waiter(camera)
        while waiter.supplied < TRIGGER_WAIT_BUFFERS:
            buffers = self._buffers(camera)
            waiter.targets.put((buffers, buffers.spare_target()))
            waiter.supplied += 1
        return waiter

    def _start_trigger_waiter(self, camera: _Camera) -> _TriggerWaiter:
        targets: queue.SimpleQueue[tuple[_FrameBuffers, np.ndarray] | None] = queue.SimpleQueue()
        results: queue.SimpleQueue[tuple[Any, _FrameBuffers, np.ndarray]] = queue.SimpleQueue()
        thread = threading.Thread(
            target=_wait_for_triggers,
            args=(self._api, self._codes, camera.handle, targets, results),
            name="pixelink-trigger-wait",
            daemon=True,
        )
        thread.start()
        camera.trigger_waiter = _TriggerWaiter(targets, results, thread)
        return camera.trigger_waiter

    def _end_trigger_wait(self, camera: _Camera) -> None:
        """After a stream stop (which wakes its grab) or its end: wait for the helper to end, drop what it has."""
        waiter, camera.trigger_waiter = camera.trigger_waiter, None
        if waiter is None:
            return
        waiter.targets.put(None)  # if it waits for a buffer
        waiter.thread.join(TRIGGER_WAIT_END_S)
        if waiter.thread.is_alive():
            log.warning("PixeLINK camera %d: a grab waiting for a trigger did not end with the stream", camera.serial)
            camera.buffers = None  # it may still write its buffer: later frames get new ones

    # -- internals: connection ------------------------------------------------------------------------

    def _require(self) -> _Camera:
        if self._camera is None:
            raise CameraUnavailableError("PixeLINK camera is not open")
        return self._camera

    def _open_error(self, rc: int, serial: int) -> CameraUnavailableError:
        name = self._codes.name(rc)
        connected = self._connected_serials()
        listing = ", ".join(str(number) for number in connected) or "none"
        hint = "; check CAMERA_SERIAL_NUMBER" if self._requested_serial else ""
        label = str(serial) if serial != ANY_CAMERA else "(first found)"
        if serial != ANY_CAMERA and serial not in connected:
            message = f"PixeLINK camera {serial} is not connected (connected cameras: {listing}){hint}"
        elif serial == ANY_CAMERA and not connected:
            message = "no PixeLINK camera found (is it plugged in and powered?)"
        elif name == "ApiCameraInUseError":
            message = f"PixeLINK camera {label} is in use by another application"
        else:
            message = f"could not initialize PixeLINK camera {label} ({name}; connected cameras: {listing})"
        return CameraUnavailableError(message)

    def _connected_serials(self) -> list[int]:
        """Serial numbers of the cameras the SDK enumerates (empty if it cannot)."""
        ret = self._api.getNumberCameras()
        if ret[0] < 0:
            return []
        return [int(entry.CameraSerialNum) for entry in ret[1]]

    def _set_up(self, handle: int) -> _Camera:
        """Read identity, capabilities and geometry of a freshly initialized camera (its stream is stopped)."""
        ret = self._api.getCameraInfo(handle)
        if ret[0] < 0:
            raise self._handle_error(handle, ret[0], "read the camera info")
        info = ret[1]
        text = _text(info.SerialNumber)
        serial = int(text) if text.isdigit() else self._requested_serial or self._bound_serial or ANY_CAMERA
        features = self._read_features(handle, self._api.FeatureId.ALL)
        for required in REQUIRED_FEATURES:
            if self._id[required] not in features:
                raise CameraUnavailableError(
                    f"PixeLINK camera {serial} lacks feature {required}, which this driver needs"
                )
        roi_limits = features[self._id["ROI"]].limits
        camera = _Camera(
            handle=handle,
            serial=serial,
            model=_text(info.ModelName),
            firmware_version=_text(info.FirmwareVersion),
            camera_name=_text(info.CameraName),
            features=features,
            sensor_width=int(roi_limits[2].maximum),
            sensor_height=int(roi_limits[3].maximum),
            max_pixel_bits=BITS_16,
        )
        if self._id["MAX_PIXEL_SIZE"] in features:
            bits = round(self._read(camera, self._id["MAX_PIXEL_SIZE"])[0])
            camera.max_pixel_bits = min(max(bits, BITS_8), BITS_16)
        current = round(self._read(camera, self._id["PIXEL_FORMAT"])[0])
        camera.discovered = self._discovered_by_serial.get(serial) or self._discover(camera, current)
        self._discovered_by_serial[serial] = camera.discovered
        if not camera.discovered.pixel_formats:
            raise CameraUnavailableError(f"PixeLINK camera {serial}: none of its pixel formats is supported")
        if current not in self._delivered:
            self._choose_format(camera, current)
        self._read_geometry(camera)
        self._read_trigger(camera)
        self._update_grab_timeout(camera)
        return camera

    # -- internals: what is found by trial ------------------------------------------------------------

    def _discover(self, camera: _Camera, current_format: int) -> _Discovered:
        """Pixel formats, addressing modes and factors, ROI steps: found by trial (stream stopped), then restored."""
        started = time.monotonic()
        formats = self._probe_formats(camera, current_format)
        modes, factors = self._probe_addressing(camera)
        steps = self._probe_roi_steps(camera)
        trigger_modes = self._probe_trigger_modes(camera)
        gpio_modes = self._probe_gpio_modes(camera)
        log.info(
            "PixeLINK camera %d: formats %s, addressing modes %s, factors %s, ROI steps %s, trigger modes %s, "
            "GPIO modes %s (found in %.2f s)",
            camera.serial,
            ", ".join(fmt.value for fmt in formats) or "none",
            ", ".join(mode.value for mode in modes) or "none",
            ", ".join(str(factor) for factor in factors) or "none",
            steps,
            ", ".join(mode.value for mode in trigger_modes) or "none",
            "; ".join(f"line {i + 1}: " + ", ".join(m.value for m in line) for i, line in enumerate(gpio_modes))
            or "none",
            time.monotonic() - started,
        )
        return _Discovered(formats, modes, factors, steps, trigger_modes, gpio_modes)

    def _probe_trigger_modes(self, camera: _Camera) -> tuple[TriggerMode, ...]:
        """The trigger modes the camera takes (each tried as a software trigger, as the vendor GUI does; restored)."""
        feature = self._trigger_feature(camera)
        if feature is None:
            return ()
        feature_id, names = self._id["TRIGGER"], self._api.TriggerParams
        flags, original = self._read_flags(camera, feature_id)
        modes = []
        for mode, value in self._sdk_trigger_mode.items():
            if value not in feature.limits[names.MODE]:
                continue
            trial = [0.0] * names.NUM_PARAMS
            trial[names.MODE], trial[names.TYPE], trial[names.PARAMETER] = value, self._api.TriggerTypes.SOFTWARE, 1.0
            outcome = self._try(camera, feature_id, trial)
            if outcome is not None and round(outcome[names.MODE]) == value:
                modes.append(mode)
        self._put_back(camera, feature_id, flags, original)
        return tuple(modes)

    def _probe_gpio_modes(self, camera: _Camera) -> tuple[tuple[GpioMode, ...], ...]:
        """Each GPIO line's modes, tried one by one (the MODE minimum is not trustworthy, FEATURES.md 12.3) and
        restored; an armed hardware trigger (which holds line 1) is switched off around the trials."""
        feature = self._gpio_feature(camera)
        if feature is None:
            return ()
        names = self._api.GpioParams
        trigger = self._trigger_feature(camera)
        disarmed: tuple[int, list[float]] | None = None
        if trigger is not None:
            trigger_flags, trigger_params = self._read_flags(camera, self._id["TRIGGER"])
            if self._trigger_from(trigger_flags, trigger_params).source is TriggerSource.HARDWARE:
                disarmed = (trigger_flags, trigger_params)
                self._put_back(camera, self._id["TRIGGER"], self._flags.OFF, trigger_params)
        try:
            by_line = []
            for line in range(1, math.floor(feature.limits[names.INDEX].maximum) + 1):
                flags, original = self._read_gpio_line(camera, line)
                modes = [GpioMode.OFF] if feature.flags & self._flags.OFF else []
                for mode, value in self._sdk_gpio_mode.items():
                    if value > feature.limits[names.MODE].maximum:
                        continue
                    trial = [0.0] * names.NUM_PARAMS
                    trial[names.INDEX], trial[names.MODE], trial[names.POLARITY] = line, value, original[names.POLARITY]
                    if mode is GpioMode.STROBE:
                        trial[names.PARAM_2] = GPIO_TRIAL_TIME_S
                    elif mode is GpioMode.PULSE:
                        trial[names.PARAM_1] = GPIO_TRIAL_PULSES
                        trial[names.PARAM_2] = trial[names.PARAM_3] = GPIO_TRIAL_TIME_S
                    rc = self._api.setFeature(camera.handle, self._id["GPIO"], self._flags.MANUAL, trial)[0]
                    kind = self._codes.kind(rc)
                    if kind is RcKind.DISCONNECTED:
                        raise self._error(camera, rc, f"try GPIO mode {mode.value} on line {line}")
                    if kind is RcKind.SUCCESS and round(self._read_gpio_line(camera, line)[1][names.MODE]) == value:
                        modes.append(mode)
                self._put_back(camera, self._id["GPIO"], flags, original)
                by_line.append(tuple(m for m in GpioMode if m in modes))
        finally:
            if disarmed is not None:
                self._put_back(camera, self._id["TRIGGER"], *disarmed)
        return tuple(by_line)

    def _put_back(self, camera: _Camera, feature_id: int, flags: int, params: list[float]) -> None:
        """Set a feature as read before a trial: OFF or MANUAL with its parameters (a refusal is logged)."""
        mode = self._flags.OFF if flags & self._flags.OFF else self._flags.MANUAL
        rc = self._api.setFeature(camera.handle, feature_id, mode, params)[0]
        if rc < 0:
            if self._codes.kind(rc) is RcKind.DISCONNECTED:
                raise self._error(camera, rc, f"restore {self._feature(feature_id)}")
            log.warning(
                "PixeLINK camera %d: could not restore %s after a trial (%s)",
                camera.serial,
                self._feature(feature_id),
                self._codes.name(rc),
            )

    def _try(self, camera: _Camera, feature_id: int, params: list[float]) -> list[float] | None:
        """Set ``params`` (MANUAL) to see what the camera does: the values read back, or None if it refused them.

        A value the camera rounded (``ApiSuccessParametersChanged``) reads back changed."""
        rc = self._api.setFeature(camera.handle, feature_id, self._flags.MANUAL, params)[0]
        kind = self._codes.kind(rc)
        if kind is RcKind.DISCONNECTED:
            raise self._error(camera, rc, f"try a value of {self._feature(feature_id)}")
        if kind is not RcKind.SUCCESS:
            return None
        return self._read(camera, feature_id)

    def _restore(self, camera: _Camera, feature_id: int, params: list[float]) -> None:
        """Put a feature back as it was before a trial (a value the camera now refuses is logged and left)."""
        if self._read(camera, feature_id) == params:
            return
        try:
            self._set_params(camera, feature_id, params, self._feature(feature_id), params)
        except InvalidSettingError as exc:
            log.warning("PixeLINK camera %d: could not restore %s after a trial: %s", camera.serial, exc.field, exc)

    def _probe_formats(self, camera: _Camera, current: int) -> tuple[PixelFormat, ...]:
        """The delivered formats the camera accepts (tried one by one, as the vendor samples do)."""
        feature_id = self._id["PIXEL_FORMAT"]
        limits = camera.features[feature_id].limits[0]
        original = self._read(camera, feature_id)
        accepted = set()
        for sdk_format, pixel_format in self._delivered.items():
            if sdk_format not in limits:
                continue
            if sdk_format == current:
                accepted.add(pixel_format)
                continue
            outcome = self._try(camera, feature_id, [float(sdk_format)])
            if outcome is not None and round(outcome[0]) == sdk_format:
                accepted.add(pixel_format)  # not another format (a generic Bayer value becomes the native phase)
        self._restore(camera, feature_id, original)
        return tuple(fmt for fmt in PixelFormat if fmt in accepted)

    def _probe_addressing(self, camera: _Camera) -> tuple[tuple[AddressingMode, ...], tuple[int, ...]]:
        """Pixel addressing modes and factors the camera takes (FEATURES.md 3: found by trial, as the GUI does)."""
        feature_id = self._id["PIXEL_ADDRESSING"]
        feature = camera.features.get(feature_id)
        if feature is None:
            return (), ()
        original = self._read(camera, feature_id)
        asymmetric = len(original) >= PA_ASYMMETRIC_PARAMS
        current_mode = original[PA_MODE]

        def params(factor: float, mode: float) -> list[float]:
            return [factor, mode, factor, factor] if asymmetric else [factor, mode]

        modes = []
        mode_limits = feature.limits[PA_MODE]
        for value in range(math.ceil(mode_limits.minimum), math.floor(mode_limits.maximum) + 1):
            outcome = self._try(camera, feature_id, params(1.0, float(value)))
            if value in self._mode_of and outcome is not None and round(outcome[PA_MODE]) == value:
                modes.append(self._mode_of[value])
        factors = []
        value_limits = feature.limits[PA_VALUE]
        for factor in range(max(math.ceil(value_limits.minimum), 1), math.floor(value_limits.maximum) + 1):
            outcome = self._try(camera, feature_id, params(float(factor), current_mode))
            if outcome is not None and all(round(v) == factor for v in _factors_of(outcome)):
                factors.append(factor)
        self._restore(camera, feature_id, original)
        return tuple(sorted(modes, key=list(AddressingMode).index)), tuple(factors)

    def _probe_roi_steps(self, camera: _Camera) -> tuple[int | None, ...]:
        """Each ROI parameter's step: the smallest divisor of its span the camera takes unchanged, from the
        smallest ROI at the sensor's corner (the SDK reports no step, FEATURES.md 1)."""
        feature_id = self._id["ROI"]
        limits = camera.features[feature_id].limits[:4]
        original = self._read(camera, feature_id)
        base = [float(math.ceil(valid.minimum)) for valid in limits]
        steps: list[int | None] = []
        for index, valid in enumerate(limits):
            span = math.floor(valid.maximum) - int(base[index])
            step = None
            for candidate in _divisors(span) if span > 0 else ():
                trial = list(base)
                trial[index] += candidate
                outcome = self._try(camera, feature_id, trial)
                if outcome is not None and outcome[:4] == trial:
                    step = candidate
                    break
            steps.append(step)
        self._restore(camera, feature_id, original)
        return tuple(steps)

    def _choose_format(self, camera: _Camera, current: int) -> None:
        """Switch a camera found in a format the driver does not deliver to the closest one it does."""
        assert camera.discovered is not None
        accepted = camera.discovered.pixel_formats
        current_name = self._format_names.get(current, str(current))
        preferred = [PixelFormat[name] for name in FALLBACK_FORMATS.get(current_name, ())]
        choice = next(fmt for fmt in [*preferred, *accepted] if fmt in accepted)
        sdk_format = float(self._sdk_format_of[choice])
        self._set_params(camera, self._id["PIXEL_FORMAT"], [sdk_format], "pixel_format", choice.value)
        log.warning(
            "PixeLINK camera %d was in pixel format %s, which this driver does not deliver; switched to %s",
            camera.serial,
            current_name,
            choice.value,
        )

    # -- internals: features ----------------------------------------------------------------------------

    def _feature(self, feature_id: int) -> str:
        """A feature's name for messages (EXPOSURE, ROI, ...)."""
        return self._feature_names.get(feature_id, f"feature {feature_id}")

    def _read_features(self, handle: int, feature_id: int) -> dict[int, _Feature]:
        """``getCameraFeatures`` for one feature or ALL: the present ones, by id."""
        ret = self._api.getCameraFeatures(handle, feature_id)
        if ret[0] < 0:
            raise self._handle_error(handle, ret[0], "read the camera's features")
        blob = ret[1]
        presence = self._flags.PRESENCE
        features = {}
        for index in range(blob.uNumberOfFeatures):
            entry = blob.Features[index]
            if not entry.uFlags & presence:
                continue
            limits = tuple(
                Range(float(entry.Params[p].fMinValue), float(entry.Params[p].fMaxValue))
                for p in range(entry.uNumberOfParameters)
            )
            features[int(entry.uFeatureId)] = _Feature(int(entry.uFlags), limits)
        return features

    def _refresh_feature(self, camera: _Camera, feature_id: int) -> _Feature:
        """Re-read one feature's limits (they can depend on other settings)."""
        fresh = self._read_features(camera.handle, feature_id).get(feature_id)
        if fresh is None:
            raise CameraSdkError(f"PixeLINK camera {camera.serial}: feature {self._feature(feature_id)} disappeared")
        camera.features[feature_id] = fresh
        return fresh

    def _read_flags(self, camera: _Camera, feature_id: int) -> tuple[int, list[float]]:
        """A feature's state flags (its current mode) and parameters, read from the camera."""
        ret = self._api.getFeature(camera.handle, feature_id)
        if ret[0] < 0:
            raise self._error(camera, ret[0], f"read {self._feature(feature_id)}")
        return int(ret[1]), list(ret[2])

    def _read(self, camera: _Camera, feature_id: int) -> list[float]:
        """The parameters of a feature, read from the camera."""
        return self._read_flags(camera, feature_id)[1]

    def _set_value(
        self,
        camera: _Camera,
        feature_id: int,
        index: int,
        sdk_value: float,
        field_name: str,
        value: object,
        scale: float | None,
    ) -> None:
        """Set one parameter (MANUAL), keeping the others (read-modify-write)."""
        params = self._read(camera, feature_id)
        params[index] = sdk_value
        self._set_params(camera, feature_id, params, field_name, value, scale, index=index)

    def _set_params(
        self,
        camera: _Camera,
        feature_id: int,
        params: list[float],
        field_name: str,
        value: object,
        scale: float | None = None,
        *,
        flags: int | None = None,
        index: int = 0,
    ) -> None:
        """setFeature (MANUAL unless ``flags``) with the streaming rule; a refused value raises InvalidSettingError.

        ``scale`` converts parameter ``index`` to the API unit for the error's range (None: no range).
        """
        flags = self._flags.MANUAL if flags is None else flags
        feature = camera.features[feature_id]
        restart = camera.streaming and not feature.flags & self._flags.SETTABLE_WHILE_STREAMING
        if restart:
            self._stream(camera, self._api.StreamState.STOP, f"stop the stream to set {self._feature(feature_id)}")
        rc = self._api.setFeature(camera.handle, feature_id, flags, params)[0]
        if self._codes.kind(rc) is RcKind.NOT_PERMITTED_WHILE_STREAMING and camera.streaming and not restart:
            log.info("PixeLINK camera %d: %s needs a stopped stream", camera.serial, self._feature(feature_id))
            self._stream(camera, self._api.StreamState.STOP, f"stop the stream to set {self._feature(feature_id)}")
            restart = True
            rc = self._api.setFeature(camera.handle, feature_id, flags, params)[0]
        kind = self._codes.kind(rc)
        if restart and kind is not RcKind.DISCONNECTED:
            self._stream(camera, self._api.StreamState.START, "restart the stream")
        if kind is RcKind.INVALID_VALUE:
            raise self._refused(camera, feature_id, rc, field_name, value, scale, index)
        if kind is not RcKind.SUCCESS:
            raise self._error(camera, rc, f"set {self._feature(feature_id)}")
        if rc > 0:
            log.debug("PixeLINK camera %d: %s set (%s)", camera.serial, self._feature(feature_id), self._codes.name(rc))

    def _refused(
        self,
        camera: _Camera,
        feature_id: int,
        rc: int,
        field_name: str,
        value: object,
        scale: float | None,
        index: int = 0,
    ) -> InvalidSettingError:
        """The error for a value the camera refused, with the parameter's current range when it has one."""
        refused_by = f"was refused by the camera ({self._codes.name(rc)})"
        limits = self._refresh_feature(camera, feature_id).limits
        if scale is None or index >= len(limits):
            return InvalidSettingError(field_name, value, reason=refused_by)
        valid = _scaled(limits[index], scale)
        if value in valid:
            reason = f"{refused_by}; valid range {valid.minimum:g} to {valid.maximum:g}"
            return InvalidSettingError(field_name, value, minimum=valid.minimum, maximum=valid.maximum, reason=reason)
        return InvalidSettingError(field_name, value, minimum=valid.minimum, maximum=valid.maximum)

    def _stream(self, camera: _Camera, state: int, action: str) -> None:
        try:
            rc = self._api.setStreamState(camera.handle, state)[0]
        finally:
            if state == self._api.StreamState.STOP:
                self._end_trigger_wait(camera)  # the stop woke its grab (ApiStreamStopped)
        if rc < 0:
            raise self._error(camera, rc, action)
        if state == self._api.StreamState.START:  # trigger counts start with the stream
            camera.trigger_base = None
            camera.software_triggers = 0
            if camera.trigger.source is TriggerSource.HARDWARE:
                self._trigger_waiter(camera)  # a grab waits from the start: triggered frames nobody waits for are lost

    # -- internals: geometry and frames -------------------------------------------------------------------

    def _geometry(self) -> _Geometry:
        return self._buffers(self._require()).geometry

    def _buffers(self, camera: _Camera) -> _FrameBuffers:
        if camera.buffers is None:
            self._read_geometry(camera)
        assert camera.buffers is not None
        return camera.buffers

    def _read_geometry(self, camera: _Camera) -> _Geometry:
        """Frame size and layout from ROI, pixel addressing, pixel format and flip; new buffers if they changed."""
        names = ("ROI", "PIXEL_ADDRESSING", "PIXEL_FORMAT", "FLIP")
        values = {name: self._read_flags(camera, self._id[name]) for name in names if self._id[name] in camera.features}
        return self._install_geometry(camera, self._geometry_from(camera, values))

    def _geometry_from(self, camera: _Camera, values: dict[str, tuple[int, list[float]]]) -> _Geometry:
        left, top, roi_width, roi_height = (round(v) for v in values["ROI"][1][:4])
        addressing = self._addressing(values.get("PIXEL_ADDRESSING"))
        sdk_format = round(values["PIXEL_FORMAT"][1][0])
        camera_format = self._delivered.get(sdk_format)
        if camera_format is None:
            name = self._format_names.get(sdk_format, str(sdk_format))
            raise CameraSdkError(f"PixeLINK camera {camera.serial} is in pixel format {name}, which is not delivered")
        width, height = roi_width // addressing.horizontal, roi_height // addressing.vertical
        flip = [round(v) for v in values["FLIP"][1][:2]] if "FLIP" in values else [0, 0]
        # A flipped image starts at the other end of the sensor row / column: its Bayer phase may differ.
        delivered = _shifted_bayer(camera_format.delivered, (width - 1) % 2 * flip[0], (height - 1) % 2 * flip[1])
        if camera_format is PixelFormat.MONO12_PACKED:
            layout, bit_depth = _Layout.PACKED_12, min(camera.max_pixel_bits, BITS_12)
        elif delivered.is_16_bit:
            layout, bit_depth = _Layout.BIG_ENDIAN_16, camera.max_pixel_bits
        else:
            layout, bit_depth = _Layout.BYTES, BITS_8
        return _Geometry(
            width=width,
            height=height,
            roi=(left, top, roi_width, roi_height),
            sdk_format=sdk_format,
            frame_sdk_format=self._sdk_format_of[delivered] if delivered.is_bayer else sdk_format,
            pixel_format=delivered,
            bit_depth=bit_depth,
            layout=layout,
        )

    def _install_geometry(self, camera: _Camera, geometry: _Geometry) -> _Geometry:
        """Make ``geometry`` the current one; buffers are replaced only when the frames' size or layout changed."""
        if camera.buffers is None or camera.buffers.geometry != geometry:
            if camera.buffers is not None and replace(camera.buffers.geometry, roi=geometry.roi) == geometry:
                camera.buffers.geometry = geometry  # same frames from another part of the sensor
            else:
                camera.buffers = _FrameBuffers(geometry)
        return geometry

    def _frame_geometry(self, descriptor: Any, geometry: _Geometry) -> _Geometry | None:
        """The geometry of a grabbed frame per its descriptor if it fits ``geometry``'s buffers, else None.

        Descriptors without a ROI are trusted. A Bayer phase other than the one expected (cameras that flip
        differently) is taken from the descriptor: same buffers, the camera's word on the mosaic.
        """
        roi = descriptor.Roi
        if roi.fWidth <= 0 or roi.fHeight <= 0:
            return geometry
        addressing = descriptor.PixelAddressingValue
        width = round(roi.fWidth) // max(round(addressing.fHorizontal), 1)
        height = round(roi.fHeight) // max(round(addressing.fVertical), 1)
        if (width, height) != (geometry.width, geometry.height):
            return None
        sdk_format = round(descriptor.PixelFormat.fValue)
        if sdk_format == geometry.frame_sdk_format:
            return geometry
        reported = self._delivered.get(sdk_format)
        expected = geometry.pixel_format
        if (
            reported is not None
            and reported.is_bayer
            and expected.is_bayer
            and reported.is_16_bit == expected.is_16_bit
        ):
            return replace(geometry, frame_sdk_format=sdk_format, pixel_format=reported)
        return None

    def _frame(self, camera: _Camera, descriptor: Any, buffers: _FrameBuffers, target: np.ndarray) -> Frame:
        geometry = buffers.geometry
        number = int(descriptor.u64FrameNumber or descriptor.uFrameNumber)
        trigger = camera.trigger
        index = round(descriptor.TriggerNumber.fValue) if trigger.mode in MULTI_FRAME_MODES else 0
        count = 0
        if trigger.source is TriggerSource.SOFTWARE:
            camera.software_triggers += 1  # this grab fired it
            count = camera.software_triggers
        elif trigger.source is TriggerSource.HARDWARE:
            first = number - index  # the first frame of this frame's trigger
            if camera.trigger_base is None:
                camera.trigger_base = first
            per_trigger = trigger.frames_per_trigger if trigger.mode in MULTI_FRAME_MODES else 1
            count = (first - camera.trigger_base) // per_trigger + 1
        return Frame(
            pixels=buffers.to_pixels(target),
            pixel_format=geometry.pixel_format,
            bit_depth=geometry.bit_depth,
            frame_number=number,
            captured_at=datetime.now(UTC),
            exposure_ms=_from_sdk(descriptor.Shutter.fValue, MS_PER_S),
            gain_db=_from_sdk(descriptor.Gain.fValue),
            camera_time_s=float(descriptor.dFrameTime or descriptor.fFrameTime),
            camera_clock=f"pixelink:{camera.serial}",
            trigger_source=trigger.source,
            trigger_count=count,
            trigger_frame_index=index,
        )

    def _update_grab_timeout(self, camera: _Camera) -> None:
        """Grab deadline from the exposure (its auto maximum while auto runs) and the frame rate (when limited)."""
        flags, params = self._read_flags(camera, self._id["EXPOSURE"])
        period_s = params[EXPOSURE_VALUE]
        if flags & (self._flags.AUTO | self._flags.ONEPUSH) and len(params) > EXPOSURE_AUTO_MAX:
            period_s = max(period_s, params[EXPOSURE_AUTO_MAX])
        frame_rate_id = self._id["FRAME_RATE"]
        if frame_rate_id in camera.features:
            rate_flags, rate = self._read_flags(camera, frame_rate_id)
            if rate_flags & self._flags.MANUAL and rate and rate[0] > 0:
                period_s = max(period_s, 1.0 / rate[0])
        if camera.trigger.source is TriggerSource.SOFTWARE:
            period_s += camera.trigger.delay_ms / MS_PER_S  # a software-triggered exposure starts after the delay
        camera.grab_timeout_s = GRAB_TIMEOUT_MARGIN_S + GRAB_TIMEOUT_FRAME_PERIODS * period_s

    # -- internals: errors --------------------------------------------------------------------------------

    def _error(self, camera: _Camera, rc: int, action: str) -> CameraServiceError:
        return self._handle_error(camera.handle, rc, action, camera.serial)

    def _handle_error(self, handle: int, rc: int, action: str, serial: int | None = None) -> CameraServiceError:
        """The domain error for a failed call: disconnected, timeout, or an SDK error with the camera's report."""
        name = self._codes.name(rc)
        label = serial if serial is not None else self._bound_serial or self._requested_serial or "(opening)"
        kind = self._codes.kind(rc)
        if kind is RcKind.DISCONNECTED:
            return CameraDisconnectedError(f"PixeLINK camera {label} is gone ({action}: {name})")
        if kind is RcKind.TIMEOUT:
            return CameraTimeoutError(f"PixeLINK camera {label} did not answer in time ({action}: {name})")
        report = self._error_report(handle)
        return CameraSdkError(f"PixeLINK camera {label}: could not {action} ({name}{': ' + report if report else ''})")

    def _error_report(self, handle: int) -> str:
        ret = self._api.getErrorReport(handle)
        return _text(ret[1].strReport) if ret[0] >= 0 else ""


def _wait_for_triggers(
    api: Any,
    codes: ReturnCodes,
    handle: int,
    targets: queue.SimpleQueue[tuple[_FrameBuffers, np.ndarray] | None],
    results: queue.SimpleQueue[tuple[Any, _FrameBuffers, np.ndarray]],
) -> None:
    """The trigger-wait helper thread: grab into each target supplied (again after a timeout code) and hand back
    the outcome; end at a stop request or when the stream ends (stopped, camera gone).

    Only SDK calls and the two queues: nothing of the driver is touched here."""
    while (item := targets.get()) is not None:
        buffers, target = item
        try:
            while codes.kind((ret := api.getNextNumPyFrame(handle, target))[0]) is RcKind.TIMEOUT:
                pass  # no trigger yet (the emulator's trigger timeout, the SDK's "on occasion")
        except BaseException as exc:
            results.put((exc, buffers, target))
            return
        results.put((ret, buffers, target))
        if codes.kind(ret[0]) not in (RcKind.SUCCESS, RcKind.BUFFER_TOO_SMALL):
            return


def _event_callback(
    listener: EventListener,
    closed: threading.Event,
    event_types: dict[int, tuple[CameraEventType, TriggerEdge | None, bool]],
    gpi_line: int,
) -> Any:
    """The function the SDK calls on its own thread: it builds the event from its arguments and calls ``listener``."""

    def on_event(handle: int, event_id: int, timestamp: float, data_bytes: int, data: Any, context: Any) -> int:
        kind = event_types.get(event_id)
        if kind is None or closed.is_set():
            return 0
        event_type, edge, high = kind
        try:
            count = 1
            if event_type is CameraEventType.FRAMES_SKIPPED and data and data_bytes >= SKIPPED_COUNT_BYTES:
                count = int.from_bytes(bytes(data[:SKIPPED_COUNT_BYTES]), "little")
            gpio = event_type is CameraEventType.GPIO_INPUT
            listener(
                CameraEvent(
                    event_type,
                    float(timestamp),
                    count=count,
                    edge=edge,
                    line=gpi_line if gpio else 0,
                    high=high if gpio else False,
                )
            )
        except Exception:
            log.exception("PixeLINK event %d: the listener failed", event_id)
        return 0

    return on_event


def _text(raw: bytes) -> str:
    return raw.decode("utf-8", errors="replace").strip()


def _scaled(limits: Range, scale: float = 1.0) -> Range:
    return Range(_from_sdk(limits.minimum, scale), _from_sdk(limits.maximum, scale))


def _first(state: tuple[int, list[float]] | None) -> float | None:
    """The first parameter of a feature's state, as the API shows it (None: the camera lacks the feature)."""
    return None if state is None else _from_sdk(state[1][0])


def _factors_of(params: list[float]) -> list[float]:
    """The pixel addressing factors in a PIXEL_ADDRESSING reading: VALUE, and X_VALUE, Y_VALUE when reported."""
    return [params[PA_VALUE], *params[PA_X : PA_Y + 1]]


def _image_geometry(geometry: _Geometry) -> ImageGeometry:
    return ImageGeometry(geometry.width, geometry.height, geometry.pixel_format, geometry.bit_depth)


def _unsupported_unless_neutral(field: str, value: Any, neutral: Any) -> None:
    """A setting of a feature the camera lacks: fine when it asks for nothing, else FeatureUnsupportedError."""
    if value == neutral:
        return
    changed = next(name for name in vars(value) if getattr(value, name) != getattr(neutral, name))
    raise FeatureUnsupportedError(f"{field}.{changed}")
