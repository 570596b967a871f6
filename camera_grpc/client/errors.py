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


@dataclass(frozen=True)
class Security:
    """What a client's channel presents: TLS or not, a client certificate, a token (to explain failures)."""

    tls: bool = False
    client_certificate: bool = False
    token: bool = False


#: A client without TLS, certificate or token.
PLAINTEXT = Security()


def security_hint(code: grpc.StatusCode, details: str, security: Security) -> str:
    """What probably went wrong, for failures of transport security and identity ("" when nothing fits).

    gRPC reports a refused certificate or a refused connection as UNAVAILABLE with the library's text
    (a client certificate the service wanted but did not get is only "Socket closed"), and the service's
    UNAUTHENTICATED says nothing that would help a guesser; the client knows what it presented.
    """
    if code is grpc.StatusCode.UNAUTHENTICATED:
        if not security.token:
            return "no token was sent, and the service requires one (token=, --token or CAMERA_GRPC_TOKEN)"
        return "the service did not accept the token (unknown, revoked or mistyped)"
    if code is grpc.StatusCode.PERMISSION_DENIED and security.token:
        return "the token's role does not allow this call"
    if code is not grpc.StatusCode.UNAVAILABLE:
        return ""
    if "CERTIFICATE_VERIFY_FAILED" in details:
        if "expired" in details:
            return "the service's certificate has expired"
        return (
            "the service's certificate is not signed by the CA given (ca=, --ca or CAMERA_GRPC_CA), "
            "or not valid for this host name"
        )
    if "WRONG_VERSION_NUMBER" in details:
        return "the service did not answer in TLS: does it serve TLS on this port?"
    if security.tls and "handshake failed" in details.lower():
        return "the TLS handshake with the service failed"
    if "Socket closed" in details or "Connection reset" in details:
        if not security.tls:
            return "the service closed the connection: if it serves TLS, give its CA certificate (--ca)"
        if not security.client_certificate:
            return (
                "the service closed the connection: if it asks for client certificates (mutual TLS), "
                "give one (cert= and key=, --cert and --key)"
            )
        return "the service closed the connection: was the client certificate issued by the CA the service trusts?"
    return ""


class CameraRpcError(Exception):
    """A call to the camera service failed. ``str()`` is ``"<CODE>: <message>"`` (then ``"; <hint>"``, if any)."""

    def __init__(
        self,
        code: grpc.StatusCode,
        details: str,
        *,
        reason: str = "",
        domain: str = "",
        field_violations: Sequence[FieldViolation] = (),
        hint: str = "",
    ) -> None:
        super().__init__(f"{code.name}: {details}" + (f"; {hint}" if hint else ""))
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
        #: The client's explanation of a failure of TLS or authentication (:func:`security_hint`), or "".
        self.hint = hint

    @property
    def from_service(self) -> bool:
        """Whether the camera service vouched for the message (not the gRPC library, e.g. a refused connection)."""
        return bool(self.reason) and self.domain == ERROR_DOMAIN

    @classmethod
    def from_rpc_error(cls, error: grpc.RpcError, security: Security | None = None) -> CameraRpcError:
        """Translate a grpc error (sync or aio) with its rich status details; with the ``security`` the
        client's channel presents, a failure of TLS or authentication gets a :attr:`hint`."""
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
        hint = "" if security is None else security_hint(code, details, security)
        return cls(code, details, reason=reason, domain=domain, field_violations=violations, hint=hint)
