"""Captures over a real server: ListCaptures, GetCapture and DeleteCapture (paging, metadata, bytes, names that must
not resolve), a colour camera's captures in colour with a truthful sidecar, and deleting captures kept in a real
object store (SeaweedFS)."""

from __future__ import annotations

import json
import os
from pathlib import Path

import cv2
import grpc
import numpy as np
import pytest
from google.protobuf import field_mask_pb2
from google.rpc import error_details_pb2
from grpc_status import rpc_status

from camera_grpc.client import AsyncCameraClient, CameraRpcError
from camera_grpc.core.thumbnails import STATE_CACHE_FOLDER
from camera_grpc.gen.camera.v1 import camera_pb2 as pb
from camera_grpc.gen.camera.v1 import storage_pb2 as spb
from tests.support import RunningService, ServiceFactory, closed_port
from tests.support.seaweedfs import SeaweedFS, seaweedfs_fixture  # noqa: F401
from tests.test_object_store import UPLOAD_TIMEOUT_S, keys_under, s3_overrides, stop, storage_stub, until


def error_info(error: grpc.aio.AioRpcError) -> tuple[str, str]:
    """(domain, reason) of the google.rpc.ErrorInfo detail of an error."""
    status = rpc_status.from_call(error)
    assert status is not None, "no rich status details"
    for detail in status.details:
        info = error_details_pb2.ErrorInfo()
        if detail.Unpack(info):
            return info.domain, info.reason
    raise AssertionError("no ErrorInfo detail")


async def capture_n(service: RunningService, count: int, **fields: object) -> list[pb.CaptureResponse]:
    return [await service.stub.Capture(pb.CaptureRequest(**fields)) for _ in range(count)]


async def test_an_empty_or_missing_folder_lists_nothing(service: RunningService) -> None:
    assert not service.captures.exists()
    response = await service.stub.ListCaptures(pb.ListCapturesRequest())
    assert list(response.captures) == [] and response.next_page_token == ""


async def test_captures_are_listed_newest_first_with_their_metadata(service: RunningService) -> None:
    taken = await capture_n(service, 3, exposure_ms=3.0, gain_db=1.5)
    listed = (await service.stub.ListCaptures(pb.ListCapturesRequest())).captures
    assert [entry.filename for entry in listed] == [response.filename for response in reversed(taken)]
    for entry, response in zip(listed, reversed(taken), strict=True):
        assert entry.format == pb.IMAGE_FORMAT_JPEG
        assert entry.size_bytes == response.size_bytes == Path(response.path).stat().st_size
        assert (entry.width, entry.height) == (response.width, response.height)
        assert entry.frame_number == response.frame_number
        assert entry.captured_at == response.captured_at
        assert (entry.exposure_ms, entry.gain_db) == (pytest.approx(3.0), pytest.approx(1.5))
        # No object store configured: every capture is in the local folder, with no bucket or key.
        assert entry.location == pb.StorageLocation(state=pb.STORAGE_STATE_LOCAL)


async def test_pages_cover_every_capture_once_and_do_not_shift_when_new_ones_arrive(service: RunningService) -> None:
    taken = await capture_n(service, 5)
    first = await service.stub.ListCaptures(pb.ListCapturesRequest(page_size=2))
    assert len(first.captures) == 2 and first.next_page_token
    newer = await capture_n(service, 1)  # saved between two page requests
    second = await service.stub.ListCaptures(pb.ListCapturesRequest(page_size=2, page_token=first.next_page_token))
    third = await service.stub.ListCaptures(pb.ListCapturesRequest(page_size=2, page_token=second.next_page_token))
    assert third.next_page_token == ""
    names = [entry.filename for page in (first, second, third) for entry in page.captures]
    assert names == [response.filename for response in reversed(taken)]
    assert newer[0].filename not in names
    everything = await service.stub.ListCaptures(pb.ListCapturesRequest(page_size=1000))
    assert len(everything.captures) == 6 and everything.next_page_token == ""


