"""GET /captures, GET and DELETE /captures/{filename}: listing, paging, downloads, deleting, and names that must not
resolve."""

from __future__ import annotations

import asyncio
import io
import os
from pathlib import Path

import pytest
from PIL import Image

from camera_grpc.client import DEFAULT_THUMBNAIL_WIDTH_PX, THUMBNAIL_MAX_WIDTH_PX, THUMBNAIL_MIN_WIDTH_PX
from tests.gateway.conftest import RunningGateway

SECRET = b"top secret, outside the captures folder"


async def raw_get(port: int, target: str, method: str = "GET") -> tuple[int, bytes]:
    """A request (GET unless told) with the target sent exactly as given (no client-side normalisation); (status,
    body)."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    writer.write(f"{method} {target} HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n".encode("latin-1"))
    await writer.drain()
    data = await asyncio.wait_for(reader.read(), timeout=10)
    writer.close()
    head, _, body = data.partition(b"\r\n\r\n")
    return int(head.split(b" ", 2)[1]), body


async def test_captures_are_listed_newest_first_and_paged(gateway: RunningGateway) -> None:
    http = gateway.http
    assert (await http.get("/captures")).json() == {"captures": [], "next_page_token": ""}
    taken = [(await http.post("/capture", json={"exposure": 3.0, "gain": 1.5})).json() for _ in range(3)]
    first = (await http.get("/captures", params={"page_size": 2})).json()
    second = (await http.get("/captures", params={"page_size": 2, "page_token": first["next_page_token"]})).json()
    assert second["next_page_token"] == ""
    listed = first["captures"] + second["captures"]
    assert [entry["filename"] for entry in listed] == [capture["filename"] for capture in reversed(taken)]
    newest, capture = listed[0], taken[-1]
    assert newest == {
        "filename": capture["filename"],
        "url": capture["url"],
        "format": "jpeg",
        "content_type": "image/jpeg",
        "size_bytes": capture["size_bytes"],
        "width": 2448,
        "height": 2048,
        "frame_number": capture["frame_number"],
        "captured_at": capture["captured_at"],
        "exposure_ms": pytest.approx(3.0),
        "gain_db": pytest.approx(1.5),
        "metadata": capture["metadata"],
        "thumbnail_url": capture["url"] + "/thumbnail",
        "location": newest["location"],
    }
    assert newest["location"] is None or newest["location"]["state"] == "local"


@pytest.mark.parametrize(("image_format", "content_type"), [("jpg", "image/jpeg"), ("png", "image/png")])
async def test_a_capture_downloads_with_its_content_type(
    gateway: RunningGateway, image_format: str, content_type: str
) -> None:
    capture = (await gateway.http.post("/capture", json={"format": image_format})).json()
    response = await gateway.http.get(capture["url"])
    assert response.status_code == 200
    assert response.headers["content-type"] == content_type
    assert response.content == Path(capture["path"]).read_bytes()
    assert response.headers["content-disposition"] == f'inline; filename="{capture["filename"]}"'


async def test_names_that_escape_the_captures_folder_are_404(gateway: RunningGateway, tmp_path: Path) -> None:
    capture = (await gateway.http.post("/capture")).json()
    folder = gateway.service.captures
    secret = tmp_path / "secret.jpg"
    secret.write_bytes(SECRET)
    (tmp_path / "secret.json").write_bytes(Path(capture["metadata_path"]).read_bytes())
    os.symlink(secret, folder / "capture_20260101_000000_000000_7.jpg")  # looks like a capture, leads outside
    os.symlink(tmp_path / "secret.json", folder / "capture_20260101_000000_000000_7.json")
    relative = os.path.relpath(secret, folder)
    targets = [
        "/captures/capture_20260101_000000_000000_7.jpg",
        "/captures/..",
        "/captures/%2e%2e",
        f"/captures/{relative}",
        f"/captures/{relative.replace('/', '%2F')}",
        f"/captures/{relative.replace('/', '%2f').replace('.', '%2e')}",
        f"/captures/..%5C{secret.name}",
        f"/captures/{str(secret).replace('/', '%2F')}",
        f"/captures/%2F{capture['filename']}",
        f"/captures/.%2F{capture['filename']}",
        f"/captures/{capture['filename']}%00",
        f"/captures/{Path(capture['metadata_path']).name}",
        "/captures/%2e%2e%2f%2e%2e%2fetc%2fpasswd",
        "/captures/../../etc/passwd",
        "/captures/....//....//etc/passwd",
    ]
    for target in targets:
        status, body = await raw_get(gateway.port, target)
        assert status == 404, target
        assert SECRET not in body and b"root:" not in body, target
    # curl too, told not to clean the path up
    process = await asyncio.create_subprocess_exec(
        "curl",
        "-s",
        "--path-as-is",
        "-o",
        "-",
        "-w",
        "\n%{http_code}",
        f"{gateway.url}/captures/../{relative}",
        stdout=asyncio.subprocess.PIPE,
    )
    stdout, _ = await process.communicate()
    assert stdout.rsplit(b"\n", 1)[1] == b"404" and SECRET not in stdout
    # the real capture still downloads
    status, body = await raw_get(gateway.port, capture["url"])
    assert status == 200 and body == Path(capture["path"]).read_bytes()


async def test_a_capture_thumbnail_is_a_small_jpeg_made_by_the_service(gateway: RunningGateway) -> None:
    capture = (await gateway.http.post("/capture", json={"format": "png"})).json()
    listed = (await gateway.http.get("/captures")).json()["captures"][0]
    small = await gateway.http.get(listed["thumbnail_url"], params={"max_width": 64})
    assert small.status_code == 200, small.text
    assert small.headers["content-type"] == "image/jpeg"
    assert "max-age" in small.headers["cache-control"]
    with Image.open(io.BytesIO(small.content)) as image:
        assert image.format == "JPEG"
        assert image.width == 64 and image.height == round(64 * capture["height"] / capture["width"])
    default = await gateway.http.get(listed["thumbnail_url"])
    with Image.open(io.BytesIO(default.content)) as image:
        assert image.width == DEFAULT_THUMBNAIL_WIDTH_PX
    assert len(default.content) < capture["size_bytes"]  # never the full image
    for width in (THUMBNAIL_MIN_WIDTH_PX - 1, THUMBNAIL_MAX_WIDTH_PX + 1):
        refused = await gateway.http.get(listed["thumbnail_url"], params={"max_width": width})
        assert refused.status_code == 422 and refused.json()["detail"][0]["loc"] == ["query", "max_width"]
    for target in ("/captures/nope.jpg/thumbnail", "/captures/%2e%2e/thumbnail", "/captures/..%2Fx.jpg/thumbnail"):
        status, _ = await raw_get(gateway.port, target)
        assert status == 404, target


async def test_a_deleted_capture_is_gone_and_names_that_are_not_captures_are_404(
    gateway: RunningGateway, tmp_path: Path
) -> None:
    http = gateway.http
    kept, doomed = [(await http.post("/capture")).json() for _ in range(2)]
    deleted = await http.delete(doomed["url"])
    assert (deleted.status_code, deleted.content) == (204, b"")
    assert not Path(doomed["path"]).exists() and not Path(doomed["metadata_path"]).exists()
    assert (await http.get(doomed["url"])).status_code == 404
    assert [entry["filename"] for entry in (await http.get("/captures")).json()["captures"]] == [kept["filename"]]
    again = await http.delete(doomed["url"])
    assert again.status_code == 404 and again.json()["code"] == "NOT_FOUND"
    folder = gateway.service.captures
    secret = tmp_path / "secret.jpg"
    secret.write_bytes(SECRET)
    (tmp_path / "secret.json").write_bytes(Path(kept["metadata_path"]).read_bytes())
    os.symlink(secret, folder / "capture_20260101_000000_000000_7.jpg")  # looks like a capture, leads outside
    os.symlink(tmp_path / "secret.json", folder / "capture_20260101_000000_000000_7.json")
    before = sorted(path.name for path in folder.iterdir())
    relative = os.path.relpath(secret, folder)
    for target in (
        "/captures/capture_20260101_000000_000000_7.jpg",
        "/captures/%2e%2e",
        f"/captures/{relative.replace('/', '%2F')}",
        f"/captures/{Path(kept['metadata_path']).name}",
        f"/captures/{'x' * 300}.jpg",
    ):
        status, _ = await raw_get(gateway.port, target, method="DELETE")
        assert status == 404, target
    assert sorted(path.name for path in folder.iterdir()) == before and secret.read_bytes() == SECRET
    assert (await http.get(kept["url"])).content == Path(kept["path"]).read_bytes()
