"""What every mutation resolver shares."""

from __future__ import annotations

from typing import Any

import strawberry

from db.entities import Entity
from schema.context import Context
from schema.inputs import given_value
from schema.types import node_type

Info = strawberry.Info[Context, None]
STALE = "The updatedAt last read; CONFLICT if it has changed since."


def given(value: Any) -> Any:
    """None for an input field that was not given (or given as null); enums as values."""
    if not given_value(value):
        return None
    return getattr(value, "value", value)


def object_field(entity: Entity) -> Any:
    """A payload field holding an object of `entity`'s generated type."""
    return strawberry.field(graphql_type=node_type(entity))
