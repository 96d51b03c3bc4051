"""The Strawberry schema: the single source of truth for the GraphQL shape."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Final

import strawberry
from graphql import GraphQLError
from strawberry.extensions import (
    DisableIntrospection,
    SchemaExtension,
    ValidationCache,
)
from strawberry.schema.config import StrawberryConfig
from strawberry.types import ExecutionContext

from schema.documents import parsed
from schema.errors import classify_errors
from schema.mutations import Mutation
from schema.query import Query
from schema.scalars import SCALAR_MAP
from schema.types import TYPES, User

# Federation 2 at a version that Apollo's composition and The Guild's both accept
FEDERATION_VERSION: Final = "2.5"


class SharedParse(SchemaExtension):
    """Strawberry's parse step served from the one cache of parsed documents; a text
    that does not parse is left to strawberry, which reports the syntax error."""

    def on_parse(self) -> Iterator[None]:
        """Hand strawberry the cached document (it then skips its own parse)."""
        context = self.execution_context
        if context.query and not context.parse_options:
            document = parsed(context.query)
            if document is not None:
                context.graphql_document = document
        yield


class GatewaySchema(strawberry.federation.Schema):
    """A schema whose errors all carry a code and the request id."""

    def process_errors(
        self, errors: list[GraphQLError], execution_context: ExecutionContext | None = None
    ) -> None:
        """Classify errors in place (strawberry calls this once per phase)."""
        classify_errors(errors, execution_context)


def build_schema(*, introspection: bool = True) -> GatewaySchema:
    """The schema, with introspection on or off."""
    # Factories, not instances: strawberry makes one extension per request; the
    # caches live at module level, shared by all requests.
    extensions: list[Callable[[], SchemaExtension]] = [
        SharedParse,
        lambda: ValidationCache(maxsize=256),
    ]
    if not introspection:
        extensions.append(DisableIntrospection)
    # every node type, also those reached only through `node`
    types = [*TYPES.values(), User]
    return GatewaySchema(
        query=Query,
        mutation=Mutation,
        types=types,
        extensions=extensions,
        federation_version=FEDERATION_VERSION,
        config=StrawberryConfig(scalar_map=SCALAR_MAP),
    )
