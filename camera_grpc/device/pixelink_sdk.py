"""The PixeLINK SDK boundary: loading ``pixelinkWrapper`` lazily, and what its return codes mean.

``pixelinkWrapper`` loads ``libPxLApi.so`` and probes the SDK version **while it is being
imported** (``find $PIXELINK_SDK_LIB -name 'libPxLApi*.so.*'``), so nothing here imports it at
module level: :func:`load_sdk` does, when a PixeLINK driver is created, and turns each way that
import can fail into one :class:`~camera_grpc.errors.SdkUnavailableError` line saying what is
missing and how to fix it.

Return codes are 32-bit signed integers; success is ``rc >= 0`` (positive codes such as
``ApiSuccessParametersChanged`` are successes with a remark). :data:`RETURN_CODE_KINDS` is the one
table saying what a failure means to the driver.
"""

from __future__ import annotations

import enum
import os
import subprocess
from typing import Any

from camera_grpc.errors import SdkUnavailableError

#: Environment variable naming the SDK's library folder (read by pixelinkWrapper's version probe).
SDK_LIB_VARIABLE = "PIXELINK_SDK_LIB"
WRAPPER_PACKAGE = "pixelinkWrapper"
WRAPPER_REQUIREMENT = "pixelinkWrapper==1.5.0"
#: The second half of every "SDK not available" line.
INSTALL_HINT = (
    "install the PixeLINK Linux SDK so that libPxLApi.so is on the loader path (LD_LIBRARY_PATH) and set "
    f'{SDK_LIB_VARIABLE} to its lib folder, or use the SDK emulator: eval "$(scripts/build_emulator.sh)"'
)


def load_sdk() -> Any:
    """Import pixelinkWrapper and return its ``PxLApi`` class (bound to the loaded libPxLApi.so).

    Raises :class:`SdkUnavailableError` with one line naming what is missing and how to install it.
    Cheap after the first success (the module is cached by Python).
    """
    sdk_lib = os.environ.get(SDK_LIB_VARIABLE, "")
    if not sdk_lib.strip():
        # Unset, the wrapper's probe would search the current directory tree (slow, and finds stray copies).
        raise SdkUnavailableError(f"PixeLINK SDK not configured: {SDK_LIB_VARIABLE} is not set; {INSTALL_HINT}")
    try:
        from pixelinkWrapper import PxLApi
    except ModuleNotFoundError as exc:
        if exc.name is None or not exc.name.startswith(WRAPPER_PACKAGE):
            raise
        raise SdkUnavailableError(
            f"the Python package {WRAPPER_PACKAGE} is not installed: pip install {WRAPPER_REQUIREMENT}"
        ) from None
    except OSError as exc:  # CDLL('libPxLApi.so')
        raise SdkUnavailableError(f"PixeLINK SDK library not loadable ({exc}); {INSTALL_HINT}") from None
    except subprocess.CalledProcessError as exc:  # find failed: no such folder, a space in the path, ...
        detail = _first_line(exc.stderr) or f"exit status {exc.returncode}"
        raise SdkUnavailableError(
            f"PixeLINK SDK version probe failed: cannot search {SDK_LIB_VARIABLE}={sdk_lib!r} ({detail}); "
            + INSTALL_HINT
        ) from None
    except (ValueError, IndexError):  # no (or an unparsable) libPxLApi.so.<version> file found
        raise SdkUnavailableError(
            f"PixeLINK SDK version unknown: {SDK_LIB_VARIABLE}={sdk_lib!r} holds no single libPxLApi.so.<version> file "
            f"(such as libPxLApi.so.4.2.2.11); {INSTALL_HINT}"
        ) from None
    return PxLApi


def _first_line(text: str | None) -> str:
    lines = (text or "").strip().splitlines()
    return lines[0] if lines else ""


