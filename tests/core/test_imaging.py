"""Encoding frames: mono 8/16-bit, RGB and Bayer 8/16-bit frames to every file format, decoded back with Pillow
and OpenCV (which keeps 16-bit RGB)."""

from __future__ import annotations

import io
from datetime import UTC, datetime

import cv2
import numpy as np
import pytest
from PIL import Image

from camera_grpc.core.imaging import BAYER_TO_RGB, demosaic, downscale_mosaic, encode_frame
from camera_grpc.device.base import Frame, PixelFormat

HEIGHT, WIDTH = 48, 64


def gradient_frame(pixel_format: PixelFormat, bit_depth: int) -> Frame:
    ramp = np.linspace(0, (1 << bit_depth) - 1, WIDTH).astype(pixel_format.sample_type)
    pixels = np.tile(ramp, (HEIGHT, 1))
    if pixel_format is PixelFormat.RGB24:
        pixels = np.stack([pixels, pixels[:, ::-1], np.full_like(pixels, 128)], axis=-1)
    return Frame(pixels, pixel_format, bit_depth, 1, datetime.now(UTC), 1.0, 0.0)


@pytest.mark.parametrize(
    ("pixel_format", "bit_depth", "mode"),
    [(PixelFormat.MONO8, 8, "L"), (PixelFormat.MONO16, 12, "L"), (PixelFormat.RGB24, 8, "RGB")],
)
def test_jpeg_keeps_size_mode_and_levels(pixel_format: PixelFormat, bit_depth: int, mode: str) -> None:
    data, width, height = encode_frame(gradient_frame(pixel_format, bit_depth), "jpeg", 95)
    with Image.open(io.BytesIO(data)) as image:
        assert (image.format, image.mode, image.size) == ("JPEG", mode, (width, height)) == ("JPEG", mode, (64, 48))
        decoded = np.asarray(image).astype(int)
    first, last = decoded[HEIGHT // 2, 0], decoded[HEIGHT // 2, -1]
    if mode == "L":  # 16-bit frames keep their top 8 significant bits: full scale is still white
        assert first <= 3 and last >= 252
    else:
        assert abs(first[0] - 0) <= 4 and abs(last[0] - 255) <= 4 and abs(first[2] - 128) <= 4


@pytest.mark.parametrize(("image_format", "mode"), [("png", "I;16"), ("tiff", "I;16"), ("bmp", "L")])
def test_lossless_formats_keep_16_bit_where_they_can(image_format: str, mode: str) -> None:
    frame = gradient_frame(PixelFormat.MONO16, 12)
    data, _, _ = encode_frame(frame, image_format, 95)
    with Image.open(io.BytesIO(data)) as image:
        assert image.mode == mode
        decoded = np.asarray(image).astype(int)
    expected = frame.pixels.astype(int) if mode == "I;16" else frame.pixels.astype(int) >> 4
    assert np.array_equal(decoded, expected)


def test_a_downscaled_jpeg_preview_keeps_the_aspect_ratio() -> None:
    data, width, height = encode_frame(gradient_frame(PixelFormat.MONO8, 8), "jpeg", 80, max_width=32)
    assert (width, height) == (32, 24)
    with Image.open(io.BytesIO(data)) as image:
        assert image.size == (32, 24)


# -- colour: Bayer mosaics are demosaiced for every image file, with the right phase ------------------------

#: A colour with three different channels, as 8-bit and as 12-bit samples (the 8-bit one's top bits).
COLOUR_8 = (200, 100, 32)
COLOUR_12 = tuple(channel << 4 for channel in COLOUR_8)
BAYER_FORMATS = [fmt for fmt in PixelFormat if fmt.is_bayer]


def mosaic_frame(pixel_format: PixelFormat, rgb: tuple[int, int, int], bit_depth: int) -> Frame:
    """A flat-colour scene as a camera with the format's Bayer phase would deliver it."""
    channel = {"r": 0, "g": 1, "b": 2}
    pixels = np.zeros((HEIGHT, WIDTH), pixel_format.sample_type)
    phase = pixel_format.bayer_phase
    for dy in (0, 1):
        for dx in (0, 1):
            pixels[dy::2, dx::2] = rgb[channel[phase[2 * dy + dx]]]
    return Frame(pixels, pixel_format, bit_depth, 1, datetime.now(UTC), 1.0, 0.0)


def decode_unchanged(data: bytes) -> np.ndarray:
    """The samples of an image file as stored (16-bit kept), RGB order for colour."""
    decoded = cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_UNCHANGED)
    return decoded[:, :, ::-1] if decoded.ndim == 3 else decoded


