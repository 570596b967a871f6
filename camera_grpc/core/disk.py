"""Disk space: one DISK_SPACE_LOW event each time a disk of the service's folders falls below the threshold.

The service looks at free space where it writes anyway: the recording writer thread checks it while it records
(:mod:`camera_grpc.core.recording`), a recording's start checks it before anything is written, and each saved
capture has it checked (:meth:`DiskSpaceWatch.watch_captures`, on the CAPTURE_SAVED events). No polling
thread of its own. Each of those hands the free space it measured to :meth:`DiskSpaceWatch.observe`.

A disk is known by its device number (``st_dev``), so captures and recordings on the same disk give one event
per crossing. After an event, the next one for that disk comes only once its free space was seen at or above
the threshold again (it recovered) and then below it.

**Threads.** :meth:`DiskSpaceWatch.check` and :meth:`DiskSpaceWatch.observe` may be called from any thread;
``observe`` only hands the measurement to the event loop (``call_soon_threadsafe``). The crossing state
(``_low``: the disks below the threshold) is written by the event loop only.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import shutil
from pathlib import Path

from camera_grpc.core.events import Event, EventHub, EventType

log = logging.getLogger(__name__)


class DiskSpaceWatch:
    """DISK_SPACE_LOW events for the disks of some folders. Create it inside the running event loop."""

    def __init__(self, events: EventHub, threshold_bytes: int) -> None:
        """``threshold_bytes``: free bytes below which a disk is low (``DISK_SPACE_LOW_BYTES``; 0: never)."""
        self._loop = asyncio.get_running_loop()
        self._events = events
        self.threshold_bytes = threshold_bytes
        #: Devices (st_dev) seen below the threshold and not seen above it since (event loop only).
        self._low: set[int] = set()

    def check(self, folder: Path) -> int | None:
        """Measure the free space of ``folder``'s disk and :meth:`observe` it (blocking, any thread); the free
        bytes, or None if the folder cannot be looked at (it does not exist yet, ...)."""
        try:
            free = shutil.disk_usage(folder).free
        except OSError:
            return None
        self.observe(folder, free)
        return free

    def observe(self, folder: Path, free_bytes: int) -> None:
        """The free space of ``folder``'s disk was measured (any thread, non-blocking)."""
        if not self.threshold_bytes:
            return
        try:
            device = os.stat(folder).st_dev
        except OSError:
            return
        with contextlib.suppress(RuntimeError):  # the loop is closed: nobody is listening
            self._loop.call_soon_threadsafe(self._observed, device, folder, free_bytes)

    def _observed(self, device: int, folder: Path, free_bytes: int) -> None:
        """A measurement, on the loop: an event when the disk crosses below the threshold."""
        if free_bytes >= self.threshold_bytes:
            self._low.discard(device)
            return
        if device in self._low:
            return
        self._low.add(device)
        log.warning(
            "the disk of %s has %d bytes free, below DISK_SPACE_LOW_BYTES (%d)",
            folder,
            free_bytes,
            self.threshold_bytes,
        )
        self._events.publish(
            EventType.DISK_SPACE_LOW,
            f"the disk of {folder} is nearly full: {free_bytes} bytes free, below {self.threshold_bytes} bytes",
            free_bytes=free_bytes,
        )

    def watch_captures(self, folder: Path) -> None:
        """Check ``folder``'s disk after each saved capture (the CAPTURE_SAVED events; the check runs in the
        loop's default executor, off the loop). Call once, on the event loop."""

        def saved(event: Event) -> None:
            if event.type is EventType.CAPTURE_SAVED:
                self._loop.run_in_executor(None, self.check, folder)

        self._events.add_listener(saved)
