"""The one set of test helpers: services (in-process and as a process), settings, waiting, ports."""

from tests.support.paths import REPO_ROOT
from tests.support.process import ServiceProcess
from tests.support.service import (
    FAST_CAMERA,
    TEST_SETTINGS,
    RunningService,
    ServiceFactory,
    environment,
    make_settings,
)
from tests.support.waiting import STATE_TIMEOUT_S, closed_port, eventually, wait_for_health

__all__ = [
    "FAST_CAMERA",
    "REPO_ROOT",
    "STATE_TIMEOUT_S",
    "TEST_SETTINGS",
    "RunningService",
    "ServiceFactory",
    "ServiceProcess",
    "closed_port",
    "environment",
    "eventually",
    "make_settings",
    "wait_for_health",
]
