"""``create_app``: the REST gateway as a FastAPI application.

The app is a gRPC client of camera.v1.CameraService, RecordingService and StorageService. Its lifespan opens the
channel (when given a target) and puts the stubs on ``app.state``; routes get
them through ``Depends`` (:mod:`camera_grpc.gateway.dependencies`). Errors are
mapped in :mod:`camera_grpc.gateway.errors`; requests from other sites,
unknown host names and large bodies are stopped by the middleware of
:mod:`camera_grpc.gateway.security`.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager

import grpc
from fastapi import Depends, FastAPI
from fastapi.exceptions import RequestValidationError
from fastapi.middleware.cors import CORSMiddleware
from fastapi.staticfiles import StaticFiles
from grpc_health.v1 import health_pb2_grpc
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.types import ASGIApp

from camera_grpc import __version__
from camera_grpc.auth import Authenticator
from camera_grpc.client import channel_options, is_loopback_target
from camera_grpc.client.request_ids import request_id_interceptors
from camera_grpc.config import Settings
from camera_grpc.gateway.auth import authorize, document_tokens, forward_token
from camera_grpc.gateway.dependencies import Upstream
from camera_grpc.gateway.errors import (
    handle_http_error,
    handle_rpc_error,
    handle_unexpected_error,
    handle_validation_error,
)
from camera_grpc.gateway.request_ids import RequestIds, asgi_endpoint
from camera_grpc.gateway.routers import (
    camera,
    capture,
    captures,
    docs,
    events,
    health,
    presets,
    recordings,
    storage,
    stream,
    trigger,
    viewer,
)
from camera_grpc.gateway.routers import settings as settings_router
from camera_grpc.gateway.security import BodyLimit, CrossSiteGuard, HostAllowList, SecurityHeaders, served_host_names
from camera_grpc.gen.camera.v1 import camera_pb2_grpc, recording_pb2_grpc, storage_pb2_grpc

log = logging.getLogger(__name__)

DESCRIPTION = """\
The legacy REST API of the camera service (same paths, JSON names and units as before:
**exposure in milliseconds**, **gain in decibels**), plus capture downloads, a live MJPEG
view and a viewer page at `/`. All camera logic is in the gRPC service `camera.v1.CameraService`;
this gateway translates.

Every other camera setting (region, pixel addressing, frame rate, pixel format, auto exposure and
gain, white balance, black level, gamma, flip) is read with `GET /settings` and changed with
`PATCH /settings` (a partial update; names carry their unit, valid values are in `GET /camera`
`features`); `ETag`/`If-Match` carry the settings' revision, `GET /settings/events` sends every change
as Server-Sent Events. Presets (`/presets`) and the camera's own channels (`/camera/channels`) keep
settings. Triggering (`trigger` in the settings: free-running, software, hardware) and GPIO lines (`gpio`)
are settings too; `POST /trigger` fires a software trigger, `GET /io` reads the GPIO levels and
temperatures, `GET /events` sends the camera's and the service's events as Server-Sent Events, and
captures carry their frame's `metadata` (camera timestamp, trigger count).

Recordings (`/recordings`, camera.v1.RecordingService): start, list, stop, delete, follow the progress as
Server-Sent Events, download the files with HTTP range requests (resumable, `ETag`, `If-Range`). Captures and
recordings have service-made thumbnails; `GET /stream/stats` sends the live frames' statistics (histogram,
minimum, maximum, mean, saturated fraction, focus score) as Server-Sent Events. `GET /storage` says where files
are kept; a file in the object store downloads as a `307` to a pre-signed URL (unless `S3_DOWNLOAD_REDIRECT` is
off).

