"""The composition root: one camera service built from settings, and ``serve`` running it.

:class:`CameraRuntime` owns the camera worker thread, the encode executor, the
controller and the frame hub. The recording manager (:mod:`camera_grpc.core.recording`) gets every frame of
continuous acquisition, and acquisition is held on while a recording runs. The gRPC server
(:mod:`camera_grpc.rpc.server`) is
the front end over it, and the REST gateway (:mod:`camera_grpc.gateway`) a
client of that server, run in the same event loop when ``REST_ENABLED``.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import resource
import shutil
import signal
import tempfile
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import grpc

from camera_grpc.auth import Authenticator
from camera_grpc.config import Settings, check_network_exposure
from camera_grpc.core.controller import CameraController
from camera_grpc.core.disk import DiskSpaceWatch
from camera_grpc.core.events import EventHub
from camera_grpc.core.metrics import ServiceMetrics
from camera_grpc.core.recording import RecordingManager
from camera_grpc.core.storage import CaptureStore
from camera_grpc.core.streaming import FrameHub
from camera_grpc.core.uploads import ObjectStorage
from camera_grpc.device import create_driver
from camera_grpc.device.base import CameraDriver
from camera_grpc.device.worker import CameraState, CameraWorker
from camera_grpc.rpc.recording_servicer import RecordingServicer
from camera_grpc.rpc.server import create_server
from camera_grpc.rpc.storage_servicer import StorageServicer
from camera_grpc.tls import ServerTls

log = logging.getLogger(__name__)

#: Threads that encode images and write files (never the camera thread).
ENCODE_THREADS = 2
#: At start-up, how long to wait for the camera before serving anyway (health says NOT_SERVING until it connects).
STARTUP_CONNECT_WAIT_S = 5.0
#: File descriptors kept out of the connection caps' reach: the camera (a reconnect opens the device),
#: capture files and their reserve, the threads' and event loop's own, log files.
FD_HEADROOM = 64
#: Fewest gRPC connections allowed however low the open-files limit (the REST gateway needs one).
MIN_GRPC_CONNECTIONS = 8
#: Soft open-files limit to aim for when the hard limit is unlimited.
UNLIMITED_NOFILE_TARGET = 1 << 20


def raise_open_files_limit() -> int:
    """Raise the soft open-files limit to the hard limit (logged once); returns the soft limit in force.

    The common soft limit of 1024 is a few hundred idle connections away from failing
    captures with "Too many open files"; the hard limit is what the system allows.
    """
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    target = UNLIMITED_NOFILE_TARGET if hard == resource.RLIM_INFINITY else hard
    if soft != resource.RLIM_INFINITY and soft < target:
        try:
            resource.setrlimit(resource.RLIMIT_NOFILE, (target, hard))
        except (ValueError, OSError) as exc:
            log.warning("open files limit stays at %d (could not raise it to %d: %s)", soft, target, exc)
            return soft
        log.info("open files limit raised from %d to %d", soft, target)
        return target
    log.info("open files limit: %d", soft)
    return soft


def grpc_connection_cap(settings: Settings, open_files: int) -> int:
    """GRPC_MAX_CONNECTIONS, lowered if the open-files limit cannot hold it next to the REST gateway's
    connections and the headroom (logged when lowered)."""
    rest = settings.rest_max_connections if settings.rest_enabled else 0
    room = open_files - FD_HEADROOM - rest
    cap = min(settings.grpc_max_connections, max(room, MIN_GRPC_CONNECTIONS))
    if cap < settings.grpc_max_connections:
        log.warning(
            "open files limit %d leaves room for %d gRPC connections (GRPC_MAX_CONNECTIONS=%d, "
            "REST_MAX_CONNECTIONS=%d, %d in reserve); raise the hard limit (ulimit -Hn) to allow more",
            open_files,
            cap,
            settings.grpc_max_connections,
            rest,
            FD_HEADROOM,
        )
    return cap


def security_summary(settings: Settings) -> str:
    """One log line saying how the ports are protected."""
    if settings.tls_enabled:
        transport = "mutual TLS" if settings.tls_client_ca_file is not None else "TLS"
    else:
        transport = "no TLS"
    identity = f"tokens from {settings.tokens_file}" if settings.tokens_file is not None else "no tokens"
    return f"security: {transport}, {identity}"


class CameraRuntime:
    """Worker, executor, controller and frame hub. Create inside a running event loop."""

    def __init__(self, settings: Settings, driver: CameraDriver | None = None) -> None:
        self.settings = settings
        self.driver = driver if driver is not None else create_driver(settings)
        self.worker = CameraWorker(
            self.driver,
            reconnect_initial_delay_s=settings.reconnect_initial_delay_s,
            reconnect_max_delay_s=settings.reconnect_max_delay_s,
        )
        self.executor = ThreadPoolExecutor(max_workers=ENCODE_THREADS, thread_name_prefix="encode")
        #: The service's Prometheus metrics (None with METRICS_ENABLED=false), served at /metrics on the REST port.
        self.metrics = (
            ServiceMetrics(settings.image_save_path.expanduser().resolve()) if settings.metrics_enabled else None
        )
        #: The service's events (WatchEvents): the camera's, the connection's, settings, captures, temperature.
        self.events = EventHub(metrics=self.metrics)
        #: STORAGE_BACKEND=s3: the object store, its upload spool and uploader (None: files stay in local folders).
        self.object_storage = ObjectStorage(settings, self.events) if settings.storage_backend == "s3" else None
        storage = self.object_storage
        self.store = CaptureStore(
            storage.captures_path if storage else settings.image_save_path,
            metrics=self.metrics,
            uploads=storage.captures if storage else None,
        )
        #: DISK_SPACE_LOW events, from the free space measured where captures and recordings are written.
        self.disk_watch = DiskSpaceWatch(self.events, settings.disk_space_low_bytes)
        self._temperature: asyncio.Task[None] | None = None
        self.controller = CameraController(
            self.worker,
            self.store,
            self.executor,
            default_exposure_ms=settings.default_exposure,
            default_gain_db=settings.default_gain,
            default_image_format=settings.image_format,
            default_quality=settings.image_quality,
            state_path=settings.state_path,
            metrics=self.metrics,
            events=self.events,
            active_recording=lambda: self.recordings.active_recording,
        )
        #: Recordings (camera.v1.RecordingService): every frame of continuous acquisition goes to the running one.
        self.recordings = RecordingManager(
            settings.recordings_path,
            events=self.events,
            disk_watch=self.disk_watch,
            on_finished=storage.recording_finished if storage else None,  # its files go to the uploader
            locate=storage.locate_recording_file if storage else None,
        )
        self.frames = FrameHub(
            self.worker,
            self.executor,
            linger_s=settings.frames_linger_s,
            max_subscribers=settings.max_subscribers,
            max_per_peer=settings.max_streams_per_peer or None,
            subscriber_budget_bytes=settings.frames_subscriber_budget_bytes,
            budget_bytes=settings.frames_budget_bytes,
            metrics=self.metrics,
        )
        # The wiring, explicit: every frame of continuous acquisition goes to the live-frame hub,
        # and a lost camera ends its streams.
        self.worker.add_frame_listener(self.frames.publish)
        self.worker.add_state_listener(self.frames.on_camera_state)
        self.worker.add_frame_listener(self.recordings.on_frame)
        self.worker.add_state_listener(self._on_camera_state)
        # The camera's events (any thread, SDK callback threads included) are handed to the loop by the hub.
        self.worker.add_event_listener(self.events.on_camera_event)
        if self.metrics is not None:
            self.worker.add_state_listener(self.metrics.on_camera_state)
            self.metrics.follow_camera(lambda: self.worker.state.usable, lambda: self.controller.ready)

    def _on_camera_state(self, state: CameraState) -> None:
        """A camera that is not usable ends a running recording as FAILED, its frames kept (camera thread)."""
        if not state.usable:
            self.recordings.camera_disconnected()

    def hold_acquisition(self) -> contextlib.AbstractAsyncContextManager[object]:
        """Keep continuous acquisition on for as long as the context is open (a running recording's life)."""
        return self.frames.hold_acquisition()

    async def recover_recordings(self) -> None:
        """Mark recordings a killed process left RUNNING as FAILED (off the loop; before serving)."""
        marked = await asyncio.to_thread(self.recordings.recover)
        if marked:
            log.warning("recordings left running by a previous run marked failed: %s", ", ".join(marked))

    def start(self) -> None:
        """Remove what an interrupted run left in the captures folder, then start the camera thread
        (it connects in the background)."""
        self.store.clean_up()
        if self.object_storage is not None:  # queue what a previous run left, then upload in the background
            self.object_storage.start(self.store, self.recordings)
        self.worker.start()
        self._temperature = asyncio.get_running_loop().create_task(
            self.events.follow_temperature(self.controller.io_status), name="sensor-temperature-events"
        )
        self.disk_watch.watch_captures(self.store.directory)

    def stop_events(self) -> None:
        """SERVICE_STOPPING, the last event: every WatchEvents stream ends after it (event loop)."""
        if self._temperature is not None:
            self._temperature.cancel()
        self.events.close()

    async def wait_until_connected(self, timeout_s: float) -> bool:
        """Wait, without blocking the loop, until the camera is connected."""
        return await asyncio.to_thread(self.worker.wait_until_connected, timeout_s)

    async def aclose(self) -> None:
        """End event streams (after SERVICE_STOPPING), live streams and settings watches, stop the camera thread
        (closing the camera), stop the executor."""
        self.stop_events()
        self.controller.close_watches()
        await asyncio.to_thread(self.recordings.close)  # a running recording ends, its files complete
        await self.frames.close()
        await asyncio.to_thread(self.worker.stop)
        self.executor.shutdown(wait=True)
        if self.object_storage is not None:  # after the recordings: their files are queued
            await asyncio.to_thread(self.object_storage.close)
        self.store.close()

    async def _camera_serial(self) -> str:
        """The connected camera's serial number (CameraUnavailableError while none is connected)."""
        return (await self.controller.info()).serial_number

    async def create_server(
        self, *, max_connections: int | None = None, **security: Any
    ) -> tuple[grpc.aio.Server, int]:
        """The gRPC server over this runtime, bound (not started), and its port. ``security``: ``authenticator``,
        ``tls``, ``internal_socket`` of :func:`camera_grpc.rpc.server.create_server` (default: from the settings)."""
        return await create_server(
            self.settings,
            self.controller,
            self.frames,
            max_connections=max_connections,
            metrics=self.metrics,
            recordings=RecordingServicer(self.recordings, self.controller, self.hold_acquisition),
            storage=StorageServicer(
                self.store,
                self.recordings,
                local_path=self.store.directory,
                uploader=self.object_storage.uploader if self.object_storage else None,
                keys=self.object_storage.keys if self.object_storage else None,
                camera_serial=self._camera_serial,
            ),
            **security,
        )


async def serve(settings: Settings, *, ready: asyncio.Event | None = None) -> None:
    """Run the service until SIGINT/SIGTERM, then shut down gracefully.

    With ``REST_ENABLED``, the REST gateway runs in the same event loop on
    ``HOST:PORT``, as a client of this gRPC server.

    Order on shutdown: health NOT_SERVING, live streams end (UNAVAILABLE),
    in-flight calls (gRPC and HTTP) get ``SHUTDOWN_GRACE_S`` to finish, the
    camera is closed.
    """
    # Security first (ConfigurationError, one line): listeners beyond loopback, the tokens and TLS files.
    exposure = check_network_exposure(settings, grpc=True, rest=settings.rest_enabled)
    if exposure is not None:
        log.warning("%s", exposure)
    authenticator = Authenticator.from_settings(settings)  # one for both ports: one failure count per client
    tls = ServerTls.from_settings(settings)
    runtime = CameraRuntime(settings)  # loads the camera SDK: a missing one stops start-up with one line
    # The in-process gateway reaches gRPC through a Unix socket of its own (a folder only this user can
    # open) when the port has TLS or tokens: no client certificate, no trust in the port's certificate to
    # rotate, and gRPC's per-address failure count is not the loopback address every local client shares.
    internal = tempfile.mkdtemp(prefix="camera-grpc-") if settings.rest_enabled and (authenticator or tls) else None
    internal_socket = os.path.join(internal, "grpc.sock") if internal else None
    log.info("%s", security_summary(settings))
    open_files = raise_open_files_limit()
    server: grpc.aio.Server | None = None
    gateway = None
    try:
        # Both ports before the camera: a port that is taken (another instance) stops start-up with
        # one line naming it, and the camera is never opened.
        server, port = await runtime.create_server(
            max_connections=grpc_connection_cap(settings, open_files),
            authenticator=authenticator,
            tls=tls,
            internal_socket=internal_socket,
        )
        if settings.rest_enabled:
            from camera_grpc.client import loopback_target
            from camera_grpc.gateway.server import GatewayServer

            target = f"unix:{internal_socket}" if internal_socket else loopback_target(settings.grpc_host, port)
            # /metrics on the REST port: the service's registry, served by the gateway (which imports no core).
            metrics = runtime.metrics
            extra_routes = {"/metrics": metrics.asgi_app()} if metrics is not None else {}
            gateway = GatewayServer(  # binds its socket
                settings, target, authenticator=authenticator, tls=tls, extra_routes=extra_routes
            )
            if metrics is not None:
                metrics.follow_connections("http", lambda: gateway.open_connections if gateway else None)
    except BaseException:
        if gateway is not None:
            await gateway.stop()
        if server is not None:
            await server.stop(None)
        await runtime.aclose()
        if internal is not None:
            shutil.rmtree(internal, ignore_errors=True)
        raise
    await runtime.recover_recordings()
    runtime.start()
    if not await runtime.wait_until_connected(STARTUP_CONNECT_WAIT_S):
        log.warning("camera not connected yet; serving anyway (health NOT_SERVING) and retrying in the background")
    await server.start()
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, stop.set)
    try:
        if gateway is not None:
            await gateway.start()
            log.info("REST gateway listening on %s (docs: /docs, viewer: /)", gateway.url)
        log.info("gRPC listening on %s:%d (camera backend: %s)", settings.grpc_host, port, runtime.driver.name)
        if ready is not None:
            ready.set()
        await stop.wait()
    finally:
        log.info("shutting down (grace %.1f s)", settings.shutdown_grace_s)
        await server.health_servicer.enter_graceful_shutdown()  # type: ignore[attr-defined]
        runtime.stop_events()  # SERVICE_STOPPING, then event streams end (OK)
        runtime.controller.close_watches()  # settings watches end (OK) with the service
        await asyncio.to_thread(runtime.recordings.close)  # before acquisition stops: its files complete
        await runtime.frames.close()
        # In-flight HTTP requests need their gRPC calls: both drain within the same grace.
        await asyncio.gather(server.stop(settings.shutdown_grace_s), *([gateway.stop()] if gateway else []))
        await runtime.aclose()
        if internal is not None:
            shutil.rmtree(internal, ignore_errors=True)
        for signum in (signal.SIGINT, signal.SIGTERM):
            with contextlib.suppress(Exception):
                loop.remove_signal_handler(signum)
        log.info("stopped")
