"""Live frames: one acquisition, many subscribers, per-subscriber policy, exact drop accounting."""

from __future__ import annotations

import asyncio
import contextlib
import io
import itertools
import threading
from collections.abc import AsyncIterator, Callable
from concurrent.futures import Future, ThreadPoolExecutor
from datetime import UTC, datetime

import cv2
import grpc
import numpy as np
import pytest
from google.protobuf import field_mask_pb2
from PIL import Image

from camera_grpc.core import streaming
from camera_grpc.core.streaming import FrameHub, Policy, StreamOptions, Subscription, _Entry
from camera_grpc.device.base import Frame, PixelFormat
from camera_grpc.device.simulated import SimulatedCamera, read_frame_number
from camera_grpc.device.worker import CameraWorker
from camera_grpc.errors import ServiceStoppingError
from camera_grpc.gen.camera.v1 import camera_pb2 as pb
from camera_grpc.gen.camera.v1 import camera_pb2_grpc
from tests.support import RunningService, ServiceFactory, eventually
from tests.support.frames import synthetic_frame

SMALL_CAMERA = {"simulated_width": 320, "simulated_height": 240, "simulated_frame_rate": 50.0, "default_exposure": 1.0}
QUEUE = pb.DELIVERY_POLICY_QUEUE
LATEST = pb.DELIVERY_POLICY_LATEST


@pytest.fixture
async def small(start_service: ServiceFactory) -> RunningService:
    return await start_service(**SMALL_CAMERA)


@pytest.fixture
async def full_size(start_service: ServiceFactory) -> RunningService:
    """The default 2448x2048 camera at 30 fps: raw frames of 5 MB each, read through the client layer's
    channel options (no BDP probing), so HTTP/2 flow control keeps about one frame in flight and a slow
    reader's backlog is held by the server, where its policy applies."""
    return await start_service(simulated_frame_rate=30.0, default_exposure=1.0)


def record_published(service: RunningService) -> list[int]:
    """Frame numbers the camera produces from now on (a frame listener of its own on the camera thread)."""
    published: list[int] = []
    service.runtime.worker.add_frame_listener(lambda frame: published.append(frame.frame_number))
    return published


def assert_accounting_adds_up(messages: list[pb.FramesResponse], first_produced: int) -> None:
    """received + reported missed == frames produced from subscribing to the last message."""
    assert [message.sequence_number for message in messages] == list(range(1, len(messages) + 1))
    numbers = [message.frame_number for message in messages]
    assert numbers == sorted(numbers) and len(set(numbers)) == len(numbers)
    produced = messages[-1].frame_number - first_produced + 1
    assert len(messages) + sum(message.missed_frames for message in messages) == produced
    previous = first_produced - 1
    for message in messages:  # and each message's count is exactly its own gap
        assert message.missed_frames == message.frame_number - previous - 1
        previous = message.frame_number


async def collect(call: grpc.aio.UnaryStreamCall) -> list[pb.FramesResponse]:
    return [message async for message in call]


async def read_n(call: grpc.aio.UnaryStreamCall, count: int, delay_s: float = 0.0) -> list[pb.FramesResponse]:
    messages = []
    while len(messages) < count:
        message = await call.read()
        assert message is not grpc.aio.EOF, "stream ended early"
        messages.append(message)
        if delay_s and len(messages) < count:
            await asyncio.sleep(delay_s)
    call.cancel()
    return messages


async def test_raw_frames_are_ordered_numbered_and_carry_their_settings(small: RunningService) -> None:
    published = record_published(small)
    messages = [m async for m in small.stub.Frames(pb.FramesRequest(max_frames=10, policy=QUEUE, queue_depth=64))]
    assert len(messages) == 10
    assert_accounting_adds_up(messages, first_produced=published[0])
    assert sum(m.missed_frames for m in messages) == 0  # a fast QUEUE subscriber gets every frame
    for message in messages:
        assert message.encoding == pb.FRAME_ENCODING_RAW
        assert (message.width, message.height, message.bit_depth) == (320, 240, 8)
        pixels = np.frombuffer(message.data, np.uint8).reshape(240, 320)
        assert read_frame_number(pixels) == message.frame_number
        assert message.exposure_ms == pytest.approx(1.0)
        assert message.captured_at.seconds > 0


