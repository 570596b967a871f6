"""Bearer tokens and roles: the one definition shared by the gRPC interceptor and the REST gateway.

A token is a random string given to one client once; the service keeps only its
SHA-256 digest, in a tokens file (``TOKENS_FILE``) with one line per token::

    # name       role      digest
    nest-backend operator  sha256:9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08

Tokens are 256 random bits, so a fast hash is the right one (there is nothing to
brute-force that a slow KDF would protect); every presented token is compared
with every digest in constant time, so timing tells a guesser nothing.
``camera-grpc token add NAME ROLE`` creates a token and appends its line.
"""

from __future__ import annotations

import collections
import enum
import hashlib
import hmac
import secrets
import threading
import time
from dataclasses import dataclass
from pathlib import Path

#: Random bytes in a new token (256 bits).
TOKEN_BYTES = 32
#: How digests are written in the tokens file.
DIGEST_PREFIX = "sha256:"


class Role(enum.IntEnum):
    """What a token may do; each role may do everything the roles below it may."""

    VIEWER = 1  #: reads: settings, camera info, live frames, MJPEG, captures and downloads
    OPERATOR = 2  #: also captures, settings changes, triggers, recordings
    ADMIN = 3  #: also presets saved to the camera and deletions

    @classmethod
    def named(cls, name: str) -> Role:
        """The role called ``name`` (``viewer``, ``operator``, ``admin``); ValueError otherwise."""
        try:
            return cls[name.strip().upper()]
        except KeyError:
            raise ValueError(f"unknown role {name!r}: one of {', '.join(r.name.lower() for r in cls)}") from None


@dataclass(frozen=True)
class TokenHolder:
    """Who presented a valid token."""

    name: str
    role: Role


def new_token() -> str:
    """A fresh token (URL-safe text)."""
    return secrets.token_urlsafe(TOKEN_BYTES)


def token_digest(token: str) -> str:
    """The digest of a token as the tokens file holds it (``sha256:<hex>``)."""
    return DIGEST_PREFIX + hashlib.sha256(token.encode()).hexdigest()


def token_line(name: str, role: Role, token: str) -> str:
    """The tokens-file line for a token."""
    if not name or any(character.isspace() for character in name):
        raise ValueError("a token's name is one word")
    return f"{name} {role.name.lower()} {token_digest(token)}\n"


class TokenStore:
    """The tokens of a tokens file, re-read when the file changes (tokens can be added and revoked live)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._lock = threading.Lock()
        self._stamp: tuple[int, int] | None = None
        self._entries: tuple[tuple[bytes, TokenHolder], ...] = ()
        self._reload_if_changed()

    def authenticate(self, token: str) -> TokenHolder | None:
        """The holder of ``token``, or None. Compares with every digest (constant time per digest)."""
        self._reload_if_changed()
        presented = hashlib.sha256(token.encode()).digest()
        found: TokenHolder | None = None
        for digest, holder in self._entries:
            if hmac.compare_digest(digest, presented):
                found = holder
        return found

    def _reload_if_changed(self) -> None:
        stat = self.path.stat()  # a missing file is a configuration error, raised at start-up
        stamp = (stat.st_mtime_ns, stat.st_size)
        with self._lock:
            if stamp != self._stamp:
                self._entries = parse_tokens(self.path.read_text(), str(self.path))
                self._stamp = stamp


def parse_tokens(text: str, source: str = "tokens file") -> tuple[tuple[bytes, TokenHolder], ...]:
    """Entries of a tokens file; ValueError naming the line for anything malformed (never echoing a digest)."""
    entries = []
    for number, line in enumerate(text.splitlines(), start=1):
        fields = line.split("#", 1)[0].split()
        if not fields:
            continue
        if len(fields) != 3 or not fields[2].startswith(DIGEST_PREFIX):
            raise ValueError(f"{source}:{number}: expected 'NAME ROLE {DIGEST_PREFIX}HEX'")
        name, role_name, digest_text = fields
        try:
            digest = bytes.fromhex(digest_text.removeprefix(DIGEST_PREFIX))
        except ValueError:
            digest = b""
        if len(digest) != hashlib.sha256().digest_size:
            raise ValueError(f"{source}:{number}: the digest is not 64 hexadecimal digits")
        try:
            role = Role.named(role_name)
        except ValueError as exc:
            raise ValueError(f"{source}:{number}: {exc}") from None
        entries.append((digest, TokenHolder(name, role)))
    return tuple(entries)


class FailureLimiter:
    """Failed authentications per peer in a sliding window; a peer over the limit is refused without a check.

    Bounded memory: at most ``max_peers`` peers are tracked (the longest quiet ones are forgotten first).
    Thread-safe (gRPC and the gateway may share one).
    """

    def __init__(self, max_failures: int, window_s: float, max_peers: int = 4096) -> None:
        self._max_failures = max_failures
        self._window_s = window_s
        self._max_peers = max_peers
        self._failures: collections.OrderedDict[str, collections.deque[float]] = collections.OrderedDict()
        self._lock = threading.Lock()

    def blocked(self, peer: str, now: float | None = None) -> bool:
        """Whether ``peer`` has used up its failures in the current window."""
        now = time.monotonic() if now is None else now
        with self._lock:
            times = self._failures.get(peer)
            if times is None:
                return False
            while times and now - times[0] > self._window_s:
                times.popleft()
            return len(times) >= self._max_failures

    def record_failure(self, peer: str, now: float | None = None) -> None:
        """Count one failed attempt of ``peer``."""
        now = time.monotonic() if now is None else now
        with self._lock:
            times = self._failures.pop(peer, None) or collections.deque(maxlen=self._max_failures)
            times.append(now)
            self._failures[peer] = times  # most recent last
            while len(self._failures) > self._max_peers:
                self._failures.popitem(last=False)
