"""The upload spool and the uploader: files wait on the local disk until the object store has them.

With ``STORAGE_BACKEND=s3`` every capture (its image and sidecar) and every finished recording's file is
written locally first, exactly as without a store, then *queued*. A recording's file gets a small job file
in ``SPOOL_PATH/.queue/`` (written atomically before :meth:`Uploader.enqueue` returns) naming the local file
and its object key; a capture needs none (its sidecar names its keys, and the start-up scan of the spool's
captures folder queues every capture not uploaded yet). One thread, ``uploader``, takes the jobs oldest
first and uploads each job's files (:class:`~camera_grpc.core.object_store.ObjectStore`: multipart when
large, confirmed by checksum). Only
once the store confirmed every file does the job's *finisher* run (a capture's image leaves the spool; a
recording file gets its upload record in the recording's folder, and once all its files have one the
recording's data files leave the disk, :meth:`~camera_grpc.core.recording.RecordingManager.release_uploaded`)
and the job file go; then ``OBJECT_UPLOADED`` is announced. A recording whose files left the disk is read from
the store (:class:`RecordingUploads`), and deleting it deletes its objects. A failure
(store down, refused, checksum mismatch) keeps the job and retries it after an exponential backoff with full
jitter (:class:`RetryPolicy`); a job whose local file is gone is dropped with an error in the log (there is
nothing left to upload).

After a restart (``kill -9`` included) the queue folder and the captures folder are read again and the
uploads resume (a recording all of whose files are recorded uploaded but still on the disk, a crash before the
removal, is removed then; a job whose file is recorded uploaded is dropped); before a
large file is uploaded again, multipart uploads of its key that the killed run left incomplete are aborted
(they were never visible as objects).

While the store is unreachable the spool grows. :meth:`Uploader.check_room` refuses new captures with
:class:`SpoolFullError` (RESOURCE_EXHAUSTED) once the bytes waiting reach ``SPOOL_BUDGET_BYTES``; nothing
already captured is dropped.

Keys (:class:`ObjectKeys`): ``{S3_PREFIX}/{camera serial}/captures/{file}`` and
``{S3_PREFIX}/{camera serial}/recordings/{id}/{file}``, so many services share one bucket.

Threads: the queue (``_pending``, ``_pending_bytes``) is written by enqueuing threads (the encoder pool, a
recording's writer thread, start-up) and the uploader thread, always under ``_lock``; the store's health
(:class:`UploadStatus`'s ``reachable``, ``last_error``, counts) is written by the uploader thread only, as
an immutable snapshot replaced whole.
"""

from __future__ import annotations

import contextlib
import itertools
import json
import logging
import os
import random
import threading
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, BinaryIO

from camera_grpc.core.atomic import replace_atomically
from camera_grpc.core.events import EventHub, EventType
from camera_grpc.core.object_store import ObjectStore, ObjectStoreError, StoredObject
from camera_grpc.core.recording import FinishedRecording, RecordingInfo, RecordingManager
from camera_grpc.core.recording_store import (
    METADATA_NAME,
    RESOURCE_PREFIX,
    UPLOAD_RECORD_SUFFIX,
    UPLOADED_FOLDER,
    RecordingNotFoundError,
    read_upload_record,
)
from camera_grpc.core.storage import CaptureStore, SpooledCapture, StorageLocation, StorageState
from camera_grpc.device.base import CameraDescription
from camera_grpc.errors import CameraServiceError, StorageFullError

log = logging.getLogger(__name__)

