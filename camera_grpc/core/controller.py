"""The camera as the service sees it: validated settings, captures, info.

The servicer and the REST gateway translate their wire formats to these calls;
everything here is transport-neutral and raises the domain errors of
:mod:`camera_grpc.errors`. Camera work runs on the worker's thread, encoding
and file writing on an executor, and the event loop only awaits.

The server is the master of the settings: the exposure and gain clients ask
for are remembered and re-applied every time the camera (re)connects.
"""

from __future__ import annotations

import asyncio
import logging
import math
from collections.abc import Callable
from concurrent.futures import Executor
from dataclasses import asdict, dataclass, replace

from camera_grpc.core.storage import CaptureRecord, CaptureRecordPage, CaptureStore, NewCapture
from camera_grpc.device.base import CameraDescription, CameraDriver, Frame, PixelFormat, Range
from camera_grpc.device.futures import then_in_executor
from camera_grpc.device.worker import CameraState, CameraWorker
from camera_grpc.errors import CameraUnavailableError, InvalidSettingError

log = logging.getLogger(__name__)

#: A frame "was taken with" a setting when it matches within this relative tolerance
#: (cameras round to their step; the value read back is what counts).
SETTING_MATCH_RELATIVE = 1e-3
JPEG_QUALITY_RANGE = Range(1, 100)


@dataclass(frozen=True)
class SettingsReport:
    """Current settings; when ``connected`` is False, the last known values."""

    exposure_ms: float
    gain_db: float
    width: int
    height: int
    pixel_format: PixelFormat
    bit_depth: int
    connected: bool


@dataclass(frozen=True)
class Requested:
    """Settings a client asked for; re-applied after every reconnect."""

    exposure_ms: float
    gain_db: float


