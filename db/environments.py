"""Writes of environments: create, update, move and delete, one statement each
(move and delete through functions of db/migrations/0010_locked_writes.sql).

An environment has a data role (`type`) and a deployment stage (`kind`), tied
by one rule (`settled`): kind PRODUCTION is the PRODUCTION stream. Its
`sort_order` is its 0-based position among its model's environments: a new one
goes last, `move_environment` moves one, a delete closes the gap; whatever
changes positions locks the model's row first (see that migration), so
the positions of a model's environments are always 0..n-1.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import datetime
from typing import Any
from uuid import UUID

import asyncpg

from db.binder import Binder
from db.entities import ENVIRONMENT, MODEL, EnvironmentKind, EnvironmentType
from db.errors import BadInput, Conflict, NotFound
from db.names import check_environment_name
from db.session import Session
from db.viewer import Viewer, require_scope
from db.writes import (
    FromCurrent,
    Write,
    entity_update,
    insertion_under,
    locked_call,
)

TYPES = tuple(t.value for t in EnvironmentType)
KINDS = tuple(k.value for k in EnvironmentKind)
SCOPE = "environment:write"
BIGINT_MAX = 2**63 - 1


@dataclass(frozen=True, slots=True)
class EnvironmentChanges:
    """Fields to set; None leaves a field as it is (or takes its default on create)."""

    name: str | None = None
    type: str | None = None
    kind: str | None = None
    enabled: bool | None = None
    row_count: int | None = None
    protected: bool | None = None


def implied_type(kind: str) -> str:
    """The type a kind gives when type is not said: PRODUCTION for the production
    stage, PRE_PRODUCTION for any other."""
    return "PRODUCTION" if kind == "PRODUCTION" else "PRE_PRODUCTION"


def implied_kind(type: str) -> str:
    """The kind a type gives when kind is not said: PRODUCTION or CUSTOM."""
    return "PRODUCTION" if type == "PRODUCTION" else "CUSTOM"


def settled(
    kind: str | None, type: str | None, current: tuple[str, str] | None = None
) -> tuple[str, str]:
    """(kind, type) after a create (`current` None) or an update of (kind, type)
    `current`. Given both: they must agree (kind PRODUCTION needs type PRODUCTION).
    Given one on create: the other is implied; neither: CUSTOM, PRE_PRODUCTION.
    Given one on update: the other stays, unless it would contradict the new one;
    then it is what the new one implies on create."""
    if kind is not None and type is not None:
        if kind == "PRODUCTION" and type != "PRODUCTION":
            raise BadInput("kind PRODUCTION is the PRODUCTION type, not " + type, field="type")
        return kind, type
    if current is None:  # create: the one not given is implied (neither: CUSTOM)
        kind = kind if kind is not None else implied_kind(type or "PRE_PRODUCTION")
        return kind, type if type is not None else implied_type(kind)
    current_kind, current_type = current
    if kind is not None:
        return kind, "PRODUCTION" if kind == "PRODUCTION" else current_type
    if type is not None and current_kind == "PRODUCTION":
        return implied_kind(type), type
    return current_kind, type or current_type


def _check(changes: EnvironmentChanges) -> None:
    if changes.name is not None:
        check_environment_name(changes.name)
    if changes.type is not None and changes.type not in TYPES:
        raise BadInput(f"type is one of {', '.join(TYPES)}", field="type")
    if changes.kind is not None and changes.kind not in KINDS:
        raise BadInput(f"kind is one of {', '.join(KINDS)}", field="kind")
    if changes.row_count is not None and changes.row_count < 0:
        raise BadInput("rowCount cannot be negative", field="rowCount")
    if changes.row_count is not None and changes.row_count > BIGINT_MAX:
        raise BadInput(f"rowCount is at most {BIGINT_MAX} (64 bits)", field="rowCount")


def environment_creation(viewer: Viewer, model_id: UUID, changes: EnvironmentChanges) -> Write:
    """A new environment under a model, after its last one (the environment_defaults
    trigger counts them, once the model is locked FOR UPDATE: creates in one model
    take the next position in turn); kind and type as `settled` makes them."""
    require_scope(viewer, SCOPE)
    if changes.name is None:
        raise BadInput("name is required", field="name")
    _check(changes)
    kind, type = settled(changes.kind, changes.type)

    def insert(bind: Binder) -> str:
        values = (
            changes.name,
            type,
            kind,
            True if changes.enabled is None else changes.enabled,
            changes.row_count or 0,
            bool(changes.protected),
        )
        name, type_, kind_, enabled, row_count, protected = (bind(v) for v in values)
        return (
            "INSERT INTO environments (model_id, project_id, name, type, kind, enabled, "
            f"row_count, protected) SELECT p.id, p.project_id, {name}, "
            f"{type_}::text::environment_type, {kind_}::text::environment_kind, "
            f"{enabled}::boolean, {row_count}::int8, {protected}::boolean "
            "FROM _parent p WHERE p._writer RETURNING *"
        )

    return insertion_under(
        viewer, ENVIRONMENT, MODEL, model_id, field="modelId", insert=insert, share=False
    )


def environment_update(
    viewer: Viewer,
    environment_id: UUID,
    changes: EnvironmentChanges,
    expected_updated_at: datetime | None = None,
) -> Write:
    """Change an environment; a stale `expected_updated_at` is a conflict. Kind and
    type change as `settled` says (the one not given follows only to avoid a
    contradiction): given both, they must agree; given the kind, the type follows
    to PRODUCTION with it; given the type, a PRODUCTION kind becomes the one the
    type implies, in the statement (it reads the row's kind)."""
    _check(changes)
    require_scope(viewer, SCOPE)
    columns: dict[str, Any] = asdict(changes)
    if changes.kind is not None and changes.type is not None:
        settled(changes.kind, changes.type)  # BAD_USER_INPUT when they disagree
    elif changes.kind is not None:
        # the type follows a PRODUCTION kind, and stays otherwise (as `settled`)
        columns["type"] = "PRODUCTION" if changes.kind == "PRODUCTION" else None
    elif changes.type is not None:
        # a PRODUCTION kind follows the type, another stays (as `settled`)
        implied = implied_kind(changes.type)
        columns["kind"] = FromCurrent(
            lambda bind: (
                f"CASE WHEN c.kind = 'PRODUCTION' "
                f"THEN {bind(implied)}::text::environment_kind ELSE c.kind END"
            )
        )
    return entity_update(
        viewer,
        ENVIRONMENT,
        environment_id,
        changes=columns,
        expected_updated_at=expected_updated_at,
    )


async def move_environment(
    session: Session, viewer: Viewer, environment_id: UUID, position: int
) -> asyncpg.Record:
    """Put an environment at a 0-based `position` among its model's environments,
    the others renumbered 0..n-1 around it, in one statement (its model locked
    first, as every write that moves positions does)."""
    require_scope(viewer, SCOPE)
    found = await locked_call(
        session,
        viewer,
        ENVIRONMENT,
        environment_id,
        "envgraph_move_environment",
        position,
        columns="total, moved",
        lock=False,
    )
    count = found["total"]
    if count is None:  # deleted since it was seen
        raise NotFound("environment not found", field="id")
    if found["moved"] is None:
        raise BadInput(
            f"position is between 0 and {count - 1} (the model has {count} environments)",
            field="position",
        )
    moved: asyncpg.Record = found["moved"]
    return moved


async def delete_environment(session: Session, viewer: Viewer, environment_id: UUID) -> None:
    """Delete an environment (a protected one is a conflict and stays); the rest
    of its model's environments close the gap. One statement (its model locked
    first, as every write that moves positions does)."""
    require_scope(viewer, SCOPE)
    found = await locked_call(
        session, viewer, ENVIRONMENT, environment_id, "envgraph_delete_environment", lock=False
    )
    if found["outcome"] == "gone":  # deleted since it was seen
        raise NotFound("environment not found", field="id")
    if found["outcome"] == "protected":
        raise Conflict("a protected environment cannot be deleted", field="id")
