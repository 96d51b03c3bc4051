"""Enum filters compare the column itself with enum values, so that the planner
estimates their rows from the column's statistics (cast to text, the column had
none: 8 rows estimated for 20,907 in the bench's database), and a label that is
not the enum's is bad input before any SQL."""

from __future__ import annotations

import json
import uuid

import asyncpg
import pytest

from db.binder import Binder
from db.demo import seed_demo
from db.entities import ENVIRONMENT
from db.errors import BadInput
from db.filters import Compare, where
from db.viewer import Viewer

ROOT = Viewer(uuid.UUID(int=1), "root@example.com", "Root", frozenset({"*"}), True)


async def _estimated_and_actual(conn: asyncpg.Connection, test: Compare) -> tuple[int, int]:
    bind = Binder()
    sql = f"SELECT * FROM environments t WHERE {where(ENVIRONMENT, 't', test, ROOT, bind)}"
    explained = await conn.fetchval(f"EXPLAIN (ANALYZE, FORMAT JSON) {sql}", *bind.values)
    plan = json.loads(explained)[0]["Plan"]
    return plan["Plan Rows"], plan["Actual Rows"]


async def test_enum_filters_are_estimated_from_the_columns_statistics(
    conn: asyncpg.Connection,
) -> None:
    await seed_demo(conn, 1)
    # many rows of one type, few of the other: a default guess is far off
    model = await conn.fetchval("SELECT id FROM models ORDER BY id LIMIT 1")
    await conn.execute(
        "INSERT INTO environments (model_id, project_id, name, type, kind)"
        " SELECT m.id, m.project_id, 'bulk-' || n, 'PRE_PRODUCTION', 'CUSTOM'"
        " FROM models m, generate_series(1, 3000) n WHERE m.id = $1",
        model,
    )
    await conn.execute("ANALYZE environments")
    for test in (
        Compare("type", "eq", "PRE_PRODUCTION"),
        Compare("type", "in", ["PRE_PRODUCTION"]),
        Compare("type", "neq", "PRODUCTION"),
        Compare("type", "not_in", ["PRODUCTION"]),
        Compare("kind", "eq", "PRODUCTION"),
    ):
        estimated, actual = await _estimated_and_actual(conn, test)
        assert actual > 0
        assert 0.8 < estimated / actual < 1.25, (test, estimated, actual)


@pytest.mark.parametrize("value", ["STAGING", ["PRODUCTION", "nope"]])
def test_a_label_not_of_the_enum_is_bad_input(value: object) -> None:
    op = "in" if isinstance(value, list) else "eq"
    with pytest.raises(BadInput) as raised:
        where(ENVIRONMENT, "t", Compare("type", op, value), ROOT, Binder())
    assert (raised.value.field, raised.value.message) == (
        "filter",
        f"type has no value {'STAGING' if op == 'eq' else 'nope'!r}",
    )