@pytest.mark.parametrize("image_format", ["jpeg", "png", "tiff", "bmp"])
@pytest.mark.parametrize("pixel_format", BAYER_FORMATS, ids=lambda fmt: fmt.value)
def test_a_bayer_frame_of_a_known_colour_is_that_colour_in_every_file_format(
    pixel_format: PixelFormat, image_format: str
) -> None:
    sixteen = pixel_format.is_bayer16
    frame = mosaic_frame(pixel_format, COLOUR_12 if sixteen else COLOUR_8, 12 if sixteen else 8)
    data, width, height = encode_frame(frame, image_format, 95)
    decoded = decode_unchanged(data)
    assert decoded.shape == (height, width, 3) == (HEIGHT, WIDTH, 3)
    centre = decoded[HEIGHT // 2, WIDTH // 2].astype(int)
    if sixteen and image_format in ("png", "tiff"):  # 16-bit RGB, every bit kept
        assert decoded.dtype == np.uint16
        assert np.array_equal(decoded[2:-2, 2:-2], np.broadcast_to(COLOUR_12, (HEIGHT - 4, WIDTH - 4, 3)))
    else:  # 8-bit: the top 8 significant bits (JPEG within its loss)
        assert decoded.dtype == np.uint8
        tolerance = 3 if image_format == "jpeg" else 0
        assert np.abs(centre - COLOUR_8).max() <= tolerance, (centre, COLOUR_8)


@pytest.mark.parametrize("pixel_format", [PixelFormat.BAYER8_GRBG, PixelFormat.BAYER16_BGGR], ids=str)
def test_a_downscaled_colour_preview_is_the_colour_and_keeps_the_aspect_ratio(pixel_format: PixelFormat) -> None:
    sixteen = pixel_format.is_bayer16
    frame = mosaic_frame(pixel_format, COLOUR_12 if sixteen else COLOUR_8, 12 if sixteen else 8)
    data, width, height = encode_frame(frame, "jpeg", 90, max_width=32)
    decoded = decode_unchanged(data)
    assert decoded.shape == (height, width, 3) == (24, 32, 3)
    assert np.abs(decoded[12, 16].astype(int) - COLOUR_8).max() <= 3


def test_mono16_in_8_bit_files_keeps_the_top_significant_bits_whatever_the_bit_depth() -> None:
    for bit_depth in (10, 12, 16):
        value = (1 << bit_depth) - 1 - (1 << (bit_depth - 8))  # 8-bit 254 in every depth
        frame = Frame(np.full((8, 8), value, np.uint16), PixelFormat.MONO16, bit_depth, 1, datetime.now(UTC), 1, 0)
        data, _, _ = encode_frame(frame, "bmp", 95)
        assert np.all(decode_unchanged(data) == 254), bit_depth


@pytest.mark.parametrize("pixel_format", [PixelFormat.BAYER8_RGGB, PixelFormat.BAYER16_GBRG], ids=str)
def test_a_raw_mosaic_shrunk_for_a_preview_stays_a_mosaic_of_its_phase(pixel_format: PixelFormat) -> None:
    sixteen = pixel_format.is_bayer16
    colour = COLOUR_12 if sixteen else COLOUR_8
    frame = mosaic_frame(pixel_format, colour, 12 if sixteen else 8)
    small = downscale_mosaic(frame.pixels, 21)  # an odd width: the mosaic needs an even one
    assert small.shape == (16, 20) and small.dtype == frame.pixels.dtype
    rgb = demosaic(small, pixel_format)
    assert tuple(rgb[8, 10]) == colour


def test_each_bayer_phase_has_its_own_conversion() -> None:
    # Four phases, four different conversions: a phase mapped twice would leave another one wrong.
    assert len(set(BAYER_TO_RGB.values())) == 4
    assert {fmt.bayer_phase for fmt in BAYER_FORMATS} == set(BAYER_TO_RGB)
