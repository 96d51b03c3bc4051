"""The lean path: a read (or a one-statement write) this process has answered
with the compiled executor before, answered again in front of Strawberry's view.

A small request spent most of its Python outside the statement: Strawberry's
view (websocket checks, body and content-type parsing, its request objects),
then the checks of a document seen for the first time. For a document the
process already knows to be a valid, single, within-limits query that the
compiled executor answered, the lean path does only what varies per request:
the body's JSON, the variables' checks (nesting, text, and the limits again
only if the variables' values counted there, as `first: $n` does), the token,
the plan (by shape) and its one statement. The answer, its log line and its
metrics are the view's own (the view's `__call__` accounts for both).

Anything else is passed on to the view unchanged, with what the lean path
learnt kept on the request (gateway/keys.py) so that nothing runs twice: the
token check, the compiled attempt. Only plain requests are lean, for an
authenticated caller: POST of `application/json` with `query`, `variables` and
`operationName` only (no query string), or GET of a persisted query by its hash
alone whose text this process holds (gateway/persisted.py: its LRU; a hash it
does not hold needs the database, a hash with its text registers: the view).
Not in trusted-documents mode (the view checks the manifest).
"""

from __future__ import annotations

import json
from collections import OrderedDict
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import Any

from aiohttp import web
from graphql import GraphQLSchema
from strawberry.http import GraphQLRequestData

from gateway import off_loop, persisted, replicas
from gateway.compiled import MAX_PLANS, Plans, compiled_result, encode_response
from gateway.keys import (
    COMPILED_ANSWER,
    LIMITS_READ_VARIABLES,
    MEDIA_TYPE,
    OPERATION,
    READ_ONLY,
    SENT,
)
from gateway.limits import Limits, NestedTooDeeply, QueryTooComplex, check_limits, check_variables
from gateway.media import media_type
from gateway.unicode import has_lone_surrogate
from schema.context import Context
from schema.documents import cached

_PLAIN_KEYS = frozenset({"query", "variables", "operationName"})
_PERSISTED_KEYS = frozenset({"variables", "operationName", "extensions"})


@dataclass(frozen=True, slots=True)
class Known:
    """What the view found out about a document, true for every request of it."""

    operation: str  # the name logs and metrics give it
    limits_read_variables: bool
    read_only: bool  # a query (a replica may answer), not a mutation


def is_plain(request: web.Request) -> bool:
    """A POST of JSON with nothing in the URL, or a GET: the only requests the lean
    path takes."""
    if request.method == "GET":
        return True
    return (
        request.method == "POST"
        and request.content_type == "application/json"
        and not request.query_string
    )


