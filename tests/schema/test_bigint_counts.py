"""`rowCount` is a BigInt: counts past 32 bits (3,000,000,000 and 2^63-1, set in
the database) read, filtered, ordered and paged by cursor the same on both
executors; written as a string or an integer; out of range is BAD_USER_INPUT
naming the field, and nothing is written."""

from __future__ import annotations

from typing import Any

import asyncpg
import pytest

from schema.ids import global_id
from tests.ingest_support import environment_uuid
from tests.schema.compiled_support import both, resolver_client
from tests.schema.conftest import Tokens
from tests.support import Client, data, error

__all__ = ["resolver_client"]

BIG = 3_000_000_000
LARGEST = 2**63 - 1


@pytest.fixture
async def big(conn: asyncpg.Connection, tokens: Tokens) -> dict[str, str]:
    """Two of Ada's environments (fraud-detection, xgb-classifier v1) with counts
    past 32 bits; their global ids and that of their model and project."""
    training = await environment_uuid(conn, name="training")
    validation = await environment_uuid(conn, name="validation")
    await conn.execute("UPDATE environments SET row_count = $1 WHERE id = $2", BIG, training)
    await conn.execute("UPDATE environments SET row_count = $1 WHERE id = $2", LARGEST, validation)
    row = await conn.fetchrow(
        "SELECT model_id, project_id FROM environments WHERE id = $1", training
    )
    assert row is not None
    return {
        "training": global_id("Environment", training),
        "validation": global_id("Environment", validation),
        "model": global_id("Model", row["model_id"]),
        "project": global_id("Project", row["project_id"]),
    }


async def _both(
    client: Client, resolver: Client, query: str, token: str, **variables: Any
) -> dict[str, Any]:
    """The answer, the same from both executors, the compiled one in one statement."""
    compiled, reference = await both(client, resolver, query, token, variables)
    assert compiled[:2] == reference[:2]
    assert (compiled[2], reference[2]) == ("compiled", "resolver")
    assert (compiled[0], compiled[1].get("errors")) == (200, None)
    answer: dict[str, Any] = compiled[1]["data"]
    return answer


async def test_read_filtered_and_ordered_on_both_executors(
    client: Client, resolver_client: Client, tokens: Tokens, big: dict[str, str]
) -> None:
    query = """
    query ($over: BigInt!) {
      environments(filter: {rowCount: {gt: $over}},
                   orderBy: [{field: ROW_COUNT, direction: DESC}]) {
        totalCount nodes { name rowCount }
      }
      largest: environments(filter: {rowCount: {eq: 9223372036854775807}}) { nodes { name } }
      between: environments(filter: {rowCount: {between: ["2999999999", 3000000000]}}) {
        nodes { name }
      }
    }"""
    for over in ("2147483647", 2147483647):  # a BigInt is sent as a string or an integer
        answer = await _both(client, resolver_client, query, tokens.ada, over=over)
        assert answer == {
            "environments": {
                "totalCount": 2,
                "nodes": [
                    {"name": "validation", "rowCount": "9223372036854775807"},
                    {"name": "training", "rowCount": "3000000000"},
                ],
            },
            "largest": {"nodes": [{"name": "validation"}]},
            "between": {"nodes": [{"name": "training"}]},
        }


async def test_nested_lookup_and_node_on_both_executors(
    client: Client, resolver_client: Client, tokens: Tokens, big: dict[str, str]
) -> None:
    query = """
    query ($model: ID!, $project: ID!, $env: ID!) {
      model(id: $model) { environments { nodes { name rowCount } } }
      project(id: $project) {
        environments(filter: {model: {id: {eq: $model}}}) { nodes { name rowCount } }
      }
      environment(id: $env) { rowCount }
      node(id: $env) { ... on Environment { rowCount } }
    }"""
    answer = await _both(
        client, resolver_client, query, tokens.ada,
        model=big["model"], project=big["project"], env=big["validation"],
    )  # fmt: skip
    production = answer["model"]["environments"]["nodes"][2]
    assert production["name"] == "production"
    expected = [
        {"name": "training", "rowCount": "3000000000"},
        {"name": "validation", "rowCount": "9223372036854775807"},
        production,
    ]
    assert answer == {
        "model": {"environments": {"nodes": expected}},
        "project": {"environments": {"nodes": expected}},
        "environment": {"rowCount": "9223372036854775807"},
        "node": {"rowCount": "9223372036854775807"},
    }


async def test_keyset_cursor_over_row_count(
    client: Client, resolver_client: Client, tokens: Tokens, big: dict[str, str]
) -> None:
    query = """
    query ($after: String) {
      environments(first: 1, after: $after, orderBy: [{field: ROW_COUNT, direction: DESC}]) {
        pageInfo { hasNextPage hasPreviousPage endCursor }
        nodes { name rowCount }
      }
    }"""
    names = []
    after = None
    for _ in range(3):
        page = (await _both(client, resolver_client, query, tokens.ada, after=after))[
            "environments"
        ]
        assert page["pageInfo"]["hasPreviousPage"] == (after is not None)
        names.append((page["nodes"][0]["name"], page["nodes"][0]["rowCount"]))
        after = page["pageInfo"]["endCursor"]
    assert names[:2] == [("validation", "9223372036854775807"), ("training", "3000000000")]
    assert int(names[2][1]) < BIG  # the largest of the rest, below both


