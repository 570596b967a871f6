"""Live frames: one acquisition shared by many subscribers.

The camera thread hands every frame to :meth:`FrameHub.publish`, which only
schedules :meth:`FrameHub._dispatch` on the event loop: the camera never waits
for a subscriber. Each subscriber has its own bounded buffer and policy:

* ``latest``: the buffer holds one frame; a newer frame replaces it;
* ``queue``: the buffer holds up to ``queue_depth`` frames; when full, the
  oldest is dropped.

A subscriber's ``missed_frames`` is computed from the camera's frame numbers,
so it counts every frame produced while it was subscribed that it did not get,
whatever the reason (policy, max_fps, the camera itself dropping frames):
frames received plus frames reported missed equals frames produced.

Frames are encoded lazily, off the event loop, once per distinct
(encoding, quality, max_width): subscribers that want the same rendition of
the same frame share one encode. Acquisition starts with the first subscriber
and stops ``linger_s`` after the last one leaves.
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


@dataclass
class _Entry:
    """A published frame and its renditions (kept alive only by subscriber buffers)."""

    frame: Frame
    renditions: dict[tuple[Encoding, int, int | None], asyncio.Future[EncodedFrame]] = field(default_factory=dict)


class Subscription:
    """One subscriber's buffer and accounting. Iterate it for :class:`Delivery` objects."""

    def __init__(self, hub: FrameHub, options: StreamOptions) -> None:
        self._hub = hub
        self.options = options
        self._buffer: collections.deque[_Entry] = collections.deque(
            maxlen=1 if options.policy is Policy.LATEST else options.queue_depth
        )
        self._wakeup = asyncio.Event()
        self._ended: BaseException | None = None
        self._last_accounted: int | None = None  # frame number up to which frames are accounted for
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
            self._last_accounted = entry.frame.frame_number - 1
        max_fps = self.options.max_fps
        if max_fps:
            now = time.monotonic()
            if now - self._last_offered_at < 1.0 / max_fps:
                return  # not offered: counted as missed when the next frame is delivered
            self._last_offered_at = now
        self._buffer.append(entry)  # a full deque drops its oldest entry
        self._wakeup.set()

    def end(self, error: BaseException) -> None:
        """End the subscription: the iterator raises ``error`` at its next step."""
        if self._ended is None:
            self._ended = error
            self._buffer.clear()
            self._wakeup.set()

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
            encoded = await self._hub.encoded(entry, self.options)
            if self._ended is not None:
                raise self._ended
            number = entry.frame.frame_number
            missed = max(0, number - (self._last_accounted or 0) - 1)
            self._last_accounted = max(number, self._last_accounted or 0)
            self.sequence_number += 1
            self.delivered += 1
            yield Delivery(entry.frame, encoded, self.sequence_number, missed)


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
    ) -> None:
        self._worker = worker
        self._executor = executor
        self._linger_s = linger_s
        self._max_subscribers = max_subscribers
        #: Most subscriptions one peer (connection) may hold; default: half of ``max_subscribers``.
        self._max_per_peer = max_per_peer or max(1, max_subscribers // 2)
        self._loop = asyncio.get_running_loop()
        self._subscriptions: set[Subscription] = set()
        self._per_peer: collections.Counter[str] = collections.Counter()
        self._linger_task: asyncio.Task[None] | None = None
        self._closed = False
        self.encode_count = 0  #: renditions encoded (event loop)

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
        try:
            if self._linger_task is not None:
                self._linger_task.cancel()
                self._linger_task = None
            if not self._worker.is_acquiring:
                await asyncio.wrap_future(self._worker.set_acquiring(True))
            yield subscription
        finally:
            self._subscriptions.discard(subscription)
            if peer is not None:
                self._per_peer[peer] -= 1
                if not self._per_peer[peer]:
                    del self._per_peer[peer]
            if not self._subscriptions and not self._closed:
                self._linger_task = self._loop.create_task(self._stop_after_linger())

    async def encoded(self, entry: _Entry, options: StreamOptions) -> EncodedFrame:
        """The frame in the subscriber's rendition, encoded once per rendition."""
        key = options.rendition
        future = entry.renditions.get(key)
        if future is None:
            self.encode_count += 1
            if _is_view(entry.frame, options):  # no work to speak of: skip the trip to the executor
                future = self._loop.create_future()
                future.set_result(_encode(entry.frame, options))
            else:
                future = asyncio.ensure_future(
                    self._loop.run_in_executor(self._executor, _encode, entry.frame, options)
                )
            entry.renditions[key] = future
        return await asyncio.shield(future)

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

    def _dispatch(self, frame: Frame) -> None:
        if not self._subscriptions:
            return
        entry = _Entry(frame)
        for subscription in self._subscriptions:
            subscription.offer(entry)

    def _end_all(self, error: BaseException) -> None:
        for subscription in list(self._subscriptions):
            subscription.end(error)

    def on_camera_state(self, state: CameraState) -> None:
        """State listener for the camera thread: a lost or stopped camera ends every stream."""
        if state in (CameraState.DISCONNECTED, CameraState.STOPPED):
            self._loop.call_soon_threadsafe(
                self._end_all, CameraUnavailableError(f"camera {state.value}; the frame stream ended")
            )

    async def _stop_after_linger(self) -> None:
        await asyncio.sleep(self._linger_s)
        if not self._subscriptions and self._worker.is_acquiring:
            with contextlib.suppress(CameraServiceError):
                await asyncio.wrap_future(self._worker.set_acquiring(False))


def _is_view(frame: Frame, options: StreamOptions) -> bool:
    """Whether the rendition is the frame's own (little-endian, contiguous) pixels, as a view."""
    pixels = frame.pixels
    return (
        options.encoding is Encoding.RAW
        and not (options.max_width and frame.width > options.max_width)
        and pixels.flags.c_contiguous
        and pixels.dtype.byteorder in ("<", "=", "|")
        and (pixels.dtype.byteorder != "=" or np.little_endian)
    )


def _encode(frame: Frame, options: StreamOptions) -> EncodedFrame:
    """Render a frame for streaming (executor thread)."""
    if options.encoding is Encoding.RAW:
        pixels = frame.pixels
        if options.max_width and frame.width > options.max_width:
            image = imaging.downscale(
                imaging.to_pil(pixels, frame.pixel_format, frame.bit_depth, keep_16_bit=True), options.max_width
            )
            return EncodedFrame(image.tobytes(), image.width, image.height)
        little_endian = np.ascontiguousarray(pixels, dtype=pixels.dtype.newbyteorder("<"))
        # A read-only view of the pixels, not a copy: the frame's buffer stays referenced (and so is
        # not recycled) while any subscriber holds this rendition.
        return EncodedFrame(memoryview(little_endian).cast("B").toreadonly(), frame.width, frame.height)
    data, width, height = imaging.encode_frame(frame, options.encoding.value, options.quality, options.max_width)
    return EncodedFrame(data, width, height)
