"""Recording: frames to files at the camera's rate, with every frame not written counted.

Threads and who writes what:

* **Camera thread** (:meth:`RecordingManager.on_frame`, registered by the composition root with
  ``CameraWorker.add_frame_listener``): hands the frame to the running :class:`Recorder`, whose
  :meth:`Recorder.on_frame` only appends it to a bounded queue under a lock (O(1), never blocks on I/O).
  The queue has a **budget in bytes**: frames queued plus the frame being written never exceed
  ``queue_budget_bytes``. A frame that does not fit is dropped and counted. The frame object itself is
  queued, not a copy: a driver's pooled buffer is only reused once nothing refers to it
  (:mod:`camera_grpc.device.buffers`), so holding the frame keeps its pixels; the pool allocates anew
  meanwhile.
* **Writer thread** (one per recording, :meth:`Recorder._run`): drains the queue into the format's
  :class:`~camera_grpc.core.recording_writers.FrameWriter` and the frame log, watches the free disk space,
  ends the recording, writes the metadata at each state change, and publishes progress as immutable
  :class:`RecordingInfo` snapshots (the only state other threads read).
* **Callers** (the rpc layer, off the event loop): :class:`RecordingManager` start/stop/get/list/delete/
  open_file; :meth:`RecordingManager.watch` is an async iterator on the event loop that polls snapshots.

Drops are counted by camera frame number: from the first frame the recording saw, every number the camera
produced up to the last one seen that was not written is a drop: frames refused by the full queue
(reason ``queue``), numbers the camera skipped (``camera``), and frames still queued when a failure ends the
recording (``failed``). A frame number not above the previous one starts a new run of acquisition and
counts nothing. Drops are in the progress and, as runs of numbers, in the frame log.

A recording ends COMPLETED when ``max_frames`` frames were queued and written or ``max_duration_s`` has
passed (a frame arriving after it is not part of it), STOPPED by :meth:`RecordingManager.stop` (frames queued
before the stop are written), FAILED with a reason on a full disk (free space below
``disk_full_threshold_bytes``, or ENOSPC), a camera disconnect (:meth:`RecordingManager.camera_disconnected`),
a writer error, or the service stopping (:meth:`RecordingManager.close`).
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import logging
import math
import shutil
import threading
import time
from collections.abc import AsyncIterator, Callable, Mapping
from dataclasses import asdict, dataclass, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, BinaryIO, Protocol

from camera_grpc.core.disk import DiskSpaceWatch
from camera_grpc.core.events import EventHub, EventType
from camera_grpc.core.recording_store import (
    FRAME_LOG_NAME,
    FULL_ERRNOS,
    METADATA_NAME,
    REASON_CAMERA_DISCONNECTED,
    REASON_DISK_FULL,
    REASON_SERVICE_STOPPED,
    RESOURCE_PREFIX,
    ZIP_SUFFIX,
    FrameLog,
    RecordingFile,
    RecordingNotFoundError,
    RecordingState,
    RecordingStateError,
    RecordingStore,
    check_id,
    first_frame_record,
    parse_name,
    storage_error,
)
from camera_grpc.core.recording_writers import (
    MIN_MP4_WIDTH,
    MP4_DECODED_BIT_DEPTH,
    FrameWriter,
    RecordingFormat,
    describe_geometry,
    frame_bytes,
    frame_metadata,
    make_writer,
    read_first_frame,
)
from camera_grpc.core.storage import StorageLocation
from camera_grpc.core.thumbnails import (
    DEFAULT_THUMBNAIL_WIDTH_PX,
    THUMBNAIL_CONTENT_TYPE,
    THUMBNAIL_WIDTH_MAX_PX,
    ThumbnailCache,
    ThumbnailSource,
    file_thumbnail,
    frame_thumbnail,
    thumbnail_width,
)
from camera_grpc.device.base import CameraDescription, Frame
from camera_grpc.device.settings import ImageGeometry
from camera_grpc.errors import CameraServiceError, InvalidArgumentError, StorageFullError
from camera_grpc.formats import PixelFormat

log = logging.getLogger(__name__)

#: Default byte budget of a recording's frame queue (about 50 frames of 5 MP MONO8, 1.6 s at 30 fps).
DEFAULT_QUEUE_BUDGET_BYTES = 256 * 1024 * 1024
#: Free space below which a running recording ends as FAILED ("disk full"), bytes (also the headroom a new
#: recording must leave after its estimate).
DEFAULT_DISK_FULL_THRESHOLD_BYTES = 256 * 1024 * 1024
#: Free space a recording of unknown length (no max_frames, or MP4) needs besides the threshold to start, bytes.
DEFAULT_MIN_HEADROOM_BYTES = 1024 * 1024 * 1024
#: Bytes per frame besides its pixels in a size estimate (TIFF IFD and tags, frame log line, OME plane).
PER_FRAME_OVERHEAD_BYTES = 1024
#: How often the writer thread checks the free disk space and the duration while waiting, seconds.
CHECK_INTERVAL_S = 0.2
#: The free space is also checked whenever this fraction of the threshold was written since the last check,
#: so a fast recording cannot run past the threshold into a full disk between two timed checks.
CHECK_THRESHOLD_FRACTION = 0.5
#: Shortest interval between two published progress snapshots while frames are written, seconds.
PROGRESS_INTERVAL_S = 0.1
#: Interval of :meth:`RecordingManager.watch` polls (so a few snapshots per second at most), seconds.
WATCH_INTERVAL_S = 0.25
#: Window of ``rate_fps``, seconds.
RATE_WINDOW_S = 1.0
#: Longest accepted max_duration_s (a year), seconds.
MAX_DURATION_S = 365 * 24 * 3600.0
#: Longest wait for a recording's writer thread to finish after it was told to end, seconds.
JOIN_TIMEOUT_S = 60.0
#: Folder (hidden: never listed or served) in a recording's folder where its thumbnails are cached.
THUMBNAILS_FOLDER = ".thumbnails"
#: Drop reasons in the frame log.
DROP_QUEUE = "queue"
DROP_CAMERA = "camera"
DROP_FAILED = "failed"


@dataclass(frozen=True)
class RecordingRequest:
    """What to record (``StartRecordingRequest``)."""

    recording_id: str = ""  #: empty: made from the start time
    format: RecordingFormat = RecordingFormat.OME_TIFF
    max_frames: int = 0  #: 0: no limit
    max_duration_s: float = 0.0  #: 0: no limit
    frames_per_file: int = 0  #: 0: one file
    max_width: int = 0  #: MP4: frames wider are scaled down (0: full size)

    def validated(self) -> RecordingRequest:
        """This request if valid; InvalidArgumentError naming the field, its valid range and unit otherwise."""
        if self.recording_id:
            check_id(self.recording_id)
        if not isinstance(self.max_frames, int) or self.max_frames < 0:
            raise InvalidArgumentError("max_frames", self.max_frames, reason="must be 0 (no limit) or more")
        duration = self.max_duration_s
        if not isinstance(duration, (int, float)) or not math.isfinite(duration) or not 0 <= duration <= MAX_DURATION_S:
            raise InvalidArgumentError("max_duration_s", duration, minimum=0, maximum=MAX_DURATION_S)
        if not isinstance(self.frames_per_file, int) or self.frames_per_file < 0:
            raise InvalidArgumentError("frames_per_file", self.frames_per_file, reason="must be 0 (one file) or more")
        if self.max_width and self.format is not RecordingFormat.MP4:
            raise InvalidArgumentError(
                "max_width", self.max_width, reason="applies to MP4 only (lossless formats keep the full size)"
            )
        if (
            not isinstance(self.max_width, int)
            or (self.max_width and self.max_width < MIN_MP4_WIDTH)
            or self.max_width < 0
        ):
            raise InvalidArgumentError(
                "max_width", self.max_width, reason=f"must be 0 (full size) or at least {MIN_MP4_WIDTH} (pixels)"
            )
        return self


@dataclass(frozen=True)
class RecordingInfo:
    """One recording as the API reports it (an immutable snapshot)."""

    recording_id: str
    state: RecordingState
    format: RecordingFormat
    max_frames: int
    max_duration_s: float
    frames_per_file: int
    max_width: int
    frames_written: int
    frames_dropped: int
    bytes_written: int
    rate_fps: float  #: frames written per second over the last second
    start_time: datetime
    end_time: datetime | None  #: None while RUNNING
    failure_reason: str  #: FAILED: why
    files: tuple[RecordingFile, ...]
    settings: Mapping[str, Any]  #: the camera settings it was recorded with, as passed to start()

    @property
    def name(self) -> str:
        """Resource name, ``recordings/{id}``."""
        return RESOURCE_PREFIX + self.recording_id

    @property
    def running(self) -> bool:
        return self.state is RecordingState.RUNNING

    def document(self, extra: Mapping[str, Any]) -> dict[str, Any]:
        """The metadata file's content: this snapshot plus ``extra`` (camera, geometry...)."""
        return {
            "id": self.recording_id,
            "state": self.state.value,
            "format": self.format.value,
            "max_frames": self.max_frames,
            "max_duration_s": self.max_duration_s,
            "frames_per_file": self.frames_per_file,
            "max_width": self.max_width,
            "frames_written": self.frames_written,
            "frames_dropped": self.frames_dropped,
            "bytes_written": self.bytes_written,
            "start_time": self.start_time.isoformat(),
            "end_time": self.end_time.isoformat() if self.end_time else None,
            "failure_reason": self.failure_reason,
            "settings": dict(self.settings),
            "frame_log": FRAME_LOG_NAME,
            **extra,
        }

    @classmethod
    def from_document(cls, document: Mapping[str, Any], files: tuple[RecordingFile, ...]) -> RecordingInfo:
        end = document.get("end_time")
        return cls(
            recording_id=str(document["id"]),
            state=RecordingState(document["state"]),
            format=RecordingFormat(document["format"]),
            max_frames=int(document.get("max_frames", 0)),
            max_duration_s=float(document.get("max_duration_s", 0.0)),
            frames_per_file=int(document.get("frames_per_file", 0)),
            max_width=int(document.get("max_width", 0)),
            frames_written=int(document.get("frames_written", 0)),
            frames_dropped=int(document.get("frames_dropped", 0)),
            bytes_written=int(document.get("bytes_written", 0)),
            rate_fps=0.0,
            start_time=datetime.fromisoformat(document["start_time"]),
            end_time=datetime.fromisoformat(end) if end else None,
            failure_reason=str(document.get("failure_reason", "")),
            files=files,
            settings=dict(document.get("settings") or {}),
        )


