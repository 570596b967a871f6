"""The viewer page in a real browser: Debian's chromium, headless, driven by Python playwright.

Screenshots are kept in test-artifacts/ (viewer.png, viewer-sign-in.png).
"""

from __future__ import annotations

import base64
import hashlib
import shutil
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat
from playwright.async_api import Browser, Dialog, Page, Route, async_playwright

from camera_grpc.auth import Role, new_token, token_line
from camera_grpc.gen.camera.v1 import camera_pb2 as pb
from tests.gateway.conftest import GatewayFactory, RunningGateway
from tests.support import ServiceFactory, eventually
from tests.support.certs import tls_files

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"
#: How long the page may take to reach a state, milliseconds.
UI_TIMEOUT_MS = 15_000
#: JavaScript run before a page's own: collects the Content-Security-Policy violations of the page.
COLLECT_CSP_VIOLATIONS = """
window.cspViolations = [];
document.addEventListener('securitypolicyviolation',
  (event) => window.cspViolations.push(`${event.violatedDirective} ${event.blockedURI}`));
"""

#: JavaScript: a checksum of the live view's pixels as drawn now (the page draws its frames on a canvas).
LIVE_PIXELS = """() => {
  const img = document.getElementById('live');
  const canvas = document.createElement('canvas');
  canvas.width = 160; canvas.height = 120;
  const context = canvas.getContext('2d');
  context.drawImage(img, 0, 0, canvas.width, canvas.height);
  const data = context.getImageData(0, 0, canvas.width, canvas.height).data;
  let sum = 0;
  for (let i = 0; i < data.length; i += 4) sum = (sum * 31 + data[i]) % 1000000007;
  return sum;
}"""
#: JavaScript: whether the live view has drawn a frame.
LIVE_FRAMES = "() => Number(document.getElementById('live').dataset.frames) > 0"


@pytest.fixture
async def browser() -> AsyncIterator[Browser]:
    assert shutil.which(CHROMIUM), f"{CHROMIUM} is missing: run scripts/setup_test_env.sh (make test does)"
    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            yield browser
        finally:
            await browser.close()


async def new_page(browser: Browser, origin: str | None = None, elsewhere: list[str] | None = None) -> Page:
    """A page collecting its CSP violations; with ``origin``, every request leaving it is aborted (as offline) and
    its URL added to ``elsewhere``."""
    page = await browser.new_page(viewport={"width": 1280, "height": 800})
    page.set_default_timeout(UI_TIMEOUT_MS)
    await page.add_init_script(COLLECT_CSP_VIOLATIONS)
    if origin is not None:

        async def offline(route: Route) -> None:
            if route.request.url.startswith(origin + "/"):
                await route.continue_()
            else:
                (elsewhere if elsewhere is not None else []).append(route.request.url)
                await route.abort()

        await page.route("**/*", offline)
    return page


async def csp_violations(page: Page) -> list[str]:
    violations: list[str] = await page.evaluate("() => window.cspViolations")
    return violations


#: Frames subscriptions an open viewer page holds: the live view and its statistics (GET /stream/stats).
LIVE_SUBSCRIPTIONS = 2


async def open_viewer(browser: Browser, gateway: RunningGateway, elsewhere: list[str] | None = None) -> Page:
    """The viewer page, once the camera is connected; with ``elsewhere``, offline (see :func:`new_page`)."""
    page = await new_page(browser, gateway.url if elsewhere is not None else None, elsewhere)
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    await page.goto(gateway.url + "/")
    await page.wait_for_selector("#status[data-state='healthy']")
    assert errors == []
    return page


