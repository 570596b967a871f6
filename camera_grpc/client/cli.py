"""The client subcommands of ``camera-grpc``: ``capture``, ``settings``, ``info``, ``watch``, ``trigger``, ``io``,
``events``, ``record``, ``recordings`` and ``storage``.

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
from typing import Any, TypeVar

from google.protobuf import json_format
from google.protobuf.descriptor import Descriptor, FieldDescriptor
from google.protobuf.message import Message
from rich.console import Console
from rich.markup import escape
from rich.progress import BarColumn, MofNCompleteColumn, Progress, SpinnerColumn, TextColumn, TimeElapsedColumn
from rich.table import Table

from camera_grpc.client import (
    DEFAULT_TIMEOUT_S,
    RECORDING_FORMATS,
    CameraClient,
    CameraRpcError,
    CaptureFields,
    CredentialsError,
    loopback_target,
)
from camera_grpc.client.camera import ResponseStream
from camera_grpc.client.credentials import CA_ENV, CERT_ENV, KEY_ENV, TOKEN_ENV, first_given, from_environment
from camera_grpc.client.settings import SettingsValueError, enum_choices, enum_name, parse_value, preset_name
from camera_grpc.config import Settings
from camera_grpc.formats import IMAGE_FORMAT_SPELLINGS, Encoding, image_format_named
from camera_grpc.gen.camera.v1 import camera_pb2 as pb
from camera_grpc.gen.camera.v1 import recording_pb2 as rpb
from camera_grpc.gen.camera.v1 import storage_pb2 as spb

#: Exit status of a command whose call failed.
EXIT_RPC_ERROR = 1
#: Exit status of a command given credentials that cannot work (as argparse's for a usage error).
EXIT_CREDENTIALS = 2

ENCODINGS = {encoding.value: encoding.proto for encoding in Encoding}
POLICIES = {"latest": pb.DELIVERY_POLICY_LATEST, "queue": pb.DELIVERY_POLICY_QUEUE}
#: Event types by their short names (``trigger_missed``), as ``events --type`` takes them.
EVENT_TYPES = enum_choices(pb.EventType.DESCRIPTOR)
#: Colour of each event type's name in ``events`` (rich markup); others plain.
EVENT_STYLES = {
    "camera_disconnected": "bold red",
    "trigger_missed": "yellow",
    "frames_skipped": "yellow",
    "camera_reconnected": "green",
    "camera_connected": "green",
    "service_stopping": "bold red",
}
#: ``storage``'s help.
STORAGE_HELP = "where the service keeps captures and recordings: local folders or an object store, spool, uploads"
#: Recording states that are a success for ``record``'s exit status.
RECORDING_SUCCESS = frozenset({rpb.RECORDING_STATE_COMPLETED, rpb.RECORDING_STATE_STOPPED})
#: Window over which ``watch`` computes its live frame rate, seconds.
RATE_WINDOW_S = 1.0

Handler = Callable[[argparse.Namespace, Settings], int]
#: A stream that Ctrl-C cancels (frames, settings, events).
_Stream = TypeVar("_Stream", bound=ResponseStream[Any])


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

    settings = _add_command(
        subcommands,
        "settings",
        _settings,
        parents,
        help="print the camera's settings, or change them when values are given (see also: settings set)",
        description="Without an action: print the settings (GetSettings), or change exposure and gain when "
        "--exposure-ms or --gain-db is given. Actions: show, set PATH=VALUE..., watch, features.",
    )
    settings.add_argument("--exposure-ms", type=float, help="new exposure, milliseconds")
    settings.add_argument("--gain-db", type=float, help="new gain, decibels")
    actions = settings.add_subparsers(dest="settings_action", metavar="[ACTION]")
    _add_command(actions, "show", _settings_show, parents, help="print the settings (with their revision)")
    set_ = _add_command(
        actions,
        "set",
        _settings_set,
        parents,
        help="change settings by field path: roi.width=640 exposure_auto=once (all or nothing)",
        description="Change the settings named, all or nothing, and print what the camera applied. Each "
        "PATH=VALUE names a field of camera.v1.CameraSettings as in an update_mask (roi.width, "
        "pixel_addressing.mode, white_balance.red, exposure_ms); values in the field's type: numbers, "
        "true/false, enums by name (once, continuous, off; mono8, mono16; bin, decimate). "
        "'camera-grpc settings features' lists what the camera has.",
    )
    set_.add_argument(
        "assignments", nargs="+", type=assignment, metavar="PATH=VALUE", help="a setting and its new value"
    )
    _add_expected_revision(set_)
    watch_settings = _add_command(
        actions,
        "watch",
        _settings_watch,
        parents,
        timeout_help="deadline of the stream (default: none)",
        help="print the settings, then again after every change (one JSON line each) until Ctrl-C",
    )
    watch_settings.add_argument(
        "--count", type=int, default=0, metavar="N", help="stop after N messages (default: Ctrl-C)"
    )
    _add_command(actions, "features", _settings_features, parents, help="a table of the settings the camera offers")

    preset = subcommands.add_parser(
        "preset", parents=parents, help="named settings kept by the service: save, load, list, show, delete"
    )
    preset_actions = preset.add_subparsers(dest="preset_action", metavar="ACTION", required=True)
    for action, help_text, run in (
        ("save", "save the current settings as NAME (replacing one of that name)", _preset_save),
        ("load", "apply preset NAME's settings (all or nothing)", _preset_load),
        ("show", "print preset NAME", _preset_show),
        ("delete", "delete preset NAME", _preset_delete),
    ):
        one = _add_command(preset_actions, action, run, parents, help=help_text)
        one.add_argument("name", metavar="NAME", help="the preset's id (lower-case letters, digits, '-') or presets/ID")
        if action == "load":
            _add_expected_revision(one)
    _add_command(preset_actions, "list", _preset_list, parents, help="list the presets")

    channel = subcommands.add_parser(
        "camera-channel",
        parents=parents,
        help="the camera's own non-volatile settings channels: save to or load from channel N",
    )
    channel_actions = channel.add_subparsers(dest="channel_action", metavar="ACTION", required=True)
    for action, help_text, run in (
        ("save", "store the camera's current settings in its user channel N (1 to settings_channels)", _channel_save),
        ("load", "load the settings of channel N (0: factory defaults), making them the requested ones", _channel_load),
    ):
        one = _add_command(channel_actions, action, run, parents, help=help_text)
        one.add_argument("channel", type=_channel_number, metavar="N", help="the channel")

    info = subcommands.add_parser("info", parents=parents, help="describe the camera (model, sensor, valid ranges)")
    add_connection_arguments(info, timeout_help=f"deadline (default: {DEFAULT_TIMEOUT_S:g})")
    info.set_defaults(handler=_client_command(_info))

    _add_command(
        subcommands,
        "trigger",
        _trigger,
        parents,
        timeout_help=f"deadline (default: {DEFAULT_TIMEOUT_S:g} plus the exposure)",
        help="fire one software trigger (needs trigger.source=software): print its frame numbers and metadata",
    )
    _add_command(subcommands, "io", _io, parents, help="print the GPIO lines (input levels) and temperatures")
    storage = _add_command(subcommands, "storage", _storage, parents, help=STORAGE_HELP)
    storage.add_argument("--json", action="store_true", help="print GetStorageStatus as JSON")
    events = subcommands.add_parser(
        "events",
        parents=parents,
        help="print the camera's and the service's events as they happen, until Ctrl-C",
        description="One line per event (WatchEvents): sequence number, time, type and what happened; with "
        "--json one JSON object per line instead. Types: " + ", ".join(EVENT_TYPES) + ".",
    )
    add_connection_arguments(events, timeout_help="deadline of the stream (default: none)")
    events.set_defaults(handler=_client_command(_events))
    events.add_argument("--count", type=int, default=0, metavar="N", help="stop after N events (default: Ctrl-C)")
    events.add_argument(
        "--type",
        dest="types",
        action="append",
        choices=EVENT_TYPES,
        metavar="TYPE",
        help="only events of TYPE (repeat for several; default: all)",
    )
    events.add_argument("--json", action="store_true", help="one JSON object per event (as grpcurl prints it)")

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

    record = subcommands.add_parser(
        "record",
        parents=parents,
        help="record frames to files on the service, with a live progress bar; prints where the files are",
        description="Starts a recording (StartRecording) and follows it (WatchRecording) until it ends; Ctrl-C stops "
        "it (StopRecording). Exits 0 when it completed or was stopped, 1 when it failed.",
    )
    record.add_argument("--frames", type=int, default=0, metavar="N", help="stop after N frames (default: no limit)")
    record.add_argument(
        "--duration", type=_positive_float, metavar="S", help="stop after S seconds (default: no limit)"
    )
    record.add_argument(
        "--format", choices=RECORDING_FORMATS, default=RECORDING_FORMATS[0], help="file format (default: ome-tiff)"
    )
    record.add_argument("--frames-per-file", type=int, default=0, metavar="N", help="start a new file every N frames")
    record.add_argument("--max-width", type=int, default=0, metavar="W", help="mp4: scale frames wider than W down")
    record.add_argument("--id", dest="recording_id", default="", help="the recording's id (default: from the time)")
    add_connection_arguments(record, timeout_help=f"deadline of each unary call (default: {DEFAULT_TIMEOUT_S:g})")
    record.set_defaults(handler=_client_command(_record))

    recordings = subcommands.add_parser(
        "recordings", parents=parents, help="recordings kept by the service: list, show, stop, delete, download"
    )
    recording_actions = recordings.add_subparsers(dest="recordings_action", metavar="ACTION", required=True)
    _add_command(recording_actions, "list", _recordings_list, parents, help="list the recordings, newest first")
    for action, help_text, run in (
        ("show", "print recording ID (state, progress, files)", _recordings_show),
        ("stop", "stop recording ID", _recordings_stop),
        ("delete", "delete recording ID and its files", _recordings_delete),
    ):
        one = _add_command(recording_actions, action, run, parents, help=help_text)
        one.add_argument("recording", metavar="ID", help="the recording's id or recordings/ID")
    download = _add_command(
        recording_actions,
        "download",
        _recordings_download,
        parents,
        timeout_help="deadline of the download (default: none)",
        help="download one file of recording ID (resumable with --resume)",
    )
    download.add_argument("recording", metavar="ID", help="the recording's id or recordings/ID")
    download.add_argument("file", metavar="FILE", help="one of its files (see recordings show)")
    download.add_argument("-o", "--output", type=Path, help="where to write it (default: FILE in this folder)")
    download.add_argument("--resume", action="store_true", help="continue a partial download of --output")


#: ``--timeout`` help of the commands that make one unary call.
_UNARY_DEADLINE_HELP = f"deadline (default: {DEFAULT_TIMEOUT_S:g})"


def _add_command(
    subcommands: Any,
    name: str,
    run: Callable[[CameraClient, argparse.Namespace], int],
    parents: Sequence[argparse.ArgumentParser],
    *,
    timeout_help: str = _UNARY_DEADLINE_HELP,
    **parser_options: Any,
) -> argparse.ArgumentParser:
    """A client (sub)command ``name`` that runs ``run`` with a client, with the connection options."""
    parser: argparse.ArgumentParser = subcommands.add_parser(name, parents=parents, **parser_options)
    add_connection_arguments(parser, timeout_help=timeout_help)
    parser.set_defaults(handler=_client_command(run))
    return parser


def _add_expected_revision(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--expected-revision",
        type=int,
        metavar="N",
        help="apply only if the settings still have revision N (else ABORTED, nothing changed)",
    )


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


def message_json(message: Message, indent: int | None = 2) -> str:
    """A response as proto3 JSON (indented; ``indent=None``: one line): every field in the proto's order,
    zero values included, bytes fields only when not empty (image data not asked for is left out)."""
    as_dict = json_format.MessageToDict(
        message, preserving_proto_field_name=True, always_print_fields_with_no_presence=True
    )
    return json.dumps(_in_proto_order(message.DESCRIPTOR, as_dict), indent=indent)


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


def assignment(text: str) -> tuple[str, Any]:
    """``PATH=VALUE`` as the path and the value in the field's type, else an argparse error naming the problem."""
    path, equals, value = text.partition("=")
    path = path.strip()
    if not equals or not path:
        raise argparse.ArgumentTypeError(f"{text!r} is not PATH=VALUE (e.g. roi.width=640)")
    try:
        return path, parse_value(path, value)
    except SettingsValueError as error:
        raise argparse.ArgumentTypeError(str(error)) from None


