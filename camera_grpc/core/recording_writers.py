"""Recording file writers: one per format, each fed frames one at a time by a recording's writer thread.

Every writer is used by exactly one thread (the recording's writer thread, see
:mod:`camera_grpc.core.recording`); none is thread-safe. Each opens its file(s) at the first frame
(the frame gives the size and sample type), writes every frame as it comes, and leaves after each
:meth:`FrameWriter.write` a file its standard reader opens with every frame written so far, so a
``kill -9`` loses at most the frame being written:

* **OME-TIFF** (:class:`OmeTiffWriter`, tifffile): one uncompressed page per frame, appended with
  ``TiffWriter.write(contiguous=False)`` and flushed to the operating system after each frame.
  tifffile appends a page by pointing the previous IFD's next-IFD offset at the new IFD and then
  writing it, so after each flush the IFD chain is complete (last next offset 0). Each page carries
  the frame's metadata as JSON in the private tag :data:`FRAME_METADATA_TAG` (number, camera time and
  clock, exposure, gain, trigger). The OME-XML, which needs the page count, is written into the first
  page's ImageDescription at :meth:`close` (``tifffile.tiffcomment``, which appends a longer value and
  repoints the tag), with per-plane ``DeltaT`` (seconds since the first frame, camera clock when the
  camera has one) and ``ExposureTime`` (ms). Until then the first page's description is a JSON
  placeholder, and tifffile reads the pages as a plain multi-page TIFF. BigTIFF when the caller's
  estimate of the file's size exceeds :data:`CLASSIC_TIFF_MAX_BYTES`. 8 and 16-bit grey, raw Bayer
  (stored as the grey mosaic; the phase is in the sidecar) and RGB.
  After a write error (a full disk) :meth:`OmeTiffWriter.abort` cuts the file back to its last
  complete page and ends the IFD chain there, so the file stays readable.
* **OME-Zarr** (:class:`OmeZarrWriter`, Zarr format 2 with OME-NGFF 0.4 metadata, the version most
  readers take): an array ``0`` of shape (t, y, x) or (t, c, y, x) for RGB, one uncompressed chunk per
  frame (chunk keys ``t.0.0``: one folder for all). zarr creates the group and the array; each frame's
  chunk is then written by the writer itself, as the format defines it (the raw little-endian samples in C
  order, no compressor, no filter), with one ``write`` of the frame's buffer (no copy, no compression
  check, none of zarr's per-call machinery: measured 11.6 ms per 5 MP frame through zarr, 3 ms this way),
  and *then* the array's ``.zarray`` grows by one frame. That file is rewritten in place with one
  ``pwrite`` at offset 0 of a fixed length (the JSON padded with spaces to :data:`ZARRAY_PADDED_BYTES`, one
  disk sector, which JSON readers ignore): no truncation and no rename (a rename over the old file cost
  2.5 ms per frame on ext4, which flushes a file renamed over another), so the file is always one whole
  document. The store is always readable and shows exactly the frames whose chunk is complete: a kill
  between the two leaves a chunk beyond the shape that no reader sees (the frame log, written after, does
  not list it either).
* **MP4** (:class:`Mp4Writer`, PyAV/libx264): H.264 in ``yuv420p`` (browser-playable), frames scaled
  to at most ``max_width`` (even sizes), Bayer demosaiced to colour, mono as grey, 16-bit reduced to
  its top 8 significant bits (:mod:`camera_grpc.core.imaging`). Fragmented MP4 (``empty_moov``,
  a fragment per key frame) so the file plays as far as written even without a proper end.

:class:`SplitWriter` starts a new file every ``frames_per_file`` frames.
"""

from __future__ import annotations

import contextlib
import enum
import errno
import json
import logging
import os
from abc import ABC, abstractmethod
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from fractions import Fraction
from pathlib import Path
from typing import Any, BinaryIO

import av
import numpy as np
import tifffile
import zarr

