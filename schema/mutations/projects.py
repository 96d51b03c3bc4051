"""Project and model mutations."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

import strawberry
from strawberry import UNSET

from db.entities import MODEL, PROJECT
from db.projects import (
    ModelChanges,
    ProjectChanges,
    delete_model,
    delete_project,
    model_creation,
    model_update,
    project_creation,
    project_update,
)
from db.viewer import Viewer
from db.writes import Write
from schema.ids import expect_global_id, global_id
from schema.metadata import WriteField
from schema.mutations.common import (
    DISPLAY_NAME,
    INPUT,
    STALE,
    Info,
    column_field,
    deleted_id,
    given,
    id_field,
    object_field,
    written,
)
from schema.scalars import AssetType


@strawberry.input(description="A new project of an organization.")
class CreateProjectInput:
    organization_id: strawberry.ID = id_field("the organization it belongs to")
    name: str = strawberry.field(description=DISPLAY_NAME)
    asset_type: AssetType | None = strawberry.field(
        default=UNSET, description="What the project monitors (default ML_MODEL)."
    )


@strawberry.input(description="Changes to a project (fields not given stay as they are).")
class UpdateProjectInput:
    id: strawberry.ID = id_field("the project")
    name: str | None = strawberry.field(default=UNSET, description=DISPLAY_NAME)
    asset_type: AssetType | None = column_field(PROJECT, "asset_type")
    expected_updated_at: datetime | None = strawberry.field(default=UNSET, description=STALE)


@strawberry.input(description="A new model (name and version) of a project.")
class CreateModelInput:
    project_id: strawberry.ID = id_field("the project it belongs to")
    name: str = strawberry.field(description=DISPLAY_NAME)
    version: str | None = strawberry.field(default=UNSET, description="Default: v1.")


@strawberry.input(description="Changes to a model (fields not given stay as they are).")
class UpdateModelInput:
    id: strawberry.ID = id_field("the model")
    name: str | None = strawberry.field(default=UNSET, description=DISPLAY_NAME)
    version: str | None = column_field(MODEL, "version")
    expected_updated_at: datetime | None = strawberry.field(default=UNSET, description=STALE)


@strawberry.input(description="The project to delete.")
class DeleteProjectInput:
    id: strawberry.ID = id_field("the project")


@strawberry.input(description="The model to delete.")
class DeleteModelInput:
    id: strawberry.ID = id_field("the model")


@strawberry.type(description="What a project write answers.")
class ProjectPayload:
    project: Any = object_field(PROJECT)


@strawberry.type(description="What a model write answers.")
class ModelPayload:
    model: Any = object_field(MODEL)


@strawberry.type(description="What deleteProject answers.")
class DeleteProjectPayload:
    deleted_id: strawberry.ID = deleted_id("project")


@strawberry.type(description="What deleteModel answers.")
class DeleteModelPayload:
    deleted_id: strawberry.ID = deleted_id("model")


def _project_creation(input: CreateProjectInput, viewer: Viewer) -> Write:
    organization_id = expect_global_id(input.organization_id, "Organization", "organizationId")
    changes = ProjectChanges(name=input.name, asset_type=given(input.asset_type))
    return project_creation(viewer, organization_id, changes)


def _project_update(input: UpdateProjectInput, viewer: Viewer) -> Write:
    project_id = expect_global_id(input.id, "Project")
    changes = ProjectChanges(name=given(input.name), asset_type=given(input.asset_type))
    return project_update(viewer, project_id, changes, given(input.expected_updated_at))


def _model_creation(input: CreateModelInput, viewer: Viewer) -> Write:
    project_id = expect_global_id(input.project_id, "Project", "projectId")
    return model_creation(viewer, project_id, ModelChanges(input.name, given(input.version)))


def _model_update(input: UpdateModelInput, viewer: Viewer) -> Write:
    model_id = expect_global_id(input.id, "Model")
    changes = ModelChanges(name=given(input.name), version=given(input.version))
    return model_update(viewer, model_id, changes, given(input.expected_updated_at))


@strawberry.type
class ProjectMutations:
    """Writes of projects and models."""

    @strawberry.mutation(
        description="Create a project (organization ADMINs).",
        metadata=WriteField(_project_creation).meta,
    )
    async def create_project(
        self, info: Info, input: Annotated[CreateProjectInput, INPUT]
    ) -> ProjectPayload:
        """Create, then answer with the project."""
        write = _project_creation(input, info.context.authenticated)
        return ProjectPayload(project=await written(info, write))

    @strawberry.mutation(description="Change a project.", metadata=WriteField(_project_update).meta)
    async def update_project(
        self, info: Info, input: Annotated[UpdateProjectInput, INPUT]
    ) -> ProjectPayload:
        """Update, then answer with the project as it is now."""
        write = _project_update(input, info.context.authenticated)
        return ProjectPayload(project=await written(info, write))

    @strawberry.mutation(description="Delete a project with no models (CONFLICT otherwise).")
    async def delete_project(
        self, info: Info, input: Annotated[DeleteProjectInput, INPUT]
    ) -> DeleteProjectPayload:
        """Delete, then answer with the id."""
        context = info.context
        project_id = expect_global_id(input.id, "Project")
        await delete_project(context.session, context.authenticated, project_id)
        context.loaders.forget()
        return DeleteProjectPayload(deleted_id=strawberry.ID(global_id("Project", project_id)))

    @strawberry.mutation(description="Create a model.", metadata=WriteField(_model_creation).meta)
    async def create_model(
        self, info: Info, input: Annotated[CreateModelInput, INPUT]
    ) -> ModelPayload:
        """Create, then answer with the model."""
        write = _model_creation(input, info.context.authenticated)
        return ModelPayload(model=await written(info, write))

    @strawberry.mutation(description="Change a model.", metadata=WriteField(_model_update).meta)
    async def update_model(
        self, info: Info, input: Annotated[UpdateModelInput, INPUT]
    ) -> ModelPayload:
        """Update, then answer with the model as it is now."""
        write = _model_update(input, info.context.authenticated)
        return ModelPayload(model=await written(info, write))

    @strawberry.mutation(description="Delete a model with no environments or segments.")
    async def delete_model(
        self, info: Info, input: Annotated[DeleteModelInput, INPUT]
    ) -> DeleteModelPayload:
        """Delete, then answer with the id."""
        context = info.context
        model_id = expect_global_id(input.id, "Model")
        await delete_model(context.session, context.authenticated, model_id)
        context.loaders.forget()
        return DeleteModelPayload(deleted_id=strawberry.ID(global_id("Model", model_id)))
