"""Triggering, camera timestamps, events and GPIO (issue 13), on every driver and through the camera worker.

Each test runs on the simulated camera and on the PixeLINK driver over the SDK emulator (mono and colour), as
the conformance suite does; edges come from the simulated camera's test hooks (``inject_trigger``,
``trigger_burst``, ``set_input``) or the emulator's (``trigger_pulse``, ``trigger_burst``, ``set_gpi``).
Waits are for states (``eventually``, futures, the camera's own trigger counters), never for time; the
only numbers about time are the camera clock's spacing of a burst, which the camera itself stamps.
"""

from __future__ import annotations

import itertools
import threading
from collections.abc import Callable, Iterator
from concurrent.futures import Future
from dataclasses import dataclass, replace

import pytest

from camera_grpc.device.base import CameraDriver, Frame, NoTriggerYet
from camera_grpc.device.events import CameraEvent, CameraEventType
from camera_grpc.device.settings import (
    FeatureInfo,
    FrameRate,
    FrameRateMode,
    Gpio,
    GpioMode,
    Trigger,
    TriggerEdge,
    TriggerMode,
    TriggerModeError,
    TriggerSource,
)
from camera_grpc.device.simulated import SimulatedCamera
from camera_grpc.device.worker import CameraState, CameraWorker
from camera_grpc.errors import CameraDisconnectedError, CameraUnavailableError, InvalidSettingError
from tests.device.test_driver_conformance import DRIVER_HARNESSES, EMULATED_SERIAL
from tests.support.pxlemu import EmulatorControl
from tests.support.waiting import STATE_TIMEOUT_S, eventually

#: A short exposure (the sensor is soon free again) and a long one (a second edge surely arrives while busy), ms.
SHORT_EXPOSURE_MS = 1.0
LONG_EXPOSURE_MS = 300.0
#: Triggers of a burst and their period, seconds (far longer than a short exposure and its readout).
BURST_TRIGGERS = 6
BURST_PERIOD_S = 0.05
#: How close the camera clock keeps a burst's period (the camera stamps it; scheduling jitter only).
PERIOD_TOLERANCE = 0.2
#: Frames per trigger in burst mode (at this frame rate), and software triggers in a run.
BURST_FRAMES = 3
BURST_FRAME_RATE_FPS = 20.0
SOFTWARE_RUN = 5
#: Wait slices a test lets pass while nothing is triggered.
IDLE_SLICES = 4
#: Slices a grab loop may see without a trigger before the test fails (a bound, not a timing check).
MAX_EMPTY_SLICES = 200


@dataclass
class Rig:
    """A driver and the trigger input of its camera."""

    driver: CameraDriver
    pulse: Callable[[], str]  #: one pulse on the input: "accepted", "missed" or "ignored"
    burst: Callable[[int, float], None]  #: count active edges, period s apart, the first now (returns at once)
    accepted: Callable[[], int]  #: triggers the camera accepted so far (the camera's own counter)
    set_input: Callable[[bool], None]
    unplug: Callable[[], None]
    replug: Callable[[], None]
    emulator: EmulatorControl | None = None


@pytest.fixture(params=sorted(DRIVER_HARNESSES))
def rig(request: pytest.FixtureRequest) -> Iterator[Rig]:
    """A closed driver (open it, or hand it to a worker) with its camera's trigger input."""
    harness_iterator = DRIVER_HARNESSES[request.param](request)
    harness = next(harness_iterator)
    driver = harness.driver
    if isinstance(driver, SimulatedCamera):
        camera = driver
        rig = Rig(
            driver,
            pulse=lambda: camera.inject_trigger().value,
            burst=camera.trigger_burst,
            accepted=lambda: camera.trigger_counts()[0],
            set_input=lambda level: camera.set_input(level) and None,
            unplug=harness.unplug,
            replug=harness.replug,
        )
    else:
        emulator: EmulatorControl = request.getfixturevalue("emulator")
        outcomes = {0: "ignored", 1: "accepted", 2: "missed"}
        rig = Rig(
            driver,
            pulse=lambda: outcomes[emulator.trigger_pulse(EMULATED_SERIAL)],
            burst=lambda count, period_s: emulator.trigger_burst(EMULATED_SERIAL, count, period_s),
            accepted=lambda: emulator.trigger_counts(EMULATED_SERIAL)[0],
            set_input=lambda level: emulator.set_gpi(EMULATED_SERIAL, int(level)) and None,
            unplug=harness.unplug,
            replug=harness.replug,
            emulator=emulator,
        )
    try:
        yield rig
    finally:
        driver.close()
        for _ in harness_iterator:  # the factory's clean-up
            pass


