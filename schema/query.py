"""The root `Query`: node lookups, single lookups, root lists, viewer."""

from __future__ import annotations

import asyncio
from typing import Any

import strawberry

from db.entities import ENVIRONMENT, MODEL, ORGANIZATION, PROJECT, SEGMENT, Entity
from db.errors import BadInput, NotFound
from schema.connections import Connection, connection_field
from schema.context import Context
from schema.ids import expect_global_id, parse_global_id
from schema.types import (
    NODE_TYPES,
    Environment,
    Model,
    Node,
    Organization,
    Project,
    Segment,
    from_row,
    user_from_row,
)
from schema.viewer import ViewerType, resolve_viewer

MAX_NODES = 100
Info = strawberry.Info[Context, None]


async def _node(info: Info, global_id: str, argument: str) -> Node | None:
    type_name, uuid = parse_global_id(global_id, argument)
    if type_name == "User":
        row = await info.context.loaders.users.load(uuid)
        return user_from_row(row) if row is not None and row["shares_organization"] else None
    if type_name not in NODE_TYPES:
        raise BadInput(f"`{argument}` is not a valid id: unknown type {type_name}", field=argument)
    entity, cls = NODE_TYPES[type_name]
    row = await info.context.loaders.by_id(entity).load(uuid)
    node: Node | None = None if row is None else from_row(cls, row)
    return node


async def _lookup(info: Info, entity: Entity, cls: type[Any], global_id: str) -> Any:
    uuid = expect_global_id(global_id, cls.__name__)
    row = await info.context.loaders.by_id(entity).load(uuid)
    if row is None:  # absent and invisible look the same
        raise NotFound(f"{cls.__name__} {global_id} not found")
    return from_row(cls, row)


@strawberry.type
class Query:
    """Entry points of the graph."""

    viewer: ViewerType = strawberry.field(
        resolver=resolve_viewer, description="The caller: user, scopes."
    )

    @strawberry.field(description="Any object by its global id (null when not visible).")
    async def node(self, info: Info, id: strawberry.ID) -> Node | None:
        """The object with this id, or null."""
        return await _node(info, id, "id")

    @strawberry.field(description="Objects by global id, in order (null where not visible).")
    async def nodes(self, info: Info, ids: list[strawberry.ID]) -> list[Node | None]:
        """The objects with these ids."""
        if len(ids) > MAX_NODES:
            raise BadInput(f"`ids` takes at most {MAX_NODES} ids", field="ids")
        # gathered, so that the loaders batch them: one statement per type
        return list(await asyncio.gather(*(_node(info, i, "ids") for i in ids)))

    @strawberry.field(description="An organization by id.")
    async def organization(self, info: Info, id: strawberry.ID) -> Organization | None:
        """The organization, or null with NOT_FOUND."""
        result: Organization = await _lookup(info, ORGANIZATION, Organization, id)
        return result

    @strawberry.field(description="A project by id.")
    async def project(self, info: Info, id: strawberry.ID) -> Project | None:
        """The project, or null with NOT_FOUND."""
        result: Project = await _lookup(info, PROJECT, Project, id)
        return result

    @strawberry.field(description="A model by id.")
    async def model(self, info: Info, id: strawberry.ID) -> Model | None:
        """The model, or null with NOT_FOUND."""
        result: Model = await _lookup(info, MODEL, Model, id)
        return result

    @strawberry.field(description="An environment by id.")
    async def environment(self, info: Info, id: strawberry.ID) -> Environment | None:
        """The environment, or null with NOT_FOUND."""
        result: Environment = await _lookup(info, ENVIRONMENT, Environment, id)
        return result

    @strawberry.field(description="A segment by id.")
    async def segment(self, info: Info, id: strawberry.ID) -> Segment | None:
        """The segment, or null with NOT_FOUND."""
        result: Segment = await _lookup(info, SEGMENT, Segment, id)
        return result

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
