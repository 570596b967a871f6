"""The recordings folder: one sub-folder per recording, its metadata, frame log, listing, downloads, deletion, recovery.

Layout (``<recordings>/<recording_id>/``):

* ``recording.json``: the recording's metadata (settings as passed in, the camera, the geometry, the
  request, the state with its end time and failure reason, the final counts). Rewritten atomically
  (temporary file, fsync, rename) at every state change, so it is always a complete document.
* ``frames.jsonl``: the frame log, JSON Lines, one line appended per frame written (after the frame is
  in its file), and one line per run of dropped frames (``{"dropped_from": a, "dropped_to": b, "reason":
  ...}``, camera frame numbers, inclusive). Each line is written with one ``write`` call and flushed to
  the operating system, so after a ``kill -9`` it holds every frame written; a line cut by a power loss
  can only be the last one, and readers (:func:`read_frame_log`) ignore a last line that does not parse.
  (JSON Lines rather than a JSON document rewritten in batches: appending costs one small write per
  frame, and nothing already written is ever rewritten.)
* the data files, ``<recording_id>.ome.tif`` (or ``<recording_id>_0001.ome.tif``, ... with
  ``frames_per_file``), ``.ome.zarr`` store folders, ``.mp4``.

Files are served by name only if the name is one the recording lists (:meth:`RecordingStore.file_names`) and
the file resolves to a regular file directly inside the recording's folder: anything else is "not found",
as for captures. An OME-Zarr store (a folder) is offered as ``<store>.zip`` (stored, not compressed), made
when first downloaded once the recording has ended.

With an object store, a data file the store confirmed gets an upload record, ``.uploaded/<file>.json`` (bucket,
key, size, content type, SHA-256; written atomically by :meth:`RecordingStore.mark_uploaded`); once every file
of the recording has one, :meth:`RecordingStore.release_uploaded` removes the local data files (an OME-Zarr
store with its zip), keeping the metadata, the frame log and the cached thumbnails. The records are what
:meth:`RecordingStore.files` lists for a file that left the disk, so the recording is listed alike before and
after; its bytes are then read from the bucket.

At start-up (:meth:`RecordingStore.recover`), a recording whose metadata still says RUNNING was cut off
(the process was killed or the machine lost power): it is marked FAILED ("service stopped") with its
counts taken from the frame log. The folder is ``flock``-ed while a store is open so two services never
share (or recover) each other's recordings.
"""

from __future__ import annotations

import base64
import binascii
import contextlib
import enum
import errno
import fcntl
import json
import logging
import os
import re
import shutil
import stat
import uuid
import zipfile
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, BinaryIO

from camera_grpc.core.atomic import replace_atomically
from camera_grpc.core.recording_writers import RecordingFormat, finish_ome_tiff
from camera_grpc.core.storage import LOCAL, FdReserve, StorageLocation
from camera_grpc.errors import (
    CameraServiceError,
    InvalidArgumentError,
    NotFoundError,
    StorageFullError,
    StorageUnavailableError,
    echo,
)

log = logging.getLogger(__name__)

METADATA_NAME = "recording.json"
FRAME_LOG_NAME = "frames.jsonl"
#: Content types of the files a recording has besides its data files.
_SIDECAR_CONTENT_TYPES = {METADATA_NAME: "application/json", FRAME_LOG_NAME: "application/x-ndjson"}
#: A recording id (AIP-122 style): lower-case letters, digits and "-", 1 to 63 characters, not starting with "-".
RECORDING_ID = re.compile(r"[a-z0-9][a-z0-9-]{0,62}", re.ASCII)
RECORDING_ID_RULE = "must be 1 to 63 lower-case letters, digits or '-', not starting with '-'"
#: Resource name prefix of recordings.
RESOURCE_PREFIX = "recordings/"
#: Suffix of the zip an OME-Zarr store is downloaded as.
ZIP_SUFFIX = ".zip"
#: Hidden names: temporary files and folders being deleted (never listed, never served).
_TEMPORARY_PREFIX = ".tmp-"
_DELETING_PREFIX = ".deleting-"
#: The folder, in a recording's folder, of the upload records of its files (hidden: never listed, never served).
UPLOADED_FOLDER = ".uploaded"
UPLOAD_RECORD_SUFFIX = ".json"
#: Page sizes of :meth:`RecordingStore.list_page`.
DEFAULT_PAGE_SIZE = 50
MAX_PAGE_SIZE = 1000
#: errno values that mean "no space left".
FULL_ERRNOS = frozenset({errno.ENOSPC, errno.EDQUOT, errno.EFBIG})
#: Failure reasons.
REASON_SERVICE_STOPPED = "service stopped"
REASON_DISK_FULL = "disk full"
REASON_CAMERA_DISCONNECTED = "camera disconnected"


