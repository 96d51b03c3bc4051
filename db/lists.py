"""One list query: visibility, filter, search, a total order, a page.

A `ListRequest` is the plain object the resolvers build from a connection's
arguments; this module is the one that turns it into SQL. Cursors and the
batched nested form (one statement for many parents) build on `_predicate`
and `_order_by`.
"""

from __future__ import annotations

from dataclasses import dataclass

import asyncpg

from db.binder import Binder
from db.entities import Entity
from db.errors import BadInput
from db.filters import Filter, like_pattern, where
from db.pool import Queryable
from db.viewer import Viewer
from db.visibility import visible

MAX_SEARCH_TERMS = 10
_ALIAS = "t"


@dataclass(frozen=True, slots=True)
class Order:
    """Sort by `column`, descending when `descending`."""

    column: str
    descending: bool = False


@dataclass(frozen=True, slots=True)
class ListRequest:
    """What to list: everything a connection's arguments say, minus the paging."""

    entity: Entity
    filter: Filter | None = None
    search: str | None = None
    order: tuple[Order, ...] = ()


def _search(entity: Entity, text: str, bind: Binder) -> str:
    """Every term must match (case-insensitive substring) some searchable column."""
    terms = text.split()
    if len(terms) > MAX_SEARCH_TERMS:
        raise BadInput(f"search takes at most {MAX_SEARCH_TERMS} terms", field="search")
    if "\x00" in text:
        raise BadInput("search cannot hold NUL", field="search")
    clauses = []
    for term in terms:
        pattern = bind(like_pattern("%{}%", term))
        columns = [f"{_ALIAS}.{c.name} ILIKE {pattern}" for c in entity.searchable]
        clauses.append("(" + " OR ".join(columns) + ")")
    return " AND ".join(clauses) or "TRUE"


def _predicate(request: ListRequest, viewer: Viewer, bind: Binder) -> str:
    parts = [visible(request.entity, _ALIAS, viewer, bind)]
    if request.filter is not None:
        parts.append(where(request.entity, _ALIAS, request.filter, viewer, bind))
    if request.search and request.search.strip():
        parts.append(_search(request.entity, request.search, bind))
    return " AND ".join(parts)


def _order_by(request: ListRequest) -> str:
    """The requested order, made total by the id, so pages never repeat or skip."""
    keys = []
    for order in request.order:
        try:
            column = request.entity.column(order.column)
        except KeyError:
            column = None
        if column is None or not column.orderable:
            raise BadInput(f"cannot order {request.entity.name} by {order.column}", field="orderBy")
        keys.append(f"{_ALIAS}.{column.name} {'DESC' if order.descending else 'ASC'}")
    keys.append(f"{_ALIAS}.id ASC")
    return ", ".join(keys)


def page_query(
    request: ListRequest, viewer: Viewer, limit: int, offset: int
) -> tuple[str, list[object]]:
    """SQL and values for one page of rows."""
    bind = Binder()
    predicate = _predicate(request, viewer, bind)
    sql = (
        f"SELECT {_ALIAS}.* FROM {request.entity.table} {_ALIAS} WHERE {predicate} "
        f"ORDER BY {_order_by(request)} LIMIT {bind(limit)} OFFSET {bind(offset)}"
    )
    return sql, bind.values


def count_query(request: ListRequest, viewer: Viewer) -> tuple[str, list[object]]:
    """SQL and values counting every row of the list."""
    bind = Binder()
    predicate = _predicate(request, viewer, bind)
    return f"SELECT count(*) FROM {request.entity.table} {_ALIAS} WHERE {predicate}", bind.values


async def fetch_page(
    conn: Queryable, request: ListRequest, viewer: Viewer, *, limit: int, offset: int = 0
) -> list[asyncpg.Record]:
    """One page of the list."""
    sql, values = page_query(request, viewer, limit, offset)
    return await conn.fetch(sql, *values)


async def count(conn: Queryable, request: ListRequest, viewer: Viewer) -> int:
    """How many rows the whole list has."""
    sql, values = count_query(request, viewer)
    total: int = await conn.fetchval(sql, *values)
    return total
