"""Who is asking: built from a bearer token, used by every read and write."""

from __future__ import annotations

from dataclasses import dataclass
from uuid import UUID

ENTITIES = ("organization", "project", "model", "environment", "segment")
ALL_SCOPES = "*"
KNOWN_SCOPES = frozenset(
    [ALL_SCOPES] + [f"{entity}:{access}" for entity in ENTITIES for access in ("read", "write")]
)


@dataclass(frozen=True, slots=True)
class Viewer:
    """The caller behind a valid token."""

    user_id: UUID
    email: str
    name: str
    token_id: UUID
    scopes: frozenset[str]
    superuser: bool

    def has_scope(self, scope: str) -> bool:
        """True when the token grants `scope` (or everything)."""
        return ALL_SCOPES in self.scopes or scope in self.scopes