async def test_the_viewer_shows_live_video_controls_bounded_by_the_camera_and_captures(
    gateway: RunningGateway, browser: Browser
) -> None:
    await gateway.http.put("/settings", json={"exposure": 30.0})  # bright enough to see the pattern
    page = await open_viewer(browser, gateway)

    requested: list[str] = []
    page.on("request", lambda request: requested.append(urlsplit(request.url).path))

    # The live image loads and moves.
    await page.wait_for_function(LIVE_FRAMES)
    first = await page.evaluate(LIVE_PIXELS)
    await page.wait_for_function(f"() => ({LIVE_PIXELS})() !== {first}")
    frames = gateway.service.runtime.frames
    await eventually(lambda: frames.subscriber_count == LIVE_SUBSCRIPTIONS, what="the live view and its statistics")

    # Controls are bounded by the camera's ranges and show the current settings.
    exposure = page.locator("#exposure")
    assert (await exposure.get_attribute("min"), await exposure.get_attribute("max")) == ("0.01", "10000")
    gain = page.locator("#gain")
    assert (await gain.get_attribute("min"), await gain.get_attribute("max")) == ("0", "24")
    assert float(await exposure.input_value()) == pytest.approx(30.0)

    # An out-of-range value is refused with the camera's range, and nothing changes.
    await exposure.fill("20000")
    await page.click("#apply")
    message = page.locator("#settings-message.error")
    await message.wait_for()
    assert await message.text_content() == "exposure must be between 0.01 and 10000 (milliseconds)"
    assert (await gateway.service.stub.GetSettings(pb.GetSettingsRequest())).exposure_ms == pytest.approx(30.0)

    # Apply new settings through the form.
    await exposure.fill("60")
    await gain.fill("3")
    await page.click("#apply")
    await page.wait_for_selector("#settings-message:has-text('applied')")
    settings = await gateway.service.stub.GetSettings(pb.GetSettingsRequest())
    assert (settings.exposure_ms, settings.gain_db) == (pytest.approx(60.0), pytest.approx(3.0))

    # Capture through the button: a file is created, the page links to it.
    await page.click("#capture")
    name = page.locator("#capture-name")
    await page.wait_for_function("() => document.getElementById('capture-name').textContent.endsWith('.jpg')")
    filename = await name.text_content()
    assert filename is not None
    saved = gateway.service.captures / filename
    assert saved.is_file() and saved.stat().st_size > 0
    href = await name.get_attribute("href")
    assert href == f"captures/{filename}"
    download = await page.request.get(f"{gateway.url}/{href}")
    assert download.status == 200 and download.headers["content-type"] == "image/jpeg"
    assert await download.body() == saved.read_bytes()
    # The gallery lists it with its metadata and a thumbnail made by the service; the page never loaded the image.
    item = page.locator(f"#gallery li[data-filename='{filename}']")
    await item.wait_for()
    assert "2448\u00d72048" in (await item.text_content() or "")
    await page.wait_for_selector("#capture-thumb[data-loaded='true']")
    await item.locator("canvas[data-loaded='true']").wait_for()
    assert f"/captures/{filename}" not in requested  # thumbnails only (the test fetched it, not the page)

    ARTIFACTS.mkdir(exist_ok=True)
    await page.screenshot(path=str(ARTIFACTS / "viewer.png"), full_page=True)
    assert await csp_violations(page) == []  # everything above worked under the page's policy

    # Delete from the gallery: after a confirmation the item leaves the gallery and the file and sidecar are gone.
    asked: list[str] = []

    async def confirm(dialog: Dialog) -> None:
        asked.append(dialog.message)
        await dialog.accept()

    page.once("dialog", confirm)
    await item.get_by_role("button", name=f"Delete {filename}").click()
    await item.wait_for(state="detached")
    assert asked == [f"Delete {filename} and its metadata?"]
    assert not saved.exists() and not saved.with_suffix(".json").exists()
    await page.wait_for_selector(f"#gallery-message:has-text('{filename} deleted')")

    # Closing the tab ends the live view's subscription.
    await page.close()
    await eventually(lambda: gateway.service.runtime.frames.subscriber_count == 0)


async def test_the_viewer_reports_an_unplugged_camera_and_recovers(gateway: RunningGateway, browser: Browser) -> None:
    page = await open_viewer(browser, gateway)
    await page.wait_for_function(LIVE_FRAMES)
    gateway.service.camera.unplug()
    await page.wait_for_selector("#status[data-state='degraded']")
    assert await page.locator("#capture").is_disabled()
    await page.wait_for_selector("#live-message:has-text('camera not connected')")
    await eventually(lambda: gateway.service.runtime.frames.subscriber_count == 0)
    gateway.service.camera.replug()
    await page.wait_for_selector("#status[data-state='healthy']")
    await page.wait_for_selector("#live-message[hidden]", state="attached")
    frames = gateway.service.runtime.frames
    await eventually(lambda: frames.subscriber_count == LIVE_SUBSCRIPTIONS, what="the live view and statistics again")
    assert await page.locator("#capture").is_enabled()
    await page.close()