def _settings_show(client: CameraClient, args: argparse.Namespace) -> int:
    print(message_json(client.get_settings()))
    return 0


def _settings_set(client: CameraClient, args: argparse.Namespace) -> int:
    values = dict(args.assignments)  # a path given twice: the last value
    print(message_json(client.update_settings(expected_revision=args.expected_revision, **values)))
    return 0


def _settings_watch(client: CameraClient, args: argparse.Namespace) -> int:
    received = 0
    with CtrlC() as ctrl_c:  # Ctrl-C cancels the stream (see CtrlC); the loop then ends
        if ctrl_c.pressed.is_set():
            return 0
        with ctrl_c.cancels(client.watch_settings(timeout_s=args.timeout_s)) as changes:
            for change in changes:
                print(message_json(change, indent=None), flush=True)
                received += 1
                if received == args.count:
                    break
    return 0


#: Columns of ``settings features`` when stdout is not a terminal (a file or a pipe: no wrapping).
FEATURES_TABLE_COLUMNS = 200


def _settings_features(client: CameraClient, args: argparse.Namespace) -> int:
    info = client.get_camera_info()
    table = Table(title=f"{info.model or 'camera'} {info.serial_number}".strip(), title_justify="left")
    for heading in ("setting", "supported", "minimum", "maximum", "step", "unit", "choices", "while streaming"):
        table.add_column(heading, no_wrap=heading == "setting")
    for feature in info.features:
        table.add_row(*feature_row(feature))
    console = Console(width=None if sys.stdout.isatty() else FEATURES_TABLE_COLUMNS)
    console.print(table)
    console.print(f"settings channels: {info.settings_channels or 'none'}")
    return 0


