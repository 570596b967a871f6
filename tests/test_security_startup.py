"""Security settings in whole processes: listening beyond loopback needs TLS and tokens (or the explicit opt-in),
unusable TLS or tokens files stop start-up with one line (exit status 78), one token and one client certificate
work on both ports (the in-process gateway and a gateway alone), and ``camera-grpc token add``."""

from __future__ import annotations

import asyncio
import os
import re
import ssl
import subprocess
import sys
from pathlib import Path

import grpc
import httpx
import pytest

from camera_grpc.auth import Role, TokenStore, new_token, parse_tokens, token_line
from camera_grpc.cli import EXIT_CONFIG
from camera_grpc.config import ConfigurationError, check_network_exposure, is_loopback, load_settings
from camera_grpc.gen.camera.v1 import camera_pb2 as pb
from camera_grpc.gen.camera.v1 import camera_pb2_grpc
from tests.support import FAST_CAMERA, ServiceProcess, environment, eventually
from tests.support.certs import CertificateAuthority, TlsFiles, tls_files
from tests.support.tokens import role_tokens


def start(tmp_path: Path, **settings: object) -> ServiceProcess:
    env = environment({**FAST_CAMERA, "image_save_path": tmp_path / "captures", **settings})
    return ServiceProcess(env, cwd=tmp_path)


def finish(process: ServiceProcess) -> tuple[int, list[str]]:
    """Exit status and log lines of a process that stops by itself."""
    status = process.process.wait(30)
    process.stop()
    return status, process.lines


@pytest.mark.parametrize(("variable", "value"), [("GRPC_HOST", "0.0.0.0"), ("HOST", "0.0.0.0")])
def test_listening_beyond_loopback_without_tls_and_tokens_stops_start_up_with_one_line(
    tmp_path: Path, variable: str, value: str
) -> None:
    with start(tmp_path, **{variable.lower(): value}) as process:
        status, lines = finish(process)
    assert status == EXIT_CONFIG, lines
    assert len(lines) == 1, lines
    assert lines[0].startswith(f"camera-grpc: {variable}={value} listens beyond this machine without TLS"), lines
    assert "ALLOW_INSECURE_NETWORK=true" in lines[0]
    assert not (tmp_path / "captures").exists()  # nothing was started


def test_the_opt_in_lets_it_start_with_a_warning(tmp_path: Path) -> None:
    with start(tmp_path, grpc_host="0.0.0.0", allow_insecure_network=True) as process:
        process.wait_listening()
        assert process.stop() == 0
    assert "WARNING camera_grpc.service: GRPC_HOST=0.0.0.0 listens beyond this machine" in process.log


def test_tls_and_tokens_let_it_listen_beyond_loopback(tmp_path: Path) -> None:
    files = tls_files(tmp_path / "tls")
    tokens = tmp_path / "tokens"
    tokens.write_text(token_line("ops", Role.ADMIN, new_token()))
    with start(tmp_path, grpc_host="0.0.0.0", tokens_file=tokens, **files.server_settings()) as process:
        process.wait_listening()
        assert process.stop() == 0
    assert "WARNING" not in process.log, process.log


def test_only_loopback_addresses_count_as_loopback() -> None:
    assert all(is_loopback(host) for host in ("127.0.0.1", "127.1.2.3", "::1", "[::1]", "localhost", "LOCALHOST"))
    assert not any(is_loopback(host) for host in ("0.0.0.0", "::", "", "10.0.0.5", "camera.lab", "localhost.evil"))


def test_the_check_names_what_is_missing(tmp_path: Path) -> None:
    tokens = tmp_path / "tokens"
    tokens.write_text("")
    settings = load_settings(None, host="0.0.0.0", tokens_file=tokens)
    with pytest.raises(ConfigurationError, match=r"^HOST=0.0.0.0 listens beyond this machine without TLS \("):
        check_network_exposure(settings)
    assert check_network_exposure(settings, rest=False) is None  # the gateway is not served: HOST does not matter


