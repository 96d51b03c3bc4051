"""What the ingestion tests share: demo environments, generated events, and
what the database holds after an ingestion."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import asyncpg

from schema.ids import global_id

BASE_TIME = datetime(2024, 5, 1, tzinfo=UTC)


async def environment_uuid(
    conn: asyncpg.Connection,
    organization: str = "Acme Analytics",
    project: str = "fraud-detection",
    name: str = "production",
) -> uuid.UUID:
    """A demo environment (of the model xgb-classifier v1)."""
    found: uuid.UUID | None = await conn.fetchval(
        """SELECT e.id FROM environments e JOIN models m ON m.id = e.model_id
           JOIN projects p ON p.id = m.project_id
           JOIN organizations o ON o.id = p.organization_id
           WHERE o.name = $1 AND p.name = $2 AND e.name = $3
             AND m.name = 'xgb-classifier' AND m.version = 'v1'""",
        organization,
        project,
        name,
    )
    assert found is not None
    return found


def environment_id(environment: uuid.UUID) -> str:
    """The global id of an environment."""
    return global_id("Environment", environment)


def event_uuid(n: int) -> uuid.UUID:
    """The uuid of generated event number `n` (stable between calls)."""
    return uuid.uuid5(uuid.NAMESPACE_URL, f"envgraph-test/event/{n}")


def event(n: int, **overrides: Any) -> dict[str, Any]:
    """Generated event number `n`, as an EventInput object."""
    fields: dict[str, Any] = {
        "uuid": str(event_uuid(n)),
        "timestamp": (BASE_TIME + timedelta(seconds=n)).isoformat(),
        "event": "prediction",
        "distinctId": f"user-{n % 97}",
        "properties": {"n": n, "score": n / 7, "label": "yes" if n % 2 else "no"},
    }
    fields.update(overrides)
    return fields


def ndjson(events: list[dict[str, Any]]) -> bytes:
    """Events as NDJSON."""
    return b"".join(json.dumps(e).encode() + b"\n" for e in events)


async def stored(conn: asyncpg.Connection, environment: uuid.UUID) -> tuple[int, int, int]:
    """(rows in events, rows in event_ids, environments.event_count) of an environment."""
    row = await conn.fetchrow(
        """SELECT (SELECT count(*) FROM events WHERE environment_id = $1) AS events,
                  (SELECT count(*) FROM event_ids WHERE environment_id = $1) AS ids,
                  (SELECT event_count FROM environments WHERE id = $1) AS counted""",
        environment,
    )
    assert row is not None
    return row["events"], row["ids"], row["counted"]


async def total_stored(conn: asyncpg.Connection) -> tuple[int, int, int]:
    """The same over every environment."""
    row = await conn.fetchrow(
        """SELECT (SELECT count(*) FROM events) AS events, (SELECT count(*) FROM event_ids) AS ids,
                  (SELECT sum(event_count) FROM environments) AS counted"""
    )
    assert row is not None
    return row["events"], row["ids"], row["counted"]
