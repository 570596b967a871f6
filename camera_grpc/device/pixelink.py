"""The PixeLINK camera driver, through the unmodified ``pixelinkWrapper`` (PixeLINK 4.0 API).

The wrapper (and with it ``libPxLApi.so``) is loaded when a driver is created, never at import
(:func:`camera_grpc.device.pixelink_sdk.load_sdk`). Facts about the SDK used here come from the
vendor's wrapper source (``pixelinkWrapper/pixelink.py``, installed with the package), headers and
samples; the emulator in ``emulator/`` (see its README) follows the same facts.

Units
    Exposure is **seconds** in the SDK and milliseconds here (``exposure_ms / 1000`` on the way in,
    ``* 1000`` on the way out); gain is decibels on both sides. Values come back from the camera as
    float32 and are rounded to float32 precision (0.1 s arrives as 0.100000001).

Settings and limits
    Limits come from ``getCameraFeatures`` (re-read for :meth:`PixelinkCamera.info`, and when the
    camera refuses a value, so that the error names the current range). The driver does not
    pre-check values: the camera decides, and ``ApiOutOfRangeError`` / ``ApiInvalidParameterError``
    become :class:`~camera_grpc.errors.InvalidSettingError`. After every set the value the camera
    applied is read back (``ApiSuccessParametersChanged`` and rounding are normal).

Streaming rule
    A feature whose capability flags lack ``SETTABLE_WHILE_STREAMING`` is set with the stream
    stopped and restarted around it (what the vendor's Capture OEM application does); an unexpected
    ``ApiNotPermittedWhileStreaming`` gets the same treatment.

Frames
    Geometry is ROI / pixel addressing, pixel format from the camera. MONO8 and BAYER8_* frames
    are grabbed straight into buffers of a :class:`~camera_grpc.device.buffers.BufferPool` (no copy);
    MONO16 (big-endian, MSB-aligned in the SDK) is grabbed into one reused raw buffer and converted
    into a pooled native ``uint16`` array shifted right to ``MAX_PIXEL_SIZE`` bits. Colour cameras
    deliver their **raw Bayer mosaic** (``PixelFormat.BAYER8_RGGB`` etc., phase as the SDK reports
    it): lossless, no work on the camera thread; demosaicing is the consumer's choice. Other SDK formats
    (BAYER16, packed 10/12-bit, RGB) are not delivered: at open, a camera in such a format is
    switched to the closest delivered one (BAYER16_x -> BAYER8_x, packed mono -> MONO16).

Grabs and timeouts
    ``PxLGetNextFrame`` has no timeout argument; it returns ``ApiCameraTimeoutError`` "on occasion"
    (vendor samples). Like the samples, a grab retries up to :data:`GRAB_ATTEMPTS` times, probing the
    camera after each timeout (a failing probe means disconnected), and gives up with
    :class:`~camera_grpc.errors.CameraTimeoutError` once the attempts are used or the grab deadline has
    passed: :data:`GRAB_TIMEOUT_MARGIN_S` + :data:`GRAB_TIMEOUT_FRAME_PERIODS` frame periods, the frame
    period being ``max(exposure, 1 / frame rate)``.

Disconnects
    Return codes of a vanished camera (table in :mod:`~camera_grpc.device.pixelink_sdk`) raise
    :class:`~camera_grpc.errors.CameraDisconnectedError` at once, from any call (a grab blocked in the
    SDK is woken by the unplug). The worker then closes the driver (``uninitialize`` always runs, also
    for an unplugged camera) and reopens it with backoff. With ``CAMERA_SERIAL_NUMBER`` empty the first
    camera found is opened, and reconnects go back to that same camera.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

import numpy as np

from camera_grpc.device.base import CameraDescription, CameraDriver, Frame, ImageGeometry, PixelFormat, Range
from camera_grpc.device.buffers import BufferPool
from camera_grpc.device.pixelink_sdk import RcKind, ReturnCodes, load_sdk
from camera_grpc.errors import (
    CameraDisconnectedError,
    CameraSdkError,
    CameraServiceError,
    CameraTimeoutError,
    CameraUnavailableError,
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
#: Bits per sample of the 8-bit formats, and the width of a 16-bit SDK sample.
BITS_8 = 8
BITS_16 = 16

#: The features the driver uses (``PxLApi.FeatureId`` names; the camera must have the first four).
USED_FEATURES = ("EXPOSURE", "GAIN", "ROI", "PIXEL_FORMAT", "PIXEL_ADDRESSING", "FRAME_RATE", "MAX_PIXEL_SIZE")
#: SDK pixel formats (``PxLApi.PixelFormat`` names) the driver delivers, and as what.
DELIVERED_FORMATS: dict[str, PixelFormat] = {
    "MONO8": PixelFormat.MONO8,
    "MONO16": PixelFormat.MONO16,
    "BAYER8_RGGB": PixelFormat.BAYER8_RGGB,
    "BAYER8_GRBG": PixelFormat.BAYER8_GRBG,
    "BAYER8_GBRG": PixelFormat.BAYER8_GBRG,
    "BAYER8_BGGR": PixelFormat.BAYER8_BGGR,
}
#: For a camera found in a format the driver does not deliver: the delivered ones to try, best first.
FALLBACK_FORMATS: dict[str, tuple[str, ...]] = {
    "BAYER16_RGGB": ("BAYER8_RGGB",),
    "BAYER16_GRBG": ("BAYER8_GRBG",),
    "BAYER16_GBRG": ("BAYER8_GBRG",),
    "BAYER16_BGGR": ("BAYER8_BGGR",),
    "MONO12_PACKED": ("MONO16", "MONO8"),
    "MONO12_PACKED_MSFIRST": ("MONO16", "MONO8"),
    "MONO10_PACKED_MSFIRST": ("MONO16", "MONO8"),
}


def _from_sdk(value: float, scale: float = 1.0) -> float:
    """A float32 from the SDK (times ``scale``) as the shortest decimal it stands for: 0.1 s, not 0.100000001."""
    return float(f"{float(value) * scale:.{FLOAT32_DIGITS}g}")


@dataclass(frozen=True)
class _Feature:
    """What ``getCameraFeatures`` says about one feature."""

    flags: int
    limits: tuple[Range, ...]  #: per parameter, in the SDK's unit


@dataclass(frozen=True)
class _Geometry:
    """The frames the camera delivers now."""

    width: int  #: pixels
    height: int  #: pixels
    roi: tuple[int, int, int, int]  #: left, top, width, height in sensor pixels
    sdk_format: int  #: PxLApi.PixelFormat value
    pixel_format: PixelFormat
    bit_depth: int

    @property
    def sample_bytes(self) -> int:
        return 2 if self.pixel_format is PixelFormat.MONO16 else 1


@dataclass
class _FrameBuffers:
    """Reused buffers for one geometry: what the SDK writes into, and what frames are handed out in."""

    geometry: _Geometry
    pool: BufferPool
    raw: np.ndarray | None  #: 16-bit formats: the SDK's big-endian bytes, (H, W * 2) uint8

    @classmethod
    def for_geometry(cls, geometry: _Geometry) -> _FrameBuffers:
        shape = (geometry.height, geometry.width)
        raw = np.empty((geometry.height, geometry.width * 2), np.uint8) if geometry.sample_bytes == 2 else None
        return cls(geometry, BufferPool(shape, geometry.pixel_format.sample_type), raw)

    def sdk_target(self) -> np.ndarray:
        """The uint8 array the SDK fills (pixelinkWrapper passes ``array.size`` as the byte count)."""
        return self.raw if self.raw is not None else self.pool.acquire()

    def to_pixels(self, target: np.ndarray) -> np.ndarray:
        """The frame's pixels in the delivered layout (a pooled array)."""
        if self.raw is None:
            return target  # 8-bit: the SDK wrote straight into a pooled buffer
        pixels = self.pool.acquire()
        np.copyto(pixels, self.raw.view(">u2"))  # big-endian -> native
        shift = BITS_16 - self.geometry.bit_depth
        if shift:
            np.right_shift(pixels, shift, out=pixels)  # MSB-aligned -> right-aligned
        return pixels


