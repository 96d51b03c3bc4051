"""Enums of the graph: the registry's Python enums (their values are the
database's), made GraphQL enums once, here, so every module that names one
names the same type."""

from __future__ import annotations

import enum

import strawberry

from db.entities import ENTITIES, AssetType, EnvironmentType


def _graphql_enum(values: type[enum.Enum]) -> type[enum.Enum]:
    # the docstring is the description, as for every hand-written type
    return strawberry.enum(values, description=(values.__doc__ or "").strip() or None)


ENUMS: tuple[type[enum.Enum], ...] = tuple(
    _graphql_enum(values)
    for values in dict.fromkeys(
        column.enum for entity in ENTITIES.values() for column in entity.columns if column.enum
    )
)

__all__ = ["ENUMS", "AssetType", "EnvironmentType"]
