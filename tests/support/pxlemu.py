"""Test support for the PixeLINK SDK emulator (``emulator/``, see ``emulator/README.md``).

* :func:`build_emulator` builds ``libPxLApi.so`` with ``scripts/build_emulator.sh`` (only when stale).
* :class:`EmulatorControl` drives the ``PxLEmu_*`` fault-injection functions of a library that is already
  loaded in this process (ctypes, with argtypes/restype set).
* :class:`SocketControl` drives an emulator inside ANOTHER process through its control socket
  (``PXLEMU_CONTROL_SOCKET``); it has the same method names.
* :func:`emulator_env` gives the environment for a subprocess that should load the emulator through the
  unmodified ``pixelinkWrapper``.

Both control classes raise :class:`EmulatorError` when the emulator answers "unknown serial/function" or
"invalid argument", so a typo in a test fails loudly instead of silently doing nothing.
"""

from __future__ import annotations

import ctypes
import math
import os
import socket
import subprocess
import time
from collections.abc import Mapping
from pathlib import Path

import numpy as np

from tests.support.paths import REPO_ROOT

BUILD_SCRIPT = REPO_ROOT / "scripts" / "build_emulator.sh"
#: Version in the library's file name: what pixelinkWrapper's version probe reads.
LIB_VERSION = "4.2.2.11"
#: Cameras of the default profile (override with PXLEMU_CONFIG, see emulator/README.md).
DEFAULT_SERIALS = (700000001, 700000002)
DEFAULT_WIDTH = 2448
DEFAULT_HEIGHT = 2048
#: Profiles (emulator/README.md "Profiles"): the default mono camera and the colour (Bayer RGGB) camera.
MONO_PROFILE = "mono"
COLOUR_PROFILE = "colour"
COLOUR_WIDTH = 1920
COLOUR_HEIGHT = 1200
#: Bytes at the start of every frame that hold the frame number (uint32 little-endian) instead of pixels.
STAMP_BYTES = 4


class EmulatorError(RuntimeError):
    """The emulator rejected a control request (unknown serial / function name, bad argument)."""


def build_emulator(outdir: str | os.PathLike[str]) -> Path:
    """Build the emulator into ``outdir`` if needed; return the absolute path of ``libPxLApi.so.<version>``.

    The library's directory (``.parent``) is what ``PIXELINK_SDK_LIB`` and ``LD_LIBRARY_PATH`` must name.
    Cheap when up to date. Raises RuntimeError with the compiler output when the build fails.
    """
    proc = subprocess.run([str(BUILD_SCRIPT), str(outdir)], capture_output=True, text=True, check=False)
    if proc.returncode != 0:
        raise RuntimeError(f"{BUILD_SCRIPT} failed ({proc.returncode}):\n{proc.stderr}")
    lib = Path(os.path.realpath(outdir)) / f"libPxLApi.so.{LIB_VERSION}"
    if not lib.is_file():
        raise RuntimeError(f"{BUILD_SCRIPT} did not produce {lib}:\n{proc.stderr}")
    return lib


def sensor_pattern(left: int, top: int, width: int, height: int, frame_number: int) -> np.ndarray:
    """The test pattern value g = (sensor_x + sensor_y + frame_number) mod 256 of a frame (emulator/README.md).

    At exposure 10 ms and gain 0 dB it is exactly a MONO8 frame's pixels (except the first STAMP_BYTES).
    """
    y, x = np.mgrid[0:height, 0:width]
    return (left + x + top + y + frame_number) & 0xFF


def _lib_dir(outdir: str | os.PathLike[str]) -> Path:
    path = Path(os.path.realpath(outdir))
    return path.parent if path.is_file() else path


