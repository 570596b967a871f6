"""Service configuration from the environment and ``.env`` (pydantic-settings).

Names are the legacy service's (``HOST``, ``PORT``, ``DEFAULT_EXPOSURE``, ...)
plus the gRPC ones. Nothing is read at import time: call :func:`load_settings`.
"""

from __future__ import annotations

import ipaddress
import math
from pathlib import Path
from typing import Annotated, Literal

from pydantic import Field, ValidationError, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from camera_grpc.formats import (
    DEFAULT_JPEG_QUALITY,
    IMAGE_FORMATS,
    JPEG_QUALITY_MAX,
    JPEG_QUALITY_MIN,
    image_format_named,
)

MIB = 1024 * 1024

Port = Annotated[int, Field(ge=0, le=65535)]
#: A time limit of a connection or call, seconds (up to an hour).
TimeoutS = Annotated[float, Field(gt=0, le=3600)]
#: A number of connections (at least one).
Count = Annotated[int, Field(ge=1, le=65535)]
#: A number of live-frame streams (at least one).
StreamCount = Annotated[int, Field(ge=1, le=4096)]


class Settings(BaseSettings):
    """All settings; each field is one environment variable of the same name (upper case)."""

    model_config = SettingsConfigDict(
        env_file=".env",
        env_file_encoding="utf-8",
        extra="ignore",
        case_sensitive=False,
    )

    # REST gateway (legacy names)
    host: str = Field("127.0.0.1", description="REST gateway listen address (0.0.0.0: all interfaces)")
    port: Port = Field(8001, description="REST gateway port (0: any free port)")
    debug: bool = Field(False, description="Verbose (DEBUG) logging")
    allowed_origins: Annotated[list[str], NoDecode] = Field(
        default_factory=lambda: ["http://localhost:3000", "http://localhost:5173"],
        description="Comma-separated origins allowed by CORS on the REST gateway",
    )
    rest_enabled: bool = Field(True, description="Serve the REST gateway next to gRPC")
    rest_timeout_s: TimeoutS = Field(
        30.0, description="Deadline the REST gateway gives each gRPC call (a capture included), seconds"
    )
    allowed_hosts: Annotated[list[str], NoDecode] = Field(
        default_factory=lambda: ["localhost"],
        description="Comma-separated host names the REST gateway answers to besides IP addresses and HOST ('*': any)",
    )
    rest_max_connections: Count = Field(
        256, description="Most HTTP connections the REST gateway holds open; more are closed at once"
    )
    rest_read_timeout_s: TimeoutS = Field(
        10.0,
        description="Seconds a client has to send a whole request (headers and body) to the REST gateway",
    )
    rest_keepalive_timeout_s: TimeoutS = Field(
        5.0, description="Seconds the REST gateway keeps an idle connection open between requests"
    )
    rest_max_body_bytes: int = Field(
        64 * 1024, ge=1024, le=64 * MIB, description="Largest request body the REST gateway accepts, bytes (else 413)"
    )
    rest_max_streams: StreamCount = Field(16, description="Most /stream.mjpg live views open at once (else 503)")
    rest_max_streams_per_client: StreamCount = Field(
        4, description="Most /stream.mjpg live views one client address may open at once (else 429)"
    )

    # gRPC
    grpc_host: str = Field("127.0.0.1", description="gRPC listen address (0.0.0.0: all interfaces)")
    grpc_port: Port = Field(50051, description="gRPC port (0: any free port)")
    grpc_max_message_bytes: int = Field(
        64 * MIB,
        ge=4 * MIB,
        le=2**31 - 1,
        description="Largest gRPC message sent or received, bytes (a raw 12 MP 16-bit frame is 24 MiB)",
    )
    shutdown_grace_s: float = Field(5.0, ge=0, le=300, description="Seconds in-flight calls get to finish at shutdown")
    grpc_max_connections: Count = Field(
        128,
        description="Most gRPC connections open at once (also kept within the open-files limit); more are closed",
    )
    grpc_handshake_timeout_s: TimeoutS = Field(
        10.0, description="Seconds a new gRPC connection has to complete its HTTP/2 handshake"
    )
    grpc_idle_timeout_s: float = Field(
        60.0, gt=0, le=86400, description="Seconds a gRPC connection without calls stays open (clients reconnect)"
    )
    grpc_max_streams: Count = Field(
        256, description="Most long-lived gRPC streams (Frames, health Watch, reflection) at once"
    )

    # Security (TLS and tokens; see the README's "Security" section)
    tls_cert_file: Path | None = Field(
        None, description="Server certificate chain (PEM); with TLS_KEY_FILE, gRPC and REST serve TLS only"
    )
    tls_key_file: Path | None = Field(None, description="Private key of TLS_CERT_FILE (PEM, unencrypted)")
    tls_client_ca_file: Path | None = Field(
        None, description="CA certificates (PEM) of client certificates: set, both ports require one (mutual TLS)"
    )
    tokens_file: Path | None = Field(
        None, description="File of token digests and roles (camera-grpc token add); set, every call needs a token"
    )
    auth_max_failures: int = Field(
        10, ge=1, le=1_000_000, description="Failed token checks one client address may make per AUTH_FAILURE_WINDOW_S"
    )
    auth_failure_window_s: float = Field(
        60.0, gt=0, le=86400, description="Window of AUTH_MAX_FAILURES, seconds; a client over it is refused unchecked"
    )
    allow_insecure_network: bool = Field(
        False, description="Serve beyond loopback without TLS and tokens (else start-up stops)"
    )

    # Camera
    camera_backend: Literal["auto", "pixelink", "simulated"] = Field(
        "auto", description="auto: PixeLINK when the SDK loads, else simulated"
    )
    camera_serial_number: int | None = Field(None, description="Serial of the camera to open; empty: the first one")
    default_exposure: float = Field(100.0, description="Exposure applied at start-up, milliseconds")
    default_gain: float = Field(0.0, description="Gain applied at start-up, decibels")
    reconnect_initial_delay_s: float = Field(0.2, gt=0, le=60, description="First reconnect delay after a disconnect")
    reconnect_max_delay_s: float = Field(5.0, gt=0, le=600, description="Longest delay between reconnect attempts")

    # Captures
    image_save_path: Path = Field(Path("./captures"), description="Folder where captures are saved")
    image_format: str = Field("jpg", description="Default capture format: jpg, png, tiff or bmp")
    image_quality: int = Field(
        DEFAULT_JPEG_QUALITY, ge=JPEG_QUALITY_MIN, le=JPEG_QUALITY_MAX, description="JPEG quality, 1-100"
    )

    # Settings the service keeps
    state_path: Path = Field(
        Path("./state"),
        description="Folder where the service keeps the settings clients asked for and the presets (re-applied "
        "at start-up and after every reconnect)",
    )

    # Recordings
    recordings_path: Path = Field(
        Path("./recordings"), description="Folder where recordings (their files and metadata) are written"
    )

    disk_space_low_bytes: int = Field(
        1024 * MIB,
        ge=0,
        le=2**50,
        description="Free bytes below which the disk of captures, recordings or the spool is reported nearly full "
        "(a DISK_SPACE_LOW event; 0: never)",
    )

    # Object storage (see the README's "Object storage" section)
    storage_backend: Literal["local", "s3"] = Field(
        "local", description="local: files stay in the local folders; s3: uploaded to an S3-compatible bucket"
    )
    s3_endpoint_url: str | None = Field(
        None, description="S3 endpoint URL, e.g. https://minio.lab:9000 (empty: AWS S3 of S3_REGION)"
    )
    s3_bucket: str | None = Field(None, description="Bucket captures and recordings are uploaded to")
    s3_prefix: str = Field(
        "camera-grpc", description="Key prefix; each camera's objects go under PREFIX/<serial number>/"
    )
    s3_region: str = Field("us-east-1", description="Region of the bucket")
    s3_credentials_file: Path | None = Field(
        None,
        description="AWS shared credentials file (profile default); empty: the standard environment "
        "(AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, AWS_PROFILE, ...)",
    )
    s3_ca_file: Path | None = Field(None, description="CA certificates (PEM) to verify the endpoint's TLS with")
    spool_path: Path = Field(
        Path("./spool"), description="Folder where files wait for their upload (STORAGE_BACKEND=s3)"
    )
    spool_budget_bytes: int = Field(
        10 * 1024 * MIB,
        ge=MIB,
        le=2**50,
        description="Most bytes the spool may hold while the store is unreachable; past it, captures are refused",
    )
    s3_download_redirect: bool = Field(
        True,
        description="REST downloads of uploaded files redirect to a pre-signed URL (false: the service streams "
        "them, for clients that cannot reach the store)",
    )

    # Simulated camera
    simulated_width: int = Field(2448, ge=16, le=16384, description="Simulated sensor width, pixels")
    simulated_height: int = Field(2048, ge=16, le=16384, description="Simulated sensor height, pixels")
    simulated_pixel_format: Literal["mono8", "mono16"] = Field(
        "mono8", description="Simulated pixel format at power-up (mono sensor)"
    )
    simulated_color: bool = Field(
        False, description="Simulate a colour camera: a Bayer mosaic (bayer8 at power-up), white balance, saturation"
    )
    simulated_frame_rate: float = Field(30.0, gt=0, le=1000, description="Simulated camera's top frame rate, fps")

    # Live frames
    frames_queue_depth: int = Field(8, ge=1, le=1024, description="Default queue depth of QUEUE subscribers, frames")
    frames_linger_s: float = Field(
        2.0, ge=0, le=60, description="Seconds acquisition keeps running after the last subscriber leaves"
    )
    max_subscribers: StreamCount = Field(64, description="Most Frames streams open at once")
    max_streams_per_peer: int = Field(
        0, ge=0, le=4096, description="Most Frames streams one connection may hold; 0: half of MAX_SUBSCRIBERS"
    )
    frames_subscriber_budget_bytes: int = Field(
        64 * MIB, ge=1, le=2**40, description="Most frame bytes one Frames subscriber's queue holds (more: dropped)"
    )
    frames_budget_bytes: int = Field(
        256 * MIB, ge=1, le=2**40, description="Most frame bytes all Frames subscribers' queues hold together"
    )

    # Metrics and logs
    metrics_enabled: bool = Field(True, description="Serve Prometheus metrics at /metrics on the REST port")
    log_format: Literal["text", "json"] = Field(
        "text", description="Log lines: text, or json (one JSON object per line, with request ids)"
    )

    @field_validator("camera_serial_number", mode="before")
    @classmethod
    def _empty_serial_is_none(cls, value: object) -> object:
        if isinstance(value, str) and not value.strip():
            return None
        return value

    @field_validator(
        "tls_cert_file",
        "tls_key_file",
        "tls_client_ca_file",
        "tokens_file",
        "s3_credentials_file",
        "s3_ca_file",
        "s3_endpoint_url",
        "s3_bucket",
        mode="before",
    )
    @classmethod
    def _empty_path_is_none(cls, value: object) -> object:
        if isinstance(value, str) and not value.strip():
            return None
        return value

    @property
    def tls_enabled(self) -> bool:
        """Whether both ports serve TLS (TLS_CERT_FILE and TLS_KEY_FILE set)."""
        return self.tls_cert_file is not None and self.tls_key_file is not None

    @field_validator("allowed_origins", mode="before")
    @classmethod
    def _split_origins(cls, value: object) -> object:
        if isinstance(value, str):
            return [origin.strip() for origin in value.split(",") if origin.strip()]
        return value

    @field_validator("allowed_hosts", mode="before")
    @classmethod
    def _split_hosts(cls, value: object) -> object:
        if isinstance(value, str):
            return [host.strip() for host in value.split(",") if host.strip()]
        return value

    @field_validator("allowed_hosts")
    @classmethod
    def _host_names_only(cls, value: list[str]) -> list[str]:
        names = []
        for host in value:
            name = host.strip().lower().rstrip(".")
            if not name or any(char in name for char in "/@ \t") or name.count(":") == 1:
                raise ValueError(
                    f"{host!r} is not a host name: give names only, e.g. camera.local (no scheme, no port)"
                )
            names.append(name)
        return names

    @field_validator("image_format")
    @classmethod
    def _known_format(cls, value: str) -> str:
        try:
            return image_format_named(value).name
        except KeyError:
            raise ValueError(f"must be one of {', '.join(fmt.extension for fmt in IMAGE_FORMATS.values())}") from None

    @field_validator("default_exposure")
    @classmethod
    def _positive_finite_exposure(cls, value: float) -> float:
        if not math.isfinite(value) or value <= 0:
            raise ValueError("must be a positive number of milliseconds")
        return value

    @field_validator("default_gain")
    @classmethod
    def _finite_gain(cls, value: float) -> float:
        if not math.isfinite(value):
            raise ValueError("must be a finite number of decibels")
        return value


