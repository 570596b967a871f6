"""Python clients of camera.v1: :class:`CameraClient` (blocking) and :class:`AsyncCameraClient` (asyncio).

Both are thin typed layers over the generated stubs: keyword arguments in, the
protobuf response messages out (``camera_grpc.gen.camera.v1.camera_pb2``), with
channel options that suit this service::

    with CameraClient("127.0.0.1:50051") as camera:
        saved = camera.capture(exposure_ms=100, gain_db=2)
        print(saved.path, saved.width, saved.height)
        for frame in camera.frames(max_frames=10, encoding=pb.FRAME_ENCODING_JPEG):
            ...

Every failed call raises :class:`CameraRpcError`, which carries the gRPC status
code, the service's message and its structured details (the offending fields of
an INVALID_ARGUMENT, the ``ErrorInfo`` reason).

TLS and tokens (``camera_grpc.client.credentials``): ``ca=`` (the CA certificate
that signed the service's, a path or PEM bytes) makes the channel TLS; ``cert=``
and ``key=`` add a client certificate (mutual TLS); ``token=`` sends
``authorization: Bearer <token>`` with every call::

    with CameraClient("camera.lab:50051", ca="ca.pem", token=os.environ["CAMERA_GRPC_TOKEN"]) as camera:
        ...

A token goes in plaintext only to a loopback target (``127.0.0.1``, ``localhost``,
``[::1]``, checked again by gRPC when it connects); to any other host without TLS
the client refuses to start (:class:`CredentialsError`). A call the service refuses
(UNAUTHENTICATED, PERMISSION_DENIED) or a TLS handshake that fails (a certificate
from another CA, expired; a client certificate missing) raises CameraRpcError with
a :attr:`~CameraRpcError.hint` saying what the client presented.

Deadlines: unary calls get ``timeout_s`` of the call if given, else the client's
default (``timeout_s`` of the constructor, 10 s unless given). A capture takes at
least its exposure, so its default deadline is the client's default **plus the
exposure**: the ``exposure_ms`` it asks for, or, when it asks for none, the last
exposure this client saw in a settings or capture response, or else the camera's
longest exposure if this client asked ``get_camera_info``; with none of these
known, nothing is added (see :meth:`CameraClient.capture_deadline_s`). Streams
have no deadline unless one is given, since a live stream runs until cancelled.

Each call is defined once, for both clients: a method of the shared base builds
the request (:class:`UnaryCall`), and each client sends it its way, blocking or
as an awaitable.
"""

from __future__ import annotations

import asyncio
import functools
import inspect
import math
import os
import queue
import types
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from types import TracebackType
from typing import Any, Concatenate, Generic, ParamSpec, Self, TypedDict, TypeVar, Unpack, overload

import grpc
from google.protobuf.message import Message
from grpc_health.v1 import health_pb2, health_pb2_grpc

from camera_grpc.client.channel import DEFAULT_MAX_MESSAGE_BYTES, channel_options
from camera_grpc.client.credentials import PemSource, channel_credentials
from camera_grpc.client.errors import PLAINTEXT, CameraRpcError, Security
from camera_grpc.client.settings import enum_choices, enum_name, enum_number, preset_name, update_request
from camera_grpc.client.settings import preset_id as preset_id_of
from camera_grpc.contract import CAMERA_SERVICE_NAME
from camera_grpc.gen.camera.v1 import camera_pb2 as pb
from camera_grpc.gen.camera.v1 import camera_pb2_grpc, recording_pb2_grpc, storage_pb2_grpc
from camera_grpc.gen.camera.v1 import recording_pb2 as rpb
from camera_grpc.gen.camera.v1 import storage_pb2 as spb

#: Deadline of unary calls unless a call says otherwise, seconds (a capture adds its exposure).
DEFAULT_TIMEOUT_S = 10.0


class _DefaultTimeout:
    """``timeout_s`` not given: the client's default (help() shows this repr)."""

    def __repr__(self) -> str:
        return "<the client's default>"


_DEFAULT_TIMEOUT: Any = _DefaultTimeout()

#: Responses that say which exposure is in effect (in ``exposure_ms``, or in their ``settings``).
_SETTINGS_RESPONSES = (pb.GetSettingsResponse, pb.UpdateSettingsResponse, pb.CaptureResponse)
_FULL_SETTINGS_RESPONSES = (pb.ApplyPresetResponse, pb.LoadSettingsFromCameraResponse)

_P = ParamSpec("_P")
_R = TypeVar("_R", bound=Message)
_M = TypeVar("_M", bound=Message)
_Stream = TypeVar("_Stream", "FrameStream", "AsyncFrameStream")
_Watch = TypeVar("_Watch", "SettingsStream", "AsyncSettingsStream")
_Events = TypeVar("_Events", "EventStream", "AsyncEventStream")


class CaptureFields(TypedDict, total=False):
    """The fields of a CaptureRequest, as keyword arguments; ``None`` (or absent) leaves an optional one unset."""

    exposure_ms: float | None
    gain_db: float | None
    image_format: pb.ImageFormat.ValueType  # the proto's ``format``
    quality: int | None
    include_image_data: bool


