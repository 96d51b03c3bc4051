"""What a list is: visibility, filter, search and a total order.

A `ListRequest` is the plain object the resolvers build from a connection's
arguments; this module turns it into SQL clauses, which `db/pages.py` puts
into a page query (one parent or many at once).
"""

from __future__ import annotations

from dataclasses import dataclass

from db.binder import Binder
from db.entities import Entity, Kind
from db.errors import BadInput
from db.filters import Filter, like_pattern, where
from db.identifiers import qualified
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
        columns = [f"{qualified(ALIAS, c.name)} ILIKE {pattern}" for c in entity.searchable]
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


@dataclass(frozen=True, slots=True)
class SortKey:
    """One key of a list's total order: a column, its kind, its direction, whether
    it may hold NULL (PostgreSQL's defaults: ASC puts NULLs last, DESC first)."""

    column: str
    kind: Kind
    descending: bool
    nullable: bool
    # an ENUM column's labels (None for other kinds): a cursor's value is checked
    # against them before any SQL, bound as the enum an unknown one would fail it
    labels: frozenset[str] | None = None

    def sql(self, alias: str, *, reverse: bool = False) -> str:
        """`alias."column" ASC|DESC`, or the other way round with `reverse`."""
        descending = self.descending != reverse
        return f"{qualified(alias, self.column)} {'DESC' if descending else 'ASC'}"


def sort_keys(request: ListRequest) -> tuple[SortKey, ...]:
    """The requested order (or the entity's default one), made total by the id, so
    pages never repeat or skip.

    A column ordered twice keeps its first place: the second could never
    decide anything (and a cursor's seek then stays small whatever the input)."""
    keys: dict[str, SortKey] = {}
    default = tuple(Order(name, descending) for name, descending in request.entity.default_order)
    for order in request.order or default:
        try:
            column = request.entity.column(order.column)
        except KeyError:
            column = None
        if column is None or not column.orderable:
            raise BadInput(f"cannot order {request.entity.name} by {order.column}", field="orderBy")
        if column.name not in keys:
            enum = column.enum
            labels = None if enum is None else frozenset(str(e.value) for e in enum)
            keys[column.name] = SortKey(
                column.name, column.kind, order.descending, column.nullable, labels
            )
    keys.pop("id", None)  # the id always comes last, ascending
    return (*keys.values(), SortKey("id", Kind.ID, False, False))


def order_by(request: ListRequest, alias: str = ALIAS, *, reverse: bool = False) -> str:
    """The list's total order as an ORDER BY list (`reverse`: from its end)."""
    return ", ".join(key.sql(alias, reverse=reverse) for key in sort_keys(request))