class LeanPath:
    """Known documents, least recently used first out, and the answers to them."""

    def __init__(
        self, plans: Plans, schema: GraphQLSchema, limits: Limits, documents: persisted.Documents
    ) -> None:
        self.plans, self.schema, self.limits = plans, schema, limits
        self.documents = documents
        self._known: OrderedDict[tuple[str, str | None], Known] = OrderedDict()

    def learn(self, request: web.Request, request_data: GraphQLRequestData) -> None:
        """After the view's compiled answer to a plain request: its document is known."""
        query = request_data.query
        if (
            query is None
            or not (set(request_data.extensions or ()) <= {"persistedQuery"})
            or not is_plain(request)
            or not cached(query)  # a one-off text is not kept (nor is its plan)
        ):
            return
        key = (query, request_data.operation_name)
        self._known[key] = Known(
            request.get(OPERATION, ""),
            request.get(LIMITS_READ_VARIABLES, True),
            request.get(READ_ONLY, True),
        )
        if len(self._known) > MAX_PLANS:
            self._known.popitem(last=False)

    async def answer(
        self, request: web.Request, context_for: Callable[[web.Request], Awaitable[Context]]
    ) -> web.Response | None:
        """The response to a request of a known document, or None: the view answers."""
        plain = is_plain(request) and not _streams(request.headers.get("Accept", ""))
        sent = await self._sent(request) if plain else None
        if sent is None:
            return None
        query, variables, name = sent
        request_data = GraphQLRequestData(
            query=query, variables=variables, operation_name=name, extensions=None
        )
        if request.method == "POST":
            request[SENT] = request_data
        known = self._known.get((query, name))
        if (
            known is None
            or (request.method == "GET" and not known.read_only)  # the view refuses it
            or not self._variables_pass(name, variables)
        ):
            return None
        context = await context_for(request)
        if context.viewer is None:
            return None
        if known.limits_read_variables and not await self._within_limits(query, name, variables):
            return None
        request[OPERATION], request[READ_ONLY] = known.operation, known.read_only
        request[MEDIA_TYPE] = media_type(request.headers.get("Accept"))
        replicas.route(request, context.session)
        result = request[COMPILED_ANSWER] = await compiled_result(
            self.plans, request, context, request_data
        )
        if result is None or result.errors:  # the view answers, as it would have
            return None
        self._known.move_to_end((query, name))
        response = web.Response(
            body=encode_response({"data": result.data}), content_type=request[MEDIA_TYPE]
        )
        await replicas.mark_position(request, context.session, response.headers)
        return response

    def _variables_pass(self, name: str | None, variables: Any) -> bool:
        """The view's checks of the parts that vary (the text is known)."""
        try:
            check_variables(variables, self.limits)
        except NestedTooDeeply:
            return False
        return not has_lone_surrogate((name, variables))

    async def _within_limits(self, query: str, name: str | None, variables: Any) -> bool:
        document = await off_loop.document(query)
        if document is None:
            return False
        try:
            await off_loop.step(query, check_limits, document, name, variables,
                                self.schema, self.limits)  # fmt: skip
        except QueryTooComplex:
            return False
        return True

    async def _sent(self, request: web.Request) -> _Sent | None:
        """The request's query, variables and operation name, if it is plain; else
        None (the view says what is wrong, or answers what the lean path does not)."""
        if request.method == "GET":
            return self._persisted(request.query)
        try:
            # as the view reads it: UTF-8 only (json.loads would guess UTF-16 or
            # 32 from bytes), and not orjson (it turns integers past 64 bits to floats)
            data = json.loads((await request.read()).decode())
        except (ValueError, RecursionError):  # UnicodeDecodeError is a ValueError
            return None
        if type(data) is not dict or not data.keys() <= _PLAIN_KEYS:
            return None
        query, variables, name = data.get("query"), data.get("variables"), data.get("operationName")
        return _typed(query, variables, name)

    def _persisted(self, params: Mapping[str, str]) -> _Sent | None:
        """A GET of a persisted query by its hash alone, whose text is held here."""
        if not params.keys() <= _PERSISTED_KEYS or len(params) != len(set(params)):
            return None
        try:
            extensions = json.loads(params.get("extensions", "null"))
            variables = json.loads(params.get("variables", "null"))
            if type(extensions) is not dict or extensions.keys() != {"persistedQuery"}:
                return None
            sha = persisted.requested_hash(extensions)
        except (ValueError, RecursionError, persisted.Refused):
            return None
        query = self.documents.get(sha) if sha is not None else None
        return _typed(query, variables, params.get("operationName"))


_Sent = tuple[str, dict[str, Any] | None, str | None]


def _streams(accept: str) -> bool:
    """Whether the Accept header may ask Strawberry for a streamed answer (multipart
    or server-sent events): its own reading of the request decides those."""
    return "multipart" in accept or "event-stream" in accept


def _typed(query: Any, variables: Any, name: Any) -> _Sent | None:
    """The three, if they are of the types they must have."""
    if (
        type(query) is not str
        or not (variables is None or type(variables) is dict)
        or not (name is None or type(name) is str)
    ):
        return None
    return query, variables, name