from camera_grpc.core import imaging
from camera_grpc.core.storage import FrameMetadata
from camera_grpc.device.base import Frame
from camera_grpc.formats import PixelFormat

log = logging.getLogger(__name__)

#: Private TIFF tag (in the range TIFF reserves for private use) holding each page's frame metadata as JSON.
FRAME_METADATA_TAG = 65000
#: Largest estimated file size written as classic TIFF (32-bit offsets; 4 GiB less a margin for IFDs and
#: the OME-XML); above it, BigTIFF.
CLASSIC_TIFF_MAX_BYTES = 2**32 - 2**26
#: Narrowest MP4 (H.264 needs even sizes; narrower previews are of no use).
MIN_MP4_WIDTH = 16
#: H.264 encoder settings: x264 preset and constant rate factor (visually good, small monitoring files). Measured
#: on 2 cores with the simulated camera's 2448x2048 frames to 1280 wide: "veryfast" 28 fps (mono), "superfast"
#: 37 fps at 15 ms CPU per frame and ~14 kB per frame, "ultrafast" 55 fps at 2.7x the size: superfast keeps up
#: with a 30 fps camera with room to spare.
MP4_PRESET = "superfast"
MP4_CRF = 23
#: Time base of MP4 timestamps (milliseconds).
MP4_TIME_BASE = Fraction(1, 1000)
#: Nominal MP4 frame rate told to the muxer (timestamps are the frames' own).
MP4_NOMINAL_FPS = 30
#: Bits per sample of MP4 frames as decoded (8-bit RGB).
MP4_DECODED_BIT_DEPTH = 8
#: MP4 muxer flags: fragmented, playable as far as written after a crash, and by browsers.
MP4_MOVFLAGS = "frag_keyframe+empty_moov+default_base_moof"
#: Name of the one array of an OME-Zarr recording (the full-resolution level).
ZARR_ARRAY = "0"
#: The Zarr v2 array metadata file.
ZARRAY_NAME = ".zarray"
#: Length the .zarray is padded to (with spaces) so each frame's rewrite in place is one write of the same size:
#: one disk sector, bytes.
ZARRAY_PADDED_BYTES = 512
#: OME-NGFF version of the metadata written.
NGFF_VERSION = "0.4"


class RecordingFormat(enum.Enum):
    """The file format of a recording (``camera.v1.RecordingFormat``)."""

    OME_TIFF = "ome-tiff"
    OME_ZARR = "ome-zarr"
    MP4 = "mp4"

    @property
    def suffix(self) -> str:
        """File (or store folder) name suffix."""
        return _SUFFIXES[self]

    @property
    def content_type(self) -> str:
        """MIME type of a downloaded file (an OME-Zarr store is downloaded as a zip)."""
        return _CONTENT_TYPES[self]

    @property
    def lossless(self) -> bool:
        """Whether frames are stored exactly (and a file's size is known from the frame count)."""
        return self is not RecordingFormat.MP4


_SUFFIXES = {RecordingFormat.OME_TIFF: ".ome.tif", RecordingFormat.OME_ZARR: ".ome.zarr", RecordingFormat.MP4: ".mp4"}
_CONTENT_TYPES = {
    RecordingFormat.OME_TIFF: "image/tiff",
    RecordingFormat.OME_ZARR: "application/zip",
    RecordingFormat.MP4: "video/mp4",
}


class GeometryChangedError(Exception):
    """A frame's size or sample type differs from the recording's first frame (geometry changes are refused
    while recording; should one come all the same, the recording ends rather than mixing sizes in a file)."""


def frame_metadata(frame: Frame) -> dict[str, Any]:
    """A frame's metadata as JSON values (per page, per frame log line): a capture sidecar's ``metadata``
    (:class:`camera_grpc.core.storage.FrameMetadata`) with the exposure and gain it was taken with."""
    return {**FrameMetadata.of(frame).to_json(), "exposure_ms": frame.exposure_ms, "gain_db": frame.gain_db}


