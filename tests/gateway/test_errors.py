"""Every error mapping of the gateway: real failures of the real service, and statuses sent by a tiny real
gRPC server (for the ones the camera service cannot be made to produce, and for untrusted messages)."""

from __future__ import annotations

import asyncio
import math
import socket
from collections.abc import AsyncIterator
from pathlib import Path

import grpc
import httpx
import pytest
from grpc_health.v1 import health_pb2

from camera_grpc import errors
from camera_grpc.gateway.server import GatewayServer
from camera_grpc.gen.camera.v1 import camera_pb2 as pb
from camera_grpc.gen.camera.v1 import camera_pb2_grpc
from camera_grpc.rpc import status
from tests.gateway.conftest import GatewayFactory, RunningGateway
from tests.support import ServiceFactory, make_settings

SERVING = health_pb2.HealthCheckResponse.SERVING
NOT_SERVING = health_pb2.HealthCheckResponse.NOT_SERVING


def files_in(folder: Path) -> list[str]:
    return sorted(path.name for path in folder.iterdir()) if folder.exists() else []


def assert_no_internals(response: httpx.Response) -> None:
    text = response.text
    for leak in ("Traceback", 'File "', "secret", "10.1.2.3", "ipv4:", "127.0.0.1"):
        assert leak not in text, (leak, text)


# -- 422: bad input, from the service (range) or from the gateway (shape); nothing changes ----------

OUT_OF_RANGE = [
    ({"exposure": -1}, "exposure", "exposure must be between 0.01 and 10000 (milliseconds)"),
    ({"exposure": 0}, "exposure", "exposure must be between 0.01 and 10000 (milliseconds)"),
    ({"exposure": 1e308}, "exposure", "exposure must be between 0.01 and 10000 (milliseconds)"),
    ({"gain": 99}, "gain", "gain must be between 0 and 24 (dB)"),
    ({"gain": -0.5}, "gain", "gain must be between 0 and 24 (dB)"),
    ({"exposure": 50, "gain": 99}, "gain", "gain must be between 0 and 24 (dB)"),  # all or nothing
]


@pytest.mark.parametrize(("method", "path"), [("PUT", "/settings"), ("POST", "/capture")])
@pytest.mark.parametrize(("body", "field", "message"), OUT_OF_RANGE)
async def test_out_of_range_values_are_422_with_the_field_and_range_and_change_nothing(
    gateway: RunningGateway, method: str, path: str, body: dict[str, float], field: str, message: str
) -> None:
    before = await gateway.service.stub.GetSettings(pb.GetSettingsRequest())
    response = await gateway.http.request(method, path, json=body)
    assert response.status_code == 422
    assert response.json() == {"detail": [{"type": "out_of_range", "loc": ["body", field], "msg": message}]}
    assert await gateway.service.stub.GetSettings(pb.GetSettingsRequest()) == before
    assert files_in(gateway.service.captures) == []


NOT_JSON_NUMBERS = [
    (b'{"exposure": 1e400}', "out_of_range", ["body", "exposure"]),  # parses as infinity
    (b'{"exposure": NaN}', "out_of_range", ["body", "exposure"]),
    (b'{"gain": -Infinity}', "out_of_range", ["body", "gain"]),
    (b'{"exposure": "fast"}', "float_type", ["body", "exposure"]),
    (b'{"exposure": "100"}', "float_type", ["body", "exposure"]),  # a string is not a number
    (b'{"gain": true}', "float_type", ["body", "gain"]),  # nor is a boolean (found by schemathesis)
    (b'{"exposure": [1]}', "float_type", ["body", "exposure"]),
    (b'{"exposure": 100, "exposure_us": 100000}', "extra_forbidden", ["body", "exposure_us"]),
    (b'{"exposure": 100,}', "json_invalid", ["body", 17]),  # the offset of the error
    (b"exposure=100", "json_invalid", ["body", 0]),
    (b"[1e400]", "model_attributes_type", ["body"]),
    (b'{"exposure": "\xff"}', "json_invalid", ["body"]),  # not UTF-8 (found by schemathesis)
]


