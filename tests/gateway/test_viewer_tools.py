"""The viewer page's tools for looking at the image (issue 17), in a real browser (Debian's chromium): the histogram,
the statistics, the clipped-pixel overlay and the focus history; the region drawn on the image with the mouse and
moved with the keyboard, zoom 1:1 and the full sensor. The page's drawing functions are driven with data of the
test's own (imported as the page imports them), and the whole page against the real service and gateway.

Screenshots are kept in test-artifacts/ (viewer-roi.png, viewer-zoom.png, viewer-statistics.png).
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest
from playwright.async_api import Browser, Page

from camera_grpc.device.settings import GEOMETRY_FIELDS
from camera_grpc.gateway.routers.viewer import STATIC_PACKAGE
from camera_grpc.gen.camera.v1 import camera_pb2 as pb
from tests.gateway.conftest import RunningGateway
from tests.gateway.test_viewer import ARTIFACTS, browser, csp_violations, open_viewer  # noqa: F401 (fixture)

STATIC = Path(__file__).resolve().parents[2].joinpath(*STATIC_PACKAGE[0].split("."), STATIC_PACKAGE[1])
#: Camera steps one arrow key press moves or resizes the region by (roi-tool.js KEY_STEPS).
KEY_STEPS = 8


def test_the_page_holds_the_geometry_settings_the_service_refuses_during_a_recording() -> None:
    """settings-panel.js GEOMETRY (disabled while a recording runs) is the service's GEOMETRY_FIELDS."""
    source = (STATIC / "settings-panel.js").read_text(encoding="utf-8")
    match = re.search(r"export const GEOMETRY = \[([^\]]*)\]", source)
    assert match is not None
    assert set(re.findall(r'"([a-z_]+)"', match.group(1))) == set(GEOMETRY_FIELDS)


#: JavaScript: draw a histogram, the focus history and the clipped pixels of a made-up image with the page's own
#: functions; returns what they drew, measured on the canvases.
DRAW_WITH_THE_PAGES_FUNCTIONS = """async () => {
  const { drawHistogram, drawClipped, drawHistory } = await import('./static/statistics-panel.js');
  const barHeight = (canvas, bin, bins) => {
    const x = Math.floor((bin + 0.5) * canvas.width / bins);
    const column = canvas.getContext('2d').getImageData(x, 0, 1, canvas.height).data;
    let lit = 0;
    for (let y = 0; y < canvas.height; y++) if (column[y * 4 + 3] > 0) lit++;
    return lit;
  };
  const histogram = document.createElement('canvas');
  histogram.width = 400; histogram.height = 100;
  const counts = [0, 1000, 10, 0];
  drawHistogram(histogram, [{channel: 'mono', histogram: counts}], false);
  const linear = counts.map((_, bin) => barHeight(histogram, bin, counts.length));
  drawHistogram(histogram, [{channel: 'mono', histogram: counts}], true);
  const log = counts.map((_, bin) => barHeight(histogram, bin, counts.length));

  const colour = document.createElement('canvas');
  colour.width = 300; colour.height = 100;
  drawHistogram(colour, [{channel: 'red', histogram: [9, 0, 0]}, {channel: 'green', histogram: [0, 9, 0]},
                         {channel: 'blue', histogram: [0, 0, 9]}], false);
  const colourAt = (bin) => Array.from(colour.getContext('2d').getImageData(bin * 100 + 50, 99, 1, 1).data.slice(0, 3));
  const channelColours = [0, 1, 2].map(colourAt);

  const image = document.createElement('canvas');
  image.width = 10; image.height = 10;
  const context = image.getContext('2d', { willReadFrequently: true });
  context.fillStyle = 'rgb(100, 100, 100)'; context.fillRect(0, 0, 10, 10);
  context.fillStyle = 'rgb(255, 255, 255)'; context.fillRect(0, 0, 3, 2);   // 6 clipped pixels
  context.fillStyle = 'rgb(254, 254, 254)'; context.fillRect(5, 5, 2, 2);   // bright, not clipped
  const overlay = document.createElement('canvas');
  const clipped = drawClipped(image, overlay);
  const marks = overlay.getContext('2d').getImageData(0, 0, 10, 10).data;
  const marked = [];
  for (let i = 0; i < 100; i++) if (marks[i * 4 + 3] > 0) marked.push([i % 10, Math.floor(i / 10)]);

  const history = document.createElement('canvas');
  history.width = 100; history.height = 50;
  drawHistory(history, [1, 2, 3, 10], 100);
  const drawnColumns = [];
  const pixels = history.getContext('2d').getImageData(0, 0, 100, 50).data;
  for (let x = 0; x < 100; x++) {
    for (let y = 0; y < 50; y++) if (pixels[(y * 100 + x) * 4 + 3] > 0) { drawnColumns.push(x); break; }
  }
  return { linear, log, channelColours, clipped, marked, overlaySize: [overlay.width, overlay.height],
           historyFrom: Math.min(...drawnColumns), historyTo: Math.max(...drawnColumns) };
}"""


