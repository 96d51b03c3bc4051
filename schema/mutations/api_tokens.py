"""API token mutations: a token makes a narrower one, or revokes one of its user's."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

import strawberry
from strawberry import UNSET

from db.api_tokens import create_api_token, revoke_api_token
from db.entities import API_TOKEN
from db.tokens import REVOCATION_HEARD_S
from schema.ids import expect_global_id
from schema.mutations.common import INPUT, Info, given, id_field, object_field
from schema.types import object_of


@strawberry.input(description="A new API token of the caller's user, no wider than the caller's.")
class CreateApiTokenInput:
    name: str = strawberry.field(description="What the token is for.")
    scopes: list[str] = strawberry.field(
        description="Within the calling token's scopes (`*` only from a `*` token)."
    )
    project_ids: list[strawberry.ID] | None = strawberry.field(
        default=UNSET,
        description="Restrict it to these projects (null: every project its user sees; a "
        "token restricted itself must name some of its own).",
    )
    expires_at: datetime | None = strawberry.field(
        default=UNSET,
        description="Null: never (a token that expires itself must set one, by its own).",
    )


@strawberry.input(description="The token to revoke.")
class ApiTokenIdInput:
    id: strawberry.ID = id_field("the token")


@strawberry.type(description="What createApiToken answers.")
class CreateApiTokenPayload:
    api_token: Any = object_field(API_TOKEN)
    token: str = strawberry.field(
        description="The token itself: shown this once, only its hash is stored."
    )


@strawberry.type(description="What revokeApiToken answers.")
class RevokeApiTokenPayload:
    api_token: Any = object_field(API_TOKEN)


@strawberry.type
class ApiTokenMutations:
    """Writes of API tokens."""

    @strawberry.mutation(description="Make an API token (its secret is in the answer, once).")
    async def create_api_token(
        self, info: Info, input: Annotated[CreateApiTokenInput, INPUT]
    ) -> CreateApiTokenPayload:
        """Create, then answer with the token and its secret."""
        context = info.context
        project_ids = given(input.project_ids)
        issued = await create_api_token(
            context.session,
            context.authenticated,
            name=input.name,
            scopes=input.scopes,
            project_ids=None
            if project_ids is None
            else [expect_global_id(i, "Project", "projectIds") for i in project_ids],
            expires_at=given(input.expires_at),
        )
        context.loaders.forget()
        return CreateApiTokenPayload(api_token=object_of(API_TOKEN, issued.row), token=issued.token)

    @strawberry.mutation(
        description="Revoke one of the caller's tokens: refused at once, on every server."
    )
    async def revoke_api_token(
        self, info: Info, input: Annotated[ApiTokenIdInput, INPUT]
    ) -> RevokeApiTokenPayload:
        """Revoke, then answer with the token as it is now."""
        context = info.context
        token_id = expect_global_id(input.id, "ApiToken")
        tokens = context.tokens
        row = await revoke_api_token(context.session, context.authenticated, token_id)
        if tokens is not None and tokens.listening:
            # answered once every process has heard it: the caller's next request
            # is refused on whichever process or instance it reaches
            await tokens.heard_everywhere(context.session, REVOCATION_HEARD_S)
        context.loaders.forget()
        return RevokeApiTokenPayload(api_token=object_of(API_TOKEN, row))