@pytest.mark.parametrize(("method", "path"), [("PUT", "/settings"), ("POST", "/capture")])
@pytest.mark.parametrize(("content", "kind", "loc"), NOT_JSON_NUMBERS)
async def test_malformed_bodies_are_422_naming_the_problem_and_change_nothing(
    gateway: RunningGateway, method: str, path: str, content: bytes, kind: str, loc: list[object]
) -> None:
    before = await gateway.service.stub.GetSettings(pb.GetSettingsRequest())
    response = await gateway.http.request(method, path, content=content, headers={"Content-Type": "application/json"})
    assert response.status_code == 422, response.text
    issues = response.json()["detail"]
    assert [(issue["type"], issue["loc"]) for issue in issues] == [(kind, loc)]
    if kind == "out_of_range":
        assert "between" in issues[0]["msg"]
    assert_no_internals(response)
    assert await gateway.service.stub.GetSettings(pb.GetSettingsRequest()) == before
    assert files_in(gateway.service.captures) == []


async def test_bad_query_values_are_422(gateway: RunningGateway) -> None:
    for path, loc in [
        ("/stream.mjpg?max_fps=0", ["query", "max_fps"]),
        ("/stream.mjpg?max_fps=nan", ["query", "max_fps"]),
        ("/stream.mjpg?quality=101", ["query", "quality"]),
        ("/stream.mjpg?max_width=wide", ["query", "max_width"]),
        ("/captures?page_size=0", ["query", "page_size"]),
    ]:
        response = await gateway.http.get(path)
        assert response.status_code == 422, path
        assert [issue["loc"] for issue in response.json()["detail"]] == [loc], path
    response = await gateway.http.get("/captures", params={"page_token": "not-a-token"})
    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"] == ["query", "page_token"]
    assert gateway.service.runtime.frames.subscriber_count == 0


# -- 503: the camera is not connected; the service is unreachable -----------------------------------


async def test_unplugged_camera_is_503_and_health_says_so(gateway: RunningGateway) -> None:
    http, service = gateway.http, gateway.service
    assert (await http.get("/health/ready")).status_code == 200
    service.camera.unplug()
    await service.wait_for_health(NOT_SERVING)

    for method, path, body in [("POST", "/capture", {}), ("PUT", "/settings", {"exposure": 5.0})]:
        response = await http.request(method, path, json=body)
        assert response.status_code == 503, path
        assert response.headers["Retry-After"] == "1"
        assert response.json()["code"] == "UNAVAILABLE" and response.json()["reason"] in (
            "CAMERA_UNAVAILABLE",
            "CAMERA_DISCONNECTED",
        )
        assert "camera" in response.json()["detail"]
    assert (await http.get("/stream.mjpg")).status_code == 503
    settings = await http.get("/settings")  # legacy: last known settings with the connection status
    assert settings.status_code == 200 and settings.json()["connected"] is False
    health = await http.get("/health")
    assert health.status_code == 200
    assert health.json() == {"status": "degraded", "camera_connected": False, "service": "NOT_SERVING"}
    ready = await http.get("/health/ready")
    assert ready.status_code == 503 and ready.json()["status"] == "degraded"
    assert files_in(service.captures) == []

    service.camera.replug()
    await service.wait_for_health(SERVING)
    assert (await http.get("/health/ready")).status_code == 200
    assert (await http.post("/capture")).status_code == 200


def unused_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


async def test_an_unreachable_service_is_503_without_internal_details(start_gateway: GatewayFactory) -> None:
    gateway = await start_gateway(target=f"127.0.0.1:{unused_port()}")
    for method, path in [("GET", "/settings"), ("POST", "/capture"), ("GET", "/captures"), ("GET", "/camera")]:
        response = await gateway.http.request(method, path)
        assert response.status_code == 503, path
        assert response.json() == {
            "detail": "the camera service is unavailable; retry later",
            "code": "UNAVAILABLE",
            "reason": None,
        }
        assert_no_internals(response)
    health = await gateway.http.get("/health")
    assert health.status_code == 200
    assert health.json() == {"status": "unavailable", "camera_connected": False, "service": "UNREACHABLE"}
    assert (await gateway.http.get("/health/ready")).status_code == 503


# -- 504, 507, and the captures folder -----------------------------------------------------------------


