"""Events a camera reports (triggers, missed triggers, skipped frames, inputs, disconnects).

Drivers produce :class:`CameraEvent` snapshots from the SDK's event callbacks and hand them to the
listener the worker installed (:meth:`camera_grpc.device.base.CameraDriver.set_event_listener`).
The SDK calls its callbacks on a thread of its own: there a driver only builds the event and hands
it off (the listener is thread-safe and quick); nothing on that thread touches service state.
"""

from __future__ import annotations

import enum
from collections.abc import Callable
from dataclasses import dataclass

from camera_grpc.device.settings import GpioMode, TriggerEdge


class CameraEventType(enum.Enum):
    """What a camera reported."""

    DISCONNECTED = "camera_disconnected"
    #: An edge on the trigger input while the trigger is armed (both edges, as PixeLINK reports them; only the
    #: configured ``trigger.edge`` starts an exposure).
    HARDWARE_TRIGGER = "hardware_trigger"
    TRIGGER_MISSED = "trigger_missed"  #: a trigger arrived while the camera could not take it
    FRAMES_SKIPPED = "frames_skipped"  #: the camera dropped frames the host did not fetch in time
    GPIO_INPUT = "gpio_input"  #: an input line changed level


@dataclass(frozen=True)
class CameraEvent:
    """One event, as the camera reported it."""

    type: CameraEventType
    camera_time_s: float | None = None  #: the camera's timestamp of it (seconds on the frames' camera clock)
    count: int = 1  #: triggers missed, frames skipped
    edge: TriggerEdge | None = None  #: HARDWARE_TRIGGER, GPIO_INPUT
    line: int = 0  #: GPIO_INPUT: the line (1-based)
    high: bool = False  #: GPIO_INPUT: the new level


#: Receives events; called from any thread (SDK callback threads included): must be quick and thread-safe.
EventListener = Callable[[CameraEvent], None]


@dataclass(frozen=True)
class GpioLineState:
    """One GPIO line as read now."""

    line: int  #: 1-based
    mode: GpioMode
    high: bool  #: the level (inputs: read from the line)


@dataclass(frozen=True)
class IoStatus:
    """The camera's GPIO lines and temperatures, read now."""

    lines: tuple[GpioLineState, ...] = ()
    sensor_temperature_c: float | None = None  #: None: the camera cannot say
    body_temperature_c: float | None = None
