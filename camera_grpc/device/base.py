"""The camera driver interface shared by the PixeLINK driver and the simulator.

Modelled on pymmcore-plus: one small abstract class, units in names and
docstrings, and sibling implementations that run the same conformance tests.

Threading contract: a driver is **not** thread-safe. Exactly one thread (the
camera worker, :mod:`camera_grpc.device.worker`) creates, opens, uses and closes it.
Blocking is fine: nothing here runs on the event loop.

Error contract: drivers raise the domain errors of :mod:`camera_grpc.errors`:

* :class:`~camera_grpc.errors.CameraUnavailableError` from :meth:`open` when the
  camera (or the requested serial) is not there;
* :class:`~camera_grpc.errors.CameraDisconnectedError` from any call when the
  camera went away; the worker then closes the driver and reopens it with
  backoff;
* :class:`~camera_grpc.errors.InvalidSettingError` when the camera refuses a
  value (the caller validates against :attr:`CameraDescription` ranges first);
* :class:`~camera_grpc.errors.CameraTimeoutError` when no frame arrives in time.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass
from datetime import datetime

import numpy as np

from camera_grpc.formats import PixelFormat


@dataclass(frozen=True)
class Range:
    """A closed interval ``[minimum, maximum]`` in the unit of the field that holds it."""

    minimum: float
    maximum: float

    def __contains__(self, value: object) -> bool:
        return isinstance(value, (int, float)) and self.minimum <= value <= self.maximum


@dataclass(frozen=True)
class CameraDescription:
    """Identity and limits of an open camera."""

    model: str
    serial_number: str
    firmware_version: str
    driver: str  #: "pixelink" or "simulated"
    sensor_width: int  #: pixels
    sensor_height: int  #: pixels
    exposure_ms: Range  #: valid exposure, milliseconds
    gain_db: Range  #: valid gain, decibels
    pixel_formats: tuple[PixelFormat, ...]
    camera_name: str = ""


@dataclass(frozen=True)
class Frame:
    """One image and the metadata it was taken with."""

    pixels: np.ndarray  #: shape (H, W) or (H, W, 3), see :class:`PixelFormat`
    pixel_format: PixelFormat
    bit_depth: int  #: significant bits per sample (8 for 8-bit formats)
    frame_number: int  #: the camera's frame counter
    captured_at: datetime  #: host wall clock (UTC, timezone-aware) when the frame arrived
    exposure_ms: float  #: exposure this frame was taken with, milliseconds
    gain_db: float  #: gain this frame was taken with, decibels

    @property
    def width(self) -> int:
        """Image width in pixels."""
        return int(self.pixels.shape[1])

    @property
    def height(self) -> int:
        """Image height in pixels."""
        return int(self.pixels.shape[0])


@dataclass(frozen=True)
class ImageGeometry:
    """Size and layout of the frames the camera currently delivers."""

    width: int  #: pixels
    height: int  #: pixels
    pixel_format: PixelFormat
    bit_depth: int  #: significant bits per sample


class CameraDriver(ABC):
    """One camera. Used by a single thread; see the module docstring."""

    #: Short name reported as the driver ("pixelink", "simulated").
    name: str = ""

    @abstractmethod
    def open(self) -> None:
        """Connect to the camera. Raises CameraUnavailableError if it is not there."""

    @abstractmethod
    def close(self) -> None:
        """Stop streaming and release the camera.

        Idempotent, never raises, and must also work after the camera was
        unplugged (the handle is released all the same).
        """

    @property
    @abstractmethod
    def is_open(self) -> bool:
        """Whether :meth:`open` succeeded and :meth:`close` has not been called since."""

    @abstractmethod
    def info(self) -> CameraDescription:
        """Identity and valid ranges, read from the camera."""

    @abstractmethod
    def get_exposure_ms(self) -> float:
        """Current exposure in milliseconds, read from the camera."""

    @abstractmethod
    def set_exposure_ms(self, exposure_ms: float) -> float:
        """Set the exposure (milliseconds); returns the value the camera applied, read back."""

    @abstractmethod
    def get_gain_db(self) -> float:
        """Current gain in decibels, read from the camera."""

    @abstractmethod
    def set_gain_db(self, gain_db: float) -> float:
        """Set the gain (decibels); returns the value the camera applied, read back."""

    @abstractmethod
    def geometry(self) -> ImageGeometry:
        """Size and pixel format of the frames the camera delivers now."""

    @abstractmethod
    def start_streaming(self) -> None:
        """Start frame acquisition. A no-op when already streaming."""

    @abstractmethod
    def stop_streaming(self) -> None:
        """Stop frame acquisition. A no-op when not streaming."""

    @property
    @abstractmethod
    def is_streaming(self) -> bool:
        """Whether acquisition is running."""

    @abstractmethod
    def grab(self) -> Frame:
        """Wait for and return the next frame. Requires :attr:`is_streaming`.

        Blocks for at least the exposure time. Raises CameraTimeoutError when no
        frame arrives within a timeout derived from exposure and frame rate
        (after the driver's own retries), CameraDisconnectedError if the camera
        went away. The returned pixel array is owned by the caller.
        """

    def check_connection(self) -> None:  # noqa: B027 - optional hook, default no-op
        """Raise CameraDisconnectedError if the camera is gone.

        Called by the worker when idle, so an unplug is noticed without traffic.
        Must be cheap. The default does nothing.
        """
