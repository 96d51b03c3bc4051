"""Differential, property-based: `aggregate` and `groups` under random filters and
users, on both executors (answered alike, the compiled one by itself), against the
same figures computed in Python from the rows the list returns.

`AGGREGATE_EXAMPLES` sets how many queries (default 60)."""

from __future__ import annotations

import os
from collections import Counter
from datetime import datetime
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from db.entities import EnvironmentKind, EnvironmentType
from tests.schema.compiled_support import differential, resolver_client, same_data
from tests.schema.conftest import Tokens
from tests.support import Client

__all__ = ["resolver_client"]

EXAMPLES = int(os.environ.get("AGGREGATE_EXAMPLES", "60"))
KIND_ORDER = [k.value for k in EnvironmentKind]
TYPE_ORDER = [t.value for t in EnvironmentType]

ENVIRONMENTS = """
query ($filter: EnvironmentFilter, $search: String, $by: [EnvironmentGroupField!]!) {
  environments(filter: $filter, search: $search, first: 100) {
    totalCount
    nodes { kind type enabled protected rowCount sortOrder createdAt model { id } }
    aggregate {
      count
      sum { rowCount sortOrder }
      avg { rowCount sortOrder }
      min { kind type enabled rowCount sortOrder createdAt }
      max { kind type enabled rowCount sortOrder createdAt }
    }
    groups(by: $by) {
      key { kind type enabled protected model { id } }
      aggregate { count sum { rowCount } }
    }
  }
}
"""
EVENTS = """
query ($filter: EventFilter, $since: DateTime) {
  events(filter: $filter, since: $since, first: 100) {
    totalCount
    nodes { distinctId personId properties environment { id } }
    aggregate { count distinctIds persons
                property(key: "score") { count sum min max } }
    groups(by: [ENVIRONMENT]) { key { environment { id } } aggregate { count } }
  }
}
"""

environment_filters = st.one_of(
    st.just({}),
    st.builds(lambda v: {"type": {"eq": v}}, st.sampled_from(TYPE_ORDER)),
    st.builds(lambda v: {"kind": {"in": v}}, st.lists(st.sampled_from(KIND_ORDER), max_size=3)),
    st.builds(lambda v: {"enabled": {"eq": v}, "protected": {"eq": not v}}, st.booleans()),
    st.builds(
        lambda a, b: {"rowCount": {"between": sorted([a, b])}},
        st.integers(0, 10_000_000),
        st.integers(0, 10_000_000),
    ),
    st.builds(lambda v: {"sortOrder": {"gte": v}}, st.integers(0, 3)),
    st.builds(lambda v: {"model": {"name": {"contains": v}}}, st.sampled_from(["xgb", "a", "z"])),
    st.builds(lambda v: {"name": {"startsWith": v}}, st.sampled_from(["p", "s", "v", "x"])),
)
group_fields = st.lists(
    st.sampled_from(["KIND", "TYPE", "ENABLED", "PROTECTED", "MODEL"]), min_size=1, max_size=2
)
event_filters = st.one_of(
    st.just({}),
    st.builds(
        lambda v: {"properties": [{"key": "score", "operator": "GT", "value": v}]},
        st.sampled_from([0.1, 0.5, 0.9]),
    ),
    st.builds(lambda v: {"distinctId": {"contains": v}}, st.sampled_from(["1", "2", "user"])),
    st.builds(lambda v: {"event": {"neq": v}}, st.sampled_from(["prediction", "feedback"])),
)


def _bounds(values: list[Any], order: list[str] | None = None) -> tuple[Any, Any]:
    if not values:
        return None, None
    if order is None:
        return min(values), max(values)
    return min(values, key=order.index), max(values, key=order.index)


