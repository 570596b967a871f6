"""Hostile or careless clients over a real server: huge input, stream-slot grabs, floods."""

from __future__ import annotations

import grpc
import pytest

from camera_grpc import errors
from camera_grpc.gen.camera.v1 import camera_pb2 as pb
from camera_grpc.rpc import status
from tests.support import RunningService

#: Far beyond gRPC's 16 KiB hard limit on a response's metadata (where the status message travels).
HUGE = 100_000


async def test_a_huge_filename_is_still_not_found(service: RunningService) -> None:
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await service.stub.GetCapture(pb.GetCaptureRequest(filename="x" * HUGE), timeout=10)
    assert caught.value.code() == grpc.StatusCode.NOT_FOUND
    assert "no capture named 'xxxx" in caught.value.details()
    assert len(caught.value.details()) < 1000


async def test_a_huge_page_token_is_still_invalid_argument(service: RunningService) -> None:
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await service.stub.ListCaptures(pb.ListCapturesRequest(page_token="A" * HUGE), timeout=10)
    assert caught.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert caught.value.details().startswith("page_token='AAAA")
    assert "100000 characters" in caught.value.details()
    assert len(caught.value.details()) < 1000


def test_every_echo_of_input_and_every_status_message_is_bounded() -> None:
    assert errors.echo("short") == "'short'"
    long_value = errors.echo("y" * HUGE)
    assert long_value.startswith("'yyy") and long_value.endswith(f"... ({HUGE} characters)")
    assert len(long_value) < 2 * errors.MAX_ECHO_CHARS
    assert len(str(errors.InvalidArgumentError("page_token", "z" * HUGE))) < 4 * errors.MAX_ECHO_CHARS
    # the backstop: a message that does not go through echo is cut too
    sent = status.to_status(errors.NotFoundError("w" * HUGE))
    assert sent.code == grpc.StatusCode.NOT_FOUND
    assert len(sent.details) <= status.MAX_MESSAGE_CHARS
