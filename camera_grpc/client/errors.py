"""A failed call to the camera service, with the structured details the service sends.

The one parser of ``google.rpc`` error details for every Python client of the
service (the client classes, the CLI and the REST gateway).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import grpc
from google.rpc import error_details_pb2
from grpc_status import rpc_status

from camera_grpc.errors import ERROR_DOMAIN


@dataclass(frozen=True)
class FieldViolation:
    """One invalid request field, from the ``google.rpc.BadRequest`` details of an error."""

    field: str
    description: str


class CameraRpcError(Exception):
    """A call to the camera service failed. ``str()`` is ``"<CODE>: <message>"``."""

    def __init__(
        self,
        code: grpc.StatusCode,
        details: str,
        *,
        reason: str = "",
        domain: str = "",
        field_violations: Sequence[FieldViolation] = (),
    ) -> None:
        super().__init__(f"{code.name}: {details}")
        #: The gRPC status code (``grpc.StatusCode.INVALID_ARGUMENT``, ...).
        self.code = code
        #: The service's message (for INVALID_ARGUMENT it names the field and the valid range).
        self.details = details
        #: ``google.rpc.ErrorInfo.reason`` when the service sent one (tells causes sharing a code apart).
        self.reason = reason
        #: ``google.rpc.ErrorInfo.domain``: ``camera-grpc`` for errors the service itself reported.
        self.domain = domain
        #: The invalid fields, for INVALID_ARGUMENT.
        self.field_violations = tuple(field_violations)

    @property
    def from_service(self) -> bool:
        """Whether the camera service vouched for the message (not the gRPC library, e.g. a refused connection)."""
        return bool(self.reason) and self.domain == ERROR_DOMAIN

    @classmethod
    def from_rpc_error(cls, error: grpc.RpcError) -> CameraRpcError:
        """Translate a grpc error (sync or aio) with its rich status details."""
        code = error.code() if hasattr(error, "code") else grpc.StatusCode.UNKNOWN
        details = (error.details() if hasattr(error, "details") else None) or ""
        reason = domain = ""
        violations: list[FieldViolation] = []
        try:
            status = rpc_status.from_call(error)  # type: ignore[arg-type]
        except ValueError:  # details that contradict the code or message: ignore them
            status = None
        for detail in status.details if status is not None else ():
            info = error_details_pb2.ErrorInfo()
            bad_request = error_details_pb2.BadRequest()
            if detail.Unpack(info):
                reason, domain = info.reason, info.domain
            elif detail.Unpack(bad_request):
                violations.extend(FieldViolation(v.field, v.description) for v in bad_request.field_violations)
        return cls(code, details, reason=reason, domain=domain, field_violations=violations)
