"""Triggering, I/O and events over REST (issue 13): POST /trigger (409 outside software-trigger mode, told apart
from the 503s by its reason), GET /io, GET /events (Server-Sent Events of WatchEvents) and frame metadata in
captures; against the real service on the default simulated camera (GPIO lines 1 and 2)."""

from __future__ import annotations

import json

import grpc

from camera_grpc.client import CameraRpcError
from camera_grpc.device.worker import CameraState
from camera_grpc.gateway.errors import http_status
from camera_grpc.gateway.schemas import CameraEvent
from camera_grpc.gen.camera.v1 import camera_pb2 as pb
from tests.gateway.conftest import GatewayFactory, RunningGateway
from tests.gateway.test_settings_rest import grpc_settings, next_event, sse_events
from tests.support import eventually

SOFTWARE = {"trigger": {"source": "software"}}


async def subscribed(gateway: RunningGateway) -> None:
    """Wait until the service has the gateway's watch among its event subscribers (events before are not sent)."""
    hub = gateway.service.runtime.events
    await eventually(lambda: hub.subscriber_count == 1, what="the gateway's watch subscribed")


async def test_a_trigger_outside_software_mode_is_409_naming_the_mode_and_takes_no_frame(
    gateway: RunningGateway,
) -> None:
    response = await gateway.http.post("/trigger")
    assert response.status_code == 409, response.text
    body = response.json()
    assert (body["code"], body["reason"]) == ("FAILED_PRECONDITION", "TRIGGER_MODE")
    assert "trigger.source" in body["detail"] and "free_running" in body["detail"]


def test_only_the_services_trigger_mode_reason_makes_a_failed_precondition_409() -> None:
    failed = grpc.StatusCode.FAILED_PRECONDITION
    assert http_status(CameraRpcError(failed, "x", reason="TRIGGER_MODE", domain="camera-grpc")) == 409
    assert http_status(CameraRpcError(failed, "x", reason="CAPTURES_FOLDER", domain="camera-grpc")) == 503
    assert http_status(CameraRpcError(failed, "x", reason="TRIGGER_MODE", domain="elsewhere")) == 503


async def test_a_software_trigger_answers_its_frame_and_metadata_and_counts(gateway: RunningGateway) -> None:
    assert (await gateway.http.patch("/settings", json=SOFTWARE)).status_code == 200
    first = await gateway.http.post("/trigger")
    assert first.status_code == 200, first.text
    body = first.json()
    assert len(body["frame_numbers"]) == 1
    metadata = body["metadata"]
    assert metadata["frame_number"] == body["frame_numbers"][0]
    assert metadata["trigger_source"] == "software"
    assert metadata["camera_clock"].startswith("simulated:")
    assert metadata["received_at"] is not None
    second = (await gateway.http.post("/trigger")).json()
    assert second["metadata"]["trigger_count"] == metadata["trigger_count"] + 1
    assert second["frame_numbers"][0] > body["frame_numbers"][0]
    assert second["metadata"]["camera_time_s"] > metadata["camera_time_s"]


async def test_io_lists_the_gpio_lines_as_configured(gateway: RunningGateway) -> None:
    response = await gateway.http.patch("/settings", json={"gpio": [{"line": 1, "mode": "input"}, {"line": 2}]})
    assert response.status_code == 200, response.text
    io = await gateway.http.get("/io")
    assert io.status_code == 200, io.text
    body = io.json()
    assert [(line["line"], line["mode"]) for line in body["lines"]] == [(1, "input"), (2, "off")]
    assert set(body) == {"lines", "sensor_temperature_c", "body_temperature_c"}
    gateway.service.camera.set_input(True)  # the level is read when asked
    assert (await gateway.http.get("/io")).json()["lines"][0]["high"] is True


async def test_events_arrive_named_by_type_with_the_sequence_number_as_id(gateway: RunningGateway) -> None:
    slots = gateway.server.app.state.stream_slots
    async with gateway.http.stream("GET", "/events") as response:
        assert response.status_code == 200
        assert response.headers["content-type"].startswith("text/event-stream")
        assert slots.total == 1  # counted as a live stream
        await subscribed(gateway)
        events = sse_events(response)
        changed = await gateway.http.patch("/settings", json={"gamma": 2.0})
        revision = changed.json()["revision"]
        event = await next_event(events)
        while event["event"] != "settings_changed":  # (a temperature may come first)
            event = await next_event(events)
        data = json.loads(event["data"])
        assert set(data) == set(CameraEvent.model_fields)
        assert set(data) == {field.name for field in pb.Event.DESCRIPTOR.fields} | {"missed_events"}
        assert int(event["id"]) == data["sequence_number"]
        assert (data["type"], data["settings_revision"], data["cause"], data["missed_events"]) == (
            "settings_changed",
            revision,
            "update",
            0,
        )
        saved = (await gateway.http.post("/capture", json={})).json()
        ids = [int(event["id"])]
        while (event := await next_event(events))["event"] != "capture_saved":
            ids.append(int(event["id"]))
        ids.append(int(event["id"]))
        assert json.loads(event["data"])["filename"] == saved["filename"]
        assert ids == list(range(ids[0], ids[0] + len(ids)))  # no gaps
    await eventually(lambda: slots.total == 0, what="the event stream's slot given back")
    hub = gateway.service.runtime.events
    await eventually(lambda: hub.subscriber_count == 0, what="the gateway's watch cancelled when the client went")


async def test_events_of_some_types_and_an_unplugged_camera(gateway: RunningGateway) -> None:
    wanted = {"type": ["camera_disconnected", "camera_reconnected"]}
    async with gateway.http.stream("GET", "/events", params=wanted) as response:
        await subscribed(gateway)
        events = sse_events(response)
        await gateway.http.patch("/settings", json={"gamma": 2.0})  # not asked for
        gateway.service.camera.unplug()
        assert (await next_event(events))["event"] == "camera_disconnected"
        worker = gateway.service.runtime.worker
        await eventually(lambda: worker.state is CameraState.DISCONNECTED, what="the camera thread saw it go")
        gateway.service.camera.replug()
        back = await next_event(events)
        assert back["event"] == "camera_reconnected"
        assert json.loads(back["data"])["settings_revision"] == (await grpc_settings(gateway)).revision


async def test_an_unknown_event_type_is_422_and_events_share_the_stream_limits(start_gateway: GatewayFactory) -> None:
    gateway = await start_gateway(rest_max_streams_per_client=1)
    refused = await gateway.http.get("/events", params={"type": "sunrise"})
    assert refused.status_code == 422
    (issue,) = refused.json()["detail"]
    assert issue["loc"] == ["query", "type"] and "trigger_missed" in issue["msg"]
    async with gateway.http.stream("GET", "/events") as response:
        assert response.status_code == 200
        assert (await gateway.http.get("/events")).status_code == 429


async def test_captures_carry_their_frames_metadata(gateway: RunningGateway) -> None:
    assert (await gateway.http.patch("/settings", json=SOFTWARE)).status_code == 200
    saved = await gateway.http.post("/capture", json={})
    assert saved.status_code == 200, saved.text
    metadata = saved.json()["metadata"]
    assert metadata["frame_number"] == saved.json()["frame_number"]
    assert (metadata["trigger_source"], metadata["trigger_count"] >= 1) == ("software", True)
    listed = (await gateway.http.get("/captures")).json()["captures"]
    assert listed[0]["filename"] == saved.json()["filename"]
    assert listed[0]["metadata"] == metadata