class RecordingState(enum.Enum):
    """Where a recording is in its life (``camera.v1.RecordingState``)."""

    RUNNING = "running"
    COMPLETED = "completed"  #: reached max_frames or max_duration_s
    STOPPED = "stopped"  #: stop() ended it
    FAILED = "failed"  #: ended on an error (``failure_reason``); the frames written are kept


class RecordingNotFoundError(NotFoundError):
    """No recording has that id (or the file named is not one of the recording's files)."""


# Both below are FAILED_PRECONDITION through their base until camera_grpc.rpc.status lists them (RecordingStateError:
# FAILED_PRECONDITION; RecordingExistsError: ALREADY_EXISTS); their own ErrorInfo reasons tell them apart already.


class RecordingStateError(StorageUnavailableError):
    """The recording (or the recorder) is not in a state that allows this: deleting a running recording,
    starting while another runs, downloading an OME-Zarr zip while it is still written."""

    error_reason = "RECORDING_STATE"


class RecordingExistsError(StorageUnavailableError):
    """A recording with that id exists already."""

    error_reason = "RECORDING_EXISTS"


@dataclass(frozen=True)
class RecordingFile:
    """One downloadable file of a recording."""

    name: str
    size_bytes: int
    content_type: str
    location: StorageLocation = LOCAL  #: as the manager's ``locate`` says (LOCAL without an object store)


def parse_name(name: str) -> str:
    """The id of ``recordings/{id}`` (or of a bare id); RecordingNotFoundError if it is not a recording name."""
    recording_id = name.removeprefix(RESOURCE_PREFIX)
    if not RECORDING_ID.fullmatch(recording_id):
        raise RecordingNotFoundError(f"no recording named {echo(name)}")
    return recording_id


def check_id(recording_id: str) -> str:
    """``recording_id`` if it is a valid new id; InvalidArgumentError naming the rule otherwise."""
    if not RECORDING_ID.fullmatch(recording_id):
        raise InvalidArgumentError("recording_id", recording_id, reason=RECORDING_ID_RULE)
    return recording_id


def storage_error(exc: OSError, directory: Path) -> CameraServiceError:
    """The domain error of a failed write in the recordings folder."""
    if exc.errno in FULL_ERRNOS:
        return StorageFullError(f"no space left for recordings in {directory}")
    return StorageUnavailableError(f"cannot write recordings to {directory}: {exc.strerror or exc}")


def first_frame_record(path: Path) -> dict[str, Any] | None:
    """The first frame's line of a frame log (reads only up to it), or None if no frame is logged yet."""
    try:
        with path.open("rb") as log_file:
            for line in log_file:
                try:
                    record = json.loads(line)
                except ValueError:
                    return None  # cut short: the frame is being logged
                if isinstance(record, dict) and "dropped_from" not in record:
                    return record
    except FileNotFoundError:
        pass
    return None


def read_frame_log(path: Path) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """The frames and the dropped runs of a frame log, in order (a last line cut short is ignored)."""
    frames: list[dict[str, Any]] = []
    drops: list[dict[str, Any]] = []
    try:
        text = path.read_text()
    except FileNotFoundError:
        return frames, drops
    for line in text.splitlines():
        try:
            record = json.loads(line)
        except ValueError:
            continue  # only the last line can be cut short by a crash
        (drops if "dropped_from" in record else frames).append(record)
    return frames, drops


