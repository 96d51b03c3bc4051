"""`python -m bench.exports`: issue 14's goal, measured in one run.

An environment of N events (default 1,000,000, made by one SQL statement) is
exported as CSV by a real `serve` process (the job's time: from its claim to
SUCCEEDED, as the exports row records it, count, COPY, fsync and rename
included), against `COPY (SELECT <the same columns> ... ORDER BY <the same
order>) TO STDOUT WITH CSV` of the same rows by asyncpg into a file on the
same disk (and into memory, the bound with no disk at all). The server's
peak RSS (process tree) is sampled throughout. Each repeat runs the three
in turn (the load of a shared machine drifts); medians of the repeats;
written to bench/RESULTS-exports.md. The raw SELECT leaves the timestamps
to PostgreSQL's own text output; the export renders them as GraphQL does
(to_char), which is most of the difference between the two.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from uuid import UUID

import asyncpg

from bench.machine import describe, server_version
from bench.rss import PeakRss
from db import migrations, partitions
from db.demo import seed_demo
from db.tokens import create_token
from schema.ids import global_id

_HERE = Path(__file__).resolve().parent
_START = datetime(2025, 1, 1, tzinfo=UTC)
_DATABASE = "envgraph_bench_exports"
_RAW = (
    'SELECT id, "timestamp", event, distinct_id, person_id, properties, received_at '
    'FROM events WHERE environment_id = $1 ORDER BY "timestamp", id DESC'
)
_SEED = """
INSERT INTO events (id, environment_id, project_id, "timestamp", received_at, event,
                    distinct_id, person_id, properties)
SELECT md5($1::uuid::text || '/' || n)::uuid, e.id, e.project_id,
       $2::timestamptz + n * interval '1 second',
       $2::timestamptz + n * interval '1 second' + interval '250 milliseconds',
       (ARRAY['prediction', 'feedback', 'drift_alert'])[1 + n % 3], 'user-' || (n % 1000),
       CASE WHEN n % 2 = 0 THEN md5('person/' || n % 500)::uuid END,
       jsonb_build_object('n', n, 'score', (n % 100) / 100.0,
                          'label', CASE WHEN n % 2 = 0 THEN 'yes' ELSE 'no' END)
FROM generate_series(1, $3::int) n JOIN environments e ON e.id = $1
"""
_CREATE = (
    """mutation ($input: CreateExportInput!) { createExport(input: $input) { export { uuid } } }"""
)


@dataclass
class Figures:
    """One run's medians."""

    events: int
    export_s: list[float]
    raw_file_s: list[float]
    raw_memory_s: list[float]
    rss_before: int
    rss_peak: int
    file_bytes: int
    machine: dict[str, str]


def _with_database(url: str, name: str) -> str:
    head, _, _ = url.rpartition("/")
    return f"{head}/{name}"


async def _prepare(server_url: str, events: int) -> tuple[str, UUID, str]:
    """A database holding the demo and `events` events in one environment (made
    once, reused); its URL, the environment, a token."""
    url = _with_database(server_url, _DATABASE)
    admin = await asyncpg.connect(server_url)
    try:
        if not await admin.fetchval("SELECT 1 FROM pg_database WHERE datname = $1", _DATABASE):
            await admin.execute(f'CREATE DATABASE "{_DATABASE}"')
    finally:
        await admin.close()
    conn = await asyncpg.connect(url)
    try:
        await migrations.migrate(conn)
        await seed_demo(conn, 1)
        environment: UUID = await conn.fetchval("SELECT id FROM environments ORDER BY id LIMIT 1")
        held = await conn.fetchval(
            "SELECT event_count FROM environments WHERE id = $1", environment
        )
        if held != events:
            await conn.execute("DELETE FROM events WHERE environment_id = $1", environment)
            await conn.execute("DELETE FROM event_ids WHERE environment_id = $1", environment)
            await partitions.ensure(conn, _START, _START.replace(year=2026), now=_START)
            async with conn.transaction():
                await conn.execute("SET LOCAL statement_timeout = 0")
                await conn.execute(_SEED, environment, _START, events)
                await conn.execute(
                    "INSERT INTO event_ids (id, environment_id) "
                    "SELECT id, environment_id FROM events WHERE environment_id = $1",
                    environment,
                )
                await conn.execute(
                    "UPDATE environments SET event_count = $2 WHERE id = $1", environment, events
                )
            await conn.execute("VACUUM ANALYZE events")
        await conn.execute("DELETE FROM exports WHERE status <> 'EXPIRED'")
        token = (
            await create_token(conn, email="ada@example.com", scopes=["*"], superuser=True)
        ).token
    finally:
        await conn.close()
    return url, environment, token


def _post(port: int, token: str, query: str, variables: dict[str, Any]) -> dict[str, Any]:
    request = urllib.request.Request(
        f"http://127.0.0.1:{port}/graphql",
        data=json.dumps({"query": query, "variables": variables}).encode(),
        headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"},
    )
    with urllib.request.urlopen(request, timeout=60) as response:
        body: dict[str, Any] = json.loads(response.read())
    assert not body.get("errors"), body
    return body


async def _job_seconds(url: str, export: str) -> tuple[float, int]:
    """Wait for the export to succeed (one connection, polled four times a second:
    the machine is shared with the job); its job time and file size."""
    conn = await asyncpg.connect(url)
    try:
        while True:
            row = await conn.fetchrow(
                "SELECT status::text, finished_at - started_at AS took, byte_size "
                "FROM exports WHERE id = $1",
                UUID(export),
            )
            assert row is not None
            if row["status"] not in ("QUEUED", "RUNNING"):
                break
            await asyncio.sleep(0.25)
    finally:
        await conn.close()
    assert row["status"] == "SUCCEEDED", row
    return row["took"].total_seconds(), row["byte_size"]


