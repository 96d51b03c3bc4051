"""What the export tests share: many events written by one SQL statement, and
the GraphQL documents that make, follow and read exports."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import UUID

import asyncpg

from db import partitions

START = datetime(2025, 1, 1, tzinfo=UTC)
CREATE = """
mutation ($input: CreateExportInput!) {
  createExport(input: $input) { export { id uuid status } }
}
"""
STATUS = """
query ($id: ID!) {
  export(id: $id) {
    status rowsWritten rowsTotal byteSize error contentUrl startedAt finishedAt
  }
}
"""
CANCEL = "mutation ($id: ID!) { cancelExport(input: {id: $id}) { export { status } } }"


async def seed_events(
    conn: asyncpg.Connection, environment: UUID, count: int, *, start: datetime = START
) -> None:
    """`count` events in `environment`, one a second from `start`, made by the
    database (generate_series): a million in seconds, not through the API.
    Every value derives from the event's number, so a checksum can be recomputed."""
    end = start + timedelta(seconds=count)
    await partitions.ensure(conn, start, end, now=start)
    async with conn.transaction():
        await conn.execute("SET LOCAL statement_timeout = 0")
        await conn.execute(
            "INSERT INTO event_ids (id, environment_id) "
            "SELECT md5($1::uuid::text || '/' || n)::uuid, $1::uuid "
            "FROM generate_series(1, $2::int) n",
            environment,
            count,
        )
        await conn.execute(
            """
            INSERT INTO events (id, environment_id, project_id, "timestamp", received_at, event,
                                distinct_id, person_id, properties)
            SELECT md5($1::uuid::text || '/' || n)::uuid, e.id, e.project_id,
                   $2::timestamptz + n * interval '1 second',
                   $2::timestamptz + n * interval '1 second' + interval '250 milliseconds',
                   (ARRAY['prediction', 'feedback', 'drift_alert'])[1 + n % 3],
                   'user-' || (n % 1000),
                   CASE WHEN n % 2 = 0 THEN md5('person/' || n % 500)::uuid END,
                   jsonb_build_object('n', n, 'score', (n % 100) / 100.0,
                                      'label', CASE WHEN n % 2 = 0 THEN 'yes' ELSE 'no' END)
            FROM generate_series(1, $3::int) n JOIN environments e ON e.id = $1
            """,
            environment,
            start,
            count,
        )
        await conn.execute(
            "UPDATE environments SET event_count = event_count + $2 WHERE id = $1",
            environment,
            count,
        )


async def wait_for(fetch: Any, wanted: set[str], *, within_s: float = 60) -> dict[str, Any]:
    """Poll `fetch()` (an export's fields) until its status is one of `wanted`."""
    async with asyncio.timeout(within_s):
        while True:
            export: dict[str, Any] = await fetch()
            if export["status"] in wanted:
                return export
            await asyncio.sleep(0.05)
