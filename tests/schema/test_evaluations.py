"""Evaluations: conditions against the events filter (every operator), the
matching events as a full connection, stats, writes and their checks, soft
delete and restore, no hard delete, concurrent stale updates."""

from __future__ import annotations

import asyncio
from datetime import datetime
from typing import Any
from uuid import UUID

import asyncpg
import pytest

from gateway.keys import STATEMENTS
from schema.ids import global_id
from tests.schema.conftest import Tokens
from tests.schema.test_events import BY_UUID, TIMES, acme
from tests.support import Client, data, error, graphql

__all__ = ["acme"]

CREATE = """
mutation ($input: CreateEvaluationInput!) {
  createEvaluation(input: $input) {
    evaluation {
      id name description enabled prompt conditions { key operator value } deletedAt
      environment { name } model { name } project { name } createdBy { name } updatedBy { name }
    }
  }
}
"""
UPDATE = """
mutation ($input: UpdateEvaluationInput!) {
  updateEvaluation(input: $input) {
    evaluation {
      id name description enabled prompt conditions { key operator value } deletedAt
      updatedAt updatedBy { name }
    }
  }
}
"""
MATCHED = """
query ($id: ID!, $env: ID!, $props: [PropertyFilter!]) {
  evaluation(id: $id) {
    matchingEvents(first: 100) { totalCount nodes { uuid } }
    stats { events matched rate }
  }
  environment(id: $env) { events(first: 100, filter: {properties: $props}) { nodes { uuid } } }
}
"""

# (key, operator, value, the events of tests/schema/test_events.py it matches):
# every PropertyFilter operator, as the events filter's own test has them
CASES: list[tuple[str, str, Any, set[str]]] = [
    ("score", "EQ", 10, {"e2"}),
    ("score", "EQ", 1, {"e6"}),
    ("score", "EQ", "high", {"e3"}),
    ("score", "EQ", "10", set()),
    ("ok", "EQ", True, {"e1", "e4"}),
    ("n", "EQ", None, {"e1"}),
    ("meta", "EQ", {"v": 1}, {"e1"}),
    ("tags", "EQ", ["a"], set()),
    ("tags", "EQ", ["a", "b"], {"e1"}),
    ("score", "NEQ", 10, {"e1", "e3", "e4", "e5", "e6"}),
    ("score", "IN", [10, "high"], {"e2", "e3"}),
    ("score", "NOT_IN", [10, "high"], {"e1", "e4", "e5", "e6"}),
    ("label", "CONTAINS", "cAt", {"e1", "e3", "e6"}),
    ("label", "NOT_CONTAINS", "cat", {"e2", "e4", "e5"}),
    ("score", "CONTAINS", "1", set()),
    ("score", "GT", 1, {"e2", "e4"}),
    ("score", "GTE", 1, {"e2", "e4", "e6"}),
    ("score", "LT", 1, {"e1"}),
    ("score", "LTE", 1.0, {"e1", "e6"}),
    # a DateTime string compares with strings (byte order): every label is after "2"
    ("label", "GT", "2026-01-01T00:00:00Z", {"e1", "e2", "e3", "e6"}),
    ("meta", "GT", 0, set()),
    ("ok", "IS_SET", None, {"e1", "e2", "e4"}),
    ("n", "IS_SET", None, {"e1", "e4"}),
    ("ok", "IS_NOT_SET", None, {"e3", "e5", "e6"}),
    ("missing", "NEQ", 1, {"e1", "e2", "e3", "e4", "e5", "e6"}),
    ("missing", "EQ", None, set()),
]


def _names(nodes: list[dict[str, Any]]) -> list[str]:
    return [BY_UUID[n["uuid"]] for n in nodes]


async def _create(client: Client, token: str, env: UUID, **fields: Any) -> dict[str, Any]:
    given = {"environmentId": global_id("Environment", env), **fields}
    created = await data(client, CREATE, token, input=given)
    evaluation: dict[str, Any] = created["createEvaluation"]["evaluation"]
    return evaluation