async def _raw(url: str, environment: UUID, into: Path | None) -> float:
    conn = await asyncpg.connect(url)
    try:
        size = 0

        async def counted(chunk: bytes) -> None:
            nonlocal size
            size += len(chunk)

        started = time.perf_counter()
        await conn.copy_from_query(_RAW, environment, output=into or counted, format="csv")
        return time.perf_counter() - started
    finally:
        await conn.close()


def serve(url: str, port: int, **settings: str) -> subprocess.Popen[bytes]:
    """A `serve` process on `url` (GATEWAY_* `settings` besides quiet logs), once ready."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DATABASE_", "GATEWAY_"))}
    env |= {"DATABASE_URL": url, "GATEWAY_LOG_LEVEL": "warning", **settings}
    process = subprocess.Popen(
        [sys.executable, "-m", "gateway", "serve", "--port", str(port)], env=env
    )
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/readyz", timeout=2):
                return process
        except OSError:
            time.sleep(0.2)
    process.kill()
    raise RuntimeError("the server did not get ready")


def measure(server_url: str, events: int, repeats: int, port: int) -> Figures:
    """Run the exports and the raw COPYs; the figures."""
    url, environment, token = asyncio.run(_prepare(server_url, events))
    with tempfile.TemporaryDirectory(prefix="envgraph-bench-exports-") as scratch:
        folder = Path(scratch)
        process = serve(
            url,
            port,
            GATEWAY_EXPORT_DIR=str(folder / "exports"),
            GATEWAY_EXPORT_CONCURRENCY="1",
        )
        rss = PeakRss(process.pid)
        try:
            time.sleep(1)
            before = rss.take()
            took: list[float] = []
            raw_file: list[float] = []
            raw_memory: list[float] = []
            size = 0
            environment_id = global_id("Environment", environment)
            variables = {"input": {"environmentId": environment_id, "format": "CSV"}}
            # one of each per repeat, in turn: on a shared machine the load drifts,
            # and the ratio compares runs made under the same load
            for _ in range(repeats):
                raw_file.append(asyncio.run(_raw(url, environment, folder / "raw.csv")))
                raw_memory.append(asyncio.run(_raw(url, environment, None)))
                export = _post(port, token, _CREATE, variables)["data"]["createExport"]
                done = asyncio.run(_job_seconds(url, export["export"]["uuid"]))
                took.append(done[0])
                size = done[1]
            peak = rss.take()
        finally:
            rss.close()
            process.terminate()
            process.wait(timeout=60)
    version = asyncio.run(server_version(url))
    return Figures(
        events, took, raw_file, raw_memory, before, max(peak, before), size, describe(version)
    )


def report(figures: Figures) -> str:
    """The markdown report."""
    export = statistics.median(figures.export_s)
    raw_file = statistics.median(figures.raw_file_s)
    raw_memory = statistics.median(figures.raw_memory_s)
    n = figures.events
    ratio = raw_file / export
    mib = 1024 * 1024
    verdict = "**met**" if ratio >= 0.7 else "**not met**"
    return "\n".join(
        [
            "# envgraph: exports benchmark (issue 14)",
            "",
            f"Run {datetime.now(UTC).isoformat(timespec='seconds')} by `python -m bench.exports`"
            f" ({len(figures.export_s)} repeats, medians).",
            "",
            "## Machine",
            "",
            " | ".join(f"{k}: {v}" for k, v in figures.machine.items()),
            "",
            "## How it was measured",
            "",
            __doc__.split("\n\n", 1)[1].strip() if __doc__ else "",
            "",
            "## Figures",
            "",
            "| what | seconds | rows/s |",
            "|---|---:|---:|",
            f"| envgraph CSV export job ({n:,} events, {figures.file_bytes / mib:.0f} MiB) "
            f"| {export:.2f} | {n / export:,.0f} |",
            f"| raw `COPY ... TO STDOUT WITH CSV` into a file | {raw_file:.2f} "
            f"| {n / raw_file:,.0f} |",
            f"| raw `COPY ... TO STDOUT WITH CSV` into memory | {raw_memory:.2f} "
            f"| {n / raw_memory:,.0f} |",
            "",
            f"Server RSS: {figures.rss_before / mib:.0f} MiB before, peak "
            f"{figures.rss_peak / mib:.0f} MiB during the exports (+"
            f"{(figures.rss_peak - figures.rss_before) / mib:.0f} MiB).",
            "",
            "## Goal",
            "",
            "| goal | figures | ratio | verdict |",
            "|---|---|---:|---|",
            f"| CSV export >= 0.7x raw COPY into a file (rows/s) | {n / export:,.0f} vs "
            f"{n / raw_file:,.0f} | {ratio:.2f} | {verdict} |",
            f"| (against COPY into memory, no disk) | {n / export:,.0f} vs {n / raw_memory:,.0f} "
            f"| {raw_memory / export:.2f} | |",
            "",
        ]
    )


def main(argv: list[str] | None = None) -> int:
    """Measure, print and write the report."""
    parser = argparse.ArgumentParser(prog="python -m bench.exports", description=__doc__)
    parser.add_argument(
        "--server-url",
        default=os.environ.get(
            "TEST_DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/postgres"
        ),
        help="an admin URL of the PostgreSQL server to use (a database of its own is made)",
    )
    parser.add_argument("--events", type=int, default=1_000_000)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--port", type=int, default=55480)
    parser.add_argument("--output", type=Path, default=_HERE / "RESULTS-exports.md")
    args = parser.parse_args(argv)
    text = report(measure(args.server_url, args.events, args.repeats, args.port))
    args.output.write_text(text)
    print(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
