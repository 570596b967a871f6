"""The gRPC server: ``create_server`` assembles and binds it.

Following grpc's Python examples, :func:`create_server` only assembles a server
(camera, recording and storage services, standard health checking, reflection) and binds it, returning
the bound port, so tests can bind port 0 and use the real socket.
"""

from __future__ import annotations

import asyncio
import errno
import logging
import os
import socket

import grpc
from grpc_health.v1 import health, health_pb2, health_pb2_grpc
from grpc_reflection.v1alpha import reflection

from camera_grpc.auth import Authenticator
from camera_grpc.config import Settings
from camera_grpc.contract import CAMERA_SERVICE_NAME, STORAGE_SERVICE_NAME
from camera_grpc.core.controller import CameraController
from camera_grpc.core.metrics import ServiceMetrics
from camera_grpc.core.streaming import FrameHub
from camera_grpc.core.thumbnails import STATE_CACHE_FOLDER, ThumbnailCache
from camera_grpc.device.worker import CameraState
from camera_grpc.rpc.auth import TokenCheck
from camera_grpc.rpc.limits import StreamLimit
from camera_grpc.rpc.metrics import CallObserver, channelz_server_ids, connection_counter
from camera_grpc.rpc.recording_servicer import RECORDING_SERVICE_NAME, RecordingServicer
from camera_grpc.rpc.recording_servicer import add_to_server as add_recordings_to_server
from camera_grpc.rpc.servicer import OWN_HEADERS, CameraServicer, add_to_server
from camera_grpc.rpc.storage_servicer import StorageServicer
from camera_grpc.rpc.storage_servicer import add_to_server as add_storage_to_server
from camera_grpc.tls import ServerTls, TlsSnapshot

log = logging.getLogger(__name__)

#: Health is reported for the server as a whole ("") and for each service.
HEALTH_SERVICES = ("", CAMERA_SERVICE_NAME, RECORDING_SERVICE_NAME)

#: Clients may send keepalive pings this often during a call (gRPC's default is 5 minutes;
#: camera_grpc.client pings every 30 s so a dead peer on a quiet Frames stream is noticed).
MIN_CLIENT_PING_INTERVAL_MS = 10_000


def server_options(settings: Settings, max_connections: int | None = None) -> list[tuple[str, int]]:
    """Options of the gRPC server; ``max_connections`` overrides ``GRPC_MAX_CONNECTIONS`` (to fit the fd limit)."""
    return [
        ("grpc.max_send_message_length", settings.grpc_max_message_bytes),
        ("grpc.max_receive_message_length", settings.grpc_max_message_bytes),
        ("grpc.http2.min_recv_ping_interval_without_data_ms", MIN_CLIENT_PING_INTERVAL_MS),
        # Connections are file descriptors: more than this are accepted and closed at once, a connection
        # that never completes its HTTP/2 handshake is closed after the handshake timeout (gRPC's default
        # is 120 s), and one without calls after the idle timeout (its client reconnects when it needs to).
        ("grpc.max_allowed_incoming_connections", max_connections or settings.grpc_max_connections),
        ("grpc.server_handshake_timeout_ms", round(settings.grpc_handshake_timeout_s * 1000)),
        ("grpc.max_connection_idle_ms", round(settings.grpc_idle_timeout_s * 1000)),
        # grpcio sets SO_REUSEPORT by default: a second instance would listen beside the first and
        # calls would be split between two cameras.
        ("grpc.so_reuseport", 0),
    ]


async def create_server(
    settings: Settings,
    camera: CameraController,
    frames: FrameHub,
    *,
    max_connections: int | None = None,
    metrics: ServiceMetrics | None = None,
    authenticator: Authenticator | None = None,
    tls: ServerTls | None = None,
    internal_socket: str | None = None,
    recordings: RecordingServicer | None = None,
    storage: StorageServicer | None = None,
) -> tuple[grpc.aio.Server, int]:
    """A bound (not yet started) server over ``camera`` and ``frames``, and its port; counted in ``metrics``.
    ``recordings``: camera.v1.RecordingService, ``storage``: camera.v1.StorageService (each served,
    health-checked and listed by reflection when given).

    With ``TOKENS_FILE``, every call but health is checked by :class:`~camera_grpc.rpc.auth.TokenCheck`
    (``authenticator``: one to share with the REST gateway; default: from the settings). With TLS files
    (``tls``; default: from the settings) the port serves TLS only. ``internal_socket``: also listen,
    without TLS, on this Unix socket (the service's own REST gateway; tokens are checked there too).
    """
    authenticator = authenticator or Authenticator.from_settings(settings)
    tls = tls or ServerTls.from_settings(settings)
    security = [TokenCheck(authenticator)] if authenticator is not None else []
    stream_limit = StreamLimit(settings.grpc_max_streams)
    servers_before = channelz_server_ids() if metrics is not None else set()
    # The call observer first: it sees (request id, metrics) every call, those the others refuse included.
    interceptors: list[grpc.aio.ServerInterceptor] = [
        CallObserver(metrics, own_headers=OWN_HEADERS),
        *security,
        stream_limit,
    ]
    server = grpc.aio.server(options=server_options(settings, max_connections), interceptors=interceptors)
    if metrics is not None:
        created = channelz_server_ids() - servers_before
        metrics.follow_connections("grpc", connection_counter(max(created) if created else None))
    thumbnails = ThumbnailCache(settings.state_path / STATE_CACHE_FOLDER)
    add_to_server(
        CameraServicer(camera, frames, default_queue_depth=settings.frames_queue_depth, thumbnails=thumbnails), server
    )
    served = [CAMERA_SERVICE_NAME]
    if recordings is not None:
        add_recordings_to_server(recordings, server)
        served.append(RECORDING_SERVICE_NAME)
    if storage is not None:
        add_storage_to_server(storage, server)
        served.append(STORAGE_SERVICE_NAME)
    health_servicer = health.aio.HealthServicer()
    health_pb2_grpc.add_HealthServicer_to_server(health_servicer, server)
    _follow_camera_state(health_servicer, camera)
    if storage is not None:
        _follow_storage_health(health_servicer, storage)
    reflection.enable_server_reflection(
        (*served, health_pb2.DESCRIPTOR.services_by_name["Health"].full_name, reflection.SERVICE_NAME),
        server,
    )
    address = f"{settings.grpc_host}:{settings.grpc_port}"
    _ensure_free(settings.grpc_host, settings.grpc_port)
    try:
        port = server.add_secure_port(address, server_credentials(tls)) if tls else server.add_insecure_port(address)
    except RuntimeError:
        port = 0
    if port == 0:
        raise OSError(f"could not bind gRPC to {address}")
    if internal_socket is not None and server.add_insecure_port(f"unix:{internal_socket}") == 0:
        raise OSError(f"could not bind gRPC to the Unix socket {internal_socket}")
    server.health_servicer = health_servicer  # type: ignore[attr-defined]  # for graceful shutdown
    server.stream_limit = stream_limit  # type: ignore[attr-defined]  # for monitoring and tests
    return server, port


