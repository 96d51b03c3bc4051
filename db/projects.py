"""Writes of projects and of their (ML) models: create, update, delete.

Deleting is refused while environments or live segments still hang below:
nothing is lost by accident.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import datetime
from uuid import UUID

from db.binder import Binder
from db.entities import MODEL, ORGANIZATION, PROJECT
from db.errors import BadInput, Conflict
from db.names import check_display_name
from db.session import Session
from db.viewer import Viewer, require_scope, require_unrestricted
from db.writes import (
    Write,
    entity_update,
    insertion_under,
    locked_call,
)

ASSET_TYPES = ("ML_MODEL", "GEN_AI_APP")


@dataclass(frozen=True, slots=True)
class ProjectChanges:
    """Fields to set; None leaves a field as it is."""

    name: str | None = None
    asset_type: str | None = None


@dataclass(frozen=True, slots=True)
class ModelChanges:
    """Fields to set; None leaves a field as it is."""

    name: str | None = None
    version: str | None = None


def _check_project(changes: ProjectChanges) -> None:
    check_display_name(changes.name, "name", 200)
    if changes.asset_type is not None and changes.asset_type not in ASSET_TYPES:
        raise BadInput(f"assetType is one of {', '.join(ASSET_TYPES)}", field="assetType")


def project_creation(viewer: Viewer, organization_id: UUID, changes: ProjectChanges) -> Write:
    """A new project of an organization (its ADMINs only; not through a token restricted
    to projects, which a new project would be outside of)."""
    require_scope(viewer, "project:write")
    require_unrestricted(viewer, "create projects")
    if changes.name is None:
        raise BadInput("name is required", field="name")
    _check_project(changes)

    def insert(bind: Binder) -> str:
        return (
            "INSERT INTO projects (organization_id, name, asset_type) "
            f"SELECT p.id, {bind(changes.name)}, "
            f"coalesce({bind(changes.asset_type)}::text::asset_type, 'ML_MODEL') "
            "FROM _parent p WHERE p._writer RETURNING *"
        )

    return insertion_under(
        viewer, PROJECT, ORGANIZATION, organization_id, field="organizationId", insert=insert
    )


def project_update(
    viewer: Viewer,
    project_id: UUID,
    changes: ProjectChanges,
    expected_updated_at: datetime | None = None,
) -> Write:
    """Change a project."""
    _check_project(changes)
    return entity_update(
        viewer,
        PROJECT,
        project_id,
        changes=asdict(changes),
        expected_updated_at=expected_updated_at,
    )


async def delete_project(session: Session, viewer: Viewer, project_id: UUID) -> None:
    """Delete a project with no environments or live segments (empty models go too),
    by an ADMIN of its organization; one statement."""
    require_scope(viewer, "project:write")
    found = await locked_call(
        session, viewer, PROJECT, project_id, "envgraph_delete_project", admin=True
    )
    if found["outcome"] == "busy":
        raise Conflict(
            "the project still has environments or segments: delete them first", field="id"
        )


def model_creation(viewer: Viewer, project_id: UUID, changes: ModelChanges) -> Write:
    """A new model (name and version) of a project."""
    require_scope(viewer, "model:write")
    if changes.name is None:
        raise BadInput("name is required", field="name")
    check_display_name(changes.name, "name", 200)
    check_display_name(changes.version, "version", 100)

    def insert(bind: Binder) -> str:
        return (
            "INSERT INTO models (project_id, name, version) "
            f"SELECT p.id, {bind(changes.name)}, coalesce({bind(changes.version)}::text, 'v1') "
            "FROM _parent p WHERE p._writer RETURNING *"
        )

    return insertion_under(viewer, MODEL, PROJECT, project_id, field="projectId", insert=insert)


def model_update(
    viewer: Viewer,
    model_id: UUID,
    changes: ModelChanges,
    expected_updated_at: datetime | None = None,
) -> Write:
    """Change a model's name or version."""
    check_display_name(changes.name, "name", 200)
    check_display_name(changes.version, "version", 100)
    return entity_update(
        viewer, MODEL, model_id, changes=asdict(changes), expected_updated_at=expected_updated_at
    )


async def delete_model(session: Session, viewer: Viewer, model_id: UUID) -> None:
    """Delete a model with no environments and no live segments (deleted segments go
    with it); one statement."""
    require_scope(viewer, "model:write")
    found = await locked_call(session, viewer, MODEL, model_id, "envgraph_delete_model")
    if found["outcome"] == "busy":
        raise Conflict(
            "the model still has environments or segments: delete them first", field="id"
        )
