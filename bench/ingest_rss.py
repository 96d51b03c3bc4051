"""The server's memory while it ingests a large NDJSON upload: `serve` in a
subprocess, a generated upload of `--mb` megabytes streamed to
`POST /v1/environments/{id}/events` (generated as it is sent: the client holds
no more of it than the server should), the server's RSS sampled throughout.

    python -m bench.ingest_rss --admin-url postgresql://postgres@127.0.0.1/postgres --mb 200

Prints the RSS before and at its peak, the rise, the rows and the rate; exits
1 when the rise is over `--budget-mib` (50 by default: the server must not hold
the upload, whatever its size).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sys
import time
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from urllib.parse import urlsplit, urlunsplit

import aiohttp
import asyncpg

from bench.rss import PeakRss
from db import migrations
from db.demo import seed_demo
from db.tokens import create_token

_MIB = 1024 * 1024
_START = datetime.now(UTC) - timedelta(days=20)


def _with_database(url: str, name: str) -> str:
    return urlunsplit(urlsplit(url)._replace(path=f"/{name}"))


def _line(n: int) -> bytes:
    # ~250 bytes, properties of ~10 keys, as the bench describes events
    event = {
        "uuid": str(uuid.UUID(int=n + 1)),
        "timestamp": (_START + timedelta(seconds=n)).isoformat(),
        "event": "prediction",
        "distinctId": f"user-{n % 10_007}",
        "properties": {
            "model": "xgb",
            "score": (n % 1000) / 1000,
            "label": n % 2 == 0,
            "region": ("EU", "US", "APAC")[n % 3],
            "age": 18 + n % 60,
            "latency_ms": n % 250,
            "version": "v1",
            "country": "DE",
            "segment": f"s{n % 17}",
            "amount": n % 5000,
        },
    }
    return json.dumps(event).encode() + b"\n"


async def _body(total_bytes: int, sent: list[int]) -> AsyncIterator[bytes]:
    n = 0
    size = 0
    while size < total_bytes:
        chunk = b"".join(_line(i) for i in range(n, n + 1000))
        n += 1000
        size += len(chunk)
        sent[0] = n
        yield chunk


async def _prepare(admin_url: str, name: str) -> tuple[str, str, str]:
    admin = await asyncpg.connect(admin_url)
    try:
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await admin.execute(f'CREATE DATABASE "{name}"')
    finally:
        await admin.close()
    url = _with_database(admin_url, name)
    conn = await asyncpg.connect(url)
    try:
        await migrations.migrate(conn)
        await seed_demo(conn, 1)
        token = (await create_token(conn, email="ada@example.com", scopes=["*"])).token
        environment = await conn.fetchval(
            "SELECT e.id FROM environments e JOIN projects p ON p.id = e.project_id "
            "WHERE p.name = 'fraud-detection' AND e.name = 'production' LIMIT 1"
        )
    finally:
        await conn.close()
    return url, token, str(environment)


async def _wait_ready(base: str) -> None:
    async with aiohttp.ClientSession() as http:
        for _ in range(300):
            try:
                async with http.get(f"{base}/readyz") as response:
                    if response.status == 200:
                        return
            except aiohttp.ClientError:
                pass
            await asyncio.sleep(0.2)
    raise RuntimeError("the server did not become ready")


async def main(args: argparse.Namespace) -> int:
    """Run the measure; 0 when within budget."""
    name = f"envgraph_ingest_rss_{os.getpid()}"
    url, token, environment = await _prepare(args.admin_url, name)
    port = args.port
    base = f"http://127.0.0.1:{port}"
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DATABASE_URL", "GATEWAY_"))}
    server = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "gateway", "serve", "--port", str(port),
        env={**env, "DATABASE_URL": url, "GATEWAY_LOG_LEVEL": "warning"},
    )  # fmt: skip
    try:
        await _wait_ready(base)
        rss = PeakRss(server.pid)
        async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=None)) as http:
            # warm up: a small upload first, so the baseline holds what any ingestion loads
            async with http.post(
                f"{base}/v1/environments/{environment}/events",
                data=_line(10**9),
                headers={
                    "Authorization": f"Bearer {token}",
                    "Content-Type": "application/x-ndjson",
                },
            ) as response:
                assert response.status == 200, await response.text()
            await asyncio.sleep(1)
            baseline = rss.take()
            sent = [0]
            started = time.perf_counter()
            async with http.post(
                f"{base}/v1/environments/{environment}/events",
                data=_body(args.mb * 1_000_000, sent),
                headers={
                    "Authorization": f"Bearer {token}",
                    "Content-Type": "application/x-ndjson",
                },
            ) as response:
                answer = await response.json()
            seconds = time.perf_counter() - started
            peak = rss.take()
        rss.close()
    finally:
        server.terminate()
        await asyncio.wait_for(server.wait(), 60)
        admin = await asyncpg.connect(args.admin_url)
        try:
            await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        finally:
            await admin.close()
    rise = (peak - baseline) / _MIB
    print(f"upload: {args.mb} MB, {sent[0]:,} events in {seconds:.1f} s "
          f"({sent[0] / seconds:,.0f} rows/s): {answer}")  # fmt: skip
    print(f"server RSS: {baseline / _MIB:.1f} MiB before, {peak / _MIB:.1f} MiB at peak, "
          f"rise {rise:+.1f} MiB (budget {args.budget_mib} MiB)")  # fmt: skip
    return 0 if rise <= args.budget_mib and answer.get("accepted") == sent[0] else 1


def _arguments() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument(
        "--admin-url",
        default=os.environ.get("TEST_DATABASE_URL", "postgresql://postgres@127.0.0.1/postgres"),
        help="a PostgreSQL URL allowed to create databases",
    )
    parser.add_argument("--mb", type=int, default=200, help="the upload's size in MB")
    parser.add_argument("--port", type=int, default=8765)
    parser.add_argument("--budget-mib", type=int, default=50)
    return parser.parse_args()


if __name__ == "__main__":
    sys.exit(asyncio.run(main(_arguments())))