def emulator_env(
    outdir: str | os.PathLike[str],
    socket_path: str | os.PathLike[str] | None = None,
    config: str | None = None,
    base: Mapping[str, str] | None = None,
) -> dict[str, str]:
    """The complete environment for a subprocess that loads the emulator through pixelinkWrapper.

    ``outdir`` is the build directory (or the library file). ``base`` defaults to ``os.environ``.
    ``socket_path`` enables the control socket (``PXLEMU_CONTROL_SOCKET``); ``config`` sets
    ``PXLEMU_CONFIG``. Without them, those variables are removed so nothing leaks in from the parent.
    """
    lib_dir = str(_lib_dir(outdir))
    env = dict(os.environ if base is None else base)
    old = env.get("LD_LIBRARY_PATH")
    env["LD_LIBRARY_PATH"] = f"{lib_dir}:{old}" if old else lib_dir
    env["PIXELINK_SDK_LIB"] = lib_dir
    env.pop("PXLEMU_CONTROL_SOCKET", None)
    env.pop("PXLEMU_CONFIG", None)
    if socket_path is not None:
        env["PXLEMU_CONTROL_SOCKET"] = str(socket_path)
    if config is not None:
        env["PXLEMU_CONFIG"] = config
    return env


def _fn(name: str) -> bytes:
    return name.encode()


#: Results of trigger_edge / trigger_pulse / set_gpi / hardware edges (0: no trigger).
TRIGGER_ACCEPTED = 1
TRIGGER_MISSED = 2


def _edge_level(edge: str) -> int:
    if edge not in ("rising", "falling"):
        raise ValueError(f"edge must be 'rising' or 'falling', not {edge!r}")
    return 1 if edge == "rising" else 0


