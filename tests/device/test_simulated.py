"""What the simulated camera shows in its frames (issue 12): things the conformance suite cannot ask of every driver.

The colour mosaic has the phase the frames report (checked by demosaicing with OpenCV, as the service does),
also after a flip; binning sums and averaging averages; auto exposure and gain converge on the target level
from either side; one-shot white balance makes the scene neutral; the frame-rate limit follows the rows read
out; black level, gamma and saturation act on the pixels; SIMULATED_COLOR makes the camera a colour one.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import replace

import cv2
import numpy as np
import pytest

from camera_grpc.config import Settings
from camera_grpc.device import create_driver
from camera_grpc.device.base import Frame, PixelFormat
from camera_grpc.device.settings import (
    AddressingMode,
    AutoMode,
    CameraSettings,
    Flip,
    PixelAddressing,
    Region,
    WhiteBalance,
)
from camera_grpc.device.simulated import (
    AUTO_TARGET_LEVEL,
    AUTO_TOLERANCE,
    BARCODE_CELL_PX,
    BLUE,
    COLOUR_BANDS,
    EXPOSURE_RANGE_MS,
    GREEN,
    RED,
    SimulatedCamera,
    channel_means,
    read_frame_number,
)

WIDTH, HEIGHT = 640, 480
TOP_FRAME_RATE_FPS = 200.0
#: Rows of one colour band of the scene (COLOUR_BANDS, top to bottom).
BAND_PX = HEIGHT // len(COLOUR_BANDS)
#: An exposure at which nothing clips (the brightest scene point is at a tenth of full scale), milliseconds.
UNCLIPPED_EXPOSURE_MS = 10.0
#: An exposure at which most of the scene clips (three times the reference exposure), milliseconds.
BRIGHT_EXPOSURE_MS = 300.0
#: Frames auto exposure / gain may take to converge (it takes a few; the bound only stops a broken loop).
CONVERGENCE_FRAMES = 60
#: How many times brighter than the others a colour must be where the scene is that colour.
COLOUR_DOMINANCE = 2.0
#: Frames after which the moving pattern is where it was (its period over its step).
PATTERN_REPEAT_FRAMES = 32


@pytest.fixture
def camera() -> Iterator[SimulatedCamera]:
    camera = SimulatedCamera(WIDTH, HEIGHT, max_frame_rate_fps=TOP_FRAME_RATE_FPS)
    camera.open()
    yield camera
    camera.close()


@pytest.fixture
def colour_camera() -> Iterator[SimulatedCamera]:
    camera = SimulatedCamera(
        WIDTH, HEIGHT, pixel_format=PixelFormat.BAYER8_RGGB, max_frame_rate_fps=TOP_FRAME_RATE_FPS, color=True
    )
    camera.open()
    yield camera
    camera.close()


def apply(camera: SimulatedCamera, **changes: object) -> CameraSettings:
    """Apply settings through the driver's all-or-nothing path; returns what it reads back."""
    target = replace(camera.read_settings().settings, **changes)
    return camera.apply_settings(target, tuple(changes)).settings


def one_frame(camera: SimulatedCamera) -> Frame:
    camera.start_streaming()
    frame = camera.grab()
    camera.stop_streaming()
    return frame


def demosaiced(frame: Frame) -> np.ndarray:
    """RGB of a raw frame, demosaiced with the phase the frame reports."""
    code = getattr(cv2, f"COLOR_Bayer{frame.pixel_format.bayer_phase.upper()}2RGB")
    return cv2.cvtColor(frame.pixels, code).astype(np.float64)


