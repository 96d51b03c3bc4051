"""The common series (one environment, 30 days by DAY, broken down by event name)
reads only that environment's window: its events through the (environment_id,
timestamp) index of the one monthly partition the window falls in."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

import asyncpg

from db.binder import Binder
from db.demo import seed_demo
from db.entities import EVENT
from db.lists import ListRequest
from db.series import series_request, series_sql
from db.viewer import Viewer
from tests.schema.events_support import Event, environment_of, insert_events


def _scans(plan: dict[str, Any]) -> list[dict[str, Any]]:
    found = [plan] if "Relation Name" in plan or "Index Name" in plan else []
    for child in plan.get("Plans", ()):
        found += _scans(child)
    return found


async def test_a_thirty_day_series_reads_one_environments_window(
    conn: asyncpg.Connection,
) -> None:
    await seed_demo(conn, 1, events=1, events_until=datetime(2026, 12, 1, tzinfo=UTC))
    acme = await environment_of(conn, "Acme Analytics")
    other = await environment_of(conn, "Globex Research")
    start = datetime(2026, 1, 1, tzinfo=UTC)
    # January to April: Acme's environment an event every 7 hours, its neighbour's
    # (another tenant's) one every 10 minutes, so that the window is a small part
    for environment, prefix, minutes in ((acme, "a", 7 * 60), (other, "o", 10)):
        events = [
            Event(f"{prefix}{n}", start + timedelta(minutes=minutes * n), event=f"e{n % 3}")
            for n in range(4 * 30 * 24 * 60 // minutes)
        ]
        await insert_events(conn, environment, events)
    await conn.execute("ANALYZE events")
    ada = await conn.fetchval("SELECT id FROM users WHERE email = 'ada@example.com'")
    viewer = Viewer(ada, "ada@example.com", "Ada", frozenset({"*"}), superuser=False)
    request = series_request(
        ListRequest(EVENT),
        datetime(2026, 3, 1, tzinfo=UTC),
        datetime(2026, 3, 31, tzinfo=UTC),
        "DAY",
        "UTC",
        breakdown="EVENT",
        limit=10,
    )
    bind = Binder()
    wanted = bind(acme)
    sql = f"SELECT {series_sql(request, viewer, bind, f'{wanted}::uuid')}"
    plan = json.loads(await conn.fetchval(f"EXPLAIN (FORMAT JSON) {sql}", *bind.values))
    scans = [s for s in _scans(plan[0]["Plan"]) if s.get("Relation Name", "").startswith("events")]
    assert {s["Relation Name"] for s in scans} == {"events_p2026_03"}, scans
    for scan in scans:  # an index scan, or a bitmap heap scan over index scans
        indexes = [scan] if "Index Name" in scan else scan["Plans"]
        for index in indexes:
            assert "environment" in index["Index Name"], index
            condition = index["Index Cond"]
            assert "environment_id" in condition, condition
            assert "timestamp" in condition, condition


def _aggregates(plan: dict[str, Any]) -> list[dict[str, Any]]:
    found = [plan] if plan["Node Type"] == "Aggregate" else []
    for child in plan.get("Plans", ()):
        found += _aggregates(child)
    return found


async def test_a_one_line_percentile_without_its_total_aggregates_the_window_once(
    conn: asyncpg.Connection,
) -> None:
    """The line's total of a percentile is a second percentile over the whole window
    (grouping sets): a series whose `total` is not selected skips it, and its
    values stay the same."""
    await seed_demo(conn, 1, events=1, events_until=datetime(2026, 12, 1, tzinfo=UTC))
    acme = await environment_of(conn, "Acme Analytics")
    start = datetime(2026, 6, 1, tzinfo=UTC)
    events = [Event(f"p{n}", start + timedelta(minutes=7 * n), {"ms": n % 50}) for n in range(400)]
    await insert_events(conn, acme, events)
    ada = await conn.fetchval("SELECT id FROM users WHERE email = 'ada@example.com'")
    viewer = Viewer(ada, "ada@example.com", "Ada", frozenset({"*"}), superuser=False)
    request = series_request(
        ListRequest(EVENT),
        start,
        start + timedelta(days=1),
        "HOUR",
        "UTC",
        measure="P95",
        value="ms",
    )
    answers, strategies = [], []  # (the answer, its grouping-set aggregations)
    for totals in (True, False):
        bind = Binder()
        wanted = bind(acme)
        sql = (
            f"SELECT {series_sql(replace(request, totals=totals), viewer, bind, f'{wanted}::uuid')}"
        )
        answers.append(json.loads(await conn.fetchval(f"{sql}::text", *bind.values)))
        plan = json.loads(await conn.fetchval(f"EXPLAIN (FORMAT JSON) {sql}", *bind.values))
        grouped = [a for a in _aggregates(plan[0]["Plan"]) if "Grouping Sets" in a]
        strategies.append(grouped)
    with_totals, without = answers
    assert [line["values"] for line in without["lines"]] == [
        line["values"] for line in with_totals["lines"]
    ]
    assert len(with_totals["lines"][0]["values"]) == 24
    assert with_totals["lines"][0]["total"] == 47.0
    assert without["lines"][0]["total"] is None
    # with the total: cells and totals in one aggregation over grouping sets
    # (bucket; and the whole window); without it, no grouping sets
    (grouping,) = strategies[0]
    assert len(grouping["Grouping Sets"]) == 1, grouping
    assert grouping["Grouping Sets"][0]["Group Keys"][-1] == [], grouping
    assert strategies[1] == []