class EmulatorControl:
    """ctypes bindings to the ``PxLEmu_*`` functions of an emulator loaded in this process.

    ``lib`` is the ``ctypes.CDLL`` of the emulator (e.g. ``PxLApi._Api`` or the preloaded library). The
    function attributes are fetched from a private CDLL of the same handle, so setting argtypes here never
    changes anything pixelinkWrapper relies on.
    """

    _SIGNATURES: dict[str, tuple[list[object], object]] = {
        "PxLEmu_Reset": ([], ctypes.c_int),
        "PxLEmu_AddCamera": ([ctypes.c_uint, ctypes.c_char_p, ctypes.c_uint, ctypes.c_uint], ctypes.c_int),
        "PxLEmu_RemoveCamera": ([ctypes.c_uint], ctypes.c_int),
        "PxLEmu_Unplug": ([ctypes.c_uint], ctypes.c_int),
        "PxLEmu_Replug": ([ctypes.c_uint], ctypes.c_int),
        "PxLEmu_SetBootDelay": ([ctypes.c_uint, ctypes.c_int], ctypes.c_int),
        "PxLEmu_FailNext": ([ctypes.c_char_p, ctypes.c_int, ctypes.c_int], ctypes.c_int),
        "PxLEmu_FailEvery": ([ctypes.c_char_p, ctypes.c_int, ctypes.c_int], ctypes.c_int),
        "PxLEmu_ClearFaults": ([], ctypes.c_int),
        "PxLEmu_SetLatency": ([ctypes.c_char_p, ctypes.c_int], ctypes.c_int),
        "PxLEmu_DropFrames": ([ctypes.c_uint, ctypes.c_int], ctypes.c_int),
        "PxLEmu_HardwareTrigger": ([ctypes.c_uint], ctypes.c_int),
        "PxLEmu_CallCount": ([ctypes.c_char_p], ctypes.c_int),
        "PxLEmu_ResetCounts": ([], ctypes.c_int),
        "PxLEmu_OpenHandleCount": ([], ctypes.c_int),
        "PxLEmu_StaleHandleCount": ([], ctypes.c_int),
        "PxLEmu_GetFeatureValue": ([ctypes.c_uint, ctypes.c_uint, ctypes.c_uint], ctypes.c_float),
        "PxLEmu_SetFeatureValue": ([ctypes.c_uint, ctypes.c_uint, ctypes.c_uint, ctypes.c_float], ctypes.c_int),
        "PxLEmu_GetStreamState": ([ctypes.c_uint], ctypes.c_int),
        "PxLEmu_LastFrameNumber": ([ctypes.c_uint], ctypes.c_longlong),
        "PxLEmu_SetFreeRun": ([ctypes.c_int], ctypes.c_int),
        "PxLEmu_Command": ([ctypes.c_char_p, ctypes.c_char_p, ctypes.c_int], ctypes.c_int),
        "PxLEmu_AddCameraEx": (
            [ctypes.c_uint, ctypes.c_char_p, ctypes.c_uint, ctypes.c_uint, ctypes.c_char_p],
            ctypes.c_int,
        ),
        "PxLEmu_SetScene": (
            [ctypes.c_uint, ctypes.c_float, ctypes.c_float, ctypes.c_float, ctypes.c_float],
            ctypes.c_int,
        ),
        "PxLEmu_GetProfile": ([ctypes.c_uint, ctypes.c_char_p, ctypes.c_int], ctypes.c_int),
        "PxLEmu_SetInput": ([ctypes.c_uint, ctypes.c_int], ctypes.c_int),
        "PxLEmu_TriggerPulse": ([ctypes.c_uint, ctypes.c_float], ctypes.c_int),
        "PxLEmu_TriggerBurst": ([ctypes.c_uint, ctypes.c_int, ctypes.c_float, ctypes.c_float], ctypes.c_int),
        "PxLEmu_TriggerCounts": (
            [
                ctypes.c_uint,
                ctypes.POINTER(ctypes.c_longlong),
                ctypes.POINTER(ctypes.c_longlong),
                ctypes.POINTER(ctypes.c_longlong),
            ],
            ctypes.c_int,
        ),
        "PxLEmu_GetOutput": ([ctypes.c_uint, ctypes.c_uint, ctypes.POINTER(ctypes.c_longlong)], ctypes.c_int),
        "PxLEmu_SetTemperature": ([ctypes.c_uint, ctypes.c_float, ctypes.c_float], ctypes.c_int),
        "PxLEmu_SetTriggerTimeout": ([ctypes.c_uint, ctypes.c_float], ctypes.c_int),
        "PxLEmu_GrabWaiters": ([ctypes.c_uint], ctypes.c_int),
    }

    def __init__(self, lib: ctypes.CDLL) -> None:
        self._lib = ctypes.CDLL(lib._name, handle=lib._handle)  # private function objects
        for name, (argtypes, restype) in self._SIGNATURES.items():
            func = getattr(self._lib, name)
            func.argtypes = argtypes
            func.restype = restype

    def _call(self, name: str, *args: object, what: str = "serial") -> int:
        rc = getattr(self._lib, name)(*args)
        if rc == -1:
            raise EmulatorError(f"{name}{args}: unknown {what}")
        if rc < -1:
            raise EmulatorError(f"{name}{args}: invalid argument")
        return rc

    # -- cameras ---------------------------------------------------------------------------------------

    def reset(self) -> None:
        """Forget all handles and cameras, recreate the profile (PXLEMU_CONFIG), clear faults and counters."""
        self._call("PxLEmu_Reset")

    def add_camera(
        self, serial: int, model: str | None = None, width: int = 0, height: int = 0, profile: str | None = None
    ) -> None:
        """Plug in a new camera (0 = the profile's sensor size; sizes must be multiples of its ROI steps, >= 64).

        ``profile``: "mono" (default) or "colour" (emulator/README.md "Profiles").
        """
        if profile is None:
            self._call("PxLEmu_AddCamera", serial, model.encode() if model else None, width, height)
        else:
            model_arg = model.encode() if model else None
            self._call("PxLEmu_AddCameraEx", serial, model_arg, width, height, profile.encode())

    def profile(self, serial: int) -> str:
        """The camera's profile name ("mono" or "colour")."""
        buf = ctypes.create_string_buffer(32)
        self._call("PxLEmu_GetProfile", serial, buf, len(buf))
        return buf.value.decode()

    def set_scene(self, serial: int, brightness: float, rgb: tuple[float, float, float] | None = None) -> None:
        """The simulated scene: brightness factor (1 = nominal: AUTO settles at 10 ms and 0 dB) and, optionally,
        its colour cast (R, G, B response; default 1, 0.5, 0.25) that one-push white shading balances."""
        r, g, b = rgb if rgb is not None else (-1.0, -1.0, -1.0)
        self._call("PxLEmu_SetScene", serial, brightness, r, g, b)

    def remove_camera(self, serial: int) -> None:
        self._call("PxLEmu_RemoveCamera", serial)

    def unplug(self, serial: int) -> None:
        self._call("PxLEmu_Unplug", serial)

    def replug(self, serial: int) -> None:
        self._call("PxLEmu_Replug", serial)

    def set_boot_delay(self, serial: int, milliseconds: int) -> None:
        """After the next replug, initialize answers ApiNoCameraError for this long."""
        self._call("PxLEmu_SetBootDelay", serial, milliseconds)

    # -- faults ----------------------------------------------------------------------------------------

    def fail_next(self, function: str, rc: int, count: int = 1) -> None:
        """The next ``count`` calls of ``function`` return ``rc`` (a success code >= 0 is returned by calls
        that succeed instead of their own code)."""
        self._call("PxLEmu_FailNext", _fn(function), rc, count, what="function")

    def fail_every(self, function: str, rc: int, n: int) -> None:
        """Every ``n``-th call of ``function`` returns ``rc`` (n = 0 turns it off)."""
        self._call("PxLEmu_FailEvery", _fn(function), rc, n, what="function")

    def clear_faults(self) -> None:
        self._call("PxLEmu_ClearFaults")

    def set_latency(self, function: str, microseconds: int) -> None:
        """Every call of ``function`` sleeps this long before doing anything."""
        self._call("PxLEmu_SetLatency", _fn(function), microseconds, what="function")

    def drop_frames(self, serial: int, n: int) -> None:
        """The next frame's number jumps by ``n`` (n frames lost)."""
        self._call("PxLEmu_DropFrames", serial, n)

    def hardware_trigger(self, serial: int) -> bool:
        """A zero-width pulse on the trigger input; True if it started a triggered exposure (TRIGGER on with type
        HARDWARE, streaming, camera not busy). Its frame goes to a grab waiting when the readout ends, else it is
        lost (FRAMES_SKIPPED)."""
        return self._call("PxLEmu_HardwareTrigger", serial) == 1

    # -- triggering, input line, GPIO, temperatures (emulator/README.md "Triggering, events, callbacks, GPIO")

    def trigger_edge(self, serial: int, edge: str) -> int:
        """The input line goes high ("rising") or low ("falling"): TRIGGER_ACCEPTED (1) if that edge started an
        exposure, TRIGGER_MISSED (2) if the camera was busy, 0 otherwise."""
        return self._call("PxLEmu_SetInput", serial, _edge_level(edge))

    def trigger_pulse(self, serial: int, width_s: float = 0.0) -> int:
        """A high pulse (rising, then falling ``width_s`` later, 0..1 s; blocks that long); result as
        :meth:`trigger_edge` for its active edge."""
        return self._call("PxLEmu_TriggerPulse", serial, width_s)

    def trigger_burst(self, serial: int, count: int, period_s: float, width_s: float | None = None) -> None:
        """``count`` high pulses every ``period_s`` (the first now), made by the camera's thread; returns at once.
        ``width_s`` default min(1 ms, period/2). count 0 stops a running burst."""
        self._call("PxLEmu_TriggerBurst", serial, count, period_s, -1.0 if width_s is None else width_s)

    def set_gpi(self, serial: int, level: int) -> int:
        """Level of the input line (shared by the hardware trigger and GPI 1); result as :meth:`trigger_edge`."""
        return self._call("PxLEmu_SetInput", serial, int(level))

    def trigger_counts(self, serial: int) -> tuple[int, int, int]:
        """(triggers accepted, triggers missed, frames skipped) since power-up."""
        out = [ctypes.c_longlong(), ctypes.c_longlong(), ctypes.c_longlong()]
        self._call("PxLEmu_TriggerCounts", serial, *(ctypes.byref(v) for v in out))
        return out[0].value, out[1].value, out[2].value

    def gpo(self, serial: int, index: int) -> tuple[int, int]:
        """GPIO line ``index`` (1-based): (level now, pulses since it was configured)."""
        count = ctypes.c_longlong()
        level = self._call("PxLEmu_GetOutput", serial, index, ctypes.byref(count))
        return level, count.value

    def set_temperature(self, serial: int, sensor: float, body: float | None = None) -> None:
        """SENSOR_TEMPERATURE (and BODY_TEMPERATURE) in degrees C, rounded to 0.5."""
        self._call("PxLEmu_SetTemperature", serial, sensor, math.nan if body is None else body)

    def set_trigger_timeout(self, serial: int, seconds: float) -> None:
        """How long a hardware-trigger grab waits before ApiCameraTimeoutError (0 = forever)."""
        self._call("PxLEmu_SetTriggerTimeout", serial, seconds)

    def waiting_grabs(self, serial: int) -> int:
        """Threads blocked in PxLGetNextFrame on this camera now."""
        return self._call("PxLEmu_GrabWaiters", serial)

    # -- observation -----------------------------------------------------------------------------------

    def call_count(self, function: str) -> int:
        return self._call("PxLEmu_CallCount", _fn(function), what="function")

    def reset_counts(self) -> None:
        self._call("PxLEmu_ResetCounts")

    def open_handles(self) -> int:
        """Handles initialized and not uninitialized (not counting those invalidated by a replug)."""
        return self._call("PxLEmu_OpenHandleCount")

    def stale_handles(self) -> int:
        """Handles invalidated by a replug and never uninitialized."""
        return self._call("PxLEmu_StaleHandleCount")

    def feature_value(self, serial: int, feature_id: int, param: int = 0) -> float:
        """The camera's current value of a feature parameter, read without a handle."""
        value = self._lib.PxLEmu_GetFeatureValue(serial, feature_id, param)
        if math.isnan(value):
            raise EmulatorError(f"no value for serial {serial}, feature {feature_id}, parameter {param}")
        return value

    def set_feature_value(self, serial: int, feature_id: int, param: int, value: float) -> None:
        """Back door: set a value without checks (e.g. SENSOR_TEMPERATURE)."""
        self._call("PxLEmu_SetFeatureValue", serial, feature_id, param, value)

    def stream_state(self, serial: int) -> int:
        return self._call("PxLEmu_GetStreamState", serial)

    def last_frame_number(self, serial: int) -> int:
        return self._call("PxLEmu_LastFrameNumber", serial)

    def set_free_run(self, enabled: bool) -> None:
        self._call("PxLEmu_SetFreeRun", int(enabled))

    def command(self, line: str) -> str:
        """One line of the control-socket protocol, executed in-process; returns the reply line."""
        reply = ctypes.create_string_buffer(1024)
        self._lib.PxLEmu_Command(line.encode(), reply, len(reply))
        return reply.value.decode()


