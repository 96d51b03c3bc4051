"""Property filters: conditions on one key of a JSON column (an event's properties).

Comparisons are typed, as the values are: a number compares with numbers, a
string with strings (byte order, `COLLATE "C"`, the same on every server), and
a property of another type never matches an ordering operator. Equality is
JSON equality (`1` and `1.0` are equal, `1` and `"1"` are not; objects and
arrays compare whole). `CONTAINS` is a case-insensitive substring test on
string properties. The negations (`NEQ`, `NOT_IN`, `NOT_CONTAINS`) match
events without the key, as "is not" does in product-analytics tools.
Equality goes through `@>`, which the GIN (jsonb_path_ops) index serves.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import orjson

from db.binder import Binder, like_pattern
from db.errors import BadInput
from db.event_rows import holds_nul
from db.identifiers import qualified

OPERATORS = frozenset(
    {
        "EQ",
        "NEQ",
        "IN",
        "NOT_IN",
        "CONTAINS",
        "NOT_CONTAINS",
        "GT",
        "GTE",
        "LT",
        "LTE",
        "IS_SET",
        "IS_NOT_SET",
    }
)
_ORDERING = {"GT": ">", "GTE": ">=", "LT": "<", "LTE": "<="}
MAX_KEY_LENGTH = 200
MAX_IN_VALUES = 1_000


@dataclass(frozen=True, slots=True)
class PropertyTest:
    """`column -> key <operator> value` (`value` a JSON value, None for JSON null)."""

    column: str
    key: str
    operator: str
    value: Any = None


def _json(value: Any) -> str:
    if holds_nul(value):  # jsonb refuses \u0000: the cast would fail
        raise BadInput("a property filter's value cannot hold the NUL character", field="filter")
    try:
        return orjson.dumps(value).decode()
    except (TypeError, orjson.JSONEncodeError):
        raise BadInput("a property filter's value must be JSON", field="filter") from None


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float, Decimal)) and not isinstance(value, bool)


def property_sql(alias: str, test: PropertyTest, bind: Binder) -> str:
    """The SQL predicate of `test` on rows named `alias`."""
    key, op, value = test.key, test.operator, test.value
    if op not in OPERATORS:
        raise BadInput(f"unknown property operator {op}", field="filter")
    if not key or len(key) > MAX_KEY_LENGTH or "\x00" in key:
        raise BadInput(
            f"a property key is 1 to {MAX_KEY_LENGTH} characters, without NUL", field="filter"
        )
    column = qualified(alias, test.column)
    if op in ("IS_SET", "IS_NOT_SET"):
        test_sql = f"({column} ? {bind(key)}::text)"
        return test_sql if op == "IS_SET" else f"NOT {test_sql}"
    bound_key = f"{bind(key)}::text"
    item = f"({column} -> {bound_key})"
    if op in ("EQ", "NEQ"):
        text = _json(value)
        # containment first (the index), then exact equality (containment of an
        # array or object value would also match a larger one)
        contained = f"{column} @> jsonb_build_object({bound_key}, {bind(text)}::jsonb)"
        equal = f"({contained} AND {item} = {bind(text)}::jsonb)"
        return equal if op == "EQ" else f"NOT COALESCE({equal}, FALSE)"
    if op in ("IN", "NOT_IN"):
        if not isinstance(value, list) or len(value) > MAX_IN_VALUES:
            raise BadInput(f"{op} takes a list of at most {MAX_IN_VALUES} values", field="filter")
        values = [_json(v) for v in value]
        test_sql = f"COALESCE({item} = ANY({bind(values)}::jsonb[]), FALSE)"
        return f"({test_sql})" if op == "IN" else f"NOT {test_sql}"
    if op in ("CONTAINS", "NOT_CONTAINS"):
        if not isinstance(value, str) or "\x00" in value:
            raise BadInput(f"{op} takes a string", field="filter")
        pattern = bind(like_pattern("%{}%", value))
        test_sql = (
            f"COALESCE(CASE WHEN jsonb_typeof({item}) = 'string' "
            f"THEN ({column} ->> {bound_key}) ILIKE {pattern} END, FALSE)"
        )
        return f"({test_sql})" if op == "CONTAINS" else f"NOT {test_sql}"
    comparison = _ORDERING[op]
    # CASE, not AND: SQL does not promise to test the type before casting
    if _is_number(value):
        return (
            f"COALESCE(CASE WHEN jsonb_typeof({item}) = 'number' "
            f"THEN ({item})::numeric {comparison} {bind(str(value))}::numeric END, FALSE)"
        )
    if isinstance(value, str):
        if "\x00" in value:
            raise BadInput(f"{op} takes a number or a string without NUL", field="filter")
        return (
            f"COALESCE(CASE WHEN jsonb_typeof({item}) = 'string' "
            f'THEN ({column} ->> {bound_key}) COLLATE "C" {comparison} {bind(value)}::text '
            f"END, FALSE)"
        )
    raise BadInput(f"{op} takes a number or a string", field="filter")