class FramesFields(TypedDict, total=False):
    """The fields of a FramesRequest, as keyword arguments; ``None`` (or absent) leaves an optional one unset.

    ``statistics=True`` asks for each frame's statistics (``FramesResponse.statistics``: histogram, minimum,
    maximum, mean, saturated fraction per channel, focus score) with ``histogram_bins`` bins per channel (unset:
    the service's 256); ``encoding=pb.FRAME_ENCODING_NONE`` leaves the pixels out (statistics and metadata only).
    """

    encoding: pb.FrameEncoding.ValueType
    quality: int | None
    max_width: int | None
    max_fps: float | None
    max_frames: int | None
    policy: pb.DeliveryPolicy.ValueType
    queue_depth: int | None
    statistics: bool
    histogram_bins: int | None


class SettingsFields(TypedDict, total=False):
    """Settings of ``camera.v1.CameraSettings`` as keyword arguments of ``update_settings`` (besides
    ``exposure_ms`` and ``gain_db``): a message replaces the field, a mapping sets only its parts, enums
    by short name (``"once"``, ``"mono16"``, ``"bin"``) or number; ``None`` (or absent) leaves one unchanged."""

    roi: pb.Region | Mapping[str, int] | None
    pixel_addressing: pb.PixelAddressing | Mapping[str, Any] | None
    pixel_format: str | int | None
    frame_rate: pb.FrameRate | Mapping[str, Any] | None
    exposure_auto: str | int | None
    exposure_auto_limits_ms: pb.ValueRange | Mapping[str, float] | None
    gain_auto: str | int | None
    white_balance: pb.WhiteBalance | Mapping[str, Any] | None
    black_level_pct: float | None
    gamma: float | None
    flip: pb.Flip | Mapping[str, bool] | None
    saturation_pct: float | None
    trigger: pb.Trigger | Mapping[str, Any] | None
    gpio: Sequence[pb.Gpio | Mapping[str, Any]] | None  # a list: replaced whole (list every line)


def capture_request(**fields: Unpack[CaptureFields]) -> pb.CaptureRequest:
    """A CaptureRequest from :class:`CaptureFields` keyword arguments."""
    named = dict(fields)
    image_format = named.pop("image_format", pb.IMAGE_FORMAT_UNSPECIFIED)
    return pb.CaptureRequest(format=image_format, **named)  # type: ignore[arg-type]


def frames_request(**fields: Unpack[FramesFields]) -> pb.FramesRequest:
    """A FramesRequest from :class:`FramesFields` keyword arguments (``histogram_bins`` alone asks for statistics
    too)."""
    named: dict[str, Any] = dict(fields)
    statistics = named.pop("statistics", False)
    bins = named.pop("histogram_bins", None)
    request = pb.FramesRequest(**named)
    if statistics or bins is not None:
        request.statistics.CopyFrom(pb.FrameStatisticsOptions(histogram_bins=bins or 0))
    return request


def events_request(types: Iterable[str | int] = ()) -> pb.WatchEventsRequest:
    """A WatchEventsRequest for events of ``types`` (short names as ``"trigger_missed"``, full names or numbers;
    none: all). SettingsValueError (a ValueError naming the valid types) for an unknown one."""
    return pb.WatchEventsRequest(types=[enum_number("types", pb.EventType.DESCRIPTOR, kind) for kind in types])


@dataclass(frozen=True)
class UnaryCall(Generic[_R]):
    """One unary call as a client method builds it: the stub's method, the request and the deadline."""

    method: Any  #: the stub's multi-callable (``stub.Capture``)
    request: Message
    timeout_s: float | None


class _Unary(Generic[_P, _R]):
    """A unary method defined once for both clients.

    It wraps a method of the shared base that returns a :class:`UnaryCall`; on a
    :class:`CameraClient` calling it returns the response, on an
    :class:`AsyncCameraClient` an awaitable of it (each client's ``_send``).
    """

    def __init__(self, build: Callable[Concatenate[Any, _P], UnaryCall[_R]]) -> None:
        def send(client: _ClientBase[Any], *args: Any, **kwargs: Any) -> Any:
            return client._send(build(client, *args, **kwargs))

        functools.update_wrapper(send, build)  # name and docstring; help() and inspect show the arguments:
        del send.__wrapped__  # type: ignore[attr-defined]
        send.__annotations__ = {key: value for key, value in build.__annotations__.items() if key != "return"}
        send.__signature__ = inspect.signature(build).replace(  # type: ignore[attr-defined]
            return_annotation=inspect.Signature.empty
        )
        self._send = send

    @overload
    def __get__(self, client: None, owner: type[Any]) -> Callable[Concatenate[Any, _P], Any]: ...
    @overload
    def __get__(self, client: CameraClient, owner: type[Any] | None = None) -> Callable[_P, _R]: ...
    @overload
    def __get__(self, client: AsyncCameraClient, owner: type[Any] | None = None) -> Callable[_P, Awaitable[_R]]: ...
    def __get__(self, client: Any, owner: Any = None) -> Any:
        return self._send if client is None else types.MethodType(self._send, client)


class ResponseStream(Iterator[_M]):
    """The responses of one server-streaming call. Iterate it; ``cancel()`` (or leaving ``with``) ends it."""

    def __init__(self, call: Any, security: Security = PLAINTEXT) -> None:
        self._call = call
        self._security = security

    def __iter__(self) -> Self:
        return self

    def __next__(self) -> _M:
        try:
            return next(self._call)  # type: ignore[no-any-return]
        except grpc.RpcError as error:
            if error.code() is grpc.StatusCode.CANCELLED and self._call.cancelled():
                raise StopIteration from None
            raise CameraRpcError.from_rpc_error(error, self._security) from error

    def cancel(self) -> None:
        """Stop the stream (the service unsubscribes this client)."""
        self._call.cancel()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.cancel()


