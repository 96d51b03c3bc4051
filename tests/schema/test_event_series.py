"""`Environment.eventSeries` on hand-made events: bucket edges, calendar buckets in
Europe/Berlin across both daylight-saving changes, weeks from Monday, months of
different lengths, every measure and breakdown, `other`, refused input, and
isolation; every query answered alike by both executors."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import UUID

import asyncpg
import pytest

from db.series import fetch_series
from schema.ids import global_id
from tests.schema.compiled_support import resolver_client, same_data, same_error
from tests.schema.conftest import Tokens
from tests.schema.events_support import Event, series_environment
from tests.support import Client, data

__all__ = ["resolver_client"]

SERIES = """
query ($env: ID!, $since: DateTime!, $until: DateTime!, $interval: Interval!, $zone: String,
       $measure: EventMeasure, $breakdown: EventBreakdown, $limit: Int, $filter: EventFilter,
       $search: String) {
  environment(id: $env) {
    eventSeries(since: $since, until: $until, interval: $interval, timeZone: $zone,
                measure: $measure, breakdown: $breakdown, limit: $limit, filter: $filter,
                search: $search) {
      buckets lines { key values total } other { key values total }
    }
  }
}
"""


def utc(
    year: int, month: int, day: int, hour: int = 0, minute: int = 0, second: int = 0
) -> datetime:
    return datetime(year, month, day, hour, minute, second, tzinfo=UTC)


def text(moment: datetime) -> str:
    return moment.isoformat()


EVENTS = [
    # bucket edges (May, UTC days)
    Event("edge-before", utc(2026, 5, 1) - timedelta(microseconds=1)),
    Event("edge-since", utc(2026, 5, 1)),
    Event("edge-last", utc(2026, 5, 3, 23, 59, 59)),
    Event("edge-until", utc(2026, 5, 4)),
    # Berlin: 2026-03-29 has 23 hours, 2026-10-25 has 25
    Event("spring", utc(2026, 3, 28, 23, 30)),  # 00:30 on the 29th in Berlin
    Event("autumn-early", utc(2026, 10, 24, 22, 30)),  # 00:30 CEST on the 25th
    Event("autumn-late", utc(2026, 10, 25, 22, 30)),  # 23:30 CET on the 25th
    # months: the last hour of February is March in Berlin
    Event("january", utc(2026, 1, 31, 23, 59)),
    Event("february", utc(2026, 2, 28, 23, 30)),
    Event("march", utc(2026, 3, 1, 1)),
    # weeks (2026-05-04 and 2026-05-11 are Mondays)
    Event("sunday", utc(2026, 5, 10, 23)),
    Event("monday", utc(2026, 5, 11)),
    # measures and breakdowns: 2026-06-01, three hours
    Event("m1", utc(2026, 6, 1, 0, 1), {"ms": 1, "plan": "pro"}, "view", "u1", UUID(int=1)),
    Event("m2", utc(2026, 6, 1, 0, 2), {"ms": 2, "plan": "free"}, "view", "u1", UUID(int=1)),
    Event("m3", utc(2026, 6, 1, 0, 3), {"ms": 3, "plan": "pro"}, "click", "u2"),
    Event("m4", utc(2026, 6, 1, 0, 4), {"ms": "x"}, "buy", "u3", UUID(int=2)),
    Event("m5", utc(2026, 6, 1, 2, 5), {"ms": 10, "plan": "pro"}, "view", "u1", UUID(int=2)),
    Event("m6", utc(2026, 6, 1, 2, 6), {}, "click", "u4"),
]
JUNE = {"since": text(utc(2026, 6, 1)), "until": text(utc(2026, 6, 1, 3)), "interval": "HOUR"}


@pytest.fixture
async def env(conn: asyncpg.Connection, tokens: Tokens) -> str:
    """Acme's first environment with EVENTS only; Acme's second one has events of the
    same times, which its series never count."""
    environment = await series_environment(conn, EVENTS)
    return global_id("Environment", environment)


async def series(
    client: Client, resolver: Client, token: str, env: str, **arguments: Any
) -> dict[str, Any]:
    found = await same_data(client, resolver, SERIES, token, env=env, **arguments)
    result: dict[str, Any] = found["environment"]["eventSeries"]
    return result


def one_line(buckets: list[datetime], values: list[Any], total: Any) -> dict[str, Any]:
    return {
        "buckets": [text(b) for b in buckets],
        "lines": [{"key": None, "values": values, "total": total}],
        "other": None,
    }


async def test_since_is_inclusive_until_exclusive(
    client: Client, resolver_client: Client, tokens: Tokens, env: str
) -> None:
    found = await series(
        client, resolver_client, tokens.ada, env,
        since=text(utc(2026, 5, 1)), until=text(utc(2026, 5, 4)), interval="DAY",
    )  # fmt: skip
    days = [utc(2026, 5, 1), utc(2026, 5, 2), utc(2026, 5, 3)]
    assert found == one_line(days, [1, 0, 1], 1 + 1)
    # a `since` inside a bucket: the bucket starts earlier, its events before `since` out
    late = await series(
        client, resolver_client, tokens.ada, env,
        since=text(utc(2026, 5, 1, 0, 0, 1)), until=text(utc(2026, 5, 2)), interval="DAY",
    )  # fmt: skip
    assert late == one_line([utc(2026, 5, 1)], [0], 0)


async def test_berlin_days_across_daylight_saving(
    client: Client, resolver_client: Client, tokens: Tokens, env: str
) -> None:
    spring = await series(
        client, resolver_client, tokens.ada, env, zone="Europe/Berlin", interval="DAY",
        since=text(utc(2026, 3, 28, 12)), until=text(utc(2026, 3, 30, 12)),
    )  # fmt: skip
    # local midnights: the 29th lasts 23 hours
    starts = [utc(2026, 3, 27, 23), utc(2026, 3, 28, 23), utc(2026, 3, 29, 22)]
    assert spring == one_line(starts, [0, 1, 0], 1)
    autumn = await series(
        client, resolver_client, tokens.ada, env, zone="Europe/Berlin", interval="DAY",
        since=text(utc(2026, 10, 24, 22)), until=text(utc(2026, 10, 26, 23)),
    )  # fmt: skip
    # the 25th lasts 25 hours and holds both its events
    assert autumn == one_line([utc(2026, 10, 24, 22), utc(2026, 10, 25, 23)], [2, 0], 2)
    # the same events in UTC days: one each
    in_utc = await series(
        client, resolver_client, tokens.ada, env, interval="DAY",
        since=text(utc(2026, 10, 24)), until=text(utc(2026, 10, 26)),
    )  # fmt: skip
    assert in_utc == one_line([utc(2026, 10, 24), utc(2026, 10, 25)], [1, 1], 2)


async def test_weeks_start_on_monday_and_months_differ_in_length(
    client: Client, resolver_client: Client, tokens: Tokens, env: str
) -> None:
    weeks = await series(
        client, resolver_client, tokens.ada, env, interval="WEEK",
        since=text(utc(2026, 5, 6)), until=text(utc(2026, 5, 20)),  # a Wednesday
    )  # fmt: skip
    assert weeks == one_line([utc(2026, 5, 4), utc(2026, 5, 11), utc(2026, 5, 18)], [1, 1, 0], 2)
    months = {"interval": "MONTH", "since": text(utc(2026, 1, 15)), "until": text(utc(2026, 4, 1))}
    in_utc = await series(client, resolver_client, tokens.ada, env, **months)
    assert in_utc == one_line([utc(2026, 1, 1), utc(2026, 2, 1), utc(2026, 3, 1)], [1, 1, 2], 4)
    berlin = await series(client, resolver_client, tokens.ada, env, zone="Europe/Berlin", **months)
    local = [
        utc(2026, 1, 1) - timedelta(hours=1),
        utc(2026, 1, 31, 23),
        utc(2026, 2, 28, 23),
        utc(2026, 3, 31, 22),  # `until` is 02:00 on April 1st in Berlin
    ]
    # the last minutes of January UTC are February in Berlin, the last hour of February March
    assert berlin == one_line(local, [0, 1, 3, 0], 4)


MEASURES: dict[str, tuple[list[Any], Any]] = {
    "COUNT": ([4, 0, 2], 6),
    "DISTINCT_IDS": ([3, 0, 2], 4),
    "PERSONS": ([2, 0, 1], 2),
    "SUM": ([6, None, 10], 16),
    "AVG": ([2, None, 10], 4),
    "MIN": ([1, None, 10], 1),
    "MAX": ([3, None, 10], 10),
    "P50": ([2, None, 10], 2.5),
    "P90": ([2.8, None, 10], 7.9),
    "P95": ([2.9, None, 10], 8.95),
    "P99": ([2.98, None, 10], 9.79),
}


def _measure(kind: str) -> dict[str, str]:
    """The measure argument of a kind: the counts read no property, the others `ms`."""
    if kind in ("COUNT", "DISTINCT_IDS", "PERSONS"):
        return {"kind": kind}
    return {"kind": kind, "property": "ms"}


@pytest.mark.parametrize("kind", sorted(MEASURES))
async def test_every_measure(
    client: Client, resolver_client: Client, tokens: Tokens, env: str, kind: str
) -> None:
    measure = _measure(kind)
    found = await series(client, resolver_client, tokens.ada, env, measure=measure, **JUNE)
    values, total = MEASURES[kind]
    (line,) = found["lines"]
    assert line["key"] is None
    assert line["values"] == [None if v is None else pytest.approx(v) for v in values]
    assert line["total"] == pytest.approx(total)
    assert found["other"] is None


VALUES_ONLY = SERIES.replace(
    "buckets lines { key values total } other { key values total }", "lines { values }"
)


@pytest.mark.parametrize("kind", sorted(MEASURES))
async def test_every_measure_without_its_total(
    client: Client, resolver_client: Client, tokens: Tokens, env: str, kind: str
) -> None:
    """A chart's query: the values alone (the compiled path then reads no total)."""
    measure = _measure(kind)
    found = await same_data(
        client, resolver_client, VALUES_ONLY, tokens.ada, env=env, measure=measure, **JUNE
    )
    values, _ = MEASURES[kind]
    assert found["environment"]["eventSeries"] == {
        "lines": [{"values": [None if v is None else pytest.approx(v) for v in values]}]
    }


