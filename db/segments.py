"""Writes of segments: create, update, soft delete, restore (one statement each).

`createdBy` / `updatedBy` are the caller. Deleting only hides a segment (and
frees its name); restoring brings it back, unless its name was taken since.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import datetime
from uuid import UUID

from db.binder import Binder
from db.entities import MODEL, SEGMENT
from db.errors import BadInput
from db.names import check_display_name
from db.viewer import Viewer, require_scope
from db.writes import (
    Write,
    deletion_mark,
    entity_update,
    insertion_under,
)

SCOPE = "segment:write"


@dataclass(frozen=True, slots=True)
class SegmentChanges:
    """Fields to set; None leaves a field as it is."""

    name: str | None = None
    description: str | None = None
    definition: str | None = None


def check_definition(text: str) -> None:
    """A definition is non-empty, with balanced parentheses and closed quotes (the
    full expression check comes with the expression language)."""
    if not text.strip():
        raise BadInput("a definition cannot be empty", field="definition")
    if len(text) > 10_000:
        raise BadInput("a definition has at most 10000 characters", field="definition")
    depth, quote = 0, ""
    for char in text:
        if quote:
            quote = "" if char == quote else quote
        elif char in "'\"":
            quote = char
        elif char == "(":
            depth += 1
        elif char == ")":
            depth -= 1
            if depth < 0:
                break
    if depth != 0 or quote:
        raise BadInput("the definition has unbalanced parentheses or quotes", field="definition")


def _check(changes: SegmentChanges) -> None:
    check_display_name(changes.name, "name")
    if changes.description is not None and len(changes.description) > 4000:
        raise BadInput("a description has at most 4000 characters", field="description")
    if changes.definition is not None:
        check_definition(changes.definition)


def segment_creation(viewer: Viewer, model_id: UUID, changes: SegmentChanges) -> Write:
    """A new segment of a model, created by the caller."""
    require_scope(viewer, SCOPE)
    for value, field in ((changes.name, "name"), (changes.definition, "definition")):
        if value is None:
            raise BadInput(f"{field} is required", field=field)
    _check(changes)

    def insert(bind: Binder) -> str:
        user = bind(viewer.user_id)
        return (
            "INSERT INTO segments (model_id, project_id, name, description, definition, "
            f"created_by, updated_by) SELECT p.id, p.project_id, {bind(changes.name)}, "
            f"{bind(changes.description or '')}, {bind(changes.definition)}, {user}, {user} "
            "FROM _parent p WHERE p._writer RETURNING *"
        )

    return insertion_under(viewer, SEGMENT, MODEL, model_id, field="modelId", insert=insert)


def segment_update(
    viewer: Viewer,
    segment_id: UUID,
    changes: SegmentChanges,
    expected_updated_at: datetime | None = None,
) -> Write:
    """Change a segment (the caller becomes its `updatedBy`)."""
    _check(changes)
    return entity_update(
        viewer,
        SEGMENT,
        segment_id,
        changes={**asdict(changes), "updated_by": viewer.user_id},
        expected_updated_at=expected_updated_at,
    )


def segment_deletion(viewer: Viewer, segment_id: UUID) -> Write:
    """Hide a segment (restorable; nothing is lost)."""
    return deletion_mark(viewer, SEGMENT, segment_id, deleted=True)


def segment_restoration(viewer: Viewer, segment_id: UUID) -> Write:
    """Bring a deleted segment back; CONFLICT when a live one has taken its name."""
    return deletion_mark(viewer, SEGMENT, segment_id, deleted=False)
