"""The ``camera-grpc`` command (also ``python -m camera_grpc``)."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
import sys
from collections.abc import Sequence

import grpc
from grpc_health.v1.health_pb2 import HealthCheckResponse

from camera_grpc import __version__
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
    add_connection_arguments(gateway)
    gateway.set_defaults(handler=_gateway)
    add_client_commands(subcommands, parents=[env_file])  # capture, settings, info, watch
    parser.set_defaults(handler=_serve)
    return parser


def _check_options(parser: argparse.ArgumentParser, args: argparse.Namespace) -> None:
    """Refuse --target/--timeout given before a subcommand that has no use for them."""
    command = args.command or "serve"
    applicable = {"serve": (), "gateway": ("--target",)}.get(command, ("--target", "--timeout"))  # client commands
    for option, value in (("--target", args.target), ("--timeout", args.timeout_s)):
        if value is not None and option not in applicable:
            parser.error(f"{option} does not apply to {command}")


def _serve(args: argparse.Namespace, settings: Settings) -> int:
    from camera_grpc.service import serve

    asyncio.run(serve(settings))
    return 0


def _gateway(args: argparse.Namespace, settings: Settings) -> int:
    from camera_grpc.client import loopback_target

    target = args.target or loopback_target(settings.grpc_host, settings.grpc_port)
    asyncio.run(_run_gateway(settings, target))
    return 0


async def _run_gateway(settings: Settings, target: str) -> None:
    """The gateway alone (until SIGINT/SIGTERM), with :func:`watch_upstream` logging its service's reachability."""
    from camera_grpc.gateway.server import run_gateway

    watcher = asyncio.create_task(watch_upstream(target))
    try:
        await run_gateway(settings, target)
    finally:
        watcher.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await watcher


async def watch_upstream(target: str, interval_s: float = UPSTREAM_CHECK_INTERVAL_S) -> None:
    """Check the camera service's health every ``interval_s`` and log each change of its state once:
    unreachable, reachable with the camera ready or not, or answering but not as a camera service."""
    from camera_grpc.client import AsyncCameraClient, CameraRpcError

    reported = None
    async with AsyncCameraClient(target, timeout_s=UPSTREAM_CHECK_TIMEOUT_S) as client:
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