async def test_latest_policy_skips_to_the_newest_frame_and_reports_what_it_missed(full_size: RunningService) -> None:
    published = record_published(full_size)
    # A live-view client: no BDP probing, so gRPC keeps at most about one frame in flight
    # and the server-side LATEST policy decides what the reader sees (see README, "Live frames").
    options = [("grpc.max_receive_message_length", 64 * 1024 * 1024), ("grpc.http2.bdp_probe", 0)]
    async with grpc.aio.insecure_channel(full_size.address, options=options) as channel:
        call = camera_pb2_grpc.CameraServiceStub(channel).Frames(pb.FramesRequest(policy=LATEST))
        messages = await read_n(call, 6, delay_s=0.3)  # ~9 frames are produced between reads at 30 fps
    assert_accounting_adds_up(messages, first_produced=published[0])
    # After the frame already in flight, each read gets a fresh frame: several were skipped.
    assert all(m.missed_frames >= 3 for m in messages[2:]), [(m.frame_number, m.missed_frames) for m in messages]


async def test_queue_policy_delivers_in_order_and_drops_the_oldest_beyond_its_depth(
    full_size: RunningService,
) -> None:
    published = record_published(full_size)
    call = full_size.stub.Frames(pb.FramesRequest(policy=QUEUE, queue_depth=3))
    first = await call.read()
    await asyncio.sleep(0.8)  # ~24 frames are produced; the queue keeps the newest 3
    rest = await read_n(call, 6)
    messages = [first, *rest]
    assert_accounting_adds_up(messages, first_produced=published[0])
    # One jump where the queue overflowed (the oldest frames were dropped); after it, every frame
    # the camera published reached this reader, in order.
    jumps = [index for index, m in enumerate(rest) if m.missed_frames > 5]
    assert len(jumps) == 1, [(m.frame_number, m.missed_frames) for m in messages]
    after = rest[jumps[0] :]
    for previous, message in itertools.pairwise(after):
        assert not [n for n in published if previous.frame_number < n < message.frame_number]


async def test_encodings_jpeg_png_and_downscale(small: RunningService) -> None:
    for encoding, pil_format in ((pb.FRAME_ENCODING_JPEG, "JPEG"), (pb.FRAME_ENCODING_PNG, "PNG")):
        request = pb.FramesRequest(encoding=encoding, max_width=160, quality=70, max_frames=2)
        messages = [m async for m in small.stub.Frames(request)]
        assert len(messages) == 2
        for message in messages:
            assert message.encoding == encoding
            with Image.open(io.BytesIO(message.data)) as image:
                assert image.format == pil_format
                assert image.size == (message.width, message.height) == (160, 120)


async def test_max_fps_limits_a_subscriber_and_counts_the_rest_as_missed(small: RunningService) -> None:
    published = record_published(small)
    messages = [m async for m in small.stub.Frames(pb.FramesRequest(max_fps=10, max_frames=5, policy=QUEUE))]
    assert_accounting_adds_up(messages, first_produced=published[0])
    assert all(m.missed_frames >= 2 for m in messages[1:])  # 50 fps camera, 10 fps subscriber


async def test_one_stalled_subscriber_does_not_slow_the_camera_or_three_fast_ones(small: RunningService) -> None:
    published = record_published(small)
    stalled = small.stub.Frames(pb.FramesRequest(policy=QUEUE, queue_depth=4))  # opened, never read
    await eventually(lambda: small.runtime.frames.subscriber_count == 1)
    request = pb.FramesRequest(policy=QUEUE, queue_depth=64, max_frames=40)
    fast = await asyncio.gather(*(collect(small.stub.Frames(request)) for _ in range(3)))
    for messages in fast:
        assert len(messages) == 40
        # Every frame the camera published while it was subscribed reached it: the stalled subscriber cost it
        # nothing. (Frame numbers the camera itself skipped, e.g. when this machine is busy, are counted as
        # missed too, so the check is against what was published, not against a gap-free numbering.)
        numbers = [m.frame_number for m in messages]
        assert [n for n in published if numbers[0] <= n <= numbers[-1]] == numbers
    for subscription in small.runtime.frames.subscriptions:
        assert subscription.buffered <= 4  # the stalled one's memory is bounded by its policy
    stalled.cancel()
    await eventually(lambda: small.runtime.frames.subscriber_count == 0)