def frame_bytes(width: int, height: int, pixel_format: PixelFormat) -> int:
    """Bytes of one delivered frame's pixels."""
    sample_bytes = 2 if pixel_format.is_16_bit else 1
    return width * height * pixel_format.channels * sample_bytes


@dataclass(frozen=True)
class WrittenFile:
    """A file (or OME-Zarr store folder) of a recording and the bytes written to it."""

    path: Path
    size_bytes: int


class FrameWriter(ABC):
    """Writes one recording's frames to its file(s). One thread uses it."""

    @abstractmethod
    def write(self, frame: Frame) -> None:
        """Append a frame; on return it is in the file(s) as far as the operating system is concerned."""

    @abstractmethod
    def close(self) -> None:
        """Finish the file(s) (final metadata). Idempotent."""

    def abort(self) -> None:
        """After a failed :meth:`write` (e.g. a full disk): leave what was written readable, as far as possible.
        Never raises."""
        try:
            self.close()
        except Exception as exc:
            log.warning("could not finish recording file after an error: %s", exc)

    @property
    @abstractmethod
    def files(self) -> tuple[WrittenFile, ...]:
        """The files written so far, with their sizes."""

    @property
    def bytes_written(self) -> int:
        """Bytes in the files so far."""
        return sum(file.size_bytes for file in self.files)


class _FirstFrame:
    """Size and sample type of a file's first frame, checked against every later frame."""

    def __init__(self, frame: Frame) -> None:
        self.shape = frame.pixels.shape
        self.dtype = frame.pixels.dtype
        self.pixel_format = frame.pixel_format
        self.bit_depth = frame.bit_depth

    def check(self, frame: Frame) -> None:
        if frame.pixels.shape != self.shape or frame.pixels.dtype != self.dtype:
            raise GeometryChangedError(
                f"frame {frame.frame_number} is {frame.pixels.shape} {frame.pixels.dtype}, the recording "
                f"{self.shape} {self.dtype}"
            )


class OmeTiffWriter(FrameWriter):
    """One multi-page OME-TIFF file (see the module docstring)."""

    def __init__(self, path: Path, *, bigtiff: bool, name: str = "") -> None:
        self.path = path
        self.bigtiff = bigtiff
        self._name = name or path.name
        self._file: BinaryIO | None = None
        self._tiff: Any = None
        self._first: _FirstFrame | None = None
        self._planes: list[dict[str, Any]] = []
        self._good_size = 0  # file size after the last complete page (writer thread)
        self._good_pointer = 0  # where the last complete page's next-IFD offset is
        self._closed = False

    def write(self, frame: Frame) -> None:
        metadata = frame_metadata(frame)
        text = json.dumps(metadata)
        if self._first is None:
            self._first = _FirstFrame(frame)
            self._file = open(self.path, "xb")  # noqa: SIM115 - closed in close()
            self._tiff = tifffile.TiffWriter(self._file, bigtiff=self.bigtiff, ome=False)
            description = json.dumps(
                {
                    "camera_grpc_recording": self._name,
                    "bit_depth": frame.bit_depth,
                    "note": "OME-XML is written at the end",
                }
            )
        else:
            self._first.check(frame)
            description = None
        self._tiff.write(
            frame.pixels,
            photometric="rgb" if frame.pixel_format is PixelFormat.RGB24 else "minisblack",
            description=description,
            metadata=None,
            contiguous=False,
            software=False,
            extratags=[(FRAME_METADATA_TAG, "s", 0, text, True)],
        )
        assert self._file is not None
        self._file.flush()
        self._good_size = self._file.tell()
        self._good_pointer = self._tiff._ifdoffset  # tifffile's position of the last next-IFD offset
        self._planes.append(metadata)

    @property
    def files(self) -> tuple[WrittenFile, ...]:
        return (WrittenFile(self.path, self._good_size),) if self._first is not None else ()

    def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        if self._tiff is None:
            return
        self._tiff.close()
        assert self._file is not None
        self._file.close()
        self._write_ome()

    def abort(self) -> None:
        """Cut the file back to its last complete page and end the IFD chain there; then try the OME-XML."""
        if self._closed or self._tiff is None:
            self._closed = True
            return
        self._closed = True
        with contextlib.suppress(OSError):  # what did not fit is cut off below
            self._file.close()  # type: ignore[union-attr]
        try:
            fd = os.open(self.path, os.O_WRONLY | os.O_CLOEXEC)
            try:
                os.ftruncate(fd, self._good_size)
                os.pwrite(fd, bytes(8 if self.bigtiff else 4), self._good_pointer)
                os.fsync(fd)
            finally:
                os.close(fd)
            self._write_ome()
        except Exception as exc:
            log.warning(
                "recording file %s: could not finish it after an error (its pages stay readable): %s", self.path, exc
            )

    def _write_ome(self) -> None:
        if self._planes and self._first is not None:
            write_ome_xml(
                self.path, self._planes, self._first.dtype, self._first.shape, self._first.bit_depth, self._name
            )
            self._good_size = self.path.stat().st_size


