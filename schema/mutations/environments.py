"""Environment mutations."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

import strawberry
from strawberry import UNSET

from db.entities import ENVIRONMENT
from db.environments import (
    EnvironmentChanges,
    delete_environment,
    environment_creation,
    environment_update,
    move_environment,
)
from db.viewer import Viewer
from db.writes import Write
from schema.ids import expect_global_id, global_id
from schema.metadata import WriteField
from schema.mutations.common import (
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
from schema.scalars import BigInt, EnvironmentKind, EnvironmentType
from schema.types import object_of

_TYPE = (
    "Its data's role. Default: PRODUCTION when kind is PRODUCTION, else PRE_PRODUCTION; "
    "kind PRODUCTION with type PRE_PRODUCTION is BAD_USER_INPUT."
)
_KIND = "Its deployment stage. Default: PRODUCTION when type is PRODUCTION, else CUSTOM."
_UPDATE_TAXONOMY = (
    " Changing only one of kind and type keeps the other, unless the pair would contradict "
    "(kind PRODUCTION, type PRE_PRODUCTION): then the other follows (type PRODUCTION, or "
    "kind CUSTOM)."
)
_ROW_COUNT = "A whole number from 0 to 2^63-1, as a string of digits or an integer."


@strawberry.input(
    description="A new environment of a model; it goes last (moveEnvironment reorders)."
)
class CreateEnvironmentInput:
    model_id: strawberry.ID = id_field("the model it belongs to")
    name: str = strawberry.field(description="1 to 64 letters, digits, '_' or '-'.")
    type: EnvironmentType | None = strawberry.field(default=UNSET, description=_TYPE)
    kind: EnvironmentKind | None = strawberry.field(default=UNSET, description=_KIND)
    enabled: bool | None = strawberry.field(default=UNSET, description="Default: true.")
    row_count: BigInt | None = strawberry.field(default=UNSET, description=_ROW_COUNT)
    protected: bool | None = strawberry.field(
        default=UNSET, description="Default: false. A protected environment cannot be deleted."
    )


@strawberry.input(
    description="Changes to an environment (fields not given stay as they are)." + _UPDATE_TAXONOMY
)
class UpdateEnvironmentInput:
    id: strawberry.ID = id_field("the environment")
    name: str | None = strawberry.field(
        default=UNSET, description="1 to 64 letters, digits, '_' or '-'."
    )
    type: EnvironmentType | None = column_field(ENVIRONMENT, "type")
    kind: EnvironmentKind | None = column_field(ENVIRONMENT, "kind")
    enabled: bool | None = column_field(ENVIRONMENT, "enabled")
    row_count: BigInt | None = strawberry.field(default=UNSET, description=_ROW_COUNT)
    protected: bool | None = column_field(ENVIRONMENT, "protected")
    expected_updated_at: datetime | None = strawberry.field(
        default=UNSET,
        description=STALE,
    )


@strawberry.input(description="Where to put an environment among its model's environments.")
class MoveEnvironmentInput:
    id: strawberry.ID = id_field("the environment")
    position: int = strawberry.field(
        description="The 0-based position, 0 to n-1 for a model of n environments."
    )


@strawberry.input(description="The environment to delete.")
class DeleteEnvironmentInput:
    id: strawberry.ID = id_field("the environment")


@strawberry.type(description="What createEnvironment answers.")
class CreateEnvironmentPayload:
    environment: Any = object_field(ENVIRONMENT)


@strawberry.type(description="What updateEnvironment answers.")
class UpdateEnvironmentPayload:
    environment: Any = object_field(ENVIRONMENT)


@strawberry.type(description="What moveEnvironment answers.")
class MoveEnvironmentPayload:
    environment: Any = object_field(ENVIRONMENT)


@strawberry.type(description="What deleteEnvironment answers.")
class DeleteEnvironmentPayload:
    deleted_id: strawberry.ID = deleted_id("environment")


def _changes(input: CreateEnvironmentInput | UpdateEnvironmentInput) -> EnvironmentChanges:
    return EnvironmentChanges(
        name=given(input.name),
        type=given(input.type),
        kind=given(input.kind),
        enabled=given(input.enabled),
        row_count=given(input.row_count),
        protected=given(input.protected),
    )


def _creation(input: CreateEnvironmentInput, viewer: Viewer) -> Write:
    model_id = expect_global_id(input.model_id, "Model", "modelId")
    return environment_creation(viewer, model_id, _changes(input))


def _update(input: UpdateEnvironmentInput, viewer: Viewer) -> Write:
    environment_id = expect_global_id(input.id, "Environment")
    return environment_update(
        viewer, environment_id, _changes(input), given(input.expected_updated_at)
    )


@strawberry.type
class EnvironmentMutations:
    """Writes of environments."""

    @strawberry.mutation(
        description="Create an environment (EDITOR or organization ADMIN).",
        metadata=WriteField(_creation).meta,
    )
    async def create_environment(
        self, info: Info, input: Annotated[CreateEnvironmentInput, INPUT]
    ) -> CreateEnvironmentPayload:
        """Create, then answer with the new environment."""
        write = _creation(input, info.context.authenticated)
        return CreateEnvironmentPayload(environment=await written(info, write))

    @strawberry.mutation(description="Change an environment.", metadata=WriteField(_update).meta)
    async def update_environment(
        self, info: Info, input: Annotated[UpdateEnvironmentInput, INPUT]
    ) -> UpdateEnvironmentPayload:
        """Update, then answer with the environment as it is now."""
        write = _update(input, info.context.authenticated)
        return UpdateEnvironmentPayload(environment=await written(info, write))

    @strawberry.mutation(
        description="Move an environment to a 0-based position among its model's "
        "environments; the others are renumbered 0..n-1 around it (EDITOR or organization "
        "ADMIN)."
    )
    async def move_environment(
        self, info: Info, input: Annotated[MoveEnvironmentInput, INPUT]
    ) -> MoveEnvironmentPayload:
        """Move, then answer with the environment at its new position."""
        context = info.context
        environment_id = expect_global_id(input.id, "Environment")
        row = await move_environment(
            context.session, context.authenticated, environment_id, input.position
        )
        context.loaders.forget()
        return MoveEnvironmentPayload(environment=object_of(ENVIRONMENT, row))

    @strawberry.mutation(
        description="Delete an environment (a protected one stays: CONFLICT); the others "
        "close the gap."
    )
    async def delete_environment(
        self, info: Info, input: Annotated[DeleteEnvironmentInput, INPUT]
    ) -> DeleteEnvironmentPayload:
        """Delete, then answer with the deleted id."""
        context = info.context
        environment_id = expect_global_id(input.id, "Environment")
        await delete_environment(context.session, context.authenticated, environment_id)
        context.loaders.forget()
        return DeleteEnvironmentPayload(
            deleted_id=strawberry.ID(global_id("Environment", environment_id))
        )
