"""Saving captures: unique names, atomic writes, a JSON sidecar per image.

A capture is the image file ``capture_<UTC date>_<time>_<microseconds>_<frame>.<ext>``
plus ``<same stem>.json`` holding its metadata. Both are written to a
temporary file in the same folder, flushed to disk and then linked into place
without ever replacing an existing file, so a reader never sees a partial
file, two concurrent captures never collide, and a failure leaves nothing
behind. The sidecar is written first; the image appears last, so an image on
disk always has its metadata.
"""

from __future__ import annotations

import errno
import json
import logging
import os
import tempfile
from dataclasses import asdict, dataclass
from datetime import datetime
from pathlib import Path

from camera_grpc import imaging
from camera_grpc.drivers.base import CameraInfo, Frame, PixelFormat
from camera_grpc.errors import StorageFullError, StorageUnavailableError

log = logging.getLogger(__name__)

#: errno values that mean "no space left", as opposed to "not allowed / not there".
_FULL_ERRNOS = frozenset({errno.ENOSPC, errno.EDQUOT, errno.EFBIG})
#: Attempts at a unique name before giving up (only reached if names keep colliding).
_MAX_NAME_ATTEMPTS = 100
SIDECAR_SUFFIX = ".json"


@dataclass(frozen=True)
class SavedCapture:
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


class CaptureStore:
    """The captures folder."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory.expanduser().resolve()

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

    def save(self, frame: Frame, image_format: str, quality: int, camera: CameraInfo | None) -> SavedCapture:
        """Encode and save a frame with its sidecar (blocking: call it off the event loop)."""
        self.ensure_writable()
        data, width, height = imaging.encode_frame(frame, image_format, quality)
        stem = "capture_{}_{}".format(frame.captured_at.strftime("%Y%m%d_%H%M%S_%f"), frame.frame_number)
        ext = imaging.extension(image_format)
        for attempt in range(_MAX_NAME_ATTEMPTS):
            name = stem if attempt == 0 else f"{stem}_{attempt}"
            image_path = self.directory / f"{name}.{ext}"
            sidecar_path = self.directory / f"{name}{SIDECAR_SUFFIX}"
            capture = SavedCapture(
                filename=image_path.name,
                path=image_path,
                metadata_path=sidecar_path,
                image_format=image_format,
                size_bytes=len(data),
                width=width,
                height=height,
                pixel_format=frame.pixel_format,
                bit_depth=frame.bit_depth,
                frame_number=frame.frame_number,
                captured_at=frame.captured_at,
                exposure_ms=frame.exposure_ms,
                gain_db=frame.gain_db,
                data=data,
            )
            sidecar = json.dumps(sidecar_document(capture, camera, quality), indent=2).encode()
            if not self._publish(sidecar, sidecar_path):
                continue
            try:
                if self._publish(data, image_path):
                    return capture
            except BaseException:
                _unlink_quietly(sidecar_path)
                raise
            _unlink_quietly(sidecar_path)
        raise StorageUnavailableError(f"could not find a free file name for {stem} in {self.directory}")

    def _publish(self, content: bytes, final_path: Path) -> bool:
        """Write ``content`` to ``final_path`` atomically; False if that name is taken."""
        try:
            fd, tmp_name = tempfile.mkstemp(dir=self.directory, prefix=".tmp-", suffix=".part")
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


def sidecar_document(capture: SavedCapture, camera: CameraInfo | None, quality: int) -> dict[str, object]:
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
        "settings": {"exposure_ms": capture.exposure_ms, "gain_db": capture.gain_db},
    }
    if capture.image_format == "jpeg":
        document["quality"] = quality
    if camera is not None:
        camera_fields = asdict(camera)
        camera_fields["exposure_ms"] = asdict(camera.exposure_ms)
        camera_fields["gain_db"] = asdict(camera.gain_db)
        camera_fields["pixel_formats"] = [fmt.value for fmt in camera.pixel_formats]
        document["camera"] = camera_fields
    return document


def _storage_error(exc: OSError, directory: Path) -> Exception:
    if exc.errno in _FULL_ERRNOS:
        return StorageFullError(f"no space left for captures in {directory}")
    return StorageUnavailableError(f"cannot write captures to {directory}: {exc.strerror or exc}")


def _unlink_quietly(path: Path) -> None:
    try:
        path.unlink(missing_ok=True)
    except OSError as exc:
        log.warning("could not remove %s: %s", path, exc)
