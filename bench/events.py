"""The benchmark's events: their shape, made in Python exactly as
bench/generate_events.sql makes them in SQL, and the raw-COPY baseline of
ingestion.

An event is numbered (k, n): k its environment (1.. in id order), n its place
in that environment (1 is the newest). Every value derives from (k, n) by
integer arithmetic, so that Python and SQL agree to the millisecond; the uuid
is the md5 of a path under a namespace: "event" for the generated rows,
another one (say "ingest") for rows to upload, which then do not collide.

For the scenarios to come (window page with a property filter, deep page by
cursor, bulk ingestion): `window` is a one-hour window in the middle of the
span, `csv_body` the bytes both the raw COPY and an upload would send.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import tempfile
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from db.pool import Connection

# the generated events end here (fixed: every run, every system, the same rows)
UNTIL = datetime(2024, 7, 1, tzinfo=UTC)
SPAN = timedelta(days=90)  # three monthly partitions and a bit of a fourth
# what an upload sends, as bulk ingestion takes it (API.md, "Events")
INGEST_COLUMNS = ("uuid", "timestamp", "event", "distinct_id", "person_id", "properties")
# the same rows as COPY takes them: the upload's environment is in its URL
COPY_COLUMNS = (
    "environment_id",
    "project_id",
    "id",
    "timestamp",
    "event",
    "distinct_id",
    "person_id",
    "properties",
)
_LABELS = ("legit", "fraud", "churn", "stay")
_COUNTRIES = ("US", "GB", "DE", "FR", "JP", "BR", "IN", "NG")
_SEGMENTS = ("new", "loyal", "at-risk")


@dataclass(frozen=True, slots=True)
class Event:
    """One event's values."""

    id: uuid.UUID
    timestamp: datetime
    received_at: datetime
    event: str
    distinct_id: str
    person_id: uuid.UUID | None
    properties: dict[str, Any]


def _md5_uuid(path: str) -> uuid.UUID:
    return uuid.UUID(hashlib.md5(path.encode()).hexdigest())


def span_ms() -> int:
    """The span of the generated events, in milliseconds."""
    return int(SPAN.total_seconds()) * 1000


def event(k: int, n: int, per_environment: int, namespace: str = "event") -> Event:
    """Event n of environment k, as generate_events.sql makes it."""
    at = UNTIL - timedelta(milliseconds=n * span_ms() // per_environment)
    user = (n * 31 + k) % 5000
    kind = n % 20
    return Event(
        id=_md5_uuid(f"envgraph-bench/{namespace}/{k}/{n}"),
        timestamp=at,
        received_at=at + timedelta(milliseconds=n % 1000),
        event="prediction" if kind < 16 else "feedback" if kind < 19 else "drift_alert",
        distinct_id=f"user-{user}",
        person_id=_md5_uuid(f"envgraph-bench/person/{user}") if n % 4 else None,
        properties={
            "model_version": f"v{1 + n % 3}",
            "score": (n * 7919) % 1000 / 1000,
            "latency_ms": 5 + (n * 13 + k) % 500,
            "label": _LABELS[(n + k) % 4],
            "predicted": n % 2 == 0,
            "country": _COUNTRIES[(n * 7 + k) % 8],
            "amount": (n * 104729) % 100000 / 100,
            "is_test": n % 10 == 0,
            "reviewer": None,
            "features": {
                "age": 18 + (n * 17 + k) % 60,
                "tenure_days": (n * 3) % 1000,
                "segment": _SEGMENTS[(n + 2 * k) % 3],
            },
        },
    )


def window(hour: int = 0) -> tuple[datetime, datetime]:
    """A one-hour window (since, until) in the middle of the span, `hour` hours on."""
    since = UNTIL - SPAN / 2 + timedelta(hours=hour)
    return since, since + timedelta(hours=1)


def _cells(e: Event) -> list[str]:
    return [
        str(e.id),
        e.timestamp.isoformat(),
        e.event,
        e.distinct_id,
        "" if e.person_id is None else str(e.person_id),
        json.dumps(e.properties, separators=(",", ":")),
    ]


def csv_body(
    events: Iterator[Event],
    *,
    header: bool,
    environment: tuple[uuid.UUID, uuid.UUID] | None = None,
    chunk_rows: int = 10_000,
) -> Iterator[bytes]:
    """CSV of `events`, in chunks: as an upload sends it (INGEST_COLUMNS, with a
    header row), or with `environment` (its id and project) as COPY takes it."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    if header:
        writer.writerow(INGEST_COLUMNS)
    prefix = [] if environment is None else [str(environment[0]), str(environment[1])]
    for rows, e in enumerate(events, 1):
        writer.writerow(prefix + _cells(e))
        if rows % chunk_rows == 0:
            yield buffer.getvalue().encode()
            buffer.seek(0)
            buffer.truncate()
    if buffer.tell():
        yield buffer.getvalue().encode()


@dataclass(frozen=True, slots=True)
class CopyRate:
    """What the raw COPY baseline measured."""

    rows: int
    seconds: float

    @property
    def rows_per_s(self) -> float:
        """Rows a second."""
        return self.rows / self.seconds


async def raw_copy(
    conn: Connection, k: int, count: int, *, per_environment: int, namespace: str = "ingest"
) -> CopyRate:
    """The bound of bulk ingestion: `count` events of environment k (uuids
    under `namespace`) sent as CSV by one COPY into events, the same table,
    indexes and partitions; timed to the end of the COPY, then rolled back so
    the database stays as generated (event_ids and counts untouched)."""
    target = await conn.fetchrow(
        "SELECT id, project_id FROM environments ORDER BY id OFFSET $1 LIMIT 1", k - 1
    )
    if target is None:
        raise ValueError(f"no environment number {k}")
    rows = (event(k, n, per_environment, namespace) for n in range(1, count + 1))
    with tempfile.NamedTemporaryFile(prefix="envgraph-copy-", suffix=".csv") as file:
        # written out first: the bound times PostgreSQL's COPY, not Python's CSV
        for chunk in csv_body(rows, header=False, environment=(target["id"], target["project_id"])):
            file.write(chunk)
        file.flush()
        transaction = conn.transaction()
        await transaction.start()
        try:
            started = time.perf_counter()
            await conn.copy_to_table(
                "events", source=Path(file.name), columns=list(COPY_COLUMNS), format="csv"
            )
            seconds = time.perf_counter() - started
        finally:
            await transaction.rollback()
    return CopyRate(count, seconds)
