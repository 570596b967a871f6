"""The NestJS module (clients/nestjs) the way an adopter gets it.

- its generated types are current, and its Node test suite (node --test) passes against a real service,
  and its TLS, mutual TLS and token tests against real services with them on (certificates made here);
- ``npm pack`` of a clean checkout is a complete package (dist/ with the .proto files, no source maps
  that point nowhere), with the framework and gRPC libraries as peers only;
- its HTTP error mapping answers exactly what the REST gateway answers, case by case;
- the example app (clients/nestjs/example), installed from that tarball as an adopter would, serves
  the legacy HTTP API against a real service, answers 503 at once while the service is down, ends its
  Server-Sent Events stream with an error event, and recovers when the service comes back; configured
  with a CA, a client certificate and a token, it serves the API from a service with mutual TLS and tokens.

Node packages come from clients/nestjs/package-lock.json (``npm ci``, run by scripts/setup_test_env.sh).
The example has its own package-lock.json; its ``npm ci`` runs here, into a temporary folder (from the
npm cache when it can: ``--prefer-offline``; otherwise the registry).
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import hashlib
import importlib
import itertools
import json
import os
import re
import shutil
import signal
import subprocess
import tarfile
import time
import typing
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import grpc
import httpx
import pytest

from camera_grpc.auth import Role, new_token, token_line
from camera_grpc.gen.camera.v1 import camera_pb2 as pb
from tests.support import FAST_CAMERA, RunningService, ServiceFactory, ServiceProcess, closed_port, environment
from tests.support.certs import CertificateAuthority, TlsFiles, tls_files
from tests.support.seaweedfs import SeaweedFS, seaweedfs_fixture  # noqa: F401  (the seaweedfs fixture)
from tests.test_object_store import s3_overrides, until

REPO = Path(__file__).resolve().parents[1]
NESTJS = REPO / "clients" / "nestjs"
EXAMPLE = NESTJS / "example"
NPM_TIMEOUT_S = 300
#: Tests of the Node suite (node --test): all of them must have run.
NODE_TESTS = 71
#: Peer dependencies: the application's copies are used, never the package's own.
PEERS = ("@nestjs/common", "@nestjs/core", "@nestjs/microservices", "rxjs", "@grpc/grpc-js", "@grpc/proto-loader")


def npm() -> str:
    found = shutil.which("npm")
    assert found, "npm not found: scripts/setup_test_env.sh installs Node.js and npm (make test runs it)"
    assert (NESTJS / "node_modules").is_dir(), (
        "clients/nestjs/node_modules is missing: run scripts/setup_test_env.sh (npm ci from the lock file)"
    )
    return found


def run(args: list[str], cwd: Path, what: str, timeout_s: float = NPM_TIMEOUT_S) -> str:
    result = subprocess.run(args, cwd=cwd, capture_output=True, text=True, timeout=timeout_s)
    assert result.returncode == 0, f"{what} failed ({' '.join(args)} in {cwd}):\n{result.stdout}\n{result.stderr}"
    return result.stdout


def test_generated_typescript_types_match_the_proto() -> None:
    result = subprocess.run(
        [npm(), "run", "--silent", "generate:check"], cwd=NESTJS, capture_output=True, text=True, timeout=NPM_TIMEOUT_S
    )
    assert result.returncode == 0, result.stdout + result.stderr


@dataclass(frozen=True)
class Secured:
    """Certificates (a CA, a server and a client certificate) and tokens, written for a test."""

    files: TlsFiles
    folder: Path  #: ca.pem, client.pem, client-key.pem, other-ca.pem
    tokens_file: Path
    operator: str
    viewer: str

    def settings(self, *, tls: bool = True, mutual: bool = False) -> dict[str, object]:
        """Overrides of a service with tokens, and TLS (mutual TLS) unless ``tls`` is false."""
        tls_settings = self.files.server_settings(mutual=mutual) if tls else {}
        return {**tls_settings, "tokens_file": self.tokens_file, "auth_max_failures": 1000}


@pytest.fixture
def secured(tmp_path: Path) -> Secured:
    folder = tmp_path / "pki"
    files = tls_files(folder)
    CertificateAuthority("another CA").write(folder / "other-ca.pem")
    operator, viewer = new_token(), new_token()
    tokens_file = tmp_path / "tokens"
    tokens_file.write_text(token_line("nest", Role.OPERATOR, operator) + token_line("watcher", Role.VIEWER, viewer))
    return Secured(files, folder, tokens_file, operator, viewer)


@pytest.mark.timeout(NPM_TIMEOUT_S)  # tsc twice and ~70 Node tests against six services: past 120 s on a loaded machine
async def test_nestjs_module_passes_its_node_tests_against_the_service(
    service: RunningService, start_service: ServiceFactory, secured: Secured, seaweedfs: SeaweedFS
) -> None:
    """`npm test` builds (tsc, which type-checks), compiles the tests and runs them with node --test; the TLS and
    token tests (test/camera.security.test.ts) run against three more services: TLS and tokens, mutual TLS and
    tokens, tokens in plaintext on 127.0.0.1; the settings tests (test/camera.settings.test.ts) against one more,
    the trigger, I/O and event tests (test/camera.trigger.test.ts) against another, the recording, statistics,
    thumbnail and storage tests (test/camera.recording.test.ts) against a sixth, and its object-store test against a
    seventh that stores into a real SeaweedFS bucket."""
    tls = await start_service(**secured.settings())
    mutual = await start_service(**secured.settings(mutual=True))
    plaintext = await start_service(**secured.settings(tls=False))
    # test/camera.settings.test.ts changes settings and presets: a service (and state folder) of its own
    settings_service = await start_service(image_save_path=secured.folder.parent / "settings-service" / "captures")
    # test/camera.trigger.test.ts switches to software-trigger mode: a service of its own too
    trigger_service = await start_service(image_save_path=secured.folder.parent / "trigger-service" / "captures")
    # test/camera.recording.test.ts records (which holds the geometry) with a small ROI: one more, whose
    # recordings folder it reads to compare downloads with the files
    recording_service = await start_service(image_save_path=secured.folder.parent / "recording-service" / "captures")
    # ... and the object-store tests against one storing into a real SeaweedFS bucket (issue 16)
    s3_folder = secured.folder.parent / "s3-service"
    s3_folder.mkdir()
    s3_service = await start_service(
        image_save_path=s3_folder / "captures", **s3_overrides(seaweedfs, seaweedfs.new_bucket(), s3_folder)
    )
    process = await asyncio.create_subprocess_exec(
        npm(),
        "test",
        cwd=NESTJS,
        env={
            **os.environ,
            "CAMERA_GRPC_URL": service.address,
            "CAMERA_TEST_SETTINGS_URL": settings_service.address,
            "CAMERA_TEST_TRIGGER_URL": trigger_service.address,
            "CAMERA_TEST_RECORDING_URL": recording_service.address,
            "CAMERA_TEST_RECORDINGS_DIR": str(recording_service.settings.recordings_path),
            "CAMERA_TEST_S3_URL": s3_service.address,
            "CAMERA_TEST_TLS_URL": tls.address,
            "CAMERA_TEST_MTLS_URL": mutual.address,
            "CAMERA_TEST_TOKEN_URL": plaintext.address,
            "CAMERA_TEST_PKI": str(secured.folder),
            "CAMERA_TEST_OPERATOR_TOKEN": secured.operator,
            "CAMERA_TEST_VIEWER_TOKEN": secured.viewer,
        },
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
    assert int(passed[1]) >= NODE_TESTS, output  # every test ran: none skipped or filtered out
    assert "# CAMERA_TEST_* not set" not in output, output  # the TLS and token tests were not skipped
    assert "# CAMERA_TEST_S3_URL not set" not in output, output  # nor the object-store test
    # The service really served them: the Node tests' captures are in its folder.
    assert any(service.captures.glob("capture_*.png")), "no PNG capture from the Node tests"


# -- the package as `npm pack` makes it --------------------------------------------------------------


@dataclass(frozen=True)
class Packed:
    tarball: Path
    #: The clean checkout it was packed from (clients/nestjs, built by `prepare`).
    package: Path


@pytest.fixture(scope="module")
def packed(tmp_path_factory: pytest.TempPathFactory) -> Packed:
    """`npm pack` in a copy of the checkout's files (tracked or not ignored: no dist/ or test-build/)."""
    npm_path = npm()
    checkout = tmp_path_factory.mktemp("checkout")
    listed = run(
        ["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard", "--", "clients/nestjs", "proto"],
        REPO,
        "git ls-files",
    )
    for name in filter(None, listed.split("\0")):
        source = REPO / name
        if source.is_file() and not name.startswith("clients/nestjs/example/"):
            (checkout / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, checkout / name)
    package = checkout / "clients" / "nestjs"
    assert not (package / "dist").exists(), "the checkout copy has a dist/: is it ignored?"
    (package / "node_modules").symlink_to(NESTJS / "node_modules", target_is_directory=True)
    destination = tmp_path_factory.mktemp("pack")
    run([npm_path, "pack", "--pack-destination", str(destination)], package, "npm pack")
    [tarball] = destination.glob("*.tgz")
    return Packed(tarball, package)