async def test_every_operator_matches_as_the_events_filter(
    client: Client, tokens: Tokens, acme: UUID
) -> None:
    env = global_id("Environment", acme)
    for i, (key, operator, value, expected) in enumerate(CASES):
        condition: dict[str, Any] = {"key": key, "operator": operator}
        if operator not in ("IS_SET", "IS_NOT_SET"):
            condition["value"] = value
        evaluation = await _create(
            client, tokens.ada, acme, name=f"rule {i}", conditions=[condition]
        )
        assert evaluation["conditions"] == [
            {"key": key, "operator": operator, "value": condition.get("value")}
        ]
        found = await data(
            client, MATCHED, tokens.ada, id=evaluation["id"], env=env, props=[condition]
        )
        matching = found["evaluation"]["matchingEvents"]
        listed = _names(found["environment"]["events"]["nodes"])
        case = (key, operator, value)
        assert (case, _names(matching["nodes"])) == (case, listed)
        assert (case, set(listed), matching["totalCount"]) == (case, expected, len(expected))
        assert (case, found["evaluation"]["stats"]) == (
            case,
            {"events": "6", "matched": str(len(expected)), "rate": len(expected) / 6},
        )


async def test_all_conditions_must_hold_and_no_condition_matches_all(
    client: Client, tokens: Tokens, acme: UUID
) -> None:
    env = global_id("Environment", acme)
    both = [
        {"key": "score", "operator": "GTE", "value": 1},
        {"key": "ok", "operator": "EQ", "value": True},
    ]
    evaluation = await _create(client, tokens.ada, acme, name="both", conditions=both)
    found = await data(client, MATCHED, tokens.ada, id=evaluation["id"], env=env, props=both)
    assert _names(found["evaluation"]["matchingEvents"]["nodes"]) == ["e4"]
    assert found["evaluation"]["stats"] == {"events": "6", "matched": "1", "rate": 1 / 6}

    everything = await _create(client, tokens.ada, acme, name="everything")
    assert everything["conditions"] == []
    found = await data(client, MATCHED, tokens.ada, id=everything["id"], env=env, props=[])
    # newest first, as the events list (e3 and e4 share a time: the id decides)
    listed = _names(found["environment"]["events"]["nodes"])
    assert _names(found["evaluation"]["matchingEvents"]["nodes"]) == listed
    assert (listed[:2], set(listed[2:4]), listed[4:]) == (["e6", "e5"], {"e3", "e4"}, ["e2", "e1"])
    assert found["evaluation"]["stats"] == {"events": "6", "matched": "6", "rate": 1.0}


async def test_matching_events_is_a_full_connection(
    client: Client, tokens: Tokens, acme: UUID
) -> None:
    # score is a number: e1, e2, e4, e6
    numeric = [{"key": "score", "operator": "GTE", "value": 0}]
    evaluation = await _create(client, tokens.ada, acme, name="numeric", conditions=numeric)
    query = """
    query ($id: ID!, $after: String, $filter: EventFilter, $since: DateTime, $until: DateTime) {
      evaluation(id: $id) {
        matchingEvents(first: 2, after: $after, filter: $filter, since: $since, until: $until,
                       orderBy: [{field: TIMESTAMP, direction: ASC}]) {
          totalCount pageInfo { hasNextPage hasPreviousPage endCursor } nodes { uuid }
          aggregate { count property(key: "score") { sum } }
        }
        stats(since: $since, until: $until) { events matched rate }
      }
    }
    """
    first = (await data(client, query, tokens.ada, id=evaluation["id"]))["evaluation"]
    page = first["matchingEvents"]
    assert _names(page["nodes"]) == ["e1", "e2"]
    assert (page["totalCount"], page["pageInfo"]["hasNextPage"]) == (4, True)
    assert page["aggregate"] == {"count": "4", "property": {"sum": 0.9 + 10 + 2 + 1.0}}
    after = page["pageInfo"]["endCursor"]
    second = await data(client, query, tokens.ada, id=evaluation["id"], after=after)
    page = second["evaluation"]["matchingEvents"]
    assert _names(page["nodes"]) == ["e4", "e6"]
    assert (page["pageInfo"]["hasNextPage"], page["pageInfo"]["hasPreviousPage"]) == (False, True)
    # a filter of the list's own, and a window, on top of the conditions
    since, until = TIMES["e2"].isoformat(), TIMES["e6"].isoformat()
    windowed = await data(
        client, query, tokens.ada, id=evaluation["id"], since=since, until=until,
        filter={"properties": [{"key": "score", "operator": "LT", "value": 5}]},
    )  # fmt: skip
    assert _names(windowed["evaluation"]["matchingEvents"]["nodes"]) == ["e4"]
    # e2, e3, e4, e5 in the window; e2 and e4 matched
    assert windowed["evaluation"]["stats"] == {"events": "4", "matched": "2", "rate": 0.5}
    # a cursor made under the conditions is not one of the plain events list
    other = await _create(
        client, tokens.ada, acme, name="other", conditions=[{"key": "ok", "operator": "IS_SET"}]
    )
    found = await error(client, query, tokens.ada, id=other["id"], after=after)
    assert found["extensions"]["code"] == "BAD_USER_INPUT"


