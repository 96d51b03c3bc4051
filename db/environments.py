"""Writes of environments: create, update, delete (one transaction each)."""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass
from datetime import datetime
from uuid import UUID

import asyncpg

from db.entities import ENVIRONMENT, MODEL
from db.errors import BadInput, Conflict
from db.queries import QUERIES
from db.session import Session
from db.viewer import Viewer, require_scope
from db.writes import (
    translated,
    update_entity,
    writable_row,
)

NAME_RULE = re.compile(r"^[A-Za-z0-9_-]{1,64}$")
TYPES = ("PRE_PRODUCTION", "PRODUCTION")
SCOPE = "environment:write"


@dataclass(frozen=True, slots=True)
class EnvironmentChanges:
    """Fields to set; None leaves a field as it is."""

    name: str | None = None
    type: str | None = None
    row_count: int | None = None
    sort_order: int | None = None
    protected: bool | None = None


def _check(changes: EnvironmentChanges) -> None:
    if changes.name is not None and not NAME_RULE.match(changes.name):
        raise BadInput("an environment name has 1 to 64 letters, digits, '_' or '-'", field="name")
    if changes.type is not None and changes.type not in TYPES:
        raise BadInput(f"type is one of {', '.join(TYPES)}", field="type")
    if changes.row_count is not None and not 0 <= changes.row_count <= 2**63 - 1:
        raise BadInput("rowCount cannot be negative", field="rowCount")
    if changes.sort_order is not None and not -(2**31) <= changes.sort_order < 2**31:
        raise BadInput("sortOrder is out of range", field="sortOrder")


async def create_environment(
    session: Session, viewer: Viewer, model_id: UUID, changes: EnvironmentChanges
) -> asyncpg.Record:
    """A new environment under a model; sortOrder defaults to after the last one."""
    require_scope(viewer, SCOPE)
    if changes.name is None or changes.type is None:
        raise BadInput(
            "name and type are required", field="name" if changes.name is None else "type"
        )
    _check(changes)
    async with session.transaction() as tx:
        model = await writable_row(tx, MODEL, model_id, viewer, "modelId", share=True)
        with translated("environment"):
            row = await tx.fetchrow(
                QUERIES["create_environment"],
                model_id,
                model["project_id"],
                changes.name,
                changes.type,
                changes.row_count or 0,
                changes.sort_order,
                bool(changes.protected),
            )
    assert row is not None
    return row


async def update_environment(
    session: Session,
    viewer: Viewer,
    environment_id: UUID,
    changes: EnvironmentChanges,
    expected_updated_at: datetime | None = None,
) -> asyncpg.Record:
    """Change an environment; a stale `expected_updated_at` is a conflict."""
    _check(changes)
    return await update_entity(
        session,
        viewer,
        ENVIRONMENT,
        environment_id,
        changes=asdict(changes),
        expected_updated_at=expected_updated_at,
    )


async def delete_environment(session: Session, viewer: Viewer, environment_id: UUID) -> None:
    """Delete an environment; a protected one is a conflict and stays."""
    require_scope(viewer, SCOPE)
    async with session.transaction() as tx:
        current = await writable_row(tx, ENVIRONMENT, environment_id, viewer, "id")
        if current["protected"]:
            raise Conflict("a protected environment cannot be deleted", field="id")
        await tx.fetchval(QUERIES["delete_environment"], environment_id)
