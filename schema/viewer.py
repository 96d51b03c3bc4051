"""`viewer`: the caller, as the token presents them."""

from __future__ import annotations

from uuid import UUID

import strawberry

from db.entities import API_TOKEN, ORGANIZATION
from schema.connections import list_field
from schema.context import Context
from schema.types import User, load_user, node_type


@strawberry.type(name="Viewer", description="The caller of this request.")
class ViewerType:
    """The caller of this request."""

    user_id: strawberry.Private[UUID]
    scopes: list[str] = strawberry.field(description="What the token allows, e.g. `segment:read`.")
    superuser: bool = strawberry.field(
        description="Whether the user is a superuser (creates organizations)."
    )

    @strawberry.field(description="The user the token belongs to.")
    async def user(self, info: strawberry.Info[Context, None]) -> User:
        """The user the token belongs to."""
        return await load_user(info, self.user_id)

    organizations = list_field(
        ORGANIZATION,
        node_type(ORGANIZATION),
        description="The organizations the caller belongs to (a token restricted to "
        "projects: those of its projects).",
    )
    api_tokens = list_field(
        API_TOKEN,
        node_type(API_TOKEN),
        description="The API tokens of the caller's user (never another user's), newest first.",
    )


def resolve_viewer(info: strawberry.Info[Context, None]) -> ViewerType:
    """The caller behind the bearer token (the view has already refused anonymous callers)."""
    viewer = info.context.authenticated
    return ViewerType(
        user_id=viewer.user_id, scopes=sorted(viewer.scopes), superuser=viewer.superuser
    )
