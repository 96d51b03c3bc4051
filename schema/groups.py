"""The types of `groups(by:)`: `<Entity>GroupField` (what db/groups.py says an
entity can be grouped by), `<Entity>GroupKey` (one typed field per group field,
a parent or user read as its field reads it) and `<Entity>Group`."""

from __future__ import annotations

import enum
from datetime import datetime
from typing import Any, Optional, cast

import strawberry

from db.aggregates import Values
from db.entities import Entity
from db.groups import GroupField, group_fields, key_entity
from schema.context import Context
from schema.fields import generated_field
from schema.inputs import KIND_TYPES
from schema.metadata import AggregatesField, GroupKeyField, GroupKeyObject
from schema.scalars import describe_values

Info = strawberry.Info[Context, None]


def _subject(entity: Entity, field: GroupField) -> str:
    """What a group field reads, as its descriptions name it."""
    if field.kind == "parent":
        return f"its {field.target}"
    if field.kind == "user":
        return f"`{field.target}`"
    public = entity.column(field.target).public
    return f"the day (UTC) of `{public}`" if field.kind == "day" else f"`{public}`"


def _key_description(entity: Entity, field: GroupField) -> str:
    """A key field's description: what the group shares, and when it is null."""
    if field.kind == "parent":
        shared = f"The group's {field.target}"
    elif field.kind == "user":
        shared = f"The group's `{field.target}` user"
    else:
        shared = f"The group's value of {_subject(entity, field)}"
    return f"{shared} (null: not grouped by {field.name}, or none)."


def group_enum(entity: Entity) -> type[enum.Enum]:
    members = {f.name: f.name for f in group_fields(entity)}
    values = enum.Enum(f"{entity.type_name}GroupField", members)  # type: ignore[misc]
    made = strawberry.enum(
        cast(type[enum.Enum], values),
        description=f"What {entity.name.replace('_', ' ')}s can be grouped by (days in UTC).",
    )
    return describe_values(
        made, {f.name: f"By {_subject(entity, f)}." for f in group_fields(entity)}
    )


def _key_field(entity: Entity, field: GroupField) -> Any:
    from schema import types as node_types  # the node types refer to connections too

    parent = key_entity(entity, field)

    async def resolve(root: Any, info: Info) -> Any:
        value = root.keys.get(field.name)
        if value is None:
            return None
        if parent is not None:
            return await node_types.load_parent(info, parent, value)
        if field.kind == "user":
            return await node_types.load_user(info, value)
        column = entity.column(field.target)
        return column.enum(value) if column.enum is not None else value

    if parent is not None:
        python_type: Any = node_types.TYPES[parent.name]
    elif field.kind == "user":
        python_type = node_types.User
    elif field.kind == "day":
        python_type = datetime
    else:
        column = entity.column(field.target)
        python_type = column.enum or KIND_TYPES[column.kind]
    return generated_field(
        Optional[python_type],  # noqa: UP045 (a runtime value)
        plan=GroupKeyField(field),
        description=_key_description(entity, field),
        resolver=resolve,
    )


def group_type_of(entity: Entity, aggregates: type) -> type:
    """`<Entity>Group { key: <Entity>GroupKey!  aggregate: <Entity>Aggregates! }`."""
    name = entity.type_name
    namespace: dict[str, Any] = {"__module__": __name__}
    namespace.update({f.field: _key_field(entity, f) for f in group_fields(entity)})
    namespace["__annotations__"] = {"keys": strawberry.Private[dict[str, Any]]}
    key_type = strawberry.type(
        type(f"{name}GroupKey", (), namespace),
        name=f"{name}GroupKey",
        description="A group's key: one field per group field, null where not grouped by.",
    )

    async def key(root: Any, info: Info) -> Any:
        return key_type(keys=root.keys)

    async def aggregate(root: Any, info: Info) -> Any:
        return aggregates(values=root.values)

    group_namespace: dict[str, Any] = {
        "__module__": __name__,
        "__annotations__": {
            "keys": strawberry.Private[dict[str, Any]],
            "values": strawberry.Private[Values],
        },
        "key": generated_field(
            key_type, plan=GroupKeyObject(), description="What the group shares.", resolver=key
        ),
        "aggregate": generated_field(
            aggregates,
            plan=AggregatesField(entity),
            description="Figures over the group's rows.",
            resolver=aggregate,
        ),
    }
    return strawberry.type(
        type(f"{name}Group", (), group_namespace),
        name=f"{name}Group",
        description="One group and its figures.",
    )
