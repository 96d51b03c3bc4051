"""`python -m bench.series`: issue 22's series goals, measured in one run.

One environment holds N events (default 1,000,000, made by one SQL statement;
with `--environments M`, N spread evenly over M environments, the first one
measured) spread over 30 days, with a numeric property `score`. Two series are asked of
a real `serve` process (one request at a time; p50 and p99 over the repeats):

- 30 days by DAY, broken down by event name (top 10, the rest in `other`);
- a 24-hour window by HOUR, the P95 of `score`.

The bound for each is the same `GROUP BY` hand-written and run by asyncpg
directly with JIT off (no HTTP, no GraphQL: stricter than the main bench's
raw server).
Written to bench/RESULTS-series.md.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import sys
import time
import urllib.request
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from uuid import UUID

import asyncpg

from bench.balancer import free_port
from bench.exports import serve
from bench.machine import describe, server_version
from db import migrations, partitions
from db.demo import seed_demo
from db.tokens import create_token
from schema.ids import global_id

_HERE = Path(__file__).resolve().parent
_DATABASE = "envgraph_bench_series"
_START = datetime(2026, 1, 1, tzinfo=UTC)
_SEED = """
INSERT INTO events (id, environment_id, project_id, "timestamp", received_at, event,
                    distinct_id, person_id, properties)
SELECT md5(e.id::text || '/series/' || n)::uuid, e.id, e.project_id, x.t, x.t, x.event_name,
       'user-' || (n % 5000), NULL,
       jsonb_build_object('score', (n::bigint * 7919 % 1000) / 10.0)
FROM unnest($1::uuid[]) AS v(id)
JOIN environments e ON e.id = v.id
CROSS JOIN generate_series(1, $3::int) n
CROSS JOIN LATERAL (SELECT $2::timestamptz + (n * 2592.0 / $3) * interval '1000 seconds' AS t,
                           'event_' || (n::bigint * 31 % 14) AS event_name) x
"""
_DAY = """query($id: ID!, $since: DateTime!, $until: DateTime!) { environment(id: $id) {
  eventSeries(since: $since, until: $until, interval: DAY, breakdown: {by: EVENT}, limit: 10) {
    buckets lines { key values total } other { values total } } } }"""
_HOUR = """query($id: ID!, $since: DateTime!, $until: DateTime!) { environment(id: $id) {
  eventSeries(since: $since, until: $until, interval: HOUR,
              measure: {kind: P95, property: "score"}) {
    buckets lines { key values total } } } }"""
# the chart of it: the values alone, what the hand-written GROUP BY computes (the
# line's total is a second percentile over the whole window)
_HOUR_VALUES = _HOUR.replace("lines { key values total }", "lines { values }")
# the same GROUP BYs, hand-written
_RAW_DAY = """
SELECT event, date_trunc('day', "timestamp" AT TIME ZONE 'UTC') AS day, count(*)
FROM events WHERE environment_id = $1 AND "timestamp" >= $2 AND "timestamp" < $3
GROUP BY 1, 2
"""
_RAW_HOUR = """
SELECT date_trunc('hour', "timestamp" AT TIME ZONE 'UTC') AS hour,
       percentile_cont(0.95) WITHIN GROUP (ORDER BY (properties->>'score')::float8)
FROM events WHERE environment_id = $1 AND "timestamp" >= $2 AND "timestamp" < $3
  AND jsonb_typeof(properties->'score') = 'number'
