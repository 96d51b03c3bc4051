"""Mutations, Relay style: one `input`, a payload holding the object."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import strawberry
from strawberry import UNSET

from db.environments import (
    EnvironmentChanges,
    create_environment,
    delete_environment,
    update_environment,
)
from db.segments import (
    SegmentChanges,
    create_segment,
    delete_segment,
    restore_segment,
    update_segment,
)
from schema.context import Context
from schema.ids import expect_global_id, global_id
from schema.inputs import given_value
from schema.scalars import EnvironmentType
from schema.types import Environment, Segment, from_row

Info = strawberry.Info[Context, None]


def _given(value: Any) -> Any:
    """None for an input field that was not given (or given as null)."""
    if not given_value(value):
        return None
    return value.value if isinstance(value, EnvironmentType) else value


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
        description="The updatedAt last read: refused (CONFLICT) if it changed since.",
    )


@strawberry.input
class DeleteEnvironmentInput:
    id: strawberry.ID


@strawberry.type
class CreateEnvironmentPayload:
    environment: Environment


@strawberry.type
class UpdateEnvironmentPayload:
    environment: Environment


@strawberry.type
class DeleteEnvironmentPayload:
    deleted_id: strawberry.ID


@strawberry.input(description="A new segment of a model.")
class CreateSegmentInput:
    model_id: strawberry.ID
    name: str
    description: str | None = UNSET
    definition: str = strawberry.field(description="A filter expression, e.g. `age >= 18`.")


@strawberry.input(description="Changes to a segment (fields not given stay as they are).")
class UpdateSegmentInput:
    id: strawberry.ID
    name: str | None = UNSET
    description: str | None = UNSET
    definition: str | None = UNSET
    expected_updated_at: datetime | None = strawberry.field(
        default=UNSET, description="The updatedAt last read; CONFLICT if it has changed since."
    )


@strawberry.input
class SegmentIdInput:
    id: strawberry.ID


@strawberry.type
class CreateSegmentPayload:
    segment: Segment


@strawberry.type
class UpdateSegmentPayload:
    segment: Segment


@strawberry.type
class DeleteSegmentPayload:
    deleted_id: strawberry.ID


@strawberry.type
class RestoreSegmentPayload:
    segment: Segment


def _segment_changes(given: CreateSegmentInput | UpdateSegmentInput) -> SegmentChanges:
    return SegmentChanges(
        name=_given(given.name),
        description=_given(given.description),
        definition=_given(given.definition),
    )


def _changes(given: CreateEnvironmentInput | UpdateEnvironmentInput) -> EnvironmentChanges:
    return EnvironmentChanges(
        name=_given(given.name),
        type=_given(given.type),
        row_count=_given(given.row_count),
        sort_order=_given(given.sort_order),
        protected=_given(given.protected),
    )


@strawberry.type
class Mutation:
    """Writes: each one transaction, all or nothing."""

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
        return CreateEnvironmentPayload(environment=from_row(Environment, row))

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
            _given(input.expected_updated_at),
        )
        context.loaders.forget()
        return UpdateEnvironmentPayload(environment=from_row(Environment, row))

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

    @strawberry.mutation(description="Create a segment (the caller is its createdBy).")
    async def create_segment(self, info: Info, input: CreateSegmentInput) -> CreateSegmentPayload:
        """Create, then answer with the new segment."""
        context = info.context
        model_id = expect_global_id(input.model_id, "Model", "modelId")
        row = await create_segment(
            context.session, context.authenticated, model_id, _segment_changes(input)
        )
        context.loaders.forget()
        return CreateSegmentPayload(segment=from_row(Segment, row))

    @strawberry.mutation(description="Change a segment (the caller becomes its updatedBy).")
    async def update_segment(self, info: Info, input: UpdateSegmentInput) -> UpdateSegmentPayload:
        """Update, then answer with the segment as it is now."""
        context = info.context
        segment_id = expect_global_id(input.id, "Segment")
        row = await update_segment(
            context.session,
            context.authenticated,
            segment_id,
            _segment_changes(input),
            _given(input.expected_updated_at),
        )
        context.loaders.forget()
        return UpdateSegmentPayload(segment=from_row(Segment, row))

    @strawberry.mutation(description="Delete a segment: hidden everywhere, restorable.")
    async def delete_segment(self, info: Info, input: SegmentIdInput) -> DeleteSegmentPayload:
        """Soft-delete, then answer with the id."""
        context = info.context
        segment_id = expect_global_id(input.id, "Segment")
        await delete_segment(context.session, context.authenticated, segment_id)
        context.loaders.forget()
        return DeleteSegmentPayload(deleted_id=strawberry.ID(global_id("Segment", segment_id)))

    @strawberry.mutation(
        description="Bring a deleted segment back (CONFLICT if its name is taken)."
    )
    async def restore_segment(self, info: Info, input: SegmentIdInput) -> RestoreSegmentPayload:
        """Restore, then answer with the segment."""
        context = info.context
        segment_id = expect_global_id(input.id, "Segment")
        row = await restore_segment(context.session, context.authenticated, segment_id)
        context.loaders.forget()
        return RestoreSegmentPayload(segment=from_row(Segment, row))
