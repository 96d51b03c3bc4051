"""Segment mutations through HTTP: authorship, soft delete and restore,
definition checks, scopes."""

from __future__ import annotations

from typing import Any

import asyncpg
import pytest

from db.tokens import create_token
from gateway.keys import STATEMENTS
from schema.ids import global_id
from tests.schema.conftest import Tokens
from tests.support import Client, data, error

CREATE = """
mutation ($input: CreateSegmentInput!) {
  createSegment(input: $input) {
    segment { id name description definition createdBy { name } updatedBy { name } }
  }
}
"""
UPDATE = """
mutation ($input: UpdateSegmentInput!) {
  updateSegment(input: $input) { segment { id name definition updatedBy { name } } }
}
"""
DELETE = "mutation ($id: ID!) { deleteSegment(input: {id: $id}) { deletedId } }"
RESTORE = "mutation ($id: ID!) { restoreSegment(input: {id: $id}) { segment { id name } } }"
COUNT = "query ($name: String!) { segments(filter: {name: {eq: $name}}) { totalCount } }"


async def _fraud_model(conn: asyncpg.Connection) -> str:
    model = await conn.fetchval(
        """SELECT m.id FROM models m JOIN projects p ON p.id = m.project_id
           JOIN organizations o ON o.id = p.organization_id
           WHERE o.name = 'Acme Analytics' AND p.name = 'fraud-detection'
             AND m.name = 'xgb-classifier'"""
    )
    return global_id("Model", model)


async def test_authorship_soft_delete_and_restore(
    client: Client, conn: asyncpg.Connection, tokens: Tokens
) -> None:
    model = await _fraud_model(conn)
    created = await data(
        client, CREATE, tokens.ada,
        input={"modelId": model, "name": "minors", "definition": "age < 18 and (region == 'EU')"},
    )  # fmt: skip
    segment = created["createSegment"]["segment"]
    assert {k: v for k, v in segment.items() if k != "id"} == {
        "name": "minors",
        "description": "",
        "definition": "age < 18 and (region == 'EU')",
        "createdBy": {"name": "Ada Lovelace"},
        "updatedBy": {"name": "Ada Lovelace"},
    }
    # Grace edits fraud-detection: she becomes updatedBy
    updated = await data(
        client, UPDATE, tokens.grace, input={"id": segment["id"], "definition": "age < 16"}
    )
    assert updated["updateSegment"]["segment"]["updatedBy"] == {"name": "Grace Hopper"}

    await data(client, DELETE, tokens.ada, id=segment["id"])
    assert (await data(client, COUNT, tokens.ada, name="minors"))["segments"]["totalCount"] == 0
    node = "query ($id: ID!) { node(id: $id) { id } }"
    assert await data(client, node, tokens.ada, id=segment["id"]) == {"node": None}
    # nothing was lost: the row is there, marked deleted
    assert (
        await conn.fetchval("SELECT definition FROM segments WHERE name = 'minors'") == "age < 16"
    )

    restored = await data(client, RESTORE, tokens.ada, id=segment["id"])
    assert restored == {"restoreSegment": {"segment": {"id": segment["id"], "name": "minors"}}}
    assert (await data(client, COUNT, tokens.ada, name="minors"))["segments"]["totalCount"] == 1


async def test_restoring_into_a_taken_name_is_a_conflict(
    client: Client, conn: asyncpg.Connection, tokens: Tokens
) -> None:
    model = await _fraud_model(conn)
    first = await data(
        client, CREATE, tokens.ada, input={"modelId": model, "name": "vip", "definition": "x > 1"}
    )
    first_id = first["createSegment"]["segment"]["id"]
    await data(client, DELETE, tokens.ada, id=first_id)
    # the name is free again while the first one is deleted
    await data(
        client, CREATE, tokens.ada, input={"modelId": model, "name": "vip", "definition": "x > 2"}
    )
    found = await error(client, RESTORE, tokens.ada, id=first_id)
    assert (found["extensions"]["code"], found["extensions"]["field"]) == ("CONFLICT", "id")
    assert found["message"] == "the name is taken by another segment here"
    rows = await conn.fetch(
        "SELECT definition, deleted_at IS NULL AS live FROM segments WHERE name = 'vip' ORDER BY 1"
    )
    assert [tuple(r) for r in rows] == [("x > 1", False), ("x > 2", True)]