async def test_the_histogram_overlay_and_focus_history_draw_what_they_are_given(
    gateway: RunningGateway,
    browser: Browser,  # noqa: F811
) -> None:
    page = await open_viewer(browser, gateway)
    drawn = await page.evaluate(DRAW_WITH_THE_PAGES_FUNCTIONS)
    # Linear: the tallest bin fills the canvas, one 100 times smaller is a pixel high; log keeps it visible.
    assert drawn["linear"][0] == 0 and drawn["linear"][3] == 0
    assert drawn["linear"][1] == 100 and drawn["linear"][2] == 1
    assert drawn["log"][1] == 100 and drawn["log"][2] == round(100 * 2.3979 / 6.9088)  # log1p(10) / log1p(1000)
    # A colour camera's channels, each in its colour.
    for channel, rgb in enumerate(drawn["channelColours"]):
        assert rgb.index(max(rgb)) == channel, rgb
    # The overlay marks exactly the pixels at 255, at the image's size.
    assert drawn["clipped"] == 6 and drawn["overlaySize"] == [10, 10]
    assert sorted(drawn["marked"]) == sorted([x, y] for x in range(3) for y in range(2))
    # Four focus scores of a history of 100 take its right end.
    assert drawn["historyTo"] >= 98 and 92 <= drawn["historyFrom"] <= 97
    await page.close()


#: JavaScript: the page's snapRegion on regions of the test's own, with the camera's features.
SNAP = """async ([features, regions]) => {
  const { snapRegion } = await import('./static/roi-tool.js');
  const byName = new Map(features.map((feature) => [feature.name, feature]));
  return regions.map((region) => snapRegion(region, byName));
}"""


