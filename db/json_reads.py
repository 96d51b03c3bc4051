"""A read plan as ONE statement whose single value is the response's `data` JSON.

Every list is the page of `db/pages.py`'s builder, nested: the same rows,
seek, numbering and flags, as a subquery correlated with the row it hangs
from, aggregated into JSON. Values serialise as the resolver path serialises
them, through the codecs both paths share (db/codecs.py: DateTime, enums,
Int, Relay ids, cursors); keys are bound, in the order selected, so the SQL
text depends only on the plan's shape and prepared statements are reused.

Where the resolver path would fail a field the statement raises instead (an
int out of 32-bit range, a parent not visible, a cursor's unknown enum
label): the caller then answers through the resolver path, which gives the
same error.
"""

from __future__ import annotations

from itertools import count
from typing import Any

from db import codecs
from db.binder import Binder
from db.identifiers import ident, qualified
from db.lists import ALIAS
from db.pages import PageQuery
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
    PageInfoSelection,
    Parent,
    ReadPlan,
    RootField,
    Selection,
    Total,
    UserOf,
)
from db.queries import fragment
from db.viewer import Viewer
from db.visibility import visible

__all__ = ["FALLBACK_MARK", "read_statement"]

# the marker of a statement failed on purpose: "answer through the resolver path"
FALLBACK_MARK = "envgraph:fallback"


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
            return codecs.global_id_sql(prefix, qualified(row, "id"))
        if isinstance(field, Email):
            return f"CASE WHEN {self.shares(row)} THEN {row}.email END"
        if isinstance(field, Parent):
            return self.parent(field, row)
        if isinstance(field, UserOf):
            user = self.alias("u")
            return (
                f"COALESCE((SELECT {self.object(field.selection, user)} FROM users {user} "
                f"WHERE {user}.id = {qualified(row, field.column)}), "
                f"{self.fail(f'{row}.id::text')})"
            )
        return self.list(field, row)

    def shares(self, user: str) -> str:
        """Whether the viewer may see this user's e-mail (as db/loading.py decides)."""
        me, superuser = self.bind(self.viewer.user_id), self.bind(self.viewer.superuser)
        mine, theirs = self.alias("m"), self.alias("o")
        narrowed = ""
        if self.viewer.projects is not None:  # only the organizations of its projects
            allowed = self.bind(sorted(self.viewer.projects))
            organizations = fragment("organizations_of_projects", allowed)
            narrowed = f" AND {mine}.organization_id IN {organizations}"
        return (
            f"({user}.id = {me} OR {superuser}::boolean OR EXISTS (SELECT 1 "
            f"FROM organization_members {theirs} JOIN organization_members {mine} "
            f"ON {mine}.organization_id = {theirs}.organization_id "
            f"WHERE {theirs}.user_id = {user}.id AND {mine}.user_id = {me}{narrowed}))"
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
            f"(SELECT {inner} FROM {ident(entity.table)} {alias} "
            f"WHERE {alias}.id = {qualified(row, column)} "
            f"AND {visible(entity, alias, self.viewer, self.bind)})"
        )
        return f"COALESCE({found}, {self.fail(f'{row}.id::text')})"

    def list(self, plan: ListPlan, parent: str | None) -> str:
        """The connection's JSON: the page of db/pages.py's builder, aggregated."""
        rows = self.alias("r")
        within = (
            "TRUE"
            if plan.parent_column is None
            else f"{qualified(ALIAS, plan.parent_column)} = {parent}.id"
        )
        page = PageQuery(plan.request, self.viewer, plan.window, self.bind, within=within)
        parts = []
        for key, member in plan.items:
            parts.append(self.key(key))
            if isinstance(member, Constant):
                parts.append(self.key(member.value))
            elif isinstance(member, Total):
                parts.append(f"{page.total(within)}::int4")
            elif isinstance(member, Nodes):
                parts.append(self.of(page, rows, self.object(member.selection, rows)))
            elif isinstance(member, Edges):
                parts.append(self.of(page, rows, self.edge(member, page, rows)))
            else:
                parts.append(self.page_info(member, page, rows, within))
        return (
            f"(SELECT json_build_object({', '.join(parts)}) FROM ({page.rows()}) {rows} "
            f"WHERE {page.fetched(rows)} "
            # one row, even when nothing selected aggregates (`{ __typename }`)
            "GROUP BY ())"
        )

    def of(self, page: PageQuery, rows: str, item: str) -> str:
        """The JSON array of `item` over the page's rows, in the list's order."""
        return (
            f"COALESCE(json_agg({item} ORDER BY {page.order(rows)}) "
            f"FILTER (WHERE {page.in_page(rows)}), '[]'::json)"
        )

    def edge(self, edges: Edges, page: PageQuery, rows: str) -> str:
        parts = []
        for key, item in edges.items:
            parts.append(self.key(key))
            if isinstance(item, Constant):
                parts.append(self.key(item.value))
            elif isinstance(item, Nodes):
                parts.append(self.object(item.selection, rows))
            else:
                parts.append(page.cursor_sql(rows))
        return f"json_build_object({', '.join(parts)})"

    def page_info(self, info: PageInfoSelection, page: PageQuery, rows: str, within: str) -> str:
        parts = []
        for key, name in info.items:
            parts.append(self.key(key))
            if isinstance(name, Constant):
                parts.append(self.key(name.value))
            elif name == "hasNextPage":
                parts.append(page.has_next(rows, "", page.outside_next(within)))
            elif name == "hasPreviousPage":
                parts.append(page.has_previous(rows, "", page.outside_previous(within)))
            else:
                # the first (or last) cursor of the page in the list's order: the
                # sort keys are aggregated, and only the one kept is encoded
                reverse = name == "endCursor"
                keys = (
                    f"(array_agg({page.cursor_keys_sql(rows)} ORDER BY "
                    f"{page.order(rows, reverse=reverse)}) FILTER (WHERE {page.in_page(rows)}))[1]"
                )
                parts.append(page.cursor_sql(rows, keys))
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
            f"(SELECT {self.object(plan.selection, alias)} FROM {ident(plan.entity.table)} {alias} "
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
    return codecs.response_sql(field.kind, qualified(row, field.column))


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
