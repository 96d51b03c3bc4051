"""What an environment's events hold: distinct event names, property keys and a
key's values, for the pickers of a UI (`Environment.eventNames`, ...).

The environment is already visible (these are its fields); the token's
`event:read` scope is checked by the caller.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import UUID

import orjson

from db.binder import like_pattern
from db.errors import BadInput
from db.pool import Queryable
from db.queries import QUERIES

MAX_VALUES = 1_000


def _limit(first: int) -> int:
    if not 0 <= first <= MAX_VALUES:
        raise BadInput(f"`first` must be between 0 and {MAX_VALUES}, not {first}", field="first")
    return first


async def event_names(
    conn: Queryable, environment: UUID, since: datetime | None, until: datetime | None, first: int
) -> list[str]:
    """The distinct event names in the window, in order."""
    rows = await conn.fetch(QUERIES["event_names"], environment, since, until, _limit(first))
    return [row[0] for row in rows]


async def property_keys(
    conn: Queryable, environment: UUID, since: datetime | None, until: datetime | None, first: int
) -> list[str]:
    """The distinct property keys in the window, in order."""
    rows = await conn.fetch(QUERIES["property_keys"], environment, since, until, _limit(first))
    return [row[0] for row in rows]


async def property_values(
    conn: Queryable, environment: UUID, key: str, search: str | None, first: int
) -> list[Any]:
    """The distinct values of `key` (those whose text holds `search`, case-insensitive)."""
    if "\x00" in key or (search is not None and "\x00" in search):
        raise BadInput("text cannot hold NUL", field="key")
    pattern = None if search is None else like_pattern("%{}%", search)
    rows = await conn.fetch(QUERIES["property_values"], environment, key, pattern, _limit(first))
    return [orjson.loads(row[0]) for row in rows]