@dataclass(frozen=True)
class RecordingPage:
    """One page of :meth:`RecordingManager.list`, newest first."""

    recordings: list[RecordingInfo]
    next_page_token: str  #: empty on the last page


@dataclass(frozen=True)
class RecordingThumbnail:
    """A small JPEG of a recording's first frame (:meth:`RecordingManager.thumbnail`)."""

    data: bytes
    content_type: str
    frame_number: int  #: the camera frame number it shows


class UploadedFiles(Protocol):
    """The object store's side of recordings whose files left the disk (:mod:`camera_grpc.core.uploads`)."""

    def open(self, record: Mapping[str, Any], offset: int) -> BinaryIO:
        """The uploaded file ``record`` describes (its upload record), read from ``offset`` (blocking)."""
        ...

    def delete(self, recording_id: str, folder: Path) -> None:
        """Delete every object of the recording (blocking); raises if the store cannot do it now."""
        ...


@dataclass(frozen=True)
class FinishedRecording:
    """A recording that has ended, its files complete and its final metadata written (given to ``on_finished``)."""

    info: RecordingInfo  #: its final snapshot (state, counts, files as downloaded)
    folder: Path  #: its folder in the recordings folder
    paths: tuple[Path, ...]  #: all in its folder: data files (an OME-Zarr store is a folder), metadata, frame log

    @property
    def recording_id(self) -> str:
        return self.info.recording_id