async def test_files_that_are_not_complete_captures_are_not_listed(service: RunningService) -> None:
    (kept,) = await capture_n(service, 1)
    folder = service.captures
    (folder / "notes.txt").write_text("not a capture")
    (folder / "capture_20260101_000000_000000_1.jpg").write_bytes(b"an image without its sidecar")
    (folder / "capture_20260101_000000_000000_2.jpg").write_bytes(b"an image with a broken sidecar")
    (folder / "capture_20260101_000000_000000_2.json").write_text("{not json")
    (folder / ".tmp-123.part").write_bytes(b"a write in progress")
    listed = (await service.stub.ListCaptures(pb.ListCapturesRequest())).captures
    assert [entry.filename for entry in listed] == [kept.filename]


async def test_a_bad_page_token_is_invalid_argument(service: RunningService) -> None:
    for token in ("not-a-token", "Li4vZXRjL3Bhc3N3ZA"):  # the second is base64 of ../etc/passwd
        with pytest.raises(grpc.aio.AioRpcError) as caught:
            await service.stub.ListCaptures(pb.ListCapturesRequest(page_token=token))
        assert caught.value.code() == grpc.StatusCode.INVALID_ARGUMENT
        assert "page_token" in caught.value.details()
        assert error_info(caught.value) == ("camera-grpc", "INVALID_ARGUMENT")  # a page token is not a setting


@pytest.mark.parametrize(
    ("image_format", "content_type"),
    [(pb.IMAGE_FORMAT_JPEG, "image/jpeg"), (pb.IMAGE_FORMAT_PNG, "image/png"), (pb.IMAGE_FORMAT_BMP, "image/bmp")],
)
async def test_get_capture_returns_the_file_its_type_and_metadata(
    service: RunningService, image_format: int, content_type: str
) -> None:
    taken = await service.stub.Capture(pb.CaptureRequest(format=image_format, exposure_ms=4.0))
    response = await service.stub.GetCapture(pb.GetCaptureRequest(filename=taken.filename))
    assert response.data == Path(taken.path).read_bytes()
    assert response.content_type == content_type
    assert response.capture.filename == taken.filename
    assert response.capture.format == image_format
    assert response.capture.size_bytes == len(response.data)
    assert response.capture.frame_number == taken.frame_number
    assert response.capture.exposure_ms == pytest.approx(4.0)


def names_that_are_not_captures(folder: Path, taken: pb.CaptureResponse, outside: Path) -> list[str]:
    """Names GetCapture and DeleteCapture must answer NOT_FOUND, with the files that tempt them (links out of the
    folder to files in ``outside``, a directory and a FIFO named like captures) made in ``folder``."""
    secret = outside / "secret.jpg"
    secret.write_bytes(b"outside the captures folder")
    (outside / "secret.json").write_text(json.dumps(json.loads(Path(taken.metadata_path).read_text())))
    # A link named like a capture that leads outside, with a sidecar that is also a link outside.
    os.symlink(secret, folder / "capture_20260101_000000_000000_7.jpg")
    os.symlink(outside / "secret.json", folder / "capture_20260101_000000_000000_7.json")
    # A directory and a FIFO named like captures (reading a FIFO must not hang the service).
    (folder / "capture_20260101_000000_000000_8.jpg").mkdir()
    (folder / "capture_20260101_000000_000000_8.json").write_text(Path(taken.metadata_path).read_text())
    os.mkfifo(folder / "capture_20260101_000000_000000_9.jpg")
    (folder / "capture_20260101_000000_000000_9.json").write_text(Path(taken.metadata_path).read_text())
    return [
        "",
        ".",
        "..",
        "../secret.jpg",
        str(secret),
        f"{folder}/{taken.filename}",
        f"./{taken.filename}",
        f"sub/../{taken.filename}",
        taken.filename.replace(".jpg", ".json"),  # the sidecar is metadata, not a capture
        taken.filename + "\0",
        taken.filename.upper(),
        "capture_20260101_000000_000000_7.jpg",
        "capture_20260101_000000_000000_8.jpg",
        "capture_20260101_000000_000000_9.jpg",
        "capture_20990101_000000_000000_1.jpg",  # well formed, not there
    ]


