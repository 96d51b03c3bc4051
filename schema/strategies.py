"""`Environment.defaultStrategy` and `Environment.evaluateStrategy`: the rollout
strategy's GraphQL types, read from the environment's row (db/strategies.py).
Resolver-path fields (no plan): an operation selecting them is answered by
the resolvers."""

from __future__ import annotations

import enum
from typing import Any, Optional
from uuid import UUID

import strawberry
from strawberry.scalars import JSON

from db.entities import SEGMENT
from db.errors import BadInput
from db.rollout_eval import evaluate
from db.rollout_rules import ConstraintOperator, PayloadType, WeightType
from db.strategies import stored_strategy
from db.viewer import require_read
from schema.context import Context
from schema.fields import generated_field, required_argument
from schema.rows import from_row
from schema.scalars import describe_values

Info = strawberry.Info[Context, None]


def _enum(
    values: type[enum.Enum], descriptions: dict[str, str], name: str | None = None
) -> type[enum.Enum]:
    made = strawberry.enum(values, name=name, description=(values.__doc__ or "").strip())
    return describe_values(made, descriptions)


OPERATOR = _enum(
    ConstraintOperator,
    {
        "NOT_IN": "The field's value is none of `values`.",
        "IN": "The field's value is one of `values`.",
        "STR_ENDS_WITH": "The field's text ends with one of `values`.",
        "STR_STARTS_WITH": "The field's text starts with one of `values`.",
        "STR_CONTAINS": "The field's text contains one of `values`.",
        "NUM_EQ": "The field's number equals `value`.",
        "NUM_GT": "The field's number is greater than `value`.",
        "NUM_GTE": "The field's number is greater than or equal to `value`.",
        "NUM_LT": "The field's number is less than `value`.",
        "NUM_LTE": "The field's number is less than or equal to `value`.",
        "DATE_AFTER": "The field's date-time (ISO 8601) is after `value`.",
        "DATE_BEFORE": "The field's date-time (ISO 8601) is before `value`.",
        "SEMVER_EQ": "The field's semantic version equals `value`.",
        "SEMVER_GT": "The field's semantic version is greater than `value`.",
        "SEMVER_LT": "The field's semantic version is less than `value`.",
    },
)
WEIGHT_TYPE = _enum(
    WeightType,
    {
        "FIX": "The weight given is kept.",
        "VARIABLE": "The variant gets an equal share of what FIX variants leave.",
    },
)
PAYLOAD_TYPE = _enum(
    PayloadType,
    {
        "JSON": "A JSON document.",
        "CSV": "Comma-separated values.",
        "STRING": "Plain text.",
        "NUMBER": "A number, as text.",
    },
    "VariantPayloadType",
)


@strawberry.type(description="A condition on one field of the evaluation context.")
class Constraint:
    context_name: str = strawberry.field(
        description="The context field it reads (`userId`, `currentTime`, a property, ...)."
    )
    operator: ConstraintOperator = strawberry.field(description="How it compares.")
    case_insensitive: bool = strawberry.field(
        description="Text compared ignoring case (STR_ and IN operators)."
    )
    inverted: bool = strawberry.field(description="The condition holds when the test fails.")
    values: list[str] = strawberry.field(
        description="What IN, NOT_IN and STR_ operators compare with (any may match)."
    )
    value: str | None = strawberry.field(
        description="What NUM_, DATE_ and SEMVER_ operators compare with."
    )


@strawberry.type(description="What a variant carries to the client.")
class VariantPayload:
    type: PayloadType = strawberry.field(description="What `value` holds.")
    value: str = strawberry.field(description="The payload, as text.")


@strawberry.type(description="A share of the traffic (weights are parts of 1000).")
class Variant:
    name: str = strawberry.field(description="Its name, unique in the strategy.")
    weight: int = strawberry.field(description="Its share of the traffic, 0 to 1000.")
    weight_type: WeightType = strawberry.field(description="Whether the weight is fixed.")
    stickiness: str = strawberry.field(
        description="The context field whose value decides the variant (`default`: userId, "
        "then sessionId)."
    )
    payload: VariantPayload | None = strawberry.field(description="Null: none.")


@strawberry.type(description="What the default strategy says of one context.")
class StrategyEvaluation:
    enabled: bool = strawberry.field(
        description="The strategy is set, not disabled, and every constraint holds."
    )
    variant: Variant | None = strawberry.field(description="Null unless enabled with variants.")
    matched_constraints: list[Constraint] = strawberry.field(
        description="The constraints that hold (inverted ones included when their negation holds)."
    )


