"""Frame statistics from raw pixels: the subsampling rule, histograms at the sensor's bit depth, clipped pixels,
colour from the mosaic's sites, and a focus score that is higher for a sharp picture than for a blurred one."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from camera_grpc.core.statistics import (
    DEFAULT_HISTOGRAM_BINS,
    MAX_HISTOGRAM_BINS,
    MAX_SAMPLES,
    frame_statistics,
    histogram_bins,
    subsample_step,
)
from camera_grpc.errors import InvalidArgumentError
from camera_grpc.formats import PixelFormat

rng = np.random.default_rng(17)


def expected_histogram(samples: np.ndarray, bins: int, bit_depth: int) -> np.ndarray:
    """Bin i counts the values v with v * bins // 2**bit_depth == i (the documented rule)."""
    return np.bincount(samples.ravel().astype(np.int64) * bins >> bit_depth, minlength=bins)


def test_bins_zero_means_256_and_out_of_range_names_the_field_and_range() -> None:
    assert histogram_bins(0, 12) == DEFAULT_HISTOGRAM_BINS
    assert histogram_bins(1, 8) == 1 and histogram_bins(256, 8) == 256
    assert histogram_bins(MAX_HISTOGRAM_BINS, 16) == MAX_HISTOGRAM_BINS
    for requested, bit_depth, most in ((MAX_HISTOGRAM_BINS + 1, 16, 4096), (257, 8, 256), (1025, 10, 1024)):
        with pytest.raises(InvalidArgumentError) as caught:
            histogram_bins(requested, bit_depth)
        assert caught.value.field == "statistics.histogram_bins"
        assert f"between 1 and {most} bins" in str(caught.value)


@pytest.mark.parametrize(("width", "height", "step"), [(512, 512, 1), (513, 512, 2), (2448, 2048, 5), (64, 64, 1)])
def test_the_subsampling_step_is_the_smallest_that_keeps_within_the_budget(width: int, height: int, step: int) -> None:
    assert subsample_step(width, height) == step
    assert width * height / step**2 <= MAX_SAMPLES
    assert step == 1 or width * height / (step - 1) ** 2 > MAX_SAMPLES


def test_an_rgb_frame_counts_three_samples_per_pixel_against_the_budget() -> None:
    assert subsample_step(2448, 2048, 3) == 8 and subsample_step(2448, 2048) == 5
    pixels = rng.integers(0, 256, (600, 800, 3), dtype=np.uint8)  # 1.44 M samples: step 3
    stats = frame_statistics(pixels, PixelFormat.RGB24, 8, 256)
    assert stats.subsample_step == 3 and [c.samples for c in stats.channels] == [200 * 267] * 3


def test_a_mono8_frame_counts_its_grid_exactly() -> None:
    pixels = rng.integers(0, 256, (1024, 1280), dtype=np.uint8)
    pixels[::7, ::3] = 255  # some clipped pixels
    stats = frame_statistics(pixels, PixelFormat.MONO8, 8, 64)
    step = subsample_step(1280, 1024)
    grid = pixels[::step, ::step]
    (mono,) = stats.channels
    assert (stats.subsample_step, stats.bit_depth, mono.channel) == (step, 8, "mono")
    assert mono.samples == grid.size == int(mono.histogram.sum())
    assert np.array_equal(mono.histogram, expected_histogram(grid, 64, 8))
    assert (mono.minimum, mono.maximum) == (int(grid.min()), int(grid.max()))
    assert mono.mean == pytest.approx(float(grid.mean()))
    assert mono.saturated_fraction == pytest.approx(float(np.mean(grid == 255)))
    assert not mono.histogram.flags.writeable  # handed across threads: immutable


def test_12_bit_samples_use_their_own_full_scale_and_bins_need_not_divide_it() -> None:
    pixels = rng.integers(0, 4096, (200, 300), dtype=np.uint16)
    pixels[0, :10] = 4095
    pixels[1, :5] = 5000  # above a 12-bit sensor's full scale (a driver bug): counted as clipped
    (mono,) = frame_statistics(pixels, PixelFormat.MONO12_PACKED, 12, 100).channels
    clipped = np.minimum(pixels, 4095)
    assert mono.samples == pixels.size and len(mono.histogram) == 100
    assert np.array_equal(mono.histogram, expected_histogram(clipped, 100, 12))
    assert mono.saturated_fraction == pytest.approx(float(np.mean(clipped == 4095)))
    assert mono.saturated_fraction * pixels.size >= 15  # the planted ones among them
    assert mono.maximum == 4095 and mono.mean == pytest.approx(float(clipped.mean()))


