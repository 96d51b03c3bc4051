"""Differential, property-based: `eventSeries` under random windows, intervals,
time zones, measures, breakdowns, limits and filters, on both executors (answered
alike, the compiled one by itself), against the same series computed in Python
from the events the environment's list returns for the same window and filter.

`SERIES_EXAMPLES` sets how many queries (default 100)."""

from __future__ import annotations

import math
import os
import random
from collections import defaultdict
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import UUID
from zoneinfo import ZoneInfo

import asyncpg
import pytest
from hypothesis import given
from hypothesis import strategies as st

from schema.ids import global_id
from tests.schema.compiled_support import differential, resolver_client, same_data
from tests.schema.conftest import Tokens
from tests.schema.events_support import Event, series_environment
from tests.support import Client

__all__ = ["resolver_client"]

EXAMPLES = int(os.environ.get("SERIES_EXAMPLES", "100"))
# the events span Berlin's spring change (2026-03-29) and end of a month
START = datetime(2026, 3, 25, tzinfo=UTC)
HOURS = 10 * 24
NAMES = ["view", "click", "buy", "signup"]
PLANS = ["pro", "free", "team"]

SERIES = """
query ($env: ID!, $since: DateTime!, $until: DateTime!, $interval: Interval!, $zone: String,
       $measure: EventMeasure, $breakdown: EventBreakdown, $limit: Int, $filter: EventFilter) {
  environment(id: $env) {
    eventSeries(since: $since, until: $until, interval: $interval, timeZone: $zone,
                measure: $measure, breakdown: $breakdown, limit: $limit, filter: $filter) {
      buckets lines { key values total } other { key values total }
    }
  }
}
"""
EVENTS = """
query ($env: ID!, $since: DateTime!, $until: DateTime!, $filter: EventFilter, $after: String) {
  environment(id: $env) {
    events(since: $since, until: $until, filter: $filter, first: 100, after: $after) {
      nodes { timestamp event distinctId personId properties }
      pageInfo { hasNextPage endCursor }
    }
  }
}
"""


def _events() -> list[Event]:
    rng = random.Random(22)
    made = []
    for n in range(300):
        moment = START + timedelta(seconds=rng.randrange(HOURS * 3600))
        properties: dict[str, Any] = {}
        score = rng.choice([None, "int", "float", "text", "bool"])
        if score == "int":
            properties["score"] = rng.randrange(100)
        elif score == "float":
            properties["score"] = round(rng.uniform(-5, 5), 3)
        elif score == "text":
            properties["score"] = "high"
        elif score == "bool":
            properties["score"] = True
        if rng.random() < 0.8:
            properties["plan"] = rng.choice(PLANS)
        person = rng.choice([None, UUID(int=1), UUID(int=2), UUID(int=3)])
        made.append(
            Event(f"s{n}", moment, properties, rng.choice(NAMES), f"u{rng.randrange(7)}", person)
        )
    return made


@pytest.fixture
async def env(conn: asyncpg.Connection, tokens: Tokens) -> str:
    """Acme's first environment with the events above; its neighbour has copies,
    which its series never count."""
    environment = await series_environment(conn, _events())
    return global_id("Environment", environment)


def _local(moment: datetime, zone: ZoneInfo) -> datetime:
    return moment.astimezone(zone).replace(tzinfo=None)


def _instant(local: datetime, zone: ZoneInfo) -> datetime:
    return local.replace(tzinfo=zone).astimezone(UTC)


def _truncated(local: datetime, interval: str) -> datetime:
    if interval == "HOUR":
        return local.replace(minute=0, second=0, microsecond=0)
    day = local.replace(hour=0, minute=0, second=0, microsecond=0)
    if interval == "WEEK":
        return day - timedelta(days=day.weekday())
    return day.replace(day=1) if interval == "MONTH" else day