class SocketControl:
    """Client of an emulator's control socket (one command line, one reply line).

    Waits up to ``timeout`` seconds for the socket to appear (the process may still be starting).
    """

    def __init__(self, path: str | os.PathLike[str], timeout: float = 10.0) -> None:
        self.path = str(path)
        deadline = time.monotonic() + timeout
        while True:
            sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            try:
                sock.connect(self.path)
                break
            except (FileNotFoundError, ConnectionRefusedError):
                sock.close()
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.02)
        sock.settimeout(timeout)
        self._sock = sock
        self._file = sock.makefile("rwb", buffering=0)

    def close(self) -> None:
        self._file.close()
        self._sock.close()

    def __enter__(self) -> SocketControl:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def command(self, line: str) -> str:
        """Send one command; return the reply line (including "err ..." replies)."""
        self._sock.sendall(line.encode() + b"\n")
        reply = self._file.readline()
        if not reply:
            raise ConnectionError("the emulator closed the control socket")
        return reply.decode().rstrip("\n")

    def _ok(self, line: str) -> str:
        reply = self.command(line)
        if reply.startswith("err"):
            raise EmulatorError(f"{line!r}: {reply}")
        return reply

    def ping(self) -> None:
        self._ok("ping")

    def reset(self) -> None:
        self._ok("reset")

    def add_camera(
        self, serial: int, model: str | None = None, width: int = 0, height: int = 0, profile: str | None = None
    ) -> None:
        if profile is not None:
            self._ok(f"add {serial} {model or '-'} {width} {height} {profile}")
        elif width or height:
            self._ok(f"add {serial} {model or '-'} {width} {height}")
        else:
            self._ok(f"add {serial} {model}" if model else f"add {serial}")

    def profile(self, serial: int) -> str:
        return self._ok(f"profile {serial}")

    def set_scene(self, serial: int, brightness: float, rgb: tuple[float, float, float] | None = None) -> None:
        if rgb is None:
            self._ok(f"scene {serial} {brightness!r}")
        else:
            self._ok(f"scene {serial} {brightness!r} {rgb[0]!r} {rgb[1]!r} {rgb[2]!r}")

    def remove_camera(self, serial: int) -> None:
        self._ok(f"remove {serial}")

    def unplug(self, serial: int) -> None:
        self._ok(f"unplug {serial}")

    def replug(self, serial: int) -> None:
        self._ok(f"replug {serial}")

    def set_boot_delay(self, serial: int, milliseconds: int) -> None:
        self._ok(f"bootdelay {serial} {milliseconds}")

    def fail_next(self, function: str, rc: int, count: int = 1) -> None:
        self._ok(f"failnext {function} {rc} {count}")

    def fail_every(self, function: str, rc: int, n: int) -> None:
        self._ok(f"failevery {function} {rc} {n}")

    def clear_faults(self) -> None:
        self._ok("clearfaults")

    def set_latency(self, function: str, microseconds: int) -> None:
        self._ok(f"latency {function} {microseconds}")

    def drop_frames(self, serial: int, n: int) -> None:
        self._ok(f"drop {serial} {n}")

    def hardware_trigger(self, serial: int) -> bool:
        return self._ok(f"trigger {serial}") == "1"

    def trigger_edge(self, serial: int, edge: str) -> int:
        _edge_level(edge)
        return int(self._ok(f"trigger {serial} {edge}"))

    def trigger_pulse(self, serial: int, width_s: float = 0.0) -> int:
        return int(self._ok(f"trigger {serial} pulse {width_s!r}"))

    def trigger_burst(self, serial: int, count: int, period_s: float, width_s: float | None = None) -> None:
        width = "" if width_s is None else f" {width_s!r}"
        self._ok(f"triggers {serial} {count} {period_s!r}{width}")

    def set_gpi(self, serial: int, level: int) -> int:
        return int(self._ok(f"gpi {serial} {int(level)}"))

    def trigger_counts(self, serial: int) -> tuple[int, int, int]:
        accepted, missed, skipped = (int(v) for v in self._ok(f"trigstats {serial}").split())
        return accepted, missed, skipped

    def gpo(self, serial: int, index: int) -> tuple[int, int]:
        level, count = (int(v) for v in self._ok(f"gpo {serial} {index}").split())
        return level, count

    def set_temperature(self, serial: int, sensor: float, body: float | None = None) -> None:
        self._ok(f"temperature {serial} {sensor!r}" + ("" if body is None else f" {body!r}"))

    def set_trigger_timeout(self, serial: int, seconds: float) -> None:
        self._ok(f"trigtimeout {serial} {seconds!r}")

    def waiting_grabs(self, serial: int) -> int:
        return int(self._ok(f"waiting {serial}"))

    def call_count(self, function: str) -> int:
        return int(self._ok(f"count {function}"))

    def reset_counts(self) -> None:
        self._ok("resetcounts")

    def open_handles(self) -> int:
        return int(self._ok("handles"))

    def stale_handles(self) -> int:
        return int(self._ok("stale"))

    def feature_value(self, serial: int, feature_id: int, param: int = 0) -> float:
        return float(self._ok(f"get {serial} {feature_id} {param}"))

    def set_feature_value(self, serial: int, feature_id: int, param: int, value: float) -> None:
        self._ok(f"set {serial} {feature_id} {param} {value!r}")

    def stream_state(self, serial: int) -> int:
        return int(self._ok(f"state {serial}"))

    def last_frame_number(self, serial: int) -> int:
        return int(self._ok(f"frame {serial}"))

    def cameras(self) -> list[int]:
        reply = self._ok("cameras")
        return [] if reply == "none" else [int(s) for s in reply.split()]

    def set_free_run(self, enabled: bool) -> None:
        self._ok(f"freerun {int(enabled)}")