#: The folder of job files inside SPOOL_PATH (hidden: never a capture).
QUEUE_FOLDER = ".queue"
#: The folder of captures inside SPOOL_PATH.
CAPTURES_FOLDER = "captures"
JOB_SUFFIX = ".json"
#: Job kinds: a capture (its sidecar, then its image), one file of a recording.
CAPTURE = "capture"
RECORDING_FILE = "recording-file"
#: The key part standing for the serial of a camera that did not say it.
UNKNOWN_SERIAL = "unknown"
#: Content type of capture sidecars.
SIDECAR_CONTENT_TYPE = "application/json"
#: Backoff of failed uploads: the first delay and the longest, seconds (full jitter: a uniform draw up to it).
RETRY_INITIAL_DELAY_S = 0.5
RETRY_MAX_DELAY_S = 5.0
#: Seconds a stopping service waits for the upload in flight before leaving it to the next start (it is
#: resumed from the start: an incomplete multipart upload is never visible, and is aborted then).
CLOSE_TIMEOUT_S = 5.0
#: Names of jobs: enqueue time (ns) and a per-process counter keep them in order and unique.
_JOB_NAME_DIGITS = 20


class SpoolFullError(StorageFullError):
    """The upload spool holds SPOOL_BUDGET_BYTES or more (the store has not kept up): captures are refused."""

    error_reason = "SPOOL_FULL"


class NotUploadedError(CameraServiceError):
    """The file is not in the object store (yet): it waits in the spool, or there is no object store."""


class ObjectStoreUnavailableError(CameraServiceError):
    """The file is in the object store, which cannot be read now (unreachable, refused)."""


@dataclass(frozen=True)
class RetryPolicy:
    """Exponential backoff with full jitter: attempt n waits a uniform draw from 0 to min(max, initial * 2^n)."""

    initial_delay_s: float = RETRY_INITIAL_DELAY_S
    max_delay_s: float = RETRY_MAX_DELAY_S

    def delay_s(self, attempt: int, rng: random.Random) -> float:
        ceiling = min(self.max_delay_s, self.initial_delay_s * 2 ** min(attempt, 32))
        return rng.uniform(0, ceiling)


@dataclass(frozen=True)
class ObjectKeys:
    """Object keys of one service's files: ``{prefix}/{serial}/...``."""

    prefix: str

    def root(self) -> str:
        """The prefix of every camera's objects ("" or ends with ``/``)."""
        stripped = self.prefix.strip("/")
        return f"{stripped}/" if stripped else ""

    def camera(self, serial: str) -> str:
        """The key prefix of one camera's objects (ends with ``/``)."""
        return f"{self.root()}{serial or UNKNOWN_SERIAL}/"

    def capture(self, serial: str, filename: str) -> str:
        return f"{self.camera(serial)}captures/{filename}"

    def recording_file(self, serial: str, recording_id: str, filename: str) -> str:
        return f"{self.camera(serial)}recordings/{recording_id}/{filename}"


@dataclass(frozen=True)
class UploadFile:
    """One local file of a job and its object key."""

    path: Path
    key: str
    content_type: str


@dataclass(frozen=True)
class UploadJob:
    """Files to upload together (a capture: sidecar then image; a recording's file), as queued."""

    name: str  #: the job file's name in the queue folder
    kind: str  #: CAPTURE or RECORDING_FILE
    files: tuple[UploadFile, ...]
    filename: str  #: the capture's file name, or the recording file's name
    recording: str = ""  #: RECORDING_FILE: ``recordings/{id}``
    size_bytes: int = 0  #: the files' bytes (what the job adds to the spool)

    @property
    def key(self) -> str:
        """The key of the job's main file (a capture's image, the recording file)."""
        return self.files[-1].key

    def to_json(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "files": [{"path": str(f.path), "key": f.key, "content_type": f.content_type} for f in self.files],
            "filename": self.filename,
            "recording": self.recording,
            "size_bytes": self.size_bytes,
        }

    @classmethod
    def from_json(cls, name: str, document: Mapping[str, Any]) -> UploadJob:
        return cls(
            name=name,
            kind=str(document["kind"]),
            files=tuple(
                UploadFile(Path(item["path"]), str(item["key"]), str(item["content_type"]))
                for item in document["files"]
            ),
            filename=str(document.get("filename", "")),
            recording=str(document.get("recording", "")),
            size_bytes=int(document.get("size_bytes", 0)),
        )


