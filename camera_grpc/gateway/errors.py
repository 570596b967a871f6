"""The one place where gRPC statuses (and bad requests) become HTTP responses.

gRPC code -> HTTP status, as grpc-gateway does, with the legacy API's choices:

==================== =========================================================
INVALID_ARGUMENT     422, FastAPI's validation shape; ``loc`` names the field
                     (legacy name: ``exposure``, ``gain``), ``msg`` the valid
                     range, from the ``google.rpc.BadRequest`` details
NOT_FOUND            404
DEADLINE_EXCEEDED    504
UNAVAILABLE          503 (camera not connected, service stopping or unreachable)
RESOURCE_EXHAUSTED   507 when the disk is full (ErrorInfo reason STORAGE_FULL),
                     503 otherwise (too many streams)
FAILED_PRECONDITION  409 when a request sets a feature the camera does not have
                     (ErrorInfo reason FEATURE_UNSUPPORTED; the message names it:
                     the request conflicts with the camera, not with its own
                     syntax, and retrying will not help) or asks for a software
                     trigger while the camera is not in software-trigger mode
                     (reason TRIGGER_MODE; the message names the mode) or
                     conflicts with a recording (reason RECORDING_STATE: one
                     runs already, deleting a running one, or a region,
                     binning, format or flip change while one runs), 503
                     otherwise (the captures folder is missing or not writable)
ABORTED              412 for a request with If-Match (the settings changed
                     since that revision), 409 otherwise
UNIMPLEMENTED        501 (the service is older than this gateway)
INTERNAL, others     500 with a generic body
==================== =========================================================

A message from the service is shown only when the service vouched for it
(a ``google.rpc.ErrorInfo`` detail of domain ``camera-grpc``); errors made by
the gRPC library itself (connection refused, deadline expired, ...) get a
generic message per status, so no internal address or stack trace ever
reaches a response. Request validation errors (unknown fields, malformed
JSON, wrong types) are 422 in FastAPI's shape, with values that cannot be
written as JSON left out. Nothing a client sent is echoed at length: every
message, and every field name in a ``loc``, is cut to :data:`MAX_ECHO_CHARS`.
"""

from __future__ import annotations

import logging
from collections.abc import Collection

import grpc
from fastapi import Request
from fastapi.encoders import jsonable_encoder
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field
from starlette.exceptions import HTTPException as StarletteHTTPException

from camera_grpc.client import CameraRpcError

log = logging.getLogger(__name__)

#: gRPC field name -> (REST field name, unit shown with the valid range).
API_FIELDS: dict[str, tuple[str, str]] = {
    "exposure_ms": ("exposure", "milliseconds"),
    "gain_db": ("gain", "dB"),
}
#: ErrorInfo reason of a full disk.
STORAGE_FULL = "STORAGE_FULL"
#: ErrorInfo reason of a request that sets a feature the camera does not have (FAILED_PRECONDITION).
FEATURE_UNSUPPORTED = "FEATURE_UNSUPPORTED"
#: ErrorInfo reason of a software trigger asked for while trigger.source is not software (FAILED_PRECONDITION).
TRIGGER_MODE = "TRIGGER_MODE"
#: ErrorInfo reason of a request that conflicts with a recording's state (one runs already; delete while running;
#: a geometry change while one runs).
RECORDING_STATE = "RECORDING_STATE"
#: FAILED_PRECONDITION reasons that are a conflict with the camera's configuration or a recording (409), not an
#: outage (503).
CONFLICT_REASONS = frozenset({FEATURE_UNSUPPORTED, TRIGGER_MODE, RECORDING_STATE})
#: gRPC request fields that a route takes from its path, by the path parameter's name: a preset's resource name
#: (``presets/{preset_id}``) is made of the path's ``preset_id``.
PATH_FIELDS: dict[str, str] = {"name": "preset_id"}
#: Routes of the legacy API, whose bodies name exposure and gain ``exposure`` and ``gain`` (see API_FIELDS).
LEGACY_ROUTES: frozenset[tuple[str, str]] = frozenset({("PUT", "/settings"), ("POST", "/capture")})
#: Seconds a client should wait before retrying a 503.
RETRY_AFTER_S = 1
#: Longest text taken from a request or the service into an error body (messages, field names).
MAX_ECHO_CHARS = 300

