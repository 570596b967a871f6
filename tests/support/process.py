"""Running the service as a child process, for tests, benchmarks and client test suites.

Not imported by the service itself.
"""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import threading
from pathlib import Path

#: Seconds to wait for the service to log its gRPC address.
START_TIMEOUT_S = 30.0
#: Environment variables passed through from the parent by default.
PASSED_THROUGH = ("PATH", "HOME", "LANG", "LD_LIBRARY_PATH", "PIXELINK_SDK_LIB", "LD_PRELOAD")


class ServiceProcess:
    """``python -m camera_grpc`` as a subprocess on free ports; its log is collected line by line."""

    LISTENING = re.compile(r"gRPC listening on (\S+):(\d+)")

    def __init__(self, env: dict[str, str], cwd: Path, args: tuple[str, ...] = ()) -> None:
        """Start ``python -m camera_grpc`` (.env ignored; gRPC and REST on port 0) with ``env`` added."""
        base = {key: value for key, value in os.environ.items() if key in PASSED_THROUGH}
        self.process = subprocess.Popen(
            [sys.executable, "-m", "camera_grpc", "--env-file", "/dev/null", *args],
            env={"GRPC_PORT": "0", "PORT": "0", **base, **env},
            cwd=cwd,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        self.lines: list[str] = []
        self._port: int | None = None
        self._listening = threading.Event()
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self) -> None:
        assert self.process.stdout is not None
        for line in self.process.stdout:
            self.lines.append(line.rstrip("\n"))
            match = self.LISTENING.search(line)
            if match:
                self._port = int(match.group(2))
                self._listening.set()
        self._listening.set()  # exited

    @property
    def log(self) -> str:
        return "\n".join(self.lines)

    def wait_listening(self, timeout_s: float = START_TIMEOUT_S) -> int:
        """The bound gRPC port, once logged."""
        self._listening.wait(timeout_s)
        if self._port is None:
            raise AssertionError(f"service did not start:\n{self.log}")
        return self._port

    def stop(self, signum: int = signal.SIGTERM, timeout_s: float = 15.0) -> int:
        """Send ``signum`` and return the exit status."""
        if self.process.poll() is None:
            self.process.send_signal(signum)
        try:
            return self.process.wait(timeout_s)
        finally:
            self._reader.join(5)

    def __enter__(self) -> ServiceProcess:
        return self

    def __exit__(self, *exc_info: object) -> None:
        if self.process.poll() is None:
            self.stop()
        self.kill()

    def kill(self) -> None:
        if self.process.poll() is None:
            self.process.kill()
            self.process.wait(10)
