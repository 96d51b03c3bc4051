"""Organizations and memberships: who belongs where, in which role."""

from __future__ import annotations

from uuid import UUID

import asyncpg

from db.entities import ORGANIZATION, PROJECT
from db.errors import BadInput, Forbidden, NotFound
from db.names import check_display_name
from db.projects import require_admin
from db.queries import QUERIES
from db.session import Session
from db.users import validated_user
from db.viewer import Viewer, require_scope, require_unrestricted
from db.writes import locked_row, translated

ORGANIZATION_ROLES = ("ADMIN", "MEMBER")
PROJECT_ROLES = ("EDITOR", "VIEWER")


async def create_organization(session: Session, viewer: Viewer, name: str) -> asyncpg.Record:
    """A new organization (superusers only); its creator becomes its ADMIN."""
    require_scope(viewer, "organization:write")
    if not viewer.superuser:
        raise Forbidden("only a superuser token may create organizations")
    check_display_name(name, "name")
    with translated("organization"):
        row = await session.fetchrow(QUERIES["create_organization"], name, viewer.user_id)
    assert row is not None
    record: asyncpg.Record = row
    return record


async def _invited(tx: Session, email: str) -> UUID:
    """The user with this e-mail, created when there is none (named after the
    address's local part, with no token: they act once an operator issues one),
    so that an organization's ADMIN learns nothing of who else has an account."""
    email, name = validated_user(email, email.strip().split("@", 1)[0][:200])
    user_id: UUID | None = await tx.fetchval(QUERIES["invited_user_id"], email, name)
    if user_id is None:  # created by a concurrent transaction, committed since
        user_id = await tx.fetchval(QUERIES["user_id_by_email"], email)
    assert user_id is not None
    return user_id


def _check_role(role: str, roles: tuple[str, ...]) -> None:
    if role not in roles:
        raise BadInput(f"role is one of {', '.join(roles)}", field="role")


async def add_organization_member(
    session: Session, viewer: Viewer, organization_id: UUID, email: str, role: str
) -> None:
    """Make a user a member (or change their role) of an organization (its ADMINs
    only); an unknown e-mail becomes a user first. Not through a token restricted to
    projects: a member's role reaches every project of the organization."""
    require_scope(viewer, "organization:write")
    require_unrestricted(viewer, "change an organization's members")
    _check_role(role, ORGANIZATION_ROLES)
    async with session.transaction() as tx:
        await locked_row(tx, ORGANIZATION, organization_id, viewer, "organizationId", share=True)
        await require_admin(tx, viewer, organization_id)
        user_id = await _invited(tx, email)
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
        user_id = await tx.fetchval(
            QUERIES["organization_member_by_email"], project["organization_id"], email.strip()
        )
        if user_id is None:  # an unknown address too: nothing said of who has an account
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
        removed = await tx.fetchval(QUERIES["remove_project_member"], project_id, email.strip())
        if removed is None:
            raise NotFound(f"{email.strip()} has no role in this project", field="email")
