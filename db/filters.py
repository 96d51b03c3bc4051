"""Filters as a plain tree, turned into one SQL predicate.

The tree is what `schema/` builds from a `XFilter` input (the resolvers and the
planner, schema/planner.py, build it the same way: a planned list carries it
into the one statement of db/json_reads.py); `where()` is the only place that
writes its SQL.
Values are bound, columns come from the entity descriptions, and every value
is checked against its operator before any SQL runs, so bad input is a
`BadInput` naming the field, never a database error.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from uuid import UUID

from db.binder import Binder, like_pattern
from db.entities import USER, Column, Entity, Kind, camel, snake
from db.errors import BadInput
from db.identifiers import ident, qualified
from db.parents import parent_hops, parent_in
from db.properties import PropertyTest, property_sql
from db.viewer import Viewer
from db.visibility import masked_shown


@dataclass(frozen=True, slots=True)
class Compare:
    """`column <op> value`."""

    column: str
    op: str
    value: Any
    case_insensitive: bool = False


@dataclass(frozen=True, slots=True)
class All:
    """Every item holds (an empty list holds)."""

    items: tuple[Filter, ...]


@dataclass(frozen=True, slots=True)
class AnyOf:
    """At least one item holds (an empty list does not)."""

    items: tuple[Filter, ...]


@dataclass(frozen=True, slots=True)
class Not:
    """The item does not hold."""

    item: Filter


@dataclass(frozen=True, slots=True)
class Related:
    """The parent called `relation` (a relation, one reached through others, or a
    user reference such as `createdBy`) matches `filter`."""

    relation: str
    filter: Filter


Filter = Compare | All | AnyOf | Not | Related | PropertyTest

__all__ = ["All", "AnyOf", "Compare", "Filter", "Not", "PropertyTest", "Related", "like_pattern"]

# (pattern around the value, negated)
_PATTERNS = {
    "contains": ("%{}%", False),
    "not_contains": ("%{}%", True),
    "starts_with": ("{}%", False),
    "not_starts_with": ("{}%", True),
    "ends_with": ("%{}", False),
    "not_ends_with": ("%{}", True),
}
_ORDERED = {"eq", "neq", "in", "not_in", "lt", "lte", "gt", "gte", "between", "not_between"}
OPERATORS: dict[Kind, frozenset[str]] = {
    Kind.STRING: frozenset({"eq", "neq", "in", "not_in", "is_empty", "is_null", *_PATTERNS}),
    Kind.INT: frozenset(_ORDERED | {"is_null"}),
    Kind.DATETIME: frozenset(_ORDERED | {"is_null"}),
    Kind.ID: frozenset({"eq", "in", "not_in"}),
    Kind.ENUM: frozenset({"eq", "neq", "in", "not_in"}),
    Kind.BOOLEAN: frozenset({"eq"}),
    Kind.BIGINT: frozenset(_ORDERED | {"is_null"}),
    Kind.UUID: frozenset({"eq", "in", "not_in"}),
    Kind.JSON: frozenset(),  # filtered by PropertyTest only
}
_PYTHON_TYPES: dict[Kind, type | tuple[type, ...]] = {
    Kind.STRING: str,
    Kind.INT: int,
    Kind.DATETIME: datetime,
    Kind.ID: UUID,
    Kind.ENUM: str,
    Kind.BOOLEAN: bool,
    Kind.BIGINT: int,
    Kind.UUID: UUID,
}
_COMPARISONS = {"eq": "=", "lt": "<", "lte": "<=", "gt": ">", "gte": ">="}
_INT_RANGE = (-(2**63), 2**63 - 1)


def where(entity: Entity, alias: str, node: Filter, viewer: Viewer, bind: Binder) -> str:
    """The SQL predicate for `node` on rows of `entity` named `alias`."""
    if isinstance(node, Compare):
        return _compare(entity, alias, node, viewer, bind)
    if isinstance(node, All):
        parts = [where(entity, alias, item, viewer, bind) for item in node.items]
        return "(" + " AND ".join(parts) + ")" if parts else "TRUE"
    if isinstance(node, AnyOf):
        parts = [where(entity, alias, item, viewer, bind) for item in node.items]
        return "(" + " OR ".join(parts) + ")" if parts else "FALSE"
    if isinstance(node, Not):
        return f"NOT {where(entity, alias, node.item, viewer, bind)}"
    if isinstance(node, PropertyTest):
        if entity.column_kind(node.column) is not Kind.JSON:
            raise BadInput(f"{entity.name} has no properties {node.column!r}", field="filter")
        return property_sql(alias, node, bind)
    return _related(entity, alias, node, viewer, bind)


def _related(entity: Entity, alias: str, node: Related, viewer: Viewer, bind: Binder) -> str:
    try:
        ref = entity.user_ref(node.relation)
    except KeyError:
        ref = None
    if ref is not None:
        inner = f"{alias}_{snake(ref.name)}"
        # a user is read as part of the row naming them (the field needs no scope
        # of its own, nor does this); what the viewer may not see of them (the
        # e-mail) the filter reads as NULL, as the field shows it (_compare)
        return (
            f"{qualified(alias, ref.column)} IN (SELECT {qualified(inner, 'id')} "
            f"FROM {ident(USER.table)} {inner} "
            f"WHERE {where(USER, inner, node.filter, viewer, bind)})"
        )
    hops = parent_hops(entity, node.relation, viewer, field="filter")

    def condition(target: Entity, inner: str) -> str:
        return where(target, inner, node.filter, viewer, bind)

    return parent_in(alias, hops, condition, viewer, bind)


def _compare(entity: Entity, alias: str, node: Compare, viewer: Viewer, bind: Binder) -> str:
    try:
        column = entity.column(node.column)
    except KeyError:
        raise BadInput(f"{entity.name} has no field {node.column!r}", field="filter") from None
    if node.op not in OPERATORS[column.kind]:
        raise BadInput(f"{column.public} does not take {camel(node.op)}", field="filter")
    sql = qualified(alias, column.name)
    if column.masked:
        # what the viewer may not see reads as NULL: every operator then answers
        # alike whatever the hidden value is (no oracle on it)
        sql = f"(CASE WHEN {masked_shown(alias, viewer, bind)} THEN {sql} END)"
    op, value = node.op, node.value
    # an enum column is compared with enum values, not cast to text: a cast
    # column hides it from the planner's statistics (8 rows estimated for
    # 20,907 of `type = PRODUCTION`). A list is bound as the enum's array type:
    # a text array cast to it is not folded at plan time, and ANY over it is
    # then a guess. The labels are checked first, so a stored filter with a
    # label that no longer exists is bad input, not a 500.
    cast = many = ""
    if column.kind is Kind.ENUM:
        _check_labels(column, node, value)
        cast, many = f"::text::{column.database_type}", f"::{column.database_type}[]"
    # messages name the field and operator as the client wrote them
    node = Compare(column.public, camel(op), value, node.case_insensitive)
    if op in ("is_null", "is_empty"):
        _check(node, value, bool)
        test = "IS NULL" if op == "is_null" else "= ''"
        return f"({sql} {test})" if value else f"NOT ({sql} {test})"
    fold = node.case_insensitive and column.kind is Kind.STRING
    if op in _PATTERNS:
        template, negated = _PATTERNS[op]
        _check(node, value, str)
        like = "ILIKE" if fold else "LIKE"
        test = f"{sql} {like} {bind(like_pattern(template, value))}"
        return f"NOT ({test})" if negated else f"({test})"
    expected = _PYTHON_TYPES[column.kind]
    if fold:
        sql = f"lower({sql})"
    if op in ("in", "not_in"):
        values = _checked_list(node, value, expected)
        values = [v.lower() for v in values] if fold else values
        test = f"{sql} = ANY({bind(values)}{many})"
        return _negated(test, column) if op == "not_in" else f"({test})"
    if op in ("between", "not_between"):
        low, high = _checked_list(node, value, expected, length=2)
        test = f"{sql} BETWEEN {bind(low)} AND {bind(high)}"
        return _negated(test, column) if op == "not_between" else f"({test})"
    _check(node, value, expected)
    bound = bind(value.lower() if fold else value) + cast
    if op == "neq":
        return f"({sql} IS DISTINCT FROM {bound})"
    return f"({sql} {_COMPARISONS[op]} {bound})"


def _negated(test: str, column: Column) -> str:
    """NOT `test`, a NULL column's test (NULL) counting as false: written as a
    plain NOT where the column holds no NULL, which the planner estimates from
    the column's statistics (NOT COALESCE(...) it guesses at half the rows)."""
    if column.nullable or column.masked:
        return f"NOT COALESCE({test}, FALSE)"
    return f"NOT {test}"


