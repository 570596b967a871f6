"""The REST gateway's transport security and identity: HTTPS (real handshakes, mutual TLS, rotation), tokens and
roles, and the caller's token forwarded to gRPC."""

from __future__ import annotations

import asyncio
import logging
import socket
import ssl
from collections.abc import AsyncIterator, Callable, Iterator, Sequence
from pathlib import Path

import httpx
import pytest
import schemathesis
from cryptography import x509
from fastapi.routing import APIRoute
from starlette.routing import BaseRoute, Mount, Route

from camera_grpc.auth import Role
from camera_grpc.config import load_settings
from camera_grpc.gateway.app import create_app
from camera_grpc.gateway.auth import OPEN, ROUTE_ROLES, UNAUTHENTICATED_MESSAGE
from tests.gateway.conftest import GatewayFactory, RunningGateway
from tests.support import ServiceFactory
from tests.support.certs import CertificateAuthority, TlsFiles, tls_files
from tests.support.tokens import RoleTokens, role_tokens

SMALL_CAMERA = {"simulated_width": 64, "simulated_height": 48}
#: Who may call what, as the README's Security section says (independent of gateway/auth.py's table).
LOWEST_ROLE: dict[tuple[str, str], Role] = {
    ("GET", "/settings"): Role.VIEWER,
    ("GET", "/camera"): Role.VIEWER,
    ("GET", "/captures"): Role.VIEWER,
    ("GET", "/captures/{filename}"): Role.VIEWER,
    ("GET", "/captures/{filename}/thumbnail"): Role.VIEWER,
    ("GET", "/stream.mjpg"): Role.VIEWER,
    ("GET", "/stream/stats"): Role.VIEWER,
    ("GET", "/storage"): Role.VIEWER,
    ("PUT", "/settings"): Role.OPERATOR,
    ("POST", "/capture"): Role.OPERATOR,
    ("GET", "/settings/events"): Role.VIEWER,
    ("GET", "/presets"): Role.VIEWER,
    ("GET", "/presets/{preset_id}"): Role.VIEWER,
    ("PATCH", "/settings"): Role.OPERATOR,
    ("POST", "/presets"): Role.OPERATOR,
    ("POST", "/presets/{preset_id}/apply"): Role.OPERATOR,
    ("POST", "/camera/channels/{channel}/load"): Role.OPERATOR,
    ("POST", "/camera/channels/{channel}/save"): Role.ADMIN,
    ("DELETE", "/presets/{preset_id}"): Role.ADMIN,
    ("POST", "/trigger"): Role.OPERATOR,
    ("GET", "/io"): Role.VIEWER,
    ("GET", "/events"): Role.VIEWER,
    ("GET", "/recordings"): Role.VIEWER,
    ("GET", "/recordings/{recording_id}"): Role.VIEWER,
    ("GET", "/recordings/{recording_id}/events"): Role.VIEWER,
    ("GET", "/recordings/{recording_id}/files/{file}"): Role.VIEWER,
    ("GET", "/recordings/{recording_id}/thumbnail"): Role.VIEWER,
    ("POST", "/recordings"): Role.OPERATOR,
    ("POST", "/recordings/{recording_id}/stop"): Role.OPERATOR,
    ("DELETE", "/recordings/{recording_id}"): Role.OPERATOR,  # after the others that use the recording
    ("DELETE", "/captures/{filename}"): Role.OPERATOR,  # the last: the others use the capture
}
#: Statuses that mean a request got past the role check other than 2xx: the free-running camera refuses a software
#: trigger (409, reason TRIGGER_MODE), which only the service can say.
PAST_THE_CHECK: dict[tuple[str, str], int] = {("POST", "/trigger"): 409}
#: A valid body per (method, path template) of LOWEST_ROLE that takes one.
BODIES: dict[tuple[str, str], dict[str, object]] = {
    ("PUT", "/settings"): {"exposure": 3.0},
    ("PATCH", "/settings"): {"exposure_ms": 3.0},
    ("POST", "/presets"): {"preset_id": "other"},
    ("POST", "/recordings"): {"recording_id": "other", "max_frames": 2},
}
#: Path parameters of the requests: the preset and the recording each test saves first, the camera's first channel.
PATH_VALUES = {"{preset_id}": "saved", "{recording_id}": "saved", "{channel}": "1"}
#: Endless responses: their status is read, then they are closed.
STREAMS = ("/stream.mjpg", "/stream/stats", "/settings/events", "/events")
#: Open without a token: health, the page shells, their static files and the OpenAPI document.
OPEN_PATHS = (
    "/health",
    "/health/ready",
    "/",
    "/docs",
    "/openapi.json",
    "/static/viewer.js",
    "/static/docs/swagger-ui.css",
)


