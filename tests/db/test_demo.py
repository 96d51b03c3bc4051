"""Demo data: deterministic and idempotent."""

from __future__ import annotations

import hashlib
import uuid

import asyncpg
import pytest

from db.demo import seed_demo
from db.errors import BadInput

SCALE_1 = {
    "organizations": 3,
    "projects": 9,
    "models": 18,
    "environments": 54,
    "segments": 54,
    "users": 3,
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


@pytest.mark.parametrize("scale", [0, 101])
async def test_scale_out_of_range(conn: asyncpg.Connection, scale: int) -> None:
    with pytest.raises(BadInput, match=f"scale must be between 1 and 100, not {scale}"):
        await seed_demo(conn, scale)
