"""camera_grpc.client.arrays: frames and captures as numpy arrays and Pillow images.

Every pixel format the service can deliver is checked on constructed messages (the simulated camera
delivers MONO8 and MONO16 only), then real frames and captures from a running service.
"""

from __future__ import annotations

import asyncio
import io
import subprocess
import sys

import numpy as np
import pytest
from PIL import Image

from camera_grpc.client import AsyncCameraClient, CameraClient
from camera_grpc.client.arrays import to_array, to_image
from camera_grpc.device.simulated import read_frame_number
from camera_grpc.formats import IMAGE_FORMATS, PixelFormat
from camera_grpc.gen.camera.v1 import camera_pb2 as pb
from tests.support import RunningService, ServiceFactory

WIDTH, HEIGHT = 6, 4
#: Per format: the array to_array must give, and the Pillow mode of to_image.
EXPECTED_MODES = {1: {"uint8": "L", "uint16": "I;16"}, 3: {"uint8": "RGB"}}


def raw_frame(pixel_format: PixelFormat, pixels: np.ndarray, bit_depth: int, **fields: object) -> pb.FramesResponse:
    """A raw FramesResponse as the service sends it: row-major, samples little-endian."""
    return pb.FramesResponse(
        width=pixels.shape[1],
        height=pixels.shape[0],
        pixel_format=pixel_format.proto,  # type: ignore[arg-type]
        encoding=pb.FRAME_ENCODING_RAW,
        bit_depth=bit_depth,
        data=pixels.astype(pixels.dtype.newbyteorder("<")).tobytes(),
        **fields,  # type: ignore[arg-type]
    )


def sample_pixels(pixel_format: PixelFormat, bit_depth: int) -> np.ndarray:
    """Distinct values over the format's bit depth, in the format's shape."""
    shape = (HEIGHT, WIDTH, 3) if pixel_format.channels == 3 else (HEIGHT, WIDTH)
    values = np.arange(np.prod(shape)) * 997 % (1 << bit_depth)
    return values.reshape(shape).astype(pixel_format.sample_type)


@pytest.mark.parametrize("pixel_format", list(PixelFormat), ids=lambda pixel_format: pixel_format.value)
def test_a_raw_frame_of_every_pixel_format_becomes_an_array_and_an_image(pixel_format: PixelFormat) -> None:
    bit_depth = 12 if pixel_format is PixelFormat.MONO16 else 8
    pixels = sample_pixels(pixel_format, bit_depth)
    frame = raw_frame(pixel_format, pixels, bit_depth)

    array = to_array(frame)
    assert array.dtype == np.dtype(pixel_format.sample_type)
    assert array.shape == ((HEIGHT, WIDTH, 3) if pixel_format is PixelFormat.RGB24 else (HEIGHT, WIDTH))
    assert np.array_equal(array, pixels)
    assert int(array.max()) < 1 << bit_depth  # right-aligned to bit_depth
    array[0, 0] = 1  # writable: a copy of the message's bytes
    view = to_array(frame, copy=False)
    assert np.array_equal(view, pixels) and not view.flags.writeable

    image = to_image(frame)
    assert image.size == (WIDTH, HEIGHT)
    assert image.mode == EXPECTED_MODES[pixel_format.channels][pixel_format.sample_type]
    assert np.array_equal(np.asarray(image), pixels)


def test_mono16_samples_are_little_endian_right_aligned() -> None:
    frame = pb.FramesResponse(
        width=2, height=1, pixel_format=pb.PIXEL_FORMAT_MONO16, bit_depth=12, data=b"\x02\x01\xff\x0f"
    )  # encoding unset: raw
    assert to_array(frame).tolist() == [[0x0102, 0x0FFF]]


def test_rgb24_pixels_are_red_green_blue() -> None:
    frame = pb.FramesResponse(width=2, height=1, pixel_format=pb.PIXEL_FORMAT_RGB24, bit_depth=8, data=bytes(range(6)))
    assert to_array(frame).tolist() == [[[0, 1, 2], [3, 4, 5]]]
    assert to_image(frame).getpixel((1, 0)) == (3, 4, 5)


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"data": b"\x00" * 5}, "should have 6 bytes, it has 5"),
        ({"pixel_format": 99}, "unknown pixel format (99)"),
        ({"bit_depth": 9}, "bit_depth 9 does not fit mono8 samples"),
    ],
)
def test_a_raw_frame_that_does_not_add_up_is_a_value_error(fields: dict[str, object], message: str) -> None:
    frame = pb.FramesResponse(width=3, height=2, pixel_format=pb.PIXEL_FORMAT_MONO8, bit_depth=8, data=b"\x00" * 6)
    for name, value in fields.items():
        setattr(frame, name, value)
    with pytest.raises(ValueError, match=message.replace("(", r"\(").replace(")", r"\)")):
        to_array(frame)


