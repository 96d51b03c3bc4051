"""Federation 2 subgraph: entities through the same loaders and visibility;
the SDL committed, served and in sync with the code."""

from __future__ import annotations

import re
from dataclasses import replace
from pathlib import Path

import asyncpg
from aiohttp.test_utils import TestClient, TestServer

from db.entities import ENTITIES
from gateway.app import create_app
from gateway.keys import STATEMENTS
from gateway.settings import Settings
from schema.ids import global_id
from schema.schema import build_schema
from tests.schema.conftest import Tokens
from tests.support import Client, data

ENTITIES_QUERY = """
query ($representations: [_Any!]!) {
  _entities(representations: $representations) {
    ... on Environment { id name project { name } }
  }
}
"""
COMMITTED = Path(__file__).parents[2] / "schema" / "schema.graphql"


async def test_entities_are_batched_and_scoped(
    client: Client, conn: asyncpg.Connection, tokens: Tokens
) -> None:
    rows = await conn.fetch(
        """SELECT e.id, o.name AS organization FROM environments e
           JOIN projects p ON p.id = e.project_id JOIN organizations o ON o.id = p.organization_id
           ORDER BY o.name = 'Initech Labs', e.id"""
    )
    mine = [global_id("Environment", r["id"]) for r in rows if r["organization"] != "Initech Labs"]
    theirs = next(
        global_id("Environment", r["id"]) for r in rows if r["organization"] == "Initech Labs"
    )
    counter = client.app[STATEMENTS]
    for wanted in (mine[:1], [*mine[:35], theirs, *mine[35:]]):
        representations = [{"__typename": "Environment", "id": i} for i in wanted]
        before = counter.total
        result = await data(client, ENTITIES_QUERY, tokens.ada, representations=representations)
        # the token check, one statement for all environments, one for their projects
        assert counter.total - before == 3
        found = result["_entities"]
        assert [e and e["id"] for e in found] == [i if i != theirs else None for i in wanted]
    assert len(found) == 37
    assert found[35] is None  # another tenant's environment: null, never data


async def test_entities_cost_one_statement_for_1_or_50(
    client: Client, conn: asyncpg.Connection, tokens: Tokens
) -> None:
    ids = [global_id("Environment", r["id"]) for r in await conn.fetch(
        "SELECT id FROM environments ORDER BY id LIMIT 50"
    )]  # fmt: skip
    query = "query ($r: [_Any!]!) { _entities(representations: $r) { ... on Environment { id } } }"
    counter = client.app[STATEMENTS]
    for wanted in (ids[:1], ids):
        before = counter.total
        result = await data(
            client, query, tokens.root, r=[{"__typename": "Environment", "id": i} for i in wanted]
        )
        assert [e["id"] for e in result["_entities"]] == wanted
        assert counter.total - before == 2  # the token check + one for all the environments


async def test_service_sdl_declares_every_key(settings: Settings, tokens: Tokens) -> None:
    # also when introspection is switched off: gateways still need the SDL
    app = create_app(replace(settings, introspection=False))
    async with TestClient(TestServer(app)) as client:
        sdl = (await data(client, "{ _service { sdl } }", tokens.ada))["_service"]["sdl"]
    keyed = set(re.findall(r"type (\w+) implements Node @key\(fields: \"id\"\)", sdl))
    # every kind of the registry, and User
    assert keyed == {e.type_name for e in ENTITIES.values()} | {"User"}
    assert "federation/v2.5" in sdl


def test_the_committed_sdl_is_the_codes() -> None:
    assert build_schema().as_str() + "\n" == COMMITTED.read_text(), (
        "schema/schema.graphql is stale: regenerate it with "
        "`python -m gateway export-schema > schema/schema.graphql`"
    )


async def test_the_sdl_is_served(client: Client) -> None:
    response = await client.get("/schema.graphql")
    assert response.status == 200
    assert await response.text() == COMMITTED.read_text()
