"""Settings over gRPC (issue 12): a real server on port 0, the generated stub, the simulated camera.

FieldMask updates (AIP-134), legacy clients, conditional updates, errors with their details, WatchSettings
seen by another client, presets, camera channels, GetCameraInfo features.
"""

from __future__ import annotations

import grpc
import pytest
from google.protobuf.field_mask_pb2 import FieldMask
from google.rpc import error_details_pb2
from grpc_status import rpc_status

from camera_grpc.device.simulated import SimulatedCamera
from camera_grpc.gen.camera.v1 import camera_pb2 as pb
from camera_grpc.gen.camera.v1 import camera_pb2_grpc
from tests.support import RunningService, ServiceFactory

SMALL_CAMERA: dict[str, object] = {"width": 640, "height": 480, "max_frame_rate_fps": 200}


@pytest.fixture
async def small(start_service: ServiceFactory) -> RunningService:
    return await start_service(driver=SimulatedCamera(**SMALL_CAMERA))


def details(error: grpc.aio.AioRpcError) -> tuple[list[str], error_details_pb2.ErrorInfo]:
    """The BadRequest field names and the ErrorInfo of an error."""
    status = rpc_status.from_call(error)  # type: ignore[arg-type]
    assert status is not None, "no rich status details"
    fields: list[str] = []
    info = error_details_pb2.ErrorInfo()
    for detail in status.details:
        bad_request = error_details_pb2.BadRequest()
        if detail.Unpack(bad_request):
            fields.extend(violation.field for violation in bad_request.field_violations)
        detail.Unpack(info)
    return fields, info


def masked(settings: pb.CameraSettings, *paths: str, **fields: object) -> pb.UpdateSettingsRequest:
    return pb.UpdateSettingsRequest(settings=settings, update_mask=FieldMask(paths=list(paths)), **fields)  # type: ignore[arg-type]


async def refused(call: object) -> grpc.aio.AioRpcError:
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await call  # type: ignore[misc]
    return caught.value


async def test_a_mask_changes_only_the_named_parts(small: RunningService) -> None:
    before = (await small.stub.GetSettings(pb.GetSettingsRequest())).settings
    request = pb.CameraSettings(roi=pb.Region(width=320, offset_x=99), exposure_ms=1234.0)
    applied = await small.stub.UpdateSettings(masked(request, "roi.width"))
    assert applied.settings.roi.width == 320
    assert applied.settings.roi.offset_x == before.roi.offset_x  # set in the message, not in the mask
    assert applied.settings.exposure_ms == before.exposure_ms
    assert (applied.width, applied.settings.width) == (320, 320)  # legacy and new fields both filled
    assert applied.settings.revision == before.revision + 1
    assert (await small.stub.GetSettings(pb.GetSettingsRequest())).settings == applied.settings


async def test_an_empty_mask_names_the_fields_that_are_set(small: RunningService) -> None:
    before = (await small.stub.GetSettings(pb.GetSettingsRequest())).settings
    applied = await small.stub.UpdateSettings(pb.UpdateSettingsRequest(settings=pb.CameraSettings(gain_db=3.0)))
    assert applied.settings.gain_db == pytest.approx(3.0)
    assert (applied.settings.exposure_ms, applied.settings.roi) == (before.exposure_ms, before.roi)  # zero: unset


async def test_star_replaces_every_setting_from_a_full_message(small: RunningService) -> None:
    current = (await small.stub.GetSettings(pb.GetSettingsRequest())).settings
    wanted = pb.CameraSettings()
    wanted.CopyFrom(current)
    wanted.roi.CopyFrom(pb.Region(offset_x=0, offset_y=0, width=256, height=128))
    wanted.flip.horizontal = True
    wanted.exposure_ms = 3.0
    wanted.revision = 999  # output only: ignored in the message
    applied = await small.stub.UpdateSettings(masked(wanted, "*"))
    assert (applied.settings.roi.width, applied.settings.roi.height) == (256, 128)
    assert applied.settings.flip.horizontal and applied.settings.exposure_ms == pytest.approx(3.0)
    assert applied.settings.revision == current.revision + 1


@pytest.mark.parametrize(
    ("paths", "named", "why"),
    [
        (["roi.depth"], "roi.depth", "is not a setting"),
        (["revision"], "revision", "is output only"),
        (["width"], "width", "is output only"),
        (["*", "gain_db"], "*", "must be the only path"),
    ],
    ids=["unknown", "output-only", "output-only-geometry", "star-with-others"],
)
async def test_a_bad_mask_is_invalid_argument_naming_the_path(
    small: RunningService, paths: list[str], named: str, why: str
) -> None:
    before = await small.stub.GetSettings(pb.GetSettingsRequest())
    error = await refused(small.stub.UpdateSettings(masked(pb.CameraSettings(gain_db=3.0), *paths)))
    assert error.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert named in error.details() and why in error.details()
    fields, info = details(error)
    assert (fields, info.reason) == (["update_mask"], "INVALID_ARGUMENT")
    assert await small.stub.GetSettings(pb.GetSettingsRequest()) == before