async def test_names_that_are_not_captures_in_the_folder_are_not_found(service: RunningService, tmp_path: Path) -> None:
    (taken,) = await capture_n(service, 1)
    names = names_that_are_not_captures(service.captures, taken, tmp_path)
    for name in names:
        with pytest.raises(grpc.aio.AioRpcError) as caught:
            await service.stub.GetCapture(pb.GetCaptureRequest(filename=name), timeout=5)
        assert caught.value.code() == grpc.StatusCode.NOT_FOUND, name
        assert error_info(caught.value) == ("camera-grpc", "NOT_FOUND")
    listed = (await service.stub.ListCaptures(pb.ListCapturesRequest())).captures
    assert [entry.filename for entry in listed] == [taken.filename]


async def test_a_link_that_stays_inside_the_folder_is_served(service: RunningService) -> None:
    (taken,) = await capture_n(service, 1)
    alias = "capture_20260101_000000_000000_5"
    os.symlink(taken.filename, service.captures / f"{alias}.jpg")
    os.symlink(Path(taken.metadata_path).name, service.captures / f"{alias}.json")
    response = await service.stub.GetCapture(pb.GetCaptureRequest(filename=f"{alias}.jpg"))
    assert response.data == Path(taken.path).read_bytes()
    assert response.capture.filename == f"{alias}.jpg"


@pytest.mark.parametrize(
    ("image_format", "extension", "bits"),
    [(pb.IMAGE_FORMAT_JPEG, ".jpg", 8), (pb.IMAGE_FORMAT_PNG, ".png", 16), (pb.IMAGE_FORMAT_TIFF, ".tiff", 16)],
)
async def test_a_colour_camera_capture_is_saved_in_colour_and_its_sidecar_says_so(
    start_service: ServiceFactory, image_format: int, extension: str, bits: int
) -> None:
    service = await start_service(simulated_width=320, simulated_height=240, simulated_color=True)
    mask = field_mask_pb2.FieldMask(paths=["pixel_format"])
    settings = pb.CameraSettings(
        pixel_format=pb.PIXEL_FORMAT_BAYER16_RGGB if bits == 16 else pb.PIXEL_FORMAT_BAYER8_RGGB
    )
    await service.stub.UpdateSettings(pb.UpdateSettingsRequest(settings=settings, update_mask=mask))
    response = await service.stub.Capture(pb.CaptureRequest(format=image_format, include_image_data=True))
    assert response.filename.endswith(extension)
    assert pb.PixelFormat.Name(response.pixel_format).startswith("PIXEL_FORMAT_BAYER")  # as delivered
    image = cv2.imdecode(np.frombuffer(response.image_data, np.uint8), cv2.IMREAD_UNCHANGED)
    assert image.shape == (240, 320, 3)  # demosaiced: three channels of the sensor's size
    assert image.dtype == (np.uint16 if bits == 16 else np.uint8)
    assert image.max() < 1 << response.bit_depth  # 16-bit samples keep the camera's right-aligned values
    sidecar = json.loads(Path(response.path).with_suffix(".json").read_text())
    assert sidecar["pixel_format"] == pb.PixelFormat.Name(response.pixel_format).removeprefix("PIXEL_FORMAT_").lower()
    assert sidecar["bit_depth"] == response.bit_depth
    assert sidecar["image"]["color"] == "rgb" and sidecar["image"]["bits_per_sample"] == bits
    assert sidecar["image"]["demosaiced_from"] == "rggb"


# -- thumbnails (issue 17) ---------------------------------------------------------------------------


#: An exposure at which the simulated scene fills most of the sensor's range (it is designed for 100 ms).
WELL_EXPOSED_MS = 80.0


def decode_jpeg(data: bytes) -> np.ndarray:
    assert data[:2] == b"\xff\xd8", "not a JPEG"
    return cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_UNCHANGED)


