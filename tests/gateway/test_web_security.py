"""Hostile web pages: the gateway listens on localhost, and so does every browser on the machine.

Requests are sent with the headers a browser sends (Origin, Sec-Fetch-Site, Host), over real TCP;
tests/gateway/test_viewer.py checks the same in a real browser.
"""

from __future__ import annotations

import asyncio
import re
from urllib.parse import urljoin

import httpx
import pytest

from camera_grpc.config import ConfigurationError, load_settings
from camera_grpc.gen.camera.v1 import camera_pb2 as pb
from tests.gateway.conftest import GatewayFactory, RunningGateway

EVIL = "https://evil.example"
FRONT_END = "http://localhost:5173"  # in the default ALLOWED_ORIGINS


def captures_taken(gateway: RunningGateway) -> list[str]:
    folder = gateway.service.captures
    return sorted(path.name for path in folder.glob("*.jpg")) if folder.exists() else []


async def test_a_page_of_another_site_cannot_capture_or_change_settings(gateway: RunningGateway) -> None:
    """A <form method=post> or a fetch(..., {mode: "no-cors"}) needs no CORS preflight: CORS alone lets them in."""
    http = gateway.http
    before = await gateway.service.stub.GetSettings(pb.GetSettingsRequest())
    refused = [
        ("POST", "/capture", {"Origin": EVIL}, None),  # fetch POST with no body
        ("POST", "/capture", {"Origin": EVIL, "Content-Type": "text/plain"}, b'{"exposure": 5}'),
        ("POST", "/capture", {"Origin": EVIL, "Content-Type": "application/x-www-form-urlencoded"}, b"exposure=5"),
        ("POST", "/capture", {"Origin": "null"}, None),  # a sandboxed frame or a file:// page
        ("POST", "/capture", {"Sec-Fetch-Site": "cross-site"}, None),  # no Origin, but the browser says cross-site
        ("PUT", "/settings", {"Origin": EVIL, "Content-Type": "application/json"}, b'{"exposure": 5}'),
        ("POST", "/capture", {"Origin": f"http://localhost:{gateway.port}.evil.example"}, None),
    ]
    for method, path, headers, body in refused:
        response = await http.request(method, path, headers=headers, content=body)
        assert response.status_code == 403, (headers, response.text)
        assert response.json() == {
            "detail": "cross-site request refused: the page's origin is not in the gateway's ALLOWED_ORIGINS",
            "code": None,
            "reason": None,
        }
        assert "access-control-allow-origin" not in response.headers
    assert captures_taken(gateway) == []
    assert await gateway.service.stub.GetSettings(pb.GetSettingsRequest()) == before

    # Reading is not refused (CORS keeps the answer from the page), and pages that may are served.
    assert (await http.get("/settings", headers={"Origin": EVIL})).status_code == 200
    same_origin = await http.post("/capture", json={}, headers={"Origin": gateway.url, "Sec-Fetch-Site": "same-origin"})
    assert same_origin.status_code == 200
    front_end = await http.put(
        "/settings", json={"gain": 2.0}, headers={"Origin": FRONT_END, "Sec-Fetch-Site": "same-site"}
    )
    assert front_end.status_code == 200
    assert front_end.headers["access-control-allow-origin"] == FRONT_END
    # Clients that are not browsers send no Origin: a capture with no body at all, as curl -X POST sends it.
    assert (await http.post("/capture")).status_code == 200
    assert len(captures_taken(gateway)) == 2


@pytest.mark.parametrize(
    "content_type",
    ["text/plain", "application/x-www-form-urlencoded", "multipart/form-data; boundary=x", None, "application/jsonx"],
)
async def test_bodies_must_be_sent_as_json(gateway: RunningGateway, content_type: str | None) -> None:
    """The content types a browser may send to any site without a preflight (and none) are not accepted."""
    headers = {"Content-Type": content_type} if content_type else {}
    for method, path in [("POST", "/capture"), ("PUT", "/settings")]:
        request = gateway.http.build_request(method, path, content=b'{"exposure": 5}', headers=headers)
        assert request.headers.get("content-type") == content_type
        response = await gateway.http.send(request)
        assert response.status_code == 415, (method, response.text)
        assert response.json()["detail"] == (
            "send the request body as JSON, with the header Content-Type: application/json"
        )
    assert captures_taken(gateway) == []
    ok = await gateway.http.put(
        "/settings", content=b'{"exposure": 5}', headers={"Content-Type": "application/json; charset=utf-8"}
    )
    assert ok.status_code == 200


