"""Deterministic, idempotent demo data (`seed-demo`, `serve --demo`)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from importlib.resources import files

from db import partitions
from db.errors import BadInput
from db.pool import Connection
from db.queries import QUERIES

DEMO_USER_EMAIL = "ada@example.com"
MAX_SCALE = 100
# events in each demo environment at scale 1; at scale N, this divided by N:
# environments grow as N squared, so the events of the whole demo grow as N
# (2,000 x 54 = 108,000 at scale 1, 10.8 million at scale 100)
EVENTS_PER_ENVIRONMENT = 2_000
# how far back before `events_until` the demo events are spread (db/demo.sql)
EVENTS_SPAN = timedelta(days=90)
_SCRIPT = files("db").joinpath("demo.sql").read_text(encoding="utf-8")


def events_per_environment(scale: int) -> int:
    """The events of each demo environment at `scale`."""
    return EVENTS_PER_ENVIRONMENT // scale


def today() -> datetime:
    """Midnight UTC of today: demo events end there, so that two runs of a day
    store the same rows (a later day's run adds no events: their uuids exist)."""
    now = datetime.now(UTC)
    return datetime(now.year, now.month, now.day, tzinfo=UTC)


async def seed_demo(
    conn: Connection, scale: int = 1, *, events: int = 0, events_until: datetime | None = None
) -> dict[str, int]:
    """Load the demo data at `scale` (1 = 3 organizations, 9 projects, 18 models),
    with `events` events in each environment (`events_per_environment(scale)` for the
    demo; a few for tests), spread over the 90 days before `events_until` (default
    today); returns the row count of each table afterwards."""
    if not 1 <= scale <= MAX_SCALE:
        raise BadInput(f"scale must be between 1 and {MAX_SCALE}, not {scale}", field="scale")
    until = events_until or today()
    per_environment = events
    if per_environment:
        # in a transaction of their own, before the data: DDL on events must
        # not hold its lock through the whole load
        await partitions.ensure(
            conn, until - EVENTS_SPAN - timedelta(days=1), until, now=datetime.now(UTC)
        )
    async with conn.transaction():
        await conn.execute(QUERIES["set_demo_scale"], str(scale))
        for name, value in (
            ("envgraph.demo_events_per_environment", str(per_environment)),
            ("envgraph.demo_events_until", until.isoformat()),
        ):
            await conn.execute(QUERIES["set_local_setting"], name, value)
        await conn.execute(_SCRIPT)
    counts = await conn.fetchrow(QUERIES["demo_counts"])
    assert counts is not None
    return dict(counts.items())
