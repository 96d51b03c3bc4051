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
    DocumentNode,
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
    Node,
    SelectionSetNode,
    Source,
    TokenKind,
    get_named_type,
    is_const_value_node,
    value_from_ast_untyped,
)

from db.errors import DomainError
from schema.documents import MAX_CACHED_CHARS, operation

MAX_BODY_BYTES = 1024 * 1024  # larger request bodies: HTTP 413
# fields whose list argument sets how many objects they return
_SIZED_BY = {"nodes": "ids", "_entities": "representations"}
# a fragment spread inside a fragment spread... must not expand without end
_MAX_EXPANDED_FIELDS = 200_000
# pairs of same-named fields with selections in one selection set (see _merged_pairs)
MAX_MERGED_PAIRS = 100


class QueryTooComplex(DomainError):
    """The query is over a limit."""

    # a DomainError still, so that wherever it surfaces it is classified by its code
    code = "QUERY_TOO_COMPLEX"


class NestedTooDeeply(DomainError):
    """The variables nest deeper than any input type of the schema needs."""

    code = "BAD_USER_INPUT"


@dataclass(frozen=True, slots=True)
class Limits:
    """What one query may ask for."""

    depth: int
    aliases: int
    tokens: int
    nodes: int
    default_page: int
    max_page: int
    # objects and lists nested in one input value
    input_depth: int = 32
    # selections in one selection set, and fields in the whole document (as written)
    selection_fields: int = 100
    fields: int = 1_000


def scan(query: str, max_tokens: int, max_nesting: int) -> None:
    """QUERY_TOO_COMPLEX when the text has more tokens or deeper brackets than
    allowed: one pass of the lexer, stopped at the limit, BEFORE any parse (a
    1 MB document parses into some 300 MB of syntax tree in seconds, and too
    deep brackets exhaust the parser's stack). Syntax errors are left to the parser."""
    if len(query) <= MAX_CACHED_CHARS:
        tokens, nesting = _scan_cached(query, max_tokens + 1)
    else:
        tokens, nesting = _scan(query, max_tokens + 1)
    if tokens > max_tokens:
        raise QueryTooComplex(
            f"the query has more than {max_tokens:,} tokens; the limit is {max_tokens:,}"
        )
    if nesting > max_nesting:
        raise _over("nests brackets this many levels deep:", nesting, max_nesting)


def _scan(query: str, stop_at: int) -> tuple[int, int]:
    """(tokens up to `stop_at`, deepest nesting of brackets seen so far)."""
    lexer = Lexer(Source(query))
    count = depth = deepest = 0
    try:
        while count < stop_at:
            kind = lexer.advance().kind
            if kind is TokenKind.EOF:
                break
            count += 1
            if kind in _OPENING:
                depth += 1
                deepest = max(deepest, depth)
            elif kind in _CLOSING:
                depth -= 1
    except GraphQLError:
        pass
    return count, deepest


# a repeated small query is not lexed again on every request (large ones are
# not kept: their text would be the memory the parse cache saves)
_scan_cached = lru_cache(maxsize=256)(_scan)
_OPENING = frozenset({TokenKind.BRACE_L, TokenKind.BRACKET_L, TokenKind.PAREN_L})
_CLOSING = frozenset({TokenKind.BRACE_R, TokenKind.BRACKET_R, TokenKind.PAREN_R})


def nesting_limit(limits: Limits) -> int:
    """How deep brackets may nest: the operation's braces, a selection set per
    level of depth, an argument list's parentheses, and an input value's objects
    and lists."""
    return limits.depth + limits.input_depth + 2


def check_variables(variables: dict[str, Any] | None, limits: Limits) -> None:
    """BAD_USER_INPUT when the variables nest deeper than input values may (each
    object or list one level, the variables object the first): checked without
    recursion, before anything recursive (coercion, filters) sees them; the body
    is at most 1 MB, which bounds the walk."""
    if not variables:
        return
    deepest = 0
    stack: list[tuple[Any, int]] = [(variables, 1)]
    while stack:
        value, depth = stack.pop()
        deepest = max(deepest, depth)
        children = value.values() if isinstance(value, dict) else value
        stack.extend((child, depth + 1) for child in children if isinstance(child, (dict, list)))
    if deepest > limits.input_depth:
        raise NestedTooDeeply(
            f"the variables are nested this many levels deep: {deepest:,}; "
            f"the limit is {limits.input_depth:,}"
        )


