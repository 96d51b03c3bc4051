"""Every GraphQL error leaves with `extensions.code` and `extensions.requestId`.

The code follows from where the error arose: the parser, the validator, the
coercion of variables, or a resolver raising a domain error. Anything else is
a bug or an outage: its message is masked and it is logged in full with the
request id, so the client gets no stack, SQL or driver name.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Sequence
from typing import Any

from graphql import (
    FieldNode,
    GraphQLError,
    ListTypeNode,
    NonNullTypeNode,
    VariableDefinitionNode,
    located_error,
)
from strawberry.types import ExecutionContext, ExecutionResult

from db.errors import DomainError, Unavailable

logger = logging.getLogger("envgraph.errors")

INTERNAL_MESSAGE = "Internal server error"
# inputs carrying a secret's value: an error about a variable of theirs never
# quotes what was sent (graphql-core's do: "..., found: {...}")
SECRET_INPUTS = frozenset({"CreateSecretInput", "UpdateSecretInput"})
_QUOTED = re.compile(r"(, found|value): .*\Z", re.DOTALL)


def refusal(message: str, code: str, request_id: str) -> ExecutionResult:
    """No data and one coded error: a request refused (or failed) outside execution."""
    extensions = {"code": code, "requestId": request_id}
    return ExecutionResult(data=None, errors=[GraphQLError(message, extensions=extensions)])


def field_failure(
    error: DomainError, nodes: Sequence[FieldNode], key: str, request_id: str
) -> ExecutionResult:
    """No data and the error of the root field `key` (written at `nodes`) whose
    resolver raised `error`: what executing it would answer, its non-null payload
    failing the whole `data`."""
    located = located_error(error, list(nodes), [key])  # a tuple would be one node
    classify_errors([located], None)
    located.extensions = {**(located.extensions or {}), "requestId": request_id}
    return ExecutionResult(data=None, errors=[located])


def _code(error: GraphQLError, execution_context: ExecutionContext | None) -> str:
    original = error.original_error
    if isinstance(original, DomainError):
        return original.code
    if execution_context is not None and execution_context.graphql_document is None:
        return "GRAPHQL_PARSE_FAILED"
    if execution_context is not None and execution_context.result is None:
        return "GRAPHQL_VALIDATION_FAILED"
    if error.path is None:
        # raised while coercing variables, before any resolver ran
        return "BAD_USER_INPUT"
    return "INTERNAL_SERVER_ERROR"


def _variable_type(error: GraphQLError) -> str | None:
    node = error.nodes[0] if error.nodes else None
    if not isinstance(node, VariableDefinitionNode):
        return None
    type_node: Any = node.type
    while isinstance(type_node, (NonNullTypeNode, ListTypeNode)):
        type_node = type_node.type
    name: str = type_node.name.value
    return name


def _unquoted(error: GraphQLError) -> None:
    """Drop the value a coercion error of a secret's input quotes."""
    if _variable_type(error) not in SECRET_INPUTS:
        return
    inner = error.original_error
    if isinstance(inner, GraphQLError) and error.message.endswith(inner.message):
        head = error.message[: len(error.message) - len(inner.message)]
        error.message = head + _QUOTED.sub(r"\1 (not shown).", inner.message)
    else:  # a shape not foreseen: say nothing of the value
        error.message = "a variable of a secret's input is invalid (its value is not shown)"


def classify_errors(errors: list[GraphQLError], execution_context: ExecutionContext | None) -> None:
    """Give each error its code and the request id; mask and log internal ones."""
    context: Any = execution_context.context if execution_context is not None else None
    request_id = getattr(context, "request_id", None)
    for error in errors:
        extensions = dict(error.extensions or {})
        if "code" not in extensions:  # strawberry may hand the same error over twice
            code = _code(error, execution_context)
            extensions["code"] = code
            if code == "BAD_USER_INPUT" and error.path is None:
                _unquoted(error)
            original = error.original_error
            if isinstance(original, DomainError) and original.field is not None:
                extensions["field"] = original.field
            if code == "INTERNAL_SERVER_ERROR":
                logger.error(
                    "internal error in request %s at %s: %s",
                    request_id,
                    error.path,
                    error.message,
                    exc_info=original,
                )
                error.message = INTERNAL_MESSAGE
            elif isinstance(original, Unavailable):
                logger.warning(
                    "database unavailable in request %s at %s: %s",
                    request_id,
                    error.path,
                    original.for_log(),
                )
        if request_id is not None:
            extensions["requestId"] = request_id
        error.extensions = extensions
