"""The PixeLINK SDK emulator, driven through the UNMODIFIED pixelinkWrapper (in-process and in a subprocess).

Facts checked here come from /work/shared/pixelink/SDK-ABI.md; the emulator's own conventions (profile,
test pattern, control protocol) from emulator/README.md.
"""

from __future__ import annotations

import ctypes
import io
import itertools
import os
import queue
import shutil
import struct
import subprocess
import sys
import threading
import time
import zlib
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from tests.support.pxlemu import (
    BUILD_SCRIPT,
    COLOUR_HEIGHT,
    COLOUR_PROFILE,
    COLOUR_WIDTH,
    DEFAULT_HEIGHT,
    DEFAULT_SERIALS,
    DEFAULT_WIDTH,
    LIB_VERSION,
    REPO_ROOT,
    EmulatorControl,
    EmulatorError,
    SocketControl,
    build_emulator,
    emulator_env,
)

SERIAL1, SERIAL2 = DEFAULT_SERIALS
COLOUR_SERIAL = 700000009

# Return codes (SDK-ABI.md 5.1), as the wrapper sees them (signed 32-bit).
SUCCESS = 0
PARAMETERS_CHANGED = 1
ALREADY_RUNNING = 2
FRAME_LOSS = 9
INVALID_HANDLE = -2147483646
INVALID_PARAMETER = -2147483645
BUFFER_TOO_SMALL = -2147483644
NOT_SUPPORTED = -2147483642
CAMERA_IN_USE = -2147483641
NO_CAMERA = -2147483640
INVALID_SERIAL = -2147483633
STREAM_STOPPED = -2147483630
OUT_OF_RANGE = -2147483626
CAMERA_TIMEOUT = -1879048180
REQUIRES_CONTROL = -1879048176
NOT_PERMITTED_WHILE_STREAMING = -1879048165

# Feature ids and flags (SDK-ABI.md 5.2 / 5.3)
BRIGHTNESS, SATURATION, GAMMA = 0, 5, 6
EXPOSURE, GAIN, TEMPERATURE, TRIGGER, FRAME_RATE, ROI, FLIP = 7, 8, 11, 12, 18, 19, 20
PIXEL_ADDRESSING, PIXEL_FORMAT, WHITE_SHADING, MAX_PIXEL_SIZE, ACTUAL_FRAME_RATE = 21, 22, 27, 31, 35
PRESENCE, MANUAL, AUTO, ONEPUSH, OFF = 0x1, 0x2, 0x4, 0x8, 0x10
READ_ONLY, SETTABLE_WHILE_STREAMING, PERSISTABLE = 0x40, 0x80, 0x100
MONO8, MONO16, BAYER8_RGGB, BAYER16_RGGB = 0, 1, 7, 10
BAYER8_GRBG, BAYER16_GRBG, BAYER8_GBRG, BAYER8_BGGR, MONO12_PACKED, BAYER12_RGGB_PACKED = 3, 4, 8, 9, 13, 15
DECIMATE, AVERAGE, BIN, RESAMPLE = 0, 1, 2, 3
START, STOP = 0, 2


# ------------------------------------------------------------------------------------------- helpers


def open_camera(api: Any, serial: int = SERIAL1) -> int:
    ret = api.initialize(serial)
    assert ret[0] == SUCCESS, ret
    return ret[1]


def open_colour_camera(api: Any, emulator: EmulatorControl, serial: int = COLOUR_SERIAL) -> int:
    """Plug in a camera of the colour profile (Bayer RGGB) and open it."""
    emulator.add_camera(serial, profile=COLOUR_PROFILE)
    return open_camera(api, serial)


def set_feature(api: Any, h: int, feature: int, params: list[float], flags: int = MANUAL) -> int:
    return api.setFeature(h, feature, flags, params)[0]


def get_params(api: Any, h: int, feature: int) -> list[float]:
    ret = api.getFeature(h, feature)
    assert ret[0] == SUCCESS, ret
    return ret[2]


def configure(api: Any, h: int, roi: tuple[int, int, int, int], pixel_format: int = MONO8, pa: int = 1) -> None:
    assert set_feature(api, h, ROI, list(roi)) == SUCCESS
    assert set_feature(api, h, PIXEL_FORMAT, [pixel_format]) == SUCCESS
    assert set_feature(api, h, PIXEL_ADDRESSING, [pa, 0]) == SUCCESS


def grab(api: Any, h: int, nbytes_w: int, rows: int) -> tuple[np.ndarray, Any]:
    buf = np.zeros((rows, nbytes_w), dtype=np.uint8)
    ret = api.getNextNumPyFrame(h, buf)
    assert ret[0] == SUCCESS, ret
    return buf, ret[1]


def pattern(left: int, top: int, w: int, h: int, n: int, pa: int = 1) -> np.ndarray:
    """Sensor pattern value g = (sensor_x + sensor_y + frame_number) mod 256 (emulator/README.md)."""
    y, x = np.mgrid[0:h, 0:w]
    return (left + x * pa + top + y * pa + n) & 255


def sensor12(g: np.ndarray, scale: float = 1.0, colour: float = 1.0) -> np.ndarray:
    """12-bit sensor value: g * 16 * scale * colour, rounded, clipped at 4095."""
    return np.minimum(4095, np.floor(g * 16.0 * scale * colour + 0.5)).astype(np.int64)


def readout_s(w: int, h: int, colour: bool = False) -> float:
    """Readout model of the profiles (emulator/README.md): frame + rows * (row + columns * pixel)."""
    return 0.5e-3 + h * ((2e-6 + w * 2e-9) if colour else (1e-6 + w * 1e-9))


def blocks(v12: np.ndarray, x: int, y: int, mode: int) -> np.ndarray:
    """Mono pixel addressing of 12-bit sensor values: decimate keeps the top-left sample of each y-by-x block,
    average rounds the mean, bin sums and saturates at 4095."""
    oh, ow = v12.shape[0] // y, v12.shape[1] // x
    b = v12[: oh * y, : ow * x].reshape(oh, y, ow, x)
    if mode == DECIMATE:
        return b[:, 0, :, 0]
    total = b.sum(axis=(1, 3))
    return np.minimum(total, 4095) if mode == BIN else (total + x * y // 2) // (x * y)


def unpack12(data: bytes, count: int) -> np.ndarray:
    """GigE Vision 1.0 MONO12_PACKED: b0 = P0[11:4], b1 = P0[3:0] | P1[3:0] << 4, b2 = P1[11:4]."""
    b = np.frombuffer(data, np.uint8).astype(np.int64)
    b = np.concatenate([b, np.zeros((-len(b)) % 3, np.int64)]).reshape(-1, 3)
    p0 = (b[:, 0] << 4) | (b[:, 1] & 0xF)
    p1 = (b[:, 2] << 4) | (b[:, 1] >> 4)
    return np.stack([p0, p1], axis=1).ravel()[:count]


def grab_until(api: Any, h: int, shape: tuple[int, int], done: Any, limit: int = 50) -> list[Any]:
    """Grab frames until done() is true (checked after each frame); the descriptors, or fail after limit."""
    descs = []
    for _ in range(limit):
        descs.append(grab(api, h, shape[1], shape[0])[1])
        if done():
            return descs
    raise AssertionError(f"not reached after {limit} frames")


def wait_for(predicate: Any, timeout_s: float = 10.0) -> bool:
    """Poll ``predicate`` until true (synchronous twin of tests.support.waiting.eventually); False on timeout."""
    deadline = time.monotonic() + timeout_s
    while not predicate():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.002)
    return True


def stamp(buf: np.ndarray) -> int:
    return struct.unpack_from("<I", buf.tobytes(), 0)[0]


# ------------------------------------------------------------------------------------------- build, loading


def test_build_script_prints_exports_and_is_cheap_when_up_to_date(emulator_dir: Path) -> None:
    lib = emulator_dir / f"libPxLApi.so.{LIB_VERSION}"
    mtime = lib.stat().st_mtime_ns
    proc = subprocess.run([str(BUILD_SCRIPT), str(emulator_dir)], capture_output=True, text=True, check=True)
    assert proc.stdout.splitlines() == [
        f"export LD_LIBRARY_PATH={emulator_dir}${{LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}}",
        f"export PIXELINK_SDK_LIB={emulator_dir}",
    ]
    assert "up to date" in proc.stderr
    assert lib.stat().st_mtime_ns == mtime  # not rebuilt
    # exactly one file matches the wrapper's version probe, and the unversioned name points at it
    found = subprocess.run(
        f"find {emulator_dir} -name 'libPxLApi*.so.*'", shell=True, capture_output=True, text=True, check=True
    )
    assert found.stdout.split() == [str(lib)]
    assert os.readlink(emulator_dir / "libPxLApi.so") == lib.name
    readelf = shutil.which("readelf")
    assert readelf, "binutils (readelf) comes with gcc"
    dynamic = subprocess.run([readelf, "-d", str(lib)], capture_output=True, text=True, check=True).stdout
    assert "Library soname: [libPxLApi.so]" in dynamic
    needed = [line for line in dynamic.splitlines() if "(NEEDED)" in line]
    assert needed and all("libc.so" in line for line in needed)  # no dependency beyond libc (+pthread in it)
    # eval-able: LD_LIBRARY_PATH is prepended to the caller's value
    shell = subprocess.run(
        [
            "bash",
            "-c",
            f'eval "$({BUILD_SCRIPT} {emulator_dir} 2>/dev/null)"; echo "$LD_LIBRARY_PATH|$PIXELINK_SDK_LIB"',
        ],
        capture_output=True,
        text=True,
        check=True,
        env={**os.environ, "LD_LIBRARY_PATH": "/opt/other"},
    )
    assert shell.stdout.strip() == f"{emulator_dir}:/opt/other|{emulator_dir}"


def test_source_compiles_without_warnings(tmp_path: Path) -> None:
    # the library's sources: every emulator/*.c except stress.c (a separate program), as build_emulator.sh
    sources = [str(p) for p in sorted((REPO_ROOT / "emulator").glob("*.c")) if p.name != "stress.c"]
    assert str(REPO_ROOT / "emulator" / "pxlemu.c") in sources
    proc = subprocess.run(
        ["gcc", "-std=c11", "-Wall", "-Wextra", "-Werror", "-O2", "-fPIC", "-pthread", "-c", *sources],
        cwd=tmp_path,  # one .o per source lands here
        capture_output=True,
        text=True,
        check=False,
    )
    assert proc.returncode == 0 and proc.stderr == "", proc.stderr


def test_build_emulator_helper_returns_the_versioned_library(emulator_dir: Path) -> None:
    lib = build_emulator(emulator_dir)
    assert lib == emulator_dir / f"libPxLApi.so.{LIB_VERSION}" and lib.is_absolute()


def test_wrapper_imports_in_a_subprocess_without_version_warning(emulator_dir: Path) -> None:
    code = "from pixelinkWrapper import PxLApi; print('version', PxLApi._curApiVersion)"
    proc = subprocess.run(
        [sys.executable, "-c", code], env=emulator_env(emulator_dir), capture_output=True, text=True, timeout=60
    )
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout == f"version {LIB_VERSION}\n"  # no WARNING text from the probe


def test_wrapper_is_bound_to_the_in_process_emulator(emulator_lib: ctypes.CDLL, pxl_api: Any) -> None:
    assert pxl_api._Api._handle == emulator_lib._handle
    assert pxl_api._curApiVersion == LIB_VERSION


