"""The events hub: the camera's and the service's events, numbered, fanned out to subscribers.

Sources (issue 13):

* the camera's own events (hardware trigger, trigger missed, frames skipped, GPIO input,
  disconnect), delivered by the worker's event listener from whatever thread reported them (an
  SDK callback thread, the camera thread): :meth:`EventHub.on_camera_event` only stamps the host
  time and hands the event to the loop with ``call_soon_threadsafe``; nothing there touches state;
* the connection (connected, reconnected with the settings re-applied), settings changes (revision
  and cause) and saved captures, published by the controller;
* recordings started, ended and failed (issue 14), published by the recording manager
  (:mod:`camera_grpc.core.recording`) from the caller's thread and the recording's writer thread;
* the disk nearly full (``DISK_SPACE_LOW``, :mod:`camera_grpc.core.disk`), and files uploaded to the object
  store (``OBJECT_UPLOADED``, issue 16);
* the sensor temperature, read periodically (:data:`SENSOR_TEMPERATURE_INTERVAL_S`) on the camera
  thread where the camera has it (:meth:`EventHub.follow_temperature`);
* the service stopping (:meth:`EventHub.close`): the last event; then every stream ends.

**Threads.** All state of the hub (the sequence counter, the subscribers and their queues) is
written by the event loop only; other threads use :meth:`EventHub.publish_threadsafe` /
:meth:`EventHub.on_camera_event`. Published :class:`Event` s are frozen: the same object goes to
every subscriber.

Each subscriber has a bounded queue (:data:`EVENT_QUEUE_SIZE` events): when it is full the
oldest event is dropped and counted, and the next event delivered says how many were lost
(``missed_events``), like ``missed_frames`` of the frame streams.
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import enum
import logging
from collections.abc import AsyncIterator, Awaitable, Callable, Collection
from dataclasses import dataclass
from datetime import UTC, datetime

from camera_grpc.core.metrics import ServiceMetrics
from camera_grpc.device.events import CameraEvent, CameraEventType, IoStatus
from camera_grpc.device.settings import TriggerEdge
from camera_grpc.errors import CameraServiceError, ServiceStoppingError

log = logging.getLogger(__name__)

#: Events one subscriber's queue holds; when it is full the oldest is dropped and counted in ``missed_events``.
EVENT_QUEUE_SIZE = 256

#: How often the sensor temperature is read and published (where the camera has it), seconds.
SENSOR_TEMPERATURE_INTERVAL_S = 10.0


class EventType(enum.Enum):
    """What happened (``camera.v1.EventType``)."""

    CAMERA_CONNECTED = "camera_connected"  #: the first connect since the service started
    CAMERA_DISCONNECTED = "camera_disconnected"
    CAMERA_RECONNECTED = "camera_reconnected"  #: back, with the requested settings re-applied
    SETTINGS_CHANGED = "settings_changed"
    HARDWARE_TRIGGER = "hardware_trigger"
    TRIGGER_MISSED = "trigger_missed"
    FRAMES_SKIPPED = "frames_skipped"
    CAPTURE_SAVED = "capture_saved"
    SENSOR_TEMPERATURE = "sensor_temperature"
    GPIO_INPUT = "gpio_input"
    SERVICE_STOPPING = "service_stopping"
    RECORDING_STARTED = "recording_started"  #: ``recording`` names it
    RECORDING_ENDED = "recording_ended"  #: completed or stopped; ``count``: the frames written
    RECORDING_FAILED = "recording_failed"  #: ``message``: the reason; ``count``: the frames written (kept)
    OBJECT_UPLOADED = "object_uploaded"  #: ``bucket``, ``object_key``, and ``filename`` or ``recording``
    DISK_SPACE_LOW = "disk_space_low"  #: ``free_bytes`` below DISK_SPACE_LOW_BYTES (once per crossing)


#: The hub's event type of each camera event type.
CAMERA_EVENT_TYPES: dict[CameraEventType, EventType] = {
    CameraEventType.DISCONNECTED: EventType.CAMERA_DISCONNECTED,
    CameraEventType.HARDWARE_TRIGGER: EventType.HARDWARE_TRIGGER,
    CameraEventType.TRIGGER_MISSED: EventType.TRIGGER_MISSED,
    CameraEventType.FRAMES_SKIPPED: EventType.FRAMES_SKIPPED,
    CameraEventType.GPIO_INPUT: EventType.GPIO_INPUT,
}


@dataclass(frozen=True)
class Event:
    """One event. Immutable: the same object goes to every subscriber."""

    sequence_number: int  #: consecutive for one run of the service, from 1
    type: EventType
    time: datetime  #: when the service learned of it (host clock, UTC)
    message: str  #: a sentence for people
    camera_time_s: float | None = None  #: the camera's timestamp of it, seconds on ``camera_clock``
    camera_clock: str = ""  #: the clock of camera_time_s (as :attr:`camera_grpc.device.base.Frame.camera_clock`)
    settings_revision: int = 0  #: SETTINGS_CHANGED, CAMERA_RECONNECTED
    cause: str = ""  #: SETTINGS_CHANGED
    edge: TriggerEdge | None = None  #: HARDWARE_TRIGGER, GPIO_INPUT
    count: int = 0  #: missed triggers, skipped frames; HARDWARE_TRIGGER: the edges seen this run
    filename: str = ""  #: CAPTURE_SAVED
    temperature_c: float | None = None  #: SENSOR_TEMPERATURE
    line: int = 0  #: GPIO_INPUT
    high: bool = False  #: GPIO_INPUT
    recording: str = ""  #: RECORDING_*, OBJECT_UPLOADED of a recording's file: ``recordings/{id}``
    bucket: str = ""  #: OBJECT_UPLOADED
    object_key: str = ""  #: OBJECT_UPLOADED
    free_bytes: int = 0  #: DISK_SPACE_LOW: bytes left on the disk


@dataclass(frozen=True)
class EventDelivery:
    """An event as one subscriber receives it."""

    event: Event
    missed_events: int  #: events this subscriber lost (oldest dropped) since its previous delivery


class EventSubscription:
    """One subscriber's bounded queue (event loop only)."""

    def __init__(self, types: frozenset[EventType], size: int) -> None:
        self._types = types
        self._queue: collections.deque[Event] = collections.deque()
        self._size = size
        self._missed = 0
        self._wakeup = asyncio.Event()
        self._ended = False

    def wants(self, event: Event) -> bool:
        return not self._types or event.type in self._types or event.type is EventType.SERVICE_STOPPING

    def offer(self, event: Event) -> None:
        if len(self._queue) >= self._size:
            self._queue.popleft()
            self._missed += 1
        self._queue.append(event)
        self._wakeup.set()

    def end(self) -> None:
        """No more events: the stream ends once the queue is drained."""
        self._ended = True
        self._wakeup.set()

    def __aiter__(self) -> AsyncIterator[EventDelivery]:
        return self._deliveries()

    async def _deliveries(self) -> AsyncIterator[EventDelivery]:
        while True:
            if self._queue:
                event = self._queue.popleft()
                missed, self._missed = self._missed, 0
                yield EventDelivery(event, missed)
                if event.type is EventType.SERVICE_STOPPING:
                    return
                continue
            if self._ended:
                return
            self._wakeup.clear()
            await self._wakeup.wait()


