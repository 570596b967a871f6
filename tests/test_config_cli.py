"""Configuration and the command line: bad values refused with one clear line; no import side effects."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from camera_grpc.config import ConfigurationError, load_settings

REPO = Path(__file__).resolve().parents[1]


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
