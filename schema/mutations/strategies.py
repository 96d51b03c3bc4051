"""The default rollout strategy's mutations (scope `environment:write`)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

import strawberry
from strawberry import UNSET
from strawberry.scalars import JSON

from db.entities import ENVIRONMENT
from db.rollout_rules import (
    ConstraintOperator,
    ConstraintSpec,
    PayloadType,
    StrategySpec,
    VariantSpec,
    WeightType,
)
from db.strategies import default_strategy_clearing, default_strategy_setting
from db.viewer import Viewer
from db.writes import Write
from schema.ids import expect_global_id
from schema.inputs import given_value
from schema.metadata import WriteField
from schema.mutations.common import INPUT, STALE, Info, given, id_field, object_field, written


@strawberry.input(description="A condition on one field of the evaluation context.")
class ConstraintInput:
    context_name: str = strawberry.field(
        description="The context field it reads (`userId`, `currentTime`, a property, ...)."
    )
    operator: ConstraintOperator = strawberry.field(description="How it compares.")
    case_insensitive: bool = strawberry.field(
        default=False, description="For the STR_ and IN operators only."
    )
    inverted: bool = strawberry.field(
        default=False, description="The condition holds when the test fails (default false)."
    )
    values: list[str] | None = strawberry.field(
        default=UNSET, description="For IN, NOT_IN and STR_ (any may match)."
    )
    value: str | None = strawberry.field(
        default=UNSET,
        description="For NUM_ (a number), DATE_ (an ISO 8601 date-time with a zone) and "
        "SEMVER_ (a semantic version); `values: [one]` is taken too.",
    )


@strawberry.input(description="What a variant carries to the client.")
class VariantPayloadInput:
    type: PayloadType = strawberry.field(description="What `value` holds.")
    value: str = strawberry.field(description="The payload, as text (checked against `type`).")


@strawberry.input(description="A share of the traffic.")
class VariantInput:
    name: str = strawberry.field(description="Its name, unique in the strategy.")
    weight: int | None = strawberry.field(
        default=UNSET,
        description="0 to 1000: kept for FIX (required), worked out for VARIABLE.",
    )
    weight_type: WeightType = strawberry.field(
        default=WeightType.VARIABLE, description="Whether the weight is fixed (default VARIABLE)."
    )
    stickiness: str = strawberry.field(
        default="default", description="The context field that decides the variant."
    )
    payload: VariantPayloadInput | None = strawberry.field(
        default=UNSET, description="Default: none."
    )


@strawberry.input(description="A rollout strategy, every rule checked on write.")
class RolloutStrategyInput:
    name: str = strawberry.field(description="Its name (e.g. `flexibleRollout`).")
    title: str | None = strawberry.field(
        default=UNSET, description="A title for people (default: none)."
    )
    disabled: bool = strawberry.field(
        default=False, description="A disabled strategy enables nothing (default false)."
    )
    sort_order: int = strawberry.field(
        default=0, description="Its position among strategies (default 0)."
    )
    constraints: list[ConstraintInput] = strawberry.field(
        default_factory=list, description="Conditions that must all hold (default: none)."
    )
    variants: list[VariantInput] = strawberry.field(
        default_factory=list,
        description="How enabled traffic is shared out; FIX weights add up to at most 1000.",
    )
    parameters: JSON | None = strawberry.field(default=UNSET, description="A JSON object.")
    segment_ids: list[strawberry.ID] = strawberry.field(
        default_factory=list, description="Segments of the environment's model."
    )


@strawberry.input(description="The default rollout strategy to give an environment.")
class SetDefaultStrategyInput:
    environment_id: strawberry.ID = id_field("the environment")
    strategy: RolloutStrategyInput = strawberry.field(
        description="The strategy (replaces any other)."
    )
    expected_updated_at: datetime | None = strawberry.field(default=UNSET, description=STALE)


@strawberry.input(description="The environment whose default strategy to remove.")
class ClearDefaultStrategyInput:
    environment_id: strawberry.ID = id_field("the environment")
    expected_updated_at: datetime | None = strawberry.field(default=UNSET, description=STALE)


@strawberry.type(description="What setDefaultStrategy answers.")
class SetDefaultStrategyPayload:
    environment: Any = object_field(ENVIRONMENT)


@strawberry.type(description="What clearDefaultStrategy answers.")
class ClearDefaultStrategyPayload:
    environment: Any = object_field(ENVIRONMENT)


def _variant(input: VariantInput) -> VariantSpec:
    # not given(): it would take the input's `value` for an enum's
    payload = input.payload if given_value(input.payload) else None
    return VariantSpec(
        name=input.name,
        weight=given(input.weight),
        weight_type=input.weight_type.value,
        stickiness=input.stickiness,
        payload_type=None if payload is None else payload.type.value,
        payload_value=None if payload is None else payload.value,
    )


def _spec(input: RolloutStrategyInput) -> StrategySpec:
    return StrategySpec(
        name=input.name,
        title=given(input.title),
        disabled=input.disabled,
        sort_order=input.sort_order,
        constraints=tuple(
            ConstraintSpec(
                context_name=c.context_name,
                operator=c.operator.value,
                case_insensitive=c.case_insensitive,
                inverted=c.inverted,
                values=None if (values := given(c.values)) is None else tuple(values),
                value=given(c.value),
            )
            for c in input.constraints
        ),
        variants=tuple(_variant(v) for v in input.variants),
        parameters=given(input.parameters),
        segment_ids=tuple(
            expect_global_id(s, "Segment", f"strategy.segmentIds[{i}]")
            for i, s in enumerate(input.segment_ids)
        ),
    )


def _setting(input: SetDefaultStrategyInput, viewer: Viewer) -> Write:
    environment_id = expect_global_id(input.environment_id, "Environment", "environmentId")
    return default_strategy_setting(
        viewer, environment_id, _spec(input.strategy), given(input.expected_updated_at)
    )


def _clearing(input: ClearDefaultStrategyInput, viewer: Viewer) -> Write:
    environment_id = expect_global_id(input.environment_id, "Environment", "environmentId")
    return default_strategy_clearing(viewer, environment_id, given(input.expected_updated_at))


@strawberry.type
class StrategyMutations:
    """Writes of environments' default rollout strategies."""

    @strawberry.mutation(
        description="Set an environment's default rollout strategy (replacing any).",
        metadata=WriteField(_setting).meta,
    )
    async def set_default_strategy(
        self, info: Info, input: Annotated[SetDefaultStrategyInput, INPUT]
    ) -> SetDefaultStrategyPayload:
        """Check, store, then answer with the environment."""
        return SetDefaultStrategyPayload(
            environment=await written(info, _setting(input, info.context.authenticated))
        )

    @strawberry.mutation(
        description="Remove an environment's default rollout strategy.",
        metadata=WriteField(_clearing).meta,
    )
    async def clear_default_strategy(
        self, info: Info, input: Annotated[ClearDefaultStrategyInput, INPUT]
    ) -> ClearDefaultStrategyPayload:
        """Clear, then answer with the environment."""
        return ClearDefaultStrategyPayload(
            environment=await written(info, _clearing(input, info.context.authenticated))
        )
