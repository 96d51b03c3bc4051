"""GraphQL over HTTP: which media type a response has, and which results are
request errors.

`application/graphql-response+json` is answered when the client accepts it
(at least as readily as `application/json`); a request error (nothing was
executed: the document did not parse or validate, the variables did not
coerce, a limit or the token refused it) then gets HTTP 400. Any other client
(`application/json`, `*/*`, no Accept) gets `application/json` and the statuses
it always got. Under both, a request error has no `data` key.
"""

from __future__ import annotations

from strawberry.types import ExecutionResult

JSON = "application/json"
GRAPHQL_RESPONSE_JSON = "application/graphql-response+json"

# codes only ever given before execution, or (BAD_USER_INPUT) by a resolver,
# whose errors have a path
_REQUEST_ERROR_CODES = frozenset({
    "UNAUTHENTICATED", "BAD_USER_INPUT", "GRAPHQL_PARSE_FAILED", "GRAPHQL_VALIDATION_FAILED",
    "QUERY_TOO_COMPLEX", "PERSISTED_QUERY_NOT_FOUND", "OPERATION_NOT_ALLOWED",
})  # fmt: skip


def _quality(accept: str, media: str) -> float:
    """How readily the Accept header takes this very type (0: not named)."""
    best = 0.0
    for part in accept.split(","):
        kind, *parameters = (p.strip() for p in part.split(";"))
        if kind.lower() != media:
            continue
        quality = 1.0
        for parameter in parameters:
            key, _, value = parameter.partition("=")
            if key.strip().lower() == "q":
                try:
                    quality = float(value)
                except ValueError:
                    quality = 0.0
        best = max(best, quality)
    return best


def media_type(accept: str | None) -> str:
    """The media type of the answer to a request with this Accept header."""
    if not accept:
        return JSON
    preferred = _quality(accept, GRAPHQL_RESPONSE_JSON)
    return GRAPHQL_RESPONSE_JSON if preferred > 0 and preferred >= _quality(accept, JSON) else JSON


def is_request_error(result: ExecutionResult) -> bool:
    """Whether the result is a failure before execution (no `data`, by the spec)."""
    if result.data is not None or not result.errors:
        return False
    return all(
        error.path is None and (error.extensions or {}).get("code") in _REQUEST_ERROR_CODES
        for error in result.errors
    )
