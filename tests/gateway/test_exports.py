"""Export jobs run by the app and downloaded from `/v1/exports/{id}/content`:
the files' contents against the GraphQL reads of the same events, the
download's answers, cancel, failure, expiry, metrics."""

from __future__ import annotations

import asyncio
import csv
import io
import json
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from uuid import UUID

import asyncpg
import pytest
from aiohttp.test_utils import TestClient, TestServer
from multidict import CIMultiDictProxy

from db import export_writer
from db.demo import seed_demo
from db.tokens import create_token
from gateway import export_runner
from gateway.app import create_app
from gateway.export_service import utc_now
from gateway.settings import Settings
from schema.ids import global_id
from tests.export_support import CANCEL, CREATE, STATUS, seed_events, wait_for
from tests.ingest_support import environment_uuid
from tests.schema.conftest import Tokens, issue_tokens
from tests.schema.events_support import Event, insert_events
from tests.service import eventually
from tests.support import Client, data

BASE = datetime(2025, 3, 1, tzinfo=UTC)
# cells a CSV writer or a spreadsheet could get wrong
TRICKY = [
    Event("comma", BASE, {"text": "a,b", "n": 1}, event="with,comma", distinct_id="u,1"),
    Event("quote", BASE + timedelta(seconds=1), {"q": 'say "hi"'}, event='say "hi"'),
    Event("newline", BASE + timedelta(seconds=2), {"t": "line\nbreak"}, event="two\nlines"),
    Event("unicode", BASE + timedelta(seconds=3), {"ü": "日本語 ✓"}, distinct_id="Zoë 🚀"),
    Event("formula", BASE + timedelta(seconds=4), {"f": "=1+1"}, event="=SUM(A1:A9)"),
    Event("plus", BASE + timedelta(seconds=5), event="+33 6 12", distinct_id="-minus"),
    Event("at", BASE + timedelta(seconds=6, microseconds=120), event="@cmd", distinct_id="@x"),
    Event(
        "person",
        BASE + timedelta(seconds=7),
        {"nested": {"a": [1, 2.5, None, True]}, "big": 12345678901234567890},
        person_id=UUID(int=7),
    ),
]
EVENT_FIELDS = "id uuid timestamp receivedAt event distinctId personId properties"
EVENTS = f"""
query ($env: ID!) {{
  environment(id: $env) {{
    events(first: 100, orderBy: [{{field: TIMESTAMP, direction: ASC}}]) {{
      nodes {{ {EVENT_FIELDS} }}
    }}
  }}
}}
"""


@dataclass
class MovableClock:
    """The app's clock, moved forward by tests instead of waiting."""

    ahead: timedelta = timedelta(0)

    def __call__(self) -> datetime:
        return utc_now() + self.ahead


def _names(folder: Path) -> list[str]:
    """The files in `folder` (a few: listing them does not block for long)."""
    return sorted(p.name for p in folder.iterdir())


@pytest.fixture
async def tokens(conn: asyncpg.Connection) -> Tokens:
    """The demo data (its exports; no events) and tokens of its users."""
    await seed_demo(conn, 1)
    return await issue_tokens(conn)


@pytest.fixture
def clock() -> MovableClock:
    return MovableClock()


@pytest.fixture
def export_dir(tmp_path: Path) -> Path:
    return tmp_path / "exports"


@pytest.fixture
async def client(
    settings: Settings, export_dir: Path, clock: MovableClock, monkeypatch: pytest.MonkeyPatch
) -> AsyncIterator[Client]:
    """The app running export jobs, its files under the test's folder."""
    monkeypatch.setattr(export_runner, "SWEEP_EVERY_S", 0.2)
    monkeypatch.setattr(export_runner, "POLL_S", 0.05)
    app = create_app(
        replace(settings, export_dir=export_dir, export_concurrency=2, export_lease_s=5),
        clock=clock,
    )
    async with TestClient(TestServer(app)) as test_client:
        yield test_client


