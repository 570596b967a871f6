"""Image file formats, pixel formats and frame encodings: each defined once, with every name it has.

Settings, the core (encoding, storage), the rpc layer, the clients and the REST
gateway all take their lists, spellings, file extensions, content types and
``camera.v1`` enum values from here. No numpy: the gateway imports this module.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass

from camera_grpc.gen.camera.v1 import camera_pb2 as pb

#: JPEG quality bounds and the default of captures, previews and the MJPEG view.
JPEG_QUALITY_MIN = 1
JPEG_QUALITY_MAX = 100
DEFAULT_JPEG_QUALITY = 95


@dataclass(frozen=True)
class ImageFileFormat:
    """A file format captures can be saved in."""

    name: str  #: canonical name, as in the API (``jpeg``)
    extension: str  #: file name extension of saved captures, without the dot (``jpg``)
    spellings: tuple[str, ...]  #: names accepted from people (settings, REST, CLI)
    content_type: str  #: MIME type
    pillow_format: str  #: Pillow's format name
    keeps_16_bit: bool  #: whether 16-bit grey samples are kept (otherwise the top 8 significant bits)
    proto: int  #: ``camera.v1.ImageFormat`` value


IMAGE_FORMATS: dict[str, ImageFileFormat] = {
    fmt.name: fmt
    for fmt in (
        ImageFileFormat("jpeg", "jpg", ("jpg", "jpeg"), "image/jpeg", "JPEG", False, pb.IMAGE_FORMAT_JPEG),
        ImageFileFormat("png", "png", ("png",), "image/png", "PNG", True, pb.IMAGE_FORMAT_PNG),
        ImageFileFormat("tiff", "tiff", ("tif", "tiff"), "image/tiff", "TIFF", True, pb.IMAGE_FORMAT_TIFF),
        ImageFileFormat("bmp", "bmp", ("bmp",), "image/bmp", "BMP", False, pb.IMAGE_FORMAT_BMP),
    )
}
#: Every accepted spelling -> canonical name (``jpg`` -> ``jpeg``).
IMAGE_FORMAT_SPELLINGS: dict[str, str] = {
    spelling: fmt.name for fmt in IMAGE_FORMATS.values() for spelling in fmt.spellings
}
#: ``camera.v1.ImageFormat`` value -> canonical name.
IMAGE_FORMAT_BY_PROTO: dict[int, str] = {fmt.proto: fmt.name for fmt in IMAGE_FORMATS.values()}


def image_format_named(spelling: str) -> ImageFileFormat:
    """The format for an accepted spelling (case and surrounding blanks ignored); KeyError otherwise."""
    return IMAGE_FORMATS[IMAGE_FORMAT_SPELLINGS[spelling.strip().lower()]]


class PixelFormat(enum.Enum):
    """Layout of a frame's pixels: as a camera is set to it, and as drivers deliver it.

    Drivers convert SDK-specific layouts (big-endian, MSB-aligned 16-bit samples,
    packed formats) to native layouts: every format is delivered as itself except
    MONO12_PACKED, a camera format that is delivered unpacked as MONO16 (see
    :attr:`delivered`).
    """

    MONO8 = "mono8"  # (H, W) uint8
    MONO16 = "mono16"  # (H, W) uint16, native byte order, right-aligned; see bit_depth
    RGB24 = "rgb24"  # (H, W, 3) uint8, R, G, B
    BAYER8_RGGB = "bayer8_rggb"  # (H, W) uint8 raw mosaic
    BAYER8_GRBG = "bayer8_grbg"
    BAYER8_GBRG = "bayer8_gbrg"
    BAYER8_BGGR = "bayer8_bggr"
    MONO12_PACKED = "mono12_packed"  # camera format only: delivered as MONO16, bit_depth 12
    BAYER16_RGGB = "bayer16_rggb"  # (H, W) uint16 raw mosaic, right-aligned; see bit_depth
    BAYER16_GRBG = "bayer16_grbg"
    BAYER16_GBRG = "bayer16_gbrg"
    BAYER16_BGGR = "bayer16_bggr"

    @property
    def delivered(self) -> PixelFormat:
        """The format frames arrive in when the camera is set to this one."""
        return PixelFormat.MONO16 if self is PixelFormat.MONO12_PACKED else self

    @property
    def sample_type(self) -> str:
        """numpy name of the type of one delivered sample (``uint8``, ``uint16``)."""
        return "uint16" if self.delivered is PixelFormat.MONO16 or self.is_bayer16 else "uint8"

    @property
    def is_16_bit(self) -> bool:
        """Whether delivered samples are 16-bit (significant bits: the frame's bit_depth)."""
        return self.sample_type == "uint16"

    @property
    def is_bayer(self) -> bool:
        """Whether frames are a raw colour mosaic (see :attr:`bayer_phase`)."""
        return self.name.startswith("BAYER")

    @property
    def is_bayer16(self) -> bool:
        """Whether frames are a 16-bit raw colour mosaic."""
        return self.name.startswith("BAYER16")

    @property
    def bayer_phase(self) -> str:
        """The mosaic's top-left 2x2 colours, ``rggb``, ``grbg``, ``gbrg`` or ``bggr`` (empty if not Bayer)."""
        return self.name.rsplit("_", 1)[-1].lower() if self.is_bayer else ""

    @property
    def channels(self) -> int:
        """Samples per pixel."""
        return 3 if self is PixelFormat.RGB24 else 1

    @property
    def proto(self) -> int:
        """``camera.v1.PixelFormat`` value."""
        return pb.PixelFormat.Value(f"PIXEL_FORMAT_{self.name}")


#: ``camera.v1.PixelFormat`` value -> pixel format.
PIXEL_FORMAT_BY_PROTO: dict[int, PixelFormat] = {fmt.proto: fmt for fmt in PixelFormat}


def pixel_format_name(number: int) -> str:
    """The API name (``mono8``) of a ``camera.v1.PixelFormat`` value; ``unspecified`` for unknown values."""
    try:
        return pb.PixelFormat.Name(number).removeprefix("PIXEL_FORMAT_").lower()  # type: ignore[arg-type]
    except ValueError:
        return "unspecified"


class Encoding(enum.Enum):
    """How a streamed frame's bytes are encoded."""

    RAW = "raw"
    JPEG = "jpeg"
    PNG = "png"
    NONE = "none"  #: no image data: the frame's metadata (and statistics) only

    @property
    def proto(self) -> int:
        """``camera.v1.FrameEncoding`` value."""
        return pb.FrameEncoding.Value(f"FRAME_ENCODING_{self.name}")


#: ``camera.v1.FrameEncoding`` value -> encoding (unspecified means raw).
ENCODING_BY_PROTO: dict[int, Encoding] = {
    pb.FRAME_ENCODING_UNSPECIFIED: Encoding.RAW,
    **{encoding.proto: encoding for encoding in Encoding},
}
