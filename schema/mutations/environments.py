"""Environment mutations."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import strawberry
from strawberry import UNSET

from db.entities import ENVIRONMENT
from db.environments import (
    EnvironmentChanges,
    create_environment,
    delete_environment,
    update_environment,
)
from schema.ids import expect_global_id, global_id
from schema.mutations.common import STALE, Info, given, object_field
from schema.scalars import EnvironmentType
from schema.types import object_of


@strawberry.input(description="A new environment of a model.")
class CreateEnvironmentInput:
    model_id: strawberry.ID
    name: str = strawberry.field(description="1 to 64 letters, digits, '_' or '-'.")
    type: EnvironmentType
    row_count: int | None = UNSET
    sort_order: int | None = strawberry.field(default=UNSET, description="Default: after the last.")
    protected: bool | None = UNSET


@strawberry.input(description="Changes to an environment (fields not given stay as they are).")
class UpdateEnvironmentInput:
    id: strawberry.ID
    name: str | None = UNSET
    type: EnvironmentType | None = UNSET
    row_count: int | None = UNSET
    sort_order: int | None = UNSET
    protected: bool | None = UNSET
    expected_updated_at: datetime | None = strawberry.field(
        default=UNSET,
        description=STALE,
    )


@strawberry.input
class DeleteEnvironmentInput:
    id: strawberry.ID


@strawberry.type
class CreateEnvironmentPayload:
    environment: Any = object_field(ENVIRONMENT)


@strawberry.type
class UpdateEnvironmentPayload:
    environment: Any = object_field(ENVIRONMENT)


@strawberry.type
class DeleteEnvironmentPayload:
    deleted_id: strawberry.ID


def _changes(input: CreateEnvironmentInput | UpdateEnvironmentInput) -> EnvironmentChanges:
    return EnvironmentChanges(
        name=given(input.name),
        type=given(input.type),
        row_count=given(input.row_count),
        sort_order=given(input.sort_order),
        protected=given(input.protected),
    )


@strawberry.type
class EnvironmentMutations:
    """Writes of environments."""

    @strawberry.mutation(description="Create an environment (EDITOR or organization ADMIN).")
    async def create_environment(
        self, info: Info, input: CreateEnvironmentInput
    ) -> CreateEnvironmentPayload:
        """Create, then answer with the new environment."""
        context = info.context
        model_id = expect_global_id(input.model_id, "Model", "modelId")
        row = await create_environment(
            context.session, context.authenticated, model_id, _changes(input)
        )
        context.loaders.forget()
        return CreateEnvironmentPayload(environment=object_of(ENVIRONMENT, row))

    @strawberry.mutation(description="Change an environment.")
    async def update_environment(
        self, info: Info, input: UpdateEnvironmentInput
    ) -> UpdateEnvironmentPayload:
        """Update, then answer with the environment as it is now."""
        context = info.context
        environment_id = expect_global_id(input.id, "Environment")
        row = await update_environment(
            context.session,
            context.authenticated,
            environment_id,
            _changes(input),
            given(input.expected_updated_at),
        )
        context.loaders.forget()
        return UpdateEnvironmentPayload(environment=object_of(ENVIRONMENT, row))

    @strawberry.mutation(description="Delete an environment (a protected one stays: CONFLICT).")
    async def delete_environment(
        self, info: Info, input: DeleteEnvironmentInput
    ) -> DeleteEnvironmentPayload:
        """Delete, then answer with the deleted id."""
        context = info.context
        environment_id = expect_global_id(input.id, "Environment")
        await delete_environment(context.session, context.authenticated, environment_id)
        context.loaders.forget()
        return DeleteEnvironmentPayload(
            deleted_id=strawberry.ID(global_id("Environment", environment_id))
        )
