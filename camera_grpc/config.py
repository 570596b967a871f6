"""Service configuration from the environment and ``.env`` (pydantic-settings).

Names are the legacy service's (``HOST``, ``PORT``, ``DEFAULT_EXPOSURE``, ...)
plus the gRPC ones. Nothing is read at import time: call :func:`load_settings`.
"""

from __future__ import annotations

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
    rest_timeout_s: float = Field(
        30.0, gt=0, le=3600, description="Deadline the REST gateway gives each gRPC call (a capture included), seconds"
    )
    allowed_hosts: Annotated[list[str], NoDecode] = Field(
        default_factory=lambda: ["localhost"],
        description="Comma-separated host names the REST gateway answers to besides IP addresses and HOST ('*': any)",
    )
    rest_max_connections: int = Field(
        256, ge=1, le=65535, description="Most HTTP connections the REST gateway holds open; more are closed at once"
    )
    rest_read_timeout_s: float = Field(
        10.0,
        gt=0,
        le=3600,
        description="Seconds a client has to send a whole request (headers and body) to the REST gateway",
    )
    rest_keepalive_timeout_s: float = Field(
        5.0, gt=0, le=3600, description="Seconds the REST gateway keeps an idle connection open between requests"
    )
    rest_max_body_bytes: int = Field(
        64 * 1024, ge=1024, le=64 * MIB, description="Largest request body the REST gateway accepts, bytes (else 413)"
    )
    rest_max_streams: int = Field(16, ge=1, le=4096, description="Most /stream.mjpg live views open at once (else 503)")
    rest_max_streams_per_client: int = Field(
        4, ge=1, le=4096, description="Most /stream.mjpg live views one client address may open at once (else 429)"
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
    grpc_max_connections: int = Field(
        128,
        ge=1,
        le=65535,
        description="Most gRPC connections open at once (also kept within the open-files limit); more are closed",
    )
    grpc_handshake_timeout_s: float = Field(
        10.0, gt=0, le=3600, description="Seconds a new gRPC connection has to complete its HTTP/2 handshake"
    )
    grpc_idle_timeout_s: float = Field(
        60.0, gt=0, le=86400, description="Seconds a gRPC connection without calls stays open (clients reconnect)"
    )
    grpc_max_streams: int = Field(
        256, ge=1, le=65535, description="Most long-lived gRPC streams (Frames, health Watch, reflection) at once"
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

    # Simulated camera
    simulated_width: int = Field(2448, ge=16, le=16384, description="Simulated sensor width, pixels")
    simulated_height: int = Field(2048, ge=16, le=16384, description="Simulated sensor height, pixels")
    simulated_pixel_format: Literal["mono8", "mono16"] = Field("mono8", description="Simulated pixel format")
    simulated_frame_rate: float = Field(30.0, gt=0, le=1000, description="Simulated camera's top frame rate, fps")

    # Live frames
    frames_queue_depth: int = Field(8, ge=1, le=1024, description="Default queue depth of QUEUE subscribers, frames")
    frames_linger_s: float = Field(
        2.0, ge=0, le=60, description="Seconds acquisition keeps running after the last subscriber leaves"
    )
    max_subscribers: int = Field(64, ge=1, le=4096, description="Most Frames streams open at once")
    max_streams_per_peer: int = Field(
        0, ge=0, le=4096, description="Most Frames streams one connection may hold; 0: half of MAX_SUBSCRIBERS"
    )
    frames_subscriber_budget_bytes: int = Field(
        64 * MIB, ge=1, le=2**40, description="Most frame bytes one Frames subscriber's queue holds (more: dropped)"
    )
    frames_budget_bytes: int = Field(
        256 * MIB, ge=1, le=2**40, description="Most frame bytes all Frames subscribers' queues hold together"
    )

    @field_validator("camera_serial_number", mode="before")
    @classmethod
    def _empty_serial_is_none(cls, value: object) -> object:
        if isinstance(value, str) and not value.strip():
            return None
        return value

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
        return Settings(_env_file=env_file, **overrides)  # type: ignore[call-arg]
    except ValidationError as exc:
        lines = []
        for error in exc.errors():
            variable = str(error["loc"][0]).upper() if error["loc"] else "configuration"
            message = error["msg"].removeprefix("Value error, ")
            got = error.get("input")
            lines.append(f"invalid {variable}={got!s}: {message}")
        raise ConfigurationError("\n".join(lines)) from None