@pytest.mark.parametrize(
    ("definition", "message"),
    [
        ("   ", "a definition cannot be empty"),
        ("(age > 1", "the definition has unbalanced parentheses or quotes"),
        ("age > 1)", "the definition has unbalanced parentheses or quotes"),
        ("region == 'EU", "the definition has unbalanced parentheses or quotes"),
    ],
)
async def test_definitions_are_checked(
    client: Client, conn: asyncpg.Connection, tokens: Tokens, definition: str, message: str
) -> None:
    model = await _fraud_model(conn)
    given: dict[str, Any] = {"modelId": model, "name": "bad", "definition": definition}
    found = await error(client, CREATE, tokens.ada, input=given)
    assert (found["extensions"]["code"], found["extensions"]["field"], found["message"]) == (
        "BAD_USER_INPUT",
        "definition",
        message,
    )
    assert await conn.fetchval("SELECT count(*) FROM segments WHERE name = 'bad'") == 0


async def test_segment_scope_and_roles(
    client: Client, conn: asyncpg.Connection, tokens: Tokens
) -> None:
    model = await _fraud_model(conn)
    only_environments = await create_token(
        conn, email="ada@example.com", scopes=["environment:write"]
    )
    given = {"modelId": model, "name": "s1", "definition": "a > 1"}
    found = await error(client, CREATE, only_environments.token, input=given)
    assert (found["extensions"]["code"], found["message"]) == (
        "FORBIDDEN",
        "this token lacks the scope segment:write",
    )
    found = await error(client, CREATE, tokens.alan, input=given)  # another tenant's model
    assert (found["extensions"]["code"], found["extensions"]["field"]) == ("NOT_FOUND", "modelId")
    assert await conn.fetchval("SELECT count(*) FROM segments WHERE name = 's1'") == 0


async def test_a_create_is_one_statement(
    client: Client, conn: asyncpg.Connection, tokens: Tokens
) -> None:
    """The model locked if the caller sees it, the caller's role and the insert in one
    statement (issue 18: writes in one round trip): for a writer, a reader and
    another tenant alike."""
    viewed = await conn.fetchval(
        """SELECT m.id FROM models m JOIN project_members pm ON pm.project_id = m.project_id
           JOIN users u ON u.id = pm.user_id
           WHERE u.email = 'grace@example.com' AND pm.role = 'VIEWER' ORDER BY m.id LIMIT 1"""
    )
    create = """mutation ($input: CreateSegmentInput!) {
      createSegment(input: $input) { segment { name } } }"""
    app = client.app
    assert app is not None
    cases = [
        (tokens.ada, await _fraud_model(conn), None),
        (tokens.grace, global_id("Model", viewed), "FORBIDDEN"),  # she reads it only
        (tokens.alan, await _fraud_model(conn), "NOT_FOUND"),  # another tenant's
    ]
    for token, model, code in cases:
        before = app[STATEMENTS].total
        given = {"modelId": model, "name": "one-statement", "definition": "age >= 18"}
        if code is None:
            found = await data(client, create, token, input=given)
            assert found == {"createSegment": {"segment": {"name": "one-statement"}}}
        else:
            refused = await error(client, create, token, input=given)
            assert refused["extensions"]["code"] == code
        # the token's check (the tests' apps cache no token) and the write's (4
        # before: the token's, the model locked, the role, the insert)
        assert app[STATEMENTS].total - before == 2
    assert await conn.fetchval("SELECT count(*) FROM segments WHERE name = 'one-statement'") == 1


