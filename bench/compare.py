"""Answers compared before anything is timed.

Each system's queries alias its field names to envgraph's, so answers have
one shape; what is left to normalise is what differs by design: global ids
and cursors (each system encodes its own), 64-bit integers (PostGraphile
sends bigint as a string), the spelling of timestamps, and the unique name
each system's probe mutation used, and the shape of PostGraphile's grouped
aggregates (@graphile/pg-aggregates), which aliases cannot give envgraph's.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

_OPAQUE = frozenset({"id", "cursor", "endCursor", "startCursor"})
_INTEGERS = frozenset({"rowCount", "totalCount", "sortOrder", "count"})
_TIMES = frozenset({"createdAt", "updatedAt", "timestamp"})


def _scalar(value: Any, name: str | None, key: str | None) -> Any:
    if isinstance(value, str):
        if key in _INTEGERS:
            return int(value)
        if key in _TIMES:
            return datetime.fromisoformat(value).astimezone(UTC).isoformat()
        if value == name:
            return "<unique name>"
    return value


def _groups(grouped: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """pg-aggregates' `groupedAggregates(groupBy: [KIND]) { keys distinctCount { rowId }
    sum { rowCount } }` as envgraph's `groups(by: [KIND]) { key { kind } aggregate {
    count sum { rowCount } } }`, largest group first as envgraph lists them."""
    groups = [
        {
            "key": {"kind": g["keys"][0]},
            "aggregate": {"count": g["distinctCount"]["rowId"], "sum": g["sum"]},
        }
        for g in grouped
    ]
    return sorted(groups, key=lambda g: (-int(g["aggregate"]["count"]), g["key"]["kind"]))


def normalise(value: Any, name: str | None = None, key: str | None = None) -> Any:
    """`value` with the by-design differences taken out (`name`: the probe's unique name)."""
    if isinstance(value, dict) and "groupedAggregates" in value:
        value = {"groups": _groups(value["groupedAggregates"])}
    if isinstance(value, dict):
        return {k: normalise(v, name, k) for k, v in value.items() if k not in _OPAQUE}
    if isinstance(value, list):
        return [normalise(v, name) for v in value]
    return _scalar(value, name, key)


def _dict_difference(expected: dict[str, Any], actual: dict[str, Any], path: str) -> str | None:
    for key in sorted(expected.keys() | actual.keys()):
        if key not in actual:
            return f"{path}.{key} missing"
        if key not in expected:
            return f"{path}.{key} unexpected"
        found = difference(expected[key], actual[key], f"{path}.{key}")
        if found:
            return found
    return None


def _list_difference(expected: list[Any], actual: list[Any], path: str) -> str | None:
    if len(expected) != len(actual):
        return f"{path}: {len(actual)} items, expected {len(expected)}"
    for i, (e, a) in enumerate(zip(expected, actual, strict=True)):
        found = difference(e, a, f"{path}[{i}]")
        if found:
            return found
    return None


def difference(expected: Any, actual: Any, path: str = "data") -> str | None:
    """Where two normalised answers first differ (None: equal)."""
    if isinstance(expected, dict) and isinstance(actual, dict):
        return _dict_difference(expected, actual, path)
    if isinstance(expected, list) and isinstance(actual, list):
        return _list_difference(expected, actual, path)
    if expected != actual:
        return f"{path}: {actual!r:.80}, expected {expected!r:.80}"
    return None
