"""Read scopes on every access path, fresh reads after writes in one request,
optimistic concurrency on projects, models and segments."""

from __future__ import annotations

import asyncio
from typing import Any

import asyncpg

from db.tokens import create_token
from schema.ids import global_id
from tests.schema.conftest import Tokens
from tests.support import Client, data, error, graphql


async def _token(conn: asyncpg.Connection, *scopes: str) -> str:
    return (await create_token(conn, email="ada@example.com", scopes=list(scopes))).token


async def test_reads_need_their_scope(
    client: Client, conn: asyncpg.Connection, tokens: Tokens
) -> None:
    segments_only = await _token(conn, "segment:read")
    listed = await data(client, "{ segments { totalCount } }", segments_only)
    assert listed == {"segments": {"totalCount": 36}}
    environment = global_id(
        "Environment", await conn.fetchval("SELECT id FROM environments LIMIT 1")
    )
    for query, variables, scope in (
        ("{ environments { totalCount } }", {}, "environment:read"),
        (
            "query ($id: ID!) { environment(id: $id) { name } }",
            {"id": environment},
            "environment:read",
        ),
        ("query ($id: ID!) { node(id: $id) { id } }", {"id": environment}, "environment:read"),
        ("{ models { nodes { environments { totalCount } } } }", {}, "model:read"),
    ):
        found = await error(client, query, segments_only, **variables)
        assert (found["extensions"]["code"], found["message"]) == (
            "FORBIDDEN",
            f"this token lacks the scope {scope}",
        ), query
    # a parent field needs its own scope too
    nested = await error(
        client, "{ segments(first: 1) { nodes { model { name } } } }", segments_only
    )
    assert (nested["extensions"]["code"], nested["message"]) == (
        "FORBIDDEN",
        "this token lacks the scope model:read",
    )
    # writing an entity includes reading it
    writer = await _token(conn, "environment:write")
    assert await data(client, "{ environments { totalCount } }", writer) == {
        "environments": {"totalCount": 36}
    }


async def test_reads_after_a_write_in_the_same_request_are_fresh(
    client: Client, conn: asyncpg.Connection, tokens: Tokens
) -> None:
    row = await conn.fetchrow("SELECT id, model_id FROM environments LIMIT 1")
    assert row is not None
    environment, model = global_id("Environment", row["id"]), global_id("Model", row["model_id"])
    query = """
    mutation ($e: ID!, $m: ID!) {
      a: updateEnvironment(input: {id: $e, rowCount: 5}) { environment { model { name } } }
      b: updateModel(input: {id: $m, name: "renamed"}) { model { name } }
      c: updateEnvironment(input: {id: $e, rowCount: 6}) { environment { model { name } } }
    }
    """
    result = await data(client, query, tokens.root, e=environment, m=model)
    # `a` loaded the model before it was renamed; `c` must not be served that copy
    assert result["a"]["environment"]["model"]["name"] != "renamed"
    assert result["b"]["model"]["name"] == "renamed"
    assert result["c"]["environment"]["model"]["name"] == "renamed"


async def test_update_project_and_model_with_expected_updated_at(
    client: Client, conn: asyncpg.Connection, tokens: Tokens
) -> None:
    for table, type_name, mutation, field in (
        ("projects", "Project", "updateProject", "project"),
        ("models", "Model", "updateModel", "model"),
    ):
        row = await conn.fetchrow(f"SELECT id, updated_at FROM {table} ORDER BY id LIMIT 1")
        assert row is not None
        query = (
            f'mutation ($id: ID!, $at: DateTime) {{ {mutation}(input: {{id: $id, name: "next", '
            f"expectedUpdatedAt: $at}}) {{ {field} {{ name }} }} }}"
        )
        ident, read = global_id(type_name, row["id"]), row["updated_at"].isoformat()
        assert await data(client, query, tokens.root, id=ident, at=read) == {
            mutation: {field: {"name": "next"}}
        }
        stale = await error(client, query, tokens.root, id=ident, at=read)
        assert (stale["extensions"]["code"], stale["extensions"]["field"]) == (
            "CONFLICT",
            "expectedUpdatedAt",
        )


async def test_fifty_concurrent_segment_updates_one_wins(
    client: Client, conn: asyncpg.Connection, tokens: Tokens
) -> None:
    row = await conn.fetchrow("SELECT id, updated_at FROM segments ORDER BY id LIMIT 1")
    assert row is not None
    segment, read = global_id("Segment", row["id"]), row["updated_at"].isoformat()
    query = """
    mutation ($input: UpdateSegmentInput!) {
      updateSegment(input: $input) { segment { description } }
    }
    """

    async def write(i: int) -> dict[str, Any]:
        _, body = await graphql(
            client, query, tokens.ada,
            input={"id": segment, "description": f"writer {i}", "expectedUpdatedAt": read},
        )  # fmt: skip
        return body

    bodies = await asyncio.gather(*(write(i) for i in range(50)))
    winners = [
        b["data"]["updateSegment"]["segment"]["description"] for b in bodies if not b.get("errors")
    ]
    codes = [b["errors"][0]["extensions"]["code"] for b in bodies if b.get("errors")]
    assert (len(winners), codes) == (1, ["CONFLICT"] * 49)
    assert (
        await conn.fetchval("SELECT description FROM segments WHERE id = $1", row["id"])
        == winners[0]
    )


async def test_a_filter_on_a_related_entity_needs_its_read_scope(
    client: Client, conn: asyncpg.Connection, tokens: Tokens
) -> None:
    segments_only = await _token(conn, "segment:read")
    probe = "query ($p: String!) { segments(first: 0, filter: %s) { totalCount } }"
    for shape, scope in (
        ("{project: {organization: {name: {startsWith: $p}}}}", "project:read"),
        ("{and: [{not: {project: {name: {startsWith: $p}}}}]}", "project:read"),
        ("{or: [{name: {eq: $p}}, {model: {name: {startsWith: $p}}}]}", "model:read"),
    ):
        found = await error(client, probe % shape, segments_only, p="A")
        assert (found["extensions"]["code"], found["message"], found["data"]) == (
            "FORBIDDEN",
            f"this token lacks the scope {scope}",
            None,
        ), shape
    # with the project's scope, the organization's is still needed
    projects_too = await _token(conn, "segment:read", "project:read")
    found = await error(
        client, probe % "{project: {organization: {name: {startsWith: $p}}}}", projects_too, p="A"
    )
    assert (found["extensions"]["code"], found["message"]) == (
        "FORBIDDEN",
        "this token lacks the scope organization:read",
    )
    everything = await _token(conn, "segment:read", "project:read", "organization:read")
    assert await data(
        client, probe % "{project: {organization: {name: {startsWith: $p}}}}", everything, p="A"
    ) == {"segments": {"totalCount": 18}}