async def test_a_capture_longer_than_the_gateway_deadline_is_504_and_the_camera_keeps_working(
    start_gateway: GatewayFactory,
) -> None:
    gateway = await start_gateway(rest_timeout_s=0.3)
    response = await gateway.http.post("/capture", json={"exposure": 1500.0})
    assert response.status_code == 504
    assert response.json() == {
        "detail": "the camera service did not answer in time",
        "code": "DEADLINE_EXCEEDED",
        "reason": None,
    }
    # The abandoned capture is not saved; the camera finishes that exposure and keeps working.
    response = await gateway.service.stub.Capture(pb.CaptureRequest(exposure_ms=2.0), timeout=10)
    assert response.exposure_ms == pytest.approx(2.0)
    assert files_in(gateway.service.captures) == sorted([response.filename, Path(response.metadata_path).name])


async def test_a_full_disk_is_507_and_leaves_nothing_behind(
    start_service: ServiceFactory, start_gateway: GatewayFactory, small_filesystem: Path
) -> None:
    gateway = await start_gateway(await start_service(image_save_path=small_filesystem))
    response = await gateway.http.post("/capture", json={"format": "bmp"})  # 5 MB > the 1 MiB disk
    assert response.status_code == 507
    body = response.json()
    assert body["code"] == "RESOURCE_EXHAUSTED" and body["reason"] == "STORAGE_FULL"
    assert "no space" in body["detail"]
    assert files_in(small_filesystem) == []
    small = await gateway.http.post("/capture", json={"format": "jpg", "quality": 10, "exposure": 0.05})
    assert small.status_code == 200


async def test_an_unwritable_captures_folder_is_503_naming_the_folder(
    start_service: ServiceFactory, start_gateway: GatewayFactory, tmp_path: Path
) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("where the captures folder should be")
    gateway = await start_gateway(await start_service(image_save_path=blocker / "captures"))
    response = await gateway.http.post("/capture")
    assert response.status_code == 503
    assert response.json()["code"] == "FAILED_PRECONDITION"
    assert "captures folder" in response.json()["detail"] or "captures" in response.json()["detail"]


# -- every mapping, from a tiny real gRPC server ---------------------------------------------------------


class ScriptedCamera(camera_pb2_grpc.CameraServiceServicer):
    """A CameraService whose every RPC fails with ``self.status``."""

    def __init__(self) -> None:
        self.status: grpc.Status | None = None

    async def _fail(self, context: grpc.aio.ServicerContext) -> None:
        assert self.status is not None
        await context.abort_with_status(self.status)

    async def Capture(self, request: object, context: grpc.aio.ServicerContext) -> pb.CaptureResponse:
        await self._fail(context)
        raise AssertionError

    async def GetSettings(self, request: object, context: grpc.aio.ServicerContext) -> pb.GetSettingsResponse:
        await self._fail(context)
        raise AssertionError

    async def UpdateSettings(self, request: object, context: grpc.aio.ServicerContext) -> pb.UpdateSettingsResponse:
        await self._fail(context)
        raise AssertionError

    async def Frames(self, request: object, context: grpc.aio.ServicerContext) -> AsyncIterator[pb.FramesResponse]:
        await self._fail(context)
        yield pb.FramesResponse()

    async def GetCapture(self, request: object, context: grpc.aio.ServicerContext) -> pb.GetCaptureResponse:
        await self._fail(context)
        raise AssertionError


def raw(code: grpc.StatusCode, message: str) -> grpc.Status:
    """A status without details, as the gRPC library (or a foreign server) sends them."""
    from google.rpc import status_pb2
    from grpc_status import rpc_status

    return rpc_status.to_status(status_pb2.Status(code=code.value[0], message=message))


