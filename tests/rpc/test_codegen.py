"""Generated code is committed and must match what scripts/gen_protos.sh produces."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

from tests.support import REPO_ROOT

REPO = REPO_ROOT


def run_check(repo: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(repo / "scripts" / "gen_protos.sh"), "--check"],
        capture_output=True,
        text=True,
        env={"PATH": "/usr/bin:/bin", "PYTHON": sys.executable},
        timeout=120,
    )


def test_committed_generated_code_is_up_to_date() -> None:
    result = run_check(REPO)
    assert result.returncode == 0, result.stdout + result.stderr


def test_the_check_detects_a_stale_generated_file(tmp_path: Path) -> None:
    copy = tmp_path / "repo"
    for part in ("scripts", "proto", "camera_grpc/gen"):
        shutil.copytree(REPO / part, copy / part, ignore=shutil.ignore_patterns("__pycache__"))
    stub = copy / "camera_grpc/gen/camera/v1/camera_pb2.pyi"
    stub.write_text(stub.read_text() + "\n# hand edit\n")
    result = run_check(copy)
    assert result.returncode == 1
    assert "stale" in result.stderr


def test_generated_modules_import_by_their_full_package_path() -> None:
    from camera_grpc.gen.camera.v1 import camera_pb2, camera_pb2_grpc

    assert camera_pb2.DESCRIPTOR.package == "camera.v1"
    # The stubs use the very same module object (no second copy under a short name like "camera.v1").
    assert camera_pb2_grpc.camera_dot_v1_dot_camera__pb2 is camera_pb2
    assert "camera.v1" not in sys.modules and "camera" not in sys.modules