async def test_a_frame_is_encoded_once_for_all_subscribers_wanting_the_same_rendition(small: RunningService) -> None:
    hub = small.runtime.frames
    request = pb.FramesRequest(encoding=pb.FRAME_ENCODING_JPEG, quality=80, max_width=160, policy=QUEUE, max_frames=8)
    before = hub.encode_count
    results = await asyncio.gather(*(collect(small.stub.Frames(request)) for _ in range(4)))
    delivered = {m.frame_number for messages in results for m in messages}
    assert all(len(messages) == 8 for messages in results)
    assert hub.encode_count - before == len(delivered)  # not 4x: one encode per frame


async def test_settings_and_captures_work_while_frames_stream(small: RunningService) -> None:
    call = small.stub.Frames(pb.FramesRequest(policy=QUEUE, queue_depth=64))
    first = await call.read()
    assert first.exposure_ms == pytest.approx(1.0)
    await small.stub.UpdateSettings(pb.UpdateSettingsRequest(exposure_ms=4.0, gain_db=2.0))
    capture = await small.stub.Capture(pb.CaptureRequest(exposure_ms=6.0))
    assert capture.exposure_ms == pytest.approx(6.0)  # the captured frame was taken with what was asked
    seen = [first]
    while not (seen[-1].exposure_ms == pytest.approx(6.0) and seen[-1].frame_number > capture.frame_number):
        seen.append(await call.read())
    call.cancel()
    exposures = [m.exposure_ms for m in seen]
    assert pytest.approx(4.0) in exposures  # the frames after the update show it
    assert capture.frame_number in {m.frame_number for m in seen}  # the capture came from the shared stream
    later = [m for m in seen if m.frame_number > capture.frame_number]
    assert all(m.exposure_ms == pytest.approx(6.0) and m.gain_db == pytest.approx(2.0) for m in later)


async def test_cancelling_frees_the_subscription_and_churn_leaves_nothing_running(small: RunningService) -> None:
    hub = small.runtime.frames
    tasks_before = len(asyncio.all_tasks())
    for _ in range(25):
        call = small.stub.Frames(pb.FramesRequest(encoding=pb.FRAME_ENCODING_JPEG, max_width=64))
        await call.read()
        call.cancel()
    await eventually(lambda: hub.subscriber_count == 0)
    await eventually(lambda: not small.runtime.worker.is_acquiring)  # stopped after the linger
    await eventually(lambda: len(asyncio.all_tasks()) <= tasks_before)


async def test_a_camera_disconnect_ends_streams_with_unavailable(small: RunningService) -> None:
    call = small.stub.Frames(pb.FramesRequest())
    await call.read()
    small.camera.unplug()
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        while await call.read() is not grpc.aio.EOF:
            pass
    assert caught.value.code() == grpc.StatusCode.UNAVAILABLE
    assert small.runtime.frames.subscriber_count == 0
    small.camera.replug()


async def test_shutdown_ends_streams_with_a_status(small: RunningService) -> None:
    call = small.stub.Frames(pb.FramesRequest())
    await call.read()
    await small.runtime.frames.close()
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        while await call.read() is not grpc.aio.EOF:
            pass
    assert caught.value.code() == grpc.StatusCode.UNAVAILABLE
    assert "shutting down" in caught.value.details()


async def test_invalid_stream_options_are_refused(small: RunningService) -> None:
    for request in (
        pb.FramesRequest(quality=0),
        pb.FramesRequest(quality=101),
        pb.FramesRequest(max_fps=-1.0),
        pb.FramesRequest(queue_depth=100_000),
        pb.FramesRequest(encoding=17),  # type: ignore[arg-type]
        pb.FramesRequest(policy=9),  # type: ignore[arg-type]
    ):
        with pytest.raises(grpc.aio.AioRpcError) as caught:
            async for _ in small.stub.Frames(request):
                pass
        assert caught.value.code() == grpc.StatusCode.INVALID_ARGUMENT, request
    assert small.runtime.frames.subscriber_count == 0


