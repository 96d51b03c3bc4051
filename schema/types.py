"""The graph's types: Relay nodes built from database rows.

Scalar fields are plain attributes (no resolver per field: cheap on wide
lists); parents and child lists resolve through the request's loaders.
"""

from __future__ import annotations

import dataclasses
from datetime import datetime
from functools import cache
from typing import Any, TypeVar, cast
from uuid import UUID

import asyncpg
import strawberry

import schema.inputs
from db.entities import ENVIRONMENT, MODEL, ORGANIZATION, PROJECT, SEGMENT, Entity
from db.errors import BadInput, NotFound
from db.viewer import Viewer, require_read
from schema.connections import Connection, connection_field
from schema.context import Context
from schema.ids import global_id, parse_global_id
from schema.scalars import AssetType, EnvironmentType

# the generated inputs, by name: the connection fields' annotations name them
globals().update(
    {f"{e.title()}{suffix}": getattr(schema.inputs, f"{e.title()}{suffix}")
     for e in schema.inputs.FILTERS for suffix in ("Filter", "Order")}
)  # fmt: skip
__all__ = ["AssetType", "Connection", "EnvironmentType"]

N = TypeVar("N")
_ENUMS: dict[str, Any] = {"type": EnvironmentType, "asset_type": AssetType}


@cache
def _row_fields(cls: Any) -> tuple[tuple[str, Any], ...]:
    """(field, how to fill it) for the attributes a row fills (resolved fields excluded)."""
    return tuple(
        (field.name, _ENUMS.get(field.name)) for field in dataclasses.fields(cls) if field.init
    )


def from_row(cls: type[N], row: asyncpg.Record) -> N:
    """An object of a node type from its table's row."""
    values: dict[str, Any] = {}
    for name, convert in _row_fields(cast(Any, cls)):
        if name == "id":
            values["id"] = global_id(cls.__name__, row["id"])
        elif name == "uuid":
            values["uuid"] = row["id"]
        else:
            values[name] = row[name] if convert is None else convert(row[name])
    return cls(**values)


async def load_parent(
    info: strawberry.Info[Context, None], entity: Entity, cls: type[N], uuid: UUID
) -> N:
    """A parent through the request's loader (one statement per level)."""
    require_read(info.context.authenticated, entity.name)
    row = await info.context.loaders.by_id(entity).load(uuid)
    if row is None:  # a visible child always has a visible parent
        raise NotFound(f"{entity.name} not found")
    return from_row(cls, row)


async def organization_of(info: strawberry.Info[Context, None], project_id: UUID) -> Organization:
    """The organization of a project (two loader levels)."""
    project = await load_parent(info, PROJECT, Project, project_id)
    return await load_parent(info, ORGANIZATION, Organization, project.organization_id)


@strawberry.interface(description="An object with a global id.")
class Node:
    id: strawberry.ID = strawberry.field(description="Opaque global id (Relay).")

    @classmethod
    async def resolve_reference(
        cls, info: strawberry.Info[Context, None], id: strawberry.ID
    ) -> Any:
        """A federation representation `{__typename, id}`: the object if visible, else null
        (through the same loaders as `node`, so N representations cost one statement)."""
        node = await node_by_id(info, id, "representations")
        return node if isinstance(node, cls) else None


@strawberry.federation.type(keys=["id"], description="A person with access to the platform.")
class User(Node):
    uuid: UUID
    name: str
    email: str | None = strawberry.field(
        description="Shown only to users who share an organization with this one."
    )
    created_at: datetime
    updated_at: datetime


def user_from_row(row: asyncpg.Record) -> User:
    """A user, the e-mail hidden unless the viewer shares an organization with them."""
    return User(
        id=strawberry.ID(global_id("User", row["id"])),
        uuid=row["id"],
        name=row["name"],
        email=row["email"] if row["shares_organization"] else None,
        created_at=row["created_at"],
        updated_at=row["updated_at"],
    )


@strawberry.federation.type(keys=["id"], description="A tenant: it owns projects.")
class Organization(Node):
    uuid: UUID
    name: str
    created_at: datetime
    updated_at: datetime

    projects: Connection[Project] = connection_field(
        PROJECT,
        lambda row: from_row(Project, row),
        parent_column="organization_id",
        description="The organization's projects.",
    )


@strawberry.federation.type(
    keys=["id"], description="A project of an organization: it holds models."
)
class Project(Node):
    uuid: UUID
    name: str
    asset_type: AssetType
    created_at: datetime
    updated_at: datetime
    organization_id: strawberry.Private[UUID]

    @strawberry.field
    async def organization(self, info: strawberry.Info[Context, None]) -> Organization:
        """The organization owning the project."""
        return await load_parent(info, ORGANIZATION, Organization, self.organization_id)

    models: Connection[Model] = connection_field(
        MODEL, lambda row: from_row(Model, row), parent_column="project_id",
        description="The project's models.",
    )  # fmt: skip
    environments: Connection[Environment] = connection_field(
        ENVIRONMENT, lambda row: from_row(Environment, row), parent_column="project_id",
        description="The environments of all the project's models.",
    )  # fmt: skip
    segments: Connection[Segment] = connection_field(
        SEGMENT, lambda row: from_row(Segment, row), parent_column="project_id",
        description="The segments of all the project's models.",
    )  # fmt: skip


