"""The camera worker: one thread owns the driver; fail fast; reconnect; cancellation."""

from __future__ import annotations

import asyncio
import threading
from concurrent.futures import CancelledError, Future

import pytest

from camera_grpc.device.base import CameraDriver
from camera_grpc.device.events import CameraEvent, CameraEventType, EventListener
from camera_grpc.device.simulated import SimulatedCamera
from camera_grpc.device.worker import CameraState, CameraWorker
from camera_grpc.errors import CameraUnavailableError, ServiceStoppingError

TIMEOUT_S = 10.0


@pytest.fixture
def camera() -> SimulatedCamera:
    return SimulatedCamera(width=64, height=48, max_frame_rate_fps=500)


def fast_worker(camera: SimulatedCamera) -> CameraWorker:
    """A worker that reconnects and checks the connection every few tens of milliseconds."""
    return CameraWorker(camera, reconnect_initial_delay_s=0.02, reconnect_max_delay_s=0.05, idle_check_interval_s=0.05)


def wait_for_state(worker: CameraWorker, state: CameraState) -> None:
    stop_waiting = threading.Event()
    for _ in range(int(TIMEOUT_S / 0.01)):
        if worker.state is state:
            return
        stop_waiting.wait(0.01)
    raise AssertionError(f"worker never reached {state}")


@pytest.fixture
def worker(camera: SimulatedCamera) -> CameraWorker:
    worker = fast_worker(camera)
    worker.start()
    assert worker.wait_until_connected(TIMEOUT_S)
    yield worker
    worker.stop()


def test_every_camera_call_runs_on_the_one_camera_thread(worker: CameraWorker) -> None:
    futures = [worker.submit(lambda driver: threading.current_thread().name) for _ in range(20)]
    names = {future.result(TIMEOUT_S) for future in futures}
    assert names == {"camera-worker"}
    assert threading.current_thread().name not in names


async def test_call_does_not_block_the_event_loop(worker: CameraWorker) -> None:
    ticks = 0

    async def ticker() -> None:
        nonlocal ticks
        while True:
            ticks += 1
            await asyncio.sleep(0.01)

    ticking = asyncio.create_task(ticker())
    await worker.call(lambda driver: threading.Event().wait(0.3))  # a blocking camera call
    ticking.cancel()
    assert ticks >= 10  # the loop kept running while the camera thread was busy


def test_errors_reach_the_caller(worker: CameraWorker) -> None:
    def broken(driver: CameraDriver) -> None:
        raise ValueError("driver bug")

    with pytest.raises(ValueError, match="driver bug"):
        worker.submit(broken).result(TIMEOUT_S)
    assert worker.submit(lambda driver: driver.is_open).result(TIMEOUT_S) is True  # still serving


def test_a_queued_call_that_is_cancelled_never_runs(worker: CameraWorker) -> None:
    release = threading.Event()
    ran: list[str] = []
    blocker = worker.submit(lambda driver: release.wait(TIMEOUT_S))
    queued: Future[None] = worker.submit(lambda driver: ran.append("queued"))
    assert queued.cancel()
    release.set()
    blocker.result(TIMEOUT_S)
    worker.submit(lambda driver: None).result(TIMEOUT_S)  # everything before it has been served
    assert ran == []
    with pytest.raises(CancelledError):
        queued.result(0)


def test_disconnect_fails_fast_then_reconnects_and_runs_hooks(camera: SimulatedCamera) -> None:
    states: list[CameraState] = []
    hook_runs = threading.Semaphore(0)
    worker = fast_worker(camera)
    worker.add_state_listener(states.append)
    worker.add_connect_hook(lambda driver: hook_runs.release())
    worker.start()
    try:
        assert worker.wait_until_connected(TIMEOUT_S)
        assert hook_runs.acquire(timeout=TIMEOUT_S)

        camera.unplug()  # noticed by the idle connection check, without any traffic
        wait_for_state(worker, CameraState.DISCONNECTED)
        with pytest.raises(CameraUnavailableError, match=r"^camera disconnected; reconnecting$"):
            worker.submit(lambda driver: driver.get_exposure_ms()).result(TIMEOUT_S)

        camera.replug()
        assert worker.wait_until_connected(TIMEOUT_S)
        assert hook_runs.acquire(timeout=TIMEOUT_S)  # hooks ran again (settings re-applied)
        assert worker.submit(lambda driver: driver.get_exposure_ms()).result(TIMEOUT_S) > 0
    finally:
        worker.stop()
    assert states[0] is CameraState.CONNECTED
    assert CameraState.DISCONNECTED in states
    assert states[-1] is CameraState.STOPPED
    assert not camera.is_open  # closed at stop


