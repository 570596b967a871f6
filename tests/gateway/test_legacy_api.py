"""The legacy REST API, as legacy callers use it: same paths, methods, JSON names and units."""

from __future__ import annotations

import asyncio
import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from PIL import Image

from camera_grpc.gen.camera.v1 import camera_pb2 as pb
from tests.gateway.conftest import RunningGateway

#: The "Testing" section of the legacy service's README, verbatim; only the port is replaced in the test.
LEGACY_README_CURL = {
    "health": "curl http://localhost:8001/health",
    "get settings": "curl http://localhost:8001/settings",
    "capture": """curl -X POST http://localhost:8001/capture \\
  -H "Content-Type: application/json" \\
  -d '{"exposure": 100.0, "gain": 1.0}'""",
    "update settings": """curl -X PUT http://localhost:8001/settings \\
  -H "Content-Type: application/json" \\
  -d '{"exposure": 150.0, "gain": 2.0}'""",
}


async def run_curl(command: str, port: int) -> tuple[int, dict[str, object]]:
    """Run a README curl command with the port replaced (and -w to learn the status); (status, JSON body)."""
    command = command.replace("localhost:8001", f"localhost:{port}")
    process = await asyncio.create_subprocess_exec(
        "bash",
        "-c",
        command + " -s -S -o - -w '\\n%{http_code}'",
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    stdout, stderr = await asyncio.wait_for(process.communicate(), timeout=30)
    assert process.returncode == 0, stderr.decode()
    body, _, status = stdout.decode().rpartition("\n")
    return int(status), json.loads(body)


def assert_settings_body(body: dict[str, object], exposure: float, gain: float) -> None:
    assert body["exposure"] == pytest.approx(exposure)
    assert body["gain"] == pytest.approx(gain)
    assert body["resolution"] == {"width": 2448, "height": 2048}
    assert (body["width"], body["height"]) == (2448, 2048)
    assert body["connected"] is True


async def test_the_legacy_readme_curl_commands_answer_as_documented(gateway: RunningGateway) -> None:
    # Health check: "Returns service status and camera connectivity."
    status, health = await run_curl(LEGACY_README_CURL["health"], gateway.port)
    assert status == 200
    assert health == {"status": "healthy", "camera_connected": True, "service": "SERVING"}

    # Get settings: "Returns current exposure, gain, resolution, and connection status."
    status, settings = await run_curl(LEGACY_README_CURL["get settings"], gateway.port)
    assert status == 200
    assert_settings_body(settings, exposure=2.0, gain=0.0)  # the test service's defaults

    # Capture: "Returns image metadata including filename, path, and settings." (exposure in ms)
    status, capture = await run_curl(LEGACY_README_CURL["capture"], gateway.port)
    assert status == 200
    path = Path(str(capture["path"]))
    assert path.parent == gateway.service.captures and path.name == capture["filename"]
    assert (capture["exposure"], capture["gain"]) == (pytest.approx(100.0), pytest.approx(1.0))
    with Image.open(path) as image:
        assert image.size == (capture["width"], capture["height"]) == (2448, 2048)
    assert capture["size_bytes"] == path.stat().st_size
    assert capture["url"] == f"/captures/{capture['filename']}"

    # Update settings: "Returns updated settings."
    status, updated = await run_curl(LEGACY_README_CURL["update settings"], gateway.port)
    assert status == 200
    assert_settings_body(updated, exposure=150.0, gain=2.0)
    current = await gateway.service.stub.GetSettings(pb.GetSettingsRequest())
    assert (current.exposure_ms, current.gain_db) == (pytest.approx(150.0), pytest.approx(2.0))


async def test_update_settings_changes_only_the_fields_given(gateway: RunningGateway) -> None:
    response = await gateway.http.put("/settings", json={"gain": 6.0})
    assert response.status_code == 200
    assert (response.json()["exposure"], response.json()["gain"]) == (pytest.approx(2.0), pytest.approx(6.0))
    response = await gateway.http.put("/settings", json={"exposure": 12.5, "gain": None})
    assert (response.json()["exposure"], response.json()["gain"]) == (pytest.approx(12.5), pytest.approx(6.0))
    response = await gateway.http.put("/settings", json={})
    assert (response.json()["exposure"], response.json()["gain"]) == (pytest.approx(12.5), pytest.approx(6.0))


async def test_capture_without_a_body_uses_the_current_settings_and_full_metadata(gateway: RunningGateway) -> None:
    await gateway.http.put("/settings", json={"exposure": 4.0, "gain": 3.0})
    before = datetime.now(UTC)
    response = await gateway.http.post("/capture")
    assert response.status_code == 200
    body = response.json()
    assert set(body) == {
        "filename",
        "path",
        "url",
        "exposure",
        "gain",
        "format",
        "size_bytes",
        "width",
        "height",
        "pixel_format",
        "bit_depth",
        "frame_number",
        "captured_at",
        "metadata_path",
        "metadata",  # issue 13: camera timestamp, trigger and receive time
    }
    assert (body["exposure"], body["gain"]) == (pytest.approx(4.0), pytest.approx(3.0))
    assert (body["format"], body["pixel_format"], body["bit_depth"]) == ("jpeg", "mono8", 8)
    captured_at = datetime.fromisoformat(body["captured_at"])
    assert before - timedelta(seconds=1) < captured_at < datetime.now(UTC) + timedelta(seconds=1)
    sidecar = json.loads(Path(body["metadata_path"]).read_text())
    assert sidecar["frame_number"] == body["frame_number"]
    assert (body["metadata"]["frame_number"], body["metadata"]["trigger_source"]) == (
        body["frame_number"],
        "free_running",
    )


async def test_capture_format_and_quality_options(gateway: RunningGateway) -> None:
    response = await gateway.http.post("/capture", json={"format": "png"})
    assert response.status_code == 200
    assert response.json()["filename"].endswith(".png") and response.json()["format"] == "png"
    small = await gateway.http.post("/capture", json={"format": "jpg", "quality": 5})
    large = await gateway.http.post("/capture", json={"format": "jpg", "quality": 95})
    assert small.json()["size_bytes"] < large.json()["size_bytes"]


async def test_camera_describes_the_valid_ranges(gateway: RunningGateway) -> None:
    response = await gateway.http.get("/camera")
    assert response.status_code == 200
    camera = response.json()
    assert camera["driver"] == "simulated" and camera["connected"] is True
    assert (camera["min_exposure_ms"], camera["max_exposure_ms"]) == (pytest.approx(0.01), pytest.approx(10_000))
    assert (camera["min_gain_db"], camera["max_gain_db"]) == (0.0, 24.0)
    assert (camera["sensor_width"], camera["sensor_height"]) == (2448, 2048)


#: A redirect to the object store (issue 16): no body, its Location documented.
REDIRECT = "307"


async def test_docs_and_openapi_document_every_endpoint_model_and_error(gateway: RunningGateway) -> None:
    docs = await gateway.http.get("/docs")
    assert docs.status_code == 200 and "swagger-ui" in docs.text
    schema = (await gateway.http.get("/openapi.json")).json()
    paths = schema["paths"]
    expected = {
        ("/health", "get"): {"200"},
        ("/health/ready", "get"): {"200", "503"},
        ("/settings", "get"): {"200", "500", "503", "504"},
        ("/settings", "put"): {"200", "403", "413", "415", "422", "500", "503", "504"},
        ("/capture", "post"): {"200", "403", "413", "415", "422", "500", "503", "504", "507"},
        ("/captures", "get"): {"200", "422", "500", "501", "503", "504"},
        ("/captures/{filename}", "get"): {"200", "307", "404", "422", "500", "501", "503", "504"},
        ("/camera", "get"): {"200", "500", "503", "504"},
        ("/stream.mjpg", "get"): {"200", "422", "429", "500", "503", "504"},
        ("/", "get"): {"200"},
    }
    for (path, method), codes in expected.items():
        operation = paths[path][method]
        assert set(operation["responses"]) == codes, (path, method)
        assert operation.get("summary"), (path, method)
        for code, response in operation["responses"].items():
            assert response.get("description"), (path, method, code)
            assert response.get("content") or code == REDIRECT, (path, method, code)
    models = schema["components"]["schemas"]
    for name in ("CameraSettings", "SettingsUpdate", "CaptureRequest", "CaptureResult", "CapturePage", "Health"):
        assert name in models
    for name in ("ErrorBody", "ValidationErrorBody"):
        assert models[name]["description"]
    assert models["SettingsUpdate"]["additionalProperties"] is False
    assert "milliseconds" in models["SettingsUpdate"]["properties"]["exposure"]["description"]
