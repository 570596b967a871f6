"""Live frames: one acquisition shared by many subscribers.

The camera thread hands every frame to :meth:`FrameHub.publish`, which only
schedules :meth:`FrameHub._dispatch` on the event loop: the camera never waits
for a subscriber. Each subscriber has its own bounded buffer and policy:

* ``latest``: the buffer holds one frame; a newer frame replaces it;
* ``queue``: the buffer holds up to ``queue_depth`` frames; when full, the
  oldest is dropped.

Memory is bounded in bytes too, whatever the depth and the frame size: a
subscriber's buffer holds at most ``subscriber_budget_bytes`` of frames and all
buffers together at most ``budget_bytes`` (each frame counted once, however many
buffers hold it); the oldest frames are dropped to stay within them. The newest
frame is always kept, so a budget smaller than one frame means one frame.

A subscriber's ``missed_frames`` is computed from the camera's frame numbers,
so it counts every frame produced while it was subscribed that it did not get,
whatever the reason (policy, max_fps, the camera itself dropping frames):
frames received plus frames reported missed equals frames produced.

**Acquisition runs.** Changing ROI, pixel addressing or pixel format while
streaming stops and restarts acquisition (the driver does it, see
``CameraDriver.apply_settings``); streams go on, and each message carries its
own frame's width, height and format. After a restart a camera's frame numbers
may continue, jump or start again lower, so numbers are compared only within
one run of acquisition, and the rule is: **the frames between two runs are
never counted as missed** (the camera did not produce them for anyone). A new
run begins when the hub starts acquisition, when the camera's connection state
changes, when :meth:`FrameHub.acquisition_restarted` is called (camera thread),
and, detected from the frames themselves, at a frame whose geometry (width,
height, pixel format, bit depth) differs from the previous one's or whose
number is not above the previous one's. Frames of a run are placed on one
production count (:attr:`_Entry.produced`): within a run it advances by the
frame-number difference (numbers the camera skipped are frames it dropped), from
one run to the next by one. A subscriber's missed count is the gap in that
count, so frames of the old run that a subscriber did not get (its policy
replaced them) are still counted. Byte budgets count each frame at its own size,
so frames of a new geometry are budgeted as they are.

Frames are encoded lazily, off the event loop, once per distinct
(encoding, quality, max_width): subscribers that want the same rendition of
the same frame share one encode. Statistics (:mod:`camera_grpc.core.statistics`)
are computed the same way, on the same executor, once per frame and distinct
number of histogram bins, for the subscribers that asked (``histogram_bins``),
at the same time as the frame's encode. Encoding NONE sends no image data
(statistics-only subscribers): nothing is encoded. Acquisition starts with the
first subscriber and stops ``linger_s`` after the last one leaves.
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import enum
import logging
import time
from collections.abc import AsyncIterator
from concurrent.futures import Executor
from dataclasses import dataclass, field

import numpy as np

from camera_grpc.core import imaging
from camera_grpc.core.memory import release_free_memory
from camera_grpc.core.metrics import ServiceMetrics
from camera_grpc.core.statistics import FrameStatistics, frame_statistics
from camera_grpc.device.base import Frame
from camera_grpc.device.worker import CameraState, CameraWorker
from camera_grpc.errors import (
    CameraServiceError,
    CameraUnavailableError,
    ServiceStoppingError,
    TooManySubscribersError,
)
from camera_grpc.formats import DEFAULT_JPEG_QUALITY, Encoding

log = logging.getLogger(__name__)


#: Frame bytes held at once from which closing the streams that held them gives the memory back to the system.
TRIM_AFTER_BYTES = 32 * 1024 * 1024


class Policy(enum.Enum):
    """What a slow subscriber gets."""

    LATEST = "latest"
    QUEUE = "queue"


@dataclass(frozen=True)
class StreamOptions:
    """One subscriber's choices (validated by the caller)."""

    encoding: Encoding = Encoding.RAW
    quality: int = DEFAULT_JPEG_QUALITY
    max_width: int | None = None
    max_fps: float | None = None
    max_frames: int | None = None
    policy: Policy = Policy.LATEST
    queue_depth: int = 8
    #: Histogram bins of the statistics each delivery carries (validated: core.statistics.histogram_bins);
    #: None: no statistics.
    histogram_bins: int | None = None

    @property
    def rendition(self) -> tuple[Encoding, int, int | None]:
        """Key of the encoded form; subscribers with equal keys share encodes."""
        return (self.encoding, self.quality if self.encoding is Encoding.JPEG else 0, self.max_width)


