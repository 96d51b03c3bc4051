"""`viewer`: the caller, as the token presents them."""

from __future__ import annotations

from uuid import UUID

import strawberry

from db.entities import ORGANIZATION
from schema.connections import list_field
from schema.context import Context
from schema.types import User, load_user, node_type


@strawberry.type(name="Viewer")
class ViewerType:
    """The caller of this request."""

    user_id: strawberry.Private[UUID]
    scopes: list[str] = strawberry.field(description="What the token allows, e.g. `segment:read`.")
    superuser: bool

    @strawberry.field
    async def user(self, info: strawberry.Info[Context, None]) -> User:
        """The user the token belongs to."""
        return await load_user(info, self.user_id)

    organizations = list_field(
        ORGANIZATION,
        node_type(ORGANIZATION),
        description="The organizations the caller belongs to.",
    )


def resolve_viewer(info: strawberry.Info[Context, None]) -> ViewerType:
    """The caller behind the bearer token (the view has already refused anonymous callers)."""
    viewer = info.context.authenticated
    return ViewerType(
        user_id=viewer.user_id, scopes=sorted(viewer.scopes), superuser=viewer.superuser
    )