@strawberry.type
class UnderProject:
    """What belongs to a project: its parents up the graph (bases, not GraphQL types)."""

    project_id: strawberry.Private[UUID]

    @strawberry.field
    async def project(self, info: strawberry.Info[Context, None]) -> Project:
        """The project it belongs to."""
        return await load_parent(info, PROJECT, Project, self.project_id)

    @strawberry.field
    async def organization(self, info: strawberry.Info[Context, None]) -> Organization:
        """The organization owning its project."""
        return await organization_of(info, self.project_id)


@strawberry.federation.type(
    keys=["id"], description="A model (name and version) monitored in a project."
)
class Model(UnderProject, Node):
    uuid: UUID
    name: str
    version: str
    created_at: datetime
    updated_at: datetime
    environments: Connection[Environment] = connection_field(
        ENVIRONMENT, lambda row: from_row(Environment, row), parent_column="model_id",
        description="The model's environments.",
    )  # fmt: skip
    segments: Connection[Segment] = connection_field(
        SEGMENT, lambda row: from_row(Segment, row), parent_column="model_id",
        description="The model's segments.",
    )  # fmt: skip


@strawberry.type
class UnderModel(UnderProject):
    """What belongs to a model: its model, besides its project and organization."""

    model_id: strawberry.Private[UUID]

    @strawberry.field
    async def model(self, info: strawberry.Info[Context, None]) -> Model:
        """The model it belongs to."""
        return await load_parent(info, MODEL, Model, self.model_id)


@strawberry.federation.type(keys=["id"], description="A stage of a model's data.")
class Environment(UnderModel, Node):
    uuid: UUID
    name: str
    type: EnvironmentType
    row_count: int = strawberry.field(description="Rows published into the environment.")
    sort_order: int
    protected: bool = strawberry.field(description="A protected environment cannot be deleted.")
    created_at: datetime
    updated_at: datetime


@strawberry.federation.type(keys=["id"], description="A named slice of a model's data.")
class Segment(UnderModel, Node):
    uuid: UUID
    name: str
    description: str
    definition: str = strawberry.field(
        description="A filter expression over the model's columns, e.g. `age >= 18`."
    )
    created_at: datetime
    updated_at: datetime
    created_by: strawberry.Private[UUID]
    updated_by: strawberry.Private[UUID]

    @strawberry.field(name="createdBy")
    async def creator(self, info: strawberry.Info[Context, None]) -> User:
        """Who created the segment."""
        return await _user(info, self.created_by)

    @strawberry.field(name="updatedBy")
    async def updater(self, info: strawberry.Info[Context, None]) -> User:
        """Who changed the segment last."""
        return await _user(info, self.updated_by)


async def _user(info: strawberry.Info[Context, None], uuid: UUID) -> User:
    row = await info.context.loaders.users.load(uuid)
    if row is None:
        raise NotFound("user not found")
    return user_from_row(row)


def node_target(global_id: str, argument: str, viewer: Viewer) -> tuple[str, Entity | None, UUID]:
    """(type name, entity or None for a user, uuid) of a `node` id, checked as `node`
    checks it (both executors): a malformed id or unknown type is BadInput, a type
    the token may not read FORBIDDEN."""
    type_name, uuid = parse_global_id(global_id, argument)
    if type_name == "User":
        return type_name, None, uuid
    if type_name not in NODE_TYPES:
        raise BadInput(f"`{argument}` is not a valid id: unknown type {type_name}", field=argument)
    entity, _ = NODE_TYPES[type_name]
    require_read(viewer, entity.name)
    return type_name, entity, uuid


async def node_by_id(info: strawberry.Info[Context, None], global_id: str, argument: str) -> Any:
    """The visible object behind a global id, or None."""
    type_name, entity, uuid = node_target(global_id, argument, info.context.authenticated)
    if entity is None:
        row = await info.context.loaders.users.load(uuid)
        return user_from_row(row) if row is not None and row["shares_organization"] else None
    row = await info.context.loaders.by_id(entity).load(uuid)
    return None if row is None else from_row(NODE_TYPES[type_name][1], row)


NODE_TYPES: dict[str, tuple[Entity, type]] = {
    "Organization": (ORGANIZATION, Organization),
    "Project": (PROJECT, Project),
    "Model": (MODEL, Model),
    "Environment": (ENVIRONMENT, Environment),
    "Segment": (SEGMENT, Segment),
}