class ConfigurationError(Exception):
    """Settings could not be loaded; ``str()`` is one line per bad variable."""


def load_settings(env_file: str | Path | None = ".env", **overrides: object) -> Settings:
    """Read settings from the environment and ``env_file``; overrides win.

    Raises :class:`ConfigurationError` with one line per bad variable, naming the
    variable and what is allowed.
    """
    try:
        settings = Settings(_env_file=env_file, **overrides)  # type: ignore[call-arg]
    except ValidationError as exc:
        lines = []
        for error in exc.errors():
            variable = str(error["loc"][0]).upper() if error["loc"] else "configuration"
            message = error["msg"].removeprefix("Value error, ")
            got = error.get("input")
            lines.append(f"invalid {variable}={got!s}: {message}")
        raise ConfigurationError("\n".join(lines)) from None
    if (settings.tls_cert_file is None) != (settings.tls_key_file is None):
        given, missing = ("TLS_CERT_FILE", "TLS_KEY_FILE")[:: 1 if settings.tls_key_file is None else -1]
        raise ConfigurationError(f"{given} is set but {missing} is not: TLS needs both")
    if settings.tls_client_ca_file is not None and not settings.tls_enabled:
        raise ConfigurationError("TLS_CLIENT_CA_FILE is set without TLS_CERT_FILE and TLS_KEY_FILE (mutual TLS is TLS)")
    if settings.storage_backend == "s3" and settings.s3_bucket is None:
        raise ConfigurationError(
            "STORAGE_BACKEND=s3 needs S3_BUCKET: the bucket captures and recordings are uploaded to"
        )
    return settings


