"""Evaluations seen and written only where their environment is: the paths the
generated isolation tests (tests/schema/test_isolation.py: lists, counts,
search, lookups, node) do not take: matchingEvents, stats, the mutations,
roles, scopes and project-restricted tokens."""

from __future__ import annotations

from uuid import UUID

import asyncpg
import pytest

from db.tokens import create_token
from schema.ids import global_id
from tests.schema.conftest import Tokens
from tests.support import Client, data, error

READ = """
query ($id: ID!) {
  evaluation(id: $id) {
    name
    matchingEvents { totalCount nodes { uuid } }
    stats { events matched }
  }
}
"""
UPDATE = """
mutation ($input: UpdateEvaluationInput!) {
  updateEvaluation(input: $input) { evaluation { name prompt } }
}
"""
CREATE = """
mutation ($input: CreateEvaluationInput!) {
  createEvaluation(input: $input) { evaluation { name } }
}
"""


async def _evaluation(conn: asyncpg.Connection, organization: str, project: str) -> UUID:
    """The demo's 'confident fraud' evaluation of a project's first production environment."""
    found: UUID = await conn.fetchval(
        "SELECT v.id FROM evaluations v JOIN projects p ON p.id = v.project_id "
        "JOIN organizations o ON o.id = p.organization_id "
        "WHERE o.name = $1 AND p.name = $2 AND v.name = 'confident fraud' ORDER BY v.id LIMIT 1",
        organization,
        project,
    )
    return found


@pytest.fixture
async def acme_fraud(conn: asyncpg.Connection, tokens: Tokens) -> UUID:
    """An evaluation of Acme's fraud-detection (Grace is its EDITOR) matching every
    event (its demo events: one in each environment)."""
    evaluation = await _evaluation(conn, "Acme Analytics", "fraud-detection")
    await conn.execute("UPDATE evaluations SET conditions = '[]' WHERE id = $1", evaluation)
    return evaluation


async def test_another_tenant_reaches_it_through_no_path(
    client: Client, conn: asyncpg.Connection, tokens: Tokens, acme_fraud: UUID
) -> None:
    ev_id = global_id("Evaluation", acme_fraud)
    # Ada (its organization's ADMIN) sees it, its one event matched
    seen = await data(client, READ, tokens.ada, id=ev_id)
    assert seen["evaluation"]["matchingEvents"]["totalCount"] == 1
    assert seen["evaluation"]["stats"] == {"events": "1", "matched": "1"}
    # Alan (Initech) reaches it through no read ...
    found = await error(client, READ, tokens.alan, id=ev_id)
    assert (found["extensions"]["code"], found["data"]) == ("NOT_FOUND", {"evaluation": None})
    node = "query ($id: ID!) { node(id: $id) { ... on Evaluation { name } } }"
    assert await data(client, node, tokens.alan, id=ev_id) == {"node": None}
    entities = (
        "query ($r: [_Any!]!) { _entities(representations: $r) { ... on Evaluation { name } } }"
    )
    rep = [{"__typename": "Evaluation", "id": ev_id}]
    assert await data(client, entities, tokens.alan, r=rep) == {"_entities": [None]}
    listed = await data(
        client,
        "{ evaluations(first: 100) { totalCount nodes { organization { name } } } }",
        tokens.alan,
    )
    # Initech's: 3 projects of 2 models, 3 evaluations in each production environment
    assert listed["evaluations"]["totalCount"] == 18
    assert {n["organization"]["name"] for n in listed["evaluations"]["nodes"]} == {"Initech Labs"}
    # ... and no write
    found = await error(client, UPDATE, tokens.alan, input={"id": ev_id, "prompt": "mine"})
    assert (found["extensions"]["code"], found["extensions"]["field"]) == ("NOT_FOUND", "id")
    found = await error(client, UPDATE, tokens.alan, input={"id": ev_id, "deleted": True})
    assert found["extensions"]["code"] == "NOT_FOUND"
    env = await conn.fetchval("SELECT environment_id FROM evaluations WHERE id = $1", acme_fraud)
    given = {"environmentId": global_id("Environment", env), "name": "intruder"}
    found = await error(client, CREATE, tokens.alan, input=given)
    assert (found["extensions"]["code"], found["extensions"]["field"]) == (
        "NOT_FOUND",
        "environmentId",
    )
    row = await conn.fetchrow(
        "SELECT prompt, deleted_at FROM evaluations WHERE id = $1", acme_fraud
    )
    assert row is not None
    assert (row["deleted_at"], await conn.fetchval(
        "SELECT count(*) FROM evaluations WHERE name = 'intruder'"
    )) == (None, 0)  # fmt: skip


