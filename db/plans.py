"""Read plans: a whole read query as plain values, for `db/json_reads.py` to turn
into ONE statement that builds the response's `data` JSON in PostgreSQL.

A plan is what the resolvers would fetch, nested: the same `ListRequest` and
`Window` a list resolver builds, lookups by uuid, parents through foreign keys,
and for every object the response keys in the order the query selects them.
`schema/` builds plans (it knows GraphQL); `db/` only reads them (it knows SQL).
"""

from __future__ import annotations

from dataclasses import dataclass
from uuid import UUID

from db.aggregates import Measure
from db.entities import Entity, Kind
from db.groups import GroupField
from db.lists import ListRequest
from db.paging import Window
from db.series import SeriesRequest
from db.writes import Write


@dataclass(frozen=True, slots=True)
class Constant:
    """A fixed string, e.g. `__typename`."""

    value: str


@dataclass(frozen=True, slots=True)
class ColumnValue:
    """A column of the row, rendered as the resolver path serialises its kind."""

    column: str
    kind: Kind


@dataclass(frozen=True, slots=True)
class GlobalId:
    """The row's Relay id, `base64("<type_name>:<uuid>")`."""

    type_name: str


@dataclass(frozen=True, slots=True)
class Email:
    """A user's e-mail: null unless the viewer shares an organization with them."""


@dataclass(frozen=True, slots=True)
class Parent:
    """An object reached through foreign keys, one hop per (entity, column of the row
    before it); every hop must be visible (the resolver path fails the field otherwise)."""

    path: tuple[tuple[Entity, str], ...]
    selection: Selection


@dataclass(frozen=True, slots=True)
class UserOf:
    """The user a column of the row names (createdBy, updatedBy)."""

    column: str
    selection: Selection


# connection members
@dataclass(frozen=True, slots=True)
class Total:
    """`totalCount`."""


@dataclass(frozen=True, slots=True)
class PageInfoSelection:
    """`pageInfo`: items are "hasNextPage", "hasPreviousPage", "startCursor",
    "endCursor" or a Constant."""

    items: tuple[tuple[str, str | Constant], ...]


@dataclass(frozen=True, slots=True)
class Edges:
    """`edges`: items are "cursor", a `Nodes` (the edge's node) or a Constant."""

    items: tuple[tuple[str, str | Constant | Nodes], ...]


@dataclass(frozen=True, slots=True)
class Nodes:
    """`nodes` (or an edge's `node`): the selection of each row of the page."""

    selection: Selection


@dataclass(frozen=True, slots=True)
class Figures:
    """`aggregate` (or one of its objects): figures over the list's rows, each a
    `Measure`, a nested `Figures` or a Constant; with `none_when_empty`, null over no
    rows (sum, avg, min, max)."""

    items: tuple[tuple[str, Measure | Figures | Constant], ...]
    none_when_empty: bool = False


@dataclass(frozen=True, slots=True)
class KeyValue:
    """A scalar field of a group's key: the `index`th key of `by` (None: not grouped
    by, null), rendered as `kind`."""

    index: int | None
    kind: Kind


@dataclass(frozen=True, slots=True)
class KeyObject:
    """A parent (`entity`) or user (`entity` None) of a group's key, read as the parent
    field reads it (visible, or the resolver path answers)."""

    index: int | None
    entity: Entity | None
    selection: Selection


@dataclass(frozen=True, slots=True)
class GroupKeyPlan:
    """A group's `key`."""

    items: tuple[tuple[str, KeyValue | KeyObject | Constant], ...]


@dataclass(frozen=True, slots=True)
class GroupsPlan:
    """`groups(by, first)`: items are the group's `key`, its `aggregate` or a Constant."""

    by: tuple[GroupField, ...]
    first: int
    items: tuple[tuple[str, GroupKeyPlan | Figures | Constant], ...]


@dataclass(frozen=True, slots=True)
class SeriesLine:
    """`lines` (`many`) or `other` of a series: items are "key", "values", "total" or a
    Constant."""

    many: bool
    items: tuple[tuple[str, str | Constant], ...]


@dataclass(frozen=True, slots=True)
class Series:
    """`eventSeries(...)` of the environment row: items are "buckets", a SeriesLine or
    a Constant."""

    request: SeriesRequest
    items: tuple[tuple[str, str | SeriesLine | Constant], ...]


@dataclass(frozen=True, slots=True)
class ListPlan:
    """A connection: under the row it hangs from (`parent_column`) or at the root."""

    request: ListRequest
    window: Window
    parent_column: str | None
    # as the resolver decides it: whether the page is fetched with its total
    with_total: bool
    items: tuple[tuple[str, ListMember], ...]


@dataclass(frozen=True, slots=True)
class Lookup:
    """A root lookup by uuid (entity None: a user, shown only when shared); with
    `required`, a row not found is the resolver path's NOT_FOUND."""

    entity: Entity | None
    uuid: UUID
    selection: Selection
    required: bool


@dataclass(frozen=True, slots=True)
class LookupList:
    """`nodes(ids)`: the lookups in order."""

    lookups: tuple[Lookup, ...]


ListMember = Total | PageInfoSelection | Edges | Nodes | Constant | Figures | GroupsPlan
Field = Constant | ColumnValue | GlobalId | Email | Parent | UserOf | ListPlan | Series
Selection = tuple[tuple[str, Field], ...]
RootField = Constant | ListPlan | Lookup | LookupList


@dataclass(frozen=True, slots=True)
class ReadPlan:
    """A whole read query: the root fields by response key, in order."""

    items: tuple[tuple[str, RootField], ...]


@dataclass(frozen=True, slots=True)
class WritePlan:
    """A mutation of one root field (`key`) answered by its write's own statement:
    the write, then its payload's fields, each the written row's object (a
    selection that reads no list: a list in the same statement would not see the
    write) or a Constant."""

    key: str
    write: Write
    payload: tuple[tuple[str, Selection | Constant], ...]
