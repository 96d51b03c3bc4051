"""Hostile requests against the pool: no statement the driver cannot send, no
request holding every connection, no request hanging on a frozen database,
and no connection reused after the driver lost track of it (issue 17)."""

from __future__ import annotations

import asyncio
import os
import signal
import time
from collections.abc import AsyncIterator
from dataclasses import replace
from typing import Any

import asyncpg
import pytest
from aiohttp.test_utils import TestClient, TestServer

from db.demo import seed_demo
from gateway.app import create_app
from gateway.keys import STATEMENTS
from gateway.settings import Settings
from tests.support import Client, graphql

ENVIRONMENTS = "query ($f: EnvironmentFilter) { environments(filter: $f) { totalCount } }"
# 7,000 x 5 comparisons: 35,000 values, over what PostgreSQL's protocol can bind
BOMB = {"or": [{"sortOrder": {"gt": 1, "lt": 2, "neq": 3, "gte": 4, "lte": 5}}] * 7_000}
SLEEP = "SELECT pg_sleep($1)"


@pytest.fixture
async def small_pool(settings: Settings) -> AsyncIterator[Client]:
    """The app on a pool of ONE connection: whatever one request leaves on it,
    the next one finds."""
    app = create_app(replace(settings, pool_size=1))
    async with TestClient(TestServer(app)) as client:
        yield client


async def _count(client: Client, query: str, token: str, **variables: Any) -> tuple[Any, int]:
    before = client.app[STATEMENTS].total
    status, body = await graphql(client, query, token, **variables)
    return (status, body), client.app[STATEMENTS].total - before


@pytest.mark.parametrize("compiled", [True, False])
async def test_a_filter_over_the_parameter_budget_is_refused_before_any_sql(
    settings: Settings, conn: asyncpg.Connection, token: str, compiled: bool
) -> None:
    app = create_app(replace(settings, pool_size=1, compiled_reads=compiled))
    async with TestClient(TestServer(app)) as client:
        (status, body), statements = await _count(client, ENVIRONMENTS, token, f=BOMB)
        assert status == 200
        assert body["data"] is None
        [found] = body["errors"]
        assert (found["extensions"]["code"], found["message"]) == (
            "QUERY_TOO_COMPLEX",
            "the query needs more than 10,000 values in one statement (a filter too long?)",
        )
        assert statements == 1  # the token check: nothing of the filter reached PostgreSQL
        # and the one pooled connection serves the next request (another tenant's)
        (status, body), _ = await _count(client, ENVIRONMENTS, token, f={"sortOrder": {"gt": 1}})
        assert (status, body) == (200, {"data": {"environments": {"totalCount": 0}}})


async def test_just_under_the_budget_runs(client: Client, token: str) -> None:
    fits = {"or": [{"sortOrder": {"gt": 1, "lt": 2, "neq": 3, "gte": 4, "lte": 5}}] * 1_000}
    (status, body), statements = await _count(client, ENVIRONMENTS, token, f=fits)
    assert (status, body, statements) == (200, {"data": {"environments": {"totalCount": 0}}}, 2)


async def _backends(conn: asyncpg.Connection) -> list[int]:
    """The server processes of the app's pooled connections."""
    rows = await conn.fetch(
        "SELECT pid FROM pg_stat_activity"
        " WHERE datname = current_database() AND application_name = 'envgraph'"
    )
    return [row["pid"] for row in rows]


async def test_a_frozen_database_is_a_timeout_not_a_hang(
    settings: Settings, conn: asyncpg.Connection, token: str
) -> None:
    # the token is checked once (cached), so that what freezes is the query itself
    frozen = replace(settings, pool_size=1, statement_timeout_ms=500, auth_cache_s=60)
    async with TestClient(TestServer(create_app(frozen))) as client:
        assert (await graphql(client, ENVIRONMENTS, token))[0] == 200
        [backend] = await _backends(conn)
        os.kill(backend, signal.SIGSTOP)  # as a frozen server, to this connection
        try:
            started = time.monotonic()
            async with asyncio.timeout(15):
                status, body = await graphql(client, ENVIRONMENTS, token)
            waited = time.monotonic() - started
        finally:
            os.kill(backend, signal.SIGCONT)
        assert (status, body["data"]) == (200, None)
        [found] = body["errors"]
        assert (found["extensions"]["code"], found["message"]) == (
            "TIMEOUT",
            "The database took too long to answer (statement timeout).",
        )
        # the statement timeout and the client's margin (db/pool.py), not the freeze
        assert 2.5 <= waited < 4.0, waited
        # the connection the driver gave up on is not reused: the next request
        # gets a new one and its answer
        assert (await graphql(client, ENVIRONMENTS, token))[0] == 200
        assert backend not in await _backends(conn)


@pytest.mark.parametrize("share", [2, 3])
async def test_one_request_holds_at_most_its_share_of_the_pool(
    settings: Settings, conn: asyncpg.Connection, token: str, share: int
) -> None:
    await seed_demo(conn, 1)
    # the resolver path runs root fields concurrently, each statement on a
    # pooled connection: 29 aliases of a list that waits (here on a lock)
    resolvers = replace(
        settings,
        pool_size=10,
        compiled_reads=False,
        pool_timeout_ms=1000,
        connections_per_request=share,
    )
    wide = "{ " + " ".join(f"a{n}: environments {{ totalCount }}" for n in range(29)) + " }"
    async with TestClient(TestServer(create_app(resolvers))) as client:
        async with conn.transaction():
            await conn.execute("LOCK TABLE environments IN ACCESS EXCLUSIVE MODE")
            hog = asyncio.create_task(graphql(client, wide, token))
            await asyncio.sleep(1.0)
            # the hog waits on its share of connections, not on the pool's ten
            waiting = await conn.fetchval(
                "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database()"
                " AND application_name = 'envgraph' AND wait_event_type = 'Lock'"
            )
            assert waiting == share
            # another request gets a connection at once
            started = time.monotonic()
            status, body = await graphql(client, "{ viewer { user { email } } }", token)
            assert (status, body) == (
                200,
                {"data": {"viewer": {"user": {"email": "ada@example.com"}}}},
            )
            assert time.monotonic() - started < 0.5
        status, body = await hog
        assert status == 200
        assert body["data"]["a28"] == {"totalCount": 36}
