"""Parsed GraphQL documents, cached once per query text: the view reads them
before execution (who may run an operation, whether it is within limits), the
compiled path plans from them, and strawberry executes them (schema/schema.py
hands them to its parse step), so a query text is parsed once, not three times
into three caches."""

from __future__ import annotations

from functools import lru_cache

from graphql import DocumentNode, GraphQLError, OperationDefinitionNode, parse


@lru_cache(maxsize=256)
def parsed(query: str) -> DocumentNode | None:
    """The document, or None when it does not parse (execution reports why)."""
    try:
        return parse(query)
    except GraphQLError:
        return None


def operation(document: DocumentNode, name: str | None) -> OperationDefinitionNode | None:
    """The operation a request runs (None: ambiguous or absent; execution reports it)."""
    found = [d for d in document.definitions if isinstance(d, OperationDefinitionNode)]
    if name is not None:
        found = [o for o in found if o.name is not None and o.name.value == name]
    return found[0] if len(found) == 1 else None
