"""Thumbnails of captures and recordings: small JPEGs made by the service, cached on disk.

**Making one.** :func:`frame_thumbnail` takes an image array as a camera delivers it (a
:class:`~camera_grpc.formats.PixelFormat` and its significant bits: a recording's frame) and
:func:`file_thumbnail` an image file's bytes (a capture). Both go through the one imaging path of
:mod:`camera_grpc.core.imaging`: 16-bit samples keep their top 8 significant bits, a Bayer mosaic is
demosaiced (after it is shrunk as a mosaic, which keeps its phase and costs a fraction of demosaicing
the full frame), the image is shrunk to at most ``max_width`` pixels wide (aspect ratio kept, never
enlarged) and encoded as JPEG (:data:`THUMBNAIL_JPEG_QUALITY`).

**Widths.** :data:`THUMBNAIL_WIDTH_MIN_PX` to :data:`THUMBNAIL_WIDTH_MAX_PX`, 0 meaning
:data:`DEFAULT_THUMBNAIL_WIDTH_PX`; :func:`thumbnail_width` is the one check (captures'
``thumbnail_max_width``, recordings' ``max_width``).

**The cache.** :class:`ThumbnailCache` keeps each thumbnail as one file in its folder, named by a hash
of the source's name, the width and a hash of the source's *version*: for a local file its size,
modification time and inode (:meth:`ThumbnailSource.of_file`), for bytes already read a hash of their
content (:meth:`ThumbnailSource.of_bytes`). A changed source has another version, so it is never served
a stale thumbnail; writing a new version's thumbnail removes the older versions' of the same source
and width. Files are written atomically (:func:`camera_grpc.core.atomic.replace_atomically`), so a
reader sees a whole thumbnail or none, and two threads making the same one at once both succeed.
A cache that cannot be written (read-only or full disk) is logged once and the thumbnail is served
anyway. Blocking: call it on an executor, never on the event loop. Thread-safe (no state but the
folder's files and a logged-once flag).
"""

from __future__ import annotations

import contextlib
import hashlib
import logging
import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

from camera_grpc.core import imaging
from camera_grpc.core.atomic import replace_atomically
from camera_grpc.errors import InvalidArgumentError
from camera_grpc.formats import IMAGE_FORMATS, PixelFormat

log = logging.getLogger(__name__)

#: Thumbnail widths, pixels: the smallest and largest a client may ask for, and what 0 (unset) means.
THUMBNAIL_WIDTH_MIN_PX = 16
THUMBNAIL_WIDTH_MAX_PX = 1024
DEFAULT_THUMBNAIL_WIDTH_PX = 256
#: JPEG quality of thumbnails (small images for a gallery: lower than captures' default without visible loss).
THUMBNAIL_JPEG_QUALITY = 85
#: MIME type of every thumbnail.
THUMBNAIL_CONTENT_TYPE = IMAGE_FORMATS["jpeg"].content_type
#: Hex digits of the hashes in cached file names (128 bits: collisions are not a concern).
_HASH_HEX_DIGITS = 32
#: Bits of an 8-bit sample (what a thumbnail holds).
_EIGHT_BITS = 8


def thumbnail_width(max_width: int, field: str = "max_width") -> int:
    """The width to make: ``max_width`` pixels, 0 meaning the default; InvalidArgumentError naming ``field`` and
    the range in pixels otherwise."""
    if max_width == 0:
        return DEFAULT_THUMBNAIL_WIDTH_PX
    if not THUMBNAIL_WIDTH_MIN_PX <= max_width <= THUMBNAIL_WIDTH_MAX_PX:
        raise InvalidArgumentError(
            field,
            max_width,
            reason=f"must be between {THUMBNAIL_WIDTH_MIN_PX} and {THUMBNAIL_WIDTH_MAX_PX} pixels (0: "
            f"{DEFAULT_THUMBNAIL_WIDTH_PX})",
        )
    return max_width


def frame_thumbnail(pixels: np.ndarray, pixel_format: PixelFormat, bit_depth: int, max_width: int) -> bytes:
    """A JPEG at most ``max_width`` wide of a frame's pixels as delivered in ``pixel_format`` (see the module
    docstring): grey for mono formats, colour for RGB24 and Bayer mosaics."""
    delivered = pixel_format.delivered
    samples = imaging.eight_bit(pixels, delivered, bit_depth)
    if delivered.is_bayer:
        # Shrunk as a mosaic to about twice the width (demosaicing then interpolates little), then demosaiced.
        mosaic = imaging.downscale_mosaic(samples, 2 * max_width)
        samples = imaging.demosaic(mosaic, delivered)
    return imaging.encode_jpeg(imaging.downscale(samples, max_width), THUMBNAIL_JPEG_QUALITY)


