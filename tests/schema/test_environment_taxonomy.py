"""Environments as API.md's "Environments: kind, enabled, order" says: kind and
type (defaults, the contradiction, updates), `enabled`, 0-based `sortOrder`
(a new one last, the default order of every environment list on both
executors, moveEnvironment, deletes closing the gap, concurrent moves)."""

from __future__ import annotations

import asyncio
import random
from typing import Any

import asyncpg
import pytest

from db.environments import settled
from db.tokens import create_token
from gateway.keys import STATEMENTS
from schema.ids import global_id
from tests.schema.compiled_support import both, resolver_client
from tests.schema.conftest import Tokens
from tests.support import Client, data, error, graphql

__all__ = ["resolver_client"]

CREATE = """
mutation ($input: CreateEnvironmentInput!) {
  createEnvironment(input: $input) { environment { id name type kind enabled sortOrder } }
}"""
UPDATE = """
mutation ($input: UpdateEnvironmentInput!) {
  updateEnvironment(input: $input) { environment { type kind enabled } }
}"""
MOVE = """
mutation ($id: ID!, $position: Int!) {
  moveEnvironment(input: {id: $id, position: $position}) { environment { name sortOrder } }
}"""
DELETE = "mutation ($id: ID!) { deleteEnvironment(input: {id: $id}) { deletedId } }"


async def _model(conn: asyncpg.Connection, project: str = "fraud-detection") -> Any:
    return await conn.fetchval(
        """SELECT m.id FROM models m JOIN projects p ON p.id = m.project_id
           JOIN organizations o ON o.id = p.organization_id
           WHERE o.name = 'Acme Analytics' AND p.name = $1
             AND m.name = 'xgb-classifier' AND m.version = 'v1'""",
        project,
    )


async def _positions(conn: asyncpg.Connection, model: Any) -> list[tuple[str, int]]:
    rows = await conn.fetch(
        "SELECT name, sort_order FROM environments WHERE model_id = $1 ORDER BY sort_order, name",
        model,
    )
    return [(r["name"], r["sort_order"]) for r in rows]


async def _env(conn: asyncpg.Connection, model: Any, name: str) -> str:
    found = await conn.fetchval(
        "SELECT id FROM environments WHERE model_id = $1 AND name = $2", model, name
    )
    return global_id("Environment", found)


# (kind, type) given -> (kind, type) created
CREATED = [
    ((None, None), ("CUSTOM", "PRE_PRODUCTION")),
    ((None, "PRODUCTION"), ("PRODUCTION", "PRODUCTION")),
    ((None, "PRE_PRODUCTION"), ("CUSTOM", "PRE_PRODUCTION")),
    (("PRODUCTION", None), ("PRODUCTION", "PRODUCTION")),
    (("DEVELOPMENT", None), ("DEVELOPMENT", "PRE_PRODUCTION")),
    (("STAGING", None), ("STAGING", "PRE_PRODUCTION")),
    (("CUSTOM", None), ("CUSTOM", "PRE_PRODUCTION")),
    (("PRODUCTION", "PRODUCTION"), ("PRODUCTION", "PRODUCTION")),
    (("STAGING", "PRODUCTION"), ("STAGING", "PRODUCTION")),
    (("CUSTOM", "PRE_PRODUCTION"), ("CUSTOM", "PRE_PRODUCTION")),
]


@pytest.mark.parametrize(("given", "expected"), CREATED)
async def test_create_defaults(
    client: Client,
    conn: asyncpg.Connection,
    tokens: Tokens,
    given: tuple[str | None, str | None],
    expected: tuple[str, str],
) -> None:
    model = await _model(conn)
    input: dict[str, Any] = {"modelId": global_id("Model", model), "name": "new"}
    kind, type = given
    if kind is not None:
        input["kind"] = kind
    if type is not None:
        input["type"] = type
    created = (await data(client, CREATE, tokens.ada, input=input))["createEnvironment"]
    environment = created["environment"]
    assert (environment["kind"], environment["type"]) == expected
    # enabled by default; after the demo's three (positions 0, 1, 2)
    assert (environment["enabled"], environment["sortOrder"]) == (True, 3)