def is_loopback(host: str) -> bool:
    """Whether a listen address is reachable from this machine only (127.0.0.0/8, ::1, localhost)."""
    name = host.strip().removeprefix("[").removesuffix("]").lower()
    if name == "localhost":
        return True
    try:
        return ipaddress.ip_address(name).is_loopback
    except ValueError:
        return False


def check_network_exposure(settings: Settings, *, grpc: bool = True, rest: bool = True) -> str | None:
    """Refuse to listen beyond loopback without TLS and tokens, unless ``ALLOW_INSECURE_NETWORK``.

    ``grpc``/``rest``: which listeners will be served (``GRPC_HOST``, ``HOST``). Raises
    :class:`ConfigurationError` with one line saying why and naming the opt-in; returns a warning to log
    when the opt-in lets an insecure listener through, else None.
    """
    exposed = [
        f"{variable}={host}"
        for variable, host, served in (("GRPC_HOST", settings.grpc_host, grpc), ("HOST", settings.host, rest))
        if served and not is_loopback(host)
    ]
    missing = []
    if not settings.tls_enabled:
        missing.append("TLS (TLS_CERT_FILE, TLS_KEY_FILE)")
    if settings.tokens_file is None:
        missing.append("tokens (TOKENS_FILE)")
    if not exposed or not missing:
        return None
    reason = f"{' and '.join(exposed)} listens beyond this machine without {' or '.join(missing)}"
    if not settings.allow_insecure_network:
        raise ConfigurationError(f"{reason}; set them, or ALLOW_INSECURE_NETWORK=true to serve anyway")
    return f"{reason}: anyone on the network can reach it (ALLOW_INSECURE_NETWORK=true)"
