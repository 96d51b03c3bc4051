"""Who is asking: built from a bearer token, used by every read and write."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from uuid import UUID

from db.entities import ENTITIES
from db.errors import Forbidden

ALL_SCOPES = "*"
# every entity's scopes, as the registry names them
KNOWN_SCOPES = frozenset(
    [ALL_SCOPES]
    + [f"{e.scope}:{access}" for e in ENTITIES.values() for access in ("read", "write")]
)


@dataclass(frozen=True, slots=True)
class Viewer:
    """The caller behind a valid token."""

    user_id: UUID
    email: str
    name: str
    scopes: frozenset[str]
    superuser: bool
    # when the token stops being valid (None: never), for caches of it
    expires_at: datetime | None = None
    # the projects the token is restricted to (None: every project the user sees);
    # db/visibility.py narrows every read and write to them. Part of the value, so
    # that whatever is cached by viewer (compiled statements) tells the two apart.
    projects: frozenset[UUID] | None = None

    def has_scope(self, scope: str) -> bool:
        """True when the token grants `scope` (or everything)."""
        return ALL_SCOPES in self.scopes or scope in self.scopes


def require_scope(viewer: Viewer, scope: str) -> None:
    """FORBIDDEN, naming the scope, unless the token grants it."""
    if not viewer.has_scope(scope):
        raise Forbidden(f"this token lacks the scope {scope}")


def require_unrestricted(viewer: Viewer, what: str) -> None:
    """FORBIDDEN for a token restricted to projects: `what` reaches beyond any project
    (a new project, an organization's members)."""
    if viewer.projects is not None:
        raise Forbidden(f"this token is restricted to projects: it cannot {what}")


def require_read(viewer: Viewer, scope: str) -> None:
    """FORBIDDEN unless the token may read what `scope` names (its write scope includes
    reading)."""
    if not viewer.has_scope(f"{scope}:write"):
        require_scope(viewer, f"{scope}:read")