class AsyncResponseStream(AsyncIterator[_M]):
    """The responses of one server-streaming call (asyncio). ``cancel()`` (or leaving ``async with``) ends it."""

    def __init__(self, call: grpc.aio.UnaryStreamCall, security: Security = PLAINTEXT) -> None:
        self._call = call
        self._security = security
        self._responses = call.__aiter__()

    def __aiter__(self) -> Self:
        return self

    async def __anext__(self) -> _M:
        try:
            return await self._responses.__anext__()  # type: ignore[no-any-return]
        except asyncio.CancelledError:
            # grpc.aio raises CancelledError for a call cancelled by cancel(); that ends the stream.
            # A cancellation of the task that is reading still propagates.
            task = asyncio.current_task()
            if self._call.cancelled() and (task is None or task.cancelling() == 0):
                raise StopAsyncIteration from None
            raise
        except grpc.RpcError as error:
            if self._call.cancelled():
                raise StopAsyncIteration from None
            raise CameraRpcError.from_rpc_error(error, self._security) from error

    def cancel(self) -> None:
        """Stop the stream (the service unsubscribes this client)."""
        self._call.cancel()

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        self.cancel()


class FrameStream(ResponseStream[pb.FramesResponse]):
    """The live frames of one ``Frames`` call. Iterate it; ``cancel()`` (or leaving ``with``) ends it."""


class AsyncFrameStream(AsyncResponseStream[pb.FramesResponse]):
    """The live frames of one ``Frames`` call (asyncio). ``cancel()`` (or leaving ``async with``) ends it."""


class SettingsStream(ResponseStream[pb.WatchSettingsResponse]):
    """The settings of one ``WatchSettings`` call: the current ones first, then after every change."""


class AsyncSettingsStream(AsyncResponseStream[pb.WatchSettingsResponse]):
    """The settings of one ``WatchSettings`` call (asyncio): the current ones first, then after every change."""


class EventStream(ResponseStream[pb.WatchEventsResponse]):
    """The events of one ``WatchEvents`` call, as they happen (``missed_events``: lost before this one)."""


class AsyncEventStream(AsyncResponseStream[pb.WatchEventsResponse]):
    """The events of one ``WatchEvents`` call (asyncio), as they happen."""


class LiveFrameStream(FrameStream):
    """The frames of one ``LiveFrames`` call: each ``next()`` grants one credit, then waits for that frame, so
    every frame is the newest when it is asked for, however slowly the caller iterates (see ``live_frames``)."""

    def __init__(self, call_with: Any, subscription: pb.FramesRequest, security: Security = PLAINTEXT) -> None:
        self._credits: queue.SimpleQueue[pb.LiveFramesRequest | None] = queue.SimpleQueue()
        self._credits.put(pb.LiveFramesRequest(subscription=subscription))
        super().__init__(call_with(iter(self._credits.get, None)), security)

    def __next__(self) -> pb.FramesResponse:
        self._credits.put(GRANT_ONE)
        return super().__next__().frame  # type: ignore[attr-defined, no-any-return]

    def cancel(self) -> None:
        self._credits.put(None)  # ends the request stream
        super().cancel()


class AsyncLiveFrameStream(AsyncFrameStream):
    """``LiveFrameStream`` for asyncio: each step grants one credit, then waits for that frame."""

    def __init__(self, call: grpc.aio.StreamStreamCall, subscription: pb.FramesRequest, security: Security) -> None:
        super().__init__(call, security)  # type: ignore[arg-type]
        self._subscription: pb.FramesRequest | None = subscription

    async def __anext__(self) -> pb.FramesResponse:
        call: Any = self._call
        try:
            if self._subscription is not None:
                await call.write(pb.LiveFramesRequest(subscription=self._subscription))
                self._subscription = None
            await call.write(GRANT_ONE)
        except (grpc.RpcError, asyncio.InvalidStateError):
            pass  # the call has ended: reading says how
        return (await super().__anext__()).frame  # type: ignore[attr-defined, no-any-return]


#: The message that grants one frame of a LiveFrames call.
GRANT_ONE = pb.LiveFramesRequest(credits=1)


#: Where a downloaded file is written.
Destination = str | os.PathLike[str]
#: Prefix of a recording's resource name.
RECORDING_PREFIX = "recordings/"
#: Prefix of a capture's name in StorageService (GetDownloadUrl).
CAPTURE_PREFIX = "captures/"
#: Recording formats by the names people use (CLI, REST): ``ome-tiff``, ``ome-zarr``, ``mp4``.
RECORDING_FORMATS: tuple[str, ...] = tuple(
    name.replace("_", "-") for name in enum_choices(rpb.RecordingFormat.DESCRIPTOR)
)
#: Thumbnail widths the service makes (GetCapture's thumbnail_max_width, GetRecordingThumbnail's max_width), pixels.
THUMBNAIL_MIN_WIDTH_PX = 16
THUMBNAIL_MAX_WIDTH_PX = 1024
#: The width of a thumbnail when none is asked for (GetRecordingThumbnail's 0), pixels.
DEFAULT_THUMBNAIL_WIDTH_PX = 256


def recording_name(recording: str) -> str:
    """``recordings/{id}`` from an id or a name."""
    return recording if recording.startswith(RECORDING_PREFIX) else RECORDING_PREFIX + recording


def recording_file_name(recording: str, file: str) -> str:
    """``recordings/{id}/files/{file}``: a recording's file as StorageService names it."""
    return f"{recording_name(recording)}/files/{file}"


