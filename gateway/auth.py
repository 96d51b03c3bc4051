"""Bearer tokens: from an `Authorization` header to a `Viewer`, or a refusal."""

from __future__ import annotations

from dataclasses import dataclass

from graphql import (
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    InlineFragmentNode,
    OperationType,
    SelectionSetNode,
)

from db.pool import Queryable
from db.tokens import authenticate
from db.viewer import Viewer
from gateway.documents import operation, parsed

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


def is_introspection_only(query: str | None, operation_name: str | None) -> bool:
    """True when the operation selects nothing but introspection fields (fragments
    followed), so that it may run without a token."""
    document = parsed(query) if query else None
    if document is None:
        return False
    chosen = operation(document, operation_name)
    if chosen is None or chosen.operation != OperationType.QUERY:
        return False
    fragments = {
        d.name.value: d for d in document.definitions if isinstance(d, FragmentDefinitionNode)
    }
    return _only_introspection(chosen.selection_set, fragments, set())


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
