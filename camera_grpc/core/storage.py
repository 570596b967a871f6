"""Saving captures: unique names, atomic writes, a JSON sidecar per image.

A capture is the image file ``capture_<UTC date>_<time>_<microseconds>_<frame>.<ext>``
plus ``<same stem>.json`` holding its metadata. Both are written to a
temporary file in the same folder, flushed to disk and then linked into place
without ever replacing an existing file, so a reader never sees a partial
file, two concurrent captures never collide, and a failure leaves nothing
behind. The sidecar is written first; the image appears last, so an image on
disk always has its metadata.

The sidecar says what the file holds and how it was taken: the frame's size,
its pixel format *as delivered* (a camera set to packed MONO12 delivers MONO16)
and significant bits, what the image file stores (``image``: grey or RGB,
demosaiced from which Bayer phase, bits per sample), the exposure and gain the
frame was taken with (``settings``), and, when the caller passes them, every
setting of the camera at the time (``camera_settings``).

The process's file descriptors are shared with every connection it accepts.
The store keeps a few in reserve (:class:`FdReserve`): should an open fail with
"too many open files" anyway, it lets go of the reserve and tries again, so a
capture is saved even then.

A process killed mid-capture (``kill -9``, power loss) can leave temporary
files and a sidecar whose image was never linked. :meth:`CaptureStore.clean_up`
removes exactly those at start-up, unless another live process holds the folder.

With an object store (``STORAGE_BACKEND=s3``) the folder is the upload spool's captures folder: a capture
is saved exactly as above, then queued for upload (``uploads``, :class:`CaptureUploads`, given by the
composition root: :class:`camera_grpc.core.uploads.CaptureSpool`). Once the store confirmed both files, a
small ``<image>.uploaded`` record (bucket, key, SHA-256) is written next to the sidecar and only then is the
image removed; the sidecar stays, so listing never asks the store, and reading an uploaded capture fetches
its bytes from the bucket. Each capture reports where it is (:class:`StorageLocation`). Captures are refused
(``check_room``) while the spool is over its budget.

Reading back (:meth:`CaptureStore.list_captures`, :meth:`CaptureStore.read_capture`)
only ever touches files whose name is a capture name this store writes: a
name with a path separator, ``..``, a hidden name, or a link that leads out of
the folder is "not found", whatever is on disk. :meth:`CaptureStore.delete_capture` deletes a listed capture
in the reverse order of saving: its objects, then the image (and upload record), then the sidecar.
"""

from __future__ import annotations

import base64
import binascii
import enum
import errno
import fcntl
import json
import logging
import os
import re
import stat
import tempfile
import threading
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import asdict, dataclass, fields, is_dataclass
from datetime import datetime
from pathlib import Path
from typing import Any, Protocol, TypeVar

from camera_grpc.core import imaging
from camera_grpc.core.atomic import replace_atomically
from camera_grpc.core.metrics import ServiceMetrics
from camera_grpc.device.base import CameraDescription, Frame, PixelFormat
from camera_grpc.device.settings import CameraSettings, TriggerSource
from camera_grpc.errors import (
    CameraServiceError,
    InvalidArgumentError,
    NotFoundError,
    StorageFullError,
    StorageUnavailableError,
    echo,
)
from camera_grpc.formats import IMAGE_FORMATS

log = logging.getLogger(__name__)

T = TypeVar("T")

#: errno values that mean "no space left", as opposed to "not allowed / not there".
_FULL_ERRNOS = frozenset({errno.ENOSPC, errno.EDQUOT, errno.EFBIG})
#: Attempts at a unique name before giving up (only reached if names keep colliding).
_MAX_NAME_ATTEMPTS = 100
SIDECAR_SUFFIX = ".json"
#: Image file extension -> canonical format name.
_EXTENSION_FORMATS = {fmt.extension: fmt.name for fmt in IMAGE_FORMATS.values()}
#: The names :meth:`CaptureStore.save` gives images (the optional last number resolves a name collision).
_CAPTURE_NAME = re.compile(
    r"capture_(?P<date>\d{8})_(?P<time>\d{6})_(?P<micros>\d{6})_(?P<frame>\d{1,20})(?:_(?P<attempt>\d{1,3}))?"
    r"\.(?P<ext>" + "|".join(map(re.escape, _EXTENSION_FORMATS)) + r")",
    re.ASCII,
)
#: A sidecar's name: a capture name's stem plus ``.json``.
_SIDECAR_NAME = re.compile(_CAPTURE_NAME.pattern.rsplit(r"\.", 1)[0] + re.escape(SIDECAR_SUFFIX), re.ASCII)
#: Temporary files of :meth:`CaptureStore._publish` (hidden, so never listed or served).
TEMPORARY_PREFIX = ".tmp-"
TEMPORARY_SUFFIX = ".part"
#: Names a clean-up log line lists before summing up the rest.
_NAMES_LOGGED = 20
#: errno values of "no file descriptor left" (for the process, for the system).
_NO_FD_ERRNOS = frozenset({errno.EMFILE, errno.ENFILE})
#: File descriptors a store keeps in reserve: enough for both encoder threads' files and a reader or two.
FD_RESERVE = 8
#: The reserve's use is logged at most this often, seconds.
RESERVE_LOG_INTERVAL_S = 60.0
#: Names of captures with an unreadable sidecar remembered (so each is logged once, not at every listing).
_UNREADABLE_REMEMBERED = 1024
#: Page sizes of :meth:`CaptureStore.list_captures`.
DEFAULT_PAGE_SIZE = 50
MAX_PAGE_SIZE = 1000


