"""The bench's "by id, persisted (APQ GET)" scenario against a real server: its
document registered by one POST of text and hash, then asked by hash alone with
GET, the id filled URL-encoded (as post.lua fills it); envgraph's alone (the
peers and the raw bound have no query for it)."""

from __future__ import annotations

import asyncio
import hashlib
import json
from pathlib import Path
from urllib.parse import parse_qs

import asyncpg

from bench import client as bench_client
from bench.scenarios import QUERIES, DataFacts, body, has_query, registration, variables
from schema.ids import global_id
from tests.support import Client


async def test_the_persisted_scenario_registers_then_gets_by_hash(
    client: Client, token: str, conn: asyncpg.Connection, tmp_path: Path
) -> None:
    org = await conn.fetchval("INSERT INTO organizations (name) VALUES ('o') RETURNING id")
    project = await conn.fetchval(
        "INSERT INTO projects (organization_id, name) VALUES ($1, 'p') RETURNING id", org
    )
    model = await conn.fetchval(
        "INSERT INTO models (project_id, name, version) VALUES ($1, 'm', '1') RETURNING id",
        project,
    )
    environment = await conn.fetchval(
        "INSERT INTO environments (model_id, project_id, name, type) "
        "VALUES ($1, $2, 'prod', 'PRODUCTION') RETURNING id",
        model,
        project,
    )
    await conn.execute(
        "INSERT INTO organization_members (organization_id, user_id, role) "
        "SELECT $1, id, 'ADMIN' FROM users",
        org,
    )
    facts = DataFacts(1, [environment], [], environment)
    values = variables("envgraph", "by_id_apq", facts)
    template = body("envgraph", "by_id_apq", values)
    text = (QUERIES / "envgraph" / "by_id_apq.graphql").read_text()
    sha = hashlib.sha256(text.encode()).hexdigest()
    # a GET's query string: the hash, no text
    assert template.startswith("?")
    assert {k: json.loads(v[0]) for k, v in parse_qs(template[1:]).items()} == {
        "variables": {"id": "__ID__"},
        "extensions": {"persistedQuery": {"version": 1, "sha256Hash": sha}},
    }
    register = registration("envgraph", "by_id_apq", values)
    assert register is not None
    assert registration("envgraph", "by_id", values) is None
    assert [has_query(f, "by_id_apq") for f in ("envgraph", "postgraphile-v5", "raw")] == [
        True,
        False,
        False,
    ]

    url = str(client.make_url("/graphql"))
    ids = (global_id("Environment", environment), "")
    expected = {"data": {"environment": {"id": ids[0], "name": "prod"}}}

    def ask(request_body: str) -> dict[str, object]:
        answer = bench_client.post(url, bench_client.fill(request_body, ids, "n"), token)
        found = answer["data"]["environment"]
        return {"data": {"environment": {k: found[k] for k in ("id", "name")}}}

    # the urllib client blocks: run it off the loop that serves the app
    assert await asyncio.to_thread(ask, register) == expected
    assert (
        await conn.fetchval("SELECT body FROM persisted_documents WHERE sha256 = $1", sha) == text
    )
    assert await asyncio.to_thread(ask, template) == expected
