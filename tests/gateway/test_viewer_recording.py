"""Recording from the viewer page (issues 14 and 17), in a real browser against the real service and gateway: the
Record button with its live progress, the geometry controls held while a recording runs (naming it), the Stop
button, the recordings browser (state, frame count, thumbnail, a download per file, Delete), and a recording started
by another client followed through the events.

Screenshot: test-artifacts/viewer-recording.png.
"""

from __future__ import annotations

from pathlib import Path
from urllib.parse import urlsplit

from playwright.async_api import Browser, Dialog

from camera_grpc.gen.camera.v1 import camera_pb2 as pb
from tests.gateway.conftest import GatewayFactory
from tests.gateway.test_viewer import ARTIFACTS, browser, csp_violations, open_viewer  # noqa: F401 (fixture)
from tests.support import ServiceFactory, eventually

#: Frames of the recording that completes on its own (a second or two of the simulated camera).
FRAMES = 15
#: A threshold above any disk's free space (the most DISK_SPACE_LOW_BYTES may be).
DISK_SPACE_LOW_BYTES = 2**50
#: Geometry controls the page holds while a recording runs (GEOMETRY of settings-panel.js), as control ids.
HELD = ("#setting-roi-width", "#setting-pixel-format", "#setting-pixel-addressing-mode", "#setting-flip-horizontal")


async def test_a_recording_started_from_the_page_shows_progress_holds_the_geometry_and_appears_in_the_browser(
    start_service: ServiceFactory,
    start_gateway: GatewayFactory,
    browser: Browser,  # noqa: F811
) -> None:
    # Every disk is "nearly full" for this service: the recording's disk check is a DISK_SPACE_LOW event.
    gateway = await start_gateway(await start_service(disk_space_low_bytes=DISK_SPACE_LOW_BYTES))
    elsewhere: list[str] = []
    page = await open_viewer(browser, gateway, elsewhere)
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    requested: list[str] = []
    page.on("request", lambda request: requested.append(urlsplit(request.url).path))
    answered: dict[str, int] = {}
    page.on("response", lambda response: answered.setdefault(urlsplit(response.url).path, response.status))
    page.on("dialog", accept)
    await page.wait_for_selector("#record:enabled")

    # Record until stopped: the progress runs, the geometry controls are held, naming the recording.
    await page.select_option("#record-limit", "none")
    assert await page.locator("#record-amount").is_disabled()
    await page.click("#record")
    status = page.locator("#record-status[data-state='running']")
    await status.wait_for()
    held_by = await status.get_attribute("data-recording")
    assert held_by
    await page.wait_for_function("() => Number(document.getElementById('record-status').dataset.framesWritten) > 0")
    for control in HELD:
        assert await page.locator(control).is_disabled(), control
    reason = page.locator("#setting-roi-width-reason")
    assert await reason.text_content() == f"held by recordings/{held_by} (recording)"
    assert await page.locator("#roi-draw").is_disabled() and await page.locator("#full-sensor").is_disabled()
    assert await page.locator("#record").is_disabled()
    # Exposure may change during a recording (it is recorded per frame).
    await page.fill("#exposure", "5")
    await page.click("#apply")
    await page.wait_for_selector("#settings-message:has-text('applied')")
    # The progress is the recording's event stream: the page's fourth stream, within REST_MAX_STREAMS_PER_CLIENT.
    await eventually(lambda: f"/recordings/{held_by}/events" in answered, what="the progress stream answered")
    assert answered[f"/recordings/{held_by}/events"] == 200

    # Stop: the recording is stopped, in the browser, and the geometry controls are free again.
    await page.click("#record-stop")
    await page.wait_for_selector(f"#record-status[data-state='stopped'][data-recording='{held_by}']")
    await page.wait_for_selector(f"#recordings li[data-recording='{held_by}'][data-state='stopped']")
    # The disk check of the recording was an event: a warning with the free space.
    low = page.locator("#events-list li.warning[data-type='disk_space_low']").first
    await low.wait_for()
    assert "MiB free)" in (await low.text_content() or "")  # free_bytes, shown in MiB
    await page.wait_for_selector("#setting-roi-width:enabled")
    assert await page.locator("#setting-roi-width-reason").is_hidden()
    assert await page.locator("#roi-draw").is_enabled()

    # A recording of FRAMES frames completes on its own and is listed with its frame count, thumbnail and files.
    await page.select_option("#record-format", "ome-tiff")
    await page.select_option("#record-limit", "frames")
    await page.fill("#record-amount", str(FRAMES))
    await page.click("#record")
    done = page.locator(f"#recordings li[data-state='completed'][data-frames-written='{FRAMES}']")
    await done.wait_for()
    recording_id = await done.get_attribute("data-recording")
    assert recording_id and recording_id != held_by
    recording = (await gateway.http.get(f"/recordings/{recording_id}")).json()
    assert (recording["state"], recording["frames_written"], recording["format"]) == ("completed", FRAMES, "ome-tiff")
    assert f"{FRAMES} frames" in (await done.text_content() or "")
    await done.locator("canvas[data-loaded='true']").wait_for()
    await page.wait_for_selector(f"#record-status[data-recording='{recording_id}'][data-state='completed']")
    links = done.locator("a[data-recording-file]")
    assert await links.all_text_contents() == [file["name"] for file in recording["files"]]
    async with page.expect_download() as download_info:
        await links.first.click()
    download = await download_info.value
    served = await gateway.http.get(recording["files"][0]["url"])
    assert Path(await download.path()).read_bytes() == served.content and len(served.content) > 0
    ARTIFACTS.mkdir(exist_ok=True)
    await page.screenshot(path=str(ARTIFACTS / "viewer-recording.png"), full_page=True)

    # Delete (after the confirmation): gone from the browser and from the service.
    await page.click(f"#recordings li[data-recording='{held_by}'] button[data-delete]")
    await page.wait_for_selector(f"#recordings-message:has-text('{held_by} deleted')")
    assert await page.locator(f"#recordings li[data-recording='{held_by}']").count() == 0
    assert (await gateway.http.get(f"/recordings/{held_by}")).status_code == 404

    # A recording another client starts: the page follows it (its started event) and holds the geometry.
    started = await gateway.http.post("/recordings", json={"format": "ome-zarr"})
    assert started.status_code == 201, started.text
    other = started.json()["recording_id"]
    await page.wait_for_selector(f"#record-status[data-state='running'][data-recording='{other}']")
    await page.wait_for_selector("#setting-roi-width:disabled")
    # Another client's geometry change is refused by the service, naming the recording.
    refused = await gateway.http.patch("/settings", json={"roi": {"width": 640}})
    assert refused.is_error and f"recordings/{other}" in refused.json()["detail"]
    assert (await gateway.http.post(f"/recordings/{other}/stop")).status_code == 200
    await page.wait_for_selector(f"#record-status[data-state='stopped'][data-recording='{other}']")
    await page.wait_for_selector("#setting-roi-width:enabled")
    assert (await gateway.service.stub.GetSettings(pb.GetSettingsRequest())).settings.roi.width == 2448

    # A camera unplugged during a recording: the page shows it failed, why, and the event as a warning.
    unplugged = (await gateway.http.post("/recordings", json={"format": "ome-tiff"})).json()["recording_id"]
    await page.wait_for_selector(f"#record-status[data-state='running'][data-recording='{unplugged}']")
    gateway.service.camera.unplug()
    await page.wait_for_selector(f"#record-status[data-state='failed'][data-recording='{unplugged}']")
    assert "camera disconnected" in (await page.text_content("#record-status") or "")
    await page.wait_for_selector("#events-list li.warning[data-type='recording_failed']")
    await page.wait_for_selector(f"#recordings li[data-recording='{unplugged}'][data-state='failed']")
    gateway.service.camera.replug()
    await page.wait_for_selector("#status[data-state='healthy']")

    assert errors == []
    assert elsewhere == []
    assert await csp_violations(page) == []
    await page.close()