@pytest.mark.parametrize(("given", "expected"), CREATED)
async def test_the_database_fills_in_the_same(
    conn: asyncpg.Connection,
    tokens: Tokens,
    given: tuple[str | None, str | None],
    expected: tuple[str, str],
) -> None:
    # a row inserted by hand gets what the API gives (the trigger of migration 0004)
    assert settled(*given) == expected
    model = await _model(conn)
    row = await conn.fetchrow(
        "INSERT INTO environments (model_id, project_id, name, kind, type) "
        "SELECT id, project_id, 'by-hand', $2, $3 FROM models WHERE id = $1 "
        "RETURNING kind::text, type::text, sort_order, enabled",
        model,
        *given,
    )
    assert row is not None
    assert tuple(row) == (*expected, 3, True)


async def test_the_contradiction_is_bad_input(
    client: Client, conn: asyncpg.Connection, tokens: Tokens
) -> None:
    model = global_id("Model", await _model(conn))
    before = await conn.fetchval("SELECT count(*) FROM environments")
    found = await error(
        client, CREATE, tokens.ada,
        input={"modelId": model, "name": "x", "kind": "PRODUCTION", "type": "PRE_PRODUCTION"},
    )  # fmt: skip
    assert (found["extensions"]["code"], found["extensions"]["field"]) == ("BAD_USER_INPUT", "type")
    assert found["message"] == "kind PRODUCTION is the PRODUCTION type, not PRE_PRODUCTION"
    assert await conn.fetchval("SELECT count(*) FROM environments") == before
    # and by hand: the database's own check
    with pytest.raises(asyncpg.CheckViolationError):
        await conn.execute(
            "UPDATE environments SET type = 'PRE_PRODUCTION' WHERE kind = 'PRODUCTION'"
        )


# the demo's training (DEVELOPMENT, PRE_PRODUCTION) and production (PRODUCTION,
# PRODUCTION) changed: (name, changes) -> (kind, type) after
UPDATED = [
    ("training", {"kind": "STAGING"}, ("STAGING", "PRE_PRODUCTION")),
    ("training", {"type": "PRODUCTION"}, ("DEVELOPMENT", "PRODUCTION")),
    ("training", {"kind": "PRODUCTION"}, ("PRODUCTION", "PRODUCTION")),
    ("production", {"kind": "STAGING"}, ("STAGING", "PRODUCTION")),
    ("production", {"type": "PRE_PRODUCTION"}, ("CUSTOM", "PRE_PRODUCTION")),
    ("production", {"kind": "CUSTOM", "type": "PRE_PRODUCTION"}, ("CUSTOM", "PRE_PRODUCTION")),
    ("production", {"enabled": False}, ("PRODUCTION", "PRODUCTION")),
]


@pytest.mark.parametrize(("name", "changes", "expected"), UPDATED)
async def test_update_keeps_the_other_unless_it_would_contradict(
    client: Client,
    conn: asyncpg.Connection,
    tokens: Tokens,
    name: str,
    changes: dict[str, Any],
    expected: tuple[str, str],
) -> None:
    environment = await _env(conn, await _model(conn), name)
    updated = await data(client, UPDATE, tokens.ada, input={"id": environment, **changes})
    after = updated["updateEnvironment"]["environment"]
    assert (after["kind"], after["type"], after["enabled"]) == (
        *expected,
        changes.get("enabled", True),
    )


async def test_update_refuses_the_contradiction(
    client: Client, conn: asyncpg.Connection, tokens: Tokens
) -> None:
    environment = await _env(conn, await _model(conn), "training")
    found = await error(
        client, UPDATE, tokens.ada,
        input={"id": environment, "kind": "PRODUCTION", "type": "PRE_PRODUCTION"},
    )  # fmt: skip
    assert (found["extensions"]["code"], found["extensions"]["field"]) == ("BAD_USER_INPUT", "type")
    kind = await conn.fetchval(
        "SELECT kind::text FROM environments WHERE id = $1",
        await conn.fetchval("SELECT id FROM environments WHERE name = 'training' LIMIT 1"),
    )
    assert kind == "DEVELOPMENT"