MAPPINGS = [
    # (status sent, HTTP status, body "detail" (None: generic), reason)
    (
        status.to_status(errors.CameraUnavailableError("camera is not connected (disconnected)")),
        503,
        "camera is not connected (disconnected)",
        "CAMERA_UNAVAILABLE",
    ),
    (
        status.to_status(errors.ServiceStoppingError("the service is shutting down")),
        503,
        "the service is shutting down",
        "SERVICE_STOPPING",
    ),
    (status.to_status(errors.CameraTimeoutError("no frame within 2 s")), 504, "no frame within 2 s", "CAMERA_TIMEOUT"),
    (
        status.to_status(errors.StorageFullError("no space left for captures in /data")),
        507,
        "no space left for captures in /data",
        "STORAGE_FULL",
    ),
    (
        status.to_status(errors.TooManySubscribersError("at most 64 frame streams")),
        503,
        "at most 64 frame streams",
        "TOO_MANY_SUBSCRIBERS",
    ),
    (
        status.to_status(errors.StorageUnavailableError("captures folder /data is not writable")),
        503,
        "captures folder /data is not writable",
        "STORAGE_UNAVAILABLE",
    ),
    (status.to_status(errors.NotFoundError("no capture named 'x'")), 404, "no capture named 'x'", "NOT_FOUND"),
    (status.to_status(RuntimeError("secret")), 500, None, None),
    (raw(grpc.StatusCode.INTERNAL, 'Traceback (most recent call last): File "/srv/secret.py"'), 500, None, None),
    (raw(grpc.StatusCode.UNKNOWN, "Exception calling application: secret"), 500, None, None),
    (raw(grpc.StatusCode.DATA_LOSS, "secret"), 500, None, None),
    (raw(grpc.StatusCode.UNAVAILABLE, "failed to connect to all addresses; ipv4:10.1.2.3:50051"), 503, None, None),
    (raw(grpc.StatusCode.DEADLINE_EXCEEDED, "Deadline Exceeded"), 504, None, None),
    (raw(grpc.StatusCode.RESOURCE_EXHAUSTED, "Received message larger than max"), 503, None, None),
    (raw(grpc.StatusCode.UNIMPLEMENTED, "Method not found!"), 501, None, None),
    (raw(grpc.StatusCode.NOT_FOUND, "secret"), 404, None, None),
    (raw(grpc.StatusCode.PERMISSION_DENIED, "secret"), 403, None, None),
    (raw(grpc.StatusCode.UNAUTHENTICATED, "secret"), 401, None, None),
    (raw(grpc.StatusCode.ABORTED, "secret"), 409, None, None),
]
GENERIC = {
    500: "internal error; see the camera service's log",
    503: "the camera service is unavailable; retry later",
    504: "the camera service did not answer in time",
    501: "not supported by the camera service",
    404: "not found",
    403: "not allowed",
    401: "not authenticated",
    409: "conflict",
}


@pytest.fixture
async def scripted() -> AsyncIterator[tuple[ScriptedCamera, httpx.AsyncClient]]:
    """A gateway (uvicorn, port 0) in front of a :class:`ScriptedCamera` on a real gRPC server (port 0)."""
    camera = ScriptedCamera()
    server = grpc.aio.server()
    camera_pb2_grpc.add_CameraServiceServicer_to_server(camera, server)
    port = server.add_insecure_port("127.0.0.1:0")
    await server.start()
    settings = make_settings(Path("/nonexistent"), rest_timeout_s=5.0)
    gateway = GatewayServer(settings, f"127.0.0.1:{port}", host="127.0.0.1", port=0)
    await gateway.start()
    try:
        async with httpx.AsyncClient(base_url=gateway.url, timeout=10) as http:
            yield camera, http
    finally:
        await gateway.stop()
        await server.stop(0)


@pytest.mark.parametrize(("sent", "http_status", "detail", "reason"), MAPPINGS)
async def test_every_grpc_status_maps_to_its_http_status_and_only_vouched_messages_are_shown(
    scripted: tuple[ScriptedCamera, httpx.AsyncClient],
    sent: grpc.Status,
    http_status: int,
    detail: str | None,
    reason: str | None,
) -> None:
    camera, http = scripted
    camera.status = sent
    for method, path in [("GET", "/settings"), ("POST", "/capture"), ("GET", "/stream.mjpg")]:
        response = await http.request(method, path)
        assert response.status_code == http_status, (path, response.text)
        assert response.json() == {
            "detail": detail or GENERIC[http_status],
            "code": sent.code.name,
            "reason": reason,
        }
        assert_no_internals(response)


