"""A nested list's page statement counts each parent's list once: its total and
its outside-the-page checks run per parent, not per fetched row (flattened into
the join with the rows, they ran once per row: 2.3 s instead of 0.55 s for a
page of environments under every model of a large demo)."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from typing import Any

import asyncpg

from db.demo import seed_demo
from db.entities import ENVIRONMENT
from db.lists import ListRequest
from db.pages import page_statement
from db.paging import window
from db.viewer import Viewer


def _subplans(plan: dict[str, Any]) -> Iterator[dict[str, Any]]:
    if "Subplan Name" in plan:
        yield plan
    for child in plan.get("Plans", ()):
        yield from _subplans(child)


async def test_each_parents_count_runs_once(conn: asyncpg.Connection) -> None:
    await seed_demo(conn, 1)
    models = [r["id"] for r in await conn.fetch("SELECT id FROM models ORDER BY id")]
    fetched = await conn.fetchval(
        "SELECT sum(least(n, 3)) FROM (SELECT count(*) AS n FROM environments GROUP BY model_id) c"
    )
    assert fetched > len(models)  # more fetched rows than parents, or the test says nothing
    viewer = Viewer(uuid.UUID(int=1), "root@example.com", "Root", frozenset({"*"}), True)
    request = ListRequest(ENVIRONMENT)
    win = window(
        request, first=2, after=None, last=None, before=None, offset=None,
        default_size=20, max_size=100,
    )  # fmt: skip
    sql, values, _ = page_statement(
        request, viewer, win, parent_column="model_id", parent_ids=models, with_total=True
    )
    explained = await conn.fetchval(f"EXPLAIN (ANALYZE, FORMAT JSON) {sql}", *values)
    subplans = list(_subplans(json.loads(explained)[0]["Plan"]))
    assert subplans  # the count and the outside checks
    assert {s["Actual Loops"] for s in subplans} == {len(models)}, [
        (s["Subplan Name"], s["Actual Loops"]) for s in subplans
    ]
