"""The planner: a validated read operation and its variables as a `db/` read plan,
when every field it selects maps to tables (None otherwise: the resolver path
answers the whole operation).

Fields are collected as graphql-core's executor collects them (fragments,
`@include`/`@skip`, type conditions, merging of equal response keys, key
order), arguments are coerced and converted as strawberry converts them, and
lists become requests through `list_arguments`, the resolvers' own conversion.
Whatever a resolver would refuse (bad arguments, a missing scope) raises the
same domain error here, before any SQL; the caller then lets the resolver path
answer, so that the error is the resolver path's own.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar, cast

import strawberry
from graphql import (
    DocumentNode,
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLField,
    GraphQLObjectType,
    InlineFragmentNode,
    OperationType,
    SelectionSetNode,
    VariableNode,
    Visitor,
    get_named_type,
    visit,
)
from graphql.execution.collect_fields import (
    FieldDetailsList,
    FragmentDetails,
    collect_fields,
    collect_subfields,
)
from graphql.execution.values import VariableValues, get_argument_values, get_variable_values
from graphql.utilities import get_operation_ast

from db.errors import BadInput
from db.plans import (
    ColumnValue,
    Constant,
    Edges,
    Email,
    Field,
    GlobalId,
    ListMember,
    ListPlan,
    Lookup,
    LookupList,
    Nodes,
    PageInfoSelection,
    Parent,
    ReadPlan,
    RootField,
    Selection,
    Series,
    Total,
    UserOf,
    WritePlan,
)
from db.viewer import Viewer, require_read
from schema.connections import list_arguments
from schema.figure_plans import FigurePlanner, NotCompilable, _metadata, _object_type
from schema.ids import lookup_uuid
from schema.input_conversion import converted
from schema.metadata import (
    AggregatesField,
    GlobalIdField,
    GroupsField,
    ListField,
    LookupField,
    NodeField,
    ParentField,
    SeriesField,
    UserField,
    WriteField,
    plan_of,
)
from schema.query import MAX_NODES
from schema.types import node_target

logger = logging.getLogger("envgraph.compiled")

T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class PlannedWrite:
    """A mutation's write plan, and where the document asks for it (the nodes an
    error of the write is located at)."""

    plan: WritePlan
    nodes: tuple[FieldNode, ...]


@dataclass(frozen=True, slots=True)
class WriteShape:
    """What a mutation document asks of a write whatever its input's values: the
    root field (its response key, definition, write function and nodes) and the
    payload's plan, each object field of it on `type_name`. Made once per
    document, scopes and values of the variables outside the root field's
    arguments (`shape_variables`); made a plan with each request's input (`write_plan`)."""

    key: str
    definition: GraphQLField
    write: WriteField
    nodes: FieldDetailsList
    type_name: str | None  # None: the payload selects no object (`__typename`)
    payload: tuple[tuple[str, Selection | Constant], ...]


_PAGE_INFO = frozenset({"hasNextPage", "hasPreviousPage", "startCursor", "endCursor"})


