"""Real GraphQL clients page through envgraph over HTTP: Python's `gql`
(validating against the schema it introspects) and Apollo Client in Node
(tests/node, installed by CI with `(cd tests/node && npm ci)`)."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import asyncpg
from gql import Client as GqlClient
from gql import GraphQLRequest, gql
from gql.transport.aiohttp import AIOHTTPTransport

from schema.ids import global_id
from tests.schema.conftest import Tokens
from tests.support import NODE_DIR, Client, data, require_node

PAGE = """
query EnvironmentPage($first: Int!, $after: String) {
  environments(first: $first, after: $after, orderBy: [{field: NAME}]) {
    totalCount
    pageInfo { hasNextPage endCursor }
    edges { cursor node { id name } }
  }
}
"""
# PAGE as Apollo Client sends it: its cache adds __typename to every selection
APOLLO_PAGE = """
query EnvironmentPage($first: Int!, $after: String) {
  environments(first: $first, after: $after, orderBy: [{field: NAME}]) {
    __typename
    totalCount
    pageInfo { __typename hasNextPage endCursor }
    edges { __typename cursor node { __typename id name } }
  }
}
"""


async def _adas_environments(conn: asyncpg.Connection) -> list[tuple[str, str]]:
    """(id, name) of the environments Ada sees (her two organizations') by name, then id."""
    rows = await conn.fetch(
        """SELECT e.id, e.name FROM environments e JOIN projects p ON p.id = e.project_id
           JOIN organizations o ON o.id = p.organization_id
           WHERE o.name IN ('Acme Analytics', 'Globex Research') ORDER BY e.name, e.id"""
    )
    return [(global_id("Environment", r["id"]), r["name"]) for r in rows]


async def test_gql_walks_every_environment_once_in_name_order(
    client: Client, conn: asyncpg.Connection, tokens: Tokens
) -> None:
    expected = await _adas_environments(conn)
    assert len(expected) == 36
    transport = AIOHTTPTransport(
        url=str(client.make_url("/graphql")), headers={"Authorization": f"Bearer {tokens.ada}"}
    )
    query = gql(PAGE)
    seen: list[tuple[str, str]] = []
    pages = 0
    after: str | None = None
    async with GqlClient(transport=transport, fetch_schema_from_transport=True) as session:
        # gql introspected the schema, and validates every request against it
        assert session.client.schema is not None
        assert "Environment" in session.client.schema.type_map
        while True:
            request = GraphQLRequest(query, variable_values={"first": 10, "after": after})
            result: dict[str, Any] = await session.execute(request)
            page = result["environments"]
            assert page["totalCount"] == 36
            seen += [(e["node"]["id"], e["node"]["name"]) for e in page["edges"]]
            pages += 1
            if not page["pageInfo"]["hasNextPage"]:
                break
            after = page["pageInfo"]["endCursor"]
            assert after == page["edges"][-1]["cursor"]
    assert pages == 4  # 10 + 10 + 10 + 6
    assert seen == expected
    assert len({i for i, _ in seen}) == 36
    names = [name for _, name in seen]
    assert names == ["production"] * 12 + ["training"] * 12 + ["validation"] * 12


async def _node(script: str, *args: str) -> tuple[int, str, str]:
    node = require_node()
    process = await asyncio.create_subprocess_exec(
        node,
        script,
        *args,
        cwd=NODE_DIR,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    try:
        # the app under test runs on this event loop: wait without blocking it
        stdout, stderr = await asyncio.wait_for(process.communicate(), 60)
    finally:
        if process.returncode is None:
            process.kill()
            await process.wait()
    assert process.returncode is not None
    return process.returncode, stdout.decode(), stderr.decode()


async def test_apollo_client_pages_through_environments(
    client: Client, conn: asyncpg.Connection, tokens: Tokens
) -> None:
    url = str(client.make_url("/graphql"))
    code, stdout, stderr = await _node("apollo-client.mjs", url, tokens.ada, "5", "2")
    assert code == 0, stderr
    printed = json.loads(stdout)

    first = (await data(client, APOLLO_PAGE, tokens.ada, first=5))["environments"]
    after = first["pageInfo"]["endCursor"]
    second = (await data(client, APOLLO_PAGE, tokens.ada, first=5, after=after))["environments"]
    assert printed == {"pages": [first, second]}

    expected = await _adas_environments(conn)
    pages = printed["pages"]
    assert [(e["node"]["id"], e["node"]["name"]) for p in pages for e in p["edges"]] == expected[
        :10
    ]
    assert [p["totalCount"] for p in pages] == [36, 36]
    assert [p["pageInfo"]["hasNextPage"] for p in pages] == [True, True]
    assert pages[1]["edges"][0]["node"]["__typename"] == "Environment"


async def test_apollo_client_fails_on_a_bad_token(client: Client) -> None:
    url = str(client.make_url("/graphql"))
    code, stdout, stderr = await _node("apollo-client.mjs", url, "egt_not-a-token")
    assert (code, stdout) == (1, "")
    # Apollo Client accepts application/graphql-response+json, so it reads the
    # 401's body as GraphQL errors
    assert "CombinedGraphQLErrors: The token is invalid, expired or revoked." in stderr
    assert "The token is invalid, expired or revoked." in stderr
    assert '"code":"UNAUTHENTICATED"' in stderr


async def test_apollo_clients_persisted_query_link_registers_then_gets_by_hash(
    client: Client, conn: asyncpg.Connection, tokens: Tokens
) -> None:
    url = str(client.make_url("/graphql"))
    code, stdout, stderr = await _node("apollo-persisted.mjs", url, tokens.ada, "2")
    assert code == 0, stderr
    printed = json.loads(stdout)
    viewer = {"viewer": {"__typename": "Viewer", "scopes": ["*"]}}
    assert printed["results"] == [viewer, viewer]
    # the text as Apollo Client prints it (its cache adds __typename)
    (text,) = await conn.fetch("SELECT sha256, body FROM persisted_documents")
    assert text["body"] == "query Viewer {\n  viewer {\n    scopes\n    __typename\n  }\n}"
    sha = text["sha256"]
    # by hash with GET, not found (a request error, so 400 under the
    # application/graphql-response+json it accepts); again by POST with the text;
    # from then on by hash with GET
    assert printed["requests"] == [
        {"method": "GET", "status": 400, "query": False, "hash": sha},
        {"method": "POST", "status": 200, "query": True, "hash": sha},
        {"method": "GET", "status": 200, "query": False, "hash": sha},
    ]