async def test_filters_and_demo_kinds(client: Client, tokens: Tokens) -> None:
    query = """{
      staging: environments(filter: {kind: {eq: STAGING}}) { totalCount nodes { name } }
      off: environments(filter: {enabled: {eq: false}}) { totalCount }
      kinds: environments(filter: {kind: {in: [DEVELOPMENT, PRODUCTION]}}) { totalCount }
    }"""
    answer = await data(client, query, tokens.root)
    assert answer["staging"]["totalCount"] == 18
    assert {n["name"] for n in answer["staging"]["nodes"]} == {"validation"}
    assert (answer["off"]["totalCount"], answer["kinds"]["totalCount"]) == (0, 36)


ORDERED = """
query ($model: ID!, $project: ID!, $first: Int = 5, $after: String) {
  model(id: $model) { environments { nodes { name sortOrder } } }
  project(id: $project) { environments(first: 4) { nodes { name sortOrder model { id } } } }
  environments(first: $first, after: $after, filter: {model: {id: {eq: $model}}}) {
    pageInfo { endCursor } nodes { name }
  }
}"""


async def _same(client: Client, resolver: Client, token: str, **variables: Any) -> dict[str, Any]:
    compiled, reference = await both(client, resolver, ORDERED, token, variables)
    assert compiled[:2] == reference[:2]
    assert (compiled[2], compiled[1].get("errors")) == ("compiled", None)
    answer: dict[str, Any] = compiled[1]["data"]
    return answer


async def test_lists_come_in_sort_order_then_name_on_both_executors(
    client: Client, resolver_client: Client, conn: asyncpg.Connection, tokens: Tokens
) -> None:
    model = await _model(conn)
    project = await conn.fetchval("SELECT project_id FROM models WHERE id = $1", model)
    ids = {"model": global_id("Model", model), "project": global_id("Project", project)}
    answer = await _same(client, resolver_client, tokens.ada, **ids)
    demo = [("training", 0), ("validation", 1), ("production", 2)]
    assert [(n["name"], n["sortOrder"]) for n in answer["model"]["environments"]["nodes"]] == demo
    # a project's environments: every model's first (position 0, by name), ...
    nodes = answer["project"]["environments"]["nodes"]
    assert [(n["name"], n["sortOrder"]) for n in nodes] == [("training", 0)] * 2 + [
        ("validation", 1)
    ] * 2
    # moved: every list follows, a new one goes last, the cursor of a page still works
    await data(client, MOVE, tokens.ada, id=await _env(conn, model, "production"), position=0)
    created = await data(client, CREATE, tokens.ada, input={"modelId": ids["model"], "name": "aaa"})
    assert created["createEnvironment"]["environment"]["sortOrder"] == 3
    answer = await _same(client, resolver_client, tokens.ada, **ids)
    order = ["production", "training", "validation", "aaa"]
    assert [n["name"] for n in answer["model"]["environments"]["nodes"]] == order
    assert [n["name"] for n in answer["environments"]["nodes"]] == order
    page = await _same(client, resolver_client, tokens.ada, **ids, first=2)
    assert [n["name"] for n in page["environments"]["nodes"]] == order[:2]
    after = page["environments"]["pageInfo"]["endCursor"]
    rest = await _same(client, resolver_client, tokens.ada, **ids, after=after)
    assert [n["name"] for n in rest["environments"]["nodes"]] == order[2:]


