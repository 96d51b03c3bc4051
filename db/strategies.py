"""The default rollout strategy of an environment: set and cleared (one
statement each, under `environment:write`, as any change of the environment:
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

from db.binder import Binder
from db.entities import ENVIRONMENT, SEGMENT
from db.errors import NotFound
from db.identifiers import ident, qualified
from db.rollout_rules import StrategySpec, normalised
from db.viewer import Viewer, require_read, require_scope
from db.visibility import visible
from db.writes import FromCurrent, Guard, Write, entity_update, sql_value

SCOPE = "environment:write"


def stored_strategy(row: asyncpg.Record) -> dict[str, Any] | None:
    """The default strategy on an environment's row (None: none set)."""
    value = row["default_strategy"]
    if value is None or isinstance(value, dict):
        return value
    loaded: dict[str, Any] = orjson.loads(value)
    return loaded


def _segments_guard(viewer: Viewer, segment_ids: tuple[UUID, ...]) -> Guard:
    """The 1-based place of the first of `segment_ids` that is not a live segment
    of the environment's model the caller sees (NULL: all are)."""
    require_read(viewer, SEGMENT.scope)  # naming a segment reads it

    def sql(bind: Binder) -> str:
        seen = visible(SEGMENT, "s", viewer, bind)
        return (
            f"(SELECT min(g.i) FROM unnest({bind(list(segment_ids))}::uuid[]) "
            "WITH ORDINALITY AS g (id, i) WHERE NOT EXISTS (SELECT 1 FROM "
            f"{ident(SEGMENT.table)} s WHERE {qualified('s', 'id')} = g.id "
            f"AND s.model_id = t.model_id AND {seen}))"
        )

    def refuse(place: int) -> None:
        raise NotFound(
            "no such segment of this environment's model",
            field=f"strategy.segmentIds[{place - 1}]",
        )

    return Guard(sql, refuse)


def default_strategy_setting(
    viewer: Viewer,
    environment_id: UUID,
    spec: StrategySpec,
    expected_updated_at: datetime | None = None,
) -> Write:
    """Make `spec` the environment's default strategy (replacing any), every rule
    checked first."""
    require_scope(viewer, SCOPE)
    stored = json.dumps(normalised(spec))
    return entity_update(
        viewer,
        ENVIRONMENT,
        environment_id,
        changes={"default_strategy": FromCurrent(lambda bind: f"{bind(stored)}::jsonb")},
        expected_updated_at=expected_updated_at,
        guard=_segments_guard(viewer, spec.segment_ids) if spec.segment_ids else None,
        field="environmentId",
    )


def default_strategy_clearing(
    viewer: Viewer, environment_id: UUID, expected_updated_at: datetime | None = None
) -> Write:
    """Remove the environment's default strategy (none set: nothing changes)."""
    return entity_update(
        viewer,
        ENVIRONMENT,
        environment_id,
        changes={"default_strategy": sql_value("NULL")},
        expected_updated_at=expected_updated_at,
        only_if="c.default_strategy IS NOT NULL",
        field="environmentId",
    )
