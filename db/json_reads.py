"""A read plan as ONE statement whose single value is the response's `data` JSON.

Every list is the page statement of `db/pages.py`, nested: the same predicate
(visibility, filter, search), the same total order, the same row positions and
the same window, with the paging of `_paginate` (what the page keeps, whether
a next or previous page exists, the total) done by aggregates over the fetched
rows, and the cursors that `encode_cursor` makes. A nested list is a subquery
correlated with the row it hangs from. Values serialise as the resolver path
serialises them (DateTime as Python's isoformat in UTC, enums by name, Relay
ids); keys are bound, in the order selected, so the SQL text depends only on
the plan's shape and prepared statements are reused.

Where the resolver path would fail a field the statement raises instead (an
int out of 32-bit range, a parent not visible): the caller then answers
through the resolver path, which gives the same error.
"""

from __future__ import annotations

from dataclasses import dataclass
from itertools import count
from typing import Any

from db.binder import Binder
from db.entities import Kind
from db.lists import ALIAS, order_by, predicate
from db.pages import stop_after
from db.paging import Window, fingerprint
from db.plans import (
    ColumnValue,
    Constant,
    Edges,
    Email,
    Field,
    GlobalId,
    ListPlan,
    Lookup,
    Nodes,
    PageInfo,
    Parent,
    ReadPlan,
    RootField,
    Selection,
    Total,
    UserOf,
)
from db.viewer import Viewer
from db.visibility import visible

# asyncpg (and PostgreSQL) take at most this many bind parameters
MAX_PARAMETERS = 32_767
# the marker of a statement failed on purpose: "answer through the resolver path"
FALLBACK_MARK = "envgraph:fallback"

_CURSOR_PREFIX = "c1:"  # as db/paging.py encodes cursors
_DATETIME = (
    "(replace(to_char({} AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.US'), '.000000', '')"
    " || '+00:00')"
)


@dataclass(frozen=True, slots=True)
class _Page:
    """One list's rows and how its page is cut. Bounds are bound where they are
    used, each time: a parameter the text does not use would have no type."""

    rows: str
    window: Window
    total: str | None  # the SQL of the list's total, when the page depends on it
    print_: str  # what follows the position in its cursors
    bind: Binder

    @property
    def position(self) -> str:
        return f"({self.rows}._n - 1)"

    def start(self) -> str:
        return _start(self.window, self.total, self.bind)

    def end(self) -> str | None:
        return _end(self.window, self.total, self.bind)

    def in_page(self) -> str:
        start, end = self.start(), self.end()
        return f"{self.position} >= {start}" + (
            "" if end is None else f" AND {self.position} < {end}"
        )

    def of(self, item: str) -> str:
        """The JSON array of `item` over the page's rows, in order."""
        return (
            f"COALESCE(json_agg({item} ORDER BY {self.position}) "
            f"FILTER (WHERE {self.in_page()}), '[]'::json)"
        )


