"""The service's Prometheus metrics: one :class:`ServiceMetrics` per service, in a registry of its own.

Nothing is registered in prometheus_client's global default registry and nothing
happens at import: the composition root (:mod:`camera_grpc.service`) creates a
:class:`ServiceMetrics`, hands it to the parts that count (the frame hub, the
controller, the captures store, the gRPC interceptor) and serves its registry at
``/metrics`` on the REST port.

Every name starts with ``camera_grpc_`` (but for the standard ``process_*`` and
``python_*`` series) and every label has a fixed, small set of values:

- ``service``/``method``: the registered gRPC methods (an unknown method is counted
  as ``unknown``); ``code``: the gRPC status codes;
- ``reason`` of a dropped frame: ``policy`` (a newer frame replaced it: the subscriber's
  ``LATEST`` buffer or full ``QUEUE``), ``budget`` (``FRAMES_SUBSCRIBER_BUDGET_BYTES`` or
  ``FRAMES_BUDGET_BYTES``), ``max_fps`` (the subscriber's rate limit) and ``camera`` (frame
  numbers the camera skipped: frames it took that the service did not get in time);
- ``encoding``/``policy`` of a subscriber: ``raw``/``jpeg``/``png``, ``latest``/``queue``;
- ``stage`` of a capture: ``grab``, ``encode``, ``write``;
- ``protocol`` of a connection: ``grpc``, ``http``;
- ``type`` of an event: the values of :class:`camera_grpc.core.events.EventType` (declared by the events hub);
- ``source`` of a trigger: ``software``, ``hardware``.

Counting is thread-safe (prometheus_client's own locks): the camera thread and the
encoder threads observe directly. Gauges that are a view of the service's state
(camera connected, bytes queued, connections, disk free) are read when scraped.
"""

from __future__ import annotations

import shutil
from collections.abc import Awaitable, Callable, Iterable, Iterator
from pathlib import Path

from prometheus_client import (
    CollectorRegistry,
    Counter,
    Gauge,
    GCCollector,
    Histogram,
    PlatformCollector,
    ProcessCollector,
    make_asgi_app,
)
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from camera_grpc.device.worker import CameraState
from camera_grpc.formats import Encoding

PREFIX = "camera_grpc_"

#: Why a frame did not reach a subscriber (see the module docstring).
DROP_REASONS = ("policy", "budget", "max_fps", "camera")
#: Stages of a capture, in order.
CAPTURE_STAGES = ("grab", "encode", "write")
#: Delivery policies of subscribers (``streaming.Policy`` values).
POLICIES = ("latest", "queue")
#: Kinds of connection counted.
PROTOCOLS = ("grpc", "http")
#: Trigger sources counted (``TriggerSource`` values other than free-running).
TRIGGER_SOURCES = ("software", "hardware")

#: RPC latency, seconds: unary calls take from a few hundred microseconds (settings) to the exposure
#: (captures); a stream's is its lifetime.
RPC_BUCKETS = (0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300)
#: Capture stages, seconds: a grab waits for the exposure (up to seconds), encoding and writing a few ms.
CAPTURE_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60)


