"""The one place where errors become gRPC statuses.

Every domain error (:class:`~camera_grpc.errors.CameraServiceError`) gets its
status code from :data:`STATUS_CODES` (by class, most specific first) and its
client-safe message; an :class:`~camera_grpc.errors.InvalidArgumentError` also
gets ``google.rpc.BadRequest`` details naming the field and the valid range, and
every domain error carries ``google.rpc.ErrorInfo`` (domain ``camera-grpc``,
the error's ``error_reason``) so clients such as the REST gateway can tell causes
that share a code apart. Anything else becomes INTERNAL with a generic message,
and its traceback goes to the log, never to the client.

:func:`guard` applies this to one RPC handler; :func:`camera_grpc.rpc.servicer.add_to_server`
wraps every method of the service with it when it registers them, so no RPC can
be added without it. A request whose bytes do not parse as its message type
(:func:`request_parser`) is refused with INVALID_ARGUMENT the same way.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import grpc
from google.protobuf import any_pb2
from google.protobuf.message import DecodeError, Message
from google.rpc import code_pb2, error_details_pb2, status_pb2
from grpc_status import rpc_status

from camera_grpc.core.recording_store import RecordingExistsError, RecordingStateError
from camera_grpc.core.uploads import NotUploadedError, ObjectStoreUnavailableError
from camera_grpc.device.settings import FeatureUnsupportedError
from camera_grpc.errors import (
    ERROR_DOMAIN,
    CameraSdkError,
    CameraServiceError,
    CameraTimeoutError,
    CameraUnavailableError,
    InvalidArgumentError,
    NotFoundError,
    RevisionMismatchError,
    ServiceStoppingError,
    SettingsConflictError,
    StorageFullError,
    StorageUnavailableError,
    TooManyStreamsError,
    TooManySubscribersError,
)
from camera_grpc.rpc.handlers import HANDLER_FACTORIES

log = logging.getLogger(__name__)

INTERNAL_MESSAGE = "internal error; see the camera service's log"
#: Longest status message sent. Messages echo input only through ``errors.echo`` (bounded); this is the
#: backstop that keeps any message far below gRPC's 16 KiB limit on response headers, which it travels in
#: twice (``grpc-message`` and the rich status).
MAX_MESSAGE_CHARS = 1024


class MalformedRequestError(CameraServiceError):
    """The request's bytes are not a valid message of the method's request type."""

    def __init__(self, message_type: str) -> None:
        super().__init__(f"the request is not a valid {message_type} message")


#: Status code of each domain error; a subclass not listed takes its nearest listed base's.
STATUS_CODES: dict[type[CameraServiceError], grpc.StatusCode] = {
    CameraServiceError: grpc.StatusCode.INTERNAL,
    InvalidArgumentError: grpc.StatusCode.INVALID_ARGUMENT,
    MalformedRequestError: grpc.StatusCode.INVALID_ARGUMENT,
    NotFoundError: grpc.StatusCode.NOT_FOUND,
    CameraUnavailableError: grpc.StatusCode.UNAVAILABLE,
    ServiceStoppingError: grpc.StatusCode.UNAVAILABLE,
    CameraTimeoutError: grpc.StatusCode.DEADLINE_EXCEEDED,
    CameraSdkError: grpc.StatusCode.INTERNAL,
    StorageUnavailableError: grpc.StatusCode.FAILED_PRECONDITION,
    SettingsConflictError: grpc.StatusCode.FAILED_PRECONDITION,
    FeatureUnsupportedError: grpc.StatusCode.FAILED_PRECONDITION,
    RecordingStateError: grpc.StatusCode.FAILED_PRECONDITION,
    RecordingExistsError: grpc.StatusCode.ALREADY_EXISTS,
    NotUploadedError: grpc.StatusCode.FAILED_PRECONDITION,
    ObjectStoreUnavailableError: grpc.StatusCode.UNAVAILABLE,
    RevisionMismatchError: grpc.StatusCode.ABORTED,
    StorageFullError: grpc.StatusCode.RESOURCE_EXHAUSTED,
    TooManySubscribersError: grpc.StatusCode.RESOURCE_EXHAUSTED,
    TooManyStreamsError: grpc.StatusCode.RESOURCE_EXHAUSTED,
}


def status_code(exc: BaseException) -> grpc.StatusCode:
    """The status code for an exception: its class's (or nearest base's) entry, else INTERNAL."""
    for cls in type(exc).__mro__:
        if cls in STATUS_CODES:
            return STATUS_CODES[cls]  # type: ignore[index]
    return grpc.StatusCode.INTERNAL


def to_status(exc: BaseException) -> grpc.Status:
    """The wire status for an exception (rich details where there are any)."""
    if isinstance(exc, CameraServiceError):
        code, message = status_code(exc), str(exc)
        if len(message) > MAX_MESSAGE_CHARS:
            message = message[: MAX_MESSAGE_CHARS - 3] + "..."
    else:
        code, message = grpc.StatusCode.INTERNAL, INTERNAL_MESSAGE
    status = status_pb2.Status(code=_code_number(code), message=message)
    if isinstance(exc, InvalidArgumentError):
        detail = any_pb2.Any()
        detail.Pack(
            error_details_pb2.BadRequest(
                field_violations=[
                    error_details_pb2.BadRequest.FieldViolation(field=exc.field, description=exc.description)
                ]
            )
        )
        status.details.append(detail)
    if isinstance(exc, CameraServiceError):
        info = any_pb2.Any()
        # A feature the camera lacks is named in the metadata too (clients need not parse the message).
        metadata = {"field": exc.field} if isinstance(exc, FeatureUnsupportedError) else {}
        info.Pack(error_details_pb2.ErrorInfo(reason=exc.error_reason, domain=ERROR_DOMAIN, metadata=metadata))
        status.details.append(info)
    return rpc_status.to_status(status)


def _code_number(code: grpc.StatusCode) -> int:
    number: int = code.value[0]
    return number if number in code_pb2.Code.values() else code_pb2.INTERNAL


async def abort(context: grpc.aio.ServicerContext, exc: BaseException) -> None:
    """End the call with the status for ``exc`` (logging unexpected errors with their traceback)."""
    if not isinstance(exc, CameraServiceError):
        log.error("unexpected error in an RPC", exc_info=exc)
    await context.abort_with_status(to_status(exc))


class MalformedRequest:
    """Stands for a request whose bytes did not parse; the guarded handler refuses it."""

    def __init__(self, message_type: str) -> None:
        self.message_type = message_type


def request_parser(message_class: type[Message]) -> Callable[[bytes], Message | MalformedRequest]:
    """A request deserializer that never raises (grpc would answer UNKNOWN and log a traceback)."""
    type_name = message_class.DESCRIPTOR.full_name

    def parse(data: bytes) -> Message | MalformedRequest:
        try:
            return message_class.FromString(data)
        except DecodeError:
            return MalformedRequest(type_name)

    return parse


Handler = Callable[[Any, grpc.aio.ServicerContext], Any]


def guard(handler: Handler, *, server_streaming: bool, client_streaming: bool = False) -> Handler:
    """``handler`` with every error it raises mapped here (unary or streaming, either way).

    A client-streaming handler gets its requests through :func:`well_formed`, so a malformed
    message in the stream ends the call with INVALID_ARGUMENT like a malformed unary request.
    """
    check: Callable[[Any], Any] = well_formed if client_streaming else _refuse_malformed
    if server_streaming:

        async def stream(request: Any, context: grpc.aio.ServicerContext) -> AsyncIterator[Any]:
            try:
                request = check(request)
                async for response in handler(request, context):
                    yield response
                    del response  # not kept while the next one is awaited (a frame can be megabytes)
            except (asyncio.CancelledError, grpc.aio.AbortError):
                raise
            except Exception as exc:
                await abort(context, exc)

        return stream

    async def unary(request: Any, context: grpc.aio.ServicerContext) -> Any:
        try:
            return await _awaited(handler(check(request), context))
        except (asyncio.CancelledError, grpc.aio.AbortError):
            raise
        except Exception as exc:
            await abort(context, exc)
            raise AssertionError("unreachable: abort raises") from exc

    return unary


def _refuse_malformed(request: object) -> object:
    if isinstance(request, MalformedRequest):
        raise MalformedRequestError(request.message_type)
    return request


async def well_formed(requests: AsyncIterator[Any]) -> AsyncIterator[Any]:
    """The messages of a request stream; MalformedRequestError at the first one that did not parse."""
    async for request in requests:
        yield _refuse_malformed(request)


async def _awaited(result: Awaitable[Any]) -> Any:
    return await result


def guarded_service(
    service: Any, servicer: object, messages: Any, serializer: Callable[[Any], bytes]
) -> grpc.GenericRpcHandler:
    """The handler of every method of ``service`` (a service descriptor), each served by the servicer's method
    of that name wrapped by :func:`guard`, with requests parsed by :func:`request_parser` (message classes
    from the ``messages`` module) and responses by ``serializer``. Built from the descriptor, so an RPC added
    to the contract is registered with its error mapping or not at all."""
    handlers = {
        method.name: HANDLER_FACTORIES[(method.client_streaming, method.server_streaming)](
            guard(
                getattr(servicer, method.name),
                server_streaming=method.server_streaming,
                client_streaming=method.client_streaming,
            ),
            request_deserializer=request_parser(getattr(messages, method.input_type.name)),
            response_serializer=serializer,
        )
        for method in service.methods
    }
    return grpc.method_handlers_generic_handler(service.full_name, handlers)