async def test_a_thumbnail_is_a_small_jpeg_of_the_capture_made_once(
    start_service: ServiceFactory, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))  # not used: the cache is in the service's state
    service = await start_service(simulated_width=640, simulated_height=480, state_path=tmp_path / "state")
    taken = await service.stub.Capture(pb.CaptureRequest(format=pb.IMAGE_FORMAT_PNG, exposure_ms=WELL_EXPOSED_MS))
    request = pb.GetCaptureRequest(filename=taken.filename, thumbnail_max_width=160)
    response = await service.stub.GetCapture(request)
    assert response.content_type == "image/jpeg"
    assert response.capture.filename == taken.filename and response.capture.size_bytes == taken.size_bytes
    thumbnail = decode_jpeg(response.data)
    assert thumbnail.shape == (120, 160)
    full = cv2.imread(taken.path, cv2.IMREAD_UNCHANGED)
    expected = cv2.resize(full, (160, 120), interpolation=cv2.INTER_AREA).astype(int)
    assert expected.mean() > 40  # a well-exposed picture: levels can be told apart
    assert np.abs(thumbnail.astype(int) - expected).mean() < 4  # the capture's own picture, made small
    assert not (tmp_path / "xdg").exists()
    cached = list((tmp_path / "state" / STATE_CACHE_FOLDER).rglob("*.jpg"))
    assert len(cached) == 1 and cached[0].read_bytes() == response.data
    made = cached[0].stat()
    again = await service.stub.GetCapture(request)
    assert again.data == response.data
    assert (cached[0].stat().st_ino, cached[0].stat().st_mtime_ns) == (made.st_ino, made.st_mtime_ns)  # not remade
    default = await service.stub.GetCapture(pb.GetCaptureRequest(filename=taken.filename, thumbnail_max_width=0))
    assert decode_jpeg(default.data).shape == (192, 256)  # 0: the default width
    plain = await service.stub.GetCapture(pb.GetCaptureRequest(filename=taken.filename))
    assert plain.data == Path(taken.path).read_bytes() and plain.content_type == "image/png"  # unset: the file


