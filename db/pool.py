"""The asyncpg connection pool."""

from __future__ import annotations

from typing import Any, Protocol

import asyncpg
from asyncpg.pool import PoolConnectionProxy

# How long past the statement timeout the client gives up on the server: the
# server's own timeout answers first whenever the server runs at all; this one
# only fires when it does not (frozen, or a network partition that keeps the
# socket open), so that a request never hangs for as long as the server does.
CLIENT_TIMEOUT_MARGIN_S = 2.0
CONNECTION_CHECK_MS = 500


async def create_pool(
    dsn: str,
    *,
    size: int,
    statement_timeout_ms: int,
    connect_timeout_s: float = 5.0,
    transaction_pooling: bool = False,
    application_name: str = "envgraph",
) -> asyncpg.Pool:
    """Open a pool that connects lazily, so the service starts (and `/readyz`
    can say why it is not ready) even while PostgreSQL is down.

    Behind a pooler in transaction mode (`transaction_pooling`), consecutive
    transactions of one connection may reach different server sessions: no
    named prepared statements (asyncpg's statement cache off), and no session
    settings at connect time (PgBouncer refuses startup parameters it does not
    know, and would not carry them to the next server session anyway) — the
    statement timeout is then the database's or role's setting
    (README, "Running on more than one machine")."""
    settings = {
        "application_name": application_name,
        "statement_timeout": str(statement_timeout_ms),
        # a connection db/session.py discards mid-statement (a request
        # cancelled, a client-side error) is closed, not cancelled: the
        # server checks for a closed socket while it runs and stops
        "client_connection_check_interval": str(CONNECTION_CHECK_MS),
        # the compiled reads are single statements whose cost estimates (one
        # JSON document from many subqueries) pass the JIT thresholds while
        # they run in milliseconds: compiling them cost 1.3 s of a 1.45 s
        # event series on a server with PostgreSQL's default `jit = on`
        "jit": "off",
    }
    pool: asyncpg.Pool = await asyncpg.create_pool(
        dsn,
        min_size=0,
        max_size=size,
        max_queries=50_000,
        max_inactive_connection_lifetime=300.0,
        timeout=connect_timeout_s,
        command_timeout=statement_timeout_ms / 1000 + CLIENT_TIMEOUT_MARGIN_S,
        reset=_keep_session,
        statement_cache_size=0 if transaction_pooling else 100,
        server_settings={"application_name": application_name} if transaction_pooling else settings,
    )
    return pool


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