async def test_an_unspecified_enum_the_mask_names_is_refused_listing_the_choices(small: RunningService) -> None:
    error = await refused(small.stub.UpdateSettings(masked(pb.CameraSettings(), "pixel_format")))
    assert error.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert "mono8" in error.details() and "bayer16_rggb" in error.details()
    assert details(error)[0] == ["pixel_format"]
    error = await refused(small.stub.UpdateSettings(masked(pb.CameraSettings(), "exposure_auto")))
    assert "off, continuous, once" in error.details()


async def test_legacy_fields_and_a_mask_together_are_refused(small: RunningService) -> None:
    request = masked(pb.CameraSettings(gain_db=3.0), "gain_db", exposure_ms=5.0)
    error = await refused(small.stub.UpdateSettings(request))
    assert error.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert "not both" in error.details()


async def test_legacy_clients_get_what_they_always_got(small: RunningService) -> None:
    applied = await small.stub.UpdateSettings(pb.UpdateSettingsRequest(exposure_ms=12.5))
    assert applied.exposure_ms == pytest.approx(12.5) and applied.gain_db == 0.0
    assert (applied.width, applied.height, applied.pixel_format, applied.connected) == (
        640,
        480,
        pb.PIXEL_FORMAT_MONO8,
        True,
    )
    assert applied.settings.exposure_ms == pytest.approx(12.5)
    error = await refused(small.stub.UpdateSettings(pb.UpdateSettingsRequest(gain_db=99.0)))
    assert error.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert details(error)[0] == ["gain_db"] and "between 0 and 24 (dB)" in error.details()


async def test_a_value_against_the_cameras_step_names_the_nested_field_and_the_step(small: RunningService) -> None:
    error = await refused(small.stub.UpdateSettings(masked(pb.CameraSettings(roi=pb.Region(width=321)), "roi.width")))
    assert error.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert "step 8" in error.details()
    fields, info = details(error)
    assert fields == ["roi.width"] and info.domain == "camera-grpc"


async def test_a_feature_the_camera_lacks_is_failed_precondition_naming_it(small: RunningService) -> None:
    balance = pb.CameraSettings(white_balance=pb.WhiteBalance(mode=pb.AUTO_MODE_ONCE, red=1, green=1, blue=1))
    error = await refused(small.stub.UpdateSettings(masked(balance, "white_balance")))
    assert error.code() == grpc.StatusCode.FAILED_PRECONDITION
    _, info = details(error)
    assert info.reason == "FEATURE_UNSUPPORTED" and info.metadata["field"].startswith("white_balance")


async def test_an_expected_revision_that_is_not_current_is_aborted(small: RunningService) -> None:
    current = (await small.stub.GetSettings(pb.GetSettingsRequest())).settings
    ok = await small.stub.UpdateSettings(pb.UpdateSettingsRequest(exposure_ms=4.0, expected_revision=current.revision))
    error = await refused(
        small.stub.UpdateSettings(pb.UpdateSettingsRequest(exposure_ms=9.0, expected_revision=current.revision))
    )
    assert error.code() == grpc.StatusCode.ABORTED
    assert details(error)[1].reason == "REVISION_MISMATCH"
    assert (await small.stub.GetSettings(pb.GetSettingsRequest())).settings == ok.settings


async def test_a_second_client_watching_sees_the_first_ones_change(small: RunningService) -> None:
    async with grpc.aio.insecure_channel(small.address) as other:
        watcher = camera_pb2_grpc.CameraServiceStub(other)
        watch = watcher.WatchSettings(pb.WatchSettingsRequest(), timeout=30)
        first = await watch.read()
        assert (first.cause, first.connected) == ("initial", True)
        applied = await small.stub.UpdateSettings(masked(pb.CameraSettings(roi=pb.Region(height=240)), "roi.height"))
        seen = await watch.read()
        assert seen.cause == "update"
        assert (seen.settings.revision, seen.settings.roi.height, seen.settings.height) == (
            applied.settings.revision,
            240,
            240,
        )
        small.runtime.controller.close_watches()  # as when the service stops
        assert await watch.read() is grpc.aio.EOF
        assert await watch.code() == grpc.StatusCode.OK