async def test_stats_of_an_empty_window_has_no_rate(
    client: Client, tokens: Tokens, acme: UUID
) -> None:
    evaluation = await _create(client, tokens.ada, acme, name="none yet")
    query = (
        "query ($id: ID!, $s: DateTime) "
        "{ evaluation(id: $id) { stats(since: $s) { events matched rate } } }"
    )
    found = await data(client, query, tokens.ada, id=evaluation["id"], s="2030-01-01T00:00:00Z")
    assert found == {"evaluation": {"stats": {"events": "0", "matched": "0", "rate": None}}}


async def test_fields_authorship_and_every_field_updated(
    client: Client, conn: asyncpg.Connection, tokens: Tokens
) -> None:
    env = await conn.fetchval(
        "SELECT e.id FROM environments e JOIN projects p ON p.id = e.project_id "
        "JOIN organizations o ON o.id = p.organization_id WHERE o.name = 'Acme Analytics' "
        "AND p.name = 'fraud-detection' AND e.name = 'training' ORDER BY e.id LIMIT 1"
    )
    created = await _create(
        client, tokens.ada, env, name="judge", description="d", enabled=False, prompt="p",
        conditions=[{"key": "label", "operator": "IN", "value": ["fraud"]}],
    )  # fmt: skip
    assert {k: v for k, v in created.items() if k != "id"} == {
        "name": "judge",
        "description": "d",
        "enabled": False,
        "prompt": "p",
        "conditions": [{"key": "label", "operator": "IN", "value": ["fraud"]}],
        "deletedAt": None,
        "environment": {"name": "training"},
        "model": {
            "name": await conn.fetchval(
                "SELECT m.name FROM models m JOIN environments e ON e.model_id = m.id "
                "WHERE e.id = $1",
                env,
            )
        },
        "project": {"name": "fraud-detection"},
        "createdBy": {"name": "Ada Lovelace"},
        "updatedBy": {"name": "Ada Lovelace"},
    }
    # Grace edits fraud-detection: every field, and she becomes updatedBy
    changes = {
        "name": "judge 2",
        "description": "d2",
        "enabled": True,
        "prompt": "p2",
        "conditions": [{"key": "amount", "operator": "GT", "value": 100}],
    }
    updated = await data(client, UPDATE, tokens.grace, input={"id": created["id"], **changes})
    evaluation = updated["updateEvaluation"]["evaluation"]
    assert {k: evaluation[k] for k in changes} == changes
    assert evaluation["updatedBy"] == {"name": "Grace Hopper"}
    row = await conn.fetchrow(
        "SELECT name, description, enabled, prompt, conditions::text, created_by <> updated_by "
        "FROM evaluations WHERE name = 'judge 2'"
    )
    assert row is not None
    assert tuple(row) == (
        "judge 2", "d2", True, "p2",
        '[{"key": "amount", "value": 100, "operator": "GT"}]', True,
    )  # fmt: skip


