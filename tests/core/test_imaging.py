"""Encoding frames: mono 8-bit, mono 16-bit and RGB frames to every file format, decoded back with Pillow."""

from __future__ import annotations

import io
from datetime import UTC, datetime

import numpy as np
import pytest
from PIL import Image

from camera_grpc.core.imaging import encode_frame
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