class RcKind(enum.Enum):
    """What a return code means to the driver."""

    SUCCESS = "success"
    DISCONNECTED = "disconnected"  #: the camera is gone (or its handle is dead): reinitialise
    INVALID_VALUE = "invalid value"  #: the camera refused a value
    NOT_PERMITTED_WHILE_STREAMING = "not permitted while streaming"  #: stop the stream, set, restart
    TIMEOUT = "timeout"  #: no frame in time; grabs retry
    STREAM_STOPPED = "stream stopped"  #: the stream is not running
    BUFFER_TOO_SMALL = "buffer too small"  #: the frame is larger than expected (geometry changed)
    NOT_SUPPORTED = "not supported"  #: the camera lacks this (e.g. an event id it does not report)
    OTHER = "other"


#: Failure codes (names as in ``PxLApi.ReturnCode``) and what they mean; unlisted failures are OTHER.
#: Disconnect codes: ApiNoCameraError is what the SDK answers for a pulled camera, ApiInvalidHandleError for a
#: handle from before a re-plug; the vendor's Capture OEM application treats hardware, I/O and control-access
#: errors as "possibly unplugged" too.
RETURN_CODE_KINDS: dict[str, RcKind] = {
    "ApiNoCameraError": RcKind.DISCONNECTED,
    "ApiNoCameraAvailableError": RcKind.DISCONNECTED,
    "ApiInvalidHandleError": RcKind.DISCONNECTED,
    "ApiHardwareError": RcKind.DISCONNECTED,
    "ApiIOError": RcKind.DISCONNECTED,
    "ApiNoDeviceError": RcKind.DISCONNECTED,
    "ApiLinkDriverError": RcKind.DISCONNECTED,
    "ApiDriverCommunicationError": RcKind.DISCONNECTED,
    "ApiRequiresControlAccess": RcKind.DISCONNECTED,
    "ApiOutOfRangeError": RcKind.INVALID_VALUE,
    "ApiInvalidParameterError": RcKind.INVALID_VALUE,
    "ApiCameraRejectedValueError": RcKind.INVALID_VALUE,
    # GPIO configurations the camera refuses (FEATURES.md 12.3; the names say it, the docs say no more)
    "ApiGpioConfigurationError": RcKind.INVALID_VALUE,
    "ApiGpiHardwareTriggerConflict": RcKind.INVALID_VALUE,
    "ApiGpiOnlyError": RcKind.INVALID_VALUE,
    "ApiGpoOnlyError": RcKind.INVALID_VALUE,
    "ApiNotSupportedError": RcKind.NOT_SUPPORTED,
    "ApiThisEventNotSupported": RcKind.NOT_SUPPORTED,
    "ApiNotPermittedWhileStreaming": RcKind.NOT_PERMITTED_WHILE_STREAMING,
    "ApiCameraTimeoutError": RcKind.TIMEOUT,
    "ApiTimeoutError": RcKind.TIMEOUT,
    "ApiStreamStopped": RcKind.STREAM_STOPPED,
    "ApiNoStreamError": RcKind.STREAM_STOPPED,
    "ApiBufferTooSmall": RcKind.BUFFER_TOO_SMALL,
}


class ReturnCodes:
    """Names and kinds of the SDK's return codes, from the loaded wrapper's ``PxLApi.ReturnCode`` table."""

    def __init__(self, return_code_class: type) -> None:
        self._names: dict[int, str] = {}
        for name, value in vars(return_code_class).items():
            if not name.startswith("_") and isinstance(value, int):
                self._names.setdefault(value, name)  # aliases (ApiH264EncodingError) come after the real name
        self._kinds = {
            getattr(return_code_class, name): kind
            for name, kind in RETURN_CODE_KINDS.items()
            if isinstance(getattr(return_code_class, name, None), int)
        }

    def name(self, rc: int) -> str:
        """``ApiOutOfRangeError`` etc.; unknown codes as 32-bit hex."""
        return self._names.get(rc, f"0x{rc & 0xFFFFFFFF:08X}")

    def kind(self, rc: int) -> RcKind:
        """What ``rc`` means: SUCCESS for every ``rc >= 0``."""
        if rc >= 0:
            return RcKind.SUCCESS
        return self._kinds.get(rc, RcKind.OTHER)
