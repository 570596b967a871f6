"""The client subcommands of ``camera-grpc``: ``capture``, ``settings``, ``info`` and ``watch``.

They talk to a running service through :class:`camera_grpc.client.CameraClient`.
Results are printed as proto3 JSON: every field in the proto's order, zero values
included, names as in the proto, 64-bit integers as strings (as grpcurl prints
them); bytes fields only when they carry data. A failed call prints one line
``camera-grpc: <CODE>: <message>`` to stderr and exits with status 1.

``--target``, ``--timeout`` and the credential options may come before or after the subcommand:
``--ca FILE`` (TLS, trusting that CA), ``--cert FILE`` and ``--key FILE`` (a client certificate, for
mutual TLS), ``--token TOKEN`` (sent as ``authorization: Bearer``); without them, the environment
variables CAMERA_GRPC_CA, CAMERA_GRPC_CERT, CAMERA_GRPC_KEY and CAMERA_GRPC_TOKEN. Credentials that
cannot work (a missing file, half a key pair, a token in plaintext to another host) print one line
and exit with status 2.
"""

from __future__ import annotations

import argparse
import json
import signal
import sys
import threading
import time
from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from google.protobuf import json_format
from google.protobuf.descriptor import Descriptor, FieldDescriptor
from google.protobuf.message import Message
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

from camera_grpc.client import (
    DEFAULT_TIMEOUT_S,
    CameraClient,
    CameraRpcError,
    CaptureFields,
    CredentialsError,
    FrameStream,
    loopback_target,
)
from camera_grpc.client.credentials import CA_ENV, CERT_ENV, KEY_ENV, TOKEN_ENV, first_given, from_environment
from camera_grpc.config import Settings
from camera_grpc.formats import IMAGE_FORMAT_SPELLINGS, Encoding, image_format_named
from camera_grpc.gen.camera.v1 import camera_pb2 as pb

#: Exit status of a command whose call failed.
EXIT_RPC_ERROR = 1
#: Exit status of a command given credentials that cannot work (as argparse's for a usage error).
EXIT_CREDENTIALS = 2

ENCODINGS = {encoding.value: encoding.proto for encoding in Encoding}
POLICIES = {"latest": pb.DELIVERY_POLICY_LATEST, "queue": pb.DELIVERY_POLICY_QUEUE}
#: Window over which ``watch`` computes its live frame rate, seconds.
RATE_WINDOW_S = 1.0

Handler = Callable[[argparse.Namespace, Settings], int]


def add_client_commands(subcommands: Any, parents: Sequence[argparse.ArgumentParser] = ()) -> None:
    """Register the client subcommands on the ``camera-grpc`` parser's subparsers (each with ``parents``' options)."""
    capture = subcommands.add_parser(
        "capture", parents=parents, help="capture one frame: print its metadata as JSON, or save the image"
    )
    capture.add_argument("--exposure-ms", type=float, help="exposure to apply first, milliseconds (kept)")
    capture.add_argument("--gain-db", type=float, help="gain to apply first, decibels (kept)")
    capture.add_argument(
        "--format", choices=sorted(IMAGE_FORMAT_SPELLINGS), help="file format (default: the service's)"
    )
    capture.add_argument("--quality", type=int, help="JPEG quality 1-100 (default: the service's)")
    capture.add_argument("--output", "-o", type=Path, metavar="FILE", help="also save the image's bytes to FILE")
    add_connection_arguments(capture, timeout_help=f"deadline (default: {DEFAULT_TIMEOUT_S:g} plus the exposure)")
    capture.set_defaults(handler=_client_command(_capture))

    settings = subcommands.add_parser(
        "settings", parents=parents, help="print the camera's settings, or change them when values are given"
    )
    settings.add_argument("--exposure-ms", type=float, help="new exposure, milliseconds")
    settings.add_argument("--gain-db", type=float, help="new gain, decibels")
    add_connection_arguments(settings, timeout_help=f"deadline (default: {DEFAULT_TIMEOUT_S:g})")
    settings.set_defaults(handler=_client_command(_settings))

    info = subcommands.add_parser("info", parents=parents, help="describe the camera (model, sensor, valid ranges)")
    add_connection_arguments(info, timeout_help=f"deadline (default: {DEFAULT_TIMEOUT_S:g})")
    info.set_defaults(handler=_client_command(_info))

    watch = subcommands.add_parser(
        "watch", parents=parents, help="watch the live stream: frame rate and dropped frames, then a summary"
    )
    watch.add_argument("--frames", type=int, default=0, metavar="N", help="stop after N frames (default: Ctrl-C)")
    watch.add_argument("--encoding", choices=sorted(ENCODINGS), default="raw", help="frame encoding (default: raw)")
    watch.add_argument("--max-fps", type=float, help="ask for at most this many frames per second")
    watch.add_argument("--max-width", type=int, metavar="PIXELS", help="ask for frames downscaled to this width")
    watch.add_argument("--policy", choices=sorted(POLICIES), default="latest", help="delivery policy (default: latest)")
    add_connection_arguments(watch, timeout_help="deadline of the stream (default: none)")
    watch.set_defaults(handler=_client_command(_watch))