async def test_soft_delete_and_restore_lose_nothing(
    client: Client, conn: asyncpg.Connection, tokens: Tokens, acme: UUID
) -> None:
    conditions = [{"key": "score", "operator": "GT", "value": 1}]
    created = await _create(
        client, tokens.ada, acme, name="keep", description="kept", enabled=False, prompt="why?",
        conditions=conditions,
    )  # fmt: skip
    ev_id = created["id"]
    lists = """
    query ($d: DeletedFilter!, $env: ID!) {
      evaluations(deleted: $d, filter: {name: {eq: "keep"}}) { totalCount nodes { id deletedAt } }
      environment(id: $env) { evaluations(deleted: $d) { totalCount } }
    }
    """
    env = global_id("Environment", acme)
    before = await data(client, lists, tokens.ada, d="EXCLUDE", env=env)
    live = before["environment"]["evaluations"]["totalCount"]
    assert before["evaluations"]["totalCount"] == 1

    deleted = await data(client, UPDATE, tokens.ada, input={"id": ev_id, "deleted": True})
    deleted_at = deleted["updateEvaluation"]["evaluation"]["deletedAt"]
    assert deleted_at is not None
    # gone from default lists and lookups
    excluded = await data(client, lists, tokens.ada, d="EXCLUDE", env=env)
    assert excluded["evaluations"]["totalCount"] == 0
    assert excluded["environment"]["evaluations"]["totalCount"] == live - 1
    assert await data(
        client, "query ($id: ID!) { node(id: $id) { id } }", tokens.ada, id=ev_id
    ) == {"node": None}
    found = await error(
        client, "query ($id: ID!) { evaluation(id: $id) { id } }", tokens.ada, id=ev_id
    )
    assert found["extensions"]["code"] == "NOT_FOUND"
    # an update that does not say `deleted` does not find it either
    found = await error(client, UPDATE, tokens.ada, input={"id": ev_id, "name": "x"})
    assert found["extensions"]["code"] == "NOT_FOUND"
    # listed when asked for
    only = await data(client, lists, tokens.ada, d="ONLY", env=env)
    assert only["evaluations"]["nodes"] == [{"id": ev_id, "deletedAt": deleted_at}]
    assert only["environment"]["evaluations"]["totalCount"] == 1
    included = await data(client, lists, tokens.ada, d="INCLUDE", env=env)
    assert included["environment"]["evaluations"]["totalCount"] == live
    # deleting again keeps the first deletedAt
    again = await data(client, UPDATE, tokens.ada, input={"id": ev_id, "deleted": True})
    assert again["updateEvaluation"]["evaluation"]["deletedAt"] == deleted_at

    restored = await data(client, UPDATE, tokens.ada, input={"id": ev_id, "deleted": False})
    evaluation = restored["updateEvaluation"]["evaluation"]
    assert {
        k: evaluation[k]
        for k in ("name", "description", "enabled", "prompt", "conditions", "deletedAt")
    } == {
        "name": "keep",
        "description": "kept",
        "enabled": False,
        "prompt": "why?",
        "conditions": [{"key": "score", "operator": "GT", "value": 1}],
        "deletedAt": None,
    }
    assert (await data(client, lists, tokens.ada, d="EXCLUDE", env=env))["evaluations"][
        "totalCount"
    ] == 1


