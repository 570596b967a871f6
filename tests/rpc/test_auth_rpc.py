"""gRPC transport security and identity: TLS (real handshakes, mutual TLS, rotation), tokens and roles.

Certificates are made at test time (tests/support/certs.py). Every call goes over a real socket.
"""

from __future__ import annotations

import asyncio
import logging
import os
import socket
import ssl
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path

import grpc
import pytest
from cryptography import x509
from grpc_health.v1 import health_pb2, health_pb2_grpc
from grpc_reflection.v1alpha import reflection_pb2, reflection_pb2_grpc

from camera_grpc.auth import Role
from camera_grpc.client import channel_options
from camera_grpc.contract import CAMERA_SERVICE, CAMERA_SERVICE_NAME
from camera_grpc.gen.camera.v1 import camera_pb2 as pb
from camera_grpc.gen.camera.v1 import camera_pb2_grpc
from camera_grpc.rpc.auth import (
    METHOD_ROLES,
    OPEN,
    PERMISSION_DENIED_MESSAGE,
    UNAUTHENTICATED_MESSAGE,
    peer_address,
)
from tests.support import ServiceFactory
from tests.support.certs import CertificateAuthority, TlsFiles, tls_files
from tests.support.tokens import RoleTokens, role_tokens

SERVING = health_pb2.HealthCheckResponse.SERVING
#: Small frames: these tests are about who may call, not about images.
SMALL_CAMERA = {"simulated_width": 64, "simulated_height": 48}

#: Who may call what, as the README's Security section says (independent of camera_grpc.rpc.auth's table):
#: viewers read, operators also capture and change settings, admins may do everything.
LOWEST_ROLE: dict[str, Role] = {
    "GetSettings": Role.VIEWER,
    "GetCameraInfo": Role.VIEWER,
    "Frames": Role.VIEWER,
    "LiveFrames": Role.VIEWER,
    "ListCaptures": Role.VIEWER,
    "GetCapture": Role.VIEWER,
    "WatchSettings": Role.VIEWER,
    "ListPresets": Role.VIEWER,
    "GetPreset": Role.VIEWER,
    "GetIoStatus": Role.VIEWER,
    "WatchEvents": Role.VIEWER,
    "Capture": Role.OPERATOR,
    "SoftwareTrigger": Role.OPERATOR,
    "UpdateSettings": Role.OPERATOR,
    "CreatePreset": Role.OPERATOR,
    "ApplyPreset": Role.OPERATOR,
    "LoadSettingsFromCamera": Role.OPERATOR,
    "DeleteCapture": Role.OPERATOR,
    "DeletePreset": Role.ADMIN,
    "SaveSettingsToCamera": Role.ADMIN,
}
#: How long the role test's WatchEvents call stays open when it is allowed, seconds.
WATCH_EVENTS_WAIT_S = 0.3
#: Presets the role test makes (as admin) before calling every RPC: one to read and apply, one to delete.
KEPT_PRESET = "presets/kept"
DOOMED_PRESET = "presets/doomed"


# -- helpers ----------------------------------------------------------------------------------------------


@pytest.fixture
def tokens(tmp_path: Path) -> RoleTokens:
    return role_tokens(tmp_path / "tokens")


@pytest.fixture
def tls(tmp_path: Path) -> TlsFiles:
    return tls_files(tmp_path / "tls")


@pytest.fixture
async def channels() -> AsyncIterator[Callable[..., grpc.aio.Channel]]:
    """Open channels (closed at teardown): ``open(address, credentials=None)``."""
    opened: list[grpc.aio.Channel] = []

    def open_channel(address: str, credentials: grpc.ChannelCredentials | None = None) -> grpc.aio.Channel:
        options = channel_options()
        channel = (
            grpc.aio.secure_channel(address, credentials, options=options)
            if credentials is not None
            else grpc.aio.insecure_channel(address, options=options)
        )
        opened.append(channel)
        return channel

    yield open_channel
    for channel in opened:
        await channel.close()


