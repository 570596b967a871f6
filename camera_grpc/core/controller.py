"""The camera as the service sees it: validated settings, captures, info.

The servicer and the REST gateway translate their wire formats to these calls;
everything here is transport-neutral and raises the domain errors of
:mod:`camera_grpc.errors`. Camera work runs on the worker's thread, encoding
and file writing on an executor, and the event loop only awaits.

The server is the master of the settings: the exposure and gain clients ask
for are remembered and re-applied every time the camera (re)connects. The
controller is *ready* (health SERVING, ``connected`` in GetSettings) only while
the camera is connected **and** has exactly those settings: a re-apply the camera
refuses is retried with the reconnect backoff, and a value a newly plugged camera
cannot take (out of its range) is reported, never silently replaced.

Settings changes are serialised (one asyncio lock, never held on the camera
thread): a capture that names settings holds it from applying them until its
frame is taken, so its frame has exactly those settings whatever other clients do.
"""

from __future__ import annotations

import asyncio
import logging
import math
import time
from collections.abc import Callable
from concurrent.futures import Executor, Future
from dataclasses import asdict, dataclass, replace

from camera_grpc.core.metrics import ServiceMetrics
from camera_grpc.core.storage import CaptureRecord, CaptureRecordPage, CaptureStore, NewCapture
from camera_grpc.device.base import CameraDescription, CameraDriver, Frame, PixelFormat, Range
from camera_grpc.device.futures import then_in_executor
from camera_grpc.device.worker import CameraState, CameraWorker
from camera_grpc.errors import CameraUnavailableError, InvalidSettingError, SettingsConflictError, echo

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
        metrics: ServiceMetrics | None = None,
    ) -> None:
        self._worker = worker
        self._metrics = metrics
        self._store = store
        self._executor = executor
        self._default_image_format = default_image_format
        self._default_quality = default_quality
        # Shared between the event loop and the camera thread: each is an immutable snapshot (or a
        # flag), replaced whole on the camera thread and read by the event loop.
        #: What clients asked for (as the camera applied it); re-applied after every reconnect.
        self._requested = Requested(default_exposure_ms, default_gain_db)
        #: Identity and limits as the camera last reported them.
        self._info: CameraDescription | None = None
        #: Settings as the camera last reported them.
        self._last_settings: SettingsReport | None = None
        #: Whether the camera has had exactly the requested settings since it last connected.
        self._applied = False
        #: Requested values the connected camera cannot take (None: there are none).
        self._conflict: SettingsConflictError | None = None
        #: Held by every settings change; a capture with settings holds it until its frame is taken.
        self._settings_lock = asyncio.Lock()
        self._state_listeners: list[Callable[[CameraState], None]] = []
        worker.add_connect_hook(self._on_connect)
        worker.add_state_listener(self._notify)

    @property
    def state(self) -> CameraState:
        """The camera's connection state."""
        return self._worker.state

    @property
    def ready(self) -> bool:
        """Whether the camera is connected and has exactly the settings clients asked for."""
        return self._worker.state.usable and self._applied

    @property
    def conflict(self) -> SettingsConflictError | None:
        """Why the connected camera is not ready: requested values it cannot take (None if there are none)."""
        return self._conflict if self._worker.state.usable else None

    def add_state_listener(self, listener: Callable[[CameraState], None]) -> None:
        """Call ``listener(state)`` on the camera thread at each change of the connection state or of
        :attr:`ready` (keep it quick)."""
        self._state_listeners.append(listener)

    def _notify(self, state: CameraState) -> None:
        for listener in self._state_listeners:
            try:
                listener(state)
            except Exception:
                log.exception("camera state listener failed")

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
            raise CameraUnavailableError(self._worker.state.unavailable_message)
        return self._info

    async def get_settings(self) -> SettingsReport:
        """The camera's settings; the last known ones (connected=False) if it is gone.

        While the camera is ready these are the values it reported when they
        were last set (every change goes through this controller and is read
        back; a reconnect re-applies and re-reads them), so the answer never
        waits behind an exposure on the camera thread. While it is not ready
        (disconnected, or refusing what was asked for) these are the requested
        values with ``connected=False``.
        """
        settings = self._last_settings
        if settings is not None and self.ready:
            return settings
        if settings is None:
            raise CameraUnavailableError(self._worker.state.unavailable_message)
        # Not ready (gone, reconnecting, or holding values the camera cannot take): what clients asked for.
        return replace(settings, connected=False, **asdict(self._requested))

    async def update_settings(self, exposure_ms: float | None = None, gain_db: float | None = None) -> SettingsReport:
        """Apply the given settings all-or-nothing; returns what the camera applied."""
        self._validate(exposure_ms, gain_db)
        async with self._settings_lock:
            return await self._worker.call(lambda driver: self._update(driver, exposure_ms, gain_db))

    def _validate(self, exposure_ms: float | None, gain_db: float | None) -> None:
        """Refuse, before any camera work, what the camera's last known limits exclude."""
        info = self._info
        _validate("exposure_ms", exposure_ms, info.exposure_ms if info else None, positive=True)
        _validate("gain_db", gain_db, info.gain_db if info else None, positive=False)

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
        if exposure_ms is None and gain_db is None:
            self._refuse_while_in_conflict()
            return await asyncio.wrap_future(self._take_and_save(self._requested, image_format, quality)[1])
        self._validate(exposure_ms, gain_db)
        # Refuse before changing anything if the result could not be saved. (Without settings to
        # change, the save's own check is enough: a grab changes nothing.)
        await asyncio.get_running_loop().run_in_executor(self._executor, self._store.ensure_writable)
        # No other settings change between applying these and taking the frame.
        async with self._settings_lock:
            applied = await self._worker.call(lambda driver: self._update(driver, exposure_ms, gain_db))
            self._refuse_while_in_conflict()  # the other setting may still be one the camera cannot take
            frame, saved = self._take_and_save(Requested(applied.exposure_ms, applied.gain_db), image_format, quality)
            await asyncio.wrap_future(frame)
        return await asyncio.wrap_future(saved)

    def _refuse_while_in_conflict(self) -> None:
        conflict = self.conflict
        if conflict is not None:
            raise SettingsConflictError(str(conflict), conflict.fields)

    def _take_and_save(
        self, target: Requested, image_format: str, quality: int
    ) -> tuple[Future[Frame], Future[NewCapture]]:
        """The next frame taken with ``target``, and its save.

        The camera thread hands the frame straight to the encoder pool (no hop through the loop);
        cancelling the save before it starts skips it.
        """
        frame = self._worker.next_frame(lambda candidate: _taken_with(candidate, target))
        if self._metrics is not None:
            _time_grab(frame, self._metrics)
        saved = then_in_executor(
            frame, self._executor, lambda taken: self._store.save(taken, image_format, quality, self._info)
        )
        return frame, saved

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
        """Read info and re-apply the requested settings (camera thread, before the camera counts as connected).

        A value the camera refuses although it is within its range fails the connect, so the worker
        closes the camera and tries again with its backoff. A value outside the camera's range (another
        model) is not applied: the camera connects but is not ready, and says why, until UpdateSettings
        sets a value it can take.
        """
        self._applied = False
        self._conflict = None
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
        conflict = _conflict(info, requested)
        refused = conflict.fields if conflict is not None else ()
        exposure_ms = None if "exposure_ms" in refused else requested.exposure_ms
        gain_db = None if "gain_db" in refused else requested.gain_db
        try:
            self._apply(driver, exposure_ms, gain_db)
        except InvalidSettingError as exc:
            raise CameraUnavailableError(f"the camera refused the requested settings ({exc}); trying again") from exc
        if conflict is not None:
            self._conflict = conflict
            log.error("%s", conflict)
            return
        self._applied = True
        log.info("applied exposure %.4g ms, gain %.4g dB", requested.exposure_ms, requested.gain_db)

    def _update(self, driver: CameraDriver, exposure_ms: float | None, gain_db: float | None) -> SettingsReport:
        """Apply the given settings and make them the requested ones (camera thread)."""
        settings = self._apply(driver, exposure_ms, gain_db)
        requested = self._requested
        self._requested = requested = Requested(
            settings.exposure_ms if exposure_ms is not None else requested.exposure_ms,
            settings.gain_db if gain_db is not None else requested.gain_db,
        )
        conflict = _conflict(self._info or driver.info(), requested)
        if conflict is None and self._conflict is not None:  # the last value the camera could not take is gone
            log.info(
                "the camera now has the requested settings: exposure %.4g ms, gain %.4g dB",
                requested.exposure_ms,
                requested.gain_db,
            )
            self._conflict = None
            self._applied = True
            self._notify(self._worker.state)
        elif conflict is not None:
            self._conflict = conflict
        return settings

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


