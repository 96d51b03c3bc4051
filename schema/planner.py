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
from typing import Any, cast

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
    get_named_type,
)
from graphql.execution.collect_fields import (
    FieldDetailsList,
    FragmentDetails,
    collect_fields,
    collect_subfields,
)
from graphql.execution.values import VariableValues, get_argument_values, get_variable_values
from graphql.utilities import get_operation_ast
from strawberry.types.arguments import convert_arguments

from db.entities import ENTITIES, Kind, camel
from db.errors import BadInput
from db.plans import (
    ColumnValue,
    Constant,
    Edges,
    Email,
    Field,
    GlobalId,
    ListPlan,
    Lookup,
    LookupList,
    Nodes,
    PageInfo,
    Parent,
    ReadPlan,
    RootField,
    Selection,
    Total,
    UserOf,
)
from db.viewer import Viewer, require_read
from schema.connections import LIST_FIELD, ListField, list_arguments
from schema.ids import expect_global_id
from schema.query import LOOKUP_FIELD, MAX_NODES
from schema.types import NODE_TYPES, node_target

logger = logging.getLogger("envgraph.compiled")

_BACKREF = "strawberry-definition"
_PAGE_INFO = frozenset({"hasNextPage", "hasPreviousPage", "startCursor", "endCursor"})
_USER_COLUMNS = {"name": Kind.STRING, "createdAt": Kind.DATETIME, "updatedAt": Kind.DATETIME}
_USER_OF = {"createdBy": "created_by", "updatedBy": "updated_by"}


class NotCompilable(Exception):
    """The operation selects something the compiled path does not answer."""


class _Planner:
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
        first = nodes[0]
        raw = get_argument_values(
            definition, first.node, self.variables, first.fragment_variable_values
        )
        strawberry_field = definition.extensions[_BACKREF]
        return convert_arguments(
            raw,
            strawberry_field.arguments,
            scalar_registry=self.schema.schema_converter.scalar_registry,
            config=self.schema.config,
        )

    def root(self, key_nodes: Any) -> ReadPlan:
        query = self.graphql.query_type
        assert query is not None
        items: list[tuple[str, RootField]] = []
        for key, nodes in key_nodes:
            name = nodes[0].node.name.value
            if name == "__typename":
                items.append((key, Constant(query.name)))
                continue
            definition = query.fields.get(name)
            if definition is None:  # __schema, __type
                raise NotCompilable(name)
            metadata = definition.extensions[_BACKREF].metadata
            if LIST_FIELD in metadata:
                items.append((key, self.list(metadata[LIST_FIELD], definition, nodes)))
            elif LOOKUP_FIELD in metadata:
                entity = metadata[LOOKUP_FIELD]
                args = self.arguments(definition, nodes)
                require_read(self.viewer, entity.name)
                type_name = get_named_type(definition.type).name
                uuid = expect_global_id(args["id"], type_name)
                selection = self.object(type_name, nodes)
                items.append((key, Lookup(entity, uuid, selection, required=True)))
            elif name == "node":
                items.append((key, self.node(self.arguments(definition, nodes)["id"], "id", nodes)))
            elif name == "nodes":
                ids = self.arguments(definition, nodes)["ids"]
                if len(ids) > MAX_NODES:
                    raise BadInput(f"`ids` takes at most {MAX_NODES} ids", field="ids")
                items.append((key, LookupList(tuple(self.node(i, "ids", nodes) for i in ids))))
            else:  # viewer, _entities, _service, introspection
                raise NotCompilable(name)
        return ReadPlan(tuple(items))

    def node(self, global_id: str, argument: str, nodes: FieldDetailsList) -> Lookup:
        type_name, entity, uuid = node_target(global_id, argument, self.viewer)
        return Lookup(entity, uuid, self.object(type_name, nodes), required=False)

    def object(self, type_name: str, nodes: FieldDetailsList) -> Selection:
        """The selection on an object of a node type (or User)."""
        parent = cast(GraphQLObjectType, self.graphql.get_type(type_name))
        entity = NODE_TYPES[type_name][0] if type_name in NODE_TYPES else None
        items: list[tuple[str, Field]] = []
        for key, sub in self.subfields(parent, nodes):
            name = sub[0].node.name.value
            field: Field
            if name == "__typename":
                field = Constant(type_name)
            elif name == "id":
                field = GlobalId(type_name)
            elif name == "uuid":
                field = ColumnValue("id", Kind.ID)
            elif entity is None:  # a user
                if name == "email":
                    field = Email()
                elif name in _USER_COLUMNS:
                    field = ColumnValue(camel_to_snake(name), _USER_COLUMNS[name])
                else:
                    raise NotCompilable(f"User.{name}")
            else:
                field = self.entity_field(entity.name, parent, name, sub)
            items.append((key, field))
        return tuple(items)

    def entity_field(
        self, entity_name: str, parent: GraphQLObjectType, name: str, nodes: FieldDetailsList
    ) -> Field:
        entity = ENTITIES[entity_name]
        for column in entity.columns:
            if camel(column.name) == name:
                return ColumnValue(column.name, column.kind)
        if name in _USER_OF:
            return UserOf(_USER_OF[name], self.object("User", nodes))
        definition = parent.fields[name]
        metadata = definition.extensions[_BACKREF].metadata
        if LIST_FIELD in metadata:
            return self.list(metadata[LIST_FIELD], definition, nodes)
        path = [entity.relation(r.name) for r in entity.relations if r.name == name]
        if (
            not path
            and name == "organization"
            and any(r.name == "project" for r in entity.relations)
        ):
            # what belongs to a project reaches its organization through it
            path = [entity.relation("project"), ENTITIES["project"].relation("organization")]
        if not path:
            raise NotCompilable(f"{parent.name}.{name}")
        hops = tuple((ENTITIES[r.target], r.column) for r in path)
        for target, _ in hops:  # every hop is a loader read, scope-checked
            require_read(self.viewer, target.name)
        type_name = get_named_type(definition.type).name
        return Parent(hops, self.object(type_name, nodes))

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
        items: list[tuple[str, Total | PageInfo | Edges | Nodes | Constant]] = []
        for key, sub in self.subfields(connection, nodes):
            name = sub[0].node.name.value
            if name == "__typename":
                items.append((key, Constant(connection.name)))
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

    def page_info(self, connection: GraphQLObjectType, nodes: FieldDetailsList) -> PageInfo:
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
        return PageInfo(tuple(items))

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


def camel_to_snake(name: str) -> str:
    """`createdAt` as its column: `created_at`."""
    return "".join(f"_{c.lower()}" if c.isupper() else c for c in name)


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
    operation = get_operation_ast(document, operation_name)
    if operation is None or operation.operation is not OperationType.QUERY:
        return None
    coerced = get_variable_values(
        schema._schema, operation.variable_definitions or (), variables or {}
    )
    if isinstance(coerced, list):  # the resolver path reports them
        return None
    planner = _Planner(schema, document, coerced, viewer, page_sizes)
    planner.operation = operation
    query = schema._schema.query_type
    assert query is not None
    collected = collect_fields(schema._schema, planner.fragments, coerced, query, operation)
    if collected.new_defer_usages:
        return None
    try:
        return planner.root(collected.grouped_field_set.items())
    except NotCompilable as what:
        logger.debug("not compilable: %s", what)
        return None
