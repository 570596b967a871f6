"""camera.v1.StorageService: where the service keeps captures and recordings, and pre-signed download URLs.

A thin translation over the capture store, the recording manager and the uploader (None with
``STORAGE_BACKEND=local``); their blocking calls run off the event loop, and errors are mapped by
:mod:`camera_grpc.rpc.status` (every method is registered guarded by :func:`add_to_server`).
GetDownloadUrl names a file as ``captures/{filename}`` or ``recordings/{id}/files/{file}``: NOT_FOUND for
anything else or a file that does not exist, FAILED_PRECONDITION for a file that is not in the object store
(yet, or at all with no store).
"""

from __future__ import annotations

import asyncio
import shutil
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import grpc

from camera_grpc.contract import STORAGE_SERVICE
from camera_grpc.core.object_store import DEFAULT_URL_VALID_S, MAX_URL_VALID_S
from camera_grpc.core.recording import RecordingManager
from camera_grpc.core.storage import CaptureStore, StorageLocation, StorageState
from camera_grpc.core.uploads import NotUploadedError, ObjectKeys, Uploader
from camera_grpc.errors import CameraServiceError, InvalidArgumentError, NotFoundError, echo
from camera_grpc.gen.camera.v1 import storage_pb2 as spb
from camera_grpc.rpc import status
from camera_grpc.rpc.settings_wire import timestamp
from camera_grpc.rpc.wire import serialize

#: Resource name prefixes of GetDownloadUrl.
CAPTURES_PREFIX = "captures/"
RECORDINGS_PREFIX = "recordings/"
RECORDING_FILES_PART = "/files/"


class StorageServicer:
    """camera.v1.StorageService (event loop)."""

    def __init__(
        self,
        captures: CaptureStore,
        recordings: RecordingManager | None,
        *,
        local_path: Path,
        uploader: Uploader | None = None,
        keys: ObjectKeys | None = None,
        camera_serial: Callable[[], Awaitable[str]] | None = None,
    ) -> None:
        """``local_path``: the folder whose disk is reported (the spool with a store, else the captures folder);
        ``camera_serial``: the connected camera's serial ("" when unknown), for the key prefix."""
        self._captures = captures
        self._recordings = recordings
        self._local_path = local_path
        self._uploader = uploader
        self._keys = keys
        self._camera_serial = camera_serial

    @property
    def store_reachable(self) -> bool:
        """Whether files reach their store: always with the local folders; else the uploader's last word."""
        return self._uploader is None or self._uploader.status().reachable

    def follow_health(self, listener: Callable[[bool], None]) -> None:
        """Tell ``listener`` whether the store is reachable each time that changes (the uploader's thread)."""
        if self._uploader is not None:
            self._uploader.add_health_listener(listener)

    async def GetStorageStatus(
        self, request: spb.GetStorageStatusRequest, context: grpc.aio.ServicerContext
    ) -> spb.GetStorageStatusResponse:
        free = await asyncio.to_thread(_free_bytes, self._local_path)
        if self._uploader is None:
            return spb.GetStorageStatusResponse(backend=spb.STORAGE_BACKEND_LOCAL, disk_free_bytes=free)
        state = self._uploader.status()
        serial = await self._serial()
        assert self._keys is not None
        return spb.GetStorageStatusResponse(
            backend=spb.STORAGE_BACKEND_OBJECT_STORE,
            endpoint=self._uploader.store.endpoint,
            bucket=self._uploader.store.bucket,
            prefix=self._keys.camera(serial) if serial else self._keys.root(),
            reachable=state.reachable,
            last_error=state.last_error,
            spool_bytes=state.spool_bytes,
            spool_budget_bytes=state.spool_budget_bytes,
            pending_uploads=state.pending_uploads,
            uploaded_files=state.uploaded_files,
            disk_free_bytes=free,
            last_upload_time=timestamp(state.last_upload_time) if state.last_upload_time else None,
        )

    async def GetDownloadUrl(
        self, request: spb.GetDownloadUrlRequest, context: grpc.aio.ServicerContext
    ) -> spb.GetDownloadUrlResponse:
        valid_for_s = request.valid_for_s or DEFAULT_URL_VALID_S
        if valid_for_s > MAX_URL_VALID_S:
            raise InvalidArgumentError("valid_for_s", request.valid_for_s, minimum=1, maximum=MAX_URL_VALID_S)
        location = await self._locate(request.name)
        if location.state is not StorageState.UPLOADED or self._uploader is None:
            if self._uploader is None:
                reason = "there is no object store (STORAGE_BACKEND=local)"
            else:
                reason = "it waits in the spool for its upload"
            raise NotUploadedError(
                f"{echo(request.name)} is not in the object store: {reason}; download it from the service"
            )
        expires = datetime.now(UTC) + timedelta(seconds=valid_for_s)
        url = await asyncio.to_thread(self._uploader.store.presign, location.object_key, valid_for_s)
        return spb.GetDownloadUrlResponse(url=url, expire_time=timestamp(expires))

    async def _locate(self, name: str) -> StorageLocation:
        """Where the file named ``name`` is; NotFoundError if there is no such file."""
        if name.startswith(CAPTURES_PREFIX):
            record = await asyncio.to_thread(self._captures.describe_capture, name.removeprefix(CAPTURES_PREFIX))
            return record.location
        if name.startswith(RECORDINGS_PREFIX) and RECORDING_FILES_PART in name and self._recordings is not None:
            recording, file = name.split(RECORDING_FILES_PART, 1)
            info = await asyncio.to_thread(self._recordings.get, recording)
            for item in info.files:
                if item.name == file:
                    return item.location
            raise NotFoundError(f"recording {recording} has no file named {echo(file)}")
        raise NotFoundError(
            f"no file named {echo(name)}: give captures/{{filename}} or recordings/{{id}}/files/{{file}}"
        )

    async def _serial(self) -> str:
        if self._camera_serial is None:
            return ""
        try:
            return await self._camera_serial()
        except CameraServiceError:
            return ""


def _free_bytes(path: Path) -> int:
    """Free bytes on the disk of ``path`` (its nearest existing folder)."""
    for candidate in (path, *path.parents):
        try:
            return shutil.disk_usage(candidate).free
        except OSError:
            continue
    return 0


def add_to_server(servicer: StorageServicer, server: grpc.aio.Server) -> None:
    """Register ``servicer`` for every RPC of camera.v1.StorageService, each guarded by
    :func:`camera_grpc.rpc.status.guard`."""
    server.add_generic_rpc_handlers((status.guarded_service(STORAGE_SERVICE, servicer, spb, serialize),))
