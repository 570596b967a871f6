"""BufferPool: reuse a buffer's memory only when nothing outside the pool holds it."""

from __future__ import annotations

import gc

import numpy as np

from camera_grpc.device.buffers import BufferPool


def address(array: np.ndarray) -> int:
    return array.__array_interface__["data"][0]


def test_a_released_buffer_is_reused_and_a_held_one_is_not() -> None:
    pool = BufferPool((4, 5), np.uint16, max_buffers=4)
    first = pool.acquire()
    assert first.shape == (4, 5) and first.dtype == np.uint16
    first_address = address(first)
    held = pool.acquire()
    assert address(held) != first_address  # `first` is still referenced here
    del first
    again = pool.acquire()
    assert address(again) == first_address  # released, so its memory is lent again
    assert pool.allocations == 2


def test_every_kind_of_view_keeps_its_buffer_out_of_reuse() -> None:
    pool = BufferPool((8, 8), np.uint8, max_buffers=4)
    for make_view in (
        lambda a: a[2:4],
        lambda a: np.asarray(a).reshape(64),
        lambda a: memoryview(a),
        lambda a: memoryview(a).cast("B").toreadonly(),
        lambda a: np.frombuffer(memoryview(a), np.uint8),
    ):
        buffer = pool.acquire()
        buffer[:] = 7
        buffer_address = address(buffer)
        view = make_view(buffer)
        del buffer
        gc.collect()
        others = [pool.acquire() for _ in range(3)]
        assert buffer_address not in [address(other) for other in others]
        for other in others:
            other[:] = 0
        assert bytes(memoryview(view).cast("B"))[:1] == b"\x07"  # the held memory was not written
        del view, others


def test_the_pool_keeps_at_most_max_buffers() -> None:
    pool = BufferPool((2, 2), np.uint8, max_buffers=2)
    held = [pool.acquire() for _ in range(5)]
    assert pool.allocations == 5
    del held
    again = [pool.acquire(), pool.acquire()]
    assert pool.allocations == 5  # the two kept buffers came back; the other three were not kept
    assert len(again) == 2
    pool.acquire()  # both kept buffers are lent out: a new allocation
    assert pool.allocations == 6