@dataclass(frozen=True)
class EncodedFrame:
    """A frame in one rendition."""

    data: bytes | memoryview  #: the encoded image, or a read-only view of the raw pixels
    width: int
    height: int


@dataclass(frozen=True)
class Delivery:
    """One message for one subscriber."""

    frame: Frame
    encoded: EncodedFrame
    sequence_number: int
    missed_frames: int
    statistics: FrameStatistics | None = None  #: when the subscriber asked for them


@dataclass(eq=False)
class _Entry:
    """A published frame and its renditions (kept alive only by subscriber buffers)."""

    frame: Frame
    #: Position on the hub's production count (see the module docstring, "Acquisition runs").
    produced: int
    renditions: dict[tuple[Encoding, int, int | None], asyncio.Future[EncodedFrame]] = field(default_factory=dict)
    #: The frame's statistics by histogram bins (computed once for every subscriber asking for those bins).
    statistics: dict[int, asyncio.Future[FrameStatistics]] = field(default_factory=dict)
    #: Subscriptions whose buffer holds this entry now.
    holders: set[Subscription] = field(default_factory=set)

    @property
    def nbytes(self) -> int:
        """The frame's pixel bytes (what holding it costs)."""
        return int(self.frame.pixels.nbytes)


class Subscription:
    """One subscriber's buffer and accounting. Iterate it for :class:`Delivery` objects."""

    def __init__(self, hub: FrameHub, options: StreamOptions) -> None:
        self._hub = hub
        self.options = options
        self._buffer: collections.deque[_Entry] = collections.deque()
        self._capacity = 1 if options.policy is Policy.LATEST else options.queue_depth
        self.held_bytes = 0  #: pixel bytes of the frames in the buffer
        self._wakeup = asyncio.Event()
        self._ended: BaseException | None = None
        self._last_accounted: int | None = None  # production count up to which frames are accounted for
        self._last_offered_at = -float("inf")
        self.sequence_number = 0
        self.delivered = 0

    @property
    def buffered(self) -> int:
        """Frames waiting for this subscriber (bounded by its policy)."""
        return len(self._buffer)

    def offer(self, entry: _Entry) -> None:
        """Called for every published frame (event loop)."""
        if self._last_accounted is None:
            self._last_accounted = entry.produced - 1
        max_fps = self.options.max_fps
        if max_fps:
            now = time.monotonic()
            if now - self._last_offered_at < 1.0 / max_fps:
                self._hub._count_drop("max_fps")
                return  # not offered: counted as missed when the next frame is delivered
            self._last_offered_at = now
        self._buffer.append(entry)
        self.held_bytes += entry.nbytes
        self._hub._hold(entry, self)
        budget = self._hub.subscriber_budget_bytes
        while len(self._buffer) > self._capacity or (self.held_bytes > budget and len(self._buffer) > 1):
            reason = "policy" if len(self._buffer) > self._capacity else "budget"
            self.drop(self._buffer[0])  # the oldest; counted as missed when a later frame is delivered
            self._hub._count_drop(reason)
        self._hub._keep_within_budget(entry)
        self._wakeup.set()

    def drop(self, entry: _Entry) -> None:
        """Remove ``entry`` from the buffer (it is not delivered)."""
        if self._buffer and self._buffer[0] is entry:
            self._buffer.popleft()
        else:
            self._buffer.remove(entry)
        self._release(entry)

    def _release(self, entry: _Entry) -> None:
        self.held_bytes -= entry.nbytes
        self._hub._let_go(entry, self)

    def end(self, error: BaseException) -> None:
        """End the subscription: the iterator raises ``error`` at its next step."""
        if self._ended is None:
            self._ended = error
            self.release_all()
            self._wakeup.set()

    def release_all(self) -> None:
        """Let go of every buffered frame (the subscription is over)."""
        while self._buffer:
            self._release(self._buffer.popleft())

    def __aiter__(self) -> AsyncIterator[Delivery]:
        return self._deliveries()

    async def _deliveries(self) -> AsyncIterator[Delivery]:
        limit = self.options.max_frames
        while limit is None or self.delivered < limit:
            while not self._buffer:
                if self._ended is not None:
                    raise self._ended
                self._wakeup.clear()
                await self._wakeup.wait()
            if self._ended is not None:
                raise self._ended
            entry = self._buffer.popleft()
            self._release(entry)
            # Both started before either is awaited: the encode and the statistics run side by side.
            rendition = self._hub._rendition(entry, self.options)
            bins = self.options.histogram_bins
            computing = self._hub._statistics(entry, bins) if bins is not None else None
            encoded = await asyncio.shield(rendition)
            statistics = await asyncio.shield(computing) if computing is not None else None
            if self._ended is not None:
                raise self._ended
            produced = entry.produced
            missed = max(0, produced - (self._last_accounted or 0) - 1)
            self._last_accounted = max(produced, self._last_accounted or 0)
            self.sequence_number += 1
            self.delivered += 1
            yield Delivery(entry.frame, encoded, self.sequence_number, missed, statistics)
            # Not kept while waiting for the next frame: a subscriber with a low max_fps would pin a frame
            # (megabytes, outside every budget) for as long as it waits.
            del entry, encoded, rendition, computing


