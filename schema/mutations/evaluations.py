"""Evaluation mutations: create and update (every field, `deleted: true | false`).
There is no hard delete: `updateEvaluation(deleted: true)` hides an evaluation
and `deleted: false` brings it back."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

import strawberry
from strawberry import UNSET

from db.entities import EVALUATION
from db.evaluations import EvaluationChanges, evaluation_creation, evaluation_update
from db.viewer import Viewer
from db.writes import Write
from schema.evaluations import PropertyConditionInput, conditions_of
from schema.ids import expect_global_id
from schema.metadata import WriteField
from schema.mutations.common import INPUT, STALE, Info, given, object_field, written

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


def _creation(input: CreateEvaluationInput, viewer: Viewer) -> Write:
    environment_id = expect_global_id(input.environment_id, "Environment", "environmentId")
    return evaluation_creation(viewer, environment_id, _changes(input))


def _update(input: UpdateEvaluationInput, viewer: Viewer) -> Write:
    return evaluation_update(
        viewer,
        expect_global_id(input.id, "Evaluation"),
        _changes(input),
        deleted=input.deleted if isinstance(input.deleted, bool) else None,
        expected_updated_at=given(input.expected_updated_at),
    )


@strawberry.type
class EvaluationMutations:
    """Writes of evaluations (no hard delete)."""

    @strawberry.mutation(
        description="Create an evaluation (the caller is its createdBy).",
        metadata=WriteField(_creation).meta,
    )
    async def create_evaluation(
        self, info: Info, input: Annotated[CreateEvaluationInput, INPUT]
    ) -> CreateEvaluationPayload:
        """Create, then answer with the new evaluation."""
        return CreateEvaluationPayload(
            evaluation=await written(info, _creation(input, info.context.authenticated))
        )

    @strawberry.mutation(
        description="Change an evaluation, hide it (`deleted: true`) or bring it back "
        "(`deleted: false`); the caller becomes its updatedBy.",
        metadata=WriteField(_update).meta,
    )
    async def update_evaluation(
        self, info: Info, input: Annotated[UpdateEvaluationInput, INPUT]
    ) -> UpdateEvaluationPayload:
        """Update, then answer with the evaluation as it is now."""
        return UpdateEvaluationPayload(
            evaluation=await written(info, _update(input, info.context.authenticated))
        )