def capture_storage_name(filename: str) -> str:
    """``captures/{filename}``: a capture as StorageService names it."""
    return CAPTURE_PREFIX + filename


def recording_format_name(number: int) -> str:
    """The name people use for a ``camera.v1.RecordingFormat`` (``ome-tiff``); unspecified is OME-TIFF."""
    if number == rpb.RECORDING_FORMAT_UNSPECIFIED:
        number = rpb.RECORDING_FORMAT_OME_TIFF
    return enum_name(rpb.RecordingFormat.DESCRIPTOR, number).replace("_", "-")


def recording_format(value: str | int) -> int:
    """``camera.v1.RecordingFormat`` from a short name (``ome-tiff``, ``ome_zarr``, ``mp4``) or number."""
    return enum_number(
        "format", rpb.RecordingFormat.DESCRIPTOR, value.replace("-", "_") if isinstance(value, str) else value
    )


def _by_recording(name: str, rpc: str, doc: str) -> Callable[..., UnaryCall[Any]]:
    """A client method calling RecordingService ``rpc`` with one recording's name (by id or name)."""

    def build(client: Any, recording: str, *, timeout_s: float | None = _DEFAULT_TIMEOUT) -> UnaryCall[Any]:
        method = getattr(client._recordings, rpc)
        return client._named_call(method, getattr(rpb, rpc + "Request"), recording_name(recording), timeout_s)  # type: ignore[no-any-return]

    build.__name__ = build.__qualname__ = name
    build.__doc__ = doc
    return build


class RecordingStream(ResponseStream[rpb.WatchRecordingResponse]):
    """A recording's progress (``watch_recording``), until it ends."""


class AsyncRecordingStream(AsyncResponseStream[rpb.WatchRecordingResponse]):
    """A recording's progress (``watch_recording``), until it ends."""