def _next(local: datetime, interval: str) -> datetime:
    if interval == "MONTH":
        return local.replace(year=local.year + local.month // 12, month=local.month % 12 + 1)
    return local + {"DAY": timedelta(days=1), "WEEK": timedelta(weeks=1)}[interval]


def _buckets(
    since: datetime, until: datetime, interval: str, zone: ZoneInfo
) -> tuple[list[datetime], Callable[[datetime], datetime]]:
    """The buckets' starts, and the bucket of an instant (each as an instant)."""
    if interval == "HOUR":  # fixed lengths from `since` floored in the zone
        origin = _instant(_truncated(_local(since, zone), "HOUR"), zone)
        step = timedelta(hours=1)
        starts, at = [], origin
        while at < until:
            starts.append(at)
            at += step
        return starts, lambda t: origin + step * ((t - origin) // step)
    local, end, starts = _truncated(_local(since, zone), interval), _local(until, zone), []
    while local <= end:
        if _instant(local, zone) < until:
            starts.append(_instant(local, zone))
        local = _next(local, interval)
    return starts, lambda t: _instant(_truncated(_local(t, zone), interval), zone)


def _percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    position = p * (len(ordered) - 1)
    low, high = math.floor(position), math.ceil(position)
    return ordered[low] + (ordered[high] - ordered[low]) * (position - low)


_COUNTS: dict[str, Callable[[list[dict[str, Any]]], int]] = {
    "COUNT": len,
    "DISTINCT_IDS": lambda rows: len({r["distinctId"] for r in rows}),
    "PERSONS": lambda rows: len({r["personId"] for r in rows if r["personId"] is not None}),
}
_OF_VALUES: dict[str, Callable[[list[float]], float]] = {
    "SUM": sum,
    "AVG": lambda values: sum(values) / len(values),
    "MIN": min,
    "MAX": max,
}


# the measures whose total db/series.py takes from the cells
_CELLS_TOTAL: dict[str, Callable[[list[float]], float]] = {
    "COUNT": sum,
    "SUM": sum,
    "MIN": min,
    "MAX": max,
}


def _measure(kind: str, rows: list[dict[str, Any]]) -> float | None:
    if kind in _COUNTS:
        return float(_COUNTS[kind](rows))
    scores = [r["properties"].get("score") for r in rows]
    values = [float(s) for s in scores if isinstance(s, int | float) and not isinstance(s, bool)]
    if not values:
        return None
    if kind in _OF_VALUES:
        return _OF_VALUES[kind](values)
    return _percentile(values, int(kind[1:]) / 100)


def _key(row: dict[str, Any], breakdown: str | None) -> Any:
    if breakdown == "EVENT":
        return row["event"]
    if breakdown == "DISTINCT_ID":
        return row["distinctId"]
    if breakdown == "PROPERTY":
        return row["properties"].get("plan")
    return None


def _added(values: list[float | None]) -> float | None:
    present = [v for v in values if v is not None]
    return sum(present) if present else None


def expected_series(
    rows: list[dict[str, Any]],
    since: datetime,
    until: datetime,
    interval: str,
    zone: ZoneInfo,
    kind: str,
    breakdown: str | None,
    limit: int,
) -> dict[str, Any]:
    """The series as db/series.py defines it, over the listed rows."""
    starts, bucket_of = _buckets(since, until, interval, zone)
    empty = 0.0 if kind in ("COUNT", "DISTINCT_IDS", "PERSONS") else None
    cells: dict[Any, dict[datetime, list[dict[str, Any]]]] = defaultdict(lambda: defaultdict(list))
    for row in rows:
        moment = datetime.fromisoformat(row["timestamp"])
        cells[_key(row, breakdown)][bucket_of(moment)].append(row)
    keys = list(cells) if breakdown else [None]
    lines: list[dict[str, Any]] = []
    for key in keys:
        by_bucket = cells.get(key, {})
        values = [_measure(kind, by_bucket[b]) if by_bucket.get(b) else empty for b in starts]
        every = [r for bucket in by_bucket.values() for r in bucket]
        if kind in _CELLS_TOTAL:
            cell_values = [_measure(kind, bucket) for bucket in by_bucket.values()]
            present = [v for v in cell_values if v is not None]
            combine: Callable[[list[float]], float] = _CELLS_TOTAL[kind]
            total = combine(present) if present else (0.0 if kind == "COUNT" else None)
        else:
            total = _measure(kind, every)
        lines.append({"key": key, "values": values, "total": total})
    # largest total first (nulls last), then key (nulls last)
    lines.sort(key=lambda ln: (ln["total"] is None, -(ln["total"] or 0), ln["key"] is None,
                               ln["key"] or ""))  # fmt: skip
    shown = lines[:limit] if breakdown else lines
    rest = lines[limit:] if breakdown else []
    other = None
    if rest and kind in ("COUNT", "SUM"):
        summed = [_added([ln["values"][i] for ln in rest]) for i in range(len(starts))]
        if kind == "COUNT":
            summed = [v or 0.0 for v in summed]
        other = {"key": None, "values": summed, "total": _added([ln["total"] for ln in rest])}
    return {
        "buckets": [s.isoformat() for s in starts],
        "lines": shown,
        "other": other,
    }


def _rounded(value: Any) -> Any:
    """Floats to 9 significant digits, the sums' order of addition aside."""
    if isinstance(value, float | int) and not isinstance(value, bool):
        return float(f"{float(value):.9g}")
    if isinstance(value, list):
        return [_rounded(v) for v in value]
    if isinstance(value, dict):
        return {k: _rounded(v) for k, v in value.items()}
    return value


async def _listed(
    client: Client,
    resolver: Client,
    token: str,
    env: str,
    event_filter: dict[str, Any],
    window: dict[str, str],
) -> list[dict[str, Any]]:
    """Every event the environment's list returns for the window and filter."""
    rows: list[dict[str, Any]] = []
    after = None
    while True:
        found = await same_data(
            client, resolver, EVENTS, token, env=env, filter=event_filter, after=after, **window
        )
        page = found["environment"]["events"]
        rows += page["nodes"]
        if not page["pageInfo"]["hasNextPage"]:
            return rows
        after = page["pageInfo"]["endCursor"]


filters = st.one_of(
    st.just({}),
    st.builds(lambda v: {"event": {"neq": v}}, st.sampled_from(NAMES)),
    st.builds(
        lambda v: {"properties": [{"key": "score", "operator": "GT", "value": v}]},
        st.sampled_from([10, 50, 0.5]),
    ),
    st.builds(lambda v: {"distinctId": {"in": v}}, st.lists(st.sampled_from(["u0", "u1", "u5"]))),
)


@differential(EXAMPLES)
@given(
    start=st.integers(-24, HOURS),
    hours=st.integers(1, HOURS),
    interval=st.sampled_from(["HOUR", "DAY", "WEEK", "MONTH"]),
    zone=st.sampled_from(["UTC", "Europe/Berlin", "America/New_York", "Asia/Kolkata"]),
    kind=st.sampled_from(
        ["COUNT", "DISTINCT_IDS", "PERSONS", "SUM", "AVG", "MIN", "MAX", "P50", "P95"]
    ),
    breakdown=st.sampled_from([None, "EVENT", "DISTINCT_ID", "PROPERTY"]),
    limit=st.integers(0, 4),
    event_filter=filters,
)
async def test_series_are_those_of_the_listed_events(
    client: Client,
    resolver_client: Client,
    tokens: Tokens,
    env: str,
    start: int,
    hours: int,
    interval: str,
    zone: str,
    kind: str,
    breakdown: str | None,
    limit: int,
    event_filter: dict[str, Any],
) -> None:
    since = START + timedelta(hours=start, minutes=17)
    until = since + timedelta(hours=hours)
    window = {"since": since.isoformat(), "until": until.isoformat()}
    rows = await _listed(client, resolver_client, tokens.ada, env, event_filter, window)
    measure = {"kind": kind} if kind in ("COUNT", "DISTINCT_IDS", "PERSONS") else {
        "kind": kind, "property": "score"}  # fmt: skip
    found = await same_data(
        client, resolver_client, SERIES, tokens.ada,
        env=env, interval=interval, zone=zone, measure=measure, limit=limit,
        breakdown={"by": breakdown, "key": "plan" if breakdown == "PROPERTY" else None}
        if breakdown else None,
        filter=event_filter, **window,
    )  # fmt: skip
    series = found["environment"]["eventSeries"]
    expected = expected_series(rows, since, until, interval, ZoneInfo(zone), kind, breakdown, limit)
    assert _rounded(series) == _rounded(expected)
