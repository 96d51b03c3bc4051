"""The benchmark's data, generated in PostgreSQL (set-based, deterministic).

A scale is the shape of the tree: organizations, projects per organization,
models per project, environments and segments per model, and events spread
evenly over the environments. `small` is the nested scenario's tree; `large`
has a million environments, for the search and deep-paging scenarios;
`events` ten million events over 100 environments (bench/events.py).
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import asyncpg

from bench.events import SPAN, UNTIL, span_ms
from db import partitions

_SCRIPT = Path(__file__).with_name("generate.sql")
_EVENTS_SCRIPT = Path(__file__).with_name("generate_events.sql")
_TABLES = ("organizations", "projects", "models", "environments", "segments")


@dataclass(frozen=True, slots=True)
class Scale:
    """How many of each: per parent, except organizations."""

    name: str
    orgs: int
    projects: int
    models: int
    environments: int
    segments: int
    events: int = 0  # in the whole database, the same number in each environment

    @property
    def total_environments(self) -> int:
        """Environments in the whole database."""
        return self.orgs * self.projects * self.models * self.environments


SCALES = {
    s.name: s
    for s in (
        Scale("tiny", 2, 2, 2, 3, 2),
        Scale("small", 10, 10, 10, 5, 5),
        Scale("large", 10, 10, 100, 100, 5),
        Scale("events", 1, 2, 5, 10, 1, events=10_000_000),
        # the quick mode's: two environments of 51,000 events (page 1,000 exists)
        Scale("events_quick", 1, 1, 1, 2, 1, events=102_000),
    )
}


class GenerateError(Exception):
    """The data could not be generated."""


async def generate(conn: asyncpg.Connection, scale: Scale, author_email: str) -> dict[str, int]:
    """Fill an empty, migrated database; returns the row count of each table.

    `author_email` names an existing user: the author of every segment.
    """
    if await conn.fetchval("SELECT count(*) FROM organizations"):
        raise GenerateError("the database already holds organizations: generate into a fresh one")
    if not await conn.fetchval(
        "SELECT count(*) FROM users WHERE lower(email) = lower($1)", author_email
    ):
        raise GenerateError(f"no user {author_email}: create it first")
    settings = {
        "bench.orgs": scale.orgs,
        "bench.projects": scale.projects,
        "bench.models": scale.models,
        "bench.environments": scale.environments,
        "bench.segments": scale.segments,
        "bench.author": author_email,
    }
    if scale.events % scale.total_environments:
        raise GenerateError(f"{scale.events} events do not divide among the environments")
    async with conn.transaction():
        for name, value in settings.items():
            await conn.execute("SELECT set_config($1, $2, true)", name, str(value))
        await conn.execute(_SCRIPT.read_text())
    if scale.events:
        await _generate_events(conn, scale.events // scale.total_environments)
    # fresh statistics, or the planner guesses on a million rows; ten million
    # fresh events are vacuumed too (hint bits, visibility map), or the first
    # reads set hint bits and autovacuum starts in the middle of a timed run
    await conn.execute("VACUUM ANALYZE" if scale.events >= 1_000_000 else "ANALYZE")
    tables = (*_TABLES, "events") if scale.events else _TABLES
    return {table: await conn.fetchval(f"SELECT count(*) FROM {table}") for table in tables}


async def _generate_events(conn: asyncpg.Connection, per_environment: int) -> None:
    # the partitions first, in their own transaction, as the server makes them
    await partitions.ensure(conn, UNTIL - SPAN - timedelta(days=1), UNTIL, now=datetime.now(UTC))
    async with conn.transaction():
        for name, value in (
            ("bench.events_per_environment", per_environment),
            ("bench.events_until", UNTIL.isoformat()),
            ("bench.events_span_ms", span_ms()),
            ("maintenance_work_mem", "512MB"),  # for the index builds below
        ):
            await conn.execute("SELECT set_config($1, $2, true)", name, str(value))
        # the secondary indexes, as the migration made them: dropped, then built
        # again from the same definitions once the rows are in
        indexes = await conn.fetch(
            "SELECT c.relname, pg_get_indexdef(i.indexrelid) AS definition FROM pg_index i "
            "JOIN pg_class c ON c.oid = i.indexrelid "
            "WHERE i.indrelid = 'events'::regclass AND NOT i.indisunique"
        )
        for index in indexes:
            await conn.execute(f'DROP INDEX "{index["relname"]}"')
        await conn.execute(_EVENTS_SCRIPT.read_text())
        for index in indexes:
            # a partitioned index's definition says ON ONLY (this table alone)
            await conn.execute(index["definition"].replace(" ON ONLY ", " ON ", 1))


async def generate_timed(url: str, scale: Scale, author_email: str) -> tuple[dict[str, int], float]:
    """`generate` on a new connection to `url`, with the seconds it took."""
    conn = await asyncpg.connect(url)
    try:
        started = time.perf_counter()
        counts = await generate(conn, scale, author_email)
        return counts, time.perf_counter() - started
    finally:
        await conn.close()