class FrameLog:
    """The append-only frame log of one recording (used by its writer thread only)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND | os.O_CLOEXEC, 0o644)
        self.size_bytes = 0

    def append(self, record: Mapping[str, Any]) -> None:
        """One line, written with one system call (in the operating system when this returns)."""
        line = (json.dumps(record, separators=(",", ":")) + "\n").encode()
        written = os.write(self._fd, line)
        if written != len(line):
            raise OSError(errno.ENOSPC, "short write to the frame log")
        self.size_bytes += written

    def close(self) -> None:
        """fsync and close (idempotent)."""
        if self._fd < 0:
            return
        try:
            os.fsync(self._fd)
        finally:
            os.close(self._fd)
            self._fd = -1


class RecordingStore:
    """The recordings folder (blocking methods: call them off the event loop). Thread-safe: every method works
    on files only, and each file has one writer (a recording's metadata: the manager's calls and the recording's
    writer thread never overlap, see :mod:`camera_grpc.core.recording`)."""

    def __init__(self, directory: Path, *, fd_reserve: FdReserve | None = None) -> None:
        self.directory = directory.expanduser().resolve()
        self._reserve = fd_reserve if fd_reserve is not None else FdReserve(0)
        self._lock_fd: int | None = None

    # -- folder -----------------------------------------------------------------------------------------------

    def ensure_writable(self) -> None:
        """Create the folder if needed; StorageUnavailableError if it cannot be written."""
        try:
            self.directory.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise storage_error(exc, self.directory) from None
        if not os.access(self.directory, os.W_OK | os.X_OK):
            raise StorageUnavailableError(f"recordings folder {self.directory} is not writable")

    def lock(self) -> bool:
        """Hold an exclusive lock on the folder for as long as the store is open; False if another process has it."""
        if self._lock_fd is not None:
            return True
        self.ensure_writable()
        fd = os.open(self.directory, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            os.close(fd)
            log.warning(
                "recordings folder %s is in use by another process; leaving its recordings alone", self.directory
            )
            return False
        self._lock_fd = fd
        return True

    def close(self) -> None:
        """Release the folder's lock."""
        if self._lock_fd is not None:
            os.close(self._lock_fd)
            self._lock_fd = None

    def path_of(self, recording_id: str) -> Path:
        return self.directory / recording_id

    # -- metadata ---------------------------------------------------------------------------------------------

    def create(self, recording_id: str, document: Mapping[str, Any]) -> Path:
        """Make the recording's folder and its metadata; RecordingExistsError if the id is taken."""
        self.ensure_writable()
        folder = self.path_of(recording_id)
        try:
            folder.mkdir()
        except FileExistsError:
            raise RecordingExistsError(f"a recording named {RESOURCE_PREFIX}{recording_id} exists already") from None
        except OSError as exc:
            raise storage_error(exc, self.directory) from None
        try:
            self.write_metadata(recording_id, document)
        except BaseException:
            shutil.rmtree(folder, ignore_errors=True)
            raise
        return folder

    def write_metadata(self, recording_id: str, document: Mapping[str, Any]) -> None:
        """Replace the recording's metadata atomically (temporary file, fsync, rename, fsync of the folder)."""
        folder = self.path_of(recording_id)
        content = json.dumps(document, indent=2).encode()
        try:
            replace_atomically(folder / METADATA_NAME, content, open_temporary=self._reserve.open)
        except OSError as exc:
            raise storage_error(exc, self.directory) from None

    def read_metadata(self, recording_id: str) -> dict[str, Any]:
        """The recording's metadata; RecordingNotFoundError if there is no such (readable) recording."""
        path = self.path_of(recording_id) / METADATA_NAME
        try:
            document = json.loads(path.read_bytes())
        except (OSError, ValueError):
            raise RecordingNotFoundError(f"no recording named {RESOURCE_PREFIX}{recording_id}") from None
        if not isinstance(document, dict):
            raise RecordingNotFoundError(f"no recording named {RESOURCE_PREFIX}{recording_id}")
        return document

    def open_frame_log(self, recording_id: str) -> FrameLog:
        try:
            return self._reserve.open(lambda: FrameLog(self.path_of(recording_id) / FRAME_LOG_NAME))
        except OSError as exc:
            raise storage_error(exc, self.directory) from None

    # -- listing ----------------------------------------------------------------------------------------------

    def ids(self) -> list[str]:
        """Ids of the recordings in the folder (unordered)."""
        try:
            with os.scandir(self.directory) as entries:
                return [
                    entry.name
                    for entry in entries
                    if RECORDING_ID.fullmatch(entry.name) and entry.is_dir(follow_symlinks=False)
                ]
        except FileNotFoundError:
            return []
        except OSError as exc:
            raise StorageUnavailableError(
                f"cannot read the recordings folder {self.directory}: {exc.strerror}"
            ) from None

    def list_page(self, page_size: int = 0, page_token: str = "") -> tuple[list[dict[str, Any]], str]:
        """One page of recordings' metadata, newest first (by start time, then id), and the next page's token."""
        size = min(page_size or DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE)
        documents = []
        for recording_id in self.ids():
            try:
                documents.append(self.read_metadata(recording_id))
            except RecordingNotFoundError:
                continue  # being created or deleted, or not a recording
        documents.sort(key=_sort_key, reverse=True)
        if page_token:
            after = _decode_page_token(page_token)
            documents = [document for document in documents if _sort_key(document) < after]
        page = documents[:size]
        token = _encode_page_token(_sort_key(page[-1])) if len(documents) > size else ""
        return page, token

    # -- files ------------------------------------------------------------------------------------------------

    def files(self, recording_id: str, recording_format: RecordingFormat) -> list[RecordingFile]:
        """The recording's downloadable files: data files (an OME-Zarr store as its zip; its size is the store's
        until the zip is made), then the metadata and the frame log."""
        folder = self.path_of(recording_id)
        result: list[RecordingFile] = []
        try:
            with os.scandir(folder) as entries:
                listed = sorted(entries, key=lambda entry: entry.name)
        except OSError:
            return result
        names = {entry.name for entry in listed}
        uploaded = self.upload_records(recording_id)
        for name, record in sorted(uploaded.items()):
            if name.endswith(recording_format.suffix) or name.endswith(recording_format.suffix + ZIP_SUFFIX):
                result.append(RecordingFile(name, int(record["size_bytes"]), str(record["content_type"])))
        for entry in listed:
            name = entry.name
            if name.startswith(".") or name in uploaded or name + ZIP_SUFFIX in uploaded:
                continue
            if name.endswith(recording_format.suffix):
                if entry.is_dir(follow_symlinks=False):
                    zipped = name + ZIP_SUFFIX
                    size = (folder / zipped).stat().st_size if zipped in names else _tree_size(folder / name)
                    result.append(RecordingFile(zipped, size, recording_format.content_type))
                elif entry.is_file(follow_symlinks=False):
                    result.append(RecordingFile(name, entry.stat().st_size, recording_format.content_type))
        result.sort(key=lambda file: file.name)
        for name, content_type in _SIDECAR_CONTENT_TYPES.items():
            if name in names:
                result.append(RecordingFile(name, (folder / name).stat().st_size, content_type))
        return result

    # -- upload records (with an object store) ----------------------------------------------------------------

    def upload_records(self, recording_id: str) -> dict[str, dict[str, Any]]:
        """The upload records of the recording's files, by file name (unreadable ones are skipped)."""
        records: dict[str, dict[str, Any]] = {}
        try:
            paths = list((self.path_of(recording_id) / UPLOADED_FOLDER).glob(f"*{UPLOAD_RECORD_SUFFIX}"))
        except OSError:
            return records
        for path in paths:
            try:
                record = json.loads(path.read_bytes())
            except (OSError, ValueError):
                continue
            if isinstance(record, dict) and not path.name.startswith("."):
                records[path.name.removesuffix(UPLOAD_RECORD_SUFFIX)] = record
        return records

    def upload_record(self, recording_id: str, name: str) -> dict[str, Any] | None:
        """The upload record of one file (None: not uploaded)."""
        return read_upload_record(self.path_of(recording_id), name)

    def mark_uploaded(self, recording_id: str, name: str, record: Mapping[str, Any]) -> None:
        """Record, durably and atomically, that the file ``name`` is in the object store (``record``: at least
        ``bucket``, ``key``, ``size_bytes`` and ``content_type``). RecordingNotFoundError if the recording is
        gone (deleted meanwhile)."""
        folder = self.path_of(recording_id)
        if not (folder / METADATA_NAME).is_file():
            raise RecordingNotFoundError(f"no recording named {RESOURCE_PREFIX}{recording_id}")
        try:
            (folder / UPLOADED_FOLDER).mkdir(exist_ok=True)
            replace_atomically(
                folder / UPLOADED_FOLDER / f"{name}{UPLOAD_RECORD_SUFFIX}", json.dumps(dict(record)).encode()
            )
        except FileNotFoundError:
            raise RecordingNotFoundError(f"no recording named {RESOURCE_PREFIX}{recording_id}") from None
        except OSError as exc:
            raise storage_error(exc, self.directory) from None

    def release_uploaded(self, recording_id: str, recording_format: RecordingFormat) -> list[str]:
        """Remove the local data files that have an upload record (an OME-Zarr store goes with its zip), and
        what an interrupted removal left; returns the names removed. Idempotent: a crash half way is finished by
        the next call. The metadata, the frame log and the thumbnails stay."""
        folder = self.path_of(recording_id)
        removed = []
        for name in sorted(self.upload_records(recording_id)):
            if name in _SIDECAR_CONTENT_TYPES:
                continue
            path = folder / name
            store = folder / name.removesuffix(ZIP_SUFFIX) if name.endswith(ZIP_SUFFIX) else None
            if store is not None and store.is_dir() and not store.is_symlink():
                doomed = folder / f"{_TEMPORARY_PREFIX}{uuid.uuid4().hex}"
                os.rename(store, doomed)  # gone from the listing at once, then removed
                shutil.rmtree(doomed, ignore_errors=True)
                removed.append(store.name)
            with contextlib.suppress(FileNotFoundError):
                path.unlink()
                removed.append(name)
        for leftover in folder.glob(f"{_TEMPORARY_PREFIX}*"):
            if leftover.is_dir() and not leftover.is_symlink():
                shutil.rmtree(leftover, ignore_errors=True)
        return removed

    def is_local_data(self, recording_id: str, recording_format: RecordingFormat) -> bool:
        """Whether a data file (or an OME-Zarr store) of the recording is still in its folder."""
        try:
            with os.scandir(self.path_of(recording_id)) as entries:
                return any(e.name.endswith(recording_format.suffix) and not e.name.startswith(".") for e in entries)
        except OSError:
            return False

    def open_file(
        self, recording_id: str, recording_format: RecordingFormat, name: str, *, finished: bool
    ) -> tuple[BinaryIO, int]:
        """A recording's file opened for reading, and its size; RecordingNotFoundError for anything but a name
        the recording lists that is a regular file inside its folder. An OME-Zarr store's zip is made on first
        use once the recording has ended (``finished``)."""
        folder = self.path_of(recording_id)
        not_found = RecordingNotFoundError(f"recording {RESOURCE_PREFIX}{recording_id} has no file named {echo(name)}")
        if not name or name != Path(name).name or name.startswith(".") or "\\" in name or "\0" in name:
            raise not_found
        if name not in {file.name for file in self.files(recording_id, recording_format)}:
            raise not_found
        store = folder / name.removesuffix(ZIP_SUFFIX)
        if name.endswith(ZIP_SUFFIX) and store.is_dir() and not (folder / name).exists():
            if not finished:
                raise RecordingStateError(f"{name} is made once the recording has ended; it is still running")
            self._zip_store(store, folder / name)
        try:
            resolved = (folder / name).resolve(strict=True)
        except (OSError, RuntimeError):
            raise not_found from None
        if resolved.parent != folder.resolve():
            raise not_found
        try:
            fd = self._reserve.open(
                lambda: os.open(resolved, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC)
            )
        except OSError:
            raise not_found from None
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            os.close(fd)
            raise not_found
        return os.fdopen(fd, "rb"), info.st_size

    def _zip_store(self, store: Path, target: Path) -> None:
        """Zip a store folder (stored, not compressed: chunks are raw camera data) to ``target``, atomically."""
        tmp = target.with_name(f"{_TEMPORARY_PREFIX}{uuid.uuid4().hex}{ZIP_SUFFIX}")
        try:
            with zipfile.ZipFile(tmp, "w", zipfile.ZIP_STORED, allowZip64=True) as archive:
                for path in sorted(store.rglob("*")):
                    if path.is_file() and not path.is_symlink():
                        archive.write(path, path.relative_to(store.parent).as_posix())
            os.replace(tmp, target)
        except OSError as exc:
            with contextlib.suppress(OSError):
                tmp.unlink()
            raise storage_error(exc, self.directory) from None

    # -- deletion and recovery --------------------------------------------------------------------------------

    def delete(self, recording_id: str) -> None:
        """Remove the recording and its files (it disappears at once: the folder is renamed, then removed)."""
        folder = self.path_of(recording_id)
        if not (folder / METADATA_NAME).is_file():
            raise RecordingNotFoundError(f"no recording named {RESOURCE_PREFIX}{recording_id}")
        doomed = self.directory / f"{_DELETING_PREFIX}{recording_id}-{uuid.uuid4().hex[:8]}"
        try:
            os.rename(folder, doomed)
        except FileNotFoundError:
            raise RecordingNotFoundError(f"no recording named {RESOURCE_PREFIX}{recording_id}") from None
        except OSError as exc:
            raise storage_error(exc, self.directory) from None
        shutil.rmtree(doomed, ignore_errors=True)

    def recover(self) -> list[str]:
        """At start-up: mark recordings left RUNNING as FAILED ("service stopped") with the counts of their frame
        logs, and finish removing folders a deletion left; returns the ids marked. Nothing is done if another
        process holds the folder."""
        if not self.lock():
            return []
        with os.scandir(self.directory) as entries:
            leftovers = [entry.path for entry in entries if entry.name.startswith(_DELETING_PREFIX)]
        for path in leftovers:
            shutil.rmtree(path, ignore_errors=True)
        marked = []
        for recording_id in sorted(self.ids()):
            try:
                document = self.read_metadata(recording_id)
            except RecordingNotFoundError:
                continue
            if document.get("state") != RecordingState.RUNNING.value:
                continue
            folder = self.path_of(recording_id)
            frames, drops = read_frame_log(folder / FRAME_LOG_NAME)
            try:
                recording_format = RecordingFormat(document.get("format"))
            except ValueError:
                recording_format = None
            if recording_format is RecordingFormat.OME_TIFF:
                self._finish_tiffs(folder)
            files = self.files(recording_id, recording_format) if recording_format is not None else []
            size = sum(file.size_bytes for file in files if file.name not in _SIDECAR_CONTENT_TYPES)
            last_change = max((path.stat().st_mtime for path in folder.iterdir()), default=None)
            ended = datetime.fromtimestamp(last_change, UTC) if last_change is not None else datetime.now(UTC)
            document.update(
                state=RecordingState.FAILED.value,
                failure_reason=REASON_SERVICE_STOPPED,
                end_time=ended.isoformat(),
                frames_written=len(frames),
                frames_dropped=sum(int(d["dropped_to"]) - int(d["dropped_from"]) + 1 for d in drops),
                bytes_written=size,
            )
            self.write_metadata(recording_id, document)
            marked.append(recording_id)
            log.warning(
                "recording %s was running when the service stopped: marked failed with %d frame(s) kept",
                recording_id,
                len(frames),
            )
        return marked

    @staticmethod
    def _finish_tiffs(folder: Path) -> None:
        """Give the OME-TIFF files of a cut-off recording their OME-XML (best effort: they read without it)."""
        for path in sorted(folder.glob(f"*{RecordingFormat.OME_TIFF.suffix}")):
            try:
                finish_ome_tiff(path)
            except Exception as exc:
                log.warning("recording file %s: could not write its OME-XML after the crash: %s", path, exc)


