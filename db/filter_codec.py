"""A filter tree (db/filters.py) as JSON and back, so that a job can store the
filter it was given and apply the very same one whenever it runs (an export
cut off by a restart runs again from its row, in another process).

Values keep their Python types through the round trip: a date-time or a uuid
is tagged (`{"datetime": ...}`, `{"uuid": ...}`), since `where()` checks each
value's type against its column. A property test's value is JSON already and
is stored as it is.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import UUID

from db.filters import All, AnyOf, Compare, Filter, Not, PropertyTest, Related


def _value(value: Any) -> Any:
    if isinstance(value, datetime):
        return {"datetime": value.isoformat()}
    if isinstance(value, UUID):
        return {"uuid": str(value)}
    if isinstance(value, (list, tuple)):
        return [_value(item) for item in value]
    return value  # str, int, bool, None


def _read_value(data: Any) -> Any:
    if isinstance(data, dict):
        if "datetime" in data:
            return datetime.fromisoformat(data["datetime"])
        return UUID(data["uuid"])
    if isinstance(data, list):
        return tuple(_read_value(item) for item in data)
    return data


def dump_filter(node: Filter) -> Any:
    """The JSON value of a filter tree."""
    if isinstance(node, Compare):
        return {
            "compare": node.column,
            "op": node.op,
            "value": _value(node.value),
            "caseInsensitive": node.case_insensitive,
        }
    if isinstance(node, All):
        return {"all": [dump_filter(item) for item in node.items]}
    if isinstance(node, AnyOf):
        return {"any": [dump_filter(item) for item in node.items]}
    if isinstance(node, Not):
        return {"not": dump_filter(node.item)}
    if isinstance(node, Related):
        return {"related": node.relation, "filter": dump_filter(node.filter)}
    return {
        "property": node.column,
        "key": node.key,
        "operator": node.operator,
        "value": node.value,
    }


def load_filter(data: Any) -> Filter:
    """The filter tree `dump_filter` wrote."""
    if "compare" in data:
        return Compare(
            data["compare"], data["op"], _read_value(data["value"]), data["caseInsensitive"]
        )
    if "all" in data:
        return All(tuple(load_filter(item) for item in data["all"]))
    if "any" in data:
        return AnyOf(tuple(load_filter(item) for item in data["any"]))
    if "not" in data:
        return Not(load_filter(data["not"]))
    if "related" in data:
        return Related(data["related"], load_filter(data["filter"]))
    return PropertyTest(data["property"], data["key"], data["operator"], data["value"])
