"""Secret mutations. A value travels only inward: the payload's `value` is
the field's own resolver, with its own checks (schema/secrets.py)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

import strawberry
from strawberry import UNSET

from db.entities import SECRET
from db.secrets import SecretChanges, create_secret, secret_removal, update_secret
from schema.ids import expect_global_id, global_id
from schema.mutations.common import (
    INPUT,
    STALE,
    Info,
    column_field,
    deleted_id,
    given,
    id_field,
    object_field,
)
from schema.types import object_of

_KEY = "1 to 64 letters, digits, '_' or '-'; unique in the environment."
_VALUE = "Stored encrypted; at most 65,536 bytes (UTF-8)."


@strawberry.input(description="A new secret of an environment.")
class CreateSecretInput:
    environment_id: strawberry.ID = id_field("the environment it belongs to")
    key: str = strawberry.field(description=_KEY)
    value: str = strawberry.field(description=_VALUE)
    comment: str | None = strawberry.field(default=UNSET, description="Default: empty.")


@strawberry.input(
    description="Changes to a secret (fields not given stay as they are; the version is "
    "bumped in any case)."
)
class UpdateSecretInput:
    id: strawberry.ID = id_field("the secret")
    key: str | None = strawberry.field(default=UNSET, description=_KEY)
    value: str | None = strawberry.field(default=UNSET, description=_VALUE)
    comment: str | None = column_field(SECRET, "comment")
    expected_updated_at: datetime | None = strawberry.field(default=UNSET, description=STALE)


@strawberry.input(description="The secret to delete.")
class SecretIdInput:
    id: strawberry.ID = id_field("the secret")


@strawberry.type(description="What createSecret answers.")
class CreateSecretPayload:
    secret: Any = object_field(SECRET)


@strawberry.type(description="What updateSecret answers.")
class UpdateSecretPayload:
    secret: Any = object_field(SECRET)


@strawberry.type(description="What deleteSecret answers.")
class DeleteSecretPayload:
    deleted_id: strawberry.ID = deleted_id("secret")


def _changes(input: CreateSecretInput | UpdateSecretInput) -> SecretChanges:
    return SecretChanges(
        key=given(input.key), value=given(input.value), comment=given(input.comment)
    )


@strawberry.type
class SecretMutations:
    """Writes of secrets (scope `secret:write`, an EDITOR or organization ADMIN)."""

    @strawberry.mutation(description="Create a secret (version 1; the caller is its createdBy).")
    async def create_secret(
        self, info: Info, input: Annotated[CreateSecretInput, INPUT]
    ) -> CreateSecretPayload:
        """Create, then answer with the new secret."""
        context = info.context
        environment_id = expect_global_id(input.environment_id, "Environment", "environmentId")
        row = await create_secret(
            context.session,
            context.authenticated,
            environment_id,
            _changes(input),
            box=context.secrets,
        )
        context.loaders.forget()
        return CreateSecretPayload(secret=object_of(SECRET, row))

    @strawberry.mutation(description="Change a secret; its version goes up by one.")
    async def update_secret(
        self, info: Info, input: Annotated[UpdateSecretInput, INPUT]
    ) -> UpdateSecretPayload:
        """Update, then answer with the secret as it is now."""
        context = info.context
        secret_id = expect_global_id(input.id, "Secret")
        row = await update_secret(
            context.session,
            context.authenticated,
            secret_id,
            _changes(input),
            box=context.secrets,
            expected_updated_at=given(input.expected_updated_at),
        )
        context.loaders.forget()
        return UpdateSecretPayload(secret=object_of(SECRET, row))

    @strawberry.mutation(description="Delete a secret, for good.")
    async def delete_secret(
        self, info: Info, input: Annotated[SecretIdInput, INPUT]
    ) -> DeleteSecretPayload:
        """Delete, then answer with the id."""
        context = info.context
        secret_id = expect_global_id(input.id, "Secret")
        await secret_removal(context.authenticated, secret_id).row(context.session)
        context.loaders.forget()
        return DeleteSecretPayload(deleted_id=strawberry.ID(global_id("Secret", secret_id)))
