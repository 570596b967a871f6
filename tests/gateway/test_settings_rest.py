"""Every camera setting over REST (issue 12): GET /settings in full with its ETag, PATCH /settings (a partial
update, If-Match), GET /settings/events (Server-Sent Events), features in GET /camera, presets and the camera's
channels; against the real service on the default simulated camera (2448x2048 mono8, region steps of 8)."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest

from camera_grpc.gateway.routers.settings import expected_revision
from camera_grpc.gateway.settings_schemas import FullSettings, SettingsPatch
from camera_grpc.gen.camera.v1 import camera_pb2 as pb
from tests.gateway.conftest import GatewayFactory, RunningGateway
from tests.support import STATE_TIMEOUT_S, ServiceFactory, eventually

SENSOR = {"offset_x": 0, "offset_y": 0, "width": 2448, "height": 2048}
#: Fields of GET /settings the legacy API had (unchanged by issue 12).
LEGACY_FIELDS = {"exposure", "gain", "resolution", "width", "height", "pixel_format", "connected"}


async def grpc_settings(gateway: RunningGateway) -> pb.CameraSettings:
    """The settings as the service has them (read over gRPC, not through the gateway)."""
    return (await gateway.service.stub.GetSettings(pb.GetSettingsRequest())).settings


# -- the JSON shape (no service) ---------------------------------------------------------------------------


def test_the_json_names_are_the_protos_field_names() -> None:
    settable = {field.name for field in pb.CameraSettings.DESCRIPTOR.fields}
    output_only = {"width", "height", "bit_depth", "actual_frame_rate_fps", "revision", "delivered_pixel_format"}
    assert set(SettingsPatch.model_fields) == settable - output_only
    assert set(FullSettings.model_fields) == settable - {"width", "height"}  # those are legacy fields already
    for name, field in pb.CameraSettings.DESCRIPTOR.fields_by_name.items():
        if field.message_type is not None and name in SettingsPatch.model_fields:
            nested = SettingsPatch.model_fields[name].annotation.__args__[0]  # type: ignore[union-attr]
            if field.is_repeated:  # gpio: a list of them
                nested = nested.__args__[0]
            assert set(nested.model_fields) == {part.name for part in field.message_type.fields}, name


def test_nested_objects_become_nested_mask_paths_and_limits_one_path() -> None:
    patch = SettingsPatch.model_validate(
        {
            "roi": {"width": 640, "offset_x": 8},
            "exposure_auto": "once",
            "exposure_auto_limits_ms": {"minimum": 1, "maximum": 50},
            "flip": {},
            "gamma": None,
        }
    )
    request = patch.to_request(7)
    assert request is not None
    assert sorted(request.update_mask.paths) == [
        "exposure_auto",
        "exposure_auto_limits_ms",
        "roi.offset_x",
        "roi.width",
    ]
    assert request.settings.exposure_auto == pb.AUTO_MODE_ONCE
    assert request.expected_revision == 7
    assert SettingsPatch.model_validate({"flip": {}, "gamma": None}).to_request(None) is None


@pytest.mark.parametrize(("header", "revision"), [(None, None), ("*", None), ('"7"', 7), (' "12" ', 12), ('"0"', 0)])
def test_if_match_names_a_revision(header: str | None, revision: int | None) -> None:
    assert expected_revision(header) == revision


@pytest.mark.parametrize(
    "header", ['W/"7"', "7", '"seven"', '"7", "8"', '""', f'"{2**64}"', '"٣"', '"' + "9" * 5000 + '"']
)
def test_an_if_match_that_can_never_match_is_412(header: str) -> None:
    with pytest.raises(Exception) as raised:
        expected_revision(header)
    assert getattr(raised.value, "status_code", None) == 412


# -- GET /settings -------------------------------------------------------------------------------------------


async def test_get_settings_keeps_the_legacy_fields_and_adds_every_setting_with_its_etag(
    gateway: RunningGateway,
) -> None:
    response = await gateway.http.get("/settings")
    assert response.status_code == 200
    body = response.json()
    assert set(body) >= LEGACY_FIELDS
    assert (body["exposure"], body["gain"], body["width"], body["height"]) == (2.0, 0.0, 2448, 2048)
    assert body["resolution"] == {"width": 2448, "height": 2048}
    assert body["exposure_ms"] == body["exposure"] and body["gain_db"] == body["gain"]
    assert body["roi"] == SENSOR
    assert body["pixel_addressing"] == {"mode": "decimate", "horizontal": 1, "vertical": 1}
    assert body["pixel_format"] == body["delivered_pixel_format"] == "mono8"
    assert body["bit_depth"] == 8
    assert body["exposure_auto"] == body["gain_auto"] == "off"
    assert body["white_balance"] is None  # a mono camera
    assert body["flip"] == {"horizontal": False, "vertical": False}
    assert body["frame_rate"]["mode"] in ("free", "fixed")
    revision = (await grpc_settings(gateway)).revision
    assert body["revision"] == revision
    assert response.headers["etag"] == f'"{revision}"'


# -- PATCH /settings -----------------------------------------------------------------------------------------


async def test_patch_changes_only_the_fields_present_nested_ones_too(gateway: RunningGateway) -> None:
    before = await grpc_settings(gateway)
    response = await gateway.http.patch("/settings", json={"roi": {"width": 640}, "exposure_ms": 5.0})
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["roi"] == {**SENSOR, "width": 640}  # height and offsets as they were
    assert (body["width"], body["height"]) == (640, 2048)
    assert body["exposure_ms"] == body["exposure"] == pytest.approx(5.0)
    assert body["gain_db"] == 0.0
    assert body["revision"] > before.revision
    assert response.headers["etag"] == f'"{body["revision"]}"'
    after = await grpc_settings(gateway)
    assert (after.roi.width, after.roi.height, after.roi.offset_x) == (640, 2048, 0)
    assert after.exposure_ms == pytest.approx(5.0)
    assert after.revision == body["revision"]

    # Enums by their lower-case names, as GET /camera lists the choices.
    response = await gateway.http.patch(
        "/settings", json={"pixel_addressing": {"mode": "bin", "horizontal": 2}, "flip": {"vertical": True}}
    )
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["pixel_addressing"] == {"mode": "bin", "horizontal": 2, "vertical": 1}
    assert body["flip"] == {"horizontal": False, "vertical": True}
    assert body["width"] == 320  # 640 sensor pixels, two per image pixel
    assert body["roi"]["width"] == 640


async def test_trigger_parts_and_the_whole_gpio_list_are_patched_with_units_in_names(gateway: RunningGateway) -> None:
    body = (await gateway.http.get("/settings")).json()
    assert body["trigger"] == {
        "source": "free_running",
        "mode": "edge",
        "edge": "rising",
        "delay_ms": 0.0,
        "frames_per_trigger": 1,
    }
    assert [line["line"] for line in body["gpio"]] == [1, 2]
    assert set(body["gpio"][0]) == {field.name for field in pb.Gpio.DESCRIPTOR.fields}

    response = await gateway.http.patch("/settings", json={"trigger": {"source": "software", "delay_ms": 1.5}})
    assert response.status_code == 200, response.text
    assert response.json()["trigger"] == {**body["trigger"], "source": "software", "delay_ms": 1.5}
    after = await grpc_settings(gateway)
    assert (after.trigger.source, after.trigger.delay_ms) == (pb.TRIGGER_SOURCE_SOFTWARE, 1.5)

    strobe = {"line": 1, "mode": "strobe", "active_high": True, "delay_ms": 0.5, "duration_ms": 2.0}
    response = await gateway.http.patch("/settings", json={"gpio": [strobe, {"line": 2, "mode": "normal"}]})
    assert response.status_code == 200, response.text
    lines = {line["line"]: line for line in response.json()["gpio"]}
    assert {key: lines[1][key] for key in strobe} == strobe
    assert lines[2]["mode"] == "normal"
    assert [(line.line, line.mode) for line in (await grpc_settings(gateway)).gpio] == [
        (1, pb.GPIO_MODE_STROBE),
        (2, pb.GPIO_MODE_NORMAL),
    ]
    assert (await grpc_settings(gateway)).trigger.source == pb.TRIGGER_SOURCE_SOFTWARE  # not touched by gpio


def test_a_gpio_list_is_one_mask_path() -> None:
    request = SettingsPatch.model_validate({"gpio": [{"line": 1, "mode": "strobe"}], "trigger": {"edge": "falling"}})
    built = request.to_request(None)
    assert built is not None
    assert sorted(built.update_mask.paths) == ["gpio", "trigger.edge"]
    assert [(line.line, line.mode) for line in built.settings.gpio] == [(1, pb.GPIO_MODE_STROBE)]
    assert built.settings.trigger.edge == pb.TRIGGER_EDGE_FALLING


async def test_if_match_applies_only_at_that_revision_else_412_and_nothing_changes(gateway: RunningGateway) -> None:
    etag = (await gateway.http.get("/settings")).headers["etag"]
    changed = await gateway.http.patch("/settings", json={"gain_db": 3.0}, headers={"If-Match": etag})
    assert changed.status_code == 200, changed.text
    stale = await gateway.http.patch("/settings", json={"gain_db": 6.0}, headers={"If-Match": etag})
    assert stale.status_code == 412
    assert stale.json()["code"] == "ABORTED"
    assert (await grpc_settings(gateway)).gain_db == pytest.approx(3.0)
    assert (await gateway.http.patch("/settings", json={}, headers={"If-Match": etag})).status_code == 412
    fresh = await gateway.http.patch("/settings", json={"gain_db": 6.0}, headers={"If-Match": changed.headers["etag"]})
    assert fresh.status_code == 200 and fresh.json()["gain_db"] == pytest.approx(6.0)
    assert (await gateway.http.patch("/settings", json={"gain_db": 1.0}, headers={"If-Match": "*"})).status_code == 200


@pytest.mark.parametrize(
    ("body", "loc", "words"),
    [
        ({"roi": {"depth": 3}}, ["body", "roi", "depth"], "Extra inputs"),
        ({"exposure": 3.0}, ["body", "exposure"], "Extra inputs"),  # the legacy name is PUT's, not PATCH's
        ({"exposure_auto": "sometimes"}, ["body", "exposure_auto"], "'once'"),
        ({"roi": {"width": "640"}}, ["body", "roi", "width"], "integer"),
        ({"roi": {"width": 641}}, ["body", "roi", "width"], "step 8"),
        ({"roi": {"width": 4096}}, ["body", "roi", "width"], "2448"),
        ({"exposure_ms": 0.0}, ["body", "exposure_ms"], "between 0.01 and 10000 (milliseconds)"),
        ({"pixel_addressing": {"horizontal": 3}}, ["body", "pixel_addressing", "horizontal"], "1, 2, 4"),
        ({"exposure_auto_limits_ms": {"minimum": 1.0}}, ["body", "exposure_auto_limits_ms", "maximum"], "required"),
        ({"trigger": {"source": "sometimes"}}, ["body", "trigger", "source"], "'software'"),
        ({"trigger": {"delay_ms": 20000.0}}, ["body", "trigger", "delay_ms"], "milliseconds"),
        ({"gpio": [{"mode": "strobe"}]}, ["body", "gpio", 0, "line"], "required"),
    ],
)
async def test_bad_values_are_422_naming_the_field_and_change_nothing(
    gateway: RunningGateway, body: dict[str, Any], loc: list[str], words: str
) -> None:
    before = await grpc_settings(gateway)
    response = await gateway.http.patch("/settings", json=body)
    assert response.status_code == 422, response.text
    issues = response.json()["detail"]
    assert any(issue["loc"] == loc and words in issue["msg"] for issue in issues), issues
    assert await grpc_settings(gateway) == before


async def test_a_feature_the_camera_lacks_is_409_naming_it_not_503(gateway: RunningGateway) -> None:
    before = await grpc_settings(gateway)
    response = await gateway.http.patch("/settings", json={"white_balance": {"mode": "once"}, "gain_db": 4.0})
    assert response.status_code == 409, response.text
    body = response.json()
    assert (body["code"], body["reason"]) == ("FAILED_PRECONDITION", "FEATURE_UNSUPPORTED")
    assert "white_balance.mode" in body["detail"]
    assert await grpc_settings(gateway) == before  # the gain was not applied either


async def test_the_legacy_put_is_unchanged(gateway: RunningGateway) -> None:
    response = await gateway.http.put("/settings", json={"exposure": 12.5, "gain": 2.0})
    assert response.status_code == 200
    body = response.json()
    assert (body["exposure"], body["gain"]) == (pytest.approx(12.5), pytest.approx(2.0))
    assert set(body) >= LEGACY_FIELDS
    refused = await gateway.http.put("/settings", json={"exposure": 20000.0})
    assert refused.status_code == 422
    assert refused.json()["detail"] == [
        {
            "type": "out_of_range",
            "loc": ["body", "exposure"],
            "msg": "exposure must be between 0.01 and 10000 (milliseconds)",
        }
    ]
    assert (await gateway.http.put("/settings", json={"roi": {"width": 640}})).status_code == 422  # PATCH's shape
    assert (await grpc_settings(gateway)).roi.width == 2448


# -- GET /settings/events ---------------------------------------------------------------------------------------


async def sse_events(response: httpx.Response) -> AsyncIterator[dict[str, str]]:
    """The events of a text/event-stream as they arrive (comments skipped)."""
    fields: dict[str, str] = {}
    async for line in response.aiter_lines():
        if line == "":
            if fields:
                yield fields
            fields = {}
        elif not line.startswith(":"):
            name, _, value = line.partition(":")
            fields[name] = fields.get(name, "") + value.removeprefix(" ")


async def next_event(events: AsyncIterator[dict[str, str]]) -> dict[str, str]:
    """The next event (failing, not hanging, if none comes)."""
    return await asyncio.wait_for(anext(events), STATE_TIMEOUT_S)


async def test_events_send_the_settings_at_once_then_each_change_made_over_grpc(gateway: RunningGateway) -> None:
    slots = gateway.server.app.state.stream_slots
    async with gateway.http.stream("GET", "/settings/events") as response:
        assert response.status_code == 200
        assert response.headers["content-type"].startswith("text/event-stream")
        events = sse_events(response)
        first = await next_event(events)
        assert first["event"] == "settings"
        data = json.loads(first["data"])
        assert data["cause"] == "initial" and data["connected"] is True
        assert int(first["id"]) == data["revision"] == (await grpc_settings(gateway)).revision
        assert slots.total == 1  # counted as a live stream

        await gateway.service.stub.UpdateSettings(
            pb.UpdateSettingsRequest(settings=pb.CameraSettings(gamma=2.0), update_mask={"paths": ["gamma"]})
        )
        change = await next_event(events)
        data = json.loads(change["data"])
        assert data["cause"] == "update"
        assert data["gamma"] == pytest.approx(2.0)
        assert int(change["id"]) == data["revision"] > int(first["id"])
        assert set(data) >= LEGACY_FIELDS  # the same JSON as GET /settings
    await eventually(lambda: slots.total == 0, what="the event stream's slot given back")


async def test_events_share_the_live_stream_limits(start_gateway: GatewayFactory) -> None:
    gateway = await start_gateway(rest_max_streams_per_client=1)
    async with gateway.http.stream("GET", "/settings/events") as response:
        assert response.status_code == 200
        assert (await gateway.http.get("/stream.mjpg")).status_code == 429
        async with gateway.http.stream("GET", "/settings/events") as second:
            assert second.status_code == 429


async def test_events_of_an_unplugged_camera_say_so(gateway: RunningGateway) -> None:
    async with gateway.http.stream("GET", "/settings/events") as response:
        events = sse_events(response)
        assert json.loads((await next_event(events))["data"])["connected"] is True
        gateway.service.camera.unplug()
        while json.loads((await next_event(events))["data"])["connected"]:
            pass  # until the event that says it went
        gateway.service.camera.replug()
        while not json.loads((await next_event(events))["data"])["connected"]:
            pass


# -- GET /camera --------------------------------------------------------------------------------------------------


async def test_camera_info_describes_every_feature_and_the_channels(gateway: RunningGateway) -> None:
    info = (await gateway.http.get("/camera")).json()
    features = {feature["name"]: feature for feature in info["features"]}
    width = features["roi.width"]
    assert (width["supported"], width["maximum"], width["step"], width["unit"]) == (True, 2448, 8, "")
    assert width["settable_while_streaming"] is False
    assert features["exposure_ms"]["unit"] == "milliseconds"
    assert features["exposure_auto"]["choices"] == ["off", "continuous", "once"]
    assert "mono8" in features["pixel_format"]["choices"]
    assert features["pixel_addressing.horizontal"]["values"] == [1, 2, 4]
    assert features["white_balance.mode"]["supported"] is False  # a mono camera
    assert info["settings_channels"] == 2
    assert info["min_exposure_ms"] == 0.01  # the legacy fields are still there


# -- presets and the camera's channels -----------------------------------------------------------------------------


async def test_presets_save_list_show_apply_and_delete(gateway: RunningGateway) -> None:
    http = gateway.http
    await http.patch("/settings", json={"roi": {"width": 800}, "gamma": 1.5})
    created = await http.post("/presets", json={"preset_id": "narrow"})
    assert created.status_code == 201, created.text
    preset = created.json()
    assert preset["preset_id"] == "narrow"
    assert preset["settings"]["roi"]["width"] == 800 and preset["settings"]["gamma"] == pytest.approx(1.5)
    assert [p["preset_id"] for p in (await http.get("/presets")).json()["presets"]] == ["narrow"]
    assert (await http.get("/presets/narrow")).json()["settings"] == preset["settings"]

    await http.patch("/settings", json={"roi": {"width": 2448}, "gamma": 1.0})
    applied = await http.post("/presets/narrow/apply")
    assert applied.status_code == 200, applied.text
    assert applied.json()["roi"]["width"] == 800 and applied.json()["gamma"] == pytest.approx(1.5)
    assert applied.headers["etag"] == f'"{applied.json()["revision"]}"'
    assert (await grpc_settings(gateway)).roi.width == 800

    stale = await http.post("/presets/narrow/apply", headers={"If-Match": '"1"'})
    assert stale.status_code == 412

    assert (await http.delete("/presets/narrow")).status_code == 204
    assert (await http.get("/presets/narrow")).status_code == 404
    assert (await http.delete("/presets/narrow")).status_code == 404
    assert (await http.post("/presets/narrow/apply")).status_code == 404
    bad = await http.get("/presets/Not-An-Id")
    assert bad.status_code == 422 and bad.json()["detail"][0]["loc"] == ["path", "preset_id"]
    assert (await http.get("/presets")).json() == {"presets": []}


@pytest.mark.parametrize("preset_id", ["Upper", "-dash", "", "x" * 64, "sp ace"])
async def test_a_bad_preset_id_is_422_and_nothing_is_saved(gateway: RunningGateway, preset_id: str) -> None:
    response = await gateway.http.post("/presets", json={"preset_id": preset_id})
    assert response.status_code == 422, response.text
    assert (await gateway.http.get("/presets")).json() == {"presets": []}


async def test_camera_channels_save_and_load(gateway: RunningGateway) -> None:
    http = gateway.http
    await http.patch("/settings", json={"roi": {"width": 1024}})
    assert (await http.post("/camera/channels/1/save")).status_code == 204
    await http.patch("/settings", json={"roi": {"width": 2048}})
    loaded = await http.post("/camera/channels/1/load")
    assert loaded.status_code == 200, loaded.text
    assert loaded.json()["roi"]["width"] == 1024
    assert (await grpc_settings(gateway)).roi.width == 1024
    before = await grpc_settings(gateway)
    for path in ("/camera/channels/0/save", "/camera/channels/3/save", "/camera/channels/3/load"):
        refused = await http.post(path)
        assert refused.status_code == 422, path
        assert refused.json()["detail"][0]["loc"] == ["path", "channel"]
        assert "between" in refused.json()["detail"][0]["msg"]
    assert (await http.post("/camera/channels/-1/load")).status_code == 422
    assert await grpc_settings(gateway) == before


async def test_a_colour_camera_takes_white_balance_and_bayer_formats(
    start_service: ServiceFactory, start_gateway: GatewayFactory
) -> None:
    gateway = await start_gateway(await start_service(simulated_color=True))
    features = {feature["name"]: feature for feature in (await gateway.http.get("/camera")).json()["features"]}
    assert features["white_balance.mode"]["supported"] is True
    assert "once" in features["white_balance.mode"]["choices"]
    response = await gateway.http.patch(
        "/settings", json={"white_balance": {"red": 1.5}, "pixel_format": "bayer8_rggb"}
    )
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["white_balance"]["red"] == pytest.approx(1.5)
    assert body["white_balance"]["blue"] == pytest.approx(1.0)  # the other gains as they were
    assert body["pixel_format"] == body["delivered_pixel_format"] == "bayer8_rggb"