@dataclass(frozen=True)
class UploadedJob:
    """A job whose files the store confirmed (given to finishers and ``on_uploaded``)."""

    job: UploadJob
    bucket: str
    objects: tuple[StoredObject, ...]
    uploaded_at: datetime


@dataclass(frozen=True)
class UploadStatus:
    """The uploader's state (an immutable snapshot)."""

    reachable: bool  #: the last request to the store succeeded
    last_error: str  #: the last error talking to the store ("" after a success)
    spool_bytes: int  #: bytes of the files waiting
    spool_budget_bytes: int
    pending_uploads: int  #: jobs waiting
    uploaded_files: int  #: jobs uploaded since start
    last_upload_time: datetime | None


@dataclass(frozen=True)
class _Health:
    """What the uploader thread learnt of the store (written by that thread only, replaced whole)."""

    reachable: bool = False
    last_error: str = "not contacted yet"
    uploaded_files: int = 0
    last_upload_time: datetime | None = None


Finisher = Callable[[UploadedJob], None]


class Uploader:
    """The spool's queue and its one uploader thread."""

    def __init__(
        self,
        store: ObjectStore,
        spool_path: Path,
        *,
        budget_bytes: int,
        finishers: Mapping[str, Finisher] | None = None,
        on_uploaded: Callable[[UploadedJob], None] | None = None,
        retry: RetryPolicy = RetryPolicy(),
        rng: random.Random | None = None,
    ) -> None:
        """``finishers``: by job kind, what to do once a job's files are confirmed (on the uploader thread,
        before its job file goes; it must be idempotent: a crash may run it again). ``on_uploaded``: told of
        each uploaded job after that (uploader thread)."""
        self.store = store
        self.spool_path = spool_path.expanduser().resolve()
        self.queue_path = self.spool_path / QUEUE_FOLDER
        self.budget_bytes = budget_bytes
        self._finishers: dict[str, Finisher] = dict(finishers or {})
        self._on_uploaded = on_uploaded
        self._retry = retry
        self._rng = rng or random.Random()
        self._lock = threading.Lock()
        self._pending: dict[str, UploadJob] = {}  # by job name; under _lock
        self._pending_bytes = 0  # under _lock
        self._sequence = itertools.count()
        self._health = _Health()  # uploader thread only
        self._health_listeners: list[Callable[[bool], None]] = []
        self._wake = threading.Event()
        self._stopping = threading.Event()
        self._thread: threading.Thread | None = None

    def add_health_listener(self, listener: Callable[[bool], None]) -> None:
        """Told whether the store is reachable (on the uploader thread) each time that changes."""
        self._health_listeners.append(listener)

    def add_finisher(self, kind: str, finisher: Finisher) -> None:
        """What to do after a job of ``kind`` is uploaded (before :meth:`start`)."""
        self._finishers[kind] = finisher

    # -- any thread ---------------------------------------------------------------------------------------------

    def load(self) -> list[UploadJob]:
        """Read the queue folder (a previous run's jobs), creating it if needed; returns the jobs found."""
        self.queue_path.mkdir(parents=True, exist_ok=True)
        found = []
        for path in sorted(self.queue_path.glob(f"*{JOB_SUFFIX}")):
            try:
                job = UploadJob.from_json(path.name, json.loads(path.read_bytes()))
            except (OSError, ValueError, KeyError, TypeError) as exc:
                log.error("upload spool: ignoring unreadable job %s (%s)", path, exc)
                continue
            found.append(job)
        with self._lock:
            for job in found:
                if job.name not in self._pending:
                    self._pending[job.name] = job
                    self._pending_bytes += job.size_bytes
        if found:
            log.info("upload spool: %d upload(s) left by the previous run resume", len(found))
        return found

    def start(self) -> None:
        """Read the queue and start the uploader thread."""
        self.load()
        self._thread = threading.Thread(target=self._run, name="uploader", daemon=True)
        self._thread.start()

    def close(self, timeout_s: float = CLOSE_TIMEOUT_S) -> None:
        """Stop the uploader thread (an upload in flight gets ``timeout_s`` to finish; else it resumes at the
        next start)."""
        self._stopping.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout_s)
            self._thread = None

    def enqueue(
        self, kind: str, files: Iterable[UploadFile], *, filename: str, recording: str = "", persist: bool = True
    ) -> UploadJob:
        """Queue ``files`` for upload. ``persist``: durably (the job file is on disk when this returns; OSError
        if it cannot be written); False for files a start-up scan finds again by itself (captures in the
        spool), which spares the capture path the job file's fsyncs."""
        files = tuple(files)
        size = sum(_size_of(item.path) for item in files)
        name = f"{time.time_ns():0{_JOB_NAME_DIGITS}d}-{next(self._sequence):06d}-{os.getpid()}{JOB_SUFFIX}"
        job = UploadJob(name, kind, files, filename, recording, size)
        if persist:
            self.queue_path.mkdir(parents=True, exist_ok=True)
            replace_atomically(self.queue_path / name, json.dumps(job.to_json()).encode())
        with self._lock:
            self._pending[name] = job
            self._pending_bytes += size
        self._wake.set()
        return job

    def discard(self, which: Callable[[UploadJob], bool]) -> int:
        """Forget the waiting jobs ``which`` selects, job files included (any thread; a job being uploaded now
        is finished all the same); returns how many."""
        with self._lock:
            doomed = [job for job in self._pending.values() if which(job)]
        for job in doomed:
            self._forget(job)
        return len(doomed)

    def pending_keys(self) -> set[str]:
        """Keys of every file waiting."""
        with self._lock:
            return {item.key for job in self._pending.values() for item in job.files}

    def is_pending(self, key: str) -> bool:
        """Whether a waiting job holds ``key``."""
        with self._lock:
            return any(item.key == key for job in self._pending.values() for item in job.files)

    def check_room(self) -> None:
        """SpoolFullError if the spool holds its budget or more (call before taking a capture)."""
        with self._lock:
            waiting, jobs = self._pending_bytes, len(self._pending)
        if waiting >= self.budget_bytes:
            health = self._health
            why = f"last error: {health.last_error}" if health.last_error else "uploads have not caught up"
            raise SpoolFullError(
                f"the upload spool is full: {waiting} bytes in {jobs} file(s) wait for the object store "
                f"({self.store.describe()}; {why}), which reaches SPOOL_BUDGET_BYTES={self.budget_bytes} bytes; "
                "captures resume when uploads catch up"
            )

    def status(self) -> UploadStatus:
        """The current state (any thread)."""
        with self._lock:
            waiting, jobs = self._pending_bytes, len(self._pending)
        health = self._health
        return UploadStatus(
            reachable=health.reachable,
            last_error=health.last_error,
            spool_bytes=waiting,
            spool_budget_bytes=self.budget_bytes,
            pending_uploads=jobs,
            uploaded_files=health.uploaded_files,
            last_upload_time=health.last_upload_time,
        )

    # -- uploader thread ----------------------------------------------------------------------------------------

    def _run(self) -> None:
        attempt = 0
        cleared: set[str] = set()  # keys whose stale multipart uploads were aborted by this run
        while not self._stopping.is_set():
            job = self._next_job()
            try:
                if job is None:
                    if self._health.reachable:
                        self._wake.wait()
                        self._wake.clear()
                        continue
                    self.store.check()  # idle, and the store's state unknown or bad: find out
                    self._healthy()
                else:
                    uploaded = self._upload(job, cleared)
                    self._finish(uploaded)
                attempt = 0
            except ObjectStoreError as exc:
                self._failed(str(exc), attempt)
                self._stopping.wait(self._retry.delay_s(attempt, self._rng))
                attempt += 1
            except FileNotFoundError as exc:
                assert job is not None
                log.error("upload of %s dropped: its local file is gone (%s)", job.key, exc.filename)
                self._forget(job)
            except Exception:
                log.exception("upload of %s failed unexpectedly; retrying", job.key if job else "(none)")
                self._stopping.wait(self._retry.delay_s(attempt, self._rng))
                attempt += 1

    def _next_job(self) -> UploadJob | None:
        with self._lock:
            return self._pending[min(self._pending)] if self._pending else None

    def _upload(self, job: UploadJob, cleared: set[str]) -> UploadedJob:
        objects = []
        for item in job.files:
            if item.key not in cleared and _size_of(item.path) >= self.store.part_bytes:
                aborted = self.store.abort_incomplete(item.key)
                if aborted:
                    log.warning("aborted %d incomplete upload(s) of %s left by an earlier run", aborted, item.key)
                cleared.add(item.key)
            objects.append(self.store.put_file(item.path, item.key, content_type=item.content_type))
        return UploadedJob(job, self.store.bucket, tuple(objects), datetime.now(UTC))

    def _finish(self, uploaded: UploadedJob) -> None:
        job = uploaded.job
        finisher = self._finishers.get(job.kind)
        if finisher is not None:
            finisher(uploaded)
        self._forget(job)
        health = self._health
        self._set_health(
            replace(
                health,
                reachable=True,
                last_error="",
                uploaded_files=health.uploaded_files + 1,
                last_upload_time=uploaded.uploaded_at,
            )
        )
        if self._on_uploaded is not None:
            try:
                self._on_uploaded(uploaded)
            except Exception:
                log.exception("on_uploaded listener failed")

    def _forget(self, job: UploadJob) -> None:
        with contextlib.suppress(FileNotFoundError):
            (self.queue_path / job.name).unlink()
        with self._lock:
            if self._pending.pop(job.name, None) is not None:
                self._pending_bytes -= job.size_bytes

    def _healthy(self) -> None:
        if not self._health.reachable:
            log.info("object store %s reachable", self.store.describe())
        self._set_health(replace(self._health, reachable=True, last_error=""))

    def _failed(self, error: str, attempt: int) -> None:
        health = self._health
        if health.reachable or health.last_error != error:
            log.error("object store: %s (uploads wait in %s and are retried)", error, self.spool_path)
        self._set_health(replace(health, reachable=False, last_error=error))

    def _set_health(self, health: _Health) -> None:
        changed = health.reachable != self._health.reachable
        self._health = health
        if changed:
            for listener in tuple(self._health_listeners):
                try:
                    listener(health.reachable)
                except Exception:
                    log.exception("object store health listener failed")


