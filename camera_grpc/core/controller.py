"""The camera as the service sees it: validated settings, captures, info, presets.

The servicer and the REST gateway translate their wire formats to these calls;
everything here is transport-neutral and raises the domain errors of
:mod:`camera_grpc.errors`. Camera work runs on the worker's thread, encoding
and file writing on an executor, and the event loop only awaits.

The server is the master of the settings: the settings clients ask for (the
top-level :class:`~camera_grpc.device.settings.CameraSettings` fields they set,
and only those) are persisted atomically under ``STATE_PATH`` and re-applied, on
top of the camera's power-up values, every time the camera (re)connects. The
controller is *ready* (health SERVING, ``connected`` in GetSettings) only while
the camera is connected **and** has exactly those settings: a re-apply the camera
refuses is retried with the reconnect backoff, and a value a newly plugged camera
cannot take (outside its reported features or sensor) is reported, never silently
replaced.

Every change of the settings, whatever its cause (an update, auto exposure
converging, a reconnect re-apply, a preset, a camera channel), gets a new
revision and is published as an immutable :class:`SettingsSnapshot` to
:meth:`CameraController.watch_settings` iterators.

Settings changes are serialised (one asyncio lock, never held on the camera
thread): a capture that names settings holds it from applying them until its
frame is taken, so its frame has exactly those settings whatever other clients do.
"""

from __future__ import annotations

import asyncio
import contextlib
import enum
import logging
import math
import time
from collections.abc import AsyncIterator, Callable, Collection, Mapping
from concurrent.futures import Executor, Future
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from camera_grpc.core.events import EventHub, EventSubscription, EventType
from camera_grpc.core.metrics import ServiceMetrics
from camera_grpc.core.recording import RecordingInfo
from camera_grpc.core.settings_store import Preset, PresetStore, Requested, SettingsStore, check_preset_id
from camera_grpc.core.storage import CaptureRecord, CaptureRecordPage, CaptureStore, NewCapture
from camera_grpc.device.base import CameraDescription, CameraDriver, Frame, PixelFormat, Range
from camera_grpc.device.events import IoStatus
from camera_grpc.device.futures import then_in_executor
from camera_grpc.device.settings import (
    GEOMETRY_FIELDS,
    SETTING_FIELDS,
    AutoMode,
    CameraSettings,
    FeatureUnsupportedError,
    ImageGeometry,
    SettingsReading,
    TriggerSource,
    changed_fields,
    describe,
    get_path,
    is_known_path,
    merge,
    validate,
)
from camera_grpc.device.worker import CameraState, CameraWorker
from camera_grpc.errors import (
    CameraServiceError,
    CameraUnavailableError,
    InvalidArgumentError,
    InvalidSettingError,
    RecordingHoldsSettingsError,
    RevisionMismatchError,
    ServiceStoppingError,
    SettingsConflictError,
)

log = logging.getLogger(__name__)

#: A frame "was taken with" a setting when it matches within this relative tolerance
#: (cameras round to their step; the value read back is what counts).
SETTING_MATCH_RELATIVE = 1e-3
JPEG_QUALITY_RANGE = Range(1, 100)
#: While an auto mode is on, how often the camera's settings are read to see what it chose, seconds.
AUTO_POLL_INTERVAL_S = 0.25
#: Each auto mode (a field path) and the top-level setting whose value the camera finds while it runs.
AUTO_SETTINGS: tuple[tuple[str, str], ...] = (
    ("exposure_auto", "exposure_ms"),
    ("gain_auto", "gain_db"),
    ("white_balance.mode", "white_balance"),
)
#: The mask that names every setting (AIP-134).
ALL_SETTINGS = "*"


class Cause(enum.Enum):
    """Why a settings snapshot was published (``WatchSettingsResponse.cause``)."""

    INITIAL = "initial"  #: the first message of a watch: the settings as they are
    UPDATE = "update"  #: UpdateSettings, or a capture with settings
    AUTO = "auto"  #: the camera changed a value itself (an auto mode), or a ONCE adjustment ended
    RECONNECT = "reconnect"  #: the camera (re)connected and the requested settings were re-applied
    DISCONNECT = "disconnect"  #: the camera went away (same revision, ``connected`` false)
    PRESET = "preset"  #: ApplyPreset
    CAMERA_CHANNEL = "camera_channel"  #: LoadSettingsFromCamera


