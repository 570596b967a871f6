"""The camera worker: one dedicated thread that owns the camera driver.

The SDK is blocking and not thread-safe, so every camera call goes through
this thread: callers submit a function of the driver and get a
:class:`concurrent.futures.Future` (or await :meth:`CameraWorker.call` from
asyncio, which never blocks the event loop).

The thread also

* connects, and after a disconnect reconnects with exponential backoff,
  running the ``on_connect`` hooks (which re-apply the settings clients asked
  for) each time;
* runs continuous acquisition while it is switched on, handing every frame to
  the frame listeners and to pending :meth:`next_frame` requests, with queued
  commands served between frames;
* polls :meth:`CameraDriver.check_connection` when idle, so an unplug is
  noticed without traffic.

Acquisition follows the camera's trigger source (:attr:`CameraDriver.trigger_source`, issue 13):

* FREE_RUNNING: frames are grabbed continuously while acquisition is on (or a
  :meth:`CameraWorker.next_frame` streams just long enough for one);
* HARDWARE: the thread grabs in slices (:data:`~camera_grpc.device.base.TRIGGER_WAIT_SLICE_S`);
  a slice without a trigger (:class:`~camera_grpc.device.base.NoTriggerYet`) is not a fault: it
  serves queued commands and waits again (pending ``next_frame`` requests keep waiting until a
  triggered frame arrives or their future is cancelled; there is no reconnect);
* SOFTWARE: nothing is grabbed by itself (every grab fires a trigger): frames come only from
  :meth:`CameraWorker.software_trigger` (or ``next_frame(trigger=True)``); the stream, once
  started for a trigger, keeps running until acquisition is switched off, so that a trigger is not
  delayed by a stream start and trigger counts go on.

Events: :meth:`CameraWorker.add_event_listener` receives the camera's events. On every (re)connect
the worker installs a hand-off listener on the driver (:meth:`CameraDriver.set_event_listener`),
which forwards each event to the worker's listeners, serialised by ``_event_lock`` (events may
come from an SDK thread); when the worker notices a disconnect that the driver did not report, it
reports DISCONNECTED itself (once per connection).

Calls made while the camera is not connected fail at once with
:class:`~camera_grpc.errors.CameraUnavailableError` (they never wait for a
reconnect).
"""

from __future__ import annotations

import asyncio
import enum
import logging
import queue
import threading
from collections.abc import Callable
from concurrent.futures import Future
from dataclasses import dataclass, field
from typing import Any, TypeVar

from camera_grpc.device.base import CameraDriver, Frame, NoTriggerYet
from camera_grpc.device.events import CameraEvent, CameraEventType, EventListener
from camera_grpc.device.futures import settle
from camera_grpc.device.settings import TriggerModeError, TriggerSource
from camera_grpc.errors import (
    CameraDisconnectedError,
    CameraServiceError,
    CameraUnavailableError,
    ServiceStoppingError,
)

log = logging.getLogger(__name__)

T = TypeVar("T")

#: How often an idle worker checks that the camera is still there, seconds.
IDLE_CHECK_INTERVAL_S = 1.0
#: Frames a :meth:`CameraWorker.next_frame` request may skip while waiting for
#: one its ``accept`` predicate takes (e.g. the first frame with new settings).
MAX_FRAMES_TO_SETTLE = 4


class CameraState(enum.Enum):
    """Connection state of the camera, as seen by the worker."""

    CONNECTING = "connecting"  #: not yet connected (first attempt or backoff)
    CONNECTED = "connected"  #: usable
    DISCONNECTED = "disconnected"  #: lost; reconnecting with backoff
    STOPPED = "stopped"  #: worker stopped; camera closed

    @property
    def usable(self) -> bool:
        """Whether camera calls can succeed now."""
        return self is CameraState.CONNECTED

    @property
    def unavailable_message(self) -> str:
        """Why a camera call fails in this state, for clients (one sentence, said once)."""
        return _UNAVAILABLE_MESSAGES[self]


_UNAVAILABLE_MESSAGES = {
    CameraState.CONNECTING: "camera is not connected yet (connecting)",
    CameraState.CONNECTED: "camera is connected",
    CameraState.DISCONNECTED: "camera disconnected; reconnecting",
    CameraState.STOPPED: "the camera service is stopping",
}


FrameAccept = Callable[[Frame], bool]


@dataclass
class _Command:
    future: Future[Any]
    function: Callable[[CameraDriver], Any]


@dataclass
class _FrameRequest:
    future: Future[Frame]
    accept: FrameAccept
    frames_left: int = MAX_FRAMES_TO_SETTLE


