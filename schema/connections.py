"""Connections: the one list shape of the API, and the one resolver behind
every list field, at the root and nested.

`list_field()` makes a field with the standard arguments (filter, search,
orderBy, first/after/last/before/offset) for an entity; its resolver
turns them into a plain `ListRequest` + `Window` and asks `db/` for the page:
directly at the root, through a per-request loader when nested (so a list
under N parents is one statement).
"""

from __future__ import annotations

import types
from collections.abc import Callable, Iterable
from datetime import datetime
from typing import Any, Generic, Optional, TypeVar
from uuid import UUID

import strawberry
from strawberry.types.arguments import StrawberryArgument
from strawberry.types.nodes import FragmentSpread, InlineFragment, SelectedField

from db.entities import Entity
from db.filters import All, Compare, Filter
from db.lists import MAX_SEARCH_TERMS, Deleted, ListRequest
from db.pages import Page, fetch_page
from db.paging import Window, window
from db.viewer import Viewer, require_read
from schema.aggregates import ListSource, connection_fields
from schema.context import Context
from schema.fields import argument, generated_field
from schema.inputs import (
    FILTERS,
    KIND_TYPES,
    ORDERS,
    DeletedFilter,
    given_value,
    to_filter,
    to_order,
)
from schema.metadata import ListField
from schema.rows import from_row

T = TypeVar("T")


@strawberry.type(description="Where a page stands in its list.")
class PageInfo:
    has_next_page: bool = strawberry.field(
        description="Whether items follow this page (after `endCursor`)."
    )
    has_previous_page: bool = strawberry.field(
        description="Whether items precede this page (before `startCursor`)."
    )
    start_cursor: str | None = strawberry.field(
        description="The first item's cursor (null: an empty page)."
    )
    end_cursor: str | None = strawberry.field(
        description="The last item's cursor (null: an empty page)."
    )


@strawberry.type(description="An item of a page and its cursor.")
class Edge(Generic[T]):
    cursor: str = strawberry.field(
        description="Where the item stands in the list, for `after` and `before` (opaque)."
    )
    node: T = strawberry.field(description="The item.")


@strawberry.type
class Connection(Generic[T]):
    edges: list[Edge[T]] = strawberry.field(description="The page's items with their cursors.")
    nodes: list[T] = strawberry.field(description="The page's items (as `edges.node`).")
    page_info: PageInfo = strawberry.field(description="Where the page stands in its list.")
    total: strawberry.Private[int | None]
    # the list itself, for `aggregate` and `groups` (schema/aggregates.py)
    source: strawberry.Private[ListSource | None] = None

    @strawberry.field(description="How many items the whole list has (counted only when asked).")
    def total_count(self) -> int:
        """The list's total, fetched because this field was selected."""
        assert self.total is not None, "the page was fetched with its total"
        return self.total


def _selects(selections: Iterable[Any], name: str) -> bool:
    for selection in selections:
        if isinstance(selection, SelectedField) and selection.name == name:
            return True
        if isinstance(selection, (InlineFragment, FragmentSpread)) and _selects(
            selection.selections, name
        ):
            return True
    return False


def _connection(
    page: Page, node_type: type[Any], connection: type[Any], source: ListSource
) -> Connection[Any]:
    nodes = [from_row(node_type, row) for row in page.rows]
    return connection(  # type: ignore[no-any-return]
        edges=[Edge(cursor=c, node=n) for c, n in zip(page.cursors, nodes, strict=True)],
        nodes=nodes,
        page_info=PageInfo(
            has_next_page=page.has_next,
            has_previous_page=page.has_previous,
            start_cursor=page.cursors[0] if page.cursors else None,
            end_cursor=page.cursors[-1] if page.cursors else None,
        ),
        total=page.total,
        source=source,
    )


_CONNECTIONS: dict[str, type[Any]] = {}
# what a connection reads its page for (its aggregates do not need it)
_PAGE_MEMBERS = ("edges", "nodes", "pageInfo", "totalCount")


