"""Environment mutations through HTTP: round trips, validation, conflicts,
authorization, and no lost update under 50 concurrent writers."""

from __future__ import annotations

import asyncio
from typing import Any

import asyncpg
import pytest

from db.tokens import create_token
from schema.ids import global_id, parse_global_id
from tests.schema.conftest import Tokens
from tests.support import Client, data, error, graphql

CREATE = """
mutation ($input: CreateEnvironmentInput!) {
  createEnvironment(input: $input) {
    environment { id name type kind enabled rowCount sortOrder protected
                  model { name environments { totalCount } } }
  }
}
"""
UPDATE = """
mutation ($input: UpdateEnvironmentInput!) {
  updateEnvironment(input: $input) { environment { id name rowCount protected updatedAt } }
}
"""
DELETE = "mutation ($id: ID!) { deleteEnvironment(input: {id: $id}) { deletedId } }"


async def _model(conn: asyncpg.Connection, organization: str, project: str) -> str:
    model = await conn.fetchval(
        """SELECT m.id FROM models m JOIN projects p ON p.id = m.project_id
           JOIN organizations o ON o.id = p.organization_id
           WHERE o.name = $1 AND p.name = $2 AND m.name = 'xgb-classifier' AND m.version = 'v1'""",
        organization,
        project,
    )
    return global_id("Model", model)


async def _environment(conn: asyncpg.Connection, model: str, name: str) -> asyncpg.Record:
    row = await conn.fetchrow(
        "SELECT * FROM environments WHERE model_id = $1 AND name = $2",
        parse_global_id(model)[1],
        name,
    )
    assert row is not None
    return row


async def test_create_update_delete(
    client: Client, conn: asyncpg.Connection, tokens: Tokens
) -> None:
    model = await _model(conn, "Acme Analytics", "fraud-detection")
    created = await data(
        client,
        CREATE,
        tokens.ada,
        input={"modelId": model, "name": "staging", "type": "PRE_PRODUCTION"},
    )
    environment = created["createEnvironment"]["environment"]
    assert {k: v for k, v in environment.items() if k != "id"} == {
        "name": "staging",
        "type": "PRE_PRODUCTION",
        "kind": "CUSTOM",
        "enabled": True,
        "rowCount": "0",
        "sortOrder": 3,  # after the three of the demo data (0, 1, 2)
        "protected": False,
        "model": {"name": "xgb-classifier", "environments": {"totalCount": 4}},
    }
    updated = await data(
        client, UPDATE, tokens.ada,
        input={"id": environment["id"], "name": "canary", "rowCount": 500, "protected": True},
    )  # fmt: skip
    after = updated["updateEnvironment"]["environment"]
    assert (after["name"], after["rowCount"], after["protected"]) == ("canary", "500", True)

    refused = await error(client, DELETE, tokens.ada, id=environment["id"])
    assert (refused["extensions"]["code"], refused["message"]) == (
        "CONFLICT",
        "a protected environment cannot be deleted",
    )
    assert (await _environment(conn, model, "canary"))["protected"] is True  # still there

    await data(client, UPDATE, tokens.ada, input={"id": environment["id"], "protected": False})
    deleted = await data(client, DELETE, tokens.ada, id=environment["id"])
    assert deleted == {"deleteEnvironment": {"deletedId": environment["id"]}}
    node = await data(
        client, "query ($id: ID!) { node(id: $id) { id } }", tokens.ada, id=environment["id"]
    )
    assert node == {"node": None}


@pytest.mark.parametrize(
    ("given", "field", "message"),
    [
        ({"name": "bad name", "type": "PRODUCTION"}, "name", "an environment name has 1 to 64"),
        ({"name": "x" * 65, "type": "PRODUCTION"}, "name", "an environment name has 1 to 64"),
        (
            {"name": "ok", "type": "PRODUCTION", "rowCount": -1},
            "rowCount",
            "rowCount cannot be negative",
        ),
    ],
)
async def test_validation(
    client: Client,
    conn: asyncpg.Connection,
    tokens: Tokens,
    given: dict[str, Any],
    field: str,
    message: str,
) -> None:
    model = await _model(conn, "Acme Analytics", "fraud-detection")
    before = await conn.fetchval("SELECT count(*) FROM environments")
    found = await error(client, CREATE, tokens.ada, input={"modelId": model, **given})
    assert found["extensions"]["code"] == "BAD_USER_INPUT"
    assert found["extensions"]["field"] == field
    assert found["message"].startswith(message)
    assert await conn.fetchval("SELECT count(*) FROM environments") == before