class CameraController:
    """Transport-neutral camera operations. Create it before starting the worker."""

    def __init__(
        self,
        worker: CameraWorker,
        store: CaptureStore,
        executor: Executor,
        *,
        default_exposure_ms: float,
        default_gain_db: float,
        default_image_format: str,
        default_quality: int,
    ) -> None:
        self._worker = worker
        self._store = store
        self._executor = executor
        self._default_image_format = default_image_format
        self._default_quality = default_quality
        # Shared between the event loop and the camera thread: each is an immutable snapshot,
        # replaced whole by its one writing thread and read by the other.
        #: What clients asked for; written on the event loop, re-applied on the camera thread.
        self._requested = Requested(default_exposure_ms, default_gain_db)
        #: Identity and limits as the camera last reported them; written on the camera thread.
        self._info: CameraDescription | None = None
        #: Settings as the camera last reported them; written on the camera thread.
        self._last_settings: SettingsReport | None = None
        worker.add_connect_hook(self._on_connect)

    @property
    def state(self) -> CameraState:
        """The camera's connection state."""
        return self._worker.state

    def add_state_listener(self, listener: Callable[[CameraState], None]) -> None:
        """Call ``listener(state)`` on the camera thread at each connection state change (keep it quick)."""
        self._worker.add_state_listener(listener)

    @property
    def default_quality(self) -> int:
        """Configured JPEG quality."""
        return self._default_quality

    # -- operations ------------------------------------------------------------------

    async def info(self) -> CameraDescription:
        """Identity and limits; the last known ones while disconnected."""
        if self._worker.state.usable:
            return await self._worker.call(self._read_info)
        if self._info is None:
            raise CameraUnavailableError(f"camera is not connected ({self._worker.state.value})")
        return self._info

    async def get_settings(self) -> SettingsReport:
        """The camera's settings; the last known ones (connected=False) if it is gone.

        While the camera is connected these are the values it reported when they
        were last set (every change goes through this controller and is read
        back; a reconnect re-applies and re-reads them), so the answer never
        waits behind an exposure on the camera thread.
        """
        settings = self._last_settings
        if settings is not None and settings.connected and self._worker.state.usable:
            return settings
        try:
            return await self._worker.call(self._read_settings)
        except CameraUnavailableError:
            if self._last_settings is not None:
                return replace(self._last_settings, connected=False, **asdict(self._requested))
            raise

    async def update_settings(self, exposure_ms: float | None = None, gain_db: float | None = None) -> SettingsReport:
        """Apply the given settings all-or-nothing; returns what the camera applied."""
        info = self._info
        _validate("exposure_ms", exposure_ms, info.exposure_ms if info else None, positive=True)
        _validate("gain_db", gain_db, info.gain_db if info else None, positive=False)
        settings = await self._worker.call(lambda driver: self._apply(driver, exposure_ms, gain_db))
        self._requested = Requested(settings.exposure_ms, settings.gain_db)
        return settings

    async def capture(
        self,
        *,
        exposure_ms: float | None = None,
        gain_db: float | None = None,
        image_format: str | None = None,
        quality: int | None = None,
    ) -> NewCapture:
        """Apply settings (if given, kept afterwards), take one frame, save it with its sidecar."""
        image_format = image_format or self._default_image_format
        if quality is None:
            quality = self._default_quality
        elif quality not in JPEG_QUALITY_RANGE:
            raise InvalidSettingError(
                "quality", quality, minimum=JPEG_QUALITY_RANGE.minimum, maximum=JPEG_QUALITY_RANGE.maximum
            )
        if exposure_ms is not None or gain_db is not None:
            # Refuse before changing anything if the result could not be saved. (Without settings to
            # change, the save's own check is enough: a grab changes nothing.)
            await asyncio.get_running_loop().run_in_executor(self._executor, self._store.ensure_writable)
            applied = await self.update_settings(exposure_ms, gain_db)
            target = Requested(applied.exposure_ms, applied.gain_db)
        else:
            target = self._requested
        # The camera thread hands the frame straight to the encoder pool (no hop through the loop);
        # cancelling the call before the save starts skips it.
        saved = then_in_executor(
            self._worker.next_frame(lambda frame: _taken_with(frame, target)),
            self._executor,
            lambda frame: self._store.save(frame, image_format, quality, self._info),
        )
        return await asyncio.wrap_future(saved)

    async def list_captures(self, page_size: int = 0, page_token: str = "") -> CaptureRecordPage:
        """Saved captures, newest first, one page (see :meth:`CaptureStore.list_captures`)."""
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._executor, self._store.list_captures, page_size, page_token)

    async def get_capture(self, filename: str) -> tuple[CaptureRecord, bytes]:
        """A saved capture's metadata and bytes; NotFoundError unless ``filename`` is a listed capture."""
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._executor, self._store.read_capture, filename)

    # -- camera thread ---------------------------------------------------------------------

    def _on_connect(self, driver: CameraDriver) -> None:
        """Read info and re-apply the requested settings (camera thread)."""
        if self._last_settings is not None:  # not the camera's until read back from it
            self._last_settings = replace(self._last_settings, connected=False)
        info = self._read_info(driver)
        log.info(
            "camera: %s serial %s (%s driver), sensor %dx%d",
            info.model,
            info.serial_number,
            info.driver,
            info.sensor_width,
            info.sensor_height,
        )
        requested = self._requested
        try:
            self._apply(driver, requested.exposure_ms, requested.gain_db)
            log.info("applied exposure %.4g ms, gain %.4g dB", requested.exposure_ms, requested.gain_db)
        except InvalidSettingError as exc:
            log.error("could not apply the requested settings: %s", exc)

    def _read_info(self, driver: CameraDriver) -> CameraDescription:
        self._info = info = driver.info()
        return info

    def _read_settings(self, driver: CameraDriver) -> SettingsReport:
        geometry = driver.geometry()
        settings = SettingsReport(
            exposure_ms=driver.get_exposure_ms(),
            gain_db=driver.get_gain_db(),
            width=geometry.width,
            height=geometry.height,
            pixel_format=geometry.pixel_format,
            bit_depth=geometry.bit_depth,
            connected=True,
        )
        self._last_settings = settings
        return settings

    def _apply(self, driver: CameraDriver, exposure_ms: float | None, gain_db: float | None) -> SettingsReport:
        """Validate both against the camera's limits, then set both; undo the first if the second fails."""
        info = driver.info()
        _validate("exposure_ms", exposure_ms, info.exposure_ms, positive=True)
        _validate("gain_db", gain_db, info.gain_db, positive=False)
        previous_exposure_ms = driver.get_exposure_ms()
        if exposure_ms is not None:
            driver.set_exposure_ms(exposure_ms)
        if gain_db is not None:
            try:
                driver.set_gain_db(gain_db)
            except InvalidSettingError:
                if exposure_ms is not None:
                    driver.set_exposure_ms(previous_exposure_ms)
                raise
        return self._read_settings(driver)


def _validate(field: str, value: float | None, valid: Range | None, *, positive: bool) -> None:
    """Reject NaN, infinities, non-numbers, values <= 0 (if ``positive``) and values outside ``valid``."""
    if value is None:
        return
    number = isinstance(value, (int, float)) and not isinstance(value, bool)
    if number and math.isfinite(value) and not (positive and value <= 0) and (valid is None or value in valid):
        return
    if valid is not None:
        raise InvalidSettingError(field, value, minimum=valid.minimum, maximum=valid.maximum)
    raise InvalidSettingError(field, value, reason="must be a finite number" + (" greater than 0" if positive else ""))


def _close(a: float, b: float) -> bool:
    return math.isclose(a, b, rel_tol=SETTING_MATCH_RELATIVE, abs_tol=1e-9)


def _taken_with(frame: Frame, target: Requested) -> bool:
    return _close(frame.exposure_ms, target.exposure_ms) and _close(frame.gain_db, target.gain_db)