class _ClientBase(Generic[_Stream, _Watch, _Events]):
    """What both clients share: the channel, every call, the deadlines. ``_Stream`` is the type of ``frames()``,
    ``_Watch`` that of ``watch_settings()``, ``_Events`` that of ``watch_events()``."""

    #: ``grpc`` or ``grpc.aio``: where the channel comes from.
    _channel_module: Any
    #: FrameStream or AsyncFrameStream.
    _stream_type: type[_Stream]
    #: SettingsStream or AsyncSettingsStream.
    _watch_type: type[_Watch]
    #: EventStream or AsyncEventStream.
    _events_type: type[_Events]

    def __init__(
        self,
        target: str,
        *,
        timeout_s: float | None = DEFAULT_TIMEOUT_S,
        max_message_bytes: int = DEFAULT_MAX_MESSAGE_BYTES,
        credentials: grpc.ChannelCredentials | None = None,
        options: Sequence[tuple[str, Any]] = (),
        ca: PemSource | None = None,
        cert: PemSource | None = None,
        key: PemSource | None = None,
        token: str | None = None,
        tls: bool = False,
    ) -> None:
        #: What the channel presents (TLS, a client certificate, a token): explains failures (CameraRpcError.hint).
        self.security = Security(
            tls=tls or credentials is not None or any(source is not None for source in (ca, cert, key)),
            client_certificate=cert is not None,
            token=token is not None,
        )
        # Before the channel, so that unusable credentials (CredentialsError) leave no channel behind.
        credentials = channel_credentials(
            target, ca=ca, cert=cert, key=key, token=token, tls=tls, credentials=credentials
        )
        self.target = target
        #: Default deadline of unary calls, seconds (None: no deadline); a capture adds its exposure.
        self.timeout_s = timeout_s
        #: The exposure in effect as last reported to this client (settings and capture responses), ms.
        self.last_exposure_ms: float | None = None
        #: The camera's longest exposure, ms, once this client asked ``get_camera_info``.
        self.max_exposure_ms: float | None = None
        all_options = [*channel_options(max_message_bytes), *options]
        if credentials is None:
            self._channel = self._channel_module.insecure_channel(target, options=all_options)
        else:
            self._channel = self._channel_module.secure_channel(target, credentials, options=all_options)
        self._stub = camera_pb2_grpc.CameraServiceStub(self._channel)
        self._recordings = recording_pb2_grpc.RecordingServiceStub(self._channel)
        self._storage = storage_pb2_grpc.StorageServiceStub(self._channel)
        self._health = health_pb2_grpc.HealthStub(self._channel)

    @_Unary
    def capture(
        self, *, timeout_s: float | None = _DEFAULT_TIMEOUT, **fields: Unpack[CaptureFields]
    ) -> UnaryCall[pb.CaptureResponse]:
        """Capture and save one frame; keyword arguments as :class:`CaptureFields`.

        The deadline is ``timeout_s`` if given, else :meth:`capture_deadline_s` (the default plus the exposure).
        """
        request = capture_request(**fields)
        if timeout_s is _DEFAULT_TIMEOUT:
            timeout_s = self.capture_deadline_s(request.exposure_ms if request.HasField("exposure_ms") else None)
        return UnaryCall(self._stub.Capture, request, timeout_s)

    @_Unary
    def start_recording(
        self,
        *,
        recording_id: str = "",
        format: str | int = "ome-tiff",
        max_frames: int = 0,
        max_duration_s: float = 0.0,
        frames_per_file: int = 0,
        max_width: int = 0,
        timeout_s: float | None = _DEFAULT_TIMEOUT,
    ) -> UnaryCall[rpb.StartRecordingResponse]:
        """Start recording the camera's frames to files on the service (``format``: ``ome-tiff``, ``ome-zarr`` or
        ``mp4``); stops after ``max_frames`` or ``max_duration_s`` (0: no limit) or :meth:`stop_recording`.
        Returns the recording (RUNNING); follow it with :meth:`watch_recording`."""
        request = rpb.StartRecordingRequest(
            recording_id=recording_id,
            format=recording_format(format),
            max_frames=max_frames,
            max_duration_s=max_duration_s,
            frames_per_file=frames_per_file,
            max_width=max_width,
        )
        return UnaryCall(self._recordings.StartRecording, request, self._timeout(timeout_s))

    stop_recording = _Unary(
        _by_recording(
            "stop_recording",
            "StopRecording",
            "Stop a running recording (by id or name); returns it in its final state, its files complete.",
        )
    )
    get_recording = _Unary(
        _by_recording(
            "get_recording",
            "GetRecording",
            "One recording (by id or name) with its progress and files; NOT_FOUND if there is none.",
        )
    )
    delete_recording = _Unary(
        _by_recording(
            "delete_recording",
            "DeleteRecording",
            "Delete a recording that is not running (by id or name), and its files.",
        )
    )

    @_Unary
    def list_recordings(
        self, *, page_size: int = 0, page_token: str = "", timeout_s: float | None = _DEFAULT_TIMEOUT
    ) -> UnaryCall[rpb.ListRecordingsResponse]:
        """Recordings, newest first, one page (``next_page_token`` is empty on the last page)."""
        return self._page_call(
            self._recordings.ListRecordings, rpb.ListRecordingsRequest, page_size, page_token, timeout_s
        )

    @_Unary
    def get_recording_thumbnail(
        self, recording: str, *, max_width: int = 0, timeout_s: float | None = _DEFAULT_TIMEOUT
    ) -> UnaryCall[rpb.GetRecordingThumbnailResponse]:
        """A small JPEG of a recording's first frame (by id or name), no wider than ``max_width`` pixels
        (:data:`THUMBNAIL_MIN_WIDTH_PX` to :data:`THUMBNAIL_MAX_WIDTH_PX`; 0: :data:`DEFAULT_THUMBNAIL_WIDTH_PX`);
        made once by the service and cached."""
        request = rpb.GetRecordingThumbnailRequest(name=recording_name(recording), max_width=max_width)
        return UnaryCall(self._recordings.GetRecordingThumbnail, request, self._timeout(timeout_s))

    @_Unary
    def get_storage_status(
        self, *, timeout_s: float | None = _DEFAULT_TIMEOUT
    ) -> UnaryCall[spb.GetStorageStatusResponse]:
        """Where the service keeps captures and recordings: local folders or an object store (endpoint, bucket,
        prefix, reachable, last error), the spool (bytes, budget, pending uploads), files uploaded, free disk."""
        return UnaryCall(self._storage.GetStorageStatus, spb.GetStorageStatusRequest(), self._timeout(timeout_s))

    @_Unary
    def get_download_url(
        self, name: str, valid_for_s: int = 0, *, timeout_s: float | None = _DEFAULT_TIMEOUT
    ) -> UnaryCall[spb.GetDownloadUrlResponse]:
        """A pre-signed URL of a file in the object store: ``name`` is ``captures/{filename}`` or
        ``recordings/{id}/files/{file}`` (:func:`capture_storage_name`, :func:`recording_file_name`), valid for
        ``valid_for_s`` seconds (0: the service's 300, at most 86400). FAILED_PRECONDITION while the file is not
        in the store (download it from the service instead)."""
        request = spb.GetDownloadUrlRequest(name=name, valid_for_s=valid_for_s)
        return UnaryCall(self._storage.GetDownloadUrl, request, self._timeout(timeout_s))

    def _watch_recording_call(self, recording: str, timeout_s: float | None) -> Any:
        return self._recordings.WatchRecording(
            rpb.WatchRecordingRequest(name=recording_name(recording)), timeout=timeout_s
        )

    def _download_call(self, recording: str, file: str, offset: int, timeout_s: float | None) -> Any:
        request = rpb.DownloadRecordingFileRequest(name=recording_name(recording), file=file, offset=offset)
        return self._recordings.DownloadRecordingFile(request, timeout=timeout_s)

    @_Unary
    def get_settings(self, *, timeout_s: float | None = _DEFAULT_TIMEOUT) -> UnaryCall[pb.GetSettingsResponse]:
        """The camera's current settings."""
        return UnaryCall(self._stub.GetSettings, pb.GetSettingsRequest(), self._timeout(timeout_s))

    @_Unary
    def update_settings(
        self,
        *,
        exposure_ms: float | None = None,
        gain_db: float | None = None,
        expected_revision: int | None = None,
        timeout_s: float | None = _DEFAULT_TIMEOUT,
        **settings: Unpack[SettingsFields],
    ) -> UnaryCall[pb.UpdateSettingsResponse]:
        """Change the settings given (all or nothing); returns what the camera applied.

        Keyword arguments are settings of ``camera.v1.CameraSettings`` (:class:`SettingsFields`): a message
        replaces the whole field (``roi=pb.Region(...)``), a mapping only its parts (``roi={"width": 640}``);
        enums by short name (``exposure_auto="once"``, ``pixel_format="mono16"``) or number; a part by its
        path, as ``**{"roi.width": 640}``. The request's FieldMask names exactly what was given; the
        response's ``settings`` carry the new ``revision``. ``expected_revision``: apply only if the
        settings still have that revision (else ABORTED, nothing changed). With only ``exposure_ms`` and
        ``gain_db``, the request is the one older services know.
        """
        if not settings and expected_revision is None:
            request = pb.UpdateSettingsRequest(exposure_ms=exposure_ms, gain_db=gain_db)
        else:
            given = {"exposure_ms": exposure_ms, "gain_db": gain_db, **settings}
            request = update_request(given, expected_revision=expected_revision)
        return UnaryCall(self._stub.UpdateSettings, request, self._timeout(timeout_s))

    def watch_settings(self, *, timeout_s: float | None = None) -> _Watch:
        """The settings now, then again after every change (whoever made it), each with a higher ``revision``
        and its ``cause``; iterate it, ``cancel()`` ends it. No deadline unless given."""
        return self._watch_type(self._stub.WatchSettings(pb.WatchSettingsRequest(), timeout=timeout_s), self.security)

    @_Unary
    def software_trigger(self, *, timeout_s: float | None = _DEFAULT_TIMEOUT) -> UnaryCall[pb.SoftwareTriggerResponse]:
        """Fire one software trigger (the camera must be in software-trigger mode, ``trigger={"source":
        "software"}``, else FAILED_PRECONDITION with reason TRIGGER_MODE); returns the frame number(s) it produced
        and the first frame's ``metadata``, once the camera delivered it. The default deadline adds the exposure,
        as a capture's does."""
        if timeout_s is _DEFAULT_TIMEOUT:
            timeout_s = self.capture_deadline_s()
        return UnaryCall(self._stub.SoftwareTrigger, pb.SoftwareTriggerRequest(), timeout_s)

    @_Unary
    def io_status(self, *, timeout_s: float | None = _DEFAULT_TIMEOUT) -> UnaryCall[pb.GetIoStatusResponse]:
        """The GPIO lines (mode, input level read now) and the camera's temperatures (unset where it has none)."""
        return UnaryCall(self._stub.GetIoStatus, pb.GetIoStatusRequest(), self._timeout(timeout_s))

    def watch_events(self, types: Iterable[str | int] = (), *, timeout_s: float | None = None) -> _Events:
        """The camera's and the service's events from now on, as they happen; ``types``: only these (short names
        as ``"trigger_missed"``, or ``pb.EVENT_TYPE_*``; none: all). Each has a consecutive ``sequence_number``;
        ``missed_events`` counts those lost just before it (a reader too slow). Iterate it, ``cancel()`` ends it.
        No deadline unless given."""
        request = events_request(types)
        return self._events_type(self._stub.WatchEvents(request, timeout=timeout_s), self.security)

    @_Unary
    def create_preset(
        self, preset_id: str, *, timeout_s: float | None = _DEFAULT_TIMEOUT
    ) -> UnaryCall[pb.CreatePresetResponse]:
        """Save the current settings as preset ``preset_id`` (kept by the service; replaces one of that name)."""
        request = pb.CreatePresetRequest(preset_id=preset_id_of(preset_id))
        return UnaryCall(self._stub.CreatePreset, request, self._timeout(timeout_s))

    @_Unary
    def list_presets(self, *, timeout_s: float | None = _DEFAULT_TIMEOUT) -> UnaryCall[pb.ListPresetsResponse]:
        """The saved presets, sorted by name."""
        return UnaryCall(self._stub.ListPresets, pb.ListPresetsRequest(), self._timeout(timeout_s))

    @_Unary
    def get_preset(self, preset: str, *, timeout_s: float | None = _DEFAULT_TIMEOUT) -> UnaryCall[pb.GetPresetResponse]:
        """One preset, by id or name (``day`` or ``presets/day``); NOT_FOUND if there is none."""
        return self._named_call(self._stub.GetPreset, pb.GetPresetRequest, preset_name(preset), timeout_s)

    @_Unary
    def delete_preset(
        self, preset: str, *, timeout_s: float | None = _DEFAULT_TIMEOUT
    ) -> UnaryCall[pb.DeletePresetResponse]:
        """Delete one preset, by id or name; NOT_FOUND if there is none."""
        return self._named_call(self._stub.DeletePreset, pb.DeletePresetRequest, preset_name(preset), timeout_s)

    @_Unary
    def apply_preset(
        self, preset: str, *, expected_revision: int | None = None, timeout_s: float | None = _DEFAULT_TIMEOUT
    ) -> UnaryCall[pb.ApplyPresetResponse]:
        """Apply a preset's settings (by id or name), all or nothing; returns what the camera applied."""
        request = pb.ApplyPresetRequest(name=preset_name(preset), expected_revision=expected_revision)
        return UnaryCall(self._stub.ApplyPreset, request, self._timeout(timeout_s))

    @_Unary
    def save_settings_to_camera(
        self, channel: int, *, timeout_s: float | None = _DEFAULT_TIMEOUT
    ) -> UnaryCall[pb.SaveSettingsToCameraResponse]:
        """Store the camera's settings in its own non-volatile user ``channel`` (1 to ``settings_channels``)."""
        return self._channel_call(self._stub.SaveSettingsToCamera, pb.SaveSettingsToCameraRequest, channel, timeout_s)

    @_Unary
    def load_settings_from_camera(
        self, channel: int, *, timeout_s: float | None = _DEFAULT_TIMEOUT
    ) -> UnaryCall[pb.LoadSettingsFromCameraResponse]:
        """Load the settings of one of the camera's channels (0: factory defaults); returns them as applied."""
        return self._channel_call(
            self._stub.LoadSettingsFromCamera, pb.LoadSettingsFromCameraRequest, channel, timeout_s
        )

    @_Unary
    def get_camera_info(self, *, timeout_s: float | None = _DEFAULT_TIMEOUT) -> UnaryCall[pb.GetCameraInfoResponse]:
        """Model, serial, sensor size and valid ranges of the camera; ``features`` describes every setting as the
        camera reports it (see :func:`~camera_grpc.client.settings.features_by_name`), ``settings_channels``
        its user channels."""
        return UnaryCall(self._stub.GetCameraInfo, pb.GetCameraInfoRequest(), self._timeout(timeout_s))

    @_Unary
    def list_captures(
        self, *, page_size: int = 0, page_token: str = "", timeout_s: float | None = _DEFAULT_TIMEOUT
    ) -> UnaryCall[pb.ListCapturesResponse]:
        """Saved captures, newest first, one page (``next_page_token`` is empty on the last page)."""
        return self._page_call(self._stub.ListCaptures, pb.ListCapturesRequest, page_size, page_token, timeout_s)

    @_Unary
    def get_capture(
        self, filename: str, *, thumbnail_max_width: int | None = None, timeout_s: float | None = _DEFAULT_TIMEOUT
    ) -> UnaryCall[pb.GetCaptureResponse]:
        """One saved capture's bytes, content type and metadata (NOT_FOUND unless ListCaptures lists it).
        ``thumbnail_max_width``: ``data`` is a JPEG thumbnail no wider than this many pixels
        (:data:`THUMBNAIL_MIN_WIDTH_PX` to :data:`THUMBNAIL_MAX_WIDTH_PX`; made once by the service and cached)
        instead of the file."""
        request = pb.GetCaptureRequest(filename=filename, thumbnail_max_width=thumbnail_max_width)
        return UnaryCall(self._stub.GetCapture, request, self._timeout(timeout_s))

    @_Unary
    def delete_capture(
        self, filename: str, *, timeout_s: float | None = _DEFAULT_TIMEOUT
    ) -> UnaryCall[pb.DeleteCaptureResponse]:
        """Delete a saved capture: its image, sidecar and cached thumbnails, and with an object store its objects
        (NOT_FOUND unless ListCaptures lists it; UNAVAILABLE, nothing deleted, if the store cannot delete them)."""
        request = pb.DeleteCaptureRequest(filename=filename)
        return UnaryCall(self._stub.DeleteCapture, request, self._timeout(timeout_s))

    @_Unary
    def check_health(
        self, service: str = CAMERA_SERVICE_NAME, *, timeout_s: float | None = _DEFAULT_TIMEOUT
    ) -> UnaryCall[health_pb2.HealthCheckResponse]:
        """Standard health check: ``status`` is SERVING while the camera is usable (``service=""``: the server)."""
        request = health_pb2.HealthCheckRequest(service=service)
        return UnaryCall(self._health.Check, request, self._timeout(timeout_s))

    def frames(self, *, timeout_s: float | None = None, **fields: Unpack[FramesFields]) -> _Stream:
        """Subscribe to live frames; keyword arguments as :class:`FramesFields`. No deadline unless given."""
        return self._stream_type(self._stub.Frames(frames_request(**fields), timeout=timeout_s), self.security)

    def capture_deadline_s(self, exposure_ms: float | None = None) -> float | None:
        """The default deadline of a capture asking for ``exposure_ms`` (None: asking for none), seconds.

        The client's ``timeout_s`` plus the exposure: ``exposure_ms``, else :attr:`last_exposure_ms`,
        else :attr:`max_exposure_ms`, else nothing. None when the client has no default deadline.
        """
        if self.timeout_s is None:
            return None
        if exposure_ms is None:
            exposure_ms = self.last_exposure_ms if self.last_exposure_ms is not None else self.max_exposure_ms
        # NaN, infinite or not positive: the service refuses it at once, no allowance needed.
        allowance_ms = exposure_ms if exposure_ms is not None and math.isfinite(exposure_ms) and exposure_ms > 0 else 0
        return self.timeout_s + allowance_ms / 1000

    def _named_call(self, method: Any, request_type: Any, name: str, timeout_s: float | None) -> Any:
        """A call naming one resource (a preset, a recording)."""
        return UnaryCall(method, request_type(name=name), self._timeout(timeout_s))

    def _page_call(
        self, method: Any, request_type: Any, page_size: int, page_token: str, timeout_s: float | None
    ) -> Any:
        """A call asking for one page of a list (captures, recordings)."""
        return UnaryCall(method, request_type(page_size=page_size, page_token=page_token), self._timeout(timeout_s))

    def _channel_call(self, method: Any, request_type: Any, channel: int, timeout_s: float | None) -> Any:
        """A call naming one of the camera's settings channels."""
        return UnaryCall(method, request_type(channel=channel), self._timeout(timeout_s))

    def _timeout(self, timeout_s: float | None) -> float | None:
        return self.timeout_s if timeout_s is _DEFAULT_TIMEOUT else timeout_s

    def _send(self, call: UnaryCall[_R]) -> Any:
        raise NotImplementedError

    def _learn(self, response: _R) -> _R:
        """Note the exposure a response reports (the allowance of later capture deadlines)."""
        if isinstance(response, _SETTINGS_RESPONSES):
            self.last_exposure_ms = response.exposure_ms
        elif isinstance(response, _FULL_SETTINGS_RESPONSES):
            self.last_exposure_ms = response.settings.exposure_ms
        elif isinstance(response, pb.GetCameraInfoResponse):
            self.max_exposure_ms = response.max_exposure_ms
        return response

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.target!r})"