async def test_the_camera_settings_panel_sets_the_region_follows_other_clients_and_keeps_presets(
    gateway: RunningGateway, browser: Browser
) -> None:
    camera = (await gateway.http.get("/camera")).json()
    features = {feature["name"]: feature for feature in camera["features"]}
    page = await open_viewer(browser, gateway)
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))

    # Controls come from the camera's features: the region's bounds and step are the camera's.
    width = page.locator("#setting-roi-width")
    await width.wait_for()
    feature = features["roi.width"]
    assert [await width.get_attribute(name) for name in ("min", "max", "step")] == [
        f"{feature[name]:g}" for name in ("minimum", "maximum", "step")
    ]
    assert await page.locator("label[for='setting-roi-width']").text_content() == "Width"
    assert await width.input_value() == "2448"
    assert (
        await page.locator("#setting-pixel-addressing-mode option").all_text_contents()
        == (features["pixel_addressing.mode"]["choices"])
    )
    # A mono camera has no white balance: its controls are there, disabled, saying why.
    balance = page.locator("#setting-white-balance-mode")
    assert await balance.is_disabled()
    assert await page.locator("#setting-white-balance-mode-reason").text_content() == "not on this camera"

    # The frame-rate target applies to a fixed rate only.
    assert await page.locator("#setting-frame-rate-mode").input_value() == "free"
    assert await page.locator("#setting-frame-rate-fps").is_disabled()
    await page.select_option("#setting-frame-rate-mode", "fixed")
    assert await page.locator("#setting-frame-rate-fps").is_enabled()
    await page.select_option("#setting-frame-rate-mode", "free")

    # Set the width through the page: the camera has it, the rest of the region is unchanged.
    await width.fill("640")
    await page.click("#camera-apply")
    await page.wait_for_selector("#camera-message:has-text('applied')")
    settings = (await gateway.service.stub.GetSettings(pb.GetSettingsRequest())).settings
    assert (settings.roi.width, settings.roi.height) == (640, 2048)
    await page.wait_for_selector("#live-info:has-text('live')")

    # Save it as a preset.
    await page.fill("#preset-id", "narrow")
    await page.click("#preset-save")
    await page.wait_for_selector("#camera-message:has-text('saved as narrow')")

    # Another client changes the width: the page shows it (the event stream), though nobody reloaded it.
    await gateway.service.stub.UpdateSettings(
        pb.UpdateSettingsRequest(
            settings=pb.CameraSettings(roi=pb.Region(width=1024)), update_mask={"paths": ["roi.width"]}
        )
    )
    await page.wait_for_function("() => document.getElementById('setting-roi-width').value === '1024'")

    # The preset brings the width back; "Full sensor" the whole sensor.
    await page.select_option("#preset-list", "narrow")
    await page.click("#preset-apply")
    await page.wait_for_selector("#camera-message:has-text('preset narrow applied')")
    assert await width.input_value() == "640"
    assert (await gateway.service.stub.GetSettings(pb.GetSettingsRequest())).settings.roi.width == 640
    await page.click("#full-sensor")
    await page.wait_for_function("() => document.getElementById('setting-roi-width').value === '2448'")
    assert (await gateway.service.stub.GetSettings(pb.GetSettingsRequest())).settings.roi.width == 2448

    # A value off the camera's step is refused with its rule, and nothing changes.
    await width.fill("641")
    await page.click("#camera-apply")
    await page.wait_for_selector("#camera-message.error:has-text('step 8')")
    assert (await gateway.service.stub.GetSettings(pb.GetSettingsRequest())).settings.roi.width == 2448

    ARTIFACTS.mkdir(exist_ok=True)
    await page.screenshot(path=str(ARTIFACTS / "viewer-settings.png"), full_page=True)
    assert errors == []
    assert await csp_violations(page) == []
    await page.close()
    # Closing the page ends its event stream and live view (their slots are given back).
    slots = gateway.server.app.state.stream_slots
    await eventually(lambda: slots.total == 0, what="the page's streams closed")