async def test_too_many_subscribers_is_resource_exhausted(start_service: ServiceFactory) -> None:
    service = await start_service(max_subscribers=2, max_streams_per_peer=2, **SMALL_CAMERA)
    open_calls = [
        service.stub.Frames(pb.FramesRequest(max_width=32, encoding=pb.FRAME_ENCODING_JPEG)) for _ in range(2)
    ]
    for call in open_calls:
        await call.read()
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        async for _ in service.stub.Frames(pb.FramesRequest()):
            pass
    assert caught.value.code() == grpc.StatusCode.RESOURCE_EXHAUSTED
    assert "at most 2 frame streams" in caught.value.details() and "MAX_SUBSCRIBERS" in caught.value.details()
    for call in open_calls:
        call.cancel()


async def test_raw_16_bit_frames_larger_than_4_mib_reach_a_client_with_matching_limits(
    start_service: ServiceFactory,
) -> None:
    service = await start_service(simulated_pixel_format="mono16")  # 2448x2048x2 bytes = 10 MB per frame
    async with grpc.aio.insecure_channel(
        service.address, options=[("grpc.max_receive_message_length", 64 * 1024 * 1024)]
    ) as channel:
        stub = camera_pb2_grpc.CameraServiceStub(channel)
        messages = [m async for m in stub.Frames(pb.FramesRequest(max_frames=2))]
    for message in messages:
        assert (message.pixel_format, message.bit_depth) == (pb.PIXEL_FORMAT_MONO16, 12)
        assert len(message.data) == 2448 * 2048 * 2 > 4 * 1024 * 1024
        pixels = np.frombuffer(message.data, "<u2").reshape(2048, 2448)
        assert int(pixels.max()) <= 4095
        assert read_frame_number(pixels, full_scale=4095) == message.frame_number


# -- the policies themselves, without a transport in between ---------------------------------------


@pytest.mark.parametrize(
    ("policy", "depth", "expected_numbers", "expected_missed"),
    [
        (Policy.LATEST, 8, [10], [9]),  # only the newest survives; frames 1-9 were missed
        (Policy.QUEUE, 3, [8, 9, 10], [7, 0, 0]),  # the newest 3, in order; 1-7 dropped
        (Policy.QUEUE, 16, list(range(1, 11)), [0] * 10),  # room for all: nothing lost
    ],
)
async def test_subscription_policy_and_accounting(
    policy: Policy, depth: int, expected_numbers: list[int], expected_missed: list[int]
) -> None:
    with ThreadPoolExecutor(1) as executor:
        subscription = Subscription(
            FrameHub(CameraWorker(SimulatedCamera(16, 16)), executor), StreamOptions(policy=policy, queue_depth=depth)
        )
        for number in range(1, 11):  # ten frames arrive before the reader looks
            subscription.offer(_Entry(synthetic_frame(number), number))
        assert subscription.buffered == len(expected_numbers)
        reader = aiter(subscription)
        deliveries = [await anext(reader) for _ in expected_numbers]
    assert [d.frame.frame_number for d in deliveries] == expected_numbers
    assert [d.missed_frames for d in deliveries] == expected_missed
    assert [d.sequence_number for d in deliveries] == list(range(1, len(expected_numbers) + 1))
    assert all(d.encoded.data == d.frame.pixels.tobytes() for d in deliveries)


async def test_ending_a_subscription_drops_its_buffer_and_raises_at_once() -> None:
    with ThreadPoolExecutor(1) as executor:
        subscription = Subscription(FrameHub(CameraWorker(SimulatedCamera(16, 16)), executor), StreamOptions())
        subscription.offer(_Entry(synthetic_frame(1), 1))
        subscription.end(ServiceStoppingError("shutting down"))
        assert subscription.buffered == 0
        with pytest.raises(ServiceStoppingError):
            await anext(aiter(subscription))


# -- acquisition restarts (ROI, addressing, pixel format changed while streaming) -------------------------------
# The hub directly, with frames whose geometry changes as a driver's apply_settings makes them change.


