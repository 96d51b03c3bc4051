"""The benchmark's events at a tiny scale: SQL and Python make the same rows,
counts and event_ids are true, the indexes are back, and the raw COPY bound
measures without leaving rows behind."""

from __future__ import annotations

import csv
import io
import json
from dataclasses import replace

import asyncpg

from bench.datagen import SCALES, generate
from bench.events import INGEST_COLUMNS, csv_body, event, raw_copy, window
from db.users import create_user

AUTHOR = "bench@example.com"
TINY_EVENTS = replace(SCALES["tiny"], events=SCALES["tiny"].total_environments * 6)
_INDEXES = (
    "SELECT pg_get_indexdef(indexrelid) FROM pg_index "
    "WHERE indrelid = 'events'::regclass ORDER BY 1"
)


async def _fill(conn: asyncpg.Connection) -> dict[str, int]:
    await create_user(conn, email=AUTHOR, name="Bench Runner")
    return await generate(conn, TINY_EVENTS, AUTHOR)


def test_the_events_scale() -> None:
    scale = SCALES["events"]
    assert (scale.events, scale.total_environments) == (10_000_000, 100)


async def test_sql_and_python_make_the_same_events(conn: asyncpg.Connection) -> None:
    indexes = [r[0] for r in await conn.fetch(_INDEXES)]
    counts = await _fill(conn)
    assert counts["events"] == 24 * 6
    # the secondary indexes were dropped for the load and are back as they were
    assert [r[0] for r in await conn.fetch(_INDEXES)] == indexes
    rows = await conn.fetch(
        'SELECT e.id, e."timestamp", e.received_at, e.event, e.distinct_id, e.person_id, '
        "e.properties::text, v.k FROM events e JOIN (SELECT id, "
        "row_number() OVER (ORDER BY id) AS k FROM environments) v ON v.id = e.environment_id"
    )
    made = {
        row["id"]: (
            row["timestamp"],
            row["received_at"],
            row["event"],
            row["distinct_id"],
            row["person_id"],
            json.loads(row["properties"]),
        )
        for row in rows
    }
    expected = {}
    for k in range(1, 25):
        for n in range(1, 7):
            e = event(k, n, 6)
            expected[e.id] = (
                e.timestamp,
                e.received_at,
                e.event,
                e.distinct_id,
                e.person_id,
                e.properties,
            )
    assert made == expected
    assert await conn.fetchval("SELECT count(*) FROM environments WHERE event_count <> 6") == 0
    assert (
        await conn.fetchval(
            "SELECT count(*) FROM event_ids i JOIN events e USING (id, environment_id)"
        )
        == 144
    )


async def test_the_raw_copy_bound_leaves_nothing(conn: asyncpg.Connection) -> None:
    await _fill(conn)
    rate = await raw_copy(conn, 3, 500, per_environment=6)
    assert rate.rows == 500
    assert rate.rows_per_s > 0
    assert await conn.fetchval("SELECT count(*) FROM events") == 144


def test_an_upload_body_is_bulk_ingestion_csv() -> None:
    events = [event(1, n, 1000, "ingest") for n in range(1, 26)]
    chunks = list(csv_body(iter(events), header=True, chunk_rows=10))
    assert len(chunks) == 3
    rows = list(csv.reader(io.StringIO(b"".join(chunks).decode())))
    assert tuple(rows[0]) == INGEST_COLUMNS
    assert len(rows) == 26
    first = dict(zip(INGEST_COLUMNS, rows[1], strict=True))
    assert first["uuid"] == str(events[0].id)
    assert json.loads(first["properties"]) == events[0].properties


def test_the_window_is_an_hour_inside_the_span() -> None:
    since, until = window()
    assert (until - since).total_seconds() == 3600
    assert event(1, 1, 10).timestamp > until > since > event(1, 10, 10).timestamp
