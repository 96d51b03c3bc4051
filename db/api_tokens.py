"""API tokens made and revoked through the graph, by a caller holding a token.

A token never makes a wider one: its scopes within the caller's (`*` covers
all, a write scope its read), its projects within the caller's (a restricted
caller must name a subset; projects it cannot see do not exist for it),
never past the caller's own expiry, never a superuser token.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from uuid import UUID

import asyncpg

from db.binder import Binder
from db.entities import API_TOKEN
from db.errors import BadInput, Forbidden, NotFound
from db.identifiers import ident, qualified
from db.pool import Queryable
from db.queries import QUERIES
from db.session import Session
from db.tokens import IssuedToken, checked_scopes, issue_token
from db.viewer import Viewer, require_scope
from db.visibility import visible

SCOPE = f"{API_TOKEN.scope}:write"
MAX_PROJECTS = 100


def _covered(viewer: Viewer, scope: str) -> bool:
    """Whether the caller's token grants `scope` itself (a write scope its read)."""
    if viewer.has_scope(scope):
        return True
    entity, _, access = scope.partition(":")
    return access == "read" and viewer.has_scope(f"{entity}:write")


def _check_name(name: str) -> str:
    name = name.strip()
    if not 1 <= len(name) <= 200:
        raise BadInput("name has 1 to 200 characters", field="name")
    if not name.isprintable():
        raise BadInput("name holds a control character", field="name")
    return name


def _check_expiry(viewer: Viewer, expires_at: datetime | None) -> None:
    if expires_at is not None and expires_at.utcoffset() is None:
        # a time without a zone would be read in the server's zone: ambiguous
        raise BadInput("expiresAt must have a time zone (e.g. Z or +02:00)", field="expiresAt")
    if expires_at is not None and expires_at <= datetime.now(UTC):
        raise BadInput("expiresAt must be in the future", field="expiresAt")
    if viewer.expires_at is not None and (expires_at is None or expires_at > viewer.expires_at):
        raise Forbidden(
            "this token expires at "
            f"{viewer.expires_at.astimezone(UTC).isoformat(timespec='seconds')}: "
            "a token it makes must expire by then (expiresAt)"
        )


def _check_projects(viewer: Viewer, project_ids: Sequence[UUID] | None) -> list[UUID] | None:
    """The projects, distinct, in the order given (whether the caller sees each is
    checked as the token is stored); None (every project) only for a caller that
    is not restricted itself."""
    if project_ids is None:
        if viewer.projects is not None:
            raise Forbidden(
                "this token is restricted to projects: a token it makes must be restricted "
                "to some of them (projectIds)"
            )
        return None
    wanted = list(dict.fromkeys(project_ids))
    if not wanted:
        raise BadInput(
            "projectIds holds at least one project (leave it out for every project)",
            field="projectIds",
        )
    if len(wanted) > MAX_PROJECTS:
        raise BadInput(f"projectIds holds at most {MAX_PROJECTS} projects", field="projectIds")
    return wanted


async def create_api_token(
    session: Session,
    viewer: Viewer,
    *,
    name: str,
    scopes: list[str],
    project_ids: Sequence[UUID] | None,
    expires_at: datetime | None,
) -> IssuedToken:
    """A new token of the caller's user, no wider than the caller's token."""
    require_scope(viewer, SCOPE)
    name = _check_name(name)
    scopes = checked_scopes(scopes)
    wider = [scope for scope in scopes if not _covered(viewer, scope)]
    if wider:
        raise Forbidden(f"this token lacks the scope {wider[0]}: it cannot grant it")
    _check_expiry(viewer, expires_at)
    # visibility decides, the caller's restriction included, in the insert's own
    # statement: what it cannot see is not found, as what does not exist
    return await issue_token(
        session,
        viewer.user_id,
        name=name,
        scopes=scopes,
        expires_at=expires_at,
        project_ids=_check_projects(viewer, project_ids),
        seen_by=viewer,
    )


async def revoke_api_token(session: Session, viewer: Viewer, token_id: UUID) -> asyncpg.Record:
    """Revoke one of the caller's own tokens (another user's is not found); revoking
    twice changes nothing. One statement: the UPDATE finds (and locks) only a token
    the caller sees. Every process's token cache hears of it as it commits
    (migration 0003_token_notify)."""
    require_scope(viewer, SCOPE)
    bind = Binder()
    wanted = bind(token_id)
    row = await session.fetchrow(
        f"UPDATE {ident(API_TOKEN.table)} t SET revoked_at = coalesce(t.revoked_at, now()) "
        f"WHERE {qualified('t', 'id')} = {wanted} AND {visible(API_TOKEN, 't', viewer, bind)} "
        "RETURNING t.*",
        *bind.values,
    )
    if row is None:
        raise NotFound(f"{API_TOKEN.name} not found", field="id")
    record: asyncpg.Record = row
    return record


async def api_token_counts(conn: Queryable, project_ids: Sequence[UUID]) -> list[int]:
    """How many live tokens (not revoked, not expired), whoever's, are restricted to
    each project, in the order asked."""
    rows = await conn.fetch(QUERIES["api_token_counts"], list(project_ids))
    counts = {row["project_id"]: row["tokens"] for row in rows}
    return [counts.get(project_id, 0) for project_id in project_ids]