def connection_type(entity: Entity, node_type: type[Any]) -> type[Any]:
    """`<Entity>Connection`: the generic connection of `node_type`, with the entity's
    `aggregate` and `groups` (made once per entity)."""
    found = _CONNECTIONS.get(entity.name)
    if found is None:
        name = f"{entity.type_name}Connection"

        def body(namespace: dict[str, Any]) -> None:
            namespace.update(connection_fields(entity))
            namespace["__module__"] = __name__

        made = types.new_class(name, (Connection[node_type],), exec_body=body)  # type: ignore[valid-type]
        found = _CONNECTIONS[entity.name] = strawberry.type(
            made, name=name, description=f"A page of {entity.name.replace('_', ' ')}s."
        )
    return found


def list_arguments(
    entity: Entity,
    given: dict[str, Any],
    viewer: Viewer,
    *,
    equal_arguments: Iterable[str] = (),
    default_size: int,
    max_size: int,
    narrowing: Filter | None = None,
) -> tuple[ListRequest, Window]:
    """A list field's arguments (python names, as strawberry converts them) as the plain
    request and window `db/` pages by; the one conversion both executors use, raising
    the same domain errors (scope, bad input) before any SQL runs. `narrowing`: a
    condition the field adds of its own (an evaluation's conditions), part of the
    request as any filter is (its cursors are made under it)."""
    require_read(viewer, entity.scope)
    args = {name: value for name, value in given.items() if given_value(value)}
    conditions: list[Filter] = [
        Compare(column, "eq", getattr(args[column], "value", args[column]))
        for column in equal_arguments
        if args.get(column) is not None
    ]
    if entity.time_column is not None:  # since inclusive, until exclusive
        for name, op in (("since", "gte"), ("until", "lt")):
            if args.get(name) is not None:
                conditions.append(Compare(entity.time_column, op, args[name]))
    if args.get("filter") is not None:
        conditions.append(to_filter(entity, args["filter"]))
    if narrowing is not None:
        conditions.append(narrowing)
    request = ListRequest(
        entity,
        filter=None
        if not conditions
        else conditions[0]
        if len(conditions) == 1
        else All(tuple(conditions)),
        search=args.get("search"),
        order=to_order(entity, args.get("order_by")),
        deleted=args.get("deleted", Deleted.EXCLUDE),
    )
    win = window(
        request,
        first=args.get("first"),
        after=args.get("after"),
        last=args.get("last"),
        before=args.get("before"),
        offset=args.get("offset"),
        default_size=default_size,
        max_size=max_size,
    )
    return request, win


# the standard arguments of every list, described once
LIST_ARGUMENTS = {
    "filter": "Which items to keep: every condition given must hold.",
    "order_by": "The order, key by key (at most 10); the id breaks ties. Empty: the list's "
    "default order.",
    "first": "At most this many items from the start (or after `after`): 0 to the server's "
    "maximum page size (100 unless configured), else BAD_USER_INPUT; default 20.",
    "after": "Items after this cursor (an `endCursor` or an edge's `cursor`).",
    "last": "At most this many items from the end (or before `before`); limits as `first`.",
    "before": "Items before this cursor.",
    "offset": "Skip this many items first (past the cursor when `after` or `before` is "
    "given): for jumping to page N; cursors cost the same at any depth.",
}


def search_description(entity: Entity) -> str:
    """The `search` argument of an entity's lists: the columns it looks in."""
    columns = ", ".join(f"`{c.public}`" for c in entity.searchable)
    if not columns:
        return "Free text (this kind has no text columns to search)."
    return (
        f"Free text: every word (at most {MAX_SEARCH_TERMS}) must appear, ignoring case, in "
        f"one of {columns}."
    )


def _equal_argument(entity: Entity, name: str) -> StrawberryArgument:
    column = entity.column(name)
    python_type = column.enum if column.enum is not None else KIND_TYPES[column.kind]
    description = f"Only those whose `{column.public}` equals this (a shorthand of `filter`)."
    return argument(name, Optional[python_type], description)  # noqa: UP045 (a runtime value)