def test_next_frame_while_acquiring_comes_from_the_shared_stream(worker: CameraWorker) -> None:
    sunk: list[int] = []
    worker.add_frame_listener(lambda frame: sunk.append(frame.frame_number))
    worker.set_acquiring(True).result(TIMEOUT_S)
    frame = worker.next_frame().result(TIMEOUT_S)
    worker.set_acquiring(False).result(TIMEOUT_S)
    assert frame.frame_number in sunk
    assert worker.submit(lambda driver: driver.is_streaming).result(TIMEOUT_S) is False


def test_stop_fails_new_calls_and_closes_the_camera(worker: CameraWorker, camera: SimulatedCamera) -> None:
    worker.stop()
    assert worker.state is CameraState.STOPPED
    assert not camera.is_open
    with pytest.raises(ServiceStoppingError):
        worker.submit(lambda driver: None).result(TIMEOUT_S)


class CountingCamera(SimulatedCamera):
    """Counts grabs (each one is camera work a cancelled request must not cause)."""

    grabs = 0

    def grab(self):  # type: ignore[no-untyped-def]
        self.grabs += 1
        return super().grab()


async def test_cancelling_an_awaited_call_before_it_starts_skips_it(worker: CameraWorker) -> None:
    release = threading.Event()
    ran: list[str] = []
    blocker = worker.submit(lambda driver: release.wait(TIMEOUT_S))
    task = asyncio.ensure_future(worker.call(lambda driver: ran.append("ran")))
    await asyncio.sleep(0)  # the call is queued behind the blocker
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task  # the cancellation has reached the queued call (not only the task) before the worker is freed
    release.set()
    await asyncio.wrap_future(blocker)
    await worker.call(lambda driver: None)  # everything queued before it has been served
    assert ran == []
    assert task.cancelled()


def test_cancelling_next_frame_before_it_starts_cancels_its_camera_work() -> None:
    camera = CountingCamera(width=64, height=48, max_frame_rate_fps=500)
    worker = fast_worker(camera)
    worker.start()
    try:
        assert worker.wait_until_connected(TIMEOUT_S)
        release = threading.Event()
        blocker = worker.submit(lambda driver: release.wait(TIMEOUT_S))
        request = worker.next_frame()
        assert request.cancel()
        release.set()
        blocker.result(TIMEOUT_S)
        worker.submit(lambda driver: None).result(TIMEOUT_S)
        assert camera.grabs == 0  # the grab it asked for never ran
        assert worker.next_frame().result(TIMEOUT_S).frame_number >= 0  # and the camera still works
    finally:
        worker.stop()


class SilentCamera(SimulatedCamera):
    """A camera whose driver reports no events (the interface's default hook)."""

    def set_event_listener(self, listener: EventListener | None) -> None:
        CameraDriver.set_event_listener(self, listener)


def test_the_worker_reports_a_disconnect_the_driver_did_not() -> None:
    camera = SilentCamera(width=64, height=48, max_frame_rate_fps=500)
    worker = fast_worker(camera)
    events: list[CameraEvent] = []
    worker.add_event_listener(events.append)
    worker.start()
    assert worker.wait_until_connected(TIMEOUT_S)
    try:
        for connection in (1, 2):
            camera.unplug()  # noticed by the idle check
            wait_for_state(worker, CameraState.DISCONNECTED)
            assert [event.type for event in events] == [CameraEventType.DISCONNECTED] * connection  # once each
            camera.replug()
            wait_for_state(worker, CameraState.CONNECTED)
    finally:
        worker.stop()


def test_a_driver_reported_disconnect_is_not_reported_twice(camera: SimulatedCamera, worker: CameraWorker) -> None:
    events: list[CameraEvent] = []
    worker.add_event_listener(events.append)
    camera.unplug()  # the simulated camera reports it (as the SDK's callback does), then the worker notices
    wait_for_state(worker, CameraState.DISCONNECTED)
    assert [event.type for event in events] == [CameraEventType.DISCONNECTED]