def band_rgb(rgb: np.ndarray, band: int, flipped_vertically: bool = False) -> np.ndarray:
    """Mean RGB of the middle of one colour band (rows away from its edges and the bar code)."""
    top = band * BAND_PX
    rows = slice(top + BAND_PX // 4, top + 3 * BAND_PX // 4)
    image = rgb[::-1] if flipped_vertically else rgb
    return image[rows, 2:-2].reshape(-1, 3).mean(axis=0)


def band_index(name: str) -> int:
    return next(index for index, (band, _) in enumerate(COLOUR_BANDS) if band == name)


@pytest.mark.parametrize(
    "flip", [Flip(), Flip(horizontal=True), Flip(vertical=True), Flip(True, True)], ids=["none", "h", "v", "hv"]
)
def test_the_mosaic_has_the_phase_the_frames_report_also_when_flipped(
    colour_camera: SimulatedCamera, flip: Flip
) -> None:
    apply(colour_camera, exposure_ms=UNCLIPPED_EXPOSURE_MS * 5, flip=flip)
    frame = one_frame(colour_camera)
    expected = {Flip(): "rggb", Flip(True, False): "grbg", Flip(False, True): "gbrg", Flip(True, True): "bggr"}
    assert frame.pixel_format.bayer_phase == expected[flip]
    assert colour_camera.geometry().pixel_format is frame.pixel_format
    assert colour_camera.read_settings().settings.pixel_format is PixelFormat.BAYER8_RGGB  # the setting as set
    rgb = demosaiced(frame)
    for name, channel in (("red", RED), ("green", GREEN), ("blue", BLUE)):
        colour = band_rgb(rgb, band_index(name), flipped_vertically=flip.vertical)
        others = [colour[other] for other in (RED, GREEN, BLUE) if other != channel]
        assert colour[channel] > COLOUR_DOMINANCE * max(others), f"the {name} band demosaics to {colour}"


def test_a_flip_mirrors_the_image(camera: SimulatedCamera) -> None:
    apply(camera, exposure_ms=UNCLIPPED_EXPOSURE_MS)
    camera.start_streaming()
    plain = camera.grab()
    camera.stop_streaming()
    apply(camera, flip=Flip(horizontal=True, vertical=True))
    camera.start_streaming()
    flipped = camera.grab()
    while (flipped.frame_number - plain.frame_number) % PATTERN_REPEAT_FRAMES:  # the pattern moves: same place
        flipped = camera.grab()
    camera.stop_streaming()
    below_barcode = slice(BARCODE_CELL_PX, -BARCODE_CELL_PX)
    assert np.array_equal(flipped.pixels[::-1, ::-1][below_barcode], plain.pixels[below_barcode])


def test_binning_sums_and_averaging_averages_each_block(camera: SimulatedCamera) -> None:
    def mean_level(mode: AddressingMode) -> float:
        apply(camera, exposure_ms=UNCLIPPED_EXPOSURE_MS, pixel_addressing=PixelAddressing(mode, 2, 2))
        frame = one_frame(camera)
        assert (frame.width, frame.height) == (WIDTH // 2, HEIGHT // 2)
        return float(np.mean(frame.pixels[BARCODE_CELL_PX:]))

    decimated = mean_level(AddressingMode.DECIMATE)
    assert mean_level(AddressingMode.BIN) == pytest.approx(4 * decimated, rel=0.1)
    assert mean_level(AddressingMode.AVERAGE) == pytest.approx(decimated, rel=0.1)


def test_geometry_and_frame_rate_change_only_with_acquisition_stopped_which_apply_settings_does(
    camera: SimulatedCamera,
) -> None:
    features = camera.info().features
    for name in ("roi", "pixel_addressing", "pixel_format", "flip", "frame_rate"):
        assert not features.settable_while_streaming(name), name
    assert features.settable_while_streaming("exposure_ms") and features.settable_while_streaming("gamma")
    apply(camera, exposure_ms=1.0)
    camera.start_streaming()
    last = camera.grab().frame_number
    with pytest.raises(RuntimeError):
        camera.write_setting("roi", Region(0, 0, 320, 240))  # directly: refused, as the camera would
    assert camera.geometry().width == WIDTH
    apply(camera, roi=Region(0, 0, 320, 240))  # stopped and restarted around it
    assert camera.is_streaming
    frame = camera.grab()
    assert frame.pixels.shape == (240, 320)
    assert frame.frame_number == last + 1  # numbering continues across the restart
    camera.stop_streaming()


def test_the_bar_code_survives_every_geometry_and_format(colour_camera: SimulatedCamera) -> None:
    apply(
        colour_camera,
        pixel_format=PixelFormat.BAYER16_RGGB,
        roi=Region(64, 32, 320, 256),
        pixel_addressing=PixelAddressing(AddressingMode.BIN, 2, 2),
    )
    frame = one_frame(colour_camera)
    assert (frame.width, frame.height, frame.bit_depth) == (160, 128, 12)
    assert frame.pixel_format is PixelFormat.BAYER16_RGGB
    assert read_frame_number(frame.pixels, full_scale=(1 << frame.bit_depth) - 1) == frame.frame_number


def converge(camera: SimulatedCamera, settled: Callable[[CameraSettings, Frame], bool]) -> Frame:
    """Grab frames until ``settled(settings, frame)``; fails after CONVERGENCE_FRAMES."""
    camera.start_streaming()
    for _ in range(CONVERGENCE_FRAMES):
        frame = camera.grab()
        if settled(camera.read_settings().settings, frame):
            camera.stop_streaming()
            return frame
    raise AssertionError(f"not settled after {CONVERGENCE_FRAMES} frames: {camera.read_settings().settings}")


def level(frame: Frame) -> float:
    return float(np.mean(frame.pixels[BARCODE_CELL_PX * 2 :])) / ((1 << frame.bit_depth) - 1)


@pytest.mark.parametrize("start_ms", [EXPOSURE_RANGE_MS.minimum, BRIGHT_EXPOSURE_MS], ids=["dark", "bright"])
def test_continuous_auto_exposure_converges_on_the_target_level_from_either_side(
    camera: SimulatedCamera, start_ms: float
) -> None:
    apply(camera, exposure_ms=start_ms, exposure_auto=AutoMode.CONTINUOUS)

    def on_target(settings: CameraSettings, frame: Frame) -> bool:
        return (
            frame.exposure_ms == settings.exposure_ms and abs(level(frame) / AUTO_TARGET_LEVEL - 1) < 2 * AUTO_TOLERANCE
        )

    frame = converge(camera, on_target)
    settings = camera.read_settings().settings
    assert settings.exposure_auto is AutoMode.CONTINUOUS  # it keeps adjusting
    assert (settings.exposure_ms > start_ms) == (start_ms == EXPOSURE_RANGE_MS.minimum)
    assert frame.exposure_ms == settings.exposure_ms  # brightness follows the exposure it chose


def test_auto_gain_once_makes_up_for_a_short_exposure_then_reads_off(camera: SimulatedCamera) -> None:
    apply(camera, exposure_ms=UNCLIPPED_EXPOSURE_MS, gain_auto=AutoMode.ONCE)
    frame = converge(camera, lambda settings, frame: settings.gain_auto is AutoMode.OFF)
    settings = camera.read_settings().settings
    assert settings.gain_db > 0
    assert settings.exposure_ms == UNCLIPPED_EXPOSURE_MS  # gain alone was adjusted
    camera.start_streaming()
    frame = camera.grab()
    camera.stop_streaming()
    assert frame.gain_db == settings.gain_db
    assert level(frame) == pytest.approx(AUTO_TARGET_LEVEL, rel=2 * AUTO_TOLERANCE)


def test_auto_exposure_stays_within_its_limits(camera: SimulatedCamera) -> None:
    limits = replace(EXPOSURE_RANGE_MS, minimum=1.0, maximum=5.0)
    apply(camera, exposure_ms=1.0, exposure_auto_limits_ms=limits, exposure_auto=AutoMode.ONCE)
    converge(camera, lambda settings, frame: settings.exposure_auto is AutoMode.OFF)
    assert camera.read_settings().settings.exposure_ms == limits.maximum  # too dark for the limit: it stops there


def test_one_shot_white_balance_makes_the_scene_neutral_then_reads_off(colour_camera: SimulatedCamera) -> None:
    apply(colour_camera, exposure_ms=UNCLIPPED_EXPOSURE_MS * 5)
    before = channel_means(one_frame(colour_camera).pixels, PixelFormat.BAYER8_RGGB)
    assert before[BLUE] < 0.8 * before[RED]  # the warm light tints the unbalanced frames
    apply(colour_camera, white_balance=WhiteBalance(AutoMode.ONCE))
    frame = converge(colour_camera, lambda settings, frame: settings.white_balance.mode is AutoMode.OFF)
    balance = colour_camera.read_settings().settings.white_balance
    assert balance is not None and balance.red < 1.0 < balance.blue
    frame = one_frame(colour_camera)
    means = channel_means(frame.pixels, frame.pixel_format)
    for channel in (RED, BLUE):
        assert means[channel] == pytest.approx(means[GREEN], rel=2 * AUTO_TOLERANCE)


def test_saturation_zero_leaves_only_the_light_s_tint(colour_camera: SimulatedCamera) -> None:
    def red_band_ratio() -> float:
        colour = band_rgb(demosaiced(one_frame(colour_camera)), band_index("red"))
        return float(colour[RED] / colour[GREEN])

    apply(colour_camera, exposure_ms=UNCLIPPED_EXPOSURE_MS * 5)
    saturated = red_band_ratio()
    apply(colour_camera, saturation_pct=0.0)
    assert red_band_ratio() < saturated / 3


def test_the_frame_rate_limit_is_the_top_rate_at_full_sensor_and_rises_with_fewer_rows(camera: SimulatedCamera) -> None:
    def top_rate() -> float:
        maximum = camera.info().features["frame_rate.fps"].maximum
        assert maximum is not None
        return maximum

    apply(camera, exposure_ms=1.0)
    assert top_rate() == pytest.approx(TOP_FRAME_RATE_FPS)
    assert camera.read_settings().actual_frame_rate_fps == pytest.approx(TOP_FRAME_RATE_FPS)
    apply(camera, roi=Region(0, 0, WIDTH, HEIGHT // 2))
    half_height = top_rate()
    assert half_height > 1.5 * TOP_FRAME_RATE_FPS
    assert camera.read_settings().actual_frame_rate_fps == pytest.approx(half_height)
    apply(camera, roi=Region(0, 0, WIDTH // 2, HEIGHT))  # narrower: the same rows to read
    assert top_rate() == pytest.approx(TOP_FRAME_RATE_FPS)
    apply(camera, pixel_addressing=PixelAddressing(AddressingMode.DECIMATE, 1, 2))
    assert top_rate() == pytest.approx(half_height)


def test_black_level_lifts_the_dark_and_gamma_the_mid_tones(camera: SimulatedCamera) -> None:
    apply(camera, exposure_ms=EXPOSURE_RANGE_MS.minimum)
    assert int(one_frame(camera).pixels[BARCODE_CELL_PX:].min()) == 0
    apply(camera, black_level_pct=10.0)
    assert int(one_frame(camera).pixels[BARCODE_CELL_PX:].min()) == round(0.1 * 255)
    apply(camera, black_level_pct=0.0, exposure_ms=UNCLIPPED_EXPOSURE_MS * 2)
    linear = level(one_frame(camera))
    apply(camera, gamma=2.2)
    assert level(one_frame(camera)) > 1.5 * linear


def test_a_replugged_camera_comes_back_at_power_up_values_with_its_channels(camera: SimulatedCamera) -> None:
    power_up = camera.read_settings()
    apply(camera, roi=Region(0, 0, 320, 240), pixel_format=PixelFormat.MONO16, exposure_ms=5.0)
    camera.save_settings_to_channel(2)
    camera.unplug()
    camera.close()
    camera.replug()
    camera.open()
    assert camera.read_settings() == power_up
    loaded = camera.load_settings_from_channel(2)
    assert (loaded.geometry.width, loaded.geometry.height, loaded.geometry.pixel_format) == (
        320,
        240,
        PixelFormat.MONO16,
    )
    assert one_frame(camera).pixels.shape == (240, 320)


def test_simulated_color_makes_a_colour_camera() -> None:
    settings = Settings(_env_file=None, camera_backend="simulated", simulated_color=True, simulated_width=WIDTH)
    driver = create_driver(settings)
    driver.open()
    info = driver.info()
    assert all(fmt.is_bayer for fmt in info.pixel_formats)
    assert info.features.supported("white_balance") and info.features.supported("saturation_pct")
    assert driver.geometry().pixel_format is PixelFormat.BAYER8_RGGB
    driver.close()
