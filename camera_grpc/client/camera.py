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
Unary calls have a deadline (``timeout_s``, 10 s unless given); streams have none
unless one is given, since a live stream is meant to run until it is cancelled.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterator, Sequence
from types import TracebackType
from typing import Any, Self

import grpc

from camera_grpc.client.channel import DEFAULT_MAX_MESSAGE_BYTES, channel_options
from camera_grpc.client.errors import CameraRpcError
from camera_grpc.gen.camera.v1 import camera_pb2 as pb
from camera_grpc.gen.camera.v1 import camera_pb2_grpc

#: Deadline of unary calls unless a call says otherwise, seconds. A capture takes at
#: least its exposure: pass a longer ``timeout_s`` for exposures of several seconds.
DEFAULT_TIMEOUT_S = 10.0

_DEFAULT_TIMEOUT: Any = object()


def capture_request(
    *,
    exposure_ms: float | None = None,
    gain_db: float | None = None,
    image_format: pb.ImageFormat.ValueType = pb.IMAGE_FORMAT_UNSPECIFIED,
    quality: int | None = None,
    include_image_data: bool = False,
) -> pb.CaptureRequest:
    """A CaptureRequest; ``None`` leaves an optional field unset."""
    return pb.CaptureRequest(
        exposure_ms=exposure_ms,
        gain_db=gain_db,
        format=image_format,
        quality=quality,
        include_image_data=include_image_data,
    )


def frames_request(
    *,
    encoding: pb.FrameEncoding.ValueType = pb.FRAME_ENCODING_UNSPECIFIED,
    quality: int | None = None,
    max_width: int | None = None,
    max_fps: float | None = None,
    max_frames: int | None = None,
    policy: pb.DeliveryPolicy.ValueType = pb.DELIVERY_POLICY_UNSPECIFIED,
    queue_depth: int | None = None,
) -> pb.FramesRequest:
    """A FramesRequest; ``None`` leaves an optional field unset."""
    return pb.FramesRequest(
        encoding=encoding,
        quality=quality,
        max_width=max_width,
        max_fps=max_fps,
        max_frames=max_frames,
        policy=policy,
        queue_depth=queue_depth,
    )


class FrameStream(Iterator[pb.FramesResponse]):
    """The live frames of one ``Frames`` call. Iterate it; ``cancel()`` (or leaving ``with``) ends it."""

    def __init__(self, call: Any) -> None:
        self._call = call

    def __iter__(self) -> Self:
        return self

    def __next__(self) -> pb.FramesResponse:
        try:
            return next(self._call)
        except grpc.RpcError as error:
            if error.code() is grpc.StatusCode.CANCELLED and self._call.cancelled():
                raise StopIteration from None
            raise CameraRpcError.from_rpc_error(error) from error

    def cancel(self) -> None:
        """Stop the stream (the service unsubscribes this client)."""
        self._call.cancel()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.cancel()


class AsyncFrameStream(AsyncIterator[pb.FramesResponse]):
    """The live frames of one ``Frames`` call (asyncio). ``cancel()`` (or leaving ``async with``) ends it."""

    def __init__(self, call: grpc.aio.UnaryStreamCall) -> None:
        self._call = call
        self._responses = call.__aiter__()

    def __aiter__(self) -> Self:
        return self

    async def __anext__(self) -> pb.FramesResponse:
        try:
            return await self._responses.__anext__()
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
            raise CameraRpcError.from_rpc_error(error) from error

    def cancel(self) -> None:
        """Stop the stream (the service unsubscribes this client)."""
        self._call.cancel()

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        self.cancel()


class _ClientBase:
    #: ``grpc`` or ``grpc.aio``: where the channel comes from.
    _channel_module: Any

    def __init__(
        self,
        target: str,
        *,
        timeout_s: float | None = DEFAULT_TIMEOUT_S,
        max_message_bytes: int = DEFAULT_MAX_MESSAGE_BYTES,
        credentials: grpc.ChannelCredentials | None = None,
        options: Sequence[tuple[str, Any]] = (),
    ) -> None:
        self.target = target
        #: Default deadline of unary calls, seconds (None: no deadline).
        self.timeout_s = timeout_s
        all_options = [*channel_options(max_message_bytes), *options]
        if credentials is None:
            self._channel = self._channel_module.insecure_channel(target, options=all_options)
        else:
            self._channel = self._channel_module.secure_channel(target, credentials, options=all_options)
        self._stub = camera_pb2_grpc.CameraServiceStub(self._channel)

    def _timeout(self, timeout_s: float | None) -> float | None:
        return self.timeout_s if timeout_s is _DEFAULT_TIMEOUT else timeout_s

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.target!r})"


