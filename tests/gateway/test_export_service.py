"""Exports run by a real `serve` process: a million events with the server's
memory flat, and a server killed mid-export whose job is finished, correct,
by the next one."""

from __future__ import annotations

import asyncio
import csv
import hashlib
import json
import signal
import threading
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import asyncpg

from db.codecs import DATETIME_SQL
from db.demo import seed_demo
from tests.export_support import CREATE, STATUS, seed_events
from tests.ingest_support import environment_id, environment_uuid
from tests.schema.conftest import issue_tokens
from tests.service import Service

MIB = 1024 * 1024
PAGE = """
query ($env: ID!, $after: String) {
  environment(id: $env) {
    events(first: 10000, after: $after, orderBy: [{field: TIMESTAMP, direction: ASC}]) {
      pageInfo { hasNextPage endCursor }
      nodes { uuid timestamp receivedAt event distinctId personId properties }
    }
  }
}
"""


def _row_digest(cells: list[str]) -> int:
    """A row's share of the checksum: its cells, properties as parsed JSON."""
    uuid, timestamp, event, distinct_id, person_id, properties, received_at = cells
    canonical = json.dumps(json.loads(properties), sort_keys=True)
    text = "|".join((uuid, timestamp, event, distinct_id, person_id, canonical, received_at))
    return int(hashlib.md5(text.encode()).hexdigest()[:15], 16)


def _service(database_url: str, exports: Path) -> Service:
    return Service(
        env={
            "DATABASE_URL": database_url,
            "GATEWAY_EXPORT_DIR": str(exports),
            "GATEWAY_EXPORT_LEASE_S": "2",
            "GATEWAY_MAX_PAGE_SIZE": "10000",
            "GATEWAY_MAX_QUERY_NODES": "10000000",
            "GATEWAY_STATEMENT_TIMEOUT_MS": "60000",
        }
    ).ready()


def _post(service: Service, token: str, query: str, **variables: Any) -> dict[str, Any]:
    status, body = service.post(query, token, variables)
    assert (status, body.get("errors")) == (200, None), body
    result: dict[str, Any] = body["data"]
    return result


def _wait(
    service: Service, token: str, export_id: str, wanted: set[str], within_s: float
) -> dict[str, Any]:
    deadline = time.monotonic() + within_s
    while time.monotonic() < deadline:
        export: dict[str, Any] = _post(service, token, STATUS, id=export_id)["export"]
        if export["status"] in wanted:
            return export
        time.sleep(0.05)
    raise AssertionError(f"export {export_id} not {wanted} in {within_s} s: {export}")


def _download(service: Service, token: str, url: str, into: Path) -> None:
    request = urllib.request.Request(
        f"{service.url}{url}", headers={"Authorization": f"Bearer {token}"}
    )
    with urllib.request.urlopen(request, timeout=120) as response, into.open("wb") as file:
        while chunk := response.read(1024 * 1024):
            file.write(chunk)


def _csv_rows(path: Path) -> Iterator[list[str]]:
    with path.open(newline="", encoding="utf-8") as file:
        reader = csv.reader(file)
        assert next(reader) == [
            "uuid", "timestamp", "event", "distinct_id", "person_id", "properties", "received_at"
        ]  # fmt: skip
        yield from reader


def _graphql_rows(service: Service, token: str, environment: str) -> Iterator[list[str]]:
    """Every event of the environment read through GraphQL, oldest first, as CSV cells."""
    after = None
    while True:
        events = _post(service, token, PAGE, env=environment, after=after)["environment"]["events"]
        for e in events["nodes"]:
            yield [
                e["uuid"], e["timestamp"], e["event"], e["distinctId"], e["personId"] or "",
                json.dumps(e["properties"]), e["receivedAt"],
            ]  # fmt: skip
        if not events["pageInfo"]["hasNextPage"]:
            return
        after = events["pageInfo"]["endCursor"]


async def _prepared(conn: asyncpg.Connection, events: int) -> tuple[str, str]:
    """The demo, `events` events in one environment; (its global id, Ada's token)."""
    await seed_demo(conn, 1)
    tokens = await issue_tokens(conn)
    environment = await environment_uuid(conn)
    await seed_events(conn, environment, events)
    await conn.execute("VACUUM ANALYZE events")
    return environment_id(environment), tokens.ada


