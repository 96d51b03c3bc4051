"""What each generated field is, as the planner reads it.

Every field the registry makes carries one of these in its strawberry metadata
under `PLAN`; the planner compiles a field from it and never matches names.
A field without one (viewer, introspection, `_entities`) is not compilable.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from db.entities import Entity

PLAN = "envgraph.plan"


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


def plan_of(metadata: dict[str, Any] | None) -> Any:
    """The plan metadata of a field (None: not a field the registry made)."""
    return (metadata or {}).get(PLAN)
