"""The bench's exact raw bound (bench/queries/raw-exact/) answers envgraph's bytes:
the same JSON as envgraph's nested answer, ids, cursors and timestamps included,
on a generated database where a page of organizations and of environments each
has a next page. Were it to answer less, the bound would not bound the same work."""

from __future__ import annotations

import json
from dataclasses import replace

import asyncpg
from aiohttp.test_utils import TestClient, TestServer

from bench.datagen import Scale, generate
from bench.scenarios import QUERIES, body
from db.tokens import create_token
from db.users import create_user
from gateway.app import create_app
from gateway.settings import Settings

AUTHOR = "bench@example.com"
# 11 organizations and 6 environments a model: pages of 10 and 5 have a next page
SCALE = Scale("exact", 11, 2, 2, 6, 1)


async def _envgraph(settings: Settings, token: str) -> object:
    app = create_app(replace(settings, max_query_depth=16))  # as the bench serves it
    async with TestClient(TestServer(app)) as client:
        response = await client.post(
            "/graphql",
            data=body("envgraph", "nested", {}),
            headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"},
        )
        assert response.status == 200
        return json.loads(await response.read())


async def test_the_exact_bound_answers_envgraphs_bytes(
    conn: asyncpg.Connection, settings: Settings
) -> None:
    await create_user(conn, email=AUTHOR, name="Bench Runner")
    await generate(conn, SCALE, AUTHOR)
    token = (await create_token(conn, email=AUTHOR, scopes=["*"], superuser=True)).token
    statement = (QUERIES / "raw-exact" / "nested.sql").read_text()
    exact = {"data": json.loads(await conn.fetchval(statement))}

    for compiled in (True, False):  # both executors answer the same bytes
        answer = await _envgraph(replace(settings, compiled_reads=compiled), token)
        assert answer == exact

    organizations = exact["data"]["organizations"]
    assert organizations["totalCount"] == 11
    assert organizations["pageInfo"]["hasNextPage"] is True
    assert len(organizations["edges"]) == 10
    environments = organizations["edges"][0]["node"]["projects"]["edges"][0]["node"]["models"][
        "edges"
    ][0]["node"]["environments"]
    assert (environments["totalCount"], environments["pageInfo"]["hasNextPage"]) == (6, True)
    assert len(environments["edges"]) == 5
    # the lean bound answers bare uuids where the exact one answers global ids
    lean = json.loads(await conn.fetchval((QUERIES / "raw" / "nested.sql").read_text()))
    first = lean["organizations"]["edges"][0]
    assert first["node"]["id"] == first["node"]["uuid"] == first["cursor"]
    assert organizations["edges"][0]["node"]["id"] != first["node"]["id"]