async def test_names_are_unique_among_live_ones_and_restore_into_a_taken_name_conflicts(
    client: Client, conn: asyncpg.Connection, tokens: Tokens, acme: UUID
) -> None:
    first = await _create(client, tokens.ada, acme, name="dup", prompt="first")
    found = await error(
        client, CREATE, tokens.ada,
        input={"environmentId": global_id("Environment", acme), "name": "dup"},
    )  # fmt: skip
    assert (found["extensions"]["code"], found["extensions"]["field"], found["message"]) == (
        "CONFLICT",
        "name",
        "the name is taken by another evaluation of this environment",
    )
    await data(client, UPDATE, tokens.ada, input={"id": first["id"], "deleted": True})
    # the name is free while the first one is deleted
    await _create(client, tokens.ada, acme, name="dup", prompt="second")
    found = await error(client, UPDATE, tokens.ada, input={"id": first["id"], "deleted": False})
    assert (found["extensions"]["code"], found["extensions"]["field"]) == ("CONFLICT", "deleted")
    # restoring under a new name works
    back = await data(
        client, UPDATE, tokens.ada, input={"id": first["id"], "deleted": False, "name": "dup 1"}
    )
    assert back["updateEvaluation"]["evaluation"]["name"] == "dup 1"
    rows = await conn.fetch(
        "SELECT name, prompt, deleted_at IS NULL FROM evaluations "
        "WHERE environment_id = $1 AND name LIKE 'dup%' ORDER BY name",
        acme,
    )
    assert [tuple(r) for r in rows] == [("dup", "second", True), ("dup 1", "first", True)]


@pytest.mark.parametrize(
    ("conditions", "field", "message"),
    [
        ([{"key": "a", "operator": "IN", "value": 3}], "conditions[0].value",
         "IN takes a list of at most 1000 values"),
        ([{"key": "a", "operator": "IS_SET"}, {"key": "b", "operator": "GT", "value": "soon"}],
         "conditions[1].value", "GT takes a number or a DateTime string"),
        ([{"key": "a", "operator": "GTE", "value": True}], "conditions[0].value",
         "GTE takes a number or a DateTime string"),
        ([{"key": "a", "operator": "IS_SET", "value": 1}], "conditions[0].value",
         "IS_SET takes no value"),
        ([{"key": "a", "operator": "EQ"}], "conditions[0].value", "EQ takes a value"),
        ([{"key": "a", "operator": "CONTAINS", "value": ["x"]}], "conditions[0].value",
         "CONTAINS takes a string"),
        ([{"key": "a", "operator": "IS_SET"}] * 2 + [{"key": "", "operator": "IS_SET"}],
         "conditions[2].key", "a property key is 1 to 200 characters, without NUL"),
        ([{"key": "k" * 201, "operator": "IS_SET"}], "conditions[0].key",
         "a property key is 1 to 200 characters, without NUL"),
    ],
)  # fmt: skip
async def test_conditions_are_checked_on_write(
    client: Client,
    conn: asyncpg.Connection,
    tokens: Tokens,
    acme: UUID,
    conditions: list[dict[str, Any]],
    field: str,
    message: str,
) -> None:
    given = {
        "environmentId": global_id("Environment", acme),
        "name": "bad",
        "conditions": conditions,
    }
    found = await error(client, CREATE, tokens.ada, input=given)
    assert (found["extensions"]["code"], found["extensions"]["field"], found["message"]) == (
        "BAD_USER_INPUT",
        field,
        message,
    )
    good = await _create(client, tokens.ada, acme, name="good")
    found = await error(
        client, UPDATE, tokens.ada, input={"id": good["id"], "conditions": conditions}
    )
    assert (found["extensions"]["code"], found["extensions"]["field"]) == ("BAD_USER_INPUT", field)
    assert (
        await conn.fetchval(
            "SELECT conditions::text FROM evaluations WHERE id = $1",
            UUID(await conn.fetchval("SELECT id::text FROM evaluations WHERE name = 'good'")),
        )
        == "[]"
    )
    assert await conn.fetchval("SELECT count(*) FROM evaluations WHERE name = 'bad'") == 0


@pytest.mark.parametrize(
    ("name", "field"),
    [("", "name"), (" x", "name"), ("x" * 201, "name"), ("a\nb", "name")],
)
async def test_names_are_checked(
    client: Client, tokens: Tokens, acme: UUID, name: str, field: str
) -> None:
    given = {"environmentId": global_id("Environment", acme), "name": name}
    found = await error(client, CREATE, tokens.ada, input=given)
    assert (found["extensions"]["code"], found["extensions"]["field"]) == ("BAD_USER_INPUT", field)


