"""The events scenarios at a tiny scale: the raw bound's statements give the
pages envgraph must give (newest first, the id breaking ties, the property
filter, the deep page after its cursor), the variables each system is sent,
and the size of the ingestion upload."""

from __future__ import annotations

import json
import uuid
from dataclasses import replace
from pathlib import Path
from typing import Any

import asyncpg

from bench.datagen import SCALES, generate
from bench.events import event
from bench.ingest_events import rows_for, write_upload
from bench.rawserver import load_statements
from bench.scenarios import SCENARIOS, DataFacts, body, has_query, variables
from db.users import create_user

AUTHOR = "bench@example.com"
PER_ENVIRONMENT = 60
SIXTY = replace(SCALES["tiny"], events=SCALES["tiny"].total_environments * PER_ENVIRONMENT)
STATEMENTS = load_statements()


async def _run(conn: asyncpg.Connection, name: str, values: dict[str, Any]) -> Any:
    statement = STATEMENTS[name]
    text = await conn.fetchval(statement.sql, *[values[p] for p in statement.params])
    return json.loads(text)["environment"]["events"]


def _uuids(page: dict[str, Any]) -> list[str]:
    return [node["uuid"] for node in page["nodes"]]


def _expected(numbers: list[int]) -> list[str]:
    return [str(event(1, n, PER_ENVIRONMENT).id) for n in numbers]


async def test_the_raw_statements_page_as_envgraph_must(conn: asyncpg.Connection) -> None:
    await create_user(conn, email=AUTHOR, name="Bench Runner")
    await generate(conn, SIXTY, AUTHOR)
    environment = str(await conn.fetchval("SELECT id FROM environments ORDER BY id LIMIT 1"))
    first = await _run(conn, "events_first", {"id": environment})
    assert first["pageInfo"]["hasNextPage"] is True
    assert _uuids(first) == _expected(list(range(1, 51)))  # n = 1 is the newest
    # the cursor of row 9, then the page after it: rows 10 to 59 of 60
    cursor = await _run(conn, "events_cursor", {"id": environment, "offset": 8})
    after = cursor["pageInfo"]["endCursor"]
    deep = await _run(conn, "events_deep", {"id": environment, "after": after})
    assert _uuids(deep) == _expected(list(range(10, 60)))
    assert deep["pageInfo"]["hasNextPage"] is True
    # the window: the whole span, events whose is_test is false (n not a multiple of 10)
    window = await _run(
        conn,
        "events_window",
        {"id": environment, "since": "2024-01-01T00:00:00Z", "until": "2024-12-31T00:00:00Z"},
    )
    assert _uuids(window) == _expected([n for n in range(1, 60) if n % 10][:50])
    assert window["pageInfo"]["hasNextPage"] is True


def test_every_system_is_asked_about_environment_one() -> None:
    environment = uuid.UUID(int=7)
    facts = DataFacts(1, [environment], [], environment)
    envgraph = variables("envgraph", "events_window", facts)
    raw = variables("raw", "events_window", facts)
    assert raw["id"] == str(environment)
    assert envgraph["id"] != raw["id"]
    assert envgraph["since"] == raw["since"]
    assert envgraph["until"] > envgraph["since"]
    assert variables("raw", "events_cursor", facts)["offset"] == 999 * 50 - 1
    assert variables("envgraph", "events_deep", facts, "C")["after"] == "C"
    for scenario in (s.name for s in SCENARIOS if s.database == "events"):
        for family in ("envgraph", "postgraphile-v5", "raw"):
            assert has_query(family, scenario)
            json.loads(body(family, scenario, {}))
        assert not has_query("postgraphile-v4", scenario)


def test_an_upload_of_a_given_size(tmp_path: Path) -> None:
    rows = rows_for(1_000_000)
    size = write_upload(tmp_path / "upload.csv", rows)
    assert abs(size - 1_000_000) < 20_000
    lines = (tmp_path / "upload.csv").read_text().splitlines()
    assert lines[0].startswith("uuid,timestamp")
    assert len(lines) == rows + 1
