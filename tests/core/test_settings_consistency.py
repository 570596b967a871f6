"""The settings clients asked for are the camera's: captures get exactly theirs under races."""

from __future__ import annotations

import asyncio
import dataclasses
import json
import logging
from pathlib import Path

import grpc
import pytest
from grpc_health.v1 import health_pb2

from camera_grpc.contract import CAMERA_SERVICE_NAME
from camera_grpc.device.base import CameraDescription, Range
from camera_grpc.device.settings import Features
from camera_grpc.device.simulated import SimulatedCamera
from camera_grpc.errors import InvalidSettingError
from camera_grpc.gen.camera.v1 import camera_pb2 as pb
from tests.support import RunningService, ServiceFactory, eventually

SERVING = health_pb2.HealthCheckResponse.SERVING
NOT_SERVING = health_pb2.HealthCheckResponse.NOT_SERVING
RACERS = 20
SMALL_CAMERA: dict[str, object] = {"width": 64, "height": 48, "max_frame_rate_fps": 200}


class RefusesTheReapplyOnce(SimulatedCamera):
    """Once, right after its first reconnect, refuses an exposure within its range (as a camera still starting may)."""

    def __init__(self, **kwargs: object) -> None:
        super().__init__(**kwargs)  # type: ignore[arg-type]
        self.opens = 0
        self.refusals = 0

    def open(self) -> None:
        super().open()
        self.opens += 1

    def set_exposure_ms(self, exposure_ms: float) -> float:
        if self.opens == 2 and not self.refusals:
            self.refusals += 1
            raise InvalidSettingError("exposure_ms", exposure_ms, reason="is refused while the camera starts up")
        return super().set_exposure_ms(exposure_ms)


#: The exposure range of the other model plugged in by SwappedCamera.
OTHER_MODEL_EXPOSURE_MS = Range(0.01, 1000.0)


class SwappedCamera(SimulatedCamera):
    """After :attr:`swapped` is set, reports (and enforces) the narrower exposure range of another model."""

    swapped = False

    def info(self) -> CameraDescription:
        info = super().info()
        if not self.swapped:
            return info
        narrower = dataclasses.replace(
            info.features["exposure_ms"],
            minimum=OTHER_MODEL_EXPOSURE_MS.minimum,
            maximum=OTHER_MODEL_EXPOSURE_MS.maximum,
        )
        features = Features(narrower if name == "exposure_ms" else info.features[name] for name in info.features)
        return dataclasses.replace(info, model="Other Model", exposure_ms=OTHER_MODEL_EXPOSURE_MS, features=features)

    def set_exposure_ms(self, exposure_ms: float) -> float:
        if self.swapped and exposure_ms not in OTHER_MODEL_EXPOSURE_MS:
            raise InvalidSettingError("exposure_ms", exposure_ms, minimum=0.01, maximum=1000.0)
        return super().set_exposure_ms(exposure_ms)


async def next_status(watch: grpc.aio.UnaryStreamCall, wanted: int) -> None:
    while (await watch.read()).status != wanted:
        pass


@pytest.mark.parametrize("streaming", [False, True], ids=["idle", "while-frames-stream"])
async def test_a_capture_with_settings_gets_exactly_them_while_others_change_settings(
    start_service: ServiceFactory, streaming: bool
) -> None:
    service: RunningService = await start_service(simulated_width=320, simulated_height=240)
    stream = service.stub.Frames(pb.FramesRequest(max_width=64, encoding=pb.FRAME_ENCODING_JPEG))
    if streaming:
        await stream.read()  # acquisition runs: captures take frames from the shared stream
    wanted = [2.0 + 0.1 * index for index in range(RACERS)]
    others = [5.0 + 0.1 * index for index in range(RACERS)]
    calls: list[grpc.aio.UnaryUnaryCall] = []
    for exposure, other in zip(wanted, others, strict=True):  # interleaved, all in flight at once
        calls.append(service.stub.Capture(pb.CaptureRequest(exposure_ms=exposure), timeout=30))
        calls.append(service.stub.UpdateSettings(pb.UpdateSettingsRequest(exposure_ms=other), timeout=30))
    results = await asyncio.gather(*calls)
    stream.cancel()
    captured = results[0::2]
    assert len(captured) == RACERS
    for exposure, response in zip(wanted, captured, strict=True):
        assert response.exposure_ms == pytest.approx(exposure), f"capture asked for {exposure} ms"
        sidecar = json.loads(Path(response.metadata_path).read_text())
        assert sidecar["settings"]["exposure_ms"] == pytest.approx(exposure)


