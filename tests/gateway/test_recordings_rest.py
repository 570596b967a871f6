"""Recordings over REST (issue 14): start, follow (SSE), list, stop, delete, and downloads with HTTP range requests,
against the real gateway in front of a real service on the simulated camera (httpx over TCP, as curl would)."""

from __future__ import annotations

import io
import json
import tracemalloc
from pathlib import Path

import httpx
import pytest
import tifffile
from PIL import Image

from camera_grpc.device.simulated import read_frame_number
from camera_grpc.gen.camera.v1 import recording_pb2 as rpb
from tests.gateway.conftest import GatewayFactory, RunningGateway
from tests.gateway.test_captures import raw_get
from tests.gateway.test_settings_rest import next_event, sse_events
from tests.gateway.test_trigger_rest import subscribed
from tests.support import RunningService, ServiceFactory, eventually

SMALL_SENSOR = {"simulated_width": 256, "simulated_height": 128}
FRAMES = 8


@pytest.fixture
async def recorder(start_service: ServiceFactory, start_gateway: GatewayFactory, tmp_path: Path) -> RunningGateway:
    """A gateway in front of a service on a small simulated camera, keeping recordings in tmp_path."""
    return await start_gateway(await start_service(recordings_path=tmp_path / "recordings", **SMALL_SENSOR))


async def progress_events(http: httpx.AsyncClient, recording_id: str) -> list[dict[str, object]]:
    """Every ``progress`` event of the recording's event stream, until it ends."""
    events: list[dict[str, object]] = []
    async with http.stream("GET", f"/recordings/{recording_id}/events") as response:
        assert response.status_code == 200, await response.aread()
        assert response.headers["content-type"].startswith("text/event-stream")
        name = ""
        async for line in response.aiter_lines():
            if line.startswith("event: "):
                name = line.removeprefix("event: ")
            elif line.startswith("data: "):
                assert name == "progress", line
                events.append(json.loads(line.removeprefix("data: ")))
    return events


async def recorded(http: httpx.AsyncClient, recording_id: str, **body: object) -> dict[str, object]:
    """Start a recording of FRAMES frames over REST and follow it to its end; its final JSON."""
    started = await http.post("/recordings", json={"recording_id": recording_id, "max_frames": FRAMES, **body})
    assert started.status_code == 201, started.text
    assert started.json()["state"] == "running"
    events = await progress_events(http, recording_id)
    assert [event["state"] for event in events][-1] == "completed"
    frames = [event["frames_written"] for event in events]
    assert frames == sorted(frames) and frames[-1] == FRAMES
    return events[-1]


def tiff_entry(recording: dict[str, object]) -> dict[str, object]:
    files = recording["files"]
    assert isinstance(files, list)
    return next(entry for entry in files if entry["name"].endswith(".ome.tif"))


def frame_numbers(tiff: bytes) -> list[int]:
    return [read_frame_number(page) for page in tifffile.imread(io.BytesIO(tiff))]


async def test_a_recording_is_started_followed_listed_and_downloaded_whole(recorder: RunningGateway) -> None:
    http = recorder.http
    final = await recorded(http, "rest-1", format="ome-tiff")
    assert final["recording_id"] == "rest-1" and final["format"] == "ome-tiff" and final["end_time"] is not None
    listed = (await http.get("/recordings")).json()
    assert [entry["recording_id"] for entry in listed["recordings"]] == ["rest-1"]
    assert (await http.get("/recordings/rest-1")).json() == final
    entry = tiff_entry(final)
    assert entry["location"]["state"] in ("local", "unspecified")
    whole = await http.get(entry["url"])
    assert whole.status_code == 200
    assert whole.headers["accept-ranges"] == "bytes"
    assert whole.headers["content-type"] == entry["content_type"]
    assert int(whole.headers["content-length"]) == entry["size_bytes"] == len(whole.content)
    assert whole.content == (recorder.service.settings.recordings_path / "rest-1" / entry["name"]).read_bytes()
    numbers = frame_numbers(whole.content)
    assert len(numbers) == FRAMES and numbers == sorted(set(numbers))

    thumbnail = await http.get(str(final["thumbnail_url"]), params={"max_width": 64})
    assert thumbnail.status_code == 200, thumbnail.text
    assert thumbnail.headers["content-type"] == "image/jpeg" and "max-age" in thumbnail.headers["cache-control"]
    assert int(thumbnail.headers["x-frame-number"]) == numbers[0]
    with Image.open(io.BytesIO(thumbnail.content)) as image:
        assert (image.format, image.width, image.height) == ("JPEG", 64, 32)  # 256x128, scaled down
    refused = await http.get(str(final["thumbnail_url"]), params={"max_width": 2000})
    assert refused.status_code == 422 and refused.json()["detail"][0]["loc"] == ["query", "max_width"]
    assert (await http.get("/recordings/nope/thumbnail")).status_code == 404