@pytest.fixture
def tokens(tmp_path: Path) -> RoleTokens:
    return role_tokens(tmp_path / "tokens")


@pytest.fixture
def tls(tmp_path: Path) -> TlsFiles:
    return tls_files(tmp_path / "tls")


@pytest.fixture
async def guarded(start_service: ServiceFactory, start_gateway: GatewayFactory, tokens: RoleTokens) -> RunningGateway:
    """A service and its gateway with the same tokens file (plaintext, 127.0.0.1)."""
    service = await start_service(tokens_file=tokens.path, **SMALL_CAMERA)
    return await start_gateway(service)


@pytest.fixture
async def clients() -> AsyncIterator[Callable[..., httpx.AsyncClient]]:
    """HTTP clients (closed at teardown): ``open(base_url, verify=True)``."""
    opened: list[httpx.AsyncClient] = []

    def open_client(base_url: str, verify: ssl.SSLContext | bool = True) -> httpx.AsyncClient:
        client = httpx.AsyncClient(base_url=base_url, verify=verify, timeout=30)
        opened.append(client)
        return client

    yield open_client
    for client in opened:
        await client.aclose()


def trusting(ca: bytes, client: TlsFiles | None = None) -> ssl.SSLContext:
    """A client context that trusts ``ca`` only (and presents ``client``'s client certificate)."""
    context = ssl.create_default_context(cadata=ca.decode("ascii"))
    if client is not None:
        context.load_cert_chain(client.client_cert, client.client_key)
    return context


async def send(http: httpx.AsyncClient, method: str, template: str, headers: dict[str, str]) -> int:
    """The status of one request (a live stream: of its first response, then closed)."""
    path = template
    for name, value in PATH_VALUES.items():
        path = path.replace(name, value)
    if path in STREAMS:
        async with http.stream(
            "GET", path, params={"max_fps": 5} if path == "/stream.mjpg" else None, headers=headers
        ) as response:
            return response.status_code
    return (await http.request(method, path, json=BODIES.get((method, template)), headers=headers)).status_code


# -- the route table ----------------------------------------------------------------------------------------


def leaf_routes(routes: Sequence[BaseRoute]) -> Iterator[BaseRoute]:
    """The app's routes, those of included routers too (FastAPI >= 0.16x includes routers lazily; the gateway's
    have no prefix)."""
    for route in routes:
        included = getattr(route, "original_router", None)
        if included is not None:
            yield from leaf_routes(included.routes)
        else:
            yield route


def test_every_route_has_a_role_or_is_open() -> None:
    app = create_app(load_settings(None), "127.0.0.1:1")
    missing = []
    for route in leaf_routes(app.routes):
        if isinstance(route, APIRoute):
            missing += [
                (method, route.path_format)
                for method in route.methods
                if (method, route.path_format) not in ROUTE_ROLES
            ]
        elif isinstance(route, Route):  # no dependency runs for these: they must be the ones meant to be open
            assert route.path == "/openapi.json", f"{route.path}: a route the token check does not see"
        else:
            assert isinstance(route, Mount) and route.path in ("/static", "/static/docs"), route
    assert not missing, f"routes without a role (refused to every token): {missing}"
    assert {key for key, role in ROUTE_ROLES.items() if role is not OPEN and key in LOWEST_ROLE} == set(LOWEST_ROLE)


# -- tokens and roles ---------------------------------------------------------------------------------------


