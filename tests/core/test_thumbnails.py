"""Thumbnails: size, colour and levels of frames and files made small, the width limits, and a cache that never
serves a changed source's old thumbnail."""

from __future__ import annotations

import os
from pathlib import Path

import cv2
import numpy as np
import pytest

from camera_grpc.core.imaging import encode_pixels
from camera_grpc.core.thumbnails import (
    DEFAULT_THUMBNAIL_WIDTH_PX,
    THUMBNAIL_WIDTH_MAX_PX,
    THUMBNAIL_WIDTH_MIN_PX,
    ThumbnailCache,
    ThumbnailSource,
    file_thumbnail,
    frame_thumbnail,
    thumbnail_width,
)
from camera_grpc.errors import InvalidArgumentError
from camera_grpc.formats import PixelFormat

HEIGHT, WIDTH = 300, 400


def decode(data: bytes) -> np.ndarray:
    assert data[:2] == b"\xff\xd8", "not a JPEG"
    image = cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_UNCHANGED)
    return image if image.ndim == 2 else image[:, :, ::-1]  # RGB


def test_widths_zero_means_the_default_and_out_of_range_names_field_range_and_unit() -> None:
    assert thumbnail_width(0) == DEFAULT_THUMBNAIL_WIDTH_PX
    assert thumbnail_width(THUMBNAIL_WIDTH_MIN_PX) == THUMBNAIL_WIDTH_MIN_PX
    assert thumbnail_width(THUMBNAIL_WIDTH_MAX_PX) == THUMBNAIL_WIDTH_MAX_PX
    for width in (1, THUMBNAIL_WIDTH_MIN_PX - 1, THUMBNAIL_WIDTH_MAX_PX + 1):
        with pytest.raises(InvalidArgumentError) as caught:
            thumbnail_width(width, "thumbnail_max_width")
        assert caught.value.field == "thumbnail_max_width"
        assert "between 16 and 1024 pixels" in str(caught.value)


def test_a_12_bit_mono_frame_keeps_its_levels_and_aspect_ratio() -> None:
    ramp = np.linspace(0, 4095, WIDTH).astype(np.uint16)  # full scale at 12 significant bits
    image = decode(frame_thumbnail(np.tile(ramp, (HEIGHT, 1)), PixelFormat.MONO16, 12, 100))
    assert image.shape == (75, 100)
    assert image[37, 0] <= 3 and image[37, -1] >= 250  # scaled by the bit depth: full scale is white


def test_mono12_packed_is_taken_as_the_mono16_it_is_delivered_as() -> None:
    pixels = np.full((HEIGHT, WIDTH), 4095, np.uint16)
    assert decode(frame_thumbnail(pixels, PixelFormat.MONO12_PACKED, 12, 64)).min() >= 250


@pytest.mark.parametrize("pixel_format", [PixelFormat.BAYER8_RGGB, PixelFormat.BAYER16_GBRG])
def test_a_bayer_frame_is_demosaiced_to_its_colour(pixel_format: PixelFormat) -> None:
    full = (1 << (12 if pixel_format.is_16_bit else 8)) - 1
    colour = {"r": full, "g": full // 2, "b": 0}  # orange
    mosaic = np.empty((HEIGHT, WIDTH), pixel_format.sample_type)
    phase = pixel_format.bayer_phase
    for index, (dy, dx) in enumerate(((0, 0), (0, 1), (1, 0), (1, 1))):
        mosaic[dy::2, dx::2] = colour[phase[index]]
    image = decode(frame_thumbnail(mosaic, pixel_format, 12 if pixel_format.is_16_bit else 8, 64))
    assert image.shape == (48, 64, 3)
    red, green, blue = image[24, 32].astype(int)
    assert red >= 245 and 115 <= green <= 140 and blue <= 10


def test_a_small_image_is_not_enlarged() -> None:
    assert decode(frame_thumbnail(np.zeros((12, 20), np.uint8), PixelFormat.MONO8, 8, 256)).shape == (12, 20)


@pytest.mark.parametrize("image_format", ["png", "tiff"])
def test_a_16_bit_colour_file_is_scaled_by_its_bit_depth(image_format: str) -> None:
    rgb = np.zeros((HEIGHT, WIDTH, 3), np.uint16)
    rgb[..., 0] = 4095  # red at 12-bit full scale
    image = decode(file_thumbnail(encode_pixels(rgb, image_format, 95), 200, bit_depth=12))
    assert image.shape == (150, 200, 3)
    assert tuple(image[75, 100] // 16) == (255 // 16, 0, 0)


def test_a_file_that_is_not_an_image_is_a_value_error() -> None:
    with pytest.raises(ValueError, match="not an image"):
        file_thumbnail(b"not an image", 64)


def test_the_cache_makes_once_and_a_changed_source_gets_a_new_thumbnail(tmp_path: Path) -> None:
    cache = ThumbnailCache(tmp_path / "thumbnails")
    source = tmp_path / "frame.bmp"
    source.write_bytes(encode_pixels(np.zeros((HEIGHT, WIDTH), np.uint8), "bmp", 95))
    made: list[int] = []

    def make() -> bytes:
        made.append(1)
        return file_thumbnail(source.read_bytes(), 64)

    first = cache.get(source, 64, make)
    assert cache.get(source, 64, make) == first and len(made) == 1  # the second from the cache
    assert cache.thumbnail_path(source, 64).read_bytes() == first
    cache.get(source, 32, make)  # another width: another thumbnail
    assert len(made) == 2
    old_path = cache.thumbnail_path(source, 64)
    source.write_bytes(encode_pixels(np.full((HEIGHT, WIDTH), 255, np.uint8), "bmp", 95))  # same size, new content
    os.utime(source, ns=(source.stat().st_atime_ns, source.stat().st_mtime_ns + 1_000_000))
    changed = cache.get(source, 64, make)
    assert len(made) == 3 and decode(changed).min() >= 250  # not the stale black one
    assert not old_path.exists()  # the old version's thumbnail is gone


def test_bytes_are_versioned_by_content(tmp_path: Path) -> None:
    cache = ThumbnailCache(tmp_path)
    one, other = ThumbnailSource.of_bytes("a.jpg", b"one"), ThumbnailSource.of_bytes("a.jpg", b"two")
    assert cache.thumbnail_path(one, 64) != cache.thumbnail_path(other, 64)
    assert cache.get(one, 64, lambda: b"first") == b"first"
    assert cache.get(other, 64, lambda: b"second") == b"second"
    assert cache.get(other, 64, lambda: b"not made") == b"second"


def test_an_unwritable_cache_still_serves_thumbnails(tmp_path: Path) -> None:
    blocked = tmp_path / "file"
    blocked.write_text("a file where the cache folder would be")
    cache = ThumbnailCache(blocked / "thumbnails")
    source = ThumbnailSource.of_bytes("x", b"x")
    assert cache.get(source, 64, lambda: b"made") == b"made"
    assert cache.get(source, 64, lambda: b"made again") == b"made again"
