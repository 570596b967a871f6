"""The clients' settings calls (issue 12): FieldMask partial updates, revisions, WatchSettings, presets,
camera channels and capabilities; the request building alone, then both clients against a real service."""

from __future__ import annotations

import asyncio
import math

import grpc
import pytest

from camera_grpc.client import AsyncCameraClient, CameraClient, CameraRpcError, SettingsValueError, update_request
from camera_grpc.client.settings import (
    enum_choices,
    enum_name,
    features_by_name,
    field_at,
    parse_value,
    preset_id,
    preset_name,
    setting_paths,
)
from camera_grpc.gen.camera.v1 import camera_pb2 as pb
from tests.support import STATE_TIMEOUT_S, RunningService, closed_port

# -- building requests (no service) ---------------------------------------------------------------


def test_a_message_replaces_the_whole_field_and_a_mapping_only_its_parts() -> None:
    request = update_request(
        {"roi": pb.Region(offset_x=8, width=640, height=480), "pixel_addressing": {"horizontal": 2, "vertical": 2}}
    )
    assert list(request.update_mask.paths) == ["roi", "pixel_addressing.horizontal", "pixel_addressing.vertical"]
    assert request.settings.roi == pb.Region(offset_x=8, width=640, height=480)
    assert (request.settings.pixel_addressing.horizontal, request.settings.pixel_addressing.vertical) == (2, 2)
    assert request.settings.pixel_addressing.mode == pb.ADDRESSING_MODE_UNSPECIFIED  # not named, not sent
    assert not request.HasField("expected_revision")


def test_enums_by_short_name_full_name_or_number_and_dotted_paths() -> None:
    request = update_request(
        {
            "exposure_auto": "once",
            "pixel_format": "PIXEL_FORMAT_MONO16",
            "gain_auto": pb.AUTO_MODE_CONTINUOUS,
            "white_balance.mode": "Off",
            "roi.width": 640,
            "gamma": 1,
            "flip": {"horizontal": True},
            "black_level_pct": None,  # left out
        },
        expected_revision=7,
    )
    assert list(request.update_mask.paths) == [
        "exposure_auto",
        "pixel_format",
        "gain_auto",
        "white_balance.mode",
        "roi.width",
        "gamma",
        "flip.horizontal",
    ]
    settings = request.settings
    assert (settings.exposure_auto, settings.pixel_format) == (pb.AUTO_MODE_ONCE, pb.PIXEL_FORMAT_MONO16)
    assert (settings.gain_auto, settings.white_balance.mode) == (pb.AUTO_MODE_CONTINUOUS, pb.AUTO_MODE_OFF)
    assert settings.gamma == 1.0 and settings.HasField("gamma") and not settings.HasField("black_level_pct")
    assert request.expected_revision == 7


@pytest.mark.parametrize(
    ("values", "message"),
    [
        ({"exposure": 5}, "exposure: not a setting"),
        ({"roi.depth": 5}, "roi.depth: not a setting"),
        ({"roi.width": 6.5}, "roi.width: must be a whole number, not 6.5"),
        ({"roi.width": -1}, "roi.width: must not be negative"),
        ({"roi": 640}, "roi: must be a camera.v1.Region or a mapping of its parts"),
        ({"roi": pb.Flip()}, "roi: must be a camera.v1.Region, not a Flip"),
        ({"roi": {}}, "roi: no part given"),
        ({"exposure_auto": "sometimes"}, "exposure_auto: must be one of off, continuous, once, not 'sometimes'"),
        ({"exposure_auto": "unspecified"}, "exposure_auto: must be one of off, continuous, once"),
        ({"exposure_auto": 42}, "exposure_auto: must be one of off, continuous, once, not 42"),
        ({"flip.horizontal": "yes"}, "flip.horizontal: must be true or false"),
        ({"exposure_ms": "5"}, "exposure_ms: must be a number, not '5'"),
        ({"gain_db": True}, "gain_db: must be a number, not True"),
        ({}, "update_mask: no setting given"),
        ({"gamma": None}, "update_mask: no setting given"),
    ],
)
def test_a_setting_the_client_cannot_send_is_an_error_naming_it(values: dict[str, object], message: str) -> None:
    with pytest.raises(SettingsValueError) as caught:
        update_request(values)
    assert str(caught.value).startswith(message), caught.value
    assert caught.value.path == message.split(":")[0]


@pytest.mark.parametrize(
    ("path", "text", "value"),
    [
        ("roi.width", "640", 640),
        ("exposure_ms", "12.5", 12.5),
        ("exposure_auto", "once", pb.AUTO_MODE_ONCE),
        ("pixel_format", "bayer16_rggb", pb.PIXEL_FORMAT_BAYER16_RGGB),
        ("pixel_addressing.mode", "BIN", pb.ADDRESSING_MODE_BIN),
        ("frame_rate.mode", "fixed", pb.FRAME_RATE_MODE_FIXED),
        ("flip.vertical", "on", True),
        ("flip.vertical", "False", False),
    ],
)
def test_command_line_values_are_parsed_by_the_field_type(path: str, text: str, value: object) -> None:
    assert parse_value(path, text) == value