def _expected_environments(nodes: list[dict[str, Any]]) -> dict[str, Any]:
    if not nodes:
        return {"count": "0", "sum": None, "avg": None, "min": None, "max": None}
    rows = [int(n["rowCount"]) for n in nodes]
    orders = [n["sortOrder"] for n in nodes]
    lows, highs = {}, {}
    for field, order in (("kind", KIND_ORDER), ("type", TYPE_ORDER), ("enabled", None)):
        lows[field], highs[field] = _bounds([n[field] for n in nodes], order)
    lows["rowCount"], highs["rowCount"] = (str(v) for v in _bounds(rows))
    lows["sortOrder"], highs["sortOrder"] = _bounds(orders)
    times = [datetime.fromisoformat(n["createdAt"]) for n in nodes]
    low, high = _bounds(times)
    text = {t: n["createdAt"] for t, n in zip(times, nodes, strict=True)}
    lows["createdAt"], highs["createdAt"] = text[low], text[high]
    return {
        "count": str(len(nodes)),
        "sum": {"rowCount": str(sum(rows)), "sortOrder": str(sum(orders))},
        "avg": {
            "rowCount": pytest.approx(sum(rows) / len(rows)),
            "sortOrder": pytest.approx(sum(orders) / len(orders)),
        },
        "min": lows,
        "max": highs,
    }


def _key(node: dict[str, Any], by: list[str]) -> tuple[Any, ...]:
    fields = {"KIND": "kind", "TYPE": "type", "ENABLED": "enabled", "PROTECTED": "protected"}
    return tuple(node["model"]["id"] if f == "MODEL" else node[fields[f]] for f in by)


@differential(EXAMPLES)
@given(
    who=st.sampled_from(["ada", "grace", "alan"]),
    environment_filter=environment_filters,
    search=st.sampled_from([None, "prod", "a v"]),
    by=group_fields,
    event_filter=event_filters,
    since=st.sampled_from([None, "2026-11-15T00:00:00Z"]),
)
async def test_figures_are_those_of_the_listed_rows(
    client: Client,
    resolver_client: Client,
    tokens: Tokens,
    who: str,
    environment_filter: dict[str, Any],
    search: str | None,
    by: list[str],
    event_filter: dict[str, Any],
    since: str | None,
) -> None:
    token = getattr(tokens, who)
    by = list(dict.fromkeys(by))
    answer = await same_data(
        client, resolver_client, ENVIRONMENTS, token,
        filter=environment_filter, search=search, by=by,
    )  # fmt: skip
    found = answer["environments"]
    nodes = found["nodes"]
    assert found["totalCount"] == len(nodes) <= 100
    assert found["aggregate"] == _expected_environments(nodes)
    counts = Counter(_key(n, by) for n in nodes)
    sums: Counter[tuple[Any, ...]] = Counter()
    for n in nodes:
        sums[_key(n, by)] += int(n["rowCount"])
    groups = found["groups"]
    shown = {
        _key({**g["key"], "model": g["key"]["model"] or {"id": None}}, by): g["aggregate"]
        for g in groups
    }
    assert shown == {
        k: {"count": str(c), "sum": {"rowCount": str(sums[k])}} for k, c in counts.items()
    }
    assert [int(g["aggregate"]["count"]) for g in groups] == sorted(counts.values(), reverse=True)

    answered = await same_data(
        client, resolver_client, EVENTS, token, filter=event_filter, since=since
    )
    events = answered["events"]
    listed = events["nodes"]
    scores = [n["properties"]["score"] for n in listed if "score" in n["properties"]]
    numbers = [s for s in scores if isinstance(s, (int, float)) and not isinstance(s, bool)]
    assert events["aggregate"] == {
        "count": str(len(listed)),
        "distinctIds": str(len({n["distinctId"] for n in listed})),
        "persons": str(len({n["personId"] for n in listed if n["personId"]})),
        "property": {
            "count": str(len(scores)),
            "sum": pytest.approx(sum(numbers)) if numbers else None,
            "min": min(numbers) if numbers else None,
            "max": max(numbers) if numbers else None,
        },
    }
    per_environment = Counter(n["environment"]["id"] for n in listed)
    grouped = {
        g["key"]["environment"]["id"]: int(g["aggregate"]["count"]) for g in events["groups"]
    }
    assert grouped == per_environment
