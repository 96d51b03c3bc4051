"""Evaluations: named rules over an environment's events (API.md, "Evaluations").

An evaluation's conditions are the events' property filters, all of which
must hold: checked here on write (operator against value), stored as a JSON
array of `{key, operator, value}` (the migration's `evaluation_conditions_ok()`
says the same), and read back as `PropertyTest`s, whose SQL is the events
filter's own (db/properties.py). Writes: create and update (every field,
`deleted: true | false`); there is no hard delete.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any
from uuid import UUID

import orjson

from db.binder import Binder
from db.entities import ENVIRONMENT, EVALUATION, EVENT
from db.errors import BadInput
from db.event_rows import holds_nul
from db.filters import All, Filter, PropertyTest
from db.identifiers import ident, qualified
from db.names import check_display_name
from db.pool import Queryable
from db.properties import MAX_IN_VALUES, MAX_KEY_LENGTH, OPERATORS, property_sql
from db.viewer import Viewer, require_read, require_scope
from db.visibility import visible
from db.writes import FromCurrent, Write, entity_update, insertion_under, sql_value

SCOPE = "evaluation:write"
MAX_CONDITIONS = 50
MAX_DESCRIPTION = 4000
MAX_PROMPT = 20_000
_ORDERING = frozenset({"GT", "GTE", "LT", "LTE"})
NO_VALUE = frozenset({"IS_SET", "IS_NOT_SET"})
# a condition given without a value (IS_SET, IS_NOT_SET)
MISSING: Any = object()


@dataclass(frozen=True, slots=True)
class Condition:
    """`properties -> key <operator> value`; `value` is MISSING for IS_SET/IS_NOT_SET."""

    key: str
    operator: str
    value: Any = MISSING


@dataclass(frozen=True, slots=True)
class EvaluationChanges:
    """Fields to set; None leaves a field as it is."""

    name: str | None = None
    description: str | None = None
    enabled: bool | None = None
    prompt: str | None = None
    conditions: tuple[Condition, ...] | None = None


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float, Decimal)) and not isinstance(value, bool)


def _is_datetime(value: str) -> bool:
    try:
        datetime.fromisoformat(value)
    except ValueError:
        return False
    return "T" in value or " " in value or len(value) == 10


def _json(value: Any, field: str) -> None:
    try:
        orjson.dumps(value)
    except (TypeError, orjson.JSONEncodeError):
        raise BadInput("the value must be JSON", field=field) from None


def check_conditions(conditions: Sequence[Condition]) -> None:
    """BAD_USER_INPUT naming `conditions[i].key|operator|value` unless every
    condition's value fits its operator (as the events' PropertyFilter takes it)."""
    if len(conditions) > MAX_CONDITIONS:
        raise BadInput(f"at most {MAX_CONDITIONS} conditions", field="conditions")
    for i, condition in enumerate(conditions):
        at = f"conditions[{i}]"
        key, op, value = condition.key, condition.operator, condition.value
        if not key or len(key) > MAX_KEY_LENGTH or "\x00" in key:
            raise BadInput(
                f"a property key is 1 to {MAX_KEY_LENGTH} characters, without NUL",
                field=f"{at}.key",
            )
        if op not in OPERATORS:
            raise BadInput(f"unknown operator {op}", field=f"{at}.operator")
        _check_value(op, value, f"{at}.value")


def _check_value(op: str, value: Any, field: str) -> None:
    if op in NO_VALUE:
        if value is not MISSING:
            raise BadInput(f"{op} takes no value", field=field)
        return
    if value is MISSING:
        raise BadInput(f"{op} takes a value", field=field)
    _json(value, field)
    if holds_nul(value):
        raise BadInput("a value cannot hold the NUL character", field=field)
    if op in ("IN", "NOT_IN"):
        if not isinstance(value, list) or len(value) > MAX_IN_VALUES:
            raise BadInput(f"{op} takes a list of at most {MAX_IN_VALUES} values", field=field)
    elif op in ("CONTAINS", "NOT_CONTAINS"):
        if not isinstance(value, str) or "\x00" in value:
            raise BadInput(f"{op} takes a string", field=field)
    elif op in _ORDERING and not (
        _is_number(value) or (isinstance(value, str) and _is_datetime(value))
    ):
        raise BadInput(f"{op} takes a number or a DateTime string", field=field)


def dump_conditions(conditions: Sequence[Condition]) -> str:
    """The conditions as stored: a JSON array of {key, operator[, value]}."""
    items: list[dict[str, Any]] = []
    for c in conditions:
        item: dict[str, Any] = {"key": c.key, "operator": c.operator}
        if c.value is not MISSING:
            item["value"] = c.value
        items.append(item)
    return orjson.dumps(items).decode()


def load_conditions(stored: Any) -> tuple[Condition, ...]:
    """The conditions of a row (its `conditions` column, JSON text)."""
    items = orjson.loads(stored) if isinstance(stored, (str, bytes)) else stored
    return tuple(Condition(i["key"], i["operator"], i.get("value", MISSING)) for i in items)


def conditions_filter(conditions: Sequence[Condition]) -> Filter:
    """The conditions as an events filter: property tests, all of which hold."""
    return All(
        tuple(
            PropertyTest("properties", c.key, c.operator, None if c.value is MISSING else c.value)
            for c in conditions
        )
    )


def _check(changes: EvaluationChanges) -> None:
    check_display_name(changes.name, "name")
    for text, field in ((changes.description, "description"), (changes.prompt, "prompt")):
        if text is not None and "\x00" in text:
            raise BadInput(f"{field} cannot hold the NUL character", field=field)
    if changes.description is not None and len(changes.description) > MAX_DESCRIPTION:
        raise BadInput(
            f"a description has at most {MAX_DESCRIPTION} characters", field="description"
        )
    if changes.prompt is not None and len(changes.prompt) > MAX_PROMPT:
        raise BadInput(f"a prompt has at most {MAX_PROMPT} characters", field="prompt")
    if changes.conditions is not None:
        check_conditions(changes.conditions)


def evaluation_creation(viewer: Viewer, environment_id: UUID, changes: EvaluationChanges) -> Write:
    """A new evaluation of an environment, created by the caller."""
    require_scope(viewer, SCOPE)
    if changes.name is None:
        raise BadInput("name is required", field="name")
    _check(changes)
    conditions = dump_conditions(changes.conditions or ())

    def insert(bind: Binder) -> str:
        user = bind(viewer.user_id)
        values = ", ".join(
            [
                bind(changes.name),
                bind(changes.description or ""),
                bind(True if changes.enabled is None else changes.enabled),
                bind(changes.prompt or ""),
                f"{bind(conditions)}::jsonb",
            ]
        )
        return (
            "INSERT INTO evaluations (environment_id, model_id, project_id, name, description, "
            "enabled, prompt, conditions, created_by, updated_by) "
            f"SELECT p.id, p.model_id, p.project_id, {values}, {user}, {user} "
            "FROM _parent p WHERE p._writer RETURNING *"
        )

    return insertion_under(
        viewer, EVALUATION, ENVIRONMENT, environment_id, field="environmentId", insert=insert
    )


def evaluation_update(
    viewer: Viewer,
    evaluation_id: UUID,
    changes: EvaluationChanges,
    *,
    deleted: bool | None = None,
    expected_updated_at: datetime | None = None,
) -> Write:
    """Change an evaluation (the caller becomes its `updatedBy`): `deleted` true
    hides it (keeping the first deletedAt), false brings it back (CONFLICT naming
    `deleted` when a live one has taken its name). A deleted evaluation is found
    only by an update that says `deleted`."""
    require_scope(viewer, SCOPE)
    _check(changes)
    columns: dict[str, Any] = {
        "name": changes.name,
        "description": changes.description,
        "enabled": changes.enabled,
        "prompt": changes.prompt,
        "updated_by": viewer.user_id,
    }
    if changes.conditions is not None:
        dumped = dump_conditions(changes.conditions)
        columns["conditions"] = FromCurrent(lambda bind: f"{bind(dumped)}::jsonb")
    if deleted is not None:
        columns["deleted_at"] = sql_value("coalesce(c.deleted_at, now())" if deleted else "NULL")
    return entity_update(
        viewer,
        EVALUATION,
        evaluation_id,
        changes=columns,
        expected_updated_at=expected_updated_at,
        with_hidden=deleted is not None,
        conflict_field=None if changes.name else "deleted",
    )


@dataclass(frozen=True, slots=True)
class Stats:
    """The environment's events in a window, and those the conditions match."""

    events: int
    matched: int

    @property
    def rate(self) -> float | None:
        """matched / events (None: no events)."""
        return None if self.events == 0 else self.matched / self.events


