"""The request session: a connection the driver lost track of is never reused."""

from __future__ import annotations

import asyncio

import pytest

from db.errors import Unavailable
from db.pool import create_pool
from db.session import Session
from tests.service import eventually


async def test_a_connection_failed_on_the_client_side_is_discarded(database_url: str) -> None:
    pool = await create_pool(database_url, size=1, statement_timeout_ms=5000)
    try:
        session = Session(pool)
        backend = await session.fetchval("SELECT pg_backend_pid()")
        # more values than the protocol can bind: asyncpg fails it after Parse,
        # half-way through the extended protocol, on the client's side
        too_many = " OR ".join(f"${n}::int = 0" for n in range(1, 35_001))
        with pytest.raises(Unavailable):
            await session.fetchval(f"SELECT 1 WHERE {too_many}", *range(35_000))
        # the one pooled connection was dropped, not handed to the next statement
        assert await session.fetchval("SELECT pg_backend_pid()") != backend
    finally:
        await pool.close()


async def test_a_statement_cancelled_midway_leaves_no_connection_behind(
    database_url: str,
) -> None:
    pool = await create_pool(database_url, size=1, statement_timeout_ms=5000)
    try:
        session = Session(pool)
        backend = await session.fetchval("SELECT pg_backend_pid()")
        sleeping = asyncio.create_task(session.fetchval("SELECT pg_sleep(3)"))
        await asyncio.sleep(0.3)
        sleeping.cancel()
        with pytest.raises(asyncio.CancelledError):
            await sleeping
        # the next statement has a connection at once, a new one
        async with asyncio.timeout(1):
            assert await session.fetchval("SELECT pg_backend_pid()") != backend
        # and the server stops the statement of the closed connection by itself
        # (client_connection_check_interval, db/pool.py), long before it would end
        gone = "SELECT NOT EXISTS (SELECT FROM pg_stat_activity WHERE pid = $1)"
        await eventually(lambda: session.fetchval(gone, backend), within_s=2)
    finally:
        await pool.close()