async def test_a_count_never_nulls_a_list(
    client: Client, resolver_client: Client, tokens: Tokens, big: dict[str, str]
) -> None:
    # before BigInt, one environment past 2^31 made the whole list `null`
    query = "{ environments(first: 100) { totalCount nodes { rowCount eventCount } } }"
    answer = await _both(client, resolver_client, query, tokens.root)
    nodes = answer["environments"]["nodes"]
    assert (answer["environments"]["totalCount"], len(nodes)) == (54, 54)
    assert {"rowCount": "3000000000", "eventCount": "1"} in nodes
    assert {"rowCount": "9223372036854775807", "eventCount": "1"} in nodes


UPDATE = """
mutation ($input: UpdateEnvironmentInput!) {
  updateEnvironment(input: $input) { environment { rowCount } }
}"""
CREATE = """
mutation ($input: CreateEnvironmentInput!) {
  createEnvironment(input: $input) { environment { name rowCount } }
}"""


async def test_written_as_a_string_or_an_integer(
    client: Client, conn: asyncpg.Connection, tokens: Tokens, big: dict[str, str]
) -> None:
    created = await data(
        client, CREATE, tokens.ada,
        input={"modelId": big["model"], "name": "huge", "rowCount": "3000000000"},
    )  # fmt: skip
    assert created["createEnvironment"]["environment"] == {"name": "huge", "rowCount": "3000000000"}
    for sent, stored in ((LARGEST, LARGEST), ("42", 42), (" 7 ", 7), (0, 0)):
        updated = await data(
            client, UPDATE, tokens.ada, input={"id": big["training"], "rowCount": sent}
        )
        assert updated["updateEnvironment"]["environment"] == {"rowCount": str(stored)}
        row_count = await conn.fetchval(
            "SELECT row_count FROM environments WHERE name = 'training' AND row_count = $1", stored
        )
        assert row_count == stored
    # written in the document itself, too
    literal = (
        "mutation ($id: ID!) { updateEnvironment(input: {id: $id, rowCount: 9223372036854775807})"
        " { environment { rowCount } } }"
    )
    answer = await data(client, literal, tokens.ada, id=big["training"])
    assert answer["updateEnvironment"]["environment"] == {"rowCount": "9223372036854775807"}


@pytest.mark.parametrize(
    ("sent", "message"),
    [
        ("9223372036854775808", "rowCount is at most 9223372036854775807 (64 bits)"),
        (2**63, "rowCount is at most 9223372036854775807 (64 bits)"),
        (10**30, "rowCount is at most 9223372036854775807 (64 bits)"),
        ("-1", "rowCount cannot be negative"),
        (-(2**63) - 1, "rowCount cannot be negative"),
    ],
)
async def test_out_of_range_is_bad_input_and_nothing_is_written(
    client: Client,
    conn: asyncpg.Connection,
    tokens: Tokens,
    big: dict[str, str],
    sent: object,
    message: str,
) -> None:
    before = await conn.fetch("SELECT id, row_count, updated_at FROM environments ORDER BY id")
    for mutation, input in (
        (UPDATE, {"id": big["training"], "rowCount": sent}),
        (CREATE, {"modelId": big["model"], "name": "huge", "rowCount": sent}),
    ):
        found = await error(client, mutation, tokens.ada, input=input)
        assert (found["extensions"]["code"], found["extensions"]["field"]) == (
            "BAD_USER_INPUT",
            "rowCount",
        )
        assert found["message"] == message
    # written in the document: the same answer
    literal = (
        f"mutation ($id: ID!) {{ updateEnvironment(input: {{id: $id, rowCount: {sent}}})"
        " { environment { rowCount } } }"
    )
    if isinstance(sent, int):
        found = await error(client, literal, tokens.ada, id=big["training"])
        assert (found["extensions"]["code"], found["extensions"]["field"]) == (
            "BAD_USER_INPUT",
            "rowCount",
        )
    after = await conn.fetch("SELECT id, row_count, updated_at FROM environments ORDER BY id")
    assert after == before


async def test_out_of_range_filters_and_bad_digits(client: Client, tokens: Tokens) -> None:
    query = "query ($v: BigInt!) { environments(filter: {rowCount: {gt: $v}}) { totalCount } }"
    found = await error(client, query, tokens.ada, v="9223372036854775808")
    assert (found["extensions"]["code"], found["extensions"]["field"]) == (
        "BAD_USER_INPUT",
        "filter",
    )
    assert found["message"] == "rowCount.gt: 9223372036854775808 is out of range"
    for bad in ("3e9", "12abc", "", 1.5, True):
        found = await error(client, query, tokens.ada, v=bad)
        assert found["extensions"]["code"] == "BAD_USER_INPUT", found
