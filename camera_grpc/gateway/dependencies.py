"""What routes get through ``Depends``: the camera service's stubs, held by the app (``app.state``), and who
the client is."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import Depends, Query, Request
from grpc_health.v1 import health_pb2_grpc

from camera_grpc.gen.camera.v1 import camera_pb2_grpc, recording_pb2_grpc, storage_pb2_grpc


@dataclass(frozen=True)
class Upstream:
    """The camera service as the gateway reaches it: one channel, its stubs, the per-call deadline, and how
    downloads of files in the object store are answered."""

    camera: camera_pb2_grpc.CameraServiceStub
    recordings: recording_pb2_grpc.RecordingServiceStub
    storage: storage_pb2_grpc.StorageServiceStub
    health: health_pb2_grpc.HealthStub
    timeout_s: float  #: deadline of each unary call (and of the first frame of a stream)
    #: S3_DOWNLOAD_REDIRECT: downloads of files in the object store are a 307 to a pre-signed URL (else streamed).
    download_redirect: bool


def get_upstream(request: Request) -> Upstream:
    """The app's :class:`Upstream`, created by its lifespan."""
    upstream: Upstream = request.app.state.upstream
    return upstream


UpstreamDep = Annotated[Upstream, Depends(get_upstream)]


def client_address(request: Request) -> str:
    """Who the client is, for per-client limits: its IP address (behind a reverse proxy, the proxy's)."""
    return request.client.host if request.client is not None else "unknown"


ClientDep = Annotated[str, Depends(client_address)]


#: Page size of list endpoints when none is asked for, and the largest one (the service's own rule).
DEFAULT_PAGE_SIZE = 50
MAX_PAGE_SIZE = 1000
#: The ``page_token`` query parameter of list endpoints.
PageToken = Annotated[
    str, Query(max_length=1024, description="next_page_token of the previous page; empty for the first")
]


def page_size_query(items: str) -> Any:
    """The ``page_size`` query parameter of a list endpoint of ``items`` (e.g. "Captures")."""
    return Query(ge=1, le=MAX_PAGE_SIZE, description=f"{items} per page")
