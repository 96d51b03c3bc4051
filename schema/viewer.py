"""`viewer`: the caller, as the token presents them."""

from __future__ import annotations

from uuid import UUID

import strawberry

from db.entities import ORGANIZATION
from db.errors import NotFound
from schema.connections import Connection, connection_field
from schema.context import Context
from schema.types import Organization, User, from_row, user_from_row


@strawberry.type(name="Viewer")
class ViewerType:
    """The caller of this request."""

    user_id: strawberry.Private[UUID]
    scopes: list[str] = strawberry.field(description="What the token allows, e.g. `segment:read`.")
    superuser: bool

    @strawberry.field
    async def user(self, info: strawberry.Info[Context, None]) -> User:
        """The user the token belongs to."""
        row = await info.context.loaders.users.load(self.user_id)
        if row is None:
            raise NotFound("user not found")
        return user_from_row(row)

    organizations: Connection[Organization] = connection_field(
        ORGANIZATION,
        lambda row: from_row(Organization, row),
        description="The organizations the caller belongs to.",
    )


def resolve_viewer(info: strawberry.Info[Context, None]) -> ViewerType:
    """The caller behind the bearer token (the view has already refused anonymous callers)."""
    viewer = info.context.authenticated
    return ViewerType(
        user_id=viewer.user_id, scopes=sorted(viewer.scopes), superuser=viewer.superuser
    )
