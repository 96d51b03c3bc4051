"""`/graphql`: Strawberry's aiohttp view, with authentication and a fresh
per-request context."""

from __future__ import annotations

import dataclasses
import json
import logging
import time
from typing import Any, cast

from aiohttp import web
from cross_web import AsyncHTTPRequestAdapter, HTTPException
from graphql import DocumentNode, GraphQLError, GraphQLSchema, OperationType
from strawberry.aiohttp.views import GraphQLView
from strawberry.http import GraphQLHTTPResponse, GraphQLRequestData, process_result
from strawberry.types import ExecutionResult

from db.errors import Timeout, Unavailable
from db.session import Session
from gateway import off_loop, persisted, replicas
from gateway.accounting import account
from gateway.auth import is_introspection_only, read_credentials
from gateway.compiled import Plans, compiled_result, encode_response
from gateway.graphiql import page_response
from gateway.keys import (
    CONTEXT,
    CREDENTIALS,
    ERROR_CODES,
    EXECUTOR,
    LIMITS_READ_VARIABLES,
    MEDIA_TYPE,
    METRICS,
    OPERATION,
    POOL,
    READ_ONLY,
    REQUEST_ERROR,
    REQUEST_ID,
    SECRETS,
    SENT,
    SESSION,
    SETTINGS,
    STATEMENTS,
    TOKENS,
)
from gateway.lean_path import LeanPath
from gateway.limits import (
    MAX_BODY_BYTES,
    Limits,
    NestedTooDeeply,
    QueryTooComplex,
    check_limits,
    check_variables,
    nesting_limit,
    scan,
)
from gateway.media import GRAPHQL_RESPONSE_JSON, is_request_error, media_type
from gateway.outage import RETRY_AFTER_S
from gateway.unicode import MESSAGE as SURROGATE_MESSAGE
from gateway.unicode import has_lone_surrogate
from schema.context import Context
from schema.documents import forget_request_document, operation, operations
from schema.errors import INTERNAL_MESSAGE, refusal
from schema.schema import GatewaySchema
from schema.validation import forget_request_validation

logger = logging.getLogger("envgraph.http")

_AUTH_REQUIRED = "Authentication required: send `Authorization: Bearer <token>`."
# no introspection query is this long (graphql-core's fullest is 183 tokens): an
# anonymous document over it is refused before it is parsed
ANONYMOUS_MAX_TOKENS = 2_000
_SEVERAL_OPERATIONS = "the document has several operations: name the one to run in `operationName`"
_GET_MUTATION = "a GET request runs queries only: send a mutation with POST"

# strawberry answers transport errors (bad JSON, wrong method...) as plain text;
# they are answered here as GraphQL errors, with a code like every other error.
_HTTP_ERROR_CODES = {404: "NOT_FOUND"}
# a request that is not a GraphQL request: a request error, which has no `data` key
_REQUEST_ERROR_STATUSES = frozenset({400, 405, 413})


