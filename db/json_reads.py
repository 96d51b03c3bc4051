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
from db.aggregates import Measure, measure_json_sql, measure_sql
from db.binder import Binder
from db.entities import Entity
from db.groups import grouped
from db.identifiers import ident, qualified
from db.lists import ALIAS
from db.pages import PageQuery
from db.plans import (
    ColumnValue,
    Constant,
    Edges,
    Email,
    Field,
    Figures,
    GlobalId,
    GroupKeyPlan,
    GroupsPlan,
    KeyObject,
    KeyValue,
    ListPlan,
    Lookup,
    Nodes,
    PageInfoSelection,
    Parent,
    ReadPlan,
    RootField,
    Selection,
    Series,
    SeriesLine,
    Total,
    UserOf,
    WritePlan,
)
from db.queries import fragment
from db.series import series_sql
from db.viewer import Viewer
from db.visibility import visible

__all__ = ["FALLBACK_MARK", "read_statement", "write_statement"]

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
            return codecs.global_id_sql(prefix, qualified(row, "id"), field.type_name)
        if isinstance(field, Email):
            return f"CASE WHEN {self.shares(row)} THEN {row}.email END"
        if isinstance(field, Parent):
            return self.parent(field, row)
        if isinstance(field, Series):
            return self.series(field, row)
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
        within = (
            "TRUE"
            if plan.parent_column is None
            else f"{qualified(ALIAS, plan.parent_column)} = {parent}.id"
        )
        constants = [(k, m) for k, m in plan.items if isinstance(m, Constant)]
        if len(constants) == len(plan.items):
            # nothing of the list is read (`__typename`, or nothing left after
            # @skip/@include): its SQL is still built, for the checks made as it is
            # (a search's NUL), but none of its values bound in the statement, whose
            # text would not use them (such a parameter has no type: an error)
            PageQuery(plan.request, self.viewer, plan.window, Binder(), within=within)
            return self.object(tuple(constants), ALIAS)
        rows = self.alias("r")
        page = PageQuery(plan.request, self.viewer, plan.window, self.bind, within=within)
        # the page's rows, read only when some of the page is selected (a parameter
        # bound for text not in the statement would have no type)
        reads_page = any(isinstance(m, (Nodes, Edges, PageInfoSelection)) for _, m in plan.items)
        fetched = f"({page.rows()}) {rows} WHERE {page.fetched(rows)}" if reads_page else ""
        cursor = None
        if _edge_cursors(plan) and _page_cursors(plan):
            # each row of the page has its cursor made once, for its edge and for the
            # page's start or end (OFFSET 0: a subquery pulled up would make it twice);
            # the row past the page's end, and the first row, fetched for the flags,
            # have none
            cursor = f"{rows}._c"
            made = f"CASE WHEN {page.in_page(rows)} THEN {page.cursor_sql(rows)} END"
            fetched = f"(SELECT {rows}.*, {made} AS _c FROM {fetched} OFFSET 0) {rows}"
        entity = plan.request.entity
        # the rows of the whole list, for its figures (paging ignored, as for the total)
        rows_of_list = f"FROM {ident(entity.table)} {ALIAS} WHERE {page.where} AND {within}"
        parts = []
        for key, member in plan.items:
            parts.append(self.key(key))
            if isinstance(member, Constant):
                parts.append(self.key(member.value))
            elif isinstance(member, Total):
                parts.append(f"{page.total(within)}::int4")
            elif isinstance(member, Figures):
                parts.append(f"(SELECT {self.figures(entity, member)} {rows_of_list})")
            elif isinstance(member, GroupsPlan):
                parts.append(self.groups(plan, member, page.where, within))
            elif isinstance(member, Nodes):
                parts.append(self.of(page, rows, self.object(member.selection, rows)))
            elif isinstance(member, Edges):
                parts.append(self.of(page, rows, self.edge(member, page, rows, cursor)))
            else:
                parts.append(self.page_info(member, page, rows, within, cursor))
        if not reads_page:
            # nothing of the page is selected (a total, figures): no page to read
            return f"(SELECT json_build_object({', '.join(parts)}))"
        return (
            f"(SELECT json_build_object({', '.join(parts)}) FROM {fetched} "
            # one row, even when nothing selected aggregates (`{ __typename }`)
            "GROUP BY ())"
        )

    def figures(self, entity: Entity, figures: Figures) -> str:
        """The JSON of `aggregate` (or one of its objects) as aggregate expressions over
        the rows `t` (db/aggregates.py: the SQL the resolver path selects)."""
        parts = []
        for key, item in figures.items:
            parts.append(self.key(key))
            if isinstance(item, Constant):
                parts.append(self.key(item.value))
            elif isinstance(item, Measure):
                parts.append(measure_json_sql(entity, item, measure_sql(entity, item, self.bind)))
            else:
                parts.append(self.figures(entity, item))
        built = f"json_build_object({', '.join(parts)})"
        return (
            f"CASE WHEN count(*) = 0 THEN NULL ELSE {built} END"
            if figures.none_when_empty
            else built
        )

    def groups(self, plan: ListPlan, groups: GroupsPlan, where: str, within: str) -> str:
        """The JSON array of `groups(by, first)`: db/groups.py's grouped rows, the
        largest `first`, each with its key and figures."""
        entity, group = plan.request.entity, self.alias("g")
        figures = [
            (i, item) for i, (_, item) in enumerate(groups.items) if isinstance(item, Figures)
        ]
        columns = ", ".join(f"{self.figures(entity, item)} AS _a{i}" for i, item in figures)
        query = grouped(
            plan.request, self.viewer, groups.by, self.bind, columns, where=where, within=within
        )
        parts = []
        for index, (key, item) in enumerate(groups.items):
            parts.append(self.key(key))
            if isinstance(item, Constant):
                parts.append(self.key(item.value))
            elif isinstance(item, Figures):
                parts.append(f"{group}._a{index}")
            else:
                parts.append(self.group_key(item, group))
        limit = f"{self.bind(groups.first)}::int8"
        return (
            f"(SELECT COALESCE(json_agg(json_build_object({', '.join(parts)}) "
            f"ORDER BY {query.order}), '[]'::json) "
            f"FROM ({query.sql} ORDER BY {query.order} LIMIT {limit}) {group})"
        )

    def group_key(self, plan: GroupKeyPlan, group: str) -> str:
        parts = []
        for key, item in plan.items:
            parts.append(self.key(key))
            if isinstance(item, Constant):
                parts.append(self.key(item.value))
            elif item.index is None:  # not grouped by
                parts.append("NULL::json")
            elif isinstance(item, KeyValue):
                parts.append(codecs.response_sql(item.kind, f"{group}._k{item.index}"))
            else:
                parts.append(self.key_object(item, group))
        return f"json_build_object({', '.join(parts)})"

    def key_object(self, item: KeyObject, group: str) -> str:
        """A parent or user of a group's key, visible (else the resolver path answers,
        as it fails the field)."""
        key, alias = qualified(group, f"_k{item.index}"), self.alias("p")
        if item.entity is None:
            table, seen = "users", "TRUE"
        else:
            table, seen = (
                ident(item.entity.table),
                visible(item.entity, alias, self.viewer, self.bind),
            )
        found = (
            f"(SELECT {self.object(item.selection, alias)} FROM {table} {alias} "
            f"WHERE {alias}.id = {key} AND {seen})"
        )
        missing = self.fail(f"{key}::text")
        return f"CASE WHEN {key} IS NULL THEN NULL ELSE COALESCE({found}, {missing}) END"

    def series(self, plan: Series, row: str) -> str:
        """`eventSeries` of the environment `row`: db/series.py's JSON, under the keys
        the query selects."""
        found = self.alias("s")
        inner = series_sql(plan.request, self.viewer, self.bind, qualified(row, "id"))
        parts = []
        for key, item in plan.items:
            parts.append(self.key(key))
            if isinstance(item, Constant):
                parts.append(self.key(item.value))
            elif isinstance(item, SeriesLine) and item.many:
                line = self.alias("x")
                parts.append(
                    f"(SELECT COALESCE(json_agg({self.series_line(item, f'{line}.l')} "
                    f"ORDER BY {line}.n), '[]'::json) "
                    f"FROM json_array_elements({found}.j -> 'lines') WITH ORDINALITY {line}(l, n))"
                )
            elif isinstance(item, SeriesLine):
                other = f"({found}.j -> 'other')"
                parts.append(
                    f"CASE WHEN json_typeof({other}) = 'object' "
                    f"THEN {self.series_line(item, other)} END"
                )
            else:
                parts.append(f"({found}.j -> 'buckets')")
        # OFFSET 0 keeps the subquery from being pulled up: its series is computed
        # once, however many of its parts are selected
        return (
            f"(SELECT json_build_object({', '.join(parts)}) "
            f"FROM (SELECT {inner} AS j OFFSET 0) {found})"
        )

    def series_line(self, line: SeriesLine, source: str) -> str:
        parts = []
        for key, item in line.items:
            parts.append(self.key(key))
            if isinstance(item, Constant):
                parts.append(self.key(item.value))
            else:  # "key", "values" or "total": a name of this module's JSON
                parts.append(f"({source} -> '{item}')")
        return f"json_build_object({', '.join(parts)})"

    def of(self, page: PageQuery, rows: str, item: str) -> str:
        """The JSON array of `item` over the page's rows, in the list's order."""
        return (
            f"COALESCE(json_agg({item} ORDER BY {page.order(rows)}) "
            f"FILTER (WHERE {page.in_page(rows)}), '[]'::json)"
        )

    def edge(self, edges: Edges, page: PageQuery, rows: str, cursor: str | None) -> str:
        parts = []
        for key, item in edges.items:
            parts.append(self.key(key))
            if isinstance(item, Constant):
                parts.append(self.key(item.value))
            elif isinstance(item, Nodes):
                parts.append(self.object(item.selection, rows))
            else:
                parts.append(cursor or page.cursor_sql(rows))
        return f"json_build_object({', '.join(parts)})"

    def page_info(
        self, info: PageInfoSelection, page: PageQuery, rows: str, within: str, cursor: str | None
    ) -> str:
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
                # the first (or last) cursor of the page in the list's order: the rows'
                # cursors when made, else their sort keys, of which only the one kept
                # is encoded
                reverse = name == "endCursor"
                first = (
                    f"(array_agg({cursor or page.cursor_keys_sql(rows)} ORDER BY "
                    f"{page.order(rows, reverse=reverse)}) FILTER (WHERE {page.in_page(rows)}))[1]"
                )
                parts.append(first if cursor else page.cursor_sql(rows, first))
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