class _Statement:
    """The state of one statement being built: its binder and alias numbers."""

    def __init__(self, viewer: Viewer) -> None:
        self.viewer = viewer
        self.bind = Binder()
        self._aliases = count()

    def alias(self, prefix: str) -> str:
        return f"{prefix}{next(self._aliases)}"

    def key(self, name: str) -> str:
        return f"{self.bind(name)}::text"

    def fail(self, why_sql: str) -> str:
        """An expression that fails the statement (only when evaluated) with the marker."""
        return f"(({self.key(FALLBACK_MARK + ':')} || {why_sql})::int4::text::json)"

    def object(self, selection: Selection, row: str) -> str:
        parts = []
        for key, field in selection:
            parts.append(self.key(key))
            parts.append(self.field(field, row))
        return f"json_build_object({', '.join(parts)})"

    def field(self, field: Field, row: str) -> str:  # noqa: PLR0911 (one case per kind)
        if isinstance(field, Constant):
            return self.key(field.value)
        if isinstance(field, ColumnValue):
            return _column(field, row)
        if isinstance(field, GlobalId):
            prefix = self.key(f"{field.type_name}:")
            return f"encode(convert_to({prefix} || {row}.id::text, 'UTF8'), 'base64')"
        if isinstance(field, Email):
            return f"CASE WHEN {self.shares(row)} THEN {row}.email END"
        if isinstance(field, Parent):
            return self.parent(field, row)
        if isinstance(field, UserOf):
            user = self.alias("u")
            return (
                f"COALESCE((SELECT {self.object(field.selection, user)} FROM users {user} "
                f"WHERE {user}.id = {row}.{field.column}), {self.fail(f'{row}.id::text')})"
            )
        return self.list(field, row)

    def shares(self, user: str) -> str:
        """Whether the viewer may see this user's e-mail (as db/loading.py decides)."""
        me, superuser = self.bind(self.viewer.user_id), self.bind(self.viewer.superuser)
        mine, theirs = self.alias("m"), self.alias("o")
        return (
            f"({user}.id = {me} OR {superuser}::boolean OR EXISTS (SELECT 1 "
            f"FROM organization_members {theirs} JOIN organization_members {mine} "
            f"ON {mine}.organization_id = {theirs}.organization_id "
            f"WHERE {theirs}.user_id = {user}.id AND {mine}.user_id = {me}))"
        )

    def parent(self, field: Parent, row: str) -> str:
        (entity, column), *rest = field.path
        alias = self.alias("p")
        inner = (
            self.parent(Parent(tuple(rest), field.selection), alias)
            if rest
            else self.object(field.selection, alias)
        )
        found = (
            f"(SELECT {inner} FROM {entity.table} {alias} WHERE {alias}.id = {row}.{column} "
            f"AND {visible(entity, alias, self.viewer, self.bind)})"
        )
        return f"COALESCE({found}, {self.fail(f'{row}.id::text')})"

    def list(self, plan: ListPlan, parent: str | None) -> str:
        """The connection's JSON: the page statement of db/pages.py, aggregated."""
        bind, request, win = self.bind, plan.request, plan.window
        rows = self.alias("r")
        where = predicate(request, self.viewer, bind)
        if plan.parent_column is not None:
            where += f" AND {ALIAS}.{plan.parent_column} = {parent}.id"
        total_wanted = plan.with_total or win.needs_total
        total = ", count(*) OVER () AS _total" if total_wanted else ""
        position = f"({rows}._n - 1)"
        fetched = stop_after(win, f"{rows}._n", bind) + _fetched(
            win, position, f"{rows}._total", bind
        )
        page = _Page(
            rows, win, f"{rows}._total" if total_wanted else None, ":" + fingerprint(request), bind
        )
        parts = []
        for key, member in plan.items:
            parts.append(self.key(key))
            if isinstance(member, Constant):
                parts.append(self.key(member.value))
            elif isinstance(member, Total):
                parts.append(f"COALESCE(max({rows}._total), 0)::int4")
            elif isinstance(member, Nodes):
                parts.append(page.of(self.object(member.selection, rows)))
            elif isinstance(member, Edges):
                parts.append(page.of(self.edge(member, page)))
            else:
                parts.append(self.page_info(member, page))
        return (
            f"(SELECT json_build_object({', '.join(parts)}) FROM (SELECT {ALIAS}.*, "
            f"row_number() OVER (ORDER BY {order_by(request)}) AS _n{total} "
            f"FROM {request.entity.table} {ALIAS} WHERE {where}) {rows} WHERE {fetched} "
            # one row, even when nothing selected aggregates (`{ __typename }`)
            "GROUP BY ())"
        )

    def cursor(self, page: _Page, position: str) -> str:
        """The cursor `encode_cursor` makes for this position of the list."""
        # bound where used: a parameter the text does not use has no type
        text = f"{self.key(_CURSOR_PREFIX)} || ({position})::text || {self.key(page.print_)}"
        return f"translate(encode(convert_to({text}, 'UTF8'), 'base64'), '+/', '-_')"

    def edge(self, edges: Edges, page: _Page) -> str:
        parts = []
        for key, item in edges.items:
            parts.append(self.key(key))
            if isinstance(item, Constant):
                parts.append(self.key(item.value))
            elif isinstance(item, Nodes):
                parts.append(self.object(item.selection, page.rows))
            else:
                parts.append(self.cursor(page, page.position))
        return f"json_build_object({', '.join(parts)})"

    def page_info(self, info: PageInfo, page: _Page) -> str:
        parts = []
        for key, name in info.items:
            parts.append(self.key(key))
            if isinstance(name, Constant):
                parts.append(self.key(name.value))
            elif name == "hasNextPage":
                end = page.end()
                has_next = "NULL" if end is None else f"bool_or({page.position} >= {end})"
                parts.append(f"COALESCE({has_next}, FALSE)")
            elif name == "hasPreviousPage":
                # some row exists (position 0 always comes along) and the page starts later
                parts.append(f"COALESCE(bool_or({page.start()} > 0), FALSE)")
            else:
                edge_of = "min" if name == "startCursor" else "max"
                at = f"{edge_of}({page.position}) FILTER (WHERE {page.in_page()})"
                parts.append(self.cursor(page, at))
        return f"json_build_object({', '.join(parts)})"

    def lookup(self, plan: Lookup) -> str:
        alias = self.alias("l")
        wanted = self.bind(plan.uuid)
        if plan.entity is None:
            return (
                f"(SELECT {self.object(plan.selection, alias)} FROM users {alias} "
                f"WHERE {alias}.id = {wanted} AND {self.shares(alias)})"
            )
        return (
            f"(SELECT {self.object(plan.selection, alias)} FROM {plan.entity.table} {alias} "
            f"WHERE {alias}.id = {wanted} "
            f"AND {visible(plan.entity, alias, self.viewer, self.bind)})"
        )

    def root(self, field: RootField) -> str:
        if isinstance(field, Constant):
            return self.key(field.value)
        if isinstance(field, ListPlan):
            return self.list(field, None)
        if isinstance(field, Lookup):
            return self.lookup(field)
        return f"json_build_array({', '.join(self.lookup(item) for item in field.lookups)})"


