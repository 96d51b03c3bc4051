"""Event retention (`GATEWAY_EVENT_RETENTION_DAYS`): events older than the
cutoff go, with `event_ids` and `environments.event_count` kept exact.

The unit is the monthly partition: one whose whole month ends at or before
the cutoff is dropped whole (cheap: no row-wise delete, no bloat); one only
partly past the cutoff is kept until its month is. Rows of `events_default`
(times too far out for a partition of their own) are deleted row-wise, in
batches. Each partition goes in one transaction of its own, so a failure
leaves it whole and counted, to be tried again at the next round.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta

from db import partitions
from db.identifiers import ident
from db.partitions import Partition
from db.pool import Connection
from db.queries import QUERIES

# counting and forgetting a partition of millions of events takes longer than
# a request may (the pool's statement timeout)
SWEEP_STATEMENT_TIMEOUT = "10min"
# the DROP waits for readers of events to finish, and every new reader queues
# behind it while it waits: give up soon, the next round tries again
DROP_LOCK_TIMEOUT = "2s"
# rows of the default partition deleted per transaction
DEFAULT_BATCH = 10_000


@dataclass(slots=True)
class Swept:
    """What one retention round removed."""

    partitions: list[str] = field(default_factory=list)  # names of those dropped
    events: int = 0  # events removed, from partitions and the default one


def cutoff(now: datetime, days: int) -> datetime:
    """Events before this moment are past retention."""
    return now - timedelta(days=days)


def _midnight(day: date) -> datetime:
    return datetime(day.year, day.month, day.day, tzinfo=UTC)


def expired(found: list[Partition], before: datetime) -> list[Partition]:
    """The partitions whose whole month ends at or before `before`."""
    return [p for p in found if _midnight(p.end) <= before]


async def drop_partition(conn: Connection, partition: Partition) -> int | None:
    """Drop `partition` after taking its events out of `event_ids` and the
    counts, in one transaction; returns how many events it held, or None when
    it is gone already (another process dropped it first)."""
    async with conn.transaction():
        await conn.execute(
            QUERIES["set_local_setting"], "statement_timeout", SWEEP_STATEMENT_TIMEOUT
        )
        # one retention (or partition maker) at a time: the second of two
        # concurrent rounds finds the partition gone and subtracts nothing
        await partitions.lock_ddl(conn)
        if partition not in await partitions.existing(conn):
            return None
        await conn.execute(QUERIES["set_local_setting"], "lock_timeout", DROP_LOCK_TIMEOUT)
        # no event may arrive in it between counting and dropping (SHARE
        # blocks writers only: reads go on)
        await conn.execute(f"LOCK TABLE {ident(partition.name)} IN SHARE MODE")
        held: int = await conn.fetchval(
            QUERIES["forget_partition_events"], _midnight(partition.month), _midnight(partition.end)
        )
        await conn.execute(f"DROP TABLE {ident(partition.name)}")
    return held


async def sweep_default(conn: Connection, before: datetime, *, batch: int = DEFAULT_BATCH) -> int:
    """Delete the default partition's events older than `before`, a batch a
    transaction (each one with its uuids and counts); returns how many."""
    total = 0
    while True:
        async with conn.transaction():
            await conn.execute(
                QUERIES["set_local_setting"], "statement_timeout", SWEEP_STATEMENT_TIMEOUT
            )
            deleted: int = await conn.fetchval(QUERIES["delete_old_default_events"], before, batch)
        total += deleted
        if deleted < batch:
            return total


async def apply_retention(conn: Connection, *, now: datetime, days: int) -> Swept:
    """One retention round: every expired partition, then the default's old rows."""
    before = cutoff(now, days)
    swept = Swept()
    for partition in expired(await partitions.existing(conn), before):
        held = await drop_partition(conn, partition)
        if held is not None:
            swept.partitions.append(partition.name)
            swept.events += held
    swept.events += await sweep_default(conn, before)
    return swept