async def test_a_million_events_with_the_server_memory_flat(
    database_url: str, conn: asyncpg.Connection, tmp_path: Path
) -> None:
    environment, token = await _prepared(conn, 1_000_000)
    with _service(database_url, tmp_path / "exports") as service:
        baseline = service.rss_bytes()
        peak = [baseline]
        done = threading.Event()

        def sample() -> None:
            while not done.is_set():
                peak[0] = max(peak[0], service.rss_bytes())
                time.sleep(0.05)

        sampler = threading.Thread(target=sample)
        sampler.start()
        try:
            created = _post(
                service, token, CREATE, input={"environmentId": environment, "format": "CSV"}
            )["createExport"]["export"]
            finished = await asyncio.to_thread(
                _wait, service, token, created["id"], {"SUCCEEDED", "FAILED"}, 240
            )
        finally:
            done.set()
            sampler.join()
        assert finished["status"] == "SUCCEEDED", finished
        assert (finished["rowsWritten"], finished["rowsTotal"]) == ("1000000", "1000000")
        grown = (peak[0] - baseline) / MIB
        assert grown <= 50, f"the server grew by {grown:.0f} MiB while exporting"

        path = tmp_path / "export.csv"
        await asyncio.to_thread(_download, service, token, finished["contentUrl"], path)
        assert path.stat().st_size == int(finished["byteSize"])

        def checksums() -> tuple[tuple[int, int], tuple[int, int]]:
            exported = [0, 0]
            for row in _csv_rows(path):
                exported[0] += 1
                exported[1] += _row_digest(row)
            listed = [0, 0]
            for row in _graphql_rows(service, token, environment):
                listed[0] += 1
                listed[1] += _row_digest(row)
            return (exported[0], exported[1]), (listed[0], listed[1])

        exported, listed = await asyncio.to_thread(checksums)
        assert exported == listed
        assert exported[0] == 1_000_000


async def test_a_server_killed_mid_export_leaves_the_job_to_the_next(
    database_url: str, conn: asyncpg.Connection, tmp_path: Path
) -> None:
    environment, token = await _prepared(conn, 500_000)
    exports = tmp_path / "exports"
    with _service(database_url, exports) as service:
        created = _post(
            service, token, CREATE, input={"environmentId": environment, "format": "CSV"}
        )["createExport"]["export"]

        def writing() -> dict[str, Any]:
            deadline = time.monotonic() + 60
            while time.monotonic() < deadline:
                export: dict[str, Any] = _post(service, token, STATUS, id=created["id"])["export"]
                if export["status"] == "RUNNING" and int(export["rowsWritten"]) > 0:
                    return export
                time.sleep(0.02)
            raise AssertionError("the export never ran")

        cut = await asyncio.to_thread(writing)
        for worker in service.workers():
            worker.send_signal(signal.SIGKILL)
        service.process.send_signal(signal.SIGKILL)
        service.process.wait(timeout=30)
    assert int(cut["rowsWritten"]) < 500_000
    assert cut["rowsTotal"] == "500000"  # known before the first row was written
    # the run's partial file is still there; the row still says RUNNING
    assert [p.suffix for p in exports.iterdir()] == [".tmp"]
    assert (
        await conn.fetchval("SELECT status::text FROM exports WHERE id = $1", created["uuid"])
        == "RUNNING"
    )

    with _service(database_url, exports) as service:
        finished = await asyncio.to_thread(
            _wait, service, token, created["id"], {"SUCCEEDED", "FAILED"}, 120
        )
        assert finished["status"] == "SUCCEEDED", finished
        path = tmp_path / "export.csv"
        await asyncio.to_thread(_download, service, token, finished["contentUrl"], path)
    # one file, complete: every event once, in order, as the database holds them
    assert sorted(p.name for p in exports.iterdir()) == [f"{created['uuid']}.csv"]
    row = await conn.fetchrow(
        "SELECT attempts, rows_written FROM exports WHERE id = $1", created["uuid"]
    )
    assert row is not None
    assert tuple(row) == (2, 500_000)
    expected = await conn.fetch(
        f"SELECT id::text, {DATETIME_SQL.format('timestamp')} AS at FROM events "
        "WHERE environment_id = (SELECT environment_id FROM exports WHERE id = $1) "
        'ORDER BY "timestamp", id DESC',
        created["uuid"],
    )
    rows = await asyncio.to_thread(lambda: [(r[0], r[1]) for r in _csv_rows(path)])
    assert rows == [(r["id"], r["at"]) for r in expected]
