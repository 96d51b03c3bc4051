"""Retention (db/retention.py): expired partitions dropped whole, old rows of
the default partition deleted, event_count and event_ids exact throughout."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

import asyncpg

from db import partitions
from db.retention import Swept, apply_retention, sweep_default
from tests.db.event_rows import (
    Environments,
    add_events,
    counts,
    partition_names,
    true_counts,
    two_environments,
)

NOW = datetime(2025, 6, 15, 12, 0, tzinfo=UTC)
DAYS = 60  # the cutoff: 16 April 2025, 12:00 UTC


def _at(year: int, month: int, day: int = 1) -> datetime:
    return datetime(year, month, day, 9, 0, tzinfo=UTC)


async def _fill(conn: asyncpg.Connection) -> Environments:
    envs = await two_environments(conn)
    await partitions.ensure(conn, _at(2025, 2), _at(2025, 5), now=NOW)
    for env, at, count in (
        (envs.b, _at(2025, 2, 10), 3),  # February: expired
        (envs.a, _at(2025, 3, 10), 3),  # March: expired (ends 1 April)
        (envs.b, _at(2025, 3, 31), 2),
        (envs.a, _at(2025, 4, 2), 1),  # April: partly past the cutoff, kept whole
        (envs.a, _at(2025, 4, 20), 4),
        (envs.b, _at(2025, 4, 20), 1),
        (envs.a, _at(2025, 5, 5), 2),  # May
        (envs.b, _at(2025, 5, 5), 6),
        (envs.a, _at(1990, 1, 1), 2),  # the default partition, far in the past
        (envs.b, _at(1995, 7, 1), 1),
        (envs.b, _at(2040, 1, 1), 1),  # ... and far ahead: kept
    ):
        await add_events(conn, envs, env, at, count)
    assert await counts(conn) == {envs.a: 12, envs.b: 14}
    return envs


async def _assert_kept(conn: asyncpg.Connection, envs: Environments) -> None:
    assert await partition_names(conn) == ["events_default", "events_p2025_04", "events_p2025_05"]
    assert await counts(conn) == {envs.a: 7, envs.b: 8}
    assert await true_counts(conn) == await counts(conn)
    # event_ids holds exactly the uuids still stored, with their environments
    assert (
        await conn.fetchval(
            "SELECT count(*) FROM event_ids i FULL JOIN events e ON e.id = i.id "
            "WHERE e.id IS NULL OR i.id IS NULL OR i.environment_id <> e.environment_id"
        )
        == 0
    )
    assert await conn.fetchval("SELECT count(*) FROM event_ids") == 15
    assert await conn.fetchval('SELECT min("timestamp") FROM events') == _at(2025, 4, 2)


async def test_expired_partitions_go_and_counts_follow(conn: asyncpg.Connection) -> None:
    envs = await _fill(conn)
    swept = await apply_retention(conn, now=NOW, days=DAYS)
    assert swept == Swept(["events_p2025_02", "events_p2025_03"], 3 + 5 + 3)
    await _assert_kept(conn, envs)
    # the next round finds nothing to do
    assert await apply_retention(conn, now=NOW, days=DAYS) == Swept([], 0)
    await _assert_kept(conn, envs)


async def test_a_partition_ending_at_the_cutoff_goes(conn: asyncpg.Connection) -> None:
    envs = await two_environments(conn)
    await partitions.ensure(conn, _at(2025, 3), _at(2025, 4), now=NOW)
    await add_events(conn, envs, envs.a, _at(2025, 3, 31), 2)
    await add_events(conn, envs, envs.a, _at(2025, 4, 1), 1)
    # the cutoff is 1 April 00:00: March ends there, April has just begun
    swept = await apply_retention(conn, now=datetime(2025, 4, 11, tzinfo=UTC), days=10)
    assert swept == Swept(["events_p2025_03"], 2)
    assert await counts(conn) == {envs.a: 1, envs.b: 0}


async def test_concurrent_rounds_subtract_once(database_url: str, conn: asyncpg.Connection) -> None:
    envs = await _fill(conn)
    others = [await asyncpg.connect(database_url) for _ in range(3)]
    try:
        rounds = await asyncio.gather(*(apply_retention(c, now=NOW, days=DAYS) for c in others))
    finally:
        for other in others:
            await other.close()
    # each partition dropped by one round; every event removed counted once
    dropped = sorted(name for r in rounds for name in r.partitions)
    assert dropped == ["events_p2025_02", "events_p2025_03"]
    assert sum(r.events for r in rounds) == 11
    await _assert_kept(conn, envs)


async def test_the_default_partition_is_swept_in_batches(
    database_url: str, conn: asyncpg.Connection
) -> None:
    envs = await two_environments(conn)
    await add_events(conn, envs, envs.a, _at(1990, 1, 1), 7)
    await add_events(conn, envs, envs.b, _at(1991, 1, 1), 5)
    await add_events(conn, envs, envs.b, _at(2040, 1, 1), 1)
    other = await asyncpg.connect(database_url)
    try:
        # two sweeps at once, three rows a batch: each row deleted and counted once
        done = await asyncio.gather(
            sweep_default(conn, NOW, batch=3), sweep_default(other, NOW, batch=3)
        )
    finally:
        await other.close()
    assert sum(done) == 12
    assert await counts(conn) == {envs.a: 0, envs.b: 1}
    assert await conn.fetchval("SELECT count(*) FROM event_ids") == 1
