"""A document whose variables only name the rows of its root lookups is planned once
for all their values (schema/lookup_variables.py): each request's rows are put
in the statement, answers stay those of the resolver path, and another tenant's
row stays invisible through the shared plan."""

from __future__ import annotations

import asyncpg

from gateway.keys import METRICS
from schema.ids import global_id
from tests.schema.compiled_support import resolver_client, same_answer, same_data, same_error
from tests.schema.conftest import Tokens
from tests.support import Client

__all__ = ["resolver_client"]

BY_ID = "query ($id: ID!) { environment(id: $id) { id name model { name } } }"
BY_UUID = "query ($u: UUID!) { environment(uuid: $u) { uuid name } }"
TWO = """query ($a: ID!, $b: ID!) {
  a: environment(id: $a) { name }
  b: environment(id: $b) { name }
}"""
# $id also names a node: not a lookup variable only, so planned per value
MIXED = """query ($id: ID!) {
  environment(id: $id) { name }
  node(id: $id) { ... on Environment { name } }
}"""


def made(client: Client) -> float:
    value: float = client.app[METRICS].plans_made._value.get()
    return value


async def _acme(conn: asyncpg.Connection) -> list[asyncpg.Record]:
    return await conn.fetch(
        "SELECT e.id, e.name, m.name AS model FROM environments e "
        "JOIN models m ON m.id = e.model_id JOIN projects p ON p.id = e.project_id "
        "JOIN organizations o ON o.id = p.organization_id "
        "WHERE o.name = 'Acme Analytics' ORDER BY e.name, e.id LIMIT 6"
    )


async def test_one_plan_serves_every_id(
    client: Client, resolver_client: Client, conn: asyncpg.Connection, tokens: Tokens
) -> None:
    rows = await _acme(conn)
    assert len(rows) == 6
    before = made(client)
    for row in rows:
        found = await same_data(
            client, resolver_client, BY_ID, tokens.ada, id=global_id("Environment", row["id"])
        )
        assert found == {
            "environment": {
                "id": global_id("Environment", row["id"]),
                "name": row["name"],
                "model": {"name": row["model"]},
            }
        }
        found = await same_data(client, resolver_client, BY_UUID, tokens.ada, u=str(row["id"]))
        assert found == {"environment": {"uuid": str(row["id"]), "name": row["name"]}}
    assert made(client) - before == 2  # one plan for each document, not one per row
    # two variables, two rows, in one plan
    first, second = rows[0], rows[5]
    found = await same_data(
        client, resolver_client, TWO, tokens.ada,
        a=global_id("Environment", first["id"]), b=global_id("Environment", second["id"]),
    )  # fmt: skip
    assert found == {"a": {"name": first["name"]}, "b": {"name": second["name"]}}
    found = await same_data(
        client, resolver_client, TWO, tokens.ada,
        a=global_id("Environment", second["id"]), b=global_id("Environment", first["id"]),
    )  # fmt: skip
    assert found == {"a": {"name": second["name"]}, "b": {"name": first["name"]}}
    assert made(client) - before == 3
    # a variable that names a node too is planned per value
    for row in rows[:2]:
        found = await same_data(
            client, resolver_client, MIXED, tokens.ada, id=global_id("Environment", row["id"])
        )
        assert found == {"environment": {"name": row["name"]}, "node": {"name": row["name"]}}
    assert made(client) - before == 5


async def test_the_shared_plan_keeps_other_tenants_rows_out(
    client: Client, resolver_client: Client, conn: asyncpg.Connection, tokens: Tokens
) -> None:
    ours = (await _acme(conn))[0]["id"]
    theirs = await conn.fetchval(
        "SELECT e.id FROM environments e JOIN projects p ON p.id = e.project_id "
        "JOIN organizations o ON o.id = p.organization_id "
        "WHERE o.name = 'Initech Labs' ORDER BY e.id LIMIT 1"
    )
    await same_data(client, resolver_client, BY_ID, tokens.ada, id=global_id("Environment", ours))
    before = made(client)
    error = await same_error(
        client, resolver_client, BY_ID, tokens.ada, id=global_id("Environment", theirs)
    )
    assert (error["extensions"]["code"], error["data"]) == ("NOT_FOUND", {"environment": None})
    error = await same_error(client, resolver_client, BY_UUID, tokens.ada, u=str(theirs))
    assert (error["extensions"]["code"], error["data"]) == ("NOT_FOUND", {"environment": None})
    assert made(client) - before == 1  # the uuid document's plan; the id one was shared


async def test_values_a_lookup_refuses_are_the_resolvers_to_answer(
    client: Client, resolver_client: Client, conn: asyncpg.Connection, tokens: Tokens
) -> None:
    model = await conn.fetchval("SELECT id FROM models ORDER BY id LIMIT 1")
    # a model's id where an environment's is expected, and a broken id
    for wrong in (global_id("Model", model), "not-an-id"):
        error = await same_error(client, resolver_client, BY_ID, tokens.ada, id=wrong)
        assert error["extensions"]["code"] == "BAD_USER_INPUT", error
    body, executor = await same_answer(client, resolver_client, BY_UUID, tokens.ada, u="nope")
    assert executor == "resolver"
    assert body["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT", body
