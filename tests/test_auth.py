"""Tokens and roles (camera_grpc.auth): digests at rest, constant-time lookup, live reload, per-peer limits."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from camera_grpc.auth import FailureLimiter, Role, TokenStore, new_token, parse_tokens, token_digest, token_line


def test_a_token_file_holds_digests_and_finds_each_holder(tmp_path: Path) -> None:
    viewer, operator = new_token(), new_token()
    path = tmp_path / "tokens"
    path.write_text(
        "# who role digest\n" + token_line("ui", Role.VIEWER, viewer) + token_line("nest", Role.OPERATOR, operator)
    )
    assert viewer not in path.read_text() and operator not in path.read_text()  # never plain text at rest
    store = TokenStore(path)
    assert store.authenticate(viewer).role is Role.VIEWER  # type: ignore[union-attr]
    assert store.authenticate(operator).name == "nest"  # type: ignore[union-attr]
    assert store.authenticate(viewer + "x") is None
    assert store.authenticate("") is None


def test_the_store_follows_the_file(tmp_path: Path) -> None:
    token = new_token()
    path = tmp_path / "tokens"
    path.write_text(token_line("a", Role.ADMIN, token))
    store = TokenStore(path)
    assert store.authenticate(token) is not None
    path.write_text("")  # revoked
    os.utime(path, ns=(1, 1))
    assert store.authenticate(token) is None


@pytest.mark.parametrize(
    "line",
    [
        "only two",
        "a viewer md5:abc",
        "a viewer sha256:xyz",
        "a boss " + token_digest("t"),
        "a viewer sha256:" + "0" * 10,
    ],
)
def test_malformed_lines_name_the_line(line: str) -> None:
    with pytest.raises(ValueError, match=r"tokens file:2"):
        parse_tokens("# header\n" + line)


def test_roles_are_ordered() -> None:
    assert Role.VIEWER < Role.OPERATOR < Role.ADMIN
    assert Role.named(" Operator ") is Role.OPERATOR


def test_the_failure_limiter_blocks_a_peer_for_its_window_only_and_stays_bounded() -> None:
    limiter = FailureLimiter(max_failures=3, window_s=60, max_peers=2)
    for second in range(3):
        assert not limiter.blocked("a", now=second)
        limiter.record_failure("a", now=second)
    assert limiter.blocked("a", now=10)
    assert not limiter.blocked("b", now=10)  # another peer is not affected
    assert not limiter.blocked("a", now=100)  # the window passed
    limiter.record_failure("b", now=101)
    limiter.record_failure("c", now=102)
    limiter.record_failure("d", now=103)  # over max_peers: the oldest is forgotten
    assert len(limiter._failures) == 2