@dataclass(frozen=True)
class CaptureSpool:
    """The spool as the capture store uses it (:class:`camera_grpc.core.storage.CaptureUploads`)."""

    uploader: Uploader
    keys: ObjectKeys

    @property
    def bucket(self) -> str:
        return self.uploader.store.bucket

    def check_room(self) -> None:
        self.uploader.check_room()

    def key_of(self, camera: CameraDescription | None, filename: str) -> str:
        return self.keys.capture(camera.serial_number if camera is not None else "", filename)

    def enqueue(self, capture: SpooledCapture) -> None:
        """Queue the sidecar, then the image (an image object always has its sidecar next to it). Not persisted:
        the capture's own files are, and :meth:`attach` finds them again after a restart."""
        self.uploader.enqueue(
            CAPTURE,
            [
                UploadFile(capture.metadata_path, capture.sidecar_key, SIDECAR_CONTENT_TYPE),
                UploadFile(capture.path, capture.key, capture.content_type),
            ],
            filename=capture.filename,
            persist=False,
        )

    def discard(self, filename: str) -> int:
        """Forget the waiting upload of a deleted capture (an upload in flight finishes; its finisher then finds
        the capture gone and deletes the objects, :meth:`CaptureStore.mark_uploaded`); returns how many."""
        return self.uploader.discard(lambda job: job.kind == CAPTURE and job.filename == filename)

    def delete(self, keys: Iterable[str]) -> None:
        """Delete a capture's objects (absent ones are no error); ObjectStoreUnavailableError if the store cannot."""
        try:
            self.uploader.store.delete_keys(sorted(set(keys)))
        except ObjectStoreError as exc:
            raise ObjectStoreUnavailableError(f"the capture's objects could not be deleted: {exc}") from None

    def fetch(self, key: str) -> bytes:
        try:
            return self.uploader.store.get_bytes(key)
        except ObjectStoreError as exc:
            raise ObjectStoreUnavailableError(
                f"the capture is in the object store, which cannot be read: {exc}"
            ) from None

    def attach(self, store: CaptureStore) -> int:
        """Let ``store``'s uploaded captures leave the spool, and queue its captures that a previous run saved
        but did not queue (before the uploader starts); returns how many were queued."""
        self.uploader.add_finisher(CAPTURE, lambda uploaded: _capture_uploaded(store, uploaded))
        self.uploader.load()
        queued = 0
        for capture in store.spooled():
            if not self.uploader.is_pending(capture.key):
                self.enqueue(capture)
                queued += 1
        if queued:
            log.info("upload spool: %d capture(s) waiting from a previous run queued", queued)
        return queued