def credentials(files: TlsFiles, *, client: bool = False, ca: bytes | None = None) -> grpc.ChannelCredentials:
    """Trust ``files``' CA (or ``ca``); present its client certificate if ``client``."""
    return grpc.ssl_channel_credentials(
        root_certificates=ca if ca is not None else files.ca.cert_pem,
        private_key=files.client.key_pem if client else None,
        certificate_chain=files.client.cert_pem if client else None,
    )


async def settings_of(channel: grpc.aio.Channel, metadata: tuple[tuple[str, str], ...] = ()) -> pb.GetSettingsResponse:
    return await camera_pb2_grpc.CameraServiceStub(channel).GetSettings(
        pb.GetSettingsRequest(), metadata=metadata, timeout=10
    )


async def health_of(channel: grpc.aio.Channel) -> int:
    response = await health_pb2_grpc.HealthStub(channel).Check(
        health_pb2.HealthCheckRequest(service=CAMERA_SERVICE_NAME), timeout=10
    )
    return response.status


async def refused(call: Awaitable[object]) -> grpc.aio.AioRpcError:
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await call
    return caught.value


def served_serial(port: int, ca: bytes) -> int:
    """The serial number of the certificate the TLS server on ``port`` presents to a new connection."""
    context = ssl.create_default_context(cadata=ca.decode("ascii"))  # trusts ``ca`` only
    context.set_alpn_protocols(["h2"])
    with (
        socket.create_connection(("127.0.0.1", port), timeout=10) as raw,
        context.wrap_socket(raw, server_hostname="localhost") as tls_socket,
    ):
        der = tls_socket.getpeercert(binary_form=True)
    assert der is not None
    return x509.load_der_x509_certificate(der).serial_number


# -- the role table ---------------------------------------------------------------------------------------


def test_every_rpc_of_the_contract_has_a_role_and_the_table_names_no_other() -> None:
    camera_methods = {f"/{CAMERA_SERVICE.full_name}/{method.name}" for method in CAMERA_SERVICE.methods}
    missing = sorted(method for method in camera_methods if not isinstance(METHOD_ROLES.get(method), Role))
    assert not missing, f"RPCs without a role (they would be refused to every token): {missing}"
    stale = sorted(
        method
        for method in METHOD_ROLES
        if method.startswith(f"/{CAMERA_SERVICE_NAME}/") and method not in camera_methods
    )
    assert not stale, f"roles for RPCs the contract does not have: {stale}"
    untested = {method.name for method in CAMERA_SERVICE.methods} - set(LOWEST_ROLE)
    assert not untested, f"say who may call {sorted(untested)} in LOWEST_ROLE (and add a call to call_rpc)"


async def test_every_method_the_server_offers_has_an_entry(
    start_service: ServiceFactory, tokens: RoleTokens, channels: Callable[..., grpc.aio.Channel]
) -> None:
    """What reflection lists is what the server serves: each of its methods is in the table, health open."""
    service = await start_service(tokens_file=tokens.path, **SMALL_CAMERA)
    stub = reflection_pb2_grpc.ServerReflectionStub(channels(service.address))

    async def ask(request: reflection_pb2.ServerReflectionRequest) -> reflection_pb2.ServerReflectionResponse:
        async for response in stub.ServerReflectionInfo(iter([request]), metadata=tokens.metadata(Role.VIEWER)):
            return response
        raise AssertionError("no reflection response")

    listed = await ask(reflection_pb2.ServerReflectionRequest(list_services=""))
    services = [entry.name for entry in listed.list_services_response.service]
    assert CAMERA_SERVICE_NAME in services and "grpc.health.v1.Health" in services
    from google.protobuf import descriptor_pb2

    offered = set()
    for name in services:
        found = await ask(reflection_pb2.ServerReflectionRequest(file_containing_symbol=name))
        for raw in found.file_descriptor_response.file_descriptor_proto:
            file = descriptor_pb2.FileDescriptorProto.FromString(raw)
            for service_proto in file.service:
                full = f"{file.package}.{service_proto.name}" if file.package else service_proto.name
                if full == name:
                    offered |= {f"/{full}/{method.name}" for method in service_proto.method}
    assert offered, "reflection listed no method"
    assert not offered - set(METHOD_ROLES), f"served methods without an entry: {sorted(offered - set(METHOD_ROLES))}"
    assert {method for method, role in METHOD_ROLES.items() if role is OPEN} == {
        method for method in offered if method.startswith("/grpc.health.v1.Health/")
    }


