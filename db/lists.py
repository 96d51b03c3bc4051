"""What a list is: visibility, filter, search and a total order.

A `ListRequest` is the plain object the resolvers build from a connection's
arguments; this module turns it into SQL clauses, which `db/pages.py` puts
into a page query (one parent or many at once).
"""

from __future__ import annotations

from dataclasses import dataclass

from db.binder import Binder
from db.entities import Entity
from db.errors import BadInput
from db.filters import Filter, like_pattern, where
from db.viewer import Viewer
from db.visibility import visible

MAX_SEARCH_TERMS = 10
ALIAS = "t"


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
        columns = [f"{ALIAS}.{c.name} ILIKE {pattern}" for c in entity.searchable]
        clauses.append("(" + " OR ".join(columns) + ")")
    return " AND ".join(clauses) or "TRUE"


def predicate(request: ListRequest, viewer: Viewer, bind: Binder) -> str:
    """Visibility, filter and search of the list, as one SQL predicate."""
    parts = [visible(request.entity, ALIAS, viewer, bind)]
    if request.filter is not None:
        parts.append(where(request.entity, ALIAS, request.filter, viewer, bind))
    if request.search and request.search.strip():
        parts.append(_search(request.entity, request.search, bind))
    return " AND ".join(parts)


def order_by(request: ListRequest) -> str:
    """The requested order, made total by the id, so pages never repeat or skip."""
    keys = []
    for order in request.order:
        try:
            column = request.entity.column(order.column)
        except KeyError:
            column = None
        if column is None or not column.orderable:
            raise BadInput(f"cannot order {request.entity.name} by {order.column}", field="orderBy")
        keys.append(f"{ALIAS}.{column.name} {'DESC' if order.descending else 'ASC'}")
    keys.append(f"{ALIAS}.id ASC")
    return ", ".join(keys)