def add_connection_arguments(
    parser: argparse.ArgumentParser,
    *,
    timeout_help: str | None = None,
    top_level: bool = False,
    credentials: bool | None = None,
) -> None:
    """``--target`` (and ``--timeout`` when ``timeout_help`` is given) on ``parser``, and the credential
    options ``--ca``, ``--cert``, ``--key``, ``--token`` when ``credentials`` (by default: with ``--timeout``,
    i.e. on the client commands and the top-level parser).

    On the top-level parser (``top_level``) they default to None; on a subcommand they have no default,
    so a value given before the subcommand is kept (``camera-grpc --target h:p info`` = ``info --target h:p``).
    """
    default = None if top_level else argparse.SUPPRESS
    parser.add_argument(
        "--target",
        type=grpc_target,
        default=default,
        metavar="HOST:PORT",
        help="the camera service's gRPC address (default: GRPC_HOST:GRPC_PORT of the settings)",
    )
    if timeout_help is not None:
        parser.add_argument(
            "--timeout",
            dest="timeout_s",
            type=_positive_float,
            default=default,
            metavar="SECONDS",
            help=timeout_help,
        )
    if credentials if credentials is not None else timeout_help is not None:
        add_credential_arguments(parser, default)


def add_credential_arguments(parser: argparse.ArgumentParser, default: Any) -> None:
    """``--ca``, ``--cert``, ``--key``, ``--token`` (each falling back on its CAMERA_GRPC_* variable)."""
    group = parser.add_argument_group(
        "TLS and token",
        "each option falls back on its environment variable; without --ca or --cert the channel is plaintext",
    )
    group.add_argument(
        "--ca",
        default=default,
        metavar="FILE",
        help=f"CA certificate (PEM) that signed the service's certificate: use TLS (env {CA_ENV})",
    )
    group.add_argument(
        "--cert",
        default=default,
        metavar="FILE",
        help=f"client certificate (PEM), for a service that asks for one (mutual TLS; with --key) (env {CERT_ENV})",
    )
    group.add_argument("--key", default=default, metavar="FILE", help=f"private key (PEM) of --cert (env {KEY_ENV})")
    group.add_argument(
        "--token",
        default=default,
        metavar="TOKEN",
        help=f"bearer token sent with every call; other users may see a command line, the environment is "
        f"safer (env {TOKEN_ENV}). Without TLS, only to a loopback address",
    )


def grpc_target(value: str) -> str:
    """``host:port`` (``[v6 address]:port`` too), else an argparse error naming the problem."""
    host, _, port = value.rpartition(":")
    if not host or not port.isdigit() or not 0 < int(port) < 65536:
        raise argparse.ArgumentTypeError(f"{value!r} is not HOST:PORT (port 1-65535)")
    return value


def default_target(settings: Settings) -> str:
    """Where the configured service is reached from this host (a wildcard listen address becomes loopback)."""
    return loopback_target(settings.grpc_host, settings.grpc_port)


def message_json(message: Message) -> str:
    """A response as indented proto3 JSON: every field in the proto's order, zero values included,
    bytes fields only when not empty (image data not asked for is left out)."""
    as_dict = json_format.MessageToDict(
        message, preserving_proto_field_name=True, always_print_fields_with_no_presence=True
    )
    return json.dumps(_in_proto_order(message.DESCRIPTOR, as_dict), indent=2)