@pytest.fixture(params=["gateway and service", "gateway only"])
async def checking(
    request: pytest.FixtureRequest, start_service: ServiceFactory, start_gateway: GatewayFactory, tokens: RoleTokens
) -> RunningGateway:
    """A gateway and its service with the same tokens file, or a gateway with one in front of a service without
    (so that every refusal is the gateway's own)."""
    if request.param == "gateway and service":
        return await start_gateway(await start_service(tokens_file=tokens.path, **SMALL_CAMERA))
    return await start_gateway(await start_service(**SMALL_CAMERA), tokens_file=tokens.path)


@pytest.mark.parametrize("role", list(Role), ids=lambda role: role.name.lower())
async def test_each_role_may_call_exactly_its_routes(checking: RunningGateway, tokens: RoleTokens, role: Role) -> None:
    gateway = checking
    taken = await gateway.http.post("/capture", headers=tokens.header(Role.ADMIN))
    filename = taken.json()["filename"]
    saved = await gateway.http.post("/presets", json={"preset_id": "saved"}, headers=tokens.header(Role.ADMIN))
    assert saved.status_code == 201, saved.text
    recorded = await gateway.http.post(
        "/recordings", json={"recording_id": "saved", "max_frames": 2}, headers=tokens.header(Role.ADMIN)
    )
    assert recorded.status_code == 201, recorded.text
    async with gateway.http.stream("GET", "/recordings/saved/events", headers=tokens.header(Role.ADMIN)) as events:
        await events.aread()  # until it ends
    final = (await gateway.http.get("/recordings/saved", headers=tokens.header(Role.ADMIN))).json()
    assert final["state"] == "completed", final
    file = final["files"][0]["name"]
    outcomes = {}
    for method, template in LOWEST_ROLE:
        path = template.replace("{filename}", filename).replace("{file}", file)
        status = await send(gateway.http, method, path, tokens.header(role))
        allowed = 200 <= status < 300 or PAST_THE_CHECK.get((method, template)) == status
        outcomes[(method, template)] = "allowed" if allowed else status
    expected = {key: "allowed" if role >= lowest else 403 for key, lowest in LOWEST_ROLE.items()}
    assert outcomes == expected


@pytest.mark.parametrize(
    "authorization",
    [None, "Bearer not-a-token", "Bearer", "Basic dXNlcjpwYXNz", "Bearer two words", "no-scheme", "one-more"],
)
async def test_missing_wrong_and_malformed_tokens_are_401_alike(
    guarded: RunningGateway, tokens: RoleTokens, authorization: str | None
) -> None:
    admin = tokens.token(Role.ADMIN)
    authorization = {"no-scheme": admin, "one-more": f"Bearer {admin}x"}.get(authorization or "", authorization)
    headers = {"Authorization": authorization} if authorization is not None else {}
    for method, path in (("GET", "/settings"), ("POST", "/capture"), ("GET", "/stream.mjpg")):
        response = await guarded.http.request(method, path, headers=headers)
        assert response.status_code == 401
        assert response.headers["www-authenticate"] == "Bearer"
        assert response.json() == {"detail": UNAUTHENTICATED_MESSAGE, "code": None, "reason": None}
    assert list(guarded.service.captures.glob("*")) == []


async def test_two_authorization_headers_are_refused(guarded: RunningGateway, tokens: RoleTokens) -> None:
    header = tokens.header(Role.ADMIN)["Authorization"]
    response = await guarded.http.get("/settings", headers=[("Authorization", header), ("Authorization", header)])
    assert response.status_code == 401


async def test_health_the_page_shells_and_their_files_are_open(guarded: RunningGateway) -> None:
    for path in OPEN_PATHS:
        response = await guarded.http.get(path)
        assert response.status_code == 200, path
    assert (await guarded.http.get("/health")).json()["status"] == "healthy"  # its gRPC health call needs none