def write_ome_xml(
    path: Path,
    planes: list[dict[str, Any]],
    dtype: np.dtype,
    frame_shape: tuple[int, ...],
    bit_depth: int,
    name: str,
) -> None:
    """Write the OME-XML describing the first ``len(planes)`` pages (frames of ``frame_shape``) of a TIFF file into
    its first page's ImageDescription: per-plane DeltaT (camera clock when every frame has it, else the time each
    was received) and ExposureTime."""
    count = len(planes)
    height, width = frame_shape[:2]
    rgb = len(frame_shape) == 3
    shape = (count, height, width, 3) if rgb else (count, height, width)
    stored = (count, 1, 1, height, width, 3 if rgb else 1)
    times = [plane["camera_time_s"] for plane in planes]
    if any(t is None for t in times):
        received = [datetime.fromisoformat(plane["received_at"]) for plane in planes]
        delta = [(t - received[0]).total_seconds() for t in received]
    else:
        delta = [t - times[0] for t in times]
    ome = tifffile.OmeXml()
    ome.addimage(
        dtype,
        shape,
        stored,
        axes="TYXS" if rgb else "TYX",
        Name=name,
        SignificantBits=bit_depth,
        Plane={
            "DeltaT": delta,
            "DeltaTUnit": ["s"] * count,
            "ExposureTime": [plane["exposure_ms"] for plane in planes],
            "ExposureTimeUnit": ["ms"] * count,
        },
    )
    tifffile.tiffcomment(path, ome.tostring(declaration=True), pageindex=0)


def finish_ome_tiff(path: Path) -> int:
    """After a crash (start-up recovery): give a recording's TIFF file whose writer never closed it its OME-XML,
    describing its complete pages (a page cut short by the crash is left out). Returns the pages described; 0 if
    the file has its OME-XML already or has no complete page."""
    size = path.stat().st_size
    planes: list[dict[str, Any]] = []
    with tifffile.TiffFile(path, _useframes=False) as tif:
        if tif.is_ome:
            return 0
        first = tif.pages.first
        try:
            bit_depth = int(json.loads(first.description).get("bit_depth", first.bitspersample))
        except (ValueError, AttributeError):
            bit_depth = first.bitspersample
        dtype, frame_shape = first.dtype, first.shape
        try:
            for page in tif.pages:
                tag = page.tags.get(FRAME_METADATA_TAG)
                ends = [offset + count for offset, count in zip(page.dataoffsets, page.databytecounts, strict=True)]
                if tag is None or page.shape != frame_shape or max(ends, default=size + 1) > size:
                    break
                planes.append(json.loads(tag.value))
        except Exception as exc:  # an IFD cut short by the crash ends the readable pages
            log.info("%s: pages end at %d (%s)", path, len(planes), exc)
    if planes:
        write_ome_xml(path, planes, dtype, frame_shape, bit_depth, path.name)
    return len(planes)