def read_upload_record(folder: Path, name: str) -> dict[str, Any] | None:
    """The upload record of the file ``name`` of the recording in ``folder`` (None: not uploaded)."""
    if not name or name != Path(name).name or name.startswith("."):
        return None
    try:
        record = json.loads((folder / UPLOADED_FOLDER / f"{name}{UPLOAD_RECORD_SUFFIX}").read_bytes())
    except (OSError, ValueError):
        return None
    return record if isinstance(record, dict) else None


def _tree_size(path: Path) -> int:
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file() and not p.is_symlink())


def _sort_key(document: Mapping[str, Any]) -> tuple[str, str]:
    return (str(document.get("start_time", "")), str(document.get("id", "")))


def _encode_page_token(key: tuple[str, str]) -> str:
    return base64.urlsafe_b64encode(json.dumps(list(key)).encode()).decode().rstrip("=")


def _decode_page_token(token: str) -> tuple[str, str]:
    try:
        start, recording_id = json.loads(base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)))
        if isinstance(start, str) and isinstance(recording_id, str):
            return (start, recording_id)
    except (binascii.Error, UnicodeDecodeError, ValueError, TypeError):
        pass
    raise InvalidArgumentError("page_token", token, reason="is not a next_page_token returned by ListRecordings")


def iter_chunks(file: BinaryIO, offset: int, chunk_bytes: int) -> Iterator[tuple[int, bytes]]:
    """(offset, bytes) of a file from ``offset`` on, ``chunk_bytes`` at a time (blocking); closes the file. A stream
    that cannot seek (an object read from the store) is taken to start at ``offset`` already."""
    with file:
        if file.seekable():
            file.seek(offset)
        while chunk := file.read(chunk_bytes):
            yield offset, chunk
            offset += len(chunk)