class StorageState(enum.Enum):
    """Where a saved file is kept (``camera.v1.StorageState``)."""

    LOCAL = "local"  #: in the local folder (no object store is configured)
    SPOOLED = "spooled"  #: in the local spool, waiting to be uploaded
    UPLOADED = "uploaded"  #: in the object store (upload confirmed)


@dataclass(frozen=True)
class StorageLocation:
    """Where a saved file is kept (``camera.v1.StorageLocation``)."""

    state: StorageState = StorageState.LOCAL
    bucket: str = ""  #: SPOOLED, UPLOADED
    object_key: str = ""  #: SPOOLED, UPLOADED: where it is or will be


#: A file in the local folder, no object store.
LOCAL = StorageLocation()
#: Suffix of the record, next to an uploaded capture's sidecar, that the store has its image.
UPLOADED_SUFFIX = ".uploaded"


@dataclass(frozen=True)
class SpooledCapture:
    """A saved capture waiting for its upload: its two files and their object keys."""

    filename: str
    path: Path  #: the image
    metadata_path: Path  #: the sidecar
    content_type: str  #: of the image
    key: str  #: the image's object key
    sidecar_key: str  #: the sidecar's object key


class CaptureUploads(Protocol):
    """The upload spool as the capture store uses it (implemented by :class:`camera_grpc.core.uploads.CaptureSpool`)."""

    @property
    def bucket(self) -> str: ...

    def check_room(self) -> None:
        """Raise (SpoolFullError) if no capture may be added to the spool now."""

    def key_of(self, camera: CameraDescription | None, filename: str) -> str:
        """The object key of a capture's file."""

    def enqueue(self, capture: SpooledCapture) -> None:
        """Queue a saved capture's sidecar and image for upload (durably; OSError if it cannot)."""

    def fetch(self, key: str) -> bytes:
        """The bytes of an uploaded object (StorageUnavailableError-like errors if the store cannot be read)."""

    def discard(self, filename: str) -> int:
        """Forget a deleted capture's waiting upload (one in flight finishes: :meth:`CaptureStore.mark_uploaded`)."""

    def delete(self, keys: Iterable[str]) -> None:
        """Delete objects (absent ones are no error; ObjectStoreUnavailableError-like errors if the store cannot)."""


@dataclass(frozen=True)
class FrameMetadata:
    """What is known about one frame besides its pixels (``camera.v1.FrameMetadata``; the sidecar's ``metadata``).

    Frames of cameras triggered by one line match by ``trigger_count`` (each camera counts the triggers it
    accepted since its acquisition started), not by ``camera_time_s``: each camera has its own clock.
    """

    frame_number: int
    camera_time_s: float | None  #: the camera's timestamp (end of exposure), seconds on ``camera_clock``
    camera_clock: str  #: ``pixelink:<serial>``, ``simulated:<serial>`` ("" : the camera has no timestamp)
    received_at: datetime  #: when the service received the frame (host clock, UTC)
    trigger_source: TriggerSource
    trigger_count: int  #: triggers accepted since acquisition started, this frame's included (0: free-running)
    trigger_frame_index: int  #: BURST/SEQUENCE: the frame's index within its trigger

    @classmethod
    def of(cls, frame: Frame) -> FrameMetadata:
        return cls(
            frame_number=frame.frame_number,
            camera_time_s=frame.camera_time_s,
            camera_clock=frame.camera_clock,
            received_at=frame.captured_at,
            trigger_source=frame.trigger_source,
            trigger_count=frame.trigger_count,
            trigger_frame_index=frame.trigger_frame_index,
        )

    def to_json(self) -> dict[str, object]:
        return {
            "frame_number": self.frame_number,
            "camera_time_s": self.camera_time_s,
            "camera_clock": self.camera_clock,
            "received_at": self.received_at.isoformat(),
            "trigger_source": self.trigger_source.value,
            "trigger_count": self.trigger_count,
            "trigger_frame_index": self.trigger_frame_index,
        }

    @classmethod
    def from_json(cls, document: Mapping[str, Any]) -> FrameMetadata:
        camera_time_s = document.get("camera_time_s")
        return cls(
            frame_number=int(document["frame_number"]),
            camera_time_s=None if camera_time_s is None else float(camera_time_s),
            camera_clock=str(document.get("camera_clock", "")),
            received_at=datetime.fromisoformat(document["received_at"]),
            trigger_source=TriggerSource(document.get("trigger_source", TriggerSource.FREE_RUNNING.value)),
            trigger_count=int(document.get("trigger_count", 0)),
            trigger_frame_index=int(document.get("trigger_frame_index", 0)),
        )


