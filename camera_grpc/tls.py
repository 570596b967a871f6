"""The service's TLS files (``TLS_CERT_FILE``, ``TLS_KEY_FILE``, ``TLS_CLIENT_CA_FILE``), re-read when they change.

Shared by both front ends: the gRPC server turns :meth:`ServerTls.current` into grpc's dynamic server
credentials (:func:`camera_grpc.rpc.server.server_credentials`), and the REST gateway serves
:meth:`ServerTls.ssl_context`. Both ask for the current files at every new handshake, so replacing the
files rotates the certificate without a restart: connections made afterwards get the new one, open
connections keep theirs. A changed set that cannot be used (a key that does not match its certificate,
say, because only one of the two files has been replaced yet) is logged once and the previous set is
kept until the files change again.
"""

from __future__ import annotations

import logging
import os
import ssl
import threading
from dataclasses import dataclass
from pathlib import Path

from camera_grpc.config import ConfigurationError, Settings

log = logging.getLogger(__name__)

#: Oldest TLS version served (the REST port; gRPC's own minimum is the same).
MINIMUM_VERSION = ssl.TLSVersion.TLSv1_2

_Stamp = tuple[tuple[int, int, int], ...]


@dataclass(frozen=True)
class TlsSnapshot:
    """One usable set of the TLS files, as read."""

    version: int  #: 1 for the files read at start-up, one more at each reload
    cert_chain: bytes  #: PEM
    private_key: bytes  #: PEM
    client_ca: bytes | None  #: PEM; None: client certificates are not asked for
    context: ssl.SSLContext  #: a server context with these files (client certificates required with a CA)


class _EncryptedKeyError(ValueError):
    pass


def _no_password() -> bytes:
    raise _EncryptedKeyError("the key is encrypted; give an unencrypted key (readable by the service only)")


class ServerTls:
    """The certificate chain, its key and, optionally, the CA of client certificates, as files that may change."""

    def __init__(self, cert_file: Path, key_file: Path, client_ca_file: Path | None = None) -> None:
        """Read the files; :class:`ConfigurationError` (one line naming the variable) if they cannot serve TLS."""
        self.cert_file = cert_file
        self.key_file = key_file
        self.client_ca_file = client_ca_file
        self._lock = threading.Lock()
        self._stamp = self._stamps()
        self._snapshot = self._load(version=1)

    @classmethod
    def from_settings(cls, settings: Settings) -> ServerTls | None:
        """The TLS files of ``settings``; None when TLS is not configured."""
        if settings.tls_cert_file is None or settings.tls_key_file is None:
            return None
        return cls(settings.tls_cert_file, settings.tls_key_file, settings.tls_client_ca_file)

    @property
    def mutual(self) -> bool:
        """Whether clients must present a certificate."""
        return self.client_ca_file is not None

    def current(self) -> TlsSnapshot:
        """The files as last read, re-read first if they changed (cheap: a ``stat`` of each when they did not).

        Thread-safe: grpc calls it from its own threads. Never raises.
        """
        stamp = self._stamps()
        with self._lock:
            if stamp == self._stamp:
                return self._snapshot
            self._stamp = stamp
            try:
                self._snapshot = self._load(self._snapshot.version + 1)
            except ConfigurationError as exc:
                log.error("TLS files changed but cannot be used; still serving the previous certificate: %s", exc)
            else:
                log.info("TLS files re-read: new connections get the certificate now in %s", self.cert_file)
            return self._snapshot

    def ssl_context(self) -> ssl.SSLContext:
        """A server context that serves the current files at every handshake (for the REST gateway).

        Its SNI callback, which OpenSSL calls for every handshake (with or without a server name), swaps
        in the context of :meth:`current` before the certificate is chosen.
        """
        context = self._context(self._snapshot.client_ca)

        def follow_the_files(connection: ssl.SSLObject, server_name: str | None, _: ssl.SSLContext) -> None:
            connection.context = self.current().context

        context.sni_callback = follow_the_files  # type: ignore[assignment]
        return context

    def _stamps(self) -> _Stamp:
        stamps = []
        for path in (self.cert_file, self.key_file, self.client_ca_file):
            if path is None:
                continue
            try:
                stat = os.stat(path)  # follows links: a Kubernetes secret's files change by a swapped link
                stamps.append((stat.st_mtime_ns, stat.st_size, stat.st_ino))
            except OSError:
                stamps.append((-1, -1, -1))
        return tuple(stamps)

    def _load(self, version: int) -> TlsSnapshot:
        cert_chain = _read("TLS_CERT_FILE", self.cert_file)
        private_key = _read("TLS_KEY_FILE", self.key_file)
        client_ca = _read("TLS_CLIENT_CA_FILE", self.client_ca_file) if self.client_ca_file is not None else None
        try:  # the chain alone first, so that a bad certificate is not blamed on the key
            ssl.create_default_context(cadata=cert_chain.decode("ascii"))
        except (ssl.SSLError, ValueError):
            raise ConfigurationError(f"invalid TLS_CERT_FILE={self.cert_file}: not a PEM certificate (chain)") from None
        return TlsSnapshot(version, cert_chain, private_key, client_ca, self._context(client_ca))

    def _context(self, client_ca: bytes | None) -> ssl.SSLContext:
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.minimum_version = MINIMUM_VERSION
        context.set_alpn_protocols(["http/1.1"])
        try:
            # From the files (the ssl module loads keys from files only); the bytes were read just before, and
            # a change in between has a new stamp, so it is read again at the next handshake.
            context.load_cert_chain(self.cert_file, self.key_file, password=_no_password)
        except _EncryptedKeyError as exc:
            raise ConfigurationError(f"invalid TLS_KEY_FILE={self.key_file}: {exc}") from None
        except (ssl.SSLError, OSError):
            raise ConfigurationError(
                f"invalid TLS_KEY_FILE={self.key_file}: not the PEM private key of TLS_CERT_FILE"
            ) from None
        if client_ca is not None:
            context.verify_mode = ssl.CERT_REQUIRED
            try:
                context.load_verify_locations(cadata=client_ca.decode("ascii"))
            except (ssl.SSLError, ValueError):
                raise ConfigurationError(
                    f"invalid TLS_CLIENT_CA_FILE={self.client_ca_file}: not PEM certificates"
                ) from None
        return context


def _read(variable: str, path: Path) -> bytes:
    try:
        return path.read_bytes()
    except OSError as exc:
        raise ConfigurationError(f"invalid {variable}={path}: {exc.strerror}") from None
