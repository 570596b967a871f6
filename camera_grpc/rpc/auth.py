"""Who may call what over gRPC: the one place where tokens and roles are checked (a server interceptor).

With ``TOKENS_FILE`` set, :class:`TokenCheck` runs first on every call. Each method needs the role
:data:`METHOD_ROLES` gives it: the table is built from the service descriptors (``camera.v1.CameraService``
from :data:`camera_grpc.contract.CAMERA_SERVICE`, reflection, health), so a method the table does not
name is refused (``PERMISSION_DENIED``) whatever the token, and ``tests/rpc/test_auth_rpc.py`` fails for
an RPC of the contract that has no role. Health checking stays open.

- No token, a malformed ``authorization`` value, a token not in the file, or a client address that used up
  its failed checks (:class:`camera_grpc.auth.Authenticator`): ``UNAUTHENTICATED``, always with the same
  message.
- A valid token whose role is too low, or a method without a role: ``PERMISSION_DENIED``.
"""

from __future__ import annotations

import inspect
import urllib.parse
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from typing import Any

import grpc
from google.protobuf.descriptor import ServiceDescriptor
from grpc_health.v1 import health_pb2
from grpc_reflection.v1alpha import reflection_pb2

from camera_grpc.auth import Authenticator, Role
from camera_grpc.contract import CAMERA_SERVICE, STORAGE_SERVICE
from camera_grpc.rpc.handlers import rewrap
from camera_grpc.rpc.recording_servicer import RECORDING_SERVICE

#: Role each camera.v1.CameraService method needs, by method name (see the README's Security section).
CAMERA_ROLES: dict[str, Role] = {
    "GetSettings": Role.VIEWER,
    "GetCameraInfo": Role.VIEWER,
    "Frames": Role.VIEWER,
    "LiveFrames": Role.VIEWER,
    "ListCaptures": Role.VIEWER,
    "GetCapture": Role.VIEWER,
    "WatchSettings": Role.VIEWER,
    "ListPresets": Role.VIEWER,
    "GetPreset": Role.VIEWER,
    "GetIoStatus": Role.VIEWER,
    "WatchEvents": Role.VIEWER,
    "Capture": Role.OPERATOR,
    "SoftwareTrigger": Role.OPERATOR,
    "UpdateSettings": Role.OPERATOR,
    "CreatePreset": Role.OPERATOR,
    "ApplyPreset": Role.OPERATOR,
    "LoadSettingsFromCamera": Role.OPERATOR,
    "DeleteCapture": Role.OPERATOR,  # as recordings: operators remove what they took
    # Deleting what others saved, and overwriting the camera's own non-volatile memory, are administration.
    "DeletePreset": Role.ADMIN,
    "SaveSettingsToCamera": Role.ADMIN,
}
#: Role each camera.v1.RecordingService method needs: recording and deleting are operation, watching is viewing.
RECORDING_ROLES: dict[str, Role] = {
    "StartRecording": Role.OPERATOR,
    "StopRecording": Role.OPERATOR,
    "DeleteRecording": Role.OPERATOR,
    "GetRecording": Role.VIEWER,
    "ListRecordings": Role.VIEWER,
    "WatchRecording": Role.VIEWER,
    "DownloadRecordingFile": Role.VIEWER,
    "GetRecordingThumbnail": Role.VIEWER,
}
#: Role each camera.v1.StorageService method needs: both only describe or hand out what viewers may download.
STORAGE_ROLES: dict[str, Role] = {
    "GetStorageStatus": Role.VIEWER,
    "GetDownloadUrl": Role.VIEWER,
}
HEALTH_SERVICE: ServiceDescriptor = health_pb2.DESCRIPTOR.services_by_name["Health"]
REFLECTION_SERVICE: ServiceDescriptor = reflection_pb2.DESCRIPTOR.services_by_name["ServerReflection"]
#: A method anyone may call, without a token.
OPEN = None

UNAUTHENTICATED_MESSAGE = "missing or invalid token"
PERMISSION_DENIED_MESSAGE = "the token's role does not allow this call"
#: The metadata key of the token (``authorization: Bearer <token>``).
AUTHORIZATION = "authorization"


