"""What every mutation resolver shares."""

from __future__ import annotations

from typing import Any

import strawberry
from strawberry import UNSET

from db.entities import Entity
from db.writes import Write
from schema.context import Context
from schema.inputs import given_value
from schema.types import node_type, object_of

Info = strawberry.Info[Context, None]
STALE = "The updatedAt last read; CONFLICT if it has changed since."
# the one argument of every mutation (Relay style)
INPUT = strawberry.argument(
    description="What to write. Bad values are BAD_USER_INPUT naming the field "
    "(`extensions.field`); an id the caller cannot see is NOT_FOUND, a missing scope or "
    "role FORBIDDEN."
)
DISPLAY_NAME = (
    "1 to 200 characters: no control characters, no whitespace but plain spaces, none at "
    "either end."
)


def given(value: Any) -> Any:
    """None for an input field that was not given (or given as null); enums as values."""
    if not given_value(value):
        return None
    return getattr(value, "value", value)


def object_field(entity: Entity) -> Any:
    """A payload field holding an object of `entity`'s generated type."""
    what = entity.name.replace("_", " ")
    return strawberry.field(
        graphql_type=node_type(entity), description=f"The {what} as the write left it."
    )


def id_field(what: str) -> Any:
    """An input field holding the global id of `what`."""
    return strawberry.field(description=f"The global id of {what}.")


def deleted_id(what: str) -> Any:
    """A payload field holding the global id of what was deleted."""
    return strawberry.field(description=f"The global id the deleted {what} had.")


def column_field(entity: Entity, column: str, default: Any = UNSET) -> Any:
    """An optional input field setting a column: described as the column is."""
    return strawberry.field(default=default, description=entity.column(column).description)


async def written(info: Info, write: Write) -> Any:
    """The object of the row a one-statement write left (the resolver path's run of
    a `WriteField`'s write)."""
    context = info.context
    row = await write.row(context.session)
    context.loaders.forget()
    return object_of(write.entity, row)
