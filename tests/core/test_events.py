"""The events hub (issue 13): numbering, bounded queues that report what they dropped, filters, hand-off
from other threads, the last event."""

from __future__ import annotations

import asyncio
import threading
from pathlib import Path

from camera_grpc.core.disk import DiskSpaceWatch
from camera_grpc.core.events import EventHub, EventType
from camera_grpc.device.events import CameraEvent, CameraEventType
from camera_grpc.device.settings import TriggerEdge
from tests.support.waiting import eventually

#: A queue size small enough to overflow in a test.
SMALL_QUEUE = 3


async def test_a_subscriber_that_falls_behind_loses_the_oldest_and_is_told_exactly_how_many() -> None:
    hub = EventHub(queue_size=SMALL_QUEUE)
    async with hub.subscribe() as subscription:
        for index in range(10):
            hub.publish(EventType.CAPTURE_SAVED, f"capture {index}", filename=f"capture_{index}.jpg")
        hub.close()
        deliveries = [delivery async for delivery in subscription]
    # The queue kept the newest three; the first delivered says seven were lost; SERVICE_STOPPING replaced one more.
    numbers = [delivery.event.sequence_number for delivery in deliveries]
    assert numbers == [9, 10, 11]
    assert [delivery.missed_events for delivery in deliveries] == [8, 0, 0]
    assert deliveries[-1].event.type is EventType.SERVICE_STOPPING


async def test_sequence_numbers_are_consecutive_and_missed_events_account_for_every_gap() -> None:
    hub = EventHub(queue_size=SMALL_QUEUE)
    received = []
    async with hub.subscribe() as subscription:
        deliveries = aiter(subscription)
        for burst in range(1, 6):  # bursts of growing size, read one event between bursts
            for _ in range(burst):
                hub.publish(EventType.SETTINGS_CHANGED, "changed")
            received.append(await anext(deliveries))
        hub.close()
        received.extend([delivery async for delivery in deliveries])
    previous = 0
    for delivery in received:
        assert delivery.event.sequence_number == previous + 1 + delivery.missed_events
        previous = delivery.event.sequence_number
    assert previous == hub.last_sequence_number


async def test_a_type_filter_delivers_only_those_types_and_the_last_event() -> None:
    hub = EventHub(queue_size=16)
    async with hub.subscribe([EventType.TRIGGER_MISSED]) as subscription:
        hub.publish(EventType.SETTINGS_CHANGED, "changed")
        hub.publish(EventType.TRIGGER_MISSED, "missed", count=1)
        hub.publish(EventType.CAPTURE_SAVED, "saved")
        hub.close()
        types = [delivery.event.type async for delivery in subscription]
    assert types == [EventType.TRIGGER_MISSED, EventType.SERVICE_STOPPING]


async def test_camera_events_from_another_thread_arrive_in_order_on_the_loop() -> None:
    hub = EventHub(queue_size=1000)
    hub.set_camera_clock("simulated:TEST")
    count = 200
    async with hub.subscribe() as subscription:

        def sdk_thread() -> None:
            for index in range(count):
                hub.on_camera_event(
                    CameraEvent(CameraEventType.HARDWARE_TRIGGER, float(index), edge=TriggerEdge.RISING)
                )

        thread = threading.Thread(target=sdk_thread)
        thread.start()
        await asyncio.to_thread(thread.join)
        await eventually(lambda: hub.last_sequence_number == count, what="every hand-off reached the loop")
        hub.close()
        events = [delivery.event async for delivery in subscription][:-1]
    assert [event.camera_time_s for event in events] == [float(index) for index in range(count)]
    assert [event.count for event in events] == list(range(1, count + 1))  # the edges seen, in order
    assert {event.camera_clock for event in events} == {"simulated:TEST"}


async def test_nothing_is_published_after_the_service_stopping_event() -> None:
    hub = EventHub(queue_size=4)
    hub.close()
    assert hub.publish(EventType.SETTINGS_CHANGED, "late") is None
    assert hub.last_sequence_number == 1


async def test_disk_space_low_is_one_event_per_crossing_below_the_threshold(tmp_path: Path) -> None:
    hub = EventHub(queue_size=16)
    watch = DiskSpaceWatch(hub, threshold_bytes=1000)
    other_disk = Path("/proc")  # another file system: its own crossing
    async with hub.subscribe() as subscription:
        for folder, free in [(tmp_path, 999), (tmp_path, 10), (tmp_path, 1000), (tmp_path, 500), (other_disk, 1)]:
            await asyncio.to_thread(watch.observe, folder, free)  # as the recording and capture threads do
        hub.publish_threadsafe(EventType.SERVICE_STOPPING, "end of test")  # after them (FIFO hand-off)
        events = [delivery.event async for delivery in subscription]
    low = [event for event in events if event.type is EventType.DISK_SPACE_LOW]
    assert [event.free_bytes for event in low] == [999, 500, 1]  # 10: still low; 1000: recovered
    assert str(tmp_path) in low[0].message and "999 bytes free" in low[0].message


async def test_a_zero_threshold_never_reports_and_check_measures_the_real_disk(tmp_path: Path) -> None:
    hub = EventHub(queue_size=16)
    async with hub.subscribe() as subscription:
        assert await asyncio.to_thread(DiskSpaceWatch(hub, threshold_bytes=0).check, tmp_path) > 0
        assert await asyncio.to_thread(DiskSpaceWatch(hub, threshold_bytes=2**60).check, tmp_path / "missing") is None
        free = await asyncio.to_thread(DiskSpaceWatch(hub, threshold_bytes=2**60).check, tmp_path)
        hub.publish_threadsafe(EventType.SERVICE_STOPPING, "end of test")
        events = [delivery.event async for delivery in subscription]
    assert [(event.type, event.free_bytes) for event in events] == [
        (EventType.DISK_SPACE_LOW, free),
        (EventType.SERVICE_STOPPING, 0),
    ]