class OmeZarrWriter(FrameWriter):
    """One OME-Zarr store (a folder; see the module docstring)."""

    def __init__(self, path: Path, *, name: str = "") -> None:
        self.path = path
        self._name = name or path.name
        self._array_path = path / ZARR_ARRAY
        self._zarray: dict[str, Any] = {}  #: the array's metadata (.zarray), its shape grown per frame
        self._zarray_fd = -1  #: the .zarray, open for its rewrites in place
        self._dtype = np.dtype(np.uint8)
        self._chunk_suffix = ""  #: the chunk key after the frame index (".0.0", ".0.0.0" for RGB)
        self._first: _FirstFrame | None = None
        self._count = 0
        self._chunk_bytes = 0
        self._metadata_bytes = 0

    def write(self, frame: Frame) -> None:
        pixels = frame.pixels
        if self._first is None:
            self._first = _FirstFrame(frame)
            self._create(frame)
        else:
            self._first.check(frame)
        if pixels.ndim == 3:
            pixels = np.moveaxis(pixels, -1, 0)  # (y, x, c) -> (c, y, x): NGFF puts channels before space
        chunk = np.ascontiguousarray(pixels, dtype=self._dtype)  # no copy for a contiguous frame
        _write_file(self._array_path / f"{self._count}{self._chunk_suffix}", memoryview(chunk).cast("B"))
        self._count += 1
        self._write_zarray()

    def _write_zarray(self) -> None:
        """The array's metadata with the current frame count, over the old in one write of the same length."""
        self._zarray["shape"][0] = self._count
        document = json.dumps(self._zarray).encode()
        if len(document) > ZARRAY_PADDED_BYTES:
            raise RuntimeError(f"the array's metadata is longer than {ZARRAY_PADDED_BYTES} bytes: {document!r}")
        padded = document.ljust(ZARRAY_PADDED_BYTES)
        if os.pwrite(self._zarray_fd, padded, 0) != len(padded):
            raise OSError(errno.ENOSPC, "short write of the array's metadata", str(self._array_path / ZARRAY_NAME))

    def _create(self, frame: Frame) -> None:
        pixels = frame.pixels
        rgb = pixels.ndim == 3
        shape = (0, 3, *pixels.shape[:2]) if rgb else (0, *pixels.shape)
        group = zarr.open_group(store=str(self.path), mode="w-", zarr_format=2)
        axes: list[dict[str, str]] = [{"name": "t", "type": "time", "unit": "second"}]
        if rgb:
            axes.append({"name": "c", "type": "channel"})
        axes += [{"name": "y", "type": "space"}, {"name": "x", "type": "space"}]
        group.attrs["multiscales"] = [
            {
                "version": NGFF_VERSION,
                "name": self._name,
                "axes": axes,
                "datasets": [
                    {"path": ZARR_ARRAY, "coordinateTransformations": [{"type": "scale", "scale": [1.0] * len(axes)}]}
                ],
            }
        ]
        group.attrs["camera_grpc"] = {
            "pixel_format": frame.pixel_format.delivered.value,
            "bit_depth": frame.bit_depth,
            "bayer_phase": frame.pixel_format.bayer_phase,
            "frame_log": "frames.jsonl in the recording's folder (one line per frame, in order)",
        }
        group.create_array(
            ZARR_ARRAY,
            shape=shape,
            chunks=(1, *shape[1:]),
            dtype=pixels.dtype.newbyteorder("<"),
            compressors=None,
            filters=None,
            fill_value=0,
            order="C",
            chunk_key_encoding={"name": "v2", "separator": "."},
        )
        self._zarray = json.loads((self._array_path / ZARRAY_NAME).read_bytes())
        if self._zarray.get("compressor") is not None or self._zarray.get("filters") or self._zarray["order"] != "C":
            raise RuntimeError(f"zarr made an array this writer cannot append to: {self._zarray}")
        self._dtype = np.dtype(self._zarray["dtype"])
        self._chunk_suffix = ".0" * (len(shape) - 1)
        # The padded version, replaced atomically once; from then on rewritten in place.
        padded = self._array_path / (ZARRAY_NAME + ".padded")
        _write_file(padded, json.dumps(self._zarray).encode().ljust(ZARRAY_PADDED_BYTES))
        os.replace(padded, self._array_path / ZARRAY_NAME)
        self._zarray_fd = os.open(self._array_path / ZARRAY_NAME, os.O_WRONLY | os.O_CLOEXEC)
        self._chunk_bytes = pixels.nbytes
        self._metadata_bytes = sum(p.stat().st_size for p in self.path.rglob("*") if p.is_file())

    @property
    def files(self) -> tuple[WrittenFile, ...]:
        if self._first is None:
            return ()
        return (WrittenFile(self.path, self._metadata_bytes + self._count * self._chunk_bytes),)

    def close(self) -> None:
        """Nothing to finish (the store is complete after every frame) but closing the metadata file. Idempotent."""
        if self._zarray_fd >= 0:
            os.close(self._zarray_fd)
            self._zarray_fd = -1