def file_thumbnail(data: bytes, max_width: int, bit_depth: int | None = None) -> bytes:
    """A JPEG at most ``max_width`` wide of an image file's content (JPEG, PNG, TIFF, BMP; grey or colour, 8- or
    16-bit). ``bit_depth``: significant bits of 16-bit samples; None: the fewest that hold the largest sample
    (at least 8). ValueError if the bytes are not an image OpenCV reads."""
    image = cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_UNCHANGED)
    if image is None:
        raise ValueError("not an image file OpenCV can read")
    if image.ndim == 3:
        image = cv2.cvtColor(image, cv2.COLOR_BGRA2RGB if image.shape[2] == 4 else cv2.COLOR_BGR2RGB)
    if image.dtype == np.uint16:
        significant = bit_depth or max(_EIGHT_BITS, int(image.max()).bit_length())
        image = imaging.eight_bit(image, PixelFormat.MONO16, significant)
    elif image.dtype != np.uint8:
        raise ValueError(f"{image.dtype} images are not supported")
    return imaging.encode_jpeg(imaging.downscale(image, max_width), THUMBNAIL_JPEG_QUALITY)


#: Folder of the capture thumbnails' cache inside the service's STATE_PATH.
STATE_CACHE_FOLDER = "thumbnails"


def default_cache_directory() -> Path:
    """The cache folder of a service not given one: ``$XDG_CACHE_HOME/camera-grpc/thumbnails`` (default
    ``~/.cache``), the place for caches on Linux. Entries are keyed by content, so services may share it."""
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "camera-grpc" / "thumbnails"


def _digest(*parts: str | bytes) -> str:
    hasher = hashlib.blake2b(digest_size=_HASH_HEX_DIGITS // 2)
    for part in parts:
        hasher.update(part.encode() if isinstance(part, str) else part)
        hasher.update(b"\0")
    return hasher.hexdigest()


@dataclass(frozen=True)
class ThumbnailSource:
    """What a thumbnail is made from: a name unique in its cache and a version that changes with the content."""

    name: str
    version: str

    @classmethod
    def of_file(cls, path: Path) -> ThumbnailSource:
        """A local file (or folder), versioned by its size, modification time and inode; OSError if it is missing."""
        status = path.stat()
        return cls(str(path.resolve()), f"{status.st_size}-{status.st_mtime_ns}-{status.st_ino}")

    @classmethod
    def of_bytes(cls, name: str, data: bytes) -> ThumbnailSource:
        """Content already read (e.g. from an object store), versioned by a hash of it."""
        return cls(name, _digest(data))


class ThumbnailCache:
    """A folder of thumbnails (see the module docstring). Blocking; safe on any thread."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory.expanduser()
        self._write_failure_logged = False

    def thumbnail_path(self, source: ThumbnailSource | Path, max_width: int) -> Path:
        """Where the thumbnail of this version of ``source`` at ``max_width`` is (or will be) kept."""
        if isinstance(source, Path):
            source = ThumbnailSource.of_file(source)
        return self.directory / f"{_digest(source.name)}_{max_width}_{_digest(source.version)}.jpg"

    def get(self, source: ThumbnailSource | Path, max_width: int, make: Callable[[], bytes]) -> bytes:
        """The cached thumbnail, or ``make()`` (then cached). ``make``'s errors propagate; cache errors do not."""
        if isinstance(source, Path):
            source = ThumbnailSource.of_file(source)
        path = self.thumbnail_path(source, max_width)
        try:
            return path.read_bytes()
        except FileNotFoundError:
            pass
        except OSError as exc:
            log.warning("could not read the cached thumbnail %s: %s", path, exc)
        data = make()
        self._store(path, data)
        return data

    def forget(self, name: str) -> int:
        """Remove every cached thumbnail (any width, any version) of the source ``name`` (blocking); returns how
        many. One that cannot be removed (a read-only cache, or another thread was first) is left."""
        removed = 0
        for path in self.directory.glob(f"{_digest(name)}_*.jpg"):
            with contextlib.suppress(OSError):
                path.unlink()
                removed += 1
        return removed

    def of_file_content(self, name: str, content: bytes, max_width: int, bit_depth: int | None = None) -> bytes:
        """The thumbnail of an image file's ``content`` (see :func:`file_thumbnail`), cached under ``name`` by a
        hash of the content (so it is right wherever the bytes came from: a local folder or an object store)."""
        source = ThumbnailSource.of_bytes(name, content)
        return self.get(source, max_width, lambda: file_thumbnail(content, max_width, bit_depth))

    def _store(self, path: Path, data: bytes) -> None:
        try:
            self.directory.mkdir(parents=True, exist_ok=True)
            replace_atomically(path, data)
        except OSError as exc:
            if not self._write_failure_logged:
                self._write_failure_logged = True
                log.warning("thumbnails are not cached: cannot write %s: %s", self.directory, exc)
            return
        self._remove_older_versions(path)

    def _remove_older_versions(self, path: Path) -> None:
        """Remove the thumbnails of other versions of the same source at the same width."""
        name_and_width = path.name.rsplit("_", 1)[0]
        for other in self.directory.glob(f"{name_and_width}_*.jpg"):
            if other.name != path.name:
                with contextlib.suppress(OSError):  # removed by another thread already: nothing left to do
                    os.unlink(other)
