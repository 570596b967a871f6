"""Live-frame memory is bounded in bytes: per subscriber and for all of them, whatever the queue depth."""

from __future__ import annotations

import gc
import weakref
from collections.abc import AsyncIterator
from concurrent.futures import ThreadPoolExecutor

import grpc
import pytest

from camera_grpc.core.streaming import FrameHub, Policy, StreamOptions, Subscription, _Entry
from camera_grpc.device.base import Frame
from camera_grpc.device.simulated import SimulatedCamera
from camera_grpc.device.worker import CameraWorker
from camera_grpc.gen.camera.v1 import camera_pb2 as pb
from tests.support import ServiceFactory, eventually
from tests.support.frames import synthetic_frame

FRAME_BYTES = 16 * 16
DEEP = StreamOptions(policy=Policy.QUEUE, queue_depth=1024)


@pytest.fixture
async def hub() -> AsyncIterator[FrameHub]:
    """A hub of 16x16 frames whose subscribers may hold 3 frames each and all together 5."""
    with ThreadPoolExecutor(1) as executor:
        yield FrameHub(
            CameraWorker(SimulatedCamera(16, 16)),
            executor,
            subscriber_budget_bytes=3 * FRAME_BYTES,
            budget_bytes=5 * FRAME_BYTES,
        )


async def test_a_deep_queue_holds_at_most_its_budget_and_counts_the_rest_as_missed(hub: FrameHub) -> None:
    subscription = Subscription(hub, DEEP)
    for number in range(1, 101):
        subscription.offer(_Entry(synthetic_frame(number, size=16), number))
        assert subscription.held_bytes <= hub.subscriber_budget_bytes
    assert subscription.buffered == 3 and subscription.held_bytes == 3 * FRAME_BYTES
    reader = aiter(subscription)
    deliveries = [await anext(reader) for _ in range(3)]
    assert [d.frame.frame_number for d in deliveries] == [98, 99, 100]  # the newest, in order
    assert [d.missed_frames for d in deliveries] == [97, 0, 0]  # 1-97 dropped, and reported
    assert subscription.held_bytes == 0 and hub.held_bytes == 0


async def test_all_subscribers_together_hold_at_most_the_service_budget(hub: FrameHub) -> None:
    # Four stalled subscribers that hold different frames (each is offered every fourth frame, as
    # max_fps would), so sharing cannot keep them within the total.
    subscriptions = [Subscription(hub, DEEP) for _ in range(4)]
    for number in range(1, 201):
        subscriptions[number % 4].offer(_Entry(synthetic_frame(number, size=16), number))
        assert hub.held_bytes <= hub.budget_bytes
        assert hub.held_bytes == sum(s.held_bytes for s in subscriptions)  # disjoint: the sum is what is held
    assert hub.held_bytes == hub.budget_bytes
    held = sorted(d.frame.frame_number for s in subscriptions for d in [*s._buffer])  # type: ignore[attr-defined]
    assert held == list(range(196, 201))  # the newest frames, whoever holds them


async def test_a_frame_shared_by_many_subscribers_is_counted_once(hub: FrameHub) -> None:
    subscriptions = [Subscription(hub, DEEP) for _ in range(10)]
    for number in range(1, 51):
        entry = _Entry(synthetic_frame(number, size=16), number)
        for subscription in subscriptions:
            subscription.offer(entry)
    assert hub.held_bytes == 3 * FRAME_BYTES  # 3 frames each, the same 3: within 5, nothing more dropped
    for subscription in subscriptions:
        subscription.end(RuntimeError("closed"))
    assert hub.held_bytes == 0


async def test_the_newest_frame_is_kept_even_when_larger_than_the_budgets() -> None:
    with ThreadPoolExecutor(1) as executor:
        hub = FrameHub(CameraWorker(SimulatedCamera(16, 16)), executor, subscriber_budget_bytes=10, budget_bytes=10)
        subscription = Subscription(hub, DEEP)
        for number in range(1, 5):
            subscription.offer(_Entry(synthetic_frame(number, size=16), number))
        assert subscription.buffered == 1 and hub.held_bytes == FRAME_BYTES


async def test_a_stalled_queue_subscriber_with_a_huge_depth_holds_at_most_its_budget(
    start_service: ServiceFactory,
) -> None:
    frame_bytes = 320 * 240
    budget = 10 * frame_bytes
    service = await start_service(
        simulated_width=320,
        simulated_height=240,
        simulated_frame_rate=200.0,
        default_exposure=1.0,
        frames_subscriber_budget_bytes=budget,
    )
    published: list[int] = []
    service.runtime.worker.add_frame_listener(lambda frame: published.append(frame.frame_number))
    call = service.stub.Frames(pb.FramesRequest(policy=pb.DELIVERY_POLICY_QUEUE, queue_depth=1024), timeout=60)
    first = await call.read()  # then never reads again: HTTP/2 flow control stalls the stream
    (subscription,) = service.runtime.frames.subscriptions
    worst = 0

    def over_200_frames_later() -> bool:
        nonlocal worst
        worst = max(worst, subscription.held_bytes, service.runtime.frames.held_bytes)
        return len(published) > 200

    await eventually(over_200_frames_later, what="200 frames published")
    assert subscription.buffered >= 5  # it is really stalled and holding frames
    assert worst <= budget  # without a budget: ~200 frames (15 MB), up to 1024
    # what it gets next is the newest it kept, with the dropped frames counted as missed
    message = await call.read()
    assert message is not grpc.aio.EOF
    assert message.missed_frames >= 0 and message.frame_number > first.frame_number
    call.cancel()  # and closing the stream lets go of everything it held
    await eventually(lambda: service.runtime.frames.subscriber_count == 0, what="the subscription closed")
    assert subscription.held_bytes == 0 and service.runtime.frames.held_bytes == 0


async def test_a_subscriber_waiting_for_its_next_frame_keeps_none_alive(start_service: ServiceFactory) -> None:
    service = await start_service(simulated_width=320, simulated_height=240, simulated_frame_rate=100.0)
    published: list[weakref.ref[Frame]] = []
    service.runtime.worker.add_frame_listener(lambda frame: published.append(weakref.ref(frame)))
    waiting = []
    for _ in range(8):  # each gets one frame, then waits 100 s for the next (max_fps 0.01)
        call = service.stub.Frames(pb.FramesRequest(max_fps=0.01, encoding=pb.FRAME_ENCODING_JPEG, max_width=32))
        assert (await call.read()).sequence_number == 1
        waiting.append(call)
    delivered_up_to = len(published)
    await eventually(lambda: len(published) > delivered_up_to + 20, what="20 more frames")
    gc.collect()
    alive = [ref for ref in published[:delivered_up_to] if ref() is not None]
    assert len(alive) <= 1, f"{len(alive)} delivered frames still alive"  # without the fix: one per subscriber
    for call in waiting:
        call.cancel()
