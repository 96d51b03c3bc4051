"""List arguments: `XFilter` and `XOrder` inputs, made from the entity
descriptions, and their translation into the plain filter tree of `db/`.

The inputs are generated, not written out, so that a column added to an
entity description is filterable and orderable with no other change.
"""

from __future__ import annotations

import enum
from datetime import datetime
from typing import Annotated, Any, Optional, cast

import strawberry
from strawberry import UNSET

from db.entities import ENTITIES, Column, Entity, Kind
from db.errors import BadInput
from db.filters import All, AnyOf, Compare, Filter, Not, Related
from db.lists import Order
from schema.ids import parse_global_id
from schema.scalars import AssetType, EnvironmentType


@strawberry.input(description="Conditions on a text field (ANDed).")
class StringFilter:
    eq: str | None = UNSET
    neq: str | None = UNSET
    in_: list[str] | None = strawberry.field(name="in", default=UNSET)
    not_in: list[str] | None = UNSET
    contains: str | None = UNSET
    not_contains: str | None = UNSET
    starts_with: str | None = UNSET
    not_starts_with: str | None = UNSET
    ends_with: str | None = UNSET
    not_ends_with: str | None = UNSET
    is_empty: bool | None = strawberry.field(default=UNSET, description="Equal to ''.")
    is_null: bool | None = UNSET
    case_insensitive: bool = False


@strawberry.input(description="Conditions on a whole-number field (ANDed).")
class IntFilter:
    eq: int | None = UNSET
    neq: int | None = UNSET
    in_: list[int] | None = strawberry.field(name="in", default=UNSET)
    not_in: list[int] | None = UNSET
    lt: int | None = UNSET
    lte: int | None = UNSET
    gt: int | None = UNSET
    gte: int | None = UNSET
    between: list[int] | None = strawberry.field(
        default=UNSET, description="[low, high], inclusive."
    )
    not_between: list[int] | None = UNSET
    is_null: bool | None = UNSET


@strawberry.input(description="Conditions on a date-time field (ANDed).")
class DateTimeFilter:
    eq: datetime | None = UNSET
    neq: datetime | None = UNSET
    in_: list[datetime] | None = strawberry.field(name="in", default=UNSET)
    not_in: list[datetime] | None = UNSET
    lt: datetime | None = UNSET
    lte: datetime | None = UNSET
    gt: datetime | None = UNSET
    gte: datetime | None = UNSET
    between: list[datetime] | None = strawberry.field(
        default=UNSET, description="[low, high], inclusive."
    )
    not_between: list[datetime] | None = UNSET
    is_null: bool | None = UNSET


@strawberry.input(description="Conditions on an id field (ANDed).")
class IDFilter:
    eq: strawberry.ID | None = UNSET
    in_: list[strawberry.ID] | None = strawberry.field(name="in", default=UNSET)
    not_in: list[strawberry.ID] | None = UNSET


@strawberry.input(description="Conditions on a true/false field.")
class BooleanFilter:
    eq: bool | None = UNSET


@strawberry.input(description="Conditions on an environment type (ANDed).")
class EnvironmentTypeFilter:
    eq: EnvironmentType | None = UNSET
    neq: EnvironmentType | None = UNSET
    in_: list[EnvironmentType] | None = strawberry.field(name="in", default=UNSET)
    not_in: list[EnvironmentType] | None = UNSET


@strawberry.input(description="Conditions on an asset type (ANDed).")
class AssetTypeFilter:
    eq: AssetType | None = UNSET
    neq: AssetType | None = UNSET
    in_: list[AssetType] | None = strawberry.field(name="in", default=UNSET)
    not_in: list[AssetType] | None = UNSET


@strawberry.enum
class OrderDirection(enum.Enum):
    """Ascending or descending."""

    ASC = "ASC"
    DESC = "DESC"


_KIND_FILTERS: dict[Kind, type] = {
    Kind.STRING: StringFilter,
    Kind.INT: IntFilter,
    Kind.DATETIME: DateTimeFilter,
    Kind.ID: IDFilter,
    Kind.BOOLEAN: BooleanFilter,
}
_ENUM_FILTERS: dict[str, type] = {"type": EnvironmentTypeFilter, "asset_type": AssetTypeFilter}
# GraphQL operator field (python name) -> db operator
_OPERATORS = {"in_": "in"}
_PASCAL = {e.name: e.name.title() for e in ENTITIES.values()}


def given_value(value: Any) -> bool:
    """Whether an optional argument or input field was given (UNSET and null: not)."""
    return value is not None and value is not UNSET


def _filter_type(column: Column) -> type:
    return _ENUM_FILTERS[column.name] if column.kind is Kind.ENUM else _KIND_FILTERS[column.kind]


