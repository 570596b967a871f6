"""Small helpers for :class:`concurrent.futures.Future` plumbing between threads."""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import Executor, Future, InvalidStateError
from typing import Any, TypeVar

T = TypeVar("T")
R = TypeVar("R")


def settle(future: Future[Any], outcome: object) -> None:
    """Set a result (or, for an exception, the exception) unless the future is already done or cancelled."""
    try:
        if isinstance(outcome, BaseException):
            future.set_exception(outcome)
        else:
            future.set_result(outcome)
    except InvalidStateError:
        pass


def then_in_executor(source: Future[T], executor: Executor, function: Callable[[T], R]) -> Future[R]:
    """``function(source.result())`` run on ``executor`` as soon as ``source`` is done.

    The hand-over happens on the thread that completes ``source`` (no hop through an
    event loop). Errors and cancellation of ``source`` propagate; cancelling the returned
    future before ``function`` starts skips it and cancels ``source`` if it has not run.
    """
    result: Future[R] = Future()

    def run(value: T) -> None:
        if not result.set_running_or_notify_cancel():
            return
        try:
            result.set_result(function(value))
        except BaseException as exc:
            result.set_exception(exc)

    def hand_over(done: Future[T]) -> None:
        if done.cancelled():
            result.cancel()
        elif (exc := done.exception()) is not None:
            settle(result, exc)
        elif not result.cancelled():
            try:
                executor.submit(run, done.result())
            except RuntimeError as exc:  # executor shut down
                settle(result, exc)

    source.add_done_callback(hand_over)
    result.add_done_callback(lambda done: done.cancelled() and source.cancel())
    return result
