"""Recycled frame buffers.

A 5 MP frame is a 5 MB allocation. Allocated fresh on the camera thread, every
frame costs page faults (glibc serves threads from per-thread arenas that hand
large blocks back to the kernel), which measured here as +3.5 ms per
2448x2048 frame, more than the whole gRPC overhead of a capture. Drivers
therefore render or convert into buffers from a :class:`BufferPool`.

A buffer is handed out again only when nothing outside the pool refers to it
any more (no frame, view or encoder holds it), so a frame's pixels stay owned
by whoever holds the frame, as the driver interface promises.
"""

from __future__ import annotations

import sys

import numpy as np

#: References to a pooled buffer that are the pool's own: the list slot and getrefcount's argument.
_POOL_OWN_REFERENCES = 2


class BufferPool:
    """Buffers of one shape and dtype; at most ``max_buffers`` kept for reuse."""

    def __init__(self, shape: tuple[int, ...], dtype: np.dtype | type, max_buffers: int = 16) -> None:
        self.shape = tuple(shape)
        self.dtype = np.dtype(dtype)
        self._max_buffers = max_buffers
        self._buffers: list[np.ndarray] = []
        self.allocations = 0

    def acquire(self) -> np.ndarray:
        """A buffer nobody else holds (contents undefined)."""
        for buffer in self._buffers:
            if sys.getrefcount(buffer) <= _POOL_OWN_REFERENCES + 1:  # + the loop variable
                return buffer
        buffer = np.empty(self.shape, self.dtype)
        self.allocations += 1
        if len(self._buffers) < self._max_buffers:
            self._buffers.append(buffer)
        return buffer
