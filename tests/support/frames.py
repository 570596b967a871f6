"""Frames made in the test, for the frame hub and encoders without a camera."""

from __future__ import annotations

from datetime import UTC, datetime

import numpy as np

from camera_grpc.device.base import Frame, PixelFormat


def synthetic_frame(number: int, size: int = 4) -> Frame:
    """A ``size`` x ``size`` MONO8 frame numbered ``number`` (every pixel ``number % 256``)."""
    return Frame(
        pixels=np.full((size, size), number % 256, np.uint8),
        pixel_format=PixelFormat.MONO8,
        bit_depth=8,
        frame_number=number,
        captured_at=datetime.now(UTC),
        exposure_ms=1.0,
        gain_db=0.0,
    )
