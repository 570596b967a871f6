"""Per-frame pixel statistics for live view: histogram, minimum, maximum, mean, clipped pixels, focus score.

Pure functions, safe on any thread; OpenCV does the counting and filtering with the GIL released, so
they run on the encoder pool beside encodes (:class:`camera_grpc.core.streaming.FrameHub` computes
them once per frame for every subscriber asking for the same number of bins).

**From the raw pixels**, at the sensor's bit depth (never from a JPEG): samples are 0 to
``2**bit_depth - 1``; a MONO12_PACKED camera's frames arrive as MONO16 with 12 significant bits.

**Channels.** Mono formats: one channel, ``mono``. RGB24: ``red``, ``green``, ``blue``. A Bayer
mosaic is not demosaiced: each colour is counted at its own sites of the mosaic (its plane: every
second pixel of every second row; green has two sites per 2x2 cell and both are counted), which is
what a demosaic would interpolate from, at a fraction of the cost.

**Subsampling** (the rule): a frame of ``W`` x ``H`` pixels of ``C`` samples each (3 for RGB24, else 1)
is counted on a regular grid, every ``step``-th pixel of every ``step``-th row of each channel's plane,
with ``step`` the smallest integer for which ``C * W * H / step**2 <= MAX_SAMPLES`` (1 for mono and
Bayer frames of up to :data:`MAX_SAMPLES` pixels: then every pixel counts). For a Bayer mosaic the
grid is of 2x2 cells, so every colour keeps its sites (a mosaic pixel step of ``2 * step``). The grid
starts at the frame's first pixel (top left). Every statistic, the focus score included, is of the
counted samples; ``subsample_step`` says which.

**Histogram**: ``bins`` equal bins over 0 .. ``2**bit_depth - 1``; bin ``i`` counts the values ``v``
with ``v * bins // 2**bit_depth == i``; the counts sum to the samples counted. **Saturated**: the
fraction of samples at ``2**bit_depth - 1`` (a driver's sample above it, which should not happen,
counts as saturated).

**Focus score**: the variance of the Laplacian (OpenCV's 3x3 ``cv2.Laplacian``, borders reflected) of
the luminance on the counted grid, with samples scaled to 0..255 whatever the bit depth. Luminance
is the sample for mono, and ``0.299 R + 0.587 G + 0.114 B`` (Rec. 601) for colour: green the mean of
its two sites of a Bayer cell; for RGB24 rounded to whole levels (OpenCV's ``RGB2GRAY``). Larger is
sharper; a score compares frames of one scene at one region and subsampling step (it is a relative
measure, for focusing by hand).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import cv2
import numpy as np

from camera_grpc.errors import InvalidArgumentError
from camera_grpc.formats import PixelFormat

#: Histogram bins: what 0 (unset) means, and the most a client may ask for (also at most 2**bit_depth).
DEFAULT_HISTOGRAM_BINS = 256
MAX_HISTOGRAM_BINS = 4096
#: Most samples counted per frame (see the module docstring, "Subsampling"): a 5 MP mono or Bayer frame is
#: counted at step 5 (200,900 samples), RGB24 at step 8; about 1 ms here (bench/statistics.py, docs/benchmarks.md).
MAX_SAMPLES = 1 << 18
#: Luminance weights of red, green and blue (ITU-R BT.601).
LUMA_WEIGHTS = (0.299, 0.587, 0.114)
#: The luminance's scale for the focus score: samples 0..255 whatever the bit depth.
FOCUS_FULL_SCALE = 255.0
#: The request field the bins come from (named in errors).
BINS_FIELD = "statistics.histogram_bins"


@dataclass(frozen=True)
class ChannelStatistics:
    """One channel's statistics (of the counted samples)."""

    channel: str  #: ``mono``, ``red``, ``green`` or ``blue``
    histogram: np.ndarray  #: counts per bin (int64, read-only)
    minimum: int
    maximum: int
    mean: float
    saturated_fraction: float  #: 0 to 1: samples at 2**bit_depth - 1
    samples: int  #: samples counted (the histogram's sum)


@dataclass(frozen=True)
class FrameStatistics:
    """One frame's statistics (immutable: handed from the encoder pool to the event loop)."""

    channels: tuple[ChannelStatistics, ...]
    focus_score: float
    subsample_step: int  #: every step-th pixel of every step-th row of each channel's plane counted
    bit_depth: int


def histogram_bins(requested: int, bit_depth: int) -> int:
    """The bins to use for a request's ``histogram_bins`` on a camera of ``bit_depth`` bits: 0 means
    :data:`DEFAULT_HISTOGRAM_BINS` (or 2**bit_depth, if fewer); otherwise 1 to the smaller of
    :data:`MAX_HISTOGRAM_BINS` and 2**bit_depth, else InvalidArgumentError naming the field and range."""
    levels = 1 << bit_depth
    if requested == 0:
        return min(DEFAULT_HISTOGRAM_BINS, levels)
    most = min(MAX_HISTOGRAM_BINS, levels)
    if not 1 <= requested <= most:
        raise InvalidArgumentError(
            BINS_FIELD,
            requested,
            reason=f"must be between 1 and {most} bins (at most {MAX_HISTOGRAM_BINS}, and at most 2^bit_depth = "
            f"{levels} for this camera's {bit_depth}-bit samples; 0: {DEFAULT_HISTOGRAM_BINS})",
        )
    return requested


