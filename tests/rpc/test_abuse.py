"""Hostile or careless clients over a real server: huge input, stream-slot grabs, floods."""

from __future__ import annotations

import asyncio
import logging

import grpc
import pytest
from grpc_health.v1 import health_pb2, health_pb2_grpc

from camera_grpc import errors
from camera_grpc.client import channel_options
from camera_grpc.contract import CAMERA_SERVICE_NAME
from camera_grpc.gen.camera.v1 import camera_pb2 as pb
from camera_grpc.gen.camera.v1 import camera_pb2_grpc
from camera_grpc.rpc import status
from tests.support import RunningService, ServiceFactory, eventually

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


async def first_frame(stub: camera_pb2_grpc.CameraServiceStub) -> grpc.aio.UnaryStreamCall:
    """A live Frames stream that has delivered its first message (so it holds its slot)."""
    call = stub.Frames(pb.FramesRequest(max_fps=1, encoding=pb.FRAME_ENCODING_JPEG, max_width=32), timeout=30)
    assert (await call.read()).sequence_number == 1
    return call


async def test_one_connection_cannot_take_every_frame_stream_slot(start_service: ServiceFactory) -> None:
    service = await start_service(max_subscribers=4)  # MAX_STREAMS_PER_PEER 0: half of that
    held = [await first_frame(service.stub) for _ in range(2)]
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await (await first_frame(service.stub)).read()
    assert caught.value.code() == grpc.StatusCode.RESOURCE_EXHAUSTED
    assert "at most 2 frame streams" in caught.value.details() and "MAX_STREAMS_PER_PEER" in caught.value.details()
    async with grpc.aio.insecure_channel(service.address) as other:  # another connection still gets a slot
        (await first_frame(camera_pb2_grpc.CameraServiceStub(other))).cancel()
    held.pop().cancel()
    await eventually(lambda: service.runtime.frames.subscriber_count == 1, what="the cancelled slot freed")
    held.append(await first_frame(service.stub))  # and the connection's freed slot is usable again
    for call in held:
        call.cancel()


async def test_health_watch_streams_count_against_the_stream_limit(start_service: ServiceFactory) -> None:
    service = await start_service(grpc_max_streams=3)
    request = health_pb2.HealthCheckRequest(service=CAMERA_SERVICE_NAME)
    watches = [service.health.Watch(request, timeout=30) for _ in range(3)]
    for watch in watches:
        assert (await watch.read()).status == health_pb2.HealthCheckResponse.SERVING
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await service.health.Watch(request, timeout=30).read()
    assert caught.value.code() == grpc.StatusCode.RESOURCE_EXHAUSTED
    assert "at most 3 long-lived streams" in caught.value.details() and "GRPC_MAX_STREAMS" in caught.value.details()
    with pytest.raises(grpc.aio.AioRpcError) as caught:  # Frames streams count too
        await (await first_frame(service.stub)).read()
    assert caught.value.code() == grpc.StatusCode.RESOURCE_EXHAUSTED
    assert (await service.stub.GetSettings(pb.GetSettingsRequest(), timeout=10)).connected  # unary calls unaffected
    watches.pop().cancel()
    await eventually(lambda: service.server.stream_limit.open == 2, what="the cancelled stream's slot freed")
    replacement = service.health.Watch(request, timeout=30)
    assert (await replacement.read()).status == health_pb2.HealthCheckResponse.SERVING
    for watch in (*watches, replacement):
        watch.cancel()


async def test_a_connection_without_calls_is_closed_after_the_idle_timeout(start_service: ServiceFactory) -> None:
    service = await start_service(grpc_idle_timeout_s=1.0)
    await service.stub.GetSettings(pb.GetSettingsRequest(), timeout=10)
    assert service.channel.get_state() == grpc.ChannelConnectivity.READY
    # The server's GOAWAY sends the channel back to IDLE (the client's own idle timeout is 30 minutes).
    await asyncio.wait_for(service.channel.wait_for_state_change(grpc.ChannelConnectivity.READY), 30)
    assert service.channel.get_state() == grpc.ChannelConnectivity.IDLE
    assert (await service.stub.GetSettings(pb.GetSettingsRequest(), timeout=10)).connected  # it reconnects at need


async def test_clients_that_leave_stalled_streams_leave_no_trace_in_the_log(
    start_service: ServiceFactory, caplog: pytest.LogCaptureFixture
) -> None:
    service = await start_service(simulated_frame_rate=100.0, default_exposure=1.0)  # 5 MB raw frames
    request = pb.FramesRequest(policy=pb.DELIVERY_POLICY_QUEUE, queue_depth=64)
    with caplog.at_level(logging.INFO):
        for _ in range(3):
            options = channel_options(service.settings.grpc_max_message_bytes)
            async with grpc.aio.insecure_channel(service.address, options=options) as channel:  # flow control stalls
                stub = camera_pb2_grpc.CameraServiceStub(channel)
                calls = [stub.Frames(request) for _ in range(8)]
                for call in calls:
                    await call.read()  # and never again: the service's writes wait for the window
                await eventually(lambda: all(s.buffered for s in service.runtime.frames.subscriptions))
                for call in calls:
                    call.cancel()  # mid-write
            await eventually(lambda: service.runtime.frames.subscriber_count == 0, what="the streams closed")
        # a health Watch left the same way
        async with grpc.aio.insecure_channel(service.address) as channel:
            watch = health_pb2_grpc.HealthStub(channel).Watch(health_pb2.HealthCheckRequest())
            await watch.read()
            watch.cancel()
        await eventually(lambda: service.server.stream_limit.open == 0, what="every stream closed")
    noise = [f"{r.name}: {r.getMessage()}" for r in caplog.records if r.levelno >= logging.INFO]
    assert noise == []
