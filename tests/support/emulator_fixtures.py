"""pytest fixtures for the PixeLINK SDK emulator (registered by ``pytest_plugins`` in tests/conftest.py).

* ``emulator_dir`` (session): a directory with the freshly built ``libPxLApi.so`` (built once per session).
* ``emulator_lib`` (session): the emulator loaded IN-PROCESS so the unmodified ``pixelinkWrapper`` binds to it
  (SDK-ABI.md 1.4 recipe B). After this fixture has run, ``import pixelinkWrapper`` succeeds in this test
  process and talks to the emulator.
* ``emulator``: :class:`tests.support.pxlemu.EmulatorControl` for that library, reset before and after
  each test (all handles forgotten, default profile, faults and counters cleared).
* ``pxl_api``: the ``PxLApi`` class of pixelinkWrapper, bound to the reset emulator.
"""

from __future__ import annotations

import ctypes
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.support.pxlemu import EmulatorControl, build_emulator


@pytest.fixture(scope="session")
def emulator_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Directory holding ``libPxLApi.so.<version>`` (+ ``libPxLApi.so``), built from emulator/ for this session."""
    directory = tmp_path_factory.mktemp("pxlemu")
    return build_emulator(directory).parent


@pytest.fixture(scope="session")
def emulator_lib(emulator_dir: Path) -> ctypes.CDLL:
    """The emulator, loaded in this process before pixelinkWrapper is imported, and bound to it."""
    lib_path = next(emulator_dir.glob("libPxLApi.so.*"))
    # Preload by absolute path: its SONAME libPxLApi.so satisfies the wrapper's CDLL('libPxLApi.so').
    lib = ctypes.CDLL(str(lib_path), mode=ctypes.RTLD_GLOBAL)
    old = os.environ.get("PIXELINK_SDK_LIB")
    os.environ["PIXELINK_SDK_LIB"] = str(emulator_dir)  # read by the wrapper's version probe at import
    try:
        from pixelinkWrapper import PxLApi
    finally:
        if old is None:
            del os.environ["PIXELINK_SDK_LIB"]
        else:
            os.environ["PIXELINK_SDK_LIB"] = old
    if PxLApi._Api._handle != lib._handle:
        pytest.fail(
            "pixelinkWrapper was imported before the emulator was loaded and is bound to another libPxLApi.so; "
            "use the emulator fixtures before anything imports pixelinkWrapper"
        )
    return lib


@pytest.fixture
def emulator(emulator_lib: ctypes.CDLL) -> Iterator[EmulatorControl]:
    """Control of the in-process emulator, reset to the default profile before and after the test."""
    control = EmulatorControl(emulator_lib)
    control.reset()
    yield control
    control.reset()


@pytest.fixture
def pxl_api(emulator: EmulatorControl) -> Any:
    """``pixelinkWrapper.PxLApi`` talking to the (reset) in-process emulator."""
    from pixelinkWrapper import PxLApi

    return PxLApi


def use_emulator_sdk(
    monkeypatch: pytest.MonkeyPatch, emulator: EmulatorControl, emulator_dir: Path, profile: str
) -> None:
    """Make a service's PixeLINK driver load the emulator (``PIXELINK_SDK_LIB``) with the cameras of ``profile``
    (``PXLEMU_CONFIG``), reset to them now."""
    monkeypatch.setenv("PXLEMU_CONFIG", profile)
    monkeypatch.setenv("PIXELINK_SDK_LIB", str(emulator_dir))
    emulator.reset()
