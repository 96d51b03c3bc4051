"""`viewer`: the caller, as the token presents them."""

from __future__ import annotations

import strawberry

from schema.context import Context


@strawberry.type
class User:
    """A person with access to the platform."""

    name: str
    email: str


@strawberry.type(name="Viewer")
class ViewerType:
    """The caller of this request."""

    user: User
    scopes: list[str] = strawberry.field(description="What the token allows, e.g. `segment:read`.")
    superuser: bool


def resolve_viewer(info: strawberry.Info[Context, None]) -> ViewerType:
    """The caller behind the bearer token (the view has already refused anonymous callers)."""
    viewer = info.context.viewer
    assert viewer is not None, "authentication happens before execution"
    return ViewerType(
        user=User(name=viewer.name, email=viewer.email),
        scopes=sorted(viewer.scopes),
        superuser=viewer.superuser,
    )
