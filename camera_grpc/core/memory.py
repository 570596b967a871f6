"""Giving freed frame memory back to the operating system.

Frames are multi-megabyte buffers. glibc serves such blocks from mmap at first, but
raises its mmap threshold after the first one is freed (up to 32 MiB), so later
frames come from the heap arenas, and freed arena memory stays mapped to the
process: after a burst (a stalled subscriber's queue, a crowd of streams) the
resident size stays at its peak. ``malloc_trim(0)`` hands every free page of every
arena back. It is cheap (a few milliseconds for hundreds of MB) and called rarely:
when streams that held much memory have closed.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import functools
from collections.abc import Callable


@functools.cache
def _malloc_trim() -> Callable[[int], int] | None:
    name = ctypes.util.find_library("c")
    try:
        return getattr(ctypes.CDLL(name), "malloc_trim", None) if name else None
    except OSError:
        return None


def release_free_memory() -> bool:
    """Return free heap pages to the operating system (glibc; elsewhere a no-op). Blocking: run it off the loop."""
    trim = _malloc_trim()
    return bool(trim(0)) if trim is not None else False