GROUP BY 1
"""


async def _prepare(server_url: str, events: int, environments: int) -> tuple[str, UUID, str]:
    """A database holding the demo and `events` events over 30 days, spread evenly over
    its first `environments` environments (made once, reused); its URL, the first
    environment (the one measured), a token."""
    base, _, _ = server_url.rpartition("/")
    database = _DATABASE if environments == 1 else f"{_DATABASE}_{environments}"
    url = f"{base}/{database}"
    admin = await asyncpg.connect(server_url)
    try:
        if not await admin.fetchval("SELECT 1 FROM pg_database WHERE datname = $1", database):
            await admin.execute(f'CREATE DATABASE "{database}"')
    finally:
        await admin.close()
    conn = await asyncpg.connect(url)
    try:
        await migrations.migrate(conn)
        # the demo's scale 1 has 54 environments, each further scale as many again
        await seed_demo(conn, -(-environments // 54))
        chosen: list[UUID] = [
            r["id"]
            for r in await conn.fetch(
                "SELECT id FROM environments ORDER BY id LIMIT $1", environments
            )
        ]
        assert len(chosen) == environments, f"the demo has {len(chosen)} environments"
        environment = chosen[0]
        each = events // environments
        held = await conn.fetchval('SELECT count(*) FROM events WHERE "timestamp" >= $1', _START)
        if held != each * environments:
            await conn.execute('DELETE FROM events WHERE "timestamp" >= $1', _START)
            await partitions.ensure(conn, _START, _START + timedelta(days=31), now=_START)
            async with conn.transaction():
                await conn.execute("SET LOCAL statement_timeout = 0")
                await conn.execute(_SEED, chosen, _START, each)
            await conn.execute("VACUUM ANALYZE events")
        token = (
            await create_token(conn, email="ada@example.com", scopes=["*"], superuser=True)
        ).token
    finally:
        await conn.close()
    return url, environment, token


def _timed_post(port: int, token: str, query: str, variables: dict[str, Any]) -> float:
    request = urllib.request.Request(
        f"http://127.0.0.1:{port}/graphql",
        data=json.dumps({"query": query, "variables": variables}).encode(),
        headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"},
    )
    started = time.perf_counter()
    with urllib.request.urlopen(request, timeout=120) as response:
        body = json.loads(response.read())
    took = time.perf_counter() - started
    assert not body.get("errors"), body
    return took * 1000


async def _raw(url: str, sql: str, args: tuple[Any, ...], repeats: int) -> list[float]:
    # JIT off, as envgraph's own connections have it: the bound at its best
    conn = await asyncpg.connect(url, server_settings={"jit": "off"})
    try:
        await conn.fetch(sql, *args)  # warm-up
        times = []
        for _ in range(repeats):
            started = time.perf_counter()
            await conn.fetch(sql, *args)
            times.append((time.perf_counter() - started) * 1000)
        return times
    finally:
        await conn.close()


def measure(server_url: str, events: int, repeats: int, environments: int = 1) -> dict[str, Any]:
    """Both series and their raw bounds; the figures."""
    url, environment, token = asyncio.run(_prepare(server_url, events, environments))
    month = (_START, _START + timedelta(days=30))
    day = (_START + timedelta(days=10), _START + timedelta(days=11))
    figures: dict[str, Any] = {"events": events, "repeats": repeats, "environments": environments}
    port = free_port()
    process = serve(url, port, GATEWAY_EXPORT_CONCURRENCY="0")
    try:
        for name, query, (since, until) in (
            ("day", _DAY, month),
            ("hour", _HOUR, day),
            ("hour_values", _HOUR_VALUES, day),
        ):
            variables = {
                "id": global_id("Environment", environment),
                "since": since.isoformat(),
                "until": until.isoformat(),
            }
            _timed_post(port, token, query, variables)  # warm-up
            figures[name] = [_timed_post(port, token, query, variables) for _ in range(repeats)]
    finally:
        process.terminate()
        process.wait(timeout=60)
    figures["raw_day"] = asyncio.run(_raw(url, _RAW_DAY, (environment, *month), repeats))
    figures["raw_hour"] = asyncio.run(_raw(url, _RAW_HOUR, (environment, *day), repeats))
    figures["machine"] = describe(asyncio.run(server_version(url)))
    return figures


def _spread(figures: dict[str, Any]) -> str:
    environments = figures.get("environments", 1)
    if environments == 1:
        return f"{figures['events']:,} events in one environment"
    each = figures["events"] // environments
    return f"{figures['events']:,} events over {environments} environments ({each:,} each)"


def report(figures: dict[str, Any]) -> str:
    """The markdown report."""

    def p(values: list[float], q: float) -> float:
        return statistics.quantiles(values, n=100)[int(q) - 1] if len(values) > 1 else values[0]

    rows = []
    for name, label, bound in (
        ("day", "30 days by DAY, breakdown by event (top 10 + other)", "raw_day"),
        ("hour", "24 hours by HOUR, P95 of a property, with the line's total", "raw_hour"),
        ("hour_values", "24 hours by HOUR, P95 of a property, the values", "raw_hour"),
    ):
        if name not in figures:  # a report of a run made before that row existed
            continue
        ours, raw = statistics.median(figures[name]), statistics.median(figures[bound])
        verdict = "met" if ours <= 1.25 * raw else "not met"
        rows.append(
            f"| {label} | {ours:.1f} | {p(figures[name], 99):.1f} | {raw:.1f} | "
            f"{ours / raw:.2f} | {verdict} |"
        )
    machine = " | ".join(f"{k}: {v}" for k, v in figures["machine"].items())
    return "\n".join(
        [
            "# envgraph: event series benchmark (issue 22)",
            "",
            f"Run {datetime.now(UTC).isoformat(timespec='seconds')} by `python -m bench.series` "
            f"({_spread(figures)} over 30 days, the series of one environment; "
            f"{figures['repeats']} requests each, one at a time).",
            "",
            f"Machine: {machine}",
            "",
            "| series | envgraph p50 ms | p99 ms | raw GROUP BY p50 ms (asyncpg, no HTTP) "
            "| ratio | goal: at most 1.25 |",
            "|---|---:|---:|---:|---:|---|",
            *rows,
            "",
            "envgraph's figure is a whole HTTP request to `serve` (token check, GraphQL, "
            "zero-filled buckets, top lines and `other`, JSON); the bound is the bare "
            "GROUP BY by asyncpg on one connection. The hourly P95 is asked twice: with "
            "the line's total (a P95 over the whole window, a second percentile the bound "
            "does not compute) and as a chart asks it, the values alone (the bound's "
            "figures).",
            "",
        ]
    )


def main(argv: list[str] | None = None) -> int:
    """Measure, print and write the report."""
    parser = argparse.ArgumentParser(prog="python -m bench.series", description=__doc__)
    parser.add_argument(
        "--server-url",
        default=os.environ.get(
            "TEST_DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/postgres"
        ),
        help="an admin URL of the PostgreSQL server to use (a database of its own is made)",
    )
    parser.add_argument("--events", type=int, default=1_000_000)
    parser.add_argument(
        "--environments",
        type=int,
        default=1,
        help="spread the events evenly over this many environments (issue 22's scale: "
        "--events 10000000 --environments 100)",
    )
    parser.add_argument("--repeats", type=int, default=30)
    parser.add_argument("--output", type=Path, default=_HERE / "RESULTS-series.md")
    args = parser.parse_args(argv)
    text = report(measure(args.server_url, args.events, args.repeats, args.environments))
    args.output.write_text(text)
    print(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