async def test_a_viewer_reads_but_does_not_write(
    client: Client, conn: asyncpg.Connection, tokens: Tokens
) -> None:
    # Grace is a VIEWER of churn-prediction, an EDITOR of fraud-detection
    churn = global_id("Evaluation", await _evaluation(conn, "Acme Analytics", "churn-prediction"))
    assert (await data(client, READ, tokens.grace, id=churn))["evaluation"]["name"] == (
        "confident fraud"
    )
    found = await error(client, UPDATE, tokens.grace, input={"id": churn, "prompt": "p"})
    assert found["extensions"]["code"] == "FORBIDDEN"
    fraud = global_id("Evaluation", await _evaluation(conn, "Acme Analytics", "fraud-detection"))
    done = await data(client, UPDATE, tokens.grace, input={"id": fraud, "prompt": "p"})
    assert done == {"updateEvaluation": {"evaluation": {"name": "confident fraud", "prompt": "p"}}}
    # Globex (Ada's other organization) is not Grace's
    globex = global_id("Evaluation", await _evaluation(conn, "Globex Research", "fraud-detection"))
    found = await error(client, READ, tokens.grace, id=globex)
    assert found["extensions"]["code"] == "NOT_FOUND"


async def test_scopes(
    client: Client, conn: asyncpg.Connection, tokens: Tokens, acme_fraud: UUID
) -> None:
    ev_id = global_id("Evaluation", acme_fraud)
    read_only = (
        await create_token(conn, email="ada@example.com", scopes=["evaluation:read", "event:read"])
    ).token
    assert (await data(client, READ, read_only, id=ev_id))["evaluation"]["name"] == (
        "confident fraud"
    )
    found = await error(client, UPDATE, read_only, input={"id": ev_id, "prompt": "p"})
    assert found["extensions"]["code"] == "FORBIDDEN"
    # matching events and stats read events: their scope is needed
    no_events = (
        await create_token(conn, email="ada@example.com", scopes=["evaluation:read"])
    ).token
    name_only = "query ($id: ID!) { evaluation(id: $id) { name } }"
    assert (await data(client, name_only, no_events, id=ev_id))["evaluation"]["name"] == (
        "confident fraud"
    )
    for field in ("matchingEvents { totalCount }", "stats { events }"):
        query = f"query ($id: ID!) {{ evaluation(id: $id) {{ {field} }} }}"
        found = await error(client, query, no_events, id=ev_id)
        assert (field, found["extensions"]["code"]) == (field, "FORBIDDEN")
    no_evaluations = (
        await create_token(conn, email="ada@example.com", scopes=["event:read"])
    ).token
    found = await error(client, "{ evaluations { totalCount } }", no_evaluations)
    assert found["extensions"]["code"] == "FORBIDDEN"


async def test_a_project_restricted_token_sees_its_projects_evaluations_only(
    client: Client, conn: asyncpg.Connection, tokens: Tokens
) -> None:
    project = await conn.fetchval(
        "SELECT p.id FROM projects p JOIN organizations o ON o.id = p.organization_id "
        "WHERE o.name = 'Acme Analytics' AND p.name = 'fraud-detection'"
    )
    token = (
        await create_token(conn, email="ada@example.com", scopes=["*"], project_ids=[project])
    ).token
    listed = await data(client, "{ evaluations { totalCount nodes { project { name } } } }", token)
    # fraud-detection's two models, each one production environment of 3 evaluations
    assert listed["evaluations"]["totalCount"] == 6
    assert {n["project"]["name"] for n in listed["evaluations"]["nodes"]} == {"fraud-detection"}
    other = global_id("Evaluation", await _evaluation(conn, "Acme Analytics", "churn-prediction"))
    found = await error(client, READ, token, id=other)
    assert found["extensions"]["code"] == "NOT_FOUND"
    found = await error(client, UPDATE, token, input={"id": other, "deleted": True})
    assert found["extensions"]["code"] == "NOT_FOUND"
