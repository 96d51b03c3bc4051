"""Bearer tokens: from an `Authorization` header to a `Viewer`, or a refusal."""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

from graphql import (
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLError,
    InlineFragmentNode,
    OperationDefinitionNode,
    OperationType,
    SelectionSetNode,
    parse,
)

from db.pool import Queryable
from db.tokens import authenticate
from db.viewer import Viewer

# What an anonymous caller may ask: the schema, and nothing of the data.
_INTROSPECTION_FIELDS = frozenset({"__schema", "__type", "__typename", "_service"})


@dataclass(frozen=True, slots=True)
class Credentials:
    """The outcome of reading the header: a viewer, or why there is none."""

    viewer: Viewer | None
    # None: no token was sent (anonymous); otherwise why the token was refused
    refusal: str | None = None


async def read_credentials(conn: Queryable, header: str | None) -> Credentials:
    """Check the `Authorization` header against the stored tokens."""
    if not header:
        return Credentials(None)
    scheme, _, token = header.strip().partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        return Credentials(None, "The Authorization header must be `Bearer <token>`.")
    viewer = await authenticate(conn, token.strip())
    if viewer is None:
        return Credentials(None, "The token is invalid, expired or revoked.")
    return Credentials(viewer)


@lru_cache(maxsize=256)
def is_introspection_only(query: str | None, operation_name: str | None) -> bool:
    """True when the operation selects nothing but introspection fields (fragments
    followed), so that it may run without a token."""
    if not query:
        return False
    try:
        document = parse(query)
    except GraphQLError:
        return False
    operations = [d for d in document.definitions if isinstance(d, OperationDefinitionNode)]
    if operation_name is not None:
        operations = [o for o in operations if o.name and o.name.value == operation_name]
    if len(operations) != 1 or operations[0].operation != OperationType.QUERY:
        return False
    fragments = {
        d.name.value: d for d in document.definitions if isinstance(d, FragmentDefinitionNode)
    }
    return _only_introspection(operations[0].selection_set, fragments, set())


def _only_introspection(
    selection_set: SelectionSetNode,
    fragments: dict[str, FragmentDefinitionNode],
    seen: set[str],
) -> bool:
    for selection in selection_set.selections:
        if isinstance(selection, FieldNode):
            if selection.name.value not in _INTROSPECTION_FIELDS:
                return False
        elif isinstance(selection, InlineFragmentNode):
            if not _only_introspection(selection.selection_set, fragments, seen):
                return False
        elif isinstance(selection, FragmentSpreadNode):
            name = selection.name.value
            if name in seen:  # a cycle is invalid anyway; validation will say so
                continue
            fragment = fragments.get(name)
            if fragment is None or not _only_introspection(
                fragment.selection_set, fragments, seen | {name}
            ):
                return False
    return True
