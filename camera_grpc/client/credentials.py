"""How a client proves what it talks to and who it is: TLS channel credentials and a bearer token.

Shared by the Python clients and the CLI (``--ca``, ``--cert``, ``--key``, ``--token``):

- ``ca``: the certificate (PEM) of the CA that signed the service's certificate. Giving it makes the
  channel TLS, and the service's certificate must be valid for the host name of the target
  (``127.0.0.1``, ``camera.lab``; to check it against another name, pass the channel option
  ``("grpc.ssl_target_name_override", "camera.lab")``).
- ``cert`` and ``key``: this client's certificate and private key (PEM), for a service that asks for
  client certificates (mutual TLS, its ``TLS_CLIENT_CA_FILE``). Always both; they also make the channel
  TLS (with the system's root certificates unless ``ca`` is given).
- ``tls=True``: TLS with the system's root certificates (a service whose certificate a public CA signed).
- ``token``: sent with every call as ``authorization: Bearer <token>`` (gRPC call credentials).

A PEM source is a file path (``str`` or ``os.PathLike``) or the PEM bytes themselves.

A token is never sent in the clear over a network: with TLS it rides the encrypted channel; without
TLS it is allowed only to a loopback target (``localhost``, ``127.0.0.0/8``, ``[::1]``, ``unix:``
sockets), over gRPC's *local* credentials, which refuse the connection unless its peer really is on
this host (plaintext on the wire, as an insecure channel). Any other target without TLS is refused
before connecting (ValueError).
"""

from __future__ import annotations

import ipaddress
import os
import re
from collections.abc import Iterable
from pathlib import Path

import grpc

#: What a PEM argument may be: a file's path, or the PEM bytes.
PemSource = str | os.PathLike[str] | bytes

#: Environment variables of the CLI (the command-line options win over them).
CA_ENV = "CAMERA_GRPC_CA"
CERT_ENV = "CAMERA_GRPC_CERT"
KEY_ENV = "CAMERA_GRPC_KEY"
TOKEN_ENV = "CAMERA_GRPC_TOKEN"

#: Target prefixes (gRPC name syntax) of addresses on this host only.
_UNIX_SCHEMES = ("unix:", "unix-abstract:")
#: Target prefixes naming a resolver before the address.
_ADDRESS_SCHEMES = ("ipv4:", "ipv6:", "dns:")
#: A token is text a header can carry: visible ASCII, no spaces (those the service makes are URL-safe base64).
_TOKEN = re.compile(r"[\x21-\x7e]+")
_PEM_CERTIFICATE = b"-----BEGIN CERTIFICATE-----"
_PEM_PRIVATE_KEY = re.compile(rb"-----BEGIN (?:[A-Z]+ )?PRIVATE KEY-----")


class CredentialsError(ValueError):
    """Credentials that cannot work: an unreadable or malformed file, half a key pair, a token over plaintext."""


def read_pem(source: PemSource, what: str) -> bytes:
    """The PEM bytes of ``source`` (a path, or the bytes themselves); CredentialsError naming ``what`` otherwise."""
    if isinstance(source, bytes):
        data, origin = source, f"the {what} given"
    else:
        path = Path(source)
        origin = f"the {what} file {str(path)!r}"
        try:
            data = path.read_bytes()
        except OSError as exc:
            raise CredentialsError(f"cannot read {origin}: {exc.strerror or exc}") from None
    if what.endswith("key"):
        if not _PEM_PRIVATE_KEY.search(data):
            raise CredentialsError(f"{origin} is not a PEM private key ('-----BEGIN PRIVATE KEY-----')")
    elif _PEM_CERTIFICATE not in data:
        raise CredentialsError(f"{origin} is not a PEM certificate ('-----BEGIN CERTIFICATE-----')")
    return data


def check_token(token: str) -> str:
    """``token`` without surrounding white space (as read from a file); CredentialsError if it cannot be a token."""
    token = token.strip()
    if not token:
        raise CredentialsError("the token is empty")
    if not _TOKEN.fullmatch(token):
        raise CredentialsError("the token has characters a token cannot have (spaces, control or non-ASCII)")
    return token


