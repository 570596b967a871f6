"""Storage over REST (issue 16): ``GET /storage``, and downloads of files in the object store redirected to a
pre-signed URL (or streamed, with S3_DOWNLOAD_REDIRECT off), against a real service storing in a real SeaweedFS."""

from __future__ import annotations

from pathlib import Path

import httpx

from camera_grpc.gen.camera.v1 import camera_pb2 as pb
from tests.gateway.conftest import GatewayFactory, RunningGateway
from tests.support import ServiceFactory
from tests.support.seaweedfs import SeaweedFS, seaweedfs_fixture  # noqa: F401  (the seaweedfs fixture)
from tests.test_object_store import s3_overrides, until, wait_uploaded


async def test_local_storage_status_and_downloads_stream(gateway: RunningGateway) -> None:
    status = await gateway.http.get("/storage")
    assert status.status_code == 200, status.text
    body = status.json()
    assert body["backend"] == "local" and body["disk_free_bytes"] > 0 and body["last_upload_time"] is None
    capture = (await gateway.http.post("/capture")).json()
    download = await gateway.http.get(capture["url"])  # S3_DOWNLOAD_REDIRECT is on by default: no effect here
    assert download.status_code == 200 and download.content == Path(capture["path"]).read_bytes()


async def test_files_in_the_object_store_redirect_to_a_presigned_url_or_stream(
    start_service: ServiceFactory, start_gateway: GatewayFactory, seaweedfs: SeaweedFS, tmp_path: Path
) -> None:
    bucket = seaweedfs.new_bucket()
    service = await start_service(**s3_overrides(seaweedfs, bucket, tmp_path))
    redirecting = await start_gateway(service)
    streaming = await start_gateway(service, s3_download_redirect=False)
    http = redirecting.http

    capture = await service.stub.Capture(pb.CaptureRequest(include_image_data=True))
    started = await http.post("/recordings", json={"recording_id": "up-1", "max_frames": 3})
    assert started.status_code == 201, started.text
    await wait_uploaded(service, 1)

    async def recording_uploaded() -> bool:
        files = (await http.get("/recordings/up-1")).json()["files"]
        return bool(files) and all(entry["location"]["state"] == "uploaded" for entry in files)

    await until(recording_uploaded, "every file of the recording uploaded")

    status = (await http.get("/storage")).json()
    assert (status["backend"], status["bucket"], status["prefix"]) == ("object_store", bucket, "camera-grpc/SIM-0001/")
    assert status["reachable"] is True and status["uploaded_files"] >= 1 and status["last_upload_time"] is not None

    listed = (await http.get("/captures")).json()["captures"][0]
    assert listed["location"]["state"] == "uploaded"
    recording = (await http.get("/recordings/up-1")).json()
    downloads = [(listed["url"], capture.image_data)]
    s3 = seaweedfs.client()  # an uploaded recording's files are only in the bucket: compare with the objects
    downloads += [
        (entry["url"], s3.get_object(Bucket=bucket, Key=entry["location"]["object_key"])["Body"].read())
        for entry in recording["files"]
    ]
    async with httpx.AsyncClient(timeout=30) as store:  # no credentials: the URL carries its signature
        for url, content in downloads:
            redirected = await http.get(url)
            assert redirected.status_code == 307, (url, redirected.text)
            location = redirected.headers["location"]
            assert location.startswith(seaweedfs.endpoint) and "X-Amz-Signature" in location
            fetched = await store.get(location)
            assert fetched.status_code == 200 and fetched.content == content, url
            streamed = await streaming.http.get(url)
            assert streamed.status_code == 200 and streamed.content == content, url


async def test_captures_say_where_they_are_kept(gateway: RunningGateway) -> None:
    await gateway.http.post("/capture")
    listed = (await gateway.http.get("/captures")).json()["captures"][0]
    assert listed["location"] == {"state": "local", "bucket": "", "object_key": ""}