def feature_row(feature: pb.FeatureDescription) -> tuple[str, ...]:
    """One row of the ``settings features`` table: what the camera says of one setting."""

    def number(name: str) -> str:
        return f"{getattr(feature, name):g}" if feature.HasField(name) else ""

    choices = ", ".join(feature.choices) or ", ".join(f"{value:g}" for value in feature.values)
    return (
        feature.name,
        "yes" if feature.supported else "no",
        number("minimum"),
        number("maximum"),
        number("step"),
        feature.unit,
        choices,
        ("yes" if feature.settable_while_streaming else "restarts") if feature.supported else "",
    )


def _preset_save(client: CameraClient, args: argparse.Namespace) -> int:
    print(message_json(client.create_preset(args.name)))
    return 0


def _preset_load(client: CameraClient, args: argparse.Namespace) -> int:
    print(message_json(client.apply_preset(args.name, expected_revision=args.expected_revision)))
    return 0


def _preset_show(client: CameraClient, args: argparse.Namespace) -> int:
    print(message_json(client.get_preset(args.name)))
    return 0


def _preset_list(client: CameraClient, args: argparse.Namespace) -> int:
    print(message_json(client.list_presets()))
    return 0


def _preset_delete(client: CameraClient, args: argparse.Namespace) -> int:
    client.delete_preset(args.name)
    print(f"camera-grpc: deleted {preset_name(args.name)}", file=sys.stderr)
    return 0


