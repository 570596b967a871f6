"""A simulated camera: no hardware, realistic timing, visible settings.

The image is a diagonal test pattern that moves a few pixels every frame, with
the frame number printed as a bar code in the top-left corner. Brightness
follows exposure and gain (twice the exposure or +6 dB gives about twice the
signal, clipped at full scale) so a user sees settings take effect. Frames are
produced on a free-running clock with period ``max(exposure, 1 / frame rate)``:
a grab returns the newest finished frame not yet returned, or waits for the
next one, so a frame always takes at least its exposure time, and a consumer
that falls behind sees gaps in the frame numbers, as with a real camera.

Everything is vectorised numpy: the lit pattern is computed once per exposure/gain
change, and a frame is one copy of a window of it into a recycled buffer.
"""

from __future__ import annotations

import math
import threading
import time
from datetime import UTC, datetime

import numpy as np

from camera_grpc.device.base import CameraDescription, CameraDriver, Frame, ImageGeometry, PixelFormat, Range
from camera_grpc.device.buffers import BufferPool
from camera_grpc.errors import CameraDisconnectedError, CameraUnavailableError, InvalidSettingError

#: Valid ranges; the same as the SDK emulator's default profile (1e-5 s .. 10 s, 0 .. 24 dB).
EXPOSURE_RANGE_MS = Range(0.01, 10_000.0)
GAIN_RANGE_DB = Range(0.0, 24.0)
#: Exposure at which the unscaled pattern is shown at its designed brightness.
REFERENCE_EXPOSURE_MS = 100.0
#: Pixels the pattern moves per frame, and the pattern's horizontal period.
PATTERN_STEP_PX = 8
PATTERN_PERIOD_PX = 256
#: The frame-number bar code: bits, and the width and height of one bit's cell, in pixels.
BARCODE_BITS = 32
BARCODE_CELL_PX = 4
MONO16_BIT_DEPTH = 12
#: Extra time after the exposure before a frame is read out, seconds.
READOUT_S = 0.0005


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
    ) -> None:
        if pixel_format not in (PixelFormat.MONO8, PixelFormat.MONO16):
            raise ValueError(f"the simulated camera delivers mono8 or mono16, not {pixel_format.value}")
        self._width = width
        self._height = height
        self._pixel_format = pixel_format
        self._bit_depth = 8 if pixel_format is PixelFormat.MONO8 else MONO16_BIT_DEPTH
        self._max_frame_rate_fps = max_frame_rate_fps
        self._serial_number = serial_number
        self._plugged = threading.Event()
        self._plugged.set()
        self._unplugged = threading.Event()  # wakes a grab that is waiting for its frame
        self._open = False
        self._exposure_ms = REFERENCE_EXPOSURE_MS
        self._gain_db = 0.0
        self._streaming = False
        self._pattern: np.ndarray | None = None
        self._lit_patterns: dict[tuple[float, float], np.ndarray] = {}  # the pattern at an exposure and gain
        # Settings by frame: frames numbered from the first number on are exposed with them. A frame that
        # was exposed before a change (in flight, as in a real camera) carries the settings it had.
        self._settings_from: list[tuple[int, float, float]] = [(0, REFERENCE_EXPOSURE_MS, 0.0)]
        self._buffers = BufferPool((height, width), pixel_format.sample_type)
        # Free-running frame clock: frame n is ready at anchor_time + (n - anchor_number) * period.
        self._anchor_time = 0.0
        self._anchor_number = 0
        self._last_returned = 0

    # -- test hooks (thread-safe) -------------------------------------------------

    def unplug(self) -> None:
        """Simulate pulling the cable: every call fails until :meth:`replug`."""
        self._plugged.clear()
        self._unplugged.set()

    def replug(self) -> None:
        """Simulate plugging the camera back in (settings revert to power-up values)."""
        self._unplugged.clear()
        self._plugged.set()

    # -- CameraDriver ------------------------------------------------------------------

    def open(self) -> None:
        if not self._plugged.is_set():
            raise CameraUnavailableError(f"simulated camera {self._serial_number} is not connected")
        self._exposure_ms = REFERENCE_EXPOSURE_MS
        self._gain_db = 0.0
        self._streaming = False
        if self._pattern is None:
            self._pattern = self._make_pattern()
        self._settings_from = [(0, self._exposure_ms, self._gain_db)]
        self._open = True

    def close(self) -> None:
        self._streaming = False
        self._open = False

    @property
    def is_open(self) -> bool:
        return self._open

    def info(self) -> CameraDescription:
        self._check()
        return CameraDescription(
            model="Simulated Camera",
            serial_number=self._serial_number,
            firmware_version="sim-1.0",
            driver=self.name,
            sensor_width=self._width,
            sensor_height=self._height,
            exposure_ms=EXPOSURE_RANGE_MS,
            gain_db=GAIN_RANGE_DB,
            pixel_formats=(self._pixel_format,),
            camera_name="simulated",
        )

    def get_exposure_ms(self) -> float:
        self._check()
        return self._exposure_ms

    def set_exposure_ms(self, exposure_ms: float) -> float:
        self._change("exposure_ms", exposure_ms, EXPOSURE_RANGE_MS)
        return self._exposure_ms

    def get_gain_db(self) -> float:
        self._check()
        return self._gain_db

    def set_gain_db(self, gain_db: float) -> float:
        self._change("gain_db", gain_db, GAIN_RANGE_DB)
        return self._gain_db

    def geometry(self) -> ImageGeometry:
        self._check()
        return ImageGeometry(self._width, self._height, self._pixel_format, self._bit_depth)

    def start_streaming(self) -> None:
        self._check()
        if not self._streaming:
            self._anchor_time = time.monotonic()
            self._anchor_number = self._last_returned
            self._streaming = True

    def stop_streaming(self) -> None:
        self._check()
        self._streaming = False

    @property
    def is_streaming(self) -> bool:
        return self._streaming

    def grab(self) -> Frame:
        self._check()
        if not self._streaming:
            raise RuntimeError("grab() needs start_streaming() first")
        period_s = self._period_s()
        now = time.monotonic()
        completed = self._anchor_number + math.floor((now - self._anchor_time) / period_s)
        number = max(completed, self._last_returned + 1)
        ready_at = self._anchor_time + (number - self._anchor_number) * period_s
        if ready_at > now and self._unplugged.wait(ready_at - now):
            raise CameraDisconnectedError(f"simulated camera {self._serial_number} was unplugged")
        self._last_returned = number
        exposure_ms, gain_db = self._settings_of(number)
        return Frame(
            pixels=self._render(number, exposure_ms, gain_db),
            pixel_format=self._pixel_format,
            bit_depth=self._bit_depth,
            frame_number=number,
            captured_at=datetime.now(UTC),
            exposure_ms=exposure_ms,
            gain_db=gain_db,
        )

    def check_connection(self) -> None:
        self._check()

    # -- internals -----------------------------------------------------------------------

    def _check(self) -> None:
        if not self._plugged.is_set():
            raise CameraDisconnectedError(f"simulated camera {self._serial_number} was unplugged")
        if not self._open:
            raise CameraUnavailableError("simulated camera is not open")

    def _period_s(self) -> float:
        return max(self._exposure_ms / 1000.0 + READOUT_S, 1.0 / self._max_frame_rate_fps)

    def _rebase_clock(self) -> None:
        """Keep frame numbers continuous when the period changes mid-stream."""
        if self._streaming:
            now = time.monotonic()
            period_s = self._period_s()
            done = math.floor((now - self._anchor_time) / period_s)
            self._anchor_number += done
            self._anchor_time += done * period_s

    def _make_pattern(self) -> np.ndarray:
        """Scene radiance at the reference exposure, with one period of spare columns for motion."""
        levels = 256 if self._pixel_format is PixelFormat.MONO8 else 1 << self._bit_depth
        cols = np.arange(self._width + PATTERN_PERIOD_PX, dtype=np.float32)
        rows = np.arange(self._height, dtype=np.float32)
        diagonal = (cols[None, :] + rows[:, None]) % PATTERN_PERIOD_PX / PATTERN_PERIOD_PX
        vertical = rows[:, None] / max(self._height - 1, 1)
        scene = 0.15 + 0.55 * diagonal + 0.3 * vertical
        dtype = np.uint8 if levels <= 256 else np.uint16
        return np.clip(scene * (levels - 1), 0, levels - 1).astype(dtype)

    def _change(self, field: str, value: float, valid: Range) -> None:
        """Set ``_<field>`` (``exposure_ms``, ``gain_db``) within ``valid``, for the frames from the next one on."""
        self._check()
        _check_range(field, value, valid)
        self._rebase_clock()
        setattr(self, f"_{field}", float(value))
        self._settings_changed()

    def _settings_changed(self) -> None:
        """Frames from the next one to start exposing take the new settings; those before keep theirs."""
        first = (self._anchor_number if self._streaming else self._last_returned) + 1
        kept = [entry for entry in self._settings_from if entry[0] < first]
        # Only the newest entry at or before the last returned frame can still be needed.
        older = [entry for entry in kept if entry[0] <= self._last_returned]
        self._settings_from = [*older[-1:], *[entry for entry in kept if entry[0] > self._last_returned]]
        self._settings_from.append((first, self._exposure_ms, self._gain_db))

    def _settings_of(self, frame_number: int) -> tuple[float, float]:
        """Exposure and gain a frame was exposed with."""
        _, exposure_ms, gain_db = next(entry for entry in reversed(self._settings_from) if entry[0] <= frame_number)
        return exposure_ms, gain_db

    def _lit(self, exposure_ms: float, gain_db: float) -> np.ndarray:
        """The pattern at an exposure and gain (computed once for each, while they are in use)."""
        key = (exposure_ms, gain_db)
        lit = self._lit_patterns.get(key)
        if lit is None:
            assert self._pattern is not None
            levels = 256 if self._pixel_format is PixelFormat.MONO8 else 1 << self._bit_depth
            scale = (exposure_ms / REFERENCE_EXPOSURE_MS) * 10 ** (gain_db / 20)
            lut = np.clip(np.arange(levels, dtype=np.float64) * scale, 0, levels - 1).astype(
                self._pixel_format.sample_type
            )
            in_use = {(exposure, gain) for _, exposure, gain in self._settings_from}
            self._lit_patterns = {k: v for k, v in self._lit_patterns.items() if k in in_use}
            lit = self._lit_patterns[key] = np.take(lut, self._pattern)
        return lit

    def _render(self, frame_number: int, exposure_ms: float, gain_db: float) -> np.ndarray:
        offset = (frame_number * PATTERN_STEP_PX) % PATTERN_PERIOD_PX
        pixels = self._buffers.acquire()
        np.copyto(pixels, self._lit(exposure_ms, gain_db)[:, offset : offset + self._width])
        stamp_frame_number(pixels, frame_number, full_scale=(1 << self._bit_depth) - 1)
        return pixels


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