async def test_breakdowns_and_other(
    client: Client, resolver_client: Client, tokens: Tokens, env: str
) -> None:
    by_event = await series(
        client, resolver_client, tokens.ada, env, breakdown={"by": "EVENT"}, limit=1, **JUNE
    )
    assert by_event["lines"] == [{"key": "view", "values": [2, 0, 1], "total": 3}]
    # the rest (click: 2, buy: 1) added up
    assert by_event["other"] == {"key": None, "values": [2, 0, 1], "total": 3}
    every = await series(
        client, resolver_client, tokens.ada, env, breakdown={"by": "EVENT"}, **JUNE
    )
    assert [(line["key"], line["total"]) for line in every["lines"]] == [
        ("view", 3), ("click", 2), ("buy", 1)
    ]  # fmt: skip
    assert every["other"] is None  # nothing left over
    summed = await series(
        client, resolver_client, tokens.ada, env, breakdown={"by": "DISTINCT_ID"}, limit=1,
        measure={"kind": "SUM", "property": "ms"}, **JUNE,
    )  # fmt: skip
    assert summed["lines"] == [{"key": "u1", "values": [3, None, 10], "total": 13}]
    # u2's 3, u3's nothing (no number), u4's nothing
    assert summed["other"] == {"key": None, "values": [3, None, None], "total": 3}
    averaged = await series(
        client, resolver_client, tokens.ada, env, breakdown={"by": "EVENT"}, limit=1,
        measure={"kind": "AVG", "property": "ms"}, **JUNE,
    )  # fmt: skip
    assert averaged["other"] is None  # averages do not add up
    by_plan = await series(
        client, resolver_client, tokens.ada, env,
        breakdown={"by": "PROPERTY", "key": "plan"}, **JUNE,
    )  # fmt: skip
    # events without the key make a line of their own, key null
    assert [(line["key"], line["values"]) for line in by_plan["lines"]] == [
        ("pro", [2, 0, 1]), (None, [1, 0, 1]), ("free", [1, 0, 0])
    ]  # fmt: skip
    # filter and search narrow the events
    narrowed = await series(
        client, resolver_client, tokens.ada, env, search="view",
        filter={"properties": [{"key": "ms", "operator": "GT", "value": 1}]}, **JUNE,
    )  # fmt: skip
    assert narrowed["lines"] == [{"key": None, "values": [1, 0, 1], "total": 2}]