async def test_duplicate_name_is_a_conflict(
    client: Client, conn: asyncpg.Connection, tokens: Tokens
) -> None:
    model = await _model(conn, "Acme Analytics", "fraud-detection")
    found = await error(
        client,
        CREATE,
        tokens.ada,
        input={"modelId": model, "name": "production", "type": "PRODUCTION"},
    )
    assert (found["extensions"]["code"], found["extensions"]["field"]) == ("CONFLICT", "name")
    assert found["message"] == "the name is taken by another environment here"


async def test_stale_expected_updated_at(
    client: Client, conn: asyncpg.Connection, tokens: Tokens
) -> None:
    model = await _model(conn, "Acme Analytics", "fraud-detection")
    row = await _environment(conn, model, "training")
    environment = global_id("Environment", row["id"])
    read = row["updated_at"].isoformat()
    first = await data(
        client,
        UPDATE,
        tokens.ada,
        input={"id": environment, "rowCount": 1, "expectedUpdatedAt": read},
    )
    assert first["updateEnvironment"]["environment"]["rowCount"] == "1"
    stale = await error(
        client,
        UPDATE,
        tokens.ada,
        input={"id": environment, "rowCount": 2, "expectedUpdatedAt": read},
    )
    assert (stale["extensions"]["code"], stale["extensions"]["field"]) == (
        "CONFLICT",
        "expectedUpdatedAt",
    )
    assert (await _environment(conn, model, "training"))[
        "row_count"
    ] == 1  # the second write did nothing


async def test_who_may_write(client: Client, conn: asyncpg.Connection, tokens: Tokens) -> None:
    def new(name: str, model: str) -> dict[str, Any]:
        return {"input": {"modelId": model, "name": name, "type": "PRODUCTION"}}

    initech = await _model(conn, "Initech Labs", "fraud-detection")
    edited = await _model(conn, "Acme Analytics", "fraud-detection")  # Grace: EDITOR
    viewed = await _model(conn, "Acme Analytics", "churn-prediction")  # Grace: VIEWER

    # another organization's model does not exist for Ada
    found = await error(client, CREATE, tokens.ada, **new("a", initech))
    assert (found["extensions"]["code"], found["extensions"]["field"]) == ("NOT_FOUND", "modelId")
    # a VIEWER reads but does not write
    found = await error(client, CREATE, tokens.grace, **new("b", viewed))
    assert found["extensions"]["code"] == "FORBIDDEN"
    # an EDITOR writes
    await data(client, CREATE, tokens.grace, **new("c", edited))
    # a superuser writes anywhere
    await data(client, CREATE, tokens.root, **new("d", initech))
    # a token without the scope may not, and is told which scope it lacks
    read_only = await create_token(conn, email="ada@example.com", scopes=["environment:read"])
    found = await error(client, CREATE, read_only.token, **new("e", edited))
    assert (found["extensions"]["code"], found["message"]) == (
        "FORBIDDEN",
        "this token lacks the scope environment:write",
    )
    names = await conn.fetch(
        "SELECT name FROM environments WHERE name = ANY($1) ORDER BY name", list("abcde")
    )
    assert [r["name"] for r in names] == ["c", "d"]


async def test_fifty_concurrent_updates_one_wins(
    client: Client, conn: asyncpg.Connection, tokens: Tokens
) -> None:
    model = await _model(conn, "Acme Analytics", "fraud-detection")
    row = await _environment(conn, model, "validation")
    environment = global_id("Environment", row["id"])
    read = row["updated_at"].isoformat()

    async def write(i: int) -> tuple[int, dict[str, Any]]:
        return await graphql(
            client, UPDATE, tokens.ada,
            input={"id": environment, "rowCount": 1000 + i, "expectedUpdatedAt": read},
        )  # fmt: skip

    results = await asyncio.gather(*(write(i) for i in range(50)))
    winners = [body for _, body in results if not body.get("errors")]
    codes = [body["errors"][0]["extensions"]["code"] for _, body in results if body.get("errors")]
    assert len(winners) == 1
    assert codes == ["CONFLICT"] * 49
    won = winners[0]["data"]["updateEnvironment"]["environment"]["rowCount"]
    assert (await _environment(conn, model, "validation"))["row_count"] == int(won)