def _check_labels(column: Column, node: Compare, value: Any) -> None:
    assert column.enum is not None
    labels = {member.value for member in column.enum}
    for label in value if isinstance(value, list) else [value]:
        if isinstance(label, str) and label not in labels:
            raise BadInput(f"{node.column} has no value {label!r}", field="filter")


def _check(node: Compare, value: Any, expected: type | tuple[type, ...]) -> None:
    # bool is an int in Python; an int column must not take true/false
    if not isinstance(value, expected) or (isinstance(value, bool) and expected is int):
        raise BadInput(f"{node.column}.{node.op} takes a {_name(expected)}", field="filter")
    if isinstance(value, int) and not isinstance(value, bool):
        low, high = _INT_RANGE
        if not low <= value <= high:
            raise BadInput(f"{node.column}.{node.op}: {value} is out of range", field="filter")
    if isinstance(value, str) and "\x00" in value:
        raise BadInput(f"{node.column}.{node.op}: text cannot hold NUL", field="filter")


def _checked_list(
    node: Compare, value: Any, expected: type | tuple[type, ...], length: int | None = None
) -> list[Any]:
    if not isinstance(value, Sequence) or isinstance(value, str):
        raise BadInput(f"{node.column}.{node.op} takes a list", field="filter")
    if length is not None and len(value) != length:
        raise BadInput(f"{node.column}.{node.op} takes exactly {length} values", field="filter")
    for item in value:
        _check(node, item, expected)
    return list(value)


def _name(expected: type | tuple[type, ...]) -> str:
    names = {str: "string", int: "whole number", bool: "boolean", datetime: "date-time", UUID: "id"}
    return names.get(expected, "value") if isinstance(expected, type) else "value"
