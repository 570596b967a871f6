"""The ``camera-grpc`` command (also ``python -m camera_grpc``)."""

from __future__ import annotations

import argparse
import asyncio
import logging
import sys
from collections.abc import Sequence

from camera_grpc import __version__
from camera_grpc.client.cli import add_client_commands
from camera_grpc.config import ConfigurationError, Settings, load_settings
from camera_grpc.errors import SdkUnavailableError

log = logging.getLogger("camera_grpc")

#: Exit status for bad configuration or a missing SDK (like sysexits' EX_CONFIG).
EXIT_CONFIG = 78


def build_parser() -> argparse.ArgumentParser:
    """The argument parser (subcommands register here)."""
    parser = argparse.ArgumentParser(
        prog="camera-grpc",
        description=(
            "gRPC service for one PixeLINK camera (simulated when the SDK is absent). "
            "Configuration comes from the environment and .env; see .env.example."
        ),
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    parser.add_argument("--env-file", default=".env", help="settings file to read (default: .env)")
    subcommands = parser.add_subparsers(dest="command", metavar="COMMAND")
    serve = subcommands.add_parser("serve", help="run the service (the default)")
    serve.set_defaults(handler=_serve)
    gateway = subcommands.add_parser(
        "gateway",
        help="run only the REST gateway, in front of a camera service elsewhere",
        description="Serve the REST API (legacy endpoints, downloads, live view, viewer page) on HOST:PORT "
        "as a client of the camera service at --target.",
    )
    gateway.add_argument(
        "--target",
        type=_grpc_target,
        metavar="HOST:PORT",
        help="the camera service's gRPC address (default: GRPC_HOST:GRPC_PORT of the settings)",
    )
    gateway.set_defaults(handler=_gateway)
    add_client_commands(subcommands)  # capture, settings, info, watch
    parser.set_defaults(handler=_serve)
    return parser


def _serve(args: argparse.Namespace, settings: Settings) -> int:
    from camera_grpc.service import serve

    asyncio.run(serve(settings))
    return 0


def _gateway(args: argparse.Namespace, settings: Settings) -> int:
    from camera_grpc.client import loopback_target
    from camera_grpc.gateway.server import run_gateway

    target = args.target or loopback_target(settings.grpc_host, settings.grpc_port)
    asyncio.run(run_gateway(settings, target))
    return 0


def _grpc_target(value: str) -> str:
    """``host:port`` (``[v6 address]:port`` too), else an argparse error naming the problem."""
    host, _, port = value.rpartition(":")
    if not host or not port.isdigit() or not 0 < int(port) < 65536:
        raise argparse.ArgumentTypeError(f"{value!r} is not HOST:PORT (port 1-65535)")
    return value


def configure_logging(debug: bool) -> None:
    """Log lines with time, level and logger to stderr."""
    logging.basicConfig(
        level=logging.DEBUG if debug else logging.INFO,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
        stream=sys.stderr,
    )


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point; returns the exit status."""
    args = build_parser().parse_args(argv)
    try:
        settings = load_settings(args.env_file)
    except ConfigurationError as exc:
        print(f"camera-grpc: {exc}", file=sys.stderr)
        return EXIT_CONFIG
    configure_logging(settings.debug)
    try:
        return int(args.handler(args, settings))
    except SdkUnavailableError as exc:
        print(f"camera-grpc: {exc}", file=sys.stderr)
        return EXIT_CONFIG
    except OSError as exc:  # e.g. a port already in use
        print(f"camera-grpc: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130
