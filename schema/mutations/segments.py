"""Segment mutations."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

import strawberry
from strawberry import UNSET

from db.entities import SEGMENT
from db.segments import (
    SegmentChanges,
    segment_creation,
    segment_deletion,
    segment_restoration,
    segment_update,
)
from db.viewer import Viewer
from db.writes import Write
from schema.ids import expect_global_id, global_id
from schema.metadata import WriteField
from schema.mutations.common import (
    DISPLAY_NAME,
    INPUT,
    STALE,
    Info,
    column_field,
    deleted_id,
    given,
    id_field,
    object_field,
    written,
)


@strawberry.input(description="A new segment of a model.")
class CreateSegmentInput:
    model_id: strawberry.ID = id_field("the model it belongs to")
    name: str = strawberry.field(
        description=DISPLAY_NAME + " Unique among the model's live segments."
    )
    description: str | None = strawberry.field(
        default=UNSET, description="What the segment is for (default: empty)."
    )
    definition: str = strawberry.field(description="A filter expression, e.g. `age >= 18`.")


@strawberry.input(description="Changes to a segment (fields not given stay as they are).")
class UpdateSegmentInput:
    id: strawberry.ID = id_field("the segment")
    name: str | None = strawberry.field(default=UNSET, description=DISPLAY_NAME)
    description: str | None = column_field(SEGMENT, "description")
    definition: str | None = column_field(SEGMENT, "definition")
    expected_updated_at: datetime | None = strawberry.field(default=UNSET, description=STALE)


@strawberry.input(description="The segment to delete or restore.")
class SegmentIdInput:
    id: strawberry.ID = id_field("the segment")


@strawberry.type(description="What createSegment answers.")
class CreateSegmentPayload:
    segment: Any = object_field(SEGMENT)


@strawberry.type(description="What updateSegment answers.")
class UpdateSegmentPayload:
    segment: Any = object_field(SEGMENT)


@strawberry.type(description="What deleteSegment answers.")
class DeleteSegmentPayload:
    deleted_id: strawberry.ID = deleted_id("segment")


@strawberry.type(description="What restoreSegment answers.")
class RestoreSegmentPayload:
    segment: Any = object_field(SEGMENT)


def _changes(input: CreateSegmentInput | UpdateSegmentInput) -> SegmentChanges:
    return SegmentChanges(
        name=given(input.name),
        description=given(input.description),
        definition=given(input.definition),
    )


def _creation(input: CreateSegmentInput, viewer: Viewer) -> Write:
    model_id = expect_global_id(input.model_id, "Model", "modelId")
    return segment_creation(viewer, model_id, _changes(input))


def _update(input: UpdateSegmentInput, viewer: Viewer) -> Write:
    segment_id = expect_global_id(input.id, "Segment")
    return segment_update(viewer, segment_id, _changes(input), given(input.expected_updated_at))


def _restoration(input: SegmentIdInput, viewer: Viewer) -> Write:
    return segment_restoration(viewer, expect_global_id(input.id, "Segment"))


@strawberry.type
class SegmentMutations:
    """Writes of segments."""

    @strawberry.mutation(
        description="Create a segment (the caller is its createdBy).",
        metadata=WriteField(_creation).meta,
    )
    async def create_segment(
        self, info: Info, input: Annotated[CreateSegmentInput, INPUT]
    ) -> CreateSegmentPayload:
        """Create, then answer with the new segment."""
        return CreateSegmentPayload(
            segment=await written(info, _creation(input, info.context.authenticated))
        )

    @strawberry.mutation(
        description="Change a segment (the caller becomes its updatedBy).",
        metadata=WriteField(_update).meta,
    )
    async def update_segment(
        self, info: Info, input: Annotated[UpdateSegmentInput, INPUT]
    ) -> UpdateSegmentPayload:
        """Update, then answer with the segment as it is now."""
        return UpdateSegmentPayload(
            segment=await written(info, _update(input, info.context.authenticated))
        )

    @strawberry.mutation(description="Delete a segment: hidden everywhere, restorable.")
    async def delete_segment(
        self, info: Info, input: Annotated[SegmentIdInput, INPUT]
    ) -> DeleteSegmentPayload:
        """Soft-delete, then answer with the id."""
        context = info.context
        segment_id = expect_global_id(input.id, "Segment")
        await segment_deletion(context.authenticated, segment_id).row(context.session)
        context.loaders.forget()
        return DeleteSegmentPayload(deleted_id=strawberry.ID(global_id("Segment", segment_id)))

    @strawberry.mutation(
        description="Bring a deleted segment back (CONFLICT if its name is taken).",
        metadata=WriteField(_restoration).meta,
    )
    async def restore_segment(
        self, info: Info, input: Annotated[SegmentIdInput, INPUT]
    ) -> RestoreSegmentPayload:
        """Restore, then answer with the segment."""
        return RestoreSegmentPayload(
            segment=await written(info, _restoration(input, info.context.authenticated))
        )
