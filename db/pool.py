"""The asyncpg connection pool."""

from __future__ import annotations

from typing import Any, Protocol

import asyncpg
from asyncpg.pool import PoolConnectionProxy


async def create_pool(
    dsn: str, *, size: int, statement_timeout_ms: int, connect_timeout_s: float = 5.0
) -> asyncpg.Pool:
    """Open a pool that connects lazily, so the service starts (and `/readyz`
    can say why it is not ready) even while PostgreSQL is down."""
    return await asyncpg.create_pool(
        dsn,
        min_size=0,
        max_size=size,
        timeout=connect_timeout_s,
        reset=_keep_session,
        server_settings={
            "application_name": "envgraph",
            "statement_timeout": str(statement_timeout_ms),
        },
    )


async def _keep_session(_: asyncpg.Connection) -> None:
    """What the pool does to a connection it takes back, besides rolling back an
    open transaction (which asyncpg always does): nothing. Its default costs a
    round trip per release (`RESET ALL; UNLISTEN *; CLOSE ALL; advisory
    unlock`), and pooled connections never change session state: settings
    are given at connect time, and advisory locks and LISTEN are used only on
    connections of their own (migrations)."""


# A connection of its own or one borrowed from the pool.
Connection = asyncpg.Connection | PoolConnectionProxy


class Queryable(Protocol):
    """What a single-statement function takes: a pool (it borrows a connection
    for that statement), a connection (it runs inside the caller's
    transaction) or a request's counting session."""

    async def fetch(self, query: str, *args: Any) -> list[Any]:
        """All rows."""

    async def fetchrow(self, query: str, *args: Any) -> Any:
        """The first row, or None."""

    async def fetchval(self, query: str, *args: Any) -> Any:
        """The first value."""
