"""Groups: a list's rows grouped by some of their fields, each group with its
aggregates, largest first (then by key), at most `first` of them.

What an entity can be grouped by comes from its description: its enum and
boolean columns, its parents (direct or reached through others), the users it
names and the UTC day of its DateTime columns. A parent is grouped by its id:
the key's object is then read as the parent field reads it, visibility and
scope included (grouping by a parent is reading it, as filtering by one is).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any
from uuid import UUID

from db.aggregates import COUNT, Measure, Values, measure_sql, python_value
from db.binder import Binder
from db.entities import Entity, Kind, snake
from db.errors import BadInput
from db.identifiers import ident, qualified
from db.lists import ALIAS, ListRequest, predicate
from db.parents import parent_hops, parent_value
from db.pool import Queryable
from db.viewer import Viewer

MAX_GROUPS = 100


@dataclass(frozen=True, slots=True)
class GroupField:
    """One thing rows can be grouped by: `name` is its GroupField enum member,
    `field` the key's field (python name); `kind` is "column" (enum, boolean),
    "parent", "user" or "day" (of a DateTime column); `target` the column, parent
    field or user reference it reads."""

    name: str
    field: str
    kind: str
    target: str


def group_fields(entity: Entity) -> tuple[GroupField, ...]:
    """What `entity`'s lists can be grouped by, in the order of its description."""
    found = [
        GroupField(c.name.upper(), c.name, "column", c.name)
        for c in entity.columns
        if c.kind in (Kind.ENUM, Kind.BOOLEAN)
    ]
    found += [GroupField(p.upper(), p, "parent", p) for p in entity.parents]
    for ref in entity.user_refs:
        found.append(GroupField(snake(ref.name).upper(), snake(ref.name), "user", ref.name))
    found += [
        GroupField(f"{c.name.upper()}_DAY", f"{c.name}_day", "day", c.name)
        for c in entity.columns
        if c.kind is Kind.DATETIME
    ]
    return tuple(found)


def group_field(entity: Entity, name: str) -> GroupField:
    """The group field called `name` (BadInput naming `by` when there is none)."""
    for found in group_fields(entity):
        if found.name == name:
            return found
    raise BadInput(f"{entity.name} cannot be grouped by {name}", field="by")


def key_entity(entity: Entity, field: GroupField) -> Entity | None:
    """The entity of a parent key (None for other keys)."""
    return entity.parent(field.target) if field.kind == "parent" else None


def key_sql(entity: Entity, field: GroupField, viewer: Viewer, bind: Binder) -> str:
    """The SQL of a row's key (alias `t`): a parent's id (its read scope checked), a
    user's id, a column, or a DateTime column's UTC day."""
    if field.kind == "parent":
        hops = parent_hops(entity, field.target, viewer, field="by")
        if len(hops) == 1:  # the row's own foreign key: a visible row's parent is visible
            return qualified(ALIAS, hops[0][1])
        return parent_value(ALIAS, hops, "id", viewer, bind)
    if field.kind == "user":
        return qualified(ALIAS, entity.user_ref(field.target).column)
    if field.kind == "day":
        return f"date_trunc('day', {qualified(ALIAS, field.target)}, 'UTC')"
    return qualified(ALIAS, field.target)


def checked_first(first: Any) -> int:
    """`first` of a group list: 0 to 100 (BadInput naming `first` otherwise)."""
    if not isinstance(first, int) or not 0 <= first <= MAX_GROUPS:
        raise BadInput(f"`first` takes 0 to {MAX_GROUPS} groups", field="first")
    return first


@dataclass(frozen=True, slots=True)
class GroupsQuery:
    """The grouped rows of a list as SQL: one row per group with its keys `_k0`...,
    its count `_c` and `columns`; `order` is the groups' order."""

    sql: str
    order: str


def grouped(
    request: ListRequest,
    viewer: Viewer,
    by: Sequence[GroupField],
    bind: Binder,
    columns: str,
    *,
    where: str | None = None,
    within: str = "TRUE",
    leading: str = "",
) -> GroupsQuery:
    """The list's rows (within `within`) grouped by `by`, selecting `columns` per
    group (aggregates), and `leading` first (a parent column, also grouped)."""
    if not by:
        raise BadInput("`by` names at least one field", field="by")
    entity = request.entity
    keys = [key_sql(entity, field, viewer, bind) for field in by]
    where = where if where is not None else predicate(request, viewer, bind)
    selected = [*([f"{leading} AS _of"] if leading else []), *(
        f"{key} AS _k{index}" for index, key in enumerate(keys)
    )]  # fmt: skip
    positions = ", ".join(str(n) for n in range(1, len(selected) + 1))
    sql = (
        f"SELECT {', '.join(selected)}, count(*) AS _c{', ' + columns if columns else ''} "
        f"FROM {ident(entity.table)} {ALIAS} WHERE {where} AND {within} GROUP BY {positions}"
    )
    order = ", ".join(["_c DESC", *(f"_k{index}" for index in range(len(keys)))])
    return GroupsQuery(sql, order)


@dataclass(frozen=True, slots=True)
class Group:
    """One group: its keys (in the order of `by`) and its measures."""

    keys: tuple[Any, ...]
    values: Values


async def fetch_groups(
    conn: Queryable,
    request: ListRequest,
    viewer: Viewer,
    *,
    by: Sequence[GroupField],
    first: int,
    measures: Sequence[Measure],
    parent_column: str | None = None,
    parent_ids: Sequence[UUID] = (),
) -> dict[UUID | None, list[Group]]:
    """The groups of a root list (key None), or of the same list under each parent,
    in ONE statement."""
    measures = list(dict.fromkeys([COUNT, *measures]))
    entity, bind = request.entity, Binder()
    columns = ", ".join(
        f"{measure_sql(entity, m, bind)} AS _m{index}" for index, m in enumerate(measures)
    )
    limit = f"{bind(first)}::int8"
    if parent_column is None:
        query = grouped(request, viewer, by, bind, columns)
        sql = (
            f"SELECT NULL::uuid AS _of, g.* FROM ({query.sql}) g "
            f"ORDER BY {query.order} LIMIT {limit}"
        )
    else:
        column = qualified(ALIAS, parent_column)
        wanted = bind(list(dict.fromkeys(parent_ids)))
        query = grouped(
            request,
            viewer,
            by,
            bind,
            columns,
            within=f"{column} = ANY({wanted}::uuid[])",
            leading=column,
        )
        sql = (
            f"SELECT * FROM (SELECT g.*, row_number() OVER (PARTITION BY _of ORDER BY "
            f"{query.order}) AS _n FROM ({query.sql}) g) x WHERE _n <= {limit} ORDER BY _of, _n"
        )
    groups: dict[UUID | None, list[Group]] = {}
    for row in await conn.fetch(sql, *bind.values):
        values = {m: python_value(m, row[f"_m{index}"]) for index, m in enumerate(measures)}
        keys = tuple(row[f"_k{index}"] for index in range(len(by)))
        groups.setdefault(row["_of"], []).append(Group(keys, values))
    return groups
