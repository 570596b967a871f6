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

import logging
from abc import ABC, abstractmethod
from collections.abc import Collection
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import numpy as np

from camera_grpc.device.events import EventListener, IoStatus
from camera_grpc.device.settings import (
    SETTING_FIELDS,
    CameraSettings,
    Features,
    ImageGeometry,
    Range,
    SettingsReading,
    TriggerSource,
)
from camera_grpc.errors import CameraServiceError, CameraUnavailableError, InvalidArgumentError
from camera_grpc.formats import PixelFormat

__all__ = [
    "CameraDescription",
    "CameraDriver",
    "Frame",
    "ImageGeometry",
    "PixelFormat",
    "Range",
    "SettingsReading",
]

log = logging.getLogger(__name__)

#: Longest a HARDWARE-triggered :meth:`CameraDriver.grab` waits before raising :class:`NoTriggerYet`, seconds
#: (the camera thread serves queued calls between waits).
TRIGGER_WAIT_SLICE_S = 0.25


class NoTriggerYet(Exception):
    """A grab in hardware-trigger mode found no triggered frame within its wait slice (not an error)."""


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
    pixel_formats: tuple[PixelFormat, ...]  #: camera formats it accepts (the choices of ``pixel_format``)
    camera_name: str = ""
    #: Every setting as the camera reports it (supported or not, limits, steps, choices).
    features: Features = field(default_factory=lambda: Features(()))
    #: Non-volatile user channels for :meth:`CameraDriver.save_settings_to_channel` (0: none).
    settings_channels: int = 0


@dataclass(frozen=True)
class Frame:
    """One image and the metadata it was taken with."""

    pixels: np.ndarray  #: shape (H, W) or (H, W, 3), see :class:`PixelFormat`
    pixel_format: PixelFormat  #: as delivered (never MONO12_PACKED: that arrives as MONO16)
    bit_depth: int  #: significant bits per sample (8 for 8-bit formats)
    frame_number: int  #: the camera's frame counter
    captured_at: datetime  #: host wall clock (UTC, timezone-aware) when the frame arrived
    exposure_ms: float  #: exposure this frame was taken with, milliseconds
    gain_db: float  #: gain this frame was taken with, decibels
    #: The camera's own timestamp of the frame, seconds on :attr:`camera_clock` (None: the camera has none).
    camera_time_s: float | None = None
    #: Names the clock of ``camera_time_s`` (``pixelink:<serial>``, ``simulated:<serial>``).
    camera_clock: str = ""
    trigger_source: TriggerSource = TriggerSource.FREE_RUNNING  #: what started the exposure
    trigger_count: int = 0  #: triggers accepted since acquisition started, this frame's included (0: free-running)
    trigger_frame_index: int = 0  #: BURST/SEQUENCE: the frame's index within its trigger

    @property
    def width(self) -> int:
        """Image width in pixels."""
        return int(self.pixels.shape[1])

    @property
    def height(self) -> int:
        """Image height in pixels."""
        return int(self.pixels.shape[0])


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

    def read_settings(self) -> SettingsReading:  # TODO(issue 12): abstract once both drivers implement it
        """Every setting as the camera has it now, with the geometry and frame rate that result.

        While an auto mode is CONTINUOUS the values are the ones the camera chose; an ONCE
        adjustment reads ONCE while it runs and OFF (with the values found) when it has ended.
        """
        raise NotImplementedError

    def write_setting(self, name: str, value: Any) -> None:  # TODO(issue 12): abstract, as read_settings
        """Set one top-level setting (a name of :data:`SETTING_FIELDS`) to ``value``.

        ``value`` has already been checked against :attr:`CameraDescription.features`
        (:func:`camera_grpc.device.settings.validate`). Raises InvalidSettingError when the camera
        refuses it, FeatureUnsupportedError for a feature it lacks. Called by :meth:`apply_settings`,
        which handles the streaming rule and the all-or-nothing contract.
        """
        raise NotImplementedError

    def apply_settings(self, target: CameraSettings, names: Collection[str]) -> SettingsReading:
        """Set the named top-level settings of ``target``, all or nothing; returns the new reading.

        The settings are written in :data:`SETTING_FIELDS` order. If any of them cannot change
        while streaming, acquisition is stopped once around all of them and restarted afterwards
        (frames before carry the old geometry, frames after the new). When the camera refuses one,
        those already written are restored to their previous values and the error is raised.
        """
        ordered = [name for name in SETTING_FIELDS if name in names]
        if not ordered:
            return self.read_settings()
        before = self.read_settings().settings
        features = self.info().features
        restart = self.is_streaming and any(not features.settable_while_streaming(name) for name in ordered)
        if restart:
            self.stop_streaming()
        written: list[str] = []
        try:
            for name in ordered:
                self.write_setting(name, getattr(target, name))
                written.append(name)
        except CameraUnavailableError:
            raise  # gone: nothing to restore (it comes back at its power-up values)
        except CameraServiceError as exc:
            for name in reversed(written):
                try:
                    self.write_setting(name, getattr(before, name))
                except CameraServiceError as undo_failed:
                    log.error("could not restore %s after %s was refused: %s", name, exc, undo_failed)
            raise
        finally:
            if restart and self.is_open and not self.is_streaming:
                self.start_streaming()
        return self.read_settings()

    # -- triggering, events and I/O (issue 13) ----------------------------------------------------------

    @property
    def trigger_source(self) -> TriggerSource:
        """What starts exposures now (from the last settings written or read). Decides how :meth:`grab`
        behaves: FREE_RUNNING returns the next frame; SOFTWARE fires one trigger and returns its frame;
        HARDWARE waits for a triggered frame and raises :class:`NoTriggerYet` when none came within
        :data:`TRIGGER_WAIT_SLICE_S` (not a fault: the worker serves its commands and waits again)."""
        return TriggerSource.FREE_RUNNING

    def set_event_listener(self, listener: EventListener | None) -> None:  # noqa: B027 - optional hook
        """Deliver the camera's events to ``listener`` (None: stop). Called on the camera thread after
        :meth:`open`; the driver registers with the SDK here and unregisters in :meth:`close`. The listener
        may be called from an SDK thread: drivers only build the event and call it there."""

    def read_io(self) -> IoStatus:
        """The GPIO lines' levels and the temperatures, read now (empty when the camera has none)."""
        return IoStatus()

    def save_settings_to_channel(self, channel: int) -> None:
        """Store the camera's current settings in its non-volatile user ``channel`` (1-based)."""
        raise InvalidArgumentError("channel", channel, reason="this camera has no settings channels")

    def load_settings_from_channel(self, channel: int) -> SettingsReading:
        """Load the settings stored in ``channel`` (0: factory defaults); returns the new reading."""
        raise InvalidArgumentError("channel", channel, reason="this camera has no settings channels")

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