async def evaluation_stats(
    conn: Queryable,
    viewer: Viewer,
    evaluations: Sequence[tuple[UUID, Sequence[Condition]]],
    *,
    since: datetime | None,
    until: datetime | None,
) -> list[Stats]:
    """`Evaluation.stats` of each (environment, conditions) given, over the events the
    caller sees (the events' read scope needed): ONE statement for all of them, both
    counts of each over its environment's events in one scan."""
    require_read(viewer, EVENT.scope)
    if not evaluations:
        return []
    bind = Binder()
    alias = "t"
    window = [visible(EVENT, alias, viewer, bind)]
    if since is not None:
        window.append(f"{qualified(alias, 'timestamp')} >= {bind(since)}")
    if until is not None:
        window.append(f"{qualified(alias, 'timestamp')} < {bind(until)}")
    selects = []
    for i, (environment_id, conditions) in enumerate(evaluations):
        tests = [
            property_sql(alias, PropertyTest("properties", c.key, c.operator, _value(c)), bind)
            for c in conditions
        ]
        matched = " AND ".join(tests) or "TRUE"
        where = [f"{qualified(alias, 'environment_id')} = {bind(environment_id)}", *window]
        selects.append(
            f"SELECT {i} AS i, count(*) AS events, count(*) FILTER (WHERE {matched}) AS matched "
            f"FROM {ident(EVENT.table)} {alias} WHERE {' AND '.join(where)}"
        )
    rows = await conn.fetch(" UNION ALL ".join(selects), *bind.values)
    found = {row["i"]: Stats(row["events"], row["matched"]) for row in rows}
    return [found[i] for i in range(len(evaluations))]


def _value(condition: Condition) -> Any:
    return None if condition.value is MISSING else condition.value