def test_pxlemu_config_chooses_cameras_and_sensor_size(emulator_dir: Path) -> None:
    code = (
        "from pixelinkWrapper import PxLApi\n"
        "rc, cams = PxLApi.getNumberCameras()\n"
        "for c in cams:\n"
        "    rc, h = PxLApi.initialize(c.CameraSerialNum)\n"
        "    print(c.CameraSerialNum, PxLApi.getFeature(h, 19)[2], PxLApi.getCameraInfo(h)[1].ModelName.decode())\n"
    )
    config = "cameras=11,12:640x480;width=1024;height=768;model=PL-TEST"
    proc = subprocess.run(
        [sys.executable, "-c", code],
        env=emulator_env(emulator_dir, config=config),
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.splitlines() == [
        "11 [0.0, 0.0, 1024.0, 768.0] PL-TEST",
        "12 [0.0, 0.0, 640.0, 480.0] PL-TEST",
    ]


# ------------------------------------------------------------------------------------------- enumeration, init


def test_enumerates_two_cameras(pxl_api: Any) -> None:
    rc, cams = pxl_api.getNumberCameras()
    assert rc == SUCCESS
    assert [c.CameraSerialNum for c in cams] == [SERIAL1, SERIAL2]
    assert cams[0].StructSize == 56 and cams[1].CameraLinkSpeed == 5000


def test_initialize_by_any_and_by_serial(pxl_api: Any, emulator: EmulatorControl) -> None:
    rc, h1 = pxl_api.initialize(0)
    assert rc == SUCCESS and 0x1000 <= h1 < 2**31
    assert pxl_api.getCameraInfo(h1)[1].SerialNumber == str(SERIAL1).encode()
    rc, h2 = pxl_api.initialize(0)  # the first one is in use: the next free camera
    assert rc == SUCCESS and h2 != h1
    assert pxl_api.getCameraInfo(h2)[1].SerialNumber == str(SERIAL2).encode()
    assert pxl_api.initialize(0) == (CAMERA_IN_USE,)
    assert pxl_api.initialize(SERIAL1) == (CAMERA_IN_USE,)
    assert pxl_api.initialize(123456) == (INVALID_SERIAL,)
    # monitor access works alongside the controlling handle, but cannot change anything
    rc, hm = pxl_api.initialize(SERIAL1, pxl_api.InitializeExFlags.MONITOR_ACCESS_ONLY)
    assert rc == SUCCESS
    assert get_params(pxl_api, hm, EXPOSURE)[0] == pytest.approx(0.01)
    assert set_feature(pxl_api, hm, EXPOSURE, [0.02]) == REQUIRES_CONTROL
    assert emulator.open_handles() == 3
    for h in (h1, h2, hm):
        assert pxl_api.uninitialize(h) == (SUCCESS,)
    assert pxl_api.getFeature(h1, EXPOSURE) == (INVALID_HANDLE,)
    assert pxl_api.uninitialize(h1) == (INVALID_HANDLE,)
    assert pxl_api.getFeature(0x7777, EXPOSURE) == (INVALID_HANDLE,)
    assert emulator.open_handles() == 0


def test_camera_info_strings(pxl_api: Any) -> None:
    h = open_camera(pxl_api, SERIAL2)
    rc, info = pxl_api.getCameraInfo(h)
    assert rc == SUCCESS
    assert info.VendorName == b"PixeLINK"
    assert info.ModelName == b"PL-EMU-5MP"
    assert info.SerialNumber == b"700000002"
    assert info.CameraName == b"PxLEmu 700000002"
    assert b"emulator" in info.Description and info.FirmwareVersion == b"1.0.0"
    assert pxl_api.setCameraName(h, "bench left") == (SUCCESS,)
    assert pxl_api.getCameraInfo(h)[1].CameraName == b"bench left"


# ------------------------------------------------------------------------------------------- features


def _params(feature: Any) -> list[tuple[float, float]]:
    return [(feature.Params[i].fMinValue, feature.Params[i].fMaxValue) for i in range(feature.uNumberOfParameters)]


def test_camera_features_single_and_all(pxl_api: Any) -> None:
    h = open_camera(pxl_api)
    rc, feats = pxl_api.getCameraFeatures(h, EXPOSURE)
    assert rc == SUCCESS and feats.uNumberOfFeatures == 1
    f = feats.Features[0]
    assert f.uFeatureId == EXPOSURE
    assert f.uFlags & (PRESENCE | MANUAL | AUTO | ONEPUSH | SETTABLE_WHILE_STREAMING | PERSISTABLE) == (
        PRESENCE | MANUAL | AUTO | ONEPUSH | SETTABLE_WHILE_STREAMING | PERSISTABLE
    )
    assert _params(f) == [pytest.approx((1e-5, 10.0))] * 3  # VALUE, AUTO_MIN, AUTO_MAX in seconds

    rc, feats = pxl_api.getCameraFeatures(h, GAIN)
    assert rc == SUCCESS and feats.Features[0].uFeatureId == GAIN
    assert feats.Features[0].uFlags & SETTABLE_WHILE_STREAMING
    assert _params(feats.Features[0]) == [(0.0, 24.0)]

    rc, feats = pxl_api.getCameraFeatures(h, pxl_api.FeatureId.ALL)
    assert rc == SUCCESS and feats.uNumberOfFeatures == pxl_api.FeatureId.TOTAL == 46
    by_id = [feats.Features[i] for i in range(feats.uNumberOfFeatures)]
    assert [f.uFeatureId for f in by_id] == list(range(46))  # one entry per id, in id order
    # the blob is self-contained: internal pointers point into the returned buffer
    start = ctypes.addressof(feats)
    assert start < ctypes.cast(feats.Features, ctypes.c_void_p).value < start + feats.uSize
    last_params = ctypes.cast(by_id[45].Params, ctypes.c_void_p).value
    assert start < last_params < start + feats.uSize
    for fid in (ROI, PIXEL_FORMAT, PIXEL_ADDRESSING, TRIGGER, FRAME_RATE):
        assert by_id[fid].uFlags & PRESENCE and not by_id[fid].uFlags & SETTABLE_WHILE_STREAMING, fid
    for fid in (EXPOSURE, GAIN, 0, 6):  # exposure, gain, brightness, gamma
        assert by_id[fid].uFlags & SETTABLE_WHILE_STREAMING, fid
    assert by_id[TEMPERATURE].uFlags & (PRESENCE | READ_ONLY) == PRESENCE | READ_ONLY
    assert by_id[MAX_PIXEL_SIZE].uFlags & READ_ONLY and _params(by_id[MAX_PIXEL_SIZE]) == [(12.0, 12.0)]
    assert by_id[FRAME_RATE].uFlags & OFF
    assert _params(by_id[ROI]) == [
        (0, DEFAULT_WIDTH - 64),
        (0, DEFAULT_HEIGHT - 64),
        (64, DEFAULT_WIDTH),
        (64, DEFAULT_HEIGHT),
    ]
    assert by_id[PIXEL_ADDRESSING].uNumberOfParameters == 4
    focus = by_id[pxl_api.FeatureId.FOCUS]  # not supported: no PRESENCE, but a valid zeroed parameter list
    assert not focus.uFlags & PRESENCE and focus.uNumberOfParameters == 1 and _params(focus) == [(0.0, 0.0)]
    assert pxl_api.getFeature(h, pxl_api.FeatureId.FOCUS)[0] == NOT_SUPPORTED
    # getFeature flags describe the current state; defaults of the profile
    rc, flags, params = pxl_api.getFeature(h, EXPOSURE)
    assert rc == SUCCESS and flags == PRESENCE | MANUAL and len(params) == 3
    assert params[0] == pytest.approx(0.01)
    assert get_params(pxl_api, h, ROI) == [0, 0, DEFAULT_WIDTH, DEFAULT_HEIGHT]
    assert get_params(pxl_api, h, PIXEL_FORMAT) == [MONO8]
    assert get_params(pxl_api, h, MAX_PIXEL_SIZE) == [12]
    assert get_params(pxl_api, h, TEMPERATURE)[0] == pytest.approx(40.0)


def test_set_exposure_in_seconds_reads_back(pxl_api: Any, emulator: EmulatorControl) -> None:
    h = open_camera(pxl_api)
    assert set_feature(pxl_api, h, EXPOSURE, [0.1]) == SUCCESS  # 100 ms
    assert get_params(pxl_api, h, EXPOSURE)[0] == pytest.approx(0.1)
    assert emulator.feature_value(SERIAL1, EXPOSURE, 0) == pytest.approx(0.1)
    assert emulator.command(f"get {SERIAL1} {EXPOSURE} 0") == "0.1"
    # the sensor's resolution is 1 us: a finer value is adjusted, and the caller is told
    assert set_feature(pxl_api, h, EXPOSURE, [0.0123456]) == PARAMETERS_CHANGED
    assert get_params(pxl_api, h, EXPOSURE)[0] == pytest.approx(0.012346, abs=1e-9)
    assert set_feature(pxl_api, h, GAIN, [6.0]) == SUCCESS
    assert set_feature(pxl_api, h, GAIN, [2.25]) == PARAMETERS_CHANGED  # 0.1 dB steps
    assert emulator.feature_value(SERIAL1, GAIN) == pytest.approx(2.3)
    # pixel addressing with one parameter: symmetric
    assert set_feature(pxl_api, h, PIXEL_ADDRESSING, [2]) == SUCCESS
    assert get_params(pxl_api, h, PIXEL_ADDRESSING) == [2, 0, 2, 2]
    assert set_feature(pxl_api, h, PIXEL_ADDRESSING, [5]) == INVALID_PARAMETER  # not a factor the camera offers
    assert set_feature(pxl_api, h, PIXEL_FORMAT, [pxl_api.PixelFormat.BAYER8_GRBG]) == INVALID_PARAMETER  # mono
    assert set_feature(pxl_api, h, FRAME_RATE, [], OFF) == SUCCESS
    assert pxl_api.getFeature(h, FRAME_RATE)[1] == PRESENCE | OFF


def test_out_of_range_and_error_report(pxl_api: Any, emulator: EmulatorControl) -> None:
    h = open_camera(pxl_api)
    rc, report = pxl_api.getErrorReport(h)
    assert rc == SUCCESS and report.uReturnCode == 0 and report.strFunctionName == b""
    assert set_feature(pxl_api, h, EXPOSURE, [20.0]) == OUT_OF_RANGE  # 20 s: a ms value sent as seconds
    assert emulator.feature_value(SERIAL1, EXPOSURE) == pytest.approx(0.01)  # unchanged
    rc, report = pxl_api.getErrorReport(h)
    assert rc == SUCCESS
    assert report.uReturnCode == OUT_OF_RANGE
    assert report.strFunctionName == b"PxLSetFeature"
    assert report.strReturnCode == b"ApiOutOfRangeError"
    assert b"SHUTTER" in report.strReport and b"out of range" in report.strReport
    assert set_feature(pxl_api, h, GAIN, [1e7]) == OUT_OF_RANGE
    assert b"GAIN" in pxl_api.getErrorReport(h)[1].strReport
    assert set_feature(pxl_api, h, GAIN, [3.0]) == SUCCESS  # success does not clear the last error
    assert pxl_api.getErrorReport(h)[1].uReturnCode == OUT_OF_RANGE
    assert set_feature(pxl_api, h, TEMPERATURE, [20.0]) == NOT_SUPPORTED  # read-only
    assert set_feature(pxl_api, h, EXPOSURE, [float("nan")]) == INVALID_PARAMETER
    assert pxl_api.getErrorReport(0x7777) == (INVALID_HANDLE,)


def test_roi_only_while_stopped(pxl_api: Any) -> None:
    h = open_camera(pxl_api)
    assert pxl_api.setStreamState(h, START) == (SUCCESS,)
    assert pxl_api.setStreamState(h, START) == (ALREADY_RUNNING,)
    assert pxl_api.getStreamState(h)[:2] == (SUCCESS, START)
    assert set_feature(pxl_api, h, ROI, [0, 0, 640, 480]) == NOT_PERMITTED_WHILE_STREAMING
    assert pxl_api.getErrorReport(h)[1].strReturnCode == b"ApiNotPermittedWhileStreaming"
    assert set_feature(pxl_api, h, PIXEL_FORMAT, [MONO16]) == NOT_PERMITTED_WHILE_STREAMING
    assert set_feature(pxl_api, h, PIXEL_ADDRESSING, [2]) == NOT_PERMITTED_WHILE_STREAMING
    assert set_feature(pxl_api, h, EXPOSURE, [0.02]) == SUCCESS  # settable while streaming
    assert set_feature(pxl_api, h, GAIN, [1.0]) == SUCCESS
    assert pxl_api.setStreamState(h, STOP) == (SUCCESS,)
    assert set_feature(pxl_api, h, ROI, [8, 16, 640, 480]) == SUCCESS
    assert get_params(pxl_api, h, ROI) == [8, 16, 640, 480]
    # FEATURES.md 2 [DESIGN]: snapped DOWN to the 8-pixel steps, and the caller is told
    assert set_feature(pxl_api, h, ROI, [3, 15, 641, 479]) == PARAMETERS_CHANGED
    assert get_params(pxl_api, h, ROI) == [0, 8, 640, 472]
    # larger than the sensor at that offset: the size is clamped to what fits
    assert set_feature(pxl_api, h, ROI, [2000, 0, 640, 480]) == PARAMETERS_CHANGED
    assert get_params(pxl_api, h, ROI) == [2000, 0, DEFAULT_WIDTH - 2000, 480]
    assert set_feature(pxl_api, h, ROI, [0, 0, 4096, 480]) == OUT_OF_RANGE  # beyond the limits: refused
    assert set_feature(pxl_api, h, ROI, [0, 0, 56, 480]) == OUT_OF_RANGE  # below the 64-pixel minimum
    assert set_feature(pxl_api, h, ROI, [DEFAULT_WIDTH - 56, 0, 64, 64]) == OUT_OF_RANGE  # LEFT max = W - 64
    assert get_params(pxl_api, h, ROI) == [2000, 0, DEFAULT_WIDTH - 2000, 480]  # refusals change nothing


# ------------------------------------------------------------------------------------------- frames


def test_mono8_frame_pattern_and_descriptor(pxl_api: Any) -> None:
    h = open_camera(pxl_api)
    configure(pxl_api, h, (8, 16, 640, 480))
    assert pxl_api.setStreamState(h, START)[0] == SUCCESS
    buf, desc = grab(pxl_api, h, 640, 480)
    n = desc.uFrameNumber
    assert n >= 1 and desc.u64FrameNumber == n and stamp(buf) == n
    assert (desc.Roi.fLeft, desc.Roi.fTop, desc.Roi.fWidth, desc.Roi.fHeight) == (8, 16, 640, 480)
    assert desc.PixelFormat.fValue == MONO8 and desc.PixelAddressingValue.fHorizontal == 1
    assert desc.PixelAddressingValue.fVertical == 1 and desc.MaxPixelSize.fValue == 12
    assert desc.Shutter.fValue == pytest.approx(0.01) and desc.Gain.fValue == 0
    assert desc.Temperature.fValue == pytest.approx(40.0) and desc.FrameRate.fValue == pytest.approx(30.0)
    assert desc.dFrameTime > 0 and desc.fFrameTime == pytest.approx(desc.dFrameTime, rel=1e-5)
    assert pxl_api.imageSize(desc) == 640 * 480
    expected = pattern(8, 16, 640, 480, n)
    assert np.array_equal(buf.ravel()[4:], expected.ravel()[4:])  # first 4 bytes: frame-number stamp
    # brightness follows exposure * gain: a quarter of the exposure and +6 dB is about half the signal
    assert set_feature(pxl_api, h, EXPOSURE, [0.0025]) == SUCCESS
    assert set_feature(pxl_api, h, GAIN, [6.0]) == SUCCESS
    buf, desc = grab(pxl_api, h, 640, 480)
    scale = 0.25 * 10 ** (6.0 / 20)
    expected = sensor12(pattern(8, 16, 640, 480, desc.uFrameNumber), scale) >> 4
    assert np.abs(buf.astype(int).ravel()[4:] - expected.ravel()[4:]).max() <= 1
    assert desc.Shutter.fValue == pytest.approx(0.0025) and desc.Gain.fValue == pytest.approx(6.0)
    # pixel addressing 2 keeps every second sensor pixel in both directions
    assert pxl_api.setStreamState(h, STOP)[0] == SUCCESS
    configure(pxl_api, h, (0, 0, 640, 480), pa=2)
    assert set_feature(pxl_api, h, EXPOSURE, [0.01]) == SUCCESS
    assert set_feature(pxl_api, h, GAIN, [0.0]) == SUCCESS
    assert pxl_api.setStreamState(h, START)[0] == SUCCESS
    buf, desc = grab(pxl_api, h, 320, 240)
    assert desc.PixelAddressingValue.fHorizontal == 2 and desc.Decimation.fValue == 2
    assert pxl_api.imageSize(desc) == 320 * 240
    assert np.array_equal(buf.ravel()[4:], pattern(0, 0, 320, 240, desc.uFrameNumber, pa=2).ravel()[4:])


def test_mono16_is_big_endian_msb_aligned(pxl_api: Any) -> None:
    h = open_camera(pxl_api)
    configure(pxl_api, h, (0, 8, 256, 64), MONO16)
    assert pxl_api.setStreamState(h, START)[0] == SUCCESS
    # a uint16 array reports its element count, half the bytes: too small, as with the real API
    assert pxl_api.getNextNumPyFrame(h, np.zeros((64, 256), np.uint16))[0] == BUFFER_TOO_SMALL
    buf, desc = grab(pxl_api, h, 256 * 2, 64)
    assert desc.PixelFormat.fValue == MONO16 and pxl_api.imageSize(desc) == 256 * 64 * 2
    words = buf.view(">u2").ravel()[2:]  # big-endian; first 2 pixels hold the stamp
    value12 = sensor12(pattern(0, 8, 256, 64, desc.uFrameNumber)).ravel()[2:]
    assert np.array_equal(words, value12 << 4)  # MSB-aligned 12-bit data
    assert not np.any(words & 0xF)
    assert np.array_equal(words >> 8, pattern(0, 8, 256, 64, desc.uFrameNumber).ravel()[2:])  # = MONO8 view
    assert not np.array_equal(buf.view("<u2").ravel()[2:], value12 << 4)  # byte order matters


def test_bayer_frames_follow_the_rggb_layout(pxl_api: Any, emulator: EmulatorControl) -> None:
    h = open_colour_camera(pxl_api, emulator)
    configure(pxl_api, h, (32, 16, 128, 64), BAYER8_RGGB)
    assert pxl_api.setStreamState(h, START)[0] == SUCCESS
    raw, desc = grab(pxl_api, h, 128, 64)
    assert desc.PixelFormat.fValue == BAYER8_RGGB
    g = pattern(32, 16, 128, 64, desc.uFrameNumber)
    expected = np.empty_like(g)
    expected[0::2, 0::2] = g[0::2, 0::2]  # R: full response
    expected[0::2, 1::2] = g[0::2, 1::2] >> 1  # G: half
    expected[1::2, 0::2] = g[1::2, 0::2] >> 1  # G
    expected[1::2, 1::2] = g[1::2, 1::2] >> 2  # B: quarter
    assert np.array_equal(raw.ravel()[4:], expected.ravel()[4:])
    # formatImage demosaics (2x2 super-pixels) to RGB, top row first
    rc, rgb = pxl_api.formatNumPyImage(raw, desc, pxl_api.ImageFormat.RAW_RGB24_NON_DIB)
    assert rc == SUCCESS and len(rgb) == 128 * 64 * 3
    rgb = np.frombuffer(bytes(rgb), np.uint8).reshape(64, 128, 3)
    r = raw.astype(int)
    cell_r, cell_b = r[0::2, 0::2], r[1::2, 1::2]
    cell_g = (r[0::2, 1::2] + r[1::2, 0::2]) // 2
    for dy in (0, 1):
        for dx in (0, 1):
            assert np.array_equal(rgb[dy::2, dx::2, 0], cell_r)
            assert np.array_equal(rgb[dy::2, dx::2, 1], cell_g)
            assert np.array_equal(rgb[dy::2, dx::2, 2], cell_b)
    rc, bgr = pxl_api.formatNumPyImage(raw, desc, pxl_api.ImageFormat.RAW_BGR24)
    assert rc == SUCCESS and np.array_equal(np.frombuffer(bytes(bgr), np.uint8).reshape(64, 128, 3), rgb[..., ::-1])
    # BAYER16: same layout, 16-bit big-endian MSB-aligned
    assert pxl_api.setStreamState(h, STOP)[0] == SUCCESS
    assert set_feature(pxl_api, h, PIXEL_FORMAT, [BAYER16_RGGB]) == SUCCESS
    assert pxl_api.setStreamState(h, START)[0] == SUCCESS
    raw16, desc = grab(pxl_api, h, 256, 64)
    g = pattern(32, 16, 128, 64, desc.uFrameNumber)
    words = raw16.view(">u2")
    assert np.array_equal(words[1::2, 1::2], sensor12(g[1::2, 1::2], colour=0.25) << 4)
    assert np.array_equal(words[1::2, 0::2], sensor12(g[1::2, 0::2], colour=0.5) << 4)


def test_format_image_bmp_png_tiff_raw(pxl_api: Any) -> None:
    h = open_camera(pxl_api)
    configure(pxl_api, h, (0, 0, 96, 64))
    assert pxl_api.setStreamState(h, START)[0] == SUCCESS
    frame, desc = grab(pxl_api, h, 96, 64)
    fmt = pxl_api.ImageFormat
    rc, raw = pxl_api.formatNumPyImage(frame, desc, fmt.RAW_MONO8)
    assert rc == SUCCESS and bytes(raw) == frame.tobytes()
    # BMP: 8-bit grey with palette, rows bottom-up, padded to 4 bytes (96 already is)
    rc, bmp = pxl_api.formatNumPyImage(frame, desc, fmt.BMP)
    bmp = bytes(bmp)
    assert rc == SUCCESS and bmp[:2] == b"BM" and struct.unpack_from("<I", bmp, 2)[0] == len(bmp)
    offset = struct.unpack_from("<I", bmp, 10)[0]
    width, height, _planes, bits = struct.unpack_from("<iiHH", bmp, 18)
    assert (width, height, bits) == (96, 64, 8)
    pixels = np.frombuffer(bmp[offset:], np.uint8).reshape(64, 96)[::-1]
    assert np.array_equal(pixels, frame)
    # PNG: valid chunks and CRCs; IDAT inflates to filter-0 rows of the frame
    rc, png = pxl_api.formatNumPyImage(frame, desc, fmt.PNG)
    png = bytes(png)
    assert rc == SUCCESS and png[:8] == b"\x89PNG\r\n\x1a\n"
    pos, chunks = 8, {}
    while pos < len(png):
        (length,) = struct.unpack_from(">I", png, pos)
        kind, data = png[pos + 4 : pos + 8], png[pos + 8 : pos + 8 + length]
        assert struct.unpack_from(">I", png, pos + 8 + length)[0] == zlib.crc32(kind + data)
        chunks[kind] = data
        pos += 12 + length
    assert pos == len(png) and list(chunks) == [b"IHDR", b"IDAT", b"IEND"]
    assert struct.unpack(">IIBB", chunks[b"IHDR"][:10]) == (96, 64, 8, 0)
    rows = np.frombuffer(zlib.decompress(chunks[b"IDAT"]), np.uint8).reshape(64, 97)
    assert not rows[:, 0].any() and np.array_equal(rows[:, 1:], frame)
    # TIFF: little-endian header, pixel data at the end
    rc, tiff = pxl_api.formatNumPyImage(frame, desc, fmt.TIFF)
    tiff = bytes(tiff)
    assert rc == SUCCESS and tiff[:4] == b"II*\x00" and tiff[-96 * 64 :] == frame.tobytes()
    # RAW_RGB24 (DIB): B,G,R bottom row first
    rc, dib = pxl_api.formatNumPyImage(frame, desc, fmt.RAW_RGB24)
    dib = np.frombuffer(bytes(dib), np.uint8).reshape(64, 96, 3)[::-1]
    assert rc == SUCCESS and all(np.array_equal(dib[..., k], frame) for k in range(3))
    # RAW_RGB48: 16-bit little-endian
    rc, rgb48 = pxl_api.formatNumPyImage(frame, desc, fmt.RAW_RGB48)
    assert rc == SUCCESS
    assert np.array_equal(np.frombuffer(bytes(rgb48), "<u2").reshape(64, 96, 3)[..., 1], frame.astype(np.uint16) << 8)
    assert pxl_api.formatNumPyImage(frame, desc, 0x7777) == (NOT_SUPPORTED,)  # no such image format


# ------------------------------------------------------------------------------------------- profiles and features


def _caps(api: Any, h: int) -> list[Any]:
    rc, feats = api.getCameraFeatures(h, api.FeatureId.ALL)
    assert rc == SUCCESS
    return [feats.Features[i] for i in range(feats.uNumberOfFeatures)]


def test_mono_and_colour_profiles_offer_their_features(pxl_api: Any, emulator: EmulatorControl) -> None:
    mono = open_camera(pxl_api)
    colour = open_colour_camera(pxl_api, emulator)
    assert emulator.profile(SERIAL1) == "mono" and emulator.profile(COLOUR_SERIAL) == "colour"
    assert emulator.command(f"profile {COLOUR_SERIAL}") == "colour"
    m, c = _caps(pxl_api, mono), _caps(pxl_api, colour)
    # colour-only features: absent on the mono camera (no PRESENCE), refused by get/set with ApiNotSupportedError
    for fid in (WHITE_SHADING, SATURATION):
        assert not m[fid].uFlags & PRESENCE and c[fid].uFlags & PRESENCE, fid
        assert pxl_api.getFeature(mono, fid) == (NOT_SUPPORTED,)
        assert set_feature(pxl_api, mono, fid, [1.0]) == NOT_SUPPORTED
    assert c[WHITE_SHADING].uNumberOfParameters == 3 and c[WHITE_SHADING].uFlags & (MANUAL | ONEPUSH | OFF) == (
        MANUAL | ONEPUSH
    )
    # SETTABLE_WHILE_STREAMING as real cameras report it (FEATURES.md 22.7)
    for caps in (m, c):
        for fid in (EXPOSURE, GAIN, GAMMA, BRIGHTNESS):
            assert caps[fid].uFlags & SETTABLE_WHILE_STREAMING, fid
        for fid in (ROI, PIXEL_ADDRESSING, PIXEL_FORMAT, FRAME_RATE, FLIP, TRIGGER):
            assert caps[fid].uFlags & PRESENCE and not caps[fid].uFlags & SETTABLE_WHILE_STREAMING, fid
        assert caps[EXPOSURE].uFlags & (AUTO | ONEPUSH) == AUTO | ONEPUSH
        assert caps[GAIN].uFlags & (AUTO | ONEPUSH) == AUTO | ONEPUSH
        assert caps[GAMMA].uFlags & OFF and caps[FRAME_RATE].uFlags & OFF
        assert caps[FLIP].uNumberOfParameters == 2 and not caps[FLIP].uFlags & PERSISTABLE  # software flip
        assert caps[PIXEL_ADDRESSING].uNumberOfParameters == 4 and caps[EXPOSURE].uNumberOfParameters == 3
    for fid in (WHITE_SHADING, SATURATION):
        assert c[fid].uFlags & SETTABLE_WHILE_STREAMING, fid
    # limits per profile: mono PIXEL_FORMAT starts at MONO8, colour at the generic BAYER8 (how GUIs tell them apart)
    assert _params(m[PIXEL_FORMAT]) == [(MONO8, MONO12_PACKED)]
    assert _params(c[PIXEL_FORMAT])[0][0] == BAYER8_GRBG
    assert _params(m[PIXEL_ADDRESSING]) == [(1, 8), (DECIMATE, BIN), (1, 8), (1, 8)]
    assert _params(c[PIXEL_ADDRESSING]) == [(1, 4), (DECIMATE, BIN), (1, 4), (1, 4)]
    assert _params(c[ROI]) == [
        (0, COLOUR_WIDTH - 64),
        (0, COLOUR_HEIGHT - 64),
        (64, COLOUR_WIDTH),
        (64, COLOUR_HEIGHT),
    ]
    assert get_params(pxl_api, colour, PIXEL_FORMAT) == [BAYER8_RGGB]
    assert get_params(pxl_api, colour, WHITE_SHADING) == [1.0, 1.0, 1.0]
    assert get_params(pxl_api, colour, SATURATION) == [100.0]
    assert set_feature(pxl_api, colour, SATURATION, [150.0]) == SUCCESS
    assert get_params(pxl_api, colour, SATURATION) == [150.0]
    assert b"colour" in pxl_api.getCameraInfo(colour)[1].Description


def test_profile_from_config_and_control_commands(pxl_api: Any, emulator: EmulatorControl) -> None:
    old = os.environ.get("PXLEMU_CONFIG")
    os.environ["PXLEMU_CONFIG"] = "cameras=700000001,700000005@colour:640x480;profile=mono"
    try:
        emulator.reset()
        assert emulator.profile(700000001) == "mono" and emulator.profile(700000005) == "colour"
        h = open_camera(pxl_api, 700000005)
        assert get_params(pxl_api, h, ROI) == [0, 0, 640, 480]
    finally:
        if old is None:
            del os.environ["PXLEMU_CONFIG"]
        else:
            os.environ["PXLEMU_CONFIG"] = old
        emulator.reset()
    assert emulator.command("add 700000006 - 0 0 colour") == "ok"
    assert emulator.profile(700000006) == "colour"
    assert emulator.command("add 700000007 PL-X 640 480 colour") == "ok"  # 640 is a multiple of the 32 step
    assert emulator.command("add 700000008 - 648 480 colour").startswith("err")  # 648 is not
    assert emulator.command("add 700000008 - 0 0 infrared").startswith("err")
    assert emulator.command(f"scene {SERIAL1} 2") == "ok"
    assert emulator.command(f"scene {SERIAL1} 2 1 1 1") == "ok"
    assert emulator.command("scene 123 2").startswith("err")
    with pytest.raises(EmulatorError):
        emulator.set_scene(SERIAL1, -1.0)


def test_roi_steps_of_the_colour_profile(pxl_api: Any, emulator: EmulatorControl) -> None:
    h = open_colour_camera(pxl_api, emulator)
    # PL-X9512-like granularity: LEFT / WIDTH step 32, TOP / HEIGHT step 8; snapped down
    assert set_feature(pxl_api, h, ROI, [40, 20, 700, 500]) == PARAMETERS_CHANGED
    assert get_params(pxl_api, h, ROI) == [32, 16, 672, 496]
    assert set_feature(pxl_api, h, ROI, [64, 8, 640, 480]) == SUCCESS
    assert set_feature(pxl_api, h, ROI, [0, 0, 63, 480]) == OUT_OF_RANGE
    assert set_feature(pxl_api, h, ROI, [1792, 0, 640, 480]) == PARAMETERS_CHANGED  # clamped to the sensor
    assert get_params(pxl_api, h, ROI) == [1792, 0, COLOUR_WIDTH - 1792, 480]


# ------------------------------------------------------------------------------------------- pixel addressing


def test_pixel_addressing_modes_factors_and_frames(pxl_api: Any) -> None:
    h = open_camera(pxl_api)
    configure(pxl_api, h, (16, 8, 192, 96))
    assert set_feature(pxl_api, h, EXPOSURE, [0.005]) == SUCCESS  # half brightness: binning does not saturate all
    # asymmetric: X 2, Y 4 (VALUE reports X)
    assert set_feature(pxl_api, h, PIXEL_ADDRESSING, [2, DECIMATE, 2, 4]) == SUCCESS
    assert get_params(pxl_api, h, PIXEL_ADDRESSING) == [2, DECIMATE, 2, 4]
    # only VALUE changed (a read-modify-write of VALUE): symmetric
    assert set_feature(pxl_api, h, PIXEL_ADDRESSING, [3, DECIMATE, 2, 4]) == PARAMETERS_CHANGED
    assert get_params(pxl_api, h, PIXEL_ADDRESSING) == [3, DECIMATE, 3, 3]
    # refusals: beyond the limits -> ApiOutOfRangeError; inside but not offered -> ApiInvalidParameterError
    assert set_feature(pxl_api, h, PIXEL_ADDRESSING, [2, RESAMPLE, 2, 2]) == OUT_OF_RANGE
    assert set_feature(pxl_api, h, PIXEL_ADDRESSING, [16, DECIMATE, 16, 16]) == OUT_OF_RANGE
    assert set_feature(pxl_api, h, PIXEL_ADDRESSING, [1, DECIMATE, 5, 1]) == INVALID_PARAMETER
    assert set_feature(pxl_api, h, PIXEL_ADDRESSING, [1, DECIMATE, 1, 7]) == INVALID_PARAMETER
    assert get_params(pxl_api, h, PIXEL_ADDRESSING) == [3, DECIMATE, 3, 3]
    for x, y, mode in ((2, 4, DECIMATE), (3, 2, AVERAGE), (2, 2, BIN), (6, 8, BIN), (4, 1, AVERAGE)):
        assert pxl_api.setStreamState(h, STOP)[0] == SUCCESS
        assert set_feature(pxl_api, h, PIXEL_ADDRESSING, [x, mode, x, y]) == SUCCESS
        assert pxl_api.setStreamState(h, START)[0] == SUCCESS
        ow, oh = 192 // x, 96 // y  # floor, as the wrapper's imageSize
        buf, desc = grab(pxl_api, h, ow, oh)
        assert pxl_api.imageSize(desc) == ow * oh
        assert (desc.PixelAddressingValue.fHorizontal, desc.PixelAddressingValue.fVertical) == (x, y)
        assert desc.DecimationMode.fValue == mode and desc.Decimation.fValue == x
        v12 = sensor12(pattern(16, 8, 192, 96, desc.uFrameNumber), 0.5)
        expected = blocks(v12, x, y, mode) >> 4
        assert np.array_equal(buf.ravel()[4:], expected.ravel()[4:]), (x, y, mode)
    assert set_feature(pxl_api, h, PIXEL_ADDRESSING, [1, DECIMATE, 1, 1]) == NOT_PERMITTED_WHILE_STREAMING


def test_colour_pixel_addressing_bins_same_colour_pixels(pxl_api: Any, emulator: EmulatorControl) -> None:
    h = open_colour_camera(pxl_api, emulator)
    configure(pxl_api, h, (32, 16, 128, 64), BAYER16_RGGB)
    assert set_feature(pxl_api, h, PIXEL_ADDRESSING, [2, AVERAGE, 2, 2]) == INVALID_PARAMETER  # not offered
    assert set_feature(pxl_api, h, PIXEL_ADDRESSING, [3, DECIMATE, 3, 3]) == INVALID_PARAMETER
    assert set_feature(pxl_api, h, PIXEL_ADDRESSING, [2, BIN, 2, 2]) == SUCCESS
    assert set_feature(pxl_api, h, EXPOSURE, [0.002]) == SUCCESS
    assert pxl_api.setStreamState(h, START)[0] == SUCCESS
    raw, desc = grab(pxl_api, h, 64 * 2, 32)
    assert desc.PixelFormat.fValue == BAYER16_RGGB
    got = raw.view(">u2") >> 4
    g = pattern(32, 16, 128, 64, desc.uFrameNumber)
    colour = np.array([[1.0, 0.5], [0.5, 0.25]])  # R G / G B response of the default scene
    for cy in (0, 1):
        for cx in (0, 1):  # each CFA plane is binned 2x2 on its own: the Bayer layout is kept
            plane = sensor12(g[cy::2, cx::2], 0.2, colour[cy, cx])
            assert np.array_equal(got[cy::2, cx::2].ravel()[1:], blocks(plane, 2, 2, BIN).ravel()[1:]), (cy, cx)


# ------------------------------------------------------------------------------------------- frame rate


def test_frame_rate_limits_follow_roi_and_actual_rate_follows_exposure(pxl_api: Any) -> None:
    h = open_camera(pxl_api)

    def fr_max() -> float:
        return float(_params(pxl_api.getCameraFeatures(h, FRAME_RATE)[1].Features[0])[0][1])

    full = fr_max()
    assert full == pytest.approx(1 / readout_s(DEFAULT_WIDTH, DEFAULT_HEIGHT), rel=1e-4)
    configure(pxl_api, h, (0, 0, 640, 480))
    small = fr_max()
    assert small == pytest.approx(1 / readout_s(640, 480), rel=1e-4) and small > full
    assert set_feature(pxl_api, h, PIXEL_ADDRESSING, [2, DECIMATE, 2, 2]) == SUCCESS
    assert fr_max() == pytest.approx(1 / readout_s(320, 240), rel=1e-4)  # decimation reads fewer rows
    assert set_feature(pxl_api, h, PIXEL_ADDRESSING, [2, AVERAGE, 2, 2]) == SUCCESS
    assert fr_max() == pytest.approx(small, rel=1e-4)  # averaging is digital: every row is read
    assert set_feature(pxl_api, h, FRAME_RATE, [small * 1.01]) == OUT_OF_RANGE
    assert set_feature(pxl_api, h, PIXEL_ADDRESSING, [1, DECIMATE, 1, 1]) == SUCCESS
    # MANUAL is a target: actual = min(target, 1 / (exposure + readout))
    assert set_feature(pxl_api, h, FRAME_RATE, [200.0]) == SUCCESS
    assert set_feature(pxl_api, h, EXPOSURE, [0.001]) == SUCCESS
    assert get_params(pxl_api, h, ACTUAL_FRAME_RATE)[0] == pytest.approx(200.0)
    assert set_feature(pxl_api, h, EXPOSURE, [0.02]) == SUCCESS
    limited = 1 / (0.02 + readout_s(640, 480))
    assert get_params(pxl_api, h, ACTUAL_FRAME_RATE)[0] == pytest.approx(limited, rel=1e-5)
    assert get_params(pxl_api, h, FRAME_RATE) == [200.0]  # the target is kept
    # OFF: free running; a value sent with the flags read back (OFF) changes nothing (FEATURES.md 1)
    assert set_feature(pxl_api, h, FRAME_RATE, [200.0], OFF) == SUCCESS
    _, flags, _ = pxl_api.getFeature(h, FRAME_RATE)
    assert set_feature(pxl_api, h, FRAME_RATE, [25.0], flags) == SUCCESS
    assert pxl_api.getFeature(h, FRAME_RATE)[1:] == (PRESENCE | OFF, [200.0])
    assert set_feature(pxl_api, h, FRAME_RATE, [25.0], MANUAL | OFF) == SUCCESS  # OFF wins: a GUI's "disable"
    assert pxl_api.getFeature(h, FRAME_RATE)[1:] == (PRESENCE | OFF, [200.0])
    assert get_params(pxl_api, h, ACTUAL_FRAME_RATE)[0] == pytest.approx(limited, rel=1e-5)
    # the frame clock follows it
    assert set_feature(pxl_api, h, FRAME_RATE, [25.0]) == SUCCESS
    assert set_feature(pxl_api, h, EXPOSURE, [0.005]) == SUCCESS
    assert pxl_api.setStreamState(h, START)[0] == SUCCESS
    assert set_feature(pxl_api, h, FRAME_RATE, [20.0]) == NOT_PERMITTED_WHILE_STREAMING
    descs = [grab(pxl_api, h, 640, 480)[1] for _ in range(3)]
    assert all(d.ActualFrameRate.fValue == pytest.approx(25.0) for d in descs)
    assert all(b.dFrameTime - a.dFrameTime >= 0.04 - 1e-6 for a, b in itertools.pairwise(descs))
    assert set_feature(pxl_api, h, EXPOSURE, [0.06]) == SUCCESS  # settable while streaming: slows the clock
    grab(pxl_api, h, 640, 480)
    descs = [grab(pxl_api, h, 640, 480)[1] for _ in range(2)]
    period = 0.06 + readout_s(640, 480)
    assert descs[1].dFrameTime - descs[0].dFrameTime >= period - 1e-6
    assert descs[1].ActualFrameRate.fValue == pytest.approx(1 / period, rel=1e-5)


# ------------------------------------------------------------------------------------------- pixel formats


def test_pixel_formats_per_profile(pxl_api: Any, emulator: EmulatorControl) -> None:
    mono = open_camera(pxl_api)
    for pf in (BAYER8_GRBG, BAYER8_RGGB, BAYER16_RGGB, BAYER12_RGGB_PACKED):
        assert set_feature(pxl_api, mono, PIXEL_FORMAT, [pf]) in (INVALID_PARAMETER, OUT_OF_RANGE), pf
    assert get_params(pxl_api, mono, PIXEL_FORMAT) == [MONO8]
    colour = open_colour_camera(pxl_api, emulator)
    for pf in (MONO8, MONO16, MONO12_PACKED, BAYER8_GBRG, BAYER8_BGGR):
        assert set_feature(pxl_api, colour, PIXEL_FORMAT, [pf]) in (INVALID_PARAMETER, OUT_OF_RANGE), pf
    # the generic BAYER8 / BAYER16 are accepted and become the sensor's native phase
    assert set_feature(pxl_api, colour, PIXEL_FORMAT, [pxl_api.PixelFormat.BAYER8]) == PARAMETERS_CHANGED
    assert get_params(pxl_api, colour, PIXEL_FORMAT) == [BAYER8_RGGB]
    assert set_feature(pxl_api, colour, PIXEL_FORMAT, [BAYER16_GRBG]) == PARAMETERS_CHANGED
    assert get_params(pxl_api, colour, PIXEL_FORMAT) == [BAYER16_RGGB]
    assert set_feature(pxl_api, colour, PIXEL_FORMAT, [BAYER12_RGGB_PACKED]) == SUCCESS


def test_mono12_packed_frames(pxl_api: Any) -> None:
    h = open_camera(pxl_api)
    configure(pxl_api, h, (0, 8, 256, 64), MONO12_PACKED)
    assert set_feature(pxl_api, h, PIXEL_ADDRESSING, [3, DECIMATE, 3, 3]) == SUCCESS  # 85 x 21: odd pixel count
    assert pxl_api.setStreamState(h, START)[0] == SUCCESS
    npix = 85 * 21
    nbytes = (npix * 3 + 1) // 2
    assert pxl_api.getNextNumPyFrame(h, np.zeros(nbytes - 1, np.uint8))[0] == BUFFER_TOO_SMALL
    buf = np.zeros(nbytes, np.uint8)
    rc, desc = pxl_api.getNextNumPyFrame(h, buf)
    assert rc == SUCCESS and desc.PixelFormat.fValue == MONO12_PACKED
    # the wrapper's imageSize does not floor W/PA and H/PA before multiplying: never smaller than the frame
    assert pxl_api.imageSize(desc) >= nbytes
    g = pattern(0, 8, 256, 64, desc.uFrameNumber, pa=3)[:21, :85]
    got = unpack12(buf.tobytes(), npix)
    assert np.array_equal(got[3:], sensor12(g).ravel()[3:])  # the stamp covers the first 2 2/3 pixels
    # formatImage reads the packing back (upper 8 bits)
    rc, mono8 = pxl_api.formatNumPyImage(buf, desc, pxl_api.ImageFormat.RAW_MONO8)
    assert rc == SUCCESS and np.array_equal(np.frombuffer(bytes(mono8), np.uint8)[3:], (got >> 4)[3:])


# ------------------------------------------------------------------------------------------- AUTO and ONEPUSH


def test_auto_exposure_follows_the_scene_both_ways(pxl_api: Any, emulator: EmulatorControl) -> None:
    h = open_camera(pxl_api)
    configure(pxl_api, h, (0, 0, 64, 64))
    assert set_feature(pxl_api, h, FRAME_RATE, [], OFF) == SUCCESS
    # the vendor's idiom: the value passed with AUTO is ignored (0 is out of range, and accepted)
    assert set_feature(pxl_api, h, EXPOSURE, [0], AUTO) == SUCCESS
    assert pxl_api.getFeature(h, EXPOSURE)[1] == PRESENCE | AUTO
    assert pxl_api.setStreamState(h, START)[0] == SUCCESS
    for scene, target in ((4.0, 0.0025), (0.25, 0.04), (1.0, 0.01)):
        emulator.set_scene(SERIAL1, scene)
        descs = grab_until(
            pxl_api, h, (64, 64), lambda t=target: get_params(pxl_api, h, EXPOSURE)[0] == pytest.approx(t, rel=1e-6)
        )
        shutters = [d.Shutter.fValue for d in descs]
        assert shutters == sorted(shutters) or shutters == sorted(shutters, reverse=True)  # one direction
        assert len(descs) > 2  # gradual, frame by frame
    assert pxl_api.getFeature(h, EXPOSURE)[1] == PRESENCE | AUTO  # continuous: stays AUTO
    # each frame is taken with the exposure its descriptor reports
    emulator.set_scene(SERIAL1, 2.0)
    buf, desc = grab(pxl_api, h, 64, 64)
    assert desc.Shutter.fValue != pytest.approx(0.005)  # still on its way
    scale = desc.Shutter.fValue / 0.01 * 2.0
    expected = sensor12(pattern(0, 0, 64, 64, desc.uFrameNumber), scale) >> 4
    assert np.abs(buf.astype(int).ravel()[4:] - expected.ravel()[4:]).max() <= 1
    # AUTO within [AUTO_MIN, AUTO_MAX] given with it
    assert set_feature(pxl_api, h, EXPOSURE, [0, 0.001, 0.02], AUTO) == SUCCESS
    emulator.set_scene(SERIAL1, 0.1)  # would want 100 ms
    grab_until(pxl_api, h, (64, 64), lambda: get_params(pxl_api, h, EXPOSURE)[0] == pytest.approx(0.02))
    emulator.set_scene(SERIAL1, 100.0)  # would want 0.1 ms
    grab_until(pxl_api, h, (64, 64), lambda: get_params(pxl_api, h, EXPOSURE)[0] == pytest.approx(0.001))
    assert set_feature(pxl_api, h, EXPOSURE, [0, 0.03, 0.02], AUTO) == INVALID_PARAMETER  # min > max
    assert set_feature(pxl_api, h, EXPOSURE, [0, 20.0, 20.0], AUTO) == OUT_OF_RANGE  # the limits are checked
    # stop continuous: MANUAL with the value read
    value = get_params(pxl_api, h, EXPOSURE)[0]
    assert set_feature(pxl_api, h, EXPOSURE, [value]) == SUCCESS
    emulator.set_scene(SERIAL1, 1.0)
    grab(pxl_api, h, 64, 64)
    assert pxl_api.getFeature(h, EXPOSURE)[1:] == (PRESENCE | MANUAL, pytest.approx([value, 0.001, 0.02]))


def test_onepush_exposure_and_gain_converge_then_become_manual(pxl_api: Any, emulator: EmulatorControl) -> None:
    h = open_camera(pxl_api)
    configure(pxl_api, h, (0, 0, 64, 64))
    assert set_feature(pxl_api, h, FRAME_RATE, [], OFF) == SUCCESS
    emulator.set_scene(SERIAL1, 2.0)
    assert set_feature(pxl_api, h, EXPOSURE, [0], ONEPUSH) == SUCCESS  # value ignored
    assert pxl_api.getFeature(h, EXPOSURE)[1] == PRESENCE | ONEPUSH  # needs frames: pending while stopped
    assert pxl_api.setStreamState(h, START)[0] == SUCCESS
    descs = grab_until(pxl_api, h, (64, 64), lambda: pxl_api.getFeature(h, EXPOSURE)[1] == PRESENCE | MANUAL)
    assert 2 <= len(descs) <= 6  # a few frames
    assert get_params(pxl_api, h, EXPOSURE)[0] == pytest.approx(0.005)
    assert grab(pxl_api, h, 64, 64)[1].Shutter.fValue == pytest.approx(0.005)
    emulator.set_scene(SERIAL1, 1.0)
    grab(pxl_api, h, 64, 64)
    assert get_params(pxl_api, h, EXPOSURE)[0] == pytest.approx(0.005)  # MANUAL: no longer follows
    # gain: the exposure stays, the gain makes up the difference (0.5 -> +6 dB)
    emulator.set_scene(SERIAL1, 1.0)
    assert set_feature(pxl_api, h, EXPOSURE, [0.005]) == SUCCESS
    assert set_feature(pxl_api, h, GAIN, [0], ONEPUSH) == SUCCESS
    descs = grab_until(pxl_api, h, (64, 64), lambda: pxl_api.getFeature(h, GAIN)[1] == PRESENCE | MANUAL)
    assert get_params(pxl_api, h, GAIN) == [pytest.approx(6.0)]
    gains = [d.Gain.fValue for d in descs]
    assert gains[0] < gains[-1] <= 6.0 and gains == sorted(gains)
    # continuous gain goes down again when the scene brightens
    assert set_feature(pxl_api, h, GAIN, [0], AUTO) == SUCCESS
    emulator.set_scene(SERIAL1, 4.0)
    grab_until(pxl_api, h, (64, 64), lambda: get_params(pxl_api, h, GAIN)[0] == pytest.approx(0.0))
    # abort a one-push: MANUAL with the current value
    assert set_feature(pxl_api, h, EXPOSURE, [0], ONEPUSH) == SUCCESS
    assert set_feature(pxl_api, h, EXPOSURE, [0.005]) == SUCCESS
    grab(pxl_api, h, 64, 64)
    assert pxl_api.getFeature(h, EXPOSURE)[1:] == (PRESENCE | MANUAL, pytest.approx([0.005, 1e-4, 1.0]))


# ------------------------------------------------------------------------------------------- flip, tone, colour


def test_flip_flips_frames_and_the_bayer_phase(pxl_api: Any, emulator: EmulatorControl) -> None:
    h = open_camera(pxl_api)
    configure(pxl_api, h, (8, 16, 128, 64))
    assert pxl_api.setStreamState(h, START)[0] == SUCCESS
    assert set_feature(pxl_api, h, FLIP, [1, 0]) == NOT_PERMITTED_WHILE_STREAMING
    assert pxl_api.setStreamState(h, STOP)[0] == SUCCESS
    assert set_feature(pxl_api, h, FLIP, [1, 1]) == SUCCESS
    assert pxl_api.setStreamState(h, START)[0] == SUCCESS
    buf, desc = grab(pxl_api, h, 128, 64)
    assert (desc.Flip.fHorizontal, desc.Flip.fVertical) == (1, 1)
    expected = pattern(8, 16, 128, 64, desc.uFrameNumber)[::-1, ::-1]
    assert np.array_equal(buf.ravel()[4:], expected.ravel()[4:])
    assert pxl_api.setStreamState(h, STOP)[0] == SUCCESS
    assert set_feature(pxl_api, h, FLIP, [0, 1]) == SUCCESS
    assert pxl_api.setStreamState(h, START)[0] == SUCCESS
    buf, desc = grab(pxl_api, h, 128, 64)
    assert np.array_equal(buf.ravel()[4:], pattern(8, 16, 128, 64, desc.uFrameNumber)[::-1].ravel()[4:])
    # done in software: gone with the controlling handle (FEATURES.md 9)
    assert pxl_api.uninitialize(h) == (SUCCESS,)
    h = open_camera(pxl_api)
    assert get_params(pxl_api, h, FLIP) == [0, 0]
    # colour: flipping an even-sized image moves the CFA phase the frames report
    c = open_colour_camera(pxl_api, emulator)
    configure(pxl_api, c, (32, 16, 128, 64), BAYER8_RGGB)
    for flip, phase in (((1, 0), BAYER8_GRBG), ((0, 1), BAYER8_GBRG), ((1, 1), BAYER8_BGGR), ((0, 0), BAYER8_RGGB)):
        assert set_feature(pxl_api, c, FLIP, list(flip)) == SUCCESS
        assert pxl_api.setStreamState(c, START)[0] == SUCCESS
        raw, desc = grab(pxl_api, c, 128, 64)
        assert desc.PixelFormat.fValue == phase, flip
        assert get_params(pxl_api, c, PIXEL_FORMAT) == [BAYER8_RGGB]  # the setting itself is unchanged
        # the reported phase is right: formatImage sees red where the red pixels went
        rgb = np.frombuffer(
            bytes(pxl_api.formatNumPyImage(raw, desc, pxl_api.ImageFormat.RAW_RGB24_NON_DIB)[1]), np.uint8
        )
        unflipped = pattern(32, 16, 128, 64, desc.uFrameNumber)
        red = rgb.reshape(64, 128, 3)[..., 0]
        red = red[:, ::-1] if flip[0] else red
        red = red[::-1] if flip[1] else red
        assert np.array_equal(red[2::2, 2::2], unflipped[2::2, 2::2])  # R cells: full response
        assert pxl_api.setStreamState(c, STOP)[0] == SUCCESS


def test_brightness_and_gamma_shape_the_pixels(pxl_api: Any) -> None:
    h = open_camera(pxl_api)
    configure(pxl_api, h, (0, 0, 128, 64), MONO16)
    assert pxl_api.setStreamState(h, START)[0] == SUCCESS
    # settable while streaming
    assert set_feature(pxl_api, h, BRIGHTNESS, [10.0]) == SUCCESS
    raw, desc = grab(pxl_api, h, 256, 64)
    v12 = sensor12(pattern(0, 0, 128, 64, desc.uFrameNumber))
    expected = np.minimum(4095, v12 + round(0.1 * 4095))  # black level: percent of full scale added
    assert np.array_equal((raw.view(">u2") >> 4).ravel()[2:], expected.ravel()[2:])
    assert desc.Brightness.fValue == pytest.approx(10.0)
    assert set_feature(pxl_api, h, BRIGHTNESS, [0.0]) == SUCCESS
    assert set_feature(pxl_api, h, GAMMA, [2.0]) == SUCCESS
    raw, desc = grab(pxl_api, h, 256, 64)
    v12 = sensor12(pattern(0, 0, 128, 64, desc.uFrameNumber))
    expected = np.floor(4095 * (v12 / 4095) ** 0.5 + 0.5)
    got = (raw.view(">u2") >> 4).ravel()[2:]
    assert np.abs(got - expected.ravel()[2:]).max() <= 1 and desc.Gamma.fValue == pytest.approx(2.0)
    assert set_feature(pxl_api, h, GAMMA, [2.0], OFF) == SUCCESS  # OFF: linear again, value kept
    raw, desc = grab(pxl_api, h, 256, 64)
    v12 = sensor12(pattern(0, 0, 128, 64, desc.uFrameNumber))
    assert np.array_equal((raw.view(">u2") >> 4).ravel()[2:], v12.ravel()[2:])
    assert pxl_api.getFeature(h, GAMMA)[1:] == (PRESENCE | OFF, [2.0])
    assert set_feature(pxl_api, h, GAMMA, [1.5]) == SUCCESS  # re-enabled by a MANUAL value
    assert pxl_api.getFeature(h, GAMMA)[1:] == (PRESENCE | MANUAL, [1.5])


def test_white_shading_manual_and_onepush(pxl_api: Any, emulator: EmulatorControl) -> None:
    h = open_colour_camera(pxl_api, emulator)
    configure(pxl_api, h, (32, 16, 128, 64), BAYER16_RGGB)
    assert set_feature(pxl_api, h, EXPOSURE, [0.002]) == SUCCESS
    assert pxl_api.setStreamState(h, START)[0] == SUCCESS
    # settable while streaming; gains multiply the colour planes; 1/64 resolution
    assert set_feature(pxl_api, h, WHITE_SHADING, [2.0, 1.0, 3.0]) == SUCCESS
    assert set_feature(pxl_api, h, WHITE_SHADING, [2.0, 1.0, 3.001]) == PARAMETERS_CHANGED
    raw, desc = grab(pxl_api, h, 256, 64)
    assert (desc.WhiteShading.fRedGain, desc.WhiteShading.fGreenGain, desc.WhiteShading.fBlueGain) == (2, 1, 3)
    got, g = raw.view(">u2") >> 4, pattern(32, 16, 128, 64, desc.uFrameNumber)
    assert np.array_equal(got[0::2, 0::2].ravel()[1:], sensor12(g[0::2, 0::2], 0.2, 2.0).ravel()[1:])
    assert np.array_equal(got[1::2, 1::2], sensor12(g[1::2, 1::2], 0.2, 0.25 * 3.0))
    # one-push balances the scene's cast (default R 1, G 1/2, B 1/4 -> gains 1/2, 1, 2) over a few frames
    assert set_feature(pxl_api, h, WHITE_SHADING, [0, 0, 0], ONEPUSH) == SUCCESS  # values ignored
    descs = grab_until(pxl_api, h, (64, 256), lambda: pxl_api.getFeature(h, WHITE_SHADING)[1] == PRESENCE | MANUAL)
    assert len(descs) >= 2 and get_params(pxl_api, h, WHITE_SHADING) == [0.5, 1.0, 2.0]
    raw, desc = grab(pxl_api, h, 256, 64)
    got, g = raw.view(">u2") >> 4, pattern(32, 16, 128, 64, desc.uFrameNumber)
    assert np.array_equal(got[1::2, 1::2], sensor12(g[1::2, 1::2], 0.2, 0.5))  # blue now like green
    assert np.array_equal(got[1::2, 0::2], sensor12(g[1::2, 0::2], 0.2, 0.5))
    # another cast, measured without a stream (completes at once, as the vendor's sample expects)
    assert pxl_api.setStreamState(h, STOP)[0] == SUCCESS
    emulator.set_scene(COLOUR_SERIAL, 1.0, (0.5, 1.0, 0.8))
    assert set_feature(pxl_api, h, WHITE_SHADING, [1, 1, 1], ONEPUSH) == SUCCESS
    assert pxl_api.getFeature(h, WHITE_SHADING)[1:] == (PRESENCE | MANUAL, [2.0, 1.0, 1.25])
    assert set_feature(pxl_api, h, WHITE_SHADING, [1, 1, 1], AUTO) == INVALID_PARAMETER  # no AUTO


def test_format_image_jpeg_and_psd(pxl_api: Any, emulator: EmulatorControl) -> None:
    from PIL import Image

    fmt = pxl_api.ImageFormat
    for h, pf, reference, mode in (
        (open_camera(pxl_api), MONO8, fmt.RAW_MONO8, "L"),
        (open_colour_camera(pxl_api, emulator), BAYER8_RGGB, fmt.RAW_RGB24_NON_DIB, "RGB"),
    ):
        configure(pxl_api, h, (64, 32, 96, 64), pf)
        assert pxl_api.setStreamState(h, START)[0] == SUCCESS
        frame, desc = grab(pxl_api, h, 96, 64)
        ref = np.frombuffer(bytes(pxl_api.formatNumPyImage(frame, desc, reference)[1]), np.uint8)
        for kind, name, tolerance in ((fmt.JPEG, "JPEG", 6), (fmt.PSD, "PSD", 0)):
            rc, data = pxl_api.formatNumPyImage(frame, desc, kind)
            assert rc == SUCCESS, name
            image = Image.open(io.BytesIO(bytes(data)))
            image.load()
            assert (image.format, image.mode, image.size) == (name, mode, (96, 64))
            diff = np.abs(np.asarray(image).astype(int).ravel() - ref.astype(int))
            assert diff.max() <= tolerance, (name, mode, diff.max())


# ------------------------------------------------------------------------------------------- settings channels


def test_settings_channels(pxl_api: Any, emulator: EmulatorControl) -> None:
    h = open_camera(pxl_api)
    assert set_feature(pxl_api, h, EXPOSURE, [0.05]) == SUCCESS
    assert set_feature(pxl_api, h, ROI, [64, 64, 640, 480]) == SUCCESS
    assert set_feature(pxl_api, h, FLIP, [1, 0]) == SUCCESS
    assert pxl_api.saveSettings(h, pxl_api.Settings.SETTINGS_USER) == (SUCCESS,)
    assert pxl_api.saveSettings(h, pxl_api.Settings.SETTINGS_FACTORY) == (INVALID_PARAMETER,)  # read-only
    assert pxl_api.saveSettings(h, 2) == (INVALID_PARAMETER,)
    assert pxl_api.loadSettings(h, 2) == (INVALID_PARAMETER,)
    assert pxl_api.loadSettings(h, pxl_api.Settings.SETTINGS_FACTORY) == (SUCCESS,)
    assert get_params(pxl_api, h, EXPOSURE)[0] == pytest.approx(0.01)
    assert get_params(pxl_api, h, ROI) == [0, 0, DEFAULT_WIDTH, DEFAULT_HEIGHT]
    assert get_params(pxl_api, h, FLIP) == [1, 0]  # not persistable: loading does not touch it
    assert pxl_api.loadSettings(h, pxl_api.Settings.SETTINGS_USER) == (SUCCESS,)
    assert get_params(pxl_api, h, ROI) == [64, 64, 640, 480]
    assert pxl_api.setStreamState(h, START)[0] == SUCCESS
    assert pxl_api.loadSettings(h, pxl_api.Settings.SETTINGS_USER) == (NOT_PERMITTED_WHILE_STREAMING,)
    assert pxl_api.saveSettings(h, pxl_api.Settings.SETTINGS_USER) == (SUCCESS,)  # save works while streaming
    # the user channel persists across uninitialize / initialize and is the power-up set
    assert pxl_api.uninitialize(h) == (SUCCESS,)
    h = open_camera(pxl_api)
    assert get_params(pxl_api, h, EXPOSURE)[0] == pytest.approx(0.05)  # untouched by re-initializing
    assert set_feature(pxl_api, h, EXPOSURE, [0.02]) == SUCCESS
    assert pxl_api.uninitialize(h) == (SUCCESS,)
    emulator.unplug(SERIAL1)
    emulator.replug(SERIAL1)
    h = open_camera(pxl_api)
    assert get_params(pxl_api, h, EXPOSURE)[0] == pytest.approx(0.05)
    assert get_params(pxl_api, h, ROI) == [64, 64, 640, 480]
    assert get_params(pxl_api, h, FLIP) == [0, 0]
    monitor = pxl_api.initialize(SERIAL1, pxl_api.InitializeExFlags.MONITOR_ACCESS_ONLY)[1]
    assert pxl_api.saveSettings(monitor, pxl_api.Settings.SETTINGS_USER) == (REQUIRES_CONTROL,)
    emulator.reset()  # a reset forgets the user channel
    h = open_camera(pxl_api)
    assert get_params(pxl_api, h, EXPOSURE)[0] == pytest.approx(0.01)


def test_frame_numbers_times_and_dropped_frames(pxl_api: Any, emulator: EmulatorControl) -> None:
    h = open_camera(pxl_api)
    configure(pxl_api, h, (0, 0, 64, 64))
    buf = np.zeros((64, 64), np.uint8)
    assert pxl_api.getNextNumPyFrame(h, buf)[0] == STREAM_STOPPED  # not streaming
    assert pxl_api.setStreamState(h, START)[0] == SUCCESS
    assert pxl_api.getNextNumPyFrame(h, np.zeros((32, 64), np.uint8))[0] == BUFFER_TOO_SMALL
    assert b"smaller than" in pxl_api.getErrorReport(h)[1].strReport
    descs = [grab(pxl_api, h, 64, 64)[1] for _ in range(3)]
    numbers = [d.uFrameNumber for d in descs]
    assert numbers == [numbers[0], numbers[0] + 1, numbers[0] + 2]
    times = [d.dFrameTime for d in descs]
    assert all(b - a >= 1 / 30 - 1e-9 for a, b in itertools.pairwise(times))  # FRAME_RATE 30
    emulator.drop_frames(SERIAL1, 5)
    frame, desc = grab(pxl_api, h, 64, 64)
    assert desc.uFrameNumber == desc.u64FrameNumber == stamp(frame) == numbers[-1] + 6
    assert emulator.last_frame_number(SERIAL1) == desc.uFrameNumber
    rc, now = pxl_api.getCurrentTimestamp(h)
    assert rc == SUCCESS and now >= desc.dFrameTime  # same clock as the frame times
    # frame numbers continue across a stream stop/start (USB cameras do not reset them)
    assert pxl_api.setStreamState(h, STOP)[0] == SUCCESS
    assert pxl_api.setStreamState(h, START)[0] == SUCCESS
    assert grab(pxl_api, h, 64, 64)[1].uFrameNumber == desc.uFrameNumber + 1


def test_grab_takes_at_least_the_exposure(pxl_api: Any) -> None:
    h = open_camera(pxl_api)
    configure(pxl_api, h, (0, 0, 64, 64))
    assert set_feature(pxl_api, h, EXPOSURE, [0.2]) == SUCCESS
    assert pxl_api.setStreamState(h, START)[0] == SUCCESS
    for _ in range(2):
        started = time.monotonic()
        _, desc = grab(pxl_api, h, 64, 64)
        assert time.monotonic() - started >= 0.2
        assert desc.Shutter.fValue == pytest.approx(0.2)
        assert desc.ActualFrameRate.fValue < 5.0  # period = exposure + readout > 1/30 s


def _grab_in_thread(api: Any, h: int, shape: tuple[int, int]) -> tuple[threading.Thread, dict[str, Any]]:
    result: dict[str, Any] = {}

    def run() -> None:
        result["rc"] = api.getNextNumPyFrame(h, np.zeros(shape, np.uint8))[0]

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    return thread, result


def test_stream_stop_wakes_a_blocked_grab(pxl_api: Any) -> None:
    h = open_camera(pxl_api)
    configure(pxl_api, h, (0, 0, 64, 64))
    assert set_feature(pxl_api, h, EXPOSURE, [10.0]) == SUCCESS
    assert pxl_api.setStreamState(h, START)[0] == SUCCESS
    thread, result = _grab_in_thread(pxl_api, h, (64, 64))
    time.sleep(0.2)
    assert thread.is_alive()
    assert pxl_api.setStreamState(h, STOP)[0] == SUCCESS
    thread.join(5)
    assert not thread.is_alive() and result["rc"] == STREAM_STOPPED


def test_a_blocked_grab_blocks_neither_control_calls_nor_other_cameras(pxl_api: Any) -> None:
    h1, h2 = open_camera(pxl_api, SERIAL1), open_camera(pxl_api, SERIAL2)
    for h in (h1, h2):
        configure(pxl_api, h, (0, 0, 64, 64))
    assert set_feature(pxl_api, h1, EXPOSURE, [10.0]) == SUCCESS
    for h in (h1, h2):
        assert pxl_api.setStreamState(h, START)[0] == SUCCESS
    thread, result = _grab_in_thread(pxl_api, h1, (64, 64))
    time.sleep(0.1)
    assert get_params(pxl_api, h1, EXPOSURE)[0] == pytest.approx(10.0)
    assert set_feature(pxl_api, h1, GAIN, [3.0]) == SUCCESS
    for _ in range(3):
        grab(pxl_api, h2, 64, 64)
    assert thread.is_alive()  # still waiting for its 10 s exposure
    assert pxl_api.uninitialize(h1) == (SUCCESS,)  # stops the stream and wakes the grab
    thread.join(5)
    assert result["rc"] == STREAM_STOPPED


def test_hardware_trigger(pxl_api: Any, emulator: EmulatorControl) -> None:
    h = open_camera(pxl_api)
    configure(pxl_api, h, (0, 0, 64, 64))
    assert set_feature(pxl_api, h, TRIGGER, [0, pxl_api.TriggerTypes.HARDWARE, 1, 0, 0]) == SUCCESS
    assert pxl_api.setStreamState(h, START)[0] == SUCCESS
    assert emulator.hardware_trigger(SERIAL1) is True  # taken, but nobody fetches it: lost (skipped)
    assert wait_for(lambda: emulator.trigger_counts(SERIAL1)[2] == 1)
    thread, result = _grab_in_thread(pxl_api, h, (64, 64))
    assert wait_for(lambda: emulator.waiting_grabs(SERIAL1) == 1)
    assert emulator.hardware_trigger(SERIAL1) is True
    thread.join(5)
    assert result["rc"] == SUCCESS


def test_free_run_mode_loses_frames_nobody_waits_for(pxl_api: Any, emulator: EmulatorControl) -> None:
    h = open_camera(pxl_api)
    configure(pxl_api, h, (0, 0, 64, 64))
    assert set_feature(pxl_api, h, FRAME_RATE, [100.0]) == SUCCESS
    assert set_feature(pxl_api, h, EXPOSURE, [0.001]) == SUCCESS  # period 1/100 s
    assert emulator.command("freerun 1") == "ok"
    assert pxl_api.setStreamState(h, START)[0] == SUCCESS
    first = grab(pxl_api, h, 64, 64)[1]
    time.sleep(0.1)  # ~10 frame periods
    second = grab(pxl_api, h, 64, 64)[1]
    assert second.uFrameNumber - first.uFrameNumber >= 10
    assert second.dFrameTime - first.dFrameTime == pytest.approx((second.uFrameNumber - first.uFrameNumber) / 100)
    assert second.ActualFrameRate.fValue == pytest.approx(100.0)
    emulator.set_free_run(False)
    third = grab(pxl_api, h, 64, 64)[1]
    time.sleep(0.1)
    assert grab(pxl_api, h, 64, 64)[1].uFrameNumber == third.uFrameNumber + 1  # default: no loss


# ------------------------------------------------------------------------------------------- triggering (issue 13)

THIS_EVENT_NOT_SUPPORTED = -1879048149
GPI_HW_TRIGGER_CONFLICT = -1879048162
GPIO_CONFIGURATION_ERROR = -1879048161
GPO_ONLY = -1879048146
GPIO, BODY_TEMPERATURE = 17, 32
SOFTWARE, HARDWARE = 1, 2
NEGATIVE, POSITIVE = 0, 1  # rising edge, falling edge (FEATURES.md 11.4)
EV_ANY, EV_DISCONNECTED, EV_RISING, EV_FALLING, EV_GPI_RISING, EV_GPI_FALLING, EV_MISSED, EV_SKIPPED = (
    0,
    1,
    2,
    3,
    4,
    5,
    6,
    9,
)
GPIO_STROBE, GPIO_NORMAL, GPIO_PULSE, GPIO_INPUT, GPIO_HW_TRIGGER = 0, 1, 2, 5, 9


class _Events:
    """Event callbacks through the wrapper's prototype, recorded as (handle, id, timestamp, data bytes)."""

    def __init__(self, api: Any) -> None:
        self.api = api
        self.seen: list[tuple[int, int, float, bytes]] = []
        self.threads: set[int] = set()

        @api._eventProcessFunction
        def on_event(h_camera, event_id, timestamp, num_bytes, data, context):  # type: ignore[no-untyped-def]
            payload = bytes(data[:num_bytes]) if data else b""
            self.threads.add(threading.get_ident())
            self.seen.append((h_camera, event_id, timestamp, payload))
            return 0

        self.fn = on_event

    def register(self, h: int, event_id: int) -> int:
        return self.api.setEventCallback(h, event_id, None, self.fn)[0]

    def ids(self) -> list[int]:
        return [e[1] for e in self.seen]


class _Grabber:
    """A thread that grabs frames until told to stop (or the stream stops): the descriptors and codes."""

    def __init__(self, api: Any, h: int, shape: tuple[int, int] = (64, 64)) -> None:
        self.descs: list[Any] = []
        self.codes: list[int] = []
        self.stop = threading.Event()

        def run() -> None:
            buf = np.zeros(shape, np.uint8)
            while not self.stop.is_set():
                ret = api.getNextNumPyFrame(h, buf)
                self.codes.append(ret[0])
                if ret[0] == SUCCESS:
                    self.descs.append(ret[1])
                    assert stamp(buf) == ret[1].uFrameNumber
                elif ret[0] != CAMERA_TIMEOUT:
                    return

        self.thread = threading.Thread(target=run, daemon=True)
        self.thread.start()


def hw_camera(
    api: Any, polarity: int = NEGATIVE, mode: int = 0, delay: float = 0.0, param: float = 0, exposure: float = 0.001
) -> int:
    """Camera 1, 64 x 64, TRIGGER on with type HARDWARE, streaming."""
    h = open_camera(api)
    configure(api, h, (0, 0, 64, 64))
    assert set_feature(api, h, EXPOSURE, [exposure]) == SUCCESS
    assert set_feature(api, h, TRIGGER, [mode, HARDWARE, polarity, delay, param]) == SUCCESS
    assert api.setStreamState(h, START)[0] == SUCCESS
    return h


def test_trigger_settings_modes_types_and_stream_rule(pxl_api: Any) -> None:
    h = open_camera(pxl_api)
    feature = pxl_api.getCameraFeatures(h, TRIGGER)[1].Features[0]
    assert _params(feature) == [(0, 14), (0, 2), (0, 1), (0, 10), (0, 1000)]  # TYPE: free, software, hardware
    flags, params = pxl_api.getFeature(h, TRIGGER)[1:]
    assert flags & OFF and params == [0, 0, 0, 0, 0]
    for mode in (2, 3, 5):  # found by trial set, like the GUI does
        assert set_feature(pxl_api, h, TRIGGER, [mode, SOFTWARE, 0, 0, 0]) == INVALID_PARAMETER
    assert set_feature(pxl_api, h, TRIGGER, [0, 3, 0, 0, 0]) == OUT_OF_RANGE  # no actions on this camera
    assert set_feature(pxl_api, h, TRIGGER, [14, HARDWARE, POSITIVE, 0.002, 2.6]) == PARAMETERS_CHANGED
    flags, params = pxl_api.getFeature(h, TRIGGER)[1:]
    assert flags & MANUAL and params == [14, HARDWARE, POSITIVE, pytest.approx(0.002), 3]
    assert set_feature(pxl_api, h, TRIGGER, params, OFF) == SUCCESS
    assert get_params(pxl_api, h, TRIGGER) == [0, 0, 0, 0, 0]  # OFF reads the defaults (FEATURES.md 1)
    assert pxl_api.setStreamState(h, START)[0] == SUCCESS
    assert set_feature(pxl_api, h, TRIGGER, [0, SOFTWARE, 0, 0, 0]) == NOT_PERMITTED_WHILE_STREAMING


def test_software_trigger_each_grab_is_one_triggered_frame(pxl_api: Any, emulator: EmulatorControl) -> None:
    h = open_camera(pxl_api)
    configure(pxl_api, h, (0, 0, 64, 64))
    assert set_feature(pxl_api, h, EXPOSURE, [0.004]) == SUCCESS
    assert set_feature(pxl_api, h, TRIGGER, [0, SOFTWARE, 0, 0.01, 0]) == SUCCESS
    assert pxl_api.setStreamState(h, START)[0] == SUCCESS
    descs = []
    for _ in range(8):
        started = time.monotonic()
        descs.append(grab(pxl_api, h, 64, 64)[1])
        assert time.monotonic() - started >= 0.014  # delay + exposure
    assert emulator.trigger_counts(SERIAL1) == (8, 0, 0)
    numbers = [d.uFrameNumber for d in descs]
    assert numbers == list(range(numbers[0], numbers[0] + 8))
    times = [d.dFrameTime for d in descs]
    assert all(b - a >= 0.014 for a, b in itertools.pairwise(times))
    d = descs[0]
    assert (d.Trigger.fMode, d.Trigger.fType, d.Trigger.fDelay) == (0, SOFTWARE, pytest.approx(0.01))
    assert d.fFrameTime == pytest.approx(d.dFrameTime, abs=1e-3)
    assert d.dFrameTime <= pxl_api.getCurrentTimestamp(h)[1]  # the camera clock


def test_software_trigger_only_sends_the_image_to_the_frame_callback(pxl_api: Any, emulator: EmulatorControl) -> None:
    h = open_camera(pxl_api)
    configure(pxl_api, h, (0, 0, 64, 64))
    assert set_feature(pxl_api, h, EXPOSURE, [0.05]) == SUCCESS
    assert set_feature(pxl_api, h, TRIGGER, [0, SOFTWARE, 0, 0, 0]) == SUCCESS
    got: list[tuple[int, int, int, int, int]] = []

    @pxl_api._dataProcessFunction
    def on_frame(h_camera, data, data_format, desc, context):  # type: ignore[no-untyped-def]
        d = desc.contents
        number = struct.unpack("<I", bytes(data[:4]))[0]
        got.append((h_camera, data_format, d.uFrameNumber, number, threading.get_ident()))
        return 0

    assert pxl_api.setCallback(h, pxl_api.Callback.PREVIEW, None, on_frame) == (NOT_SUPPORTED,)
    assert pxl_api.setCallback(h, pxl_api.Callback.FRAME, None, on_frame) == (SUCCESS,)
    assert pxl_api.setStreamState(h, START)[0] == SUCCESS
    for _ in range(3):
        started = time.monotonic()
        ret = pxl_api.getNextFrame(h, None)  # fires a software trigger and returns at once (FEATURES.md 11.3)
        assert ret[0] == SUCCESS and ret[1].Shutter.fValue == 0.0  # descriptor untouched
        assert time.monotonic() - started < 0.05
    assert wait_for(lambda: len(got) == 3)
    assert [g[2] for g in got] == [g[3] for g in got] == [1, 2, 3]  # data and descriptor of each frame
    assert {g[0] for g in got} == {h} and {g[1] for g in got} == {MONO8}
    assert threading.get_ident() not in {g[4] for g in got}  # an API thread
    assert pxl_api.setCallback(h, pxl_api.Callback.FRAME, None, None) == (SUCCESS,)
    assert pxl_api.getNextFrame(h, None)[0] == SUCCESS  # nobody takes this one: lost, never called back
    assert wait_for(lambda: emulator.trigger_counts(SERIAL1) == (4, 0, 1))
    assert len(got) == 3


def test_hardware_trigger_burst_gives_one_frame_per_trigger(pxl_api: Any, emulator: EmulatorControl) -> None:
    h = hw_camera(pxl_api, NEGATIVE, delay=0.002)
    events = _Events(pxl_api)
    assert events.register(h, EV_ANY) == SUCCESS
    grabber = _Grabber(pxl_api, h)
    assert wait_for(lambda: emulator.waiting_grabs(SERIAL1) == 1)
    count, period = 12, 0.025
    emulator.trigger_burst(SERIAL1, count, period)
    assert wait_for(lambda: emulator.trigger_counts(SERIAL1)[0] == count)
    assert wait_for(lambda: len(grabber.descs) + emulator.trigger_counts(SERIAL1)[2] == count)
    accepted, missed, skipped = emulator.trigger_counts(SERIAL1)
    assert (accepted, missed) == (count, 0)
    assert pxl_api.setStreamState(h, STOP)[0] == SUCCESS  # wakes the grabber
    grabber.thread.join(5)
    assert grabber.codes[-1] == STREAM_STOPPED
    descs = grabber.descs
    numbers = [d.uFrameNumber for d in descs]
    assert numbers[-1] - numbers[0] + 1 == len(descs) + skipped  # gaps are exactly the skipped frames
    assert all(b > a for a, b in itertools.pairwise(numbers))
    for a, b in itertools.pairwise(descs):  # the camera clock: one trigger period per frame number
        assert b.dFrameTime - a.dFrameTime == pytest.approx(period * (b.uFrameNumber - a.uFrameNumber), abs=1e-6)
    assert all((d.Trigger.fType, d.Trigger.fPolarity) == (HARDWARE, NEGATIVE) for d in descs)
    # events: rising/falling edges alternate, in time order; each frame 2 ms + 1 ms after its rising edge
    assert wait_for(lambda: events.ids().count(EV_FALLING) == count)
    edges = [e for e in events.seen if e[1] in (EV_RISING, EV_FALLING)]
    assert [e[1] for e in edges] == [EV_RISING, EV_FALLING] * count
    assert all(b[2] >= a[2] for a, b in itertools.pairwise(events.seen))
    rising = [e[2] for e in edges if e[1] == EV_RISING]
    first = numbers[0] - 1  # frames are numbered from 1 after power-up, one per trigger
    for d in descs:
        assert d.dFrameTime == pytest.approx(rising[d.uFrameNumber - 1 - first] + 0.003, abs=1e-6)
    lost = lambda: sum(struct.unpack("<I", e[3])[0] for e in events.seen if e[1] == EV_SKIPPED)  # noqa: E731
    assert wait_for(lambda: lost() == skipped)  # every lost frame reported (normally none: the grabber keeps up)
    assert {e[0] for e in events.seen} == {h} and threading.get_ident() not in events.threads


def test_trigger_during_readout_is_missed_once_and_gives_no_frame(pxl_api: Any, emulator: EmulatorControl) -> None:
    h = hw_camera(pxl_api, NEGATIVE, exposure=0.2)
    events = _Events(pxl_api)
    for event_id in (EV_MISSED, EV_SKIPPED):
        assert events.register(h, event_id) == SUCCESS
    emulator.set_trigger_timeout(SERIAL1, 0.5)
    grabber = _Grabber(pxl_api, h)
    assert wait_for(lambda: emulator.waiting_grabs(SERIAL1) == 1)
    assert emulator.trigger_pulse(SERIAL1) == 1  # TRIGGER_ACCEPTED: a 200 ms exposure starts
    assert emulator.trigger_edge(SERIAL1, "rising") == 2  # TRIGGER_MISSED: still exposing
    assert emulator.trigger_edge(SERIAL1, "falling") == 0  # not the active edge
    assert wait_for(lambda: len(grabber.descs) == 1)
    assert wait_for(lambda: CAMERA_TIMEOUT in grabber.codes)  # no second frame within the trigger timeout
    assert len(grabber.descs) == 1 and emulator.trigger_counts(SERIAL1) == (1, 1, 0)
    assert events.ids() == [EV_MISSED]
    assert grabber.descs[0].dFrameTime - 0.2 < events.seen[0][2] < grabber.descs[0].dFrameTime
    grabber.stop.set()
    assert pxl_api.setStreamState(h, STOP)[0] == SUCCESS
    grabber.thread.join(5)


def test_polarity_delay_pulse_width_and_frames_per_trigger(pxl_api: Any, emulator: EmulatorControl) -> None:
    h = hw_camera(pxl_api, POSITIVE, mode=14, delay=0.004, param=3)
    grabber = _Grabber(pxl_api, h)
    assert wait_for(lambda: emulator.waiting_grabs(SERIAL1) == 1)
    assert emulator.trigger_edge(SERIAL1, "rising") == 0  # Positive triggers on the falling edge
    assert emulator.trigger_edge(SERIAL1, "falling") == 1
    assert emulator.trigger_edge(SERIAL1, "rising") == 0
    assert wait_for(lambda: len(grabber.descs) == 3)  # mode 14: PARAMETER frames per trigger
    descs = grabber.descs
    assert [d.TriggerNumber.fValue for d in descs] == [0, 1, 2]
    assert [d.uFrameNumber for d in descs] == [1, 2, 3]
    period = 1 / descs[0].ActualFrameRate.fValue
    assert descs[1].dFrameTime - descs[0].dFrameTime == pytest.approx(period, rel=1e-4)
    d = descs[0]
    assert (d.Trigger.fMode, d.Trigger.fType, d.Trigger.fPolarity, d.Trigger.fParameter) == (14, 2, 1, 3)
    assert d.Trigger.fDelay == pytest.approx(0.004)
    grabber.stop.set()
    assert pxl_api.setStreamState(h, STOP)[0] == SUCCESS
    grabber.thread.join(5)
    # mode 1: the exposure lasts from the active edge to the trailing one
    assert set_feature(pxl_api, h, TRIGGER, [1, HARDWARE, NEGATIVE, 0, 0]) == SUCCESS
    assert pxl_api.setStreamState(h, START)[0] == SUCCESS
    grabber = _Grabber(pxl_api, h)
    assert wait_for(lambda: emulator.waiting_grabs(SERIAL1) == 1)
    assert emulator.trigger_edge(SERIAL1, "falling") == 0  # the line is still high from above
    assert emulator.trigger_pulse(SERIAL1, 0.03) == 1
    assert wait_for(lambda: len(grabber.descs) == 1)
    assert grabber.descs[0].Shutter.fValue == pytest.approx(0.03, abs=0.01)
    grabber.stop.set()
    assert pxl_api.setStreamState(h, STOP)[0] == SUCCESS
    grabber.thread.join(5)


def test_blocked_hardware_trigger_grab_wakes_on_stop_unplug_and_times_out(
    pxl_api: Any, emulator: EmulatorControl
) -> None:
    h = hw_camera(pxl_api)
    emulator.set_trigger_timeout(SERIAL1, 0)  # wait forever
    thread, result = _grab_in_thread(pxl_api, h, (64, 64))
    assert wait_for(lambda: emulator.waiting_grabs(SERIAL1) == 1)
    assert pxl_api.setStreamState(h, STOP)[0] == SUCCESS
    thread.join(5)
    assert result["rc"] == STREAM_STOPPED
    assert pxl_api.setStreamState(h, START)[0] == SUCCESS
    emulator.set_trigger_timeout(SERIAL1, 0.2)
    started = time.monotonic()
    assert pxl_api.getNextNumPyFrame(h, np.zeros((64, 64), np.uint8))[0] == CAMERA_TIMEOUT
    assert time.monotonic() - started >= 0.2
    assert b"no triggered frame" in pxl_api.getErrorReport(h)[1].strReport
    emulator.set_trigger_timeout(SERIAL1, 0)
    events = _Events(pxl_api)
    assert events.register(h, EV_DISCONNECTED) == SUCCESS
    thread, result = _grab_in_thread(pxl_api, h, (64, 64))
    assert wait_for(lambda: emulator.waiting_grabs(SERIAL1) == 1)
    emulator.unplug(SERIAL1)
    thread.join(5)
    assert result["rc"] == NO_CAMERA
    assert wait_for(lambda: events.ids() == [EV_DISCONNECTED])
    assert 0 < events.seen[0][2] <= 60  # camera clock
    assert pxl_api.uninitialize(h) == (SUCCESS,)


def test_event_registration_order_and_cancel(pxl_api: Any, emulator: EmulatorControl) -> None:
    h = open_camera(pxl_api)
    monitor = pxl_api.initialize(SERIAL1, pxl_api.InitializeExFlags.MONITOR_ACCESS_ONLY)[1]
    mine, sentinel = _Events(pxl_api), _Events(pxl_api)
    assert mine.register(h, 7) == THIS_EVENT_NOT_SUPPORTED  # PTP synchronisation: PL-X only
    assert mine.register(h, 11) == INVALID_PARAMETER
    assert set_feature(pxl_api, h, GPIO, [1, GPIO_INPUT, 0]) == SUCCESS
    assert mine.register(h, EV_GPI_RISING) == SUCCESS
    assert mine.register(h, EV_ANY) == SUCCESS
    assert sentinel.register(monitor, EV_ANY) == SUCCESS
    for level in (1, 0, 1, 0):
        assert emulator.set_gpi(SERIAL1, level) == 0
    assert wait_for(lambda: len(sentinel.seen) == 4)
    assert sentinel.ids() == [EV_GPI_RISING, EV_GPI_FALLING] * 2
    assert mine.ids() == [EV_GPI_RISING, EV_GPI_FALLING] * 2  # own id, else ANY: each once
    assert [e[0] for e in mine.seen] == [h] * 4 and [e[0] for e in sentinel.seen] == [monitor] * 4
    assert all(b[2] > a[2] for a, b in itertools.pairwise(sentinel.seen))
    assert pxl_api.setEventCallback(h, EV_ANY, None, None) == (SUCCESS,)  # cancels ANY and the GPI_RISING one
    emulator.set_gpi(SERIAL1, 1)
    assert wait_for(lambda: len(sentinel.seen) == 5)
    assert len(mine.seen) == 4
    assert mine.register(h, EV_GPI_FALLING) == SUCCESS
    assert pxl_api.uninitialize(monitor) == (SUCCESS,)  # none of its callbacks after this returns
    emulator.set_gpi(SERIAL1, 0)
    assert wait_for(lambda: len(mine.seen) == 5)
    assert len(sentinel.seen) == 5
    # FRAMES_SKIPPED carries the number of frames lost (4 bytes)
    assert mine.register(h, EV_SKIPPED) == SUCCESS
    configure(pxl_api, h, (0, 0, 64, 64))
    assert set_feature(pxl_api, h, EXPOSURE, [0.001]) == SUCCESS
    assert pxl_api.setStreamState(h, START)[0] == SUCCESS
    first = grab(pxl_api, h, 64, 64)[1].uFrameNumber
    emulator.drop_frames(SERIAL1, 3)
    assert grab(pxl_api, h, 64, 64)[1].uFrameNumber == first + 4
    assert wait_for(lambda: mine.ids()[-1] == EV_SKIPPED)
    assert struct.unpack("<I", mine.seen[-1][3])[0] == 3


def test_gpio_lines_modes_validation_and_input(pxl_api: Any, emulator: EmulatorControl) -> None:
    h = open_camera(pxl_api)
    feature = pxl_api.getCameraFeatures(h, GPIO)[1].Features[0]
    assert feature.uFlags & (PRESENCE | MANUAL | OFF) == PRESENCE | MANUAL | OFF
    assert _params(feature) == [(1, 2), (0, 5), (0, 1), (0, 1000), (0, 10), (0, 10)]  # 2 lines, modes 0-5
    assert pxl_api.getFeature(h, GPIO)[0] == INVALID_PARAMETER  # the wrapper's default index 0 is no line
    flags, params = pxl_api.getFeature(h, GPIO, [2])[1:]
    assert flags & OFF and params[0] == 2
    assert set_feature(pxl_api, h, GPIO, [2, GPIO_NORMAL, 1]) == SUCCESS  # NORMAL: level = polarity
    assert emulator.gpo(SERIAL1, 2) == (1, 0)
    assert set_feature(pxl_api, h, GPIO, [2, GPIO_NORMAL, 0]) == SUCCESS
    assert emulator.gpo(SERIAL1, 2)[0] == 0
    assert set_feature(pxl_api, h, GPIO, [2, GPIO_INPUT, 0]) == GPO_ONLY  # only GPIO 1 is an input
    assert set_feature(pxl_api, h, GPIO, [3, GPIO_NORMAL, 0]) == OUT_OF_RANGE
    assert set_feature(pxl_api, h, GPIO, [2, 6, 0]) == OUT_OF_RANGE
    assert set_feature(pxl_api, h, GPIO, [2, GPIO_PULSE, 1, 0, 0.01, 0.02]) == GPIO_CONFIGURATION_ERROR
    # PULSE: NUMBER pulses of DURATION every INTERVAL, from the set on, without frames
    assert set_feature(pxl_api, h, GPIO, [2, GPIO_PULSE, 1, 3, 0.005, 0.01]) == SUCCESS
    assert wait_for(lambda: emulator.gpo(SERIAL1, 2) == (0, 3))
    assert pxl_api.getFeature(h, GPIO, [2])[2] == [2, GPIO_PULSE, 1, 3, pytest.approx(0.005), pytest.approx(0.01)]
    # STROBE: one pulse per exposure; the descriptor carries each line's setting
    assert set_feature(pxl_api, h, GPIO, [2, GPIO_STROBE, 1, 0, 0.001, 0]) == SUCCESS
    configure(pxl_api, h, (0, 0, 64, 64))
    assert pxl_api.setStreamState(h, START)[0] == SUCCESS
    desc = grab_until(pxl_api, h, (64, 64), lambda: emulator.gpo(SERIAL1, 2)[1] >= 3)[-1]
    assert (desc.GPIO.fMode[1], desc.GPIO.fPolarity[1], desc.GPIO.fParameter2[1]) == (0, 1, pytest.approx(0.001))
    assert set_feature(pxl_api, h, GPIO, [2], OFF) == SUCCESS
    assert pxl_api.getFeature(h, GPIO, [2])[1] & OFF and emulator.gpo(SERIAL1, 2) == (0, 0)
    # INPUT on GPIO 1: STATUS in params[3], edges as GPI events
    assert set_feature(pxl_api, h, GPIO, [1, GPIO_INPUT, 0]) == SUCCESS
    assert pxl_api.getFeature(h, GPIO, [1])[2][3] == 0
    assert emulator.command(f"gpi {SERIAL1} 1") == "0"
    assert pxl_api.getFeature(h, GPIO, [1])[2][3] == 1
    assert emulator.gpo(SERIAL1, 1) == (1, 0)
    # GPIO 1 is the trigger input while the hardware trigger is on: mode HARDWARE_TRIGGER, read-only
    assert pxl_api.setStreamState(h, STOP)[0] == SUCCESS
    assert set_feature(pxl_api, h, TRIGGER, [0, HARDWARE, 0, 0, 0]) == SUCCESS
    flags, params = pxl_api.getFeature(h, GPIO, [1])[1:]
    assert flags & MANUAL and params[1] == GPIO_HW_TRIGGER
    assert set_feature(pxl_api, h, GPIO, [1, GPIO_INPUT, 0]) == GPI_HW_TRIGGER_CONFLICT
    assert set_feature(pxl_api, h, TRIGGER, [0, HARDWARE, 0, 0, 0], OFF) == SUCCESS
    assert pxl_api.getFeature(h, GPIO, [1])[2][1] == GPIO_INPUT  # its own setting is back


def test_temperatures_read_only_and_set_for_tests(pxl_api: Any, emulator: EmulatorControl) -> None:
    h = open_camera(pxl_api)
    for feature_id, factory in ((TEMPERATURE, 40.0), (BODY_TEMPERATURE, 45.0)):
        feature = pxl_api.getCameraFeatures(h, feature_id)[1].Features[0]
        assert feature.uFlags & (PRESENCE | READ_ONLY) == PRESENCE | READ_ONLY
        assert get_params(pxl_api, h, feature_id) == [factory]
        assert set_feature(pxl_api, h, feature_id, [20.0]) == NOT_SUPPORTED
    emulator.set_temperature(SERIAL1, 51.3, 60.8)
    assert get_params(pxl_api, h, TEMPERATURE) == [51.5] and get_params(pxl_api, h, BODY_TEMPERATURE) == [61.0]
    assert emulator.command(f"temperature {SERIAL1} -5") == "ok"
    assert get_params(pxl_api, h, TEMPERATURE) == [-5.0] and get_params(pxl_api, h, BODY_TEMPERATURE) == [61.0]
    configure(pxl_api, h, (0, 0, 64, 64))
    assert pxl_api.setStreamState(h, START)[0] == SUCCESS
    assert grab(pxl_api, h, 64, 64)[1].Temperature.fValue == -5.0


def test_frame_callback_while_free_running_and_cancel(pxl_api: Any, emulator: EmulatorControl) -> None:
    h = open_camera(pxl_api)
    configure(pxl_api, h, (0, 0, 64, 64))
    assert set_feature(pxl_api, h, FRAME_RATE, [50.0]) == SUCCESS  # exposure 10 ms: MONO8 == pattern
    got: list[tuple[int, float, int, bool]] = []

    @pxl_api._dataProcessFunction
    def on_frame(h_camera, data, data_format, desc, context):  # type: ignore[no-untyped-def]
        d = desc.contents
        pixels = np.ctypeslib.as_array(data, shape=(64 * 64,))
        same = np.array_equal(pixels[4:], pattern(0, 0, 64, 64, d.uFrameNumber).reshape(-1)[4:])
        got.append((d.uFrameNumber, d.dFrameTime, struct.unpack("<I", pixels[:4].tobytes())[0], same))
        return 0

    assert pxl_api.setCallback(h, pxl_api.Callback.FRAME, None, on_frame) == (SUCCESS,)
    assert pxl_api.setStreamState(h, START)[0] == SUCCESS
    assert wait_for(lambda: len(got) >= 5)
    frames = got[:5]
    assert [f[2] for f in frames] == [f[0] for f in frames] and all(f[3] for f in frames)
    for a, b in itertools.pairwise(frames):  # every period, numbers consecutive unless the callback was late
        assert b[1] - a[1] == pytest.approx(0.02 * (b[0] - a[0]), abs=1e-6)
    # getNextFrame still works next to it (the emulator hands both every frame; the vendor says not to combine)
    assert grab(pxl_api, h, 64, 64)[1].uFrameNumber > frames[0][0]
    assert pxl_api.setCallback(h, pxl_api.Callback.FRAME, None, None) == (SUCCESS,)
    after_cancel = len(got)
    last = grab(pxl_api, h, 64, 64)[1].uFrameNumber
    assert grab(pxl_api, h, 64, 64)[1].uFrameNumber > last
    assert len(got) == after_cancel  # never called after the cancel returned


def test_control_socket_trigger_commands(emulator: EmulatorControl, pxl_api: Any) -> None:
    h = hw_camera(pxl_api, exposure=0.5)
    assert emulator.command(f"trigger {SERIAL1} rising") == "1"
    assert emulator.command(f"trigger {SERIAL1} falling") == "0"
    assert emulator.command(f"trigger {SERIAL1} pulse 0.001") == "2"  # still exposing: missed
    assert emulator.command(f"trigger {SERIAL1} sideways").startswith("err")
    assert emulator.command(f"trigger {SERIAL1} pulse 5").startswith("err")
    assert emulator.command(f"triggers {SERIAL1} 0 0.01") == "ok"
    assert emulator.command(f"triggers {SERIAL1} 3 0").startswith("err")
    assert emulator.command(f"gpo {SERIAL1} 3").startswith("err")
    assert emulator.command(f"trigtimeout {SERIAL1} -1").startswith("err")
    assert emulator.command(f"waiting {SERIAL1}") == "0"
    assert emulator.command(f"input {SERIAL1} 2").startswith("err")
    accepted, missed, _ = (int(v) for v in emulator.command(f"trigstats {SERIAL1}").split())
    assert (accepted, missed) == (1, 1)
    assert pxl_api.uninitialize(h) == (SUCCESS,)


# ------------------------------------------------------------------------------------------- disconnects


def test_unplug_wakes_a_blocked_grab_and_fails_calls(pxl_api: Any, emulator: EmulatorControl) -> None:
    h = open_camera(pxl_api)
    configure(pxl_api, h, (0, 0, 64, 64))
    assert set_feature(pxl_api, h, EXPOSURE, [10.0]) == SUCCESS
    events: list[tuple[int, int]] = []

    @pxl_api._eventProcessFunction
    def on_event(h_camera, event_id, timestamp, num_bytes, data, context):  # type: ignore[no-untyped-def]
        events.append((h_camera, event_id))
        return 0

    assert pxl_api.setEventCallback(h, pxl_api.EventId.CAMERA_DISCONNECTED, None, on_event) == (SUCCESS,)
    assert pxl_api.setStreamState(h, START)[0] == SUCCESS
    thread, result = _grab_in_thread(pxl_api, h, (64, 64))
    time.sleep(0.2)
    started = time.monotonic()
    emulator.unplug(SERIAL1)
    thread.join(5)
    assert not thread.is_alive() and result["rc"] == NO_CAMERA
    assert time.monotonic() - started < 5
    assert wait_for(lambda: events == [(h, pxl_api.EventId.CAMERA_DISCONNECTED)])  # on the camera's thread
    assert pxl_api.getNextNumPyFrame(h, np.zeros((64, 64), np.uint8))[0] == NO_CAMERA
    assert pxl_api.getFeature(h, EXPOSURE) == (NO_CAMERA,)
    assert set_feature(pxl_api, h, EXPOSURE, [0.01]) == NO_CAMERA
    assert pxl_api.setStreamState(h, START) == (NO_CAMERA,)
    report = pxl_api.getErrorReport(h)[1]  # still answers: says why
    assert report.uReturnCode == NO_CAMERA and b"disconnected" in report.strReport
    assert [c.CameraSerialNum for c in pxl_api.getNumberCameras()[1]] == [SERIAL2]
    assert pxl_api.initialize(SERIAL1) == (NO_CAMERA,)
    assert emulator.open_handles() == 1
    assert pxl_api.uninitialize(h) == (SUCCESS,)  # cleaning up a dead handle works
    assert emulator.open_handles() == 0


def test_replug_invalidates_old_handles_and_restores_power_up_settings(pxl_api: Any, emulator: EmulatorControl) -> None:
    h = open_camera(pxl_api)
    assert set_feature(pxl_api, h, EXPOSURE, [0.5]) == SUCCESS
    assert pxl_api.setStreamState(h, START)[0] == SUCCESS
    grab(pxl_api, h, DEFAULT_WIDTH, DEFAULT_HEIGHT)
    emulator.unplug(SERIAL1)
    emulator.replug(SERIAL1)
    assert pxl_api.getFeature(h, EXPOSURE) == (INVALID_HANDLE,)
    assert pxl_api.getNextNumPyFrame(h, np.zeros((8, 8), np.uint8)) == (INVALID_HANDLE,)
    assert (emulator.open_handles(), emulator.stale_handles()) == (0, 1)
    assert pxl_api.uninitialize(h) == (INVALID_HANDLE,)  # ... which also releases it
    assert emulator.stale_handles() == 0
    assert [c.CameraSerialNum for c in pxl_api.getNumberCameras()[1]] == [SERIAL1, SERIAL2]
    h2 = open_camera(pxl_api)
    assert h2 != h
    assert get_params(pxl_api, h2, EXPOSURE)[0] == pytest.approx(0.01)  # factory value after power-up
    assert pxl_api.getStreamState(h2)[1] == STOP
    # user settings saved to the camera survive a power cycle
    assert set_feature(pxl_api, h2, EXPOSURE, [0.05]) == SUCCESS
    assert pxl_api.saveSettings(h2, pxl_api.Settings.SETTINGS_USER) == (SUCCESS,)
    assert pxl_api.saveSettings(h2, pxl_api.Settings.SETTINGS_FACTORY) == (INVALID_PARAMETER,)
    assert set_feature(pxl_api, h2, EXPOSURE, [0.02]) == SUCCESS
    assert pxl_api.loadSettings(h2, pxl_api.Settings.SETTINGS_FACTORY) == (SUCCESS,)
    assert get_params(pxl_api, h2, EXPOSURE)[0] == pytest.approx(0.01)
    assert pxl_api.uninitialize(h2) == (SUCCESS,)
    emulator.set_boot_delay(SERIAL1, 300)
    emulator.unplug(SERIAL1)
    emulator.replug(SERIAL1)
    assert pxl_api.initialize(SERIAL1) == (NO_CAMERA,)  # still booting
    time.sleep(0.35)
    h3 = open_camera(pxl_api)
    assert get_params(pxl_api, h3, EXPOSURE)[0] == pytest.approx(0.05)  # user channel loaded at power-up
    configure(pxl_api, h3, (0, 0, 64, 64))
    assert pxl_api.setStreamState(h3, START)[0] == SUCCESS
    assert set_feature(pxl_api, h3, EXPOSURE, [0.001]) == SUCCESS
    assert grab(pxl_api, h3, 64, 64)[1].uFrameNumber == 1  # counters restart at power-up


# ------------------------------------------------------------------------------------------- fault injection


def test_fail_next_fail_every_latency_and_call_counts(pxl_api: Any, emulator: EmulatorControl) -> None:
    h = open_camera(pxl_api)
    configure(pxl_api, h, (0, 0, 64, 64))
    assert set_feature(pxl_api, h, FRAME_RATE, [], OFF) == SUCCESS
    assert pxl_api.setStreamState(h, START)[0] == SUCCESS
    emulator.reset_counts()
    emulator.fail_next("PxLGetNextFrame", CAMERA_TIMEOUT, 2)
    buf = np.zeros((64, 64), np.uint8)
    rcs = [pxl_api.getNextNumPyFrame(h, buf)[0] for _ in range(3)]
    assert rcs == [CAMERA_TIMEOUT, CAMERA_TIMEOUT, SUCCESS]
    assert emulator.call_count("PxLGetNextFrame") == 3
    report = pxl_api.getErrorReport(h)[1]
    assert report.strFunctionName == b"PxLGetNextFrame" and report.strReturnCode == b"ApiCameraTimeoutError"
    # a success code is returned by a call that succeeds (and still delivers its frame)
    emulator.fail_next("PxLGetNextFrame", FRAME_LOSS)
    rc, desc = pxl_api.getNextNumPyFrame(h, buf)
    assert rc == FRAME_LOSS and desc.uFrameNumber > 0
    emulator.fail_every("PxLGetCurrentTimestamp", CAMERA_TIMEOUT, 3)
    assert [pxl_api.getCurrentTimestamp(h)[0] for _ in range(6)] == [0, 0, CAMERA_TIMEOUT, 0, 0, CAMERA_TIMEOUT]
    emulator.fail_next("PxLInitializeEx", NO_CAMERA)
    assert pxl_api.initialize(SERIAL2) == (NO_CAMERA,)
    assert emulator.call_count("PxLInitializeEx") == 1
    emulator.set_latency("PxLGetFeature", 150_000)
    started = time.monotonic()
    get_params(pxl_api, h, GAIN)  # the wrapper makes two C calls
    assert time.monotonic() - started >= 0.3
    assert emulator.call_count("PxLGetFeature") == 2
    emulator.clear_faults()
    assert [pxl_api.getCurrentTimestamp(h)[0] for _ in range(3)] == [0, 0, 0]
    with pytest.raises(EmulatorError):
        emulator.fail_next("PxLNoSuchFunction", -1)
    with pytest.raises(EmulatorError):
        emulator.unplug(12345)
    assert pxl_api.getCameraXml(h)[0] == NOT_SUPPORTED  # a stub
    assert emulator.call_count("PxLGetCameraXML") == 1


def test_no_handle_leaks_after_many_cycles(pxl_api: Any, emulator: EmulatorControl) -> None:
    handles = set()
    for _ in range(50):
        h = open_camera(pxl_api)
        handles.add(h)
        assert pxl_api.uninitialize(h) == (SUCCESS,)
    assert emulator.open_handles() == 0
    assert len(handles) == 50 and all(0x1000 <= h < 2**31 for h in handles)
    assert emulator.call_count("PxLUninitialize") == 50
    open_camera(pxl_api)
    assert emulator.open_handles() == 1


def test_reset_restores_the_profile(pxl_api: Any, emulator: EmulatorControl) -> None:
    h = open_camera(pxl_api)
    emulator.add_camera(700000003, "PL-SMALL", 640, 480)
    emulator.unplug(SERIAL2)
    assert [c.CameraSerialNum for c in pxl_api.getNumberCameras()[1]] == [SERIAL1, 700000003]
    h3 = open_camera(pxl_api, 700000003)
    assert get_params(pxl_api, h3, ROI) == [0, 0, 640, 480]
    assert pxl_api.getCameraInfo(h3)[1].ModelName == b"PL-SMALL"
    emulator.reset()
    assert pxl_api.getFeature(h, EXPOSURE) == (INVALID_HANDLE,)
    assert [c.CameraSerialNum for c in pxl_api.getNumberCameras()[1]] == [SERIAL1, SERIAL2]
    assert emulator.open_handles() == 0 and emulator.call_count("PxLGetCameraInfoEx") == 0


# ------------------------------------------------------------------------------------------- another process

CHILD = r"""
import sys, time
import numpy as np
from pixelinkWrapper import PxLApi

NO_CAMERA = -2147483640
def say(*words):
    print(*words, flush=True)

serial = int(sys.argv[1])
rc, h = PxLApi.initialize(serial)
assert rc == 0, rc
PxLApi.setFeature(h, PxLApi.FeatureId.ROI, PxLApi.FeatureFlags.MANUAL, [0, 0, 256, 64])
PxLApi.setFeature(h, PxLApi.FeatureId.EXPOSURE, PxLApi.FeatureFlags.MANUAL, [0.1])  # 100 ms
PxLApi.setStreamState(h, 0)
say("ready")
buf = np.zeros((64, 256), np.uint8)
while True:
    ret = PxLApi.getNextNumPyFrame(h, buf)
    say("frame", ret[0], ret[1].uFrameNumber if ret[0] >= 0 else -1)
    if ret[0] == NO_CAMERA:
        break
say("uninit", PxLApi.uninitialize(h)[0])
first = None
deadline = time.monotonic() + 20
while True:
    ret = PxLApi.initialize(serial)
    if ret[0] == 0:
        break
    if first is None:
        first = ret[0]
        say("reinit_failed", first)
    assert time.monotonic() < deadline
    time.sleep(0.02)
h = ret[1]
say("exposure", repr(PxLApi.getFeature(h, PxLApi.FeatureId.EXPOSURE)[2][0]))
say("uninit", PxLApi.uninitialize(h)[0])
say("done")
"""


class _Lines:
    """Lines of a subprocess's stdout, read by a thread, with a timeout per wait."""

    def __init__(self, proc: subprocess.Popen[str]) -> None:
        self.proc = proc
        self.seen: list[str] = []
        self._queue: queue.Queue[str] = queue.Queue()
        threading.Thread(target=self._pump, daemon=True).start()

    def _pump(self) -> None:
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            self._queue.put(line.rstrip("\n"))

    def wait_for(self, predicate: Any, timeout: float = 10.0) -> str:
        deadline = time.monotonic() + timeout
        while True:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise AssertionError(f"timed out; child said {self.seen[-10:]}")
            try:
                line = self._queue.get(timeout=remaining)
            except queue.Empty:
                continue
            self.seen.append(line)
            if predicate(line):
                return line


def test_control_socket_drives_an_emulator_in_another_process(emulator_dir: Path, tmp_path: Path) -> None:
    sock_path = tmp_path / "pxlemu.sock"
    proc = subprocess.Popen(
        [sys.executable, "-c", CHILD, str(SERIAL1)],
        env=emulator_env(emulator_dir, sock_path),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        lines = _Lines(proc)
        with SocketControl(sock_path) as ctl:
            lines.wait_for(lambda s: s == "ready", timeout=30)
            assert ctl.command("ping") == "ok"
            assert ctl.cameras() == [SERIAL1, SERIAL2]
            assert ctl.open_handles() == 1
            assert ctl.command(f"get {SERIAL1} {EXPOSURE} 0") == "0.1"  # the client's 100 ms, in seconds
            assert ctl.feature_value(SERIAL1, ROI, 2) == 256
            assert ctl.stream_state(SERIAL1) == START
            assert ctl.command("frobnicate").startswith("err")
            assert ctl.command("count PxLNoSuchFunction").startswith("err")
            assert ctl.command("unplug 1").startswith("err")
            ctl.fail_next("PxLGetNextFrame", CAMERA_TIMEOUT, 1)
            lines.wait_for(lambda s: s == f"frame {CAMERA_TIMEOUT} -1")
            before = int(lines.wait_for(lambda s: s.startswith("frame 0 ")).split()[2])
            ctl.drop_frames(SERIAL1, 5)
            after = int(lines.wait_for(lambda s: s.startswith("frame 0 ")).split()[2])
            assert after - before == 6
            assert ctl.last_frame_number(SERIAL1) >= after
            assert ctl.call_count("PxLGetNextFrame") >= 3  # the failed one, `before`, `after` (a 4th may be running)
            ctl.unplug(SERIAL1)
            lines.wait_for(lambda s: s == f"frame {NO_CAMERA} -1")
            lines.wait_for(lambda s: s == "uninit 0")
            assert ctl.open_handles() == 0
            assert ctl.cameras() == [SERIAL2]
            assert lines.wait_for(lambda s: s.startswith("reinit_failed")) == f"reinit_failed {NO_CAMERA}"
            ctl.replug(SERIAL1)
            exposure = lines.wait_for(lambda s: s.startswith("exposure"))
            assert float(exposure.split()[1]) == pytest.approx(0.01)  # power-up default again
            lines.wait_for(lambda s: s == "done")
            assert ctl.call_count("PxLInitializeEx") >= 2
            assert proc.wait(timeout=10) == 0  # exits although the control connection is still open
        assert not sock_path.exists()  # the library removed its socket at exit
        assert "WARNING" not in "\n".join(lines.seen)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert proc.stderr is not None and proc.stderr.read() == ""
