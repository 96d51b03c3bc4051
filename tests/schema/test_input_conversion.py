"""schema/input_conversion.py converts every field's arguments as Strawberry's own
`convert_arguments` does: here for every argument of every field of the schema,
with every input field given, none given, and every one null."""

from __future__ import annotations

import dataclasses
from typing import Any

from graphql import GraphQLField, GraphQLInputObjectType, GraphQLObjectType, get_named_type
from strawberry.types.arguments import convert_arguments

from schema.input_conversion import converted
from schema.metadata import strawberry_field
from schema.schema import build_schema


def _fields() -> list[tuple[str, GraphQLField]]:
    schema = build_schema()._schema
    return [
        (f"{type_.name}.{name}", field)
        for type_ in schema.type_map.values()
        if isinstance(type_, GraphQLObjectType) and not type_.name.startswith("__")
        for name, field in type_.fields.items()
        if field.args and strawberry_field(field) is not None
    ]


def _raw_values(field: GraphQLField) -> list[dict[str, Any]]:
    """Arguments as graphql-core hands them over: each input object's fields all
    given (a distinct object each: a leaf is passed through as it is), none
    given, or all null."""
    given: dict[str, Any] = {}
    empty: dict[str, Any] = {}
    nulls: dict[str, Any] = {}
    for name, argument in field.args.items():
        named = get_named_type(argument.type)
        if isinstance(named, GraphQLInputObjectType):
            given[name] = {f: object() for f in named.fields}
            empty[name] = {}
            nulls[name] = dict.fromkeys(named.fields)
        else:
            given[name] = empty[name] = nulls[name] = object()
    return [given, empty, nulls, {}]


def _plain(value: Any) -> Any:
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return (type(value), {f.name: getattr(value, f.name) for f in dataclasses.fields(value)})
    return value


def test_arguments_convert_as_strawberry_converts_them() -> None:
    schema = build_schema()
    flat = []
    for name, field in _fields():
        made_of = strawberry_field(field)
        assert made_of is not None
        for raw in _raw_values(field):
            try:
                expected = convert_arguments(
                    dict(raw),
                    made_of.arguments,
                    scalar_registry=schema.schema_converter.scalar_registry,
                    config=schema.config,
                )
            except Exception:  # a stand-in value Strawberry would not take
                continue
            found = converted(schema, field, raw)
            assert {k: _plain(v) for k, v in found.items()} == {
                k: _plain(v) for k, v in expected.items()
            }, (name, raw)
        if made_of.arguments and _is_flat(schema, field):
            flat.append(name)
    # the writes the compiled path plans per request take the short way
    assert {"Mutation.createSegment", "Mutation.updateSegment", "Mutation.createModel"} <= set(
        flat
    ), flat


def _is_flat(schema: Any, field: GraphQLField) -> bool:
    from schema import input_conversion

    converted(schema, field, {})
    return input_conversion._converters[id(field)][1] is not None