@pytest.mark.parametrize(
    ("peer", "address"),
    [
        ("ipv4:10.0.0.5:40112", "10.0.0.5"),
        ("ipv6:%5B::1%5D:40112", "::1"),  # as grpc writes it
        ("ipv6:[2001:db8::7]:40112", "2001:db8::7"),
        ("unix:/run/camera-grpc/grpc.sock", None),
        ("unix:", None),
        ("unix-abstract:camera", None),
    ],
)
def test_failures_are_counted_per_client_address_not_per_connection(peer: str, address: str | None) -> None:
    assert peer_address(peer) == address


# -- each role against each RPC ---------------------------------------------------------------------------


async def call_rpc(name: str, stub: camera_pb2_grpc.CameraServiceStub, metadata: tuple[tuple[str, str], ...]) -> None:
    """One successful call of the RPC ``name`` (raises AioRpcError when refused)."""
    if name == "GetSettings":
        await stub.GetSettings(pb.GetSettingsRequest(), metadata=metadata, timeout=10)
    elif name == "GetCameraInfo":
        await stub.GetCameraInfo(pb.GetCameraInfoRequest(), metadata=metadata, timeout=10)
    elif name == "UpdateSettings":
        await stub.UpdateSettings(pb.UpdateSettingsRequest(gain_db=1.0), metadata=metadata, timeout=10)
    elif name == "Capture":
        await stub.Capture(pb.CaptureRequest(), metadata=metadata, timeout=10)
    elif name == "Frames":
        async for _ in stub.Frames(pb.FramesRequest(max_frames=1), metadata=metadata, timeout=10):
            pass
    elif name == "LiveFrames":
        subscribe = pb.LiveFramesRequest(subscription=pb.FramesRequest(max_frames=1), credits=1)
        call = stub.LiveFrames(iter([subscribe]), metadata=metadata, timeout=10)
        async for _ in call:
            break
        call.cancel()
    elif name == "ListCaptures":
        await stub.ListCaptures(pb.ListCapturesRequest(), metadata=metadata, timeout=10)
    elif name == "GetCapture":
        newest = (await stub.ListCaptures(pb.ListCapturesRequest(page_size=1), metadata=metadata, timeout=10)).captures
        filename = newest[0].filename if newest else "capture_20260101_000000_000000_1.jpg"
        await stub.GetCapture(pb.GetCaptureRequest(filename=filename), metadata=metadata, timeout=10)
    elif name == "DeleteCapture":  # the oldest: the one the role test took first is never needed again
        listed = (await stub.ListCaptures(pb.ListCapturesRequest(), metadata=metadata, timeout=10)).captures
        filename = listed[-1].filename if listed else "capture_20260101_000000_000000_1.jpg"
        await stub.DeleteCapture(pb.DeleteCaptureRequest(filename=filename), metadata=metadata, timeout=10)
    elif name == "WatchSettings":
        call = stub.WatchSettings(pb.WatchSettingsRequest(), metadata=metadata, timeout=10)
        async for _ in call:
            break
        call.cancel()
    elif name == "CreatePreset":
        await stub.CreatePreset(pb.CreatePresetRequest(preset_id="made"), metadata=metadata, timeout=10)
    elif name == "ListPresets":
        await stub.ListPresets(pb.ListPresetsRequest(), metadata=metadata, timeout=10)
    elif name == "GetPreset":
        await stub.GetPreset(pb.GetPresetRequest(name=KEPT_PRESET), metadata=metadata, timeout=10)
    elif name == "ApplyPreset":
        await stub.ApplyPreset(pb.ApplyPresetRequest(name=KEPT_PRESET), metadata=metadata, timeout=10)
    elif name == "DeletePreset":
        await stub.DeletePreset(pb.DeletePresetRequest(name=DOOMED_PRESET), metadata=metadata, timeout=10)
    elif name == "SaveSettingsToCamera":
        await stub.SaveSettingsToCamera(pb.SaveSettingsToCameraRequest(channel=1), metadata=metadata, timeout=10)
    elif name == "LoadSettingsFromCamera":
        await stub.LoadSettingsFromCamera(pb.LoadSettingsFromCameraRequest(channel=0), metadata=metadata, timeout=10)
    elif name == "SoftwareTrigger":
        try:  # the camera free-runs: refused by the camera (not by the role check) means the call was allowed
            await stub.SoftwareTrigger(pb.SoftwareTriggerRequest(), metadata=metadata, timeout=10)
        except grpc.aio.AioRpcError as exc:
            if exc.code() != grpc.StatusCode.FAILED_PRECONDITION:
                raise
    elif name == "GetIoStatus":
        await stub.GetIoStatus(pb.GetIoStatusRequest(), metadata=metadata, timeout=10)
    elif name == "WatchEvents":
        try:  # allowed: the stream stays open (an event, or the deadline); refused: at once
            async for _ in stub.WatchEvents(pb.WatchEventsRequest(), metadata=metadata, timeout=WATCH_EVENTS_WAIT_S):
                break
        except grpc.aio.AioRpcError as exc:
            if exc.code() != grpc.StatusCode.DEADLINE_EXCEEDED:
                raise
    else:
        raise AssertionError(f"no test call for the RPC {name}: add one")


