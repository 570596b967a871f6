"""Replacing a file atomically: the one implementation behind the settings, presets and recordings' metadata.

A reader (or a service restarted after ``kill -9`` or a power cut) sees the old content or the new,
never a torn file: the content goes to a temporary file in the same folder, is fsynced, renamed over
the target, and the rename is made durable by fsyncing the folder.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

T = TypeVar("T")
#: Mode of the files written (readable by the operator's tools, writable by the service).
FILE_MODE = 0o644


def replace_atomically(
    path: Path, content: bytes, *, open_temporary: Callable[[Callable[[], T]], T] | None = None
) -> None:
    """Make ``path`` hold ``content`` (see the module docstring). Raises OSError; nothing is left behind.

    ``open_temporary`` wraps the creation of the temporary file (e.g. a file-descriptor reserve's
    ``open``); by default it is created directly.
    """
    make = lambda: tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)  # noqa: E731
    fd, temporary = open_temporary(make) if open_temporary is not None else make()
    try:
        with os.fdopen(fd, "wb") as file:
            file.write(content)
            file.flush()
            os.fsync(file.fileno())
        os.chmod(temporary, FILE_MODE)
        os.replace(temporary, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(temporary)
        raise
    fsync_directory(path.parent)


def fsync_directory(directory: Path) -> None:
    """Make a rename or unlink in ``directory`` durable."""
    fd = os.open(directory, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
