"""Request ids (gRPC metadata and the REST gateway's X-Request-ID) and JSON log lines."""

from __future__ import annotations

import asyncio
import io
import json
import logging
import re
from pathlib import Path

import grpc
import httpx
import pytest
from grpc_health.v1 import health_pb2

from camera_grpc.contract import CAMERA_SERVICE_NAME
from camera_grpc.gen.camera.v1 import camera_pb2 as pb
from camera_grpc.gen.camera.v1 import camera_pb2_grpc
from camera_grpc.logs import REQUEST_ID_KEY, current_request_id, log_handler, request_id_from
from tests.support import FAST_CAMERA, RunningService, ServiceFactory, ServiceProcess, environment, eventually

SMALL_CAMERA = {"simulated_width": 64, "simulated_height": 48}
GENERATED = re.compile(r"[0-9a-f]{32}")
REST_LISTENING = re.compile(r"REST gateway listening on (http://\S+)")


@pytest.fixture
async def small(start_service: ServiceFactory) -> RunningService:
    return await start_service(**SMALL_CAMERA)


def request_id_in(metadata: grpc.aio.Metadata | None) -> str | None:
    values = [value for key, value in metadata or () if key == REQUEST_ID_KEY]
    assert len(values) <= 1, values
    return values[0] if values else None


async def test_a_unary_call_gets_its_request_id_back_sent_or_made(small: RunningService) -> None:
    call = small.stub.GetSettings(pb.GetSettingsRequest(), metadata=((REQUEST_ID_KEY, "nest-7f3a.1"),))
    await call
    assert request_id_in(await call.trailing_metadata()) == "nest-7f3a.1"

    made = set()
    for _ in range(3):
        call = small.stub.GetSettings(pb.GetSettingsRequest())
        await call
        request_id = request_id_in(await call.trailing_metadata())
        assert request_id is not None and GENERATED.fullmatch(request_id)
        made.add(request_id)
    assert len(made) == 3  # one per call


async def test_concurrent_calls_keep_their_own_request_ids(small: RunningService) -> None:
    async def call_with(request_id: str) -> str | None:
        call = small.stub.Capture(pb.CaptureRequest(), metadata=((REQUEST_ID_KEY, request_id),))  # takes a while
        await call
        return request_id_in(await call.trailing_metadata())

    sent = [f"concurrent-{index}" for index in range(8)]
    assert await asyncio.gather(*(call_with(request_id) for request_id in sent)) == sent


async def test_a_failed_call_gets_its_request_id_and_keeps_its_error_details(small: RunningService) -> None:
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await small.stub.UpdateSettings(
            pb.UpdateSettingsRequest(exposure_ms=-1.0), metadata=((REQUEST_ID_KEY, "bad-exposure"),)
        )
    assert caught.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    trailing = caught.value.trailing_metadata()
    assert request_id_in(trailing) == "bad-exposure"
    assert any(key == "grpc-status-details-bin" for key, _ in trailing)  # the field violation is still there
    with pytest.raises(grpc.aio.AioRpcError) as caught:  # the health servicer's own abort
        await small.health.Check(health_pb2.HealthCheckRequest(service="no.such.Service"))
    assert caught.value.code() == grpc.StatusCode.NOT_FOUND
    assert GENERATED.fullmatch(request_id_in(caught.value.trailing_metadata()) or "")


async def test_a_stream_gets_its_request_id_before_its_first_message(small: RunningService) -> None:
    call = small.stub.Frames(pb.FramesRequest(max_fps=1.0), metadata=((REQUEST_ID_KEY, "live-view-1"),))
    assert request_id_in(await call.initial_metadata()) == "live-view-1"
    await call.read()
    call.cancel()
    watch = small.health.Watch(health_pb2.HealthCheckRequest(service=CAMERA_SERVICE_NAME))
    assert GENERATED.fullmatch(request_id_in(await watch.initial_metadata()) or "")
    watch.cancel()


async def test_implausible_request_ids_are_replaced(small: RunningService) -> None:
    for sent in ("a" * 129, "has space", 'quote"d', "semi;colon", "<script>", ""):
        call = small.stub.GetSettings(pb.GetSettingsRequest(), metadata=((REQUEST_ID_KEY, sent),))
        await call
        assert GENERATED.fullmatch(request_id_in(await call.trailing_metadata()) or ""), sent
    assert request_id_from("a" * 128) == "a" * 128
    assert request_id_from(b"bytes-id") == "bytes-id"


