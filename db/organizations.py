"""Organizations and memberships: who belongs where, in which role."""

from __future__ import annotations

from uuid import UUID

import asyncpg

from db.binder import Binder
from db.entities import ORGANIZATION
from db.errors import BadInput, Forbidden, NotFound
from db.names import check_display_name
from db.queries import QUERIES
from db.session import Session
from db.users import validated_user
from db.viewer import Viewer, require_scope, require_unrestricted
from db.writes import Write, locked_call, membership_change, translated

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


def _check_role(role: str, roles: tuple[str, ...]) -> None:
    if role not in roles:
        raise BadInput(f"role is one of {', '.join(roles)}", field="role")


async def add_organization_member(
    session: Session, viewer: Viewer, organization_id: UUID, email: str, role: str
) -> asyncpg.Record:
    """Make a user a member (or change their role) of an organization (its ADMINs
    only), in one statement: the organization (as found, answered); an unknown e-mail
    becomes a user first (named after the address's local part, with no token: they
    act once an operator issues one), so that an ADMIN learns nothing of who else has
    an account. Not through a token restricted to projects: a member's role reaches
    every project of the organization."""
    require_scope(viewer, "organization:write")
    require_unrestricted(viewer, "change an organization's members")
    _check_role(role, ORGANIZATION_ROLES)
    email, name = validated_user(email, email.strip().split("@", 1)[0][:200])
    organization: asyncpg.Record = await locked_call(
        session,
        viewer,
        ORGANIZATION,
        organization_id,
        "envgraph_put_organization_member",
        email,
        name,
        role,
        field="organizationId",
        share=True,  # members added at once do not wait for each other
    )
    return organization


def project_member_addition(viewer: Viewer, project_id: UUID, email: str, role: str) -> Write:
    """Give an organization member a role in one of its projects (org ADMINs only),
    or change it."""
    require_scope(viewer, "project:write")
    _check_role(role, PROJECT_ROLES)

    def put(bind: Binder) -> str:
        return (
            "INSERT INTO project_members (project_id, user_id, role) "
            f"SELECT c.id, m.user_id, {bind(role)}::text::project_role FROM _current c "
            "JOIN organization_members m ON m.organization_id = c.organization_id "
            "JOIN users u ON u.id = m.user_id "
            f"WHERE c._writer AND lower(u.email) = lower({bind(email.strip())}) "
            "ON CONFLICT (project_id, user_id) DO UPDATE SET role = excluded.role "
            "RETURNING project_id"
        )

    def refuse() -> None:  # an unknown address too: nothing said of who has an account
        raise BadInput("the user must belong to the project's organization first", field="email")

    return membership_change(viewer, project_id, put, refuse)


def project_member_removal(viewer: Viewer, project_id: UUID, email: str) -> Write:
    """Take a user's role in a project away (org ADMINs only): an unknown address is
    no role, as is a known one without a role."""
    require_scope(viewer, "project:write")

    def remove(bind: Binder) -> str:
        return (
            "DELETE FROM project_members pm USING _current c "
            "WHERE pm.project_id = c.id AND c._writer AND pm.user_id = "
            f"(SELECT id FROM users WHERE lower(email) = lower({bind(email.strip())})) "
            "RETURNING pm.project_id"
        )

    def refuse() -> None:
        raise NotFound(f"{email.strip()} has no role in this project", field="email")

    return membership_change(viewer, project_id, remove, refuse)
