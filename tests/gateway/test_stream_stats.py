"""GET /stream/stats (issue 17): live frame statistics as Server-Sent Events, against the real gateway in front of a
real service on the simulated camera."""

from __future__ import annotations

import json
import math

import httpx
import pytest

from tests.gateway.conftest import GatewayFactory, RunningGateway
from tests.support import ServiceFactory

SMALL_SENSOR = {"simulated_width": 320, "simulated_height": 240}
EVENTS = 3


async def statistics_events(
    http: httpx.AsyncClient, count: int, **params: object
) -> list[tuple[str, dict[str, object]]]:
    """The first ``count`` events of /stream/stats as (id, data); the stream is then closed."""
    events: list[tuple[str, dict[str, object]]] = []
    async with http.stream("GET", "/stream/stats", params=params) as response:
        assert response.status_code == 200, await response.aread()
        assert response.headers["content-type"].startswith("text/event-stream")
        name = event_id = ""
        async for line in response.aiter_lines():
            if line.startswith("event: "):
                name = line.removeprefix("event: ")
            elif line.startswith("id: "):
                event_id = line.removeprefix("id: ")
            elif line.startswith("data: "):
                assert name == "statistics", line
                events.append((event_id, json.loads(line.removeprefix("data: "))))
                if len(events) == count:
                    break
    return events


@pytest.fixture
async def small(start_service: ServiceFactory, start_gateway: GatewayFactory) -> RunningGateway:
    """A gateway in front of a service on a small simulated camera."""
    return await start_gateway(await start_service(**SMALL_SENSOR))


async def test_each_event_is_one_frames_statistics(small: RunningGateway) -> None:
    events = await statistics_events(small.http, EVENTS, max_fps=50, histogram_bins=16)
    numbers = [data["frame_number"] for _, data in events]
    assert numbers == sorted(set(numbers))
    for event_id, data in events:
        assert event_id == str(data["frame_number"])
        assert (data["width"], data["height"], data["bit_depth"]) == (320, 240, 8)
        step = data["subsample_step"]
        assert isinstance(step, int) and step >= 1
        [mono] = data["channels"]  # type: ignore[misc]
        assert mono["channel"] == "mono"
        assert len(mono["histogram"]) == 16
        # Every sample counted is in one bin: the grid of every step-th pixel.
        assert sum(mono["histogram"]) == math.ceil(320 / step) * math.ceil(240 / step)
        assert 0 <= mono["min"] <= mono["mean"] <= mono["max"] <= 255
        assert 0 <= mono["saturated_fraction"] <= 1
        assert data["focus_score"] >= 0
        assert data["captured_at"] is not None
    default = await statistics_events(small.http, 1)
    assert len(default[0][1]["channels"][0]["histogram"]) == 256  # type: ignore[index]


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"histogram_bins": 0}, "histogram_bins"),
        ({"histogram_bins": 5000}, "histogram_bins"),
        ({"histogram_bins": 512}, "histogram_bins"),  # more bins than an 8-bit frame has values: the service says so
        ({"max_fps": 0}, "max_fps"),
        ({"max_fps": "nan"}, "max_fps"),
    ],
)
async def test_bad_parameters_are_422_naming_them(small: RunningGateway, params: dict[str, object], field: str) -> None:
    refused = await small.http.get("/stream/stats", params=params)
    assert refused.status_code == 422, refused.text
    assert field in json.dumps(refused.json()["detail"])


async def test_it_counts_against_the_live_view_limits(
    start_service: ServiceFactory, start_gateway: GatewayFactory
) -> None:
    gateway = await start_gateway(await start_service(**SMALL_SENSOR), rest_max_streams_per_client=1)
    async with gateway.http.stream("GET", "/stream/stats") as first:
        assert first.status_code == 200
        assert (await gateway.http.get("/stream/stats")).status_code == 429
        assert (await gateway.http.get("/stream.mjpg")).status_code == 429
    async with gateway.http.stream("GET", "/stream/stats") as again:  # closing the first gave its slot back
        assert again.status_code == 200