async def test_camera_info_describes_every_feature_with_its_unit(small: RunningService) -> None:
    info = await small.stub.GetCameraInfo(pb.GetCameraInfoRequest())
    features = {feature.name: feature for feature in info.features}
    assert list(features)[:2] == ["exposure_ms", "gain_db"]
    exposure = features["exposure_ms"]
    assert (exposure.supported, exposure.minimum, exposure.maximum, exposure.unit) == (
        True,
        0.01,
        10_000,
        "milliseconds",
    )
    assert features["gain_db"].unit == "dB"
    width = features["roi.width"]
    assert (width.maximum, width.step, width.settable_while_streaming, width.unit) == (640, 8, False, "")
    assert width.HasField("minimum")
    assert "mono12_packed" in features["pixel_format"].choices
    assert list(features["pixel_addressing.horizontal"].values) == [1, 2, 4]
    assert not features["white_balance.mode"].supported  # a mono camera
    assert info.settings_channels == 2


async def test_presets_over_grpc(small: RunningService) -> None:
    await small.stub.UpdateSettings(pb.UpdateSettingsRequest(exposure_ms=4.0))
    created = await small.stub.CreatePreset(pb.CreatePresetRequest(preset_id="bench-1"))
    assert created.preset.name == "presets/bench-1" and created.preset.settings.exposure_ms == pytest.approx(4.0)
    assert created.preset.create_time.seconds > 0
    listed = await small.stub.ListPresets(pb.ListPresetsRequest())
    assert [preset.name for preset in listed.presets] == ["presets/bench-1"]
    assert (await small.stub.GetPreset(pb.GetPresetRequest(name="presets/bench-1"))).preset == created.preset
    await small.stub.UpdateSettings(pb.UpdateSettingsRequest(exposure_ms=8.0))
    applied = await small.stub.ApplyPreset(pb.ApplyPresetRequest(name="presets/bench-1"))
    assert applied.connected and applied.settings.exposure_ms == pytest.approx(4.0)
    await small.stub.DeletePreset(pb.DeletePresetRequest(name="presets/bench-1"))
    error = await refused(small.stub.GetPreset(pb.GetPresetRequest(name="presets/bench-1")))
    assert error.code() == grpc.StatusCode.NOT_FOUND and details(error)[1].reason == "PRESET_NOT_FOUND"
    error = await refused(small.stub.CreatePreset(pb.CreatePresetRequest(preset_id="Bench_1")))
    assert error.code() == grpc.StatusCode.INVALID_ARGUMENT and details(error)[0] == ["preset_id"]
    error = await refused(small.stub.ApplyPreset(pb.ApplyPresetRequest(name="bench-1")))
    assert error.code() == grpc.StatusCode.INVALID_ARGUMENT and "presets/{preset_id}" in error.details()


async def test_camera_channels_over_grpc(small: RunningService) -> None:
    await small.stub.UpdateSettings(pb.UpdateSettingsRequest(gain_db=6.0))
    await small.stub.SaveSettingsToCamera(pb.SaveSettingsToCameraRequest(channel=2))
    await small.stub.UpdateSettings(pb.UpdateSettingsRequest(gain_db=1.0))
    loaded = await small.stub.LoadSettingsFromCamera(pb.LoadSettingsFromCameraRequest(channel=2))
    assert loaded.connected and loaded.settings.gain_db == pytest.approx(6.0)
    error = await refused(small.stub.SaveSettingsToCamera(pb.SaveSettingsToCameraRequest(channel=3)))
    assert error.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert "between 1 and 2" in error.details() and details(error)[0] == ["channel"]


async def test_a_settings_watch_counts_as_a_long_lived_stream(start_service: ServiceFactory) -> None:
    service = await start_service(driver=SimulatedCamera(**SMALL_CAMERA), grpc_max_streams=1)
    watch = service.stub.WatchSettings(pb.WatchSettingsRequest(), timeout=30)
    await watch.read()
    second = service.stub.WatchSettings(pb.WatchSettingsRequest(), timeout=30)
    error = await refused(second.read())
    assert error.code() == grpc.StatusCode.RESOURCE_EXHAUSTED and "GRPC_MAX_STREAMS" in error.details()
    watch.cancel()


async def test_an_update_that_names_nothing_changes_nothing(small: RunningService) -> None:
    before = await small.stub.GetSettings(pb.GetSettingsRequest())
    applied = await small.stub.UpdateSettings(pb.UpdateSettingsRequest())
    assert applied.settings == before.settings  # same revision
    error = await refused(small.stub.UpdateSettings(pb.UpdateSettingsRequest(update_mask=FieldMask(paths=["gain_db"]))))
    assert error.code() == grpc.StatusCode.INVALID_ARGUMENT and "settings is not set" in error.details()
