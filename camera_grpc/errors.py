"""Domain errors: what went wrong, in words safe to show a client. No transport here.

The rpc layer gives each its gRPC status code (with ``google.rpc`` details) in
exactly one place, :mod:`camera_grpc.rpc.status`. Domain code raises these;
anything else that escapes becomes INTERNAL with a generic message and a
logged traceback.
"""

from __future__ import annotations

import re

#: ``google.rpc.ErrorInfo.domain`` of the errors this service reports (and its clients trust).
ERROR_DOMAIN = "camera-grpc"
#: Most characters of a client's input that an error message repeats. A status message travels in a
#: response header, and gRPC refuses headers over 16 KiB (the client would get RESOURCE_EXHAUSTED
#: instead of the error's own status), so input is never echoed whole.
MAX_ECHO_CHARS = 80


def echo(value: object, limit: int = MAX_ECHO_CHARS) -> str:
    """``repr(value)`` for an error message, cut after ``limit`` characters (saying how long it was).

    Every message that repeats what a client sent (a filename, a page token, a value) goes
    through this, so its status stays right whatever the input's length.
    """
    if isinstance(value, (str, bytes)) and len(value) > limit:
        return f"{value[:limit]!r}... ({len(value)} characters)"
    text = repr(value)
    if len(text) > limit:
        return f"{text[:limit]}... ({len(text)} characters)"
    return text


class CameraServiceError(Exception):
    """Base class of errors whose message is safe to show to a client.

    ``error_reason`` is the ``google.rpc.ErrorInfo`` reason sent with the status (so
    clients can tell causes with the same code apart, e.g. a full disk from
    too many streams): unless a subclass sets it, its class name in
    UPPER_SNAKE_CASE without ``Error`` (``StorageFullError`` -> ``STORAGE_FULL``).
    """

    error_reason: str = "CAMERA_SERVICE"

    def __init_subclass__(cls, **kwargs: object) -> None:
        super().__init_subclass__(**kwargs)
        if "error_reason" not in cls.__dict__:
            cls.error_reason = re.sub(r"(?<!^)(?=[A-Z])", "_", cls.__name__.removesuffix("Error")).upper()


#: Units by the suffix of a field's name (names carry their unit: ``exposure_ms``, ``gain_db``).
UNIT_SUFFIXES: dict[str, str] = {
    "_ms": "milliseconds",
    "_s": "seconds",
    "_db": "dB",
    "_pct": "percent",
    "_fps": "frames per second",
    "_bytes": "bytes",
}


def unit_of(field: str) -> str:
    """The unit a field's name declares (``exposure_ms`` -> ``milliseconds``); empty when it declares none."""
    return next((unit for suffix, unit in UNIT_SUFFIXES.items() if field.endswith(suffix)), "")


class InvalidArgumentError(CameraServiceError):
    """A request field's value is not acceptable (NaN, infinite, <= 0, out of range, unknown).

    ``field`` is the API field name (e.g. ``quality``); ``minimum`` and
    ``maximum`` are the valid range in the field's unit, when known.
    """

    def __init__(
        self,
        field: str,
        value: object,
        *,
        minimum: float | None = None,
        maximum: float | None = None,
        reason: str | None = None,
    ) -> None:
        self.field = field
        self.value = value
        self.minimum = minimum
        self.maximum = maximum
        if reason is None:
            if minimum is not None and maximum is not None:
                unit = unit_of(field)
                reason = f"must be between {minimum:g} and {maximum:g}" + (f" ({unit})" if unit else "")
            else:
                reason = "is not valid"
        self.reason = reason
        super().__init__(f"{field}={echo(value)} {reason}")

    @property
    def description(self) -> str:
        """The human-readable violation, e.g. ``must be between 0.01 and 10000``."""
        return self.reason


class InvalidSettingError(InvalidArgumentError):
    """A camera setting (e.g. ``exposure_ms``) the camera cannot take: out of its range, NaN, infinite."""


class CameraUnavailableError(CameraServiceError):
    """The camera is not connected, not found or not usable right now."""


class CameraDisconnectedError(CameraUnavailableError):
    """A driver detected that the camera went away (unplugged, powered off).

    Raised by drivers; the camera worker reacts by closing the driver and
    reconnecting with backoff.
    """


class RevisionMismatchError(CameraServiceError):
    """A conditional change named the settings revision it expected, and the settings have another (another
    change came first). Nothing was changed; read the settings again and retry."""

    def __init__(self, expected: int, current: int) -> None:
        super().__init__(
            f"expected_revision={expected} but the settings are at revision {current} (another change came first); "
            "nothing was changed: read the settings again and retry"
        )
        self.expected = expected
        self.current = current


class SettingsConflictError(CameraServiceError):
    """The camera cannot take the settings clients asked for (e.g. another model, with other ranges, was
    plugged in). The service keeps what was asked for, is not ready, and refuses captures until
    UpdateSettings sets values the camera can take. ``fields``: the settings concerned."""

    def __init__(self, message: str, fields: tuple[str, ...] = ()) -> None:
        super().__init__(message)
        self.fields = fields


class RecordingHoldsSettingsError(SettingsConflictError):
    """A settings change would change the geometry of the frames a running recording writes (region, binning,
    pixel format, flip); ``fields``: those settings. A conflict with the recording's state, like
    :class:`RecordingStateError`: stop the recording first."""

    error_reason = "RECORDING_STATE"


class CameraTimeoutError(CameraServiceError):
    """The camera did not deliver a frame in time."""


class CameraSdkError(CameraServiceError):
    """The camera SDK failed a call for a reason that is not a disconnect, a refused value or a timeout.

    The message names the call and the SDK's return code (e.g. ``ApiBufferTooSmall``).
    """


class StorageUnavailableError(CameraServiceError):
    """The captures folder is missing, not a folder, or not writable."""


class StorageFullError(CameraServiceError):
    """The disk holding the captures folder is full (or over quota)."""


class ServiceStoppingError(CameraServiceError):
    """The service is shutting down and accepts no new camera work."""


class TooManySubscribersError(CameraServiceError):
    """The limit of simultaneous frame streams is reached."""


class TooManyStreamsError(CameraServiceError):
    """The limit of simultaneous long-lived gRPC streams (frames, health watches, reflection) is reached."""


class NotFoundError(CameraServiceError):
    """No saved capture has the requested name (or the name is not a plain capture file name)."""


class PresetNotFoundError(NotFoundError):
    """No preset has the requested name."""


class SdkUnavailableError(Exception):
    """The PixeLINK SDK (libPxLApi.so or pixelinkWrapper) cannot be loaded.

    A start-up problem, not a per-call one: the message says what is missing
    and how to install it.
    """