def test_json_lines_carry_the_request_id_of_their_context() -> None:
    stream = io.StringIO()
    logger = logging.getLogger("tests.logs.json")
    logger.propagate = False
    logger.setLevel(logging.INFO)
    logger.addHandler(log_handler("json", stream))
    token = current_request_id.set("req-1")
    try:
        logger.info("inside %s", "a request")
    finally:
        current_request_id.reset(token)
    logger.info('outside "quoted"\nand a second line')
    try:
        raise ValueError("boom")
    except ValueError:
        logger.exception("failed")
    lines = stream.getvalue().splitlines()
    assert len(lines) == 3  # one line per record, whatever the message holds
    first, second, third = (json.loads(line) for line in lines)
    assert first["message"] == "inside a request" and first["request_id"] == "req-1"
    assert first["level"] == "INFO" and first["logger"] == "tests.logs.json"
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z", first["time"])
    assert "request_id" not in second and second["message"] == 'outside "quoted"\nand a second line'
    assert "ValueError: boom" in third["exception"]


async def test_a_json_logging_service_logs_each_call_with_its_request_id(tmp_path: Path) -> None:
    """LOG_FORMAT=json and DEBUG: every line is one JSON object; a gRPC call's line carries the id its client sent,
    and the REST gateway's id reaches the gRPC calls it makes."""
    env = {
        **environment(FAST_CAMERA),
        "IMAGE_SAVE_PATH": str(tmp_path / "captures"),
        "LOG_FORMAT": "json",
        "DEBUG": "true",
    }
    with ServiceProcess(env, cwd=tmp_path) as process:
        port = await asyncio.to_thread(process.wait_listening)
        await eventually(lambda: REST_LISTENING.search(process.log) is not None, 30, "the REST address logged")
        match = REST_LISTENING.search(process.log)
        assert match
        url = match.group(1)
        async with grpc.aio.insecure_channel(f"127.0.0.1:{port}") as channel:
            stub = camera_pb2_grpc.CameraServiceStub(channel)
            await stub.GetSettings(pb.GetSettingsRequest(), metadata=((REQUEST_ID_KEY, "grpc-call-42"),))
            call = stub.GetCameraInfo(pb.GetCameraInfoRequest())
            await call
            made = request_id_in(await call.trailing_metadata())
        async with httpx.AsyncClient(base_url=url, timeout=30) as http:
            sent = await http.get("/settings", headers={"X-Request-ID": "rest-req-9"})
            generated = await http.get("/camera")
        assert sent.headers["x-request-id"] == "rest-req-9"
        assert GENERATED.fullmatch(generated.headers["x-request-id"])
        await eventually(lambda: "rest-req-9" in process.log and (made or "?") in process.log, 10, "the calls logged")
        assert process.stop() == 0

    records = []
    for line in process.lines:
        try:
            records.append(json.loads(line))
        except json.JSONDecodeError:
            pytest.fail(f"not a JSON line: {line!r}\n{process.log}")
    assert all({"time", "level", "logger", "message"} <= record.keys() for record in records)

    def with_id(request_id: str) -> list[dict[str, str]]:
        return [record for record in records if record.get("request_id") == request_id]

    (call_line,) = with_id("grpc-call-42")  # one DEBUG line per call, nothing else
    assert re.fullmatch(rf"{re.escape(CAMERA_SERVICE_NAME)}/GetSettings OK \d+\.\d{{3}} ms", call_line["message"])
    assert call_line["level"] == "DEBUG" and call_line["logger"] == "camera_grpc.rpc.metrics"
    assert any("GetCameraInfo OK" in record["message"] for record in with_id(made or ""))
    rest = with_id("rest-req-9")
    assert any("GetSettings OK" in record["message"] for record in rest), rest  # the service's line, same id
    assert any(record["logger"] == "uvicorn.access" and "/settings" in record["message"] for record in rest), rest
    assert any("GET /camera" in record["message"] for record in with_id(generated.headers["x-request-id"]))
    assert any("gRPC listening on" in record["message"] and "request_id" not in record for record in records)
