"""SQL statements per request, as PostgreSQL counts them (pg_stat_statements):
everything a system sends, its own queries and its driver's (transaction
control, connection resets, type introspection) alike."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass

import asyncpg

from bench.cluster import ROLE


@dataclass(frozen=True, slots=True)
class StatementCount:
    """Statements per request, and the most frequent ones."""

    per_request: float
    top: list[tuple[float, str]]  # (calls per request, query text, shortened)


async def _reset(admin_url: str) -> None:
    conn = await asyncpg.connect(admin_url)
    try:
        await conn.execute("SELECT pg_stat_statements_reset()")
    finally:
        await conn.close()


async def _read(admin_url: str, database: str) -> list[asyncpg.Record]:
    conn = await asyncpg.connect(admin_url)
    try:
        rows: list[asyncpg.Record] = await conn.fetch(
            """SELECT s.calls, s.query FROM pg_stat_statements s
               WHERE s.userid = (SELECT oid FROM pg_roles WHERE rolname = $1)
                 AND s.dbid = (SELECT oid FROM pg_database WHERE datname = $2)
               ORDER BY s.calls DESC, s.query""",
            ROLE,
            database,
        )
        return rows
    finally:
        await conn.close()


def count_statements(
    admin_url: str, database: str, send: Callable[[], object], requests: int
) -> StatementCount:
    """Reset the counters, send `requests` requests one after the other, read them.

    The caller warms the system up first: a first request's one-off work
    (prepared statements, type introspection) is not what a request costs.
    """
    asyncio.run(_reset(admin_url))
    for _ in range(requests):
        send()
    rows = asyncio.run(_read(admin_url, database))
    total = sum(row["calls"] for row in rows)
    top = [(row["calls"] / requests, " ".join(row["query"].split())[:160]) for row in rows[:8]]
    return StatementCount(total / requests, top)
