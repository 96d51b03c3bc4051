"""The Strawberry schema: the single source of truth for the GraphQL shape."""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterator
from typing import Final

import strawberry
from graphql import GraphQLError, NoSchemaIntrospectionCustomRule, specified_rules
from strawberry.extensions import DisableIntrospection, SchemaExtension
from strawberry.schema.config import StrawberryConfig
from strawberry.types import ExecutionContext

from schema.documents import parsed
from schema.errors import classify_errors
from schema.mutations import Mutation
from schema.query import Query
from schema.scalars import SCALAR_MAP
from schema.types import TYPES, User
from schema.validation import Rules, validation_errors

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


class SharedValidation(SchemaExtension):
    """Strawberry's validation step served from the request's one validation
    (schema/validation.py): the view has validated already, off the event loop
    when the document is large."""

    def on_validate(self) -> Iterator[None]:
        """Hand strawberry the errors found for this document (it then skips its own)."""
        context = self.execution_context
        document = context.graphql_document
        assert document is not None, "strawberry validates parsed documents only"
        context.pre_execution_errors = validation_errors(
            context.schema._schema, context.query, document, tuple(context.validation_rules)
        )
        yield


class GatewaySchema(strawberry.federation.Schema):
    """A schema whose errors all carry a code and the request id."""

    # the rules strawberry's validation step will use (its defaults, and
    # DisableIntrospection's when introspection is off), for the view to
    # validate with before execution, once
    validation_rules: Rules = tuple(specified_rules)

    def process_errors(
        self, errors: list[GraphQLError], execution_context: ExecutionContext | None = None
    ) -> None:
        """Classify errors in place (strawberry calls this once per phase)."""
        classify_errors(errors, execution_context)


@functools.cache
def build_schema(*, introspection: bool = True) -> GatewaySchema:
    """The schema, with introspection on or off: built once per process and value
    (it is most of an app's start, and nothing changes it once built; the tests
    make hundreds of apps)."""
    # Factories, not instances: strawberry makes one extension per request; the
    # caches live at module level, shared by all requests.
    extensions: list[Callable[[], SchemaExtension]] = [
        SharedParse,
        SharedValidation,
    ]
    if not introspection:
        extensions.append(DisableIntrospection)
    # every node type, also those reached only through `node`
    types = [*TYPES.values(), User]
    schema = GatewaySchema(
        query=Query,
        mutation=Mutation,
        types=types,
        extensions=extensions,
        federation_version=FEDERATION_VERSION,
        config=StrawberryConfig(scalar_map=SCALAR_MAP),
    )
    if not introspection:
        schema.validation_rules = (*specified_rules, NoSchemaIntrospectionCustomRule)
    return schema