async def _export(
    client: Client, token: str, environment: str, form: str, **extra: Any
) -> dict[str, Any]:
    created = await data(
        client, CREATE, token, input={"environmentId": environment, "format": form, **extra}
    )
    export: dict[str, Any] = created["createExport"]["export"]
    return export


def _fetch(client: Client, token: str, export_id: str) -> Callable[[], Any]:
    async def fetch() -> dict[str, Any]:
        found: dict[str, Any] = (await data(client, STATUS, token, id=export_id))["export"]
        return found

    return fetch


async def _finished(
    client: Client, token: str, environment: str, form: str, **extra: Any
) -> tuple[dict[str, Any], dict[str, Any]]:
    export = await _export(client, token, environment, form, **extra)
    done = await wait_for(_fetch(client, token, export["id"]), {"SUCCEEDED", "FAILED"})
    assert done["status"] == "SUCCEEDED", done
    return export, done


async def _download(
    client: Client, token: str, url: str
) -> tuple[int, CIMultiDictProxy[str], bytes]:
    response = await client.get(url, headers={"Authorization": f"Bearer {token}"})
    return response.status, response.headers, await response.read()


@pytest.fixture
async def tricky(conn: asyncpg.Connection, tokens: Tokens) -> str:
    """A demo environment holding only the TRICKY events; its global id."""
    environment = await environment_uuid(conn)
    await insert_events(conn, environment, TRICKY)
    return global_id("Environment", environment)


async def test_csv_round_trip(
    client: Client, tokens: Tokens, tricky: str, export_dir: Path
) -> None:
    export, done = await _finished(client, tokens.ada, tricky, "CSV")
    assert done["contentUrl"] == f"/v1/exports/{export['uuid']}/content"
    assert (done["rowsWritten"], done["rowsTotal"]) == (str(len(TRICKY)), str(len(TRICKY)))
    status, headers, body = await _download(client, tokens.ada, done["contentUrl"])
    assert status == 200
    assert headers["Content-Type"] == "text/csv; charset=utf-8"
    assert headers["Content-Disposition"] == f'attachment; filename="export-{export["uuid"]}.csv"'
    assert int(headers["Content-Length"]) == len(body) == int(done["byteSize"])
    assert headers["ETag"]
    # the only file is the finished one
    assert _names(export_dir) == [f"{export['uuid']}.csv"]

    rows = list(csv.reader(io.StringIO(body.decode("utf-8"), newline="")))
    assert rows[0] == [
        "uuid", "timestamp", "event", "distinct_id", "person_id", "properties", "received_at"
    ]  # fmt: skip
    events = (await data(client, EVENTS, tokens.ada, env=tricky))["environment"]["events"]["nodes"]
    guarded = {"=SUM(A1:A9)": "'=SUM(A1:A9)", "+33 6 12": "'+33 6 12", "@cmd": "'@cmd"}
    guarded |= {"-minus": "'-minus", "@x": "'@x"}
    expected = [
        [
            e["uuid"],
            e["timestamp"],
            guarded.get(e["event"], e["event"]),
            guarded.get(e["distinctId"], e["distinctId"]),
            e["personId"] or "",
            e["properties"],
            e["receivedAt"],
        ]
        for e in events
    ]
    parsed = [[*row[:5], json.loads(row[5]), row[6]] for row in rows[1:]]
    assert parsed == expected
    assert [row[2] for row in rows[1:4]] == ["with,comma", 'say "hi"', "two\nlines"]
    # a CSV of RFC 4180: CRLF is not required, but every line break inside a cell is quoted
    assert b'"two\nlines"' in body


