"""``GET /health`` (liveness: 200 while the gateway runs) and ``GET /health/ready`` (503 unless the camera is usable).

Both read the camera service's standard gRPC health (SERVING exactly while the
camera is usable). They do not call GetSettings: that goes through the camera
thread and may wait for a long exposure, and a probe must answer at once.
"""

from __future__ import annotations

import grpc
from fastapi import APIRouter
from fastapi.responses import JSONResponse
from grpc_health.v1 import health_pb2

from camera_grpc.contract import CAMERA_SERVICE_NAME
from camera_grpc.gateway.dependencies import Upstream, UpstreamDep
from camera_grpc.gateway.schemas import Health

router = APIRouter(tags=["health"])

#: Deadline of the health check, seconds.
HEALTH_TIMEOUT_S = 2.0


async def check(upstream: Upstream) -> Health:
    """The camera service's health, or ``unavailable`` if it cannot be reached."""
    try:
        response = await upstream.health.Check(
            health_pb2.HealthCheckRequest(service=CAMERA_SERVICE_NAME),
            timeout=min(HEALTH_TIMEOUT_S, upstream.timeout_s),
        )
    except grpc.aio.AioRpcError:
        return Health(status="unavailable", camera_connected=False, service="UNREACHABLE")
    serving = response.status == health_pb2.HealthCheckResponse.SERVING
    return Health(
        status="healthy" if serving else "degraded",
        camera_connected=serving,
        service=health_pb2.HealthCheckResponse.ServingStatus.Name(response.status),
    )


@router.get("/health", summary="Service status and camera connectivity")
async def health(upstream: UpstreamDep) -> Health:
    """Always 200 while the gateway runs; the body says whether the camera is usable."""
    return await check(upstream)


@router.get(
    "/health/ready",
    summary="Readiness: 200 only while the camera is usable",
    responses={503: {"model": Health, "description": "The camera is not usable or the camera service is unreachable"}},
)
async def ready(upstream: UpstreamDep) -> JSONResponse:
    """For load balancers: 200 while the camera is usable, 503 (same body) otherwise."""
    result = await check(upstream)
    return JSONResponse(result.model_dump(), status_code=200 if result.status == "healthy" else 503)