@dataclass(frozen=True)
class NewCapture:
    """What was written, and everything the API reports about it."""

    filename: str
    path: Path  #: absolute path of the image
    metadata_path: Path  #: absolute path of the JSON sidecar
    image_format: str  #: canonical format name (jpeg, png, tiff, bmp)
    size_bytes: int
    width: int
    height: int
    pixel_format: PixelFormat
    bit_depth: int
    frame_number: int
    captured_at: datetime
    exposure_ms: float
    gain_db: float
    data: bytes  #: the encoded file's content
    #: What the file stores (see :func:`camera_grpc.core.imaging.image_description`).
    image: Mapping[str, object]
    #: Every setting of the camera when the frame was taken, as JSON values (None: not given).
    camera_settings: Mapping[str, object] | None = None
    #: The frame's metadata (camera time and clock, trigger); None only for a capture made without a frame.
    metadata: FrameMetadata | None = None


@dataclass(frozen=True)
class CaptureRecord:
    """A capture on disk, as described by its sidecar."""

    filename: str
    image_format: str  #: canonical format name (jpeg, png, tiff, bmp)
    size_bytes: int
    width: int
    height: int
    frame_number: int
    captured_at: datetime
    exposure_ms: float
    gain_db: float
    #: The frame's metadata; for a capture saved before issue 13, what its sidecar says (number and time).
    metadata: FrameMetadata | None = None
    #: Where its image is: the local folder, the spool or the object store.
    location: StorageLocation = LOCAL

    @property
    def content_type(self) -> str:
        """MIME type of the image file."""
        return IMAGE_FORMATS[self.image_format].content_type


@dataclass(frozen=True)
class CaptureRecordPage:
    """One page of :meth:`CaptureStore.list_captures`, newest first."""

    captures: list[CaptureRecord]
    next_page_token: str  #: empty on the last page


class FdReserve:
    """File descriptors held open (on ``/dev/null``) so that the store's own opens succeed when the process has
    none left (thread-safe).

    Connection caps keep the process below its open-files limit; this is the second line, for when something
    else used them up. An open that fails with EMFILE/ENFILE closes the reserve and is tried once more, then the
    reserve is taken again as far as descriptors are free (and topped up at later opens). Another thread can
    take a freed descriptor first, but gRPC and asyncio retry a failed accept only after a second, and the
    window is one system call.
    """

    def __init__(self, size: int) -> None:
        self.size = size
        self._fds: list[int] = []
        self._lock = threading.Lock()
        self._logged_at = -float("inf")
        self._uses_unlogged = 0
        self._refill()

    @property
    def held(self) -> int:
        """Descriptors held now."""
        return len(self._fds)

    def open(self, opener: Callable[[], T]) -> T:
        """``opener()``, which opens a file descriptor, retried with the reserve released if none are left."""
        if len(self._fds) < self.size:
            with self._lock:
                self._refill()
        try:
            return opener()
        except OSError as exc:
            if exc.errno not in _NO_FD_ERRNOS:
                raise
        with self._lock:
            for fd in self._fds:
                os.close(fd)
            self._fds = []
            self._log_use()
            try:
                return opener()
            finally:
                self._refill()

    def _log_use(self) -> None:
        """Say the reserve was needed, at most once per RESERVE_LOG_INTERVAL_S (with how often since)."""
        self._uses_unlogged += 1
        now = time.monotonic()
        if now - self._logged_at >= RESERVE_LOG_INTERVAL_S:
            log.warning(
                "out of file descriptors: the reserve kept for captures was used (%d time(s) since the last report)",
                self._uses_unlogged,
            )
            self._logged_at, self._uses_unlogged = now, 0

    def close(self) -> None:
        """Let go of the reserve."""
        with self._lock:
            for fd in self._fds:
                os.close(fd)
            self._fds = []
            self.size = 0

    def _refill(self) -> None:
        while len(self._fds) < self.size:
            try:
                self._fds.append(os.open(os.devnull, os.O_RDONLY | os.O_CLOEXEC))
            except OSError:
                return  # none free now: the next open tries again


