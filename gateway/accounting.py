"""What every answered request leaves behind: its metrics and its log line, the
same for `/graphql` and the bulk route."""

from __future__ import annotations

from collections.abc import Sequence

from aiohttp import web

from gateway.keys import METRICS, REQUEST_ID
from gateway.logs import log_request


def account(
    request: web.Request,
    *,
    operation: str | None,
    status: int,
    seconds: float,
    codes: Sequence[str],
    statements: int,
    executor: str | None,
    authenticated: bool,
) -> None:
    """Count the request in /metrics and write its log line (an anonymous caller's
    operation name is neither shown nor given a series)."""
    request.app[METRICS].observe(
        operation if authenticated else None,
        status,
        seconds,
        codes,
        statements,
        authenticated=authenticated,
    )
    log_request(
        request_id=request[REQUEST_ID],
        method=request.method,
        operation=operation,
        status=status,
        seconds=seconds,
        statements=statements,
        errors=codes,
        executor=executor,
    )
