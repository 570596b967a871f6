"""How a client reaches the camera service: channel options and the target for a listen address.

Shared by the Python clients, the CLI and the REST gateway (which is a gRPC
client of the service like any other).
"""

from __future__ import annotations

from typing import Any

from camera_grpc.config import MIB

#: Largest message sent or received, bytes; the service's GRPC_MAX_MESSAGE_BYTES default.
DEFAULT_MAX_MESSAGE_BYTES = 64 * MIB
#: Keepalive pings while a call is open (long, quiet Frames streams), and how long to wait
#: for the answer before the connection is declared dead. The service accepts pings this
#: often (camera_grpc.rpc.server.MIN_CLIENT_PING_INTERVAL_MS).
KEEPALIVE_TIME_MS = 30_000
KEEPALIVE_TIMEOUT_MS = 10_000
#: Reconnect backoff, for a service on the same host or LAN: after an outage the channel tries again
#: at least every second (gRPC's default grows to 120 s, so clients stayed failed long after the
#: service was back). The NestJS client uses the same values.
INITIAL_RECONNECT_BACKOFF_MS = 250
MAX_RECONNECT_BACKOFF_MS = 1_000
#: Listen-on-everything addresses, and where a client on the same host reaches them.
WILDCARD_HOSTS = {"0.0.0.0": "127.0.0.1", "": "127.0.0.1", "::": "::1", "[::]": "::1"}


def channel_options(max_message_bytes: int = DEFAULT_MAX_MESSAGE_BYTES) -> list[tuple[str, Any]]:
    """gRPC channel arguments for a channel to the camera service."""
    return [
        ("grpc.max_send_message_length", max_message_bytes),
        ("grpc.max_receive_message_length", max_message_bytes),
        ("grpc.keepalive_time_ms", KEEPALIVE_TIME_MS),
        ("grpc.keepalive_timeout_ms", KEEPALIVE_TIMEOUT_MS),
        ("grpc.initial_reconnect_backoff_ms", INITIAL_RECONNECT_BACKOFF_MS),
        ("grpc.max_reconnect_backoff_ms", MAX_RECONNECT_BACKOFF_MS),
        # Ping only while a call is open; an idle channel costs the service nothing.
        ("grpc.keepalive_permit_without_calls", 0),
        # A server stream sends no data from the client after the request: keep pinging anyway.
        ("grpc.http2.max_pings_without_data", 0),
        # No BDP probing: a window grown by it holds dozens of frames in flight, out of the
        # server's reach, so a LATEST subscriber would see old frames (see README, live frames).
        ("grpc.http2.bdp_probe", 0),
    ]


def loopback_target(host: str, port: int) -> str:
    """The gRPC target that reaches a server listening on ``host:port`` from this host.

    A wildcard listen address (``0.0.0.0``, ``::``, ``[::]``, empty) becomes the loopback
    address of its family; IPv6 addresses are bracketed.
    """
    host = WILDCARD_HOSTS.get(host, host)
    if ":" in host and not host.startswith("["):
        host = f"[{host}]"
    return f"{host}:{port}"