def _capture_uploaded(store: CaptureStore, uploaded: UploadedJob) -> None:
    """Finisher of CAPTURE jobs: the upload record, then the image leaves the spool."""
    sidecar, image = uploaded.objects
    store.mark_uploaded(
        uploaded.job.filename,
        {
            "bucket": uploaded.bucket,
            "key": image.key,
            "sidecar_key": sidecar.key,
            "size_bytes": image.size_bytes,
            "sha256": image.sha256_hex,
            "uploaded_at": uploaded.uploaded_at.isoformat(),
        },
    )


@dataclass(frozen=True)
class RecordingUploads:
    """A recording's files and the store. A file's upload is recorded in the recording's own folder
    (:meth:`camera_grpc.core.recording_store.RecordingStore.mark_uploaded`, by the uploader thread); once every
    file of the recording is recorded, its local data files are removed and read from the store from then on
    (:meth:`open`, the recording manager's :class:`~camera_grpc.core.recording.UploadedFiles`)."""

    uploader: Uploader
    keys: ObjectKeys

    def enqueue(self, serial: str, recording_id: str, files: Iterable[tuple[Path, str]]) -> list[UploadJob]:
        """Queue a finished recording's files ((path, content type) each) neither uploaded nor queued."""
        jobs = []
        for path, content_type in files:
            if read_upload_record(path.parent, path.name) is not None:
                continue
            key = self.keys.recording_file(serial, recording_id, path.name)
            if self.uploader.is_pending(key):
                continue
            jobs.append(
                self.uploader.enqueue(
                    RECORDING_FILE,
                    [UploadFile(path, key, content_type)],
                    filename=path.name,
                    recording=f"{RESOURCE_PREFIX}{recording_id}",
                )
            )
        return jobs

    def locate(self, path: Path, serial: str) -> StorageLocation:
        """Where a recording's file (``RECORDINGS_PATH/{id}/{file}``) is kept."""
        recording_id, filename = path.parent.name, path.name
        record = read_upload_record(path.parent, filename)
        if record is not None:
            return StorageLocation(StorageState.UPLOADED, str(record["bucket"]), str(record["key"]))
        key = self.keys.recording_file(serial, recording_id, filename)
        return StorageLocation(StorageState.SPOOLED, self.uploader.store.bucket, key)

    def open(self, record: Mapping[str, Any], offset: int) -> BinaryIO:
        """An uploaded file (its upload record) read from the store from ``offset`` (a ranged GET, streamed)."""
        store = self.uploader.store
        key = str(record["key"])
        if str(record.get("bucket")) != store.bucket:
            raise ObjectStoreUnavailableError(
                f"{key} was uploaded to bucket {record.get('bucket')}, not to S3_BUCKET={store.bucket}"
            )
        try:
            return store.open_from(key, offset, read_error=ObjectStoreUnavailableError)
        except ObjectStoreError as exc:
            raise ObjectStoreUnavailableError(
                f"the recording's file is in the object store, which cannot be read: {exc}"
            ) from None

    def delete(self, recording_id: str, folder: Path) -> None:
        """Delete every object of a recording: those its upload records name and any other under its key prefix
        (an upload confirmed just before a crash). ObjectStoreUnavailableError if the store cannot do it and the
        recording has uploaded files (it is then kept whole); with none uploaded, a failure is only logged."""
        store = self.uploader.store
        recorded = {
            str(record["key"])
            for path in folder.glob(f"{UPLOADED_FOLDER}/*{UPLOAD_RECORD_SUFFIX}")
            if (record := read_upload_record(folder, path.name.removesuffix(UPLOAD_RECORD_SUFFIX))) is not None
        }
        self.uploader.discard(lambda job: job.recording == f"{RESOURCE_PREFIX}{recording_id}")
        prefix = self.keys.recording_file(_recording_serial(folder), recording_id, "")
        try:
            deleted = store.delete_keys(sorted(recorded | set(store.keys(prefix))))
        except ObjectStoreError as exc:
            if recorded:
                raise ObjectStoreUnavailableError(
                    f"{RESOURCE_PREFIX}{recording_id} was not deleted: its objects could not be deleted ({exc})"
                ) from None
            log.warning("recording %s: its objects (if any) could not be deleted: %s", recording_id, exc)
            return
        if deleted:
            log.info("recording %s: %d object(s) deleted from %s", recording_id, deleted, store.describe())