@dataclass(frozen=True)
class SettingsSnapshot:
    """The settings at one revision. Immutable; crosses from the camera thread to the event loop.

    While the camera is not ready (gone, reconnecting, or unable to take what was asked for),
    ``settings`` are the requested values (over the last known ones) and ``connected`` is False.
    """

    settings: CameraSettings
    geometry: ImageGeometry  #: the frames the camera delivers (last known while disconnected)
    actual_frame_rate_fps: float  #: what the camera achieves (0 when it cannot say)
    revision: int
    connected: bool
    cause: Cause

    # The legacy flat fields (GetSettingsResponse.exposure_ms, ...).
    @property
    def exposure_ms(self) -> float:
        return self.settings.exposure_ms

    @property
    def gain_db(self) -> float:
        return self.settings.gain_db

    @property
    def width(self) -> int:
        return self.geometry.width

    @property
    def height(self) -> int:
        return self.geometry.height

    @property
    def pixel_format(self) -> PixelFormat:
        """The format frames are delivered in."""
        return self.geometry.pixel_format

    @property
    def bit_depth(self) -> int:
        return self.geometry.bit_depth


class CameraController:
    """Transport-neutral camera operations. Create it (inside the running event loop) before starting the worker."""

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
        state_path: Path,
        metrics: ServiceMetrics | None = None,
        events: EventHub | None = None,
        active_recording: Callable[[], RecordingInfo | None] | None = None,
    ) -> None:
        self._worker = worker
        #: The running recording, if any (any thread): settings that change the geometry are refused meanwhile.
        self._active_recording = active_recording or (lambda: None)
        self._metrics = metrics
        self._events = events
        self._store = store
        self._executor = executor
        self._default_image_format = default_image_format
        self._default_quality = default_quality
        self._loop = asyncio.get_running_loop()
        self._settings_store = SettingsStore(state_path)
        self._presets = PresetStore(state_path)
        saved, saved_revision = self._settings_store.load()
        if saved:
            log.info("requested settings from %s: %s", self._settings_store.path, ", ".join(saved))
        # Written on the camera thread only (and here, before it starts); read by the event loop. Each is an
        # immutable snapshot (or a flag or number), replaced whole.
        #: Whether the camera has been connected since the service started (CONNECTED vs RECONNECTED events).
        self._connected_once = False
        #: What clients asked for (as the camera applied it); persisted, re-applied after every reconnect.
        self._requested = Requested.of({"exposure_ms": default_exposure_ms, "gain_db": default_gain_db}).with_values(
            saved
        )
        #: The settings revision: +1 at every change of the settings, whatever its cause. Camera thread only.
        self._revision = saved_revision
        #: Identity and limits as the camera last reported them.
        self._info: CameraDescription | None = None
        #: The settings as the camera last reported them (None before the first connect).
        self._reading: SettingsReading | None = None
        #: The last published snapshot (what GetSettings answers).
        self._snapshot: SettingsSnapshot | None = None
        #: Whether the camera has had exactly the requested settings since it last connected.
        self._applied = False
        #: Requested values the connected camera cannot take (None: there are none).
        self._conflict: SettingsConflictError | None = None
        # Event loop only.
        #: Held by every settings change; a capture with settings holds it until its frame is taken.
        self._settings_lock = asyncio.Lock()
        #: What watchers see: the newest snapshot delivered to the loop, and the event set when it is replaced.
        self._latest: SettingsSnapshot | None = None
        self._changed = asyncio.Event()
        self._closed = False
        self._auto_poll: asyncio.Task[None] | None = None
        #: The newest revision published as a SETTINGS_CHANGED event.
        self._event_revision = saved_revision
        self._state_listeners: list[Callable[[CameraState], None]] = []
        worker.add_connect_hook(self._on_connect)
        worker.add_state_listener(self._on_state)

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

    @property
    def requested(self) -> Mapping[str, Any]:
        """The settings re-applied at every connect, by top-level name: those clients asked for (persisted) and
        the configured defaults of exposure and gain."""
        return self._requested.values

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

    # -- settings --------------------------------------------------------------------------

    async def info(self) -> CameraDescription:
        """Identity, limits and features; the last known ones while disconnected."""
        if self._worker.state.usable:
            return await self._worker.call(self._read_info)
        if self._info is None:
            raise CameraUnavailableError(self._worker.state.unavailable_message)
        return self._info

    async def get_settings(self) -> SettingsSnapshot:
        """The settings; the requested ones (connected=False) while the camera is not ready.

        Every change goes through this controller and is read back (auto modes are polled), so the
        answer never waits behind an exposure on the camera thread.
        """
        snapshot = self._snapshot
        if snapshot is None:
            raise CameraUnavailableError(self._worker.state.unavailable_message)
        if snapshot.connected and not self.ready:  # gone, and the disconnect not yet published
            return self._not_ready(snapshot)
        return snapshot

    async def update_settings(
        self, patch: CameraSettings, paths: Collection[str], expected_revision: int | None = None
    ) -> SettingsSnapshot:
        """Set the values of ``patch`` at the field ``paths`` (``exposure_ms``, ``roi``, ``roi.width``; ``*``:
        all), all or nothing; returns the settings the camera applied, with their new revision.

        With ``expected_revision``, nothing changes unless the settings are still at that revision
        (RevisionMismatchError otherwise). Refused values raise InvalidSettingError naming the field and
        its valid values; a feature the camera lacks, FeatureUnsupportedError.
        """
        return await self._change(patch, _expand(paths), expected_revision, Cause.UPDATE)

    async def _change(
        self, patch: CameraSettings, paths: tuple[str, ...], expected_revision: int | None, cause: Cause
    ) -> SettingsSnapshot:
        self._prevalidate(patch, paths)
        async with self._settings_lock:
            return await self._worker.call(lambda driver: self._update(driver, patch, paths, expected_revision, cause))

    def _prevalidate(self, patch: CameraSettings, paths: tuple[str, ...]) -> None:
        """Refuse, before any camera work, what the camera's last known features exclude."""
        info, snapshot = self._info, self._snapshot
        if info is None or snapshot is None:
            return  # not connected yet: the camera call fails at once
        target = _merged(snapshot.settings, patch, paths)
        validate(target, _top_level(paths), info.features, (info.sensor_width, info.sensor_height))

    def watch_settings(self) -> AsyncIterator[SettingsSnapshot]:
        """The current settings (cause ``initial``), then every later snapshot, until :meth:`close_watches`.

        A watcher that reads slowly gets the newest snapshot when it reads (intermediate ones are skipped,
        never reordered); nothing is queued for it. Raises CameraUnavailableError at once if the camera
        has never connected.
        """
        if self._closed:
            raise ServiceStoppingError("the service is shutting down")
        first = self._latest or self._snapshot
        if first is None:
            raise CameraUnavailableError(self._worker.state.unavailable_message)
        return self._watch(first)

    async def _watch(self, first: SettingsSnapshot) -> AsyncIterator[SettingsSnapshot]:
        sent = first
        if first.connected and not self.ready:
            first = self._not_ready(first)
        yield replace(first, cause=Cause.INITIAL)
        while True:
            changed = self._changed
            latest = self._latest
            if self._closed:
                return
            if latest is not None and latest is not sent and latest.revision >= sent.revision:
                sent = latest
                yield latest
                continue
            await changed.wait()

    def close_watches(self) -> None:
        """End every watch (the service is stopping) and stop following auto modes (event loop)."""
        self._closed = True
        self._changed.set()
        if self._auto_poll is not None:
            self._auto_poll.cancel()

    # -- presets and camera channels -----------------------------------------------------

    async def create_preset(self, preset_id: str) -> Preset:
        """Save the current settings (the requested ones while the camera is not ready) as ``preset_id``."""
        check_preset_id(preset_id)
        current = await self.get_settings()
        preset = Preset(preset_id, current.settings, datetime.now(UTC))
        return await asyncio.to_thread(self._presets.save, preset)

    async def list_presets(self) -> list[Preset]:
        """Every preset, sorted by id."""
        return await asyncio.to_thread(self._presets.list)

    async def get_preset(self, preset_id: str) -> Preset:
        """One preset; PresetNotFoundError if there is none of that id."""
        return await asyncio.to_thread(self._presets.get, preset_id)

    async def delete_preset(self, preset_id: str) -> None:
        """Delete one preset; PresetNotFoundError if there is none of that id."""
        await asyncio.to_thread(self._presets.delete, preset_id)

    async def apply_preset(self, preset_id: str, expected_revision: int | None = None) -> SettingsSnapshot:
        """Apply every setting a preset holds, all or nothing, like :meth:`update_settings`."""
        preset = await self.get_preset(preset_id)
        paths = tuple(name for name in SETTING_FIELDS if getattr(preset.settings, name) is not None)
        return await self._change(preset.settings, paths, expected_revision, Cause.PRESET)

    async def save_to_camera_channel(self, channel: int) -> None:
        """Store the camera's current settings in its non-volatile user ``channel`` (1 to settings_channels)."""
        _check_channel(channel, await self.info(), first=1)
        async with self._settings_lock:
            await self._worker.call(lambda driver: driver.save_settings_to_channel(channel))

    async def load_from_camera_channel(self, channel: int) -> SettingsSnapshot:
        """Load the camera's ``channel`` (0: factory defaults); its settings become the requested ones."""
        _check_channel(channel, await self.info(), first=0)
        async with self._settings_lock:
            return await self._worker.call(lambda driver: self._load_channel(driver, channel))

    # -- captures --------------------------------------------------------------------------

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
            current = await self.get_settings()
            return self._saved(
                await asyncio.wrap_future(self._take_and_save(current.settings, image_format, quality)[1])
            )
        patch, paths = legacy_patch(exposure_ms, gain_db)
        self._prevalidate(patch, paths)
        # Refuse before changing anything if the result could not be saved. (Without settings to
        # change, the save's own check is enough: a grab changes nothing.)
        await asyncio.get_running_loop().run_in_executor(self._executor, self._store.ensure_writable)
        # No other settings change between applying these and taking the frame.
        async with self._settings_lock:
            applied = await self._worker.call(lambda driver: self._update(driver, patch, paths, None, Cause.UPDATE))
            self._refuse_while_in_conflict()  # another setting may still be one the camera cannot take
            frame, saved = self._take_and_save(applied.settings, image_format, quality)
            await asyncio.wrap_future(frame)
        return self._saved(await asyncio.wrap_future(saved))

    def _saved(self, capture: NewCapture) -> NewCapture:
        """A capture was saved: the CAPTURE_SAVED event (event loop)."""
        if self._events is not None:
            self._events.publish(
                EventType.CAPTURE_SAVED, f"capture saved: {capture.filename}", filename=capture.filename
            )
        return capture

    async def software_trigger(self) -> Frame:
        """Fire one software trigger and return the frame it produced, once the camera delivered it (Frames
        subscribers get it too). TriggerModeError (FAILED_PRECONDITION) unless trigger.source is SOFTWARE."""
        frame = await asyncio.wrap_future(self._worker.software_trigger())
        if self._metrics is not None:
            self._metrics.software_trigger_fired()
        return frame

    def watch_events(
        self, types: Collection[EventType] = ()
    ) -> contextlib.AbstractAsyncContextManager[EventSubscription]:
        """A subscription to the service's events (of ``types``; empty: all) from now on; ends after
        SERVICE_STOPPING (ServiceStoppingError at once if the service is stopping)."""
        if self._events is None:
            raise CameraUnavailableError("this service publishes no events")
        return self._events.subscribe(types)

    async def io_status(self) -> IoStatus:
        """The camera's GPIO lines and temperatures, read now on the camera thread."""
        return await self._worker.call(lambda driver: driver.read_io())

    def _refuse_while_in_conflict(self) -> None:
        conflict = self.conflict
        if conflict is not None:
            raise SettingsConflictError(str(conflict), conflict.fields)

    def _take_and_save(
        self, target: CameraSettings, image_format: str, quality: int
    ) -> tuple[Future[Frame], Future[NewCapture]]:
        """The next frame taken with ``target`` (its exposure and gain, unless an auto mode sets them), and its save.

        By ``target``'s trigger source: FREE_RUNNING, the next such frame; SOFTWARE, the frame of a trigger
        fired for this capture (exactly that frame); HARDWARE, the next triggered frame, however long it
        takes (the caller's deadline cancels the wait: nothing is saved).

        The camera thread hands the frame straight to the encoder pool (no hop through the loop);
        cancelling the save before it starts skips it (and stops the wait for the frame).
        """
        if target.trigger.source is TriggerSource.SOFTWARE:
            frame = self._worker.next_frame(trigger=True)
            if self._metrics is not None:
                self._metrics.software_trigger_fired()
        else:
            frame = self._worker.next_frame(lambda candidate: _taken_with(candidate, target))
        if self._metrics is not None:
            _time_grab(frame, self._metrics)
        saved = then_in_executor(
            frame,
            self._executor,
            lambda taken: self._store.save(taken, image_format, quality, self._info, settings=target),
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

    async def delete_capture(self, filename: str) -> CaptureRecord:
        """Delete a saved capture (see :meth:`CaptureStore.delete_capture`); returns what it was."""
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._executor, self._store.delete_capture, filename)

    # -- camera thread ---------------------------------------------------------------------

    def _on_connect(self, driver: CameraDriver) -> None:
        """Read info and re-apply the requested settings over the camera's power-up values (camera thread,
        before the camera counts as connected).

        A value the camera refuses although its features allow it fails the connect, so the worker
        closes the camera and tries again with its backoff. A value its features exclude (another model)
        is not applied: the camera connects but is not ready, and says why, until UpdateSettings sets a
        value it can take.
        """
        self._applied = False
        self._conflict = None
        info = self._read_info(driver)
        if self._events is not None:
            self._events.set_camera_clock(camera_clock_of(info))
        log.info(
            "camera: %s serial %s (%s driver), sensor %dx%d",
            info.model,
            info.serial_number,
            info.driver,
            info.sensor_width,
            info.sensor_height,
        )
        power_up = driver.read_settings()
        requested = self._requested
        target = requested.over(power_up.settings)
        refused = _refused(target, requested.values, info)
        # What the camera cannot take stays at its own value.
        applicable = replace(target, **{name: getattr(power_up.settings, name) for name in refused})
        try:
            reading = driver.apply_settings(applicable, changed_fields(power_up.settings, applicable))
        except CameraUnavailableError:
            raise
        except CameraServiceError as exc:
            raise CameraUnavailableError(f"the camera refused the requested settings ({exc}); trying again") from exc
        settled = self._settle_once(reading) is not requested
        requested = self._requested
        if refused:
            self._conflict = _conflict_error(info, refused)
            log.error("%s", self._conflict)
        else:
            self._applied = True
            log.info("applied the requested settings: %s", describe(requested.over(reading.settings)))
        self._publish(reading, Cause.RECONNECT, persist=settled)

    def _update(
        self,
        driver: CameraDriver,
        patch: CameraSettings,
        paths: tuple[str, ...],
        expected_revision: int | None,
        cause: Cause,
    ) -> SettingsSnapshot:
        """Apply ``patch`` at ``paths`` all or nothing and make the result requested (camera thread)."""
        if expected_revision is not None and expected_revision != self._revision:
            raise RevisionMismatchError(expected_revision, self._revision)
        if not paths:
            return self._snapshot or self._publish(driver.read_settings(), cause)
        info = self._info or self._read_info(driver)
        before = driver.read_settings()
        # Merged into the settings as clients see them: the camera's, but for requested values it cannot take
        # (those stay requested, and are written only when this update sets them).
        conflicting = [
            name for name in (self._conflict.fields if self._conflict else ()) if name in self._requested.values
        ]
        current = replace(before.settings, **{name: self._requested.values[name] for name in conflicting})
        target = _merged(current, patch, paths)
        names = _top_level(paths)
        validate(target, names, info.features, (info.sensor_width, info.sensor_height))
        target = replace(target, **{name: getattr(before.settings, name) for name in conflicting if name not in names})
        changed = changed_fields(before.settings, target)
        self._refuse_geometry_while_recording(changed)
        reading = driver.apply_settings(target, changed)
        self._requested = self._requested.with_values({name: getattr(reading.settings, name) for name in names})
        self._settle_once(reading)
        self._recheck_conflict(info, reading)
        return self._publish(reading, cause, persist=True)

    def _load_channel(self, driver: CameraDriver, channel: int) -> SettingsSnapshot:
        """Load a camera channel; its settings become the requested ones (camera thread)."""
        reading = driver.load_settings_from_channel(channel)
        self._requested = Requested.of(
            {name: getattr(reading.settings, name) for name in SETTING_FIELDS}, asked=SETTING_FIELDS
        )
        self._recheck_conflict(self._info or self._read_info(driver), reading)
        return self._publish(reading, Cause.CAMERA_CHANNEL, persist=True)

    def _observe_auto(self, driver: CameraDriver) -> None:
        """Read what the camera's auto modes chose; publish it if anything changed (camera thread)."""
        reading = driver.read_settings()
        last = self._reading
        before = self._requested
        self._settle_once(reading)
        settled = self._requested is not before
        if settled or last is None or (reading.settings, reading.geometry) != (last.settings, last.geometry):
            self._publish(reading, Cause.AUTO, persist=settled)

    def _refuse_geometry_while_recording(self, changed: Collection[str]) -> None:
        """RecordingHoldsSettingsError naming the running recording if ``changed`` would change the frames'
        geometry."""
        geometry = tuple(sorted(GEOMETRY_FIELDS.intersection(changed)))
        recording = self._active_recording() if geometry else None
        if recording is not None:
            raise RecordingHoldsSettingsError(
                f"{', '.join(geometry)} cannot change while {recording.name} is running (it would change the "
                "recorded frames' geometry); stop the recording first",
                geometry,
            )

    def _settle_once(self, reading: SettingsReading) -> Requested:
        """A requested ONCE the camera has finished (it reads OFF) becomes OFF with the values it found."""
        requested = self._requested
        changes: dict[str, Any] = {}
        for mode_path, value_field in AUTO_SETTINGS:
            top = mode_path.partition(".")[0]
            if top not in requested.values or getattr(reading.settings, top) is None:
                continue
            if (
                get_path(requested.over(reading.settings), mode_path) is AutoMode.ONCE
                and get_path(reading.settings, mode_path) is AutoMode.OFF
            ):
                changes[top] = getattr(reading.settings, top)
                changes[value_field] = getattr(reading.settings, value_field)
                log.info("%s ONCE has ended: %s", mode_path, ", ".join(f"{k}={v}" for k, v in changes.items()))
        if changes:
            self._requested = requested = requested.with_values(changes)
        return requested

    def _recheck_conflict(self, info: CameraDescription, reading: SettingsReading) -> None:
        """After a change: the camera may now have every requested value (it is ready again), or still not."""
        refused = _refused(self._requested.over(reading.settings), self._requested.values, info)
        if refused:
            self._conflict = _conflict_error(info, refused)
        elif self._conflict is not None:  # the last value the camera could not take is gone
            log.info("the camera now has the requested settings: %s", describe(self._requested.over(reading.settings)))
            self._conflict = None
            self._applied = True
            self._notify(self._worker.state)

    def _publish(self, reading: SettingsReading, cause: Cause, *, persist: bool = False) -> SettingsSnapshot:
        """A new revision of the settings: kept, handed to the watchers, persisted if asked (camera thread)."""
        self._reading = reading
        self._revision += 1
        snapshot = SettingsSnapshot(
            settings=reading.settings,
            geometry=reading.geometry,
            actual_frame_rate_fps=reading.actual_frame_rate_fps,
            revision=self._revision,
            connected=self._applied,
            cause=cause,
        )
        if not self._applied:
            snapshot = self._not_ready(snapshot)
        self._snapshot = snapshot
        if persist:
            self._persist()
        self._hand_to_loop(snapshot)
        return snapshot

    def _persist(self) -> None:
        try:
            self._settings_store.save(self._requested, self._revision)
        except CameraServiceError as exc:  # the camera has them: the change stands, but will not survive a restart
            log.error("could not save the requested settings: %s", exc)

    def _hand_to_loop(self, snapshot: SettingsSnapshot) -> None:
        with contextlib.suppress(RuntimeError):  # the loop is closed: nobody is watching
            self._loop.call_soon_threadsafe(self._deliver, snapshot)

    def _on_state(self, state: CameraState) -> None:
        """Camera thread: a lost camera is published (same revision, not connected); listeners are told."""
        if state is CameraState.STOPPED:
            with contextlib.suppress(RuntimeError):  # the loop is closed: nobody is watching
                self._loop.call_soon_threadsafe(self.close_watches)
        snapshot = self._snapshot
        if not state.usable and snapshot is not None and snapshot.connected:
            self._applied = False
            self._snapshot = snapshot = replace(self._not_ready(snapshot), cause=Cause.DISCONNECT)
            self._hand_to_loop(snapshot)
        if state is CameraState.CONNECTED:
            self._publish_connected(snapshot)
        self._notify(state)

    def _publish_connected(self, snapshot: SettingsSnapshot | None) -> None:
        """CAMERA_CONNECTED (the first time) or CAMERA_RECONNECTED, with the revision re-applied (camera thread)."""
        reconnected, self._connected_once = self._connected_once, True
        if self._events is None:
            return
        revision = snapshot.revision if snapshot is not None else self._revision
        applied = (
            "with the requested settings re-applied"
            if self._applied
            else f"but not ready: {self._conflict or 'the requested settings are not applied'}"
        )
        if reconnected:
            self._events.publish_threadsafe(
                EventType.CAMERA_RECONNECTED,
                f"camera reconnected {applied} (revision {revision})",
                settings_revision=revision,
            )
        else:
            info = self._info
            name = f"{info.model} serial {info.serial_number}" if info is not None else "camera"
            self._events.publish_threadsafe(
                EventType.CAMERA_CONNECTED,
                f"{name} connected {applied} (revision {revision})",
                settings_revision=revision,
            )

    def _not_ready(self, snapshot: SettingsSnapshot) -> SettingsSnapshot:
        """``snapshot`` as reported while the camera is not ready: the requested values, not connected."""
        return replace(snapshot, settings=self._requested.over(snapshot.settings), connected=False)

    def _read_info(self, driver: CameraDriver) -> CameraDescription:
        self._info = info = driver.info()
        return info

    # -- event loop ------------------------------------------------------------------------

    def _deliver(self, snapshot: SettingsSnapshot) -> None:
        """Make ``snapshot`` the newest for watchers (event loop)."""
        if self._closed:
            return
        self._latest = snapshot
        changed, self._changed = self._changed, asyncio.Event()
        changed.set()
        if self._events is not None and snapshot.revision > self._event_revision:
            self._event_revision = snapshot.revision
            self._events.publish(
                EventType.SETTINGS_CHANGED,
                f"settings changed ({snapshot.cause.value}), revision {snapshot.revision}",
                settings_revision=snapshot.revision,
                cause=snapshot.cause.value,
            )
        if _auto_active(snapshot.settings) and (self._auto_poll is None or self._auto_poll.done()):
            self._auto_poll = asyncio.create_task(self._follow_auto(), name="follow-auto-settings")

    async def _follow_auto(self) -> None:
        """While an auto mode is on, read the camera's settings every AUTO_POLL_INTERVAL_S (event loop)."""
        while not self._closed:
            await asyncio.sleep(AUTO_POLL_INTERVAL_S)
            snapshot = self._snapshot
            if snapshot is None or not _auto_active(snapshot.settings) or not self._worker.state.usable:
                return
            try:
                await self._worker.call(self._observe_auto)
            except CameraUnavailableError:
                return
            except CameraServiceError as exc:
                log.warning("reading the settings auto modes chose failed: %s", exc)


