"""Writes of exports: create (a job, QUEUED for the `serve` processes, or
claimed at once by the command line that runs it) and cancel; and the read
of a visible export's file for the download route.

An export is a read of events: creating one needs the scope `export:write`,
the events' read scope and an environment the caller sees (no writer's role).
Cancelling needs `export:write` and is the creator's, or a writer's of the
project. The events it writes are fixed at creation as a list filter
(window included), stored as JSON (db/filter_codec.py) and applied again by
whichever process runs the job.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from uuid import UUID

import asyncpg
import orjson

from db.binder import Binder
from db.entities import ENVIRONMENT, EVENT, EXPORT, ExportFormat
from db.errors import BadInput, Conflict, NotFound
from db.filter_codec import dump_filter
from db.filters import Filter
from db.identifiers import ident, qualified
from db.lists import ListRequest, predicate
from db.pool import Queryable
from db.queries import QUERIES
from db.viewer import Viewer, require_read, require_scope
from db.visibility import visible
from db.writes import Guard, Write, entity_update, insertion_under, sql_value

SCOPE = "export:write"
READ_SCOPE = "export:read"
DEFAULT_EXPIRY = timedelta(days=7)
# an expiry further out than this is a mistake (files would pile up)
MAX_EXPIRY = timedelta(days=366)


@dataclass(frozen=True, slots=True)
class ExportRequest:
    """What to export: the environment's events that `filter` keeps (None: all),
    as `format`, kept until `expires_at` (None: DEFAULT_EXPIRY from now)."""

    environment_id: UUID
    format: ExportFormat
    filter: Filter | None = None
    expires_at: datetime | None = None


def _checked(request: ExportRequest, viewer: Viewer, now: datetime) -> str | None:
    """The filter as stored (JSON text), after checking it as a list of events
    would: bad values are BAD_USER_INPUT now, not a failed job later."""
    if request.expires_at is not None:
        if request.expires_at <= now:
            raise BadInput("expiresAt must be in the future", field="expiresAt")
        if request.expires_at > now + MAX_EXPIRY:
            raise BadInput(
                f"expiresAt is at most {MAX_EXPIRY.days} days from now", field="expiresAt"
            )
    if request.filter is None:
        return None
    predicate(ListRequest(EVENT, filter=request.filter), viewer, Binder())
    return orjson.dumps(dump_filter(request.filter)).decode()


def export_creation(viewer: Viewer, request: ExportRequest, *, now: datetime) -> Write:
    """A new export job of a visible environment (NOT_FOUND otherwise), QUEUED: one
    statement, the environment locked FOR SHARE (it must not go away under it)."""
    require_scope(viewer, SCOPE)
    require_read(viewer, EVENT.scope)  # it writes events out: a way of reading them
    stored_filter = _checked(request, viewer, now)

    def insert(bind: Binder) -> str:
        expires = (
            f"COALESCE({bind(request.expires_at)}::timestamptz, "
            f"now() + {bind(DEFAULT_EXPIRY.total_seconds())}::float8 * interval '1 second')"
        )
        return (
            "INSERT INTO exports (environment_id, project_id, format, filter, created_by, "
            f"expires_at) SELECT p.id, p.project_id, {bind(request.format.value)}::text::"
            f"export_format, {bind(stored_filter)}::jsonb, {bind(viewer.user_id)}, {expires} "
            "FROM _parent p RETURNING *"
        )

    return insertion_under(
        viewer,
        EXPORT,
        ENVIRONMENT,
        request.environment_id,
        field="environmentId",
        insert=insert,
        writer=False,
    )


async def create_claimed_export(
    conn: Queryable,
    request: ExportRequest,
    *,
    holder: str,
    lease_s: float,
    now: datetime,
) -> asyncpg.Record:
    """As the operator (the command line, no token): a new export, RUNNING and held
    by `holder`, who runs it. It is attributed to the longest-standing ADMIN of
    the environment's organization (an export has a creator)."""
    operator = Viewer(UUID(int=0), "", "operator", frozenset({"*"}), superuser=True)
    stored_filter = _checked(request, operator, now)
    found = await conn.fetchrow(QUERIES["operator_of_environment"], request.environment_id)
    if found is None:
        raise NotFound("environment not found", field="environmentId")
    if found["user_id"] is None:
        raise Conflict(
            "the environment's organization has no ADMIN to attribute the export to",
            field="environmentId",
        )
    row = await conn.fetchrow(
        QUERIES["create_claimed_export"],
        request.environment_id,
        found["project_id"],
        request.format.value,
        stored_filter,
        found["user_id"],
        request.expires_at,
        DEFAULT_EXPIRY.total_seconds(),
        holder,
        lease_s,
    )
    assert row is not None
    return row  # type: ignore[no-any-return]


def export_cancellation(viewer: Viewer, export_id: UUID) -> Write:
    """Stop an export that is waiting or running (its file, if any was begun, is
    removed by the run), by its creator or a writer of its project; cancelling a
    cancelled one changes nothing; one that has finished otherwise is a CONFLICT.
    One statement."""

    def refuse(status: str) -> None:
        raise Conflict(f"the export has already ended ({status})", field="id")

    return entity_update(
        viewer,
        EXPORT,
        export_id,
        changes={
            "status": sql_value("'CANCELLED'"),
            "finished_at": sql_value("now()"),
            "locked_by": sql_value("NULL"),
            "locked_until": sql_value("NULL"),
        },
        expected_updated_at=None,
        owner="created_by",
        only_if="c.status <> 'CANCELLED'",
        guard=Guard(
            lambda _: (
                "CASE WHEN t.status NOT IN ('QUEUED', 'RUNNING', 'CANCELLED') "
                "THEN t.status::text END"
            ),
            refuse,
        ),
    )


async def visible_export(conn: Queryable, viewer: Viewer, export_id: UUID) -> asyncpg.Record | None:
    """The export `export_id` if the viewer may read it (scope checked by the
    caller), else None: absent and invisible are the same answer."""
    bind = Binder()
    wanted = bind(export_id)
    row: asyncpg.Record | None = await conn.fetchrow(
        f"SELECT t.* FROM {ident(EXPORT.table)} t WHERE {qualified('t', 'id')} = {wanted} "
        f"AND {visible(EXPORT, 't', viewer, bind)}",
        *bind.values,
    )
    return row


async def export_status(conn: Queryable, export_id: UUID) -> asyncpg.Record:
    """An export's row, as the operator reads it (no visibility: the command line)."""
    row: asyncpg.Record | None = await conn.fetchrow(QUERIES["export_by_id"], export_id)
    if row is None:
        raise NotFound("export not found", field="id")
    return row


async def cancel_as_operator(conn: Queryable, export_id: UUID) -> None:
    """Cancel an export if it is still waiting or running (the command line's own,
    when it is interrupted)."""
    await conn.fetchrow(QUERIES["cancel_export"], export_id)