class EventHub:
    """Numbers events and fans them out (see the module docstring). Create it inside the running event loop."""

    def __init__(self, *, queue_size: int = EVENT_QUEUE_SIZE, metrics: ServiceMetrics | None = None) -> None:
        """``queue_size``: events each subscriber's queue holds before the oldest is dropped."""
        self._loop = asyncio.get_running_loop()
        self._queue_size = queue_size
        self._metrics = metrics
        if metrics is not None:
            metrics.declare_event_types(member.value for member in EventType)
        # Event loop only.
        self._sequence = 0  #: the last sequence number given
        self._subscribers: set[EventSubscription] = set()
        self._listeners: list[Callable[[Event], None]] = []  #: the service's own (not subscribers)
        self._closed = False
        self._camera_clock = ""  #: the connected camera's clock name (for its events)
        self._hardware_triggers = 0  #: hardware trigger edges seen this run

    @property
    def last_sequence_number(self) -> int:
        """The sequence number of the newest event (0: none yet)."""
        return self._sequence

    @property
    def subscriber_count(self) -> int:
        return len(self._subscribers)

    # -- publishing --------------------------------------------------------------------------

    def publish(self, type: EventType, message: str, *, time: datetime | None = None, **fields: object) -> Event | None:
        """Number and deliver an event (event loop only); None once the hub is closed."""
        if self._closed:
            return None
        self._sequence += 1
        event = Event(self._sequence, type, time or datetime.now(UTC), message, **fields)  # type: ignore[arg-type]
        for subscription in self._subscribers:
            if subscription.wants(event):
                subscription.offer(event)
        for listener in self._listeners:
            try:
                listener(event)
            except Exception:
                log.exception("event listener failed")
        if self._metrics is not None:
            self._metrics.event_published(type.value, event.count)
        return event

    def publish_threadsafe(self, type: EventType, message: str, **fields: object) -> None:
        """:meth:`publish` from any thread: the host time is taken now, the event is numbered on the loop."""
        now = datetime.now(UTC)
        with contextlib.suppress(RuntimeError):  # the loop is closed: nobody is listening
            self._loop.call_soon_threadsafe(lambda: self.publish(type, message, time=now, **fields))

    def set_camera_clock(self, clock: str) -> None:
        """The connected camera's clock name, for the camera's events (any thread; applied in order on the loop)."""
        with contextlib.suppress(RuntimeError):
            self._loop.call_soon_threadsafe(self._set_clock, clock)

    def _set_clock(self, clock: str) -> None:
        self._camera_clock = clock

    def on_camera_event(self, event: CameraEvent) -> None:
        """The worker's event listener (any thread, SDK callback threads included): stamp and hand off."""
        now = datetime.now(UTC)
        with contextlib.suppress(RuntimeError):  # the loop is closed: nobody is listening
            self._loop.call_soon_threadsafe(self._camera_event, event, now)

    def _camera_event(self, event: CameraEvent, now: datetime) -> None:
        """A camera event, on the loop."""
        type = CAMERA_EVENT_TYPES[event.type]
        count = event.count
        if type is EventType.HARDWARE_TRIGGER:
            self._hardware_triggers += 1
            count = self._hardware_triggers
        elif type in (EventType.CAMERA_DISCONNECTED, EventType.GPIO_INPUT):
            count = 0
        self.publish(
            type,
            _camera_message(event, count),
            time=now,
            camera_time_s=event.camera_time_s,
            camera_clock=self._camera_clock if event.camera_time_s is not None else "",
            edge=event.edge,
            count=count,
            line=event.line,
            high=event.high,
        )

    # -- subscribing -------------------------------------------------------------------------

    def add_listener(self, listener: Callable[[Event], None]) -> None:
        """Call ``listener`` with every event published from now on, on the event loop (it must not block). For
        the service's own reactions (:class:`camera_grpc.core.disk.DiskSpaceWatch`); not a subscriber."""
        self._listeners.append(listener)

    @contextlib.asynccontextmanager
    async def subscribe(self, types: Collection[EventType] = ()) -> AsyncIterator[EventSubscription]:
        """A subscription to events from now on (of ``types``; empty: all); ends after SERVICE_STOPPING."""
        if self._closed:
            raise ServiceStoppingError("the service is shutting down")
        subscription = EventSubscription(frozenset(types), self._queue_size)
        self._subscribers.add(subscription)
        try:
            yield subscription
        finally:
            self._subscribers.discard(subscription)

    # -- periodic and final --------------------------------------------------------------------

    async def follow_temperature(
        self, read_io: Callable[[], Awaitable[IoStatus]], interval_s: float = SENSOR_TEMPERATURE_INTERVAL_S
    ) -> None:
        """Publish the sensor temperature every ``interval_s`` while the camera can say (run as a task)."""
        while not self._closed:
            await asyncio.sleep(interval_s)
            try:
                status = await read_io()
            except CameraServiceError:  # not connected now: try again at the next interval
                continue
            if status.sensor_temperature_c is not None and not self._closed:
                self.publish(
                    EventType.SENSOR_TEMPERATURE,
                    f"sensor temperature {status.sensor_temperature_c:.1f} °C",
                    temperature_c=status.sensor_temperature_c,
                )

    def close(self) -> None:
        """Publish SERVICE_STOPPING (the last event) and end every subscription (event loop)."""
        if self._closed:
            return
        self.publish(EventType.SERVICE_STOPPING, "the service is stopping")
        self._closed = True
        for subscription in self._subscribers:
            subscription.end()


def _camera_message(event: CameraEvent, count: int) -> str:
    match event.type:
        case CameraEventType.DISCONNECTED:
            return "camera disconnected; reconnecting"
        case CameraEventType.HARDWARE_TRIGGER:
            edge = f" ({event.edge.value} edge)" if event.edge is not None else ""
            return f"hardware trigger {count}{edge}"
        case CameraEventType.TRIGGER_MISSED:
            return f"{count} trigger(s) missed: the camera could not take them"
        case CameraEventType.FRAMES_SKIPPED:
            return f"the camera skipped {count} frame(s) the host did not fetch in time"
        case CameraEventType.GPIO_INPUT:
            return f"GPIO line {event.line} went {'high' if event.high else 'low'}"
    return event.type.value
