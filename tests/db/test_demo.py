"""Demo data: deterministic and idempotent."""

from __future__ import annotations

import hashlib
import uuid
from collections import Counter
from datetime import UTC, datetime, timedelta

import asyncpg
import pytest

from db.demo import events_per_environment, seed_demo
from db.errors import BadInput
from db.partitions import month_of

SCALE_1 = {
    "organizations": 3,
    "projects": 9,
    "models": 18,
    "environments": 54,
    "segments": 54,
    "users": 3,
    "events": 0,  # events only when asked for (the CLI does)
}


async def test_seed_is_idempotent(conn: asyncpg.Connection) -> None:
    assert await seed_demo(conn, 1) == SCALE_1
    assert await seed_demo(conn, 1) == SCALE_1


async def test_a_larger_scale_adds_to_the_smaller(conn: asyncpg.Connection) -> None:
    await seed_demo(conn, 1)
    counts = await seed_demo(conn, 2)
    assert counts == {**SCALE_1, "projects": 18, "models": 72, "environments": 216, "segments": 216}


def _md5_uuid(path: str) -> uuid.UUID:
    return uuid.UUID(hashlib.md5(path.encode()).hexdigest())


async def test_seed_is_deterministic(conn: asyncpg.Connection) -> None:
    # every id is the md5 of a path and every value derives from it, so the
    # same rows appear on every database, every run
    await seed_demo(conn, 1)
    org = _md5_uuid("envgraph-demo/org/1")
    project = _md5_uuid("envgraph-demo/org/1/project/1")
    model = _md5_uuid(f"{project}/model/1")
    row = await conn.fetchrow(
        """
        SELECT o.id AS org, o.name AS org_name, p.id AS project, p.name AS project_name,
               m.id AS model, m.name AS model_name, m.version, e.id AS env, e.row_count
        FROM environments e JOIN models m ON m.id = e.model_id
        JOIN projects p ON p.id = m.project_id JOIN organizations o ON o.id = p.organization_id
        WHERE e.name = 'production' AND m.id = $1
        """,
        model,
    )
    assert row is not None
    assert dict(row) == {
        "org": org,
        "org_name": "Acme Analytics",
        "project": project,
        "project_name": "fraud-detection",
        "model": model,
        "model_name": "xgb-classifier",
        "version": "v1",
        "env": _md5_uuid(f"{model}/environment/production"),
        "row_count": int(hashlib.md5(f"{model}production".encode()).hexdigest()[:5], 16) * 10,
    }


async def test_tenants_and_roles(conn: asyncpg.Connection) -> None:
    await seed_demo(conn, 1)
    rows = await conn.fetch(
        """
        SELECT u.email, o.name, m.role::text FROM organization_members m
        JOIN users u ON u.id = m.user_id JOIN organizations o ON o.id = m.organization_id
        ORDER BY 1, 2
        """
    )
    assert [tuple(r) for r in rows] == [
        ("ada@example.com", "Acme Analytics", "ADMIN"),
        ("ada@example.com", "Globex Research", "ADMIN"),
        ("alan@example.com", "Initech Labs", "ADMIN"),
        ("grace@example.com", "Acme Analytics", "MEMBER"),
    ]
    project_roles = await conn.fetch(
        "SELECT p.name, m.role::text FROM project_members m JOIN projects p ON p.id = m.project_id "
        "ORDER BY 1"
    )
    assert [tuple(r) for r in project_roles] == [
        ("churn-prediction", "VIEWER"),
        ("fraud-detection", "EDITOR"),
    ]
    types = await conn.fetch(
        "SELECT type::text, protected, count(*) FROM environments GROUP BY 1, 2 ORDER BY 1"
    )
    assert [tuple(r) for r in types] == [("PRE_PRODUCTION", False, 36), ("PRODUCTION", True, 18)]
    # each model's environments: a stage each, in their display order from 0
    stages = await conn.fetch(
        "SELECT name, kind::text, type::text, sort_order, enabled, count(*) FROM environments "
        "GROUP BY 1, 2, 3, 4, 5 ORDER BY sort_order"
    )
    assert [tuple(r) for r in stages] == [
        ("training", "DEVELOPMENT", "PRE_PRODUCTION", 0, True, 18),
        ("validation", "STAGING", "PRE_PRODUCTION", 1, True, 18),
        ("production", "PRODUCTION", "PRODUCTION", 2, True, 18),
    ]