async def test_a_16_bit_colour_capture_thumbnail_is_in_colour_at_its_levels(
    start_service: ServiceFactory, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    service = await start_service(simulated_width=320, simulated_height=240, simulated_color=True)
    mask = field_mask_pb2.FieldMask(paths=["pixel_format"])
    settings = pb.CameraSettings(pixel_format=pb.PIXEL_FORMAT_BAYER16_RGGB)
    await service.stub.UpdateSettings(pb.UpdateSettingsRequest(settings=settings, update_mask=mask))
    taken = await service.stub.Capture(pb.CaptureRequest(format=pb.IMAGE_FORMAT_PNG, exposure_ms=WELL_EXPOSED_MS))
    response = await service.stub.GetCapture(pb.GetCaptureRequest(filename=taken.filename, thumbnail_max_width=64))
    thumbnail = decode_jpeg(response.data)
    assert thumbnail.shape == (48, 64, 3)
    full = cv2.imread(taken.path, cv2.IMREAD_UNCHANGED)  # 16-bit BGR, right-aligned 12-bit samples
    expected = cv2.resize(full >> (taken.bit_depth - 8), (64, 48), interpolation=cv2.INTER_AREA).astype(int)
    assert expected.mean() > 40  # a well-exposed picture: levels can be told apart
    assert np.abs(thumbnail.astype(int) - expected).mean() < 6  # same colours and levels as the capture


async def test_a_thumbnail_width_out_of_range_is_refused_naming_range_and_unit(service: RunningService) -> None:
    (taken,) = await capture_n(service, 1)
    for width in (1, 15, 1025, 100_000):
        with pytest.raises(grpc.aio.AioRpcError) as caught:
            await service.stub.GetCapture(pb.GetCaptureRequest(filename=taken.filename, thumbnail_max_width=width))
        assert caught.value.code() == grpc.StatusCode.INVALID_ARGUMENT
        assert "thumbnail_max_width" in caught.value.details()
        assert "between 16 and 1024 pixels" in caught.value.details()
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        name = "capture_20990101_000000_000000_1.jpg"
        await service.stub.GetCapture(pb.GetCaptureRequest(filename=name, thumbnail_max_width=64))
    assert caught.value.code() == grpc.StatusCode.NOT_FOUND


# -- DeleteCapture ----------------------------------------------------------------------------------------


async def not_found(call: object) -> None:
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await call  # type: ignore[misc]
    assert caught.value.code() == grpc.StatusCode.NOT_FOUND, caught.value.details()


async def test_a_deleted_capture_is_gone_with_its_sidecar_and_cached_thumbnails(
    start_service: ServiceFactory, tmp_path: Path
) -> None:
    service = await start_service(simulated_width=320, simulated_height=240, state_path=tmp_path / "state")
    kept, doomed = await capture_n(service, 2, format=pb.IMAGE_FORMAT_PNG)
    thumbnails = {}
    for capture, width in ((kept, 64), (doomed, 64), (doomed, 32)):
        request = pb.GetCaptureRequest(filename=capture.filename, thumbnail_max_width=width)
        thumbnails[capture.filename, width] = (await service.stub.GetCapture(request)).data
    cache = tmp_path / "state" / STATE_CACHE_FOLDER
    assert len(list(cache.iterdir())) == 3
    assert await service.stub.DeleteCapture(pb.DeleteCaptureRequest(filename=doomed.filename)) == (
        pb.DeleteCaptureResponse()
    )
    assert sorted(path.name for path in service.captures.iterdir()) == sorted(
        [kept.filename, Path(kept.metadata_path).name]
    )
    listed = (await service.stub.ListCaptures(pb.ListCapturesRequest())).captures
    assert [entry.filename for entry in listed] == [kept.filename]
    await not_found(service.stub.GetCapture(pb.GetCaptureRequest(filename=doomed.filename)))
    [left] = list(cache.iterdir())  # the deleted capture's thumbnails (both widths) went, the other's stayed
    assert left.read_bytes() == thumbnails[kept.filename, 64]
    await not_found(service.stub.DeleteCapture(pb.DeleteCaptureRequest(filename=doomed.filename)))  # once only
    kept_again = await service.stub.GetCapture(pb.GetCaptureRequest(filename=kept.filename))
    assert kept_again.data == Path(kept.path).read_bytes()
    async with AsyncCameraClient(service.address) as camera:  # the Python client's call
        await camera.delete_capture(kept.filename)
        with pytest.raises(CameraRpcError) as raised:
            await camera.delete_capture(kept.filename)
    assert (raised.value.code, raised.value.reason) == (grpc.StatusCode.NOT_FOUND, "NOT_FOUND")
    assert list(service.captures.iterdir()) == [] and list(cache.iterdir()) == []


async def test_delete_refuses_names_that_are_not_listed_captures_and_changes_nothing(
    service: RunningService, tmp_path: Path
) -> None:
    (taken,) = await capture_n(service, 1)
    outside = tmp_path / "outside"
    outside.mkdir()
    names = names_that_are_not_captures(service.captures, taken, outside)
    before = sorted((path.name, path.is_symlink(), path.exists()) for path in service.captures.iterdir())
    for name in names:
        with pytest.raises(grpc.aio.AioRpcError) as caught:
            await service.stub.DeleteCapture(pb.DeleteCaptureRequest(filename=name), timeout=5)
        assert caught.value.code() == grpc.StatusCode.NOT_FOUND, name
        assert error_info(caught.value) == ("camera-grpc", "NOT_FOUND")
    assert sorted((path.name, path.is_symlink(), path.exists()) for path in service.captures.iterdir()) == before
    assert sorted(path.name for path in outside.iterdir()) == ["secret.jpg", "secret.json"]
    # A listed link to a capture in the folder: deleting it removes the link, not what it points to.
    alias = "capture_20260101_000000_000000_5"
    os.symlink(taken.filename, service.captures / f"{alias}.jpg")
    os.symlink(Path(taken.metadata_path).name, service.captures / f"{alias}.json")
    await service.stub.DeleteCapture(pb.DeleteCaptureRequest(filename=f"{alias}.jpg"))
    assert not (service.captures / f"{alias}.jpg").is_symlink() and not (service.captures / f"{alias}.json").exists()
    response = await service.stub.GetCapture(pb.GetCaptureRequest(filename=taken.filename))
    assert response.data == Path(taken.path).read_bytes()


async def state_of(service: RunningService, filename: str) -> int | None:
    """A capture's StorageState as ListCaptures reports it (None: not listed)."""
    listed = (await service.stub.ListCaptures(pb.ListCapturesRequest(page_size=1000))).captures
    return next((entry.location.state for entry in listed if entry.filename == filename), None)


async def uploaded(service: RunningService, filename: str) -> None:
    async def done() -> bool:
        return await state_of(service, filename) == pb.STORAGE_STATE_UPLOADED

    await until(done, f"{filename} uploaded", UPLOAD_TIMEOUT_S)


async def test_deleting_captures_kept_in_an_object_store_deletes_their_objects_and_waiting_uploads(
    start_service: ServiceFactory, seaweedfs: SeaweedFS, tmp_path: Path
) -> None:
    bucket = seaweedfs.new_bucket()
    settings = s3_overrides(seaweedfs, bucket, tmp_path, simulated_width=64, simulated_height=48)
    service = await start_service(**settings)
    first = await service.stub.Capture(pb.CaptureRequest())
    await uploaded(service, first.filename)
    thumbnail = pb.GetCaptureRequest(filename=first.filename, thumbnail_max_width=32)
    assert (await service.stub.GetCapture(thumbnail)).data  # made from the bucket's bytes, and cached
    quick = await service.stub.Capture(pb.CaptureRequest())  # deleted at once: waiting, uploading or uploaded
    await service.stub.DeleteCapture(pb.DeleteCaptureRequest(filename=quick.filename))
    await service.stub.DeleteCapture(pb.DeleteCaptureRequest(filename=first.filename))
    last = await service.stub.Capture(pb.CaptureRequest())
    await uploaded(service, last.filename)  # uploads go in order: whatever the quick one's did is done
    prefix = "camera-grpc/SIM-0001/captures/"
    stem = Path(last.filename).stem
    assert sorted(keys_under(seaweedfs.client(), bucket)) == sorted(
        [f"{prefix}{stem}.json", f"{prefix}{last.filename}"]
    )
    listed = (await service.stub.ListCaptures(pb.ListCapturesRequest())).captures
    assert [entry.filename for entry in listed] == [last.filename]
    for gone in (first, quick):
        await not_found(service.stub.GetCapture(pb.GetCaptureRequest(filename=gone.filename)))
    assert sorted(path.name for path in service.captures.iterdir()) == sorted(
        [f"{stem}.json", f"{last.filename}.uploaded"]
    )
    assert not list((service.settings.state_path / STATE_CACHE_FOLDER).iterdir())  # the thumbnail went too
    await stop(service)
    # The same spool with the store unreachable: an uploaded capture cannot be deleted (its image is only in the
    # bucket) and is kept whole; a waiting one is deleted and its upload forgotten.
    service = await start_service(**{**settings, "s3_endpoint_url": f"http://127.0.0.1:{closed_port()}"})
    waiting = await service.stub.Capture(pb.CaptureRequest())
    status = storage_stub(service)
    assert (await status.GetStorageStatus(spb.GetStorageStatusRequest())).pending_uploads == 1
    spool_before = sorted(path.name for path in service.captures.iterdir())
    with pytest.raises(grpc.aio.AioRpcError) as refused:
        await service.stub.DeleteCapture(pb.DeleteCaptureRequest(filename=last.filename))
    assert refused.value.code() == grpc.StatusCode.UNAVAILABLE
    assert "could not be deleted" in (refused.value.details() or "")
    assert sorted(path.name for path in service.captures.iterdir()) == spool_before
    assert await state_of(service, last.filename) == pb.STORAGE_STATE_UPLOADED
    await service.stub.DeleteCapture(pb.DeleteCaptureRequest(filename=waiting.filename))
    assert (await status.GetStorageStatus(spb.GetStorageStatusRequest())).pending_uploads == 0
    assert sorted(path.name for path in service.captures.iterdir()) == sorted(
        [f"{stem}.json", f"{last.filename}.uploaded"]
    )
    assert await state_of(service, waiting.filename) is None