@pytest.mark.parametrize(
    ("problem", "expected"),
    [
        ("key without certificate", "TLS_KEY_FILE is set but TLS_CERT_FILE is not"),
        ("missing file", "invalid TLS_CERT_FILE="),
        ("client CA without TLS", "TLS_CLIENT_CA_FILE is set without TLS_CERT_FILE"),
        ("key of another certificate", "invalid TLS_KEY_FILE="),
        ("not a certificate", "invalid TLS_CERT_FILE="),
        ("malformed tokens file", "invalid TOKENS_FILE="),
    ],
)
def test_unusable_tls_or_tokens_files_stop_start_up_with_one_line(tmp_path: Path, problem: str, expected: str) -> None:
    files = tls_files(tmp_path / "tls")
    other_key = CertificateAuthority().issue("other").write(tmp_path / "other")[1]
    settings: dict[str, object] = {
        "key without certificate": {"tls_key_file": files.server_key},
        "missing file": {**files.server_settings(), "tls_cert_file": tmp_path / "nowhere.pem"},
        "client CA without TLS": {"tls_client_ca_file": files.ca_file},
        "key of another certificate": {**files.server_settings(), "tls_key_file": other_key},
        "not a certificate": {**files.server_settings(), "tls_cert_file": files.server_key},
        "malformed tokens file": {"tokens_file": files.ca_file},
    }[problem]
    with start(tmp_path, **settings) as process:
        status, lines = finish(process)
    assert status == EXIT_CONFIG, lines
    assert len(lines) == 1 and lines[0].startswith(f"camera-grpc: {expected}"), lines
    assert "BEGIN" not in lines[0]  # no key material or file contents in the message


# -- the whole service, as a process ---------------------------------------------------------------------------

REST_LISTENING = re.compile(r"REST gateway listening on (https?)://127\.0\.0\.1:(\d+)")


def rest_port(process: ServiceProcess) -> int:
    match = REST_LISTENING.search(process.log)
    assert match is not None and match.group(1) == "https", process.log
    return int(match.group(2))


async def call_both_ports(files: TlsFiles, grpc_port: int, http_port: int, token: str) -> None:
    """GetSettings over gRPC and GET /settings over HTTPS with ``token`` and the client certificate; refused without
    the token on both."""
    credentials = grpc.ssl_channel_credentials(files.ca.cert_pem, files.client.key_pem, files.client.cert_pem)
    async with grpc.aio.secure_channel(f"127.0.0.1:{grpc_port}", credentials) as channel:
        stub = camera_pb2_grpc.CameraServiceStub(channel)
        metadata = (("authorization", f"Bearer {token}"),)
        assert (await stub.GetSettings(pb.GetSettingsRequest(), metadata=metadata, timeout=10)).connected
        with pytest.raises(grpc.aio.AioRpcError) as caught:
            await stub.GetSettings(pb.GetSettingsRequest(), timeout=10)
        assert caught.value.code() is grpc.StatusCode.UNAUTHENTICATED
    context = ssl.create_default_context(cadata=files.ca.cert_pem.decode("ascii"))
    context.load_cert_chain(files.client_cert, files.client_key)
    async with httpx.AsyncClient(base_url=f"https://localhost:{http_port}", verify=context, timeout=30) as http:
        response = await http.get("/settings", headers={"Authorization": f"Bearer {token}"})
        assert response.status_code == 200 and response.json()["connected"] is True, response.text
        assert (await http.get("/settings")).status_code == 401
        async with http.stream("GET", "/stream.mjpg", headers={"Authorization": f"Bearer {token}"}) as stream:
            assert stream.status_code == 200
        assert (await http.get("/health/ready")).json()["status"] == "healthy"
        assert (await http.get("/metrics")).status_code in (401, 404)  # needs a token (404: no metrics served)


async def test_one_token_and_one_client_certificate_work_on_both_ports_of_the_service(tmp_path: Path) -> None:
    """The in-process gateway reaches its own gRPC server (mutual TLS, tokens) and forwards the caller's token."""
    files = tls_files(tmp_path / "tls")
    tokens = role_tokens(tmp_path / "tokens")
    with start(tmp_path, tokens_file=tokens.path, **files.server_settings(mutual=True)) as process:
        grpc_port = await asyncio.to_thread(process.wait_listening)
        await call_both_ports(files, grpc_port, rest_port(process), tokens.token(Role.VIEWER))
        assert process.stop() == 0
    assert "security: mutual TLS, tokens from" in process.log


