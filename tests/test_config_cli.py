"""Configuration and the command line: bad values refused with one clear line; no import side effects."""

from __future__ import annotations

import asyncio
import contextlib
import os
import re
import shutil
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from camera_grpc.config import ConfigurationError, load_settings
from tests.support import FAST_CAMERA, REPO_ROOT, ServiceProcess, closed_port, environment, eventually

REPO = REPO_ROOT
#: The virtual environment the tests run in (make's VENV).
VENV = Path(sys.executable).parent.parent
LOG_LINE = re.compile(r"^\S+ \S+ (?P<level>[A-Z]+) (?P<logger>[\w.]+): (?P<message>.*)$")


def run_cli(*args: str, env: dict[str, str] | None = None, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    """Run ``python -m camera_grpc`` with a clean environment plus ``env``."""
    base = {key: value for key, value in os.environ.items() if key in ("PATH", "HOME", "LANG")}
    return subprocess.run(
        [sys.executable, "-m", "camera_grpc", *args],
        capture_output=True,
        text=True,
        env={**base, **(env or {})},
        cwd=cwd or REPO,
        timeout=60,
    )


def test_legacy_variable_names_are_read_from_a_dotenv_file(tmp_path: Path) -> None:
    env_file = tmp_path / ".env"
    env_file.write_text(
        "HOST=0.0.0.0\nPORT=9001\nDEBUG=True\nCAMERA_SERIAL_NUMBER=700000002\nDEFAULT_EXPOSURE=150\n"
        "DEFAULT_GAIN=1.5\nIMAGE_SAVE_PATH=/srv/caps\nIMAGE_FORMAT=png\nIMAGE_QUALITY=80\n"
        "ALLOWED_ORIGINS=http://a.example:3000, http://b.example\nGRPC_PORT=6000\nCAMERA_BACKEND=simulated\n"
    )
    settings = load_settings(env_file)
    assert (settings.host, settings.port, settings.debug) == ("0.0.0.0", 9001, True)
    assert settings.camera_serial_number == 700000002
    assert (settings.default_exposure, settings.default_gain) == (150.0, 1.5)
    assert (str(settings.image_save_path), settings.image_format, settings.image_quality) == ("/srv/caps", "png", 80)
    assert settings.allowed_origins == ["http://a.example:3000", "http://b.example"]
    assert (settings.grpc_port, settings.camera_backend) == (6000, "simulated")


def test_defaults_bind_to_loopback_only() -> None:
    settings = load_settings(None)
    assert (settings.grpc_host, settings.grpc_port) == ("127.0.0.1", 50051)
    assert (settings.host, settings.port) == ("127.0.0.1", 8001)
    assert settings.camera_serial_number is None  # empty: first camera


@pytest.mark.parametrize(
    ("variable", "value", "expected"),
    [
        ("GRPC_PORT", "70000", "less than or equal to 65535"),
        ("PORT", "http", "valid integer"),
        ("CAMERA_BACKEND", "gpu", "'auto', 'pixelink' or 'simulated'"),
        ("DEFAULT_EXPOSURE", "-5", "positive number of milliseconds"),
        ("DEFAULT_EXPOSURE", "nan", "positive number of milliseconds"),
        ("DEFAULT_GAIN", "inf", "finite number of decibels"),
        ("IMAGE_FORMAT", "gif", "jpg, png, tiff, bmp"),
        ("IMAGE_QUALITY", "0", "greater than or equal to 1"),
        ("CAMERA_SERIAL_NUMBER", "abc", "valid integer"),
    ],
)
def test_a_bad_value_stops_start_up_with_one_line_naming_it(variable: str, value: str, expected: str) -> None:
    with pytest.raises(ConfigurationError) as caught:
        load_settings(None, **{variable.lower(): value})
    assert str(caught.value).count("\n") == 0
    assert str(caught.value).startswith(f"invalid {variable}={value}")
    assert expected in str(caught.value)

    result = run_cli(env={variable: value})
    assert result.returncode == 78
    assert result.stdout == ""
    assert result.stderr.strip().splitlines() == [f"camera-grpc: {caught.value}"]


def test_help_describes_the_command() -> None:
    result = run_cli("--help")
    assert result.returncode == 0
    assert "usage: camera-grpc" in result.stdout
    assert ".env" in result.stdout


def test_importing_the_package_has_no_side_effects(tmp_path: Path) -> None:
    (tmp_path / ".env").write_text("GRPC_PORT=not-a-port\n")  # would fail if anything read it
    code = (
        "import importlib, pkgutil, sys, threading\n"
        "import camera_grpc\n"
        "for module in pkgutil.walk_packages(camera_grpc.__path__, 'camera_grpc.'):\n"
        "    if module.name != 'camera_grpc.__main__':  # python -m camera_grpc: running is its job\n"
        "        importlib.import_module(module.name)\n"
        "assert 'pixelinkWrapper' not in sys.modules, 'SDK wrapper imported'\n"
        "assert threading.active_count() == 1, threading.enumerate()\n"
        "print('clean')\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=tmp_path, timeout=60)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "clean"
    assert list(tmp_path.iterdir()) == [tmp_path / ".env"]  # nothing created (no captures folder)


def test_every_setting_is_documented_in_env_example_and_the_readme() -> None:
    from camera_grpc.config import Settings

    env_example = (REPO / ".env.example").read_text()
    readme = (REPO / "README.md").read_text()
    for name in Settings.model_fields:
        variable = name.upper()
        assert f"\n{variable}=" in env_example, f"{variable} is missing from .env.example"
        assert f"`{variable}`" in readme, f"{variable} is missing from the README's configuration table"


def test_options_work_before_or_after_the_subcommand() -> None:
    target = f"127.0.0.1:{closed_port()}"
    before = run_cli("--target", target, "--timeout", "2", "info")
    after = run_cli("info", "--target", target, "--timeout", "2")
    for result in (before, after):
        assert result.returncode == 1, result.stderr  # the call was made to that target
        assert result.stderr.startswith("camera-grpc: UNAVAILABLE: "), result.stderr
    assert (
        run_cli("--env-file", "/dev/null", "info", "--env-file", "/nonexistent/.env", "--target", target).returncode
        == 1
    )
    misplaced = run_cli("--target", target, "serve")
    assert misplaced.returncode == 2
    assert "--target does not apply to serve" in misplaced.stderr
    assert "--timeout does not apply to gateway" in run_cli("--timeout", "3", "gateway").stderr
    # Credentials are for the client commands (and the gateway's TLS to its service), not ignored elsewhere.
    assert "--token does not apply to token" in run_cli("--token", "t", "token", "add", "x", "viewer").stderr
    assert "--ca does not apply to serve" in run_cli("--ca", "ca.pem", "serve").stderr
    assert "is not HOST:PORT" in run_cli("--target", "nowhere", "info").stderr


def make_command(*args: str) -> list[str]:
    """``make -s ARGS`` on the tests' venv, without (re)installing it (its stamp counts as up to date)."""
    make = shutil.which("make")
    if make is None:
        pytest.skip("make is not installed")
    return [make, "-s", "-o", f"{VENV}/.runtime-installed", *args, f"VENV={VENV}"]


def test_make_run_stops_on_a_bad_setting_with_camera_grpc_s_line_and_status() -> None:
    """make exits 2 whenever a recipe fails (it cannot pass 78 on); it names camera-grpc's status."""
    base = {key: value for key, value in os.environ.items() if key in ("PATH", "HOME", "LANG")}
    result = subprocess.run(
        make_command("run"), cwd=REPO, env={**base, "GRPC_PORT": "x"}, capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 2
    lines = result.stderr.splitlines()
    assert lines[0].startswith("camera-grpc: invalid GRPC_PORT=x"), result.stderr
    assert re.search(r"\[Makefile:\d+: run\] Error 78$", lines[-1]), result.stderr


async def test_stopping_make_run_stops_the_service_gracefully(tmp_path: Path) -> None:
    """SIGTERM to make reaches camera-grpc (the recipe execs it), which shuts down and exits: no orphan."""
    env = {
        **{key: value for key, value in os.environ.items() if key in ("PATH", "HOME", "LANG")},
        **environment(FAST_CAMERA),
        "GRPC_PORT": "0",
        "REST_ENABLED": "false",
        "IMAGE_SAVE_PATH": str(tmp_path / "captures"),
    }
    make = await asyncio.create_subprocess_exec(
        *make_command("run"),
        cwd=REPO,
        env=env,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
        start_new_session=True,  # its own process group: whatever is left is killed below
    )
    assert make.stdout is not None
    try:
        output = b""
        while b"gRPC listening on" not in output:
            line = await asyncio.wait_for(make.stdout.readline(), timeout=30)
            assert line, f"make run ended before the service started:\n{output.decode()}"
            output += line
        make.send_signal(signal.SIGTERM)
        # EOF once every process holding the pipe is gone (a camera-grpc left running would keep it open)
        output += await asyncio.wait_for(make.stdout.read(), timeout=30)
        await asyncio.wait_for(make.wait(), timeout=10)
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(make.pid, signal.SIGKILL)
    log = output.decode()
    assert "camera_grpc.service: shutting down" in log and "camera_grpc.service: stopped" in log, log
    assert "Traceback" not in log


def test_log_lines_name_their_logger_and_uvicorn_s_are_labelled_uvicorn(tmp_path: Path) -> None:
    with ServiceProcess(
        {**environment(FAST_CAMERA), "IMAGE_SAVE_PATH": str(tmp_path / "captures")}, cwd=tmp_path
    ) as process:
        process.wait_listening()
        assert process.stop() == 0
    loggers = {match["logger"] for line in process.lines if (match := LOG_LINE.match(line))}
    assert "uvicorn.error" not in loggers, process.log
    assert {"uvicorn", "camera_grpc.service"} <= loggers, process.log
    assert re.search(r" INFO uvicorn: Application startup complete\.$", process.log, re.MULTILINE), process.log


async def test_a_gateway_alone_logs_each_change_of_its_service_s_reachability_once(tmp_path: Path) -> None:
    port = closed_port()
    target = f"127.0.0.1:{port}"
    service_env = {**environment(FAST_CAMERA), "GRPC_PORT": str(port), "REST_ENABLED": "false"}

    def changes() -> list[str]:
        return [line.split(": ", 1)[1] for line in gateway.lines if f"camera service at {target} is" in line]

    with ServiceProcess({}, cwd=tmp_path, args=("gateway", "--target", target)) as gateway:
        await eventually(lambda: len(changes()) == 1, what="the first state logged")
        with ServiceProcess({**service_env, "IMAGE_SAVE_PATH": str(tmp_path / "captures")}, cwd=tmp_path) as service:
            await asyncio.to_thread(service.wait_listening)
            await eventually(lambda: len(changes()) == 2, what="the service's return logged")
            await asyncio.sleep(2.5)  # a few more checks: nothing new to say
            assert len(changes()) == 2, changes()
        await eventually(lambda: len(changes()) == 3, what="the service's loss logged")
        await asyncio.sleep(2.5)
        assert await asyncio.to_thread(gateway.stop) == 0
    first, back, lost = changes()
    assert first.startswith(f"camera service at {target} is unreachable (UNAVAILABLE: "), first
    assert back == f"camera service at {target} is reachable, camera ready (SERVING)"
    assert lost.startswith(f"camera service at {target} is unreachable (UNAVAILABLE: "), lost
    assert " WARNING camera_grpc: camera service at" in gateway.log
    assert "Traceback" not in gateway.log