def _column(field: ColumnValue, row: str) -> str:
    sql = f"{row}.{field.column}"
    if field.kind is Kind.DATETIME:
        return _DATETIME.format(sql)
    if field.kind is Kind.ENUM:
        return f"{sql}::text"
    if field.kind is Kind.INT:
        # GraphQL's Int is 32-bit: a larger value fails the statement as it
        # fails the field on the resolver path
        return f"{sql}::int4"
    return sql


def _int(bind: Binder, value: int) -> str:
    # typed, so that a bound position is never taken for a 32-bit int
    return f"{bind(value)}::int8"


def _fetched(win: Window, position: str, total: str, bind: Binder) -> str:
    """The rows db/pages.py fetches: the window, one past it, and position 0."""
    if win.needs_total:
        assert win.last is not None
        in_window = (
            f"{position} >= GREATEST({_int(bind, win.low)}, {total} - {_int(bind, win.last)})"
        )
    else:
        low, high = win.bounds(None)
        in_window = f"{position} >= {_int(bind, low)}" + (
            "" if high is None else f" AND {position} <= {_int(bind, high)}"
        )
    return f"(({in_window}) OR {position} = 0)"


def _end(win: Window, total: str | None, bind: Binder) -> str | None:
    """The end of the page (exclusive) as `Window.bounds` computes it; None: no end."""
    if total is None:
        end = win.bounds(None)[1]
        return None if end is None else _int(bind, end)
    sql = total if win.high is None else f"LEAST({_int(bind, win.high)}, {total})"
    if win.first is not None:
        sql = f"LEAST({sql}, {_int(bind, win.low + win.first)})"
    return sql


def _start(win: Window, total: str | None, bind: Binder) -> str:
    """The first position of the page as `Window.bounds` computes it."""
    if total is None:
        return _int(bind, win.bounds(None)[0])
    if win.last is None:
        return _int(bind, win.low)
    return f"GREATEST({_int(bind, win.low)}, {_end(win, total, bind)} - {_int(bind, win.last)})"


def read_statement(plan: ReadPlan, viewer: Viewer) -> tuple[str, list[Any]]:
    """The statement answering `plan` for `viewer`: one row of (the `data` JSON text,
    whether a required lookup found nothing)."""
    statement = _Statement(viewer)
    parts, columns, missing = [], [], []
    for index, (key, field) in enumerate(plan.items):
        columns.append(f"{statement.root(field)} AS c{index}")
        parts.append(f"{statement.key(key)}, f.c{index}")
        if isinstance(field, Lookup) and field.required:
            missing.append(f"f.c{index} IS NULL")
    # OFFSET 0 keeps the subquery whole, so a lookup tested for NULL is not run twice
    sql = (
        f"SELECT json_build_object({', '.join(parts)})::text, {' OR '.join(missing) or 'FALSE'} "
        f"FROM (SELECT {', '.join(columns) or 'NULL AS c'} OFFSET 0) f"
    )
    return sql, statement.bind.values
