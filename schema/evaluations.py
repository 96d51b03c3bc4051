"""An Evaluation's fields besides its description's: its `conditions`, the events
they match (`matchingEvents`, the events list narrowed by them) and `stats`.
Resolver-path fields (no plan): an operation selecting them is answered by the
resolvers (schema/planner.py)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any, Optional
from uuid import UUID

import strawberry
from strawberry import UNSET
from strawberry.scalars import JSON

from db.entities import EVENT
from db.evaluations import (
    MISSING,
    NO_VALUE,
    Condition,
    Stats,
    conditions_filter,
    evaluation_stats,
    load_conditions,
)
from db.filters import Filter
from schema.connections import list_field
from schema.context import Context
from schema.fields import argument, generated_field
from schema.inputs import PropertyOperator
from schema.scalars import BigInt
from schema.series import evaluation_series_field

Info = strawberry.Info[Context, None]


@strawberry.type(
    description="A condition of an evaluation on one key of an event's properties "
    "(as a PropertyFilter compares)."
)
class PropertyCondition:
    key: str = strawberry.field(description="The property's key.")
    operator: PropertyOperator = strawberry.field(description="How the property compares.")
    value: JSON | None = strawberry.field(
        description="The value compared with (a list for IN and NOT_IN; null for IS_SET "
        "and IS_NOT_SET)."
    )


@strawberry.input(
    description="A condition of an evaluation on one key of an event's properties: "
    "IN and NOT_IN take a list, GT/GTE/LT/LTE a number or a DateTime string, CONTAINS "
    "and NOT_CONTAINS a string, IS_SET and IS_NOT_SET no value."
)
class PropertyConditionInput:
    key: str = strawberry.field(description="The property's key (1 to 200 characters).")
    operator: PropertyOperator = strawberry.field(description="How the property compares.")
    value: JSON | None = strawberry.field(
        default=UNSET, description="The value compared with (none for IS_SET, IS_NOT_SET)."
    )


def conditions_of(given: list[PropertyConditionInput]) -> tuple[Condition, ...]:
    """Input conditions as `db/` takes them (not yet checked)."""
    conditions = []
    for c in given:
        operator = c.operator.name  # the label (a described value types as its definition)
        # IS_SET and IS_NOT_SET take no value: null is none as well
        missing = c.value is UNSET or (c.value is None and operator in NO_VALUE)
        conditions.append(Condition(c.key, operator, MISSING if missing else c.value))
    return tuple(conditions)


@strawberry.type(description="An evaluation's events in a time window, and those it matches.")
class EvaluationStats:
    events: BigInt = strawberry.field(description="The environment's events in the window.")
    matched: BigInt = strawberry.field(description="Those the conditions match.")
    rate: float | None = strawberry.field(
        description="The share matched: matched / events (null: no events)."
    )


async def _conditions(root: Any, info: Info) -> list[PropertyCondition]:
    return [
        PropertyCondition(
            key=c.key,
            operator=PropertyOperator(c.operator),
            value=None if c.value is MISSING else c.value,
        )
        for c in load_conditions(root.row["conditions"])
    ]


async def _stats(
    root: Any, info: Info, since: datetime | None = None, until: datetime | None = None
) -> EvaluationStats:
    context = info.context
    window = (
        since if since is not UNSET else None,
        until if until is not UNSET else None,
    )

    async def load(keys: Sequence[tuple[UUID, str]]) -> list[Stats]:
        evaluations = [(environment, load_conditions(text)) for environment, text in keys]
        return await evaluation_stats(
            context.session,
            context.authenticated,
            evaluations,
            since=window[0],
            until=window[1],
        )

    # the stats of every evaluation of the request with this window: one statement
    loader = context.loaders.batch(("evaluation_stats", window), load)
    stats = await loader.load((root.row["environment_id"], root.row["conditions"]))
    return EvaluationStats(
        events=BigInt(stats.events), matched=BigInt(stats.matched), rate=stats.rate
    )


def _matching(root: Any) -> tuple[UUID, Filter]:
    return root.row["environment_id"], conditions_filter(load_conditions(root.row["conditions"]))


def evaluation_fields(event_type: type) -> dict[str, Any]:
    """The fields an Evaluation gets besides its description's."""
    return {
        "conditions": generated_field(
            list[PropertyCondition],
            plan=None,
            description="What an event must hold to match, all of them (none: every event).",
            resolver=_conditions,
        ),
        "matching_events": list_field(
            EVENT,
            event_type,
            parent_column="environment_id",
            description="The environment's events the conditions match, newest first unless "
            "orderBy says otherwise (the events list, narrowed by the conditions).",
            narrowed=_matching,
        ),
        "series": evaluation_series_field(_matching),
        "stats": generated_field(
            EvaluationStats,
            plan=None,
            description="How many of the environment's events the conditions match, in one "
            "statement.",
            resolver=_stats,
            arguments=[
                argument("since", Optional[datetime], "From this time on (inclusive)."),  # noqa: UP045
                argument("until", Optional[datetime], "Before this time (exclusive)."),  # noqa: UP045
            ],
        ),
    }