def test_bins_beyond_a_lower_bit_depth_are_clamped_to_its_levels() -> None:
    (mono,) = frame_statistics(np.zeros((8, 8), np.uint8), PixelFormat.MONO8, 8, 4096).channels
    assert len(mono.histogram) == 256 and mono.histogram[0] == 64


@pytest.mark.parametrize("pixel_format", [PixelFormat.BAYER8_GRBG, PixelFormat.BAYER16_BGGR])
def test_a_bayer_mosaic_gives_red_green_and_blue_from_their_sites(pixel_format: PixelFormat) -> None:
    bit_depth = 12 if pixel_format.is_16_bit else 8
    full = (1 << bit_depth) - 1
    level = {"r": full, "g": full // 2, "b": full // 8}
    mosaic = np.empty((1200, 1600), pixel_format.sample_type)
    for index, (dy, dx) in enumerate(((0, 0), (0, 1), (1, 0), (1, 1))):
        mosaic[dy::2, dx::2] = level[pixel_format.bayer_phase[index]]
    stats = frame_statistics(mosaic, pixel_format, bit_depth, 256)
    by_name = {channel.channel: channel for channel in stats.channels}
    assert list(by_name) == ["red", "green", "blue"]
    cells = -(-600 // stats.subsample_step) * -(-800 // stats.subsample_step)  # the grid starts at the first cell
    assert (by_name["red"].samples, by_name["green"].samples, by_name["blue"].samples) == (cells, 2 * cells, cells)
    for name, key in (("red", "r"), ("green", "g"), ("blue", "b")):
        channel = by_name[name]
        assert channel.minimum == channel.maximum == level[key] and channel.mean == level[key]
    assert by_name["red"].saturated_fraction == 1.0 and by_name["green"].saturated_fraction == 0.0
    assert stats.focus_score == pytest.approx(0.0, abs=1e-6)  # a flat colour has no detail


def test_an_rgb_frame_gives_three_channels() -> None:
    pixels = np.zeros((100, 120, 3), np.uint8)
    pixels[..., 0], pixels[..., 1], pixels[..., 2] = 200, 100, 50
    stats = frame_statistics(pixels, PixelFormat.RGB24, 8, 16)
    assert [(c.channel, c.mean, c.samples) for c in stats.channels] == [
        ("red", 200.0, 12000),
        ("green", 100.0, 12000),
        ("blue", 50.0, 12000),
    ]


def textured(height: int = 1024, width: int = 1280) -> np.ndarray:
    """A scene with detail at every scale: a checkerboard of 16-pixel squares over noise."""
    rows, cols = np.indices((height, width))
    board = ((rows // 16 + cols // 16) % 2) * 150 + 40
    return np.clip(board + rng.normal(0, 20, (height, width)), 0, 255).astype(np.uint8)


def test_the_focus_score_is_the_variance_of_the_laplacian_and_falls_when_blurred() -> None:
    sharp = textured()
    blurred = cv2.GaussianBlur(sharp, (0, 0), sigmaX=4)
    score = frame_statistics(sharp, PixelFormat.MONO8, 8, 0).focus_score
    step = subsample_step(1280, 1024)
    expected = cv2.Laplacian(sharp[::step, ::step].astype(np.float64), cv2.CV_64F).var()
    assert score == pytest.approx(expected, rel=1e-4)
    assert frame_statistics(blurred, PixelFormat.MONO8, 8, 0).focus_score < score / 4


def test_the_focus_score_does_not_depend_on_the_bit_depth() -> None:
    eight = textured()
    twelve = (eight.astype(np.uint32) * 4095 // 255).astype(np.uint16)  # the same picture at 12 bits
    score_8 = frame_statistics(eight, PixelFormat.MONO8, 8, 0).focus_score
    assert frame_statistics(twelve, PixelFormat.MONO16, 12, 0).focus_score == pytest.approx(score_8, rel=0.02)


def test_a_colour_focus_score_follows_the_luminance() -> None:
    sharp = textured(600, 800)
    mosaic = np.repeat(np.repeat(sharp, 2, axis=0), 2, axis=1)  # every site of a cell sees the same grey
    blurred = np.repeat(np.repeat(cv2.GaussianBlur(sharp, (0, 0), sigmaX=4), 2, axis=0), 2, axis=1)
    score = frame_statistics(mosaic, PixelFormat.BAYER8_RGGB, 8, 0).focus_score
    assert score > 4 * frame_statistics(blurred, PixelFormat.BAYER8_RGGB, 8, 0).focus_score
    step = frame_statistics(mosaic, PixelFormat.BAYER8_RGGB, 8, 0).subsample_step
    grey = mosaic[: 1200 : 2 * step, : 1600 : 2 * step].astype(np.float64)  # grey: luminance is the sample
    assert score == pytest.approx(cv2.Laplacian(grey, cv2.CV_64F).var(), rel=1e-3)
