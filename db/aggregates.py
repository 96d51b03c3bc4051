"""Aggregates: a list asked how many, how much and what range, over its whole
filtered set (paging ignored, as for `totalCount`).

A `Measure` is one number a connection's `aggregate` can answer: `count`, the
sum, average, least or greatest value of a column, and over a stream of events
the distinct ids, the persons, and figures on one key of the properties.
Which measures an entity has comes from its description (numeric columns sum
and average, orderable ones have bounds); their SQL is written here once, as
aggregate expressions over the list's rows (alias `t`), and read by both
executors: the resolver path selects them as columns (one statement per
aggregate field, for every parent at once), the compiled path renders them
into the response's JSON (db/json_reads.py). The rows are those of the list:
`predicate()` of db/lists.py, visibility included. Nothing is computed in
Python over fetched rows.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any
from uuid import UUID

import orjson

from db import codecs
from db.binder import Binder
from db.entities import Column, Entity, Kind
from db.errors import BadInput
from db.identifiers import ident, qualified
from db.lists import ALIAS, ListRequest, predicate
from db.pool import Queryable
from db.properties import MAX_KEY_LENGTH
from db.viewer import Viewer

NUMERIC = (Kind.INT, Kind.BIGINT)
# measures over a column: `column` names it
COLUMN_OPS = ("sum", "avg", "min", "max")
# measures of a stream of events (an entity with these columns and a JSON one)
STREAM_OPS = ("distinct_ids", "persons")
# measures on one key of the JSON properties: `key` names it (`p`: the percentile)
PROPERTY_OPS = ("count", "sum", "avg", "min", "max", "percentile")


@dataclass(frozen=True, slots=True)
class Measure:
    """One figure over a list's rows: `op` of `column`, or of the property `key`."""

    op: str
    column: str | None = None
    key: str | None = None
    p: float | None = None


COUNT = Measure("count")


def numeric_columns(entity: Entity) -> tuple[Column, ...]:
    """The columns `sum` and `avg` read: whole numbers (sums BigInt, averages Float)."""
    return tuple(c for c in entity.columns if c.kind in NUMERIC)


def bound_columns(entity: Entity) -> tuple[Column, ...]:
    """The columns `min` and `max` read: the orderable ones, typed as the column."""
    return entity.orderable


def property_column(entity: Entity) -> Column | None:
    """The JSON column of a stream of events (the key figures read it), if any."""
    if entity.column_kind("distinct_id") is None or entity.column_kind("person_id") is None:
        return None
    return next((c for c in entity.columns if c.kind is Kind.JSON), None)


def property_measure(op: str, key: Any, p: Any = None) -> Measure:
    """A measure on one property key, checked: a key of 1 to 200 characters without
    NUL, a percentile `p` in [0, 1] (BadInput naming the argument otherwise)."""
    if not isinstance(key, str) or not key or len(key) > MAX_KEY_LENGTH or "\x00" in key:
        raise BadInput(
            f"a property key is 1 to {MAX_KEY_LENGTH} characters, without NUL", field="key"
        )
    if op == "percentile":
        if isinstance(p, bool) or not isinstance(p, (int, float)) or not 0 <= p <= 1:
            raise BadInput("`p` is a fraction between 0 and 1", field="p")
        return Measure(op, key=key, p=float(p))
    return Measure(op, key=key)


def _number(item: str) -> str:
    # CASE, not a filter: SQL does not promise to test the type before casting
    return f"(CASE WHEN jsonb_typeof({item}) = 'number' THEN ({item})::numeric END)"


def _property_sql(entity: Entity, measure: Measure, bind: Binder, alias: str) -> str:
    json_column = property_column(entity)
    assert json_column is not None, f"{entity.name} has no properties"
    column = qualified(alias, json_column.name)
    key = f"{bind(measure.key)}::text"
    item = f"({column} -> {key})"
    op = measure.op
    if op == "count":
        return f"count(*) FILTER (WHERE {column} ? {key})"
    number = _number(item)
    if op in ("sum", "avg"):
        return f"{op}({number})::float8"
    if op == "percentile":
        p = f"{bind(measure.p)}::float8"
        return f"percentile_cont({p}) WITHIN GROUP (ORDER BY {number}::float8)"
    # numbers compare as numbers; only without any number, strings as strings
    # (byte order, the same on every server, as property filters compare them)
    text = f"(CASE WHEN jsonb_typeof({item}) = 'string' THEN {column} ->> {key} END)"
    return f'COALESCE(to_jsonb({op}({number})), to_jsonb({op}({text} COLLATE "C")))'