def test_nan_and_infinity_are_left_for_the_service_to_refuse_with_its_range() -> None:
    assert math.isnan(parse_value("exposure_ms", "nan"))
    assert parse_value("gain_db", "inf") == math.inf


@pytest.mark.parametrize(
    ("path", "text", "message"),
    [
        ("roi.width", "wide", "roi.width: must be a whole number, not 'wide'"),
        ("roi.width", "-4", "roi.width: must not be negative, not -4"),
        ("exposure_ms", "long", "exposure_ms: must be a number, not 'long'"),
        ("flip.vertical", "maybe", "flip.vertical: must be true or false, not 'maybe'"),
        (
            "roi",
            "640",
            "roi: is a group of settings: set its parts (roi.offset_x, roi.offset_y, roi.width, roi.height)",
        ),
        ("pixel_format", "rgb", "pixel_format: must be one of mono8, mono16, rgb24, bayer8_rggb"),
    ],
)
def test_command_line_values_of_the_wrong_type_are_errors_naming_the_field(path: str, text: str, message: str) -> None:
    with pytest.raises(SettingsValueError) as caught:
        parse_value(path, text)
    assert str(caught.value).startswith(message), caught.value


def test_paths_and_enum_names_come_from_the_proto() -> None:
    paths = setting_paths()
    assert paths[:4] == ("exposure_ms", "gain_db", "roi", "roi.offset_x")
    assert "white_balance.red" in paths and "revision" in paths
    assert field_at("frame_rate.fps").name == "fps"
    assert enum_choices(pb.AutoMode.DESCRIPTOR) == ("off", "continuous", "once")
    assert enum_name(pb.PixelFormat.DESCRIPTOR, pb.PIXEL_FORMAT_MONO12_PACKED) == "mono12_packed"
    assert (preset_name("day"), preset_name("presets/day"), preset_id("presets/day")) == (
        "presets/day",
        "presets/day",
        "day",
    )


def test_exposure_and_gain_alone_still_send_the_request_older_services_know() -> None:
    camera = CameraClient(f"127.0.0.1:{closed_port()}")
    sent: list[pb.UpdateSettingsRequest] = []
    camera._send = lambda call: sent.append(call.request)  # type: ignore[method-assign]
    camera.update_settings(exposure_ms=5.0)
    camera.update_settings(gain_db=1.0, roi={"width": 640})
    camera.update_settings(exposure_ms=5.0, expected_revision=3)
    camera.close()
    assert sent[0] == pb.UpdateSettingsRequest(exposure_ms=5.0)  # no mask: as before issue 12
    assert list(sent[1].update_mask.paths) == ["gain_db", "roi.width"] and not sent[1].HasField("gain_db")
    assert list(sent[2].update_mask.paths) == ["exposure_ms"] and sent[2].expected_revision == 3


# -- against the service --------------------------------------------------------------------------


def valid_value(feature: pb.FeatureDescription, steps_from_minimum: int) -> int:
    """A value the camera accepts: ``minimum + k * step`` (``k`` steps up from its minimum)."""
    return int(feature.minimum + steps_from_minimum * (feature.step or 1))


async def test_a_partial_update_changes_only_the_fields_named(service: RunningService) -> None:
    def scenario() -> tuple[pb.GetCameraInfoResponse, pb.GetSettingsResponse, pb.UpdateSettingsResponse]:
        with CameraClient(service.address) as camera:
            info = camera.get_camera_info()
            before = camera.get_settings()
            width = features_by_name(info)["roi.width"]
            applied = camera.update_settings(roi={"width": valid_value(width, 4)}, exposure_auto="once")
            return info, before, applied

    info, before, applied = await asyncio.to_thread(scenario)
    width = valid_value(features_by_name(info)["roi.width"], 4)
    assert applied.settings.roi.width == width
    assert applied.settings.roi.height == before.settings.roi.height  # not named: unchanged
    assert applied.settings.roi.offset_x == before.settings.roi.offset_x
    assert applied.settings.exposure_auto in (pb.AUTO_MODE_ONCE, pb.AUTO_MODE_OFF)  # OFF again once it converged
    assert applied.settings.revision > before.settings.revision
    assert applied.settings.width == width  # delivered frames: no pixel addressing
    current = await service.stub.GetSettings(pb.GetSettingsRequest())
    assert current.settings.roi.width == width


async def test_a_stale_expected_revision_is_aborted_and_changes_nothing(service: RunningService) -> None:
    async with AsyncCameraClient(service.address) as camera:
        first = await camera.update_settings(gain_db=2.0)
        current = await camera.update_settings(gain_db=3.0, expected_revision=first.settings.revision)
        assert current.settings.gain_db == pytest.approx(3.0)
        with pytest.raises(CameraRpcError) as caught:
            await camera.update_settings(gain_db=4.0, expected_revision=first.settings.revision)
        after = await camera.get_settings()
    assert caught.value.code is grpc.StatusCode.ABORTED
    assert str(first.settings.revision) in caught.value.details or "revision" in caught.value.details
    assert after.settings.gain_db == pytest.approx(3.0)
    assert after.settings.revision == current.settings.revision