class _Planner(FigurePlanner):
    def __init__(
        self,
        schema: strawberry.Schema,
        document: DocumentNode,
        variables: VariableValues,
        viewer: Viewer,
        page_sizes: tuple[int, int],
    ) -> None:
        self.schema = schema
        self.graphql = schema._schema
        self.variables = variables
        self.viewer = viewer
        self.default_size, self.max_size = page_sizes
        self.fragments = {
            d.name.value: FragmentDetails(d)
            for d in document.definitions
            if isinstance(d, FragmentDefinitionNode)
        }
        self.operation: Any = None

    def subfields(self, parent: GraphQLObjectType, nodes: FieldDetailsList) -> Any:
        collected = collect_subfields(
            self.graphql, self.fragments, self.variables, self.operation, parent, nodes
        )
        if collected.new_defer_usages:
            raise NotCompilable("@defer")
        return collected.grouped_field_set.items()

    def arguments(self, definition: GraphQLField, nodes: FieldDetailsList) -> dict[str, Any]:
        """The field's arguments as its resolver receives them (python names)."""
        return _converted(self.schema, definition, nodes, self.variables)

    def root(self, key_nodes: list[tuple[str, FieldDetailsList]]) -> ReadPlan:
        query = self.graphql.query_type
        assert query is not None
        items: list[tuple[str, RootField]] = []
        for key, nodes in key_nodes:
            name = nodes[0].node.name.value
            if name == "__typename":
                items.append((key, Constant(query.name)))
                continue
            definition = query.fields.get(name)
            plan = None if definition is None else plan_of(_metadata(definition))
            if definition is None or plan is None:  # viewer, _entities, introspection
                raise NotCompilable(name)
            if isinstance(plan, ListField):
                items.append((key, self.list(plan, definition, nodes)))
            elif isinstance(plan, LookupField):
                args = self.arguments(definition, nodes)
                require_read(self.viewer, plan.entity.scope)
                uuid = lookup_uuid(args.get("id"), args.get("uuid"), plan.entity.type_name)
                selection = self.object(plan.entity.type_name, nodes)
                items.append((key, Lookup(plan.entity, uuid, selection, required=True)))
            elif isinstance(plan, NodeField) and not plan.many:
                items.append((key, self.node(self.arguments(definition, nodes)["id"], "id", nodes)))
            elif isinstance(plan, NodeField):
                ids = self.arguments(definition, nodes)["ids"]
                if len(ids) > MAX_NODES:
                    raise BadInput(f"`ids` takes at most {MAX_NODES} ids", field="ids")
                items.append((key, LookupList(tuple(self.node(i, "ids", nodes) for i in ids))))
            else:
                raise NotCompilable(name)
        return ReadPlan(tuple(items))

    def write_shape(self, key_nodes: list[tuple[str, FieldDetailsList]]) -> WriteShape:
        """One mutation that writes in one statement, and its payload: fields of one
        object type (the written row's, as `write_plan` checks) that read no list (the
        statement's reads would not see the write), or `__typename`."""
        if len(key_nodes) != 1:  # several run one after another: the resolver path
            raise NotCompilable("several root fields")
        ((key, nodes),) = key_nodes
        mutation = self.graphql.mutation_type
        name = nodes[0].node.name.value
        definition = mutation.fields.get(name) if mutation is not None else None
        plan = None if definition is None else plan_of(_metadata(definition))
        if definition is None or not isinstance(plan, WriteField):
            raise NotCompilable(name)
        payload_type = cast(GraphQLObjectType, get_named_type(definition.type))
        type_names: set[str] = set()
        items: list[tuple[str, Selection | Constant]] = []
        for sub_key, sub in self.subfields(payload_type, nodes):
            sub_name = sub[0].node.name.value
            if sub_name == "__typename":
                items.append((sub_key, Constant(payload_type.name)))
                continue
            type_name = get_named_type(payload_type.fields[sub_name].type).name
            type_names.add(type_name)
            if len(type_names) > 1:
                raise NotCompilable(f"{payload_type.name}.{sub_name}")
            selection = self.object(type_name, sub)
            if _reads_lists(selection):
                raise NotCompilable(f"a list under {payload_type.name}.{sub_name}")
            items.append((sub_key, selection))
        return WriteShape(key, definition, plan, nodes, next(iter(type_names), None), tuple(items))

    def node(self, global_id: str, argument: str, nodes: FieldDetailsList) -> Lookup:
        type_name, entity, uuid = node_target(global_id, argument, self.viewer)
        return Lookup(entity, uuid, self.object(type_name, nodes), required=False)

    def object(self, type_name: str, nodes: FieldDetailsList) -> Selection:
        """The selection on an object of a node type (or User): each field as its
        metadata says."""
        parent = cast(GraphQLObjectType, self.graphql.get_type(type_name))
        items: list[tuple[str, Field]] = []
        for key, sub in self.subfields(parent, nodes):
            name = sub[0].node.name.value
            if name == "__typename":
                items.append((key, Constant(type_name)))
                continue
            definition = parent.fields[name]
            plan = plan_of(_metadata(definition))
            field: Field
            if isinstance(plan, (ColumnValue, Email)):
                field = plan
            elif isinstance(plan, GlobalIdField):
                field = GlobalId(type_name)
            elif isinstance(plan, UserField):
                field = UserOf(plan.column, self.object("User", sub))
            elif isinstance(plan, ListField):
                field = self.list(plan, definition, sub)
            elif isinstance(plan, SeriesField):
                field = self.series(definition, sub)
            elif isinstance(plan, ParentField):
                for target, _ in plan.path:  # every hop is a loader read, scope-checked
                    require_read(self.viewer, target.scope)
                target_type = get_named_type(definition.type).name
                field = Parent(plan.path, self.object(target_type, sub))
            else:
                raise NotCompilable(f"{parent.name}.{name}")
            items.append((key, field))
        return tuple(items)

    def list(self, field: ListField, definition: GraphQLField, nodes: FieldDetailsList) -> ListPlan:
        request, win = list_arguments(
            field.entity,
            self.arguments(definition, nodes),
            self.viewer,
            equal_arguments=field.equal_arguments,
            default_size=self.default_size,
            max_size=self.max_size,
        )
        connection = cast(GraphQLObjectType, get_named_type(definition.type))
        node_type = get_named_type(connection.fields["nodes"].type).name
        items: list[tuple[str, ListMember]] = []
        for key, sub in self.subfields(connection, nodes):
            name = sub[0].node.name.value
            member = plan_of(_metadata(connection.fields[name])) if name != "__typename" else None
            if name == "__typename":
                items.append((key, Constant(connection.name)))
            elif isinstance(member, AggregatesField):
                items.append(
                    (key, self.figures(member.entity, _object_type(connection, name), sub))
                )
            elif isinstance(member, GroupsField):
                definition = connection.fields[name]
                items.append((key, self.groups(member.entity, definition, sub)))
            elif name == "totalCount":
                items.append((key, Total()))
            elif name == "nodes":
                items.append((key, Nodes(self.object(node_type, sub))))
            elif name == "pageInfo":
                items.append((key, self.page_info(connection, sub)))
            else:
                items.append((key, self.edges(connection, node_type, sub)))
        # as the resolver decides it: totalCount written anywhere in the list's
        # selections (fragments followed, directives not looked at)
        with_total = any(
            _mentions(d.node.selection_set, "totalCount", self.fragments) for d in nodes
        )
        return ListPlan(request, win, field.parent_column, with_total, tuple(items))

    def page_info(
        self, connection: GraphQLObjectType, nodes: FieldDetailsList
    ) -> PageInfoSelection:
        info_type = cast(GraphQLObjectType, get_named_type(connection.fields["pageInfo"].type))
        items: list[tuple[str, str | Constant]] = []
        for key, sub in self.subfields(info_type, nodes):
            name = sub[0].node.name.value
            if name == "__typename":
                items.append((key, Constant(info_type.name)))
            elif name in _PAGE_INFO:
                items.append((key, name))
            else:
                raise NotCompilable(f"PageInfo.{name}")
        return PageInfoSelection(tuple(items))

    def edges(
        self, connection: GraphQLObjectType, node_type: str, nodes: FieldDetailsList
    ) -> Edges:
        edge_type = cast(GraphQLObjectType, get_named_type(connection.fields["edges"].type))
        items: list[tuple[str, str | Constant | Nodes]] = []
        for key, sub in self.subfields(edge_type, nodes):
            name = sub[0].node.name.value
            if name == "__typename":
                items.append((key, Constant(edge_type.name)))
            elif name == "cursor":
                items.append((key, "cursor"))
            else:
                items.append((key, Nodes(self.object(node_type, sub))))
        return Edges(tuple(items))