class CaptureStore:
    """The captures folder."""

    def __init__(
        self,
        directory: Path,
        *,
        fd_reserve: int = FD_RESERVE,
        metrics: ServiceMetrics | None = None,
        uploads: CaptureUploads | None = None,
    ) -> None:
        """``uploads``: the object store's spool (None: captures stay in the folder)."""
        self.directory = directory.expanduser().resolve()
        self._metrics = metrics
        self._uploads = uploads
        self._lock_fd: int | None = None
        self._reserve = FdReserve(fd_reserve)
        self._reported_unreadable: set[str] = set()  # captures whose unreadable sidecar was logged
        #: Held while a capture is deleted (an executor thread) and while an upload is recorded (the uploader
        #: thread), so a capture deleted during its upload gets no upload record and its objects go.
        self._deleting = threading.Lock()

    def clean_up(self) -> list[str]:
        """Remove what an interrupted run left (blocking; call at start-up); returns the names removed.

        Removes temporary files and sidecars whose image was never linked (the image is
        linked last, so only a sidecar can be orphaned), logging them in one line. Images
        and anything that is not a capture file are never touched. The folder is locked
        (``flock``) for as long as this store is open, and another process holding it means
        its temporary files may be live: then nothing is removed.
        """
        if not self._lock():
            return []
        try:
            with os.scandir(self.directory) as entries:
                files = {entry.name for entry in entries if entry.is_file(follow_symlinks=False)}
        except OSError as exc:
            log.warning("could not look for leftovers in the captures folder %s: %s", self.directory, exc.strerror)
            return []
        removed = []
        for name in sorted(files):
            temporary = name.startswith(TEMPORARY_PREFIX) and name.endswith(TEMPORARY_SUFFIX)
            stem = name.removesuffix(SIDECAR_SUFFIX)
            orphan = _SIDECAR_NAME.fullmatch(name) and not any(
                f"{stem}.{ext}" in files or f"{stem}.{ext}{UPLOADED_SUFFIX}" in files for ext in _EXTENSION_FORMATS
            )
            if (temporary or orphan) and _unlink_quietly(self.directory / name):
                removed.append(name)
        if removed:
            shown = ", ".join(removed[:_NAMES_LOGGED]) + (
                f" and {len(removed) - _NAMES_LOGGED} more" if len(removed) > _NAMES_LOGGED else ""
            )
            log.warning("removed %d file(s) an interrupted capture left in %s: %s", len(removed), self.directory, shown)
        return removed

    def close(self) -> None:
        """Release the folder's lock (taken by :meth:`clean_up`) and the file descriptor reserve."""
        self._reserve.close()
        if self._lock_fd is not None:
            os.close(self._lock_fd)
            self._lock_fd = None

    def _lock(self) -> bool:
        """Hold an exclusive lock on the folder; False if it is missing or another process holds it."""
        if self._lock_fd is not None:
            return True
        try:
            fd = os.open(self.directory, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
        except OSError:
            return False  # no folder yet: nothing was left in it
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            os.close(fd)
            log.warning("captures folder %s is in use by another process; leaving its files alone", self.directory)
            return False
        self._lock_fd = fd
        return True

    def ensure_writable(self) -> None:
        """Create the folder if needed; raise StorageUnavailableError if it cannot be written."""
        try:
            self.directory.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise _storage_error(exc, self.directory) from None
        if not self.directory.is_dir():
            raise StorageUnavailableError(f"captures folder {self.directory} is not a folder")
        if not os.access(self.directory, os.W_OK | os.X_OK):
            raise StorageUnavailableError(f"captures folder {self.directory} is not writable")
        if self._uploads is not None:
            self._uploads.check_room()

    def save(
        self,
        frame: Frame,
        image_format: str,
        quality: int,
        camera: CameraDescription | None,
        settings: Mapping[str, Any] | CameraSettings | None = None,
    ) -> NewCapture:
        """Encode and save a frame with its sidecar (blocking: call it off the event loop).

        ``settings``: every setting of the camera when the frame was taken (a mapping of JSON-able values,
        enums and dataclasses, or a :class:`CameraSettings`), written to the sidecar as ``camera_settings``.
        """
        camera_settings = None if settings is None else _json_value(settings)
        self.ensure_writable()
        started = time.perf_counter()
        data, width, height = imaging.encode_frame(frame, image_format, quality)
        encoded = time.perf_counter()
        stem = "capture_{}_{}".format(frame.captured_at.strftime("%Y%m%d_%H%M%S_%f"), frame.frame_number)
        ext = IMAGE_FORMATS[image_format].extension
        for attempt in range(_MAX_NAME_ATTEMPTS):
            name = stem if attempt == 0 else f"{stem}_{attempt}"
            image_path = self.directory / f"{name}.{ext}"
            sidecar_path = self.directory / f"{name}{SIDECAR_SUFFIX}"
            capture = NewCapture(
                filename=image_path.name,
                path=image_path,
                metadata_path=sidecar_path,
                image_format=image_format,
                size_bytes=len(data),
                width=width,
                height=height,
                pixel_format=frame.pixel_format.delivered,
                bit_depth=frame.bit_depth,
                frame_number=frame.frame_number,
                captured_at=frame.captured_at,
                exposure_ms=frame.exposure_ms,
                gain_db=frame.gain_db,
                data=data,
                image=imaging.image_description(frame, image_format),
                camera_settings=camera_settings,
                metadata=FrameMetadata.of(frame),
            )
            document = sidecar_document(capture, camera, quality)
            keys = None
            if self._uploads is not None:
                keys = (
                    self._uploads.key_of(camera, image_path.name),
                    self._uploads.key_of(camera, sidecar_path.name),
                )
                document["storage"] = {
                    "bucket": self._uploads.bucket,
                    "object_key": keys[0],
                    "sidecar_object_key": keys[1],
                }
            sidecar = json.dumps(document, indent=2).encode()
            if not self._publish(sidecar, sidecar_path):
                continue
            try:
                if self._publish(data, image_path):
                    if self._metrics is not None:
                        self._metrics.capture_stage_took("encode", encoded - started)
                        self._metrics.capture_stage_took("write", time.perf_counter() - encoded)
                    if keys is not None:
                        self._queue(
                            SpooledCapture(
                                capture.filename,
                                image_path,
                                sidecar_path,
                                IMAGE_FORMATS[image_format].content_type,
                                *keys,
                            )
                        )
                    return capture
            except BaseException:
                _unlink_quietly(sidecar_path)
                raise
            _unlink_quietly(sidecar_path)
        raise StorageUnavailableError(f"could not find a free file name for {stem} in {self.directory}")

    def _queue(self, capture: SpooledCapture) -> None:
        """Queue a saved capture for upload; a failure is logged (the capture is saved, and the start-up scan
        of the spool queues it)."""
        assert self._uploads is not None
        try:
            self._uploads.enqueue(capture)
        except OSError as exc:
            log.error(
                "capture %s saved but not queued for upload (%s); it is queued at the next start", capture.filename, exc
            )

    def spooled(self) -> list[SpooledCapture]:
        """Captures in the folder not uploaded yet, oldest first (blocking; the start-up scan of the spool)."""
        found = []
        for name in reversed(self._capture_names()):
            if not (self.directory / name).is_file() or (self.directory / f"{name}{UPLOADED_SUFFIX}").exists():
                continue
            storage = self._sidecar(name).get("storage")
            if isinstance(storage, Mapping) and storage.get("object_key") and storage.get("sidecar_object_key"):
                match = _CAPTURE_NAME.fullmatch(name)
                assert match is not None
                found.append(
                    SpooledCapture(
                        name,
                        self.directory / name,
                        self.directory / (Path(name).stem + SIDECAR_SUFFIX),
                        IMAGE_FORMATS[_EXTENSION_FORMATS[match["ext"]]].content_type,
                        str(storage["object_key"]),
                        str(storage["sidecar_object_key"]),
                    )
                )
        return found

    def mark_uploaded(self, filename: str, record: Mapping[str, object]) -> None:
        """The store has this capture's image and sidecar (``record``: bucket, key, sidecar_key, checksum): write
        the upload record, then remove the image from the spool (blocking; the uploader's finisher; idempotent).

        A capture deleted while it was uploaded (its sidecar is gone) gets no record: its objects are deleted
        (a failure is logged with their keys)."""
        with self._deleting:
            if (self.directory / (Path(filename).stem + SIDECAR_SUFFIX)).exists():
                replace_atomically(self.directory / f"{filename}{UPLOADED_SUFFIX}", json.dumps(dict(record)).encode())
                _unlink_quietly(self.directory / filename)
                return
        keys = [str(record[field]) for field in ("key", "sidecar_key") if record.get(field)]
        log.info("capture %s was deleted during its upload; deleting its objects", filename)
        if self._uploads is not None:
            try:
                self._uploads.delete(keys)
            except CameraServiceError as exc:
                log.error("capture %s was deleted but its objects %s were not: %s", filename, ", ".join(keys), exc)

    def delete_capture(self, filename: str) -> CaptureRecord:
        """Delete a listed capture (blocking); returns what it was. NotFoundError unless it is listed.

        With an object store, its waiting upload is forgotten and its objects (image and sidecar) are deleted
        first: if the store cannot do that, an uploaded capture (whose image is only there) is kept whole and
        the store's error raised; a spooled one is deleted all the same (the failure is logged). Then its files
        go, the image and upload record first (without them it is no longer listed) and the sidecar last (a
        crash in between leaves an orphan sidecar, which :meth:`clean_up` removes at the next start)."""
        with self._deleting:
            capture = self._describe(filename)
            if self._uploads is not None:
                self._delete_objects(capture)
            for name in (filename, f"{filename}{UPLOADED_SUFFIX}", Path(filename).stem + SIDECAR_SUFFIX):
                try:
                    (self.directory / name).unlink(missing_ok=True)
                except OSError as exc:
                    raise StorageUnavailableError(
                        f"cannot delete {name} from the captures folder {self.directory}: {exc.strerror or exc}"
                    ) from None
        log.info("capture %s deleted", filename)
        return capture

    def _delete_objects(self, capture: CaptureRecord) -> None:
        """Forget a capture's waiting upload and delete its objects (see :meth:`delete_capture`)."""
        assert self._uploads is not None
        self._uploads.discard(capture.filename)
        storage = self._sidecar(capture.filename).get("storage")
        uploaded = self._uploaded_record(capture.filename) or {}
        named = [uploaded.get("key"), uploaded.get("sidecar_key")]
        if isinstance(storage, Mapping):
            named += [storage.get("object_key"), storage.get("sidecar_object_key")]
        keys = {str(key) for key in named if key}
        try:
            self._uploads.delete(keys)
        except CameraServiceError as exc:
            if capture.location.state is StorageState.UPLOADED:
                raise
            log.warning("capture %s: its objects (if any) could not be deleted: %s", capture.filename, exc)

    def _publish(self, content: bytes, final_path: Path) -> bool:
        """Write ``content`` to ``final_path`` atomically; False if that name is taken."""
        try:
            fd, tmp_name = self._reserve.open(
                lambda: tempfile.mkstemp(dir=self.directory, prefix=TEMPORARY_PREFIX, suffix=TEMPORARY_SUFFIX)
            )
        except OSError as exc:
            raise _storage_error(exc, self.directory) from None
        try:
            with os.fdopen(fd, "wb") as tmp:
                tmp.write(content)
                tmp.flush()
                os.fsync(tmp.fileno())
            os.chmod(tmp_name, 0o644)
            os.link(tmp_name, final_path)  # fails, rather than replaces, if the name exists
            return True
        except FileExistsError:
            return False
        except OSError as exc:
            raise _storage_error(exc, self.directory) from None
        finally:
            _unlink_quietly(Path(tmp_name))

    def list_captures(self, page_size: int = 0, page_token: str = "") -> CaptureRecordPage:
        """Saved captures, newest first (blocking: call it off the event loop).

        ``page_size`` 0 means :data:`DEFAULT_PAGE_SIZE`; larger than
        :data:`MAX_PAGE_SIZE` means that. ``page_token`` is a previous page's
        ``next_page_token``: the page continues after that page's last capture.
        Captures whose sidecar is missing or unreadable are left out.
        """
        size = min(page_size or DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE)
        names = self._capture_names()
        if page_token:
            after = _sort_key(_decode_page_token(page_token))
            names = [name for name in names if _sort_key(name) < after]
        page: list[CaptureRecord] = []
        remaining = iter(names)
        for name in remaining:
            try:
                page.append(self._describe(name))
            except NotFoundError:
                continue  # vanished, or no usable sidecar
            if len(page) == size:
                break
        more = next(remaining, None) is not None
        token = _encode_page_token(page[-1].filename) if page and more else ""
        return CaptureRecordPage(page, token)

    def read_capture(self, filename: str) -> tuple[CaptureRecord, bytes]:
        """A capture's metadata and file bytes (blocking); NotFoundError unless it is a listed capture.

        An uploaded capture's bytes come from the object store (its error if that cannot be read)."""
        capture = self._describe(filename)
        if capture.location.state is StorageState.UPLOADED and self._uploads is not None:
            try:
                return capture, self._read_inside(filename)  # still here: uploaded a moment ago
            except NotFoundError:
                return capture, self._uploads.fetch(capture.location.object_key)
        return capture, self._read_inside(filename)

    def describe_capture(self, filename: str) -> CaptureRecord:
        """A capture's metadata and location, without its bytes (blocking); NotFoundError unless it is listed."""
        return self._describe(filename)

    def _uploaded_record(self, filename: str) -> dict[str, Any] | None:
        """The upload record of a capture (None: not uploaded, or no object store)."""
        if self._uploads is None:
            return None
        try:
            document = json.loads(self._read_inside(f"{filename}{UPLOADED_SUFFIX}", missing=filename))
        except (NotFoundError, ValueError):
            return None
        return document if isinstance(document, dict) else None

    def _sidecar(self, filename: str) -> dict[str, Any]:
        try:
            document = json.loads(self._read_inside(Path(filename).stem + SIDECAR_SUFFIX, missing=filename))
        except (NotFoundError, ValueError):
            return {}
        return document if isinstance(document, dict) else {}

    def _capture_names(self) -> list[str]:
        """Names of images that have a sidecar, newest first."""
        try:
            with self._reserve.open(lambda: os.scandir(self.directory)) as entries:
                present = {entry.name for entry in entries}
        except FileNotFoundError:
            return []
        except OSError as exc:
            raise StorageUnavailableError(f"cannot read the captures folder {self.directory}: {exc.strerror}") from None
        images = {name.removesuffix(UPLOADED_SUFFIX) for name in present if name.endswith(UPLOADED_SUFFIX)} | present
        names = [
            name for name in images if _CAPTURE_NAME.fullmatch(name) and Path(name).stem + SIDECAR_SUFFIX in present
        ]
        return sorted(names, key=_sort_key, reverse=True)

    def _describe(self, filename: str) -> CaptureRecord:
        """Metadata of a capture from its sidecar; NotFoundError if it is not a readable capture."""
        match = _CAPTURE_NAME.fullmatch(filename)
        if match is None:
            raise NotFoundError(f"no capture named {echo(filename)}")
        uploaded = self._uploaded_record(filename)
        if uploaded is None:
            self._resolve_inside(filename)  # the image is there, and inside
        sidecar = self._read_inside(Path(filename).stem + SIDECAR_SUFFIX, missing=filename)
        try:
            document = json.loads(sidecar)
            location = _location(document.get("storage"), uploaded)
            settings = document["settings"]
            captured_at = datetime.fromisoformat(document["captured_at"])
            metadata = document.get("metadata")
            return CaptureRecord(
                filename=filename,
                image_format=_EXTENSION_FORMATS[match["ext"]],
                size_bytes=int(document["size_bytes"]),
                width=int(document["width"]),
                height=int(document["height"]),
                frame_number=int(document["frame_number"]),
                captured_at=captured_at,
                exposure_ms=float(settings["exposure_ms"]),
                gain_db=float(settings["gain_db"]),
                metadata=FrameMetadata.from_json(metadata) if isinstance(metadata, Mapping) else None,
                location=location,
            )
        except (ValueError, TypeError, KeyError) as exc:
            if filename not in self._reported_unreadable:  # once per file, not once per listing
                if len(self._reported_unreadable) >= _UNREADABLE_REMEMBERED:
                    self._reported_unreadable.clear()
                self._reported_unreadable.add(filename)
                log.warning("ignoring capture %s: unreadable sidecar (%s)", filename, exc)
            raise NotFoundError(f"no capture named {echo(filename)}") from None

    def _resolve_inside(self, name: str, *, missing: str | None = None) -> Path:
        """The real path of ``name`` in the folder; NotFoundError for anything but a plain name of a regular
        file there (a link is followed only if it ends inside the folder)."""
        not_found = NotFoundError(f"no capture named {echo(missing or name)}")
        if not name or name != Path(name).name or name.startswith(".") or "\\" in name or "\0" in name:
            raise not_found
        try:
            resolved = (self.directory / name).resolve(strict=True)
        except (OSError, RuntimeError):
            raise not_found from None
        if resolved.parent != self.directory or not resolved.is_file():  # not a folder, FIFO or device
            raise not_found
        return resolved

    def _read_inside(self, name: str, *, missing: str | None = None) -> bytes:
        """Bytes of the regular file ``name`` in the folder (see :meth:`_resolve_inside`)."""
        resolved = self._resolve_inside(name, missing=missing)
        try:
            fd = self._reserve.open(
                lambda: os.open(resolved, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC)
            )
        except OSError:
            raise NotFoundError(f"no capture named {echo(missing or name)}") from None
        try:
            if not stat.S_ISREG(os.fstat(fd).st_mode):  # a folder, a FIFO, a device: not a capture
                raise NotFoundError(f"no capture named {echo(missing or name)}")
        except BaseException:
            os.close(fd)
            raise
        with os.fdopen(fd, "rb") as file:
            return file.read()


def _location(storage: object, uploaded: Mapping[str, Any] | None) -> StorageLocation:
    """A capture's location from its sidecar's ``storage`` block and its upload record."""
    if uploaded is not None:
        return StorageLocation(StorageState.UPLOADED, str(uploaded["bucket"]), str(uploaded["key"]))
    if isinstance(storage, Mapping):
        return StorageLocation(StorageState.SPOOLED, str(storage["bucket"]), str(storage["object_key"]))
    return LOCAL


def _sort_key(filename: str) -> tuple[str, int, int]:
    """Capture time (from the name), frame number, collision number: increasing with age reversed."""
    match = _CAPTURE_NAME.fullmatch(filename)
    if match is None:
        return ("", 0, 0)
    return (match["date"] + match["time"] + match["micros"], int(match["frame"]), int(match["attempt"] or 0))


def _encode_page_token(filename: str) -> str:
    return base64.urlsafe_b64encode(filename.encode()).decode().rstrip("=")


def _decode_page_token(token: str) -> str:
    try:
        filename = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)).decode()
    except (binascii.Error, UnicodeDecodeError, ValueError):
        filename = ""
    if not _CAPTURE_NAME.fullmatch(filename):
        raise InvalidArgumentError("page_token", token, reason="is not a next_page_token returned by ListCaptures")
    return filename