@dataclass(frozen=True)
class _Dropped:
    """A run of dropped camera frame numbers, inclusive (queued in order with the frames)."""

    first: int
    last: int
    reason: str


class Recorder:
    """One running recording: the camera-thread hand-off, the bounded queue and the writer thread."""

    def __init__(
        self,
        info: RecordingInfo,
        *,
        store: RecordingStore,
        writer: FrameWriter,
        frame_log: FrameLog,
        extra_metadata: Mapping[str, Any],
        queue_budget_bytes: int,
        disk_full_threshold_bytes: int,
        on_end: Callable[[Recorder], None],
        disk_watch: DiskSpaceWatch | None = None,
    ) -> None:
        self.recording_id = info.recording_id
        self._disk_watch = disk_watch
        self._store = store
        self._writer = writer
        self._frame_log = frame_log
        self._extra = dict(extra_metadata)
        self._budget_bytes = queue_budget_bytes
        self._threshold_bytes = disk_full_threshold_bytes
        self._on_end = on_end
        self._max_frames = info.max_frames
        self._started_monotonic = time.monotonic()
        self._deadline = self._started_monotonic + info.max_duration_s if info.max_duration_s else math.inf
        # Guarded by _cond; written by the camera thread (on_frame) and the writer thread (taking, releasing).
        self._cond = threading.Condition(threading.Lock())
        self._queue: collections.deque[Frame | _Dropped] = collections.deque()
        self._held_bytes = 0  #: pixels queued plus the frame being written
        self._accepting = True  #: False once the recording takes no more frames
        self._last_number: int | None = None  #: camera thread: the last frame number seen
        self._queued_frames = 0  #: camera thread: frames accepted into the queue
        self._end: tuple[RecordingState, str] | None = None  #: how it is to end (first request wins)
        self._peak_held_bytes = 0
        # Writer thread only.
        self._in_flight: Frame | None = None  #: the frame being written (a drop if writing it fails)
        self._written = 0
        self._dropped = 0
        self._write_times: collections.deque[float] = collections.deque()
        self._published_at = 0.0
        #: The latest snapshot (replaced whole by the writer thread; read by anyone).
        self.info = info
        self._thread = threading.Thread(target=self._run, name=f"recording-{info.recording_id}", daemon=True)

    @property
    def peak_held_bytes(self) -> int:
        """The most frame bytes the queue ever held (queued plus being written)."""
        return self._peak_held_bytes

    def start(self) -> None:
        self._thread.start()

    # -- camera thread --------------------------------------------------------------------------------------

    def on_frame(self, frame: Frame) -> None:
        """Queue a frame, or count it dropped (camera thread; O(1), no I/O)."""
        number = frame.frame_number
        size = frame.pixels.nbytes
        with self._cond:
            if not self._accepting:
                return
            if time.monotonic() >= self._deadline:
                self._finish_locked(RecordingState.COMPLETED, "")
                return
            last, self._last_number = self._last_number, number
            if last is not None and number > last + 1:
                self._drop_locked(last + 1, number - 1, DROP_CAMERA)
            if self._held_bytes + size > self._budget_bytes:
                self._drop_locked(number, number, DROP_QUEUE)
            else:
                self._held_bytes += size
                self._peak_held_bytes = max(self._peak_held_bytes, self._held_bytes)
                self._queue.append(frame)
                self._queued_frames += 1
                if self._max_frames and self._queued_frames >= self._max_frames:
                    self._finish_locked(RecordingState.COMPLETED, "")
            self._cond.notify()

    def _drop_locked(self, first: int, last: int, reason: str) -> None:
        tail = self._queue[-1] if self._queue else None
        if isinstance(tail, _Dropped) and tail.reason == reason and tail.last + 1 == first:
            self._queue[-1] = _Dropped(tail.first, last, reason)
        else:
            self._queue.append(_Dropped(first, last, reason))

    def _finish_locked(self, state: RecordingState, reason: str) -> None:
        self._accepting = False
        if self._end is None:
            self._end = (state, reason)
        self._cond.notify()

    # -- any thread -----------------------------------------------------------------------------------------

    def end(self, state: RecordingState, reason: str = "") -> None:
        """Ask the recording to end (non-blocking; the first request decides the final state)."""
        with self._cond:
            self._finish_locked(state, reason)

    def join(self, timeout_s: float = JOIN_TIMEOUT_S) -> None:
        self._thread.join(timeout_s)

    # -- writer thread --------------------------------------------------------------------------------------

    def _run(self) -> None:
        failure: tuple[RecordingState, str] | None = None
        try:
            next_check = 0.0
            unchecked_bytes = 0
            check_every_bytes = self._threshold_bytes * CHECK_THRESHOLD_FRACTION
            while True:
                with self._cond:
                    while not self._queue and self._accepting:
                        now = time.monotonic()
                        if now >= self._deadline:
                            self._finish_locked(RecordingState.COMPLETED, "")
                            break
                        if now >= next_check:
                            break
                        self._cond.wait(min(next_check, self._deadline) - now)
                    item = self._queue.popleft() if self._queue else None
                    if item is None and not self._accepting:
                        break
                if time.monotonic() >= next_check or (check_every_bytes and unchecked_bytes > check_every_bytes):
                    next_check, unchecked_bytes = time.monotonic() + CHECK_INTERVAL_S, 0
                    free = shutil.disk_usage(self._store.directory).free
                    if self._disk_watch is not None:
                        self._disk_watch.observe(self._store.directory, free)
                    if free < self._threshold_bytes:
                        failure = (RecordingState.FAILED, REASON_DISK_FULL)
                        if item is not None:
                            with self._cond:
                                self._queue.appendleft(item)  # counted with what is left queued
                        break
                if isinstance(item, Frame):
                    self._in_flight = item
                    self._writer.write(item)
                    self._frame_log.append(frame_metadata(item))
                    self._in_flight = None
                    self._release(item)
                    self._written += 1
                    unchecked_bytes += item.pixels.nbytes
                    self._write_times.append(time.monotonic())
                    self._publish_progress()
                elif isinstance(item, _Dropped):
                    self._log_drop(item)
                    self._publish_progress()
        except Exception as exc:
            if self._disk_full(exc):
                log.warning("recording %s: the disk is full (%s)", self.recording_id, exc)
                failure = (RecordingState.FAILED, REASON_DISK_FULL)
            else:
                log.exception("recording %s: writing failed", self.recording_id)
                failure = (RecordingState.FAILED, f"write error: {getattr(exc, 'strerror', None) or exc}")
        self._finish(failure)

    def _disk_full(self, exc: Exception) -> bool:
        """Whether a write failed for want of space: ENOSPC (or quota), or a short write (libraries report those
        in their own words, e.g. tifffile's "... requested and ... written") with less than a frame left."""
        if isinstance(exc, OSError) and exc.errno in FULL_ERRNOS:
            return True
        frame = self._in_flight
        try:
            free = shutil.disk_usage(self._store.directory).free
        except OSError:
            return False
        return frame is not None and free < frame.pixels.nbytes + self._threshold_bytes

    def _release(self, frame: Frame) -> None:
        with self._cond:
            self._held_bytes -= frame.pixels.nbytes

    def _log_drop(self, dropped: _Dropped) -> None:
        self._dropped += dropped.last - dropped.first + 1
        with contextlib.suppress(OSError):  # counted in the progress and the metadata all the same
            self._frame_log.append(
                {"dropped_from": dropped.first, "dropped_to": dropped.last, "reason": dropped.reason}
            )

    def _finish(self, failure: tuple[RecordingState, str] | None) -> None:
        """End the recording: stop taking frames, count what is left queued, close the files, persist."""
        with self._cond:
            if failure is not None:
                self._end = failure  # the failure is what happened, whatever was asked before
            self._accepting = False
            left = [*([self._in_flight] if self._in_flight is not None else []), *self._queue]
            self._in_flight = None
            self._queue.clear()
            self._held_bytes = 0
            state, reason = self._end or (RecordingState.FAILED, "ended without a reason")
        for run in _runs(left):
            self._log_drop(run)
        try:
            if failure is None:
                self._writer.close()
            else:
                self._writer.abort()
        except Exception as exc:
            log.exception("recording %s: could not finish its files", self.recording_id)
            if state is not RecordingState.FAILED:
                state, reason = RecordingState.FAILED, f"write error: {exc}"
            self._writer.abort()
        try:
            self._frame_log.close()
        except OSError as exc:
            log.warning("recording %s: could not close the frame log: %s", self.recording_id, exc)
        final = replace(
            self._snapshot(),
            state=state,
            failure_reason=reason,
            end_time=datetime.now(UTC),
            rate_fps=0.0,
        )
        try:
            self._store.write_metadata(self.recording_id, final.document(self._extra))
        except CameraServiceError as exc:
            log.error("recording %s: could not write its final metadata: %s", self.recording_id, exc)
        files = self._store.files(self.recording_id, final.format)
        self.info = replace(
            final, files=tuple(files), bytes_written=sum(f.size_bytes for f in files if _is_data(f, final.format))
        )
        log.info(
            "recording %s ended %s%s: %d frame(s) written, %d dropped",
            self.recording_id,
            state.value,
            f" ({reason})" if reason else "",
            final.frames_written,
            final.frames_dropped,
        )
        self._on_end(self)

    def _publish_progress(self) -> None:
        now = time.monotonic()
        if now - self._published_at >= PROGRESS_INTERVAL_S:
            self._published_at = now
            self.info = self._snapshot()

    def _snapshot(self) -> RecordingInfo:
        now = time.monotonic()
        while self._write_times and self._write_times[0] < now - RATE_WINDOW_S:
            self._write_times.popleft()
        files = tuple(
            RecordingFile(
                file.path.name + (ZIP_SUFFIX if file.path.name.endswith(RecordingFormat.OME_ZARR.suffix) else ""),
                file.size_bytes,
                self.info.format.content_type,
            )
            for file in self._writer.files
        )
        return replace(
            self.info,
            frames_written=self._written,
            frames_dropped=self._dropped,
            bytes_written=self._writer.bytes_written,
            rate_fps=float(len(self._write_times)) / RATE_WINDOW_S,
            files=files,
        )


