"""Recycled frame buffers.

A 5 MP frame is a 5 MB allocation. Allocated fresh on the camera thread, every
frame costs page faults (glibc serves threads from per-thread arenas that hand
large blocks back to the kernel), which measured here as +3.5 ms per
2448x2048 frame, more than the whole gRPC overhead of a capture. Drivers
therefore render or convert into buffers from a :class:`BufferPool`.

A buffer's memory is handed out again only when nothing outside the pool refers
to it any more (no frame, view, memoryview or encoder holds it), so a frame's
pixels stay owned by whoever holds the frame, as the driver interface promises.

How that is known without reading reference counts: the pool keeps each
buffer's memory (a ``bytearray``) and lends it out through a fresh ctypes
array, the *lease*, that every numpy array, view and memoryview made from the
lent array keeps alive. When the last of them goes, the lease is collected and
its finalizer returns the memory to the free list (on whatever thread dropped
the last reference; the free list is thread-safe).
"""

from __future__ import annotations

import collections
import ctypes
import math
import weakref

import numpy as np


class BufferPool:
    """Buffers of one shape and dtype; at most ``max_buffers`` kept for reuse."""

    def __init__(self, shape: tuple[int, ...], dtype: np.dtype | type | str, max_buffers: int = 16) -> None:
        self.shape = tuple(shape)
        self.dtype = np.dtype(dtype)
        self._max_buffers = max_buffers
        self._nbytes = math.prod(self.shape) * self.dtype.itemsize
        self._lease_type = ctypes.c_char * self._nbytes
        #: Memory kept by the pool (lent out or free); only ever appended to, on the camera thread.
        self._kept: list[bytearray] = []
        #: Kept memory nobody holds: appended by lease finalizers (any thread), popped on the camera thread.
        self._free: collections.deque[bytearray] = collections.deque()
        self.allocations = 0

    def acquire(self) -> np.ndarray:
        """A buffer nobody else holds (contents undefined)."""
        try:
            memory = self._free.popleft()
        except IndexError:
            memory = bytearray(self._nbytes)
            self.allocations += 1
            if len(self._kept) < self._max_buffers:
                self._kept.append(memory)
            else:
                return np.frombuffer(memory, self.dtype).reshape(self.shape)  # not kept: plain memory
        lease = self._lease_type.from_buffer(memory)
        weakref.finalize(lease, self._free.append, memory)
        return np.frombuffer(lease, self.dtype).reshape(self.shape)