def camera_clock_of(info: CameraDescription) -> str:
    """The name of a camera's clock (as its drivers name it in :attr:`Frame.camera_clock`): ``<driver>:<serial>``."""
    return f"{info.driver}:{info.serial_number}"


def legacy_patch(exposure_ms: float | None, gain_db: float | None) -> tuple[CameraSettings, tuple[str, ...]]:
    """The patch and paths of a request with the legacy ``exposure_ms`` / ``gain_db`` fields."""
    values = {"exposure_ms": exposure_ms, "gain_db": gain_db}
    paths = tuple(name for name, value in values.items() if value is not None)
    return _Patch(values), paths  # type: ignore[return-value]


class _Patch:
    """Values by top-level name, read by :func:`merge` at the named paths only."""

    def __init__(self, values: Mapping[str, Any]) -> None:
        self.__dict__.update(values)


def _expand(paths: Collection[str]) -> tuple[str, ...]:
    """Mask paths checked and ``*`` expanded to every top-level setting."""
    if ALL_SETTINGS in paths:
        if len(paths) > 1:
            raise InvalidArgumentError("update_mask", list(paths), reason=f"'{ALL_SETTINGS}' must be the only path")
        return SETTING_FIELDS
    for path in paths:
        if not is_known_path(path):
            raise InvalidArgumentError("update_mask", path, reason="is not a setting (see GetCameraInfo features)")
    return tuple(dict.fromkeys(paths))


