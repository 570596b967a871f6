"""Frames and captures as numpy arrays and Pillow images, for scripts that want pixels, not bytes.

::

    from camera_grpc.client import CameraClient
    from camera_grpc.client.arrays import to_array, to_image

    with CameraClient("127.0.0.1:50051") as camera:
        with camera.frames(max_frames=1) as frames:  # raw frames (the default encoding)
            pixels = to_array(next(frames))            # e.g. (2048, 2448) uint8
        saved = camera.capture(image_format=pb.IMAGE_FORMAT_PNG, include_image_data=True)
        to_image(saved).show()                         # a Pillow image of the saved file

:func:`to_array` gives, for a raw frame (``FRAME_ENCODING_RAW``, the default of
``Frames``), the pixels exactly as delivered, laid out by ``pixel_format``:

====================  ============  =======  ===============================================
pixel format          shape         dtype    values
====================  ============  =======  ===============================================
MONO8                 (H, W)        uint8    0-255
MONO16                (H, W)        uint16   right-aligned: 0 to 2**bit_depth - 1 (e.g. 4095)
RGB24                 (H, W, 3)     uint8    red, green, blue
BAYER8_RGGB/GRBG/...  (H, W)        uint8    the raw mosaic (demosaic it where you need colour)
====================  ============  =======  ===============================================

MONO16 arrives little-endian and comes out in the machine's byte order. The
array is the frame's significant bits as the camera gave them; for display,
``pixels << (16 - frame.bit_depth)`` spreads them over the whole uint16 range.

Encoded images (JPEG or PNG frames, a capture's ``image_data`` when asked for
with ``include_image_data=True``, GetCapture's ``data``) are decoded by
:func:`to_image` into a Pillow image; :func:`to_array` of them is that image's
pixels: (H, W) uint8 for grey, (H, W, 3) for RGB, (H, W) uint16 for 16-bit PNG
and TIFF files (which keep MONO16 pixels, right-aligned).

This module needs numpy, so ``camera_grpc.client`` does not import it (the REST
gateway is built on the client layer and loads no numpy): import it by name.
"""

from __future__ import annotations

import io
from typing import Any, TypeGuard

import numpy as np
import numpy.typing as npt
from PIL import Image

from camera_grpc.formats import PixelFormat
from camera_grpc.gen.camera.v1 import camera_pb2 as pb

#: Messages that carry an image.
ImageMessage = pb.FramesResponse | pb.CaptureResponse | pb.GetCaptureResponse

#: Encodings of raw frames (unspecified means raw).
RAW_ENCODINGS = (pb.FRAME_ENCODING_UNSPECIFIED, pb.FRAME_ENCODING_RAW)
#: ``camera.v1.PixelFormat`` value -> the format's layout (every format the service delivers).
_PIXEL_FORMATS = {pixel_format.proto: pixel_format for pixel_format in PixelFormat}


def to_array(message: ImageMessage, *, copy: bool = True) -> npt.NDArray[Any]:
    """The pixels of a frame or capture as a numpy array (shape, dtype and values: see the module's docstring).

    A raw frame is read straight from its bytes: with ``copy=False`` the array is a read-only view
    of them (no copy). Encoded images are decoded (:func:`to_image`). ValueError when the message
    holds no image or its bytes do not match its width, height and pixel format.
    """
    if _is_raw(message):
        return _raw_pixels(message, copy=copy)
    pixels = np.asarray(to_image(message))
    # A 16-bit grey file read as 32-bit integers by some Pillow versions: this service writes at most 16 bits.
    return pixels.astype(np.uint16) if pixels.dtype == np.int32 else pixels


def to_image(message: ImageMessage) -> Image.Image:
    """A frame or capture as a Pillow image: the decoded JPEG/PNG/TIFF/BMP, or a raw frame's pixels
    (mode ``L`` for mono and raw Bayer, ``I;16`` for MONO16, ``RGB`` for RGB24)."""
    if _is_raw(message):
        # (H, W) uint8 becomes mode L, (H, W) uint16 I;16, (H, W, 3) uint8 RGB
        return Image.fromarray(_raw_pixels(message, copy=True))
    image = Image.open(io.BytesIO(_encoded_bytes(message)))
    image.load()  # decode now: a damaged file fails here, not at first use
    return image


def _is_raw(message: ImageMessage) -> TypeGuard[pb.FramesResponse]:
    return isinstance(message, pb.FramesResponse) and message.encoding in RAW_ENCODINGS


def _raw_pixels(frame: pb.FramesResponse, *, copy: bool) -> npt.NDArray[Any]:
    pixel_format = _PIXEL_FORMATS.get(frame.pixel_format)
    if pixel_format is None:
        raise ValueError(f"raw frame in an unknown pixel format ({frame.pixel_format}): cannot lay out its bytes")
    sample = np.dtype(pixel_format.sample_type).newbyteorder("<")  # the wire's order (MONO16: little-endian)
    if not 0 <= frame.bit_depth <= sample.itemsize * 8:
        raise ValueError(f"bit_depth {frame.bit_depth} does not fit {pixel_format.value} samples")
    shape = (
        (frame.height, frame.width, pixel_format.channels) if pixel_format.channels > 1 else (frame.height, frame.width)
    )
    expected = int(np.prod(shape)) * sample.itemsize
    if len(frame.data) != expected:
        raise ValueError(
            f"raw {pixel_format.value} frame of {frame.width}x{frame.height} should have {expected} bytes, "
            f"it has {len(frame.data)}"
        )
    pixels = np.frombuffer(frame.data, dtype=sample).reshape(shape)
    return pixels.astype(sample.newbyteorder("="), copy=copy)  # a view on little-endian machines unless copied


def _encoded_bytes(message: ImageMessage) -> bytes:
    if isinstance(message, pb.CaptureResponse):
        if not message.image_data:
            raise ValueError(
                f"capture {message.filename!r} carries no image data: capture with include_image_data=True, "
                "or fetch the file with get_capture(filename)"
            )
        return message.image_data
    if not message.data:
        raise ValueError(f"{type(message).__name__} carries no image data")
    return message.data