async def test_an_update_is_one_statement(
    client: Client, conn: asyncpg.Connection, tokens: Tokens
) -> None:
    """The row locked if seen, the caller's role, the stale check and the change in one
    statement, whatever the answer."""
    given = {"modelId": await _fraud_model(conn), "name": "to-change", "definition": "a > 1"}
    created = (await data(client, CREATE, tokens.ada, input=given))["createSegment"]["segment"]
    stamp = await conn.fetchval(
        "SELECT updated_at FROM segments WHERE name = 'to-change' AND deleted_at IS NULL"
    )
    update = """mutation ($input: UpdateSegmentInput!) {
      updateSegment(input: $input) { segment { name definition } } }"""
    app = client.app
    assert app is not None
    cases = [
        (tokens.alan, {"definition": "b > 2"}, "NOT_FOUND"),  # another tenant's
        (tokens.ada, {"definition": "b > 2", "expectedUpdatedAt": stamp.isoformat()}, None),
        (tokens.ada, {"definition": "c > 3", "expectedUpdatedAt": stamp.isoformat()}, "CONFLICT"),
    ]
    for token, changes, code in cases:
        before = app[STATEMENTS].total
        if code is None:
            found = await data(client, update, token, input={"id": created["id"], **changes})
            assert found == {
                "updateSegment": {"segment": {"name": "to-change", "definition": "b > 2"}}
            }
        else:
            refused = await error(client, update, token, input={"id": created["id"], **changes})
            assert refused["extensions"]["code"] == code
        # the token's and the write's (4 before: the token's, the lock, the role, the update)
        assert app[STATEMENTS].total - before == 2
    assert (
        await conn.fetchval("SELECT definition FROM segments WHERE name = 'to-change'") == "b > 2"
    )


async def test_a_delete_and_a_restore_are_one_statement_each(
    client: Client, conn: asyncpg.Connection, tokens: Tokens
) -> None:
    """Deleting and restoring lock the row if seen, check the caller's role and
    write in one statement, whatever the answer (issue 18: writes in one round
    trip); a live segment is restored as it is, unchanged."""
    model = await _fraud_model(conn)
    given = {"modelId": model, "name": "round-trip", "definition": "a > 1"}
    created = (await data(client, CREATE, tokens.ada, input=given))["createSegment"]["segment"]
    segment = created["id"]
    app = client.app
    assert app is not None

    async def statements_of(query: str, token: str, code: str | None) -> Any:
        before = app[STATEMENTS].total
        if code is None:
            found = await data(client, query, token, id=segment)
        else:
            found = (await error(client, query, token, id=segment))["extensions"]["code"]
            assert found == code
        # the token's check (the tests' apps cache no token) and the write's
        assert app[STATEMENTS].total - before == 2
        return found

    def stamp() -> Any:
        return conn.fetchrow(
            "SELECT s.deleted_at IS NULL AS live, s.updated_at, u.email AS updated_by "
            "FROM segments s JOIN users u ON u.id = s.updated_by WHERE s.name = 'round-trip'"
        )

    live = await stamp()
    restored = {"restoreSegment": {"segment": {"id": segment, "name": "round-trip"}}}
    # a live one: answered as it is, not written
    assert await statements_of(RESTORE, tokens.ada, None) == restored
    assert await stamp() == live
    await statements_of(DELETE, tokens.alan, "NOT_FOUND")  # another tenant's
    await statements_of(RESTORE, tokens.alan, "NOT_FOUND")
    assert await statements_of(DELETE, tokens.ada, None) == {
        "deleteSegment": {"deletedId": segment}
    }
    deleted = await stamp()
    assert (deleted["live"], deleted["updated_by"]) == (False, "ada@example.com")
    assert deleted["updated_at"] > live["updated_at"]
    await statements_of(DELETE, tokens.ada, "NOT_FOUND")  # already deleted
    # Grace edits fraud-detection: she restores it, and becomes its updatedBy
    assert await statements_of(RESTORE, tokens.grace, None) == restored
    back = await stamp()
    assert (back["live"], back["updated_by"]) == (True, "grace@example.com")
    # a taken name: CONFLICT naming the id, nothing written
    await statements_of(DELETE, tokens.ada, None)
    await data(client, CREATE, tokens.ada, input=given)
    await statements_of(RESTORE, tokens.ada, "CONFLICT")
    rows = await conn.fetch(
        "SELECT id, deleted_at IS NULL AS live FROM segments WHERE name = 'round-trip' ORDER BY 2"
    )
    assert [r["live"] for r in rows] == [False, True]
