"""Variables that only say which row a root lookup reads (`environment(id: $id)`),
so that one read plan and one statement serve every value of them.

A plan holds the uuid a lookup reads; keyed by the variables' values, a client
cycling through ids planned every request anew (and filled the plan cache with
one plan per id). For a variable whose every use is the `id` or `uuid` argument
of a root lookup, the plan is made once with a stand-in uuid of its own, and
each request puts its row's uuid in the statement's values where the stand-in
is (gateway/compiled.py). The request's value is checked as the resolver checks
it (a global id of the lookup's type, a uuid); a value that fails leaves the
request to the resolver path, which answers the error.
"""

from __future__ import annotations

import uuid
from collections import Counter
from dataclasses import dataclass
from functools import lru_cache
from typing import Any
from uuid import UUID

from graphql import (
    DocumentNode,
    FieldNode,
    FragmentDefinitionNode,
    GraphQLSchema,
    OperationType,
    VariableNode,
    Visitor,
    visit,
)
from graphql.utilities import get_operation_ast

from db.errors import DomainError
from schema.figure_plans import _metadata
from schema.ids import global_id, lookup_uuid
from schema.metadata import LookupField, plan_of

# what a templated variable's value is keyed as
TEMPLATED = "\x00lookup"


@dataclass(frozen=True, slots=True)
class LookupVariable:
    """A variable used only as the `argument` ("id" or "uuid") of lookups of
    `type_name`."""

    name: str
    argument: str
    type_name: str


# random per process, so that no row's uuid is a stand-in
_STAND_INS = uuid.uuid4()


def stand_in(name: str) -> UUID:
    """The uuid a plan holds for the variable `name`: the same for as long as the
    process lives (a cached plan holds it), and never a row's."""
    return uuid.uuid5(_STAND_INS, name)


class _Uses(Visitor):
    def __init__(self) -> None:
        super().__init__()
        self.count: Counter[str] = Counter()

    def enter_variable(self, node: VariableNode, *_: Any) -> None:
        self.count[node.name.value] += 1


def lookup_variables(
    schema: GraphQLSchema, document: DocumentNode, operation_name: str | None
) -> tuple[LookupVariable, ...]:
    """The operation's variables that only name the rows of root lookups."""
    operation = get_operation_ast(document, operation_name)
    query = schema.query_type
    if operation is None or operation.operation is not OperationType.QUERY or query is None:
        return ()
    uses = _Uses()
    visit(operation.selection_set, uses)
    for definition in document.definitions:
        if isinstance(definition, FragmentDefinitionNode):
            visit(definition.selection_set, uses)
    found: dict[str, set[tuple[str, str]]] = {}
    as_lookup: Counter[str] = Counter()
    for selection in operation.selection_set.selections:
        if not isinstance(selection, FieldNode):
            continue
        field = query.fields.get(selection.name.value)
        plan = None if field is None else plan_of(_metadata(field))
        if not isinstance(plan, LookupField):
            continue
        for argument in selection.arguments or ():
            if argument.name.value in ("id", "uuid") and isinstance(argument.value, VariableNode):
                name = argument.value.name.value
                found.setdefault(name, set()).add((argument.name.value, plan.entity.type_name))
                as_lookup[name] += 1
    return tuple(
        LookupVariable(name, *next(iter(kinds)))
        for name, kinds in sorted(found.items())
        if len(kinds) == 1 and as_lookup[name] == uses.count[name]
    )


@dataclass(frozen=True, slots=True)
class Templated:
    """A request's variables as its plan is keyed and made, and the uuids to put in
    the statement's values for the stand-ins."""

    keyed: dict[str, Any]
    planned: dict[str, Any]
    rows: dict[UUID, UUID]


def templated(variables: dict[str, Any], lookups: tuple[LookupVariable, ...]) -> Templated | None:
    """The request's variables with its lookup variables replaced, or None when a
    value is not one the lookup takes (the resolver path then answers)."""
    keyed, planned, rows = dict(variables), dict(variables), {}
    for lookup in lookups:
        value = variables.get(lookup.name)
        if not isinstance(value, str):  # absent or null: planned as it is
            continue
        try:
            if lookup.argument == "id":
                row = lookup_uuid(value, None, lookup.type_name)
            else:
                row = UUID(value)
        except (DomainError, ValueError):
            return None
        placeholder, planned[lookup.name] = _stand_in_value(lookup)
        rows[placeholder] = row
        keyed[lookup.name] = TEMPLATED
    return Templated(keyed, planned, rows)


@lru_cache(maxsize=1024)
def _stand_in_value(lookup: LookupVariable) -> tuple[UUID, str]:
    """The variable's stand-in and the value a plan is made with (computed once:
    uuid5 and a global id cost a few microseconds of each by-id request)."""
    placeholder = stand_in(lookup.name)
    if lookup.argument == "id":
        return placeholder, global_id(lookup.type_name, placeholder)
    return placeholder, str(placeholder)


def filled(values: list[Any], rows: dict[UUID, UUID]) -> list[Any]:
    """A statement's values with each stand-in replaced by its row's uuid."""
    if not rows:
        return values
    return [rows.get(v, v) if isinstance(v, UUID) else v for v in values]
