"""Event series: an environment's events in time buckets, as a product-analytics
"trends" view, in ONE statement whose value is the series' JSON.

Buckets start at `since` floored to the interval in the time zone and cover
[since, until). DAY, WEEK (from Monday) and MONTH are calendar buckets in the
zone: local midnights, made by `generate_series` over local timestamps and
turned back into instants with `AT TIME ZONE` (so a day across a
daylight-saving change lasts 23 or 25 hours); an event's bucket is its local
time truncated the same way. MINUTE and HOUR are fixed lengths from the
floored `since` (`date_bin`). Empty buckets are there, 0 for the counts and
null for the other measures. With a breakdown, the `limit` lines of largest
total (then key) are listed and, for COUNT and SUM, the rest added up in
`other`. Every number comes from PostgreSQL; Python only checks the input.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from functools import lru_cache
from typing import Any
from uuid import UUID
from zoneinfo import ZoneInfo, available_timezones

import orjson

from db import codecs
from db.binder import Binder
from db.errors import BadInput
from db.filters import All, Compare
from db.identifiers import qualified
from db.lists import ALIAS, ListRequest, predicate
from db.pool import Queryable
from db.properties import MAX_KEY_LENGTH
from db.viewer import Viewer

MAX_BUCKETS = 1_000
MAX_LINES = 100
_FIXED = {"MINUTE": 60, "HOUR": 3_600}
_UNITS = {"MINUTE": "minute", "HOUR": "hour", "DAY": "day", "WEEK": "week", "MONTH": "month"}
_COUNTS = {
    "COUNT": "count(*)",
    "DISTINCT_IDS": "count(DISTINCT _id)",
    "PERSONS": "count(DISTINCT _person)",
}
_OF_VALUES = {"SUM": "sum", "AVG": "avg", "MIN": "min", "MAX": "max"}
_PERCENTILES = {"P50": 0.5, "P90": 0.9, "P95": 0.95, "P99": 0.99}
# measures whose total over the window is this aggregate of the buckets' values
_OF_CELLS = {"COUNT": "sum", "SUM": "sum", "MIN": "min", "MAX": "max"}
MEASURES = (*_COUNTS, *_OF_VALUES, *_PERCENTILES)
BREAKDOWNS = ("EVENT", "DISTINCT_ID", "PROPERTY")


@dataclass(frozen=True, slots=True)
class SeriesRequest:
    """A series, checked: the events (filter and search, in the window), the buckets,
    the measure (`value`: the property it reads) and the breakdown."""

    events: ListRequest
    since: datetime
    until: datetime
    interval: str
    time_zone: str
    measure: str = "COUNT"
    value: str | None = None
    breakdown: str | None = None
    key: str | None = None
    limit: int = 25
    # whether the lines' totals are read: a one-line series whose `total` is not
    # selected skips them (for a percentile or a distinct count, a second
    # aggregation over the window); with a breakdown they rank the lines
    totals: bool = True


@lru_cache(maxsize=1)
def _zones() -> frozenset[str]:
    return frozenset(available_timezones())


def _property(key: Any, field: str) -> str:
    if not isinstance(key, str) or not key or len(key) > MAX_KEY_LENGTH or "\x00" in key:
        raise BadInput(
            f"a property key is 1 to {MAX_KEY_LENGTH} characters, without NUL", field=field
        )
    return key


def bucket_count(since: datetime, until: datetime, interval: str, zone: ZoneInfo) -> int:
    """How many buckets cover [since, until) (to refuse too many before any SQL)."""
    local = since.astimezone(zone)
    if interval in _FIXED:
        step = _FIXED[interval]
        origin = local.replace(second=0, microsecond=0)
        if interval == "HOUR":
            origin = origin.replace(minute=0)
        return math.ceil((until - origin).total_seconds() / step)
    first, last = local.date(), (until - timedelta(microseconds=1)).astimezone(zone).date()
    if interval == "DAY":
        return (last - first).days + 1
    if interval == "WEEK":
        monday = first - timedelta(days=first.weekday())
        return (last - monday).days // 7 + 1
    return (last.year - first.year) * 12 + last.month - first.month + 1


def checked(request: SeriesRequest) -> SeriesRequest:
    """The request, or BadInput naming the argument at fault."""
    if request.time_zone not in _zones():
        raise BadInput(f"unknown time zone {request.time_zone!r} (an IANA name)", field="timeZone")
    if request.interval not in _UNITS:
        raise BadInput(f"unknown interval {request.interval}", field="interval")
    if request.since >= request.until:
        raise BadInput("`until` comes after `since`", field="until")
    count = bucket_count(
        request.since, request.until, request.interval, ZoneInfo(request.time_zone)
    )
    if count > MAX_BUCKETS:
        raise BadInput(
            f"the window holds {count:,} buckets of a {request.interval.lower()}: at most "
            f"{MAX_BUCKETS:,}",
            field="interval",
        )
    if request.measure in _COUNTS and request.value is not None:
        raise BadInput(f"{request.measure} reads no property", field="measure.property")
    if request.measure not in _COUNTS:
        if request.measure not in MEASURES:
            raise BadInput(f"unknown measure {request.measure}", field="measure.kind")
        if request.value is None:
            raise BadInput(f"{request.measure} needs a numeric property", field="measure.property")
        _property(request.value, "measure.property")
    if request.breakdown == "PROPERTY":
        _property(request.key, "breakdown.key")
    elif request.key is not None:
        raise BadInput("only a PROPERTY breakdown takes a key", field="breakdown.key")
    if not 0 <= request.limit <= MAX_LINES:
        raise BadInput(f"`limit` takes 0 to {MAX_LINES} lines", field="limit")
    return request


def _measure(request: SeriesRequest, bind: Binder) -> str:
    """The measure over rows of `e` (float8: every value is a Float)."""
    if request.measure in _COUNTS:
        return f"{_COUNTS[request.measure]}::float8"
    if request.measure in _OF_VALUES:
        return f"{_OF_VALUES[request.measure]}(_v)::float8"
    p = bind(_PERCENTILES[request.measure])
    return f"percentile_cont({p}::float8) WITHIN GROUP (ORDER BY _v::float8)"


def _cells_and_totals(request: SeriesRequest, measure: str) -> tuple[str, str]:
    """The CTEs of the cells (`_b, _k, _value`: the measure per bucket and key) and
    of the lines' totals (`_k, _total`), reading the rows of `e` once: `e`, named
    once, is then not materialised."""
    of_cells = _OF_CELLS.get(request.measure)
    if not request.totals and not request.breakdown:
        cells = f"cells AS (SELECT _b, _k, {measure} AS _value FROM e GROUP BY _b, _k)"
        return cells, "SELECT NULL::text AS _k, NULL::float8 AS _total"  # the one line
    if of_cells is not None:
        # the total is the same aggregate of the cells' (a count is their sum): a
        # plain GROUP BY, which PostgreSQL may hash (a million rows by day and
        # event name: 0.3 s hashed, 0.7 s sorted as grouping sets are)
        cells = f"cells AS (SELECT _b, _k, {measure} AS _value FROM e GROUP BY _b, _k)"
        total = f"{of_cells}(_value)::float8"
        if request.measure == "COUNT":
            total = f"COALESCE({total}, 0::float8)"  # no cell: no event
        if request.breakdown:
            return cells, f"SELECT _k, {total} AS _total FROM cells GROUP BY _k"
        return cells, f"SELECT NULL::text AS _k, {total} AS _total FROM cells"  # one line
    # a distinct count, an average or a percentile over the window is not one of
    # its cells': cells and totals in one aggregation (grouping sets), whose
    # empty set gives the one-line series its line even over no rows
    sets = "(_b, _k), (_k)" if request.breakdown else "(_b, _k), ()"
    cells = (
        f"g AS (SELECT _b, _k, {measure} AS _value, GROUPING(_b) AS _whole FROM e "
        f"GROUP BY GROUPING SETS ({sets})), "
        "cells AS (SELECT _b, _k, _value FROM g WHERE _whole = 0)"
    )
    return cells, "SELECT _k, _value AS _total FROM g WHERE _whole = 1"


def series_sql(request: SeriesRequest, viewer: Viewer, bind: Binder, environment: str) -> str:
    """A scalar subquery: the JSON of the series of the environment whose id is the SQL
    `environment` (`{buckets, lines: [{key, values, total}], other}`)."""
    t = ALIAS
    zone, unit = f"{bind(request.time_zone)}::text", _UNITS[request.interval]
    since, until = (
        f"{bind(v.isoformat())}::text::timestamptz" for v in (request.since, request.until)
    )
    step = f"'1 {unit}'::interval"  # the unit comes from this module, never from input
    floored = f"(date_trunc('{unit}', {since} AT TIME ZONE {zone}) AT TIME ZONE {zone})"
    time = qualified(t, "timestamp")
    if request.interval in _FIXED:  # fixed lengths from the floored `since`
        # the origin as a subquery: computed once, not for every row (the
        # timestamp's text and the zone are bound, and their casts are stable,
        # so the planner does not fold them into a constant)
        bucket = f"date_bin({step}, {time}, (SELECT {floored}))"
        series = f"SELECT s, s FROM generate_series({floored}, {until}, {step}) s"
    else:
        # local calendar units: rows are grouped by their local bucket (one time
        # zone conversion a row), and each bucket turned back into an instant once
        bucket = f"date_trunc('{unit}', {time} AT TIME ZONE {zone})"
        series = (
            f"SELECT l, l AT TIME ZONE {zone} FROM generate_series(date_trunc('{unit}', "
            f"{since} AT TIME ZONE {zone}), {until} AT TIME ZONE {zone}, {step}) l"
        )
    properties = qualified(t, "properties")
    # keys are grouped as their column (text), made JSON once a line
    if request.breakdown == "EVENT":
        key = qualified(t, "event")
    elif request.breakdown == "DISTINCT_ID":
        key = qualified(t, "distinct_id")
    elif request.breakdown == "PROPERTY":
        key = f"({properties} -> {bind(request.key)}::text)"
    else:
        key = "NULL::text"
    value = "NULL::numeric"
    if request.value is not None:
        item = f"({properties} -> {bind(request.value)}::text)"
        value = f"(CASE WHEN jsonb_typeof({item}) = 'number' THEN ({item})::numeric END)"
    where = predicate(request.events, viewer, bind)
    measure = _measure(request, bind)
    counted = request.measure in _COUNTS
    zero = "0::float8" if counted else "NULL::float8"
    limit = f"{bind(request.limit if request.breakdown else 1)}::int8"
    # the leftovers: COUNT and SUM add up, the others do not
    adds_up = request.breakdown is not None and request.measure in ("COUNT", "SUM")
    cells, totals = _cells_and_totals(request, measure)
    other = "NULL::json"
    if adds_up:
        other = (
            "(SELECT json_build_object('key', NULL, 'values', json_agg(COALESCE(o._value, "
            f"{zero}) ORDER BY b._b), 'total', "
            f"(SELECT sum(_total) FROM ranked WHERE _r > {limit})) "
            "FROM b LEFT JOIN (SELECT c._b, sum(c._value) AS _value FROM cells c JOIN ranked r "
            f"ON r._k IS NOT DISTINCT FROM c._k WHERE r._r > {limit} GROUP BY c._b) o "
            f"ON o._b = b._b HAVING EXISTS (SELECT 1 FROM ranked WHERE _r > {limit}))"
        )
    return (
        f"(WITH e AS (SELECT {bucket} AS _b, {key} AS _k, {qualified(t, 'distinct_id')} AS _id, "
        f"{qualified(t, 'person_id')} AS _person, {value} AS _v FROM events {t} "
        f"WHERE {where} AND {qualified(t, 'environment_id')} = {environment}), "
        f"b AS (SELECT _b, _at FROM ({series}) s(_b, _at) WHERE _at < {until}), "
        f"{cells}, totals AS ({totals}), "
        "ranked AS (SELECT _k, _total, row_number() OVER "
        "(ORDER BY _total DESC NULLS LAST, _k) AS _r FROM totals) "
        "SELECT json_build_object("
        f"'buckets', (SELECT COALESCE(json_agg({codecs.DATETIME_SQL.format('_at')} ORDER BY _b), "
        "'[]'::json) FROM b), "
        "'lines', (SELECT COALESCE(json_agg(json_build_object('key', to_jsonb(l._k), "
        "'values', l._values, "
        "'total', l._total) ORDER BY l._r), '[]'::json) FROM (SELECT r._r, r._k, r._total, "
        f"json_agg(COALESCE(c._value, {zero}) ORDER BY b._b) AS _values FROM ranked r "
        "CROSS JOIN b LEFT JOIN cells c ON c._k IS NOT DISTINCT FROM r._k AND c._b = b._b "
        f"WHERE r._r <= {limit} GROUP BY r._r, r._k, r._total) l), "
        f"'other', {other}))"
    )


def series_request(
    environment_events: ListRequest,
    since: datetime,
    until: datetime,
    interval: str,
    time_zone: str,
    **rest: Any,
) -> SeriesRequest:
    """A checked series request over `environment_events` (filter and search; the
    window [since, until) is added here, as a list's `since` and `until`)."""
    since, until = since.astimezone(UTC), until.astimezone(UTC)
    window = (Compare("timestamp", "gte", since), Compare("timestamp", "lt", until))
    given = environment_events.filter
    events = replace(
        environment_events, filter=All((*window, *(() if given is None else (given,))))
    )
    return checked(SeriesRequest(events, since, until, interval, time_zone, **rest))


async def fetch_series(
    conn: Queryable, request: SeriesRequest, viewer: Viewer, environments: Sequence[UUID]
) -> dict[UUID, Any]:
    """The series of each environment (as JSON values), in ONE statement."""
    bind = Binder()
    wanted = bind(list(dict.fromkeys(environments)))
    sql = (
        f"SELECT o._of, {series_sql(request, viewer, bind, 'o._of')}::text AS _series "
        f"FROM unnest({wanted}::uuid[]) AS o(_of)"
    )
    rows = await conn.fetch(sql, *bind.values)
    return {row["_of"]: orjson.loads(row["_series"]) for row in rows}
