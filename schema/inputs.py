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
from schema.scalars import ENUMS, BigInt, describe_values

# what each operator of the `<Kind>Filter` inputs keeps, written once for all of them
OPERATOR_DESCRIPTIONS = {
    "eq": "Equal to this value.",
    "neq": "Not equal to this value (a null field is kept).",
    "in_": "Equal to one of these values.",
    "not_in": "Equal to none of these values (a null field is kept).",
    "contains": "Contains this text.",
    "not_contains": "Does not contain this text (a null field is not kept).",
    "starts_with": "Starts with this text.",
    "not_starts_with": "Does not start with this text (a null field is not kept).",
    "ends_with": "Ends with this text.",
    "not_ends_with": "Does not end with this text (a null field is not kept).",
    "is_empty": "True: equal to the empty string; false: not empty.",
    "is_null": "True: null; false: set.",
    "case_insensitive": "Compare text ignoring case, in every operator of this filter "
    "(default false).",
    "lt": "Less than this value.",
    "lte": "Less than or equal to this value.",
    "gt": "Greater than this value.",
    "gte": "Greater than or equal to this value.",
    "between": "Within [low, high], both inclusive: a list of two values.",
    "not_between": "Outside [low, high]: a list of two values (a null field is kept).",
}


def operator(name: str, default: Any = UNSET) -> Any:
    """An operator field of a `<Kind>Filter`, with its one description."""
    graphql_name = "in" if name == "in_" else None
    return strawberry.field(
        name=graphql_name, default=default, description=OPERATOR_DESCRIPTIONS[name]
    )


@strawberry.input(description="Conditions on a text field (ANDed).")
class StringFilter:
    eq: str | None = operator("eq")
    neq: str | None = operator("neq")
    in_: list[str] | None = operator("in_")
    not_in: list[str] | None = operator("not_in")
    contains: str | None = operator("contains")
    not_contains: str | None = operator("not_contains")
    starts_with: str | None = operator("starts_with")
    not_starts_with: str | None = operator("not_starts_with")
    ends_with: str | None = operator("ends_with")
    not_ends_with: str | None = operator("not_ends_with")
    is_empty: bool | None = operator("is_empty")
    is_null: bool | None = operator("is_null")
    case_insensitive: bool = operator("case_insensitive", False)


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
    defaults: dict[str, Any] = {op: operator(op) for op in annotations}
    return _input(name, annotations, description, **defaults)


_LISTS = frozenset({"in_", "not_in", "between", "not_between"})
IntFilter = _ordered_filter("IntFilter", int, "Conditions on a whole-number field (ANDed).")
DateTimeFilter = _ordered_filter(
    "DateTimeFilter", datetime, "Conditions on a date-time field (ANDed)."
)
BigIntFilter = _ordered_filter("BigIntFilter", BigInt, "Conditions on a BigInt field (ANDed).")


@strawberry.input(description="Conditions on an id field (ANDed).")
class IDFilter:
    eq: strawberry.ID | None = operator("eq")
    in_: list[strawberry.ID] | None = operator("in_")
    not_in: list[strawberry.ID] | None = operator("not_in")


@strawberry.input(description="Conditions on a true/false field.")
class BooleanFilter:
    eq: bool | None = operator("eq")


@strawberry.input(description="Conditions on a uuid (the REST APIs' id) field (ANDed).")
class UUIDFilter:
    eq: UUID | None = operator("eq")
    in_: list[UUID] | None = operator("in_")
    not_in: list[UUID] | None = operator("not_in")


@strawberry.enum(
    description="How a property filter compares: typed (numbers as numbers, strings as "
    "strings); the negations match events without the key."
)
class PropertyOperator(enum.Enum):
    """How a property filter compares (the schema's description above)."""

    EQ = strawberry.enum_value("EQ", description="Equal to the value.")
    NEQ = strawberry.enum_value("NEQ", description="Not equal to the value (or no such key).")
    IN = strawberry.enum_value("IN", description="Equal to one of the values (a list).")
    NOT_IN = strawberry.enum_value(
        "NOT_IN", description="Equal to none of the values (a list), or no such key."
    )
    CONTAINS = strawberry.enum_value(
        "CONTAINS", description="A string containing the value (a string)."
    )
    NOT_CONTAINS = strawberry.enum_value(
        "NOT_CONTAINS", description="Not a string containing the value, or no such key."
    )
    GT = strawberry.enum_value("GT", description="Greater than the value.")
    GTE = strawberry.enum_value("GTE", description="Greater than or equal to the value.")
    LT = strawberry.enum_value("LT", description="Less than the value.")
    LTE = strawberry.enum_value("LTE", description="Less than or equal to the value.")
    IS_SET = strawberry.enum_value("IS_SET", description="The key is present (no value).")
    IS_NOT_SET = strawberry.enum_value("IS_NOT_SET", description="The key is absent (no value).")


@strawberry.input(description="A condition on one key of a JSON object (an event's properties).")
class PropertyFilter:
    key: str = strawberry.field(description="The key, at the top level of the object.")
    operator: PropertyOperator = strawberry.field(description="How the key's value is compared.")
    value: JSON | None = strawberry.field(
        default=UNSET,
        description="The value compared with (a list for IN and NOT_IN; none for IS_SET).",
    )