async def raw_status(port: int, host_header: str) -> tuple[int, str]:
    """GET /settings with exactly this Host header; (status, body)."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    try:
        writer.write(f"GET /settings HTTP/1.1\r\nHost: {host_header}\r\nConnection: close\r\n\r\n".encode())
        await writer.drain()
        data = await asyncio.wait_for(reader.read(), timeout=10)
    finally:
        writer.close()
    head, _, body = data.partition(b"\r\n\r\n")
    return int(head.split(b" ", 2)[1]), body.decode()


async def test_only_known_host_names_are_served(gateway: RunningGateway) -> None:
    """DNS rebinding: a page of attacker.example whose name now resolves to 127.0.0.1 is same-origin with
    the gateway in the browser's eyes, but its requests say Host: attacker.example."""
    port = gateway.port
    for host in ["attacker.example", f"attacker.example:{port}", f"localhost.attacker.example:{port}", "localhost@x"]:
        status, body = await raw_status(port, host)
        assert status == 400, host
        assert "ALLOWED_HOSTS" in body
    for host in [f"localhost:{port}", "localhost", "LOCALHOST.", f"127.0.0.1:{port}", f"[::1]:{port}", "10.1.2.3"]:
        status, _ = await raw_status(port, host)
        assert status == 200, host


async def test_allowed_hosts_names_the_host_names_served(start_gateway: GatewayFactory) -> None:
    gateway = await start_gateway(allowed_hosts=["camera.lab"])
    assert (await raw_status(gateway.port, f"camera.lab:{gateway.port}"))[0] == 200
    assert (await raw_status(gateway.port, "localhost"))[0] == 400
    assert (await raw_status(gateway.port, "127.0.0.1"))[0] == 200  # IP addresses cannot be rebound
    anything = await start_gateway(gateway.service, allowed_hosts=["*"])
    assert (await raw_status(anything.port, "attacker.example"))[0] == 200


SECURITY_HEADERS = {
    "x-content-type-options": "nosniff",
    "x-frame-options": "DENY",
    "referrer-policy": "no-referrer",
}


async def test_every_response_carries_the_security_headers(gateway: RunningGateway) -> None:
    responses = [
        await gateway.http.get("/"),
        await gateway.http.get("/static/viewer.js"),
        await gateway.http.get("/settings"),
        await gateway.http.get("/no-such-page"),
        await gateway.http.post("/capture", headers={"Origin": EVIL}),
        await gateway.http.get("/settings", headers={"Host": "attacker.example"}),
        await gateway.http.get("/docs"),
    ]
    assert [response.status_code for response in responses] == [200, 200, 200, 404, 403, 400, 200]
    for response in responses:
        for name, value in SECURITY_HEADERS.items():
            assert response.headers[name] == value, (response.url, name)
        policy = response.headers["content-security-policy"]
        assert "default-src 'self'" in policy and "frame-ancestors 'none'" in policy, response.url
        assert "unsafe-inline" not in policy and "unsafe-eval" not in policy and "http" not in policy
    assert responses[0].headers["content-security-policy"] == (
        "default-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
    )


async def test_docs_load_swagger_ui_from_the_gateway_itself(gateway: RunningGateway) -> None:
    """FastAPI's /docs loads Swagger UI from a CDN: blank offline, and scripts from another site."""
    docs = await gateway.http.get("/docs")
    assert docs.status_code == 200
    assert "SwaggerUIBundle" in docs.text
    urls = re.findall(r'(?:src|href)="([^"]+)"', docs.text)
    assert urls, docs.text
    expected_types = {".js": "text/javascript", ".css": "text/css", ".png": "image/png"}
    for url in urls:
        assert url.startswith("/") and not url.startswith("//"), url  # this origin
        asset = await gateway.http.get(url)
        assert asset.status_code == 200, url
        suffix = url[url.rfind(".") :]
        assert asset.headers["content-type"].startswith(expected_types[suffix]), url
    assert "http://" not in docs.text and "https://" not in docs.text
    assert "url: '/openapi.json'" in docs.text
    assert (await gateway.http.get(urljoin(gateway.url, "/openapi.json"))).status_code == 200
    # The page's one inline script is allowed by its hash, nothing else inline.
    policy = docs.headers["content-security-policy"]
    assert re.fullmatch(
        r"default-src 'self'; script-src 'self' 'sha256-[A-Za-z0-9+/]+={0,2}'; img-src 'self' data:; "
        r"object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'",
        policy,
    ), policy
    assert (await gateway.http.get("/redoc")).status_code == 404  # it would load its script and fonts from CDNs


async def test_curl_without_origin_and_with_the_legacy_headers_is_served(gateway: RunningGateway) -> None:
    """Scripts and back ends are not browsers: no Origin, no Sec-Fetch-*, JSON bodies or none."""
    async with httpx.AsyncClient(base_url=f"http://localhost:{gateway.port}", timeout=30) as curl_like:
        assert (await curl_like.post("/capture")).status_code == 200
        response = await curl_like.put("/settings", json={"exposure": 150.0, "gain": 2.0})
        assert response.status_code == 200


@pytest.mark.parametrize("value", ["http://camera.lab", "camera.lab:8001", "camera.lab/x", "a b"])
def test_allowed_hosts_takes_host_names_only(value: str) -> None:
    with pytest.raises(ConfigurationError) as caught:
        load_settings(None, allowed_hosts=value)
    assert str(caught.value).startswith(f"invalid ALLOWED_HOSTS={value}")
    assert "no scheme, no port" in str(caught.value) and "\n" not in str(caught.value)
    assert load_settings(None, allowed_hosts="Camera.Lab., localhost,::1").allowed_hosts == [
        "camera.lab",
        "localhost",
        "::1",
    ]
