"""Issue 16 end to end: real services storing in a real SeaweedFS (S3 gateway on loopback).

Every check of what the store holds is made with an independent boto3 client (``tests.support.seaweedfs``),
never through the service's own code.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import io
import re
import signal
import time
import zipfile
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import cv2
import grpc
import numpy as np
import pytest
import tifffile
from grpc_health.v1 import health_pb2

from camera_grpc.client import channel_options
from camera_grpc.config import ConfigurationError, load_settings
from camera_grpc.contract import STORAGE_SERVICE_NAME
from camera_grpc.core.recording import RecordingManager
from camera_grpc.device.simulated import SimulatedCamera
from camera_grpc.gen.camera.v1 import camera_pb2 as pb
from camera_grpc.gen.camera.v1 import camera_pb2_grpc, recording_pb2_grpc, storage_pb2_grpc
from camera_grpc.gen.camera.v1 import recording_pb2 as rpb
from camera_grpc.gen.camera.v1 import storage_pb2 as spb
from tests.support import RunningService, ServiceFactory
from tests.support.process import ServiceProcess
from tests.support.seaweedfs import ACCESS_KEY, SECRET_KEY, GatedProxy, SeaweedFS, seaweedfs_fixture  # noqa: F401
from tests.support.service import FAST_CAMERA, environment
from tests.support.waiting import closed_port

SERVING = health_pb2.HealthCheckResponse.SERVING
NOT_SERVING = health_pb2.HealthCheckResponse.NOT_SERVING

#: Seconds a test waits for uploads to reach the store (the retry backoff is at most 5 s).
UPLOAD_TIMEOUT_S = 30.0
#: Largest gRPC message of the tests' channels (a 10 MB capture comes back whole).
MAX_MESSAGE_BYTES = 64 * 1024 * 1024
#: Seconds between polls of the service's state.
POLL_S = 0.05


def credentials_file(folder: Path, secret: str = SECRET_KEY) -> Path:
    """An AWS shared credentials file (profile default) for S3_CREDENTIALS_FILE."""
    path = folder / "aws-credentials"
    path.write_text(f"[default]\naws_access_key_id = {ACCESS_KEY}\naws_secret_access_key = {secret}\n")
    return path


def s3_overrides(server: SeaweedFS, bucket: str, tmp: Path, **more: object) -> dict[str, object]:
    return {
        "storage_backend": "s3",
        "s3_endpoint_url": server.endpoint,
        "s3_bucket": bucket,
        "s3_credentials_file": credentials_file(tmp),
        "spool_path": tmp / "spool",
        "simulated_width": 640,
        "simulated_height": 480,
        **more,
    }


def storage_stub(service: RunningService) -> storage_pb2_grpc.StorageServiceStub:
    return storage_pb2_grpc.StorageServiceStub(service.channel)


def keys_under(client: Any, bucket: str, prefix: str = "") -> list[str]:
    pages = client.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix)
    return [item["Key"] for page in pages for item in page.get("Contents", ())]


async def until(check: Callable[[], Awaitable[bool]], what: str, timeout_s: float = UPLOAD_TIMEOUT_S) -> None:
    """Poll ``check()`` (a call to the service) until it is true, or fail saying ``what`` was awaited."""
    deadline = time.monotonic() + timeout_s
    while not await check():
        if time.monotonic() > deadline:
            raise AssertionError(f"not reached in {timeout_s} s: {what}")
        await asyncio.sleep(POLL_S)


async def wait_uploaded(service: RunningService, files: int) -> None:
    """Until the service says ``files`` uploads were confirmed."""

    async def done() -> bool:
        status = await storage_stub(service).GetStorageStatus(spb.GetStorageStatusRequest())
        return status.uploaded_files >= files

    await until(done, f"{files} uploads confirmed")


async def test_captures_are_uploaded_with_their_content_and_checksum_and_announced(
    start_service: ServiceFactory, seaweedfs: SeaweedFS, tmp_path: Path
) -> None:
    bucket = seaweedfs.new_bucket()
    service = await start_service(**s3_overrides(seaweedfs, bucket, tmp_path, image_format="tiff"))
    events = service.stub.WatchEvents(pb.WatchEventsRequest(types=[pb.EVENT_TYPE_OBJECT_UPLOADED]))
    await events.initial_metadata()
    saved = [await service.stub.Capture(pb.CaptureRequest(include_image_data=True)) for _ in range(2)]
    spooled = await service.stub.ListCaptures(pb.ListCapturesRequest())
    announced = [(await events.read()).event for _ in range(2)]
    events.cancel()
    client = seaweedfs.client()
    for capture, event in zip(saved, announced, strict=True):
        key = f"camera-grpc/SIM-0001/captures/{capture.filename}"
        assert (event.bucket, event.object_key, event.filename) == (bucket, key, capture.filename)
        head = client.head_object(Bucket=bucket, Key=key, ChecksumMode="ENABLED")
        body = client.get_object(Bucket=bucket, Key=key)["Body"].read()
        assert body == capture.image_data  # the bytes the capture returned
        assert head["Metadata"]["sha256"] == hashlib.sha256(body).hexdigest()
        assert head["ChecksumSHA256"] == base64.b64encode(hashlib.sha256(body).digest()).decode()
        sidecar = client.get_object(Bucket=bucket, Key=key.rsplit(".", 1)[0] + ".json")["Body"].read()
        assert b'"object_key": "' + key.encode() in sidecar
        assert not (service.captures / capture.filename).exists()  # it left the spool
    # the listing before the uploads said where each would go; after them, where it is
    assert {c.location.object_key for c in spooled.captures} == {
        f"camera-grpc/SIM-0001/captures/{c.filename}" for c in saved
    }
    listed = await service.stub.ListCaptures(pb.ListCapturesRequest())
    assert [c.location.state for c in listed.captures] == [pb.STORAGE_STATE_UPLOADED] * 2
    assert {c.location.bucket for c in listed.captures} == {bucket}
    got = await service.stub.GetCapture(pb.GetCaptureRequest(filename=saved[0].filename))
    assert got.data == saved[0].image_data  # read back from the bucket
    url = await storage_stub(service).GetDownloadUrl(spb.GetDownloadUrlRequest(name=f"captures/{saved[0].filename}"))
    assert url.url.startswith(seaweedfs.endpoint) and "X-Amz-Signature" in url.url
    status = await storage_stub(service).GetStorageStatus(spb.GetStorageStatusRequest())
    assert (status.backend, status.bucket, status.prefix) == (
        spb.STORAGE_BACKEND_OBJECT_STORE,
        bucket,
        "camera-grpc/SIM-0001/",
    )
    assert status.reachable and status.pending_uploads == 0 and status.spool_bytes == 0


async def test_get_download_url_refuses_unknown_names_and_files_not_uploaded(
    start_service: ServiceFactory, seaweedfs: SeaweedFS, tmp_path: Path
) -> None:
    bucket = seaweedfs.new_bucket()
    # the store is unreachable: the capture stays in the spool
    service = await start_service(
        **{**s3_overrides(seaweedfs, bucket, tmp_path), "s3_endpoint_url": f"http://127.0.0.1:{closed_port()}"}
    )
    capture = await service.stub.Capture(pb.CaptureRequest(include_image_data=True))
    stub = storage_stub(service)
    with pytest.raises(grpc.aio.AioRpcError) as waiting:
        await stub.GetDownloadUrl(spb.GetDownloadUrlRequest(name=f"captures/{capture.filename}"))
    assert waiting.value.code() == grpc.StatusCode.FAILED_PRECONDITION
    assert "spool" in (waiting.value.details() or "")
    for name in ("captures/capture_20260101_000000_000000_1.jpg", "elsewhere/x", "recordings/nope/files/a.tif"):
        with pytest.raises(grpc.aio.AioRpcError) as unknown:
            await stub.GetDownloadUrl(spb.GetDownloadUrlRequest(name=name))
        assert unknown.value.code() == grpc.StatusCode.NOT_FOUND, name
    with pytest.raises(grpc.aio.AioRpcError) as too_long:
        await stub.GetDownloadUrl(spb.GetDownloadUrlRequest(name=f"captures/{capture.filename}", valid_for_s=86401))
    assert too_long.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert "valid_for_s" in (too_long.value.details() or "") and "86400" in (too_long.value.details() or "")
    listed = await service.stub.ListCaptures(pb.ListCapturesRequest())
    assert listed.captures[0].location.state == pb.STORAGE_STATE_SPOOLED


async def test_an_uploaded_recording_leaves_the_disk_and_is_served_from_the_bucket_across_a_restart(
    start_service: ServiceFactory, seaweedfs: SeaweedFS, tmp_path: Path
) -> None:
    bucket = seaweedfs.new_bucket()
    settings = s3_overrides(seaweedfs, bucket, tmp_path)
    service = await start_service(**settings)
    recordings = recording_pb2_grpc.RecordingServiceStub(service.channel)
    events = service.stub.WatchEvents(pb.WatchEventsRequest(types=[pb.EVENT_TYPE_OBJECT_UPLOADED]))
    await events.initial_metadata()
    started = await recordings.StartRecording(rpb.StartRecordingRequest(recording_id="run-1", max_frames=5))
    async for update in recordings.WatchRecording(rpb.WatchRecordingRequest(name=started.recording.name)):
        ended = update.recording
    assert ended.state == rpb.RECORDING_STATE_COMPLETED
    written = {(f.name, f.size_bytes, f.content_type) for f in ended.files}
    folder = service.settings.recordings_path / "run-1"

    def local_names() -> set[str]:
        return {path.name for path in folder.iterdir() if not path.name.startswith(".")}

    async def released() -> bool:
        return local_names() == {"recording.json", "frames.jsonl"}

    await until(released, "the recording's data files removed from the disk after their upload")
    got = (await recordings.GetRecording(rpb.GetRecordingRequest(name="recordings/run-1"))).recording
    assert {(f.name, f.size_bytes, f.content_type) for f in got.files} == written  # listed as before
    assert {f.location.state for f in got.files} == {pb.STORAGE_STATE_UPLOADED}
    announced = [(await events.read()).event for _ in got.files]
    events.cancel()
    assert sorted((e.recording, e.filename, e.object_key) for e in announced) == sorted(
        ("recordings/run-1", f.name, f"camera-grpc/SIM-0001/recordings/run-1/{f.name}") for f in got.files
    )
    client = seaweedfs.client()  # independent of the service
    data_file = next(f for f in got.files if f.name.endswith(".ome.tif"))
    body = client.get_object(Bucket=bucket, Key=data_file.location.object_key)["Body"].read()
    assert len(tifffile.TiffFile(io.BytesIO(body)).pages) == 5 and len(body) == data_file.size_bytes
    offset = len(body) // 3
    assert await download(recordings, data_file.name, offset) == body[offset:]  # a resumed download
    thumbnail = await recordings.GetRecordingThumbnail(
        rpb.GetRecordingThumbnailRequest(name="recordings/run-1", max_width=64)
    )
    assert cv2.imdecode(np.frombuffer(thumbnail.data, np.uint8), cv2.IMREAD_UNCHANGED).shape[1] == 64

    await stop(service)  # a restart keeps it listed, uploaded and downloadable, and uploads nothing again
    service = await start_service(**settings)
    recordings = recording_pb2_grpc.RecordingServiceStub(service.channel)
    again = (await recordings.GetRecording(rpb.GetRecordingRequest(name="recordings/run-1"))).recording
    assert [(f.name, f.size_bytes, f.location.state) for f in again.files] == [
        (f.name, f.size_bytes, pb.STORAGE_STATE_UPLOADED) for f in got.files
    ]
    assert await download(recordings, data_file.name, 0) == body
    status = await storage_stub(service).GetStorageStatus(spb.GetStorageStatusRequest())
    assert (status.pending_uploads, status.uploaded_files) == (0, 0)

    await recordings.DeleteRecording(rpb.DeleteRecordingRequest(name="recordings/run-1"))
    assert keys_under(client, bucket, "camera-grpc/SIM-0001/recordings/") == []
    assert not folder.exists()


async def test_a_crash_between_the_upload_records_and_the_removal_is_finished_at_the_next_start(
    start_service: ServiceFactory, seaweedfs: SeaweedFS, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    bucket = seaweedfs.new_bucket()
    settings = s3_overrides(seaweedfs, bucket, tmp_path)
    # the process "dies" after the last upload record, before removing anything
    monkeypatch.setattr(RecordingManager, "release_uploaded", lambda self, name: [])
    service = await start_service(**settings)
    recordings = recording_pb2_grpc.RecordingServiceStub(service.channel)
    await recordings.StartRecording(
        rpb.StartRecordingRequest(recording_id="run-1", max_frames=3, format=rpb.RECORDING_FORMAT_OME_ZARR)
    )
    async for update in recordings.WatchRecording(rpb.WatchRecordingRequest(name="recordings/run-1")):
        ended = update.recording
    got: list[Any] = []

    async def all_uploaded() -> bool:
        response = await recordings.GetRecording(rpb.GetRecordingRequest(name="recordings/run-1"))
        got[:] = list(response.recording.files)
        return all(f.location.state == pb.STORAGE_STATE_UPLOADED for f in got)

    await until(all_uploaded, "every file of the recording uploaded")
    folder = service.settings.recordings_path / "run-1"
    assert {"run-1.ome.zarr", "run-1.ome.zarr.zip"} <= {path.name for path in folder.iterdir()}
    await stop(service)
    monkeypatch.undo()

    service = await start_service(**settings)
    recordings = recording_pb2_grpc.RecordingServiceStub(service.channel)
    assert {path.name for path in folder.iterdir() if not path.name.startswith(".")} == {
        "recording.json",
        "frames.jsonl",
    }
    again = (await recordings.GetRecording(rpb.GetRecordingRequest(name="recordings/run-1"))).recording
    assert list(again.files) == got and [f.name for f in ended.files] == [f.name for f in got]
    zipped = got[0]
    assert zipped.name == "run-1.ome.zarr.zip"
    body = seaweedfs.client().get_object(Bucket=bucket, Key=zipped.location.object_key)["Body"].read()
    assert await download(recordings, zipped.name, 0) == body and len(body) == zipped.size_bytes
    with zipfile.ZipFile(io.BytesIO(body)) as archive:
        assert "run-1.ome.zarr/.zattrs" in archive.namelist() or "run-1.ome.zarr/zarr.json" in archive.namelist()
    thumbnail = await recordings.GetRecordingThumbnail(rpb.GetRecordingThumbnailRequest(name="recordings/run-1"))
    assert thumbnail.data.startswith(b"\xff\xd8")
    status = await storage_stub(service).GetStorageStatus(spb.GetStorageStatusRequest())
    assert (status.pending_uploads, status.uploaded_files) == (0, 0)  # nothing uploaded twice
    await stop(service)  # the store unreachable: its objects cannot be deleted, nor is the recording
    service = await start_service(**{**settings, "s3_endpoint_url": f"http://127.0.0.1:{closed_port()}"})
    recordings = recording_pb2_grpc.RecordingServiceStub(service.channel)
    with pytest.raises(grpc.aio.AioRpcError) as refused:
        await recordings.DeleteRecording(rpb.DeleteRecordingRequest(name="recordings/run-1"))
    assert refused.value.code() == grpc.StatusCode.UNAVAILABLE
    assert "recordings/run-1 was not deleted" in (refused.value.details() or "")
    kept = (await recordings.GetRecording(rpb.GetRecordingRequest(name="recordings/run-1"))).recording
    assert list(kept.files) == got


async def download(recordings: recording_pb2_grpc.RecordingServiceStub, file: str, offset: int) -> bytes:
    """A recording file's bytes from ``offset`` on, checking each chunk's offset."""
    data = b""
    async for chunk in recordings.DownloadRecordingFile(
        rpb.DownloadRecordingFileRequest(name="recordings/run-1", file=file, offset=offset)
    ):
        assert chunk.offset == offset + len(data)
        data += chunk.data
    return data


async def stop(service: RunningService) -> None:
    """Stop a service before its fixture does (as the fixture does; stopping again then is harmless)."""
    await service.channel.close()
    await service.runtime.frames.close()
    await service.server.stop(0)
    await service.runtime.aclose()


async def test_two_cameras_share_one_bucket_under_their_own_prefixes(
    start_service: ServiceFactory, seaweedfs: SeaweedFS, tmp_path: Path
) -> None:
    bucket = seaweedfs.new_bucket()
    services = []
    for serial in ("CAM-A", "CAM-B"):
        folder = tmp_path / serial
        folder.mkdir()
        services.append(
            await start_service(
                SimulatedCamera(width=320, height=240, serial_number=serial),
                image_save_path=folder / "captures",
                **s3_overrides(seaweedfs, bucket, folder),
            )
        )
    saved: dict[str, list[str]] = {serial: [] for serial in ("CAM-A", "CAM-B")}
    for _ in range(2):
        for serial, service in zip(saved, services, strict=True):
            saved[serial].append((await service.stub.Capture(pb.CaptureRequest(include_image_data=True))).filename)
    for service in services:
        await wait_uploaded(service, 2)
    listed = keys_under(seaweedfs.client(), bucket)  # a third client sees both cameras' objects
    expected = [
        f"camera-grpc/{serial}/captures/{file}"
        for serial, names in saved.items()
        for name in names
        for file in (name, f"{Path(name).stem}.json")
    ]
    assert sorted(listed) == sorted(expected)


async def test_captures_made_while_the_store_is_down_are_all_uploaded_once_when_it_returns(
    start_service: ServiceFactory, seaweedfs: SeaweedFS, tmp_path: Path
) -> None:
    bucket = seaweedfs.new_bucket()
    service = await start_service(**s3_overrides(seaweedfs, bucket, tmp_path))
    stub = storage_stub(service)
    names = [(await service.stub.Capture(pb.CaptureRequest(include_image_data=True))).filename]
    await wait_uploaded(service, 1)
    await service.wait_for_health(SERVING, STORAGE_SERVICE_NAME)
    seaweedfs.stop()
    try:
        for _ in range(4):  # captures keep succeeding, into the spool
            names.append((await service.stub.Capture(pb.CaptureRequest(include_image_data=True))).filename)
        status = await stub.GetStorageStatus(spb.GetStorageStatusRequest())
        assert status.pending_uploads >= 3 and status.spool_bytes > 0
        await service.wait_for_health(NOT_SERVING, STORAGE_SERVICE_NAME)  # the store's health, not the camera's:
        assert await service.health_status() == SERVING
    finally:
        seaweedfs.start()
    await wait_uploaded(service, len(names))
    await service.wait_for_health(SERVING, STORAGE_SERVICE_NAME)
    listed = keys_under(seaweedfs.client(), bucket)
    images = sorted(key for key in listed if not key.endswith(".json"))
    assert images == sorted(f"camera-grpc/SIM-0001/captures/{name}" for name in names)  # none lost, none twice
    assert len(listed) == 2 * len(names)
    status = await stub.GetStorageStatus(spb.GetStorageStatusRequest())
    assert status.reachable and status.pending_uploads == 0
    assert seaweedfs.client().list_multipart_uploads(Bucket=bucket).get("Uploads", []) == []


async def test_a_full_spool_refuses_captures_naming_its_budget_and_keeps_earlier_ones(
    start_service: ServiceFactory, seaweedfs: SeaweedFS, tmp_path: Path
) -> None:
    bucket = seaweedfs.new_bucket()
    service = await start_service(
        **{
            **s3_overrides(
                seaweedfs, bucket, tmp_path, image_format="tiff", simulated_width=1024, simulated_height=1024
            ),
            "s3_endpoint_url": f"http://127.0.0.1:{closed_port()}",  # down: nothing leaves the spool
            "spool_budget_bytes": 1024 * 1024,
        }
    )
    first = await service.stub.Capture(
        pb.CaptureRequest(include_image_data=True)
    )  # 1 MiB of pixels: the spool reaches its budget
    with pytest.raises(grpc.aio.AioRpcError) as refused:
        await service.stub.Capture(pb.CaptureRequest(include_image_data=True))
    assert refused.value.code() == grpc.StatusCode.RESOURCE_EXHAUSTED
    message = refused.value.details() or ""
    assert "SPOOL_BUDGET_BYTES=1048576 bytes" in message and "spool" in message
    listed = await service.stub.ListCaptures(pb.ListCapturesRequest())
    assert [c.filename for c in listed.captures] == [first.filename]
    got = await service.stub.GetCapture(pb.GetCaptureRequest(filename=first.filename))
    assert got.data == first.image_data


async def test_wrong_credentials_are_a_clear_error_in_the_log_and_in_status_not_a_crash(
    start_service: ServiceFactory, seaweedfs: SeaweedFS, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    bucket = seaweedfs.new_bucket()
    overrides = s3_overrides(seaweedfs, bucket, tmp_path)
    overrides["s3_credentials_file"] = credentials_file(tmp_path, secret="not-the-secret")
    service = await start_service(**overrides)
    stub = storage_stub(service)
    status = spb.GetStorageStatusResponse()

    async def told() -> bool:
        nonlocal status
        status = await stub.GetStorageStatus(spb.GetStorageStatusRequest())
        return bool(status.last_error) and "not contacted" not in status.last_error

    await until(told, "the store's error in the status")
    assert not status.reachable
    assert await service.health_status(STORAGE_SERVICE_NAME) == NOT_SERVING  # and in the standard health check
    assert "access denied" in status.last_error and "credentials" in status.last_error
    assert any("access denied" in record.getMessage() for record in caplog.records)
    capture = await service.stub.Capture(pb.CaptureRequest(include_image_data=True))  # captures still spool
    assert (service.captures / capture.filename).exists()


def test_a_service_killed_during_an_upload_resumes_it_after_restart_with_no_partial_object(
    seaweedfs: SeaweedFS, tmp_path: Path
) -> None:
    bucket = seaweedfs.new_bucket()
    proxy = GatedProxy(int(seaweedfs.endpoint.rsplit(":", 1)[1]))
    # the request completing a multipart upload never gets through: the upload is caught half done
    proxy.arm(rb"POST [^ ]*\?uploadId=")
    env = {
        **environment(FAST_CAMERA),
        **seaweedfs.service_env(bucket),
        "S3_ENDPOINT_URL": proxy.endpoint,
        "SPOOL_PATH": str(tmp_path / "spool"),
        "RECORDINGS_PATH": str(tmp_path / "recordings"),
        "STATE_PATH": str(tmp_path / "state"),
        "REST_ENABLED": "false",
        "SIMULATED_PIXEL_FORMAT": "mono16",
        "IMAGE_FORMAT": "tiff",  # 2448x2048x2 bytes: 10 MB, two parts
    }
    client = seaweedfs.client()
    try:
        with ServiceProcess(env, cwd=tmp_path) as victim:
            port = victim.wait_listening()
            with grpc.insecure_channel(f"127.0.0.1:{port}", options=channel_options(MAX_MESSAGE_BYTES)) as channel:
                capture = camera_pb2_grpc.CameraServiceStub(channel).Capture(
                    pb.CaptureRequest(include_image_data=True), timeout=30
                )
            key = f"camera-grpc/SIM-0001/captures/{capture.filename}"
            assert proxy.held.wait(UPLOAD_TIMEOUT_S), victim.log
            uploads = client.list_multipart_uploads(Bucket=bucket).get("Uploads", [])
            assert [upload["Key"] for upload in uploads] == [key]  # parts sent, not completed
            victim.stop(signal.SIGKILL)
        assert key not in keys_under(client, bucket)  # no partial object visible
    finally:
        proxy.close()
    env["S3_ENDPOINT_URL"] = seaweedfs.endpoint
    with ServiceProcess(env, cwd=tmp_path) as restarted:
        port = restarted.wait_listening()
        with grpc.insecure_channel(f"127.0.0.1:{port}") as channel:
            stub = storage_pb2_grpc.StorageServiceStub(channel)
            assert poll(lambda: stub.GetStorageStatus(spb.GetStorageStatusRequest()).uploaded_files >= 1), restarted.log
        assert re.search(r"aborted 1 incomplete upload\(s\) of " + re.escape(key), restarted.log), restarted.log
    body = client.get_object(Bucket=bucket, Key=key)["Body"].read()
    assert body == capture.image_data
    assert client.list_multipart_uploads(Bucket=bucket).get("Uploads", []) == []
    assert sorted(keys_under(client, bucket)) == sorted([key, key.rsplit(".", 1)[0] + ".json"])


def poll(predicate: Callable[[], bool], timeout_s: float = UPLOAD_TIMEOUT_S) -> bool:
    """Whether ``predicate()`` became true within ``timeout_s`` (polled; blocking tests)."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(POLL_S)
    return False


def test_the_s3_backend_needs_a_bucket() -> None:
    with pytest.raises(ConfigurationError, match="STORAGE_BACKEND=s3 needs S3_BUCKET"):
        load_settings(None, storage_backend="s3")
    assert load_settings(None, storage_backend="s3", s3_bucket="lab").s3_bucket == "lab"


async def test_without_an_object_store_status_says_local_and_no_url_is_given(service: RunningService) -> None:
    stub = storage_stub(service)
    status = await stub.GetStorageStatus(spb.GetStorageStatusRequest())
    assert status.backend == spb.STORAGE_BACKEND_LOCAL and status.disk_free_bytes > 0 and not status.bucket
    assert await service.health_status(STORAGE_SERVICE_NAME) == SERVING
    capture = await service.stub.Capture(pb.CaptureRequest())
    with pytest.raises(grpc.aio.AioRpcError) as local:
        await stub.GetDownloadUrl(spb.GetDownloadUrlRequest(name=f"captures/{capture.filename}"))
    assert local.value.code() == grpc.StatusCode.FAILED_PRECONDITION
    assert "STORAGE_BACKEND=local" in (local.value.details() or "")
