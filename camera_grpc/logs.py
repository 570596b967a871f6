"""Log lines and request ids, shared by the gRPC service, the REST gateway and the command.

Every gRPC call and every HTTP request gets a request id: the one its client sent
(gRPC metadata or HTTP header ``x-request-id``) when it is a plausible id, else a new
one. It is sent back to the client (gRPC initial metadata, HTTP response header),
passed on by the REST gateway to the calls it makes, and held in
:data:`current_request_id` (a context variable) while the call runs, so that the log
lines written for that call carry it (:class:`RequestIdFilter`). Work handed to
other threads (the camera thread, the encoder pool) logs without it.

``LOG_FORMAT=json`` writes one JSON object per line (:class:`JsonFormatter`), for log
shippers: ``time`` (UTC, ISO 8601), ``level``, ``logger``, ``message``, and
``request_id`` when there is one (``exception`` with the traceback, when there is one).
"""

from __future__ import annotations

import json
import logging
import re
import uuid
from contextvars import ContextVar
from datetime import UTC, datetime

#: gRPC metadata key and HTTP header of request ids (gRPC metadata keys are lower case).
REQUEST_ID_KEY = "x-request-id"
#: The request ids taken from clients: short, printable, no spaces or quotes (anything else is replaced).
_PLAUSIBLE_ID = re.compile(r"[A-Za-z0-9._:/+=@-]{1,128}", re.ASCII)

#: The request id of the call or request being handled in this context (None outside of one).
current_request_id: ContextVar[str | None] = ContextVar("camera_grpc_request_id", default=None)


def new_request_id() -> str:
    """A fresh request id (32 hex digits)."""
    return uuid.uuid4().hex


def request_id_from(sent: str | bytes | None) -> str:
    """The id a client sent if it is a plausible one (1-128 letters, digits and ``._:/+=@-``), else a new one."""
    if isinstance(sent, bytes):
        sent = sent.decode("ascii", "replace")
    if sent is not None and _PLAUSIBLE_ID.fullmatch(sent):
        return sent
    return new_request_id()


class RequestIdFilter(logging.Filter):
    """Puts the current request id on every record (``record.request_id``, None outside a request)."""

    def filter(self, record: logging.LogRecord) -> bool:
        if not hasattr(record, "request_id"):
            record.request_id = current_request_id.get()
        return True


class JsonFormatter(logging.Formatter):
    """One JSON object per record, on one line."""

    def format(self, record: logging.LogRecord) -> str:
        document: dict[str, object] = {
            "time": datetime.fromtimestamp(record.created, UTC)
            .isoformat(timespec="milliseconds")
            .replace("+00:00", "Z"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        request_id = getattr(record, "request_id", None)
        if request_id is None:
            request_id = current_request_id.get()
        if request_id is not None:
            document["request_id"] = request_id
        if record.exc_info:
            document["exception"] = self.formatException(record.exc_info)
        if record.stack_info:
            document["stack"] = self.formatStack(record.stack_info)
        return json.dumps(document, default=str)


class TextFormatter(logging.Formatter):
    """``time level logger: message``, and ``[request <id>]`` after the message when there is one."""

    def __init__(self) -> None:
        super().__init__("%(asctime)s %(levelname)s %(name)s: %(message)s")

    def formatMessage(self, record: logging.LogRecord) -> str:
        line = super().formatMessage(record)
        request_id = getattr(record, "request_id", None)
        return line if request_id is None else f"{line} [request {request_id}]"


def log_handler(log_format: str, stream: object) -> logging.Handler:
    """A handler writing to ``stream`` in ``log_format`` (``text`` or ``json``), request ids included."""
    handler = logging.StreamHandler(stream)  # type: ignore[arg-type]
    handler.setFormatter(JsonFormatter() if log_format == "json" else TextFormatter())
    handler.addFilter(RequestIdFilter())
    return handler