def _lazy(name: str) -> Any:
    # generated inputs refer to each other (and to themselves) by name,
    # resolved in this module once all exist
    return Annotated[name, strawberry.lazy("schema.inputs")]


def _make_filter(entity: Entity) -> type:
    name = f"{_PASCAL[entity.name]}Filter"
    annotations: dict[str, Any] = {}
    namespace: dict[str, Any] = {"__module__": __name__}
    for column in entity.columns:
        annotations[column.name] = Optional[_filter_type(column)]  # noqa: UP045 (a runtime value)
        namespace[column.name] = UNSET
    for relation in entity.relations:
        annotations[relation.name] = Optional[_lazy(f"{_PASCAL[relation.target]}Filter")]  # noqa: UP045
        namespace[relation.name] = UNSET
    for python_name, graphql_name in (("and_", "and"), ("or_", "or")):
        annotations[python_name] = Optional[list[_lazy(name)]]  # type: ignore[misc]  # noqa: UP045
        namespace[python_name] = strawberry.field(name=graphql_name, default=UNSET)
    annotations["not_"] = Optional[_lazy(name)]  # noqa: UP045
    namespace["not_"] = strawberry.field(name="not", default=UNSET)
    namespace["__annotations__"] = annotations
    description = f"Which {entity.name}s to keep: every condition given must hold."
    return strawberry.input(type(name, (), namespace), name=name, description=description)


def _make_order(entity: Entity) -> tuple[type, type]:
    name = _PASCAL[entity.name]
    members = {c.name.upper(): c.name for c in entity.columns if c.orderable}
    fields = strawberry.enum(
        cast(type[enum.Enum], enum.Enum(f"{name}OrderField", members)),
        description=f"What {entity.name}s can be ordered by.",
    )
    namespace = {
        "__module__": __name__,
        "__annotations__": {"field": fields, "direction": OrderDirection},
        "direction": OrderDirection.ASC,
    }
    order = strawberry.input(type(f"{name}Order", (), namespace), name=f"{name}Order")
    return order, fields


FILTERS: dict[str, type] = {}
ORDERS: dict[str, type] = {}
for _entity in ENTITIES.values():
    FILTERS[_entity.name] = globals()[f"{_PASCAL[_entity.name]}Filter"] = _make_filter(_entity)
    ORDERS[_entity.name], globals()[f"{_PASCAL[_entity.name]}OrderField"] = _make_order(_entity)
    globals()[f"{_PASCAL[_entity.name]}Order"] = ORDERS[_entity.name]


def to_filter(entity: Entity, given: Any) -> Filter:
    """The db filter tree of a `XFilter` input (its conditions ANDed)."""
    items: list[Filter] = []
    for column in entity.columns:
        condition = getattr(given, column.name)
        if given_value(condition):
            items.extend(_column_conditions(column, condition))
    for relation in entity.relations:
        nested = getattr(given, relation.name)
        if given_value(nested):
            items.append(Related(relation.name, to_filter(ENTITIES[relation.target], nested)))
    if given_value(given.and_):
        items.append(All(tuple(to_filter(entity, item) for item in given.and_)))
    if given_value(given.or_):
        items.append(AnyOf(tuple(to_filter(entity, item) for item in given.or_)))
    if given_value(given.not_):
        items.append(Not(to_filter(entity, given.not_)))
    return items[0] if len(items) == 1 else All(tuple(items))


def _column_conditions(column: Column, condition: Any) -> list[Filter]:
    found: list[Filter] = []
    folded = getattr(condition, "case_insensitive", False)
    for attribute, given in vars(condition).items():
        if not given_value(given) or attribute == "case_insensitive":
            continue
        value: Any = given
        if column.kind is Kind.ID:
            value = _uuids(given, column.name)
        elif isinstance(given, enum.Enum):
            value = given.value
        elif isinstance(given, list):
            value = tuple(v.value if isinstance(v, enum.Enum) else v for v in given)
        op = _OPERATORS.get(attribute, attribute)
        found.append(Compare(column.name, op, value, case_insensitive=folded))
    return found


def _uuids(value: Any, name: str) -> Any:
    if isinstance(value, list):
        return tuple(parse_global_id(v, "filter")[1] for v in value)
    return parse_global_id(value, "filter")[1]


def to_order(entity: Entity, given: list[Any] | None) -> tuple[Order, ...]:
    """The db ordering of an `orderBy` argument."""
    if not given:
        return ()
    if len(given) > 10:
        raise BadInput("orderBy takes at most 10 keys", field="orderBy")
    return tuple(
        Order(item.field.value, descending=item.direction is OrderDirection.DESC) for item in given
    )