class Mp4Writer(FrameWriter):
    """One H.264 MP4 file (see the module docstring)."""

    def __init__(self, path: Path, *, max_width: int = 0) -> None:
        self.path = path
        self.max_width = max_width or None
        self._container: Any = None
        self._stream: Any = None
        self._first: _FirstFrame | None = None
        self._origin_s = 0.0
        self._last_pts = -1
        self._closed = False

    def _open(self, pixels: np.ndarray) -> None:
        height, width = pixels.shape[:2]
        self._container = av.open(str(self.path), mode="w", format="mp4", options={"movflags": MP4_MOVFLAGS})
        stream = self._container.add_stream("libx264", rate=MP4_NOMINAL_FPS)
        stream.width, stream.height = width, height
        stream.pix_fmt = "yuv420p"
        stream.time_base = MP4_TIME_BASE
        stream.codec_context.time_base = MP4_TIME_BASE
        stream.options = {"preset": MP4_PRESET, "crf": str(MP4_CRF)}
        self._stream = stream

    def write(self, frame: Frame) -> None:
        pixels = imaging.downscale(imaging.image_pixels(frame, keep_16_bit=False), self.max_width)
        height, width = pixels.shape[:2]
        pixels = np.ascontiguousarray(pixels[: height - height % 2, : width - width % 2])
        seconds = frame.camera_time_s if frame.camera_time_s is not None else frame.captured_at.timestamp()
        if self._first is None:
            self._first = _FirstFrame(frame)
            self._origin_s = seconds
            self._open(pixels)
        else:
            self._first.check(frame)
        pts = max(round((seconds - self._origin_s) / MP4_TIME_BASE), self._last_pts + 1)
        self._last_pts = pts
        video = av.VideoFrame.from_ndarray(pixels, format="rgb24" if pixels.ndim == 3 else "gray")
        video.pts = pts
        video.time_base = MP4_TIME_BASE
        for packet in self._stream.encode(video):
            self._container.mux(packet)

    @property
    def files(self) -> tuple[WrittenFile, ...]:
        if self._first is None:
            return ()
        try:
            return (WrittenFile(self.path, self.path.stat().st_size),)
        except OSError:
            return (WrittenFile(self.path, 0),)

    def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        if self._container is None:
            return
        try:
            for packet in self._stream.encode(None):
                self._container.mux(packet)
        finally:
            self._container.close()


