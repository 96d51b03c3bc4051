"""Who sees what, in SQL: the one place where tenant isolation is decided.

A user sees the organizations they belong to, and a project where they are
an organization ADMIN or a project member; everything below a project
follows it. A token restricted to projects sees only those of them, and of
organizations only theirs. A row with an owner (an API token) is seen by
its owner alone. A superuser token sees everything else. The sets of
visible ids are named blocks in db/sql/visibility.sql.
"""

from __future__ import annotations

from db.binder import Binder
from db.entities import Entity
from db.identifiers import qualified
from db.queries import fragment
from db.viewer import Viewer


def visible(
    entity: Entity, alias: str, viewer: Viewer, bind: Binder, *, with_hidden: bool = False
) -> str:
    """A predicate on `alias` (a row of `entity`) true only for rows the viewer may see
    (soft-deleted rows too when `with_hidden`: restoring needs them, as do lists
    asking for them)."""
    deleted = entity.deleted_column
    hidden = f" AND {qualified(alias, deleted)} IS NULL" if deleted and not with_hidden else ""
    if entity.owner_column is not None:  # a superuser's too: one's own tokens only
        return f"{qualified(alias, entity.owner_column)} = {bind(viewer.user_id)}{hidden}"
    if viewer.superuser:
        return f"TRUE{hidden}"
    # the user is bound once; the block names it as often as it needs
    user = bind(viewer.user_id)
    # a restricted token: the same column, also within its projects (bound as one array)
    allowed = None if viewer.projects is None else bind(sorted(viewer.projects))
    if entity.project_column is None:
        organizations = fragment("visible_organizations", user)
        narrowed = "" if allowed is None else (
            f" AND {qualified(alias, 'id')} IN {fragment('organizations_of_projects', allowed)}"
        )  # fmt: skip
        return f"{qualified(alias, 'id')} IN {organizations}{narrowed}{hidden}"
    column = qualified(alias, entity.project_column)
    projects = fragment("visible_projects", user)
    narrowed = "" if allowed is None else f" AND {column} = ANY({allowed}::uuid[])"
    return f"{column} IN {projects}{narrowed}{hidden}"


def masked_shown(alias: str, viewer: Viewer, bind: Binder) -> str:
    """A predicate on `alias` (a row of users) true when the viewer may see its masked
    columns (the e-mail): their own row, a user who shares an organization with them,
    anyone's for a superuser (as `users_by_ids` decides it for the field); for a
    token restricted to projects, only their organizations count."""
    if viewer.superuser:
        return "TRUE"
    allowed = bind(None if viewer.projects is None else sorted(viewer.projects))
    shared = fragment("users_sharing_an_organization", bind(viewer.user_id), allowed)
    return f"{qualified(alias, 'id')} IN {shared}"