async def test_the_private_socket_of_the_gateway_is_removed_at_exit(tmp_path: Path) -> None:
    tokens = role_tokens(tmp_path / "tokens")
    env_tmp = tmp_path / "tmp"
    env_tmp.mkdir()
    env = environment({**FAST_CAMERA, "image_save_path": tmp_path / "captures", "tokens_file": tokens.path})
    with ServiceProcess({**env, "TMPDIR": str(env_tmp)}, cwd=tmp_path) as process:
        await asyncio.to_thread(process.wait_listening)
        folders = list(env_tmp.iterdir())
        assert len(folders) == 1 and (folders[0] / "grpc.sock").is_socket()
        assert folders[0].stat().st_mode & 0o077 == 0  # this user only
        assert process.stop() == 0
    assert list(env_tmp.iterdir()) == []


async def test_a_gateway_alone_reaches_a_service_with_mutual_tls(tmp_path: Path) -> None:
    files = tls_files(tmp_path / "tls")
    tokens = role_tokens(tmp_path / "tokens")
    service_env = {"rest_enabled": False, "tokens_file": tokens.path, **files.server_settings(mutual=True)}
    with start(tmp_path, **service_env) as service:
        grpc_port = await asyncio.to_thread(service.wait_listening)
        gateway_env = environment({"tokens_file": tokens.path, **files.server_settings(mutual=True)})
        tls_options = ("--ca", str(files.ca_file), "--cert", str(files.client_cert), "--key", str(files.client_key))
        target = f"localhost:{grpc_port}"
        with ServiceProcess(gateway_env, cwd=tmp_path, args=("gateway", "--target", target, *tls_options)) as gateway:
            await eventually(lambda: REST_LISTENING.search(gateway.log) is not None, what="the gateway listening")
            await eventually(lambda: "camera ready (SERVING)" in gateway.log, what="its health check over TLS")
            await call_both_ports(files, grpc_port, rest_port(gateway), tokens.token(Role.OPERATOR))
            assert gateway.stop() == 0
        assert service.stop() == 0


def test_the_gateway_takes_no_token_of_its_own(tmp_path: Path) -> None:
    with ServiceProcess({}, cwd=tmp_path, args=("gateway", "--token", "x")) as process:
        status, _ = finish(process)
    assert status == 2 and "--token does not apply to gateway" in process.log


# -- camera-grpc token add ---------------------------------------------------------------------------------------


def run_token_add(tmp_path: Path, *args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    base = {key: value for key, value in os.environ.items() if key in ("PATH", "HOME", "LANG")}
    return subprocess.run(
        [sys.executable, "-m", "camera_grpc", "--env-file", "/dev/null", "token", "add", *args],
        capture_output=True,
        text=True,
        env={**base, **(env or {})},
        cwd=tmp_path,
        timeout=60,
    )


def test_token_add_prints_the_token_once_and_keeps_only_its_digest(tmp_path: Path) -> None:
    path = tmp_path / "secrets" / "tokens"
    path.parent.mkdir()
    first = run_token_add(tmp_path, "nest-backend", "operator", "--file", str(path))
    assert first.returncode == 0, first.stderr
    token = first.stdout.strip()
    assert len(first.stdout.splitlines()) == 1 and len(token) >= 43  # 256 bits, URL-safe base64
    assert "only time it is shown" in first.stderr and token not in first.stderr
    assert token not in path.read_text()
    assert path.stat().st_mode & 0o777 == 0o600
    second = run_token_add(tmp_path, "viewer-page", "viewer", env={"TOKENS_FILE": str(path)})  # TOKENS_FILE
    assert second.returncode == 0, second.stderr
    holders = {holder.name: holder.role for _, holder in parse_tokens(path.read_text())}
    assert holders == {"nest-backend": Role.OPERATOR, "viewer-page": Role.VIEWER}
    store = TokenStore(path)
    assert store.authenticate(token).role is Role.OPERATOR  # type: ignore[union-attr]
    assert store.authenticate(second.stdout.strip()).name == "viewer-page"  # type: ignore[union-attr]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("ops", "boss"), "unknown role 'boss'"),
        (("two words", "viewer"), "a token's name is one word"),
        (("nest-backend", "admin"), "has a token named 'nest-backend' already"),
    ],
)
def test_token_add_refuses_what_it_cannot_add(tmp_path: Path, args: tuple[str, ...], message: str) -> None:
    path = tmp_path / "tokens"
    path.write_text(token_line("nest-backend", Role.OPERATOR, new_token()))
    before = path.read_text()
    result = run_token_add(tmp_path, *args, "--file", str(path))
    assert result.returncode == 2 and message in result.stderr, result.stderr
    assert result.stdout == "" and path.read_text() == before
    assert "no tokens file" in run_token_add(tmp_path, "ops", "admin").stderr