class CameraClient(_ClientBase):
    """Blocking client of camera.v1.CameraService. Use it as a context manager, or call ``close()``.

    ``target`` is ``host:port`` (any gRPC target string); ``credentials`` makes a TLS channel.
    ``timeout_s`` is the default deadline of unary calls; each method also takes ``timeout_s``.
    """

    _channel_module: Any = grpc

    def capture(self, *, timeout_s: float | None = _DEFAULT_TIMEOUT, **fields: Any) -> pb.CaptureResponse:
        """Capture and save one frame; keyword arguments as :func:`capture_request`."""
        return self._unary(self._stub.Capture, capture_request(**fields), timeout_s)

    def get_settings(self, *, timeout_s: float | None = _DEFAULT_TIMEOUT) -> pb.GetSettingsResponse:
        """The camera's current settings."""
        return self._unary(self._stub.GetSettings, pb.GetSettingsRequest(), timeout_s)

    def update_settings(
        self,
        *,
        exposure_ms: float | None = None,
        gain_db: float | None = None,
        timeout_s: float | None = _DEFAULT_TIMEOUT,
    ) -> pb.UpdateSettingsResponse:
        """Change the settings given (all or nothing); returns what the camera applied."""
        request = pb.UpdateSettingsRequest(exposure_ms=exposure_ms, gain_db=gain_db)
        return self._unary(self._stub.UpdateSettings, request, timeout_s)

    def get_camera_info(self, *, timeout_s: float | None = _DEFAULT_TIMEOUT) -> pb.GetCameraInfoResponse:
        """Model, serial, sensor size and valid ranges of the camera."""
        return self._unary(self._stub.GetCameraInfo, pb.GetCameraInfoRequest(), timeout_s)

    def list_captures(
        self, *, page_size: int = 0, page_token: str = "", timeout_s: float | None = _DEFAULT_TIMEOUT
    ) -> pb.ListCapturesResponse:
        """Saved captures, newest first, one page (``next_page_token`` is empty on the last page)."""
        request = pb.ListCapturesRequest(page_size=page_size, page_token=page_token)
        return self._unary(self._stub.ListCaptures, request, timeout_s)

    def get_capture(self, filename: str, *, timeout_s: float | None = _DEFAULT_TIMEOUT) -> pb.GetCaptureResponse:
        """One saved capture's bytes, content type and metadata (NOT_FOUND unless ListCaptures lists it)."""
        return self._unary(self._stub.GetCapture, pb.GetCaptureRequest(filename=filename), timeout_s)

    def frames(self, *, timeout_s: float | None = None, **fields: Any) -> FrameStream:
        """Subscribe to live frames; keyword arguments as :func:`frames_request`. No deadline unless given."""
        return FrameStream(self._stub.Frames(frames_request(**fields), timeout=timeout_s))

    def close(self) -> None:
        """Close the channel (ends any open stream)."""
        self._channel.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, traceback: TracebackType | None
    ) -> None:
        self.close()

    def _unary(self, method: Any, request: Any, timeout_s: float | None) -> Any:
        try:
            return method(request, timeout=self._timeout(timeout_s))
        except grpc.RpcError as error:
            raise CameraRpcError.from_rpc_error(error) from error


class AsyncCameraClient(_ClientBase):
    """asyncio client of camera.v1.CameraService (grpc.aio). Create it inside a running loop;
    use ``async with`` or ``await close()``. Arguments as :class:`CameraClient`."""

    _channel_module: Any = grpc.aio

    async def capture(self, *, timeout_s: float | None = _DEFAULT_TIMEOUT, **fields: Any) -> pb.CaptureResponse:
        """Capture and save one frame; keyword arguments as :func:`capture_request`."""
        return await self._unary(self._stub.Capture, capture_request(**fields), timeout_s)

    async def get_settings(self, *, timeout_s: float | None = _DEFAULT_TIMEOUT) -> pb.GetSettingsResponse:
        """The camera's current settings."""
        return await self._unary(self._stub.GetSettings, pb.GetSettingsRequest(), timeout_s)

    async def update_settings(
        self,
        *,
        exposure_ms: float | None = None,
        gain_db: float | None = None,
        timeout_s: float | None = _DEFAULT_TIMEOUT,
    ) -> pb.UpdateSettingsResponse:
        """Change the settings given (all or nothing); returns what the camera applied."""
        request = pb.UpdateSettingsRequest(exposure_ms=exposure_ms, gain_db=gain_db)
        return await self._unary(self._stub.UpdateSettings, request, timeout_s)

    async def get_camera_info(self, *, timeout_s: float | None = _DEFAULT_TIMEOUT) -> pb.GetCameraInfoResponse:
        """Model, serial, sensor size and valid ranges of the camera."""
        return await self._unary(self._stub.GetCameraInfo, pb.GetCameraInfoRequest(), timeout_s)

    async def list_captures(
        self, *, page_size: int = 0, page_token: str = "", timeout_s: float | None = _DEFAULT_TIMEOUT
    ) -> pb.ListCapturesResponse:
        """Saved captures, newest first, one page (``next_page_token`` is empty on the last page)."""
        request = pb.ListCapturesRequest(page_size=page_size, page_token=page_token)
        return await self._unary(self._stub.ListCaptures, request, timeout_s)

    async def get_capture(self, filename: str, *, timeout_s: float | None = _DEFAULT_TIMEOUT) -> pb.GetCaptureResponse:
        """One saved capture's bytes, content type and metadata (NOT_FOUND unless ListCaptures lists it)."""
        return await self._unary(self._stub.GetCapture, pb.GetCaptureRequest(filename=filename), timeout_s)

    def frames(self, *, timeout_s: float | None = None, **fields: Any) -> AsyncFrameStream:
        """Subscribe to live frames; keyword arguments as :func:`frames_request`. No deadline unless given."""
        return AsyncFrameStream(self._stub.Frames(frames_request(**fields), timeout=timeout_s))

    async def close(self) -> None:
        """Close the channel (ends any open stream)."""
        await self._channel.close()

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, traceback: TracebackType | None
    ) -> None:
        await self.close()

    async def _unary(self, method: Any, request: Any, timeout_s: float | None) -> Any:
        try:
            return await method(request, timeout=self._timeout(timeout_s))
        except grpc.RpcError as error:
            raise CameraRpcError.from_rpc_error(error) from error