async def test_move_to_first_last_middle_and_out_of_range(
    client: Client, conn: asyncpg.Connection, tokens: Tokens
) -> None:
    model = await _model(conn)
    for name in ("d", "e"):
        await data(
            client, CREATE, tokens.ada, input={"modelId": global_id("Model", model), "name": name}
        )
    assert await _positions(conn, model) == [
        ("training", 0), ("validation", 1), ("production", 2), ("d", 3), ("e", 4),
    ]  # fmt: skip
    moves = [
        ("e", 0, ["e", "training", "validation", "production", "d"]),  # to first
        ("training", 4, ["e", "validation", "production", "d", "training"]),  # to last
        ("e", 2, ["validation", "production", "e", "d", "training"]),  # to the middle
        ("d", 1, ["validation", "d", "production", "e", "training"]),  # backwards
        ("d", 1, ["validation", "d", "production", "e", "training"]),  # where it is
    ]
    for name, position, expected in moves:
        moved = await data(
            client, MOVE, tokens.ada, id=await _env(conn, model, name), position=position
        )
        assert moved["moveEnvironment"]["environment"] == {"name": name, "sortOrder": position}
        assert await _positions(conn, model) == [(n, i) for i, n in enumerate(expected)]
    before = await conn.fetch("SELECT id, sort_order, updated_at FROM environments ORDER BY id")
    for position in (-1, 5, 2**31 - 1):
        found = await error(
            client, MOVE, tokens.ada, id=await _env(conn, model, "d"), position=position
        )
        assert (found["extensions"]["code"], found["extensions"]["field"]) == (
            "BAD_USER_INPUT",
            "position",
        )
        assert found["message"] == "position is between 0 and 4 (the model has 5 environments)"
    assert (
        await conn.fetch("SELECT id, sort_order, updated_at FROM environments ORDER BY id")
        == before
    )


async def test_delete_closes_the_gap(
    client: Client, conn: asyncpg.Connection, tokens: Tokens
) -> None:
    model = await _model(conn)
    await data(client, DELETE, tokens.ada, id=await _env(conn, model, "training"))
    assert await _positions(conn, model) == [("validation", 0), ("production", 1)]
    created = await data(
        client, CREATE, tokens.ada, input={"modelId": global_id("Model", model), "name": "next"}
    )
    assert created["createEnvironment"]["environment"]["sortOrder"] == 2


async def test_who_may_move(client: Client, conn: asyncpg.Connection, tokens: Tokens) -> None:
    edited = await _model(conn)  # Grace: EDITOR
    viewed = await _model(conn, "churn-prediction")  # Grace: VIEWER
    initech = await conn.fetchval(
        "SELECT m.id FROM models m JOIN projects p ON p.id = m.project_id "
        "JOIN organizations o ON o.id = p.organization_id WHERE o.name = 'Initech Labs' LIMIT 1"
    )
    before = await conn.fetch("SELECT id, sort_order FROM environments ORDER BY id")
    found = await error(
        client, MOVE, tokens.grace, id=await _env(conn, viewed, "production"), position=0
    )
    assert found["extensions"]["code"] == "FORBIDDEN"
    found = await error(
        client, MOVE, tokens.ada, id=await _env(conn, initech, "production"), position=0
    )
    assert (found["extensions"]["code"], found["extensions"]["field"]) == ("NOT_FOUND", "id")
    read_only = await create_token(conn, email="ada@example.com", scopes=["environment:read"])
    found = await error(
        client, MOVE, read_only.token, id=await _env(conn, edited, "production"), position=0
    )
    assert (found["extensions"]["code"], found["message"]) == (
        "FORBIDDEN",
        "this token lacks the scope environment:write",
    )
    assert await conn.fetch("SELECT id, sort_order FROM environments ORDER BY id") == before
    await data(client, MOVE, tokens.grace, id=await _env(conn, edited, "production"), position=0)
    assert (await _positions(conn, edited))[0] == ("production", 0)


