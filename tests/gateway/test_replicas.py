"""Reads on a streaming replica (DATABASE_REPLICA_URLS), with read-your-writes
through `X-Envgraph-Consistency`, on a primary and a replica made for the test
(bench/replication.py): reads of both executors reach the replica (its own
pg_stat_statements counts them, the primary's does not); with its replay paused, a
read carrying a mutation's position sees the write (the primary answers) and
one without it does not wait; a replica too far behind is skipped; a replica
stopped costs no answer."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Iterator
from typing import Any

import asyncpg
import pytest
from aiohttp.test_utils import TestClient, TestServer

from bench.replication import Replicated
from db import migrations
from db.demo import seed_demo
from gateway.app import create_app
from gateway.keys import METRICS, STATEMENTS
from gateway.replicas import CONSISTENCY_HEADER, parse_lsn
from gateway.settings import Settings
from tests.ingest_support import environment_id, environment_uuid, event, ndjson
from tests.schema.conftest import Tokens, issue_tokens
from tests.support import Client

_CREATE = """mutation($org: ID!, $name: String!) {
  createProject(input: {organizationId: $org, name: $name}) { project { name } } }"""
_FIND = "query($name: String!) { projects(filter: {name: {eq: $name}}) { totalCount } }"


@pytest.fixture(scope="module")
def replicated() -> Iterator[Replicated]:
    with Replicated(statements=True) as pair:
        yield pair


@pytest.fixture
async def tokens(replicated: Replicated) -> Tokens:
    conn = await asyncpg.connect(replicated.primary_url)
    try:
        await migrations.migrate(conn)
        await conn.execute("TRUNCATE users, organizations CASCADE")
        await seed_demo(conn, 1)
        issued = await issue_tokens(conn)
    finally:
        await conn.close()
    await replicated.caught_up()
    return issued


def _app(
    replicated: Replicated, max_lag_ms: int, *, compiled_reads: bool = True
) -> TestClient[Any, Any]:
    settings = Settings(
        database_url=replicated.primary_url,
        database_replica_urls=(replicated.replica_url,),
        replica_max_lag_ms=max_lag_ms,
        auth_cache_s=0,
        compiled_reads=compiled_reads,
    )
    return TestClient(TestServer(create_app(settings)))


@pytest.fixture
async def client(replicated: Replicated, tokens: Tokens) -> AsyncIterator[Client]:
    async with _app(replicated, 60_000) as test_client:
        yield test_client


async def _post(
    client: Client, query: str, token: str, position: str | None = None, **variables: Any
) -> tuple[dict[str, Any], str | None]:
    headers = {"Authorization": f"Bearer {token}"}
    if position is not None:
        headers[CONSISTENCY_HEADER] = position
    response = await client.post(
        "/graphql", json={"query": query, "variables": variables}, headers=headers
    )
    body: dict[str, Any] = await response.json()
    assert (response.status, body.get("errors")) == (200, None), body
    return body["data"], response.headers.get(CONSISTENCY_HEADER)


def _served(client: Client, role: str) -> float:
    return client.app[METRICS].sample("envgraph_requests_by_database_total", {"role": role})


def _lags(client: Client) -> list[float]:
    """envgraph_replica_lag_ms of each replica (-1: down), as /metrics gives it."""
    return [
        sample.value
        for family in client.app[METRICS].registry.collect()
        for sample in family.samples
        if sample.name == "envgraph_replica_lag_ms"
    ]


async def _organization(client: Client, token: str) -> str:
    data, _ = await _post(client, "{ organizations(first: 1) { nodes { id } } }", token)
    organization: str = data["organizations"]["nodes"][0]["id"]
    return organization


async def _replay(replicated: Replicated, action: str) -> None:
    conn = await asyncpg.connect(replicated.replica_url)
    try:
        await conn.execute(f"SELECT pg_wal_replay_{action}()")
    finally:
        await conn.close()


async def test_reads_go_to_the_replica_and_see_the_writes_they_name(
    client: Client, replicated: Replicated, tokens: Tokens
) -> None:
    org = await _organization(client, tokens.ada)
    assert (_served(client, "replica"), _served(client, "primary")) == (1, 0)

    await _replay(replicated, "pause")
    try:
        data, position = await _post(client, _CREATE, tokens.ada, org=org, name="fresh")
        assert data == {"createProject": {"project": {"name": "fresh"}}}
        assert position is not None
        assert parse_lsn(position) is not None
        assert _served(client, "primary") == 1

        # named position: the replica has not replayed it, the primary answers
        started = time.monotonic()
        data, _ = await _post(client, _FIND, tokens.ada, position, name="fresh")
        assert data == {"projects": {"totalCount": 1}}
        assert _served(client, "primary") == 2
        # no position: the replica answers at once, without the write
        data, _ = await _post(client, _FIND, tokens.ada, name="fresh")
        assert data == {"projects": {"totalCount": 0}}
        assert time.monotonic() - started < 2.0
        # an unreadable position cannot be waited for: the primary
        data, _ = await _post(client, _FIND, tokens.ada, "not-a-position", name="fresh")
        assert data == {"projects": {"totalCount": 1}}
    finally:
        await _replay(replicated, "resume")
    await replicated.caught_up()
    await asyncio.sleep(0.3)  # the watcher's next look (every 0.1 s)
    replica_reads = _served(client, "replica")
    data, _ = await _post(client, _FIND, tokens.ada, position, name="fresh")
    assert data == {"projects": {"totalCount": 1}}
    assert _served(client, "replica") == replica_reads + 1
    # the read that named a position cost no statement more than any read
    before = client.app[STATEMENTS].total
    await _post(client, _FIND, tokens.ada, position, name="fresh")
    after_named = client.app[STATEMENTS].total - before
    before = client.app[STATEMENTS].total
    await _post(client, _FIND, tokens.ada, name="fresh")
    assert after_named == client.app[STATEMENTS].total - before


async def _project_statements(url: str) -> list[tuple[str, int]]:
    """The statements reading projects that a server ran itself, as its own
    pg_stat_statements counts them (a replica's are its own, not the primary's)."""
    conn = await asyncpg.connect(url)
    try:
        rows = await conn.fetch(
            "SELECT query, calls FROM pg_stat_statements"
            " WHERE query LIKE '%projects%' AND query NOT LIKE '%pg_stat_statements%'"
        )
    finally:
        await conn.close()
    return sorted((row["query"], row["calls"]) for row in rows)


async def _reset_statements(url: str) -> None:
    conn = await asyncpg.connect(url)
    try:
        await conn.execute("SELECT pg_stat_statements_reset()")
    finally:
        await conn.close()


@pytest.mark.parametrize("executor", ["compiled", "resolver"])
async def test_reads_of_both_executors_run_on_the_replica(
    replicated: Replicated, tokens: Tokens, executor: str
) -> None:
    async with _app(replicated, 60_000, compiled_reads=executor == "compiled") as client:
        for url in (replicated.primary_url, replicated.replica_url):
            await _reset_statements(url)
        for _ in range(3):
            data, _ = await _post(client, _FIND, tokens.ada, name="nowhere")
            assert data == {"projects": {"totalCount": 0}}
        executors = client.app[METRICS].sample(
            "envgraph_requests_by_executor_total", {"executor": executor}
        )
        assert (executors, _served(client, "replica"), _served(client, "primary")) == (3, 3, 0)
        on_replica = await _project_statements(replicated.replica_url)
        on_primary = await _project_statements(replicated.primary_url)
        assert [calls for _, calls in on_replica] == [3]
        assert on_primary == []


async def test_a_replica_too_far_behind_is_skipped(replicated: Replicated, tokens: Tokens) -> None:
    async with _app(replicated, 100) as client:
        org = await _organization(client, tokens.ada)
        await _replay(replicated, "pause")
        try:
            await _post(client, _CREATE, tokens.ada, org=org, name="behind")
            await asyncio.sleep(0.5)  # WAL received, not replayed: the lag grows past 100 ms
            [lag] = _lags(client)
            assert lag > 100
            primary = _served(client, "primary")
            data, _ = await _post(client, _FIND, tokens.ada, name="behind")
            assert data == {"projects": {"totalCount": 1}}
            assert _served(client, "primary") == primary + 1
        finally:
            await _replay(replicated, "resume")
        await replicated.caught_up()


async def test_bulk_ingestion_answers_its_position(
    client: Client, replicated: Replicated, tokens: Tokens
) -> None:
    conn = await asyncpg.connect(replicated.primary_url)
    try:
        environment = environment_id(await environment_uuid(conn))
    finally:
        await conn.close()
    count = "query($id: ID!) { environment(id: $id) { events { totalCount } } }"
    seen, _ = await _post(client, count, tokens.ada, id=environment)
    before = seen["environment"]["events"]["totalCount"]
    await _replay(replicated, "pause")
    try:
        response = await client.post(
            f"/v1/environments/{environment}/events",
            data=ndjson([event(n) for n in range(3)]),
            headers={
                "Authorization": f"Bearer {tokens.ada}",
                "Content-Type": "application/x-ndjson",
            },
        )
        assert (response.status, await response.json()) == (200, {"accepted": 3, "duplicates": 0})
        position = response.headers.get(CONSISTENCY_HEADER)
        assert parse_lsn(position) is not None
        # with the position: the primary, and the events are there; without: the
        # replica at once, not yet
        data, _ = await _post(client, count, tokens.ada, position, id=environment)
        assert data == {"environment": {"events": {"totalCount": before + 3}}}
        data, _ = await _post(client, count, tokens.ada, id=environment)
        assert data == {"environment": {"events": {"totalCount": before}}}
    finally:
        await _replay(replicated, "resume")
    await replicated.caught_up()


async def test_a_replica_stopped_costs_no_answer(
    client: Client, replicated: Replicated, tokens: Tokens
) -> None:
    # last in the module: the replica does not come back
    query = "{ projects { totalCount } }"
    seen, _ = await _post(client, query, tokens.ada)
    replicated.replica.stop()
    replica, primary = _served(client, "replica"), _served(client, "primary")
    for _ in range(20):
        data, _ = await _post(client, query, tokens.ada)
        assert data == seen
    replica, primary = _served(client, "replica") - replica, _served(client, "primary") - primary
    # the first read may still be sent to it before the watcher looks again:
    # it fails there, the replica is marked down, and the primary answers it
    assert (replica + primary, replica <= 1) == (20, True)
    # the watcher's next look: the gauge says down, and the process stays ready
    # (it follows the primary) so that a load balancer keeps sending it traffic
    await asyncio.sleep(0.3)
    assert _lags(client) == [-1]
    response = await client.get("/readyz")
    assert response.status == 200