async def test_json_and_ndjson_hold_the_graphql_values(
    client: Client, tokens: Tokens, tricky: str
) -> None:
    events = (await data(client, EVENTS, tokens.ada, env=tricky))["environment"]["events"]["nodes"]
    _, done = await _finished(client, tokens.ada, tricky, "JSON")
    status, headers, body = await _download(client, tokens.ada, done["contentUrl"])
    assert (status, headers["Content-Type"]) == (200, "application/json; charset=utf-8")
    assert headers["Content-Disposition"].endswith('.json"')
    assert json.loads(body) == events

    _, done = await _finished(client, tokens.ada, tricky, "NDJSON")
    status, headers, body = await _download(client, tokens.ada, done["contentUrl"])
    assert (status, headers["Content-Type"]) == (200, "application/x-ndjson; charset=utf-8")
    assert headers["Content-Disposition"].endswith('.ndjson"')
    lines = body.decode().split("\n")
    assert lines[-1] == ""
    assert [json.loads(line) for line in lines[:-1]] == events


async def test_an_empty_export_is_a_valid_file(client: Client, tokens: Tokens, tricky: str) -> None:
    window = {"since": "2030-01-01T00:00:00Z"}
    for form, expected in (
        ("JSON", []),
        ("NDJSON", None),
        ("CSV", None),
    ):
        _, done = await _finished(client, tokens.ada, tricky, form, **window)
        assert (done["rowsWritten"], done["rowsTotal"]) == ("0", "0")
        _, _, body = await _download(client, tokens.ada, done["contentUrl"])
        if form == "JSON":
            assert json.loads(body) == expected
        elif form == "NDJSON":
            assert body == b""
        else:
            assert body == b"uuid,timestamp,event,distinct_id,person_id,properties,received_at\n"


async def test_window_and_filter_select_what_the_list_would(
    client: Client, conn: asyncpg.Connection, tokens: Tokens
) -> None:
    environment = await environment_uuid(conn)
    await seed_events(conn, environment, 3000)
    env = global_id("Environment", environment)
    arguments = {
        "since": "2025-01-01T00:10:00Z",
        "until": "2025-01-01T00:40:00Z",
        "filter": {
            "event": {"in": ["prediction", "feedback"]},
            "properties": [{"key": "label", "operator": "EQ", "value": "yes"}],
        },
    }
    listed = await data(
        client,
        """query ($env: ID!, $since: DateTime, $until: DateTime, $filter: EventFilter) {
             environment(id: $env) {
               events(since: $since, until: $until, filter: $filter) { totalCount }
             }
           }""",
        tokens.ada,
        env=env,
        **arguments,
    )
    count = listed["environment"]["events"]["totalCount"]
    assert count == 600  # half of the 1,800 seconds are "yes", two thirds of them kept
    _, done = await _finished(client, tokens.ada, env, "NDJSON", **arguments)
    assert done["rowsTotal"] == str(count)
    _, _, body = await _download(client, tokens.ada, done["contentUrl"])
    rows = [json.loads(line) for line in body.splitlines()]
    assert len(rows) == count
    assert {r["properties"]["label"] for r in rows} == {"yes"}
    times = [r["timestamp"] for r in rows]
    assert times == sorted(times)  # oldest first
    assert times[0] >= "2025-01-01T00:10:00"
    assert times[-1] < "2025-01-01T00:40:00"


