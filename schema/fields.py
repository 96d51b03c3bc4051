"""Generated fields: a strawberry field made from a description, with its type,
arguments and resolver given as values (no forged signatures).

A field that resolves (a parent, a list, a lookup) carries a `Resolve`
extension: strawberry's own extension point, as `strawberry/relay/fields.py`
adds the connection arguments. Its arguments are real `StrawberryArgument`s,
so strawberry converts them as for any resolver, and every field carries its
plan metadata (schema/metadata.py) for the compiled path.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable
from typing import Any

import strawberry
from strawberry import UNSET
from strawberry.annotation import StrawberryAnnotation
from strawberry.extensions.field_extension import FieldExtension, SyncExtensionResolver
from strawberry.types.arguments import StrawberryArgument
from strawberry.types.field import StrawberryField

from schema.metadata import PLAN

Resolver = Callable[..., Awaitable[Any]]


class Resolve(FieldExtension):
    """Resolves the field with `resolver(source, info, **arguments)`, after adding
    `arguments` to it."""

    def __init__(self, resolver: Resolver, arguments: Iterable[StrawberryArgument]) -> None:
        self.resolver = resolver
        self.arguments = list(arguments)

    def apply(self, field: StrawberryField) -> None:
        """Give the field its arguments (strawberry calls this as it builds the schema)."""
        field.arguments = [*field.arguments, *self.arguments]

    def resolve(
        self, next_: SyncExtensionResolver, source: Any, info: strawberry.Info, **kwargs: Any
    ) -> Any:
        """The resolver's awaitable: a field without a resolver function is sync to
        strawberry, and graphql-core awaits what it returns."""
        return self.resolver(source, info, **kwargs)


def argument(
    name: str, annotation: object, description: str | None = None, default: object = UNSET
) -> StrawberryArgument:
    """An optional argument (`name` as in Python: `order_by` is `orderBy`)."""
    return StrawberryArgument(
        python_name=name,
        graphql_name=None,
        type_annotation=StrawberryAnnotation(annotation),
        description=description,
        default=default,
    )


def required_argument(
    name: str, annotation: object, description: str | None = None
) -> StrawberryArgument:
    """An argument without a default (its annotation says whether null is allowed)."""
    return StrawberryArgument(
        python_name=name,
        graphql_name=None,
        type_annotation=StrawberryAnnotation(annotation),
        description=description,
    )


def generated_field(
    graphql_type: object,
    *,
    plan: object,
    description: str | None = None,
    resolver: Resolver | None = None,
    arguments: Iterable[StrawberryArgument] = (),
    name: str | None = None,
) -> StrawberryField:
    """A field of type `graphql_type` planned by `plan`: a plain attribute of the
    object (filled from the row) or, given `resolver`, resolved by it."""
    field = StrawberryField(
        graphql_name=name,
        type_annotation=StrawberryAnnotation(graphql_type),
        description=description,
        metadata={PLAN: plan},
        extensions=[Resolve(resolver, arguments)] if resolver is not None else [],
    )
    if resolver is not None:
        field.init = False  # resolved, never filled from a row
    return field
