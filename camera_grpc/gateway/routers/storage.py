"""``GET /storage`` (issue 16): where the service keeps captures and recordings (StorageService.GetStorageStatus).

Downloads of files in the object store are redirected by the routes that serve them (``/captures/{filename}``,
``/recordings/{id}/files/{file}``)."""

from __future__ import annotations

from fastapi import APIRouter

from camera_grpc.gateway.dependencies import UpstreamDep
from camera_grpc.gateway.errors import error_responses
from camera_grpc.gateway.recording_schemas import StorageStatus
from camera_grpc.gen.camera.v1 import storage_pb2 as spb

router = APIRouter(tags=["storage"])


@router.get("/storage", summary="Storage status", responses=error_responses(500, 501, 503, 504))
async def storage_status(upstream: UpstreamDep) -> StorageStatus:
    """The backend (local folders or an object store: endpoint, bucket, this camera's prefix, whether it is
    reachable and its last error), the upload spool (bytes, budget, files waiting), files uploaded, free disk."""
    reply = await upstream.storage.GetStorageStatus(spb.GetStorageStatusRequest(), timeout=upstream.timeout_s)
    return StorageStatus.from_proto(reply)