async def test_range_requests_give_206_and_416_and_resume_a_download(recorder: RunningGateway) -> None:
    http = recorder.http
    entry = tiff_entry(await recorded(http, "rest-2"))
    url, size = str(entry["url"]), int(entry["size_bytes"])
    whole = await http.get(url)
    etag = whole.headers["etag"]
    half = size // 2

    # A two-part download, read back with tifffile.
    first = await http.get(url, headers={"Range": f"bytes=0-{half - 1}"})
    second = await http.get(url, headers={"Range": f"bytes={half}-"})
    assert (first.status_code, second.status_code) == (206, 206)
    assert first.headers["content-range"] == f"bytes 0-{half - 1}/{size}"
    assert second.headers["content-range"] == f"bytes {half}-{size - 1}/{size}"
    assert first.content + second.content == whole.content
    assert frame_numbers(first.content + second.content) == frame_numbers(whole.content)

    # The last n bytes; a range ending past the end is cut to the end.
    tail = await http.get(url, headers={"Range": "bytes=-100"})
    assert tail.status_code == 206 and tail.content == whole.content[-100:]
    assert tail.headers["content-range"] == f"bytes {size - 100}-{size - 1}/{size}"
    past = await http.get(url, headers={"Range": f"bytes={size - 10}-{size * 2}"})
    assert past.status_code == 206 and past.content == whole.content[-10:]

    # A resumed download (as curl -C - does, with If-Range) equals the file.
    kept = whole.content[:12345]
    resumed = await http.get(url, headers={"Range": f"bytes={len(kept)}-", "If-Range": etag})
    assert resumed.status_code == 206
    assert kept + resumed.content == whole.content

    # Unsatisfiable: 416 with the size; an If-Range of another version: the whole file.
    for unsatisfiable in (f"bytes={size}-", f"bytes={size + 5}-{size + 9}", "bytes=-0"):
        refused = await http.get(url, headers={"Range": unsatisfiable})
        assert refused.status_code == 416, unsatisfiable
        assert refused.headers["content-range"] == f"bytes */{size}"
    stale = await http.get(url, headers={"Range": "bytes=0-9", "If-Range": '"another-version"'})
    assert stale.status_code == 200 and stale.content == whole.content
    # Several ranges, or not a byte range: the whole file.
    several = await http.get(url, headers={"Range": "bytes=0-9,20-29"})
    assert several.status_code == 200 and several.content == whole.content


async def test_an_ome_zarr_recording_downloads_as_its_zip_in_ranges(recorder: RunningGateway) -> None:
    http = recorder.http
    final = await recorded(http, "rest-3", format="ome-zarr")
    entry = next(entry for entry in final["files"] if entry["name"].endswith(".zip"))  # type: ignore[union-attr]
    # Its first download makes the zip (its size was the store's until then): ask for the last bytes first.
    tail = await http.get(entry["url"], headers={"Range": "bytes=-22"})  # the zip's end-of-central-directory
    assert tail.status_code == 206
    size = int(tail.headers["content-range"].rsplit("/", 1)[1])
    assert tail.content.startswith(b"PK\x05\x06")
    whole = await http.get(entry["url"])
    assert len(whole.content) == size and whole.content.endswith(tail.content)


async def test_names_that_are_not_a_recordings_file_are_404(recorder: RunningGateway, tmp_path: Path) -> None:
    http = recorder.http
    entry = tiff_entry(await recorded(http, "rest-4"))
    secret = tmp_path / "secret.txt"
    secret.write_bytes(b"outside the recordings folder")
    targets = [
        "/recordings/rest-4/files/..",
        "/recordings/rest-4/files/%2e%2e",
        "/recordings/rest-4/files/..%2F..%2Fsecret.txt",
        "/recordings/rest-4/files/%2Fetc%2Fpasswd",
        "/recordings/rest-4/files/recording.json%00",
        "/recordings/rest-4/files/" + "a" * 300,
        "/recordings/nope/files/" + str(entry["name"]),
        "/recordings/..%2Frest-4/files/" + str(entry["name"]),
    ]
    for target in targets:
        status, body = await raw_get(recorder.port, target)
        assert status == 404, (target, body)
        assert b"outside the recordings folder" not in body