async def test_the_database_refuses_bad_conditions_too(
    conn: asyncpg.Connection, tokens: Tokens, acme: UUID
) -> None:
    for bad in (
        '{"key": "a"}',
        '[{"key": "a", "operator": "IN", "value": 1}]',
        '[{"key": "a", "operator": "IS_SET", "value": 1}]',
        '[{"key": "a", "operator": "LIKE", "value": "x"}]',
        '[{"key": "", "operator": "IS_SET"}]',
        '[{"key": "a", "operator": "IS_SET", "extra": 1}]',
    ):
        with pytest.raises(asyncpg.CheckViolationError):
            await conn.execute(
                "INSERT INTO evaluations (environment_id, model_id, project_id, name, conditions, "
                "created_by, updated_by) SELECT e.id, e.model_id, e.project_id, 'x', $2::jsonb, "
                "u.id, u.id FROM environments e, users u WHERE e.id = $1 LIMIT 1",
                acme,
                bad,
            )


async def test_no_mutation_deletes_an_evaluation(client: Client, tokens: Tokens) -> None:
    query = (
        "{ __schema { mutationType { fields { name args { name type { ofType { name } } } } } } }"
    )
    found = await data(client, query, tokens.ada)
    names = {f["name"] for f in found["__schema"]["mutationType"]["fields"]}
    assert {n for n in names if "valuation" in n} == {"createEvaluation", "updateEvaluation"}
    # the one way to hide one is updateEvaluation(deleted: true)
    update_input = await data(
        client,
        '{ __type(name: "UpdateEvaluationInput") { inputFields { name } } }',
        tokens.ada,
    )
    assert [f["name"] for f in update_input["__type"]["inputFields"]] == [
        "id", "name", "description", "enabled", "prompt", "conditions", "deleted",
        "expectedUpdatedAt",
    ]  # fmt: skip


async def test_fifty_concurrent_stale_updates_one_wins(
    client: Client, conn: asyncpg.Connection, tokens: Tokens
) -> None:
    row = await conn.fetchrow("SELECT id, updated_at FROM evaluations ORDER BY id LIMIT 1")
    assert row is not None
    ev_id, read = global_id("Evaluation", row["id"]), row["updated_at"].isoformat()

    async def write(i: int) -> dict[str, Any]:
        given = {"id": ev_id, "prompt": f"prompt {i}", "expectedUpdatedAt": read}
        _, body = await graphql(client, UPDATE, tokens.root, input=given)
        return body

    bodies = await asyncio.gather(*(write(i) for i in range(50)))
    winners = [
        b["data"]["updateEvaluation"]["evaluation"]["prompt"] for b in bodies if not b.get("errors")
    ]
    codes = [
        (b["errors"][0]["extensions"]["code"], b["errors"][0]["extensions"]["field"])
        for b in bodies
        if b.get("errors")
    ]
    assert (len(winners), codes) == (1, [("CONFLICT", "expectedUpdatedAt")] * 49)
    assert (
        await conn.fetchval("SELECT prompt FROM evaluations WHERE id = $1", row["id"]) == winners[0]
    )


async def test_deleting_an_environment_deletes_its_evaluations(
    conn: asyncpg.Connection, tokens: Tokens
) -> None:
    env = await conn.fetchval("SELECT environment_id FROM evaluations ORDER BY id LIMIT 1")
    assert (
        await conn.fetchval("SELECT count(*) FROM evaluations WHERE environment_id = $1", env) == 3
    )
    await conn.execute("DELETE FROM environments WHERE id = $1", env)
    assert (
        await conn.fetchval("SELECT count(*) FROM evaluations WHERE environment_id = $1", env) == 0
    )


