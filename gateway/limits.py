"""Query limits, checked before execution: depth, aliases, tokens, and a node
budget in the manner of GitHub's API.

The node budget is the worst case a query can return: each connection counts
its page size (first/last, or the default page) times the page sizes of the
connections above it. Fragments are followed wherever they are spread (a
fragment used twice counts twice), so they cannot hide anything; introspection
and `__typename` read the schema, not rows, and are not counted.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from graphql import (
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLError,
    GraphQLInterfaceType,
    GraphQLNamedType,
    GraphQLObjectType,
    GraphQLSchema,
    InlineFragmentNode,
    Lexer,
    SelectionSetNode,
    Source,
    TokenKind,
    get_named_type,
    value_from_ast_untyped,
)

from db.errors import DomainError
from schema.documents import operation, parsed

MAX_BODY_BYTES = 1024 * 1024  # larger request bodies: HTTP 413
# fields whose list argument sets how many objects they return
_SIZED_BY = {"nodes": "ids", "_entities": "representations"}
# a fragment spread inside a fragment spread... must not expand without end
_MAX_EXPANDED_FIELDS = 200_000


class QueryTooComplex(DomainError):
    """The query is over a limit."""

    # a DomainError still, so that wherever it surfaces it is classified by its code
    code = "QUERY_TOO_COMPLEX"


@dataclass(frozen=True, slots=True)
class Limits:
    """What one query may ask for."""

    depth: int
    aliases: int
    tokens: int
    nodes: int
    default_page: int
    max_page: int


@lru_cache(maxsize=256)
def count_tokens(query: str) -> int:
    """How many lexical tokens the query has (up to a syntax error); cached like the
    parse, so a repeated query is not lexed again on every request."""
    lexer = Lexer(Source(query))
    count = 0
    try:
        while lexer.advance().kind is not TokenKind.EOF:
            count += 1
    except GraphQLError:
        pass
    return count


def _over(what: str, value: int, limit: int) -> QueryTooComplex:
    return QueryTooComplex(f"the query {what} {value:,}; the limit is {limit:,}")


class _Walk:
    def __init__(
        self,
        schema: GraphQLSchema,
        fragments: dict[str, FragmentDefinitionNode],
        variables: dict[str, Any],
        limits: Limits,
    ) -> None:
        self.schema, self.fragments, self.variables, self.limits = (
            schema, fragments, variables, limits
        )  # fmt: skip
        self.depth = self.aliases = self.nodes = self.fields = 0

    def selections(
        self,
        selection_set: SelectionSetNode,
        parent: GraphQLNamedType | None,
        depth: int,
        multiplier: int,
        spreading: frozenset[str],
    ) -> None:
        for selection in selection_set.selections:
            if isinstance(selection, FieldNode):
                self.field(selection, parent, depth, multiplier, spreading)
            elif isinstance(selection, InlineFragmentNode):
                condition = selection.type_condition
                target = self.schema.get_type(condition.name.value) if condition else parent
                self.selections(selection.selection_set, target, depth, multiplier, spreading)
            elif isinstance(selection, FragmentSpreadNode):
                name = selection.name.value
                fragment = self.fragments.get(name)
                if fragment is None or name in spreading:  # invalid: validation says so
                    continue
                target = self.schema.get_type(fragment.type_condition.name.value)
                self.selections(
                    fragment.selection_set, target, depth, multiplier, spreading | {name}
                )

    def field(
        self,
        node: FieldNode,
        parent: GraphQLNamedType | None,
        depth: int,
        multiplier: int,
        spreading: frozenset[str],
    ) -> None:
        self.fields += 1
        if self.fields > _MAX_EXPANDED_FIELDS:
            raise QueryTooComplex(
                f"the query expands to more than {_MAX_EXPANDED_FIELDS:,} fields "
                "(fragments spread within fragments)"
            )
        self.aliases += node.alias is not None
        name = node.name.value
        if name.startswith("__"):
            return
        self.depth = max(self.depth, depth + 1)
        definition = (
            parent.fields.get(name)
            if isinstance(parent, (GraphQLObjectType, GraphQLInterfaceType))
            else None
        )
        if definition is None:  # unknown field: validation reports it
            return
        child = get_named_type(definition.type)
        size = multiplier
        if child.name.endswith("Connection"):
            size = multiplier * self.page_size(node)
            self.nodes += size
        elif name in _SIZED_BY and _SIZED_BY[name] in definition.args:
            size = multiplier * self.list_length(node, _SIZED_BY[name])
            self.nodes += size
        if node.selection_set is not None:
            self.selections(node.selection_set, child, depth + 1, size, spreading)

    def argument(self, node: FieldNode, name: str) -> Any:
        for argument in node.arguments or ():
            if argument.name.value == name:
                return value_from_ast_untyped(argument.value, self.variables)
        return None

    def page_size(self, node: FieldNode) -> int:
        sizes = [v for v in (self.argument(node, "first"), self.argument(node, "last"))
                 if isinstance(v, int) and not isinstance(v, bool)]  # fmt: skip
        if not sizes:
            return self.limits.default_page
        # out-of-range sizes are refused by the list itself, with a clearer message
        return max(0, min(*sizes, self.limits.max_page))

    def list_length(self, node: FieldNode, argument: str) -> int:
        value = self.argument(node, argument)
        return len(value) if isinstance(value, list) else 1


def check_limits(
    query: str | None,
    operation_name: str | None,
    variables: dict[str, Any] | None,
    schema: GraphQLSchema,
    limits: Limits,
) -> None:
    """QUERY_TOO_COMPLEX, saying the limit and the value, when the query is over one."""
    if not query:
        return
    tokens = count_tokens(query)
    if tokens > limits.tokens:
        raise _over("has this many tokens:", tokens, limits.tokens)
    document = parsed(query)
    if document is None:
        return
    chosen = operation(document, operation_name)
    if chosen is None:
        return
    fragments = {
        d.name.value: d for d in document.definitions if isinstance(d, FragmentDefinitionNode)
    }
    root = schema.get_root_type(chosen.operation)
    walk = _Walk(schema, fragments, variables or {}, limits)
    walk.selections(chosen.selection_set, root, 0, 1, frozenset())
    if walk.depth > limits.depth:
        raise _over("is nested this many levels deep:", walk.depth, limits.depth)
    if walk.aliases > limits.aliases:
        raise _over("has this many aliases:", walk.aliases, limits.aliases)
    if walk.nodes > limits.nodes:
        raise _over("may return this many nodes:", walk.nodes, limits.nodes)
