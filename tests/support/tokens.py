"""A tokens file with one token per role, for services started by tests."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from camera_grpc.auth import Role, new_token, token_line


@dataclass(frozen=True)
class RoleTokens:
    """A tokens file (``path``) holding one token per role."""

    path: Path
    tokens: dict[Role, str]

    def token(self, role: Role) -> str:
        return self.tokens[role]

    def header(self, role: Role) -> dict[str, str]:
        """HTTP headers carrying ``role``'s token."""
        return {"Authorization": f"Bearer {self.tokens[role]}"}

    def metadata(self, role: Role) -> tuple[tuple[str, str], ...]:
        """gRPC metadata carrying ``role``'s token."""
        return (("authorization", f"Bearer {self.tokens[role]}"),)


def role_tokens(path: Path) -> RoleTokens:
    """Write a tokens file at ``path`` with a new token for each role (named after it)."""
    tokens = {role: new_token() for role in Role}
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("".join(token_line(role.name.lower(), role, token) for role, token in tokens.items()))
    return RoleTokens(path, tokens)