async def test_stop_delete_and_conflicts(recorder: RunningGateway) -> None:
    http = recorder.http
    started = await http.post("/recordings", json={"recording_id": "rest-5", "format": "mp4"})
    assert started.status_code == 201, started.text
    again = await http.post("/recordings", json={"recording_id": "rest-6"})
    assert again.status_code == 409 and again.json()["reason"] == "RECORDING_STATE"
    busy = await http.delete("/recordings/rest-5")
    assert busy.status_code == 409
    held = await http.patch("/settings", json={"roi": {"width": 128}})
    assert held.status_code == 409 and held.json()["reason"] == "RECORDING_STATE", held.text
    assert "recordings/rest-5" in held.json()["detail"]
    stopped = await http.post("/recordings/rest-5/stop")
    assert stopped.status_code == 200 and stopped.json()["state"] == "stopped"
    assert (await http.delete("/recordings/rest-5")).status_code == 204
    assert (await http.get("/recordings/rest-5")).status_code == 404
    assert (await http.post("/recordings/rest-5/stop")).status_code == 404
    taken = await recorded(http, "rest-7")
    duplicate = await http.post("/recordings", json={"recording_id": taken["recording_id"]})
    assert duplicate.status_code == 409 and duplicate.json()["code"] == "ALREADY_EXISTS"


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"format": "avi"}, "format"),
        ({"max_frames": -1}, "max_frames"),
        ({"max_duration_s": "10"}, "max_duration_s"),
        ({"frames_per_file": 2**32}, "frames_per_file"),
        ({"recording_id": "Not Valid!"}, "recording_id"),
        ({"colour": "red"}, "colour"),
    ],
)
async def test_bad_start_requests_are_422_naming_the_field_and_start_nothing(
    recorder: RunningGateway, body: dict[str, object], field: str
) -> None:
    refused = await recorder.http.post("/recordings", json=body)
    assert refused.status_code == 422, refused.text
    assert any(issue["loc"][-1] == field for issue in refused.json()["detail"]), refused.json()
    assert (await recorder.http.get("/recordings")).json()["recordings"] == []


async def announced(recorder: RunningGateway, recording_id: str) -> list[dict[str, object]]:
    """The data of the recording_started and recording_ended events of GET /events for a new recording."""
    params = [("type", "recording_started"), ("type", "recording_ended")]
    async with recorder.http.stream("GET", "/events", params=params) as response:
        assert response.status_code == 200
        await subscribed(recorder)
        events = sse_events(response)
        await recorded(recorder.http, recording_id)
        got = [await next_event(events) for _ in range(2)]
    assert [event["event"] for event in got] == ["recording_started", "recording_ended"]
    return [json.loads(event["data"]) for event in got]


async def test_a_recording_is_announced_in_the_event_stream(recorder: RunningGateway) -> None:
    started, ended = await announced(recorder, "rest-8")
    assert "rest-8" in str(started["message"]) and ended["count"] == FRAMES


async def test_the_recording_events_name_the_recording(recorder: RunningGateway) -> None:
    started, ended = await announced(recorder, "rest-9")
    assert started["recording"] == ended["recording"] == "recordings/rest-9"


def active_downloads(service: RunningService) -> float:
    """DownloadRecordingFile calls the service is serving now (its own metric)."""
    metrics = service.runtime.metrics
    assert metrics is not None
    labels = {
        "service": rpb.DESCRIPTOR.services_by_name["RecordingService"].full_name,
        "method": "DownloadRecordingFile",
    }
    return metrics.registry.get_sample_value("camera_grpc_rpc_active", labels) or 0.0


async def test_a_large_file_is_streamed_not_held_and_a_client_that_goes_away_ends_the_download(
    start_service: ServiceFactory, start_gateway: GatewayFactory, tmp_path: Path
) -> None:
    """A file larger than what the sockets buffer (8 frames of 2048x2048: 32 MiB) goes through the gateway a chunk
    at a time: the process (gateway and service) never holds half of it; a client that closes after the first
    bytes ends the gRPC download."""
    service = await start_service(
        recordings_path=tmp_path / "recordings", simulated_width=2048, simulated_height=2048, frames_linger_s=0.0
    )
    gateway = await start_gateway(service)
    entry = tiff_entry(await recorded(gateway.http, "big"))
    size = int(entry["size_bytes"])
    assert size > 32 * 1024 * 1024
    # Measured with the camera stopped: its frames would count too.
    await eventually(lambda: not service.runtime.worker.is_acquiring, what="acquisition stopped after the recording")
    received = 0
    tracemalloc.start()
    try:
        async with gateway.http.stream("GET", str(entry["url"])) as response:
            async for chunk in response.aiter_raw():
                received += len(chunk)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert received == size
    assert peak < size / 2, f"{peak} bytes allocated at once for a file of {size}"

    async with gateway.http.stream("GET", str(entry["url"])) as response:
        assert response.status_code == 200
        async for _ in response.aiter_raw():
            break
        assert active_downloads(service) == 1
    await eventually(lambda: active_downloads(service) == 0, what="the download ended with the client")
