"""The monthly partitions of events (db/partitions.py): made within their
window, left to the default partition when it holds the month already, made
once however many processes ask at the same time."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

import asyncpg

from db import partitions
from tests.db.event_rows import add_events, partition_names, two_environments

NOW = datetime(2025, 6, 15, 12, 0, tzinfo=UTC)


def _at(year: int, month: int, day: int = 1) -> datetime:
    return datetime(year, month, day, tzinfo=UTC)


async def test_ensure_clips_to_the_window(conn: asyncpg.Connection) -> None:
    # 20 years back (June 2005 is the earliest month) ...
    assert await partitions.ensure(conn, _at(2005, 1), _at(2005, 7, 20), now=NOW) == 2
    # ... and 12 months ahead (June 2026 the latest)
    assert await partitions.ensure(conn, _at(2026, 5), _at(2027, 3), now=NOW) == 2
    # wholly outside: nothing, no transaction
    assert await partitions.ensure(conn, _at(1990, 1), _at(2000, 1), now=NOW) == 0
    assert await partition_names(conn) == [
        "events_default",
        "events_p2005_06",
        "events_p2005_07",
        "events_p2026_05",
        "events_p2026_06",
    ]


async def test_ensure_makes_what_is_missing_only(conn: asyncpg.Connection) -> None:
    assert await partitions.ensure(conn, _at(2025, 1), _at(2025, 2), now=NOW) == 2
    assert await partitions.ensure(conn, _at(2025, 1, 31), _at(2025, 3, 2), now=NOW) == 1
    assert [p.name for p in await partitions.existing(conn)] == [
        "events_p2025_01",
        "events_p2025_02",
        "events_p2025_03",
    ]


async def test_a_month_the_default_partition_holds_stays_there(conn: asyncpg.Connection) -> None:
    envs = await two_environments(conn)
    await add_events(conn, envs, envs.a, _at(2025, 2, 10), 3)
    # February cannot get a partition (its rows are in the default one): the
    # months around it still do, and nothing fails
    assert await partitions.ensure(conn, _at(2025, 1), _at(2025, 3), now=NOW) == 2
    assert await partition_names(conn) == ["events_default", "events_p2025_01", "events_p2025_03"]
    assert await conn.fetchval("SELECT count(*) FROM events_default") == 3
    # later events of that month go there too
    await add_events(conn, envs, envs.b, _at(2025, 2, 20), 1)
    assert await conn.fetchval("SELECT count(*) FROM events_default") == 4


async def test_concurrent_ensure_makes_each_partition_once(database_url: str) -> None:
    conns = [await asyncpg.connect(database_url) for _ in range(4)]
    try:
        made = await asyncio.gather(
            *(partitions.ensure(c, _at(2024, 1), _at(2024, 12), now=NOW) for c in conns)
        )
        assert sum(made) == 12
        assert [p.name for p in await partitions.existing(conns[0])] == [
            f"events_p2024_{month:02d}" for month in range(1, 13)
        ]
    finally:
        for c in conns:
            await c.close()


async def test_maintain_makes_last_month_to_three_ahead(conn: asyncpg.Connection) -> None:
    january = datetime(2025, 1, 15, 8, 30, tzinfo=UTC)
    assert await partitions.maintain(conn, now=january) == 5
    assert await partitions.maintain(conn, now=january) == 0  # idempotent
    assert [p.name for p in await partitions.existing(conn)] == [
        "events_p2024_12",
        "events_p2025_01",
        "events_p2025_02",
        "events_p2025_03",
        "events_p2025_04",
    ]


async def test_maintain_makes_nothing_retention_would_drop(conn: asyncpg.Connection) -> None:
    # with a cutoff of 10 January, December has ended before it: not made
    january = datetime(2025, 1, 15, tzinfo=UTC)
    made = await partitions.maintain(conn, now=january, keep_from=_at(2025, 1, 10))
    assert made == 4
    assert [p.name for p in await partitions.existing(conn)] == [
        "events_p2025_01",
        "events_p2025_02",
        "events_p2025_03",
        "events_p2025_04",
    ]