def target_hosts(target: str) -> list[str]:
    """The host names or addresses of a gRPC target (``host:port``, ``[v6]:port``, ``dns:///h:p``, ``ipv4:a:p,b:p``)."""
    for scheme in _ADDRESS_SCHEMES:
        if target.startswith(scheme):
            target = target.removeprefix(scheme)
            if target.startswith("//"):  # dns://authority/host:port
                target = target[2:].partition("/")[2]
            break
    hosts = []
    for address in target.split(","):
        address = address.lstrip("/")
        if address.startswith("["):
            host = address[1:].partition("]")[0]
        elif address.count(":") == 1:
            host = address.partition(":")[0]
        else:
            host = address  # no port, or a bare IPv6 address
        hosts.append(host)
    return hosts


def is_loopback_target(target: str) -> bool:
    """Whether every address of ``target`` is on this host (a unix socket, localhost, 127.0.0.0/8 or ::1)."""
    if target.startswith(_UNIX_SCHEMES):
        return True
    return all(_is_loopback_host(host) for host in target_hosts(target))


def _is_loopback_host(host: str) -> bool:
    if host.lower().rstrip(".") == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.partition("%")[0]).is_loopback
    except ValueError:
        return False


def channel_credentials(
    target: str,
    *,
    ca: PemSource | None = None,
    cert: PemSource | None = None,
    key: PemSource | None = None,
    token: str | None = None,
    tls: bool = False,
    credentials: grpc.ChannelCredentials | None = None,
) -> grpc.ChannelCredentials | None:
    """Channel credentials for ``target`` from the arguments (see the module's docstring); None: plaintext.

    ``credentials`` are ready-made channel credentials (``grpc.ssl_channel_credentials(...)``), used
    instead of ``ca``/``cert``/``key``/``tls``; a ``token`` is added to them.
    Raises CredentialsError for files that cannot be read or are not PEM, a certificate without its
    key (or the reverse), and a token that would go over plaintext to a host that is not this one.
    """
    if (cert is None) != (key is None):
        given, missing = ("certificate", "key") if key is None else ("key", "certificate")
        raise CredentialsError(f"a client {given} needs its {missing} too (mutual TLS takes both)")
    wants_tls = tls or any(source is not None for source in (ca, cert, key))
    if credentials is not None and wants_tls:
        raise CredentialsError("give either credentials or ca/cert/key/tls, not both")
    if credentials is None and wants_tls:
        credentials = grpc.ssl_channel_credentials(
            root_certificates=None if ca is None else read_pem(ca, "CA certificate"),
            private_key=None if key is None else read_pem(key, "client key"),
            certificate_chain=None if cert is None else read_pem(cert, "client certificate"),
        )
    if token is None:
        return credentials
    token = check_token(token)
    if credentials is None:
        if not is_loopback_target(target):
            raise CredentialsError(
                f"a token is sent in plaintext only to this host, and {target!r} is not a loopback address: "
                "use TLS (the CA certificate of the service: ca=, --ca or CAMERA_GRPC_CA)"
            )
        # Plaintext on the wire, but gRPC checks at connection time that the peer is on this host.
        kind = grpc.LocalConnectionType.UDS if target.startswith(_UNIX_SCHEMES) else grpc.LocalConnectionType.LOCAL_TCP
        credentials = grpc.local_channel_credentials(kind)
    return grpc.composite_channel_credentials(credentials, grpc.access_token_call_credentials(token))


def first_given(*values: str | None) -> str | None:
    """The first value that is neither None nor empty (an option, then its environment variable)."""
    return next((value for value in values if value), None)


def from_environment(environ: dict[str, str] | None = None) -> dict[str, str | None]:
    """``ca``, ``cert``, ``key`` and ``token`` from CAMERA_GRPC_CA/_CERT/_KEY/_TOKEN (empty: not set)."""
    environ = dict(os.environ) if environ is None else environ
    names: Iterable[tuple[str, str]] = (("ca", CA_ENV), ("cert", CERT_ENV), ("key", KEY_ENV), ("token", TOKEN_ENV))
    return {argument: environ.get(variable) or None for argument, variable in names}