def _constraint(stored: dict[str, Any]) -> Constraint:
    return Constraint(
        context_name=stored["contextName"],
        operator=ConstraintOperator(stored["operator"]),
        case_insensitive=stored["caseInsensitive"],
        inverted=stored["inverted"],
        values=stored["values"],
        value=stored["value"],
    )


def _variant(stored: dict[str, Any]) -> Variant:
    payload = stored["payload"]
    return Variant(
        name=stored["name"],
        weight=stored["weight"],
        weight_type=WeightType(stored["weightType"]),
        stickiness=stored["stickiness"],
        payload=None
        if payload is None
        else VariantPayload(type=PayloadType(payload["type"]), value=payload["value"]),
    )


_STRATEGY_FIELDS = {
    "name": "Its name (e.g. `flexibleRollout`).",
    "title": "A title for people (null: none).",
    "disabled": "A disabled strategy enables nothing.",
    "sort_order": "Its position among strategies (lowest first).",
    "constraints": "Conditions that must all hold for a context.",
    "variants": "How enabled traffic is shared out (empty: no variants).",
    "parameters": "Its parameters: a JSON object.",
}


def _strategy_type(segment_type: type) -> Any:
    """RolloutStrategy, whose `segments` are objects of the generated Segment type."""

    async def segments(root: Any, info: Info) -> list[Any]:
        if not root.segment_ids:
            return []
        require_read(info.context.authenticated, SEGMENT.scope)
        rows = await info.context.loaders.by_id(SEGMENT).load_many(root.segment_ids)
        # live and visible (the loader hides the rest), of this model
        return [
            from_row(segment_type, row)
            for row in rows
            if row is not None and row["model_id"] == root.model_id
        ]

    namespace = {
        "__module__": __name__,
        "__annotations__": {
            "name": str,
            "title": Optional[str],  # noqa: UP045 (a runtime value)
            "disabled": bool,
            "sort_order": int,
            "constraints": list[Constraint],
            "variants": list[Variant],
            "parameters": JSON,
            "segment_ids": strawberry.Private[list[UUID]],
            "model_id": strawberry.Private[UUID],
        },
        "segments": generated_field(
            list[segment_type],  # type: ignore[valid-type]
            plan=None,
            description="The model's segments it applies to (live ones the caller sees).",
            resolver=segments,
        ),
    }
    for name, description in _STRATEGY_FIELDS.items():
        namespace[name] = strawberry.field(description=description)
    cls = type("RolloutStrategy", (), namespace)
    return strawberry.type(cls, description="How traffic of an environment is rolled out.")


def strategy_fields(segment_type: type) -> dict[str, Any]:
    """The fields an Environment gets for its default strategy."""
    rollout = _strategy_type(segment_type)

    async def default_strategy(root: Any, info: Info) -> Any:
        stored = stored_strategy(root.row)
        if stored is None:
            return None
        return rollout(
            name=stored["name"],
            title=stored["title"],
            disabled=stored["disabled"],
            sort_order=stored["sortOrder"],
            constraints=[_constraint(c) for c in stored["constraints"]],
            variants=[_variant(v) for v in stored["variants"]],
            parameters=stored["parameters"],
            segment_ids=[UUID(s) for s in stored["segmentIds"]],
            model_id=root.row["model_id"],
        )

    async def evaluate_strategy(root: Any, info: Info, context: Any) -> StrategyEvaluation:
        if not isinstance(context, dict):
            raise BadInput("the context is a JSON object", field="context")
        result = evaluate(stored_strategy(root.row), context)
        return StrategyEvaluation(
            enabled=result.enabled,
            variant=None if result.variant is None else _variant(result.variant),
            matched_constraints=[_constraint(c) for c in result.matched],
        )

    return {
        "default_strategy": generated_field(
            Optional[rollout],  # noqa: UP045 (a runtime value)
            plan=None,
            description="The default rollout strategy (null: none set).",
            resolver=default_strategy,
        ),
        "evaluate_strategy": generated_field(
            StrategyEvaluation,
            plan=None,
            description="The default strategy applied to a context (a JSON object: userId, "
            "sessionId, currentTime, properties, any field the constraints name).",
            resolver=evaluate_strategy,
            arguments=[
                required_argument(
                    "context", JSON, "A JSON object (else BAD_USER_INPUT): the context's fields."
                )
            ],
        ),
    }