async def test_the_download_answers(
    client: Client, conn: asyncpg.Connection, tokens: Tokens, tricky: str
) -> None:
    export, done = await _finished(client, tokens.ada, tricky, "CSV")
    url = done["contentUrl"]
    by_global_id = f"/v1/exports/{export['id']}/content"
    status, _, body = await _download(client, tokens.ada, by_global_id)
    assert (status, len(body)) == (200, int(done["byteSize"]))
    # HEAD: the headers without the body
    head = await client.head(url, headers={"Authorization": f"Bearer {tokens.ada}"})
    assert (head.status, head.headers["Content-Length"], await head.read()) == (
        200,
        done["byteSize"],
        b"",
    )
    # a range of it
    part = await client.get(
        url, headers={"Authorization": f"Bearer {tokens.ada}", "Range": "bytes=0-9"}
    )
    assert (part.status, await part.read()) == (206, b"uuid,times")

    async def refused(token: str | None, path: str) -> tuple[int, str, str]:
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        response = await client.get(path, headers=headers)
        body = await response.json()
        return response.status, body["errors"][0]["code"], body["errors"][0]["message"]

    # Alan (another tenant) and nobody at all
    assert await refused(tokens.alan, url) == (404, "NOT_FOUND", "export not found")
    assert (await refused(None, url))[:2] == (401, "UNAUTHENTICATED")
    assert await refused(tokens.ada, "/v1/exports/nonsense/content") == (
        404,
        "NOT_FOUND",
        "export not found",
    )
    missing = f"/v1/exports/{'0' * 8}-0000-0000-0000-{'0' * 12}/content"
    assert (await refused(tokens.ada, missing))[0] == 404
    # a token of Ada's without export:read
    events_only = (await create_token(conn, email="ada@example.com", scopes=["event:read"])).token
    assert await refused(events_only, url) == (
        403,
        "FORBIDDEN",
        "this token lacks the scope export:read",
    )
    # an export without a file: failed (demo) or cancelled
    failed = await conn.fetchval(
        "SELECT id FROM exports WHERE status = 'FAILED' AND environment_id = $1",
        await environment_uuid(conn),
    )
    assert await refused(tokens.ada, f"/v1/exports/{failed}/content") == (
        409,
        "CONFLICT",
        "the export has no file: it is FAILED",
    )
    expired = await conn.fetchval(
        "SELECT id FROM exports WHERE status = 'EXPIRED' AND environment_id = $1",
        await environment_uuid(conn),
    )
    assert await refused(tokens.ada, f"/v1/exports/{expired}/content") == (
        410,
        "NOT_FOUND",
        "the export has expired: its file was deleted",
    )


async def test_a_job_that_cannot_write_fails_and_leaves_no_file(
    settings: Settings, conn: asyncpg.Connection, tokens: Tokens, tricky: str, tmp_path: Path
) -> None:
    # the export folder would be inside a plain file: nothing can be written there
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("")
    app = create_app(replace(settings, export_dir=blocker / "exports", export_concurrency=1))
    async with TestClient(TestServer(app)) as client:
        export = await _export(client, tokens.ada, tricky, "CSV")
        done = await wait_for(_fetch(client, tokens.ada, export["id"]), {"SUCCEEDED", "FAILED"})
    assert {k: done[k] for k in ("status", "error", "contentUrl", "byteSize")} == {
        "status": "FAILED",
        "error": "cannot write the export file: Not a directory",
        "contentUrl": None,
        "byteSize": None,
    }
    assert _names(tmp_path) == ["not-a-folder"]


