"""Camera drivers: the abstract interface and its implementations.

:func:`create_driver` picks one from the settings. The PixeLINK driver module is
imported only when asked for, so importing this package never touches the SDK.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from camera_grpc.device.base import CameraDriver, PixelFormat
from camera_grpc.device.simulated import SimulatedCamera, colour_format
from camera_grpc.errors import SdkUnavailableError

if TYPE_CHECKING:
    from camera_grpc.config import Settings

log = logging.getLogger(__name__)


def create_simulated(settings: Settings) -> SimulatedCamera:
    """The simulated camera configured by ``SIMULATED_*`` (a colour one: the Bayer format of the same sample size)."""
    pixel_format = PixelFormat(settings.simulated_pixel_format)
    return SimulatedCamera(
        width=settings.simulated_width,
        height=settings.simulated_height,
        pixel_format=colour_format(pixel_format) if settings.simulated_color else pixel_format,
        max_frame_rate_fps=settings.simulated_frame_rate,
        color=settings.simulated_color,
    )


def create_pixelink(settings: Settings) -> CameraDriver:
    """The PixeLINK driver; raises SdkUnavailableError when the SDK cannot be loaded."""
    try:
        from camera_grpc.device import pixelink
    except ImportError as exc:  # the driver module itself is missing from this build
        raise SdkUnavailableError(f"the PixeLINK driver is not available: {exc}") from exc
    return pixelink.PixelinkCamera.from_settings(settings)


def create_driver(settings: Settings) -> CameraDriver:
    """The driver chosen by ``CAMERA_BACKEND`` (auto: PixeLINK if its SDK loads, else simulated)."""
    backend = settings.camera_backend
    if backend == "simulated":
        return create_simulated(settings)
    if backend == "pixelink":
        return create_pixelink(settings)
    try:
        driver = create_pixelink(settings)
    except SdkUnavailableError as exc:
        log.warning("CAMERA_BACKEND=auto: PixeLINK SDK not available (%s); using the simulated camera", exc)
        return create_simulated(settings)
    log.info("CAMERA_BACKEND=auto: PixeLINK SDK loaded; using the PixeLINK driver")
    return driver
