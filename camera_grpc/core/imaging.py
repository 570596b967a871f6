"""Turning frames into images and image files. Pure functions, safe on any thread.

One path for every frame, whatever uses it (captures, Frames JPEG/PNG, previews, MJPEG):

1. **Samples**: an 8-bit file (JPEG, BMP) keeps the top 8 significant bits of a 16-bit frame
   (``bit_depth`` of them are significant, right-aligned); a 16-bit-capable file (PNG, TIFF) keeps
   16-bit frames as they are.
2. **Colour**: a raw Bayer mosaic (BAYER8_*, BAYER16_*) is demosaiced to RGB with OpenCV
   (``cv2.cvtColor``, bilinear, 8- or 16-bit); mono stays grey, RGB24 stays RGB. The camera has
   already white-balanced its mosaic (drivers do, as the camera's own gains), so this only
   interpolates. RAW streaming never comes here: it stays the mosaic.
3. **Size**: previews are shrunk to ``max_width`` (2x2 box averages, then a bilinear step; see :func:`_shrink`).
4. **File**: JPEG with simplejpeg (libjpeg-turbo), PNG, TIFF and BMP with ``cv2.imencode``.

Every step is vectorised and releases the GIL (OpenCV and simplejpeg both do), so encoder
threads run in parallel with the event loop and the camera thread. (Pillow's JPEG encoder holds
the GIL; measured here, a thread woke 5.5 ms late from a 1 ms sleep while one Pillow encode ran,
and simplejpeg was 3.5x faster on a 5 MP frame. Pillow also cannot write 16-bit RGB.)
``cv2.imencode`` writes to memory for every format used here, so no encode needs a file
descriptor (they may all be taken by connections; see storage.FdReserve).
"""

from __future__ import annotations

import cv2
import numpy as np
import simplejpeg

from camera_grpc.device.base import Frame
from camera_grpc.formats import IMAGE_FORMATS, PixelFormat

#: zlib level for PNG: 1 is several times faster than the default for camera images, at a modest size cost.
PNG_COMPRESS_LEVEL = 1
#: TIFF compression tag value 1: none (captures are written once and read by many tools; LZW costs ~4x the time).
TIFF_NO_COMPRESSION = 1
#: Bayer phase (the mosaic's top-left 2x2 colours, PixelFormat.bayer_phase) -> OpenCV conversion to RGB.
#: OpenCV 5 names these by the sensor's own order; its older names (COLOR_BayerBG2RGB for an RGGB mosaic)
#: name the second row's second and third pixels, a classic trap. tests/core/test_imaging.py checks each
#: phase with a mosaic of a known colour.
BAYER_TO_RGB: dict[str, int] = {
    "rggb": cv2.COLOR_BayerRGGB2RGB,
    "grbg": cv2.COLOR_BayerGRBG2RGB,
    "gbrg": cv2.COLOR_BayerGBRG2RGB,
    "bggr": cv2.COLOR_BayerBGGR2RGB,
}
#: imencode extension and parameters of the formats it writes.
_CV_ENCODERS: dict[str, tuple[str, list[int]]] = {
    "png": (".png", [cv2.IMWRITE_PNG_COMPRESSION, PNG_COMPRESS_LEVEL]),
    "tiff": (".tiff", [cv2.IMWRITE_TIFF_COMPRESSION, TIFF_NO_COMPRESSION]),
    "bmp": (".bmp", []),
}


def eight_bit(pixels: np.ndarray, pixel_format: PixelFormat, bit_depth: int) -> np.ndarray:
    """The pixels as 8-bit samples (16-bit formats keep their top 8 significant bits); 8-bit pixels as they are."""
    if pixel_format.is_16_bit:
        return (pixels >> max(bit_depth - 8, 0)).astype(np.uint8)
    return pixels


def demosaic(pixels: np.ndarray, pixel_format: PixelFormat) -> np.ndarray:
    """RGB (H, W, 3) of a Bayer mosaic (H, W), in the mosaic's sample type (uint8 or uint16)."""
    return cv2.cvtColor(np.ascontiguousarray(pixels), BAYER_TO_RGB[pixel_format.bayer_phase])


def image_pixels(frame: Frame, *, keep_16_bit: bool) -> np.ndarray:
    """The frame as an image: grey (H, W) or RGB (H, W, 3), 8-bit unless ``keep_16_bit`` and the frame is 16-bit.

    Bayer mosaics are demosaiced (after the reduction to 8 bits, when there is one: the same result
    within rounding, at half the cost).
    """
    pixel_format = frame.pixel_format
    pixels = frame.pixels if keep_16_bit else eight_bit(frame.pixels, pixel_format, frame.bit_depth)
    if pixel_format.is_bayer:
        return demosaic(pixels, pixel_format)
    return pixels


def scaled_size(width: int, height: int, max_width: int | None) -> tuple[int, int]:
    """(width, height) shrunk to at most ``max_width`` wide, keeping the aspect ratio; unchanged if it fits."""
    if not max_width or width <= max_width:
        return width, height
    return max_width, max(1, round(height * max_width / width))