class AcquiringWorker:
    """Stands in for a camera worker whose acquisition is running: frames come from the test."""

    is_acquiring = True

    def set_acquiring(self, acquiring: bool) -> Future[None]:
        self.is_acquiring = acquiring
        done: Future[None] = Future()
        done.set_result(None)
        return done


def frame_of(number: int, width: int, height: int, pixel_format: PixelFormat = PixelFormat.MONO8) -> Frame:
    bit_depth = 12 if pixel_format.is_16_bit else 8
    pixels = np.full((height, width), number % 256, pixel_format.sample_type)
    return Frame(pixels, pixel_format, bit_depth, number, datetime.now(UTC), 1.0, 0.0)


@contextlib.asynccontextmanager
async def hub_of(**limits: int) -> AsyncIterator[FrameHub]:
    with ThreadPoolExecutor(1) as executor:
        hub = FrameHub(AcquiringWorker(), executor, **limits)  # type: ignore[arg-type]
        try:
            yield hub
        finally:
            await hub.close()


#: Numbers of the frames after a restart: going on, jumping ahead, or starting again lower.
AFTER_RESTART = {"continue": range(11, 16), "jump": range(500, 505), "restart lower": range(1, 6)}


@pytest.mark.parametrize("numbering", AFTER_RESTART)
async def test_a_geometry_change_shows_in_the_next_message_and_the_restart_is_not_missed(numbering: str) -> None:
    old = [frame_of(number, 64, 48) for number in range(1, 11)]
    new = [frame_of(number, 32, 16, PixelFormat.MONO16) for number in AFTER_RESTART[numbering]]
    async with hub_of() as hub, hub.subscribe(StreamOptions(policy=Policy.QUEUE, queue_depth=64)) as subscription:
        for frame in [*old, *new]:
            hub._dispatch(frame)
        reader = aiter(subscription)
        deliveries = [await anext(reader) for _ in range(len(old) + len(new))]
    assert [d.frame for d in deliveries] == [*old, *new]  # the stream goes on, every frame in order
    assert [(d.encoded.width, d.encoded.height) for d in deliveries] == [(64, 48)] * 10 + [(32, 16)] * 5
    assert [d.frame.pixel_format for d in deliveries] == [PixelFormat.MONO8] * 10 + [PixelFormat.MONO16] * 5
    assert [len(d.encoded.data) for d in deliveries] == [64 * 48] * 10 + [32 * 16 * 2] * 5
    assert [d.missed_frames for d in deliveries] == [0] * 15  # nothing missed: the gap is the restart


async def test_frames_missed_on_both_sides_of_a_restart_are_counted_exactly() -> None:
    async with hub_of() as hub, hub.subscribe(StreamOptions(policy=Policy.LATEST)) as subscription:
        for number in range(1, 11):  # the old run: this reader takes none of its frames
            hub._dispatch(frame_of(number, 64, 48))
        for number in (1, 2, 4):  # the new run numbers afresh; the camera dropped its frame 3
            hub._dispatch(frame_of(number, 32, 16))
        delivery = await anext(aiter(subscription))
    # produced: 10 before the restart, then 4 (1-4); received 1: 13 missed, the restart itself not counted
    assert (delivery.frame.frame_number, delivery.frame.width, delivery.missed_frames) == (4, 32, 13)


async def test_a_restart_reported_by_the_camera_thread_is_not_missed_even_with_the_same_geometry() -> None:
    async with hub_of() as hub, hub.subscribe(StreamOptions(policy=Policy.QUEUE, queue_depth=64)) as subscription:
        for number in range(1, 6):
            hub._dispatch(frame_of(number, 16, 16))
        hub.acquisition_restarted()  # as a driver's stop/start around a frame-rate change would
        await asyncio.sleep(0)  # the hook is handed to the event loop in order with the frames
        for number in range(40, 43):  # same geometry, numbers jumped
            hub._dispatch(frame_of(number, 16, 16))
        hub._dispatch(frame_of(45, 16, 16))  # and a real drop within the new run: 43 and 44
        reader = aiter(subscription)
        deliveries = [await anext(reader) for _ in range(9)]
    assert [d.missed_frames for d in deliveries] == [0] * 8 + [2]


