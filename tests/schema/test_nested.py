"""Nested lists through HTTP: per-parent slices, totals, page info, and the
statement budget (it grows with the query's depth, not with its rows)."""

from __future__ import annotations

import asyncpg

from db.demo import seed_demo
from gateway.keys import STATEMENTS
from schema.ids import global_id
from tests.schema.compiled_support import resolver_client
from tests.schema.conftest import Tokens, issue_tokens
from tests.support import Client, data, graphql

__all__ = ["NESTED", "resolver_client"]

NESTED = """
{
  organizations(orderBy: [{field: NAME}]) {
    totalCount
    nodes {
      name
      projects(first: 50, orderBy: [{field: NAME}]) {
        totalCount
        pageInfo { hasNextPage hasPreviousPage }
        nodes {
          name
          models(first: 5, orderBy: [{field: NAME}, {field: VERSION}]) {
            totalCount
            nodes {
              name version
              environments(first: 2, orderBy: [{field: SORT_ORDER, direction: DESC}]) {
                totalCount
                pageInfo { hasNextPage hasPreviousPage startCursor endCursor }
                edges { cursor node { name type rowCount protected } }
              }
              segments(first: 2, orderBy: [{field: NAME}]) { totalCount nodes { name } }
            }
          }
        }
      }
    }
  }
}
"""


async def test_per_parent_slices(client: Client, tokens: Tokens) -> None:
    result = await data(client, NESTED, tokens.ada)
    organizations = result["organizations"]
    assert organizations["totalCount"] == 2
    assert [o["name"] for o in organizations["nodes"]] == ["Acme Analytics", "Globex Research"]
    for organization in organizations["nodes"]:
        projects = organization["projects"]
        assert projects["totalCount"] == 3
        assert projects["pageInfo"] == {"hasNextPage": False, "hasPreviousPage": False}
        assert [p["name"] for p in projects["nodes"]] == [
            "churn-prediction",
            "fraud-detection",
            "support-assistant",
        ]
        for project in projects["nodes"]:
            models = project["models"]
            assert models["totalCount"] == 2
            assert [(m["name"], m["version"]) for m in models["nodes"]] == [
                ("logistic-baseline", "v1"),
                ("xgb-classifier", "v1"),
            ]
            for model in models["nodes"]:
                environments = model["environments"]
                assert environments["totalCount"] == 3
                assert [e["node"]["name"] for e in environments["edges"]] == [
                    "production",
                    "validation",
                ]
                assert environments["edges"][0]["node"]["type"] == "PRODUCTION"
                assert environments["edges"][0]["node"]["protected"] is True
                info = environments["pageInfo"]
                assert (info["hasNextPage"], info["hasPreviousPage"]) == (True, False)
                assert info["startCursor"] == environments["edges"][0]["cursor"]
                assert info["endCursor"] == environments["edges"][1]["cursor"]
                segments = model["segments"]
                assert segments["totalCount"] == 3
                assert [s["name"] for s in segments["nodes"]] == ["adults", "eu-customers"]


async def _statements(client: Client, token: str) -> int:
    counter = client.app[STATEMENTS]
    before = counter.total
    await data(client, NESTED, token)
    return counter.total - before


async def test_statements_grow_with_depth_not_rows(
    client: Client, resolver_client: Client, conn: asyncpg.Connection
) -> None:
    await seed_demo(conn, 1)
    tokens = await issue_tokens(conn)
    # Alan's organization: 3 projects, 6 models, 18 environments, 18 segments
    small = await _statements(resolver_client, tokens.alan)
    compiled_small = await _statements(client, tokens.alan)
    await seed_demo(conn, 10)
    # now 30 projects, 600 models (5 shown per project), thousands of rows below
    result = await data(client, NESTED, tokens.alan)
    assert result == await data(resolver_client, NESTED, tokens.alan)
    projects = result["organizations"]["nodes"][0]["projects"]
    assert (projects["totalCount"], len(projects["nodes"])) == (30, 30)
    assert projects["nodes"][0]["models"]["totalCount"] == 20
    large = await _statements(resolver_client, tokens.alan)
    # resolver path: the token check, then one statement per level:
    # organizations, projects, models, environments, segments
    assert small == large == 6
    # compiled: the token check, then one statement for the whole query
    assert compiled_small == await _statements(client, tokens.alan) == 2


async def test_nodes_are_batched_per_type(
    client: Client, resolver_client: Client, conn: asyncpg.Connection, tokens: Tokens
) -> None:
    rows = await conn.fetch(
        "(SELECT 'Environment' AS t, id FROM environments ORDER BY id LIMIT 10) UNION ALL "
        "(SELECT 'Segment', id FROM segments ORDER BY id LIMIT 10) UNION ALL "
        "(SELECT 'Model', id FROM models ORDER BY id LIMIT 10)"
    )
    ids = [global_id(row["t"], row["id"]) for row in rows]
    query = "query ($ids: [ID!]!) { nodes(ids: $ids) { id } }"
    # the token check, then one statement per type asked for (resolver path)
    # or one for all (compiled)
    for app, budgets in ((resolver_client, (2, 4)), (client, (2, 2))):
        counter = app.app[STATEMENTS]
        for wanted, statements in zip((ids[:1], ids), budgets, strict=True):
            before = counter.total
            result = await data(app, query, tokens.root, ids=wanted)
            assert [n["id"] for n in result["nodes"]] == wanted
            assert counter.total - before == statements


async def test_an_error_cancelling_a_load_leaves_its_other_waiters_their_answer(
    client: Client, conn: asyncpg.Connection, tokens: Tokens
) -> None:
    # `x` fails (a non-null list with a bad argument), which nulls `x` and cancels
    # its sibling `project`, waiting for a load that `y` waits for too: `y` must
    # still get the project, and the request its answer (it once got a
    # CancelledError, and the client a dropped connection)
    model = await conn.fetchrow(
        "SELECT m.id, p.name FROM models m JOIN projects p ON p.id = m.project_id"
        " ORDER BY m.name, m.version LIMIT 1"
    )
    assert model is not None
    query = """query ($id: ID!) {
      x: node(id: $id) { ... on Model { project { name } environments(first: -1) { totalCount } } }
      y: model(id: $id) { project { name } }
    }"""
    for _ in range(5):
        status, body = await graphql(client, query, tokens.root, id=global_id("Model", model["id"]))
        assert status == 200
        assert body["data"] == {"x": None, "y": {"project": {"name": model["name"]}}}
        [found] = body["errors"]
        assert (found["path"], found["extensions"]["code"]) == (
            ["x", "environments"],
            "BAD_USER_INPUT",
        )
