"""camera_grpc.client.credentials: what the clients refuse before connecting, and the hints they give.

The real TLS handshakes and tokens against a real service are in tests/client/test_security.py.
"""

from __future__ import annotations

from pathlib import Path

import grpc
import pytest

from camera_grpc.client import CameraClient, CameraRpcError, CredentialsError, Security, is_loopback_target
from camera_grpc.client.cli import client_credentials
from camera_grpc.client.credentials import channel_credentials, check_token, from_environment, read_pem
from camera_grpc.client.errors import security_hint
from tests.support.certs import tls_files


@pytest.mark.parametrize(
    ("target", "loopback"),
    [
        ("127.0.0.1:50051", True),
        ("127.8.9.10:50051", True),
        ("localhost:50051", True),
        ("LOCALHOST.:50051", True),
        ("[::1]:50051", True),
        ("::1", True),
        ("ipv4:127.0.0.1:50051,127.0.0.2:50051", True),
        ("ipv6:[::1]:50051", True),
        ("dns:///localhost:50051", True),
        ("dns://8.8.8.8/localhost:50051", True),
        ("unix:/run/camera.sock", True),
        ("unix-abstract:camera", True),
        ("10.0.0.5:50051", False),
        ("camera.lab:50051", False),
        ("localhost.evil.example:50051", False),
        ("[2001:db8::1]:50051", False),
        ("ipv4:127.0.0.1:50051,10.0.0.5:50051", False),
        ("dns:///camera.lab:50051", False),
        ("0.0.0.0:50051", False),
    ],
)
def test_a_loopback_target_is_one_whose_every_address_is_on_this_host(target: str, loopback: bool) -> None:
    assert is_loopback_target(target) is loopback


def test_a_token_goes_in_plaintext_only_to_a_loopback_target() -> None:
    with pytest.raises(CredentialsError, match=r"'camera\.lab:50051' is not a loopback address: use TLS"):
        channel_credentials("camera.lab:50051", token="secret")
    with pytest.raises(CredentialsError, match="not a loopback address"):
        CameraClient("10.0.0.5:50051", token="secret")
    # Over loopback: gRPC's local credentials (plaintext, the peer checked to be local) with the token.
    assert isinstance(channel_credentials("127.0.0.1:50051", token="secret"), grpc.ChannelCredentials)
    assert isinstance(channel_credentials("unix:/run/camera.sock", token="secret"), grpc.ChannelCredentials)
    assert channel_credentials("camera.lab:50051") is None  # no TLS, no token: an insecure channel


def test_tls_credentials_need_readable_pem_files_and_both_halves_of_a_key_pair(tmp_path: Path) -> None:
    files = tls_files(tmp_path)
    assert channel_credentials("camera.lab:1", ca=files.ca_file, token="secret") is not None
    assert channel_credentials("camera.lab:1", ca=files.ca_file.read_bytes()) is not None  # PEM bytes work too
    both = {"cert": files.client_cert, "key": files.client_key}
    assert channel_credentials("camera.lab:1", ca=str(files.ca_file), **both) is not None
    with pytest.raises(CredentialsError, match="a client certificate needs its key too"):
        channel_credentials("camera.lab:1", ca=files.ca_file, cert=files.client_cert)
    with pytest.raises(CredentialsError, match="a client key needs its certificate too"):
        channel_credentials("camera.lab:1", ca=files.ca_file, key=files.client_key)
    with pytest.raises(CredentialsError, match=r"cannot read the CA certificate file '.*missing\.pem': No such file"):
        channel_credentials("camera.lab:1", ca=tmp_path / "missing.pem")
    with pytest.raises(CredentialsError, match=r"the CA certificate file .* is not a PEM certificate"):
        channel_credentials("camera.lab:1", ca=files.client_key)  # a key where a certificate belongs
    with pytest.raises(CredentialsError, match=r"the client key file .* is not a PEM private key"):
        channel_credentials("camera.lab:1", cert=files.client_cert, key=files.client_cert)
    with pytest.raises(CredentialsError, match="either credentials or ca"):
        channel_credentials("camera.lab:1", ca=files.ca_file, credentials=grpc.ssl_channel_credentials())
    assert read_pem(files.ca_file, "CA certificate") == files.ca.cert_pem