def sidecar_document(capture: NewCapture, camera: CameraDescription | None, quality: int) -> dict[str, object]:
    """The JSON metadata written next to an image."""
    document: dict[str, object] = {
        "filename": capture.filename,
        "path": str(capture.path),
        "format": capture.image_format,
        "size_bytes": capture.size_bytes,
        "width": capture.width,
        "height": capture.height,
        "pixel_format": capture.pixel_format.value,
        "bit_depth": capture.bit_depth,
        "frame_number": capture.frame_number,
        "captured_at": capture.captured_at.isoformat(),
        "image": dict(capture.image),
        "settings": {"exposure_ms": capture.exposure_ms, "gain_db": capture.gain_db},
    }
    if capture.metadata is not None:
        document["metadata"] = capture.metadata.to_json()
    if capture.camera_settings is not None:
        document["camera_settings"] = dict(capture.camera_settings)
    if capture.image_format == "jpeg":
        document["quality"] = quality
    if camera is not None:
        camera_fields = asdict(camera)
        camera_fields.pop("features", None)  # capabilities describe the camera, not this frame
        camera_fields["exposure_ms"] = asdict(camera.exposure_ms)
        camera_fields["gain_db"] = asdict(camera.gain_db)
        camera_fields["pixel_formats"] = [fmt.value for fmt in camera.pixel_formats]
        document["camera"] = camera_fields
    return document


def _json_value(value: Any) -> Any:
    """``value`` as JSON values: enums by their value, dataclasses and mappings as objects, sequences as lists."""
    if isinstance(value, enum.Enum):
        return value.value
    if is_dataclass(value) and not isinstance(value, type):
        return {item.name: _json_value(getattr(value, item.name)) for item in fields(value)}
    if isinstance(value, Mapping):
        return {str(key): _json_value(item) for key, item in value.items()}
    if isinstance(value, (list, tuple, set, frozenset)):
        return [_json_value(item) for item in value]
    if value is None or isinstance(value, (str, int, float, bool)):
        return value
    raise TypeError(f"capture settings: {type(value).__name__} is not a JSON value")


def _storage_error(exc: OSError, directory: Path) -> Exception:
    if exc.errno in _FULL_ERRNOS:
        return StorageFullError(f"no space left for captures in {directory}")
    return StorageUnavailableError(f"cannot write captures to {directory}: {exc.strerror or exc}")


def _unlink_quietly(path: Path) -> bool:
    try:
        path.unlink(missing_ok=True)
    except OSError as exc:
        log.warning("could not remove %s: %s", path, exc)
        return False
    return True
