"""What the REST-style routes beside `/graphql` share (the bulk ingestion of
events, the download of an export): the bearer token turned into a viewer,
and errors answered as `{"errors": [{"message", "code", "requestId"}]}` with
the HTTP status of their code."""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable
from typing import Any
from uuid import UUID

import asyncpg
from aiohttp import web

from db.errors import DomainError
from db.session import Session
from db.viewer import Viewer
from gateway.accounting import account
from gateway.auth import read_credentials
from gateway.keys import REQUEST_ID, SETTINGS, STATEMENTS, TOKENS
from gateway.outage import RETRY_AFTER_S
from schema.ids import expect_global_id

AUTH_REQUIRED = "Authentication required: send `Authorization: Bearer <token>`."
STATUS = {
    "UNAUTHENTICATED": 401,
    "FORBIDDEN": 403,
    "NOT_FOUND": 404,
    "BAD_USER_INPUT": 400,
    "CONFLICT": 409,
    "TIMEOUT": 504,
    "SERVICE_UNAVAILABLE": 503,
}


class Answer(Exception):
    """An error answer: HTTP status, code, message (and the lines at fault)."""

    def __init__(
        self,
        status: int,
        code: str,
        message: str,
        lines: list[dict[str, Any]] | None = None,
        *,
        challenge: str | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.lines = lines
        self.challenge = challenge  # WWW-Authenticate, for a 401


async def authenticated(request: web.Request, session: Session) -> Viewer:
    """The caller behind the request's bearer token; a 401 Answer without one."""
    credentials = await read_credentials(
        session, request.headers.get("Authorization"), request.app[TOKENS]
    )
    if credentials.viewer is None:
        raise Answer(
            401,
            "UNAUTHENTICATED",
            credentials.refusal or AUTH_REQUIRED,
            challenge='Bearer error="invalid_token"' if credentials.refusal else "Bearer",
        )
    return credentials.viewer


def error_response(request: web.Request, answer: Answer) -> web.Response:
    """The JSON answer of an error, each entry with the request's id."""
    request_id = request[REQUEST_ID]
    errors = answer.lines or [{"message": answer.message, "code": answer.code}]
    response = web.json_response(
        {"errors": [{**error, "requestId": request_id} for error in errors]},
        status=answer.status,
    )
    if answer.challenge:
        response.headers["WWW-Authenticate"] = answer.challenge
    if answer.status == 503:
        response.headers["Retry-After"] = RETRY_AFTER_S
    return response


def path_id(text: str, type_name: str, not_found: str) -> UUID:
    """A path's id: the uuid or a global id of `type_name`; anything else names
    nothing (404, as an id that does not exist)."""
    try:
        return UUID(text)
    except ValueError:
        pass
    try:
        return expect_global_id(text, type_name)
    except DomainError:
        raise Answer(404, "NOT_FOUND", not_found) from None


async def answered(
    request: web.Request,
    pool: asyncpg.Pool,
    operation: str,
    work: Callable[[web.Request, Session], Awaitable[web.StreamResponse]],
) -> web.StreamResponse:
    """Run a route's `work` on a session of its own (on `pool`), answer an `Answer`
    as JSON, and account for the request in metrics and logs under the fixed
    name `operation` (nothing of the caller's reaches a label)."""
    started = time.perf_counter()
    settings = request.app[SETTINGS]
    session = Session(
        pool,
        request.app[STATEMENTS],
        acquire_timeout_s=settings.pool_timeout_ms / 1000,
        max_connections=settings.connections_per_request,
    )
    codes: list[str] = []
    try:
        response = await work(request, session)
    except Answer as answer:
        codes.append(answer.code)
        response = error_response(request, answer)
    account(
        request,
        operation=operation,
        status=response.status,
        seconds=time.perf_counter() - started,
        codes=codes,
        statements=session.statements,
        executor=None,
        authenticated=True,
    )
    return response
