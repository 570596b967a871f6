"""schemathesis against the live gateway's /openapi.json: generated requests (valid and invalid, bounded
examples) never get a 5xx, and every response matches the documented status codes, content types and schemas.

The service runs as a process (``camera-grpc``, gRPC and REST on loopback ports) on a small, fast
simulated camera; schemathesis calls it over TCP with ``requests``.
"""

from __future__ import annotations

import re
import time
from collections.abc import Iterator

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings

from tests.support.process import ServiceProcess

#: Examples per operation and generation mode (positive, negative).
MAX_EXAMPLES = 25
#: Longest exposure a generated request may ask for, ms: valid longer ones are fine but make frames slow.
MAX_EXPOSURE_MS = 20.0
REST_LISTENING = re.compile(r"REST gateway listening on (http://\S+)")


@pytest.fixture(scope="module")
def gateway_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    folder = tmp_path_factory.mktemp("openapi")
    env = {
        "CAMERA_BACKEND": "simulated",
        "SIMULATED_WIDTH": "320",
        "SIMULATED_HEIGHT": "240",
        "SIMULATED_FRAME_RATE": "200",
        "DEFAULT_EXPOSURE": "1",
        "IMAGE_SAVE_PATH": str(folder / "captures"),
    }
    with ServiceProcess(env, cwd=folder) as process:
        process.wait_listening()
        deadline = time.monotonic() + 30
        while not (match := REST_LISTENING.search(process.log)) and time.monotonic() < deadline:
            time.sleep(0.05)
        assert match, process.log
        yield match.group(1)
        assert "Traceback" not in process.log, process.log


@pytest.fixture(scope="module")
def api_schema(gateway_url: str) -> schemathesis.BaseSchema:
    schema = schemathesis.openapi.from_url(f"{gateway_url}/openapi.json")
    # Endless by design: tests/gateway/test_stream.py and test_settings_rest.py cover them.
    return schema.exclude(path=list(ENDLESS))


#: Streams that do not end (not called by schemathesis).
ENDLESS = ("/stream.mjpg", "/stream/stats", "/settings/events", "/events")
OPERATIONS = [
    ("GET", "/"),
    ("GET", "/health"),
    ("GET", "/health/ready"),
    ("GET", "/settings"),
    ("PUT", "/settings"),
    ("POST", "/capture"),
    ("GET", "/captures"),
    ("GET", "/captures/{filename}"),
    ("GET", "/camera"),
    ("PATCH", "/settings"),
    ("GET", "/presets"),
    ("POST", "/presets"),
    ("GET", "/presets/{preset_id}"),
    ("DELETE", "/presets/{preset_id}"),
    ("POST", "/presets/{preset_id}/apply"),
    ("POST", "/camera/channels/{channel}/save"),
    ("POST", "/camera/channels/{channel}/load"),
    ("POST", "/trigger"),
    ("GET", "/io"),
    ("GET", "/captures/{filename}/thumbnail"),
    ("POST", "/recordings"),
    ("GET", "/recordings"),
    ("GET", "/recordings/{recording_id}"),
    ("POST", "/recordings/{recording_id}/stop"),
    ("DELETE", "/recordings/{recording_id}"),
    ("GET", "/recordings/{recording_id}/events"),
    ("GET", "/recordings/{recording_id}/files/{file}"),
    ("GET", "/recordings/{recording_id}/thumbnail"),
    ("GET", "/storage"),
    ("DELETE", "/captures/{filename}"),
]
#: Slowest fixed frame rate a generated request may ask for, frames per second (slower ones only make captures
#: and the rest of the run slow).
MIN_FRAME_RATE_FPS = 20.0
#: Most frames a generated recording may ask for (one without a limit would run, and hold the camera, until the end).
MAX_RECORDING_FRAMES = 3


def bounded(case: schemathesis.Case) -> schemathesis.Case:
    """Cap generated exposures (valid long ones only make the run slow)."""
    body = case.body
    if isinstance(body, dict):
        for name in ("exposure", "exposure_ms"):
            exposure = body.get(name)
            if isinstance(exposure, (int, float)) and not isinstance(exposure, bool) and exposure > MAX_EXPOSURE_MS:
                body[name] = MAX_EXPOSURE_MS
        frames = body.get("max_frames")
        if case.path == "/recordings" and isinstance(frames, int) and not isinstance(frames, bool):
            body["max_frames"] = min(max(frames, 1), MAX_RECORDING_FRAMES)
        frame_rate = body.get("frame_rate")
        if isinstance(frame_rate, dict):
            fps = frame_rate.get("fps")
            if isinstance(fps, (int, float)) and not isinstance(fps, bool) and fps < MIN_FRAME_RATE_FPS:
                frame_rate["fps"] = MIN_FRAME_RATE_FPS
    return case


#: Operations whose inputs can be invalid (the others have no parameters, or accept any string).
WITH_INPUT = {
    ("PUT", "/settings"),
    ("POST", "/capture"),
    ("GET", "/captures"),
    ("PATCH", "/settings"),
    ("POST", "/presets"),
    ("POST", "/camera/channels/{channel}/save"),
    ("POST", "/camera/channels/{channel}/load"),
    ("GET", "/captures/{filename}/thumbnail"),
    ("POST", "/recordings"),
    ("GET", "/recordings"),
    ("GET", "/recordings/{recording_id}/thumbnail"),
}
POSITIVE, NEGATIVE = schemathesis.GenerationMode.POSITIVE, schemathesis.GenerationMode.NEGATIVE
CASES = [(method, path, POSITIVE) for method, path in OPERATIONS] + [
    (method, path, NEGATIVE) for method, path in OPERATIONS if (method, path) in WITH_INPUT
]
#: The valid exposure and gain ranges are the connected camera's (GET /camera), so the schema cannot state
#: them: a schema-valid value may rightly be refused with 422. Every other check runs.
EXCLUDED_CHECKS = [schemathesis.checks.positive_data_acceptance]


@pytest.mark.parametrize(("method", "path", "mode"), CASES)
def test_generated_requests_get_no_5xx_and_documented_responses(
    api_schema: schemathesis.BaseSchema, gateway_url: str, method: str, path: str, mode: schemathesis.GenerationMode
) -> None:
    operation = api_schema[path][method]

    @settings(max_examples=MAX_EXAMPLES, deadline=None, suppress_health_check=list(HealthCheck), database=None)
    @given(case=operation.as_strategy(generation_mode=mode))
    def check(case: schemathesis.Case) -> None:
        bounded(case).call_and_validate(base_url=gateway_url, excluded_checks=EXCLUDED_CHECKS, timeout=30)

    check()


def test_the_contract_test_covers_every_operation_but_the_streams(api_schema: schemathesis.BaseSchema) -> None:
    operations = {(result.ok().method.upper(), result.ok().path) for result in api_schema.get_all_operations()}
    assert operations == set(OPERATIONS)
