"""The Strawberry schema: the single source of truth for the GraphQL shape."""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable, Iterator
from typing import Any, Final

import strawberry
from graphql import GraphQLError
from graphql.validation.rules import overlapping_fields_can_be_merged
from strawberry.extensions import DisableIntrospection, SchemaExtension
from strawberry.schema.config import StrawberryConfig
from strawberry.schema.schema import validate_document
from strawberry.types import ExecutionContext

from db.errors import TooComplex
from schema.documents import MAX_CACHED_CHARS, parsed
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


# graphql-core's rule that fields can merge compares the fields of one response
# name pair by pair, fragments' included, metering that work and aborting the
# validation past a budget. Its default (500,000 units) is up to a second of CPU
# here, while the event loop serves nobody else (tests/gateway/
# test_noisy_neighbour.py). A query that repeats no response name spends
# nothing (the full introspection query, the test corpus); 10,000 units are some
# 10 ms. Set for the process: both executors validate through this rule.
VALIDATION_BUDGET = 10_000
overlapping_fields_can_be_merged.MAX_COMPLEXITY_BUDGET = VALIDATION_BUDGET
# what graphql-core says when the budget runs out (or its recursion would)
_ABORTED = "Validation aborted."
_TOO_COMPLEX = (
    "the query repeats fields of one name too often to be checked "
    f"(comparing them took over {VALIDATION_BUDGET:,} steps)"
)


def _aborted_as_too_complex(errors: list[GraphQLError]) -> list[GraphQLError]:
    return [
        GraphQLError(_TOO_COMPLEX, original_error=TooComplex(_TOO_COMPLEX))
        if e.message == _ABORTED
        else e
        for e in errors
    ]


# validation errors by query text and rules, for texts the document cache keeps:
# keyed by text, not by document, so that no document outlives that cache
_VALIDATIONS: OrderedDict[tuple[str, tuple[Any, ...]], list[GraphQLError]] = OrderedDict()
MAX_VALIDATIONS = 256


class SharedValidation(SchemaExtension):
    """Strawberry's validation step, remembered for small texts (strawberry's own
    cache keeps every document it saw, large ones too)."""

    def on_validate(self) -> Iterator[None]:
        """Validate, or hand strawberry the errors found for this text before."""
        context = self.execution_context
        document, query = context.graphql_document, context.query
        assert document is not None, "strawberry validates parsed documents only"
        rules = tuple(context.validation_rules)
        key = (query or "", rules)
        errors = _VALIDATIONS.get(key)
        if errors is None:
            errors = _aborted_as_too_complex(
                validate_document(context.schema._schema, document, rules)
            )
            if query and len(query) <= MAX_CACHED_CHARS:
                _VALIDATIONS[key] = errors
                if len(_VALIDATIONS) > MAX_VALIDATIONS:
                    _VALIDATIONS.popitem(last=False)
        else:
            _VALIDATIONS.move_to_end(key)
        context.pre_execution_errors = errors
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
        SharedValidation,
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