def test_npm_pack_of_a_clean_checkout_is_a_complete_package_with_peers_only(packed: Packed) -> None:
    with tarfile.open(packed.tarball) as archive:
        names = set(archive.getnames())
        manifest = json.loads(archive.extractfile("package/package.json").read())  # type: ignore[union-attr]
        scripts = {name: archive.extractfile(name).read().decode() for name in names if name.endswith(".js")}  # type: ignore[union-attr]
    for expected in (
        "package/dist/index.js",
        "package/dist/index.d.ts",
        "package/dist/camera.http.js",
        "package/dist/camera.sse.js",
        "package/dist/generated/camera/v1/camera.js",
        "package/dist/proto/camera/v1/camera.proto",
        "package/dist/proto/camera/v1/recording.proto",
        "package/dist/proto/camera/v1/storage.proto",
        "package/dist/camera.recordings.js",
        "package/dist/camera.storage.js",
        "package/README.md",
    ):
        assert expected in names, f"{expected} is not in the package: {sorted(names)}"
    # Source maps would point at src/, which is not shipped: there are none.
    assert not [name for name in names if name.endswith(".map")], sorted(names)
    assert not [name for name, text in scripts.items() if "sourceMappingURL" in text]
    assert not [name for name in names if name.startswith("package/src/") or name.startswith("package/test")]
    # Framework and gRPC libraries are peers (Nest 10 and 11), never the package's own dependencies.
    dependencies = {**manifest.get("dependencies", {}), **manifest.get("optionalDependencies", {})}
    assert not set(PEERS) & set(dependencies), dependencies
    assert "bundleDependencies" not in manifest and "bundledDependencies" not in manifest
    peers = manifest["peerDependencies"]
    assert set(PEERS) <= set(peers), peers
    for name in ("@nestjs/common", "@nestjs/core", "@nestjs/microservices"):
        assert peers[name] == "^10.0.0 || ^11.0.0", (name, peers[name])