def _channel_save(client: CameraClient, args: argparse.Namespace) -> int:
    client.save_settings_to_camera(args.channel)
    print(f"camera-grpc: saved the camera's settings to its channel {args.channel}", file=sys.stderr)
    return 0


def _channel_load(client: CameraClient, args: argparse.Namespace) -> int:
    print(message_json(client.load_settings_from_camera(args.channel)))
    return 0


def _channel_number(text: str) -> int:
    if not text.strip().isdigit():
        raise argparse.ArgumentTypeError(f"must be 0 (factory defaults) or a user channel from 1, not {text!r}")
    return int(text)


def storage_summary(status: spb.GetStorageStatusResponse) -> str:
    """GetStorageStatus for people, one fact a line."""
    lines = []
    if status.backend == spb.STORAGE_BACKEND_OBJECT_STORE:
        lines += [
            f"object store: {status.endpoint} bucket {status.bucket}, prefix {status.prefix}",
            f"reachable: {'yes' if status.reachable else 'no'}"
            + (f" (last error: {status.last_error})" if status.last_error else ""),
            f"spool: {status.spool_bytes} of {status.spool_budget_bytes} bytes, {status.pending_uploads} files waiting",
            f"uploaded: {status.uploaded_files} files since the service started"
            + (
                f", the last at {status.last_upload_time.ToJsonString()}" if status.HasField("last_upload_time") else ""
            ),
        ]
    else:
        lines.append("local folders (no object store)")
    lines.append(f"disk free: {status.disk_free_bytes} bytes")
    return "\n".join(lines)