async def test_a_refused_re_apply_after_a_reconnect_is_retried_and_health_waits_for_it(
    start_service: ServiceFactory,
) -> None:
    camera = RefusesTheReapplyOnce(**SMALL_CAMERA)
    service = await start_service(driver=camera)
    await service.stub.UpdateSettings(pb.UpdateSettingsRequest(exposure_ms=7.0))
    watch = service.health.Watch(health_pb2.HealthCheckRequest(service=CAMERA_SERVICE_NAME), timeout=30)
    await next_status(watch, SERVING)
    camera.unplug()
    await next_status(watch, NOT_SERVING)
    assert (await service.stub.GetSettings(pb.GetSettingsRequest())).connected is False
    camera.replug()
    await next_status(watch, SERVING)  # only once the camera has the requested exposure again
    watch.cancel()
    assert camera.refusals == 1 and camera.opens >= 3  # refused once, then retried on a fresh connect
    assert camera.get_exposure_ms() == pytest.approx(7.0)
    settings = await service.stub.GetSettings(pb.GetSettingsRequest())
    assert settings.connected and settings.exposure_ms == pytest.approx(7.0)
    assert (await service.stub.Capture(pb.CaptureRequest(), timeout=10)).exposure_ms == pytest.approx(7.0)


async def test_a_value_another_camera_cannot_take_is_reported_not_replaced(
    start_service: ServiceFactory, caplog: pytest.LogCaptureFixture
) -> None:
    camera = SwappedCamera(**SMALL_CAMERA)
    service = await start_service(driver=camera)
    await service.stub.UpdateSettings(pb.UpdateSettingsRequest(exposure_ms=2000.0))
    camera.unplug()
    await service.wait_for_health(NOT_SERVING)
    camera.swapped = True
    with caplog.at_level(logging.INFO, logger="camera_grpc"):
        camera.replug()
        await eventually(lambda: service.runtime.worker.state.usable, what="the other model connected")
    info = await service.stub.GetCameraInfo(pb.GetCameraInfoRequest())
    assert info.model == "Other Model" and info.max_exposure_ms == 1000.0 and not info.connected
    settings = await service.stub.GetSettings(pb.GetSettingsRequest())
    assert (settings.connected, settings.exposure_ms) == (False, 2000.0)  # what was asked for, not the camera's
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await service.stub.Capture(pb.CaptureRequest(), timeout=10)
    assert caught.value.code() == grpc.StatusCode.FAILED_PRECONDITION
    assert "exposure_ms=2000.0 must be between 0.01 and 1000 (milliseconds)" in caught.value.details()
    assert await service.health_status() == NOT_SERVING
    errors = [record.getMessage() for record in caplog.records if record.levelno >= logging.ERROR]
    assert any("cannot take the requested exposure_ms=2000.0" in message for message in errors), errors

    await service.stub.UpdateSettings(pb.UpdateSettingsRequest(exposure_ms=500.0))  # one it can take
    await service.wait_for_health(SERVING)
    settings = await service.stub.GetSettings(pb.GetSettingsRequest())
    assert (settings.connected, settings.exposure_ms) == (True, 500.0)
    assert (await service.stub.Capture(pb.CaptureRequest(), timeout=10)).exposure_ms == 500.0