async def test_byte_budgets_count_frames_of_a_new_geometry_at_their_size() -> None:
    small_bytes, large_bytes = 16 * 16, 64 * 64 * 2
    async with (
        hub_of(subscriber_budget_bytes=3 * large_bytes, budget_bytes=4 * large_bytes) as hub,
        hub.subscribe(StreamOptions(policy=Policy.QUEUE, queue_depth=1024)) as subscription,
    ):
        for number in range(1, 91):  # small frames: 90 fit in the budget
            hub._dispatch(frame_of(number, 16, 16))
        assert subscription.buffered == 90 and hub.held_bytes == 90 * small_bytes
        for number in range(1, 51):  # after the change, each frame is 32x larger
            hub._dispatch(frame_of(number, 64, 64, PixelFormat.MONO16))
            assert subscription.held_bytes <= 3 * large_bytes and hub.held_bytes <= 4 * large_bytes
        assert subscription.buffered == 3 and hub.held_bytes == 3 * large_bytes  # only large frames left
        delivery = await anext(aiter(subscription))
    assert (delivery.frame.frame_number, delivery.missed_frames) == (48, 137)  # 90 + 47 not received


def update(**settings: object) -> pb.UpdateSettingsRequest:
    """An UpdateSettings request that sets just these fields (a FieldMask of their names)."""
    return pb.UpdateSettingsRequest(
        settings=pb.CameraSettings(**settings), update_mask=field_mask_pb2.FieldMask(paths=list(settings))
    )


async def read_until(
    call: grpc.aio.UnaryStreamCall, done: Callable[[pb.FramesResponse], bool]
) -> list[pb.FramesResponse]:
    """Messages up to and including the first for which ``done`` is true (the stream must not end before)."""
    messages: list[pb.FramesResponse] = []
    while not messages or not done(messages[-1]):
        message = await call.read()
        assert message is not grpc.aio.EOF, "stream ended early"
        messages.append(message)
    return messages


async def test_roi_and_pixel_format_changed_while_streaming_show_in_the_next_messages_and_nothing_is_missed(
    small: RunningService,
) -> None:
    published = record_published(small)
    raw = small.stub.Frames(pb.FramesRequest(policy=QUEUE, queue_depth=256))
    jpeg = small.stub.Frames(pb.FramesRequest(policy=QUEUE, queue_depth=256, encoding=pb.FRAME_ENCODING_JPEG))
    before = await read_until(raw, lambda m: m.sequence_number == 5)
    await small.stub.UpdateSettings(update(roi=pb.Region(offset_x=32, offset_y=16, width=160, height=120)))
    smaller = await read_until(raw, lambda m: m.width == 160)
    await small.stub.UpdateSettings(update(pixel_format=pb.PIXEL_FORMAT_MONO16))
    sixteen = await read_until(raw, lambda m: m.pixel_format == pb.PIXEL_FORMAT_MONO16)
    sixteen += await read_n(raw, 3)
    messages = [*before, *smaller, *sixteen]
    geometries = [(m.width, m.height, m.pixel_format, m.bit_depth, len(m.data)) for m in messages]
    full, roi = (320, 240, pb.PIXEL_FORMAT_MONO8, 8, 320 * 240), (160, 120, pb.PIXEL_FORMAT_MONO8, 8, 160 * 120)
    deep = (160, 120, pb.PIXEL_FORMAT_MONO16, 12, 160 * 120 * 2)
    # each message has its own frame's geometry; each change happens once, between two frames
    assert geometries == sorted(geometries, key=[full, roi, deep].index)
    assert {full, roi, deep} == set(geometries)
    # (the camera thread records a frame just after handing it to the hub: wait for that)
    await eventually(lambda: messages[-1].frame_number in published, what="the last frame delivered recorded")
    # every frame the camera produced reached this QUEUE subscriber; missed counts only the camera's own gaps
    # within one geometry (the simulated camera skips a frame it could not deliver in time), never a restart
    assert [m.frame_number for m in messages] == [n for n in published if n <= messages[-1].frame_number]
    expected_missed = [0] + [
        m.frame_number - previous.frame_number - 1
        if (m.width, m.pixel_format) == (previous.width, previous.pixel_format)
        else 0
        for previous, m in itertools.pairwise(messages)
    ]
    assert [m.missed_frames for m in messages] == expected_missed
    # the JPEG subscriber's stream went on through both restarts too, its images of the new size
    jpegs = await read_until(jpeg, lambda m: m.frame_number >= messages[-1].frame_number)
    jpeg.cancel()
    sizes = [(m.width, m.height) for m in jpegs]
    assert sizes[0] == (320, 240) and sizes[-1] == (160, 120) and sum(m.missed_frames for m in jpegs) == 0
    with Image.open(io.BytesIO(jpegs[-1].data)) as image:
        assert image.size == (160, 120)


