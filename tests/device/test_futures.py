"""then_in_executor: hand a result to a pool without an event-loop hop; errors and cancellation propagate."""

from __future__ import annotations

import threading
from concurrent.futures import CancelledError, Future, ThreadPoolExecutor

import pytest

from camera_grpc.device.futures import settle, then_in_executor

TIMEOUT_S = 5.0


def test_the_function_runs_on_the_executor_with_the_result() -> None:
    source: Future[int] = Future()
    with ThreadPoolExecutor(1, thread_name_prefix="pool") as pool:
        chained = then_in_executor(source, pool, lambda value: (value * 2, threading.current_thread().name))
        source.set_result(21)
        value, thread = chained.result(TIMEOUT_S)
    assert value == 42 and thread.startswith("pool")


def test_errors_of_the_source_and_of_the_function_propagate() -> None:
    with ThreadPoolExecutor(1) as pool:
        failed: Future[int] = Future()
        chained = then_in_executor(failed, pool, lambda value: value)
        failed.set_exception(ValueError("grab failed"))
        with pytest.raises(ValueError, match="grab failed"):
            chained.result(TIMEOUT_S)

        source: Future[int] = Future()
        chained = then_in_executor(source, pool, lambda value: 1 // value)
        source.set_result(0)
        with pytest.raises(ZeroDivisionError):
            chained.result(TIMEOUT_S)


def test_cancelling_before_the_source_is_done_skips_the_function_and_cancels_the_source() -> None:
    ran: list[int] = []
    source: Future[int] = Future()
    with ThreadPoolExecutor(1) as pool:
        chained = then_in_executor(source, pool, ran.append)
        assert chained.cancel()
        assert source.cancelled()
    assert ran == []
    with pytest.raises(CancelledError):
        chained.result(0)


def test_a_cancelled_source_cancels_the_result() -> None:
    source: Future[int] = Future()
    with ThreadPoolExecutor(1) as pool:
        chained = then_in_executor(source, pool, lambda value: value)
        source.cancel()
    assert chained.cancelled()


def test_settle_ignores_a_future_that_is_already_done() -> None:
    future: Future[int] = Future()
    settle(future, 1)
    settle(future, ValueError("late"))
    assert future.result(0) == 1
    cancelled: Future[int] = Future()
    cancelled.cancel()
    settle(cancelled, 2)
    assert cancelled.cancelled()