def _converted(
    schema: strawberry.Schema,
    definition: GraphQLField,
    nodes: FieldDetailsList,
    variables: VariableValues,
) -> dict[str, Any]:
    """A field's arguments as its resolver receives them (python names)."""
    first = nodes[0]
    raw = get_argument_values(definition, first.node, variables, first.fragment_variable_values)
    return converted(schema, definition, raw)


def _reads_lists(selection: Selection) -> bool:
    """Whether a selection reads a list (or a series) anywhere below it."""
    for _, field in selection:
        if isinstance(field, (ListPlan, Series)):
            return True
        if isinstance(field, (Parent, UserOf)) and _reads_lists(field.selection):
            return True
    return False


def _mentions(
    selection_set: SelectionSetNode | None,
    name: str,
    fragments: dict[str, FragmentDetails],
    seen: frozenset[str] = frozenset(),
) -> bool:
    for selection in selection_set.selections if selection_set else ():
        if isinstance(selection, FieldNode) and selection.name.value == name:
            return True
        if isinstance(selection, InlineFragmentNode) and _mentions(
            selection.selection_set, name, fragments, seen
        ):
            return True
        if isinstance(selection, FragmentSpreadNode) and selection.name.value not in seen:
            fragment = fragments.get(selection.name.value)
            if fragment is not None and _mentions(
                fragment.definition.selection_set, name, fragments, seen | {selection.name.value}
            ):
                return True
    return False


