"""The graph's object types: one Relay node type per entity of the registry,
generated from its description, and `User`.

Each type is made in two steps, so that types can refer to each other (a
project's models, a model's project): every class exists first, then each is
given its fields and decorated. Columns become plain attributes filled from
the row (schema/rows.py); parents, users and child lists resolve through the
request's loaders (one statement per level).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Optional
from uuid import UUID

import asyncpg
import strawberry

from db.entities import ENTITIES, USER, Column, Entity, Kind
from db.errors import BadInput, NotFound
from db.plans import ColumnValue, Email
from db.viewer import Viewer, require_read
from schema.api_tokens import api_token_fields
from schema.connections import list_field
from schema.context import Context
from schema.evaluations import evaluation_fields
from schema.event_values import environment_fields
from schema.fields import generated_field
from schema.ids import global_id, parse_global_id
from schema.inputs import KIND_TYPES
from schema.metadata import PLAN, GlobalIdField, ParentField, UserField
from schema.rows import from_row, register
from schema.secrets import secret_fields
from schema.series import series_fields
from schema.strategies import strategy_fields

Info = strawberry.Info[Context, None]


@strawberry.interface(description="An object with a global id.")
class Node:
    id: strawberry.ID = strawberry.field(
        description="Opaque global id (Relay).", metadata={PLAN: GlobalIdField()}
    )

    @classmethod
    async def resolve_reference(cls, info: Info, id: strawberry.ID) -> Any:
        """A federation representation `{__typename, id}`: the object if visible, else null
        (through the same loaders as `node`, so N representations cost one statement)."""
        node = await node_by_id(info, id, "representations")
        return node if isinstance(node, cls) else None


def _column_plan(name: str, kind: Kind) -> dict[str, object]:
    return {PLAN: ColumnValue(name, kind)}


@strawberry.federation.type(keys=["id"], description="A person with access to the platform.")
class User(Node):
    uuid: UUID = strawberry.field(
        description=USER.column("id").description, metadata=_column_plan("id", Kind.ID)
    )
    name: str = strawberry.field(
        description=USER.column("name").description, metadata=_column_plan("name", Kind.STRING)
    )
    email: str | None = strawberry.field(
        description="Shown only to users who share an organization with this one.",
        metadata={PLAN: Email()},
    )
    created_at: datetime = strawberry.field(
        description=USER.column("created_at").description,
        metadata=_column_plan("created_at", Kind.DATETIME),
    )
    updated_at: datetime = strawberry.field(
        description=USER.column("updated_at").description,
        metadata=_column_plan("updated_at", Kind.DATETIME),
    )


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


async def load_user(info: Info, uuid: UUID) -> User:
    """A user named by a row (createdBy, updatedBy), through the request's loader."""
    row = await info.context.loaders.users.load(uuid)
    if row is None:
        raise NotFound("user not found")
    return user_from_row(row)


async def load_parent(info: Info, entity: Entity, uuid: UUID) -> Any:
    """A parent through the request's loader (one statement per level)."""
    require_read(info.context.authenticated, entity.scope)
    row = await info.context.loaders.by_id(entity).load(uuid)
    if row is None:  # a visible child always has a visible parent
        raise NotFound(f"{entity.name} not found")
    return object_of(entity, row)


def _parent(path: tuple[tuple[Entity, str], ...]) -> Any:
    async def resolve(root: Any, info: Info) -> Any:
        row, parent = root.row, None
        for entity, column in path:
            parent = await load_parent(info, entity, row[column])
            row = parent.row
        return parent

    parent = path[-1][0]
    description = f"The {parent.name.replace('_', ' ')} it belongs to."
    return generated_field(
        TYPES[parent.name], plan=ParentField(path), description=description, resolver=resolve
    )


def _user(column: str, description: str) -> Any:
    async def resolve(root: Any, info: Info) -> User:
        return await load_user(info, root.row[column])

    return generated_field(User, plan=UserField(column), description=description, resolver=resolve)


