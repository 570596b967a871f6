"""Turning frames into image files. Pure functions, safe on any thread.

JPEG, the format of most captures and every preview, is encoded with simplejpeg
(libjpeg-turbo), which releases the GIL while it compresses: encoder threads run
in parallel with the event loop and the camera thread. (Pillow's JPEG encoder
holds the GIL; measured here, a thread woke 5.5 ms late from a 1 ms sleep while
one Pillow encode ran, and simplejpeg was 3.5x faster on a 5 MP frame.) PNG,
TIFF and BMP go through Pillow.
"""

from __future__ import annotations

import io

import numpy as np
import simplejpeg
from PIL import Image, TiffImagePlugin  # noqa: F401  (imported for its side effect: see below)

from camera_grpc.device.base import Frame
from camera_grpc.formats import IMAGE_FORMATS, PixelFormat

# Pillow imports its format plugins at the first save. Done here instead (preinit: BMP, PNG and others;
# TIFF by the import above), so that no save needs a file descriptor to import a module: it may come
# when connections have taken them all (see storage.FdReserve).
Image.preinit()

#: zlib level for PNG: 1 is several times faster than the default 6 for camera images, at a modest size cost.
PNG_COMPRESS_LEVEL = 1


def to_pil(pixels: np.ndarray, pixel_format: PixelFormat, bit_depth: int, *, keep_16_bit: bool) -> Image.Image:
    """A Pillow image of the pixels (grey for mono and raw Bayer, RGB for RGB24)."""
    if pixel_format is PixelFormat.RGB24:
        return Image.fromarray(pixels, mode="RGB")
    if pixel_format is PixelFormat.MONO16 and keep_16_bit:
        return Image.fromarray(np.ascontiguousarray(pixels, dtype=np.uint16))
    return Image.fromarray(eight_bit(pixels, pixel_format, bit_depth))


def downscale(image: Image.Image, max_width: int | None) -> Image.Image:
    """Shrink to at most ``max_width`` pixels wide, keeping the aspect ratio (box filter)."""
    if not max_width or image.width <= max_width:
        return image
    height = max(1, round(image.height * max_width / image.width))
    return image.resize((max_width, height), Image.Resampling.BOX, reducing_gap=2.0)


def encode_image(image: Image.Image, image_format: str, quality: int) -> bytes:
    """Encode a Pillow image as ``image_format`` (canonical name)."""
    if image_format == "jpeg":
        if image.mode not in ("L", "RGB"):
            image = image.convert("L")
        return encode_jpeg(np.asarray(image), quality)
    buffer = io.BytesIO()
    pil_format = IMAGE_FORMATS[image_format].pillow_format
    if image_format == "png":
        image.save(buffer, pil_format, compress_level=PNG_COMPRESS_LEVEL)
    else:
        image.save(buffer, pil_format)
    return buffer.getvalue()


def encode_jpeg(pixels: np.ndarray, quality: int) -> bytes:
    """JPEG of 8-bit grey (H, W) or RGB (H, W, 3) pixels, with the GIL released while encoding."""
    if pixels.ndim == 2:
        return simplejpeg.encode_jpeg(np.ascontiguousarray(pixels)[:, :, None], quality=quality, colorspace="GRAY")
    return simplejpeg.encode_jpeg(np.ascontiguousarray(pixels), quality=quality, colorspace="RGB")


def eight_bit(pixels: np.ndarray, pixel_format: PixelFormat, bit_depth: int) -> np.ndarray:
    """The pixels as 8-bit samples (16-bit formats keep their top 8 significant bits)."""
    if pixel_format is PixelFormat.MONO16:
        return (pixels >> max(bit_depth - 8, 0)).astype(np.uint8)
    return pixels


def encode_frame(frame: Frame, image_format: str, quality: int, max_width: int | None = None) -> tuple[bytes, int, int]:
    """Encode a frame; returns (bytes, width, height) of the encoded image."""
    if image_format == "jpeg" and not (max_width and frame.width > max_width):
        return (
            encode_jpeg(eight_bit(frame.pixels, frame.pixel_format, frame.bit_depth), quality),
            frame.width,
            frame.height,
        )
    image = to_pil(
        frame.pixels, frame.pixel_format, frame.bit_depth, keep_16_bit=IMAGE_FORMATS[image_format].keeps_16_bit
    )
    image = downscale(image, max_width)
    return encode_image(image, image_format, quality), image.width, image.height
