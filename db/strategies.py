"""The default rollout strategy of an environment: set and cleared (one
transaction each, under `environment:write`, as any change of the environment:
its row locked, `expectedUpdatedAt` honoured, `updatedAt` bumped).

The strategy's segments must be live segments of the environment's model
that the caller sees (anything else is NOT_FOUND naming the input path); they
are stored by id and resolved when read, so one deleted later drops out.
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any
from uuid import UUID

import asyncpg
import orjson

from db.entities import ENVIRONMENT, SEGMENT
from db.errors import NotFound
from db.loading import rows_by_ids
from db.pool import Queryable
from db.queries import QUERIES
from db.rollout_rules import StrategySpec, normalised
from db.session import Session
from db.viewer import Viewer, require_read, require_scope
from db.writes import require_unchanged, writable_row

SCOPE = "environment:write"


def stored_strategy(row: asyncpg.Record) -> dict[str, Any] | None:
    """The default strategy on an environment's row (None: none set)."""
    value = row["default_strategy"]
    if value is None or isinstance(value, dict):
        return value
    loaded: dict[str, Any] = orjson.loads(value)
    return loaded


async def _check_segments(
    tx: Queryable, viewer: Viewer, model_id: UUID, segment_ids: tuple[UUID, ...]
) -> None:
    if not segment_ids:
        return
    require_read(viewer, SEGMENT.scope)  # naming a segment reads it
    rows = await rows_by_ids(tx, SEGMENT, segment_ids, viewer)
    for i, row in enumerate(rows):
        if row is None or row["model_id"] != model_id:
            raise NotFound(
                "no such segment of this environment's model", field=f"strategy.segmentIds[{i}]"
            )


async def set_default_strategy(
    session: Session,
    viewer: Viewer,
    environment_id: UUID,
    spec: StrategySpec,
    expected_updated_at: datetime | None = None,
) -> asyncpg.Record:
    """Make `spec` the environment's default strategy (replacing any), every rule
    checked first."""
    require_scope(viewer, SCOPE)
    stored = normalised(spec)
    async with session.transaction() as tx:
        current = await writable_row(tx, ENVIRONMENT, environment_id, viewer, "environmentId")
        require_unchanged(current, expected_updated_at, "environment")
        await _check_segments(tx, viewer, current["model_id"], spec.segment_ids)
        row = await tx.fetchrow(QUERIES["set_default_strategy"], environment_id, json.dumps(stored))
    assert row is not None
    return row


async def clear_default_strategy(
    session: Session,
    viewer: Viewer,
    environment_id: UUID,
    expected_updated_at: datetime | None = None,
) -> asyncpg.Record:
    """Remove the environment's default strategy (none set: nothing changes)."""
    require_scope(viewer, SCOPE)
    async with session.transaction() as tx:
        current = await writable_row(tx, ENVIRONMENT, environment_id, viewer, "environmentId")
        require_unchanged(current, expected_updated_at, "environment")
        if current["default_strategy"] is None:
            return current
        row = await tx.fetchrow(QUERIES["set_default_strategy"], environment_id, None)
    assert row is not None
    return row