def _scalar(column: Column) -> Any:
    python_type = column.enum if column.enum is not None else KIND_TYPES[column.kind]
    if column.kind is Kind.ID:
        python_type = UUID  # the row's own id: `uuid`, beside the global `id`
    if column.nullable:
        python_type = Optional[python_type]  # noqa: UP045 (a runtime value)
    return generated_field(
        python_type, plan=ColumnValue(column.name, column.kind), description=column.description
    )


# fields a type has besides those its description makes (not lists or columns)
EXTRA_FIELDS: dict[str, dict[str, Any]] = {
    "environment": {**environment_fields(), **series_fields()},
    "secret": secret_fields(),
}


def _fill(cls: type, entity: Entity) -> type:
    """Give the class its fields from the description, then make it a node type."""
    fields: dict[str, Any] = {
        "uuid": generated_field(
            UUID, plan=ColumnValue("id", Kind.ID), description=entity.column("id").description
        )
    }
    fields.update({c.name: _scalar(c) for c in entity.columns if c.name != "id"})
    fields.update({name: _parent(entity.path(name)) for name in entity.parents})
    fields.update({ref.name: _user(ref.column, ref.description) for ref in entity.user_refs})
    for child in entity.children:
        target = ENTITIES[child.entity]
        fields[child.name] = list_field(
            target, TYPES[target.name], parent_column=child.column, description=child.description
        )
    fields.update(EXTRA_FIELDS.get(entity.name, {}))
    for name, field in fields.items():
        setattr(cls, name, field)
    # the row the object was made from, for the fields that resolve from it
    cls.__annotations__ = {"row": strawberry.Private[asyncpg.Record]}
    register(cls, entity)
    return strawberry.federation.type(cls, keys=["id"], description=entity.description)


TYPES: dict[str, type] = {
    e.name: type(e.type_name, (Node,), {"__module__": __name__}) for e in ENTITIES.values()
}
# fields that need the types made above (a token's projects)
for _name, _fields in api_token_fields(TYPES["project"]).items():
    EXTRA_FIELDS[_name] = {**EXTRA_FIELDS.get(_name, {}), **_fields}
EXTRA_FIELDS["environment"].update(strategy_fields(TYPES["segment"]))
EXTRA_FIELDS["evaluation"] = evaluation_fields(TYPES["event"])
for _entity in ENTITIES.values():
    _fill(TYPES[_entity.name], _entity)
# the entity behind each node type's name, as global ids carry it
BY_TYPE_NAME: dict[str, Entity] = {e.type_name: e for e in ENTITIES.values()}


def node_type(entity: Entity) -> Any:
    """The GraphQL type of an entity (for payloads and lookups)."""
    return TYPES[entity.name]


def node_target(global_id: str, argument: str, viewer: Viewer) -> tuple[str, Entity | None, UUID]:
    """(type name, entity or None for a user, uuid) of a `node` id, checked as `node`
    checks it (both executors): a malformed id or unknown type is BadInput, a type
    the token may not read FORBIDDEN."""
    type_name, uuid = parse_global_id(global_id, argument)
    if type_name == "User":
        return type_name, None, uuid
    entity = BY_TYPE_NAME.get(type_name)
    if entity is None:
        raise BadInput(f"`{argument}` is not a valid id: unknown type {type_name}", field=argument)
    require_read(viewer, entity.scope)
    return type_name, entity, uuid


async def node_by_id(info: Info, global_id: str, argument: str) -> Any:
    """The visible object behind a global id, or None."""
    _, entity, uuid = node_target(global_id, argument, info.context.authenticated)
    if entity is None:
        row = await info.context.loaders.users.load(uuid)
        return user_from_row(row) if row is not None and row["shares_organization"] else None
    row = await info.context.loaders.by_id(entity).load(uuid)
    return None if row is None else object_of(entity, row)


def object_of(entity: Entity, row: asyncpg.Record) -> Any:
    """The object of `entity`'s type made from its row."""
    return from_row(TYPES[entity.name], row)
