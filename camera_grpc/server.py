"""The gRPC server: ``create_server`` builds it, ``serve`` runs the whole service.

Following grpc's Python examples, :func:`create_server` only assembles a server
(camera service, standard health checking, reflection) and binds it, returning
the bound port, so tests can bind port 0 and use the real socket.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal

import grpc
from grpc_health.v1 import health, health_pb2, health_pb2_grpc
from grpc_reflection.v1alpha import reflection

from camera_grpc.config import Settings
from camera_grpc.gen.camera.v1 import camera_pb2
from camera_grpc.runtime import CameraRuntime
from camera_grpc.servicer import CameraServicer, add_to_server
from camera_grpc.worker import CameraState

log = logging.getLogger(__name__)

SERVICE_NAME = camera_pb2.DESCRIPTOR.services_by_name["CameraService"].full_name
#: Health is reported for the server as a whole ("") and for the camera service.
HEALTH_SERVICES = ("", SERVICE_NAME)
#: At start-up, how long to wait for the camera before serving anyway (health says NOT_SERVING until it connects).
STARTUP_CONNECT_WAIT_S = 5.0


#: Clients may send keepalive pings this often during a call (gRPC's default is 5 minutes;
#: camera_grpc.client pings every 30 s so a dead peer on a quiet Frames stream is noticed).
MIN_CLIENT_PING_INTERVAL_MS = 10_000


def grpc_options(settings: Settings) -> list[tuple[str, int]]:
    """Channel/server options shared by the server and our clients."""
    return [
        ("grpc.max_send_message_length", settings.grpc_max_message_bytes),
        ("grpc.max_receive_message_length", settings.grpc_max_message_bytes),
        ("grpc.http2.min_recv_ping_interval_without_data_ms", MIN_CLIENT_PING_INTERVAL_MS),
    ]


async def create_server(settings: Settings, runtime: CameraRuntime) -> tuple[grpc.aio.Server, int]:
    """A bound (not yet started) server for ``runtime``, and its port."""
    server = grpc.aio.server(options=grpc_options(settings))
    add_to_server(
        CameraServicer(runtime.controller, runtime.frames, default_queue_depth=settings.frames_queue_depth), server
    )
    health_servicer = health.aio.HealthServicer()
    health_pb2_grpc.add_HealthServicer_to_server(health_servicer, server)
    _follow_camera_state(health_servicer, runtime)
    reflection.enable_server_reflection(
        (SERVICE_NAME, health_pb2.DESCRIPTOR.services_by_name["Health"].full_name, reflection.SERVICE_NAME), server
    )
    address = f"{settings.grpc_host}:{settings.grpc_port}"
    port = server.add_insecure_port(address)
    if port == 0:
        raise OSError(f"could not bind gRPC to {address}")
    server.health_servicer = health_servicer  # type: ignore[attr-defined]  # for graceful shutdown
    return server, port


def _follow_camera_state(health_servicer: health.aio.HealthServicer, runtime: CameraRuntime) -> None:
    """SERVING exactly while the camera is usable (updates run on the loop, in order, latest state wins)."""
    loop = asyncio.get_running_loop()
    pending: set[asyncio.Task[None]] = set()

    async def publish() -> None:
        usable = runtime.worker.state.usable
        status = health_pb2.HealthCheckResponse.SERVING if usable else health_pb2.HealthCheckResponse.NOT_SERVING
        for name in HEALTH_SERVICES:
            await health_servicer.set(name, status)

    def schedule() -> None:
        task = loop.create_task(publish())
        pending.add(task)
        task.add_done_callback(pending.discard)

    def on_state(state: CameraState) -> None:  # camera thread
        if state is not CameraState.STOPPED:
            loop.call_soon_threadsafe(schedule)

    runtime.worker.add_state_listener(on_state)
    schedule()


async def serve(settings: Settings, *, ready: asyncio.Event | None = None) -> None:
    """Run the service until SIGINT/SIGTERM, then shut down gracefully.

    With ``REST_ENABLED``, the REST gateway runs in the same event loop on
    ``HOST:PORT``, as a client of this gRPC server.

    Order on shutdown: health NOT_SERVING, live streams end (UNAVAILABLE),
    in-flight calls (gRPC and HTTP) get ``SHUTDOWN_GRACE_S`` to finish, the
    camera is closed.
    """
    runtime = CameraRuntime(settings)
    server, port = await create_server(settings, runtime)
    runtime.start()
    if not await runtime.wait_until_connected(STARTUP_CONNECT_WAIT_S):
        log.warning("camera not connected yet; serving anyway (health NOT_SERVING) and retrying in the background")
    await server.start()
    gateway = None
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, stop.set)
    try:
        if settings.rest_enabled:
            from camera_grpc.gateway.server import GatewayServer, loopback_target

            gateway = GatewayServer(settings, loopback_target(settings.grpc_host, port))
            await gateway.start()
            log.info("REST gateway listening on %s (docs: /docs, viewer: /)", gateway.url)
        log.info("gRPC listening on %s:%d (camera backend: %s)", settings.grpc_host, port, runtime.driver.name)
        if ready is not None:
            ready.set()
        await stop.wait()
    finally:
        log.info("shutting down (grace %.1f s)", settings.shutdown_grace_s)
        await server.health_servicer.enter_graceful_shutdown()  # type: ignore[attr-defined]
        await runtime.frames.close()
        # In-flight HTTP requests need their gRPC calls: both drain within the same grace.
        await asyncio.gather(server.stop(settings.shutdown_grace_s), *([gateway.stop()] if gateway else []))
        await runtime.aclose()
        for signum in (signal.SIGINT, signal.SIGTERM):
            with contextlib.suppress(Exception):
                loop.remove_signal_handler(signum)
        log.info("stopped")