@pytest.mark.parametrize("scale", [0, 101])
async def test_scale_out_of_range(conn: asyncpg.Connection, scale: int) -> None:
    with pytest.raises(BadInput, match=f"scale must be between 1 and 100, not {scale}"):
        await seed_demo(conn, scale)


UNTIL = datetime(2025, 6, 15, tzinfo=UTC)
_NAMES = ("prediction",) * 16 + ("feedback",) * 3 + ("drift_alert",)


def _event(environment: uuid.UUID, n: int, per_environment: int) -> dict[str, object]:
    """What db/demo.sql derives for event `n` of an environment, redone here."""
    values = hashlib.md5(f"{environment}/event/{n}/values".encode()).digest()
    at = UNTIL - timedelta(seconds=n * 7776000 / per_environment)
    return {
        "id": _md5_uuid(f"{environment}/event/{n}"),
        "timestamp": at,
        "event": _NAMES[values[0] % 20],
        "distinct_id": f"user-{values[2] % 200:03d}",
        "model_version": f"v{1 + values[4] % 3}",
        "age": 18 + values[13] % 60,
    }


async def test_events_exact_counted_and_idempotent(conn: asyncpg.Connection) -> None:
    counts = await seed_demo(conn, 1, events=events_per_environment(1), events_until=UNTIL)
    assert counts == {**SCALE_1, "events": 54 * 2000}
    environments = [r["id"] for r in await conn.fetch("SELECT id FROM environments")]
    expected = [_event(env, n, 2000) for env in environments for n in range(1, 2001)]
    # one event, every derived value
    sample = expected[1234]
    row = await conn.fetchrow(
        'SELECT id, "timestamp", event, distinct_id,'
        " properties->>'model_version' AS model_version,"
        " (properties->'features'->>'age')::int AS age FROM events WHERE id = $1",
        sample["id"],
    )
    assert row is not None
    assert dict(row) == sample
    # the whole set: names, months (partitions), counts, uuids
    names = await conn.fetch("SELECT event, count(*) FROM events GROUP BY 1")
    assert {r[0]: r[1] for r in names} == Counter(e["event"] for e in expected)
    months = await conn.fetch("SELECT tableoid::regclass::text, count(*) FROM events GROUP BY 1")
    assert {r[0]: r[1] for r in months} == Counter(
        f"events_p{month_of(e['timestamp']):%Y_%m}"  # type: ignore[arg-type]
        for e in expected
    )
    assert await conn.fetchval("SELECT count(*) FROM environments WHERE event_count <> 2000") == 0
    assert (
        await conn.fetchval(
            "SELECT count(*) FROM event_ids i JOIN events e USING (id, environment_id)"
        )
        == 108_000
        == await conn.fetchval("SELECT count(*) FROM event_ids")
    )
    # the properties' kinds: numbers, strings, booleans, a null, a nested object
    kinds = await conn.fetch(
        "SELECT k, array_agg(DISTINCT jsonb_typeof(v) ORDER BY jsonb_typeof(v)) AS kinds, count(*)"
        " FROM events, jsonb_each(properties) AS p (k, v) GROUP BY k ORDER BY k"
    )
    assert [tuple(r) for r in kinds] == [
        ("amount", ["number"], 108_000),
        ("country", ["string"], 108_000),
        ("features", ["object"], 108_000),
        ("is_test", ["boolean"], 108_000),
        ("label", ["string"], 108_000),
        ("latency_ms", ["number"], 108_000),
        ("model_version", ["string"], 108_000),
        ("predicted", ["boolean"], 108_000),
        ("reviewer", ["null"], 108_000),
        ("score", ["number"], 108_000),
    ]
    # again, even on another day: nothing added, nothing counted twice
    later = UNTIL + timedelta(days=1)
    assert await seed_demo(conn, 1, events=events_per_environment(1), events_until=later) == counts
    # a larger scale: fewer events per environment (1,000), the new ones get theirs
    counts = await seed_demo(conn, 2, events=events_per_environment(2), events_until=UNTIL)
    assert counts["events"] == 54 * 2000 + (216 - 54) * 1000
    per_environment = await conn.fetch(
        "SELECT event_count, count(*) FROM environments GROUP BY 1 ORDER BY 1"
    )
    assert [tuple(r) for r in per_environment] == [(1000, 162), (2000, 54)]
