"""List arguments: `XFilter` and `XOrder` inputs, made from the entity
descriptions, and their translation into the plain filter tree of `db/`.

The inputs are generated, not written out, so that a column added to an
entity description is filterable and orderable with no other change.
"""

from __future__ import annotations

import enum
from datetime import datetime
from typing import Any, Optional, cast
from uuid import UUID

import strawberry
from strawberry import UNSET
from strawberry.scalars import JSON

from db.entities import ENTITIES, USER, Column, Entity, Kind, snake
from db.errors import BadInput
from db.filters import All, AnyOf, Compare, Filter, Not, PropertyTest, Related
from db.lists import Deleted, Order
from schema.ids import parse_global_id
from schema.scalars import ENUMS, BigInt


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


def _input(name: str, annotations: dict[str, Any], description: str | None, **fields: Any) -> type:
    namespace = {"__module__": __name__, "__annotations__": annotations, **fields}
    return strawberry.input(type(name, (), namespace), name=name, description=description)


def _ordered_filter(name: str, value: Any, description: str) -> type:
    """`<Kind>Filter` of a kind whose values are ordered (Int, BigInt, DateTime): the
    same operators for each, so one shape made three times."""
    one, many = Optional[value], Optional[list[value]]  # noqa: UP045 (runtime values)
    operators = ("eq", "neq", "in_", "not_in", "lt", "lte", "gt", "gte", "between", "not_between")
    annotations: dict[str, Any] = {op: many if op in _LISTS else one for op in operators}
    annotations["is_null"] = Optional[bool]  # noqa: UP045
    defaults: dict[str, Any] = dict.fromkeys(annotations, UNSET)
    defaults["in_"] = strawberry.field(name="in", default=UNSET)
    defaults["between"] = strawberry.field(default=UNSET, description="[low, high], inclusive.")
    return _input(name, annotations, description, **defaults)


_LISTS = frozenset({"in_", "not_in", "between", "not_between"})
IntFilter = _ordered_filter("IntFilter", int, "Conditions on a whole-number field (ANDed).")
DateTimeFilter = _ordered_filter(
    "DateTimeFilter", datetime, "Conditions on a date-time field (ANDed)."
)
BigIntFilter = _ordered_filter("BigIntFilter", BigInt, "Conditions on a BigInt field (ANDed).")


@strawberry.input(description="Conditions on an id field (ANDed).")
class IDFilter:
    eq: strawberry.ID | None = UNSET
    in_: list[strawberry.ID] | None = strawberry.field(name="in", default=UNSET)
    not_in: list[strawberry.ID] | None = UNSET


@strawberry.input(description="Conditions on a true/false field.")
class BooleanFilter:
    eq: bool | None = UNSET


@strawberry.input(description="Conditions on a uuid (the REST APIs' id) field (ANDed).")
class UUIDFilter:
    eq: UUID | None = UNSET
    in_: list[UUID] | None = strawberry.field(name="in", default=UNSET)
    not_in: list[UUID] | None = UNSET


@strawberry.enum
class PropertyOperator(enum.Enum):
    """How a property filter compares: typed (numbers as numbers, strings as strings);
    the negations match events without the key."""

    EQ = "EQ"
    NEQ = "NEQ"
    IN = "IN"
    NOT_IN = "NOT_IN"
    CONTAINS = "CONTAINS"
    NOT_CONTAINS = "NOT_CONTAINS"
    GT = "GT"
    GTE = "GTE"
    LT = "LT"
    LTE = "LTE"
    IS_SET = "IS_SET"
    IS_NOT_SET = "IS_NOT_SET"


@strawberry.input(description="A condition on one key of a JSON object (an event's properties).")
class PropertyFilter:
    key: str
    operator: PropertyOperator
    value: JSON | None = strawberry.field(
        default=UNSET,
        description="The value compared with (a list for IN and NOT_IN; none for IS_SET).",
    )


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
    Kind.BIGINT: BigIntFilter,
    Kind.UUID: UUIDFilter,
}
# the Python type of a value of each kind, as arguments take it
KIND_TYPES: dict[Kind, Any] = {
    Kind.STRING: str,
    Kind.INT: int,
    Kind.DATETIME: datetime,
    Kind.ID: strawberry.ID,
    Kind.BOOLEAN: bool,
    Kind.BIGINT: BigInt,
    Kind.UUID: UUID,
    Kind.JSON: JSON,
}
# GraphQL operator field (python name) -> db operator
_OPERATORS = {"in_": "in"}


def given_value(value: Any) -> bool:
    """Whether an optional argument or input field was given (UNSET and null: not)."""
    return value is not None and value is not UNSET


def _enum_filter(values: type[enum.Enum]) -> type:
    """`<Enum>Filter`: equality conditions on an enum column."""
    name = values.__name__
    words = snake(name).replace("_", " ")
    article = "an" if words[0] in "aeiou" else "a"
    one, many = Optional[values], Optional[list[values]]  # type: ignore[valid-type]  # noqa: UP045
    return _input(
        f"{name}Filter",
        {"eq": one, "neq": one, "in_": many, "not_in": many},
        f"Conditions on {article} {words} (ANDed).",
        eq=UNSET,
        neq=UNSET,
        in_=strawberry.field(name="in", default=UNSET),
        not_in=UNSET,
    )


ENUM_FILTERS: dict[type[enum.Enum], type] = {values: _enum_filter(values) for values in ENUMS}


def _filter_type(column: Column) -> type:
    return ENUM_FILTERS[column.enum] if column.enum is not None else _KIND_FILTERS[column.kind]