@strawberry.enum(description="Ascending or descending.")
class OrderDirection(enum.Enum):
    """Ascending or descending."""

    ASC = strawberry.enum_value("ASC", description="Smallest, earliest or A first; nulls last.")
    DESC = strawberry.enum_value("DESC", description="Greatest, latest or Z first; nulls first.")


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
    annotations = {"eq": one, "neq": one, "in_": many, "not_in": many}
    return _input(
        f"{name}Filter",
        annotations,
        f"Conditions on {article} {words} (ANDed).",
        **{op: operator(op) for op in annotations},
    )


ENUM_FILTERS: dict[type[enum.Enum], type] = {values: _enum_filter(values) for values in ENUMS}


def _filter_type(column: Column) -> type:
    return ENUM_FILTERS[column.enum] if column.enum is not None else _KIND_FILTERS[column.kind]


def _fill_filter(cls: type, entity: Entity, filters: dict[str, type]) -> type:
    """Give the (not yet decorated) `<Entity>Filter` its fields, then decorate it: the
    filters refer to each other and to themselves, so all exist before any is filled."""
    annotations: dict[str, Any] = {"uuid": Optional[UUIDFilter]}  # noqa: UP045 (a runtime value)
    cls.uuid = _described("Conditions on its `uuid`.")  # type: ignore[attr-defined]
    for column in entity.columns:
        if column.kind is Kind.JSON:  # conditions on its keys
            annotations[column.name] = Optional[list[PropertyFilter]]  # noqa: UP045
        else:
            annotations[column.name] = Optional[_filter_type(column)]  # noqa: UP045
        setattr(cls, column.name, _described(column_filter_description(column)))
    # every parent, direct or reached through others (`organization`), and every
    # user the row names (`createdBy`)
    for parent in entity.parents:
        target = entity.parent(parent)
        annotations[parent] = Optional[filters[target.name]]  # noqa: UP045
        description = (
            f"Conditions on its {parent} (`{target.type_name}`); needs scope {target.scope}:read."
        )
        setattr(cls, parent, _described(description))
    for ref in entity.user_refs:
        annotations[ref.name] = Optional[filters[USER.name]]  # noqa: UP045
        setattr(cls, ref.name, _described(f"Conditions on `{ref.name}`: {ref.description}"))
    for python_name, graphql_name, description in (
        ("and_", "and", "Every one of these filters holds."),
        ("or_", "or", "At least one of these filters holds."),
    ):
        annotations[python_name] = Optional[list[cls]]  # type: ignore[valid-type]  # noqa: UP045
        setattr(cls, python_name, _described(description, graphql_name))
    annotations["not_"] = Optional[cls]  # noqa: UP045
    cls.not_ = _described("This filter does not hold.", "not")  # type: ignore[attr-defined]
    cls.__annotations__ = annotations
    description = (
        f"Which {entity.name.replace('_', ' ')}s to keep: every condition given must hold."
    )
    return strawberry.input(cls, name=cls.__name__, description=description)


def _described(description: str, name: str | None = None) -> Any:
    """An optional input field (UNSET when not given) and its description."""
    return strawberry.field(name=name, default=UNSET, description=description)


def _sentence(text: str | None) -> str:
    return "" if text is None else f" {text}"


def column_filter_description(column: Column) -> str:
    """The description of a column's field in its entity's `<Type>Filter`: what the
    conditions apply to, then the column's own description."""
    if column.kind is Kind.ID:
        return "Conditions on its global `id`."
    if column.kind is Kind.JSON:
        found = f"Conditions on keys of `{column.public}`, all of which must hold."
        return found + _sentence(column.description)
    found = f"Conditions on `{column.public}`.{_sentence(column.description)}"
    if column.masked:
        found += " Compared as the caller sees it: null where it is hidden from them."
    return found


def _make_order(entity: Entity) -> type:
    name = entity.type_name
    members = {c.name.upper(): c.name for c in entity.orderable}
    descriptions = {
        c.name.upper(): f"By `{c.public}`.{_sentence(c.description)}" for c in entity.orderable
    }
    # a parent's name (`PROJECT_NAME`), as db/lists.py names a parent's column
    for parent in entity.name_ordered_parents:
        members[f"{parent.upper()}_NAME"] = f"{parent}.name"
        descriptions[f"{parent.upper()}_NAME"] = f"By its {parent}'s name."
    fields = strawberry.enum(
        cast(type[enum.Enum], enum.Enum(f"{name}OrderField", members)),
        description=f"What {entity.name.replace('_', ' ')}s can be ordered by.",
    )
    describe_values(fields, descriptions)
    return _input(
        f"{name}Order",
        {"field": fields, "direction": OrderDirection},
        f"One key of a list's order of {entity.name.replace('_', ' ')}s (the id breaks ties).",
        field=strawberry.field(description="What to order by."),
        direction=strawberry.field(
            default=OrderDirection.ASC, description="Which way (default ASC)."
        ),
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
describe_values(
    DeletedFilter,
    {
        "EXCLUDE": "Only rows that are not deleted (the default).",
        "INCLUDE": "Deleted rows and the others.",
        "ONLY": "Only deleted rows.",
    },
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