class CameraClient(_ClientBase[FrameStream, SettingsStream, EventStream]):
    """Blocking client of camera.v1.CameraService. Use it as a context manager, or call ``close()``.

    ``target`` is ``host:port`` (any gRPC target string). ``timeout_s`` is the default deadline of
    unary calls (a capture adds its exposure: see the module's docstring); each method also takes
    ``timeout_s``, which is then its exact deadline.

    Transport security and identity (see ``camera_grpc.client.credentials``): ``ca`` (a path or PEM
    bytes) makes a TLS channel that trusts that CA; ``cert`` and ``key`` present a client certificate
    (mutual TLS); ``tls=True`` is TLS with the system's root certificates; ``credentials`` are
    ready-made ``grpc.ChannelCredentials`` instead; ``token`` is sent as ``authorization: Bearer``
    with every call (over plaintext only to a loopback target). Unusable ones raise CredentialsError.
    """

    _channel_module: Any = grpc
    _stream_type = FrameStream
    _watch_type = SettingsStream
    _events_type = EventStream

    def live_frames(self, *, timeout_s: float | None = None, **fields: Unpack[FramesFields]) -> LiveFrameStream:
        """Live frames paced by this client (``LiveFrames``): a frame is sent only when the loop asks for the
        next one, so a slow loop always gets the newest frame whatever the channel's flow-control window.
        Keyword arguments as :class:`FramesFields`; no deadline unless given."""
        return LiveFrameStream(
            lambda requests: self._stub.LiveFrames(requests, timeout=timeout_s), frames_request(**fields), self.security
        )

    def watch_recording(self, recording: str, *, timeout_s: float | None = None) -> RecordingStream:
        """The recording now, then on every change of its progress until it ends (the last message has its final
        state). No deadline unless given."""
        return RecordingStream(self._watch_recording_call(recording, timeout_s), self.security)

    def download_recording_file(
        self, recording: str, file: str, dest: Destination, offset: int = 0, *, timeout_s: float | None = None
    ) -> int:
        """Write one file of a recording to ``dest`` from byte ``offset`` on (``dest`` is truncated to ``offset``
        first: resume a partial download with ``offset`` = its size); returns the file's whole size, bytes."""
        size = 0
        with open(dest, "r+b" if offset else "wb") as out:
            out.truncate(offset)
            out.seek(offset)
            for chunk in ResponseStream(self._download_call(recording, file, offset, timeout_s), self.security):
                out.write(chunk.data)
                size = chunk.size_bytes
        return size or offset

    def close(self) -> None:
        """Close the channel (ends any open stream)."""
        self._channel.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, traceback: TracebackType | None
    ) -> None:
        self.close()

    def _send(self, call: UnaryCall[_R]) -> _R:
        try:
            return self._learn(call.method(call.request, timeout=call.timeout_s))
        except grpc.RpcError as error:
            raise CameraRpcError.from_rpc_error(error, self.security) from error


