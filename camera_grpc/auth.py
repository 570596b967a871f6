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
import logging
import secrets
import threading
import time
from dataclasses import dataclass
from pathlib import Path

from camera_grpc.config import ConfigurationError, Settings

log = logging.getLogger(__name__)

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
    """The tokens of a tokens file, re-read when the file changes (tokens can be added and revoked live).

    A file that cannot be read or parsed raises at creation (start-up stops). Later, while it is missing or
    malformed, no token is valid (logged once per change of the file), until it is fixed.
    """

    def __init__(self, path: Path) -> None:
        self.path = path
        self._lock = threading.Lock()
        self._stamp: tuple[int, int, int] | None = None
        self._entries: tuple[tuple[bytes, TokenHolder], ...] = ()
        self._entries = parse_tokens(path.read_text(), str(path))  # OSError, ValueError: a configuration error
        stat = path.stat()
        self._stamp = (stat.st_mtime_ns, stat.st_size, stat.st_ino)

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
        try:
            stat = self.path.stat()
            stamp = (stat.st_mtime_ns, stat.st_size, stat.st_ino)
        except OSError:
            stamp = (-1, -1, -1)
        with self._lock:
            if stamp == self._stamp:
                return
            self._stamp = stamp
            try:
                self._entries = parse_tokens(self.path.read_text(), str(self.path))
            except (OSError, ValueError) as exc:  # OSError names the file; ValueError names the line, never a digest
                self._entries = ()
                log.error("tokens file unusable, no token is accepted until it is fixed: %s", exc)
            else:
                log.info("tokens file %s re-read: %d tokens", self.path, len(self._entries))


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

    @property
    def max_failures(self) -> int:
        return self._max_failures

    @property
    def window_s(self) -> float:
        return self._window_s

    def record_failure(self, peer: str, now: float | None = None) -> bool:
        """Count one failed attempt of ``peer``; True when this one used up its failures (it is blocked now)."""
        now = time.monotonic() if now is None else now
        with self._lock:
            times = self._failures.pop(peer, None) or collections.deque(maxlen=self._max_failures)
            while times and now - times[0] > self._window_s:
                times.popleft()
            times.append(now)
            self._failures[peer] = times  # most recent last
            while len(self._failures) > self._max_peers:
                self._failures.popitem(last=False)
            return len(times) >= self._max_failures


#: The scheme of an ``Authorization`` value carrying a token.
BEARER = "Bearer"


def bearer_token(authorization: str | None) -> str | None:
    """The token of an ``Authorization: Bearer <token>`` value (scheme in any case); None if missing or malformed."""
    if not authorization:
        return None
    scheme, _, token = authorization.strip().partition(" ")
    token = token.strip()
    if scheme.lower() != BEARER.lower() or not token or any(character.isspace() for character in token):
        return None
    return token


class Authenticator:
    """Who presents an ``Authorization`` value, for both front ends: the gRPC interceptor and the gateway.

    A peer (a client's IP address) that failed ``max_failures`` times within the window is refused without
    a check until the window passes; that is logged once when it happens, not at every attempt. A peer of
    None (a Unix socket: the service's own gateway) is not counted.
    """

    def __init__(self, tokens: TokenStore, limiter: FailureLimiter) -> None:
        self.tokens = tokens
        self.limiter = limiter

    @classmethod
    def from_settings(cls, settings: Settings) -> Authenticator | None:
        """The tokens of ``TOKENS_FILE`` with the ``AUTH_*`` limits; None without a tokens file.
        :class:`ConfigurationError` (one line naming the variable) if the file cannot be read or parsed."""
        if settings.tokens_file is None:
            return None
        try:
            tokens = TokenStore(settings.tokens_file)
        except OSError as exc:
            raise ConfigurationError(f"invalid TOKENS_FILE={settings.tokens_file}: {exc.strerror}") from None
        except ValueError as exc:  # "<path>:<line>: what is wrong"
            where = str(exc).removeprefix(f"{settings.tokens_file}:")
            raise ConfigurationError(f"invalid TOKENS_FILE={settings.tokens_file}: line {where}") from None
        return cls(tokens, FailureLimiter(settings.auth_max_failures, settings.auth_failure_window_s))

    def authenticate(self, authorization: str | None, peer: str | None) -> TokenHolder | None:
        """The holder of the token in ``authorization``, or None (missing, malformed, unknown, or a limited peer)."""
        if peer is not None and self.limiter.blocked(peer):
            return None
        token = bearer_token(authorization)
        holder = self.tokens.authenticate(token) if token is not None else None
        if holder is None and peer is not None and self.limiter.record_failure(peer):
            log.warning(
                "client %s: %d failed token checks within %g s; refused without a check until they are older "
                "(AUTH_MAX_FAILURES, AUTH_FAILURE_WINDOW_S)",
                peer,
                self.limiter.max_failures,
                self.limiter.window_s,
            )
        return holder