def _size_of(path: Path) -> int:
    return path.stat().st_size


class ObjectStorage:
    """``STORAGE_BACKEND=s3`` as the composition root wires it: the store, the key scheme, the uploader, and the
    capture and recording sides of the spool. ``OBJECT_UPLOADED`` goes to ``events`` after each upload."""

    def __init__(self, settings: Any, events: EventHub | None = None, *, store: ObjectStore | None = None) -> None:
        """``settings``: :class:`camera_grpc.config.Settings` with ``STORAGE_BACKEND=s3``."""
        self.store = store or ObjectStore.from_settings(settings)
        self.keys = ObjectKeys(settings.s3_prefix)
        self._events = events
        self.uploader = Uploader(
            self.store, settings.spool_path, budget_bytes=settings.spool_budget_bytes, on_uploaded=self._announce
        )
        self.captures = CaptureSpool(self.uploader, self.keys)
        self.recordings = RecordingUploads(self.uploader, self.keys)
        self.uploader.add_finisher(RECORDING_FILE, self._recording_file_uploaded)
        #: Where captures are saved: the spool's captures folder.
        self.captures_path = self.uploader.spool_path / CAPTURES_FOLDER
        self._manager: RecordingManager | None = None

    def start(self, captures: CaptureStore, recordings: RecordingManager | None) -> None:
        """Queue what a previous run left unqueued (captures, finished recordings), then start uploading
        (blocking: reads the spool and the recordings folder)."""
        self._manager = recordings
        self.captures.attach(captures)
        if recordings is not None:
            recordings.attach_uploaded_files(self.recordings)
            # a job whose file was recorded uploaded (a crash before its job file went) has nothing left to do
            self.uploader.discard(
                lambda job: (
                    job.kind == RECORDING_FILE
                    and read_upload_record(job.files[-1].path.parent, job.filename) is not None
                )
            )
            self._queue_finished_recordings(recordings)
        self.uploader.start()

    def close(self) -> None:
        self.uploader.close()
        self.store.close()

    def recording_finished(self, finished: FinishedRecording) -> None:
        """The recording manager's ``on_finished`` (its writer thread): queue the recording's files."""
        if self._manager is None:
            return
        self._queue_recording(self._manager, finished.info)

    def locate_recording_file(self, path: Path) -> StorageLocation:
        """The recording manager's ``locate``: where a recording's file is kept."""
        return self.recordings.locate(path, _recording_serial(path.parent))

    def _queue_finished_recordings(self, manager: RecordingManager) -> None:
        token = ""
        while True:
            page = manager.list(page_token=token)
            for info in page.recordings:
                if not info.running:
                    self._queue_recording(manager, info)
                    self._release(manager, info.name)  # all uploaded, and a crash came before the removal
            token = page.next_page_token
            if not token:
                return

    def _queue_recording(self, manager: RecordingManager, info: RecordingInfo) -> None:
        """Queue the files of an ended recording that are neither uploaded nor queued."""
        folder = manager.store.path_of(info.recording_id)
        files = []
        for file in info.files:
            if read_upload_record(folder, file.name) is not None:
                continue
            try:
                handle, _ = manager.open_file(info.name, file.name)  # an OME-Zarr store's zip is made now
                handle.close()
            except CameraServiceError as exc:
                log.error("recording %s: %s is not uploaded: %s", info.name, file.name, exc)
                continue
            files.append((folder / file.name, file.content_type))
        try:
            self.recordings.enqueue(_recording_serial(folder), info.recording_id, files)
        except OSError as exc:
            log.error(
                "recording %s: could not queue its files for upload (%s); queued at the next start", info.name, exc
            )

    def _recording_file_uploaded(self, uploaded: UploadedJob) -> None:
        """Finisher of RECORDING_FILE jobs (uploader thread): the upload record in the recording's folder; once
        every file of the recording has one, its local data files go."""
        manager = self._manager
        if manager is None:
            return
        job = uploaded.job
        stored = uploaded.objects[-1]
        record = {
            "bucket": uploaded.bucket,
            "key": stored.key,
            "size_bytes": stored.size_bytes,
            "content_type": job.files[-1].content_type,
            "sha256": stored.sha256_hex,
            "uploaded_at": uploaded.uploaded_at.isoformat(),
        }
        try:
            manager.store.mark_uploaded(job.recording.removeprefix(RESOURCE_PREFIX), job.filename, record)
        except RecordingNotFoundError:  # deleted while it was uploaded: its object goes too
            log.info("recording %s was deleted during the upload of %s; deleting its object", job.recording, job.key)
            self.store.delete_keys([stored.key])
            return
        self._release(manager, job.recording)

    @staticmethod
    def _release(manager: RecordingManager, name: str) -> None:
        """The recording's local data files go if all its files are uploaded (errors logged: retried at start)."""
        try:
            manager.release_uploaded(name)
        except RecordingNotFoundError:
            pass
        except Exception:
            log.exception("recording %s: its uploaded files stay on the disk until the next start", name)

    def _announce(self, uploaded: UploadedJob) -> None:
        """OBJECT_UPLOADED (uploader thread; handed to the event loop)."""
        if self._events is None:
            return
        job = uploaded.job
        self._events.publish_threadsafe(
            EventType.OBJECT_UPLOADED,
            f"uploaded {job.filename} to {uploaded.bucket}/{job.key}",
            bucket=uploaded.bucket,
            object_key=job.key,
            filename=job.filename,
            recording=job.recording,
        )


def _recording_serial(folder: Path) -> str:
    """The serial of the camera a recording was made with (its metadata's ``camera``; "" if unknown)."""
    try:
        document = json.loads((folder / METADATA_NAME).read_bytes())
        return str(document["camera"]["serial_number"])
    except (OSError, ValueError, KeyError, TypeError):
        return ""