@dataclass
class _Listeners:
    state: list[Callable[[CameraState], None]] = field(default_factory=list)
    connect: list[Callable[[CameraDriver], None]] = field(default_factory=list)
    frame: list[Callable[[Frame], None]] = field(default_factory=list)
    event: list[EventListener] = field(default_factory=list)


class CameraWorker:
    """Owns a :class:`CameraDriver` on one thread. See the module docstring."""

    def __init__(
        self,
        driver: CameraDriver,
        *,
        reconnect_initial_delay_s: float = 0.2,
        reconnect_max_delay_s: float = 5.0,
        idle_check_interval_s: float = IDLE_CHECK_INTERVAL_S,
        thread_name: str = "camera-worker",
    ) -> None:
        self._driver = driver
        self._reconnect_initial_delay_s = reconnect_initial_delay_s
        self._reconnect_max_delay_s = reconnect_max_delay_s
        self._idle_check_interval_s = idle_check_interval_s
        self._commands: queue.SimpleQueue[_Command | None] = queue.SimpleQueue()
        self._frame_requests: list[_FrameRequest] = []
        self._listeners = _Listeners()
        self._acquiring = False
        self._state = CameraState.CONNECTING
        self._state_lock = threading.Lock()
        self._stopping = threading.Event()
        self._connected = threading.Event()
        # Serialises event delivery (SDK threads and this one); guards _disconnect_reported.
        self._event_lock = threading.Lock()
        self._disconnect_reported = False  #: DISCONNECTED was delivered for the current connection
        self._thread = threading.Thread(target=self._run, name=thread_name, daemon=True)

    # -- wiring (before start) ------------------------------------------------------

    def add_state_listener(self, listener: Callable[[CameraState], None]) -> None:
        """Call ``listener(state)`` on the camera thread at each state change (keep it quick)."""
        self._listeners.state.append(listener)

    def add_connect_hook(self, hook: Callable[[CameraDriver], None]) -> None:
        """Run ``hook(driver)`` on the camera thread after every successful (re)connect."""
        self._listeners.connect.append(hook)

    def add_frame_listener(self, listener: Callable[[Frame], None]) -> None:
        """Call ``listener(frame)`` on the camera thread for every frame of continuous acquisition and every
        software-triggered frame (keep it quick)."""
        self._listeners.frame.append(listener)

    def add_event_listener(self, listener: EventListener) -> None:
        """Call ``listener(event)`` for every camera event, in order, from the thread that reported it (an SDK
        thread or the camera thread; one at a time): keep it quick and thread-safe."""
        self._listeners.event.append(listener)

    # -- lifecycle ----------------------------------------------------------------------

    def start(self) -> None:
        """Start the thread; it connects in the background."""
        self._thread.start()

    def wait_until_connected(self, timeout_s: float) -> bool:
        """Block until the camera is connected (for start-up and tests)."""
        return self._connected.wait(timeout_s)

    def stop(self, timeout_s: float = 10.0) -> None:
        """Stop acquisition, fail queued calls, close the camera and end the thread."""
        self._stopping.set()
        self._commands.put(None)
        if self._thread.is_alive():
            self._thread.join(timeout_s)
            if self._thread.is_alive():
                log.error("camera thread did not stop within %.1f s", timeout_s)

    @property
    def state(self) -> CameraState:
        """Current connection state (safe from any thread)."""
        return self._state

    @property
    def is_acquiring(self) -> bool:
        """Whether continuous acquisition is switched on."""
        return self._acquiring

    # -- calls ----------------------------------------------------------------------------

    def submit(self, function: Callable[[CameraDriver], T]) -> Future[T]:
        """Run ``function(driver)`` on the camera thread.

        Fails at once (the future holds the error) when the worker is stopping or
        the camera is not connected.
        """
        future: Future[T] = Future()
        if self._stopping.is_set():
            future.set_exception(ServiceStoppingError("the service is shutting down"))
        elif not self._state.usable:
            future.set_exception(CameraUnavailableError(self._state.unavailable_message))
        else:
            self._commands.put(_Command(future, function))
        return future

    async def call(self, function: Callable[[CameraDriver], T]) -> T:
        """Await ``function(driver)`` run on the camera thread; cancelling skips it if not yet started."""
        return await asyncio.wrap_future(self.submit(function))

    def next_frame(self, accept: FrameAccept | None = None, *, trigger: bool = False) -> Future[Frame]:
        """The next frame the camera delivers (that ``accept`` takes, within a few frames).

        FREE_RUNNING: while acquisition runs, this is the next frame of the shared stream (it
        is also given to the frame listeners); otherwise the camera streams just long
        enough to take one. HARDWARE: the next triggered frame, however long it takes (cancel the
        future to stop waiting). SOFTWARE: the next software-triggered frame; with ``trigger`` this
        request fires that trigger itself (as :meth:`software_trigger`; ignored in other modes).
        """
        outer: Future[Frame] = Future()
        request = _FrameRequest(outer, accept or _accept_any)

        def register_or_grab(driver: CameraDriver) -> None:
            source = driver.trigger_source
            if self._acquiring or source is not TriggerSource.FREE_RUNNING:
                self._frame_requests.append(request)
                if trigger and source is TriggerSource.SOFTWARE:
                    self._software_grab(driver)
                return
            settle(outer, _grab_one(driver, request))

        inner = self.submit(register_or_grab)
        inner.add_done_callback(lambda done: _forward_failure(done, outer))
        outer.add_done_callback(lambda done: done.cancelled() and inner.cancel())
        return outer

    def software_trigger(self) -> Future[Frame]:
        """Fire one software trigger: the frame it produced, also handed to the frame listeners and to pending
        :meth:`next_frame` requests. Fails with :class:`~camera_grpc.device.settings.TriggerModeError` unless
        the camera's trigger source is SOFTWARE."""
        return self.submit(self._software_grab)

    def set_acquiring(self, acquiring: bool) -> Future[None]:
        """Switch continuous acquisition on or off."""

        def switch(driver: CameraDriver) -> None:
            self._acquiring = acquiring
            if not self._wants_frames():
                _stop_streaming(driver)

        return self.submit(switch)

    def _wants_frames(self) -> bool:
        """Acquisition is on, or frame requests still wait for a frame (camera thread; drops cancelled ones)."""
        self._frame_requests = [request for request in self._frame_requests if not request.future.done()]
        return self._acquiring or bool(self._frame_requests)

    def _software_mode(self) -> bool:
        return self._driver.trigger_source is TriggerSource.SOFTWARE

    def _software_grab(self, driver: CameraDriver) -> Frame:
        """One software trigger and its frame, delivered like any acquired frame (camera thread)."""
        source = driver.trigger_source
        if source is not TriggerSource.SOFTWARE:
            raise TriggerModeError(source)
        if not driver.is_streaming:
            driver.start_streaming()
        frame = driver.grab()
        self._deliver(frame)
        return frame

    # -- the thread ---------------------------------------------------------------------------

    def _run(self) -> None:
        delay_s = self._reconnect_initial_delay_s
        try:
            while not self._stopping.is_set():
                if not self._state.usable:
                    if self._connect():
                        delay_s = self._reconnect_initial_delay_s
                    else:
                        self._stopping.wait(delay_s)
                        delay_s = min(delay_s * 2, self._reconnect_max_delay_s)
                elif self._wants_frames():
                    self._serve_commands(block=False)
                    if self._wants_frames() and self._state.usable and not self._stopping.is_set():
                        if self._software_mode():
                            # every grab would fire a trigger: stream (so triggers are quick) and wait for commands
                            self._guarded(_start_streaming)
                            if self._state.usable:
                                self._serve_commands(block=True)
                        else:
                            self._acquire_one()
                    if self._state.usable and not self._wants_frames() and not self._software_mode():
                        self._guarded(_stop_streaming)  # (software mode keeps streaming until acquisition is off)
                else:
                    self._serve_commands(block=True)
        finally:
            self._shut_down()

    def _connect(self) -> bool:
        self._set_state(CameraState.CONNECTING if self._state is CameraState.CONNECTING else CameraState.DISCONNECTED)
        try:
            self._driver.open()
            with self._event_lock:
                self._disconnect_reported = False
            self._driver.set_event_listener(self._hand_off_event)
            for hook in self._listeners.connect:
                hook(self._driver)
        except CameraServiceError as exc:
            log.warning("camera not available: %s", exc)
            self._driver.close()
            return False
        except Exception:
            log.exception("unexpected error while connecting to the camera")
            self._driver.close()
            return False
        self._set_state(CameraState.CONNECTED)
        return True

    def _serve_commands(self, *, block: bool) -> None:
        """Run queued commands: all that are waiting, or (block) the next one or an idle check."""
        while True:
            try:
                if block:
                    command = self._commands.get(timeout=self._idle_check_interval_s)
                else:
                    command = self._commands.get_nowait()
            except queue.Empty:
                if block:
                    self._guarded(lambda driver: driver.check_connection())
                return
            if command is None:  # stop sentinel
                return
            if command.future.set_running_or_notify_cancel():
                self._execute(command)
            if block or not self._state.usable:
                return

    def _execute(self, command: _Command) -> None:
        try:
            result = command.function(self._driver)
        except CameraDisconnectedError as exc:
            command.future.set_exception(exc)
            self._on_disconnect(exc)
        except BaseException as exc:  # delivered to the caller, who maps or logs it
            command.future.set_exception(exc)
        else:
            command.future.set_result(result)

    def _guarded(self, function: Callable[[CameraDriver], object]) -> None:
        try:
            function(self._driver)
        except CameraDisconnectedError as exc:
            self._on_disconnect(exc)

    def _acquire_one(self) -> None:
        try:
            if not self._driver.is_streaming:
                self._driver.start_streaming()
            frame = self._driver.grab()
        except NoTriggerYet:
            return  # waiting for a hardware trigger is not a fault: serve commands, then wait again
        except CameraDisconnectedError as exc:
            self._on_disconnect(exc)
            return
        except CameraServiceError as exc:  # e.g. a timeout: report to waiters, keep going
            log.warning("acquisition: %s", exc)
            self._fail_frame_requests(exc)
            return
        except Exception as exc:
            log.exception("acquisition failed")
            self._fail_frame_requests(exc)
            self._acquiring = False
            return
        self._deliver(frame)

    def _deliver(self, frame: Frame) -> None:
        self._resolve_frame_requests(frame)
        for listener in self._listeners.frame:
            listener(frame)

    def _resolve_frame_requests(self, frame: Frame) -> None:
        waiting = []
        for request in self._frame_requests:
            if request.future.done():
                continue
            request.frames_left -= 1
            if request.accept(frame) or request.frames_left <= 0:
                settle(request.future, frame)
            else:
                waiting.append(request)
        self._frame_requests = waiting

    def _fail_frame_requests(self, exc: BaseException) -> None:
        for request in self._frame_requests:
            settle(request.future, exc)
        self._frame_requests = []

    def _fail_queued(self, exc: BaseException) -> None:
        while True:
            try:
                command = self._commands.get_nowait()
            except queue.Empty:
                return
            if command is not None and command.future.set_running_or_notify_cancel():
                command.future.set_exception(exc)

    def _on_disconnect(self, exc: CameraDisconnectedError) -> None:
        log.warning("camera disconnected: %s; reconnecting", exc)
        self._acquiring = False
        self._driver.close()  # ends the driver's events
        self._hand_off_event(CameraEvent(CameraEventType.DISCONNECTED))  # unless the driver reported it
        self._set_state(CameraState.DISCONNECTED)
        unavailable = CameraUnavailableError(f"camera disconnected: {exc}")
        self._fail_frame_requests(unavailable)
        self._fail_queued(unavailable)

    def _shut_down(self) -> None:
        self._acquiring = False
        stopping = ServiceStoppingError("the service is shutting down")
        self._fail_frame_requests(stopping)
        self._fail_queued(stopping)
        self._driver.close()
        self._set_state(CameraState.STOPPED)
        log.info("camera closed")

    def _hand_off_event(self, event: CameraEvent) -> None:
        """Forward a camera event to the listeners (any thread; one DISCONNECTED per connection)."""
        with self._event_lock:
            if event.type is CameraEventType.DISCONNECTED:
                if self._disconnect_reported:
                    return
                self._disconnect_reported = True
            for listener in self._listeners.event:
                try:
                    listener(event)
                except Exception:
                    log.exception("camera event listener failed")

    def _set_state(self, state: CameraState) -> None:
        with self._state_lock:
            if state is self._state:
                return
            self._state = state
        if state.usable:
            self._connected.set()
        else:
            self._connected.clear()
        log.info("camera %s", state.value)
        for listener in self._listeners.state:
            try:
                listener(state)
            except Exception:
                log.exception("camera state listener failed")


def _start_streaming(driver: CameraDriver) -> None:
    if not driver.is_streaming:
        driver.start_streaming()


def _stop_streaming(driver: CameraDriver) -> None:
    if driver.is_streaming:
        driver.stop_streaming()


def _accept_any(frame: Frame) -> bool:
    return True


def _grab_one(driver: CameraDriver, request: _FrameRequest) -> Frame:
    """Stream just long enough for one acceptable frame (camera thread)."""
    was_streaming = driver.is_streaming
    driver.start_streaming()
    try:
        while True:
            frame = driver.grab()
            request.frames_left -= 1
            if request.accept(frame) or request.frames_left <= 0:
                return frame
    finally:
        if not was_streaming and driver.is_open:
            try:
                driver.stop_streaming()
            except CameraServiceError as exc:
                log.debug("stop streaming after a grab failed: %s", exc)


def _forward_failure(done: Future[Any], outer: Future[Frame]) -> None:
    if done.cancelled():
        outer.cancel()
    elif (exc := done.exception()) is not None:
        settle(outer, exc)