async def test_a_region_drawn_on_the_image_becomes_the_cameras_region(
    gateway: RunningGateway,
    browser: Browser,  # noqa: F811
) -> None:
    camera = (await gateway.http.get("/camera")).json()
    steps = {feature["name"]: feature for feature in camera["features"] if feature["name"].startswith("roi.")}
    await gateway.http.put("/settings", json={"exposure": 30.0})  # bright enough to see the pattern
    elsewhere: list[str] = []
    page = await open_viewer(browser, gateway, elsewhere)
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    await page.wait_for_function("() => Number(document.getElementById('live').dataset.frames) > 0")

    # Snapping: offsets down to their step, sizes to the nearest step within limits, the region on the sensor.
    snapped = await page.evaluate(
        SNAP,
        [
            camera["features"],
            [
                {"offset_x": 101.7, "offset_y": 3, "width": 643, "height": 10},
                {"offset_x": 2440, "offset_y": 2000, "width": 500, "height": 500},
                {"offset_x": -5, "offset_y": 0, "width": 9999, "height": 2048},
            ],
        ],
    )
    assert snapped == [
        {"offset_x": 100, "offset_y": 2, "width": 640, "height": 64},
        {"offset_x": 1944, "offset_y": 1544, "width": 504, "height": 504},
        {"offset_x": 0, "offset_y": 0, "width": 2448, "height": 2048},
    ]

    # Drag a box over the middle of the full-sensor image: the page offers the snapped region.
    await page.click("#roi-draw")
    live = await page.locator("#live").bounding_box()
    assert live is not None
    start = (live["x"] + live["width"] * 0.25, live["y"] + live["height"] * 0.25)
    end = (live["x"] + live["width"] * 0.75, live["y"] + live["height"] * 0.5)
    await page.mouse.move(*start)
    await page.mouse.down()
    await page.mouse.move(*end, steps=5)
    await page.mouse.up()
    region = await region_offered(page)
    # What was dragged, within a step of the camera's (the page is drawn at another scale than the sensor).
    assert region["offset_x"] == pytest.approx(2448 * 0.25, abs=steps["roi.offset_x"]["step"] + 4)
    assert region["offset_y"] == pytest.approx(2048 * 0.25, abs=steps["roi.offset_y"]["step"] + 4)
    assert region["width"] == pytest.approx(2448 * 0.5, abs=steps["roi.width"]["step"] + 4)
    assert region["height"] == pytest.approx(2048 * 0.25, abs=steps["roi.height"]["step"] + 4)
    for axis, size in (("x", "width"), ("y", "height")):
        assert region[f"offset_{axis}"] % steps[f"roi.offset_{axis}"]["step"] == 0
        assert region[size] % steps[f"roi.{size}"]["step"] == 0

    ARTIFACTS.mkdir(exist_ok=True)
    await page.screenshot(path=str(ARTIFACTS / "viewer-roi.png"))

    # The keyboard: Shift+Left narrows the focused box by KEY_STEPS width steps, Right moves it; Enter applies.
    assert await page.evaluate("() => document.activeElement.id") == "roi-box"
    await page.keyboard.press("Shift+ArrowLeft")
    await page.keyboard.press("ArrowRight")
    moved = await region_offered(page)
    assert moved["width"] == region["width"] - KEY_STEPS * steps["roi.width"]["step"]
    assert moved["offset_x"] == region["offset_x"] + KEY_STEPS * steps["roi.offset_x"]["step"]
    await page.keyboard.press("Enter")
    await page.wait_for_selector("#camera-message:has-text('applied')")
    roi = (await gateway.service.stub.GetSettings(pb.GetSettingsRequest())).settings.roi
    assert (roi.offset_x, roi.offset_y, roi.width, roi.height) == (
        moved["offset_x"],
        moved["offset_y"],
        moved["width"],
        moved["height"],
    )
    await page.wait_for_function(f"() => document.getElementById('setting-roi-width').value === '{roi.width}'")
    assert await page.locator("#roi-box").is_hidden()

    # A box drawn on the cropped image is a region of the sensor: the current region's offset plus the fraction.
    await page.wait_for_function(  # the new frames are drawn
        f"() => Math.abs(document.getElementById('live').width / document.getElementById('live').height"
        f" - {roi.width / roi.height}) < 0.01"
    )
    await page.click("#roi-draw")
    live = await page.locator("#live").bounding_box()
    assert live is not None
    await page.mouse.move(live["x"] + live["width"] * 0.5, live["y"] + live["height"] * 0.5)
    await page.mouse.down()
    await page.mouse.move(live["x"] + live["width"] * 0.9, live["y"] + live["height"] * 0.9, steps=5)
    await page.mouse.up()
    inner = await region_offered(page)
    assert inner["offset_x"] == pytest.approx(roi.offset_x + roi.width * 0.5, abs=steps["roi.offset_x"]["step"] + 4)
    assert inner["offset_y"] == pytest.approx(roi.offset_y + roi.height * 0.5, abs=steps["roi.offset_y"]["step"] + 4)
    assert inner["width"] == pytest.approx(roi.width * 0.4, abs=steps["roi.width"]["step"] + 4)
    await page.keyboard.press("Escape")  # not applied
    assert await page.locator("#roi-box").is_hidden()

    # Zoom 1:1: the live image is the camera's frame at full size, one image pixel per screen pixel.
    await page.click("#zoom")
    await page.wait_for_function(
        f"() => document.getElementById('live').width === {roi.width} && "
        "document.getElementById('live-info').textContent.includes('1:1')"
    )
    shown = await page.locator("#live").bounding_box()
    assert shown is not None and shown["width"] == pytest.approx(roi.width, abs=1)
    await page.screenshot(path=str(ARTIFACTS / "viewer-zoom.png"))
    await page.click("#zoom")
    await page.wait_for_function("() => document.getElementById('live-info').textContent.includes('fitted')")

    # Full sensor (next to the image) brings the whole sensor back.
    await page.click("#roi-full")
    await page.wait_for_function("() => document.getElementById('setting-roi-width').value === '2448'")
    roi = (await gateway.service.stub.GetSettings(pb.GetSettingsRequest())).settings.roi
    assert (roi.offset_x, roi.offset_y, roi.width, roi.height) == (0, 0, 2448, 2048)

    assert errors == []
    assert elsewhere == []  # nothing the page loaded or asked for left the gateway's origin
    assert await csp_violations(page) == []
    await page.close()