def method_names(service: ServiceDescriptor) -> list[str]:
    """Full method names (``/package.Service/Method``) of a service, as interceptors see them."""
    return [f"/{service.full_name}/{method.name}" for method in service.methods]


def _service_roles(service: ServiceDescriptor, roles: Mapping[str, Role]) -> dict[str, Role | None]:
    return {
        f"/{service.full_name}/{method.name}": roles[method.name]
        for method in service.methods
        if method.name in roles  # an RPC without a role has no entry: refused
    }


#: Role needed per full method name; :data:`OPEN` for health. Methods not here are refused.
METHOD_ROLES: Mapping[str, Role | None] = {
    **_service_roles(CAMERA_SERVICE, CAMERA_ROLES),
    **_service_roles(RECORDING_SERVICE, RECORDING_ROLES),
    **_service_roles(STORAGE_SERVICE, STORAGE_ROLES),
    **dict.fromkeys(method_names(REFLECTION_SERVICE), Role.VIEWER),  # lists what the service offers
    **dict.fromkeys(method_names(HEALTH_SERVICE), OPEN),
}


def peer_address(peer: str) -> str | None:
    """The IP address of a gRPC peer (``ipv4:10.0.0.5:40112``, ``ipv6:%5B::1%5D:40112``: grpc percent-encodes the
    brackets) for per-client limits; None for a Unix socket (the service's own REST gateway)."""
    if peer.startswith("unix"):  # unix:, unix-abstract:
        return None
    kind, _, address = peer.partition(":")
    address = urllib.parse.unquote(address)
    if kind == "ipv6" and address.startswith("["):
        return address[1:].partition("]")[0]
    if kind in ("ipv4", "ipv6"):
        return address.rpartition(":")[0] or address
    return peer


class TokenCheck(grpc.aio.ServerInterceptor):
    """Checks each call's token and its role against :data:`METHOD_ROLES` before the method runs."""

    def __init__(self, authenticator: Authenticator, roles: Mapping[str, Role | None] | None = None) -> None:
        self.authenticator = authenticator
        self.roles = METHOD_ROLES if roles is None else roles

    async def intercept_service(
        self,
        continuation: Callable[[grpc.HandlerCallDetails], Awaitable[grpc.RpcMethodHandler]],
        handler_call_details: grpc.HandlerCallDetails,
    ) -> grpc.RpcMethodHandler:
        handler = await continuation(handler_call_details)
        method = handler_call_details.method
        if handler is None or (method in self.roles and self.roles[method] is OPEN):
            return handler
        required = self.roles.get(method)  # None here: no entry, refused to every token

        async def check(context: grpc.aio.ServicerContext) -> None:
            holder = self.authenticator.authenticate(_authorization(context), peer_address(context.peer()))
            if holder is None:
                await context.abort(grpc.StatusCode.UNAUTHENTICATED, UNAUTHENTICATED_MESSAGE)
            elif required is None or holder.role < required:
                await context.abort(grpc.StatusCode.PERMISSION_DENIED, PERMISSION_DENIED_MESSAGE)

        return rewrap(handler, lambda behavior: _after(check, behavior))


def _authorization(context: grpc.aio.ServicerContext) -> str | None:
    values = [value for key, value in context.invocation_metadata() or () if key == AUTHORIZATION]
    if len(values) != 1 or not isinstance(values[0], str):
        return None  # none, or several: malformed
    return values[0]


Check = Callable[[grpc.aio.ServicerContext], Awaitable[None]]


def _after(check: Check, behavior: Callable[..., Any]) -> Callable[..., Any]:
    if inspect.isasyncgenfunction(behavior):

        async def stream(request: Any, context: grpc.aio.ServicerContext) -> AsyncIterator[Any]:
            await check(context)
            async for response in behavior(request, context):
                yield response
                del response  # not kept while the next one is awaited (a frame can be megabytes)

        return stream

    async def call(request: Any, context: grpc.aio.ServicerContext) -> Any:
        await check(context)
        result = behavior(request, context)
        return await result if inspect.isawaitable(result) else result

    return call