_HTTP_STATUS: dict[grpc.StatusCode, int] = {
    grpc.StatusCode.INVALID_ARGUMENT: 422,
    grpc.StatusCode.OUT_OF_RANGE: 422,
    grpc.StatusCode.NOT_FOUND: 404,
    grpc.StatusCode.ALREADY_EXISTS: 409,
    grpc.StatusCode.ABORTED: 409,
    grpc.StatusCode.PERMISSION_DENIED: 403,
    grpc.StatusCode.UNAUTHENTICATED: 401,
    grpc.StatusCode.DEADLINE_EXCEEDED: 504,
    grpc.StatusCode.UNAVAILABLE: 503,
    grpc.StatusCode.CANCELLED: 503,
    grpc.StatusCode.RESOURCE_EXHAUSTED: 503,
    grpc.StatusCode.FAILED_PRECONDITION: 503,
    grpc.StatusCode.UNIMPLEMENTED: 501,
}
_GENERIC_MESSAGES: dict[int, str] = {
    404: "not found",
    409: "conflict",
    412: "the settings changed since that revision; read them again",
    401: "not authenticated",
    403: "not allowed",
    422: "invalid request",
    500: "internal error; see the camera service's log",
    501: "not supported by the camera service",
    503: "the camera service is unavailable; retry later",
    504: "the camera service did not answer in time",
    507: "no space left for captures",
}


class ErrorBody(BaseModel):
    """An error other than a validation error."""

    detail: str = Field(description="What went wrong, for people", examples=["camera disconnected; reconnecting"])
    code: str | None = Field(
        None, description="gRPC status of the failed call (none for errors of the HTTP layer)", examples=["UNAVAILABLE"]
    )
    reason: str | None = Field(
        None, description="Cause, when the service reported one (google.rpc.ErrorInfo)", examples=["CAMERA_UNAVAILABLE"]
    )


class ValidationIssue(BaseModel):
    """One problem with the request, in FastAPI's validation error shape."""

    type: str = Field(description="Kind of problem", examples=["out_of_range", "extra_forbidden", "json_invalid"])
    loc: list[str | int] = Field(description="Where: body or query, then the field", examples=[["body", "exposure"]])
    msg: str = Field(
        description="What is wrong and what is allowed", examples=["exposure must be between 0.01 and 10000"]
    )
    ctx: dict[str, str] | None = Field(None, description="Extra details, e.g. the JSON error")


class ValidationErrorBody(BaseModel):
    """The request was understood but a value is not acceptable (422)."""

    detail: list[ValidationIssue]


def bounded(text: str, limit: int = MAX_ECHO_CHARS) -> str:
    """``text``, cut to ``limit`` characters (ending with an ellipsis when cut)."""
    return text if len(text) <= limit else text[: limit - 1] + "\u2026"


def http_status(failure: CameraRpcError, *, conditional: bool = False) -> int:
    """The HTTP status for a failed call; ``conditional``: the request had an If-Match."""
    if failure.code is grpc.StatusCode.RESOURCE_EXHAUSTED and failure.from_service and failure.reason == STORAGE_FULL:
        return 507
    conflict = failure.from_service and failure.reason in CONFLICT_REASONS
    if failure.code is grpc.StatusCode.FAILED_PRECONDITION and conflict:
        return 409
    if failure.code is grpc.StatusCode.ABORTED and conditional:
        return 412
    return _HTTP_STATUS.get(failure.code, 500)


def rpc_error_response(
    failure: CameraRpcError,
    *,
    location: str,
    legacy: bool = True,
    conditional: bool = False,
    path_params: Collection[str] = (),
) -> JSONResponse:
    """The HTTP response for a failed call; ``location`` (``body`` or ``query``) is where fields came from but
    for the route's ``path_params``, ``legacy``: whether they have the legacy API's names (``exposure``),
    ``conditional``: it had an If-Match."""
    status_code = http_status(failure, conditional=conditional)
    trusted = failure.from_service and status_code != 500
    message = bounded(failure.details) if trusted else _GENERIC_MESSAGES.get(status_code, _GENERIC_MESSAGES[500])
    if status_code == 422:
        issues = [
            _violation(location, v.field, v.description, legacy=legacy, path_params=path_params)
            for v in failure.field_violations
        ]
        if not issues:
            issues = [ValidationIssue(type="value_error", loc=[location], msg=message)]
        return JSONResponse(ValidationErrorBody(detail=issues).model_dump(exclude_none=True), status_code=422)
    headers = {"Retry-After": str(RETRY_AFTER_S)} if status_code == 503 else None
    if status_code == 401:  # the service refused the token the gateway forwarded
        headers = {"WWW-Authenticate": "Bearer"}
    body = ErrorBody(detail=message, code=failure.code.name, reason=failure.reason if trusted else None)
    return JSONResponse(body.model_dump(), status_code=status_code, headers=headers)


def _violation(
    location: str, grpc_field: str, description: str, *, legacy: bool, path_params: Collection[str]
) -> ValidationIssue:
    name, unit = API_FIELDS.get(grpc_field, (bounded(grpc_field, 64), "")) if legacy else (bounded(grpc_field, 64), "")
    # Services since the units change name the unit themselves; older ones do not.
    missing_unit = unit and "between" in description and f"({unit})" not in description
    message = bounded(f"{name} {description}" + (f" ({unit})" if missing_unit else ""))
    kind = "out_of_range" if "between" in description else "value_error"
    parameter = PATH_FIELDS.get(grpc_field, grpc_field)
    if parameter in path_params:
        return ValidationIssue(type=kind, loc=["path", parameter], msg=message)
    # A field path (roi.width) is a path in the JSON body, as pydantic writes it: ["body", "roi", "width"].
    return ValidationIssue(type=kind, loc=[location, *name.split(".")], msg=message)