def encode(pixels: np.ndarray, pillow_format: str) -> bytes:
    buffer = io.BytesIO()
    Image.fromarray(pixels).save(buffer, pillow_format)
    return buffer.getvalue()


def test_encoded_frames_and_captures_become_images_and_arrays() -> None:
    grey = sample_pixels(PixelFormat.MONO8, 8)
    deep = sample_pixels(PixelFormat.MONO16, 12)
    png = pb.FramesResponse(width=WIDTH, height=HEIGHT, encoding=pb.FRAME_ENCODING_PNG, data=encode(grey, "PNG"))
    assert np.array_equal(to_array(png), grey) and to_image(png).format == "PNG"
    jpeg = pb.FramesResponse(width=WIDTH, height=HEIGHT, encoding=pb.FRAME_ENCODING_JPEG, data=encode(grey, "JPEG"))
    assert to_array(jpeg).shape == (HEIGHT, WIDTH) and to_array(jpeg).dtype == np.uint8
    tiff = pb.CaptureResponse(filename="a.tiff", image_data=encode(deep, "TIFF"))
    assert to_array(tiff).dtype == np.uint16 and np.array_equal(to_array(tiff), deep)
    stored = pb.GetCaptureResponse(data=encode(deep, "PNG"))
    assert np.array_equal(to_array(stored), deep)
    with pytest.raises(ValueError, match=r"capture 'b.png' carries no image data: capture with include_image_data"):
        to_array(pb.CaptureResponse(filename="b.png"))
    with pytest.raises(ValueError, match="GetCaptureResponse carries no image data"):
        to_image(pb.GetCaptureResponse())


# -- from a running service ---------------------------------------------------------------------


async def test_a_real_raw_frame_is_laid_out_as_the_sensor(service: RunningService) -> None:
    async with AsyncCameraClient(service.address) as camera, camera.frames(max_frames=1) as frames:
        frame = await anext(frames)
    pixels = to_array(frame)
    assert (pixels.shape, pixels.dtype) == ((2048, 2448), np.uint8)
    assert read_frame_number(pixels) == frame.frame_number  # the bar code the camera drew, read back in place
    assert to_image(frame).size == (2448, 2048)


async def test_a_real_mono16_frame_keeps_its_bit_depth(start_service: ServiceFactory) -> None:
    service = await start_service(simulated_pixel_format="mono16", simulated_width=640, simulated_height=480)
    async with AsyncCameraClient(service.address) as camera:
        async with camera.frames(max_frames=1) as frames:
            frame = await anext(frames)
        saved = await camera.capture(image_format=pb.IMAGE_FORMAT_PNG, include_image_data=True)
    pixels = to_array(frame)
    assert (pixels.shape, pixels.dtype, frame.bit_depth) == ((480, 640), np.uint16, 12)
    assert int(pixels.max()) < 1 << frame.bit_depth
    assert read_frame_number(pixels, full_scale=(1 << frame.bit_depth) - 1) == frame.frame_number
    file_pixels = to_array(saved)  # PNG keeps the 16-bit samples
    assert (file_pixels.shape, file_pixels.dtype) == ((480, 640), np.uint16)
    assert read_frame_number(file_pixels, full_scale=(1 << saved.bit_depth) - 1) == saved.frame_number


async def test_real_encoded_frames_and_captures_of_every_format(service: RunningService) -> None:
    def fetch() -> tuple[list[pb.FramesResponse], list[pb.CaptureResponse], pb.GetCaptureResponse]:
        with CameraClient(service.address) as camera:
            frames = [
                next(camera.frames(max_frames=1, encoding=encoding, max_width=320))
                for encoding in (pb.FRAME_ENCODING_JPEG, pb.FRAME_ENCODING_PNG)
            ]
            captures = [
                camera.capture(image_format=file_format.proto, include_image_data=True)  # type: ignore[arg-type]
                for file_format in IMAGE_FORMATS.values()
            ]
            return frames, captures, camera.get_capture(captures[0].filename)

    frames, captures, stored = await asyncio.to_thread(fetch)
    for message in [*frames, *captures]:
        pixels = to_array(message)
        assert (pixels.shape, pixels.dtype) == ((message.height, message.width), np.uint8), message.encoding
    assert [to_image(capture).format for capture in captures] == [fmt.pillow_format for fmt in IMAGE_FORMATS.values()]
    assert np.array_equal(to_array(stored), to_array(captures[0]))


def test_the_client_package_loads_no_numpy() -> None:
    """The REST gateway imports camera_grpc.client: numpy stays out unless arrays is imported by name."""
    code = "import sys, camera_grpc.client; print('numpy' in sys.modules)"
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=True)
    assert result.stdout.strip() == "False"