class AsyncCameraClient(_ClientBase[AsyncFrameStream, AsyncSettingsStream, AsyncEventStream]):
    """asyncio client of camera.v1.CameraService (grpc.aio). Create it inside a running loop;
    use ``async with`` or ``await close()``. Arguments as :class:`CameraClient`; each call returns an awaitable."""

    _channel_module: Any = grpc.aio
    _stream_type = AsyncFrameStream
    _watch_type = AsyncSettingsStream
    _events_type = AsyncEventStream

    def live_frames(self, *, timeout_s: float | None = None, **fields: Unpack[FramesFields]) -> AsyncLiveFrameStream:
        """As :meth:`CameraClient.live_frames`, for asyncio."""
        return AsyncLiveFrameStream(self._stub.LiveFrames(timeout=timeout_s), frames_request(**fields), self.security)

    def watch_recording(self, recording: str, *, timeout_s: float | None = None) -> AsyncRecordingStream:
        """As :meth:`CameraClient.watch_recording`, for asyncio."""
        return AsyncRecordingStream(self._watch_recording_call(recording, timeout_s), self.security)

    async def download_recording_file(
        self, recording: str, file: str, dest: Destination, offset: int = 0, *, timeout_s: float | None = None
    ) -> int:
        """As :meth:`CameraClient.download_recording_file`, for asyncio (the file is written off the loop)."""
        size = 0
        out = await asyncio.to_thread(open, dest, "r+b" if offset else "wb")
        try:
            await asyncio.to_thread(out.truncate, offset)
            await asyncio.to_thread(out.seek, offset)
            async for chunk in AsyncResponseStream(
                self._download_call(recording, file, offset, timeout_s), self.security
            ):
                await asyncio.to_thread(out.write, chunk.data)
                size = chunk.size_bytes
        finally:
            await asyncio.to_thread(out.close)
        return size or offset

    async def close(self) -> None:
        """Close the channel (ends any open stream)."""
        await self._channel.close()

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, traceback: TracebackType | None
    ) -> None:
        await self.close()

    async def _send(self, call: UnaryCall[_R]) -> _R:
        try:
            return self._learn(await call.method(call.request, timeout=call.timeout_s))
        except grpc.RpcError as error:
            raise CameraRpcError.from_rpc_error(error, self.security) from error