async def test_a_colour_camera_streams_raw_as_the_mosaic_and_jpeg_png_in_colour(start_service: ServiceFactory) -> None:
    service = await start_service(**{**SMALL_CAMERA, "simulated_color": True})
    for encoding in (pb.FRAME_ENCODING_RAW, pb.FRAME_ENCODING_JPEG, pb.FRAME_ENCODING_PNG):
        (message,) = [m async for m in service.stub.Frames(pb.FramesRequest(encoding=encoding, max_frames=1))]
        assert pb.PixelFormat.Name(message.pixel_format).startswith("PIXEL_FORMAT_BAYER8_")
        if encoding == pb.FRAME_ENCODING_RAW:  # the mosaic, one sample per pixel
            assert len(message.data) == 320 * 240
        else:
            image = cv2.imdecode(np.frombuffer(message.data, np.uint8), cv2.IMREAD_UNCHANGED)
            assert image.shape == (240, 320, 3)
    # a raw preview stays a mosaic of the same phase: even size, one sample per pixel
    (small,) = [m async for m in service.stub.Frames(pb.FramesRequest(max_width=101, max_frames=1))]
    assert (small.width, small.height, len(small.data)) == (100, 76, 100 * 76)


# -- statistics (issue 17) -------------------------------------------------------------------------------------


def with_statistics(bins: int = 0, **fields: object) -> pb.FramesRequest:
    return pb.FramesRequest(statistics=pb.FrameStatisticsOptions(histogram_bins=bins), **fields)  # type: ignore[arg-type]