class ServiceMetrics:
    """The metrics of one service and their registry (:attr:`registry`, to serve)."""

    def __init__(self, captures_dir: Path, *, process: bool = True) -> None:
        """``captures_dir``: the folder whose file system's free space is reported. ``process``: include the
        standard process (CPU, memory, open file descriptors), Python platform and garbage collector series."""
        self.registry = registry = CollectorRegistry()
        self.rpc_requests = Counter(
            PREFIX + "rpc_requests_total",
            "gRPC calls handled, by method and status code (a stream is counted when it ends)",
            ["service", "method", "code"],
            registry=registry,
        )
        self.rpc_duration = Histogram(
            PREFIX + "rpc_duration_seconds",
            "Time from a gRPC call's start to its end, by method (for a stream: its lifetime)",
            ["service", "method"],
            buckets=RPC_BUCKETS,
            registry=registry,
        )
        self.rpc_active = Gauge(
            PREFIX + "rpc_active",
            "gRPC calls in progress, by method (streams included)",
            ["service", "method"],
            registry=registry,
        )
        self.camera_connected = Gauge(
            PREFIX + "camera_connected", "1 while the camera is connected, else 0", registry=registry
        )
        self.camera_ready = Gauge(
            PREFIX + "camera_ready",
            "1 while the camera is connected with the requested settings (health SERVING), else 0",
            registry=registry,
        )
        self.camera_reconnects = Counter(
            PREFIX + "camera_reconnects_total",
            "Times the camera connected again after it had been connected (unplugged and back, reconnects)",
            registry=registry,
        )
        self.frames_produced = Counter(
            PREFIX + "frames_produced_total",
            "Frames the camera delivered in continuous acquisition (while live streams run)",
            registry=registry,
        )
        self.frames_dropped = Counter(
            PREFIX + "frames_dropped_total",
            "Frames a subscriber did not get, by reason (policy, budget, max_fps: one per subscriber and frame; "
            "camera: frames the camera skipped, once each)",
            ["reason"],
            registry=registry,
        )
        self._dropped = {reason: self.frames_dropped.labels(reason) for reason in DROP_REASONS}
        self.frames_subscribers = Gauge(
            PREFIX + "frames_subscribers",
            "Frames streams open (gRPC Frames and the gateway's live views), by encoding and delivery policy",
            ["encoding", "policy"],
            registry=registry,
        )
        for encoding in Encoding:
            for policy in POLICIES:
                self.frames_subscribers.labels(encoding.value, policy)
        self.frames_queued_bytes = Gauge(
            PREFIX + "frames_queued_bytes",
            "Frame bytes the subscribers' queues hold now (a frame held by several counted once)",
            registry=registry,
        )
        self.frames_budget_bytes = Gauge(
            PREFIX + "frames_budget_bytes",
            "Most frame bytes all subscribers' queues may hold together (FRAMES_BUDGET_BYTES)",
            registry=registry,
        )
        self.capture_stage = Histogram(
            PREFIX + "capture_stage_seconds",
            "Time each stage of a capture took: grab (applying settings and taking the frame), "
            "encode (the image file's bytes), write (sidecar and image written, flushed and linked)",
            ["stage"],
            buckets=CAPTURE_BUCKETS,
            registry=registry,
        )
        self._stages = {stage: self.capture_stage.labels(stage) for stage in CAPTURE_STAGES}
        self.open_connections = Gauge(
            PREFIX + "open_connections",
            "Connections open now, by protocol (grpc: the gRPC port; http: the REST gateway's port)",
            ["protocol"],
            registry=registry,
        )
        self.events = Counter(
            PREFIX + "events_total", "Events published to WatchEvents subscribers, by type", ["type"], registry=registry
        )
        self.triggers = Counter(
            PREFIX + "triggers_total",
            "Triggers: software triggers fired (SoftwareTrigger, Capture) and hardware trigger edges the camera saw",
            ["source"],
            registry=registry,
        )
        self._triggers = {source: self.triggers.labels(source) for source in TRIGGER_SOURCES}
        self.triggers_missed = Counter(
            PREFIX + "triggers_missed_total",
            "Triggers that arrived while the camera could not take them (no frame)",
            registry=registry,
        )
        self.camera_frames_skipped = Counter(
            PREFIX + "camera_frames_skipped_total",
            "Frames the camera reported it dropped because the host did not fetch them in time",
            registry=registry,
        )
        registry.register(DiskSpaceCollector(captures_dir))
        if process:
            ProcessCollector(registry=registry)
            PlatformCollector(registry=registry)
            GCCollector(registry=registry)
        self._was_connected = False

    def asgi_app(self) -> Callable[..., Awaitable[None]]:
        """An ASGI app serving these metrics in Prometheus' text format (for the REST gateway's ``/metrics``)."""
        app: Callable[..., Awaitable[None]] = make_asgi_app(self.registry)
        return app

    # -- counting ----------------------------------------------------------------------------

    def frame_dropped(self, reason: str, count: int = 1) -> None:
        """``count`` frames a subscriber did not get, for ``reason`` (one of :data:`DROP_REASONS`)."""
        self._dropped[reason].inc(count)

    def capture_stage_took(self, stage: str, seconds: float) -> None:
        """A capture's ``stage`` (one of :data:`CAPTURE_STAGES`) took ``seconds``."""
        self._stages[stage].observe(seconds)

    def declare_event_types(self, names: Iterable[str]) -> None:
        """Show every event type's count (0 until one is published): the events hub names them."""
        for name in names:
            self.events.labels(name)

    def event_published(self, event_type: str, count: int = 0) -> None:
        """An event of ``event_type`` (a declared type) was published; ``count``: its missed triggers or skipped
        frames."""
        self.events.labels(event_type).inc()
        if event_type == "hardware_trigger":
            self._triggers["hardware"].inc()
        elif event_type == "trigger_missed":
            self.triggers_missed.inc(count)
        elif event_type == "frames_skipped":
            self.camera_frames_skipped.inc(count)

    def software_trigger_fired(self) -> None:
        """A software trigger was fired (SoftwareTrigger or a Capture in software-trigger mode)."""
        self._triggers["software"].inc()

    def subscriber_opened(self, encoding: Encoding, policy: str) -> Callable[[], None]:
        """Count a Frames subscriber; returns the function that uncounts it when it ends."""
        gauge = self.frames_subscribers.labels(encoding.value, policy)
        gauge.inc()
        return gauge.dec

    def on_camera_state(self, state: CameraState) -> None:
        """State listener (camera thread): counts reconnects."""
        if state is CameraState.CONNECTED:
            if self._was_connected:
                self.camera_reconnects.inc()
            self._was_connected = True

    # -- views of the service's state, read when scraped ---------------------------------------

    def follow_camera(self, connected: Callable[[], bool], ready: Callable[[], bool]) -> None:
        """Report the camera's connection (and readiness) as read from these functions at each scrape."""
        self.camera_connected.set_function(lambda: 1.0 if connected() else 0.0)
        self.camera_ready.set_function(lambda: 1.0 if ready() else 0.0)

    def follow_queued_bytes(self, held_bytes: Callable[[], int], budget_bytes: int) -> None:
        """Report the frame bytes queued now, read from ``held_bytes`` at each scrape, and their budget."""
        self.frames_queued_bytes.set_function(held_bytes)
        self.frames_budget_bytes.set(budget_bytes)

    def follow_connections(self, protocol: str, count: Callable[[], int | None]) -> None:
        """Report the connections of ``protocol`` (one of :data:`PROTOCOLS`) as counted by ``count`` at each
        scrape (None when it cannot tell: the series is then NaN)."""

        def value() -> float:
            counted = count()
            return float("nan") if counted is None else float(counted)

        self.open_connections.labels(protocol).set_function(value)


class DiskSpaceCollector(Collector):
    """Free and total bytes of the file system holding the captures folder, read at each scrape.

    Until the folder exists (it is created by the first capture), the nearest existing folder above it.
    """

    FREE = PREFIX + "captures_disk_free_bytes"
    SIZE = PREFIX + "captures_disk_size_bytes"

    def __init__(self, directory: Path) -> None:
        self.directory = directory

    def describe(self) -> Iterable[Metric]:
        return self._families()

    def collect(self) -> Iterator[Metric]:
        usage = None
        for folder in (self.directory, *self.directory.parents):
            try:
                usage = shutil.disk_usage(folder)
                break
            except OSError:
                continue
        return iter(self._families(usage))

    def _families(self, usage: object | None = None) -> list[Metric]:
        free = GaugeMetricFamily(
            self.FREE,
            "Bytes available (to unprivileged users) on the file system of the captures folder (IMAGE_SAVE_PATH)",
        )
        size = GaugeMetricFamily(self.SIZE, "Size of the file system of the captures folder, bytes")
        if usage is not None:
            free.add_metric([], float(usage.free))  # type: ignore[attr-defined]
            size.add_metric([], float(usage.total))  # type: ignore[attr-defined]
        return [free, size]
