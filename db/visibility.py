"""Who sees what, in SQL: the one place where tenant isolation is decided.

A user sees the organizations they belong to, and a project where they are
an organization ADMIN or a project member; everything below a project
follows it. A superuser token sees everything. The sets of visible ids are
named blocks in db/sql/visibility.sql.
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
    if viewer.superuser:
        return f"TRUE{hidden}"
    # the user is bound once; the block names it as often as it needs
    user = bind(viewer.user_id)
    if entity.project_column is None:
        organizations = fragment("visible_organizations", user)
        return f"{qualified(alias, 'id')} IN {organizations}{hidden}"
    projects = fragment("visible_projects", user)
    return f"{qualified(alias, entity.project_column)} IN {projects}{hidden}"


def masked_shown(alias: str, viewer: Viewer, bind: Binder) -> str:
    """A predicate on `alias` (a row of users) true when the viewer may see its masked
    columns (the e-mail): their own row, a user who shares an organization with them,
    anyone's for a superuser (as `users_by_ids` decides it for the field)."""
    if viewer.superuser:
        return "TRUE"
    shared = fragment("users_sharing_an_organization", bind(viewer.user_id))
    return f"{qualified(alias, 'id')} IN {shared}"
