"""The root `Query`: `viewer`, `node`/`nodes`, and for every entity of the registry
a single lookup and its root list."""

from __future__ import annotations

import asyncio
from typing import Annotated, Any, Optional
from uuid import UUID

import strawberry

from db.entities import ENTITIES, Entity
from db.errors import BadInput, NotFound
from db.viewer import require_read
from schema.connections import list_field
from schema.context import Context
from schema.fields import argument, generated_field
from schema.ids import lookup_uuid
from schema.metadata import PLAN, LookupField, NodeField
from schema.rows import from_row
from schema.types import Node, node_by_id, node_type
from schema.viewer import ViewerType, resolve_viewer

MAX_NODES = 100
Info = strawberry.Info[Context, None]


def lookup_field(entity: Entity) -> Any:
    """`<entity>(id)`: the object, or null with NOT_FOUND (absent and invisible alike)."""
    cls = node_type(entity)

    async def resolve(
        root: Any, info: Info, id: strawberry.ID | None = None, uuid: UUID | None = None
    ) -> Any:
        require_read(info.context.authenticated, entity.scope)
        wanted = lookup_uuid(id, uuid, entity.type_name)
        row = await info.context.loaders.by_id(entity).load(wanted)
        if row is None:
            raise NotFound(f"{entity.type_name} {id or wanted} not found")
        return from_row(cls, row)

    return generated_field(
        Optional[cls],  # noqa: UP045 (a runtime value)
        plan=LookupField(entity),
        description=f"{entity.description} Found by global `id` or by `uuid` (exactly one); "
        f"null with NOT_FOUND when absent or not visible (scope {entity.scope}:read).",
        resolver=resolve,
        arguments=[
            argument("id", Optional[strawberry.ID], "Its global id."),  # noqa: UP045
            argument("uuid", Optional[UUID], "Its uuid (the REST APIs' id)."),  # noqa: UP045
        ],
    )


@strawberry.type
class Entry:
    """The root fields that are not generated from the registry."""

    viewer: ViewerType = strawberry.field(
        resolver=resolve_viewer, description="The caller: user, scopes."
    )

    @strawberry.field(
        description="Any object by its global id (null when not visible).",
        metadata={PLAN: NodeField()},
    )
    async def node(
        self,
        info: Info,
        id: Annotated[strawberry.ID, strawberry.argument(description="A global id.")],
    ) -> Node | None:
        """The object with this id, or null."""
        node: Node | None = await node_by_id(info, id, "id")
        return node

    @strawberry.field(
        description="Objects by global id, in order (null where not visible).",
        metadata={PLAN: NodeField(many=True)},
    )
    async def nodes(
        self,
        info: Info,
        ids: Annotated[
            list[strawberry.ID], strawberry.argument(description=f"At most {MAX_NODES} global ids.")
        ],
    ) -> list[Node | None]:
        """The objects with these ids."""
        if len(ids) > MAX_NODES:
            raise BadInput(f"`ids` takes at most {MAX_NODES} ids", field="ids")
        # gathered, so that the loaders batch them: one statement per type
        return list(await asyncio.gather(*(node_by_id(info, i, "ids") for i in ids)))


def _query() -> type:
    fields: dict[str, Any] = {e.lookup: lookup_field(e) for e in ENTITIES.values()}
    for entity in ENTITIES.values():
        if entity.root_list is not None:
            fields[entity.root_list.name] = list_field(
                entity,
                node_type(entity),
                equal_arguments=entity.root_list.equal_arguments,
                description=entity.root_list.description,
            )
    namespace = {"__module__": __name__, "__doc__": "Entry points of the graph.", **fields}
    return strawberry.type(type("Query", (Entry,), namespace), description=namespace["__doc__"])


Query = _query()