Errors: 422 for bad input (the field and, for camera settings, the valid range), 404 for an
unknown capture, preset or recording, 409 for a feature the camera does not have (or a software trigger
outside software-trigger mode, or a recording's state), 412 when `If-Match` names
an older revision, 503 while the camera is not connected, 504 when the camera does not answer in
time, 507 when the disk is full, 500 (generic body) for anything else.

Requests that change something (`PUT` and `PATCH /settings`, `POST /capture`, ...) send their body as
`application/json` (else 415); a browser page of another site than this gateway or
`ALLOWED_ORIGINS` gets 403. Bodies are limited to `REST_MAX_BODY_BYTES` (413).
"""

TAGS = [
    {"name": "health", "description": "Liveness and readiness"},
    {"name": "settings", "description": "Camera settings: exposure (ms) and gain (dB) as in the legacy API, and all"},
    {"name": "presets", "description": "Named sets of settings kept by the camera service"},
    {"name": "capture", "description": "Capture an image - legacy API"},
    {"name": "captures", "description": "Saved captures: list and download"},
    {"name": "camera", "description": "Camera identity, valid ranges, features and its own settings channels"},
    {"name": "trigger", "description": "Software trigger, GPIO levels and temperatures"},
    {"name": "events", "description": "Camera and service events as they happen (Server-Sent Events)"},
    {"name": "stream", "description": "Live view"},
    {"name": "recordings", "description": "Recordings: start, stop, follow, download (range requests), delete"},
    {"name": "storage", "description": "Where captures and recordings are kept: local folders or an object store"},
    {"name": "viewer", "description": "The viewer page"},
]


def create_app(
    settings: Settings,
    channel_or_target: grpc.aio.Channel | str,
    *,
    host: str | None = None,
    authenticator: Authenticator | None = None,
    credentials: grpc.ChannelCredentials | None = None,
    extra_routes: Mapping[str, ASGIApp] | None = None,
) -> FastAPI:
    """The gateway for the camera service at ``channel_or_target``.

    A target (``host:port``, ``unix:path``) gets its own channel (with ``credentials``: TLS to the service),
    opened and closed by the app's lifespan; a channel is used as it is and left open (callers' tokens reach
    the service only if it carries :func:`~camera_grpc.gateway.auth.forward_token`'s interceptors). ``host`` is the
    address it is served on (default ``settings.host``): a name there is served. ``authenticator`` checks
    callers' tokens (default: from ``TOKENS_FILE``; none without it). ``extra_routes``: ASGI apps to serve
    (GET) at these paths, like the other routes (middleware, token check): the service's ``/metrics``.
    """

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        owned = isinstance(channel_or_target, str)
        if isinstance(channel_or_target, str):
            options = channel_options(settings.grpc_max_message_bytes)
            # Callers' tokens go only where nobody on the network can read them: over TLS, or on this host.
            forwarding = credentials is not None or is_loopback_target(channel_or_target)
            if not forwarding:
                log.warning("callers' tokens are not forwarded to %s: it is reached without TLS", channel_or_target)
            interceptors = [*(forward_token() if forwarding else []), *request_id_interceptors()]
            channel = (
                grpc.aio.secure_channel(channel_or_target, credentials, options=options, interceptors=interceptors)
                if credentials is not None
                else grpc.aio.insecure_channel(channel_or_target, options=options, interceptors=interceptors)
            )
        else:
            channel = channel_or_target
        app.state.upstream = Upstream(
            camera=camera_pb2_grpc.CameraServiceStub(channel),
            recordings=recording_pb2_grpc.RecordingServiceStub(channel),
            storage=storage_pb2_grpc.StorageServiceStub(channel),
            health=health_pb2_grpc.HealthStub(channel),
            timeout_s=settings.rest_timeout_s,
            download_redirect=settings.s3_download_redirect,
        )
        try:
            yield
        finally:
            if owned:
                await channel.close()

    app = FastAPI(
        title="camera-grpc REST gateway",
        version=__version__,
        description=DESCRIPTION,
        openapi_tags=TAGS,
        lifespan=lifespan,
        docs_url=None,  # served by routers/docs.py, from this origin
        redoc_url=None,
        dependencies=[Depends(authorize)],  # tokens and roles, per route (gateway/auth.py)
    )
    app.state.authenticator = authenticator if authenticator is not None else Authenticator.from_settings(settings)
    if app.state.authenticator is not None:
        document_tokens(app)  # the OpenAPI document (and /docs) says which operations need which token
    app.state.stream_slots = stream.StreamSlots(settings.rest_max_streams, settings.rest_max_streams_per_client)
    # Middleware, innermost first: a request meets RequestIds first, CrossSiteGuard last.
    app.add_middleware(CrossSiteGuard, allowed_origins=settings.allowed_origins)
    app.add_middleware(BodyLimit, max_bytes=settings.rest_max_body_bytes)
    app.add_middleware(
        CORSMiddleware,
        allow_origins=list(settings.allowed_origins),
        allow_methods=["GET", "POST", "PUT", "PATCH", "DELETE"],
        allow_headers=["Content-Type", "Authorization", "If-Match"],
        expose_headers=["ETag"],
        allow_credentials=True,
    )
    app.add_middleware(
        HostAllowList, names=served_host_names(settings.allowed_hosts, settings.host if host is None else host)
    )
    app.add_middleware(SecurityHeaders)
    app.add_middleware(RequestIds)  # outermost: every response has its X-Request-ID
    app.add_exception_handler(grpc.aio.AioRpcError, handle_rpc_error)
    app.add_exception_handler(RequestValidationError, handle_validation_error)
    app.add_exception_handler(StarletteHTTPException, handle_http_error)
    app.add_exception_handler(Exception, handle_unexpected_error)
    routers = (
        health,
        settings_router,
        capture,
        captures,
        camera,
        presets,
        trigger,
        events,
        stream,
        recordings,
        storage,
        viewer,
        docs,
    )
    for router in routers:
        app.include_router(router.router)
    for path, route_app in (extra_routes or {}).items():
        app.add_api_route(path, asgi_endpoint(route_app), methods=["GET"], include_in_schema=False)
    app.mount(docs.ASSETS_URL, StaticFiles(packages=[docs.ASSETS_PACKAGE]), name="docs-assets")
    app.mount("/static", StaticFiles(packages=[viewer.STATIC_PACKAGE]), name="static")
    return app