def _in_proto_order(descriptor: Descriptor, as_dict: dict[str, Any]) -> dict[str, Any]:
    ordered: dict[str, Any] = {}
    for proto_field in descriptor.fields:
        value = as_dict.get(proto_field.name)
        if value is None or (proto_field.type == FieldDescriptor.TYPE_BYTES and not value):
            continue
        nested = proto_field.message_type
        if nested is not None and not nested.GetOptions().map_entry and nested.file.package != "google.protobuf":
            # a message of the API (well-known types such as Timestamp have their own JSON form)
            if isinstance(value, list):
                value = [_in_proto_order(nested, item) for item in value]
            else:
                value = _in_proto_order(nested, value)
        ordered[proto_field.name] = value
    return ordered


def client_credentials(args: argparse.Namespace, environ: dict[str, str] | None = None) -> dict[str, str | None]:
    """``ca``, ``cert``, ``key``, ``token`` for CameraClient: each option, else its environment variable."""
    from_env = from_environment(environ)
    return {name: first_given(getattr(args, name, None), from_env[name]) for name in from_env}


def _client_command(run: Callable[[CameraClient, argparse.Namespace], int]) -> Handler:
    def handler(args: argparse.Namespace, settings: Settings) -> int:
        target = args.target or default_target(settings)
        try:
            # --timeout sets the default deadline; a capture given no --timeout also allows for its exposure
            client = CameraClient(target, timeout_s=args.timeout_s or DEFAULT_TIMEOUT_S, **client_credentials(args))
        except CredentialsError as error:
            print(f"camera-grpc: {error}", file=sys.stderr)
            return EXIT_CREDENTIALS
        try:
            with client:
                return run(client, args)
        except CameraRpcError as error:
            print(f"camera-grpc: {error}", file=sys.stderr)
            return EXIT_RPC_ERROR

    return handler


def _capture(client: CameraClient, args: argparse.Namespace) -> int:
    fields: CaptureFields = {
        "exposure_ms": args.exposure_ms,
        "gain_db": args.gain_db,
        "image_format": image_format_named(args.format).proto if args.format else pb.IMAGE_FORMAT_UNSPECIFIED,
        "quality": args.quality,
        "include_image_data": args.output is not None,
    }
    # --timeout is the exact deadline; without it, the default deadline plus the exposure
    saved = client.capture(**fields) if args.timeout_s is None else client.capture(timeout_s=args.timeout_s, **fields)
    if args.output is not None:
        try:
            args.output.write_bytes(saved.image_data)
        except OSError as exc:
            print(f"camera-grpc: cannot save the image to {args.output}: {exc.strerror or exc}", file=sys.stderr)
            return EXIT_RPC_ERROR
        print(f"camera-grpc: saved {len(saved.image_data)} bytes to {args.output}", file=sys.stderr)
        saved.ClearField("image_data")  # the bytes went to the file, not the terminal
    print(message_json(saved))
    return 0


def _settings(client: CameraClient, args: argparse.Namespace) -> int:
    if args.exposure_ms is None and args.gain_db is None:
        print(message_json(client.get_settings()))
    else:
        print(message_json(client.update_settings(exposure_ms=args.exposure_ms, gain_db=args.gain_db)))
    return 0


def _info(client: CameraClient, args: argparse.Namespace) -> int:
    print(message_json(client.get_camera_info()))
    return 0


@dataclass
class StreamStats:
    """What ``watch`` measures: frames received, frames dropped, and the frame rate."""

    frames: int = 0
    dropped: int = 0
    #: The first camera frame produced since subscribing (received, or counted as dropped).
    first_frame_number: int | None = None
    last_frame_number: int | None = None
    first_at_s: float | None = None
    last_at_s: float | None = None
    recent_s: deque[float] = field(default_factory=deque)

    def add(self, frame: pb.FramesResponse, at_s: float) -> None:
        """Count ``frame``, received at monotonic time ``at_s``."""
        self.frames += 1
        self.dropped += frame.missed_frames
        if self.first_frame_number is None:
            self.first_frame_number, self.first_at_s = frame.frame_number - frame.missed_frames, at_s
        self.last_frame_number, self.last_at_s = frame.frame_number, at_s
        self.recent_s.append(at_s)
        while at_s - self.recent_s[0] > RATE_WINDOW_S:
            self.recent_s.popleft()

    @property
    def current_fps(self) -> float:
        """Frames per second over the last RATE_WINDOW_S."""
        return _rate(len(self.recent_s), self.recent_s[0], self.recent_s[-1]) if self.recent_s else 0.0

    @property
    def average_fps(self) -> float:
        """Frames per second from the first frame to the last."""
        if self.first_at_s is None or self.last_at_s is None:
            return 0.0
        return _rate(self.frames, self.first_at_s, self.last_at_s)

    def summary(self) -> str:
        has_span = self.first_at_s is not None and self.last_at_s is not None
        duration_s = self.last_at_s - self.first_at_s if has_span else 0.0  # type: ignore[operator]
        numbers = f", camera frames {self.first_frame_number}-{self.last_frame_number}" if self.frames else ""
        return (
            f"{self.frames} frames in {duration_s:.2f} s: {self.average_fps:.1f} fps, {self.dropped} dropped{numbers}"
        )


