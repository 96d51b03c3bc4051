"""Evaluation mutations: create and update (every field, `deleted: true | false`).
There is no hard delete: `updateEvaluation(deleted: true)` hides an evaluation
and `deleted: false` brings it back."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

import strawberry
from strawberry import UNSET

from db.entities import EVALUATION
from db.evaluations import EvaluationChanges, create_evaluation, update_evaluation
from schema.evaluations import PropertyConditionInput, conditions_of
from schema.ids import expect_global_id
from schema.mutations.common import INPUT, STALE, Info, given, object_field
from schema.types import object_of

_CONDITIONS = (
    "What an event must hold to match, all of them: checked on write (BAD_USER_INPUT "
    "naming `conditions[i].value`, `.operator` or `.key`)."
)


@strawberry.input(description="A new evaluation of an environment.")
class CreateEvaluationInput:
    environment_id: strawberry.ID = strawberry.field(description="The environment it evaluates.")
    name: str = strawberry.field(
        description="1 to 200 characters, unique among the environment's live evaluations."
    )
    description: str | None = strawberry.field(default=UNSET, description="Default: empty.")
    enabled: bool | None = strawberry.field(default=UNSET, description="Default: true.")
    prompt: str | None = strawberry.field(default=UNSET, description="Default: empty.")
    conditions: list[PropertyConditionInput] | None = strawberry.field(
        default=UNSET, description=f"{_CONDITIONS} Default: none (every event matches)."
    )


@strawberry.input(description="Changes to an evaluation (fields not given stay as they are).")
class UpdateEvaluationInput:
    id: strawberry.ID = strawberry.field(description="The evaluation to change.")
    name: str | None = strawberry.field(default=UNSET, description="A new name.")
    description: str | None = strawberry.field(default=UNSET, description="A new description.")
    enabled: bool | None = strawberry.field(default=UNSET, description="Turn it on or off.")
    prompt: str | None = strawberry.field(default=UNSET, description="A new prompt.")
    conditions: list[PropertyConditionInput] | None = strawberry.field(
        default=UNSET, description=f"New conditions, replacing all of them. {_CONDITIONS}"
    )
    deleted: bool | None = strawberry.field(
        default=UNSET,
        description="true hides the evaluation (nothing is lost), false brings it back "
        "(CONFLICT if a live evaluation of the environment has taken its name).",
    )
    expected_updated_at: datetime | None = strawberry.field(default=UNSET, description=STALE)


@strawberry.type(description="The evaluation created.")
class CreateEvaluationPayload:
    evaluation: Any = object_field(EVALUATION)


@strawberry.type(description="The evaluation as it is now.")
class UpdateEvaluationPayload:
    evaluation: Any = object_field(EVALUATION)


def _changes(input: CreateEvaluationInput | UpdateEvaluationInput) -> EvaluationChanges:
    conditions = given(input.conditions)
    return EvaluationChanges(
        name=given(input.name),
        description=given(input.description),
        enabled=given(input.enabled),
        prompt=given(input.prompt),
        conditions=None if conditions is None else conditions_of(conditions),
    )


@strawberry.type
class EvaluationMutations:
    """Writes of evaluations (no hard delete)."""

    @strawberry.mutation(description="Create an evaluation (the caller is its createdBy).")
    async def create_evaluation(
        self, info: Info, input: Annotated[CreateEvaluationInput, INPUT]
    ) -> CreateEvaluationPayload:
        """Create, then answer with the new evaluation."""
        context = info.context
        environment_id = expect_global_id(input.environment_id, "Environment", "environmentId")
        row = await create_evaluation(
            context.session, context.authenticated, environment_id, _changes(input)
        )
        context.loaders.forget()
        return CreateEvaluationPayload(evaluation=object_of(EVALUATION, row))

    @strawberry.mutation(
        description="Change an evaluation, hide it (`deleted: true`) or bring it back "
        "(`deleted: false`); the caller becomes its updatedBy."
    )
    async def update_evaluation(
        self, info: Info, input: Annotated[UpdateEvaluationInput, INPUT]
    ) -> UpdateEvaluationPayload:
        """Update, then answer with the evaluation as it is now."""
        context = info.context
        evaluation_id = expect_global_id(input.id, "Evaluation")
        deleted = input.deleted if isinstance(input.deleted, bool) else None
        row = await update_evaluation(
            context.session,
            context.authenticated,
            evaluation_id,
            _changes(input),
            deleted=deleted,
            expected_updated_at=given(input.expected_updated_at),
        )
        context.loaders.forget()
        return UpdateEvaluationPayload(evaluation=object_of(EVALUATION, row))