def _planned(
    schema: strawberry.Schema,
    document: DocumentNode,
    operation_name: str | None,
    variables: dict[str, Any] | None,
    viewer: Viewer,
    *,
    page_sizes: tuple[int, int],
    kind: OperationType,
    plan: Callable[[_Planner, list[tuple[str, FieldDetailsList]]], T],
) -> T | None:
    """`plan` of a planner of the operation and its root fields as graphql-core
    collects them; None when the operation is not of `kind`, it defers, or
    something it selects is not compilable. `VariablesRefused` when its variables
    do not coerce (the resolver path reports them)."""
    operation = get_operation_ast(document, operation_name)
    root = schema._schema.get_root_type(kind)
    if operation is None or operation.operation is not kind or root is None:
        return None
    coerced = _coerced(schema, document, operation_name, variables)
    if coerced is None:
        raise VariablesRefused
    planner = _Planner(schema, document, coerced, viewer, page_sizes)
    planner.operation = operation
    collected = collect_fields(schema._schema, planner.fragments, coerced, root, operation)
    if collected.new_defer_usages:
        return None
    try:
        return plan(planner, list(collected.grouped_field_set.items()))
    except NotCompilable as what:
        logger.debug("not compilable: %s", what)
        return None


def plan_read(
    schema: strawberry.Schema,
    document: DocumentNode,
    operation_name: str | None,
    variables: dict[str, Any] | None,
    viewer: Viewer,
    *,
    page_sizes: tuple[int, int],
) -> ReadPlan | None:
    """The read plan of a validated document's operation, or None when it is not a
    query, its variables do not coerce, or it selects anything not compilable.
    Raises the domain error a resolver would raise for its arguments or scopes."""
    try:
        return _planned(
            schema, document, operation_name, variables, viewer,
            page_sizes=page_sizes, kind=OperationType.QUERY, plan=_Planner.root,
        )  # fmt: skip
    except VariablesRefused:
        return None


def plan_write_shape(
    schema: strawberry.Schema,
    document: DocumentNode,
    operation_name: str | None,
    variables: dict[str, Any] | None,
    viewer: Viewer,
    *,
    page_sizes: tuple[int, int],
) -> WriteShape | None:
    """The write shape of a validated document's mutation, or None when it is not
    one mutation of a `WriteField` whose payload is compilable. Raises
    `VariablesRefused` when its variables do not coerce (a refusal of this
    request's values, which no shape is kept for), and the domain error a
    resolver would raise for the payload (a scope it reads)."""
    if not _may_write_in_one_statement(schema, document, operation_name):
        return None
    return _planned(
        schema, document, operation_name, variables, viewer,
        page_sizes=page_sizes, kind=OperationType.MUTATION, plan=_Planner.write_shape,
    )  # fmt: skip