def list_field(
    entity: Entity,
    node_type: type[Any],
    *,
    parent_column: str | None = None,
    equal_arguments: tuple[str, ...] = (),
    description: str,
    narrowed: Callable[[Any], tuple[UUID, Filter]] | None = None,
) -> Any:
    """A list field of `entity` nodes of `node_type`, with the standard arguments
    (and `equal_arguments`, shorthand equality filters on columns); nested under the
    parent's `uuid` through `parent_column` when given.

    `narrowed(root)`: the list hangs from another row than its object (the id
    `parent_column` holds) and keeps only the rows a filter of the object's own
    holds (an evaluation's matching events: its environment's events that its
    conditions keep). Such a field is answered by the resolver path."""
    filter_type, order_type = FILTERS[entity.name], ORDERS[entity.name]
    connection = connection_type(entity, node_type)

    async def resolve(root: Any, info: strawberry.Info[Context, None], **given: Any) -> Any:
        context = info.context
        request, win = list_arguments(
            entity,
            given,
            context.authenticated,
            equal_arguments=equal_arguments,
            default_size=context.default_page_size,
            max_size=context.max_page_size,
            narrowing=None if narrowed is None else narrowed(root)[1],
        )
        parent = None
        if parent_column is not None:
            parent = root.uuid if narrowed is None else narrowed(root)[0]
        source = ListSource(request, parent, parent_column)
        # the same list may be selected by several merged field nodes (repeated key,
        # fragments): the total is wanted if any of them asks for it
        with_total = any(_selects(f.selections, "totalCount") for f in info.selected_fields)
        if not any(_selects(f.selections, m) for f in info.selected_fields for m in _PAGE_MEMBERS):
            # only figures (and __typename) selected: no page to read
            return _connection(Page(), node_type, connection, source)
        if parent_column is None:
            page = await fetch_page(
                context.session, request, context.authenticated, win, with_total=with_total
            )
        else:
            loader = context.loaders.child_pages(request, win, parent_column, with_total)
            assert parent is not None
            page = await loader.load(parent)
        return _connection(page, node_type, connection, source)

    window_arguments = (
        []
        if entity.time_column is None
        else [
            argument("since", Optional[datetime], "From this time on (inclusive)."),  # noqa: UP045
            argument("until", Optional[datetime], "Before this time (exclusive)."),  # noqa: UP045
        ]
    )
    # a soft-deleted kind's lists say which rows they hold (db/lists.py)
    deleted_argument = (
        []
        if entity.deleted_column is None
        else [
            argument(
                "deleted",
                Optional[DeletedFilter],  # noqa: UP045 (a runtime value)
                "Whether deleted ones are listed (default EXCLUDE: not).",
                default=Deleted.EXCLUDE,
            )
        ]
    )
    arguments = [
        *(_equal_argument(entity, name) for name in equal_arguments),
        *window_arguments,
        *deleted_argument,
        argument("filter", Optional[filter_type], LIST_ARGUMENTS["filter"]),  # noqa: UP045
        argument("search", Optional[str], search_description(entity)),  # noqa: UP045
        argument(
            "order_by",
            Optional[list[order_type]],  # type: ignore[valid-type]  # noqa: UP045
            LIST_ARGUMENTS["order_by"],
        ),
        *(
            argument(name, Optional[python_type], LIST_ARGUMENTS[name])  # noqa: UP045
            for name, python_type in (
                ("first", int),
                ("after", str),
                ("last", int),
                ("before", str),
                ("offset", int),
            )
        ),
    ]
    return generated_field(
        connection,
        plan=None if narrowed is not None else ListField(entity, parent_column, equal_arguments),
        # the scope is said once here, for every list of the entity
        description=f"{description} Needs scope {entity.scope}:read (FORBIDDEN otherwise).",
        resolver=resolve,
        arguments=arguments,
    )