class GatewayView(GraphQLView[Context, None]):
    """The GraphQL endpoint."""

    def __init__(
        self,
        *args: Any,
        introspection: bool,
        limits: Limits,
        graphql_schema: GraphQLSchema,
        documents: persisted.Documents | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        self.introspection = introspection
        # persisted operations: registered ones by hash, or the trusted manifest's
        self.documents = documents if documents is not None else persisted.Documents()
        self.limits = limits
        self.graphql_schema = graphql_schema
        schema = cast(GatewaySchema, self.schema)  # what build_schema makes
        self.rules = schema.validation_rules
        self.plans = Plans(schema)
        # off with trusted documents: only what the manifest holds runs, which
        # the view checks
        self.lean = (
            LeanPath(self.plans, graphql_schema, limits, self.documents)
            if self.documents.trusted is None
            else None
        )

    async def __call__(self, request: web.Request) -> web.StreamResponse:
        metrics = request.app[METRICS]
        request[ERROR_CODES] = []
        started = time.perf_counter()
        metrics.request_started()
        try:
            response = await self._answer(request)
        finally:
            metrics.request_ended()
            forget_request_document()
            forget_request_validation()
        session = request.get(SESSION)
        credentials = request.get(CREDENTIALS)
        codes: list[str] = request[ERROR_CODES]
        account(
            request,
            operation=request.get(OPERATION),
            status=response.status,
            seconds=time.perf_counter() - started,
            codes=codes,
            statements=session.statements if session is not None else 0,
            executor=request.get(EXECUTOR),
            authenticated=credentials is not None and credentials.viewer is not None,
        )
        return response

    async def _answer(self, request: web.Request) -> web.StreamResponse:
        try:
            return await self._dispatch(request)
        except web.HTTPRequestEntityTooLarge:
            message = f"the request body is over {MAX_BODY_BYTES:,} bytes"
            return _error_response(413, message, "BAD_USER_INPUT", request)
        except HTTPException as error:
            code = _HTTP_ERROR_CODES.get(error.status_code, "BAD_USER_INPUT")
            return _error_response(error.status_code, error.reason, code, request)
        except (Unavailable, Timeout) as error:
            # raised outside any resolver (the token check; the session has turned
            # driver errors into these): the whole request fails
            logger.warning(
                "database unavailable in request %s: %s", request[REQUEST_ID], error.for_log()
            )
            response = _error_response(503, error.message, error.code, request)
            response.headers["Retry-After"] = RETRY_AFTER_S
            return response
        except Exception:
            # a bug outside any resolver: masked like those inside, never
            # aiohttp's plain-text 500
            logger.exception("internal error in request %s", request[REQUEST_ID])
            return _error_response(500, INTERNAL_MESSAGE, "INTERNAL_SERVER_ERROR", request)

    async def _dispatch(self, request: web.Request) -> web.StreamResponse:
        """The lean path's answer, else the view's (on the body the lean path read)."""
        lean = await self.lean.answer(request, self._context) if self.lean else None
        if lean is not None:
            return lean
        if SENT in request:
            return await self._run_sent(request, request[SENT])
        return await self.run(request=request)

    async def _run_sent(
        self, request: web.Request, request_data: GraphQLRequestData
    ) -> web.StreamResponse:
        """Strawberry's `run` for a plain POST whose body the lean path has read
        (gateway/lean_path.py): none of its websocket, IDE, method and body
        checks apply, the rest is the same calls in the same order."""
        request_adapter = self.request_adapter_class(request)
        sub_response = await self.get_sub_response(request)
        context = await self._context(request)
        result = await self.execute_single(
            request, request_adapter, sub_response, context, None, request_data
        )
        return self.create_response(await self.process_result(request, result), sub_response)

    def parse_json(self, data: str | bytes) -> Any:
        """The body as JSON: an object (or a list, which strawberry refuses while
        batching is off); anything else is a request error, never a 500."""
        try:
            text = data.decode() if isinstance(data, bytes) else data
        except UnicodeDecodeError:
            raise HTTPException(400, "the request body is not valid UTF-8") from None
        try:
            decoded = json.loads(text)
        except json.JSONDecodeError:
            raise HTTPException(400, "Unable to parse request body as JSON") from None
        except RecursionError:
            raise HTTPException(400, "the request body is nested too deeply") from None
        if not isinstance(decoded, (dict, list)):
            raise HTTPException(400, "the request body must be a JSON object")
        return decoded

    async def parse_http_body(
        self, request: AsyncHTTPRequestAdapter
    ) -> GraphQLRequestData | list[GraphQLRequestData]:
        """Strawberry's reading of the request, and the operation name's type
        (strawberry passes any JSON value on)."""
        request_data = await super().parse_http_body(request)
        for item in request_data if isinstance(request_data, list) else [request_data]:
            if not isinstance(item.operation_name, (str, type(None))):
                raise HTTPException(400, "the request's `operationName` must be a string or null")
        return request_data

    async def get_sub_response(self, request: web.Request) -> web.Response:
        """The response, in the media type the client accepts."""
        response = web.Response()
        response.content_type = request[MEDIA_TYPE] = media_type(request.headers.get("Accept"))
        return response

    async def process_result(
        self, request: web.Request, result: ExecutionResult
    ) -> GraphQLHTTPResponse:
        """A request error (nothing executed) has no `data` key."""
        processed = process_result(result)
        if request.get(REQUEST_ERROR):
            processed.pop("data", None)
        return processed

    def encode_json(self, data: object) -> bytes:
        """Compact JSON; compiled `data` goes in as it is."""
        return encode_response(data)

    def create_response(
        self,
        response_data: GraphQLHTTPResponse | list[GraphQLHTTPResponse],
        sub_response: web.Response,
    ) -> web.Response:
        """The encoded bytes as the body (strawberry would decode them to text,
        for aiohttp to encode again)."""
        sub_response.body = encode_response(response_data)
        return sub_response

    def should_render_graphql_ide(self, request: Any) -> bool:
        """GraphiQL for a browser's GET, but not for a GET of a persisted
        operation (no `query`, its hash in `extensions`)."""
        return bool(super().should_render_graphql_ide(request)) and (
            "extensions" not in request.query_params
        )

    async def render_graphql_ide(self, request: web.Request) -> web.Response:
        """GraphiQL, on vendored assets (strawberry's page loads them from a CDN)."""
        return page_response(request)

    async def get_context(self, request: web.Request, response: Any) -> Context:
        """A fresh context per request: the viewer behind the token."""
        return await self._context(request)

    async def _context(self, request: web.Request) -> Context:
        """The request's context, made once (the lean path may have made it)."""
        if CONTEXT in request:
            return request[CONTEXT]
        settings = request.app[SETTINGS]
        session = request[SESSION] = Session(
            request.app[POOL],
            request.app[STATEMENTS],
            acquire_timeout_s=settings.pool_timeout_ms / 1000,
            max_connections=settings.connections_per_request,
        )
        credentials = await read_credentials(
            session, request.headers.get("Authorization"), request.app[TOKENS]
        )
        request[CREDENTIALS] = credentials
        context = request[CONTEXT] = Context(
            request_id=request[REQUEST_ID],
            session=session,
            viewer=credentials.viewer,
            default_page_size=settings.default_page_size,
            max_page_size=settings.max_page_size,
            secrets=request.app[SECRETS],
            tokens=request.app[TOKENS],
        )
        return context

    async def execute_single(  # noqa: PLR0917  (strawberry's signature)
        self,
        request: web.Request,
        request_adapter: Any,
        sub_response: web.Response,
        context: Context,
        root_value: None,
        request_data: GraphQLRequestData,
    ) -> ExecutionResult:
        """Refuse what must not run before anything runs, cheapest checks first,
        and answer a request error as GraphQL over HTTP says."""
        resolved = await self._persisted(request, sub_response, context, request_data)
        if isinstance(resolved, ExecutionResult):
            result: ExecutionResult | None = resolved
        else:
            request_data, register_as = resolved
            result = await self._refusal(request, sub_response, context, request_data)
            if result is None and register_as is not None:
                await self._register(context, request_data, register_as)
        if result is None:
            replicas.route(request, context.session)
            result = await compiled_result(self.plans, request, context, request_data)
            if result is not None and not result.errors and self.lean is not None:
                self.lean.learn(request, request_data)
            if result is None:
                result = await super().execute_single(
                    request, request_adapter, sub_response, context, root_value, request_data
                )
            await replicas.mark_position(request, context.session, sub_response.headers)
        codes = [str(_code(e)) for e in result.errors or ()]
        request[ERROR_CODES].extend(codes)
        if Unavailable.code in codes:
            # no connection in time: say so at the HTTP level too, for load balancers
            sub_response.set_status(503)
            sub_response.headers["Retry-After"] = RETRY_AFTER_S
        if is_request_error(result):
            request[REQUEST_ERROR] = True
            if request[MEDIA_TYPE] == GRAPHQL_RESPONSE_JSON and sub_response.status == 200:
                sub_response.set_status(400)
        return result

    async def _persisted(
        self,
        request: web.Request,
        sub_response: web.Response,
        context: Context,
        request_data: GraphQLRequestData,
    ) -> tuple[GraphQLRequestData, str | None] | ExecutionResult:
        """The request with the document it runs (a persisted operation's text in
        place of its hash) and the hash to store that text under once it has
        passed the checks; or the refusal. Any document then goes the one way a
        sent document goes (gateway/persisted.py)."""
        extensions = request_data.extensions
        if self.documents.trusted is None and not (extensions and "persistedQuery" in extensions):
            return request_data, None
        credentials = request[CREDENTIALS]
        if credentials.viewer is None and (
            credentials.refusal is not None or not self.introspection
        ):
            return request_data, None  # refused as unauthenticated before any look-up
        request[OPERATION] = request_data.operation_name or ""
        try:
            resolved = await persisted.resolve(
                self.documents, context.session, request_data.query, extensions
            )
        except persisted.Refused as error:
            if error.status is not None:
                sub_response.set_status(error.status)
            if error.code == persisted.NOT_FOUND:
                sub_response.headers["Cache-Control"] = persisted.NOT_FOUND_CACHE_CONTROL
            return _refused(request, error.message, error.code, context)
        # only an authenticated caller registers (an anonymous one runs it unstored)
        register_as = resolved.register_as if credentials.viewer is not None else None
        if resolved.query is not request_data.query:
            request_data = dataclasses.replace(request_data, query=resolved.query)
        return request_data, register_as

    async def _register(self, context: Context, request_data: GraphQLRequestData, sha: str) -> None:
        """Store a persisted operation's text, sent with its hash, once it has passed
        the checks of a sent document, validation included (already done for this
        request: read again, not redone)."""
        query = cast(str, request_data.query)
        document = await off_loop.document(query)
        if document is None:
            return
        if await off_loop.validation(self.graphql_schema, query, document, self.rules):
            return
        await persisted.store(context.session, sha, query)
        self.documents.put(sha, query)

    async def _refusal(
        self,
        request: web.Request,
        sub_response: web.Response,
        context: Context,
        request_data: GraphQLRequestData,
    ) -> ExecutionResult | None:
        """Why the request is refused, or None. The order matters: nothing
        unbounded (a parse, a validation, a recursive walk) runs before the
        limits that bound it, and an anonymous caller gets no parse of a
        document that cannot be an introspection."""
        refused = await self._unread_refusal(request, sub_response, context, request_data)
        if refused is not None:
            return refused
        query, name = request_data.query, request_data.operation_name
        document = await off_loop.document(query) if query else None
        if document is not None:
            refused = self._operation_refusal(request, sub_response, context, document, name)
        # no query at all is a request error, whoever sends it (strawberry says so)
        anonymous = query is not None and request[CREDENTIALS].viewer is None
        if refused is None and anonymous and not is_introspection_only(query, name):
            refused = _unauthenticated(request, sub_response, context, None)
        if refused is None and document is not None:
            try:
                request[LIMITS_READ_VARIABLES] = await off_loop.step(
                    query, check_limits, document, name, request_data.variables,
                    self.graphql_schema, self.limits)  # fmt: skip
            except QueryTooComplex as error:
                refused = _refused(request, error.message, error.code, context)
        if refused is None and document is not None:
            # validated here, once, for whichever executor answers (both read it)
            await off_loop.validation(self.graphql_schema, cast(str, query), document, self.rules)
        return refused

    async def _unread_refusal(
        self,
        request: web.Request,
        sub_response: web.Response,
        context: Context,
        request_data: GraphQLRequestData,
    ) -> ExecutionResult | None:
        """The checks before the document is parsed: the token, the variables'
        nesting and text, the document's tokens and brackets."""
        query, name = request_data.query, request_data.operation_name
        request[OPERATION] = name or ""
        credentials = request[CREDENTIALS]
        anonymous = credentials.viewer is None
        if anonymous and (credentials.refusal is not None or not self.introspection):
            return _unauthenticated(request, sub_response, context, credentials.refusal)
        try:
            check_variables(request_data.variables, self.limits)
        except NestedTooDeeply as error:
            sub_response.set_status(400)  # refused unread, like a body that is not JSON
            return _refused(request, error.message, error.code, context)
        if has_lone_surrogate((query, name, request_data.variables)):
            return _refused(request, SURROGATE_MESSAGE, "BAD_USER_INPUT", context)
        if query:
            tokens = min(self.limits.tokens, ANONYMOUS_MAX_TOKENS) if anonymous else None
            try:
                await off_loop.step(
                    query, scan, query, tokens or self.limits.tokens, nesting_limit(self.limits)
                )
            except QueryTooComplex as error:
                if anonymous:
                    return _unauthenticated(request, sub_response, context, None)
                return _refused(request, error.message, error.code, context)
        return None

    def _operation_refusal(
        self,
        request: web.Request,
        sub_response: web.Response,
        context: Context,
        document: DocumentNode,
        name: str | None,
    ) -> ExecutionResult | None:
        """The operation to run must be named when there are several (graphql-core
        would run the first), and a GET runs queries only."""
        if name is None and len(operations(document)) > 1:
            sub_response.set_status(400)
            return _refused(request, _SEVERAL_OPERATIONS, "BAD_USER_INPUT", context)
        chosen = operation(document, name)
        if chosen is None:
            return None  # no such operation: strawberry says so
        request[READ_ONLY] = chosen.operation is OperationType.QUERY
        if chosen.name is not None:
            request[OPERATION] = chosen.name.value
        if request.method == "GET" and chosen.operation is not OperationType.QUERY:
            sub_response.set_status(405)
            sub_response.headers["Allow"] = "POST"
            return _refused(request, _GET_MUTATION, "BAD_USER_INPUT", context)
        return None


def _refused(request: web.Request, message: str, code: str, context: Context) -> ExecutionResult:
    """A refusal before execution: a request error (no `data` key)."""
    request[REQUEST_ERROR] = True
    return refusal(message, code, context.request_id)


def _unauthenticated(
    request: web.Request, sub_response: web.Response, context: Context, why: str | None
) -> ExecutionResult:
    sub_response.set_status(401)
    sub_response.headers["WWW-Authenticate"] = (
        "Bearer" if why is None else 'Bearer error="invalid_token"'
    )
    return _refused(request, why or _AUTH_REQUIRED, "UNAUTHENTICATED", context)


def _code(error: GraphQLError) -> object:
    return (error.extensions or {}).get("code")


def _error_response(status: int, message: str, code: str, request: web.Request) -> web.Response:
    request[ERROR_CODES].append(code)
    extensions = {"code": code, "requestId": request[REQUEST_ID]}
    body: dict[str, Any] = {"errors": [{"message": message, "extensions": extensions}]}
    if status not in _REQUEST_ERROR_STATUSES:  # a failure while answering: no data
        body = {"data": None, **body}
    content_type = media_type(request.headers.get("Accept"))
    return web.Response(body=encode_response(body), status=status, content_type=content_type)