def _rate(count: int, first_s: float, last_s: float) -> float:
    return (count - 1) / (last_s - first_s) if count > 1 and last_s > first_s else 0.0


def watch_intro(target: str, frames: int, exposure_ms: float, max_fps: float | None) -> str:
    """What ``watch`` says before it starts: what it watches and how long that takes at least."""
    if not frames:
        return f"camera-grpc: watching the live frames of {target} until Ctrl-C"
    period_s = max(exposure_ms / 1000, 1 / max_fps if max_fps else 0.0)  # a frame takes at least its exposure
    pace = f"the {exposure_ms:g} ms exposure" + (f" and at most {max_fps:g} fps" if max_fps else "")
    return (
        f"camera-grpc: watching {frames} frames of {target}: "
        f"at least {_duration(frames * period_s)} at {pace} (Ctrl-C stops)"
    )


def _duration(seconds: float) -> str:
    if seconds >= 120:
        return f"{seconds / 60:.0f} min"
    return f"{seconds:.0f} s" if seconds >= 10 else f"{seconds:.2g} s"


class CtrlC:
    """While ``watch`` runs, Ctrl-C cancels its stream from a thread of its own rather than raising
    KeyboardInterrupt wherever the main thread is: raised inside grpc, it can leave the channel
    unable to close, and the command hung (grpc/grpc#19973). The main thread then sees the stream end."""

    def __init__(self) -> None:
        self.pressed = threading.Event()
        self._stream: FrameStream | None = None
        self._previous: Any = None

    def __enter__(self) -> CtrlC:
        self._previous = signal.signal(signal.SIGINT, self._on_sigint)
        return self

    def __exit__(self, *exc_info: object) -> None:
        signal.signal(signal.SIGINT, self._previous)

    def cancels(self, stream: FrameStream) -> FrameStream:
        """``stream``, which Ctrl-C now cancels (at once if it was pressed already)."""
        self._stream = stream
        if self.pressed.is_set():
            stream.cancel()
        return stream

    def _on_sigint(self, signum: int, frame: object) -> None:
        self.pressed.set()
        if self._stream is not None:
            threading.Thread(target=self._stream.cancel, name="watch-ctrl-c", daemon=True).start()


def _watch(client: CameraClient, args: argparse.Namespace) -> int:
    stats = StreamStats()
    progress = Progress(
        SpinnerColumn(),
        TextColumn("[bold]{task.description}"),
        BarColumn() if args.frames else TextColumn(""),
        MofNCompleteColumn() if args.frames else TextColumn("{task.completed} frames"),
        TextColumn("{task.fields[fps]:6.1f} fps"),
        TextColumn("{task.fields[dropped]} dropped"),
        TimeElapsedColumn(),
        console=Console(stderr=True),
    )
    with CtrlC() as ctrl_c:  # Ctrl-C at any point ends the watch (cancelling the stream); the summary follows
        exposure_ms = client.get_settings().exposure_ms
        print(watch_intro(client.target, args.frames, exposure_ms, args.max_fps), file=sys.stderr, flush=True)
        if not ctrl_c.pressed.is_set():
            with progress:
                task = progress.add_task(client.target, total=args.frames or None, fps=0.0, dropped=0)
                stream = client.frames(
                    encoding=ENCODINGS[args.encoding],
                    max_fps=args.max_fps,
                    max_width=args.max_width,
                    max_frames=args.frames or None,
                    policy=POLICIES[args.policy],
                    timeout_s=args.timeout_s,
                )
                with ctrl_c.cancels(stream):
                    for frame in stream:
                        stats.add(frame, time.monotonic())
                        progress.update(task, completed=stats.frames, fps=stats.current_fps, dropped=stats.dropped)
    print(stats.summary())
    return 0


def _positive_float(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number: {text!r}") from None
    if not value > 0 or value == float("inf"):
        raise argparse.ArgumentTypeError(f"must be a positive number of seconds, got {text}")
    return value
