"""A field's arguments as its resolver receives them, converted as Strawberry's
`convert_arguments` converts them, with what does not vary worked out once.

Strawberry resolves every input field's type and GraphQL name again on each
call: about 25 of the 65 microseconds a createSegment's plan took per request
(the compiled writes convert every request's input, schema/planner.py). Most
mutation inputs are flat: each field a scalar or an enum, optional or not.
Strawberry passes such a field's value through as graphql-core coerced it, so
the input is `InputType(**fields)`, by a mapping of names made once per type.
Anything else (lists, nested inputs, `Maybe`, `GlobalID`, a type that builds
itself from its input, an argument that is not an input type) is converted by
Strawberry itself. tests/schema/test_input_conversion.py holds the two equal for
every argument of every field of the schema.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Mapping
from typing import Any

import strawberry
from graphql import GraphQLField
from strawberry.relay import GlobalID
from strawberry.scalars import is_scalar
from strawberry.types.arguments import convert_arguments
from strawberry.types.base import StrawberryMaybe, StrawberryOptional, has_object_definition
from strawberry.types.enum import StrawberryEnumDefinition, has_enum_definition
from strawberry.types.field import StrawberryField
from strawberry.types.unset import UNSET

from schema.metadata import strawberry_field

_Converter = Callable[[Mapping[str, Any]], dict[str, Any]]

# by field definition: made once per field of the process's schemas (kept with
# the definition, so that an id is never reused for another one)
_converters: dict[int, tuple[GraphQLField, _Converter | None]] = {}


def converted(
    schema: strawberry.Schema, definition: GraphQLField, raw: Mapping[str, Any]
) -> dict[str, Any]:
    """The field's arguments `raw` (GraphQL names, as graphql-core coerced them) as
    its resolver receives them (python names)."""
    found = _converters.get(id(definition))
    if found is None or found[0] is not definition:
        found = (definition, _flat_converter(schema, definition))
        _converters[id(definition)] = found
    converter = found[1]
    if converter is not None:
        return converter(raw)
    return convert_arguments(
        dict(raw),
        _field_of(definition).arguments,
        scalar_registry=schema.schema_converter.scalar_registry,
        config=schema.config,
    )


def _flat_converter(schema: strawberry.Schema, definition: GraphQLField) -> _Converter | None:
    """The converter of a field whose arguments are all flat input types, or None."""
    field = _field_of(definition)
    names = schema.config.name_converter
    arguments = []
    for argument in field.arguments:
        build = _flat_input(schema, argument.type)
        if build is None:
            return None
        arguments.append((names.from_argument(argument), argument.python_name, build))

    def convert(raw: Mapping[str, Any]) -> dict[str, Any]:
        return {
            python_name: build(raw[graphql_name])
            for graphql_name, python_name, build in arguments
            if graphql_name in raw
        }

    return convert


def _field_of(definition: GraphQLField) -> StrawberryField:
    field = strawberry_field(definition)
    assert field is not None, "a field with arguments to convert is Strawberry's"
    return field


def _flat_input(schema: strawberry.Schema, type_: Any) -> Callable[[Any], Any] | None:
    """How to build a value of an input type whose fields are all leaves (None:
    Strawberry converts it), as `convert_argument` builds it."""
    if not has_object_definition(type_):
        return None
    definition = type_.__strawberry_definition__
    if not definition.is_input or definition.from_input is not None:
        return None
    names = schema.config.name_converter
    fields = []
    for field in definition.fields:
        if not _is_leaf(schema, field.resolve_type(type_definition=definition)):
            return None
        fields.append((names.from_field(field), field.python_name))
    # as Strawberry does: None for a field given no default, so that an optional
    # field left out of the input is None
    absent = {
        field.python_name: None
        for field in definition.fields
        if field.default_value is dataclasses.MISSING
        and field.default_factory is dataclasses.MISSING
    }

    def build(value: Any) -> Any:
        if value is None or value is UNSET:
            return value
        kwargs = dict(absent)
        for graphql_name, python_name in fields:
            if graphql_name in value:
                kwargs[python_name] = value[graphql_name]
        return type_(**kwargs)

    return build


def _is_leaf(schema: strawberry.Schema, type_: Any) -> bool:
    """A scalar or an enum, optional or not (not `Maybe`, whose values Strawberry
    wraps, nor `GlobalID`, which it parses): a value Strawberry passes through."""
    if isinstance(type_, StrawberryMaybe):
        return False
    if isinstance(type_, StrawberryOptional):
        type_ = type_.of_type
    if type_ is GlobalID:
        return False
    registry = schema.schema_converter.scalar_registry
    return (
        is_scalar(type_, registry)
        or has_enum_definition(type_)
        or isinstance(type_, StrawberryEnumDefinition)
    )