def _fill_filter(cls: type, entity: Entity, filters: dict[str, type]) -> type:
    """Give the (not yet decorated) `<Entity>Filter` its fields, then decorate it: the
    filters refer to each other and to themselves, so all exist before any is filled."""
    annotations: dict[str, Any] = {"uuid": Optional[UUIDFilter]}  # noqa: UP045 (a runtime value)
    cls.uuid = UNSET  # type: ignore[attr-defined]
    for column in entity.columns:
        if column.kind is Kind.JSON:  # conditions on its keys
            annotations[column.name] = Optional[list[PropertyFilter]]  # noqa: UP045
        else:
            annotations[column.name] = Optional[_filter_type(column)]  # noqa: UP045
        setattr(cls, column.name, UNSET)
        if column.masked:
            description = "Compared as the caller sees it: null where it is hidden from them."
            setattr(cls, column.name, strawberry.field(default=UNSET, description=description))
    # every parent, direct or reached through others (`organization`), and every
    # user the row names (`createdBy`)
    for parent in entity.parents:
        annotations[parent] = Optional[filters[entity.parent(parent).name]]  # noqa: UP045
        setattr(cls, parent, UNSET)
    for ref in entity.user_refs:
        annotations[ref.name] = Optional[filters[USER.name]]  # noqa: UP045
        setattr(cls, ref.name, UNSET)
    for python_name, graphql_name in (("and_", "and"), ("or_", "or")):
        annotations[python_name] = Optional[list[cls]]  # type: ignore[valid-type]  # noqa: UP045
        setattr(cls, python_name, strawberry.field(name=graphql_name, default=UNSET))
    annotations["not_"] = Optional[cls]  # noqa: UP045
    cls.not_ = strawberry.field(name="not", default=UNSET)  # type: ignore[attr-defined]
    cls.__annotations__ = annotations
    description = (
        f"Which {entity.name.replace('_', ' ')}s to keep: every condition given must hold."
    )
    return strawberry.input(cls, name=cls.__name__, description=description)


def _make_order(entity: Entity) -> type:
    name = entity.type_name
    members = {c.name.upper(): c.name for c in entity.orderable}
    # a parent's name (`PROJECT_NAME`), as db/lists.py names a parent's column
    members.update({f"{p.upper()}_NAME": f"{p}.name" for p in entity.name_ordered_parents})
    fields = strawberry.enum(
        cast(type[enum.Enum], enum.Enum(f"{name}OrderField", members)),
        description=f"What {entity.name.replace('_', ' ')}s can be ordered by.",
    )
    return _input(
        f"{name}Order",
        {"field": fields, "direction": OrderDirection},
        None,
        direction=OrderDirection.ASC,
    )


# the entities' filters, and the users' (`createdBy: UserFilter`)
_FILTERED = (*ENTITIES.values(), USER)
FILTERS: dict[str, type] = {
    e.name: type(f"{e.type_name}Filter", (), {"__module__": __name__}) for e in _FILTERED
}
for _entity in _FILTERED:
    _fill_filter(FILTERS[_entity.name], _entity, FILTERS)
DeletedFilter = strawberry.enum(
    Deleted,
    name="DeletedFilter",
    description="Which rows a list of soft-deleted things holds: the live ones (EXCLUDE), "
    "all (INCLUDE) or the deleted ones (ONLY).",
)
ORDERS: dict[str, type] = {e.name: _make_order(e) for e in ENTITIES.values()}


def to_filter(entity: Entity, given: Any) -> Filter:
    """The db filter tree of a `XFilter` input (its conditions ANDed)."""
    items: list[Filter] = []
    if given_value(given.uuid):
        items.extend(_column_conditions(entity.column("id"), given.uuid, global_ids=False))
    for column in entity.columns:
        condition = getattr(given, column.name)
        if not given_value(condition):
            continue
        if column.kind is Kind.JSON:
            items.extend(_property_test(column, test) for test in condition)
        else:
            items.extend(_column_conditions(column, condition))
    for parent in entity.parents:
        nested = getattr(given, parent)
        if given_value(nested):
            items.append(Related(parent, to_filter(entity.parent(parent), nested)))
    for ref in entity.user_refs:
        nested = getattr(given, ref.name)
        if given_value(nested):
            items.append(Related(ref.name, to_filter(USER, nested)))
    if given_value(given.and_):
        items.append(All(tuple(to_filter(entity, item) for item in given.and_)))
    if given_value(given.or_):
        items.append(AnyOf(tuple(to_filter(entity, item) for item in given.or_)))
    if given_value(given.not_):
        items.append(Not(to_filter(entity, given.not_)))
    return items[0] if len(items) == 1 else All(tuple(items))


def _property_test(column: Column, test: Any) -> PropertyTest:
    operator = test.operator.value
    if test.value is UNSET and operator not in ("IS_SET", "IS_NOT_SET"):
        raise BadInput(f"{column.public}: {operator} takes a value", field="filter")
    value = None if test.value is UNSET else test.value
    return PropertyTest(column.name, test.key, operator, value)


def _column_conditions(column: Column, condition: Any, *, global_ids: bool = True) -> list[Filter]:
    """`global_ids`: the id column's values come as global ids (`id`), not uuids (`uuid`)."""
    found: list[Filter] = []
    folded = getattr(condition, "case_insensitive", False)
    for attribute, given in vars(condition).items():
        if not given_value(given) or attribute == "case_insensitive":
            continue
        value: Any = given
        if column.kind is Kind.ID and global_ids:
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
