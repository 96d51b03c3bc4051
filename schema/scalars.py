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


def describe_values(
    values: type[enum.Enum], descriptions: Mapping[str, str], *, every: bool = True
) -> type[enum.Enum]:
    """Give the values of a GraphQL enum made by `strawberry.enum` their descriptions
    (keyed by member name), for enums whose values are made, not written out (the
    registry's, the order and group fields). `every`: each value must have one."""
    definition = values.__strawberry_definition__  # type: ignore[attr-defined]
    for value in definition.values:
        if value.name in descriptions:
            value.description = descriptions[value.name]
        elif every:
            raise ValueError(f"{definition.name}.{value.name} has no description")
    return values


def _graphql_enum(values: type[enum.Enum]) -> type[enum.Enum]:
    # the enum's docstring is its description (strawberry reads none); the values'
    # are the registry's (VALUE_DESCRIPTIONS): one missing there leaves its value
    # undescribed, which tests/schema/test_schema_lint.py reports
    made = strawberry.enum(values, description=(values.__doc__ or "").strip() or None)
    described = {m.name: VALUE_DESCRIPTIONS[m] for m in values if m in VALUE_DESCRIPTIONS}
    return describe_values(made, described, every=False)


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
