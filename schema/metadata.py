"""What each generated field is, as the planner reads it.

Every field the registry makes carries one of these in its strawberry metadata
under `PLAN`; the planner compiles a field from it and never matches names.
A field without one (viewer, introspection, `_entities`) is not compilable.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from graphql import GraphQLField
from strawberry.types.field import StrawberryField

from db.entities import Entity
from db.groups import GroupField
from db.viewer import Viewer
from db.writes import Write

PLAN = "envgraph.plan"
# where Strawberry keeps, on the graphql-core field it makes, the field it made it of
_BACKREF = "strawberry-definition"


@dataclass(frozen=True, slots=True)
class GlobalIdField:
    """`id`: the row's Relay id, of the type that holds the field."""


@dataclass(frozen=True, slots=True)
class ParentField:
    """A parent reached through foreign keys: (parent entity, column of the row
    before it), hop by hop."""

    path: tuple[tuple[Entity, str], ...]


@dataclass(frozen=True, slots=True)
class UserField:
    """The user a column of the row names."""

    column: str


@dataclass(frozen=True, slots=True)
class ListField:
    """A list: its entity, the parent column it hangs from (None: a root list) and
    its shorthand equality arguments."""

    entity: Entity
    parent_column: str | None
    equal_arguments: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class LookupField:
    """`<entity>(id)`: one object by global id, NOT_FOUND when absent or invisible."""

    entity: Entity


@dataclass(frozen=True, slots=True)
class NodeField:
    """`node(id)` (`many`: `nodes(ids)`)."""

    many: bool = False


def strawberry_field(definition: GraphQLField) -> StrawberryField | None:
    """The Strawberry field a graphql-core field was made of (None: one Strawberry
    did not make, as introspection's)."""
    field: StrawberryField | None = definition.extensions.get(_BACKREF)
    return field


def plan_of(metadata: dict[str, Any] | None) -> Any:
    """The plan metadata of a field (None: not a field the registry made)."""
    return (metadata or {}).get(PLAN)


class _Meta:
    """Plan metadata that also makes the strawberry `metadata` of its field."""

    __slots__ = ()

    @property
    def meta(self) -> dict[str, Any]:
        """The field's strawberry metadata."""
        return {PLAN: self}


@dataclass(frozen=True, slots=True)
class AggregatesField(_Meta):
    """`aggregate` of a connection (or of a group): `<Entity>Aggregates`."""

    entity: Entity


@dataclass(frozen=True, slots=True)
class GroupsField(_Meta):
    """`groups(by, first)` of a connection."""

    entity: Entity


@dataclass(frozen=True, slots=True)
class MeasureField(_Meta):
    """A figure of the whole set: `count`, `distinctIds`, `persons` (db Measure op)."""

    op: str


@dataclass(frozen=True, slots=True)
class ColumnFigures(_Meta):
    """`sum`, `avg`, `min`, `max`: an object of one figure per column, null when empty."""

    op: str


@dataclass(frozen=True, slots=True)
class FigureColumn(_Meta):
    """A column's field in `<Entity>Numbers` / `Averages` / `Bounds`."""

    column: str


@dataclass(frozen=True, slots=True)
class PropertyFigures(_Meta):
    """`property(key)`: figures on one key of the events' properties."""


@dataclass(frozen=True, slots=True)
class PropertyFigure(_Meta):
    """A field of `PropertyAggregates` (`percentile` takes `p`)."""

    op: str


@dataclass(frozen=True, slots=True)
class GroupKeyObject(_Meta):
    """A group's `key`."""


@dataclass(frozen=True, slots=True)
class GroupKeyField(_Meta):
    """A field of a group's key: the group field it shows."""

    field: GroupField


@dataclass(frozen=True, slots=True)
class SeriesField(_Meta):
    """`Environment.eventSeries(...)`."""


@dataclass(frozen=True, slots=True)
class WriteField(_Meta):
    """A mutation written in ONE statement (db/writes.py `Write`), whose payload
    holds the written row's object: `write(input, viewer)` checks the input as the
    resolver does (raising its domain errors) and makes the write, for the
    resolver and the compiled executor alike."""

    write: Callable[[Any, Viewer], Write]
