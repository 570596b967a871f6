"""The object store wrapper and the uploader against a real SeaweedFS (tests/support/seaweedfs.py)."""

from __future__ import annotations

import base64
import hashlib
import os
import random
import threading
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from camera_grpc.core.object_store import ChecksumMismatchError, ObjectStore, digest_file
from camera_grpc.core.uploads import RetryPolicy, UploadedJob, Uploader, UploadFile
from tests.support.seaweedfs import ACCESS_KEY, SECRET_KEY, SeaweedFS, seaweedfs_fixture  # noqa: F401
from tests.support.waiting import closed_port

#: S3's smallest part: files this large or larger go in parts.
PART_BYTES = 5 * 1024 * 1024
#: Seconds a test waits for the uploader.
WAIT_S = 20.0


def store_of(server: SeaweedFS, bucket: str, endpoint: str | None = None) -> ObjectStore:
    return ObjectStore(
        bucket, endpoint_url=endpoint or server.endpoint, access_key=(ACCESS_KEY, SECRET_KEY), part_bytes=PART_BYTES
    )


def poll(predicate: Callable[[], bool], timeout_s: float = WAIT_S) -> bool:
    deadline = time.monotonic() + timeout_s
    while not predicate():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.02)
    return True


def test_backoff_grows_exponentially_with_full_jitter_up_to_its_cap() -> None:
    policy = RetryPolicy(initial_delay_s=0.5, max_delay_s=5.0)
    highest = random.Random(0)
    highest.uniform = lambda low, high: high  # type: ignore[method-assign]  # the top of each draw
    assert [policy.delay_s(attempt, highest) for attempt in range(6)] == [0.5, 1.0, 2.0, 4.0, 5.0, 5.0]
    draws = [policy.delay_s(3, random.Random(seed)) for seed in range(50)]
    assert all(0 <= draw <= 4.0 for draw in draws) and len(set(draws)) == 50  # jittered, never above the ceiling


@pytest.mark.parametrize("size", [0, 1000, PART_BYTES, 2 * PART_BYTES + 7])
def test_uploads_are_confirmed_by_the_store_s_own_checksum(seaweedfs: SeaweedFS, tmp_path: Path, size: int) -> None:
    bucket = seaweedfs.new_bucket()
    path = tmp_path / "file"
    path.write_bytes(os.urandom(size))
    stored = store_of(seaweedfs, bucket).put_file(path, "a/file", content_type="application/octet-stream")
    head = seaweedfs.client().head_object(Bucket=bucket, Key="a/file", ChecksumMode="ENABLED")
    parts = int(head["ETag"].strip('"').rpartition("-")[2]) if "-" in head["ETag"] else 1
    assert parts == (1 if size < PART_BYTES else -(-size // PART_BYTES))  # multipart at the part size
    assert stored.checksum == head["ChecksumSHA256"] == digest_file(path, PART_BYTES).checksum
    assert head["Metadata"]["sha256"] == hashlib.sha256(path.read_bytes()).hexdigest()
    if size < PART_BYTES:  # one request: the whole file's SHA-256
        assert head["ChecksumSHA256"] == base64.b64encode(hashlib.sha256(path.read_bytes()).digest()).decode()


def test_an_object_with_other_bytes_is_not_confirmed(seaweedfs: SeaweedFS, tmp_path: Path) -> None:
    bucket = seaweedfs.new_bucket()
    store = store_of(seaweedfs, bucket)
    path = tmp_path / "file"
    path.write_bytes(b"the capture")
    store.put_file(path, "k", content_type="image/jpeg")
    seaweedfs.client().put_object(Bucket=bucket, Key="k", Body=b"the kapture", ChecksumAlgorithm="SHA256")
    stored = store.head("k")
    assert stored is not None
    with pytest.raises(ChecksumMismatchError):
        store.confirm(stored, digest_file(path, PART_BYTES))


def test_a_multipart_upload_left_incomplete_is_invisible_and_aborted(seaweedfs: SeaweedFS) -> None:
    bucket = seaweedfs.new_bucket()
    client = seaweedfs.client()
    upload = client.create_multipart_upload(Bucket=bucket, Key="big")
    client.upload_part(Bucket=bucket, Key="big", UploadId=upload["UploadId"], PartNumber=1, Body=b"x" * PART_BYTES)
    assert "Contents" not in client.list_objects_v2(Bucket=bucket)  # never visible as an object
    assert store_of(seaweedfs, bucket).abort_incomplete("big") == 1
    assert client.list_multipart_uploads(Bucket=bucket).get("Uploads", []) == []


def test_queued_files_wait_through_a_restart_and_leave_the_spool_only_once_confirmed(
    seaweedfs: SeaweedFS, tmp_path: Path
) -> None:
    bucket = seaweedfs.new_bucket()
    spool = tmp_path / "spool"
    image = tmp_path / "image.jpg"
    image.write_bytes(os.urandom(3000))
    finished: list[UploadedJob] = []

    def finisher(uploaded: UploadedJob) -> None:
        finished.append(uploaded)
        image.unlink()  # as a capture's image leaves the spool

    down = Uploader(
        store_of(seaweedfs, bucket, f"http://127.0.0.1:{closed_port()}"),
        spool,
        budget_bytes=2**30,
        finishers={"capture": finisher},
        retry=RetryPolicy(0.01, 0.05),
    )
    down.start()
    job = down.enqueue("capture", [UploadFile(image, "cam/captures/image.jpg", "image/jpeg")], filename="image.jpg")
    assert poll(lambda: "unreachable" in down.status().last_error)
    assert down.status().pending_uploads == 1 and down.status().spool_bytes == 3000
    down.close()
    assert finished == [] and image.exists() and (spool / ".queue" / job.name).exists()

    uploaded = threading.Event()
    up = Uploader(
        store_of(seaweedfs, bucket),
        spool,
        budget_bytes=2**30,
        finishers={"capture": finisher},
        on_uploaded=lambda _: uploaded.set(),
    )
    content = image.read_bytes()
    up.start()
    try:
        assert uploaded.wait(WAIT_S)
        status = up.status()
        assert (status.pending_uploads, status.spool_bytes, status.uploaded_files, status.reachable) == (0, 0, 1, True)
    finally:
        up.close()
    body = seaweedfs.client().get_object(Bucket=bucket, Key="cam/captures/image.jpg")["Body"].read()
    assert body == content
    assert len(finished) == 1 and not image.exists() and list((spool / ".queue").iterdir()) == []


def test_a_job_whose_file_is_gone_is_dropped_and_the_queue_goes_on(seaweedfs: SeaweedFS, tmp_path: Path) -> None:
    bucket = seaweedfs.new_bucket()
    done = threading.Event()
    uploader = Uploader(
        store_of(seaweedfs, bucket), tmp_path / "spool", budget_bytes=2**30, on_uploaded=lambda _: done.set()
    )
    gone, kept = tmp_path / "gone", tmp_path / "kept"
    gone.write_bytes(b"1")
    kept.write_bytes(b"2")
    uploader.enqueue("capture", [UploadFile(gone, "gone", "image/jpeg")], filename="gone")
    uploader.enqueue("capture", [UploadFile(kept, "kept", "image/jpeg")], filename="kept")
    gone.unlink()
    uploader.start()
    try:
        assert done.wait(WAIT_S)
        assert poll(lambda: uploader.status().pending_uploads == 0)
    finally:
        uploader.close()
    assert [item["Key"] for item in seaweedfs.client().list_objects_v2(Bucket=bucket)["Contents"]] == ["kept"]
