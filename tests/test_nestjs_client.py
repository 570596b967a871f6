"""The NestJS module (clients/nestjs): its generated types are current, it type-checks and builds, and its
Node test suite (node --test) passes against a real service started here.

Node packages come from clients/nestjs/package-lock.json (`npm ci`, run by scripts/setup_test_env.sh).
"""

from __future__ import annotations

import asyncio
import os
import re
import shutil
import subprocess
from pathlib import Path

from tests.support import RunningService

NESTJS = Path(__file__).resolve().parents[1] / "clients" / "nestjs"
NPM_TIMEOUT_S = 300


def npm() -> str:
    found = shutil.which("npm")
    assert found, "npm not found: scripts/setup_test_env.sh installs Node.js and npm (make test runs it)"
    assert (NESTJS / "node_modules").is_dir(), (
        "clients/nestjs/node_modules is missing: run scripts/setup_test_env.sh (npm ci from the lock file)"
    )
    return found


def test_generated_typescript_types_match_the_proto() -> None:
    result = subprocess.run(
        [npm(), "run", "--silent", "generate:check"], cwd=NESTJS, capture_output=True, text=True, timeout=NPM_TIMEOUT_S
    )
    assert result.returncode == 0, result.stdout + result.stderr


async def test_nestjs_module_passes_its_node_tests_against_the_service(service: RunningService) -> None:
    """`npm test` builds (tsc, which type-checks), compiles the tests and runs them with node --test."""
    process = await asyncio.create_subprocess_exec(
        npm(),
        "test",
        cwd=NESTJS,
        env={**os.environ, "CAMERA_GRPC_URL": service.address},
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
    )
    output_bytes, _ = await asyncio.wait_for(process.communicate(), timeout=NPM_TIMEOUT_S)
    output = output_bytes.decode()
    assert process.returncode == 0, output
    passed = re.search(r"^\S* ?pass (\d+)$", output, re.MULTILINE)
    failed = re.search(r"^\S* ?fail (\d+)$", output, re.MULTILINE)
    assert passed and failed, output
    assert int(failed[1]) == 0, output
    assert int(passed[1]) >= 14, output  # every test ran: none skipped or filtered out
    # The service really served them: the Node tests' captures are in its folder.
    assert any(service.captures.glob("capture_*.png")), "no PNG capture from the Node tests"