@pytest.fixture
def opened(rig: Rig) -> Rig:
    rig.driver.open()
    return rig


def nearest(info: FeatureInfo, wanted: float) -> float:
    assert info.minimum is not None and info.maximum is not None
    return min(max(wanted, info.minimum), info.maximum)


def configure(driver: CameraDriver, trigger: Trigger, exposure_ms: float = SHORT_EXPOSURE_MS) -> None:
    """Exposure and trigger, with the stream stopped (TRIGGER needs it on PixeLINK cameras)."""
    features = driver.info().features
    driver.write_setting("exposure_ms", nearest(features["exposure_ms"], exposure_ms))
    driver.write_setting("trigger", trigger)


def next_triggered_frame(driver: CameraDriver) -> Frame:
    """Grab until a triggered frame comes (each empty slice raises NoTriggerYet)."""
    for _ in range(MAX_EMPTY_SLICES):
        try:
            return driver.grab()
        except NoTriggerYet:
            continue
    raise AssertionError(f"no triggered frame in {MAX_EMPTY_SLICES} wait slices")


def serial_of(driver: CameraDriver) -> str:
    return driver.info().serial_number


class Events:
    """A thread-safe event recorder."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._events: list[CameraEvent] = []

    def __call__(self, event: CameraEvent) -> None:
        with self._lock:
            self._events.append(event)

    @property
    def all(self) -> list[CameraEvent]:
        with self._lock:
            return list(self._events)

    def of(self, kind: CameraEventType, edge: TriggerEdge | None = None) -> list[CameraEvent]:
        return [event for event in self.all if event.type is kind and (edge is None or event.edge is edge)]


# -- settings ------------------------------------------------------------------------------------------------


def test_every_trigger_source_the_camera_offers_round_trips(opened: Rig) -> None:
    driver = opened.driver
    features = driver.info().features
    assert features["trigger.source"].choices[0] == TriggerSource.FREE_RUNNING.value
    assert not features["trigger.source"].settable_while_streaming  # set with the stream stopped
    for source in features["trigger.source"].choices:
        trigger = Trigger(TriggerSource(source), TriggerMode.EDGE, TriggerEdge.FALLING, delay_ms=2.0)
        driver.write_setting("trigger", trigger)
        read = driver.read_settings().settings
        expected = trigger if trigger.source is not TriggerSource.FREE_RUNNING else Trigger()  # nothing kept while off
        assert read.trigger == replace(expected, delay_ms=pytest.approx(expected.delay_ms)), source
        assert driver.trigger_source is trigger.source
        line_1 = next(line for line in read.gpio if line.line == 1)
        # an armed hardware trigger holds the input line: it reads as an input
        assert (line_1.mode is GpioMode.INPUT) == (trigger.source is TriggerSource.HARDWARE)


def test_gpio_refusals_name_the_field_and_change_nothing(opened: Rig) -> None:
    driver = opened.driver
    features = driver.info().features
    before = driver.read_settings()
    last = int(max(features["gpio.line"].values))
    refusals = {
        "gpio.line": (Gpio(last + 1, GpioMode.NORMAL),),
        "gpio.mode": (Gpio(last, GpioMode.INPUT),),  # the last line is an output only (PL-D: line 2)
    }
    for field, lines in refusals.items():
        with pytest.raises(InvalidSettingError) as caught:
            driver.write_setting("gpio", lines)
        assert caught.value.field == field
        assert driver.read_settings() == before
    driver.write_setting("trigger", Trigger(TriggerSource.HARDWARE))
    armed = driver.read_settings()
    with pytest.raises(InvalidSettingError) as caught:  # line 1 is the armed trigger's input
        driver.write_setting("gpio", (Gpio(1, GpioMode.STROBE, duration_ms=1.0),))
    assert caught.value.field == "gpio.mode"
    assert driver.read_settings() == armed


def test_an_output_line_and_the_input_line_read_back_in_io_status(opened: Rig) -> None:
    driver = opened.driver
    last = int(max(driver.info().features["gpio.line"].values))
    events = Events()
    driver.set_event_listener(events)
    driver.write_setting("gpio", (Gpio(1, GpioMode.INPUT), Gpio(last, GpioMode.NORMAL, active_high=True)))
    status = driver.read_io()
    assert [line.line for line in status.lines] == list(range(1, last + 1))
    assert status.lines[-1].mode is GpioMode.NORMAL and status.lines[-1].high
    assert status.lines[0].mode is GpioMode.INPUT and not status.lines[0].high
    assert status.sensor_temperature_c is not None
    opened.set_input(True)
    assert driver.read_io().lines[0].high
    driver.write_setting("gpio", (Gpio(last, GpioMode.NORMAL, active_high=False),))
    assert not driver.read_io().lines[-1].high
    rising = [event for event in events.of(CameraEventType.GPIO_INPUT) if event.high]
    if opened.emulator is None:  # synchronous on the simulated camera; the emulator's thread delivers later
        assert rising and rising[0].line == 1 and rising[0].edge is TriggerEdge.RISING


# -- frames by trigger source ----------------------------------------------------------------------------------


def test_software_trigger_count_equals_frame_count_over_a_run(opened: Rig) -> None:
    driver = opened.driver
    configure(driver, Trigger(TriggerSource.SOFTWARE))
    driver.start_streaming()
    frames = [driver.grab() for _ in range(SOFTWARE_RUN)]  # each grab is one trigger
    assert [frame.trigger_count for frame in frames] == list(range(1, SOFTWARE_RUN + 1))
    assert all(frame.trigger_source is TriggerSource.SOFTWARE for frame in frames)
    numbers = [frame.frame_number for frame in frames]
    assert numbers == sorted(set(numbers))
    times = [frame.camera_time_s for frame in frames]
    assert all(time is not None for time in times)
    assert times == sorted(set(times))  # type: ignore[type-var]
    assert {frame.camera_clock for frame in frames} == {f"{driver.name}:{serial_of(driver)}"}


def test_free_running_frames_carry_the_camera_clock_and_no_trigger(opened: Rig) -> None:
    driver = opened.driver
    driver.start_streaming()
    first, second = driver.grab(), driver.grab()
    assert first.trigger_source is TriggerSource.FREE_RUNNING and first.trigger_count == 0
    assert first.camera_time_s is not None and second.camera_time_s is not None
    assert second.camera_time_s > first.camera_time_s
    assert first.camera_clock == f"{driver.name}:{serial_of(driver)}"


def test_hardware_trigger_count_equals_frame_count_over_a_burst(opened: Rig) -> None:
    driver = opened.driver
    configure(driver, Trigger(TriggerSource.HARDWARE))
    driver.start_streaming()
    with pytest.raises(NoTriggerYet):  # nothing triggered yet: a slice passes, no error
        driver.grab()
    opened.burst(BURST_TRIGGERS, BURST_PERIOD_S)
    frames = [next_triggered_frame(driver) for _ in range(BURST_TRIGGERS)]
    assert opened.accepted() == BURST_TRIGGERS
    assert [frame.trigger_count for frame in frames] == list(range(1, BURST_TRIGGERS + 1))
    assert all(frame.trigger_source is TriggerSource.HARDWARE for frame in frames)
    numbers = [frame.frame_number for frame in frames]
    assert numbers == list(range(numbers[0], numbers[0] + BURST_TRIGGERS))
    times = [frame.camera_time_s for frame in frames]
    spacings = [later - earlier for earlier, later in itertools.pairwise(times)]  # type: ignore[operator]
    assert spacings == [pytest.approx(BURST_PERIOD_S, rel=PERIOD_TOLERANCE)] * (BURST_TRIGGERS - 1)
    with pytest.raises(NoTriggerYet):  # the burst is over
        driver.grab()


def test_burst_mode_gives_frames_per_trigger_indexed(opened: Rig) -> None:
    driver = opened.driver
    if TriggerMode.BURST.value not in driver.info().features["trigger.mode"].choices:
        pytest.skip("the camera has no burst mode")
    configure(driver, Trigger(TriggerSource.HARDWARE, TriggerMode.BURST, frames_per_trigger=BURST_FRAMES))
    # a burst's frames come a frame period apart: slow enough that the host is always waiting for the next
    fps = nearest(driver.info().features["frame_rate.fps"], BURST_FRAME_RATE_FPS)
    driver.write_setting("frame_rate", FrameRate(FrameRateMode.FIXED, fps))
    driver.start_streaming()
    for trigger in (1, 2):
        assert opened.pulse() == "accepted"
        frames = [next_triggered_frame(driver) for _ in range(BURST_FRAMES)]
        assert [(frame.trigger_count, frame.trigger_frame_index) for frame in frames] == [
            (trigger, index) for index in range(BURST_FRAMES)
        ]


async def test_a_trigger_during_readout_is_missed_once_and_gives_no_frame(opened: Rig) -> None:
    driver = opened.driver
    configure(driver, Trigger(TriggerSource.HARDWARE), exposure_ms=LONG_EXPOSURE_MS)
    events = Events()
    driver.set_event_listener(events)
    driver.start_streaming()
    assert opened.pulse() == "accepted"
    assert opened.pulse() == "missed"  # the sensor is still exposing the first
    first = next_triggered_frame(driver)
    assert first.trigger_count == 1
    with pytest.raises(NoTriggerYet):  # no frame for the missed trigger
        driver.grab()
    assert opened.pulse() == "accepted"
    second = next_triggered_frame(driver)
    assert (second.trigger_count, second.frame_number) == (2, first.frame_number + 1)
    # events come in order: once the third edge's event is here, every earlier one is
    await eventually(lambda: len(events.of(CameraEventType.HARDWARE_TRIGGER, TriggerEdge.RISING)) == 3)
    assert len(events.of(CameraEventType.TRIGGER_MISSED)) == 1
    kinds = [event.type for event in events.all if event.type is not CameraEventType.HARDWARE_TRIGGER]
    assert kinds == [CameraEventType.TRIGGER_MISSED]
    times = [event.camera_time_s for event in events.all]
    assert times == sorted(times)  # type: ignore[type-var]


async def test_frames_the_host_does_not_fetch_in_time_are_reported_skipped(opened: Rig) -> None:
    driver = opened.driver
    configure(driver, Trigger(TriggerSource.HARDWARE))
    events = Events()
    driver.set_event_listener(events)
    driver.start_streaming()
    opened.burst(BURST_TRIGGERS * 2, BURST_PERIOD_S / 5)  # nobody grabs while it runs
    await eventually(lambda: opened.accepted() == BURST_TRIGGERS * 2, what="the burst to end")
    with pytest.raises(NoTriggerYet):  # whatever the camera kept is taken, then nothing is left
        while True:
            driver.grab()
    await eventually(lambda: bool(events.of(CameraEventType.FRAMES_SKIPPED)))
    skipped = sum(event.count for event in events.of(CameraEventType.FRAMES_SKIPPED))
    assert 0 < skipped <= BURST_TRIGGERS * 2


async def test_an_unplug_while_waiting_for_a_trigger_is_a_disconnect(opened: Rig) -> None:
    driver = opened.driver
    configure(driver, Trigger(TriggerSource.HARDWARE))
    events = Events()
    driver.set_event_listener(events)
    driver.start_streaming()
    with pytest.raises(NoTriggerYet):
        driver.grab()
    opened.unplug()
    with pytest.raises(CameraDisconnectedError):
        next_triggered_frame(driver)
    await eventually(lambda: bool(events.of(CameraEventType.DISCONNECTED)))


async def test_the_listener_is_not_called_after_close(rig: Rig) -> None:
    driver = rig.driver
    driver.open()
    configure(driver, Trigger(TriggerSource.HARDWARE))
    closed = Events()
    driver.set_event_listener(closed)
    driver.start_streaming()
    assert rig.pulse() == "accepted"
    await eventually(lambda: bool(closed.of(CameraEventType.HARDWARE_TRIGGER)))
    driver.close()
    delivered = len(closed.all)
    rig.pulse()  # to nobody
    rig.unplug()  # nobody hears of it
    rig.replug()
    driver.open()  # a witness: its events come after anything still on the way to the first listener
    configure(driver, Trigger(TriggerSource.HARDWARE))
    witness = Events()
    driver.set_event_listener(witness)
    driver.start_streaming()
    assert rig.pulse() == "accepted"
    await eventually(lambda: bool(witness.of(CameraEventType.HARDWARE_TRIGGER)))
    assert len(closed.all) == delivered


# -- the camera worker --------------------------------------------------------------------------------------


def start_worker(driver: CameraDriver) -> CameraWorker:
    worker = CameraWorker(
        driver, reconnect_initial_delay_s=0.02, reconnect_max_delay_s=0.05, idle_check_interval_s=0.05
    )
    worker.start()
    assert worker.wait_until_connected(STATE_TIMEOUT_S)
    return worker


@pytest.fixture
def worker(rig: Rig) -> Iterator[CameraWorker]:
    worker = start_worker(rig.driver)
    yield worker
    worker.stop()


def set_trigger(worker: CameraWorker, trigger: Trigger, exposure_ms: float = SHORT_EXPOSURE_MS) -> None:
    def apply(driver: CameraDriver) -> None:
        restart = driver.is_streaming
        if restart:
            driver.stop_streaming()
        configure(driver, trigger, exposure_ms)
        if restart:
            driver.start_streaming()

    worker.submit(apply).result(STATE_TIMEOUT_S)


def count_empty_slices(driver: CameraDriver) -> Callable[[], int]:
    """Counts the grabs that found no trigger (wraps the driver's grab on this instance)."""
    empty = [0]
    grab = driver.grab

    def counting_grab() -> Frame:
        try:
            return grab()
        except NoTriggerYet:
            empty[0] += 1
            raise

    driver.grab = counting_grab  # type: ignore[method-assign]
    return lambda: empty[0]


def test_software_triggers_through_the_worker_give_one_frame_each(worker: CameraWorker) -> None:
    with pytest.raises(TriggerModeError):  # free-running: nothing to fire
        worker.software_trigger().result(STATE_TIMEOUT_S)
    set_trigger(worker, Trigger(TriggerSource.SOFTWARE))
    seen: list[Frame] = []
    worker.add_frame_listener(seen.append)
    waiting = worker.next_frame()  # waits for a triggered frame, fires none itself
    frames = [worker.software_trigger().result(STATE_TIMEOUT_S) for _ in range(SOFTWARE_RUN)]
    assert [frame.trigger_count for frame in frames] == list(range(1, SOFTWARE_RUN + 1))
    assert waiting.result(STATE_TIMEOUT_S) is frames[0]
    assert [frame.frame_number for frame in seen] == [frame.frame_number for frame in frames]
    fired = worker.next_frame(trigger=True).result(STATE_TIMEOUT_S)
    assert fired.trigger_count == SOFTWARE_RUN + 1


async def test_software_mode_acquisition_grabs_nothing_by_itself(rig: Rig, worker: CameraWorker) -> None:
    set_trigger(worker, Trigger(TriggerSource.SOFTWARE))
    seen: list[Frame] = []
    worker.add_frame_listener(seen.append)
    worker.set_acquiring(True).result(STATE_TIMEOUT_S)
    frame = worker.software_trigger().result(STATE_TIMEOUT_S)
    second = worker.software_trigger().result(STATE_TIMEOUT_S)
    assert [seen_frame.trigger_count for seen_frame in seen] == [frame.trigger_count, second.trigger_count] == [1, 2]


async def test_waiting_for_triggers_is_no_fault_and_a_trigger_ends_the_wait(rig: Rig) -> None:
    empty_slices = count_empty_slices(rig.driver)
    worker = start_worker(rig.driver)
    try:
        states: list[CameraState] = []
        worker.add_state_listener(states.append)
        set_trigger(worker, Trigger(TriggerSource.HARDWARE))
        pending = worker.next_frame()
        await eventually(lambda: empty_slices() >= IDLE_SLICES, what="several wait slices")
        assert not pending.done()
        assert states == [] and worker.state is CameraState.CONNECTED  # no reconnect
        assert worker.submit(lambda driver: driver.trigger_source).result(STATE_TIMEOUT_S) is TriggerSource.HARDWARE
        assert rig.pulse() == "accepted"
        frame = pending.result(STATE_TIMEOUT_S)
        assert (frame.trigger_source, frame.trigger_count) == (TriggerSource.HARDWARE, 1)
    finally:
        worker.stop()


async def test_a_disconnect_while_waiting_for_a_trigger_ends_the_wait_unavailable(rig: Rig) -> None:
    empty_slices = count_empty_slices(rig.driver)
    worker = start_worker(rig.driver)
    try:
        events = Events()
        worker.add_event_listener(events)
        set_trigger(worker, Trigger(TriggerSource.HARDWARE))
        pending: Future[Frame] = worker.next_frame()
        await eventually(lambda: empty_slices() >= 1, what="a wait slice")
        rig.unplug()
        assert isinstance(pending.exception(STATE_TIMEOUT_S), CameraUnavailableError)
        await eventually(lambda: bool(events.of(CameraEventType.DISCONNECTED)))
        assert len(events.of(CameraEventType.DISCONNECTED)) == 1  # the driver's or the worker's, once
    finally:
        worker.stop()


async def test_worker_events_arrive_in_order(rig: Rig, worker: CameraWorker) -> None:
    events = Events()
    worker.add_event_listener(events)
    set_trigger(worker, Trigger(TriggerSource.HARDWARE), exposure_ms=LONG_EXPOSURE_MS)
    frames: list[Frame] = []
    worker.add_frame_listener(frames.append)
    worker.set_acquiring(True).result(STATE_TIMEOUT_S)
    await eventually(lambda: worker.submit(lambda driver: driver.is_streaming).result(STATE_TIMEOUT_S))
    outcomes = [rig.pulse(), rig.pulse()]
    assert outcomes == ["accepted", "missed"]
    await eventually(lambda: len(frames) == 1 and bool(events.of(CameraEventType.TRIGGER_MISSED)))
    kinds = [event.type for event in events.all if event.edge in (None, TriggerEdge.RISING)]
    assert kinds[:3] == [
        CameraEventType.HARDWARE_TRIGGER,
        CameraEventType.HARDWARE_TRIGGER,
        CameraEventType.TRIGGER_MISSED,
    ]


async def test_a_cancelled_wait_for_a_trigger_stops_the_stream(rig: Rig, worker: CameraWorker) -> None:
    set_trigger(worker, Trigger(TriggerSource.HARDWARE))
    pending = worker.next_frame()
    await eventually(lambda: worker.submit(lambda driver: driver.is_streaming).result(STATE_TIMEOUT_S))
    pending.cancel()  # as the core does at the client's deadline
    await eventually(lambda: not worker.submit(lambda driver: driver.is_streaming).result(STATE_TIMEOUT_S))
    assert worker.state is CameraState.CONNECTED