async def test_concurrent_moves_creates_and_deletes_keep_a_permutation(
    client: Client, conn: asyncpg.Connection, tokens: Tokens
) -> None:
    model = await _model(conn)
    model_id = global_id("Model", model)
    for i in range(5):
        await data(client, CREATE, tokens.ada, input={"modelId": model_id, "name": f"m{i}"})
    names = [name for name, _ in await _positions(conn, model)]
    ids = {name: await _env(conn, model, name) for name in names}
    rng = random.Random(16)

    async def one(i: int) -> tuple[int, dict[str, Any]]:
        if i % 10 == 3:
            return await graphql(
                client, CREATE, tokens.ada, input={"modelId": model_id, "name": f"c{i}"}
            )
        if i % 10 == 7:
            victim = ids[f"m{i // 10}"]
            return await graphql(client, DELETE, tokens.ada, id=victim)
        # positions up to 7: some are out of range by then, which must change nothing
        return await graphql(
            client, MOVE, tokens.ada, id=ids[rng.choice(names)], position=rng.randrange(8)
        )

    results = await asyncio.gather(*(one(i) for i in range(40)))
    codes = {e["extensions"]["code"] for _, body in results for e in body.get("errors") or ()}
    assert codes <= {"BAD_USER_INPUT", "NOT_FOUND"}, codes  # out of range, or moved once deleted
    positions = await _positions(conn, model)
    assert sorted(p for _, p in positions) == list(range(len(positions)))
    assert len(positions) == 3 + 5 + 4 - 4  # the demo's and 5, 4 created, m0 to m3 deleted


async def test_moves_and_deletes_are_one_statement(
    client: Client, conn: asyncpg.Connection, tokens: Tokens
) -> None:
    """The caller's visibility and role, the model's lock, the positions read after it
    and the write in one statement, whatever the answer (issue 18: writes in one
    round trip); the moved environment's payload comes from that statement too."""
    model = await _model(conn)
    viewed = await _model(conn, "churn-prediction")  # Grace: VIEWER
    initech = await conn.fetchval(
        "SELECT m.id FROM models m JOIN projects p ON p.id = m.project_id "
        "JOIN organizations o ON o.id = p.organization_id WHERE o.name = 'Initech Labs' LIMIT 1"
    )
    await conn.execute(
        "UPDATE environments SET protected = true WHERE model_id = $1 AND name = 'validation'",
        model,
    )
    out_of_range = ("BAD_USER_INPUT", "position is between 0 and 2 (the model has 3 environments)")
    protected = ("CONFLICT", "a protected environment cannot be deleted")
    cases: list[tuple[str, str, str, dict[str, Any], tuple[str, str] | None]] = [
        (MOVE, tokens.ada, "production", {"position": 0}, None),
        (MOVE, tokens.ada, "production", {"position": 3}, out_of_range),
        (MOVE, tokens.ada, "production", {"position": -1}, out_of_range),
        (DELETE, tokens.ada, "validation", {}, protected),
        (DELETE, tokens.ada, "training", {}, None),
    ]  # fmt: skip
    assert client.app is not None
    for mutation, token, name, values, refusal in cases:
        before = client.app[STATEMENTS].total
        environment = await _env(conn, model, name)
        if refusal is None:
            await data(client, mutation, token, id=environment, **values)
        else:
            found = await error(client, mutation, token, id=environment, **values)
            assert (found["extensions"]["code"], found["message"]) == refusal
        # the token's check (the tests' apps cache no token) and the write's
        assert client.app[STATEMENTS].total - before == 2
    assert await _positions(conn, model) == [("production", 0), ("validation", 1)]
    refusals = [
        (tokens.grace, viewed, "FORBIDDEN"),  # a VIEWER of the project
        (tokens.ada, initech, "NOT_FOUND"),  # another tenant's
    ]
    for token, other, code in refusals:
        environment = await _env(conn, other, "production")
        for mutation, values in ((MOVE, {"position": 0}), (DELETE, {})):
            before = client.app[STATEMENTS].total
            found = await error(client, mutation, token, id=environment, **values)
            assert found["extensions"]["code"] == code
            assert client.app[STATEMENTS].total - before == 2
    moved = await data(
        client, MOVE, tokens.ada, id=await _env(conn, model, "validation"), position=0
    )
    assert moved["moveEnvironment"]["environment"] == {"name": "validation", "sortOrder": 0}