def _runs(items: list[Frame | _Dropped]) -> list[_Dropped]:
    """Frames left unwritten when a recording fails, as runs of consecutive numbers (a full disk has little room
    for log lines), with the drops queued among them."""
    runs: list[_Dropped] = []
    for item in items:
        run = item if isinstance(item, _Dropped) else _Dropped(item.frame_number, item.frame_number, DROP_FAILED)
        last = runs[-1] if runs else None
        if last is not None and last.reason == run.reason and last.last + 1 == run.first:
            runs[-1] = _Dropped(last.first, run.last, run.reason)
        else:
            runs.append(run)
    return runs


def _is_data(file: RecordingFile, recording_format: RecordingFormat) -> bool:
    return file.name not in (METADATA_NAME, FRAME_LOG_NAME)


class RecordingManager:
    """All recordings: at most one running. Blocking methods are called off the event loop."""

    def __init__(
        self,
        directory: Path,
        *,
        queue_budget_bytes: int = DEFAULT_QUEUE_BUDGET_BYTES,
        disk_full_threshold_bytes: int = DEFAULT_DISK_FULL_THRESHOLD_BYTES,
        min_headroom_bytes: int = DEFAULT_MIN_HEADROOM_BYTES,
        writer_factory: Callable[..., FrameWriter] = make_writer,
        on_state_change: Callable[[RecordingInfo], None] | None = None,
        events: EventHub | None = None,
        disk_watch: DiskSpaceWatch | None = None,
        on_finished: Callable[[FinishedRecording], None] | None = None,
        locate: Callable[[Path], StorageLocation] | None = None,
    ) -> None:
        """``on_state_change``: called with each start's and each end's snapshot (the caller's thread, the
        recording's writer thread). ``events``: RECORDING_STARTED, RECORDING_ENDED and RECORDING_FAILED go there.
        ``disk_watch``: told the free space each time it is measured (DISK_SPACE_LOW).

        ``on_finished``: called once per recording, on the recording's own writer thread, after its files are
        complete and its final metadata is written (also for a failed one; not for one a killed process left,
        which :meth:`recover` marks failed), with its id, folder and files. It must not block for long (hand the
        work to another thread): a StopRecording waits for the writer thread. Its errors are logged.

        ``locate``: where a recording's file is kept (its path in the recording's folder -> StorageLocation);
        called off the event loop when recordings are reported. Default: every file LOCAL."""
        self.store = RecordingStore(directory)
        self.queue_budget_bytes = queue_budget_bytes
        self.disk_full_threshold_bytes = disk_full_threshold_bytes
        self.min_headroom_bytes = min_headroom_bytes
        self._writer_factory = writer_factory
        self._on_state_change = on_state_change
        self._events = events
        self._disk_watch = disk_watch
        self._on_finished = on_finished
        self._locate = locate
        #: Set once by :meth:`attach_uploaded_files` at start-up, before any request (composition root's thread).
        self._uploaded: UploadedFiles | None = None
        self._lock = threading.Lock()  # guards _active and starting (callers' threads, the writer thread's end)
        #: The running recording's recorder (read by the camera thread without the lock: one reference).
        self._active: Recorder | None = None
        self._last: Recorder | None = None  #: the latest recorder that ended (its final snapshot)
        self._closed = False

    # -- start-up and shutdown ------------------------------------------------------------------------------

    def recover(self) -> list[str]:
        """At start-up (blocking): recordings left RUNNING by a killed process become FAILED ("service stopped")."""
        return self.store.recover()

    def close(self) -> None:
        """At shutdown (blocking): a running recording ends FAILED ("service stopped"), its files complete."""
        with self._lock:
            self._closed = True
            active = self._active
        if active is not None:
            active.end(RecordingState.FAILED, REASON_SERVICE_STOPPED)
            active.join()
        self.store.close()

    def attach_uploaded_files(self, uploaded: UploadedFiles) -> None:
        """With an object store (at start-up, before serving): files with an upload record that left the disk are
        read from the store, and a deleted recording's objects are deleted."""
        self._uploaded = uploaded

    def release_uploaded(self, name: str) -> list[str]:
        """Once every file of an ended recording has its upload record: make its thumbnails (the default width,
        and the widest, from which other widths are made afterwards), then remove its local data files; returns
        the names removed ([] if some file is not uploaded yet, or it runs). Blocking; idempotent."""
        info = self.get(name)
        if info.running:
            return []
        records = self.store.upload_records(info.recording_id)
        if not info.files or any(file.name not in records for file in info.files):
            return []
        if self.store.is_local_data(info.recording_id, info.format):
            for width in (DEFAULT_THUMBNAIL_WIDTH_PX, THUMBNAIL_WIDTH_MAX_PX):
                try:
                    self.thumbnail(name, width)
                except CameraServiceError as exc:  # no frame: nothing to show, before or after
                    log.info("recording %s: no thumbnail kept (%s)", info.name, exc)
                    break
        removed = self.store.release_uploaded(info.recording_id, info.format)
        if removed:
            log.info("recording %s: %s uploaded, removed from the disk", info.name, ", ".join(removed))
        return removed

    # -- hooks ----------------------------------------------------------------------------------------------

    def on_frame(self, frame: Frame) -> None:
        """Frame listener (camera thread): hands the frame to the running recording, if any. O(1)."""
        active = self._active
        if active is not None:
            active.on_frame(frame)

    def camera_disconnected(self) -> None:
        """The camera went away (any thread, non-blocking): a running recording ends FAILED, its frames kept."""
        active = self._active
        if active is not None:
            active.end(RecordingState.FAILED, REASON_CAMERA_DISCONNECTED)

    @property
    def is_recording(self) -> bool:
        """Whether a recording is running (the controller refuses geometry changes then)."""
        return self._active is not None

    @property
    def active_recording(self) -> RecordingInfo | None:
        active = self._active
        return active.info if active is not None else None

    # -- API ------------------------------------------------------------------------------------------------

    def start(
        self,
        request: RecordingRequest,
        *,
        camera: CameraDescription | None,
        geometry: ImageGeometry,
        settings: Mapping[str, Any],
        frame_rate_fps: float = 0.0,
    ) -> RecordingInfo:
        """Start a recording of the frames to come with the camera's current ``geometry`` (blocking).

        ``settings``: the camera settings as JSON values, kept in the metadata. ``frame_rate_fps``: the camera's
        rate, for the size estimate of a recording limited by duration (0: unknown). Raises InvalidArgumentError,
        RecordingStateError (one is running, or the service is stopping), RecordingExistsError, StorageFullError
        (the estimate does not fit), StorageUnavailableError.
        """
        request = request.validated()
        started = datetime.now(UTC)
        recording_id = request.recording_id or "rec-" + started.strftime("%Y%m%d-%H%M%S-%f")
        pixel_format = geometry.pixel_format.delivered
        one_frame = frame_bytes(geometry.width, geometry.height, pixel_format)
        if one_frame > self.queue_budget_bytes:
            raise StorageFullError(
                f"a frame of {one_frame} bytes does not fit the recording queue's budget of "
                f"{self.queue_budget_bytes} bytes (queue_budget_bytes)"
            )
        frames = _expected_frames(request, frame_rate_fps)
        per_file = min(frames, request.frames_per_file or frames) if frames else request.frames_per_file
        file_bytes = per_file * (one_frame + PER_FRAME_OVERHEAD_BYTES) if per_file else None
        with self._lock:
            if self._closed:
                raise RecordingStateError("the service is stopping; no recording can start")
            if self._active is not None:
                raise RecordingStateError(
                    f"{self._active.info.name} is running; stop it before starting another recording"
                )
            self.store.ensure_writable()
            self._check_space(request, frames, one_frame)
            info = RecordingInfo(
                recording_id=recording_id,
                state=RecordingState.RUNNING,
                format=request.format,
                max_frames=request.max_frames,
                max_duration_s=float(request.max_duration_s),
                frames_per_file=request.frames_per_file,
                max_width=request.max_width,
                frames_written=0,
                frames_dropped=0,
                bytes_written=0,
                rate_fps=0.0,
                start_time=started,
                end_time=None,
                failure_reason="",
                files=(),
                settings=dict(settings),
            )
            extra = {
                "camera": _camera_json(camera),
                "geometry": dict(describe_geometry(geometry.width, geometry.height, pixel_format, geometry.bit_depth)),
                "queue_budget_bytes": self.queue_budget_bytes,
            }
            folder = self.store.create(recording_id, info.document(extra))
            try:
                frame_log = self.store.open_frame_log(recording_id)
                writer = self._writer_factory(
                    request.format,
                    folder,
                    recording_id,
                    frames_per_file=request.frames_per_file,
                    estimated_file_bytes=file_bytes,
                    max_width=request.max_width,
                )
            except BaseException:
                shutil.rmtree(folder, ignore_errors=True)
                raise
            recorder = Recorder(
                info,
                store=self.store,
                writer=writer,
                frame_log=frame_log,
                extra_metadata=extra,
                queue_budget_bytes=self.queue_budget_bytes,
                disk_full_threshold_bytes=self.disk_full_threshold_bytes,
                on_end=self._ended,
                disk_watch=self._disk_watch,
            )
            self._active = recorder
            # Before its writer thread runs, so STARTED always comes before the recording's end.
            log.info("recording %s started (%s)", recording_id, request.format.value)
            self._notify(info)
            recorder.start()
        return self._located(info)

    def stop(self, name: str) -> RecordingInfo:
        """End a running recording as STOPPED and wait until its files are complete (blocking). A recording that
        has ended already is returned as it is."""
        recording_id = _parse(name)
        active = self._active
        if active is not None and active.recording_id == recording_id:
            active.end(RecordingState.STOPPED)
            active.join()
            return self._located(active.info)
        return self.get(name)

    def get(self, name: str) -> RecordingInfo:
        """One recording (blocking for an ended one: reads its metadata); RecordingNotFoundError."""
        recording_id = _parse(name)
        active = self._active
        if active is not None and active.recording_id == recording_id:
            return self._located(active.info)
        document = self.store.read_metadata(recording_id)
        return self._located(self._from_document(document))

    def list(self, page_size: int = 0, page_token: str = "") -> RecordingPage:
        """One page of recordings, newest first (blocking)."""
        documents, token = self.store.list_page(page_size, page_token)
        active = self._active
        recordings = [
            self._located(
                active.info
                if active is not None and document.get("id") == active.recording_id
                else self._from_document(document)
            )
            for document in documents
        ]
        return RecordingPage(recordings, token)

    def delete(self, name: str) -> None:
        """Delete an ended recording and its files (blocking); RecordingStateError while it runs. With an object
        store its objects are deleted first (the store's error if it cannot: the recording is then kept)."""
        recording_id = _parse(name)
        with self._lock:
            active = self._active
            if active is not None and active.recording_id == recording_id:
                raise RecordingStateError(f"{active.info.name} is running; stop it before deleting it")
            if self._uploaded is not None:  # its objects first: a failure leaves the recording whole
                self.store.read_metadata(recording_id)  # RecordingNotFoundError
                self._uploaded.delete(recording_id, self.store.path_of(recording_id))
            self.store.delete(recording_id)

    def open_file(self, name: str, file: str, offset: int = 0) -> tuple[BinaryIO, int]:
        """A recording's file opened at ``offset``, and its whole size (blocking). RecordingNotFoundError for a
        name that is not one of its files; InvalidArgumentError for an offset beyond the end."""
        recording_id = _parse(name)
        info = self.get(name)
        try:
            handle, size = self.store.open_file(recording_id, info.format, file, finished=not info.running)
        except RecordingNotFoundError:
            uploaded = self._uploaded
            record = self.store.upload_record(recording_id, file) if file in {f.name for f in info.files} else None
            if uploaded is None or record is None:
                raise
            size = int(record["size_bytes"])  # it left the disk: read from the object store
            if offset < 0 or offset > size:
                raise InvalidArgumentError("offset", offset, minimum=0, maximum=size) from None
            return uploaded.open(record, offset), size
        if offset < 0 or offset > size:
            handle.close()
            raise InvalidArgumentError("offset", offset, minimum=0, maximum=size)
        handle.seek(offset)
        return handle, size

    def thumbnail(self, name: str, max_width: int = 0) -> RecordingThumbnail:
        """A JPEG at most ``max_width`` pixels wide (0: the default) of the recording's first frame, read back from
        its first data file with the format's reader, made once and cached in the recording's folder (blocking).
        InvalidArgumentError for a width out of range; RecordingNotFoundError; RecordingStateError while no frame
        is written (readable) yet."""
        width = thumbnail_width(max_width)
        info = self.get(name)
        folder = self.store.path_of(info.recording_id)
        first = first_frame_record(folder / FRAME_LOG_NAME)
        if first is None:
            raise RecordingStateError(f"{info.name} has no frame written yet; try again once it has one")
        frame_number = int(first["frame_number"])
        source = ThumbnailSource(f"{info.recording_id}/first-frame", f"{info.start_time.isoformat()}/{frame_number}")
        cache = ThumbnailCache(folder / THUMBNAILS_FOLDER)
        data = cache.get(source, width, lambda: self._first_frame_thumbnail(info, width, source))
        return RecordingThumbnail(data, THUMBNAIL_CONTENT_TYPE, frame_number)

    def _first_frame_thumbnail(self, info: RecordingInfo, width: int, source: ThumbnailSource) -> bytes:
        folder = self.store.path_of(info.recording_id)
        suffix = info.format.suffix
        data_files = sorted(path for path in folder.iterdir() if path.name.endswith(suffix) and path.name[0] != ".")
        # Once its files left the disk (uploaded), the widest thumbnail kept before is the source.
        widest = ThumbnailCache(folder / THUMBNAILS_FOLDER).thumbnail_path(source, THUMBNAIL_WIDTH_MAX_PX)
        if not data_files:
            if widest.is_file():
                return file_thumbnail(widest.read_bytes(), width)
            raise RecordingStateError(f"{info.name} has no data file written yet")
        try:
            pixels = read_first_frame(data_files[0], info.format)
        except Exception as exc:
            if not info.running and widest.is_file():  # removed while read: it has just left the disk
                return file_thumbnail(widest.read_bytes(), width)
            if not info.running:
                raise RecordingStateError(f"{info.name}: its first frame cannot be read ({exc})") from None
            pixels = None  # e.g. an MP4 still being written before its first fragment
        if pixels is None:
            raise RecordingStateError(f"{info.name} has no frame readable yet; try again shortly")
        if info.format is RecordingFormat.MP4:
            return frame_thumbnail(pixels, PixelFormat.RGB24, MP4_DECODED_BIT_DEPTH, width)
        geometry = self.store.read_metadata(info.recording_id)["geometry"]
        pixel_format = PixelFormat(geometry["pixel_format"])
        bit_depth = int(geometry["bit_depth"])
        return frame_thumbnail(pixels, pixel_format, bit_depth, width)

    async def watch(self, name: str, interval_s: float = WATCH_INTERVAL_S) -> AsyncIterator[RecordingInfo]:
        """The recording now, then at most every ``interval_s`` when it changed (latest wins), until it ends (the
        final state is the last item)."""
        recording_id = _parse(name)
        last: RecordingInfo | None = None
        while True:
            active = self._active
            if active is not None and active.recording_id == recording_id:
                info = active.info if self._locate is None else await asyncio.to_thread(self._located, active.info)
            else:
                info = await asyncio.to_thread(self.get, name)
            if info != last:
                yield info
                last = info
            if not info.running:
                return
            await asyncio.sleep(interval_s)

    # -- internals ------------------------------------------------------------------------------------------

    def _ended(self, recorder: Recorder) -> None:
        """A recorder's writer thread has finished: its files are complete, its final metadata written (writer
        thread)."""
        with self._lock:
            if self._active is recorder:
                self._active = None
            self._last = recorder
        info = recorder.info
        self._notify(info)
        if self._on_finished is not None:
            folder = self.store.path_of(info.recording_id)
            try:
                paths = tuple(sorted(path for path in folder.iterdir() if not path.name.startswith(".")))
                self._on_finished(FinishedRecording(info, folder, paths))
            except Exception:
                log.exception("recording %s: the on_finished hook failed", info.recording_id)

    def _notify(self, info: RecordingInfo) -> None:
        """A recording started or ended: the state listener and the event (caller's or writer thread)."""
        if self._on_state_change is not None:
            try:
                self._on_state_change(info)
            except Exception:
                log.exception("recording state listener failed")
        if self._events is not None:
            type, message = _event_of(info)
            self._events.publish_threadsafe(type, message, recording=info.name, count=info.frames_written)

    def _located(self, info: RecordingInfo) -> RecordingInfo:
        """``info`` with each file's storage location (blocking: ``locate`` may look at the spool)."""
        if self._locate is None:
            return info
        folder = self.store.path_of(info.recording_id)
        try:
            files = tuple(replace(file, location=self._locate(folder / file.name)) for file in info.files)
        except Exception:
            log.exception("recording %s: could not locate its files", info.recording_id)
            return info
        return replace(info, files=files)

    def _from_document(self, document: Mapping[str, Any]) -> RecordingInfo:
        recording_id = str(document.get("id", ""))
        try:
            recording_format = RecordingFormat(document.get("format"))
            files = tuple(self.store.files(recording_id, recording_format))
            return RecordingInfo.from_document(document, files)
        except (KeyError, ValueError, TypeError) as exc:
            raise RecordingNotFoundError(
                f"recording {RESOURCE_PREFIX}{recording_id} has unreadable metadata ({exc})"
            ) from None

    def _check_space(self, request: RecordingRequest, frames: int, one_frame: int) -> None:
        """StorageFullError unless the recording's estimated size fits with the threshold left over."""
        try:
            free = shutil.disk_usage(self.store.directory).free
        except OSError as exc:
            raise storage_error(exc, self.store.directory) from None
        if self._disk_watch is not None:
            self._disk_watch.observe(self.store.directory, free)
        if request.format.lossless and frames:
            needed = frames * (one_frame + PER_FRAME_OVERHEAD_BYTES)
            what = f"{frames} frames of {one_frame} bytes need about {needed} bytes"
        else:
            needed = self.min_headroom_bytes
            what = f"a recording of unknown size needs at least {needed} bytes"
        if free < needed + self.disk_full_threshold_bytes:
            raise StorageFullError(
                f"not enough disk space for the recording in {self.store.directory}: {what} plus "
                f"{self.disk_full_threshold_bytes} bytes kept free, and {free} bytes are free"
            )