def test_http_errors_match_the_rest_gateway(packed: Packed) -> None:
    """The package's gRPC -> HTTP mapping (status, body, Retry-After) against the gateway's own function."""
    gateway = Gateway.find()
    error_infos = [(None, None), ("STORAGE_FULL", "camera-grpc"), ("CAMERA_UNAVAILABLE", "camera-grpc")]
    error_infos += [("STORAGE_FULL", "elsewhere"), ("", "camera-grpc")]  # not the service's; no reason
    error_infos += [("FEATURE_UNSUPPORTED", "camera-grpc"), ("FEATURE_UNSUPPORTED", "elsewhere")]  # issue 12
    error_infos += [("TRIGGER_MODE", "camera-grpc"), ("TRIGGER_MODE", "elsewhere")]  # issue 13
    error_infos += [("RECORDING_STATE", "camera-grpc"), ("RECORDING_EXISTS", "camera-grpc")]  # issue 14
    error_infos += [("RECORDING_NOT_FOUND", "camera-grpc"), ("SPOOL_FULL", "camera-grpc")]  # issues 14, 16
    violation_sets = [
        [],
        [["exposure_ms", "must be between 0.01 and 10000"], ["gain_db", "must be finite"]],
        [["format", "must be one of A, B"]],
        [["exposure_ms", "must be between 0.01 and 10000 (milliseconds)"]],  # a service that names the unit
        [["roi.width", "must be between 16 and 2448 in steps of 16"]],  # a field path: loc body, roi, width
    ]
    cases = [
        {
            "code": code.value[0],
            "codeName": code.name,
            "message": "exposure_ms=-1.0 must be between 0.01 and 10000",
            "reason": reason,
            "domain": domain,
            "violations": violations,
            "location": location,
            "conditional": conditional,  # an HTTP request with If-Match (a settings revision)
        }
        for code, (reason, domain), violations, location, conditional in itertools.product(
            grpc.StatusCode, error_infos, violation_sets, ("body", "query"), (False, True)
        )
    ]
    script = NESTJS / "scripts" / "http-errors.mjs"
    result = subprocess.run(
        ["node", str(script), str(packed.package)], input=json.dumps(cases), capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0, result.stderr
    node_responses = json.loads(result.stdout)
    assert len(node_responses) == len(cases)
    for case, node in zip(cases, node_responses, strict=True):
        failure = gateway.failure(
            grpc.StatusCode[case["codeName"]], case["message"], case["reason"], case["domain"], case["violations"]
        )
        response = gateway.module.rpc_error_response(
            failure, location=case["location"], conditional=case["conditional"]
        )
        expected = {
            "status": response.status_code,
            "body": json.loads(response.body),
            "retryAfter": response.headers.get("retry-after"),
        }
        assert node == expected, case


@dataclass(frozen=True)
class Gateway:
    """The REST gateway's error mapping (the module that defines rpc_error_response), wherever it lives now.

    Its failure type has changed shape before (``RpcFailure(code, message, reason, violations)``, then the
    Python client's ``CameraRpcError``); both are handled."""

    module: Any

    @classmethod
    def find(cls) -> Gateway:
        for path in sorted((REPO / "camera_grpc").rglob("*.py")):
            if "def rpc_error_response" in path.read_text():
                return cls(importlib.import_module(".".join(path.relative_to(REPO).with_suffix("").parts)))
        raise AssertionError("no rpc_error_response in camera_grpc: where did the REST gateway's error mapping go?")

    @property
    def failure_type(self) -> Any:
        if hasattr(self.module, "RpcFailure"):
            return self.module.RpcFailure
        return typing.get_type_hints(self.module.rpc_error_response)["failure"]

    def failure(
        self, code: grpc.StatusCode, message: str, reason: str | None, domain: str | None, violations: list[list[str]]
    ) -> Any:
        """A failure with this code, message, ErrorInfo (if any) and BadRequest field violations."""
        kind = self.failure_type
        if kind.__name__ == "RpcFailure":  # trusts the reason only of its own domain, set by from_error
            return kind(
                code, message, (reason or None) if domain == "camera-grpc" else None, [tuple(v) for v in violations]
            )
        field_violation = importlib.import_module(kind.__module__).FieldViolation
        return kind(
            code,
            message,
            reason=reason or "",
            domain=domain or "",
            field_violations=[field_violation(field, description) for field, description in violations],
        )

    def from_call(self, error: grpc.aio.AioRpcError) -> Any:
        kind = self.failure_type
        return kind.from_error(error) if hasattr(kind, "from_error") else kind.from_rpc_error(error)


# -- the example app, installed from the tarball --------------------------------------------------------


@pytest.fixture(scope="module")
def example(packed: Packed, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """clients/nestjs/example, installed as an adopter would: `npm ci` with the tarball next to it, then built.

    The example's package-lock.json records the tarball's checksum as it was when the lock was last
    updated, so the copy's lock gets the checksum of the tarball packed now (npm would otherwise
    refuse it, or take a stale one from its cache)."""
    npm_path = npm()
    root = tmp_path_factory.mktemp("adopter")
    app = root / "example"
    app.mkdir()
    for name in ("package.json", "package-lock.json", "tsconfig.json"):
        shutil.copy2(EXAMPLE / name, app / name)
    shutil.copytree(EXAMPLE / "src", app / "src")
    manifest = json.loads((app / "package.json").read_text())
    dependency = manifest["dependencies"]["@camera-grpc/nestjs"]
    assert dependency == f"file:../{packed.tarball.name}", (
        f"the example depends on {dependency}, but npm pack made {packed.tarball.name}"
    )
    tarball = root / packed.tarball.name
    shutil.copy2(packed.tarball, tarball)
    lock = json.loads((app / "package-lock.json").read_text())
    entry = lock["packages"]["node_modules/@camera-grpc/nestjs"]
    entry["integrity"] = "sha512-" + base64.b64encode(hashlib.sha512(tarball.read_bytes()).digest()).decode()
    (app / "package-lock.json").write_text(json.dumps(lock, indent=2) + "\n")
    run(
        [npm_path, "ci", "--prefer-offline", "--no-audit", "--no-fund"],
        app,
        "npm ci of the example app (clients/nestjs/example/package-lock.json; needs the npm registry or its cache)",
    )
    installed = app / "node_modules" / "@camera-grpc" / "nestjs"
    for peer in PEERS:
        assert (app / "node_modules" / peer).is_dir(), f"{peer} is not installed in the app"
        assert not (installed / "node_modules" / peer).exists(), f"the package has its own copy of {peer}"
    run([npm_path, "run", "build"], app, "building the example app (tsc)")
    return app


def example_env(grpc_address: str, port: int, settings: dict[str, str] | None = None) -> dict[str, str]:
    """The example's environment: the service's address, where to listen, and ``settings`` (CAMERA_GRPC_CA, ...)."""
    return {
        "PATH": os.environ["PATH"],
        "HOME": os.environ.get("HOME", "/tmp"),
        "CAMERA_GRPC_URL": grpc_address,
        "HOST": "127.0.0.1",
        "PORT": str(port),
        "NO_COLOR": "1",
        **(settings or {}),
    }


@contextlib.asynccontextmanager
async def example_app(
    app: Path, grpc_address: str, log: Path, settings: dict[str, str] | None = None
) -> AsyncIterator[httpx.AsyncClient]:
    """Start the built example on a free port against ``grpc_address`` (with ``settings`` in its environment);
    an HTTP client for it."""
    port = closed_port()
    env = example_env(grpc_address, port, settings)
    with log.open("w") as output:
        process = await asyncio.create_subprocess_exec(
            "node", "dist/main.js", cwd=app, env=env, stdout=output, stderr=subprocess.STDOUT
        )
    try:
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}", timeout=20) as http:
            deadline = time.monotonic() + 30
            while "listening on" not in log.read_text():
                assert process.returncode is None, f"the example app exited:\n{log.read_text()}"
                assert time.monotonic() < deadline, f"the example app did not start:\n{log.read_text()}"
                await asyncio.sleep(0.05)
            yield http
    finally:
        if process.returncode is None:
            process.send_signal(signal.SIGTERM)
            try:
                await asyncio.wait_for(process.wait(), 10)
            except TimeoutError:
                process.kill()
                await process.wait()


def sse_events(text: str) -> list[dict[str, Any]]:
    """Server-Sent Events of a complete stream: type ("message" unless given) and JSON data."""
    events = []
    for block in text.split("\n\n"):
        fields: dict[str, str] = {}
        for line in block.splitlines():
            name, _, value = line.partition(":")
            fields[name] = fields.get(name, "") + value.removeprefix(" ")
        if "data" in fields:
            events.append({"type": fields.get("event", "message"), "data": json.loads(fields["data"])})
    return events


async def first_events(http: httpx.AsyncClient, url: str, count: int) -> list[dict[str, Any]]:
    """The first ``count`` events of a stream, or all of them if it ends before."""
    text = ""
    async with http.stream("GET", url) as response:
        assert response.status_code == 200
        assert response.headers["content-type"].startswith("text/event-stream")
        async for chunk in response.aiter_text():
            text += chunk
            if text.count("\n\n") >= count:
                break
    return sse_events(text.rsplit("\n\n", 1)[0] + "\n\n")[:count]


async def test_example_app_serves_the_legacy_api_from_the_packed_package(
    example: Path, service: RunningService, tmp_path: Path
) -> None:
    log = tmp_path / "example.log"
    async with example_app(example, service.address, log) as http:
        health = await http.get("/health")
        assert health.status_code == 200, log.read_text()
        assert health.json() == {"status": "healthy", "camera_connected": True, "service": "SERVING"}

        settings = await http.get("/settings")
        assert settings.status_code == 200, settings.text
        assert settings.json() == {
            "exposure": 2.0,
            "gain": 0.0,
            "resolution": {"width": 2448, "height": 2048},
            "width": 2448,
            "height": 2048,
            "pixel_format": "mono8",
            "connected": True,
        }
        changed = await http.put("/settings", json={"exposure": 5, "gain": 1.5})
        assert changed.status_code == 200, changed.text
        assert (changed.json()["exposure"], changed.json()["gain"]) == (5.0, 1.5)
        applied = await service.stub.GetSettings(pb.GetSettingsRequest())
        assert (applied.exposure_ms, applied.gain_db) == (5.0, 1.5)

        # An invalid value: the service's message, in exactly the REST gateway's answer.
        invalid = await http.put("/settings", json={"exposure": -1})
        with pytest.raises(grpc.aio.AioRpcError) as refused:
            await service.stub.UpdateSettings(pb.UpdateSettingsRequest(exposure_ms=-1))
        gateway = Gateway.find()
        expected = gateway.module.rpc_error_response(gateway.from_call(refused.value), location="body")
        assert invalid.status_code == expected.status_code == 422
        assert invalid.json() == json.loads(expected.body)
        assert invalid.json()["detail"][0]["loc"] == ["body", "exposure"]
        assert "must be between" in invalid.json()["detail"][0]["msg"]
        assert (await http.get("/settings")).json()["exposure"] == 5.0  # nothing changed
        wrong_type = await http.put("/settings", json={"exposure": "100"})
        assert wrong_type.status_code == 422
        assert wrong_type.json()["detail"][0]["loc"] == ["body", "exposure"]

        saved = await http.post("/capture", json={"exposure": 3, "format": "png"})
        assert saved.status_code == 200, saved.text
        body = saved.json()
        assert body["format"] == "png" and body["exposure"] == 3.0 and body["filename"].endswith(".png")
        assert (service.captures / body["filename"]).is_file()
        assert body["captured_at"].endswith("Z")
        download = await http.get(body["url"])
        assert download.status_code == 200
        assert download.headers["content-type"] == "image/png"
        assert download.content == (service.captures / body["filename"]).read_bytes()
        assert (await http.post("/capture")).status_code == 200  # no body at all
        unknown_format = await http.post("/capture", json={"format": "gif"})
        assert unknown_format.status_code == 422
        assert unknown_format.json()["detail"][0]["loc"] == ["body", "format"]
        missing = await http.get("/captures/..%2Fetc%2Fpasswd")
        assert missing.status_code == 404, missing.text
        assert missing.json()["code"] == "NOT_FOUND"
        deleted = await http.delete(body["url"])
        assert deleted.status_code == 204, deleted.text
        assert not (service.captures / body["filename"]).exists()
        assert (await http.get(body["url"])).status_code == 404
        again = await http.delete(body["url"])
        assert again.status_code == 404, again.text
        assert again.json()["code"] == "NOT_FOUND"

        assert "loads its own" not in log.read_text(), "the package does not use the app's copies of its peers"

        frames = await first_events(http, "/frames?max_width=64&max_fps=20", 2)
        assert [event["type"] for event in frames] == ["message", "message"]
        for event in frames:
            assert event["data"]["width"] == 64
            assert base64.b64decode(event["data"]["jpeg"])[:3] == b"\xff\xd8\xff"
        # The settings as they change (watchSettings): the current ones first, with their revision.
        current = await service.stub.GetSettings(pb.GetSettingsRequest())
        watched = await first_events(http, "/settings/events", 1)
        assert watched[0]["data"]["cause"] == "initial" and watched[0]["data"]["connected"] is True
        assert watched[0]["data"]["settings"]["revision"] == current.settings.revision
        assert watched[0]["data"]["settings"]["exposureMs"] == current.settings.exposure_ms
        # A refused stream: one error event with the 422 the gateway would answer, then the end.
        refused_stream = await first_events(http, "/frames?max_width=1.5", 5)
        assert len(refused_stream) == 1
        assert refused_stream[0]["type"] == "error"
        assert refused_stream[0]["data"]["status"] == 422
        assert refused_stream[0]["data"]["detail"][0]["loc"] == ["query", "maxWidth"]


async def test_example_app_records_follows_the_progress_and_downloads_resumably(
    example: Path, service: RunningService, tmp_path: Path
) -> None:
    """The example's recording routes (issue 14) on the packed package: start, progress as Server-Sent Events until
    the final state, the file whole and from a Range (206, as the file's bytes), an unknown recording 404."""
    await service.stub.UpdateSettings(
        pb.UpdateSettingsRequest(
            settings=pb.CameraSettings(roi=pb.Region(width=256, height=256)),
            update_mask={"paths": ["roi.width", "roi.height"]},
        )
    )
    log = tmp_path / "example.log"
    async with example_app(example, service.address, log) as http:
        started = await http.post("/recordings", json={"id": "nest-example", "frames": 20, "format": "ome-tiff"})
        assert started.status_code == 201, started.text
        assert started.json()["state"] == "RECORDING_STATE_RUNNING"
        assert started.json()["name"] == "recordings/nest-example"

        progress = await first_events(http, "/recordings/nest-example/events", 1000)  # all: it ends at the final state
        assert [event["type"] for event in progress] == ["message"] * len(progress)
        assert progress[-1]["data"]["state"] == "RECORDING_STATE_COMPLETED"
        assert progress[-1]["data"]["framesWritten"] == 20

        recording = (await http.get("/recordings/nest-example")).json()
        [file] = [entry for entry in recording["files"] if entry["name"].endswith(".ome.tif")]
        on_disk = (service.settings.recordings_path / "nest-example" / file["name"]).read_bytes()
        assert file["sizeBytes"] == len(on_disk)
        url = f"/recordings/nest-example/files/{file['name']}"
        whole = await http.get(url)
        assert whole.status_code == 200
        assert whole.headers["content-type"] == "image/tiff"
        assert whole.headers["accept-ranges"] == "bytes"
        assert whole.content == on_disk
        offset = len(on_disk) // 3
        resumed = await http.get(url, headers={"Range": f"bytes={offset}-"})
        assert resumed.status_code == 206, resumed.text
        assert resumed.headers["content-range"] == f"bytes {offset}-{len(on_disk) - 1}/{len(on_disk)}"
        assert whole.content[:offset] + resumed.content == on_disk
        beyond = await http.get(url, headers={"Range": f"bytes={len(on_disk)}-"})
        assert beyond.status_code == 416
        assert beyond.headers["content-range"] == f"bytes */{len(on_disk)}"

        missing = await http.get("/recordings/no-such-recording")
        assert missing.status_code == 404
        assert missing.json()["code"] == "NOT_FOUND"
        no_file = await http.get("/recordings/nest-example/files/no-such-file.tif")
        assert no_file.status_code == 404, no_file.text
        refused = await first_events(http, "/recordings/no-such-recording/events", 5)
        assert [event["type"] for event in refused] == ["error"]
        assert refused[0]["data"]["status"] == 404
        bad_format = await http.post("/recordings", json={"format": "avi"})
        assert bad_format.status_code == 422
        assert bad_format.json()["detail"][0]["loc"] == ["body", "format"]

        thumbnail = await http.get("/recordings/nest-example/thumbnail?max_width=64")
        assert thumbnail.status_code == 200, thumbnail.text
        assert thumbnail.headers["content-type"] == "image/jpeg"
        assert thumbnail.content[:3] == b"\xff\xd8\xff"
        statistics = await first_events(http, "/statistics?bins=8&max_fps=20", 1)
        assert statistics[0]["type"] == "message"
        assert [len(channel["histogram"]) for channel in statistics[0]["data"]["channels"]] == [8]
        storage = await http.get("/storage")
        assert storage.status_code == 200
        assert storage.json()["backend"] == "STORAGE_BACKEND_LOCAL"

        listed = (await http.get("/recordings")).json()
        assert [entry["name"] for entry in listed["recordings"]] == ["recordings/nest-example"]
        assert (await http.delete("/recordings/nest-example")).status_code == 204
        assert (await http.get("/recordings/nest-example")).status_code == 404
        assert not (service.settings.recordings_path / "nest-example").exists()


async def test_example_app_redirects_an_uploaded_recording_file_to_a_presigned_url(
    example: Path, start_service: ServiceFactory, seaweedfs: SeaweedFS, tmp_path: Path
) -> None:
    """With the service's files in a real SeaweedFS bucket (issue 16), the example answers a download of an
    uploaded file with a redirect to a pre-signed URL (fetched without credentials: the object's bytes), and
    streams it from the service with ?via=service."""
    bucket = seaweedfs.new_bucket()
    service = await start_service(image_save_path=tmp_path / "captures", **s3_overrides(seaweedfs, bucket, tmp_path))
    async with example_app(example, service.address, tmp_path / "example.log") as http:
        started = await http.post("/recordings", json={"id": "nest-s3", "frames": 2})
        assert started.status_code == 201, started.text
        await first_events(http, "/recordings/nest-s3/events", 1000)  # to its final state

        async def tiff() -> dict[str, Any]:
            files = (await http.get("/recordings/nest-s3")).json()["files"]
            [found] = [entry for entry in files if entry["name"].endswith(".ome.tif")]
            return found  # type: ignore[no-any-return]

        async def uploaded() -> bool:
            return (await tiff())["location"]["state"] == "STORAGE_STATE_UPLOADED"

        await until(uploaded, "the upload of the recording's file")
        file = await tiff()
        stored = seaweedfs.client().get_object(Bucket=bucket, Key=file["location"]["objectKey"])["Body"].read()
        assert len(stored) == file["sizeBytes"]
        url = f"/recordings/nest-s3/files/{file['name']}"
        redirected = await http.get(url)
        assert redirected.status_code == 302, redirected.text
        location = redirected.headers["location"]
        assert location.startswith(seaweedfs.endpoint) and "X-Amz-Signature" in location
        async with httpx.AsyncClient() as anonymous:
            assert (await anonymous.get(location)).content == stored
        streamed = await http.get(url, params={"via": "service"})
        assert streamed.status_code == 200
        assert streamed.content == stored


SERVICE_ENV = {**environment(FAST_CAMERA), "REST_ENABLED": "false", "SHUTDOWN_GRACE_S": "1"}


async def test_example_app_answers_503_at_once_while_the_service_is_down_and_recovers_when_it_is_back(
    example: Path, tmp_path: Path
) -> None:
    env = {**SERVICE_ENV, "IMAGE_SAVE_PATH": str(tmp_path / "captures")}
    with contextlib.ExitStack() as processes:
        first = processes.enter_context(ServiceProcess(env, cwd=tmp_path))
        port = await asyncio.to_thread(first.wait_listening)
        async with example_app(example, f"127.0.0.1:{port}", tmp_path / "example.log") as http:
            assert (await http.get("/settings")).status_code == 200

            # A live stream when the service stops: it ends with an error event, not "Internal server error".
            async def stream() -> list[dict[str, Any]]:
                text = ""
                async with http.stream("GET", "/frames?max_width=32&max_fps=20") as response:
                    async for chunk in response.aiter_text():
                        text += chunk
                        if text.count("\n\n") == 1:
                            stopping.set()
                return sse_events(text)

            stopping = asyncio.Event()
            events = asyncio.create_task(stream())
            await asyncio.wait_for(stopping.wait(), 10)
            assert await asyncio.to_thread(first.stop) == 0, first.log
            ended = await asyncio.wait_for(events, 10)
            assert ended[0]["type"] == "message"
            assert ended[-1]["type"] == "error", ended[-1]
            assert ended[-1]["data"]["status"] == 503
            assert ended[-1]["data"]["code"] == "UNAVAILABLE"

            # While it is down: 503 at once (not after the 10 s deadline), a retry hint, no internal text.
            down_until = time.monotonic() + 3
            while time.monotonic() < down_until:
                started = time.monotonic()
                response = await http.get("/settings")
                elapsed = time.monotonic() - started
                assert response.status_code == 503, response.text
                assert elapsed < 2, f"503 took {elapsed:.2f} s"
                assert response.headers["retry-after"] == "1"
                assert response.json() == {
                    "detail": "the camera service is unavailable; retry later",
                    "code": "UNAVAILABLE",
                    "reason": None,
                }
                await asyncio.sleep(0.25)
            assert (await http.get("/health")).json()["status"] == "unavailable"

            # Back on the same port: the app uses it again by itself, within about a second.
            second = processes.enter_context(ServiceProcess({**env, "GRPC_PORT": str(port)}, cwd=tmp_path))
            assert await asyncio.to_thread(second.wait_listening) == port
            back = time.monotonic()
            while (response := await http.get("/settings")).status_code != 200:
                assert time.monotonic() - back < 15, f"not recovered after 15 s: {response.text}"
                await asyncio.sleep(0.05)
            recovery_s = time.monotonic() - back
            print(f"example app recovered {recovery_s:.2f} s after the service came back")
            assert recovery_s < 5, f"recovered after {recovery_s:.2f} s"
            assert response.json()["connected"] is True
            frames = await first_events(http, "/frames?max_width=32&max_fps=20", 1)
            assert frames[0]["type"] == "message"


async def test_example_app_with_mutual_tls_and_a_token_from_its_settings(
    example: Path, start_service: ServiceFactory, secured: Secured, tmp_path: Path
) -> None:
    service = await start_service(**secured.settings(mutual=True))
    settings = {
        "CAMERA_GRPC_CA": str(secured.files.ca_file),
        "CAMERA_GRPC_CERT": str(secured.files.client_cert),
        "CAMERA_GRPC_KEY": str(secured.files.client_key),
        "CAMERA_GRPC_TOKEN": secured.operator,
    }
    log = tmp_path / "example.log"
    async with example_app(example, service.address, log, settings) as http:
        health = await http.get("/health")
        assert health.json() == {"status": "healthy", "camera_connected": True, "service": "SERVING"}, log.read_text()
        assert (await http.put("/settings", json={"exposure": 4})).json()["exposure"] == 4.0
        saved = await http.post("/capture", json={"format": "png"})
        assert saved.status_code == 200, saved.text
        download = await http.get(saved.json()["url"])
        assert download.content == (service.captures / saved.json()["filename"]).read_bytes()
        frames = await first_events(http, "/frames?max_width=32&max_fps=20", 2)
        assert [event["type"] for event in frames] == ["message", "message"]

    # Without the token the service refuses every call: the app answers as the REST gateway would.
    async with example_app(
        example, service.address, tmp_path / "no-token.log", {**settings, "CAMERA_GRPC_TOKEN": ""}
    ) as http:
        refused = await http.get("/settings")
        assert refused.status_code == 401
        assert refused.json() == {"detail": "not authenticated", "code": "UNAUTHENTICATED", "reason": None}

    # A token in plaintext to another host: the app does not start, and says why.
    port = closed_port()
    env = example_env("192.0.2.1:50051", port, {"CAMERA_GRPC_TOKEN": secured.operator})
    process = await asyncio.create_subprocess_exec(
        "node", "dist/main.js", cwd=example, env=env, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT
    )
    output, _ = await asyncio.wait_for(process.communicate(), 30)
    assert process.returncode != 0
    assert "is not a loopback address: use TLS" in output.decode(), output.decode()