def subsample_step(width: int, height: int, samples_per_pixel: int = 1) -> int:
    """The grid step for a frame of ``width`` x ``height`` pixels (see "Subsampling")."""
    samples = width * height * samples_per_pixel
    step = max(1, math.isqrt(max(samples - 1, 0) // MAX_SAMPLES))
    while samples > MAX_SAMPLES * step * step:
        step += 1
    return step


def frame_statistics(pixels: np.ndarray, pixel_format: PixelFormat, bit_depth: int, bins: int) -> FrameStatistics:
    """Statistics of a frame's raw pixels (see the module docstring). ``bins`` is clamped to 2**bit_depth
    (a stream's bit depth can drop after it asked)."""
    delivered = pixel_format.delivered
    levels = 1 << bit_depth
    bins = max(1, min(bins, levels))
    height, width = pixels.shape[:2]
    step = subsample_step(width, height, pixel_format.channels)
    if delivered.is_bayer:
        cell = 2 * step
        usable = pixels[: height - height % 2, : width - width % 2]
        phase = delivered.bayer_phase
        by_colour: dict[str, list[np.ndarray]] = {"r": [], "g": [], "b": []}
        for index, (dy, dx) in enumerate(((0, 0), (0, 1), (1, 0), (1, 1))):
            by_colour[phase[index]].append(np.ascontiguousarray(usable[dy::cell, dx::cell]))
        planes = {"red": by_colour["r"], "green": by_colour["g"], "blue": by_colour["b"]}
        green = cv2.addWeighted(by_colour["g"][0], 0.5, by_colour["g"][1], 0.5, 0.0, dtype=cv2.CV_32F)
        luma_planes: tuple[np.ndarray, ...] = (by_colour["r"][0], green, by_colour["b"][0])
    elif pixels.ndim == 3:  # RGB24 (no driver delivers it today)
        grid = np.ascontiguousarray(pixels[::step, ::step])
        colour_planes = cv2.split(grid)
        planes = {name: [plane] for name, plane in zip(("red", "green", "blue"), colour_planes, strict=True)}
        luma_planes = (cv2.cvtColor(grid, cv2.COLOR_RGB2GRAY),)  # Rec. 601 weights, rounded to whole levels
    else:
        grid = np.ascontiguousarray(pixels[::step, ::step])
        planes = {"mono": [grid]}
        luma_planes = (grid,)
    channels = tuple(_channel(name, parts, levels, bins) for name, parts in planes.items())
    return FrameStatistics(channels, _focus_score(luma_planes, levels), step, bit_depth)


def _channel(name: str, parts: list[np.ndarray], levels: int, bins: int) -> ChannelStatistics:
    """Statistics of the samples of ``parts`` (one or two contiguous planes of one colour)."""
    counts = np.zeros(levels, np.int64)
    samples = 0
    for plane in parts:
        counted = cv2.calcHist([plane], [0], None, [levels], [0, levels])
        counts += counted.ravel().astype(np.int64)
        samples += plane.size
    counts[-1] += samples - int(counts.sum())  # samples above full scale (calcHist leaves them out): clipped
    present = np.flatnonzero(counts)
    starts = (np.arange(bins, dtype=np.int64) * levels + bins - 1) // bins  # first value of each bin
    histogram = np.add.reduceat(counts, starts)
    histogram.flags.writeable = False
    return ChannelStatistics(
        channel=name,
        histogram=histogram,
        minimum=int(present[0]),
        maximum=int(present[-1]),
        mean=float(np.dot(counts, np.arange(levels, dtype=np.float64)) / samples),
        saturated_fraction=float(counts[-1] / samples),
        samples=samples,
    )


def _focus_score(luma_planes: tuple[np.ndarray, ...], levels: int) -> float:
    """Variance of the Laplacian of the luminance (one plane: mono; three: R, G, B) scaled to 0..255.

    The Laplacian is linear, so it is taken of the unscaled samples (OpenCV filters integer planes
    directly, without a float copy) and the variance scaled by the square of the scale."""
    if len(luma_planes) == 1:
        luminance = luma_planes[0]
    else:
        red, green, blue = (plane.astype(np.float32, copy=False) for plane in luma_planes)
        red_weight, green_weight, blue_weight = LUMA_WEIGHTS
        luminance = cv2.addWeighted(red, red_weight, green, green_weight, 0.0)
        luminance = cv2.addWeighted(luminance, 1.0, blue, blue_weight, 0.0)
    _, deviation = cv2.meanStdDev(cv2.Laplacian(luminance, cv2.CV_32F))
    scale = FOCUS_FULL_SCALE / (levels - 1)
    return float(deviation[0, 0]) ** 2 * scale * scale