def _top_level(paths: Collection[str]) -> tuple[str, ...]:
    """The top-level settings the paths touch, in SETTING_FIELDS order."""
    tops = {path.partition(".")[0] for path in paths}
    return tuple(name for name in SETTING_FIELDS if name in tops)


def _merged(current: CameraSettings, patch: CameraSettings, paths: Collection[str]) -> CameraSettings:
    """``current`` with ``patch``'s values at ``paths``; a part of a feature the camera lacks is refused."""
    for path in paths:
        top, _, rest = path.partition(".")
        if getattr(current, top) is None and (rest or get_path(patch, path) is not None):
            raise FeatureUnsupportedError(path)
        if not rest and get_path(patch, path) is None:
            raise InvalidSettingError(path, None, reason="needs a value")
    return merge(current, patch, paths)


def _refused(target: CameraSettings, names: Collection[str], info: CameraDescription) -> dict[str, CameraServiceError]:
    """The requested settings the camera's features or sensor exclude, with why."""
    refused: dict[str, CameraServiceError] = {}
    for name in names:
        try:
            validate(target, (name,), info.features, (info.sensor_width, info.sensor_height))
        except (InvalidSettingError, FeatureUnsupportedError) as exc:
            refused[name] = exc
    return refused


def _conflict_error(info: CameraDescription, refused: Mapping[str, CameraServiceError]) -> SettingsConflictError:
    described = "; ".join(str(exc) for exc in refused.values())
    return SettingsConflictError(
        f"the camera ({info.model} serial {info.serial_number}) cannot take the requested {described}; "
        "it keeps its own values and captures are refused until UpdateSettings sets values it can take",
        fields=tuple(refused),
    )