@dataclass
class _Camera:
    """Per-connection state (one ``initialize`` ... ``uninitialize``)."""

    handle: int
    serial: int
    model: str
    firmware_version: str
    camera_name: str
    features: dict[int, _Feature]
    sensor_width: int
    sensor_height: int
    max_pixel_bits: int
    pixel_formats: tuple[PixelFormat, ...] = ()
    buffers: _FrameBuffers | None = None
    streaming: bool = False
    grab_timeout_s: float = GRAB_TIMEOUT_MARGIN_S


class PixelinkCamera(CameraDriver):
    """One PixeLINK camera (the first one, or the one with ``serial_number``). See the module docstring."""

    name = "pixelink"

    def __init__(self, serial_number: int | None = None) -> None:
        """Load the SDK (raises SdkUnavailableError with a one-line fix); the camera is opened by :meth:`open`."""
        self._api = load_sdk()
        self._codes = ReturnCodes(self._api.ReturnCode)
        self._requested_serial = serial_number or None
        self._bound_serial: int | None = None  # the camera this driver owns once it has opened one
        self._formats_by_serial: dict[int, tuple[PixelFormat, ...]] = {}
        self._handle: int | None = None
        self._camera: _Camera | None = None
        self._feature_names = {getattr(self._api.FeatureId, name): name for name in USED_FEATURES}
        feature_id = self._api.FeatureId
        self._exposure_id = feature_id.EXPOSURE
        self._gain_id = feature_id.GAIN
        self._roi_id = feature_id.ROI
        self._pixel_format_id = feature_id.PIXEL_FORMAT
        self._pixel_addressing_id = feature_id.PIXEL_ADDRESSING
        self._frame_rate_id = feature_id.FRAME_RATE
        self._max_pixel_size_id = feature_id.MAX_PIXEL_SIZE
        formats = self._api.PixelFormat
        self._delivered = {getattr(formats, name): fmt for name, fmt in DELIVERED_FORMATS.items()}
        self._format_names = {value: name for name, value in reversed(vars(formats).items()) if isinstance(value, int)}

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
        try:
            if camera is not None and camera.streaming:
                self._api.setStreamState(handle, self._api.StreamState.STOP)  # best effort; uninitialize stops too
            rc = self._api.uninitialize(handle)[0]
        except Exception:  # never raise from close
            log.exception("PixeLINK camera %s: uninitialize failed", label)
            return
        if rc < 0:
            log.info("PixeLINK camera %s uninitialized (%s: it was gone)", label, self._codes.name(rc))
        else:
            log.info("PixeLINK camera %s uninitialized", label)

    @property
    def is_open(self) -> bool:
        return self._camera is not None

    def check_connection(self) -> None:
        self._read(self._require(), self._exposure_id)

    # -- CameraDriver: identity and settings --------------------------------------------------------

    def info(self) -> CameraDescription:
        camera = self._require()
        exposure = self._refresh_feature(camera, self._exposure_id)
        gain = self._refresh_feature(camera, self._gain_id)
        return CameraDescription(
            model=camera.model,
            serial_number=str(camera.serial),
            firmware_version=camera.firmware_version,
            driver=self.name,
            sensor_width=camera.sensor_width,
            sensor_height=camera.sensor_height,
            exposure_ms=_scaled(exposure.limits[0], MS_PER_S),
            gain_db=_scaled(gain.limits[0]),
            pixel_formats=camera.pixel_formats,
            camera_name=camera.camera_name,
        )

    def get_exposure_ms(self) -> float:
        return _from_sdk(self._read(self._require(), self._exposure_id)[0], MS_PER_S)

    def set_exposure_ms(self, exposure_ms: float) -> float:
        camera = self._require()
        self._set_value(camera, self._exposure_id, 0, exposure_ms / MS_PER_S, "exposure_ms", exposure_ms, MS_PER_S)
        self._update_grab_timeout(camera)
        return self.get_exposure_ms()

    def get_gain_db(self) -> float:
        return _from_sdk(self._read(self._require(), self._gain_id)[0])

    def set_gain_db(self, gain_db: float) -> float:
        camera = self._require()
        self._set_value(camera, self._gain_id, 0, gain_db, "gain_db", gain_db, 1.0)
        return self.get_gain_db()

    def geometry(self) -> ImageGeometry:
        geometry = self._geometry()
        return ImageGeometry(geometry.width, geometry.height, geometry.pixel_format, geometry.bit_depth)

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
                if self._matches(descriptor, buffers.geometry):
                    return self._frame(descriptor, buffers, target)
                problem = "the frame's geometry changed"
                log.warning("PixeLINK camera %d: %s; re-reading it", camera.serial, problem)
                self._read_geometry(camera)
            elif kind is RcKind.TIMEOUT:
                problem = self._codes.name(rc)
                self._read(camera, self._exposure_id)  # still there? (raises CameraDisconnectedError if not)
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
        """Read identity, capabilities and geometry of a freshly initialized camera."""
        ret = self._api.getCameraInfo(handle)
        if ret[0] < 0:
            raise self._handle_error(handle, ret[0], "read the camera info")
        info = ret[1]
        text = _text(info.SerialNumber)
        serial = int(text) if text.isdigit() else self._requested_serial or self._bound_serial or ANY_CAMERA
        features = self._read_features(handle, self._api.FeatureId.ALL)
        for required in (self._exposure_id, self._gain_id, self._roi_id, self._pixel_format_id):
            if required not in features:
                raise CameraUnavailableError(
                    f"PixeLINK camera {serial} lacks feature {self._feature(required)}, which this driver needs"
                )
        roi_limits = features[self._roi_id].limits
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
        if self._max_pixel_size_id in features:
            bits = round(self._read(camera, self._max_pixel_size_id)[0])
            camera.max_pixel_bits = min(max(bits, BITS_8), BITS_16)
        current = round(self._read(camera, self._pixel_format_id)[0])
        camera.pixel_formats = self._formats_by_serial.get(serial) or self._probe_formats(camera, current)
        self._formats_by_serial[serial] = camera.pixel_formats
        if not camera.pixel_formats:
            raise CameraUnavailableError(f"PixeLINK camera {serial}: none of its pixel formats is supported")
        if current not in self._delivered:
            self._choose_format(camera, current)
        self._read_geometry(camera)
        self._update_grab_timeout(camera)
        return camera

    def _probe_formats(self, camera: _Camera, current: int) -> tuple[PixelFormat, ...]:
        """The delivered formats the camera accepts (tried one by one, as the vendor samples do; stream stopped)."""
        limits = camera.features[self._pixel_format_id].limits[0]
        accepted = set()
        for sdk_format, pixel_format in self._delivered.items():
            if sdk_format not in limits:
                continue
            if sdk_format == current:
                accepted.add(pixel_format)
                continue
            rc = self._api.setFeature(
                camera.handle, self._pixel_format_id, self._api.FeatureFlags.MANUAL, [sdk_format]
            )[0]
            if self._codes.kind(rc) is RcKind.DISCONNECTED:
                raise self._error(camera, rc, "try a pixel format")
            if rc >= 0 and round(self._read(camera, self._pixel_format_id)[0]) == sdk_format:
                accepted.add(pixel_format)
        if round(self._read(camera, self._pixel_format_id)[0]) != current:
            self._set_params(camera, self._pixel_format_id, [float(current)], "pixel_format", current, None)
        return tuple(fmt for fmt in PixelFormat if fmt in accepted)

    def _choose_format(self, camera: _Camera, current: int) -> None:
        """Switch a camera found in a format the driver does not deliver to the closest one it does."""
        current_name = self._format_names.get(current, str(current))
        by_format = {fmt: value for value, fmt in self._delivered.items()}
        preferred = [DELIVERED_FORMATS[name] for name in FALLBACK_FORMATS.get(current_name, ())]
        choice = next(fmt for fmt in [*preferred, *camera.pixel_formats] if fmt in camera.pixel_formats)
        self._set_params(camera, self._pixel_format_id, [float(by_format[choice])], "pixel_format", choice.value, None)
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
        presence = self._api.FeatureFlags.PRESENCE
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

    def _read(self, camera: _Camera, feature_id: int) -> list[float]:
        """The parameters of a feature, read from the camera."""
        ret = self._api.getFeature(camera.handle, feature_id)
        if ret[0] < 0:
            raise self._error(camera, ret[0], f"read {self._feature(feature_id)}")
        return list(ret[2])

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
        """Set one parameter, keeping the others (read-modify-write)."""
        params = self._read(camera, feature_id)
        params[index] = sdk_value
        self._set_params(camera, feature_id, params, field_name, value, scale)

    def _set_params(
        self,
        camera: _Camera,
        feature_id: int,
        params: list[float],
        field_name: str,
        value: object,
        scale: float | None,
    ) -> None:
        """setFeature (MANUAL) with the streaming rule; a refused value raises InvalidSettingError.

        ``scale`` converts the feature's first parameter to the API unit for the error's range (None: no range).
        """
        feature = camera.features[feature_id]
        restart = camera.streaming and not feature.flags & self._api.FeatureFlags.SETTABLE_WHILE_STREAMING
        if restart:
            self._stream(camera, self._api.StreamState.STOP, f"stop the stream to set {self._feature(feature_id)}")
        rc = self._api.setFeature(camera.handle, feature_id, self._api.FeatureFlags.MANUAL, params)[0]
        if self._codes.kind(rc) is RcKind.NOT_PERMITTED_WHILE_STREAMING and camera.streaming and not restart:
            log.info("PixeLINK camera %d: %s needs a stopped stream", camera.serial, self._feature(feature_id))
            self._stream(camera, self._api.StreamState.STOP, f"stop the stream to set {self._feature(feature_id)}")
            restart = True
            rc = self._api.setFeature(camera.handle, feature_id, self._api.FeatureFlags.MANUAL, params)[0]
        kind = self._codes.kind(rc)
        if restart and kind is not RcKind.DISCONNECTED:
            self._stream(camera, self._api.StreamState.START, "restart the stream")
        if kind is RcKind.INVALID_VALUE:
            raise self._refused(camera, feature_id, rc, field_name, value, scale)
        if kind is not RcKind.SUCCESS:
            raise self._error(camera, rc, f"set {self._feature(feature_id)}")
        if rc > 0:
            log.debug("PixeLINK camera %d: %s set (%s)", camera.serial, self._feature(feature_id), self._codes.name(rc))

    def _refused(
        self, camera: _Camera, feature_id: int, rc: int, field_name: str, value: object, scale: float | None
    ) -> InvalidSettingError:
        refused_by = f"was refused by the camera ({self._codes.name(rc)})"
        if scale is None:
            return InvalidSettingError(field_name, value, reason=refused_by)
        valid = _scaled(self._refresh_feature(camera, feature_id).limits[0], scale)
        if value in valid:
            reason = f"{refused_by}; valid range {valid.minimum:g} to {valid.maximum:g}"
            return InvalidSettingError(field_name, value, minimum=valid.minimum, maximum=valid.maximum, reason=reason)
        return InvalidSettingError(field_name, value, minimum=valid.minimum, maximum=valid.maximum)

    def _stream(self, camera: _Camera, state: int, action: str) -> None:
        rc = self._api.setStreamState(camera.handle, state)[0]
        if rc < 0:
            raise self._error(camera, rc, action)

    # -- internals: geometry and frames -------------------------------------------------------------------

    def _geometry(self) -> _Geometry:
        return self._buffers(self._require()).geometry

    def _buffers(self, camera: _Camera) -> _FrameBuffers:
        if camera.buffers is None:
            self._read_geometry(camera)
        assert camera.buffers is not None
        return camera.buffers

    def _read_geometry(self, camera: _Camera) -> None:
        """Frame size and layout from ROI, pixel addressing and pixel format; new buffers if they changed."""
        left, top, roi_width, roi_height = (round(v) for v in self._read(camera, self._roi_id)[:4])
        addressing_x = addressing_y = 1
        if self._pixel_addressing_id in camera.features:
            params = self._read(camera, self._pixel_addressing_id)
            addressing_x = addressing_y = max(round(params[0]), 1)
            if len(params) >= 4 and params[2] > 0 and params[3] > 0:  # VALUE, MODE, X_VALUE, Y_VALUE
                addressing_x, addressing_y = round(params[2]), round(params[3])
        sdk_format = round(self._read(camera, self._pixel_format_id)[0])
        pixel_format = self._delivered.get(sdk_format)
        if pixel_format is None:
            name = self._format_names.get(sdk_format, str(sdk_format))
            raise CameraSdkError(f"PixeLINK camera {camera.serial} is in pixel format {name}, which is not delivered")
        geometry = _Geometry(
            width=roi_width // addressing_x,
            height=roi_height // addressing_y,
            roi=(left, top, roi_width, roi_height),
            sdk_format=sdk_format,
            pixel_format=pixel_format,
            bit_depth=camera.max_pixel_bits if pixel_format is PixelFormat.MONO16 else BITS_8,
        )
        if camera.buffers is None or camera.buffers.geometry != geometry:
            if camera.buffers is not None and replace(camera.buffers.geometry, roi=geometry.roi) == geometry:
                camera.buffers.geometry = geometry  # same frames from another part of the sensor
            else:
                camera.buffers = _FrameBuffers.for_geometry(geometry)

    def _matches(self, descriptor: Any, geometry: _Geometry) -> bool:
        """Whether a frame descriptor describes frames of ``geometry`` (descriptors without a ROI are trusted)."""
        roi = descriptor.Roi
        if roi.fWidth <= 0 or roi.fHeight <= 0:
            return True
        addressing = descriptor.PixelAddressingValue
        width = round(roi.fWidth) // max(round(addressing.fHorizontal), 1)
        height = round(roi.fHeight) // max(round(addressing.fVertical), 1)
        sdk_format = round(descriptor.PixelFormat.fValue)
        return (width, height, sdk_format) == (geometry.width, geometry.height, geometry.sdk_format)

    def _frame(self, descriptor: Any, buffers: _FrameBuffers, target: np.ndarray) -> Frame:
        geometry = buffers.geometry
        return Frame(
            pixels=buffers.to_pixels(target),
            pixel_format=geometry.pixel_format,
            bit_depth=geometry.bit_depth,
            frame_number=int(descriptor.u64FrameNumber or descriptor.uFrameNumber),
            captured_at=datetime.now(UTC),
            exposure_ms=_from_sdk(descriptor.Shutter.fValue, MS_PER_S),
            gain_db=_from_sdk(descriptor.Gain.fValue),
        )

    def _update_grab_timeout(self, camera: _Camera) -> None:
        """Grab deadline from the exposure and the frame rate (when the camera limits it)."""
        period_s = self._read(camera, self._exposure_id)[0]
        if self._frame_rate_id in camera.features:
            ret = self._api.getFeature(camera.handle, self._frame_rate_id)
            if ret[0] < 0:
                raise self._error(camera, ret[0], "read the frame rate")
            flags, params = ret[1], ret[2]
            if flags & self._api.FeatureFlags.MANUAL and params and params[0] > 0:
                period_s = max(period_s, 1.0 / params[0])
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


def _text(raw: bytes) -> str:
    return raw.decode("utf-8", errors="replace").strip()


def _scaled(limits: Range, scale: float = 1.0) -> Range:
    return Range(_from_sdk(limits.minimum, scale), _from_sdk(limits.maximum, scale))
