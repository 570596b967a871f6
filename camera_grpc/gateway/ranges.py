"""HTTP range requests (RFC 9110 section 14) of one byte range: ``Range: bytes=a-b``, ``a-`` and ``-n``.

:func:`requested_range` reads a request's ``Range`` against the file's size: None means "send the whole file"
(no ``Range``, one that is not a single valid byte range, which the RFC lets a server ignore, or an
``If-Range`` that does not match the file's current ``ETag``); :data:`UNSATISFIABLE` means 416. Several ranges
in one request are answered with the whole file (a multipart answer is allowed, not required).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Final

#: The unit of the ranges served (``Accept-Ranges``).
BYTES_UNIT = "bytes"
_SINGLE_RANGE = re.compile(r"bytes=(\d*)-(\d*)", re.ASCII)


@dataclass(frozen=True)
class ByteRange:
    """Bytes ``start`` to ``end`` of a file of ``size`` bytes, both included (as in ``Content-Range``)."""

    start: int
    end: int
    size: int

    @property
    def length(self) -> int:
        return self.end - self.start + 1

    @property
    def content_range(self) -> str:
        return f"{BYTES_UNIT} {self.start}-{self.end}/{self.size}"


class _Unsatisfiable:
    """A range that does not overlap the file (416)."""

    def __repr__(self) -> str:
        return "UNSATISFIABLE"


UNSATISFIABLE: Final = _Unsatisfiable()


def unsatisfied_range(size: int) -> str:
    """``Content-Range`` of a 416 answer for a file of ``size`` bytes."""
    return f"{BYTES_UNIT} */{size}"


def requested_range(
    range_header: str | None, size: int, *, if_range: str | None = None, etag: str | None = None
) -> ByteRange | _Unsatisfiable | None:
    """The range of a file of ``size`` bytes that ``range_header`` asks for (see the module's docstring).

    ``if_range``: the request's ``If-Range``; the range is served only if it is exactly ``etag`` (a strong
    comparison: a weak tag or a date never matches, so the client gets the whole, current file).
    """
    if range_header is None:
        return None
    if if_range is not None and (etag is None or etag.startswith("W/") or if_range.strip() != etag):
        return None
    match = _SINGLE_RANGE.fullmatch(range_header.strip())
    if match is None:
        return None  # several ranges, another unit, or not a range at all
    first, last = match.groups()
    if not first and not last:
        return None
    if not first:  # the last n bytes
        suffix = int(last)
        if suffix == 0 or size == 0:
            return UNSATISFIABLE
        return ByteRange(max(size - suffix, 0), size - 1, size)
    start = int(first)
    if last and int(last) < start:
        return None  # invalid: ignored
    if start >= size:
        return UNSATISFIABLE
    end = min(int(last), size - 1) if last else size - 1
    return ByteRange(start, end, size)