@pytest.mark.parametrize(
    ("arguments", "field"),
    [
        ({"interval": "MINUTE", "until": text(utc(2026, 6, 2))}, "interval"),
        ({"zone": "Mars/Olympus"}, "timeZone"),
        ({"measure": {"kind": "SUM"}}, "measure.property"),
        ({"measure": {"kind": "COUNT", "property": "ms"}}, "measure.property"),
        ({"breakdown": {"by": "PROPERTY"}}, "breakdown.key"),
        ({"limit": 101}, "limit"),
        ({"until": text(utc(2026, 6, 1))}, "until"),
    ],
)
async def test_bad_arguments_are_refused(
    client: Client,
    resolver_client: Client,
    tokens: Tokens,
    env: str,
    arguments: dict[str, Any],
    field: str,
) -> None:
    given = {**JUNE, **arguments}
    found = await same_error(client, resolver_client, SERIES, tokens.ada, env=env, **given)
    assert (found["extensions"]["code"], found["extensions"]["field"]) == ("BAD_USER_INPUT", field)


async def test_a_thousand_buckets_and_no_more(
    client: Client, resolver_client: Client, tokens: Tokens, env: str
) -> None:
    since = utc(2026, 6, 1)
    found = await series(
        client, resolver_client, tokens.ada, env, interval="MINUTE",
        since=text(since), until=text(since + timedelta(minutes=1000)),
    )  # fmt: skip
    assert len(found["buckets"]) == len(found["lines"][0]["values"]) == 1000
    refused = await same_error(
        client, resolver_client, SERIES, tokens.ada, env=env, interval="MINUTE",
        since=text(since), until=text(since + timedelta(minutes=1000, seconds=1)),
    )  # fmt: skip
    assert refused["extensions"]["field"] == "interval"


