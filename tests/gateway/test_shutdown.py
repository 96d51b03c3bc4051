"""Stopping and disconnecting: in-flight requests finish, connections come back."""

from __future__ import annotations

import asyncio
import signal
import socket
import time

import aiohttp
import asyncpg

from schema.ids import global_id
from tests.gateway.test_outage import COUNT, environments_locked
from tests.load import Load, demo_writer, writable_models
from tests.service import Service, eventually, post_async, waiting_on_locks
from tests.support import VIEWER_QUERY


def _refused(port: int) -> bool:
    with socket.socket() as sock:
        return sock.connect_ex(("127.0.0.1", port)) != 0


async def test_sigterm_lets_in_flight_requests_finish(
    database_url: str, conn: asyncpg.Connection, token: str
) -> None:
    with Service("--workers", "2", env={"DATABASE_URL": database_url}) as service:
        await asyncio.to_thread(service.ready)
        async with aiohttp.ClientSession() as http:
            async with environments_locked(database_url):
                in_flight = [
                    asyncio.create_task(post_async(http, service, COUNT, token)) for _ in range(6)
                ]

                async def all_waiting() -> bool:
                    return await waiting_on_locks(conn) == 6

                await eventually(all_waiting)
                service.process.send_signal(signal.SIGTERM)

                async def closed() -> bool:
                    return await asyncio.to_thread(_refused, service.port)

                # no new connection is taken while the old requests still run
                await eventually(closed)
                assert not any(task.done() for task in in_flight)
                assert service.process.poll() is None
            # the lock is gone: every request that was in flight is answered
            answers = await asyncio.gather(*in_flight)
        assert answers == [(200, {"data": {"environments": {"totalCount": 0}}})] * 6
        assert await asyncio.to_thread(service.process.wait, 60) == 0


async def test_a_client_that_goes_away_gives_its_connection_back(
    database_url: str, conn: asyncpg.Connection, token: str
) -> None:
    env = {
        "DATABASE_URL": database_url,
        "GATEWAY_POOL_SIZE": "1",
        "GATEWAY_POOL_TIMEOUT_MS": "10000",
        "GATEWAY_STATEMENT_TIMEOUT_MS": "600000",
    }
    with Service(env=env) as service:
        await asyncio.to_thread(service.ready)
        async with environments_locked(database_url):
            async with aiohttp.ClientSession() as http:
                stuck = asyncio.create_task(post_async(http, service, COUNT, token))

                async def waiting() -> bool:
                    return await waiting_on_locks(conn) == 1

                await eventually(waiting)
            # the client session is closed: the request's connection is gone
            stuck.cancel()

            async def cancelled() -> bool:
                return await waiting_on_locks(conn) == 0

            # the statement is cancelled in PostgreSQL, though the lock still holds
            await eventually(cancelled, within_s=5)
            async with aiohttp.ClientSession() as http:
                # the only pooled connection is free again: answered at once,
                # not after the 10 s pool timeout
                async with asyncio.timeout(3):
                    status, body = await post_async(http, service, VIEWER_QUERY, token)
        assert status == 200, body
        assert body["data"]["viewer"]["user"]["email"] == "ada@example.com"
        assert service.stop() == 0


async def test_sigterm_under_load_answers_every_request_it_took(
    database_url: str, conn: asyncpg.Connection
) -> None:
    token = await demo_writer(conn)
    env = {"DATABASE_URL": database_url, "GATEWAY_LOG_LEVEL": "warning"}
    with Service("--workers", "2", env=env) as service:
        await asyncio.to_thread(service.ready)
        load = Load(service, token, writable_models(service, token), clients=20)
        running = asyncio.create_task(load.run(3600))
        await asyncio.sleep(2)
        stopped_at = time.monotonic()
        service.process.send_signal(signal.SIGTERM)
        assert await asyncio.to_thread(service.process.wait, 60) == 0
        load.stop_at = 0
        answers = await running
    before = [a for a in answers if a.at < stopped_at]
    assert len(before) > 20
    # whatever got an HTTP answer, before or after the signal, was answered in full
    assert {(a.status, a.codes) for a in answers} <= {(200, ()), (0, ())}
    # refused or cut only once the port closed (a keep-alive connection may
    # be closed under a request just being sent: HTTP's own race)
    assert {a.status for a in before if a.at + a.seconds < stopped_at} == {200}
    # every acknowledged write is in the database
    in_database = {global_id("Segment", uuid) for uuid in await conn.fetchval(
        "SELECT array_agg(id) FROM segments WHERE name LIKE 'load-%'"
    )}  # fmt: skip
    created = {a.created for a in answers if a.created is not None}
    assert created
    assert created <= in_database
