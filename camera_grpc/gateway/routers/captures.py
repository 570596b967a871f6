"""``GET /captures`` (recent captures, paginated) and ``GET /captures/{filename}`` (the file).

Both go through the camera service (ListCaptures, GetCapture), so they work
when the gateway runs on another host. A name that is not a capture in the
captures folder (a path, ``..``, an encoded slash, a link leading out) is 404;
so is a name longer than any file name can be, without asking the service.
"""

from __future__ import annotations

from typing import Annotated

import grpc
from fastapi import APIRouter, Path, Query
from fastapi.responses import Response

from camera_grpc.client import CameraRpcError
from camera_grpc.formats import IMAGE_FORMATS
from camera_grpc.gateway.dependencies import UpstreamDep
from camera_grpc.gateway.errors import error_responses, rpc_error_response
from camera_grpc.gateway.schemas import CapturePage, CaptureSummary
from camera_grpc.gen.camera.v1 import camera_pb2 as pb

router = APIRouter(tags=["captures"])

IMAGE_CONTENT = {"schema": {"type": "string", "format": "binary"}}
#: Longest file name, bytes (NAME_MAX of Linux file systems): a longer one cannot be a capture.
MAX_FILENAME_BYTES = 255


@router.get("/captures", summary="Recent captures, newest first", responses=error_responses(422, 500, 501, 503, 504))
async def list_captures(
    upstream: UpstreamDep,
    page_size: Annotated[int, Query(ge=1, le=1000, description="Captures per page")] = 50,
    page_token: Annotated[
        str, Query(max_length=1024, description="next_page_token of the previous page; empty for the first")
    ] = "",
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
        **error_responses(404, 422, 500, 501, 503, 504),
    },
)
async def download_capture(
    upstream: UpstreamDep,
    filename: Annotated[str, Path(description="As listed by GET /captures")],
) -> Response:
    """The file, with its content type."""
    if len(filename.encode("utf-8", "surrogatepass")) > MAX_FILENAME_BYTES:
        return rpc_error_response(CameraRpcError(grpc.StatusCode.NOT_FOUND, ""), location="path")
    response = await upstream.camera.GetCapture(pb.GetCaptureRequest(filename=filename), timeout=upstream.timeout_s)
    return Response(
        content=response.data,
        media_type=response.content_type,
        headers={"Content-Disposition": f'inline; filename="{response.capture.filename}"'},
    )