def test_a_token_is_one_word_of_visible_ascii() -> None:
    assert check_token("  abc-DEF_123=\n") == "abc-DEF_123="  # as read from a file
    for bad in ("", "   ", "two words", "tab\there", "new\nline", "caf\u00e9"):
        with pytest.raises(CredentialsError):
            check_token(bad)


def test_the_cli_takes_each_option_else_its_environment_variable(tmp_path: Path) -> None:
    environ = {"CAMERA_GRPC_CA": "env-ca.pem", "CAMERA_GRPC_TOKEN": "env-token", "CAMERA_GRPC_CERT": ""}
    assert from_environment(environ) == {"ca": "env-ca.pem", "cert": None, "key": None, "token": "env-token"}

    class Args:
        ca = "option-ca.pem"
        token = None

    assert client_credentials(Args(), environ) == {  # type: ignore[arg-type]
        "ca": "option-ca.pem",
        "cert": None,
        "key": None,
        "token": "env-token",
    }


def hint(code: grpc.StatusCode, details: str = "", **security: bool) -> str:
    return security_hint(code, details, Security(**security))


def test_failures_of_tls_and_tokens_get_a_hint_saying_what_the_client_presented() -> None:
    unavailable = grpc.StatusCode.UNAVAILABLE
    verify = "Tls handshake failed (TSI_PROTOCOL_FAILURE): SSL_ERROR_SSL: CERTIFICATE_VERIFY_FAILED: unable to get"
    assert "not signed by the CA given" in hint(unavailable, verify, tls=True)
    assert hint(unavailable, verify + " certificate has expired", tls=True) == "the service's certificate has expired"
    assert "give one (cert= and key=" in hint(unavailable, "ipv4:127.0.0.1:1: Socket closed", tls=True)
    assert "give its CA certificate" in hint(unavailable, "ipv4:127.0.0.1:1: Socket closed")
    assert "does it serve TLS" in hint(unavailable, "SSL_ERROR_SSL: WRONG_VERSION_NUMBER", tls=True)
    assert hint(unavailable, "Connection refused", tls=True) == ""  # down, not refused
    assert "no token was sent" in hint(grpc.StatusCode.UNAUTHENTICATED, "missing token")
    assert "did not accept the token" in hint(grpc.StatusCode.UNAUTHENTICATED, "", token=True)
    assert "role does not allow" in hint(grpc.StatusCode.PERMISSION_DENIED, "", token=True)
    assert hint(grpc.StatusCode.INVALID_ARGUMENT, "exposure_ms", token=True, tls=True) == ""
    error = CameraRpcError(grpc.StatusCode.UNAUTHENTICATED, "missing token", hint="no token was sent")
    assert str(error) == "UNAUTHENTICATED: missing token; no token was sent"
    assert (error.details, error.from_service) == ("missing token", False)


def test_the_client_says_what_its_channel_presents(tmp_path: Path) -> None:
    files = tls_files(tmp_path)
    cases = [
        ({}, Security()),
        ({"token": "t"}, Security(token=True)),
        ({"ca": files.ca_file}, Security(tls=True)),
        ({"ca": files.ca_file, "cert": files.client_cert, "key": files.client_key}, Security(True, True, False)),
        ({"credentials": grpc.ssl_channel_credentials(), "token": "t"}, Security(tls=True, token=True)),
    ]
    for arguments, expected in cases:
        client = CameraClient("127.0.0.1:1", **arguments)  # type: ignore[arg-type]
        assert client.security == expected, arguments
        client.close()