async def test_statistics_describe_the_raw_frame_they_came_with(small: RunningService) -> None:
    (message,) = [m async for m in small.stub.Frames(with_statistics(64, max_frames=1))]
    pixels = np.frombuffer(message.data, np.uint8).reshape(240, 320)  # 76,800 pixels: all counted (step 1)
    stats = message.statistics
    (mono,) = stats.channels
    assert (mono.channel, stats.subsample_step, stats.bit_depth) == ("mono", 1, 8)
    assert sum(mono.histogram) == pixels.size and len(mono.histogram) == 64
    assert list(mono.histogram) == np.bincount(pixels.ravel() // 4, minlength=64).tolist()
    assert (mono.min, mono.max) == (pixels.min(), pixels.max())
    assert mono.mean == pytest.approx(pixels.mean())
    assert mono.saturated_fraction == pytest.approx(np.mean(pixels == 255))
    laplacian = cv2.Laplacian(pixels.astype(np.float64), cv2.CV_64F)
    assert stats.focus_score == pytest.approx(laplacian.var(), rel=1e-4) and stats.focus_score > 0


async def test_a_large_frame_is_counted_on_a_grid_and_the_histogram_sums_to_its_samples(
    service: RunningService,
) -> None:
    request = with_statistics(encoding=pb.FRAME_ENCODING_NONE, max_frames=1)
    (message,) = [m async for m in service.stub.Frames(request)]  # 2448x2048
    step = message.statistics.subsample_step
    assert step > 1 and message.data == b"" and (message.width, message.height) == (2448, 2048)
    (mono,) = message.statistics.channels
    assert sum(mono.histogram) == -(-2448 // step) * -(-2048 // step) and len(mono.histogram) == 256


async def test_saturated_fraction_rises_with_exposure_and_none_sends_no_data(small: RunningService) -> None:
    call = small.stub.Frames(with_statistics(encoding=pb.FRAME_ENCODING_NONE, policy=QUEUE, queue_depth=64))
    dim = await read_until(call, lambda m: m.exposure_ms == pytest.approx(1.0))
    await small.stub.UpdateSettings(update(exposure_ms=150.0))  # 1.5x the scene's designed full scale
    bright = await read_until(call, lambda m: m.exposure_ms == pytest.approx(150.0))
    call.cancel()
    assert all(m.data == b"" and m.encoding == pb.FRAME_ENCODING_NONE for m in [*dim, *bright])
    assert (bright[-1].width, bright[-1].height) == (320, 240)
    before, after = dim[-1].statistics.channels[0], bright[-1].statistics.channels[0]
    assert after.saturated_fraction > 0.2 > 0.01 > before.saturated_fraction
    assert after.mean > 10 * before.mean and after.max == 255


async def test_a_colour_camera_has_red_green_and_blue_statistics(start_service: ServiceFactory) -> None:
    service = await start_service(**{**SMALL_CAMERA, "simulated_color": True})
    request = with_statistics(16, encoding=pb.FRAME_ENCODING_NONE, max_frames=1)
    (message,) = [m async for m in service.stub.Frames(request)]
    channels = {channel.channel: channel for channel in message.statistics.channels}
    assert list(channels) == ["red", "green", "blue"]
    samples = [sum(channel.histogram) for channel in channels.values()]
    assert samples == [160 * 120, 2 * 160 * 120, 160 * 120]  # each colour at its own sites of the mosaic


async def test_subscribers_asking_for_the_same_bins_share_one_computation(small: RunningService) -> None:
    hub = small.runtime.frames
    request = with_statistics(32, encoding=pb.FRAME_ENCODING_NONE, policy=QUEUE, queue_depth=64, max_frames=8)
    before = hub.statistics_count
    results = await asyncio.gather(*(collect(small.stub.Frames(request)) for _ in range(3)))
    delivered = {m.frame_number for messages in results for m in messages}
    assert all(
        len(messages) == 8 and all(len(m.statistics.channels[0].histogram) == 32 for m in messages)
        for messages in results
    )
    assert hub.statistics_count - before == len(delivered)  # not 3x: once per frame
    by_frame = {}
    for message in (m for messages in results for m in messages):  # and all got the same result
        assert by_frame.setdefault(message.frame_number, message.statistics) == message.statistics
    plain = [m async for m in small.stub.Frames(pb.FramesRequest(max_frames=2))]
    assert not any(m.HasField("statistics") for m in plain)  # only those who asked


async def test_live_frames_carry_statistics_too(small: RunningService) -> None:
    call = small.stub.LiveFrames()
    await call.write(
        pb.LiveFramesRequest(subscription=with_statistics(128, encoding=pb.FRAME_ENCODING_NONE), credits=1)
    )
    frame = (await call.read()).frame
    call.cancel()
    assert frame.data == b"" and sum(frame.statistics.channels[0].histogram) == 320 * 240
    assert len(frame.statistics.channels[0].histogram) == 128


@pytest.mark.parametrize(("bins", "most"), [(257, 256), (4097, 256)])
async def test_histogram_bins_beyond_the_bit_depth_or_4096_are_refused(
    small: RunningService, bins: int, most: int
) -> None:
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        async for _ in small.stub.Frames(with_statistics(bins, max_frames=1)):  # wrongly accepted: ends soon
            pass
    assert caught.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert "statistics.histogram_bins" in caught.value.details()
    assert f"between 1 and {most} bins" in caught.value.details()
    assert small.runtime.frames.subscriber_count == 0


async def test_statistics_are_computed_on_the_encoder_pool_not_the_loop_or_camera_thread(
    small: RunningService, monkeypatch: pytest.MonkeyPatch
) -> None:
    threads: list[str] = []
    compute = streaming.frame_statistics

    def observed(*args: object) -> object:
        threads.append(threading.current_thread().name)
        return compute(*args)  # type: ignore[arg-type]

    monkeypatch.setattr(streaming, "frame_statistics", observed)
    messages = [m async for m in small.stub.Frames(with_statistics(encoding=pb.FRAME_ENCODING_NONE, max_frames=3))]
    assert len(messages) == 3 and all(m.HasField("statistics") for m in messages)
    assert threads and all(name.startswith("encode") for name in threads), threads
