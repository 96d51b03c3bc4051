"""Organizations and memberships: who belongs where, in which role."""

from __future__ import annotations

from uuid import UUID

import asyncpg

from db.entities import ORGANIZATION, PROJECT
from db.errors import BadInput, Forbidden, NotFound
from db.projects import require_admin
from db.session import Session
from db.viewer import Viewer, require_scope
from db.writes import locked_row, translated

ORGANIZATION_ROLES = ("ADMIN", "MEMBER")
PROJECT_ROLES = ("EDITOR", "VIEWER")


async def create_organization(session: Session, viewer: Viewer, name: str) -> asyncpg.Record:
    """A new organization (superusers only); its creator becomes its ADMIN."""
    require_scope(viewer, "organization:write")
    if not viewer.superuser:
        raise Forbidden("only a superuser token may create organizations")
    if not 1 <= len(name.strip()) <= 200:
        raise BadInput("name has 1 to 200 characters", field="name")
    async with session.transaction() as tx:
        with translated("organization"):
            row = await tx.fetchrow(
                "INSERT INTO organizations (name) VALUES ($1) RETURNING *", name
            )
        assert row is not None
        await tx.fetchval(
            "INSERT INTO organization_members (organization_id, user_id, role) "
            "VALUES ($1, $2, 'ADMIN')",
            row["id"],
            viewer.user_id,
        )
    return row


async def _user(tx: Session, email: str) -> UUID:
    user_id: UUID | None = await tx.fetchval(
        "SELECT id FROM users WHERE lower(email) = lower($1)", email.strip()
    )
    if user_id is None:
        raise NotFound(f"no user with e-mail {email.strip()}", field="email")
    return user_id


def _check_role(role: str, roles: tuple[str, ...]) -> None:
    if role not in roles:
        raise BadInput(f"role is one of {', '.join(roles)}", field="role")


async def add_organization_member(
    session: Session, viewer: Viewer, organization_id: UUID, email: str, role: str
) -> None:
    """Make a user a member (or change their role) of an organization (its ADMINs only)."""
    require_scope(viewer, "organization:write")
    _check_role(role, ORGANIZATION_ROLES)
    async with session.transaction() as tx:
        await locked_row(tx, ORGANIZATION, organization_id, viewer, "organizationId", share=True)
        await require_admin(tx, viewer, organization_id)
        user_id = await _user(tx, email)
        await tx.fetchval(
            "INSERT INTO organization_members (organization_id, user_id, role) "
            "VALUES ($1, $2, $3) ON CONFLICT (organization_id, user_id) DO UPDATE SET role = $3",
            organization_id,
            user_id,
            role,
        )


async def add_project_member(
    session: Session, viewer: Viewer, project_id: UUID, email: str, role: str
) -> None:
    """Give an organization member a role in one of its projects (org ADMINs only)."""
    require_scope(viewer, "project:write")
    _check_role(role, PROJECT_ROLES)
    async with session.transaction() as tx:
        project = await locked_row(tx, PROJECT, project_id, viewer, "projectId", share=True)
        await require_admin(tx, viewer, project["organization_id"])
        user_id = await _user(tx, email)
        member = await tx.fetchval(
            "SELECT EXISTS (SELECT 1 FROM organization_members "
            "WHERE organization_id = $1 AND user_id = $2)",
            project["organization_id"],
            user_id,
        )
        if not member:
            raise BadInput(
                "the user must belong to the project's organization first", field="email"
            )
        await tx.fetchval(
            "INSERT INTO project_members (project_id, user_id, role) VALUES ($1, $2, $3) "
            "ON CONFLICT (project_id, user_id) DO UPDATE SET role = $3",
            project_id,
            user_id,
            role,
        )


async def remove_project_member(
    session: Session, viewer: Viewer, project_id: UUID, email: str
) -> None:
    """Take a user's role in a project away (org ADMINs only)."""
    require_scope(viewer, "project:write")
    async with session.transaction() as tx:
        project = await locked_row(tx, PROJECT, project_id, viewer, "projectId", share=True)
        await require_admin(tx, viewer, project["organization_id"])
        user_id = await _user(tx, email)
        removed = await tx.fetchval(
            "DELETE FROM project_members WHERE project_id = $1 AND user_id = $2 RETURNING user_id",
            project_id,
            user_id,
        )
        if removed is None:
            raise NotFound(f"{email.strip()} has no role in this project", field="email")
