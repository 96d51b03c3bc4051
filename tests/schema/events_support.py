"""Events written straight into the tables, for the read tests (ingestion has its
own tests): partitions made, uuids recorded, counts kept, as ingestion keeps them."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any
from uuid import UUID, uuid5

import asyncpg

from db import partitions

NAMESPACE = UUID("6f1e8a52-0c0b-4d5e-9a43-2f4a3c1d7e90")
NOW = datetime(2026, 12, 3, tzinfo=UTC)


@dataclass(frozen=True)
class Event:
    """An event of a test: `name` makes its uuid."""

    name: str
    timestamp: datetime
    properties: dict[str, Any] = field(default_factory=dict)
    event: str = "prediction"
    distinct_id: str = "user-1"
    person_id: UUID | None = None

    @property
    def uuid(self) -> UUID:
        return uuid5(NAMESPACE, self.name)


async def environment_of(conn: asyncpg.Connection, organization: str) -> UUID:
    """The first environment (by name) of an organization of the demo data."""
    found: UUID = await conn.fetchval(
        "SELECT e.id FROM environments e JOIN projects p ON p.id = e.project_id "
        "JOIN organizations o ON o.id = p.organization_id WHERE o.name = $1 "
        "ORDER BY p.name, e.name, e.id LIMIT 1",
        organization,
    )
    return found


async def insert_events(
    conn: asyncpg.Connection, environment: UUID, events: Sequence[Event]
) -> None:
    """Store `events` in `environment` as ingestion would."""
    times = [e.timestamp for e in events]
    await partitions.ensure(conn, min(times), max(times), now=NOW)
    async with conn.transaction():
        project = await conn.fetchval(
            "SELECT project_id FROM environments WHERE id = $1", environment
        )
        await conn.executemany(
            "INSERT INTO event_ids (id, environment_id) VALUES ($1, $2)",
            [(e.uuid, environment) for e in events],
        )
        await conn.executemany(
            "INSERT INTO events (id, environment_id, project_id, timestamp, received_at, event, "
            "distinct_id, person_id, properties) "
            "VALUES ($1, $2, $3, $4, $4, $5, $6, $7, $8::jsonb)",
            [
                (
                    e.uuid,
                    environment,
                    project,
                    e.timestamp,
                    e.event,
                    e.distinct_id,
                    e.person_id,
                    json.dumps(e.properties),
                )
                for e in events
            ],
        )
        await conn.execute(
            "UPDATE environments SET event_count = event_count + $2 WHERE id = $1",
            environment,
            len(events),
        )


async def series_environment(conn: asyncpg.Connection, events: Sequence[Event]) -> UUID:
    """Acme's first environment holding `events` only; its neighbour in the same
    project holds copies at the same times, which the first one's figures must
    never count."""
    environment = await environment_of(conn, "Acme Analytics")
    await conn.execute("DELETE FROM events WHERE environment_id = $1", environment)
    await insert_events(conn, environment, events)
    neighbour = await conn.fetchval(
        "SELECT id FROM environments WHERE project_id = (SELECT project_id FROM environments "
        "WHERE id = $1) AND id <> $1 ORDER BY name LIMIT 1",
        environment,
    )
    copies = [Event(f"n-{e.name}", e.timestamp, e.properties, e.event) for e in events]
    await insert_events(conn, neighbour, copies)
    return environment
