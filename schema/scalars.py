"""Enums of the graph: the registry's Python enums (their values are the
database's), made GraphQL enums once, here, so every module that names one
names the same type."""

from __future__ import annotations

import dataclasses
import enum
import uuid
from collections.abc import Mapping
from typing import NewType

import strawberry
from strawberry.schema.types.base_scalars import UUIDDefinition
from strawberry.types.scalar import ScalarDefinition

from db.entities import ENTITIES, VALUE_DESCRIPTIONS, AssetType, EnvironmentKind, EnvironmentType


def describe_values(values: type[enum.Enum], descriptions: Mapping[str, str]) -> type[enum.Enum]:
    """Give each value of a GraphQL enum made by `strawberry.enum` its description
    (keyed by member name), for enums whose values are made, not written out (the
    registry's, the order and group fields): every value must have one."""
    definition = values.__strawberry_definition__  # type: ignore[attr-defined]
    for value in definition.values:
        member = values[value.name]
        if member.name not in descriptions:
            raise ValueError(f"{definition.name}.{member.name} has no description")
        value.description = descriptions[member.name]
    return values


def _graphql_enum(values: type[enum.Enum]) -> type[enum.Enum]:
    # the docstring is the description, as for every hand-written type; the values'
    # descriptions are the registry's (VALUE_DESCRIPTIONS)
    made = strawberry.enum(values, description=(values.__doc__ or "").strip() or None)
    described = {m.name: VALUE_DESCRIPTIONS[m] for m in values if m in VALUE_DESCRIPTIONS}
    return describe_values(made, described)


ENUMS: tuple[type[enum.Enum], ...] = tuple(
    _graphql_enum(values)
    for values in dict.fromkeys(
        column.enum for entity in ENTITIES.values() for column in entity.columns if column.enum
    )
)

__all__ = ["ENUMS", "SCALAR_MAP", "AssetType", "BigInt", "EnvironmentKind", "EnvironmentType"]


def _parse_bigint(value: object) -> int:
    """A BigInt as clients send it: a JSON string of digits or an integer.

    Whole numbers of any size pass here: the 64-bit range is checked where the
    value is used (a filter, a write), which names the input field at fault
    (BAD_USER_INPUT with `extensions.field`); a scalar's own error cannot."""
    if isinstance(value, bool) or not isinstance(value, (int, str)):
        raise ValueError("BigInt takes an integer or a string of digits")
    if isinstance(value, str):
        text = value.strip()
        if not text.lstrip("-").isdigit() or not text.isascii():
            raise ValueError(f"BigInt cannot represent {value!r}")
        value = int(text)
    return value


# the Python type of BigInt values; the schema maps it to its scalar (SCALAR_MAP)
BigInt = NewType("BigInt", int)
SCALAR_MAP: dict[object, ScalarDefinition] = {
    # strawberry's own UUID scalar, described
    uuid.UUID: dataclasses.replace(
        UUIDDefinition,
        description="A UUID in its canonical text form "
        "(`123e4567-e89b-12d3-a456-426614174000`): the id the REST APIs and the command line use.",
    ),
    BigInt: strawberry.scalar(
        name="BigInt",
        description="A whole number beyond 32 bits, as a JSON string of digits "
        "(accepted as a string or an integer).",
        serialize=str,
        parse_value=_parse_bigint,
    ),
}