class FrameHub:
    """Fans one camera's frames out to subscribers. Create and use it on the event loop."""

    def __init__(
        self,
        worker: CameraWorker,
        executor: Executor,
        *,
        linger_s: float = 2.0,
        max_subscribers: int = 64,
        max_per_peer: int | None = None,
        subscriber_budget_bytes: int = 64 * 1024 * 1024,
        budget_bytes: int = 256 * 1024 * 1024,
        metrics: ServiceMetrics | None = None,
    ) -> None:
        self._worker = worker
        self._executor = executor
        self._linger_s = linger_s
        self._max_subscribers = max_subscribers
        #: Most subscriptions one peer (connection) may hold; default: half of ``max_subscribers``.
        self._max_per_peer = max_per_peer or max(1, max_subscribers // 2)
        self._loop = asyncio.get_running_loop()
        self._subscriptions: set[Subscription] = set()
        #: Holders of acquisition that take no frames from the hub (a running recording), event loop only.
        self._holds = 0
        self._per_peer: collections.Counter[str] = collections.Counter()
        #: Most frame bytes one subscriber's buffer, and all buffers together, may hold.
        self.subscriber_budget_bytes = subscriber_budget_bytes
        self.budget_bytes = budget_bytes
        #: Frames held by any buffer, oldest first, and their bytes (each frame counted once).
        self._held: dict[_Entry, None] = {}
        self.held_bytes = 0
        #: Most bytes held at once since memory was last given back (see :meth:`_give_memory_back`).
        self._peak_held_bytes = 0
        self._trimming = False
        self._linger_task: asyncio.Task[None] | None = None
        self._closed = False
        self.encode_count = 0  #: renditions encoded (event loop)
        self.statistics_count = 0  #: frame statistics computed (event loop)
        self._metrics = metrics
        #: The last frame dispatched in this run of acquisition (None: a new run begins with the next frame)
        #: and its position on the production count (event loop; see "Acquisition runs").
        self._last_frame: Frame | None = None
        self._produced = 0
        if metrics is not None:
            metrics.follow_queued_bytes(lambda: self.held_bytes, budget_bytes)

    @property
    def executor(self) -> Executor:
        """The encoder pool frames are encoded on (other image work of the API, e.g. thumbnails, shares it)."""
        return self._executor

    @property
    def subscriber_count(self) -> int:
        """Subscribers now."""
        return len(self._subscriptions)

    @property
    def subscriptions(self) -> frozenset[Subscription]:
        """The current subscriptions (for monitoring and tests)."""
        return frozenset(self._subscriptions)

    @contextlib.asynccontextmanager
    async def subscribe(self, options: StreamOptions, peer: str | None = None) -> AsyncIterator[Subscription]:
        """Subscribe for the duration of the ``async with`` block.

        ``peer`` names the client's connection (gRPC's ``context.peer()``): one peer may hold at
        most ``max_per_peer`` subscriptions, so no single client takes every slot.
        """
        if self._closed:
            raise ServiceStoppingError("the service is shutting down")
        if len(self._subscriptions) >= self._max_subscribers:
            raise TooManySubscribersError(
                f"at most {self._max_subscribers} frame streams may be open at once (MAX_SUBSCRIBERS)"
            )
        if peer is not None and self._per_peer[peer] >= self._max_per_peer:
            raise TooManySubscribersError(
                f"at most {self._max_per_peer} frame streams may be open at once on one connection "
                "(MAX_STREAMS_PER_PEER)"
            )
        subscription = Subscription(self, options)
        self._subscriptions.add(subscription)
        if peer is not None:
            self._per_peer[peer] += 1
        uncount = self._metrics.subscriber_opened(options.encoding, options.policy.value) if self._metrics else None
        try:
            await self._acquire()
            yield subscription
        finally:
            if uncount is not None:
                uncount()
            self._subscriptions.discard(subscription)
            subscription.release_all()
            if peer is not None:
                self._per_peer[peer] -= 1
                if not self._per_peer[peer]:
                    del self._per_peer[peer]
            self._linger_if_idle()
            self._give_memory_back()

    @contextlib.asynccontextmanager
    async def hold_acquisition(self) -> AsyncIterator[None]:
        """Keep continuous acquisition on for the ``async with`` block without subscribing to frames (a running
        recording takes every frame from its own listener): not a subscriber, not counted in the limits."""
        if self._closed:
            raise ServiceStoppingError("the service is shutting down")
        self._holds += 1
        try:
            await self._acquire()
            yield
        finally:
            self._holds -= 1
            self._linger_if_idle()

    async def _acquire(self) -> None:
        """Acquisition on (a subscriber or a hold has come): no linger-stop pending."""
        if self._linger_task is not None:
            self._linger_task.cancel()
            self._linger_task = None
        if not self._worker.is_acquiring:
            self._last_frame = None  # numbers skipped while acquisition was off are not drops
            await asyncio.wrap_future(self._worker.set_acquiring(True))

    def _linger_if_idle(self) -> None:
        """With no subscriber and no hold left, stop acquisition after the linger time."""
        if not self._subscriptions and not self._holds and not self._closed:
            self._linger_task = self._loop.create_task(self._stop_after_linger())

    async def encoded(self, entry: _Entry, options: StreamOptions) -> EncodedFrame:
        """The frame in the subscriber's rendition, encoded once per rendition."""
        return await asyncio.shield(self._rendition(entry, options))

    def _rendition(self, entry: _Entry, options: StreamOptions) -> asyncio.Future[EncodedFrame]:
        """The future of the frame in the subscriber's rendition, started on the executor at the first ask."""
        key = options.rendition
        future = entry.renditions.get(key)
        if future is None:
            self.encode_count += 1
            if _is_immediate(entry.frame, options):  # no work to speak of: skip the trip to the executor
                future = self._loop.create_future()
                future.set_result(_encode(entry.frame, options))
            else:
                future = asyncio.ensure_future(
                    self._loop.run_in_executor(self._executor, _encode, entry.frame, options)
                )
            entry.renditions[key] = future
        return future

    def _statistics(self, entry: _Entry, bins: int) -> asyncio.Future[FrameStatistics]:
        """The future of the frame's statistics with ``bins`` bins, started on the executor at the first ask."""
        frame = entry.frame
        bins = min(bins, 1 << frame.bit_depth)  # as frame_statistics clamps them: one computation per result
        future = entry.statistics.get(bins)
        if future is None:
            self.statistics_count += 1
            future = asyncio.ensure_future(
                self._loop.run_in_executor(
                    self._executor, frame_statistics, frame.pixels, frame.pixel_format, frame.bit_depth, bins
                )
            )
            entry.statistics[bins] = future
        return future

    def publish(self, frame: Frame) -> None:
        """Frame listener for the camera thread: hands the frame to the event loop, never blocks."""
        self._loop.call_soon_threadsafe(self._dispatch, frame)

    async def close(self) -> None:
        """End every stream (UNAVAILABLE: shutting down) and stop acquisition."""
        self._closed = True
        self._end_all(ServiceStoppingError("the service is shutting down"))
        if self._linger_task is not None:
            self._linger_task.cancel()
        if self._worker.is_acquiring:
            with contextlib.suppress(CameraServiceError):
                await asyncio.wrap_future(self._worker.set_acquiring(False))

    def _hold(self, entry: _Entry, subscription: Subscription) -> None:
        if not entry.holders:
            self._held[entry] = None
            self.held_bytes += entry.nbytes
            self._peak_held_bytes = max(self._peak_held_bytes, self.held_bytes)
        entry.holders.add(subscription)

    def _let_go(self, entry: _Entry, subscription: Subscription) -> None:
        entry.holders.discard(subscription)
        if not entry.holders and entry in self._held:
            del self._held[entry]
            self.held_bytes -= entry.nbytes

    def _keep_within_budget(self, newest: _Entry) -> None:
        """Drop the oldest held frames from every buffer holding them until all fit the budget."""
        while self.held_bytes > self.budget_bytes:
            oldest = next(iter(self._held))
            if oldest is newest:
                return  # the newest frame is always kept
            for subscription in list(oldest.holders):
                subscription.drop(oldest)
                self._count_drop("budget")

    def _count_drop(self, reason: str) -> None:
        if self._metrics is not None:
            self._metrics.frame_dropped(reason)

    def acquisition_restarted(self) -> None:
        """Camera-thread hook: acquisition was stopped and started again (a setting that cannot change while
        streaming). Call it on the camera thread before the next frame is grabbed: the frames between the two
        runs are then not counted as missed, even when the geometry stayed the same and the numbers jumped."""
        self._loop.call_soon_threadsafe(self._begin_run)

    def _dispatch(self, frame: Frame) -> None:
        skipped = self._place(frame)
        if self._metrics is not None:
            self._metrics.frames_produced.inc()
            if skipped:
                self._metrics.frame_dropped("camera", skipped)
        if not self._subscriptions:
            return
        entry = _Entry(frame, self._produced)
        for subscription in self._subscriptions:
            subscription.offer(entry)

    def _place(self, frame: Frame) -> int:
        """Put the frame on the production count; returns the frames the camera skipped just before it."""
        last = self._last_frame
        continues = last is not None and frame.frame_number > last.frame_number and _geometry(frame) == _geometry(last)
        skipped = frame.frame_number - last.frame_number - 1 if continues and last is not None else 0
        self._produced += 1 + skipped
        self._last_frame = frame
        return skipped

    def _begin_run(self) -> None:
        self._last_frame = None

    def _end_all(self, error: BaseException) -> None:
        for subscription in list(self._subscriptions):
            subscription.end(error)

    def on_camera_state(self, state: CameraState) -> None:
        """State listener for the camera thread: a lost or stopped camera ends every stream."""
        # In order after the frames published before the change: a reconnected camera may number afresh.
        self._loop.call_soon_threadsafe(self._begin_run)
        if state in (CameraState.DISCONNECTED, CameraState.STOPPED):
            self._loop.call_soon_threadsafe(
                self._end_all, CameraUnavailableError(f"camera {state.value}; the frame stream ended")
            )

    async def _stop_after_linger(self) -> None:
        await asyncio.sleep(self._linger_s)
        if not self._subscriptions and not self._holds and self._worker.is_acquiring:
            with contextlib.suppress(CameraServiceError):
                await asyncio.wrap_future(self._worker.set_acquiring(False))
        self._give_memory_back(after_burst_of=0)  # streaming is over: whatever it left

    def _give_memory_back(self, after_burst_of: int = TRIM_AFTER_BYTES) -> None:
        """Return freed frame memory to the system (off the loop) once held frames have shrunk from a peak of at
        least ``after_burst_of`` bytes to under half of it (the allocator would keep the peak otherwise)."""
        peak = self._peak_held_bytes
        if self._trimming or peak < after_burst_of or self.held_bytes > peak // 2:
            return
        self._peak_held_bytes = self.held_bytes
        self._trimming = True

        def trimmed(_: asyncio.Future[bool]) -> None:
            self._trimming = False

        self._loop.run_in_executor(self._executor, release_free_memory).add_done_callback(trimmed)


def _geometry(frame: Frame) -> tuple[tuple[int, ...], object, int]:
    """What changes only across a restart of acquisition: pixel array shape and type, format, bit depth."""
    return (frame.pixels.shape, frame.pixel_format, frame.bit_depth)


def _is_immediate(frame: Frame, options: StreamOptions) -> bool:
    """Whether the rendition is no data, or the frame's own (little-endian, contiguous) pixels as a view."""
    if options.encoding is Encoding.NONE:
        return True
    pixels = frame.pixels
    return (
        options.encoding is Encoding.RAW
        and not (options.max_width and frame.width > options.max_width)
        and pixels.flags.c_contiguous
        and pixels.dtype.byteorder in ("<", "=", "|")
        and (pixels.dtype.byteorder != "=" or np.little_endian)
    )


def _encode(frame: Frame, options: StreamOptions) -> EncodedFrame:
    """Render a frame for streaming (executor thread, or the event loop when it is immediate)."""
    if options.encoding is Encoding.NONE:
        return EncodedFrame(b"", frame.width, frame.height)
    if options.encoding is Encoding.RAW:
        pixels = frame.pixels
        if options.max_width and frame.width > options.max_width:
            # A raw preview stays in the frame's pixel format: a Bayer mosaic stays a mosaic of its phase.
            shrink = imaging.downscale_mosaic if frame.pixel_format.is_bayer else imaging.downscale
            small = np.ascontiguousarray(shrink(pixels, options.max_width), dtype=pixels.dtype.newbyteorder("<"))
            return EncodedFrame(small.tobytes(), small.shape[1], small.shape[0])
        little_endian = np.ascontiguousarray(pixels, dtype=pixels.dtype.newbyteorder("<"))
        # A read-only view of the pixels, not a copy: the frame's buffer stays referenced (and so is
        # not recycled) while any subscriber holds this rendition.
        return EncodedFrame(memoryview(little_endian).cast("B").toreadonly(), frame.width, frame.height)
    data, width, height = imaging.encode_frame(frame, options.encoding.value, options.quality, options.max_width)
    return EncodedFrame(data, width, height)
