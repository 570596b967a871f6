"""Start-up with security settings: listening beyond loopback needs TLS and tokens (or the explicit opt-in), and
unusable TLS or tokens files stop start-up with one line (exit status 78)."""

from __future__ import annotations

from pathlib import Path

import pytest

from camera_grpc.auth import Role, new_token, token_line
from camera_grpc.cli import EXIT_CONFIG
from camera_grpc.config import ConfigurationError, check_network_exposure, is_loopback, load_settings
from tests.support import FAST_CAMERA, ServiceProcess, environment
from tests.support.certs import CertificateAuthority, tls_files


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
