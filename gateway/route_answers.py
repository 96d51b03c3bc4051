"""What the REST-style routes beside `/graphql` share (the bulk ingestion of
events, the download of an export): the bearer token turned into a viewer,
and errors answered as `{"errors": [{"message", "code", "requestId"}]}` with
the HTTP status of their code."""

from __future__ import annotations

from typing import Any

from aiohttp import web

from db.session import Session
from db.viewer import Viewer
from gateway.auth import read_credentials
from gateway.keys import REQUEST_ID, TOKENS
from gateway.outage import RETRY_AFTER_S

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
