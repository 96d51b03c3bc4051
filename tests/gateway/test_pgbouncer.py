"""`serve` behind Debian's PgBouncer in transaction mode (DATABASE_POOL_MODE=
transaction, DATABASE_DIRECT_URL for what needs a session): migrations,
concurrent reads and writes, bulk ingestion and token revocation all work,
and requests really pass through the pooler. (CI also runs the mutation and
read corpus through one: TEST_POOLER=pgbouncer, tests/conftest.py.)"""

from __future__ import annotations

import json
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import asyncpg
import pytest

from gateway.settings import SettingsError, load_settings
from schema.ids import global_id
from tests.gateway.test_cli import run_cli
from tests.ingest_support import event, ndjson
from tests.pgbouncer import PgBouncer
from tests.service import Service

_PROJECT = """mutation($org: ID!, $name: String!) {
  createProject(input: {organizationId: $org, name: $name}) { project { name } } }"""


def _upload(service: Service, environment: str, body: bytes, token: str) -> tuple[int, Any]:
    request = urllib.request.Request(
        f"{service.url}/v1/environments/{environment}/events",
        data=body,
        headers={"Authorization": f"Bearer {token}", "Content-Type": "application/x-ndjson"},
    )
    with urllib.request.urlopen(request, timeout=30) as response:
        return response.status, json.loads(response.read())


def test_transaction_mode_needs_a_direct_url() -> None:
    with pytest.raises(
        SettingsError, match="DATABASE_POOL_MODE=transaction needs DATABASE_DIRECT_URL"
    ):
        load_settings({"DATABASE_URL": "postgresql://x@h/db", "DATABASE_POOL_MODE": "transaction"})


async def test_serve_behind_pgbouncer_in_transaction_mode(
    server_url: str, empty_database_url: str
) -> None:
    with PgBouncer(server_url, pool_size=3) as bouncer:
        env = {
            "DATABASE_URL": bouncer.url(empty_database_url),
            "DATABASE_POOL_MODE": "transaction",
            "DATABASE_DIRECT_URL": empty_database_url,
            # tokens cached for an hour: only the listener can refuse a revoked one
            "GATEWAY_AUTH_CACHE_S": "3600",
        }
        with Service("--workers", "2", "--demo", env=env) as service:
            # migrated and seeded through the direct URL (advisory lock, temp tables)
            service.ready()
            service.read_until("demo token for")
            token = service.read_until("egt_").strip()
            conn = await asyncpg.connect(empty_database_url)
            try:
                organization = await conn.fetchval("SELECT id FROM organizations ORDER BY name")
                environment = await conn.fetchval("SELECT id FROM environments ORDER BY id LIMIT 1")
                prefix = await conn.fetchval("SELECT prefix FROM api_tokens WHERE demo")
            finally:
                await conn.close()
            org = global_id("Organization", organization)
            query = "{ environments(first: 5) { totalCount nodes { name } } }"

            # 40 readers and 10 writers at once over 3 server connections: without
            # the pool mode, asyncpg's named statements miss on another session
            def read(_: int) -> int:
                return service.post(query, token)[0]

            def write(n: int) -> int:
                status, body = service.post(_PROJECT, token, {"org": org, "name": f"p{n}"})
                assert "errors" not in body, body
                return status

            with ThreadPoolExecutor(16) as pool:
                reads = list(pool.map(read, range(40)))
                writes = list(pool.map(write, range(10)))
            assert (reads, writes) == ([200] * 40, [200] * 10)

            # bulk ingestion stages across transactions: on its direct session
            _, found = service.post("{ environments(first: 1) { nodes { id } } }", token)
            environment = found["data"]["environments"]["nodes"][0]["id"]
            status, answer = _upload(
                service, environment, ndjson([event(n) for n in range(5)]), token
            )
            assert (status, answer) == (200, {"accepted": 5, "duplicates": 0})

            # revoked from elsewhere: refused at once though cached for an hour
            assert service.query(token)[0] == 200
            revoked = run_cli("revoke-token", prefix, env={"DATABASE_URL": empty_database_url})
            assert revoked.returncode == 0, revoked.stderr
            assert service.query(token)[0] == 401

            # and requests do pass through the pooler: without it, none is served
            bouncer.__exit__(None, None, None)
            status, body = service.post(query, token)
            assert status == 503, body