def downscale(pixels: np.ndarray, max_width: int | None) -> np.ndarray:
    """Shrink an image (grey or RGB, 8- or 16-bit) to at most ``max_width`` wide, keeping the aspect ratio."""
    height, width = pixels.shape[:2]
    size = scaled_size(width, height, max_width)
    if size == (width, height):
        return pixels
    return _shrink(pixels, size)


def _shrink(pixels: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    """Resize to the smaller ``size`` (width, height): halved by 2x2 box averages while the result stays at least
    that large, then one bilinear step of less than 2x for the rest.

    OpenCV's exact 2x area reduction is a fast path; its area filter at other ratios and one-step
    resizes are not. Measured on a 5 MP RGB frame to 640 wide: one area resize 22.7 ms; halving, then
    area 2.2 to 9 ms; halving, then bilinear about 1.5 ms. A bilinear step of less than 2x reads every
    source pixel's neighbourhood, so it adds no aliasing to speak of after the box averages.
    """
    width, height = size
    while pixels.shape[1] // 2 >= width and pixels.shape[0] // 2 >= height:
        even = pixels[: pixels.shape[0] // 2 * 2, : pixels.shape[1] // 2 * 2]  # an odd last row/column is left out
        pixels = cv2.resize(even, (even.shape[1] // 2, even.shape[0] // 2), interpolation=cv2.INTER_AREA)
    if (pixels.shape[1], pixels.shape[0]) == size:
        return pixels
    return cv2.resize(np.ascontiguousarray(pixels), size, interpolation=cv2.INTER_LINEAR)


def downscale_mosaic(pixels: np.ndarray, max_width: int | None) -> np.ndarray:
    """Shrink a Bayer mosaic and keep it a mosaic of the same phase (for RAW previews).

    Each of the four colour planes (every second pixel of every second row) is shrunk on its own and
    the planes are interleaved again, so the result's width and height are even.
    """
    height, width = pixels.shape
    if not max_width or width <= max_width:
        return pixels
    half_width, half_height = scaled_size(width // 2, height // 2, max(1, max_width // 2))
    out = np.empty((2 * half_height, 2 * half_width), pixels.dtype)
    for dy in (0, 1):
        for dx in (0, 1):
            plane = np.ascontiguousarray(pixels[dy : height - height % 2 : 2, dx : width - width % 2 : 2])
            out[dy::2, dx::2] = _shrink(plane, (half_width, half_height))
    return out


def encode_jpeg(pixels: np.ndarray, quality: int) -> bytes:
    """JPEG of 8-bit grey (H, W) or RGB (H, W, 3) pixels, with the GIL released while encoding."""
    if pixels.ndim == 2:
        return simplejpeg.encode_jpeg(np.ascontiguousarray(pixels)[:, :, None], quality=quality, colorspace="GRAY")
    return simplejpeg.encode_jpeg(np.ascontiguousarray(pixels), quality=quality, colorspace="RGB")


def encode_pixels(pixels: np.ndarray, image_format: str, quality: int) -> bytes:
    """Encode grey (H, W) or RGB (H, W, 3) pixels as ``image_format`` (canonical name).

    JPEG and BMP take 8-bit pixels; PNG and TIFF 8- or 16-bit.
    """
    if image_format == "jpeg":
        return encode_jpeg(pixels, quality)
    extension, parameters = _CV_ENCODERS[image_format]
    if pixels.ndim == 3:
        pixels = pixels[:, :, ::-1]  # OpenCV writes B, G, R
    ok, buffer = cv2.imencode(extension, np.ascontiguousarray(pixels), parameters)
    if not ok:
        raise ValueError(f"OpenCV could not encode a {pixels.dtype} {pixels.shape} image as {image_format}")
    return buffer.tobytes()


def encode_frame(frame: Frame, image_format: str, quality: int, max_width: int | None = None) -> tuple[bytes, int, int]:
    """Encode a frame as an image file (demosaiced if Bayer); returns (bytes, width, height) of the image."""
    pixels = downscale(image_pixels(frame, keep_16_bit=IMAGE_FORMATS[image_format].keeps_16_bit), max_width)
    height, width = pixels.shape[:2]
    return encode_pixels(pixels, image_format, quality), width, height


def image_description(frame: Frame, image_format: str) -> dict[str, object]:
    """What an image file of the frame holds: colour model, channels and bits per sample (for sidecars)."""
    pixel_format = frame.pixel_format
    colour = pixel_format.is_bayer or pixel_format is PixelFormat.RGB24
    sixteen = pixel_format.is_16_bit and IMAGE_FORMATS[image_format].keeps_16_bit
    return {
        "color": "rgb" if colour else "grey",
        "channels": 3 if colour else 1,
        "bits_per_sample": 16 if sixteen else 8,
        "significant_bits": frame.bit_depth if sixteen else min(frame.bit_depth, 8),
        "demosaiced_from": pixel_format.bayer_phase or None,
    }