async def region_offered(page: Page) -> dict[str, int]:
    """The region the page offers to apply (the ROI box's data-region)."""
    await page.wait_for_selector("#roi-box[data-region]")
    data = await page.get_attribute("#roi-box", "data-region")
    assert data is not None
    region: dict[str, int] = json.loads(data)
    return region


#: JavaScript: the histogram canvas's lit columns: their count and their centre (pixels from the left).
HISTOGRAM_DRAWN = """() => {
  const canvas = document.getElementById('histogram');
  const data = canvas.getContext('2d').getImageData(0, 0, canvas.width, canvas.height).data;
  let weight = 0, moment = 0, checksum = 0;
  for (let x = 0; x < canvas.width; x++) {
    let lit = 0;
    for (let y = 0; y < canvas.height; y++) if (data[(y * canvas.width + x) * 4 + 3] > 0) lit++;
    weight += lit; moment += lit * x; checksum = (checksum * 31 + lit) % 1000000007;
  }
  return { lit: weight, centre: weight ? moment / weight : -1, checksum };
}"""


async def shown_mean(page: Page) -> float:
    """The mean the page shows (a mono camera: one number)."""
    return float(await page.text_content("#stat-mean") or "nan")


async def test_the_histogram_and_statistics_follow_the_camera_as_exposure_changes(
    gateway: RunningGateway,
    browser: Browser,  # noqa: F811
) -> None:
    await gateway.http.put("/settings", json={"exposure": 5.0})
    page = await open_viewer(browser, gateway)
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    await page.wait_for_selector("#statistics[data-state='live']")
    dark_mean = await shown_mean(page)
    dark = await page.evaluate(HISTOGRAM_DRAWN)
    assert dark["lit"] > 0
    assert (await page.text_content("#statistics-detail") or "").startswith("8-bit, mono")

    # Brighter: the mean the page shows rises with the exposure, and the histogram moves right.
    await page.fill("#exposure", "50")
    await page.click("#apply")
    await page.wait_for_function(
        f"() => Number(document.getElementById('stat-mean').textContent) > 4 * {dark_mean}", polling=100
    )
    bright = await page.evaluate(HISTOGRAM_DRAWN)
    assert bright["centre"] > dark["centre"] + 50
    assert float(await page.text_content("#focus-score") or "nan") > 0

    # Log and linear are two drawings of the same counts.
    await page.uncheck("#histogram-log")
    linear = await page.evaluate(HISTOGRAM_DRAWN)
    await page.check("#histogram-log")
    assert linear["checksum"] != (await page.evaluate(HISTOGRAM_DRAWN))["checksum"]

    # Over-exposed: a saturated fraction is shown, and the overlay marks clipped preview pixels.
    await page.fill("#exposure", "150")
    await page.click("#apply")
    await page.wait_for_function("() => parseFloat(document.getElementById('stat-saturated').textContent) > 1")
    assert (await page.text_content("#stat-max")) == "255"
    await page.check("#clipped-overlay")
    await page.wait_for_function("() => Number(document.getElementById('clipped').dataset.count) > 0")
    # The focus history has a point per statistics event, up to its length.
    await page.wait_for_function("() => document.getElementById('statistics').dataset.frame !== ''")
    ARTIFACTS.mkdir(exist_ok=True)
    await page.screenshot(path=str(ARTIFACTS / "viewer-statistics.png"), full_page=True)
    assert errors == []
    assert await csp_violations(page) == []
    await page.close()