async def test_invalid_argument_names_the_field_where_the_request_had_it(
    scripted: tuple[ScriptedCamera, httpx.AsyncClient],
) -> None:
    camera, http = scripted
    camera.status = status.to_status(errors.InvalidSettingError("exposure_ms", math.inf, minimum=0.01, maximum=10_000))
    response = await http.put("/settings", json={"exposure": 1})
    assert response.status_code == 422
    assert response.json()["detail"] == [
        {
            "type": "out_of_range",
            "loc": ["body", "exposure"],
            "msg": "exposure must be between 0.01 and 10000 (milliseconds)",
        }
    ]
    camera.status = status.to_status(errors.InvalidSettingError("max_fps", -1, reason="must be a finite number >= 0"))
    response = await http.get("/stream.mjpg")
    assert response.status_code == 422
    assert response.json()["detail"] == [
        {"type": "value_error", "loc": ["query", "max_fps"], "msg": "max_fps must be a finite number >= 0"}
    ]
    camera.status = raw(grpc.StatusCode.INVALID_ARGUMENT, "secret")  # no details: generic, no field
    response = await http.put("/settings", json={"exposure": 1})
    assert response.status_code == 422
    assert response.json()["detail"] == [{"type": "value_error", "loc": ["body"], "msg": "invalid request"}]


async def test_an_unknown_route_or_method_has_the_error_body_shape(gateway: RunningGateway) -> None:
    missing = await gateway.http.get("/no-such-thing")
    assert missing.status_code == 404 and missing.json() == {"detail": "Not Found", "code": None, "reason": None}
    wrong = await gateway.http.delete("/settings")
    assert wrong.status_code == 405 and wrong.json()["detail"] == "Method Not Allowed"
    assert "GET" in wrong.headers["allow"]
    await asyncio.sleep(0)


# -- what a client sent is not echoed at length --------------------------------------------------------


async def test_errors_do_not_echo_long_input_and_a_very_long_capture_name_is_404(gateway: RunningGateway) -> None:
    long_name = "capture_" + "a" * 10_000 + ".jpg"
    response = await gateway.http.get(f"/captures/{long_name}")
    assert response.status_code == 404, response.text
    assert response.json() == {"detail": "not found", "code": "NOT_FOUND", "reason": None}
    near_limit = "b" * 250 + ".jpg"  # 254 bytes: a name a file could have; the service says it is not one
    response = await gateway.http.get(f"/captures/{near_limit}")
    assert response.status_code == 404 and response.json()["reason"] == "NOT_FOUND"
    assert len(response.text) < 500

    response = await gateway.http.get("/captures", params={"page_token": "t" * 5_000})
    assert response.status_code == 422
    assert "ttttt" not in response.text and len(response.text) < 500
    unknown_field = "f" * 10_000
    response = await gateway.http.put("/settings", json={unknown_field: 1})
    assert response.status_code == 422
    [issue] = response.json()["detail"]
    assert issue["type"] == "extra_forbidden"
    assert issue["loc"][0] == "body" and issue["loc"][1].startswith("fff") and len(issue["loc"][1]) <= 64
    assert len(response.text) < 500
    response = await gateway.http.put("/settings", json={"exposure": "x" * 10_000})
    assert response.status_code == 422 and len(response.text) < 500


async def test_a_very_long_capture_name_is_404_without_asking_the_service(
    scripted: tuple[ScriptedCamera, httpx.AsyncClient],
) -> None:
    """An older service echoes the whole name: its status no longer fits gRPC's 8 KiB trailer limit, the call
    fails RESOURCE_EXHAUSTED, and the gateway would answer 503."""
    camera, http = scripted
    long_name = "capture_" + "a" * 10_000 + ".jpg"
    camera.status = raw(grpc.StatusCode.NOT_FOUND, f"no capture named {long_name!r}")
    response = await http.get(f"/captures/{long_name}")
    assert response.status_code == 404, response.text
    assert response.json() == {"detail": "not found", "code": "NOT_FOUND", "reason": None}


async def test_messages_from_the_service_are_cut_to_a_bounded_length(
    scripted: tuple[ScriptedCamera, httpx.AsyncClient],
) -> None:
    camera, http = scripted
    camera.status = status.to_status(errors.NotFoundError("no capture named '" + "n" * 5_000 + "'"))
    response = await http.get("/settings")
    assert response.status_code == 404
    detail = response.json()["detail"]
    assert detail.startswith("no capture named 'nnn") and len(detail) == 300 and detail.endswith("\u2026")
