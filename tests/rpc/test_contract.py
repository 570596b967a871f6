"""The camera.v1 contract: buf lint (STANDARD), buf format, and buf breaking against the baseline commit and the
latest release tag.

buf is the binary of the PyPI package buf-bin (installed in the venv from requirements-dev.lock).
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.support import REPO_ROOT

REPO = REPO_ROOT
#: The contract every later one must stay compatible with (the first released contract, camera.v1 as of
#: the layout rework). Move it forward only to a commit whose contract clients are known to rely on.
CONTRACT_BASELINE = "69e99145c062b4afd5fa289cda7d78c04dcf72e6"
#: The contract as of the camera-control issue's start (exposure and gain only, plus LiveFrames): the
#: settings, presets and watch APIs were added to it without breaking it.
CAMERA_CONTROL_BASELINE = "f1fbb8c691bc4dc19dc5deae35fce99c96f1295c"


def buf_binary() -> str:
    """The venv's buf (next to this interpreter), else one on PATH."""
    candidate = Path(sys.executable).with_name("buf")
    found = str(candidate) if candidate.exists() else shutil.which("buf")
    assert found, "buf not found: install requirements-dev.lock (make test does)"
    return found


def buf(*args: str, cwd: Path = REPO) -> subprocess.CompletedProcess[str]:
    return subprocess.run([buf_binary(), *args], cwd=cwd, capture_output=True, text=True, timeout=120)


def latest_release_tag() -> str | None:
    """The highest ``v*`` tag (by version order), or None when nothing is tagged."""
    result = subprocess.run(
        ["git", "tag", "--list", "v*", "--sort=-v:refname"], cwd=REPO, capture_output=True, text=True, check=True
    )
    tags = result.stdout.split()
    return tags[0] if tags else None


def test_proto_passes_buf_lint_standard() -> None:
    result = buf("lint")
    assert result.returncode == 0, f"buf lint found problems:\n{result.stdout}{result.stderr}"


def test_proto_is_buf_formatted() -> None:
    result = buf("format", "--diff", "--exit-code")
    assert result.returncode == 0, f"run `buf format -w` (diff below):\n{result.stdout}{result.stderr}"


def test_buf_lint_catches_a_violation(tmp_path: Path) -> None:
    """The lint test can fail: a copy of the module with a badly named field is rejected."""
    shutil.copy(REPO / "buf.yaml", tmp_path / "buf.yaml")
    shutil.copytree(REPO / "proto", tmp_path / "proto")
    proto = tmp_path / "proto" / "camera" / "v1" / "camera.proto"
    proto.write_text(proto.read_text().replace("double exposure_ms = 1;", "double exposureMs = 1;", 1))
    result = buf("lint", cwd=tmp_path)
    assert result.returncode != 0
    assert "should be lower_snake_case" in result.stdout


def git(*args: str, cwd: Path) -> None:
    subprocess.run(
        ["git", "-c", "user.name=test", "-c", "user.email=test@example.invalid", *args],
        cwd=cwd,
        check=True,
        capture_output=True,
    )


def test_buf_breaking_against_a_tag_catches_a_renumbered_field(tmp_path: Path) -> None:
    """The guard works as configured: a tagged copy of the contract, then a wire-incompatible edit."""
    shutil.copy(REPO / "buf.yaml", tmp_path / "buf.yaml")
    shutil.copytree(REPO / "proto", tmp_path / "proto")
    git("init", "-q", cwd=tmp_path)
    git("add", ".", cwd=tmp_path)
    git("commit", "-q", "-m", "release", cwd=tmp_path)
    git("tag", "v1.0.0", cwd=tmp_path)
    assert buf("breaking", "--against", ".git#tag=v1.0.0", cwd=tmp_path).returncode == 0
    proto = tmp_path / "proto" / "camera" / "v1" / "camera.proto"
    proto.write_text(proto.read_text().replace("bool include_image_data = 5;", "bool include_image_data = 15;"))
    result = buf("breaking", "--against", ".git#tag=v1.0.0", cwd=tmp_path)
    assert result.returncode != 0
    assert "include_image_data" in result.stdout


@pytest.mark.parametrize("baseline", [CONTRACT_BASELINE, CAMERA_CONTROL_BASELINE])
def test_contract_has_no_breaking_change_since_the_baseline(baseline: str) -> None:
    """Existing clients keep working: no wire- or source-breaking change since the contract of ``baseline``."""
    present = subprocess.run(["git", "cat-file", "-e", f"{baseline}^{{commit}}"], cwd=REPO, check=False)
    assert present.returncode == 0, f"commit {baseline} is missing: clone the full history (not shallow)"
    result = buf("breaking", "--against", f".git#ref={baseline}")
    assert result.returncode == 0, f"breaking changes against {baseline}:\n{result.stdout}{result.stderr}"


def test_contract_has_no_breaking_change_since_the_latest_release() -> None:
    tag = latest_release_tag()
    if tag is None:
        pytest.skip("no release tag (v*) yet: the baseline commit guards the contract until one is tagged")
    result = buf("breaking", "--against", f".git#tag={tag}")
    assert result.returncode == 0, f"breaking changes against {tag}:\n{result.stdout}{result.stderr}"
