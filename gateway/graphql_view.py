"""`/graphql`: Strawberry's aiohttp view, with authentication and a fresh
per-request context."""

from __future__ import annotations

import logging
import time
from typing import Any, cast

import strawberry
from aiohttp import web
from cross_web import HTTPException
from graphql import GraphQLError, GraphQLSchema
from strawberry.aiohttp.views import GraphQLView
from strawberry.http import GraphQLHTTPResponse, GraphQLRequestData
from strawberry.types import ExecutionResult

from db.errors import Timeout, Unavailable
from db.session import Session
from gateway.auth import is_introspection_only, read_credentials
from gateway.compiled import Plans, compiled_result, encode_response
from gateway.graphiql import page_response
from gateway.keys import (
    CREDENTIALS,
    ERROR_CODES,
    EXECUTOR,
    METRICS,
    OPERATION,
    POOL,
    REQUEST_ID,
    SESSION,
    SETTINGS,
    STATEMENTS,
    TOKENS,
)
from gateway.limits import MAX_BODY_BYTES, Limits, QueryTooComplex, check_limits
from gateway.logs import log_request
from gateway.outage import RETRY_AFTER_S
from gateway.unicode import MESSAGE as SURROGATE_MESSAGE
from gateway.unicode import has_lone_surrogate
from schema.context import Context
from schema.documents import operation, parsed
from schema.errors import INTERNAL_MESSAGE, refusal

logger = logging.getLogger("envgraph.http")

_AUTH_REQUIRED = "Authentication required: send `Authorization: Bearer <token>`."

# strawberry answers transport errors (bad JSON, wrong method...) as plain text;
# they are answered here as GraphQL errors, with a code like every other error.
_HTTP_ERROR_CODES = {404: "NOT_FOUND"}