def _storage(client: CameraClient, args: argparse.Namespace) -> int:
    status = client.get_storage_status()
    print(message_json(status) if args.json else storage_summary(status))
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


def _trigger(client: CameraClient, args: argparse.Namespace) -> int:
    # --timeout is the exact deadline; without it, the default deadline plus the exposure
    fired = client.software_trigger() if args.timeout_s is None else client.software_trigger(timeout_s=args.timeout_s)
    print(message_json(fired))
    return 0


def _io(client: CameraClient, args: argparse.Namespace) -> int:
    print(message_json(client.io_status()))
    return 0


def event_line(message: pb.WatchEventsResponse) -> str:
    """One event as a line of rich markup: sequence number, host time, type, what happened, missed ones before."""
    event = message.event
    kind = enum_name(pb.EventType.DESCRIPTOR, event.type)
    style = EVENT_STYLES.get(kind)
    name = f"[{style}]{kind}[/]" if style else kind
    at = event.time.ToDatetime().strftime("%H:%M:%S.%f")[:-3] if event.HasField("time") else "--:--:--.---"
    missed = f" [dim](missed {message.missed_events} before this one)[/]" if message.missed_events else ""
    return f"#{event.sequence_number} {at} {name} {escape(event.message)}{missed}"


def _events(client: CameraClient, args: argparse.Namespace) -> int:
    received = 0
    console = Console(highlight=False, soft_wrap=True)  # one line per event, also in a pipe
    with CtrlC() as ctrl_c:  # Ctrl-C cancels the stream (see CtrlC); the loop then ends
        if ctrl_c.pressed.is_set():
            return 0
        with ctrl_c.cancels(client.watch_events(args.types or (), timeout_s=args.timeout_s)) as events:
            for message in events:
                if args.json:
                    print(message_json(message, indent=None), flush=True)
                else:
                    console.print(event_line(message))
                received += 1
                if received == args.count:
                    break
    return 0


class CtrlC:
    """While ``watch`` runs, Ctrl-C cancels its stream from a thread of its own rather than raising
    KeyboardInterrupt wherever the main thread is: raised inside grpc, it can leave the channel
    unable to close, and the command hung (grpc/grpc#19973). The main thread then sees the stream end."""

    def __init__(self) -> None:
        self.pressed = threading.Event()
        self._stream: ResponseStream[Any] | None = None
        self._previous: Any = None

    def __enter__(self) -> CtrlC:
        self._previous = signal.signal(signal.SIGINT, self._on_sigint)
        return self

    def __exit__(self, *exc_info: object) -> None:
        signal.signal(signal.SIGINT, self._previous)

    def cancels(self, stream: _Stream) -> _Stream:
        """``stream``, which Ctrl-C now cancels (at once if it was pressed already)."""
        self._stream = stream
        if self.pressed.is_set():
            stream.cancel()
        return stream

    def _on_sigint(self, signum: int, frame: object) -> None:
        self.pressed.set()
        if self._stream is not None:
            threading.Thread(target=self._stream.cancel, name="watch-ctrl-c", daemon=True).start()