async def test_demo_evaluations_match_some_demo_events(
    client: Client, conn: asyncpg.Connection, tokens: Tokens
) -> None:
    from db.demo import seed_demo

    await seed_demo(conn, 1, events=200, events_until=datetime(2026, 12, 1).astimezone())
    query = """
    { evaluations(first: 100, orderBy: [{field: NAME}]) {
        totalCount nodes { name enabled stats { events matched } } } }
    """
    found = (await data(client, query, tokens.ada))["evaluations"]
    # Ada sees Acme's and Globex's 6 production environments each, 3 evaluations in each
    assert found["totalCount"] == 36
    assert {n["name"] for n in found["nodes"]} == {
        "confident fraud",
        "slow predictions",
        "test traffic",
    }
    for node in found["nodes"]:
        assert int(node["stats"]["events"]) >= 200
        assert 0 < int(node["stats"]["matched"]) < int(node["stats"]["events"]), node


async def test_series_is_the_environments_series_narrowed_by_the_conditions(
    client: Client, tokens: Tokens, acme: UUID
) -> None:
    conditions = [{"key": "score", "operator": "GTE", "value": 1}]
    evaluation = await _create(client, tokens.ada, acme, name="series", conditions=conditions)
    query = """
    query ($id: ID!, $env: ID!, $props: [PropertyFilter!], $since: DateTime!, $until: DateTime!) {
      evaluation(id: $id) {
        series(since: $since, until: $until, interval: MONTH,
               filter: {event: {eq: "prediction"}}) {
          buckets lines { key values total }
        }
      }
      environment(id: $env) {
        eventSeries(since: $since, until: $until, interval: MONTH,
                    filter: {event: {eq: "prediction"}, properties: $props}) {
          buckets lines { key values total }
        }
      }
    }
    """
    found = await data(
        client, query, tokens.ada, id=evaluation["id"], env=global_id("Environment", acme),
        props=conditions, since="2026-10-01T00:00:00Z", until="2027-01-01T00:00:00Z",
    )  # fmt: skip
    series = found["evaluation"]["series"]
    assert series == found["environment"]["eventSeries"]
    # e2 (October), e4 (November), e6 (December)
    assert series["lines"] == [{"key": None, "values": [1, 1, 1], "total": 3}]


@pytest.mark.parametrize(
    ("given", "field"),
    [
        ({"description": "a\u0000b"}, "description"),
        ({"prompt": "a\u0000b"}, "prompt"),
        ({"conditions": [{"key": "a", "operator": "EQ", "value": "a\u0000b"}]},
         "conditions[0].value"),
        ({"conditions": [{"key": "a", "operator": "IN", "value": [{"x": ["\u0000"]}]}]},
         "conditions[0].value"),
        ({"conditions": [{"key": "a", "operator": "EQ", "value": {"\u0000": 1}}]},
         "conditions[0].value"),
        ({"conditions": [{"key": "a", "operator": "GT", "value": 1e400}]}, None),
    ],
)  # fmt: skip
async def test_nul_and_unrepresentable_values_are_bad_input(
    client: Client, tokens: Tokens, acme: UUID, given: dict[str, Any], field: str | None
) -> None:
    found = await error(
        client, CREATE, tokens.ada,
        input={"environmentId": global_id("Environment", acme), "name": "nul", **given},
    )  # fmt: skip
    assert (found["extensions"]["code"], found["extensions"].get("field")) == (
        "BAD_USER_INPUT",
        field,
    )


async def test_stats_of_many_evaluations_cost_one_statement(client: Client, tokens: Tokens) -> None:
    counter = client.app[STATEMENTS]

    async def statements(query: str) -> int:
        before = counter.total
        await data(client, query, tokens.ada)
        return counter.total - before

    plain = await statements("{ evaluations(first: 20) { nodes { name } } }")
    with_stats = await statements(
        "{ evaluations(first: 20) { nodes { name stats { events matched rate } } } }"
    )
    assert with_stats - plain == 1


