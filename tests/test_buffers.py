"""BufferPool: reuse a buffer only when nothing outside the pool holds it."""

from __future__ import annotations

import numpy as np

from camera_grpc.drivers.buffers import BufferPool


def test_a_released_buffer_is_reused_and_a_held_one_is_not() -> None:
    pool = BufferPool((4, 5), np.uint16, max_buffers=4)
    first = pool.acquire()
    assert first.shape == (4, 5) and first.dtype == np.uint16
    held = pool.acquire()
    assert held is not first  # `first` is still referenced here
    first_id = id(first)
    del first
    again = pool.acquire()
    assert id(again) == first_id  # released, so reused
    assert pool.allocations == 2


def test_a_view_keeps_its_buffer_out_of_reuse() -> None:
    pool = BufferPool((8, 8), np.uint8, max_buffers=2)
    buffer = pool.acquire()
    view = buffer[2:4]
    buffer_id = id(buffer)
    del buffer
    assert id(pool.acquire()) != buffer_id
    assert view.base is not None


def test_the_pool_keeps_at_most_max_buffers() -> None:
    pool = BufferPool((2, 2), np.uint8, max_buffers=2)
    held = [pool.acquire() for _ in range(5)]
    assert pool.allocations == 5
    del held
    pool.acquire()
    pool.acquire()
    assert pool.allocations == 5  # the two kept buffers came back; the other three were not kept