def _conflict(info: CameraDescription, requested: Requested) -> SettingsConflictError | None:
    """The requested values outside the camera's ranges, as an error naming them (None if there are none)."""
    outside = {
        field: (value, valid)
        for field, value, valid in (
            ("exposure_ms", requested.exposure_ms, info.exposure_ms),
            ("gain_db", requested.gain_db, info.gain_db),
        )
        if value not in valid
    }
    if not outside:
        return None
    described = ", ".join(
        f"{field}={echo(value)} (valid {valid.minimum:g} to {valid.maximum:g})"
        for field, (value, valid) in outside.items()
    )
    return SettingsConflictError(
        f"the camera ({info.model} serial {info.serial_number}) cannot take the requested {described}; "
        "it keeps its own values and captures are refused until UpdateSettings sets values it can take",
        fields=tuple(outside),
    )


def _time_grab(frame: Future[Frame], metrics: ServiceMetrics) -> None:
    """Observe the grab stage (from asking for the frame to having it) when ``frame`` is taken."""
    started = time.perf_counter()

    def taken(done: Future[Frame]) -> None:
        if not done.cancelled() and done.exception() is None:
            metrics.capture_stage_took("grab", time.perf_counter() - started)

    frame.add_done_callback(taken)


def _close(a: float, b: float) -> bool:
    return math.isclose(a, b, rel_tol=SETTING_MATCH_RELATIVE, abs_tol=1e-9)


def _taken_with(frame: Frame, target: Requested) -> bool:
    return _close(frame.exposure_ms, target.exposure_ms) and _close(frame.gain_db, target.gain_db)