async def test_a_client_that_fails_too_often_is_refused_unchecked(
    start_service: ServiceFactory,
    start_gateway: GatewayFactory,
    tokens: RoleTokens,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.INFO)
    service = await start_service(tokens_file=tokens.path, auth_max_failures=3, **SMALL_CAMERA)
    gateway = await start_gateway(service)
    # Clients behind a local proxy, told apart by X-Forwarded-For (uvicorn trusts it from 127.0.0.1).
    guesser, other = {"X-Forwarded-For": "10.0.0.66"}, {"X-Forwarded-For": "10.0.0.7"}
    for _ in range(3):
        assert (
            await gateway.http.get("/settings", headers={**guesser, "Authorization": "Bearer x"})
        ).status_code == 401
    valid = tokens.header(Role.VIEWER)
    assert (await gateway.http.get("/settings", headers={**guesser, **valid})).status_code == 401  # unchecked
    for _ in range(20):
        await gateway.http.get("/settings", headers={**guesser, "Authorization": "Bearer x"})
    assert (await gateway.http.get("/settings", headers={**other, **valid})).status_code == 200  # others served
    assert (await gateway.http.get("/health", headers=guesser)).status_code == 200
    lines = [record.getMessage() for record in caplog.records if "failed token checks" in record.getMessage()]
    assert len(lines) == 1 and lines[0].startswith("client 10.0.0.66: 3 failed token checks"), lines


async def test_the_callers_token_is_what_reaches_grpc(
    start_service: ServiceFactory, start_gateway: GatewayFactory, tokens: RoleTokens
) -> None:
    """A gateway that checks nothing itself still needs the caller's token: the service checks what it forwards."""
    service = await start_service(tokens_file=tokens.path, **SMALL_CAMERA)
    gateway = await start_gateway(service, tokens_file=None)
    assert (await gateway.http.get("/settings", headers=tokens.header(Role.VIEWER))).status_code == 200
    refused = await gateway.http.get("/settings")
    assert refused.status_code == 401 and refused.headers["www-authenticate"] == "Bearer"
    assert (
        await gateway.http.put("/settings", json={"exposure": 3.0}, headers=tokens.header(Role.VIEWER))
    ).status_code == 403
    async with gateway.http.stream("GET", "/stream.mjpg", headers=tokens.header(Role.VIEWER)) as response:
        assert response.status_code == 200
    assert (await gateway.http.get("/health")).json()["status"] == "healthy"


# -- HTTPS --------------------------------------------------------------------------------------------------


async def test_https_serves_clients_that_trust_its_ca_only(
    start_gateway: GatewayFactory, tls: TlsFiles, clients: Callable[..., httpx.AsyncClient]
) -> None:
    gateway = await start_gateway(**tls.server_settings())
    assert gateway.url.startswith("https://127.0.0.1:")
    assert (await clients(gateway.url, trusting(tls.ca.cert_pem)).get("/health")).status_code == 200
    localhost = gateway.url.replace("127.0.0.1", "localhost")
    assert (await clients(localhost, trusting(tls.ca.cert_pem)).get("/settings")).status_code == 200
    with pytest.raises(httpx.ConnectError, match="CERTIFICATE_VERIFY_FAILED"):
        await clients(gateway.url, trusting(CertificateAuthority("another CA").cert_pem)).get("/health")
    with pytest.raises(httpx.RemoteProtocolError):  # plain HTTP to the HTTPS port
        await clients(gateway.url.replace("https", "http")).get("/health")


async def test_an_expired_certificate_is_refused_by_clients(
    start_gateway: GatewayFactory, tls: TlsFiles, clients: Callable[..., httpx.AsyncClient], tmp_path: Path
) -> None:
    cert, key = tls.ca.issue("expired", expired=True).write(tmp_path / "expired")
    gateway = await start_gateway(tls_cert_file=cert, tls_key_file=key)
    with pytest.raises(httpx.ConnectError, match="certificate has expired"):
        await clients(gateway.url, trusting(tls.ca.cert_pem)).get("/health")


async def test_mutual_tls_requires_a_client_certificate_from_the_client_ca(
    start_gateway: GatewayFactory, tls: TlsFiles, clients: Callable[..., httpx.AsyncClient], tmp_path: Path
) -> None:
    gateway = await start_gateway(**tls.server_settings(mutual=True))
    assert (await clients(gateway.url, trusting(tls.ca.cert_pem, client=tls)).get("/settings")).status_code == 200
    stranger = tls_files(tmp_path / "stranger")
    for context in (trusting(tls.ca.cert_pem), trusting(tls.ca.cert_pem, client=stranger)):
        with pytest.raises((httpx.ConnectError, httpx.ReadError, httpx.RemoteProtocolError)):
            await clients(gateway.url, context).get("/settings")