@pytest.mark.parametrize("role", list(Role), ids=lambda role: role.name.lower())
async def test_each_role_may_call_exactly_its_rpcs(
    start_service: ServiceFactory, tokens: RoleTokens, channels: Callable[..., grpc.aio.Channel], role: Role
) -> None:
    service = await start_service(tokens_file=tokens.path, **SMALL_CAMERA)
    stub = camera_pb2_grpc.CameraServiceStub(channels(service.address))
    admin = tokens.metadata(Role.ADMIN)
    await stub.Capture(pb.CaptureRequest(), metadata=admin, timeout=10)  # one to get
    for preset in (KEPT_PRESET, DOOMED_PRESET):
        await stub.CreatePreset(pb.CreatePresetRequest(preset_id=preset.split("/")[1]), metadata=admin, timeout=10)
    outcomes = {}
    for method in CAMERA_SERVICE.methods:
        try:
            await call_rpc(method.name, stub, tokens.metadata(role))
            outcomes[method.name] = "allowed"
        except grpc.aio.AioRpcError as error:
            outcomes[method.name] = error.code().name
            if error.code() is grpc.StatusCode.PERMISSION_DENIED:
                assert error.details() == PERMISSION_DENIED_MESSAGE
    expected = {
        method.name: "allowed" if role >= LOWEST_ROLE[method.name] else "PERMISSION_DENIED"
        for method in CAMERA_SERVICE.methods
    }
    assert outcomes == expected


