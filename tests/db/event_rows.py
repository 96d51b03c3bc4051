"""Events written straight with SQL, for the storage tests (partitions,
retention, upkeep): two environments of one project, events at given times,
event_ids and event_count set as ingestion would."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime

import asyncpg


@dataclass(frozen=True, slots=True)
class Environments:
    """Two environments of one model."""

    project: uuid.UUID
    a: uuid.UUID
    b: uuid.UUID


async def two_environments(conn: asyncpg.Connection) -> Environments:
    """An organization, project and model with two environments."""
    org, project, model, a, b = (uuid.uuid4() for _ in range(5))
    await conn.execute("INSERT INTO organizations (id, name) VALUES ($1, 'org')", org)
    await conn.execute(
        "INSERT INTO projects (id, organization_id, name, asset_type) "
        "VALUES ($1, $2, 'project', 'ML_MODEL')",
        project,
        org,
    )
    await conn.execute(
        "INSERT INTO models (id, project_id, name, version) VALUES ($1, $2, 'model', 'v1')",
        model,
        project,
    )
    for env, name in ((a, "a"), (b, "b")):
        await conn.execute(
            "INSERT INTO environments (id, model_id, project_id, name, type) "
            "VALUES ($1, $2, $3, $4, 'PRODUCTION')",
            env,
            model,
            project,
            name,
        )
    return Environments(project, a, b)


async def add_events(
    conn: asyncpg.Connection, envs: Environments, env: uuid.UUID, at: datetime, count: int
) -> None:
    """`count` events of `env` at `at`, with their event_ids rows and counted."""
    ids = [uuid.uuid4() for _ in range(count)]
    await conn.execute(
        "INSERT INTO event_ids (id, environment_id) SELECT unnest($1::uuid[]), $2", ids, env
    )
    await conn.execute(
        'INSERT INTO events (id, environment_id, project_id, "timestamp", event, distinct_id) '
        "SELECT unnest($1::uuid[]), $2, $3, $4, 'prediction', 'user-1'",
        ids,
        env,
        envs.project,
        at,
    )
    await conn.execute(
        "UPDATE environments SET event_count = event_count + $2 WHERE id = $1", env, count
    )


async def counts(conn: asyncpg.Connection) -> dict[uuid.UUID, int]:
    """Each environment's event_count."""
    rows = await conn.fetch("SELECT id, event_count FROM environments")
    return {row["id"]: row["event_count"] for row in rows}


async def true_counts(conn: asyncpg.Connection) -> dict[uuid.UUID, int]:
    """Each environment's events, counted."""
    rows = await conn.fetch(
        "SELECT e.id, count(v.id) AS n FROM environments e "
        "LEFT JOIN events v ON v.environment_id = e.id GROUP BY e.id"
    )
    return {row["id"]: row["n"] for row in rows}


async def partition_names(conn: asyncpg.Connection) -> list[str]:
    """The partitions of events, by name."""
    rows = await conn.fetch(
        "SELECT c.relname FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid "
        "WHERE i.inhparent = 'events'::regclass ORDER BY 1"
    )
    return [row["relname"] for row in rows]
