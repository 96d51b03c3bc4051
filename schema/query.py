"""The root `Query`: node lookups, single lookups, root lists, viewer."""

from __future__ import annotations

import asyncio
from typing import Any

import strawberry

from db.entities import ENVIRONMENT, MODEL, ORGANIZATION, PROJECT, SEGMENT, Entity
from db.errors import BadInput, NotFound
from db.viewer import require_read
from schema.connections import Connection, connection_field
from schema.context import Context
from schema.ids import expect_global_id
from schema.types import (
    Environment,
    Model,
    Node,
    Organization,
    Project,
    Segment,
    from_row,
    node_by_id,
)
from schema.viewer import ViewerType, resolve_viewer

MAX_NODES = 100
# the key of a single lookup's strawberry metadata: the entity it looks up
LOOKUP_FIELD = "envgraph.lookup"
Info = strawberry.Info[Context, None]


def lookup_field(entity: Entity, cls: type[Any]) -> Any:
    """`<entity>(id)`: the object, or null with NOT_FOUND (absent and invisible alike)."""

    async def resolve(info: Info, id: strawberry.ID) -> Any:
        require_read(info.context.authenticated, entity.name)
        uuid = expect_global_id(id, cls.__name__)
        row = await info.context.loaders.by_id(entity).load(uuid)
        if row is None:
            raise NotFound(f"{cls.__name__} {id} not found")
        return from_row(cls, row)

    # names, resolved in this module, which holds the types
    resolve.__annotations__ = {
        "info": "Info",
        "id": "strawberry.ID",
        "return": f"{cls.__name__} | None",
    }
    return strawberry.field(
        resolver=resolve,
        description=f"{cls.__name__[0]}{cls.__name__[1:]} by id.",
        metadata={LOOKUP_FIELD: entity},
    )


@strawberry.type
class Query:
    """Entry points of the graph."""

    viewer: ViewerType = strawberry.field(
        resolver=resolve_viewer, description="The caller: user, scopes."
    )

    @strawberry.field(description="Any object by its global id (null when not visible).")
    async def node(self, info: Info, id: strawberry.ID) -> Node | None:
        """The object with this id, or null."""
        node: Node | None = await node_by_id(info, id, "id")
        return node

    @strawberry.field(description="Objects by global id, in order (null where not visible).")
    async def nodes(self, info: Info, ids: list[strawberry.ID]) -> list[Node | None]:
        """The objects with these ids."""
        if len(ids) > MAX_NODES:
            raise BadInput(f"`ids` takes at most {MAX_NODES} ids", field="ids")
        # gathered, so that the loaders batch them: one statement per type
        return list(await asyncio.gather(*(node_by_id(info, i, "ids") for i in ids)))

    organization = lookup_field(ORGANIZATION, Organization)
    project = lookup_field(PROJECT, Project)
    model = lookup_field(MODEL, Model)
    environment = lookup_field(ENVIRONMENT, Environment)
    segment = lookup_field(SEGMENT, Segment)

    organizations: Connection[Organization] = connection_field(
        ORGANIZATION, lambda row: from_row(Organization, row),
        description="The organizations the caller belongs to.",
    )  # fmt: skip
    projects: Connection[Project] = connection_field(
        PROJECT, lambda row: from_row(Project, row), description="The projects the caller sees."
    )
    models: Connection[Model] = connection_field(
        MODEL, lambda row: from_row(Model, row), description="The models the caller sees."
    )
    environments: Connection[Environment] = connection_field(
        ENVIRONMENT, lambda row: from_row(Environment, row),
        equal_arguments={"type": "EnvironmentType | None"},
        description="The environments the caller sees (optionally of one type).",
    )  # fmt: skip
    segments: Connection[Segment] = connection_field(
        SEGMENT, lambda row: from_row(Segment, row), description="The segments the caller sees."
    )