async def test_a_method_without_a_role_is_refused_to_every_token(
    start_service: ServiceFactory,
    tokens: RoleTokens,
    channels: Callable[..., grpc.aio.Channel],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from camera_grpc.rpc import auth

    without_capture = {method: role for method, role in METHOD_ROLES.items() if not method.endswith("/Capture")}
    monkeypatch.setattr(auth, "METHOD_ROLES", without_capture)  # the table TokenCheck takes by default
    service = await start_service(tokens_file=tokens.path, **SMALL_CAMERA)
    stub = camera_pb2_grpc.CameraServiceStub(channels(service.address))
    error = await refused(stub.Capture(pb.CaptureRequest(), metadata=tokens.metadata(Role.ADMIN), timeout=10))
    assert error.code() is grpc.StatusCode.PERMISSION_DENIED
    await stub.GetSettings(pb.GetSettingsRequest(), metadata=tokens.metadata(Role.ADMIN), timeout=10)


# -- missing, wrong and malformed tokens ------------------------------------------------------------------


@pytest.mark.parametrize(
    "metadata",
    [
        (),
        (("authorization", "Bearer not-a-token"),),
        (("authorization", "Bearer"),),
        (("authorization", "Basic dXNlcjpwYXNz"),),
        (("authorization", "Bearer two words"),),
        "token without its scheme",
        "the token twice",
        "a valid token with a character more",
    ],
    ids=["none", "unknown", "empty", "basic", "two-words", "no-scheme", "twice", "one-more"],
)
async def test_missing_wrong_and_malformed_tokens_are_unauthenticated_alike(
    start_service: ServiceFactory,
    tokens: RoleTokens,
    channels: Callable[..., grpc.aio.Channel],
    metadata: tuple[tuple[str, str], ...] | str,
) -> None:
    admin = tokens.token(Role.ADMIN)
    if metadata == "token without its scheme":
        metadata = (("authorization", admin),)
    elif metadata == "the token twice":
        metadata = (("authorization", f"Bearer {admin}"), ("authorization", f"Bearer {admin}"))
    elif metadata == "a valid token with a character more":
        metadata = (("authorization", f"Bearer {admin}x"),)
    assert not isinstance(metadata, str)
    service = await start_service(tokens_file=tokens.path, **SMALL_CAMERA)
    channel = channels(service.address)
    error = await refused(settings_of(channel, metadata))
    assert (error.code(), error.details()) == (grpc.StatusCode.UNAUTHENTICATED, UNAUTHENTICATED_MESSAGE)
    assert admin not in str(error.debug_error_string())


async def test_health_is_open_and_reflection_needs_a_token(
    start_service: ServiceFactory, tokens: RoleTokens, channels: Callable[..., grpc.aio.Channel]
) -> None:
    service = await start_service(tokens_file=tokens.path, **SMALL_CAMERA)
    channel = channels(service.address)
    assert await health_of(channel) == SERVING
    watch = health_pb2_grpc.HealthStub(channel).Watch(health_pb2.HealthCheckRequest(service=CAMERA_SERVICE_NAME))
    assert (await watch.read()).status == SERVING
    watch.cancel()
    reflection = reflection_pb2_grpc.ServerReflectionStub(channel)
    request = reflection_pb2.ServerReflectionRequest(list_services="")
    error = await refused(_first(reflection.ServerReflectionInfo(iter([request]))))
    assert error.code() is grpc.StatusCode.UNAUTHENTICATED
    assert await _first(reflection.ServerReflectionInfo(iter([request]), metadata=tokens.metadata(Role.VIEWER)))


async def _first(call: grpc.aio.StreamStreamCall) -> object:
    async for response in call:
        return response
    return None


async def test_tokens_added_and_revoked_in_the_file_apply_at_once(
    start_service: ServiceFactory, tokens: RoleTokens, channels: Callable[..., grpc.aio.Channel]
) -> None:
    service = await start_service(tokens_file=tokens.path, **SMALL_CAMERA)
    channel = channels(service.address)
    await settings_of(channel, tokens.metadata(Role.VIEWER))
    lines = tokens.path.read_text().splitlines(keepends=True)
    tokens.path.write_text("".join(line for line in lines if not line.startswith("viewer ")))  # revoked
    error = await refused(settings_of(channel, tokens.metadata(Role.VIEWER)))
    assert error.code() is grpc.StatusCode.UNAUTHENTICATED
    await settings_of(channel, tokens.metadata(Role.OPERATOR))


async def test_an_unusable_tokens_file_refuses_every_token_until_fixed(
    start_service: ServiceFactory,
    tokens: RoleTokens,
    channels: Callable[..., grpc.aio.Channel],
    caplog: pytest.LogCaptureFixture,
) -> None:
    service = await start_service(tokens_file=tokens.path, **SMALL_CAMERA)
    channel = channels(service.address)
    good = tokens.path.read_text()
    tokens.path.write_text(good + "broken line\n")
    for _ in range(3):
        error = await refused(settings_of(channel, tokens.metadata(Role.ADMIN)))
        assert error.code() is grpc.StatusCode.UNAUTHENTICATED
    assert len([r for r in caplog.records if "tokens file unusable" in r.getMessage()]) == 1  # once, not per call
    tokens.path.write_text(good)
    await settings_of(channel, tokens.metadata(Role.ADMIN))


# -- failed attempts are limited per client address -------------------------------------------------------


async def test_a_client_that_fails_too_often_is_refused_unchecked_and_logged_once(
    start_service: ServiceFactory,
    tokens: RoleTokens,
    channels: Callable[..., grpc.aio.Channel],
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.INFO)
    service = await start_service(
        tokens_file=tokens.path, auth_max_failures=3, auth_failure_window_s=60, **SMALL_CAMERA
    )
    channel = channels(service.address)
    await settings_of(channel, tokens.metadata(Role.VIEWER))  # successes are not counted
    for _ in range(3):
        await refused(settings_of(channel, (("authorization", "Bearer guess"),)))
    error = await refused(settings_of(channel, tokens.metadata(Role.VIEWER)))  # now even a valid token
    assert (error.code(), error.details()) == (grpc.StatusCode.UNAUTHENTICATED, UNAUTHENTICATED_MESSAGE)
    for _ in range(20):
        await refused(settings_of(channel, (("authorization", "Bearer guess"),)))
    assert await health_of(channel) == SERVING  # health stays open
    lines = [record.getMessage() for record in caplog.records if "failed token checks" in record.getMessage()]
    assert len(lines) == 1 and lines[0].startswith("client 127.0.0.1: 3 failed token checks within 60 s"), lines


async def test_the_limit_lasts_one_window(
    start_service: ServiceFactory, tokens: RoleTokens, channels: Callable[..., grpc.aio.Channel]
) -> None:
    service = await start_service(
        tokens_file=tokens.path, auth_max_failures=2, auth_failure_window_s=0.5, **SMALL_CAMERA
    )
    channel = channels(service.address)
    for _ in range(2):
        await refused(settings_of(channel, (("authorization", "Bearer guess"),)))
    await refused(settings_of(channel, tokens.metadata(Role.VIEWER)))
    await asyncio.sleep(0.6)
    await settings_of(channel, tokens.metadata(Role.VIEWER))


# -- TLS --------------------------------------------------------------------------------------------------


async def test_tls_serves_clients_that_trust_its_ca_and_refuses_plaintext(
    start_service: ServiceFactory, tls: TlsFiles, channels: Callable[..., grpc.aio.Channel]
) -> None:
    service = await start_service(**tls.server_settings(), **SMALL_CAMERA)
    assert await health_of(channels(f"localhost:{service.port}", credentials(tls))) == SERVING
    assert (await settings_of(channels(service.address, credentials(tls)))).connected  # the IP is in the certificate
    error = await refused(health_of(channels(service.address)))  # plaintext
    assert error.code() is grpc.StatusCode.UNAVAILABLE


async def test_a_client_that_trusts_another_ca_is_refused(
    start_service: ServiceFactory, tls: TlsFiles, channels: Callable[..., grpc.aio.Channel]
) -> None:
    service = await start_service(**tls.server_settings(), **SMALL_CAMERA)
    other = CertificateAuthority("another CA")
    error = await refused(health_of(channels(service.address, credentials(tls, ca=other.cert_pem))))
    assert error.code() is grpc.StatusCode.UNAVAILABLE


async def test_an_expired_server_certificate_is_refused_by_clients(
    start_service: ServiceFactory, tls: TlsFiles, channels: Callable[..., grpc.aio.Channel], tmp_path: Path
) -> None:
    cert, key = tls.ca.issue("expired server", expired=True).write(tmp_path / "expired")
    service = await start_service(tls_cert_file=cert, tls_key_file=key, **SMALL_CAMERA)
    error = await refused(health_of(channels(service.address, credentials(tls))))
    assert error.code() is grpc.StatusCode.UNAVAILABLE


async def test_mutual_tls_requires_a_client_certificate_from_the_client_ca(
    start_service: ServiceFactory, tls: TlsFiles, channels: Callable[..., grpc.aio.Channel], tmp_path: Path
) -> None:
    service = await start_service(**tls.server_settings(mutual=True), **SMALL_CAMERA)
    assert await health_of(channels(service.address, credentials(tls, client=True))) == SERVING
    error = await refused(health_of(channels(service.address, credentials(tls))))  # no client certificate
    assert error.code() is grpc.StatusCode.UNAVAILABLE
    stranger = tls_files(tmp_path / "stranger")  # a client certificate of another CA
    foreign = grpc.ssl_channel_credentials(tls.ca.cert_pem, stranger.client.key_pem, stranger.client.cert_pem)
    error = await refused(health_of(channels(service.address, foreign)))
    assert error.code() is grpc.StatusCode.UNAVAILABLE


async def test_tls_and_tokens_together(
    start_service: ServiceFactory, tls: TlsFiles, tokens: RoleTokens, channels: Callable[..., grpc.aio.Channel]
) -> None:
    service = await start_service(tokens_file=tokens.path, **tls.server_settings(mutual=True), **SMALL_CAMERA)
    channel = channels(service.address, credentials(tls, client=True))
    assert await health_of(channel) == SERVING
    assert (await settings_of(channel, tokens.metadata(Role.VIEWER))).connected
    error = await refused(settings_of(channel))
    assert error.code() is grpc.StatusCode.UNAUTHENTICATED


async def test_replaced_certificate_files_serve_new_connections_without_a_restart(
    start_service: ServiceFactory,
    tls: TlsFiles,
    channels: Callable[..., grpc.aio.Channel],
    caplog: pytest.LogCaptureFixture,
) -> None:
    service = await start_service(**tls.server_settings(), **SMALL_CAMERA)
    old_channel = channels(service.address, credentials(tls))
    assert await health_of(old_channel) == SERVING
    assert served_serial(service.port, tls.ca.cert_pem) == tls.server.serial
    # Rotate to a certificate of another CA: a client that trusts only that CA can connect only afterwards.
    new_ca = CertificateAuthority("next year's CA")
    error = await refused(health_of(channels(service.address, credentials(tls, ca=new_ca.cert_pem))))
    assert error.code() is grpc.StatusCode.UNAVAILABLE
    renewed = new_ca.issue("renewed server")
    # A half-done replacement (the certificate without its key) is not served: the old pair stays.
    tls.server_cert.write_bytes(renewed.cert_pem)
    assert served_serial(service.port, tls.ca.cert_pem) == tls.server.serial
    tls.server_key.write_bytes(renewed.key_pem)
    os.utime(tls.server_key)
    assert served_serial(service.port, new_ca.cert_pem) == renewed.serial
    assert await health_of(channels(service.address, credentials(tls, ca=new_ca.cert_pem))) == SERVING
    assert await health_of(old_channel) == SERVING  # the connection made before keeps working
    messages = [record.getMessage() for record in caplog.records if record.name == "camera_grpc.tls"]
    assert any("cannot be used" in message for message in messages), messages