def _event_of(info: RecordingInfo) -> tuple[EventType, str]:
    """The event of a recording's start or end, and its message (a failure's is its reason)."""
    match info.state:
        case RecordingState.RUNNING:
            return EventType.RECORDING_STARTED, f"recording {info.name} started ({info.format.value})"
        case RecordingState.FAILED:
            return EventType.RECORDING_FAILED, info.failure_reason
    return (
        EventType.RECORDING_ENDED,
        f"recording {info.name} {info.state.value}: {info.frames_written} frame(s) written, "
        f"{info.frames_dropped} dropped",
    )


def _expected_frames(request: RecordingRequest, frame_rate_fps: float) -> int:
    """Frames the recording will have at most (0: unknown)."""
    by_duration = (
        math.ceil(request.max_duration_s * frame_rate_fps) if request.max_duration_s and frame_rate_fps > 0 else 0
    )
    limits = [limit for limit in (request.max_frames, by_duration) if limit]
    return min(limits) if limits else 0


def _parse(name: str) -> str:
    return parse_name(name)


def _camera_json(camera: CameraDescription | None) -> dict[str, Any] | None:
    if camera is None:
        return None
    fields = asdict(camera)
    fields.pop("features", None)
    fields["pixel_formats"] = [fmt.value for fmt in camera.pixel_formats]
    return fields
