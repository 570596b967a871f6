"""Every RPC of camera.v1.CameraService maps errors the same way, by one mechanism that cannot be forgotten."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import grpc
import pytest
from google.rpc import error_details_pb2
from grpc_status import rpc_status

from camera_grpc import errors
from camera_grpc.contract import CAMERA_SERVICE, CAMERA_SERVICE_NAME
from camera_grpc.gen.camera.v1 import camera_pb2 as pb
from camera_grpc.rpc import status
from camera_grpc.rpc.servicer import add_to_server
from tests.support import RunningService


class FailingServicer:
    """Every method of the service (looked up by name) raises ``error``; a stream raises after one message."""

    def __init__(self, error: BaseException) -> None:
        self.error = error

    def __getattr__(self, name: str) -> Any:
        method = CAMERA_SERVICE.methods_by_name[name]
        if method.server_streaming:

            async def stream(request: object, context: object) -> AsyncIterator[bytes]:
                if method.client_streaming:
                    async for _ in request:  # type: ignore[attr-defined]  # a malformed message fails here
                        pass
                raise self.error
                yield b""  # pragma: no cover  (makes this an async generator)

            return stream

        async def unary(request: object, context: object) -> object:
            if method.client_streaming:
                async for _ in request:  # type: ignore[attr-defined]  # a malformed message fails here
                    pass
            raise self.error

        return unary


@pytest.fixture
async def failing_server() -> AsyncIterator[tuple[grpc.aio.Channel, FailingServicer]]:
    servicer = FailingServicer(errors.CameraUnavailableError("camera is not connected"))
    server = grpc.aio.server()
    add_to_server(servicer, server)  # type: ignore[arg-type]
    port = server.add_insecure_port("127.0.0.1:0")
    await server.start()
    async with grpc.aio.insecure_channel(f"127.0.0.1:{port}") as channel:
        yield channel, servicer
    await server.stop(0)


def call(channel: grpc.aio.Channel, method: Any, payload: bytes = b"") -> Any:
    path = f"/{CAMERA_SERVICE_NAME}/{method.name}"
    factory = {
        (False, False): channel.unary_unary,
        (False, True): channel.unary_stream,
        (True, False): channel.stream_unary,
        (True, True): channel.stream_stream,
    }[(method.client_streaming, method.server_streaming)]
    request = iter([payload]) if method.client_streaming else payload
    return factory(path, request_serializer=lambda raw: raw, response_deserializer=lambda raw: raw)(request, timeout=5)


async def outcome(rpc: Any, server_streaming: bool) -> grpc.aio.AioRpcError:
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        if server_streaming:
            async for _ in rpc:
                pass
        else:
            await rpc
    return caught.value


def reason(error: grpc.aio.AioRpcError) -> str:
    for detail in rpc_status.from_call(error).details:  # type: ignore[arg-type, union-attr]
        info = error_details_pb2.ErrorInfo()
        if detail.Unpack(info):
            return info.reason
    return ""


async def test_every_method_of_the_service_maps_domain_and_unexpected_errors(
    failing_server: tuple[grpc.aio.Channel, FailingServicer],
) -> None:
    channel, servicer = failing_server
    assert len(CAMERA_SERVICE.methods) >= 7
    for method in CAMERA_SERVICE.methods:
        servicer.error = errors.CameraUnavailableError("camera is not connected")
        error = await outcome(call(channel, method), method.server_streaming)
        assert (error.code(), error.details(), reason(error)) == (
            grpc.StatusCode.UNAVAILABLE,
            "camera is not connected",
            "CAMERA_UNAVAILABLE",
        ), method.name
        servicer.error = RuntimeError("secret internals")
        error = await outcome(call(channel, method), method.server_streaming)
        assert (error.code(), error.details()) == (grpc.StatusCode.INTERNAL, status.INTERNAL_MESSAGE), method.name


async def test_a_request_that_does_not_parse_is_invalid_argument_naming_its_type(
    failing_server: tuple[grpc.aio.Channel, FailingServicer],
) -> None:
    channel, _ = failing_server
    garbage = b"\xff\xff\xff\xff"  # a field tag with an invalid wire type
    for method in CAMERA_SERVICE.methods:
        error = await outcome(call(channel, method, garbage), method.server_streaming)
        assert error.code() == grpc.StatusCode.INVALID_ARGUMENT, method.name
        assert error.details() == f"the request is not a valid {method.input_type.full_name} message"


async def test_a_malformed_request_to_the_real_service_changes_nothing(service: RunningService) -> None:
    before = await service.stub.GetSettings(pb.GetSettingsRequest())
    method = CAMERA_SERVICE.methods_by_name["UpdateSettings"]
    error = await outcome(call(service.channel, method, b"\x09\x00"), server_streaming=False)  # truncated double
    assert error.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert await service.stub.GetSettings(pb.GetSettingsRequest()) == before


def domain_errors(cls: type[errors.CameraServiceError] = errors.CameraServiceError) -> list[type]:
    found = [cls]
    for subclass in cls.__subclasses__():
        found.extend(domain_errors(subclass))
    return found


def test_every_domain_error_has_its_own_considered_status_code() -> None:
    for cls in domain_errors():
        if cls is errors.CameraServiceError:
            continue
        listed = next(base for base in cls.__mro__ if base in status.STATUS_CODES)
        assert listed is not errors.CameraServiceError, f"{cls.__name__} has no status code of its own"