async def test_another_tenant_sees_no_series(
    client: Client, resolver_client: Client, tokens: Tokens, env: str
) -> None:
    found = await same_error(client, resolver_client, SERIES, tokens.alan, env=env, **JUNE)
    assert found["extensions"]["code"] == "NOT_FOUND"


async def test_the_resolver_path_reads_a_total_only_when_one_is_selected(
    resolver_client: Client, tokens: Tokens, env: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """As the compiled path does (tests/db/test_series_plan.py): a one-line series
    whose `total` is not selected reads none, wherever a `total` may hide."""
    asked: list[bool] = []

    async def recorded(session: Any, request: Any, *args: Any) -> Any:
        asked.append(request.totals)
        return await fetch_series(session, request, *args)

    monkeypatch.setattr("schema.series.fetch_series", recorded)
    in_fragment = SERIES.replace(
        "buckets lines { key values total } other { key values total }", "lines { ...L }"
    ) + ("fragment L on EventSeriesLine { values total }")
    inline = SERIES.replace(
        "buckets lines { key values total } other { key values total }",
        "lines { values } other { ... on EventSeriesLine { total } }",
    )
    for query in (VALUES_ONLY, SERIES, in_fragment, inline):
        await data(resolver_client, query, tokens.ada, env=env, **JUNE)
    assert asked == [False, True, True, True]
