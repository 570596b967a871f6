"""Certificates made at test time (``cryptography``): a CA, server and client certificates, expired ones.

Small EC keys (P-256), so a whole PKI takes milliseconds. Everything is PEM, as the service reads it::

    ca = CertificateAuthority("test CA")
    files = tls_files(tmp_path, ca)                     # ca.pem, server.pem/-key.pem, client.pem/-key.pem
    ca.issue("server", hosts=("localhost",)).write(tmp_path / "other")   # another certificate
"""

from __future__ import annotations

import datetime
import ipaddress
from dataclasses import dataclass
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

#: The names a test server's certificate is valid for.
LOCAL_HOSTS = ("127.0.0.1", "localhost", "::1")
_DAY = datetime.timedelta(days=1)


def _now() -> datetime.datetime:
    return datetime.datetime.now(datetime.UTC)


def _name(common_name: str) -> x509.Name:
    return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)])


def _key_pem(key: ec.EllipticCurvePrivateKey) -> bytes:
    return key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )


@dataclass(frozen=True)
class Issued:
    """A certificate and its private key."""

    certificate: x509.Certificate
    key: ec.EllipticCurvePrivateKey

    @property
    def cert_pem(self) -> bytes:
        return self.certificate.public_bytes(serialization.Encoding.PEM)

    @property
    def key_pem(self) -> bytes:
        return _key_pem(self.key)

    @property
    def serial(self) -> int:
        return self.certificate.serial_number

    def write(self, stem: Path) -> tuple[Path, Path]:
        """Write ``<stem>.pem`` and ``<stem>-key.pem``; returns their paths."""
        stem.parent.mkdir(parents=True, exist_ok=True)
        cert_path = stem.with_name(stem.name + ".pem")
        key_path = stem.with_name(stem.name + "-key.pem")
        cert_path.write_bytes(self.cert_pem)
        key_path.write_bytes(self.key_pem)
        return cert_path, key_path


class CertificateAuthority:
    """A self-signed CA that issues server and client certificates."""

    def __init__(self, common_name: str = "camera-grpc test CA") -> None:
        self.key = ec.generate_private_key(ec.SECP256R1())
        name = _name(common_name)
        self.certificate = (
            x509.CertificateBuilder()
            .subject_name(name)
            .issuer_name(name)
            .public_key(self.key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(_now() - _DAY)
            .not_valid_after(_now() + 30 * _DAY)
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
            .add_extension(
                x509.KeyUsage(
                    digital_signature=True,
                    content_commitment=False,
                    key_encipherment=False,
                    data_encipherment=False,
                    key_agreement=False,
                    key_cert_sign=True,
                    crl_sign=True,
                    encipher_only=False,
                    decipher_only=False,
                ),
                critical=True,
            )
            .add_extension(x509.SubjectKeyIdentifier.from_public_key(self.key.public_key()), critical=False)
            .sign(self.key, hashes.SHA256())
        )

    @property
    def cert_pem(self) -> bytes:
        return self.certificate.public_bytes(serialization.Encoding.PEM)

    def write(self, path: Path) -> Path:
        """Write the CA certificate (PEM) to ``path``."""
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(self.cert_pem)
        return path

    def issue(
        self,
        common_name: str,
        *,
        hosts: tuple[str, ...] = LOCAL_HOSTS,
        client: bool = False,
        expired: bool = False,
    ) -> Issued:
        """A certificate for a server valid for ``hosts`` (names or IP addresses), or a client (``client=True``);
        ``expired``: its validity ended yesterday."""
        key = ec.generate_private_key(ec.SECP256R1())
        not_after = _now() - _DAY if expired else _now() + 30 * _DAY
        builder = (
            x509.CertificateBuilder()
            .subject_name(_name(common_name))
            .issuer_name(self.certificate.subject)
            .public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(not_after - 60 * _DAY)
            .not_valid_after(not_after)
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
            .add_extension(
                x509.ExtendedKeyUsage([ExtendedKeyUsageOID.CLIENT_AUTH if client else ExtendedKeyUsageOID.SERVER_AUTH]),
                critical=False,
            )
            .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(self.key.public_key()), critical=False)
        )
        if not client:
            names: list[x509.GeneralName] = []
            for host in hosts:
                try:
                    names.append(x509.IPAddress(ipaddress.ip_address(host)))
                except ValueError:
                    names.append(x509.DNSName(host))
            builder = builder.add_extension(x509.SubjectAlternativeName(names), critical=False)
        return Issued(builder.sign(self.key, hashes.SHA256()), key)


@dataclass(frozen=True)
class TlsFiles:
    """A CA and the files of a server and a client certificate it issued."""

    ca: CertificateAuthority
    ca_file: Path
    server: Issued
    server_cert: Path
    server_key: Path
    client: Issued
    client_cert: Path
    client_key: Path

    def server_settings(self, *, mutual: bool = False) -> dict[str, object]:
        """Settings overrides that serve TLS with this server certificate (and, ``mutual``, require a client
        certificate from this CA)."""
        settings: dict[str, object] = {"tls_cert_file": self.server_cert, "tls_key_file": self.server_key}
        if mutual:
            settings["tls_client_ca_file"] = self.ca_file
        return settings


def tls_files(
    directory: Path, ca: CertificateAuthority | None = None, hosts: tuple[str, ...] = LOCAL_HOSTS
) -> TlsFiles:
    """A CA (new unless given) with a server certificate for ``hosts`` and a client certificate, written to
    ``directory``."""
    ca = ca or CertificateAuthority()
    server = ca.issue("camera-grpc test server", hosts=hosts)
    client = ca.issue("camera-grpc test client", client=True)
    server_cert, server_key = server.write(directory / "server")
    client_cert, client_key = client.write(directory / "client")
    return TlsFiles(
        ca, ca.write(directory / "ca.pem"), server, server_cert, server_key, client, client_cert, client_key
    )