#: Changes made through the page's capability controls, one Apply each: (feature path, value as the page sets it).
CONTROL_CHANGES: tuple[tuple[tuple[str, str], ...], ...] = (
    (("pixel_format", "mono16"),),
    (("pixel_addressing.mode", "bin"), ("pixel_addressing.horizontal", "2"), ("pixel_addressing.vertical", "2")),
    (("frame_rate.mode", "fixed"), ("frame_rate.fps", "4.5")),
    (("flip.horizontal", "true"), ("gamma", "1.5"), ("black_level_pct", "2")),
    (("trigger.source", "software"), ("trigger.delay_ms", "1.5")),
    # last: automatic exposure changes the settings by itself (a later Apply could meet a newer revision: 412)
    (("exposure_auto", "continuous"),),
)


def control_id(path: str) -> str:
    """settings-panel.js controlId."""
    return "#setting-" + path.replace(".", "-").replace("_", "-")


def value_at(settings: dict[str, Any], path: str) -> Any:
    value: Any = settings
    for part in path.split("."):
        value = value[part]
    return value


async def test_each_capability_control_changes_the_camera_and_shows_what_it_applied(
    gateway: RunningGateway,
    browser: Browser,  # noqa: F811
) -> None:
    page = await open_viewer(browser, gateway)
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    await page.locator(control_id("pixel_format")).wait_for()
    for changes in CONTROL_CHANGES:
        for path, value in changes:
            control = page.locator(control_id(path))
            kind = await control.evaluate("(element) => element.tagName === 'SELECT' ? 'select' : element.type")
            if kind == "select":
                await control.select_option(value)
            elif kind == "checkbox":
                await control.set_checked(value == "true")
            else:
                await control.fill(value)
        await page.eval_on_selector("#camera-message", "(element) => { element.textContent = ''; }")
        await page.click("#camera-apply")
        await page.wait_for_function("() => document.getElementById('camera-message').textContent !== ''")
        message = await page.text_content("#camera-message")
        assert message is not None and message.startswith("applied"), (changes, message)
        camera = (await gateway.http.get("/settings")).json()
        for path, value in changes:
            applied = value_at(camera, path)
            control = page.locator(control_id(path))
            if isinstance(applied, bool):
                assert applied == (value == "true") and await control.is_checked() == applied, path
            elif isinstance(applied, float):
                assert applied == pytest.approx(float(value), rel=0.01), path
                assert float(await control.input_value()) == pytest.approx(applied, rel=1e-5), path
            else:
                assert str(applied) == value and await control.input_value() == value, path
    # The frames follow: 16-bit, binned 2x2 (the live view's size halves; the statistics know the bit depth).
    settings = (await gateway.service.stub.GetSettings(pb.GetSettingsRequest())).settings
    assert (settings.pixel_format, settings.width, settings.height) == (pb.PIXEL_FORMAT_MONO16, 1224, 1024)
    assert errors == []
    await page.close()
