"""``GET /captures`` (recent captures, paginated), ``GET /captures/{filename}`` (the file),
``GET /captures/{filename}/thumbnail`` (a small JPEG of it, issue 17) and ``DELETE /captures/{filename}``
(DeleteCapture, issue 17).

All go through the camera service (ListCaptures, GetCapture, DeleteCapture), so they work
when the gateway runs on another host. A name that is not a capture in the
captures folder (a path, ``..``, an encoded slash, a link leading out) is 404;
so is a name longer than any file name can be, without asking the service.

A capture in the object store (issue 16) is not streamed through the service
while ``S3_DOWNLOAD_REDIRECT`` is on: the download is a 307 to its pre-signed
URL (StorageService.GetDownloadUrl, which refuses files not in the store with
FAILED_PRECONDITION: those, and every file of a service without an object
store, are streamed as before).
"""

from __future__ import annotations

from typing import Annotated

import grpc
from fastapi import APIRouter, Path, Query
from fastapi.responses import RedirectResponse, Response

from camera_grpc.client import (
    DEFAULT_THUMBNAIL_WIDTH_PX,
    THUMBNAIL_MAX_WIDTH_PX,
    THUMBNAIL_MIN_WIDTH_PX,
    CameraRpcError,
    capture_storage_name,
)
from camera_grpc.formats import IMAGE_FORMATS
from camera_grpc.gateway.dependencies import DEFAULT_PAGE_SIZE, PageToken, Upstream, UpstreamDep, page_size_query
from camera_grpc.gateway.errors import error_responses, rpc_error_response
from camera_grpc.gateway.recording_schemas import THUMBNAIL_WIDTH_DESCRIPTION
from camera_grpc.gateway.schemas import CapturePage, CaptureSummary
from camera_grpc.gen.camera.v1 import camera_pb2 as pb
from camera_grpc.gen.camera.v1 import storage_pb2 as spb

router = APIRouter(tags=["captures"])

IMAGE_CONTENT = {"schema": {"type": "string", "format": "binary"}}
#: Longest file name, bytes (NAME_MAX of Linux file systems): a longer one cannot be a capture or a recording's file.
MAX_FILENAME_BYTES = 255
#: How long browsers may keep a capture's thumbnail, seconds (a capture never changes).
THUMBNAIL_MAX_AGE_S = 86400
#: How long the pre-signed URL of a redirected download stays valid, seconds.
DOWNLOAD_URL_VALID_S = 300
#: OpenAPI of a download's redirect to the object store.
REDIRECT_RESPONSE: dict[str, object] = {
    "description": "The file is in the object store (and S3_DOWNLOAD_REDIRECT is on): get it from Location, a "
    "pre-signed URL valid for a few minutes",
    "headers": {"Location": {"description": "The pre-signed URL", "schema": {"type": "string"}}},
}
#: GetDownloadUrl's answers that mean "not in the object store": stream the file from the service instead.
NOT_IN_STORE = frozenset({grpc.StatusCode.FAILED_PRECONDITION, grpc.StatusCode.UNIMPLEMENTED})


def too_long(filename: str) -> bool:
    """Whether a file name is longer than any file of the service's folders can have (capture or recording)."""
    return len(filename.encode("utf-8", "surrogatepass")) > MAX_FILENAME_BYTES


async def signed_url(upstream: Upstream, name: str) -> str | None:
    """The pre-signed URL of ``name`` (``captures/{filename}``, ``recordings/{id}/files/{file}``) when downloads
    redirect and the file is in the object store; None when it is to be streamed."""
    if not upstream.download_redirect:
        return None
    try:
        reply = await upstream.storage.GetDownloadUrl(
            spb.GetDownloadUrlRequest(name=name, valid_for_s=DOWNLOAD_URL_VALID_S), timeout=upstream.timeout_s
        )
    except grpc.aio.AioRpcError as exc:
        if exc.code() in NOT_IN_STORE:
            return None
        raise
    return reply.url