async def test_a_feature_the_camera_lacks_is_failed_precondition_naming_it(service: RunningService) -> None:
    async with AsyncCameraClient(service.address) as camera:
        info = await camera.get_camera_info()
        lacking = [feature.name for feature in info.features if not feature.supported]
        assert "white_balance.red" in lacking  # the default simulated camera is monochrome
        with pytest.raises(CameraRpcError) as caught:
            await camera.update_settings(white_balance={"red": 1.5})
    assert caught.value.code is grpc.StatusCode.FAILED_PRECONDITION
    assert caught.value.reason == "FEATURE_UNSUPPORTED"
    assert "white_balance" in caught.value.details


async def test_capabilities_describe_each_setting_by_its_field_path(service: RunningService) -> None:
    async with AsyncCameraClient(service.address) as camera:
        info = await camera.get_camera_info()
    features = features_by_name(info)
    assert features["exposure_ms"].supported and features["exposure_ms"].unit == "milliseconds"
    assert features["exposure_ms"].minimum == pytest.approx(info.min_exposure_ms)
    width = features["roi.width"]
    assert width.supported and width.maximum == info.sensor_width and width.HasField("step")
    assert "mono8" in features["pixel_format"].choices
    assert set(features["exposure_auto"].choices) <= {"off", "continuous", "once"}


async def test_watch_settings_sends_the_settings_then_every_change_with_a_higher_revision(
    service: RunningService,
) -> None:
    async with AsyncCameraClient(service.address) as camera, camera.watch_settings() as changes:
        initial = await anext(changes)
        applied = await camera.update_settings(gain_db=5.0)
        seen = [initial]
        while seen[-1].settings.revision < applied.settings.revision:
            seen.append(await asyncio.wait_for(anext(changes), STATE_TIMEOUT_S))
    assert initial.cause == "initial" and initial.connected
    assert [change.settings.revision for change in seen] == sorted({change.settings.revision for change in seen})
    assert seen[-1].settings.gain_db == pytest.approx(5.0)
    assert seen[-1].cause == "update"


async def test_the_blocking_watch_ends_when_cancelled(service: RunningService) -> None:
    def watch() -> list[pb.WatchSettingsResponse]:
        with CameraClient(service.address) as camera, camera.watch_settings() as changes:
            first = next(changes)
            changes.cancel()
            return [first, *changes]  # nothing more: the stream ended

    received = await asyncio.to_thread(watch)
    assert len(received) == 1 and received[0].cause == "initial"


async def test_presets_save_list_apply_and_delete(service: RunningService) -> None:
    async with AsyncCameraClient(service.address) as camera:
        await camera.update_settings(exposure_ms=7.0, gain_db=1.0)
        saved = await camera.create_preset("bright")
        await camera.update_settings(exposure_ms=3.0, gain_db=4.0)
        listed = await camera.list_presets()
        got = await camera.get_preset("presets/bright")
        applied = await camera.apply_preset("bright")
        current = await camera.get_settings()
        await camera.delete_preset("bright")
        with pytest.raises(CameraRpcError) as missing:
            await camera.get_preset("bright")
        with pytest.raises(CameraRpcError) as stale:
            await camera.apply_preset("bright", expected_revision=0)
    assert saved.preset.name == "presets/bright"
    assert (saved.preset.settings.exposure_ms, saved.preset.settings.gain_db) == (7.0, 1.0)
    assert [preset.name for preset in listed.presets] == ["presets/bright"]
    assert got.preset.settings == saved.preset.settings
    assert (applied.settings.exposure_ms, applied.settings.gain_db) == (pytest.approx(7.0), pytest.approx(1.0))
    assert (current.exposure_ms, current.gain_db) == (pytest.approx(7.0), pytest.approx(1.0))
    assert missing.value.code is grpc.StatusCode.NOT_FOUND
    assert stale.value.code is grpc.StatusCode.NOT_FOUND  # deleted: nothing to apply


async def test_camera_channels_save_and_load_the_camera_settings(service: RunningService) -> None:
    async with AsyncCameraClient(service.address) as camera:
        info = await camera.get_camera_info()
        assert info.settings_channels >= 1
        await camera.update_settings(exposure_ms=9.0)
        await camera.save_settings_to_camera(1)
        await camera.update_settings(exposure_ms=4.0)
        loaded = await camera.load_settings_from_camera(1)
        with pytest.raises(CameraRpcError) as beyond:
            await camera.save_settings_to_camera(info.settings_channels + 1)
    assert loaded.settings.exposure_ms == pytest.approx(9.0)
    assert beyond.value.code is grpc.StatusCode.INVALID_ARGUMENT
    assert "channel" in beyond.value.details