_COUNTS = {
    "count": "count(*)",
    "distinct_ids": "count(DISTINCT {}.distinct_id)",
    "persons": "count(DISTINCT {}.person_id)",
}


def measure_sql(entity: Entity, measure: Measure, bind: Binder, alias: str = ALIAS) -> str:
    """The aggregate expression of `measure` over rows `alias` of `entity`, typed as
    the resolver path reads it (counts int8, sums numeric, averages float8, bounds
    the column's type, a property's bounds jsonb)."""
    op = measure.op
    if measure.key is not None:
        return _property_sql(entity, measure, bind, alias)
    if op in _COUNTS:
        return _COUNTS[op].format(alias)
    assert measure.column is not None, measure
    kind = entity.column(measure.column).kind
    value = qualified(alias, measure.column)
    if op == "sum":
        return f"sum({value})::numeric"
    if op == "avg":
        return f"avg({value})::float8"
    if kind is Kind.BOOLEAN:  # false before true, as ORDER BY has them
        return f"{'bool_and' if op == 'min' else 'bool_or'}({value})"
    return f"{op}({value})"


def measure_json_sql(entity: Entity, measure: Measure, sql: str) -> str:
    """`measure`'s value (`sql`, from `measure_sql`) as the resolver path serialises
    it in a response: counts and sums BigInt digits, bounds as their column."""
    if measure.op in ("count", "distinct_ids", "persons") or (
        measure.op == "sum" and measure.key is None
    ):
        return f"({sql})::text"
    if measure.key is not None or measure.op == "avg":
        return sql  # float8, or jsonb: JSON as they are
    assert measure.column is not None
    return codecs.response_sql(entity.column(measure.column).kind, sql)


def python_value(measure: Measure, value: Any) -> Any:
    """A measure's value as the resolver path hands it to its field."""
    if value is None:
        return None
    if measure.op == "sum" and measure.key is None:
        return int(value)  # a numeric of whole numbers
    if measure.key is not None and measure.op in ("min", "max"):
        return orjson.loads(value)  # jsonb comes as its text
    if isinstance(value, Decimal):
        return float(value)
    if isinstance(value, float) and math.isnan(value):
        return None
    return value


Values = dict[Measure, Any]


def _columns(entity: Entity, measures: Sequence[Measure], bind: Binder) -> str:
    return ", ".join(
        f"{measure_sql(entity, m, bind)} AS _m{index}" for index, m in enumerate(measures)
    )


def _values(measures: Sequence[Measure], row: Any) -> Values:
    return {m: python_value(m, row[f"_m{index}"]) for index, m in enumerate(measures)}


async def fetch_aggregates(
    conn: Queryable,
    request: ListRequest,
    viewer: Viewer,
    measures: Sequence[Measure],
    *,
    parent_column: str | None = None,
    parent_ids: Sequence[UUID] = (),
) -> dict[UUID | None, Values]:
    """The measures over a root list (key None), or over the same list under each
    parent, in ONE statement (a parent with no rows counts 0)."""
    measures = list(dict.fromkeys([COUNT, *measures]))
    entity, bind = request.entity, Binder()
    table = f"{ident(entity.table)} {ALIAS}"
    where = predicate(request, viewer, bind)
    columns = _columns(entity, measures, bind)
    if parent_column is None:
        row = await conn.fetchrow(f"SELECT {columns} FROM {table} WHERE {where}", *bind.values)
        return {None: _values(measures, row)}
    wanted = bind(list(dict.fromkeys(parent_ids)))
    # per parent, its own rows through the parent column's index
    sql = (
        f"SELECT o._of, s.* FROM unnest({wanted}::uuid[]) AS o(_of) CROSS JOIN LATERAL "
        f"(SELECT {columns} FROM {table} WHERE {where} "
        f"AND {qualified(ALIAS, parent_column)} = o._of) s"
    )
    return {row["_of"]: _values(measures, row) for row in await conn.fetch(sql, *bind.values)}