def request_location(request: Request) -> str:
    """Where a request's fields are: the JSON body for POST/PUT, the query string otherwise."""
    return "body" if request.method in ("POST", "PUT", "PATCH") else "query"


async def handle_rpc_error(request: Request, exc: Exception) -> JSONResponse:
    """Exception handler for failed gRPC calls."""
    assert isinstance(exc, grpc.aio.AioRpcError)
    failure = CameraRpcError.from_rpc_error(exc)
    if http_status(failure) == 500:
        log.error("%s %s: gRPC %s: %s", request.method, request.url.path, failure.code.name, failure.details)
    route = request.scope.get("route")
    legacy = (request.method, getattr(route, "path_format", request.url.path)) in LEGACY_ROUTES
    conditional = "if-match" in request.headers
    return rpc_error_response(
        failure,
        location=request_location(request),
        legacy=legacy,
        conditional=conditional,
        path_params=tuple(request.path_params),
    )


async def handle_validation_error(request: Request, exc: Exception) -> JSONResponse:
    """Exception handler for bad requests: FastAPI's shape, minus inputs (they may not be valid JSON)."""
    assert isinstance(exc, RequestValidationError)
    issues = []
    for error in exc.errors():
        context = {bounded(str(key), 64): bounded(str(value)) for key, value in (error.get("ctx") or {}).items()}
        issues.append(
            ValidationIssue(
                type=str(error.get("type", "value_error")),
                loc=[part if isinstance(part, int) else bounded(str(part), 64) for part in error.get("loc", ())],
                msg=bounded(str(error.get("msg", "invalid value"))),
                ctx=context or None,
            )
        )
    body = jsonable_encoder(ValidationErrorBody(detail=issues).model_dump(exclude_none=True))
    return JSONResponse(body, status_code=422)


async def handle_http_error(request: Request, exc: Exception) -> JSONResponse:
    """Errors of the HTTP layer (no such route, method not allowed): the same body shape as the others."""
    assert isinstance(exc, StarletteHTTPException)
    if exc.status_code == 400 and exc.__cause__ is not None:  # FastAPI could not decode the body (not UTF-8)
        issue = ValidationIssue(
            type="json_invalid",
            loc=["body"],
            msg="the body is not JSON text",
            ctx={"error": bounded(str(exc.__cause__))},
        )
        return JSONResponse(ValidationErrorBody(detail=[issue]).model_dump(exclude_none=True), status_code=422)
    body = ErrorBody(detail=bounded(str(exc.detail)))
    return JSONResponse(body.model_dump(), status_code=exc.status_code, headers=exc.headers)


async def handle_unexpected_error(request: Request, exc: Exception) -> JSONResponse:
    """Anything else: 500 with a generic body; the traceback goes to the log only."""
    log.error("%s %s failed", request.method, request.url.path, exc_info=exc)
    body = ErrorBody(detail=_GENERIC_MESSAGES[500], code=grpc.StatusCode.INTERNAL.name)
    return JSONResponse(body.model_dump(), status_code=500)


def error_responses(*status_codes: int, **described: str) -> dict[int | str, dict[str, object]]:
    """OpenAPI ``responses`` entries for the given error statuses; ``described``: descriptions of this
    operation's, by ``http_<status>`` (``http_404="No such preset"``)."""
    descriptions = {
        403: "A browser sent it from a page of another site (its Origin is not in ALLOWED_ORIGINS)",
        404: "No such capture",
        409: "The request sets a feature the camera does not have (reason FEATURE_UNSUPPORTED); nothing changed",
        # (POST /trigger describes its own 409: reason TRIGGER_MODE)
        412: "If-Match names another revision than the settings have now; nothing changed",
        413: "The body is larger than REST_MAX_BODY_BYTES",
        415: "The body is not sent as application/json",
        422: "A value is missing, of the wrong type, unknown, or outside the camera's range; nothing changed",
        429: "This client has REST_MAX_STREAMS_PER_CLIENT live streams open already",
        500: "Internal error (generic body; details are in the service's log)",
        501: "The camera service does not support this call",
        503: "The camera is not connected, the service is stopping or unreachable, or too many streams are open",
        504: "The camera (or the camera service) did not answer in time",
        507: "No space left in the captures folder; nothing was saved",
    }
    descriptions.update({int(key.removeprefix("http_")): text for key, text in described.items()})
    responses: dict[int | str, dict[str, object]] = {}
    for status_code in status_codes:
        model = ValidationErrorBody if status_code == 422 else ErrorBody
        responses[status_code] = {"model": model, "description": descriptions[status_code]}
    return responses