async def test_cancel_stops_a_running_export_within_a_second(
    client: Client,
    conn: asyncpg.Connection,
    tokens: Tokens,
    export_dir: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # each megabyte written 20 ms later, so that the job still runs when the test
    # first sees rows written (on a quiet machine the 400,000 rows were once all
    # written before that: SUCCEEDED, nothing left to cancel)
    flush = export_writer._Sink.flush

    async def slow_flush(sink: export_writer._Sink) -> None:
        await asyncio.sleep(0.02)
        await flush(sink)

    monkeypatch.setattr(export_writer._Sink, "flush", slow_flush)
    environment = await environment_uuid(conn)
    await seed_events(conn, environment, 400_000)
    export = await _export(client, tokens.ada, global_id("Environment", environment), "JSON")
    fetch = _fetch(client, tokens.ada, export["id"])

    seen: list[dict[str, Any]] = []

    async def writing() -> bool:
        seen.append(await fetch())
        return int(seen[-1]["rowsWritten"]) > 0

    await eventually(writing, within_s=60)
    # the total is there before the first row is written, and the count moves
    assert (seen[-1]["status"], seen[-1]["rowsTotal"]) == ("RUNNING", "400000")
    assert all(s["rowsTotal"] == "400000" for s in seen if int(s["rowsWritten"]) > 0)
    cancelled = await data(client, CANCEL, tokens.ada, id=export["id"])
    assert cancelled == {"cancelExport": {"export": {"status": "CANCELLED"}}}
    started = datetime.now(UTC)

    async def stopped() -> bool:
        copying = await conn.fetchval(
            "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
            "AND query LIKE 'COPY%'"
        )
        return copying == 0 and _names(export_dir) == []

    await eventually(stopped, within_s=5)
    assert datetime.now(UTC) - started < timedelta(seconds=1)
    final = await fetch()
    assert (final["status"], final["contentUrl"]) == ("CANCELLED", None)


async def test_expiry_deletes_the_file(
    client: Client, tokens: Tokens, tricky: str, clock: MovableClock, export_dir: Path
) -> None:
    export, done = await _finished(client, tokens.ada, tricky, "NDJSON")
    file = export_dir / f"{export['uuid']}.ndjson"
    assert file.is_file()
    clock.ahead = timedelta(days=7, minutes=1)  # past the default expiry
    fetch = _fetch(client, tokens.ada, export["id"])
    expired = await wait_for(fetch, {"EXPIRED"}, within_s=10)
    assert expired["contentUrl"] is None

    # the sweep marks it EXPIRED, then deletes the file (a download of an EXPIRED
    # export is 410 whether the file is there or not)
    async def deleted() -> bool:
        return not file.exists()

    await eventually(deleted, within_s=10)
    response = await client.get(
        done["contentUrl"], headers={"Authorization": f"Bearer {tokens.ada}"}
    )
    assert response.status == 410


async def test_metrics_count_jobs_and_rows(client: Client, tokens: Tokens, tricky: str) -> None:
    await _finished(client, tokens.ada, tricky, "CSV")

    async def counted() -> bool:
        text = await (await client.get("/metrics")).text()
        return 'envgraph_export_jobs{status="SUCCEEDED"} 1.0' in text

    await eventually(counted, within_s=10)
    text = await (await client.get("/metrics")).text()
    assert f"envgraph_exported_rows_total {float(len(TRICKY))}" in text
    # the demo's: 18 production environments, each with one export of each ending
    assert 'envgraph_export_jobs{status="EXPIRED"} 18.0' in text
    assert 'envgraph_export_jobs{status="QUEUED"} 0.0' in text


@pytest.mark.parametrize("concurrency", [1, 2])
async def test_a_process_runs_at_most_its_concurrency_at_once(
    settings: Settings,
    conn: asyncpg.Connection,
    tokens: Tokens,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    concurrency: int,
) -> None:
    monkeypatch.setattr(export_runner, "POLL_S", 0.05)
    environment = await environment_uuid(conn)
    await seed_events(conn, environment, 200_000)
    env = global_id("Environment", environment)
    # three jobs waiting before any process runs jobs
    quiet = create_app(replace(settings, export_dir=tmp_path, export_concurrency=0))
    async with TestClient(TestServer(quiet)) as client:
        made = [await _export(client, tokens.ada, env, "CSV") for _ in range(3)]
    ids = [UUID(export["uuid"]) for export in made]
    app = create_app(replace(settings, export_dir=tmp_path, export_concurrency=concurrency))
    async with TestClient(TestServer(app)):

        async def all_done() -> bool:
            done = await conn.fetchval(
                "SELECT count(*) FROM exports WHERE id = ANY($1::uuid[]) AND status = 'SUCCEEDED'",
                ids,
            )
            return bool(done == 3)

        await eventually(all_done, within_s=120)
    runs = await conn.fetch(
        "SELECT started_at, finished_at, attempts FROM exports WHERE id = ANY($1::uuid[])", ids
    )
    assert [run["attempts"] for run in runs] == [1, 1, 1]
    # the most runs at once: starts count up, ends (first, at a tie) down
    moments = sorted(
        [(run["started_at"], 1) for run in runs] + [(run["finished_at"], -1) for run in runs]
    )
    at_once, most = 0, 0
    for _, step in moments:
        at_once += step
        most = max(most, at_once)
    assert most == concurrency