def check_breadth(document: DocumentNode, limits: Limits) -> None:
    """QUERY_TOO_COMPLEX when a selection set has more selections (fields, fragment
    spreads, inline fragments) or holds more fields once its fragments are
    spread into it, or the document has more fields, than allowed: checked on the
    syntax tree BEFORE validation. Its rule that fields can merge compares the
    fields of a selection set, fragments' included, pair by pair: 1,400 copies of
    one introspection field took seconds, and so did 600 distinct fragments of
    one field each, spread ten to a fragment into one selection set."""
    total = 0
    fragments = _fragments(document)
    flattened: dict[int, int] = {}
    stack: list[Node] = list(document.definitions)
    while stack:
        node = stack.pop()
        selection_set = getattr(node, "selection_set", None)
        if selection_set is None:
            continue
        selections = selection_set.selections
        if len(selections) > limits.selection_fields:
            raise _over(
                "has this many selections:", len(selections), limits.selection_fields,
                "a selection set of",
            )  # fmt: skip
        held = _flattened_fields(selection_set, fragments, flattened)
        if held > limits.selection_fields:
            raise _over(
                "holds this many fields once its fragments are spread:", held,
                limits.selection_fields, "a selection set of",
            )  # fmt: skip
        pairs = _merged_pairs(selections)
        if pairs > MAX_MERGED_PAIRS:
            raise _over(
                "repeats fields with selections under one name, pairs of them:", pairs,
                MAX_MERGED_PAIRS, "a selection set of",
            )  # fmt: skip
        total += sum(isinstance(s, FieldNode) for s in selections)
        stack.extend(selections)
    if total > limits.fields:
        raise _over("has this many fields:", total, limits.fields)


def _merged_pairs(selections: Any) -> int:
    """Pairs of fields with selections of their own under one response name:
    validation compares the selections of each pair, some 20 µs a pair however
    small (99 copies of `__schema { queryType { name } }`: 4,851 pairs, 0.1 s)."""
    names: dict[str, int] = {}
    for s in selections:
        if isinstance(s, FieldNode) and s.selection_set is not None:
            key = (s.alias or s.name).value
            names[key] = names.get(key, 0) + 1
    return sum(n * (n - 1) // 2 for n in names.values())


def _fragments(document: DocumentNode) -> dict[str, FragmentDefinitionNode]:
    return {d.name.value: d for d in document.definitions if isinstance(d, FragmentDefinitionNode)}


def _parts(
    selection_set: SelectionSetNode, fragments: dict[str, FragmentDefinitionNode]
) -> list[SelectionSetNode]:
    """The selection sets whose fields are merged into this one: its inline
    fragments' and the fragments it spreads (unknown ones: validation says so)."""
    parts = []
    for selection in selection_set.selections:
        if isinstance(selection, InlineFragmentNode):
            parts.append(selection.selection_set)
        elif isinstance(selection, FragmentSpreadNode):
            fragment = fragments.get(selection.name.value)
            if fragment is not None:
                parts.append(fragment.selection_set)
    return parts


def _flattened_fields(
    root: SelectionSetNode,
    fragments: dict[str, FragmentDefinitionNode],
    memo: dict[int, int],
) -> int:
    """The fields a selection set holds with its fragments spread into it (a
    fragment spread twice counts twice), by selection set node, memoised in
    `memo` for the whole document: each fragment is counted once however often
    it is spread. Without recursion (a chain of fragments is as long as the
    tokens allow); a fragment spread within itself counts nothing there (a
    cycle: validation reports it)."""
    active: set[int] = set()
    stack: list[tuple[SelectionSetNode, bool]] = [(root, False)]
    while stack:
        node, children_done = stack.pop()
        key = id(node)
        if key in memo or (key in active and not children_done):
            continue
        parts = _parts(node, fragments)
        if children_done:
            active.discard(key)
            fields = sum(isinstance(s, FieldNode) for s in node.selections)
            memo[key] = fields + sum(memo.get(id(part), 0) for part in parts)
            continue
        active.add(key)
        stack.append((node, True))
        stack.extend((part, False) for part in parts if id(part) not in memo)
    return memo[id(root)]


def _over(what: str, value: int, limit: int, subject: str = "") -> QueryTooComplex:
    prefix = f"{subject} " if subject else ""
    return QueryTooComplex(f"{prefix}the query {what} {value:,}; the limit is {limit:,}")


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
        # whether a variable's value counted (a page size `first: $n`)
        self.read_variables = False

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
                self.read_variables |= not is_const_value_node(argument.value)
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
    document: DocumentNode,
    operation_name: str | None,
    variables: dict[str, Any] | None,
    schema: GraphQLSchema,
    limits: Limits,
) -> bool:
    """QUERY_TOO_COMPLEX, saying the limit and the value, when the query is over one
    (the caller has scanned the text, so the document is of bounded size); else
    whether the variables' values counted, i.e. whether other values of them
    must be checked again (gateway/lean_path.py)."""
    check_breadth(document, limits)
    chosen = operation(document, operation_name)
    if chosen is None:
        return False
    fragments = _fragments(document)
    root = schema.get_root_type(chosen.operation)
    walk = _Walk(schema, fragments, variables or {}, limits)
    walk.selections(chosen.selection_set, root, 0, 1, frozenset())
    if walk.depth > limits.depth:
        raise _over("is nested this many levels deep:", walk.depth, limits.depth)
    if walk.aliases > limits.aliases:
        raise _over("has this many aliases:", walk.aliases, limits.aliases)
    if walk.nodes > limits.nodes:
        raise _over("may return this many nodes:", walk.nodes, limits.nodes)
    return walk.read_variables