def _check_channel(channel: int, info: CameraDescription, *, first: int) -> None:
    count = info.settings_channels
    if count == 0 and not (first == 0 and channel == 0):
        raise InvalidArgumentError("channel", channel, reason="this camera has no settings channels")
    if not first <= channel <= count:
        raise InvalidArgumentError("channel", channel, minimum=first, maximum=count)


def _auto_active(settings: CameraSettings) -> bool:
    """Whether the camera may change a value by itself (an auto mode is CONTINUOUS or ONCE)."""
    for mode_path, _ in AUTO_SETTINGS:
        top = mode_path.partition(".")[0]
        if getattr(settings, top) is not None and get_path(settings, mode_path) is not AutoMode.OFF:
            return True
    return False


def _time_grab(frame: Future[Frame], metrics: ServiceMetrics) -> None:
    """Observe the grab stage (from asking for the frame to having it) when ``frame`` is taken."""
    started = time.perf_counter()

    def taken(done: Future[Frame]) -> None:
        if not done.cancelled() and done.exception() is None:
            metrics.capture_stage_took("grab", time.perf_counter() - started)

    frame.add_done_callback(taken)


def _close(a: float, b: float) -> bool:
    return math.isclose(a, b, rel_tol=SETTING_MATCH_RELATIVE, abs_tol=1e-9)


def _taken_with(frame: Frame, target: CameraSettings) -> bool:
    """Whether ``frame`` has ``target``'s exposure and gain (those an auto mode sets are not compared)."""
    exposure_ok = target.exposure_auto is not AutoMode.OFF or _close(frame.exposure_ms, target.exposure_ms)
    gain_ok = target.gain_auto is not AutoMode.OFF or _close(frame.gain_db, target.gain_db)
    return exposure_ok and gain_ok
