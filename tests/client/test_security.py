"""The Python clients and the CLI against real services with TLS, mutual TLS and tokens (issue 15).

Every service here is the real one (port 0, simulated camera) with certificates made for the test
(tests/support/certs.py) and a tokens file; the clients do real TLS handshakes. The service runs on the
test's event loop, so blocking-client calls and CLI processes run beside it.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar

import grpc
import pytest
from grpc_health.v1 import health_pb2

from camera_grpc.auth import Role, new_token, token_line
from camera_grpc.client import AsyncCameraClient, CameraClient, CameraRpcError
from camera_grpc.gen.camera.v1 import camera_pb2 as pb
from tests.client.test_cli_client import camera_grpc
from tests.support import RunningService, ServiceFactory
from tests.support.certs import CertificateAuthority, TlsFiles, tls_files

_T = TypeVar("_T")
#: A failed handshake must fail at once, not at the deadline.
FAST_FAILURE_S = 5.0


@dataclass
class Pki:
    """Certificates, tokens, and the settings of a service that uses them."""

    files: TlsFiles
    tokens_file: Path
    operator: str
    viewer: str
    other_ca: Path  #: a CA that signed nothing the services use

    def settings(self, *, tls: bool = True, mutual: bool = False) -> dict[str, object]:
        tls_settings = self.files.server_settings(mutual=mutual) if tls else {}
        return {**tls_settings, "tokens_file": self.tokens_file, "auth_max_failures": 1000}

    @property
    def ca(self) -> Path:
        return self.files.ca_file

    @property
    def client_pair(self) -> dict[str, Path]:
        return {"cert": self.files.client_cert, "key": self.files.client_key}


@pytest.fixture
def pki(tmp_path: Path) -> Pki:
    files = tls_files(tmp_path / "pki")
    operator, viewer = new_token(), new_token()
    tokens_file = tmp_path / "tokens"
    tokens_file.write_text(token_line("operator", Role.OPERATOR, operator) + token_line("viewer", Role.VIEWER, viewer))
    other_ca = CertificateAuthority("another CA").write(tmp_path / "pki" / "other-ca.pem")
    return Pki(files, tokens_file, operator, viewer, other_ca)


@pytest.fixture
async def tls_service(start_service: ServiceFactory, pki: Pki) -> RunningService:
    """TLS (its certificate for 127.0.0.1, localhost and ::1) and tokens."""
    return await start_service(**pki.settings())


def blocking(client_arguments: dict[str, object], use: Callable[[CameraClient], _T]) -> asyncio.Future[_T]:
    """Run ``use`` with a blocking client in a thread (the service runs on this loop)."""

    def run() -> _T:
        with CameraClient(**client_arguments) as camera:  # type: ignore[arg-type]
            return use(camera)

    return asyncio.ensure_future(asyncio.to_thread(run))


async def refusal(client_arguments: dict[str, object], use: Callable[[CameraClient], object]) -> CameraRpcError:
    with pytest.raises(CameraRpcError) as caught:
        await blocking(client_arguments, use)
    return caught.value


# -- TLS and tokens ------------------------------------------------------------------------------


async def test_with_tls_and_a_token_every_kind_of_call_works_in_both_clients(
    tls_service: RunningService, pki: Pki
) -> None:
    arguments = {"target": tls_service.address, "ca": pki.ca, "token": pki.operator}

    def scenario(camera: CameraClient) -> tuple[pb.CaptureResponse, pb.GetCaptureResponse, list[pb.FramesResponse]]:
        assert camera.get_settings().connected
        saved = camera.capture(exposure_ms=3.0, image_format=pb.IMAGE_FORMAT_PNG, include_image_data=True)
        stored = camera.get_capture(saved.filename)
        assert saved.filename in [entry.filename for entry in camera.list_captures().captures]
        with camera.frames(max_frames=3, encoding=pb.FRAME_ENCODING_JPEG, max_width=64) as frames:
            received = list(frames)
        return saved, stored, received

    saved, stored, frames = await blocking(arguments, scenario)
    assert stored.data == saved.image_data == (tls_service.captures / saved.filename).read_bytes()
    assert [frame.sequence_number for frame in frames] == [1, 2, 3]

    # asyncio, with the PEM given as bytes and the name the certificate has
    async with AsyncCameraClient(f"localhost:{tls_service.port}", ca=pki.ca.read_bytes(), token=pki.operator) as camera:
        applied = await camera.update_settings(gain_db=4.0)
        assert applied.gain_db == pytest.approx(4.0)
        async with camera.frames(max_frames=2, encoding=pb.FRAME_ENCODING_JPEG, max_width=64) as stream:
            assert [frame.sequence_number async for frame in stream] == [1, 2]
        assert (await camera.check_health()).status == health_pb2.HealthCheckResponse.SERVING


async def test_no_token_or_a_wrong_one_is_unauthenticated_and_the_error_says_which(
    tls_service: RunningService, pki: Pki
) -> None:
    missing = await refusal({"target": tls_service.address, "ca": pki.ca}, lambda camera: camera.get_settings())
    assert missing.code is grpc.StatusCode.UNAUTHENTICATED
    assert str(missing) == (
        "UNAUTHENTICATED: missing or invalid token; "
        "no token was sent, and the service requires one (token=, --token or CAMERA_GRPC_TOKEN)"
    )
    streamed = await refusal(
        {"target": tls_service.address, "ca": pki.ca}, lambda camera: next(camera.frames(max_frames=1))
    )
    assert streamed.code is grpc.StatusCode.UNAUTHENTICATED and "no token was sent" in streamed.hint
    wrong = await refusal(
        {"target": tls_service.address, "ca": pki.ca, "token": "not-a-token"}, lambda camera: camera.get_settings()
    )
    assert wrong.code is grpc.StatusCode.UNAUTHENTICATED
    assert wrong.hint == "the service did not accept the token (unknown, revoked or mistyped)"
    # Health stays open: no token needed.
    async with AsyncCameraClient(tls_service.address, ca=pki.ca) as camera:
        assert (await camera.check_health()).status == health_pb2.HealthCheckResponse.SERVING


async def test_a_viewers_token_reads_but_may_not_capture(tls_service: RunningService, pki: Pki) -> None:
    arguments = {"target": tls_service.address, "ca": pki.ca, "token": pki.viewer}
    assert (await blocking(arguments, lambda camera: camera.get_camera_info())).connected
    refused = await refusal(arguments, lambda camera: camera.capture(exposure_ms=2.0))
    assert refused.code is grpc.StatusCode.PERMISSION_DENIED
    assert refused.hint == "the token's role does not allow this call"
    assert list(tls_service.captures.glob("*")) == []


async def test_a_ca_that_did_not_sign_the_services_certificate_fails_at_once_saying_so(
    tls_service: RunningService, pki: Pki
) -> None:
    started = time.monotonic()
    error = await refusal(
        {"target": tls_service.address, "ca": pki.other_ca, "token": pki.operator}, lambda camera: camera.get_settings()
    )
    assert time.monotonic() - started < FAST_FAILURE_S
    assert error.code is grpc.StatusCode.UNAVAILABLE
    assert "CERTIFICATE_VERIFY_FAILED" in error.details
    assert error.hint.startswith("the service's certificate is not signed by the CA given")
    assert not error.from_service


async def test_a_plaintext_client_of_a_tls_service_is_told_to_give_its_ca(tls_service: RunningService) -> None:
    error = await refusal({"target": tls_service.address}, lambda camera: camera.get_settings())
    assert error.code is grpc.StatusCode.UNAVAILABLE
    assert error.hint == "the service closed the connection: if it serves TLS, give its CA certificate (--ca)"


async def test_an_expired_service_certificate_is_refused_saying_so(
    start_service: ServiceFactory, pki: Pki, tmp_path: Path
) -> None:
    cert, key = pki.files.ca.issue("expired server", expired=True).write(tmp_path / "expired")
    service = await start_service(**{**pki.settings(), "tls_cert_file": cert, "tls_key_file": key})
    error = await refusal(
        {"target": service.address, "ca": pki.ca, "token": pki.operator}, lambda camera: camera.get_settings()
    )
    assert error.code is grpc.StatusCode.UNAVAILABLE
    assert error.hint == "the service's certificate has expired"


async def test_mutual_tls_needs_a_client_certificate_of_the_services_ca(
    start_service: ServiceFactory, pki: Pki, tmp_path: Path
) -> None:
    service = await start_service(**pki.settings(mutual=True))
    base = {"target": service.address, "ca": pki.ca, "token": pki.operator}
    assert (await blocking({**base, **pki.client_pair}, lambda camera: camera.get_settings())).connected
    async with AsyncCameraClient(**base, **pki.client_pair) as camera:  # type: ignore[arg-type]
        assert (await camera.get_camera_info()).connected

    without = await refusal(base, lambda camera: camera.get_settings())
    assert without.code is grpc.StatusCode.UNAVAILABLE
    assert "if it asks for client certificates (mutual TLS), give one" in without.hint

    stranger_cert, stranger_key = (
        CertificateAuthority("another CA").issue("stranger", client=True).write(tmp_path / "stranger")
    )
    stranger = await refusal({**base, "cert": stranger_cert, "key": stranger_key}, lambda camera: camera.get_settings())
    assert stranger.code is grpc.StatusCode.UNAVAILABLE
    assert "was the client certificate issued by the CA the service trusts?" in stranger.hint


async def test_without_tls_a_token_goes_to_a_service_on_this_host(start_service: ServiceFactory, pki: Pki) -> None:
    service = await start_service(**pki.settings(tls=False))
    for target in (service.address, f"localhost:{service.port}"):
        assert (
            await blocking({"target": target, "token": pki.operator}, lambda camera: camera.get_settings())
        ).connected
    async with AsyncCameraClient(service.address, token=pki.viewer) as camera:
        assert (await camera.list_captures()).next_page_token == ""
    missing = await refusal({"target": service.address}, lambda camera: camera.get_settings())
    assert missing.code is grpc.StatusCode.UNAUTHENTICATED and "no token was sent" in missing.hint


# -- the command line --------------------------------------------------------------------------------


async def test_the_cli_takes_ca_cert_key_and_token_as_options_or_environment_variables(
    start_service: ServiceFactory, pki: Pki, tmp_path: Path
) -> None:
    tls = await start_service(**pki.settings())
    mutual = await start_service(**pki.settings(mutual=True))
    ca, token = str(pki.ca), pki.operator

    # options after the subcommand, or before it
    after = await camera_grpc(tmp_path, "info", "--target", tls.address, "--ca", ca, "--token", token)
    assert after.json()["connected"] is True
    before = await camera_grpc(tmp_path, "--ca", ca, "--token", token, "settings", "--target", tls.address)
    assert before.json()["connected"] is True

    # environment variables; the options win over them
    environment = {"CAMERA_GRPC_CA": ca, "CAMERA_GRPC_TOKEN": token}
    saved = (await camera_grpc(tmp_path, "capture", "--target", tls.address, env=environment)).json()
    assert (tls.captures / str(saved["filename"])).is_file()
    overridden = await camera_grpc(tmp_path, "info", "--target", tls.address, "--token", "wrong", env=environment)
    assert overridden.returncode == 1 and "did not accept the token" in overridden.stderr

    # mutual TLS with --cert and --key (or their variables); a stream too
    pair = ["--cert", str(pki.files.client_cert), "--key", str(pki.files.client_key)]
    watched = await camera_grpc(
        tmp_path, "watch", "--target", mutual.address, "--frames", "3", "--encoding", "jpeg", *pair, env=environment
    )
    assert watched.returncode == 0, watched.stderr
    assert watched.stdout.startswith("3 frames in ")
    by_environment = {
        **environment,
        "CAMERA_GRPC_CERT": str(pki.files.client_cert),
        "CAMERA_GRPC_KEY": str(pki.files.client_key),
    }
    assert (await camera_grpc(tmp_path, "info", "--target", mutual.address, env=by_environment)).returncode == 0


async def test_the_cli_says_in_one_line_why_it_was_refused(
    start_service: ServiceFactory, pki: Pki, tmp_path: Path
) -> None:
    tls = await start_service(**pki.settings())

    missing = await camera_grpc(tmp_path, "info", "--target", tls.address, "--ca", str(pki.ca))
    assert missing.returncode == 1
    assert error_lines(missing.stderr) == [
        "camera-grpc: UNAUTHENTICATED: missing or invalid token; "
        "no token was sent, and the service requires one (token=, --token or CAMERA_GRPC_TOKEN)"
    ]

    wrong_ca = await camera_grpc(
        tmp_path, "info", "--target", tls.address, "--ca", str(pki.other_ca), "--token", pki.operator
    )
    assert wrong_ca.returncode == 1
    [line] = error_lines(wrong_ca.stderr)
    assert line.startswith("camera-grpc: UNAVAILABLE: ") and "CERTIFICATE_VERIFY_FAILED" in line
    assert line.endswith(
        "; the service's certificate is not signed by the CA given (ca=, --ca or CAMERA_GRPC_CA), "
        "or not valid for this host name"
    )

    # credentials that cannot work: status 2, before connecting
    for arguments, message in (
        (["--token", pki.operator, "--target", "192.0.2.1:50051"], "is not a loopback address: use TLS"),
        (["--ca", str(tmp_path / "missing.pem")], "cannot read the CA certificate file"),
        (["--ca", str(pki.ca), "--cert", str(pki.files.client_cert)], "a client certificate needs its key too"),
    ):
        refused = await camera_grpc(tmp_path, "info", *arguments)
        assert refused.returncode == 2, refused.stderr
        assert message in refused.stderr


def error_lines(stderr: str) -> list[str]:
    """The command's own lines on stderr (gRPC's C core may log a failed handshake on lines of its own)."""
    return [line for line in stderr.splitlines() if line.startswith("camera-grpc:")]
