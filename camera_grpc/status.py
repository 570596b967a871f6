"""The one place where errors become gRPC statuses.

Domain errors (:class:`~camera_grpc.errors.CameraServiceError`) carry their
status code and a client-safe message; :class:`InvalidSettingError` also gets
``google.rpc.BadRequest`` details naming the field and the valid range, and
every domain error carries ``google.rpc.ErrorInfo`` (domain ``camera-grpc``,
the error's ``error_reason``) so clients such as the REST gateway can tell causes
that share a code apart.
Anything else becomes INTERNAL with a generic message, and its traceback goes
to the log, never to the client.
"""

from __future__ import annotations

import asyncio
import functools
import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any, TypeVar

import grpc
from google.protobuf import any_pb2
from google.rpc import code_pb2, error_details_pb2, status_pb2
from grpc_status import rpc_status

from camera_grpc.errors import CameraServiceError, InvalidSettingError

log = logging.getLogger(__name__)

INTERNAL_MESSAGE = "internal error; see the camera service's log"
#: ``google.rpc.ErrorInfo.domain`` of the errors this service reports.
ERROR_DOMAIN = "camera-grpc"

Request = TypeVar("Request")
Response = TypeVar("Response")


def to_status(exc: BaseException) -> grpc.Status:
    """The wire status for an exception (rich details where there are any)."""
    if isinstance(exc, CameraServiceError):
        code, message = exc.status_code, str(exc)
    else:
        code, message = grpc.StatusCode.INTERNAL, INTERNAL_MESSAGE
    status = status_pb2.Status(code=_code_number(code), message=message)
    if isinstance(exc, InvalidSettingError):
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
        info.Pack(error_details_pb2.ErrorInfo(reason=exc.error_reason, domain=ERROR_DOMAIN))
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


def unary(
    method: Callable[[Any, Request, grpc.aio.ServicerContext], Awaitable[Response]],
) -> Callable[[Any, Request, grpc.aio.ServicerContext], Awaitable[Response]]:
    """Decorate a unary servicer method so every error is mapped here."""

    @functools.wraps(method)
    async def wrapper(self: Any, request: Request, context: grpc.aio.ServicerContext) -> Response:
        try:
            return await method(self, request, context)
        except (asyncio.CancelledError, grpc.aio.AbortError):
            raise
        except Exception as exc:
            await abort(context, exc)
            raise AssertionError("unreachable: abort raises") from exc

    return wrapper


def streaming(
    method: Callable[[Any, Request, grpc.aio.ServicerContext], AsyncIterator[Response]],
) -> Callable[[Any, Request, grpc.aio.ServicerContext], AsyncIterator[Response]]:
    """Decorate a server-streaming servicer method so every error is mapped here."""

    @functools.wraps(method)
    async def wrapper(self: Any, request: Request, context: grpc.aio.ServicerContext) -> AsyncIterator[Response]:
        try:
            async for response in method(self, request, context):
                yield response
        except (asyncio.CancelledError, grpc.aio.AbortError):
            raise
        except Exception as exc:
            await abort(context, exc)

    return wrapper