def _edge_cursors(plan: ListPlan) -> bool:
    """Whether the list's edges select their cursor."""
    return any(
        not isinstance(item, (Constant, Nodes))
        for _, member in plan.items
        if isinstance(member, Edges)
        for _, item in member.items
    )


def _page_cursors(plan: ListPlan) -> bool:
    """Whether the list's pageInfo selects its start or end cursor."""
    return any(
        name in ("startCursor", "endCursor")
        for _, member in plan.items
        if isinstance(member, PageInfoSelection)
        for _, name in member.items
    )


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


def write_statement(plan: WritePlan, viewer: Viewer) -> tuple[str, list[Any]]:
    """The write's own statement, answering with the payload: one row of (the `data`
    JSON text, whether nothing was written, then the checks' columns, from which
    `Write.errors()` says why), or no row when the checks found none."""
    statement = _Statement(viewer)
    ctes = plan.write.ctes(statement.bind)
    parts = []
    for key, item in plan.payload:
        parts.append(statement.key(key))
        parts.append(
            statement.key(item.value) if isinstance(item, Constant) else statement.object(item, "n")
        )
    # only a written row's payload is built (a parent's check would fail on none)
    payload = f"CASE WHEN n.id IS NULL THEN NULL ELSE json_build_object({', '.join(parts)}) END"
    sql = (
        f"{ctes} SELECT json_build_object({statement.key(plan.key)}, {payload})::text, "
        f"n.id IS NULL, {plan.write.checks} FROM {plan.write.source}"
    )
    return sql, statement.bind.values