async def test_the_trigger_panel_fires_a_software_trigger_sets_gpio_and_lists_events_as_they_arrive(
    gateway: RunningGateway, browser: Browser
) -> None:
    page = await open_viewer(browser, gateway)
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    await page.wait_for_selector("#events-state:has-text('following')")
    await eventually(lambda: gateway.service.runtime.events.subscriber_count == 1, what="the page's events stream")

    # Trigger controls come from the camera's features; the Trigger button waits for software mode.
    assert await page.locator("label[for='setting-trigger-source']").text_content() == "Source"
    assert await page.locator("#setting-trigger-source option").all_text_contents() == [
        "free_running",
        "software",
        "hardware",
    ]
    assert await page.locator("#setting-trigger-edge").is_disabled()  # hardware only
    assert await page.locator("#trigger-fire").is_disabled()
    await page.select_option("#setting-trigger-source", "software")
    await page.click("#camera-apply")
    await page.wait_for_selector("#camera-message:has-text('applied')")
    assert (await gateway.service.stub.GetSettings(pb.GetSettingsRequest())).settings.trigger.source == (
        pb.TRIGGER_SOURCE_SOFTWARE
    )
    # The change is an event in the list, as it arrived.
    await page.wait_for_selector("#events-list li[data-type='settings_changed']")

    # One trigger round trip: the page shows the frame it produced.
    await page.click("#trigger-fire:enabled")
    message = page.locator("#trigger-message:has-text('frame ')")
    await message.wait_for()
    number = int((await message.text_content() or "").split()[1])
    assert number > 0 and "trigger 1," in (await message.text_content() or "")

    # GPIO lines: their modes from the features, applied as the whole list; the service's rules are shown.
    await page.select_option("#gpio-1-mode", "strobe")
    await page.click("#gpio-apply")
    await page.wait_for_selector("#io-message.error:has-text('duration_ms must be above 0')")
    await page.select_option("#gpio-1-mode", "normal")
    await page.click("#gpio-apply")
    await page.wait_for_selector("#io-message:has-text('GPIO applied')")
    lines = (await gateway.service.stub.GetSettings(pb.GetSettingsRequest())).settings.gpio
    assert [(line.line, line.mode) for line in lines] == [(1, pb.GPIO_MODE_NORMAL), (2, pb.GPIO_MODE_OFF)]

    # A disconnect is listed as a warning, and the reconnect after it.
    gateway.service.camera.unplug()
    await page.wait_for_selector("#events-list li.warning[data-type='camera_disconnected']")
    worker = gateway.service.runtime.worker
    await eventually(lambda: worker.state.value == "disconnected", what="the camera thread saw it go")
    gateway.service.camera.replug()
    await page.wait_for_selector("#events-list li[data-type='camera_reconnected']")
    assert await page.locator("#events-list li").first.get_attribute("data-type") == "camera_reconnected"

    ARTIFACTS.mkdir(exist_ok=True)
    await page.screenshot(path=str(ARTIFACTS / "viewer-trigger.png"), full_page=True)
    assert errors == []
    assert await csp_violations(page) == []
    await page.close()
    slots = gateway.server.app.state.stream_slots
    await eventually(lambda: slots.total == 0, what="the page's streams closed")


async def test_the_docs_render_offline_under_their_content_security_policy(
    gateway: RunningGateway, browser: Browser
) -> None:
    """No request leaves the gateway's origin (others are aborted, as offline), and Swagger UI renders."""
    elsewhere: list[str] = []
    page = await new_page(browser, gateway.url, elsewhere)
    await page.goto(gateway.url + "/docs")
    await page.wait_for_selector(".swagger-ui .info .title:has-text('camera-grpc REST gateway')")
    await page.wait_for_selector("#operations-capture-capture_capture_post")
    assert await page.locator(".opblock").count() >= 10
    # "Try it out" works: a same-origin PUT with a JSON body passes the cross-site guard.
    operation = page.locator("#operations-settings-update_settings_settings_put")
    await operation.locator(".opblock-summary").click()
    await operation.locator(".try-out__btn").click()
    await operation.locator("textarea.body-param__text").fill('{"exposure": 12.5}')
    await operation.locator(".execute").click()
    await operation.locator(".live-responses-table .response-col_status:has-text('200')").wait_for()
    settings = await gateway.service.stub.GetSettings(pb.GetSettingsRequest())
    assert settings.exposure_ms == pytest.approx(12.5)
    assert elsewhere == []
    assert await csp_violations(page) == []
    ARTIFACTS.mkdir(exist_ok=True)
    await page.screenshot(path=str(ARTIFACTS / "docs.png"))
    await page.close()


HOSTILE_PAGE = """<!doctype html>
<title>hostile</title>
<form id="form" method="post" action="{gateway}/capture"></form>
<script>
  fetch("{gateway}/capture", {{method: "POST", mode: "no-cors"}})
    .then(() => fetch("{gateway}/capture", {{method: "POST", mode: "no-cors", body: '{{"exposure": 5}}',
                                            headers: {{"Content-Type": "text/plain"}}}}))
    .catch(() => null)
    .then(() => {{ document.title = "fetched"; document.getElementById("form").submit(); }});
</script>
"""


