"""The monthly partitions of `events`: made ahead by the server, on demand by
ingestion (late and early events included), dropped whole by retention.

A partition holds one calendar month in UTC, `[first day, first day of the
next month)`, and is named `events_pYYYY_MM`. Months within `EARLIEST_YEARS`
back and `AHEAD_MONTHS` ahead of now get their own partition when an event
needs one; anything further out lands in `events_default`, the safety net,
as does a month whose partition could not be made because the default
partition already holds rows of it.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime

import asyncpg

from db.pool import Connection

EARLIEST_YEARS = 20
AHEAD_MONTHS = 12
# made at start and by the maintenance loop: the previous month to this far ahead
MAINTAINED_AHEAD = 3
# serialises DDL on events between processes (any constant no other code uses)
_LOCK_KEY = 0x6576_656E_7470_6172  # "eventpar"
_NAME = re.compile(r"^events_p(\d{4})_(\d{2})$")


def month_of(moment: datetime) -> date:
    """The first day of `moment`'s month, in UTC."""
    utc = moment.astimezone(UTC)
    return date(utc.year, utc.month, 1)


def next_month(month: date) -> date:
    """The first day of the month after `month`."""
    return date(month.year + month.month // 12, month.month % 12 + 1, 1)


def months(low: date, high: date) -> Iterator[date]:
    """Every month from `low`'s to `high`'s, both included."""
    month = date(low.year, low.month, 1)
    while month <= high:
        yield month
        month = next_month(month)


@dataclass(frozen=True, slots=True)
class Partition:
    """One monthly partition."""

    month: date

    @property
    def name(self) -> str:
        return f"events_p{self.month.year:04d}_{self.month.month:02d}"

    @property
    def end(self) -> date:
        return next_month(self.month)


def _bounds(now: datetime) -> tuple[date, date]:
    this = month_of(now)
    earliest = date(this.year - EARLIEST_YEARS, this.month, 1)
    latest = this
    for _ in range(AHEAD_MONTHS):
        latest = next_month(latest)
    return earliest, latest


async def existing(conn: Connection) -> list[Partition]:
    """The monthly partitions there are, oldest first."""
    rows = await conn.fetch(
        "SELECT c.relname FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid "
        "WHERE i.inhparent = 'events'::regclass"
    )
    found = []
    for row in rows:
        match = _NAME.match(row["relname"])
        if match:
            found.append(Partition(date(int(match[1]), int(match[2]), 1)))
    return sorted(found, key=lambda p: p.month)


async def lock_ddl(conn: Connection) -> None:
    """Serialise DDL on events with every other process, until the caller's
    transaction ends (partitions made by `ensure`, dropped by retention)."""
    await conn.execute("SELECT pg_advisory_xact_lock($1)", _LOCK_KEY)


async def ensure(conn: Connection, low: datetime, high: datetime, *, now: datetime) -> int:
    """Make the partitions of the months from `low` to `high` (clipped to the months
    that get one) that are missing; returns how many were made. Runs in its own
    transaction: DDL on the parent table must not ride along a long ingestion."""
    earliest, latest = _bounds(now)
    wanted = list(months(max(month_of(low), earliest), min(month_of(high), latest)))
    if not wanted:
        return 0
    have = {p.month for p in await existing(conn)}
    missing = [m for m in wanted if m not in have]
    if not missing:
        return 0
    made = 0
    async with conn.transaction():
        await lock_ddl(conn)
        have = {p.month for p in await existing(conn)}  # another process may have made them
        for month in missing:
            if month in have:
                continue
            partition = Partition(month)
            try:
                async with conn.transaction():  # a savepoint: one refusal keeps the rest
                    await conn.execute(
                        f'CREATE TABLE "{partition.name}" PARTITION OF events '
                        f"FOR VALUES FROM ('{partition.month.isoformat()}T00:00:00Z') "
                        f"TO ('{partition.end.isoformat()}T00:00:00Z')"
                    )
                made += 1
            except asyncpg.CheckViolationError:
                # the default partition already holds events of that month: they
                # stay there (a partition cannot be made over them)
                continue
    return made


async def maintain(conn: Connection, *, now: datetime, keep_from: datetime | None = None) -> int:
    """The partitions the server keeps ready: last month to a few months ahead,
    but none that ends at or before `keep_from` (retention's cutoff: it would
    drop such a partition again, every round)."""
    this = month_of(now)
    previous = date(this.year - (this.month == 1), (this.month - 2) % 12 + 1, 1)
    if keep_from is not None:
        previous = max(previous, month_of(keep_from))
    ahead = this
    for _ in range(MAINTAINED_AHEAD):
        ahead = next_month(ahead)
    return await ensure(
        conn,
        datetime(previous.year, previous.month, 1, tzinfo=UTC),
        datetime(ahead.year, ahead.month, 1, tzinfo=UTC),
        now=now,
    )