def frame_progress(frames: int) -> Progress:
    """A live progress bar on stderr: frames (of ``frames``, if not 0), rate, dropped, elapsed (watch, record)."""
    return Progress(
        SpinnerColumn(),
        TextColumn("[bold]{task.description}"),
        BarColumn() if frames else TextColumn(""),
        MofNCompleteColumn() if frames else TextColumn("{task.completed} frames"),
        TextColumn("{task.fields[fps]:6.1f} fps"),
        TextColumn("{task.fields[dropped]} dropped"),
        TimeElapsedColumn(),
        console=Console(stderr=True),
    )


def _watch(client: CameraClient, args: argparse.Namespace) -> int:
    stats = StreamStats()
    progress = frame_progress(args.frames)
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


def recording_summary(recording: rpb.Recording) -> str:
    """How a recording ended and where its files are (one line each)."""
    state = enum_name(rpb.RecordingState.DESCRIPTOR, recording.state)
    lines = [
        f"{recording.name}: {state}, {recording.frames_written} frames written, "
        f"{recording.frames_dropped} dropped, {recording.bytes_written} bytes"
        + (f" ({recording.failure_reason})" if recording.failure_reason else "")
    ]
    lines += [
        f"  {recording.name}/{file.name} ({file.size_bytes} bytes, {file.content_type})" for file in recording.files
    ]
    recording_id = recording.name.removeprefix("recordings/")
    lines.append(f"download: camera-grpc recordings download {recording_id} FILE")
    return "\n".join(lines)


def _record(client: CameraClient, args: argparse.Namespace) -> int:
    progress = frame_progress(args.frames)
    started = client.start_recording(
        recording_id=args.recording_id,
        format=args.format,
        max_frames=args.frames,
        max_duration_s=args.duration or 0.0,
        frames_per_file=args.frames_per_file,
        max_width=args.max_width,
    ).recording
    final = started
    with CtrlC() as ctrl_c, progress:
        task = progress.add_task(started.name, total=args.frames or None, fps=0.0, dropped=0)
        stream = client.watch_recording(started.name)
        with ctrl_c.cancels(stream):
            for update in stream:
                final = update.recording
                progress.update(task, completed=final.frames_written, fps=final.rate_fps, dropped=final.frames_dropped)
    if final.state == rpb.RECORDING_STATE_RUNNING:  # Ctrl-C: stop it, its files complete
        final = client.stop_recording(started.name).recording
    print(recording_summary(final))
    return 0 if final.state in RECORDING_SUCCESS else EXIT_RPC_ERROR


def _recordings_list(client: CameraClient, args: argparse.Namespace) -> int:
    table = Table("name", "state", "format", "frames", "dropped", "bytes", "started")
    token = ""
    while True:
        page = client.list_recordings(page_token=token)
        for recording in page.recordings:
            table.add_row(
                recording.name,
                enum_name(rpb.RecordingState.DESCRIPTOR, recording.state),
                enum_name(rpb.RecordingFormat.DESCRIPTOR, recording.format),
                str(recording.frames_written),
                str(recording.frames_dropped),
                str(recording.bytes_written),
                recording.start_time.ToJsonString(),
            )
        token = page.next_page_token
        if not token:
            break
    Console(width=200).print(table)
    return 0


def _recordings_show(client: CameraClient, args: argparse.Namespace) -> int:
    print(message_json(client.get_recording(args.recording).recording))
    return 0


def _recordings_stop(client: CameraClient, args: argparse.Namespace) -> int:
    print(recording_summary(client.stop_recording(args.recording).recording))
    return 0


def _recordings_delete(client: CameraClient, args: argparse.Namespace) -> int:
    client.delete_recording(args.recording)
    return 0


def _recordings_download(client: CameraClient, args: argparse.Namespace) -> int:
    output: Path = args.output or Path(Path(args.file).name)
    offset = output.stat().st_size if args.resume and output.exists() else 0
    try:
        size = client.download_recording_file(args.recording, args.file, output, offset, timeout_s=args.timeout_s)
    except OSError as exc:
        print(f"camera-grpc: cannot write {output}: {exc.strerror or exc}", file=sys.stderr)
        return EXIT_RPC_ERROR
    print(f"camera-grpc: {output} ({size} bytes)", file=sys.stderr)
    return 0
