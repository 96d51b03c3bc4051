"""Storage upkeep in every serving process: the monthly partitions of events
made ahead (at start, before the first request, then every hour) and
retention applied (in the background from the start, then every hour).

Each worker process runs its own loop: they need no coordination, since
making and dropping partitions is serialised in PostgreSQL (an advisory lock,
db/partitions.py) and a second process finds the work done. A round that
fails (database down, a lock not granted in time) is logged and tried again
at the next one; the loop is cancelled with the app, before the pool closes.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from datetime import UTC, datetime

import asyncpg
from aiohttp import web

from db import partitions
from db.pool import Connection
from db.retention import apply_retention, cutoff
from db.session import DATABASE_DOWN
from gateway.keys import MAINTENANCE, POOL, SETTINGS

logger = logging.getLogger("envgraph.maintenance")

INTERVAL_S = 3600.0
# well within gunicorn's worker timeout (30 s): the start must not hang on a lock
START_TIMEOUT_S = 10.0

Clock = Callable[[], datetime]


def utc_now() -> datetime:
    """The current time, in UTC."""
    return datetime.now(UTC)


async def make_partitions(conn: Connection, *, now: datetime, retention_days: int | None) -> None:
    """Partitions from last month to a few ahead (none that retention would drop)."""
    keep_from = None if retention_days is None else cutoff(now, retention_days)
    made = await partitions.maintain(conn, now=now, keep_from=keep_from)
    if made:
        logger.info("made %d partition(s) of events", made)


async def maintain_once(pool: asyncpg.Pool, *, now: datetime, retention_days: int | None) -> None:
    """One round: the partitions, then retention if configured."""
    async with pool.acquire() as conn:
        await make_partitions(conn, now=now, retention_days=retention_days)
        if retention_days is None:
            return
        swept = await apply_retention(conn, now=now, days=retention_days)
    if swept.partitions or swept.events:
        logger.info(
            "retention (%d days): dropped %s, %d event(s) in all",
            retention_days,
            ", ".join(swept.partitions) or "no partition",
            swept.events,
        )


@asynccontextmanager
async def _logged(interval_s: float) -> AsyncIterator[None]:
    """A failed round is logged, and left to the next one."""
    try:
        yield
    except asyncpg.UndefinedTableError:
        # `serve` migrates before it starts; an app on an older schema waits for it
        logger.info("storage upkeep skipped: the database is not migrated yet")
    except (*DATABASE_DOWN, asyncpg.PostgresError) as error:
        logger.warning("storage upkeep failed, tried again in %.0f s: %s", interval_s, error)
    except Exception:
        # a bug must not end the loop for the life of the process
        logger.exception("storage upkeep failed unexpectedly, tried again in %.0f s", interval_s)


async def keep_up(
    pool: asyncpg.Pool,
    retention_days: int | None,
    *,
    interval_s: float,
    clock: Clock,
    first_in_s: float = 0.0,
) -> None:
    """A round in `first_in_s`, then every `interval_s`, until cancelled."""
    delay = first_in_s
    while True:
        await asyncio.sleep(delay)
        delay = interval_s
        async with _logged(interval_s):
            await maintain_once(pool, now=clock(), retention_days=retention_days)


def maintenance_context(
    *, interval_s: float = INTERVAL_S, clock: Clock = utc_now
) -> Callable[[web.Application], AsyncIterator[None]]:
    """A `cleanup_ctx` entry (after the pool's). At start, the partitions are
    made before the first request is taken (quick, and bounded: a worker that
    starts too slowly is killed by the arbiter); retention, which may take
    minutes, runs in the loop, at once when configured, then every round."""

    async def context(app: web.Application) -> AsyncIterator[None]:
        pool, days = app[POOL], app[SETTINGS].event_retention_days
        async with _logged(interval_s), asyncio.timeout(START_TIMEOUT_S), pool.acquire() as conn:
            await make_partitions(conn, now=clock(), retention_days=days)
        task = asyncio.create_task(
            keep_up(
                pool,
                days,
                interval_s=interval_s,
                clock=clock,
                first_in_s=0.0 if days is not None else interval_s,
            ),
            name="envgraph-maintenance",
        )
        app[MAINTENANCE] = task
        yield
        task.cancel()
        # waits without raising: the task's own cancellation is expected, and
        # a cancellation of this clean-up itself must still propagate
        await asyncio.wait([task])

    return context