async def test_a_page_of_another_site_cannot_take_captures_through_the_browser(
    gateway: RunningGateway, browser: Browser
) -> None:
    """Requests a page may send anywhere without a CORS preflight: fetch no-cors (no body, text/plain; Chromium
    may also hold these back itself, as requests from a public page to a local address) and a form post with no
    fields (an empty body: a capture with the current settings). The page is served from http://hostile.test
    by the browser's request interception."""
    page = await new_page(browser)
    page_html = HOSTILE_PAGE.format(gateway=gateway.url)

    async def hostile_site(route: Route) -> None:
        await route.fulfill(status=200, content_type="text/html", body=page_html)

    await page.route("http://hostile.test/**", hostile_site)
    async with page.expect_navigation(url=gateway.url + "/capture"):
        await page.goto("http://hostile.test/")
    assert sorted(path.name for path in gateway.service.captures.glob("*")) == []
    assert "cross-site request refused" in await page.content()  # the form's answer replaced the hostile page
    await page.close()


# -- with tokens on -------------------------------------------------------------------------------

#: The page's sessionStorage key of the token (viewer.js TOKEN_KEY).
TOKEN_KEY = "camera-grpc.token"
#: Routes that need a token, as the page requests them.
GUARDED = ("/camera", "/settings", "/stream.mjpg", "/stream/stats", "/capture", "/captures", "/recordings", "/events")


@pytest.fixture
async def guarded_gateway(start_service: ServiceFactory, start_gateway: GatewayFactory, tmp_path: Path) -> Guarded:
    """A service and its gateway that need a token (TOKENS_FILE: an operator's), plaintext on 127.0.0.1."""
    token = new_token()
    tokens_file = tmp_path / "tokens"
    tokens_file.write_text(token_line("viewer-test", Role.OPERATOR, token))
    service = await start_service(tokens_file=tokens_file, auth_max_failures=1000)
    return Guarded(await start_gateway(service), token)


@dataclass
class Guarded:
    gateway: RunningGateway
    token: str


async def test_with_tokens_on_the_viewer_asks_for_a_token_kept_in_session_storage_only(
    guarded_gateway: Guarded, browser: Browser
) -> None:
    gateway, token = guarded_gateway.gateway, guarded_gateway.token
    assert (await gateway.http.get("/settings")).status_code == 401  # the gateway really asks for one
    page = await new_page(browser)
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    sent: list[tuple[str, str | None]] = []
    page.on("request", lambda request: sent.append((request.url, request.headers.get("authorization"))))
    await page.goto(gateway.url + "/")

    # The page (open) loads, the first guarded request is 401: it asks for a token, shows nothing else.
    await page.wait_for_selector("#login:not([hidden])")
    assert await page.locator("#viewer").is_hidden()
    ARTIFACTS.mkdir(exist_ok=True)
    await page.screenshot(path=str(ARTIFACTS / "viewer-sign-in.png"))

    # A wrong token is refused, and not kept.
    await page.fill("#token", "not-the-token")
    await page.click("#sign-in")
    await page.wait_for_selector("#login-message.error:has-text('not accepted')")
    assert await page.evaluate(f"() => sessionStorage.getItem('{TOKEN_KEY}')") is None

    # The right one: live frames (read with fetch and the token, drawn on the canvas), moving.
    await page.fill("#token", token)
    await page.click("#sign-in")
    await page.wait_for_selector("#login", state="hidden")
    await page.wait_for_function(LIVE_FRAMES)
    first = await page.evaluate(LIVE_PIXELS)
    await page.wait_for_function(f"() => ({LIVE_PIXELS})() !== {first}")
    await page.wait_for_selector("#status[data-state='healthy']")
    frames = gateway.service.runtime.frames
    await eventually(lambda: frames.subscriber_count == LIVE_SUBSCRIPTIONS, what="the live view and its statistics")

    # The token is in this tab's sessionStorage, in no cookie and nowhere else.
    assert await page.evaluate(f"() => sessionStorage.getItem('{TOKEN_KEY}')") == token
    assert await page.evaluate("() => document.cookie") == ""
    assert await page.context.cookies() == []
    assert await page.evaluate("() => localStorage.length") == 0
    assert await page.input_value("#token") == ""

    # An operator's token captures; the thumbnail and the download are fetched with it.
    await page.click("#capture")
    await page.wait_for_selector("#capture-message:has-text('saved')")
    await page.wait_for_selector("#capture-thumb[data-loaded='true']")
    filename = await page.text_content("#capture-name")
    assert filename is not None and filename.endswith(".jpg")
    async with page.expect_download() as download_info:
        await page.click("#capture-name")
    download = await download_info.value
    assert download.suggested_filename == filename
    saved = await download.path()
    assert Path(saved).read_bytes() == (gateway.service.captures / filename).read_bytes()

    # Every guarded request the page made carried the token.
    guarded = [(url, authorization) for url, authorization in sent if urlsplit(url).path.startswith(GUARDED)]
    assert {urlsplit(url).path for url, _ in guarded} >= {
        "/camera",
        "/settings",
        "/stream.mjpg",
        "/stream/stats",
        "/capture",
        "/recordings",
        "/events",
    }
    after_sign_in = [authorization for url, authorization in guarded if authorization is not None]
    assert set(after_sign_in) <= {f"Bearer {token}", "Bearer not-the-token"}
    assert after_sign_in[-1] == f"Bearer {token}"

    # A reload in the same tab keeps the session; signing out forgets the token.
    await page.reload()
    await page.wait_for_function(LIVE_FRAMES)
    assert await page.locator("#login").is_hidden()
    await page.click("#sign-out")
    await page.wait_for_selector("#login:not([hidden])")
    assert await page.evaluate(f"() => sessionStorage.getItem('{TOKEN_KEY}')") is None
    await eventually(lambda: gateway.service.runtime.frames.subscriber_count == 0)

    assert errors == []
    assert await csp_violations(page) == []
    await page.close()


