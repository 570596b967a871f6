"""Turning frames into image files (Pillow). Pure functions, safe on any thread.

Pillow releases the GIL while encoding, so encoders on worker threads run in
parallel with the event loop and the camera thread.
"""

from __future__ import annotations

import io

import numpy as np
from PIL import Image

from camera_grpc.drivers.base import Frame, PixelFormat

#: Canonical format name -> (Pillow format, file extension, MIME type).
FORMATS: dict[str, tuple[str, str, str]] = {
    "jpeg": ("JPEG", "jpg", "image/jpeg"),
    "png": ("PNG", "png", "image/png"),
    "tiff": ("TIFF", "tiff", "image/tiff"),
    "bmp": ("BMP", "bmp", "image/bmp"),
}
#: Formats that keep 16-bit grey samples; others get the top 8 significant bits.
SIXTEEN_BIT_FORMATS = frozenset({"png", "tiff"})
#: zlib level for PNG: 1 is several times faster than the default 6 for camera images, at a modest size cost.
PNG_COMPRESS_LEVEL = 1


def extension(image_format: str) -> str:
    """File extension (without dot) of a canonical format name."""
    return FORMATS[image_format][1]


def mime_type(image_format: str) -> str:
    """MIME type of a canonical format name."""
    return FORMATS[image_format][2]


def to_pil(pixels: np.ndarray, pixel_format: PixelFormat, bit_depth: int, *, keep_16_bit: bool) -> Image.Image:
    """A Pillow image of the pixels (grey for mono and raw Bayer, RGB for RGB24)."""
    if pixel_format is PixelFormat.RGB24:
        return Image.fromarray(pixels, mode="RGB")
    if pixel_format is PixelFormat.MONO16:
        if keep_16_bit:
            return Image.fromarray(np.ascontiguousarray(pixels, dtype=np.uint16))
        shift = max(bit_depth - 8, 0)
        return Image.fromarray((pixels >> shift).astype(np.uint8))
    return Image.fromarray(pixels)


def downscale(image: Image.Image, max_width: int | None) -> Image.Image:
    """Shrink to at most ``max_width`` pixels wide, keeping the aspect ratio (box filter)."""
    if not max_width or image.width <= max_width:
        return image
    height = max(1, round(image.height * max_width / image.width))
    return image.resize((max_width, height), Image.Resampling.BOX, reducing_gap=2.0)


def encode_image(image: Image.Image, image_format: str, quality: int) -> bytes:
    """Encode a Pillow image as ``image_format`` (canonical name)."""
    buffer = io.BytesIO()
    pil_format = FORMATS[image_format][0]
    if image_format == "jpeg":
        if image.mode not in ("L", "RGB"):
            image = image.convert("L")
        image.save(buffer, pil_format, quality=quality)
    elif image_format == "png":
        image.save(buffer, pil_format, compress_level=PNG_COMPRESS_LEVEL)
    else:
        image.save(buffer, pil_format)
    return buffer.getvalue()


def encode_frame(frame: Frame, image_format: str, quality: int, max_width: int | None = None) -> tuple[bytes, int, int]:
    """Encode a frame; returns (bytes, width, height) of the encoded image."""
    image = to_pil(frame.pixels, frame.pixel_format, frame.bit_depth, keep_16_bit=image_format in SIXTEEN_BIT_FORMATS)
    image = downscale(image, max_width)
    return encode_image(image, image_format, quality), image.width, image.height
