"""Timeouts and an exhausted pool: coded answers, quickly, and recovery."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import replace

import asyncpg
import pytest
from aiohttp.test_utils import TestClient, TestServer

from gateway.app import create_app
from gateway.keys import METRICS
from gateway.settings import Settings
from tests.support import Client, graphql

COUNT = "{ environments { totalCount } }"


@asynccontextmanager
async def environments_locked(database_url: str) -> AsyncIterator[None]:
    """Every read of environments waits while this holds."""
    conn = await asyncpg.connect(database_url)
    try:
        async with conn.transaction():
            await conn.execute("LOCK TABLE environments IN ACCESS EXCLUSIVE MODE")
            yield
    finally:
        await conn.close()


@pytest.mark.parametrize("compiled", [True, False], ids=["compiled", "resolver"])
async def test_a_slow_statement_is_a_timeout(
    settings: Settings, database_url: str, token: str, compiled: bool
) -> None:
    app = create_app(replace(settings, statement_timeout_ms=200, compiled_reads=compiled))
    async with TestClient(TestServer(app)) as client:
        async with environments_locked(database_url):
            status, body = await graphql(client, COUNT, token)
        assert status == 200
        assert body["data"] is None
        [error] = body["errors"]
        assert (error["extensions"]["code"], error["message"]) == (
            "TIMEOUT",
            "The database took too long to answer (statement timeout).",
        )
        assert app[METRICS].sample("envgraph_errors_total", {"code": "TIMEOUT"}) == 1
        # and the service answers normally afterwards
        assert await graphql(client, COUNT, token) == (
            200,
            {"data": {"environments": {"totalCount": 0}}},
        )


async def test_an_exhausted_pool_is_503_quickly_then_recovers(
    settings: Settings, database_url: str, token: str, caplog: pytest.LogCaptureFixture
) -> None:
    busy = replace(settings, pool_size=1, pool_timeout_ms=300, statement_timeout_ms=10_000)
    client: Client
    async with TestClient(TestServer(create_app(busy))) as client:
        async with environments_locked(database_url):
            # holds the only connection, waiting for the lock
            first = asyncio.create_task(graphql(client, COUNT, token))
            await asyncio.sleep(0.5)
            started = asyncio.get_running_loop().time()
            response = await client.post(
                "/graphql", json={"query": COUNT}, headers={"Authorization": f"Bearer {token}"}
            )
            waited = asyncio.get_running_loop().time() - started
            assert response.status == 503
            assert response.headers["Retry-After"] == "5"
            body = await response.json()
            assert body["errors"][0]["extensions"]["code"] == "SERVICE_UNAVAILABLE"
            assert waited < 5  # refused at the pool timeout, not left hanging
            # the log says why (the client is told no more than the message)
            assert "no pooled connection in time" in caplog.text
            assert "pooled" not in body["errors"][0]["message"]
        assert await first == (200, {"data": {"environments": {"totalCount": 0}}})
        assert await graphql(client, COUNT, token) == (
            200,
            {"data": {"environments": {"totalCount": 0}}},
        )
