"""Objects of the generated node types, made from their tables' rows.

Scalar fields are plain attributes (no resolver per field: cheap on wide
lists); the row itself comes along for the fields that resolve from it
(parents, users). What each type takes from a row is registered once, as the
type is generated (schema/types.py).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

import asyncpg
import orjson

from db.entities import Entity, Kind
from schema.ids import global_id

N = TypeVar("N")
# (column, which is also the attribute, and the conversion of its value or None)
Fill = tuple[tuple[str, Callable[[Any], Any] | None], ...]
_FILLS: dict[type, tuple[str, Fill]] = {}


def register(cls: type, entity: Entity) -> None:
    """Record what objects of `cls` take from a row of `entity`."""
    fill = tuple(
        (column.name, orjson.loads if column.kind is Kind.JSON else column.enum)
        for column in entity.columns
        if column.name != "id"
    )
    _FILLS[cls] = (entity.type_name, fill)


def from_row(cls: type[N], row: asyncpg.Record) -> N:
    """An object of a generated node type from its table's row."""
    type_name, fill = _FILLS[cls]
    values: dict[str, Any] = {
        "id": global_id(type_name, row["id"]),
        "uuid": row["id"],
        "row": row,
    }
    for column, convert in fill:
        value = row[column]
        values[column] = value if convert is None or value is None else convert(value)
    return cls(**values)
