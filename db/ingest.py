"""Event ingestion: the one mechanism behind the `ingestEvents` mutation, the bulk
route and the `ingest` command.

Rows checked line by line (db/event_rows.py) are streamed into a temporary
staging table by COPY, a batch at a time, so an upload is never held whole in
memory. Any bad line stops the staging (the errors, at most `MAX_ERRORS`, are
still collected) and nothing is written. Otherwise the rows are moved into
`events` in ONE transaction: the environment's write check, then one
statement that claims each uuid in `event_ids` (ON CONFLICT DO NOTHING: an
event already held is a duplicate, skipped) and inserts the events of the
uuids claimed, and keeps `environments.event_count` in step. A client that
goes away mid-upload never reaches that transaction: nothing is written.

Two uploads sending the same uuids at once meet on `event_ids`' primary key:
the second waits for the first to commit and then counts those as
duplicates, so each event is stored once. Both claim uuids in ascending order,
so they cannot deadlock on them.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from types import TracebackType
from typing import Self
from uuid import UUID

import asyncpg

from db import partitions
from db.entities import ENVIRONMENT
from db.errors import BadInput, Conflict, NotFound
from db.event_rows import LineError, Row
from db.pool import Connection, Queryable
from db.queries import QUERIES
from db.session import Session
from db.viewer import Viewer, require_scope
from db.writes import writable_row

SCOPE = "event:write"
MAX_ERRORS = 100
# rows per COPY: large enough that a COPY costs little per row, small enough
# that a batch of rows with big properties stays a few megabytes
BATCH_ROWS = 5_000
# past this many rows the final INSERT may outlast the per-statement timeout,
# which is set for reads: a bulk ingestion's transaction runs without it
_LONG_ROWS = 50_000
# how long such a move may take before the client gives up (a 1 GiB upload's
# move took about two minutes on 2 cores)
LONG_MOVE_TIMEOUT_S = 3600.0

_STAGING = "ingest_staging"
_COLUMNS = ("line", "id", "timestamp", "event", "distinct_id", "person_id", "properties")
# The statements naming the staging table are kept here rather than in db/sql/:
# a temporary table exists only on the connection that made it, so they
# cannot be prepared against the bare schema as the blocks there are.
# (one round trip: a table left over on this connection by a broken ingestion goes first)
_CREATE = f"""
DROP TABLE IF EXISTS {_STAGING};
CREATE TEMPORARY TABLE {_STAGING} (
    line          int NOT NULL,
    id            uuid NOT NULL,
    "timestamp"   timestamptz NOT NULL,
    event         text NOT NULL,
    distinct_id   text NOT NULL,
    person_id     uuid,
    properties    jsonb NOT NULL
)"""
_DROP = f"DROP TABLE IF EXISTS {_STAGING}"
# $1: the environment, $2: its project. The first line of a uuid wins; uuids are
# claimed in ascending order (see the module's docstring). Answers the distinct
# uuids staged and how many of them were stored.
_MOVE = f"""
WITH firsts AS (
    SELECT DISTINCT ON (id) * FROM {_STAGING} ORDER BY id, line
), fresh AS (
    INSERT INTO event_ids (id, environment_id)
    SELECT id, $1 FROM firsts ORDER BY id
    ON CONFLICT (id) DO NOTHING
    RETURNING id
), stored AS (
    INSERT INTO events (id, environment_id, project_id, "timestamp", event, distinct_id,
                        person_id, properties)
    SELECT f.id, $1, $2, f."timestamp", f.event, f.distinct_id, f.person_id, f.properties
    FROM firsts f JOIN fresh USING (id)
), counted AS (
    UPDATE environments SET event_count = event_count + (SELECT count(*) FROM fresh)
    WHERE id = $1
)
SELECT (SELECT count(*) FROM firsts) AS distinct_ids, (SELECT count(*) FROM fresh) AS stored
"""
# uuids of the upload that another environment's events hold: the lines sending them
_FOREIGN = f"""
SELECT s.line, s.id FROM {_STAGING} s JOIN event_ids e ON e.id = s.id
WHERE e.environment_id <> $1
ORDER BY s.line
LIMIT {MAX_ERRORS}
"""


@dataclass(frozen=True, slots=True)
class Ingested:
    """What an ingestion stored: new events, and events skipped as already held
    (by the environment, or by an earlier line of the same upload)."""

    accepted: int
    duplicates: int


class Refused(BadInput):
    """Lines that cannot be ingested (at most MAX_ERRORS of them); nothing was written."""

    def __init__(self, errors: list[LineError]) -> None:
        first = errors[0]
        where = f"line {first.line}: " if first.line else ""
        super().__init__(f"{where}{first.message}", field=first.field)
        self.errors = errors


def _taking_events(row: asyncpg.Record | None) -> asyncpg.Record:
    if row is None:
        raise NotFound("environment not found", field="environmentId")
    if not row["enabled"]:
        # its data stays readable; it only refuses new events
        raise Conflict("the environment is disabled: it takes no new events", field="environmentId")
    return row


async def check_writable(conn: Queryable, viewer: Viewer | None, environment_id: UUID) -> None:
    """Before reading an upload: the token's scope, an environment the viewer sees
    (NOT_FOUND otherwise, whether absent or another tenant's), may write to, and
    that is enabled (CONFLICT otherwise). The check is made again in the
    transaction that writes; `viewer` None is the operator (the command line),
    who may write anywhere."""
    if viewer is None:
        _taking_events(await conn.fetchrow(QUERIES["environment_project"], environment_id))
        return
    require_scope(viewer, SCOPE)
    _taking_events(
        await writable_row(conn, ENVIRONMENT, environment_id, viewer, "environmentId", share=True)
    )


class Staging:
    """One ingestion on one connection: `add()` rows and `reject()` lines as they
    are read, then `commit()`. Used as `async with Staging(conn) as staging:`;
    leaving the block drops the staging table, committed or not."""

    def __init__(self, conn: Connection, *, on_copy: Callable[[], None] | None = None) -> None:
        self.conn = conn
        self.errors: list[LineError] = []
        self.staged = 0
        self._on_copy = on_copy
        self._batch: list[Row] = []
        self._earliest: datetime | None = None
        self._latest: datetime | None = None
        self._refused = False  # a line was bad: the rest is only checked

    async def __aenter__(self) -> Self:
        await self.conn.execute(_CREATE)
        return self

    async def __aexit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        if self.conn.is_closed():
            return
        if error is not None and self.conn.is_in_transaction():
            # staged inside the caller's transaction, which rolls back: the table
            # goes with it (and a statement would fail in an aborted transaction)
            return
        try:
            await self.conn.execute(_DROP)
        except (asyncpg.PostgresError, asyncpg.InterfaceError):
            # a connection left mid-statement (an upload cancelled during a COPY):
            # closed instead, which drops its temporary table; the pool replaces it
            self.conn.terminate()

    @property
    def full(self) -> bool:
        """True once MAX_ERRORS lines were refused: reading further cannot change the
        answer."""
        return len(self.errors) >= MAX_ERRORS

    def reject(self, error: LineError) -> None:
        """A bad line: nothing will be written; keep the error (up to MAX_ERRORS)."""
        self._refused = True
        self._batch.clear()
        if not self.full:
            self.errors.append(error)

    async def add(self, row: Row) -> None:
        """A good line, staged (COPY a batch at a time) unless a line was bad."""
        if self._refused:
            return
        timestamp = row[2]
        if self._earliest is None or timestamp < self._earliest:
            self._earliest = timestamp
        if self._latest is None or timestamp > self._latest:
            self._latest = timestamp
        self._batch.append(row)
        if len(self._batch) >= BATCH_ROWS:
            await self._flush()

    async def _flush(self) -> None:
        if not self._batch:
            return
        await self.conn.copy_records_to_table(_STAGING, records=self._batch, columns=_COLUMNS)
        if self._on_copy is not None:
            self._on_copy()
        self.staged += len(self._batch)
        self._batch.clear()

    async def commit(
        self, environment_id: UUID, viewer: Viewer | None, *, now: datetime | None = None
    ) -> Ingested:
        """Write the staged events in one transaction, or raise `Refused` (bad lines,
        or uuids another environment holds) with nothing written."""
        if self.errors:
            raise Refused(self.errors)
        await self._flush()
        if self._earliest is not None and self._latest is not None:
            # before the transaction: partitions are made in one of their own
            await partitions.ensure(
                self.conn, self._earliest, self._latest, now=now or datetime.now(UTC)
            )
        async with self.conn.transaction():
            project_id = await _locked_environment(self.conn, viewer, environment_id)
            if not self.staged:
                return Ingested(0, 0)
            # the client-side timeout (db/pool.py: the statement timeout and a
            # margin) would cancel a long move too: it gets its own bound
            timeout = None
            if self.staged > _LONG_ROWS:
                await self.conn.execute("SET LOCAL statement_timeout = 0")
                timeout = LONG_MOVE_TIMEOUT_S
            moved = await self.conn.fetchrow(_MOVE, environment_id, project_id, timeout=timeout)
            assert moved is not None
            if moved["stored"] < moved["distinct_ids"]:
                await self._refuse_foreign(environment_id)
        return Ingested(moved["stored"], self.staged - moved["stored"])

    async def _refuse_foreign(self, environment_id: UUID) -> None:
        # only when some uuids were not claimed: they may be another environment's
        foreign = await self.conn.fetch(_FOREIGN, environment_id)
        if foreign:
            used = "is already used by another event"
            raise Refused([LineError(r["line"], f"uuid {r['id']} {used}", "uuid") for r in foreign])


async def ingest_rows(
    session: Session, viewer: Viewer, environment_id: UUID, rows: Iterable[Row]
) -> Ingested:
    """Ingest rows already checked (the mutation's few): a fixed number of
    statements whatever their number, up to BATCH_ROWS."""
    require_scope(viewer, SCOPE)
    # one transaction from the staging table's creation to the move: behind a
    # pooler in transaction mode, that is what keeps them on one server session
    # (the few rows make its partition lock, if one is created, short)
    async with (
        session.connection() as conn,
        conn.transaction(),
        Staging(conn, on_copy=session.count_statement) as staging,
    ):
        for row in rows:
            await staging.add(row)
        return await staging.commit(environment_id, viewer)


async def _locked_environment(
    conn: Connection, viewer: Viewer | None, environment_id: UUID
) -> UUID:
    """The environment's project, its row locked until commit: concurrent
    ingestions into one environment add to its event_count one after the other
    (a shared lock would deadlock them on that update)."""
    if viewer is None:
        row = await conn.fetchrow(QUERIES["lock_environment"], environment_id)
    else:
        require_scope(viewer, SCOPE)
        row = await writable_row(conn, ENVIRONMENT, environment_id, viewer, "environmentId")
    return UUID(str(_taking_events(row)["project_id"]))