class SplitWriter(FrameWriter):
    """Writes ``frames_per_file`` frames to each file made by ``make_part(index)`` (index from 1), then the next."""

    def __init__(self, make_part: Callable[[int], FrameWriter], frames_per_file: int) -> None:
        self._make_part = make_part
        self._frames_per_file = frames_per_file
        self._done: list[FrameWriter] = []
        self._current: FrameWriter | None = None
        self._in_current = 0

    def write(self, frame: Frame) -> None:
        if self._current is None or (self._frames_per_file and self._in_current >= self._frames_per_file):
            if self._current is not None:
                self._current.close()
                self._done.append(self._current)
            self._current = self._make_part(len(self._done) + 1)
            self._in_current = 0
        self._current.write(frame)
        self._in_current += 1

    @property
    def files(self) -> tuple[WrittenFile, ...]:
        parts = [*self._done, *([self._current] if self._current is not None else [])]
        return tuple(file for part in parts for file in part.files)

    def close(self) -> None:
        if self._current is not None:
            self._current.close()

    def abort(self) -> None:
        if self._current is not None:
            self._current.abort()


def make_writer(
    recording_format: RecordingFormat,
    directory: Path,
    stem: str,
    *,
    frames_per_file: int,
    estimated_file_bytes: int | None,
    max_width: int = 0,
) -> FrameWriter:
    """The writer of a recording's files ``<stem><suffix>`` (or ``<stem>_0001<suffix>``... with
    ``frames_per_file``) in ``directory``. ``estimated_file_bytes``: a file's expected size (None: unknown,
    unlimited), which decides BigTIFF."""

    def part_path(index: int) -> Path:
        name = f"{stem}_{index:04d}" if frames_per_file else stem
        return directory / f"{name}{recording_format.suffix}"

    def make_part(index: int) -> FrameWriter:
        path = part_path(index)
        if recording_format is RecordingFormat.OME_TIFF:
            bigtiff = estimated_file_bytes is None or estimated_file_bytes > CLASSIC_TIFF_MAX_BYTES
            return OmeTiffWriter(path, bigtiff=bigtiff)
        if recording_format is RecordingFormat.OME_ZARR:
            return OmeZarrWriter(path)
        return Mp4Writer(path, max_width=max_width)

    return SplitWriter(make_part, frames_per_file)


def _write_file(path: Path, data: memoryview | bytes) -> None:
    """Create (or truncate) ``path`` with ``data``, in as few ``write`` calls as the kernel takes (one, as a
    rule); OSError (ENOSPC...) as the kernel reports it."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_CLOEXEC, 0o644)
    try:
        view = memoryview(data)
        while view:
            written = os.write(fd, view)
            if not written:
                raise OSError(errno.ENOSPC, "no space left (short write)", str(path))
            view = view[written:]
    finally:
        os.close(fd)


def read_first_frame(path: Path, recording_format: RecordingFormat) -> np.ndarray | None:
    """The first frame of a recording's data file, read back with the format's standard reader (blocking): as
    stored for OME-TIFF and OME-Zarr ((y, x) or (y, x, 3)), decoded to 8-bit RGB for MP4. None if the file has no
    frame readable yet (an MP4 before its first fragment). Errors of the readers propagate."""
    if recording_format is RecordingFormat.OME_TIFF:
        with tifffile.TiffFile(path) as tiff:
            return tiff.pages[0].asarray() if len(tiff.pages) else None  # type: ignore[union-attr]
    if recording_format is RecordingFormat.OME_ZARR:
        array = zarr.open_group(store=str(path), mode="r")[ZARR_ARRAY]
        if not array.shape[0]:
            return None
        pixels = np.asarray(array[0])
        return np.moveaxis(pixels, 0, -1) if pixels.ndim == 3 else pixels  # (c, y, x) -> (y, x, c)
    with av.open(str(path)) as container:
        for video in container.decode(video=0):
            return video.to_ndarray(format="rgb24")
    return None


def describe_geometry(width: int, height: int, pixel_format: PixelFormat, bit_depth: int) -> Mapping[str, Any]:
    """What a recording's files store, for its metadata."""
    return {
        "width": width,
        "height": height,
        "pixel_format": pixel_format.delivered.value,
        "bit_depth": bit_depth,
        "bayer_phase": pixel_format.bayer_phase,
        "frame_bytes": frame_bytes(width, height, pixel_format.delivered),
    }
