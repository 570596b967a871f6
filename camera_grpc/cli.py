"""The ``camera-grpc`` command (also ``python -m camera_grpc``)."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
import os
import sys
from collections.abc import Sequence
from pathlib import Path

import grpc
from grpc_health.v1.health_pb2 import HealthCheckResponse

from camera_grpc import __version__
from camera_grpc.auth import Role, new_token, parse_tokens, token_line
from camera_grpc.client.cli import add_client_commands, add_connection_arguments
from camera_grpc.config import ConfigurationError, Settings, load_settings
from camera_grpc.errors import SdkUnavailableError
from camera_grpc.logs import log_handler

log = logging.getLogger("camera_grpc")

#: Exit status for bad configuration or a missing SDK (like sysexits' EX_CONFIG).
EXIT_CONFIG = 78
#: How often a gateway started alone checks that its camera service is reachable, and the deadline of a check, s.
UPSTREAM_CHECK_INTERVAL_S = 1.0
UPSTREAM_CHECK_TIMEOUT_S = 5.0
SERVING = HealthCheckResponse.SERVING


def build_parser() -> argparse.ArgumentParser:
    """The argument parser (subcommands register here). Options may come before or after the subcommand."""
    parser = argparse.ArgumentParser(
        prog="camera-grpc",
        description=(
            "gRPC service for one PixeLINK camera (simulated when the SDK is absent). "
            "Configuration comes from the environment and .env; see .env.example."
        ),
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    parser.add_argument("--env-file", default=".env", help="settings file to read (default: .env)")
    add_connection_arguments(parser, timeout_help="deadline of a client command's call, seconds", top_level=True)
    # The same options after the subcommand; with no default there, a value given before it is kept.
    env_file = argparse.ArgumentParser(add_help=False)
    env_file.add_argument("--env-file", default=argparse.SUPPRESS, help="settings file to read (default: .env)")
    subcommands = parser.add_subparsers(dest="command", metavar="COMMAND")
    serve = subcommands.add_parser("serve", parents=[env_file], help="run the service (the default)")
    serve.set_defaults(handler=_serve)
    gateway = subcommands.add_parser(
        "gateway",
        parents=[env_file],
        help="run only the REST gateway, in front of a camera service elsewhere",
        description="Serve the REST API (legacy endpoints, downloads, live view, viewer page) on HOST:PORT "
        "as a client of the camera service at --target; logs each change of that service's reachability.",
    )
    add_connection_arguments(gateway, credentials=True)  # --ca/--cert/--key: TLS to the service (not --token)
    gateway.set_defaults(handler=_gateway)
    token = subcommands.add_parser(
        "token",
        parents=[env_file],
        help="manage the tokens file",
        description="Tokens for TOKENS_FILE (see the README's Security section). A token is shown once, when it "
        "is made; the file keeps only its SHA-256 digest. To revoke a token, delete its line.",
    )
    token_commands = token.add_subparsers(dest="token_command", metavar="ACTION", required=True)
    token_add = token_commands.add_parser(
        "add",
        parents=[env_file],
        help="make a token, print it once, and append its digest line to the tokens file",
        description="Make a new random token for NAME with ROLE, append 'NAME ROLE sha256:DIGEST' to the tokens "
        "file (created, readable by its owner only, if missing) and print the token: the only time it is shown.",
    )
    token_add.add_argument("name", metavar="NAME", help="who holds it, one word (shown in the service's log)")
    token_add.add_argument("role", metavar="ROLE", type=_role, help="viewer, operator or admin")
    token_add.add_argument("--file", type=Path, default=None, help="tokens file (default: TOKENS_FILE)")
    token_add.set_defaults(handler=_token_add)
    add_client_commands(subcommands, parents=[env_file])  # capture, settings, info, watch
    parser.set_defaults(handler=_serve)
    return parser


def _check_options(parser: argparse.ArgumentParser, args: argparse.Namespace) -> None:
    """Refuse --target/--timeout given before a subcommand that has no use for them, and --token to the gateway
    (it forwards each caller's token)."""
    command = args.command or "serve"
    credentials = ("--ca", "--cert", "--key")
    applicable = {"serve": (), "gateway": ("--target", *credentials), "token": ()}.get(
        command, ("--target", "--timeout", *credentials, "--token")
    )
    given = {
        "--target": args.target,
        "--timeout": args.timeout_s,
        **{option: getattr(args, option.removeprefix("--"), None) for option in (*credentials, "--token")},
    }
    for option, value in given.items():
        if value is not None and option not in applicable and not (option == "--token" and command == "gateway"):
            parser.error(f"{option} does not apply to {command}")
    if command == "gateway" and getattr(args, "token", None) is not None:
        parser.error("--token does not apply to gateway: it forwards the token of each request it serves")


def _serve(args: argparse.Namespace, settings: Settings) -> int:
    from camera_grpc.service import serve

    asyncio.run(serve(settings))
    return 0


def _gateway(args: argparse.Namespace, settings: Settings) -> int:
    from camera_grpc.client import CredentialsError, channel_credentials, loopback_target
    from camera_grpc.client.cli import EXIT_CREDENTIALS, client_credentials

    target = args.target or loopback_target(settings.grpc_host, settings.grpc_port)
    # TLS to the service: --ca, --cert, --key or CAMERA_GRPC_CA/_CERT/_KEY (a token of its own it has not: it
    # forwards each caller's).
    tls = {name: value for name, value in client_credentials(args).items() if name != "token"}
    try:
        credentials = channel_credentials(target, **tls)
    except CredentialsError as error:
        print(f"camera-grpc: {error}", file=sys.stderr)
        return EXIT_CREDENTIALS
    asyncio.run(_run_gateway(settings, target, credentials, tls))
    return 0


async def _run_gateway(
    settings: Settings,
    target: str,
    credentials: grpc.ChannelCredentials | None = None,
    tls: dict[str, str | None] | None = None,
) -> None:
    """The gateway alone (until SIGINT/SIGTERM), with :func:`watch_upstream` logging its service's reachability."""
    from camera_grpc.gateway.server import run_gateway

    watcher = asyncio.create_task(watch_upstream(target, tls=tls))
    try:
        await run_gateway(settings, target, credentials)
    finally:
        watcher.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await watcher


async def watch_upstream(
    target: str, interval_s: float = UPSTREAM_CHECK_INTERVAL_S, *, tls: dict[str, str | None] | None = None
) -> None:
    """Check the camera service's health every ``interval_s`` and log each change of its state once:
    unreachable, reachable with the camera ready or not, or answering but not as a camera service.
    ``tls``: ``ca``, ``cert``, ``key`` of the channel (health needs no token)."""
    from camera_grpc.client import AsyncCameraClient, CameraRpcError

    reported = None
    async with AsyncCameraClient(target, timeout_s=UPSTREAM_CHECK_TIMEOUT_S, **(tls or {})) as client:
        while True:
            try:
                status = (await client.check_health()).status
            except CameraRpcError as error:
                unreachable = error.code in (grpc.StatusCode.UNAVAILABLE, grpc.StatusCode.DEADLINE_EXCEEDED)
                state = "unreachable" if unreachable else "not a camera service"
                level, message = logging.WARNING, f"camera service at {target} is {state} ({error})"
            else:
                state = "ready" if status == SERVING else "not ready"
                level = logging.INFO if status == SERVING else logging.WARNING
                status_name = HealthCheckResponse.ServingStatus.Name(status)
                message = f"camera service at {target} is reachable, camera {state} ({status_name})"
            if state != reported:
                log.log(level, message)
                reported = state
            await asyncio.sleep(interval_s)


def _role(name: str) -> Role:
    try:
        return Role.named(name)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def _token_add(args: argparse.Namespace, settings: Settings) -> int:
    """``camera-grpc token add NAME ROLE [--file PATH]``: the token on stdout (once), its digest line in the file."""
    path: Path | None = args.file or settings.tokens_file
    if path is None:
        print("camera-grpc: no tokens file: give --file PATH or set TOKENS_FILE", file=sys.stderr)
        return 2
    try:
        existing = path.read_text() if path.exists() else ""
        names = {holder.name for _, holder in parse_tokens(existing, str(path))}
        token = new_token()
        line = token_line(args.name, args.role, token)
    except (OSError, ValueError) as exc:
        print(f"camera-grpc: {exc}", file=sys.stderr)
        return 2
    if args.name in names:
        print(
            f"camera-grpc: {path} has a token named {args.name!r} already (delete its line to revoke it)",
            file=sys.stderr,
        )
        return 2
    try:
        # Created readable by its owner only; appended to (O_APPEND), never rewritten: the service re-reads it.
        descriptor = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
        with os.fdopen(descriptor, "a", encoding="utf-8") as tokens_file:
            tokens_file.write(("" if not existing or existing.endswith("\n") else "\n") + line)
    except OSError as exc:
        print(f"camera-grpc: cannot write {path}: {exc.strerror}", file=sys.stderr)
        return 2
    print(token)
    print(
        f"camera-grpc: token of {args.name} ({args.role.name.lower()}) added to {path}; "
        "this is the only time it is shown",
        file=sys.stderr,
    )
    return 0


class _UvicornLabel(logging.Filter):
    """uvicorn logs its ordinary lines (started, shutting down) as ``uvicorn.error``: label them ``uvicorn``."""

    def filter(self, record: logging.LogRecord) -> bool:
        record.name = "uvicorn"
        return True


_UVICORN_LABEL = _UvicornLabel()


def configure_logging(debug: bool, log_format: str = "text") -> None:
    """Log lines to stderr: text (time, level, logger, message, request id) or one JSON object per line
    (``LOG_FORMAT=json``); uvicorn's labelled ``uvicorn``."""
    logging.basicConfig(level=logging.DEBUG if debug else logging.INFO, handlers=[log_handler(log_format, sys.stderr)])
    logging.getLogger("uvicorn.error").addFilter(_UVICORN_LABEL)  # once: the same filter is not added twice


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point; returns the exit status."""
    parser = build_parser()
    args = parser.parse_args(argv)
    _check_options(parser, args)
    try:
        settings = load_settings(args.env_file)
    except ConfigurationError as exc:
        print(f"camera-grpc: {exc}", file=sys.stderr)
        return EXIT_CONFIG
    configure_logging(settings.debug, settings.log_format)
    try:
        return int(args.handler(args, settings))
    except ConfigurationError as exc:  # found at start-up: e.g. listening beyond loopback without TLS and tokens
        print(f"camera-grpc: {exc}", file=sys.stderr)
        return EXIT_CONFIG
    except SdkUnavailableError as exc:
        print(f"camera-grpc: {exc}", file=sys.stderr)
        return EXIT_CONFIG
    except OSError as exc:  # e.g. a port already in use
        print(f"camera-grpc: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130
