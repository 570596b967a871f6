"""LiveFrames: live frames paced by the client's credits, so a slow client always gets a fresh frame, whatever
the geometry changes in between."""

from __future__ import annotations

import asyncio
import itertools

import grpc
import pytest

from camera_grpc.gen.camera.v1 import camera_pb2 as pb
from tests.rpc.test_frames import SMALL_CAMERA, assert_accounting_adds_up, record_published, update
from tests.support import RunningService, ServiceFactory, eventually

#: Frames the camera must produce between two credits for the test to see that none were sent ahead.
FRAMES_BETWEEN_CREDITS = 5


@pytest.fixture
async def small(start_service: ServiceFactory) -> RunningService:
    return await start_service(**SMALL_CAMERA)


def subscribe(credits: int = 0, **fields: object) -> pb.LiveFramesRequest:
    return pb.LiveFramesRequest(subscription=pb.FramesRequest(**fields), credits=credits)  # type: ignore[arg-type]


async def test_a_frame_is_sent_only_for_a_credit_and_is_the_newest_when_the_credit_arrives(
    small: RunningService,
) -> None:
    published = record_published(small)
    call = small.stub.LiveFrames()
    await call.write(subscribe(credits=0, policy=pb.DELIVERY_POLICY_LATEST))
    messages = []
    for _ in range(3):
        await eventually(lambda: small.runtime.frames.subscriber_count == 1 and len(published) > 0)
        target = published[-1] + FRAMES_BETWEEN_CREDITS
        await eventually(lambda target=target: published[-1] >= target, what="frames produced meanwhile")
        granted_at = published[-1]
        await call.write(pb.LiveFramesRequest(credits=1))
        response = await call.read()
        assert response.frame.frame_number >= granted_at  # not a frame sent ahead, before the credit
        assert response.frame.data
        messages.append(response.frame)
    await call.done_writing()
    call.cancel()
    # Nothing was sent ahead: each message skipped the frames produced while the client held no credit.
    gaps = [(m.frame_number, m.missed_frames) for m in messages]
    assert all(message.missed_frames >= FRAMES_BETWEEN_CREDITS - 1 for message in messages[1:]), gaps
    assert_accounting_adds_up(messages, first_produced=messages[0].frame_number - messages[0].missed_frames)


async def test_credits_granted_up_front_deliver_that_many_frames_in_order(small: RunningService) -> None:
    call = small.stub.LiveFrames()
    await call.write(subscribe(credits=4, policy=pb.DELIVERY_POLICY_QUEUE, encoding=pb.FRAME_ENCODING_JPEG))
    frames = [(await call.read()).frame for _ in range(4)]
    assert [frame.sequence_number for frame in frames] == [1, 2, 3, 4]
    assert all(frame.encoding == pb.FRAME_ENCODING_JPEG and frame.data[:2] == b"\xff\xd8" for frame in frames)
    call.cancel()


async def test_an_invalid_subscription_is_invalid_argument(small: RunningService) -> None:
    call = small.stub.LiveFrames()
    await call.write(subscribe(credits=1, quality=0))
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await call.read()
    assert caught.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert "quality" in caught.value.details()


async def test_a_client_that_half_closes_keeps_its_credits_and_ends_with_max_frames(small: RunningService) -> None:
    async def requests():  # type: ignore[no-untyped-def]
        yield subscribe(credits=3, max_frames=3)

    frames = [message.frame async for message in small.stub.LiveFrames(requests())]
    assert len(frames) == 3
    await asyncio.wait_for(eventually(lambda: small.runtime.frames.subscriber_count == 0), 10)


async def test_a_malformed_credit_message_ends_the_stream_with_invalid_argument(small: RunningService) -> None:
    call = small.channel.stream_stream(
        "/camera.v1.CameraService/LiveFrames", request_serializer=lambda raw: raw, response_deserializer=lambda raw: raw
    )(timeout=10)
    await call.write(subscribe(credits=0).SerializeToString())
    await eventually(lambda: small.runtime.frames.subscriber_count == 1)
    await call.write(b"\xff\xff\xff\xff")  # not a LiveFramesRequest
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await call.read()
    assert caught.value.code() == grpc.StatusCode.INVALID_ARGUMENT


async def test_binning_changed_while_a_live_stream_waits_for_credit_gives_the_next_frame_the_new_size(
    small: RunningService,
) -> None:
    published: list[tuple[int, int]] = []  # (frame number, width) of every frame the camera produces
    small.runtime.worker.add_frame_listener(lambda frame: published.append((frame.frame_number, frame.width)))
    call = small.stub.LiveFrames()
    await call.write(subscribe(credits=1, policy=pb.DELIVERY_POLICY_LATEST))
    first = (await call.read()).frame
    assert (first.width, first.height) == (320, 240)
    # no credit: the stream holds the newest frame while acquisition restarts with 2x2 binning
    await small.stub.UpdateSettings(
        update(pixel_addressing=pb.PixelAddressing(mode=pb.ADDRESSING_MODE_BIN, horizontal=2, vertical=2))
    )
    binned_from = len(published)
    await eventually(lambda: len(published) > binned_from + FRAMES_BETWEEN_CREDITS, what="binned frames produced")
    await call.write(pb.LiveFramesRequest(credits=1))
    second = (await call.read()).frame  # the newest frame: a binned one, the stream never ended
    call.cancel()
    assert (second.width, second.height, len(second.data)) == (160, 120, 160 * 120)
    # (the camera thread records a frame just after handing it to the hub: wait for that)
    await eventually(lambda: (second.frame_number, 160) in published, what="the delivered frame recorded")
    # missed: the frames produced in between and the camera's own gaps within one geometry, not the restart
    span = published[published.index((first.frame_number, 320)) : published.index((second.frame_number, 160)) + 1]
    gaps = sum(n - previous - 1 for (previous, w0), (n, w1) in itertools.pairwise(span) if w0 == w1)
    assert second.missed_frames == len(span) - 2 + gaps
