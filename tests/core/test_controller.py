"""The controller's promises that only a camera with real quirks can test: it refuses a value only after another
was applied (the rollback must undo the first), and frames already in flight carry the old settings (a capture
with settings must wait for the first frame taken with them)."""

from __future__ import annotations

import dataclasses

import grpc
import pytest

from camera_grpc.device.base import Frame
from camera_grpc.device.simulated import SimulatedCamera
from camera_grpc.errors import InvalidSettingError
from camera_grpc.gen.camera.v1 import camera_pb2 as pb
from tests.support import ServiceFactory

#: A gain inside the advertised range that this camera nonetheless refuses when it is set.
REFUSED_GAIN_DB = 5.0
#: Frames a real camera has already exposed (in its buffers) when a setting changes.
FRAMES_IN_FLIGHT = 2


class RefusingCamera(SimulatedCamera):
    """Refuses one in-range gain at the moment it is set (as a camera may, e.g. in another mode)."""

    def set_gain_db(self, gain_db: float) -> float:
        if gain_db == REFUSED_GAIN_DB:
            raise InvalidSettingError("gain_db", gain_db, reason="is refused by the camera in its current mode")
        return super().set_gain_db(gain_db)


class InFlightCamera(SimulatedCamera):
    """Delivers the next FRAMES_IN_FLIGHT frames after a change with the settings they were exposed with."""

    def __init__(self, **kwargs: object) -> None:
        super().__init__(**kwargs)  # type: ignore[arg-type]
        self._stale: list[tuple[float, float]] = []

    def set_exposure_ms(self, exposure_ms: float) -> float:
        self._stale = [(self.get_exposure_ms(), self.get_gain_db())] * FRAMES_IN_FLIGHT
        return super().set_exposure_ms(exposure_ms)

    def grab(self) -> Frame:
        frame = super().grab()
        if self._stale:
            exposure_ms, gain_db = self._stale.pop()
            return dataclasses.replace(frame, exposure_ms=exposure_ms, gain_db=gain_db)
        return frame


async def test_a_value_the_camera_refuses_after_another_was_applied_rolls_the_first_back(
    start_service: ServiceFactory,
) -> None:
    service = await start_service(driver=RefusingCamera(width=64, height=48, max_frame_rate_fps=200))
    before = await service.stub.GetSettings(pb.GetSettingsRequest())
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await service.stub.UpdateSettings(pb.UpdateSettingsRequest(exposure_ms=50.0, gain_db=REFUSED_GAIN_DB))
    assert caught.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert "refused by the camera" in caught.value.details()
    assert await service.stub.GetSettings(pb.GetSettingsRequest()) == before
    assert service.camera.get_exposure_ms() == before.exposure_ms  # the camera itself, not only the report


async def test_a_capture_with_settings_skips_frames_exposed_before_they_applied(start_service: ServiceFactory) -> None:
    service = await start_service(driver=InFlightCamera(width=64, height=48, max_frame_rate_fps=200))
    for exposure_ms in (3.0, 4.0, 3.0):
        response = await service.stub.Capture(pb.CaptureRequest(exposure_ms=exposure_ms), timeout=10)
        assert response.exposure_ms == pytest.approx(exposure_ms)