async def test_with_tokens_on_a_token_revoked_while_the_page_is_open_brings_back_the_sign_in_form(
    guarded_gateway: Guarded, browser: Browser, tmp_path: Path
) -> None:
    gateway, token = guarded_gateway.gateway, guarded_gateway.token
    page = await new_page(browser)
    await page.goto(gateway.url + "/")
    await page.wait_for_selector("#login:not([hidden])")
    await page.fill("#token", token)
    await page.click("#sign-in")
    await page.wait_for_function(LIVE_FRAMES)
    (tmp_path / "tokens").write_text("")  # revoked: the service re-reads the file
    await page.click("#apply")  # the next request is refused
    await page.wait_for_selector("#login-message.error:has-text('not accepted')")
    assert await page.evaluate(f"() => sessionStorage.getItem('{TOKEN_KEY}')") is None
    await eventually(lambda: gateway.service.runtime.frames.subscriber_count == 0)
    assert await csp_violations(page) == []
    await page.close()


async def test_with_https_and_tokens_the_viewer_signs_in_and_shows_live_frames(
    start_service: ServiceFactory, start_gateway: GatewayFactory, tmp_path: Path
) -> None:
    """The page over HTTPS (a real handshake: Chromium trusts the test server's key, pinned by its SPKI hash,
    and nothing else) with tokens on."""
    files = tls_files(tmp_path / "pki")
    token = new_token()
    tokens_file = tmp_path / "tokens"
    tokens_file.write_text(token_line("viewer-test", Role.VIEWER, token))
    service = await start_service(tokens_file=tokens_file, auth_max_failures=1000)
    gateway = await start_gateway(service, **files.server_settings())
    assert gateway.url.startswith("https://")
    spki = files.server.certificate.public_key().public_bytes(Encoding.DER, PublicFormat.SubjectPublicKeyInfo)
    pin = base64.b64encode(hashlib.sha256(spki).digest()).decode()
    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(
            executable_path=CHROMIUM, args=[*CHROMIUM_ARGS, f"--ignore-certificate-errors-spki-list={pin}"]
        )
        try:
            page = await new_page(browser)
            await page.goto(gateway.url + "/")
            await page.wait_for_selector("#login:not([hidden])")
            await page.fill("#token", token)
            await page.click("#sign-in")
            await page.wait_for_function(LIVE_FRAMES)
            assert await page.evaluate("() => location.protocol") == "https:"
            assert await page.evaluate(f"() => sessionStorage.getItem('{TOKEN_KEY}')") == token
            assert await page.evaluate("() => document.cookie") == ""
            # a viewer's token: the capture is refused with the gateway's message, the page stays signed in
            await page.click("#capture")
            await page.wait_for_selector("#capture-message.error:has-text('not allow')")
            assert await page.locator("#login").is_hidden()
            assert await csp_violations(page) == []
        finally:
            await browser.close()