def write_plan(
    shape: WriteShape,
    schema: strawberry.Schema,
    document: DocumentNode,
    operation_name: str | None,
    variables: dict[str, Any] | None,
    *,
    viewer: Viewer,
) -> PlannedWrite | None:
    """The write plan of one request of a shape's document: its input converted as
    Strawberry converts it and given to the resolver's own write function. None
    when the variables do not coerce or the write is not of the payload's type.
    Raises the domain error the resolver would raise for the input."""
    coerced = _coerced(schema, document, operation_name, variables)
    if coerced is None:
        return None
    arguments = _converted(schema, shape.definition, shape.nodes, coerced)
    write = shape.write.write(arguments["input"], viewer)
    if shape.type_name not in (None, write.entity.type_name):
        return None
    plan = WritePlan(shape.key, write, shape.payload)
    return PlannedWrite(plan, tuple(d.node for d in shape.nodes))


class VariablesRefused(Exception):
    """A request's variables do not coerce: the resolver path says why."""


def _coerced(
    schema: strawberry.Schema,
    document: DocumentNode,
    operation_name: str | None,
    variables: dict[str, Any] | None,
) -> VariableValues | None:
    """The operation's variables as graphql-core coerces them, or None when they
    do not coerce."""
    operation = get_operation_ast(document, operation_name)
    if operation is None:
        return None
    coerced = get_variable_values(
        schema._schema, operation.variable_definitions or (), variables or {}
    )
    return None if isinstance(coerced, list) else coerced


def shape_variables(document: DocumentNode, operation_name: str | None) -> frozenset[str]:
    """The variables a write's shape depends on: all of the operation's but those
    used only in its root fields' arguments (a mutation's input)."""
    operation = get_operation_ast(document, operation_name)
    if operation is None:
        return frozenset()
    declared = {d.variable.name.value for d in operation.variable_definitions or ()}
    in_arguments: set[str] = set()
    elsewhere: set[str] = set()
    for selection in operation.selection_set.selections:
        if isinstance(selection, FieldNode):
            in_arguments |= _variables_in(selection.arguments)
            elsewhere |= _variables_in(selection.directives, selection.selection_set)
        else:
            elsewhere |= _variables_in(selection)
    for definition in document.definitions:
        if isinstance(definition, FragmentDefinitionNode):
            elsewhere |= _variables_in(definition)
    return frozenset(declared - (in_arguments - elsewhere))


class _VariableNames(Visitor):
    def __init__(self) -> None:
        super().__init__()
        self.found: set[str] = set()

    def enter_variable(self, node: VariableNode, *_: Any) -> None:
        self.found.add(node.name.value)


def _variables_in(*nodes: Any) -> set[str]:
    """The names of the variables used in `nodes` (AST nodes or tuples of them)."""
    names = _VariableNames()
    for node in nodes:
        for each in node if isinstance(node, tuple | list) else (node,):
            if each is not None:
                visit(each, names)
    return names.found


def _may_write_in_one_statement(
    schema: strawberry.Schema, document: DocumentNode, operation_name: str | None
) -> bool:
    """False when the mutation's root fields, as written, name no `WriteField`: its
    variables are then not coerced for nothing (an ingestEvents' batch of events is
    coerced once, by the resolver path). A fragment at the root may hide one."""
    operation = get_operation_ast(document, operation_name)
    mutation = schema._schema.mutation_type
    if operation is None or mutation is None:
        return False
    for selection in operation.selection_set.selections:
        if not isinstance(selection, FieldNode):
            return True
        definition = mutation.fields.get(selection.name.value)
        if definition is not None and isinstance(plan_of(_metadata(definition)), WriteField):
            return True
    return False
