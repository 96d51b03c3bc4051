"""Organizations and memberships: who belongs where, in which role."""

from __future__ import annotations

from uuid import UUID

import asyncpg

from db.entities import ORGANIZATION, PROJECT
from db.errors import BadInput, Forbidden, NotFound
from db.projects import require_admin
from db.queries import QUERIES
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
            row = await tx.fetchrow(QUERIES["create_organization"], name)
        assert row is not None
        await tx.fetchval(QUERIES["add_organization_creator"], row["id"], viewer.user_id)
    return row


async def _user(tx: Session, email: str) -> UUID:
    user_id: UUID | None = await tx.fetchval(QUERIES["user_id_by_email"], email.strip())
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
            QUERIES["put_organization_member"],
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
            QUERIES["is_organization_member"],
            project["organization_id"],
            user_id,
        )
        if not member:
            raise BadInput(
                "the user must belong to the project's organization first", field="email"
            )
        await tx.fetchval(
            QUERIES["put_project_member"],
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
        removed = await tx.fetchval(QUERIES["remove_project_member"], project_id, user_id)
        if removed is None:
            raise NotFound(f"{email.strip()} has no role in this project", field="email")
