"""Organization and membership mutations."""

from __future__ import annotations

import enum
from typing import Annotated, Any

import strawberry

from db.entities import ORGANIZATION, PROJECT
from db.organizations import (
    add_organization_member,
    create_organization,
    project_member_addition,
    project_member_removal,
)
from db.viewer import Viewer
from db.writes import Write
from schema.ids import expect_global_id
from schema.metadata import WriteField
from schema.mutations.common import DISPLAY_NAME, INPUT, Info, id_field, object_field, written
from schema.types import object_of


@strawberry.enum(description="A role in an organization.")
class OrganizationRole(enum.Enum):
    ADMIN = strawberry.enum_value(
        "ADMIN", description="Sees and writes in all its projects; manages its members."
    )
    MEMBER = strawberry.enum_value(
        "MEMBER", description="Sees the organization, and the projects where they have a role."
    )


@strawberry.enum(description="A role in a project.")
class ProjectRole(enum.Enum):
    EDITOR = strawberry.enum_value(
        "EDITOR", description="Reads the project and writes in it (models, environments, ...)."
    )
    VIEWER = strawberry.enum_value("VIEWER", description="Reads the project.")


@strawberry.input(description="A new organization.")
class CreateOrganizationInput:
    name: str = strawberry.field(description=DISPLAY_NAME)


@strawberry.input(description="Make a user (by e-mail) a member of an organization.")
class AddOrganizationMemberInput:
    organization_id: strawberry.ID = id_field("the organization")
    email: str = strawberry.field(description="The user's e-mail (NOT_FOUND: no such user).")
    role: OrganizationRole = strawberry.field(description="Their role (replaces any other).")


@strawberry.input(description="Give an organization member a role in a project.")
class AddProjectMemberInput:
    project_id: strawberry.ID = id_field("the project")
    email: str = strawberry.field(
        description="The user's e-mail: a member of the project's organization."
    )
    role: ProjectRole = strawberry.field(description="Their role (replaces any other).")


@strawberry.input(description="Whose role in a project to take away.")
class RemoveProjectMemberInput:
    project_id: strawberry.ID = id_field("the project")
    email: str = strawberry.field(description="The user's e-mail.")


@strawberry.type(description="What an organization write answers.")
class OrganizationPayload:
    organization: Any = object_field(ORGANIZATION)


@strawberry.type(description="What a project membership write answers.")
class ProjectMembershipPayload:
    project: Any = object_field(PROJECT)


def _addition(input: AddProjectMemberInput, viewer: Viewer) -> Write:
    project_id = expect_global_id(input.project_id, "Project", "projectId")
    return project_member_addition(viewer, project_id, input.email, input.role.name)


def _removal(input: RemoveProjectMemberInput, viewer: Viewer) -> Write:
    project_id = expect_global_id(input.project_id, "Project", "projectId")
    return project_member_removal(viewer, project_id, input.email)


@strawberry.type
class OrganizationMutations:
    """Organizations and who belongs where."""

    @strawberry.mutation(description="Create an organization (superusers; the creator is ADMIN).")
    async def create_organization(
        self, info: Info, input: Annotated[CreateOrganizationInput, INPUT]
    ) -> OrganizationPayload:
        """Create, then answer with the organization."""
        context = info.context
        row = await create_organization(context.session, context.authenticated, input.name)
        context.loaders.forget()
        return OrganizationPayload(organization=object_of(ORGANIZATION, row))

    @strawberry.mutation(description="Add a member to an organization (its ADMINs).")
    async def add_organization_member(
        self, info: Info, input: Annotated[AddOrganizationMemberInput, INPUT]
    ) -> OrganizationPayload:
        """Add (or change the role of) a member, then answer with the organization."""
        context = info.context
        organization_id = expect_global_id(input.organization_id, "Organization", "organizationId")
        row = await add_organization_member(
            context.session, context.authenticated, organization_id, input.email, input.role.name
        )
        context.loaders.forget()
        return OrganizationPayload(organization=object_of(ORGANIZATION, row))

    @strawberry.mutation(
        description="Give a role in a project (organization ADMINs).",
        metadata=WriteField(_addition).meta,
    )
    async def add_project_member(
        self, info: Info, input: Annotated[AddProjectMemberInput, INPUT]
    ) -> ProjectMembershipPayload:
        """Add (or change the role of) a project member, then answer with the project."""
        write = _addition(input, info.context.authenticated)
        return ProjectMembershipPayload(project=await written(info, write))

    @strawberry.mutation(
        description="Take a user's role in a project away (organization ADMINs).",
        metadata=WriteField(_removal).meta,
    )
    async def remove_project_member(
        self, info: Info, input: Annotated[RemoveProjectMemberInput, INPUT]
    ) -> ProjectMembershipPayload:
        """Remove, then answer with the project."""
        write = _removal(input, info.context.authenticated)
        return ProjectMembershipPayload(project=await written(info, write))