async def accept(dialog: Dialog) -> None:
    """Accept the page's confirmation (of a delete)."""
    assert dialog.type == "confirm"
    await dialog.accept()


async def test_with_no_stream_left_for_the_progress_the_page_reads_the_recording_instead(
    start_gateway: GatewayFactory,
    browser: Browser,  # noqa: F811
) -> None:
    """REST_MAX_STREAMS_PER_CLIENT 3: the live view, the events and the statistics take them all; the progress
    stream is refused (429) and the page polls GET /recordings/{id} until the recording ends."""
    gateway = await start_gateway(rest_max_streams_per_client=3)
    page = await open_viewer(browser, gateway)
    answered: dict[str, int] = {}
    page.on("response", lambda response: answered.setdefault(urlsplit(response.url).path, response.status))
    await page.wait_for_selector("#statistics[data-state='live']")
    await page.fill("#record-amount", str(FRAMES))
    await page.click("#record:enabled")
    done = page.locator(f"#record-status[data-state='completed'][data-frames-written='{FRAMES}']")
    await done.wait_for()
    recording_id = await done.get_attribute("data-recording")
    assert answered[f"/recordings/{recording_id}/events"] == 429
    assert answered[f"/recordings/{recording_id}"] == 200  # read instead
    await page.wait_for_selector(f"#recordings li[data-recording='{recording_id}'][data-state='completed']")
    await page.close()
