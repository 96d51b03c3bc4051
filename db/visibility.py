"""Who sees what, in SQL: the one place where tenant isolation is decided.

A user sees the organizations they belong to, and a project where they are
an organization ADMIN or a project member; everything below a project
follows it. A superuser token sees everything.
"""

from __future__ import annotations

from db.binder import Binder
from db.entities import Entity
from db.viewer import Viewer

_VISIBLE_PROJECTS = """(
    SELECT p.id FROM projects p
    JOIN organization_members om ON om.organization_id = p.organization_id
    WHERE om.user_id = {user} AND om.role = 'ADMIN'
    UNION
    SELECT pm.project_id FROM project_members pm WHERE pm.user_id = {user}
)"""

_VISIBLE_ORGANIZATIONS = (
    "(SELECT om.organization_id FROM organization_members om WHERE om.user_id = {user})"
)


def visible(
    entity: Entity, alias: str, viewer: Viewer, bind: Binder, *, with_hidden: bool = False
) -> str:
    """A predicate on `alias` (a row of `entity`) true only for rows the viewer may see
    (soft-deleted rows too when `with_hidden`: restoring needs them)."""
    hidden = (
        f" AND NOT ({alias}.{entity.hidden_when})" if entity.hidden_when and not with_hidden else ""
    )
    if viewer.superuser:
        return f"TRUE{hidden}"
    user = bind(viewer.user_id)
    if entity.project_column is None:
        return f"{alias}.id IN {_VISIBLE_ORGANIZATIONS.format(user=user)}{hidden}"
    projects = _VISIBLE_PROJECTS.format(user=user)
    return f"{alias}.{entity.project_column} IN {projects}{hidden}"