def served_serial(port: int, ca: bytes) -> int:
    """The serial number of the certificate the HTTPS server on ``port`` presents to a new connection."""
    context = trusting(ca)
    with (
        socket.create_connection(("127.0.0.1", port), timeout=10) as raw,
        context.wrap_socket(raw, server_hostname="localhost") as tls_socket,
    ):
        der = tls_socket.getpeercert(binary_form=True)
    assert der is not None
    return x509.load_der_x509_certificate(der).serial_number


async def test_replaced_certificate_files_serve_new_connections_without_a_restart(
    start_gateway: GatewayFactory, tls: TlsFiles, clients: Callable[..., httpx.AsyncClient]
) -> None:
    gateway = await start_gateway(**tls.server_settings())
    before = clients(gateway.url, trusting(tls.ca.cert_pem))
    assert (await before.get("/health")).status_code == 200
    assert await asyncio.to_thread(served_serial, gateway.port, tls.ca.cert_pem) == tls.server.serial
    new_ca = CertificateAuthority("next year's CA")
    renewed = new_ca.issue("renewed server")
    tls.server_cert.write_bytes(renewed.cert_pem)  # half-done: the old pair is still served
    assert await asyncio.to_thread(served_serial, gateway.port, tls.ca.cert_pem) == tls.server.serial
    tls.server_key.write_bytes(renewed.key_pem)
    assert await asyncio.to_thread(served_serial, gateway.port, new_ca.cert_pem) == renewed.serial
    assert (await clients(gateway.url, trusting(new_ca.cert_pem)).get("/health")).status_code == 200
    assert (await before.get("/health")).status_code == 200  # its connection, made before, goes on


async def test_https_with_tokens(
    start_service: ServiceFactory,
    start_gateway: GatewayFactory,
    tls: TlsFiles,
    tokens: RoleTokens,
    clients: Callable[..., httpx.AsyncClient],
) -> None:
    service = await start_service(tokens_file=tokens.path, **SMALL_CAMERA)
    gateway = await start_gateway(service, **tls.server_settings(mutual=True))
    http = clients(gateway.url, trusting(tls.ca.cert_pem, client=tls))
    assert (await http.post("/capture", headers=tokens.header(Role.OPERATOR))).status_code == 200
    assert (await http.post("/capture")).status_code == 401


async def test_a_connection_that_never_completes_its_handshake_is_closed(
    start_gateway: GatewayFactory, tls: TlsFiles
) -> None:
    gateway = await start_gateway(rest_read_timeout_s=0.5, **tls.server_settings())
    reader, writer = await asyncio.open_connection("127.0.0.1", gateway.port)
    started = asyncio.get_running_loop().time()
    assert await asyncio.wait_for(reader.read(), timeout=10) == b""  # closed by the gateway, nothing sent
    assert asyncio.get_running_loop().time() - started < 5
    writer.close()


async def test_the_openapi_document_says_which_operations_need_which_token(guarded: RunningGateway) -> None:
    document = (await guarded.http.get("/openapi.json")).json()
    assert document["components"]["securitySchemes"]["bearer"] == {
        "type": "http",
        "scheme": "bearer",
        "description": document["components"]["securitySchemes"]["bearer"]["description"],
    }
    assert "ErrorBody" in document["components"]["schemas"]
    for (method, path), lowest in LOWEST_ROLE.items():
        operation = document["paths"][path][method.lower()]
        assert operation["security"] == [{"bearer": []}], (method, path)
        assert f"role **{lowest.name.lower()}**" in operation["description"]
        assert {"401", "403"} <= set(operation["responses"])
    assert "security" not in document["paths"]["/health"]["get"]
    schemathesis.openapi.from_dict(document)  # still a valid document


async def test_without_tokens_the_openapi_document_declares_none(gateway: RunningGateway) -> None:
    document = (await gateway.http.get("/openapi.json")).json()
    assert "securitySchemes" not in document.get("components", {})
