"""Who is asking: built from a bearer token, used by every read and write."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from uuid import UUID

from db.errors import Forbidden

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
    # when the token stops being valid (None: never), for caches of it
    expires_at: datetime | None = None

    def has_scope(self, scope: str) -> bool:
        """True when the token grants `scope` (or everything)."""
        return ALL_SCOPES in self.scopes or scope in self.scopes


def require_scope(viewer: Viewer, scope: str) -> None:
    """FORBIDDEN, naming the scope, unless the token grants it."""
    if not viewer.has_scope(scope):
        raise Forbidden(f"this token lacks the scope {scope}")


def require_read(viewer: Viewer, entity: str) -> None:
    """FORBIDDEN unless the token may read `entity` (its write scope includes reading)."""
    if not viewer.has_scope(f"{entity}:write"):
        require_scope(viewer, f"{entity}:read")