def server_credentials(tls: ServerTls) -> grpc.ServerCredentials:
    """TLS credentials that follow the files: grpc asks the fetcher at every new handshake, and it answers
    with the files' new contents once they changed (None: keep the current ones). With a client CA, client
    certificates are required and checked against it."""
    first = tls.current()
    served = first.version

    def configuration(files: TlsSnapshot) -> grpc.ServerCertificateConfiguration:
        return grpc.ssl_server_certificate_configuration(
            [(files.private_key, files.cert_chain)], root_certificates=files.client_ca
        )

    def fetch() -> grpc.ServerCertificateConfiguration | None:  # grpc's threads
        nonlocal served
        files = tls.current()
        if files.version == served:
            return None
        served = files.version
        return configuration(files)

    return grpc.dynamic_ssl_server_credentials(configuration(first), fetch, require_client_authentication=tls.mutual)


def _ensure_free(host: str, port: int) -> None:
    """Raise OSError, naming the address, if another socket listens on ``host:port``.

    gRPC would say so too, but in a log line of its own before a vague exception; this
    check gives the one line that start-up stops with. (A listener opened between this
    check and gRPC's bind still fails the bind.)
    """
    if port == 0:
        return
    try:
        candidates = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE)
    except socket.gaierror as exc:
        raise OSError(f"could not bind gRPC to {host}:{port}: {exc.strerror}") from None
    for family, kind, protocol, _, sockaddr in candidates:
        with socket.socket(family, kind, protocol) as probe:
            probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as gRPC's listener: TIME_WAIT is fine
            try:
                probe.bind(sockaddr)
            except OSError as exc:
                if exc.errno in (errno.EADDRINUSE, errno.EACCES):
                    raise OSError(f"could not bind gRPC to {host}:{port}: {os.strerror(exc.errno)}") from None
                raise


def _follow_storage_health(health_servicer: health.aio.HealthServicer, storage: StorageServicer) -> None:
    """camera.v1.StorageService is SERVING while files reach their store (always with the local folders) and
    NOT_SERVING while the object store is unreachable or refuses (wrong credentials): captures still succeed
    into the spool then, so the camera's own health is not affected."""
    loop = asyncio.get_running_loop()
    pending: set[asyncio.Task[None]] = set()

    def publish(reachable: bool) -> None:
        status = health_pb2.HealthCheckResponse.SERVING if reachable else health_pb2.HealthCheckResponse.NOT_SERVING
        task = loop.create_task(health_servicer.set(STORAGE_SERVICE_NAME, status))
        pending.add(task)
        task.add_done_callback(pending.discard)

    storage.follow_health(lambda reachable: loop.call_soon_threadsafe(publish, reachable))  # uploader thread
    publish(storage.store_reachable)


def _follow_camera_state(health_servicer: health.aio.HealthServicer, camera: CameraController) -> None:
    """SERVING exactly while the camera is ready: connected, with the requested settings (updates run on
    the loop, in order, latest state wins)."""
    loop = asyncio.get_running_loop()
    pending: set[asyncio.Task[None]] = set()

    async def publish() -> None:
        ready = camera.ready
        status = health_pb2.HealthCheckResponse.SERVING if ready else health_pb2.HealthCheckResponse.NOT_SERVING
        for name in HEALTH_SERVICES:
            await health_servicer.set(name, status)

    def schedule() -> None:
        task = loop.create_task(publish())
        pending.add(task)
        task.add_done_callback(pending.discard)

    def on_state(state: CameraState) -> None:  # camera thread
        if state is not CameraState.STOPPED:
            loop.call_soon_threadsafe(schedule)

    camera.add_state_listener(on_state)
    schedule()