async def test_nul_in_a_property_filter_is_bad_input(
    client: Client, tokens: Tokens, acme: UUID
) -> None:
    # was a 500 (jsonb refuses \u0000), in the events list and matchingEvents alike
    evaluation = await _create(client, tokens.ada, acme, name="nul filter")
    bad = [{"key": "a", "operator": "IN", "value": ["a\u0000b"]}]
    query = """
    query ($id: ID!, $env: ID!, $p: [PropertyFilter!]) {
      evaluation(id: $id) { matchingEvents(filter: {properties: $p}) { totalCount } }
      environment(id: $env) { events(filter: {properties: $p}) { totalCount } }
    }
    """
    _, body = await graphql(
        client, query, tokens.ada, id=evaluation["id"], env=global_id("Environment", acme), p=bad
    )
    found = sorted((e["path"], e["extensions"]["code"], e["message"]) for e in body["errors"])
    assert found == [
        (path, "BAD_USER_INPUT", "a property filter's value cannot hold the NUL character")
        for path in (["environment", "events"], ["evaluation", "matchingEvents"])
    ]


async def test_a_create_and_every_update_are_one_statement(
    client: Client, conn: asyncpg.Connection, tokens: Tokens, acme: UUID
) -> None:
    """The environment or evaluation locked if seen, the caller's role, the stale
    check and the write in one statement, whatever the answer (issue 18: writes in
    one round trip): created, changed, hidden, brought back; refused for another
    tenant, a stale read and a taken name."""
    app = client.app
    assert app is not None
    env = global_id("Environment", acme)
    # payloads of the written row alone (a parent or a user would be a read more)
    fields = (
        "{ evaluation { id name enabled prompt conditions { key operator value } deletedAt "
        "updatedAt } }"
    )
    create_one = (
        f"mutation ($input: CreateEvaluationInput!) {{ createEvaluation(input: $input) {fields} }}"
    )
    update_one = (
        f"mutation ($input: UpdateEvaluationInput!) {{ updateEvaluation(input: $input) {fields} }}"
    )

    async def one_statement(
        query: str, token: str, given: dict[str, Any], code: tuple[str, str] | None
    ) -> Any:
        before = app[STATEMENTS].total
        if code is None:
            found = await data(client, query, token, input=given)
        else:
            found = await error(client, query, token, input=given)
            assert (found["extensions"]["code"], found["extensions"].get("field")) == code
        # the token's check (the tests' apps cache no token) and the write's
        assert app[STATEMENTS].total - before == 2
        return found

    create = {
        "environmentId": env,
        "name": "once",
        "conditions": [{"key": "a", "operator": "IS_SET"}],
    }
    await one_statement(create_one, tokens.alan, create, ("NOT_FOUND", "environmentId"))
    created = (await one_statement(create_one, tokens.ada, create, None))["createEvaluation"]
    evaluation = created["evaluation"]
    assert (evaluation["name"], evaluation["conditions"]) == (
        "once", [{"key": "a", "operator": "IS_SET", "value": None}]
    )  # fmt: skip
    ev_id = evaluation["id"]
    await one_statement(update_one, tokens.alan, {"id": ev_id, "name": "x"}, ("NOT_FOUND", "id"))
    changed = await one_statement(
        update_one,
        tokens.ada,
        {"id": ev_id, "prompt": "p", "conditions": [], "enabled": False},
        None,
    )
    now = changed["updateEvaluation"]["evaluation"]
    stamp = now["updatedAt"]
    assert (now["prompt"], now["conditions"], now["enabled"]) == ("p", [], False)
    stale = {"id": ev_id, "deleted": True, "expectedUpdatedAt": "2020-01-01T00:00:00Z"}
    await one_statement(update_one, tokens.ada, stale, ("CONFLICT", "expectedUpdatedAt"))
    hide = {"id": ev_id, "deleted": True, "expectedUpdatedAt": stamp}
    hidden = (await one_statement(update_one, tokens.ada, hide, None))["updateEvaluation"]
    assert hidden["evaluation"]["deletedAt"] is not None
    await one_statement(create_one, tokens.ada, create, None)  # the name is free again
    back = {"id": ev_id, "deleted": False}
    await one_statement(update_one, tokens.ada, back, ("CONFLICT", "deleted"))
    rows = await conn.fetch(
        "SELECT prompt, deleted_at IS NULL AS live FROM evaluations WHERE name = 'once' ORDER BY 1"
    )
    assert [tuple(r) for r in rows] == [("", True), ("p", False)]