@router.get("/captures", summary="Recent captures, newest first", responses=error_responses(422, 500, 501, 503, 504))
async def list_captures(
    upstream: UpstreamDep,
    page_size: Annotated[int, page_size_query("Captures")] = DEFAULT_PAGE_SIZE,
    page_token: PageToken = "",
) -> CapturePage:
    """One page of saved captures with their metadata; follow ``next_page_token`` for older ones."""
    response = await upstream.camera.ListCaptures(
        pb.ListCapturesRequest(page_size=page_size, page_token=page_token), timeout=upstream.timeout_s
    )
    return CapturePage(
        captures=[CaptureSummary.from_proto(entry) for entry in response.captures],
        next_page_token=response.next_page_token,
    )


@router.get(
    "/captures/{filename}",
    summary="Download a capture",
    response_class=Response,
    responses={
        200: {
            "description": "The image file",
            "content": {fmt.content_type: IMAGE_CONTENT for fmt in IMAGE_FORMATS.values()},
        },
        307: REDIRECT_RESPONSE,
        **error_responses(404, 422, 500, 501, 503, 504),
    },
)
async def download_capture(
    upstream: UpstreamDep,
    filename: Annotated[str, Path(description="As listed by GET /captures")],
) -> Response:
    """The file, with its content type; a 307 to a pre-signed URL when it is in the object store and
    S3_DOWNLOAD_REDIRECT is on."""
    if too_long(filename):
        return rpc_error_response(CameraRpcError(grpc.StatusCode.NOT_FOUND, ""), location="path")
    url = await signed_url(upstream, capture_storage_name(filename))
    if url is not None:
        return RedirectResponse(url, status_code=307)
    response = await upstream.camera.GetCapture(pb.GetCaptureRequest(filename=filename), timeout=upstream.timeout_s)
    return Response(
        content=response.data,
        media_type=response.content_type,
        headers={"Content-Disposition": f'inline; filename="{response.capture.filename}"'},
    )


@router.get(
    "/captures/{filename}/thumbnail",
    summary="A small JPEG of a capture",
    response_class=Response,
    responses={
        200: {"description": "A JPEG no wider than max_width", "content": {"image/jpeg": IMAGE_CONTENT}},
        **error_responses(404, 422, 500, 501, 503, 504),
    },
)
async def capture_thumbnail(
    upstream: UpstreamDep,
    filename: Annotated[str, Path(description="As listed by GET /captures")],
    max_width: Annotated[
        int, Query(ge=THUMBNAIL_MIN_WIDTH_PX, le=THUMBNAIL_MAX_WIDTH_PX, description=THUMBNAIL_WIDTH_DESCRIPTION)
    ] = DEFAULT_THUMBNAIL_WIDTH_PX,
) -> Response:
    """Made once by the service and cached (for a gallery: never the full image to the page)."""
    if too_long(filename):
        return rpc_error_response(CameraRpcError(grpc.StatusCode.NOT_FOUND, ""), location="path")
    response = await upstream.camera.GetCapture(
        pb.GetCaptureRequest(filename=filename, thumbnail_max_width=max_width), timeout=upstream.timeout_s
    )
    return Response(
        content=response.data,
        media_type=response.content_type or "image/jpeg",
        headers={"Cache-Control": f"private, max-age={THUMBNAIL_MAX_AGE_S}"},
    )


@router.delete(
    "/captures/{filename}",
    summary="Delete a capture",
    status_code=204,
    response_class=Response,
    responses=error_responses(
        403,
        404,
        422,
        500,
        501,
        503,
        504,
        http_503="The camera service is unreachable or stopping, or the capture is in the object store and the "
        "store cannot delete it now (nothing was deleted)",
    ),
)
async def delete_capture(
    upstream: UpstreamDep,
    filename: Annotated[str, Path(description="As listed by GET /captures")],
) -> Response:
    """Deletes a capture: its image, metadata sidecar and cached thumbnails, and with an object store its objects
    and any upload still waiting."""
    if too_long(filename):
        return rpc_error_response(CameraRpcError(grpc.StatusCode.NOT_FOUND, ""), location="path")
    await upstream.camera.DeleteCapture(pb.DeleteCaptureRequest(filename=filename), timeout=upstream.timeout_s)
    return Response(status_code=204)