class GatewayView(GraphQLView[Context, None]):
    """The GraphQL endpoint."""

    def __init__(
        self,
        *args: Any,
        introspection: bool,
        limits: Limits,
        graphql_schema: GraphQLSchema,
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        self.introspection = introspection
        self.limits = limits
        self.graphql_schema = graphql_schema
        self.plans = Plans(cast(strawberry.Schema, self.schema))  # what build_schema makes

    async def __call__(self, request: web.Request) -> web.StreamResponse:
        metrics = request.app[METRICS]
        request[ERROR_CODES] = []
        started = time.perf_counter()
        metrics.in_flight.inc()
        try:
            response = await self._answer(request)
        finally:
            metrics.in_flight.dec()
        session = request.get(SESSION)
        codes: list[str] = request[ERROR_CODES]
        seconds = time.perf_counter() - started
        statements = session.statements if session is not None else 0
        operation_name = request.get(OPERATION)
        metrics.observe(operation_name, response.status, seconds, codes, statements)
        log_request(
            request_id=request[REQUEST_ID],
            method=request.method,
            operation=operation_name,
            status=response.status,
            seconds=seconds,
            statements=statements,
            errors=codes,
            executor=request.get(EXECUTOR),
        )
        return response

    async def _answer(self, request: web.Request) -> web.StreamResponse:
        try:
            return await self.run(request=request)
        except web.HTTPRequestEntityTooLarge:
            message = f"the request body is over {MAX_BODY_BYTES:,} bytes"
            return _error_response(413, message, "BAD_USER_INPUT", request)
        except HTTPException as error:
            code = _HTTP_ERROR_CODES.get(error.status_code, "BAD_USER_INPUT")
            return _error_response(error.status_code, error.reason, code, request)
        except (Unavailable, Timeout) as error:
            # raised outside any resolver (the token check; the session has turned
            # driver errors into these): the whole request fails
            logger.warning("database unavailable in request %s: %s", request[REQUEST_ID], error)
            response = _error_response(503, error.message, error.code, request)
            response.headers["Retry-After"] = RETRY_AFTER_S
            return response
        except Exception:
            # a bug outside any resolver: masked like those inside, never
            # aiohttp's plain-text 500
            logger.exception("internal error in request %s", request[REQUEST_ID])
            return _error_response(500, INTERNAL_MESSAGE, "INTERNAL_SERVER_ERROR", request)

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
        sub_response.content_type = "application/json"
        return sub_response

    async def render_graphql_ide(self, request: web.Request) -> web.Response:
        """GraphiQL, on vendored assets (strawberry's page loads them from a CDN)."""
        return page_response(request)

    async def get_context(self, request: web.Request, response: Any) -> Context:
        """A fresh context per request: the viewer behind the token."""
        settings = request.app[SETTINGS]
        session = request[SESSION] = Session(
            request.app[POOL],
            request.app[STATEMENTS],
            acquire_timeout_s=settings.pool_timeout_ms / 1000,
        )
        credentials = await read_credentials(
            session, request.headers.get("Authorization"), request.app[TOKENS]
        )
        request[CREDENTIALS] = credentials
        return Context(
            request_id=request[REQUEST_ID],
            session=session,
            viewer=credentials.viewer,
            default_page_size=settings.default_page_size,
            max_page_size=settings.max_page_size,
        )

    async def execute_single(  # noqa: PLR0917  (strawberry's signature)
        self,
        request: web.Request,
        request_adapter: Any,
        sub_response: web.Response,
        context: Context,
        root_value: None,
        request_data: GraphQLRequestData,
    ) -> ExecutionResult:
        """Refuse callers without a valid token (except anonymous introspection) and
        queries over a limit, before anything runs."""
        request[OPERATION] = _operation_name(request_data)
        credentials = request[CREDENTIALS]
        if credentials.viewer is None and (
            credentials.refusal is not None
            or not self.introspection
            or not is_introspection_only(request_data.query, request_data.operation_name)
        ):
            sub_response.set_status(401)
            challenge = "Bearer" if credentials.refusal is None else 'Bearer error="invalid_token"'
            sub_response.headers["WWW-Authenticate"] = challenge
            request[ERROR_CODES].append("UNAUTHENTICATED")
            return refusal(
                credentials.refusal or _AUTH_REQUIRED, "UNAUTHENTICATED", context.request_id
            )
        if has_lone_surrogate(
            (request_data.query, request_data.operation_name, request_data.variables)
        ):
            request[ERROR_CODES].append("BAD_USER_INPUT")
            return refusal(SURROGATE_MESSAGE, "BAD_USER_INPUT", context.request_id)
        try:
            check_limits(
                request_data.query,
                request_data.operation_name,
                request_data.variables,
                self.graphql_schema,
                self.limits,
            )
        except QueryTooComplex as error:
            request[ERROR_CODES].append(error.code)
            return refusal(error.message, error.code, context.request_id)
        result = await compiled_result(self.plans, request, context, request_data)
        if result is None:
            result = await super().execute_single(
                request, request_adapter, sub_response, context, root_value, request_data
            )
        request[ERROR_CODES].extend(str(_code(e)) for e in result.errors or ())
        if any(_code(e) == Unavailable.code for e in result.errors or ()):
            # no connection in time: say so at the HTTP level too, for load balancers
            sub_response.set_status(503)
            sub_response.headers["Retry-After"] = RETRY_AFTER_S
        return result


def _operation_name(request_data: GraphQLRequestData) -> str:
    """The operation's name: as asked for, or as the document names its only one."""
    if request_data.operation_name:
        return request_data.operation_name
    document = parsed(request_data.query) if request_data.query else None
    chosen = operation(document, None) if document is not None else None
    return chosen.name.value if chosen is not None and chosen.name is not None else ""


def _code(error: GraphQLError) -> object:
    return (error.extensions or {}).get("code")


def _error_response(status: int, message: str, code: str, request: web.Request) -> web.Response:
    request[ERROR_CODES].append(code)
    extensions = {"code": code, "requestId": request[REQUEST_ID]}
    return web.json_response(
        {"data": None, "errors": [{"message": message, "extensions": extensions}]}, status=status
    )
