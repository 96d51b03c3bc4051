"""What a list is: visibility, filter, search, soft-deleted rows and a total order.

A `ListRequest` is the plain object the resolvers build from a connection's
arguments; this module turns it into SQL clauses, which `db/pages.py` puts
into a page query (one parent or many at once).
"""

from __future__ import annotations

import enum
from dataclasses import dataclass

from db.binder import Binder
from db.entities import Entity, Kind
from db.errors import BadInput
from db.filters import Filter, like_pattern, where
from db.identifiers import ident, qualified
from db.parents import parent_hops, parent_value
from db.viewer import Viewer
from db.visibility import visible

MAX_SEARCH_TERMS = 10
ALIAS = "t"


@dataclass(frozen=True, slots=True)
class Order:
    """Sort by `column`, descending when `descending`. `column` is a column of the
    entity, or `<parent>.<column>` a column of one of its parents (`project.name`)."""

    column: str
    descending: bool = False


class Deleted(enum.Enum):
    """Which rows of a soft-deleted kind a list holds."""

    EXCLUDE = "EXCLUDE"  # the live ones (the default)
    INCLUDE = "INCLUDE"  # live and deleted
    ONLY = "ONLY"  # the deleted ones


@dataclass(frozen=True, slots=True)
class ListRequest:
    """What to list: everything a connection's arguments say, minus the paging."""

    entity: Entity
    filter: Filter | None = None
    search: str | None = None
    order: tuple[Order, ...] = ()
    # rows of an entity with a `deleted_column` (others: EXCLUDE, there are none)
    deleted: Deleted = Deleted.EXCLUDE


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
    """Visibility, soft-deleted rows, filter and search of the list, as one SQL
    predicate."""
    entity, deleted = request.entity, request.deleted
    if entity.deleted_column is None and deleted is not Deleted.EXCLUDE:
        raise BadInput(f"{entity.name} has no deleted rows", field="deleted")
    # visibility hides deleted rows unless the list asks for them
    parts = [visible(entity, ALIAS, viewer, bind, with_hidden=deleted is not Deleted.EXCLUDE)]
    if deleted is Deleted.ONLY:
        assert entity.deleted_column is not None
        parts.append(f"{qualified(ALIAS, entity.deleted_column)} IS NOT NULL")
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
    # a parent's column (parent field, its column): `column` is then the name the
    # list's rows carry its value under (see `source`)
    parent: tuple[str, str] | None = None
    # a text that needs no escaping in JSON (Column.plain)
    plain: bool = False

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
        key = _sort_key(request.entity, order)
        keys.setdefault(key.column, key)
    keys.pop("id", None)  # the id always comes last, ascending
    return (*keys.values(), SortKey("id", Kind.ID, False, False))


def _sort_key(entity: Entity, order: Order) -> SortKey:
    parent, dot, name = order.column.partition(".")
    column = None
    try:
        if not dot:
            column = entity.column(order.column)
        elif parent in entity.name_ordered_parents:
            column = entity.parent(parent).column(name)
    except KeyError:
        pass
    if column is None or not column.orderable:
        raise BadInput(f"cannot order {entity.name} by {order.column}", field="orderBy")
    enum = column.enum
    labels = None if enum is None else frozenset(str(e.value) for e in enum)
    if not dot:
        return SortKey(
            column.name, column.kind, order.descending, column.nullable, labels, plain=column.plain
        )
    # NULL should the parent not be visible (it always is, as the row is; the
    # seek is NULL-aware all the same)
    return SortKey(
        f"_{parent}_{column.name}", column.kind, order.descending, True, labels, (parent, name)
    )


def source(request: ListRequest, viewer: Viewer, bind: Binder) -> str:
    """The rows the list reads, as `<table> t`: with the values of parents' columns
    its order needs as columns of their own (a read of those parents, which needs
    their read scopes), so that ordering, the seek and cursors read them as any
    column."""
    entity = request.entity
    table = f"{ident(entity.table)} {ALIAS}"
    values = []
    for key in sort_keys(request):
        if key.parent is not None:
            hops = parent_hops(entity, key.parent[0], viewer, field="orderBy")
            value = parent_value(ALIAS, hops, key.parent[1], viewer, bind)
            values.append(f"{value} AS {ident(key.column)}")
    if not values:
        return table
    return f"(SELECT {ALIAS}.*, {', '.join(values)} FROM {table}) {ALIAS}"


def order_by(request: ListRequest, alias: str = ALIAS, *, reverse: bool = False) -> str:
    """The list's total order as an ORDER BY list (`reverse`: from its end)."""
    return ", ".join(key.sql(alias, reverse=reverse) for key in sort_keys(request))
