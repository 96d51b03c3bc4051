"""The default rollout strategy through HTTP: set, read, evaluated, cleared;
rules refused naming their input path; segments of the model only, a
deleted one dropping out; scopes and roles."""

from __future__ import annotations

import uuid
from typing import Any

import asyncpg

from db.tokens import create_token
from gateway.keys import STATEMENTS
from schema.ids import expect_global_id, global_id
from tests.schema.conftest import Tokens
from tests.schema.secrets_support import environment
from tests.support import Client, data, error

SET = """
mutation ($input: SetDefaultStrategyInput!) {
  setDefaultStrategy(input: $input) {
    environment {
      defaultStrategy {
        name title disabled sortOrder parameters
        constraints { contextName operator caseInsensitive inverted values value }
        variants { name weight weightType stickiness payload { type value } }
        segments { name }
      }
    }
  }
}
"""
CLEAR = """
mutation ($id: ID!) {
  clearDefaultStrategy(input: {environmentId: $id}) { environment { defaultStrategy { name } } }
}
"""
EVALUATE = """
query ($id: ID!, $context: JSON!) {
  environment(id: $id) {
    evaluateStrategy(context: $context) {
      enabled variant { name weight payload { value } } matchedConstraints { contextName }
    }
  }
}
"""
NOWHERE = uuid.UUID(int=0)
SEGMENTS = "query ($id: ID!) { environment(id: $id) { defaultStrategy { segments { name } } } }"


async def _segment(
    conn: asyncpg.Connection,
    name: str,
    project: str = "fraud-detection",
    organization: str = "Acme Analytics",
) -> str:
    found = await conn.fetchval(
        """SELECT s.id FROM segments s JOIN models m ON m.id = s.model_id
           JOIN projects p ON p.id = m.project_id
           JOIN organizations o ON o.id = p.organization_id
           WHERE o.name = $3 AND p.name = $1 AND m.name = 'xgb-classifier'
             AND m.version = 'v1' AND s.name = $2""",
        project,
        name,
        organization,
    )
    assert found is not None
    return global_id("Segment", found)


def _canary(segment_ids: list[str]) -> dict[str, Any]:
    return {
        "name": "canary",
        "title": "Canary of v2",
        "sortOrder": 1,
        "constraints": [
            {"contextName": "region", "operator": "IN", "values": ["EU"], "caseInsensitive": True},
            {"contextName": "appVersion", "operator": "SEMVER_GT", "value": "1.0.0-rc.1"},
            {"contextName": "plan", "operator": "IN", "values": ["free"], "inverted": True},
        ],
        "variants": [
            {"name": "stable", "weight": 900, "weightType": "FIX"},
            {"name": "v2", "payload": {"type": "JSON", "value": '{"model": "v2"}'}},
        ],
        "parameters": {"groupId": "rollout-v2"},
        "segmentIds": segment_ids,
    }


async def test_set_read_evaluate_and_clear(
    client: Client, conn: asyncpg.Connection, tokens: Tokens
) -> None:
    production = await environment(conn)
    adults, eu = await _segment(conn, "adults"), await _segment(conn, "eu-customers")
    answer = await data(
        client,
        SET,
        tokens.ada,
        input={"environmentId": production, "strategy": _canary([adults, eu])},
    )
    assert answer["setDefaultStrategy"]["environment"]["defaultStrategy"] == {
        "name": "canary",
        "title": "Canary of v2",
        "disabled": False,
        "sortOrder": 1,
        "parameters": {"groupId": "rollout-v2"},
        "constraints": [
            {
                "contextName": "region",
                "operator": "IN",
                "caseInsensitive": True,
                "inverted": False,
                "values": ["EU"],
                "value": None,
            },
            {
                "contextName": "appVersion",
                "operator": "SEMVER_GT",
                "caseInsensitive": False,
                "inverted": False,
                "values": [],
                "value": "1.0.0-rc.1",
            },
            {
                "contextName": "plan",
                "operator": "IN",
                "caseInsensitive": False,
                "inverted": True,
                "values": ["free"],
                "value": None,
            },
        ],
        "variants": [
            {
                "name": "stable",
                "weight": 900,
                "weightType": "FIX",
                "stickiness": "default",
                "payload": None,
            },
            {
                "name": "v2",
                "weight": 100,
                "weightType": "VARIABLE",
                "stickiness": "default",
                "payload": {"type": "JSON", "value": '{"model": "v2"}'},
            },
        ],
        "segments": [{"name": "adults"}, {"name": "eu-customers"}],
    }

    context = {
        "region": "eu",
        "appVersion": "1.0.0",
        "userId": "u-1",
        "properties": {"plan": "pro"},
    }
    evaluated = (await data(client, EVALUATE, tokens.grace, id=production, context=context))[
        "environment"
    ]["evaluateStrategy"]
    assert evaluated["enabled"] is True
    assert evaluated["variant"]["name"] in {"stable", "v2"}
    assert [c["contextName"] for c in evaluated["matchedConstraints"]] == [
        "region",
        "appVersion",
        "plan",
    ]
    # the same context, the same variant, every time
    for _ in range(3):
        again = await data(client, EVALUATE, tokens.ada, id=production, context=context)
        assert again["environment"]["evaluateStrategy"] == evaluated
    # 1.0.0 above matched SEMVER_GT 1.0.0-rc.1 (string order says the opposite); an
    # earlier pre-release does not
    earlier = {**context, "appVersion": "1.0.0-beta.11"}
    refused = await data(client, EVALUATE, tokens.ada, id=production, context=earlier)
    assert refused["environment"]["evaluateStrategy"] == {
        "enabled": False,
        "variant": None,
        "matchedConstraints": [{"contextName": "region"}, {"contextName": "plan"}],
    }

    # a deleted segment drops out of the strategy
    await data(client, "mutation ($id: ID!) { deleteSegment(input: {id: $id}) { deletedId } }",
               tokens.ada, id=eu)  # fmt: skip
    segments = await data(client, SEGMENTS, tokens.ada, id=production)
    assert segments["environment"]["defaultStrategy"]["segments"] == [{"name": "adults"}]

    cleared = await data(client, CLEAR, tokens.ada, id=production)
    assert cleared["clearDefaultStrategy"]["environment"] == {"defaultStrategy": None}
    off = await data(client, EVALUATE, tokens.ada, id=production, context=context)
    assert off["environment"]["evaluateStrategy"]["enabled"] is False


async def test_rules_are_refused_naming_the_input_path(
    client: Client, conn: asyncpg.Connection, tokens: Tokens
) -> None:
    production = await environment(conn)
    # a segment of the model deleted before the strategy names it; another tenant's
    deleted = await _segment(conn, "eu-customers")
    await data(client, "mutation ($id: ID!) { deleteSegment(input: {id: $id}) { deletedId } }",
               tokens.ada, id=deleted)  # fmt: skip
    foreign = await _segment(conn, "adults", organization="Initech Labs")
    cases: list[tuple[dict[str, Any], str, str]] = [
        (
            {
                "constraints": [
                    {"contextName": "a", "operator": "IN", "values": ["x"]},
                    {"contextName": "b", "operator": "IN", "values": ["y"]},
                    {"contextName": "c", "operator": "SEMVER_EQ", "values": ["1.0"]},
                ]
            },
            "strategy.constraints[2].values[0]",
            "BAD_USER_INPUT",
        ),
        (
            {"constraints": [{"contextName": "n", "operator": "NUM_GT", "value": "1_000"}]},
            "strategy.constraints[0].value",
            "BAD_USER_INPUT",
        ),
        (
            {
                "constraints": [
                    {"contextName": "t", "operator": "DATE_AFTER", "value": "2025-05-01"}
                ]
            },
            "strategy.constraints[0].value",
            "BAD_USER_INPUT",
        ),
        (
            {
                "variants": [
                    {"name": "a", "weight": 700, "weightType": "FIX"},
                    {"name": "b", "weight": 301, "weightType": "FIX"},
                    {"name": "c"},
                ]
            },
            "strategy.variants",
            "BAD_USER_INPUT",
        ),
        (
            {"variants": [{"name": "a", "weight": -1, "weightType": "FIX"}, {"name": "b"}]},
            "strategy.variants[0].weight",
            "BAD_USER_INPUT",
        ),
        (
            {"variants": [{"name": "a"}, {"name": "a"}]},
            "strategy.variants[1].name",
            "BAD_USER_INPUT",
        ),
        (
            {"segmentIds": [await _segment(conn, "adults", "churn-prediction")]},
            "strategy.segmentIds[0]",
            "NOT_FOUND",
        ),
        (
            {"segmentIds": [await _segment(conn, "adults"), global_id("Segment", NOWHERE)]},
            "strategy.segmentIds[1]",
            "NOT_FOUND",
        ),
        ({"segmentIds": [production]}, "strategy.segmentIds[0]", "BAD_USER_INPUT"),
        (
            {"segmentIds": [await _segment(conn, "adults"), deleted]},
            "strategy.segmentIds[1]",
            "NOT_FOUND",
        ),
        ({"segmentIds": [foreign]}, "strategy.segmentIds[0]", "NOT_FOUND"),
    ]
    for strategy, path, code in cases:
        refused = await error(
            client,
            SET,
            tokens.ada,
            input={"environmentId": production, "strategy": {"name": "s", **strategy}},
        )
        assert (refused["extensions"]["code"], refused["extensions"].get("field")) == (code, path)
    # nothing was written
    assert (
        await conn.fetchval("SELECT count(*) FROM environments WHERE default_strategy IS NOT NULL")
        == 0
    )


async def test_scopes_and_roles(client: Client, conn: asyncpg.Connection, tokens: Tokens) -> None:
    churn = await environment(conn, "churn-prediction")
    theirs = await environment(conn, organization="Initech Labs")
    strategy = {"name": "s"}
    # Grace only views churn-prediction; Alan does not see Acme at all
    viewer = await error(
        client, SET, tokens.grace, input={"environmentId": churn, "strategy": strategy}
    )
    assert viewer["extensions"]["code"] == "FORBIDDEN"
    foreign = await error(
        client, SET, tokens.alan, input={"environmentId": churn, "strategy": strategy}
    )
    assert (foreign["extensions"]["code"], foreign["extensions"]["field"]) == (
        "NOT_FOUND",
        "environmentId",
    )
    reader = await create_token(conn, email="ada@example.com", scopes=["environment:read"])
    scoped = await error(
        client, SET, reader.token, input={"environmentId": churn, "strategy": strategy}
    )
    assert scoped["extensions"]["code"] == "FORBIDDEN"
    assert "environment:write" in scoped["message"]
    # reading needs environment:read; Alan's own environment evaluates for him alone
    await data(client, SET, tokens.alan, input={"environmentId": theirs, "strategy": strategy})
    assert (await data(client, EVALUATE, reader.token, id=churn, context={}))["environment"][
        "evaluateStrategy"
    ]["enabled"] is False
    hidden = await error(client, EVALUATE, tokens.ada, id=theirs, context={})
    assert hidden["extensions"]["code"] == "NOT_FOUND"
    mine = await data(client, EVALUATE, tokens.alan, id=theirs, context={"userId": "x"})
    assert mine["environment"]["evaluateStrategy"]["enabled"] is True
    not_object = await error(client, EVALUATE, tokens.alan, id=theirs, context=[1])
    assert (not_object["extensions"]["code"], not_object["extensions"]["field"]) == (
        "BAD_USER_INPUT",
        "context",
    )


async def test_setting_and_clearing_are_one_statement_each(
    client: Client, conn: asyncpg.Connection, tokens: Tokens
) -> None:
    """The environment locked if seen, the caller's role, the stale check, the
    segments' check and the write in one statement, whatever the answer (issue 18:
    writes in one round trip); clearing none is answered as it is, unchanged."""
    app = client.app
    assert app is not None
    env = await environment(conn)
    adults = await _segment(conn, "adults")
    foreign = await _segment(conn, "adults", "churn-prediction")
    lean_set = """mutation ($input: SetDefaultStrategyInput!) {
      setDefaultStrategy(input: $input) { environment { id updatedAt } } }"""
    lean_clear = """mutation ($input: ClearDefaultStrategyInput!) {
      clearDefaultStrategy(input: $input) { environment { id updatedAt } } }"""

    async def one_statement(query: str, given: dict[str, Any], code: str | None = None) -> Any:
        before = app[STATEMENTS].total
        found: Any
        if code is None:
            found = await data(client, query, tokens.ada, input=given)
        else:
            refused = await error(client, query, tokens.ada, input=given)
            found = (refused["extensions"]["code"], refused["extensions"].get("field"))
            assert found[0] == code
        # the token's check (the tests' apps cache no token) and the write's
        assert app[STATEMENTS].total - before == 2
        return found

    def stamp() -> Any:
        return conn.fetchval(
            "SELECT updated_at FROM environments WHERE id = $1",
            expect_global_id(env, "Environment"),
        )

    canary = {"name": "canary", "segmentIds": [adults]}
    other = {"environmentId": env, "strategy": {**canary, "segmentIds": [adults, foreign]}}
    assert await one_statement(lean_set, other, "NOT_FOUND") == (
        "NOT_FOUND",
        "strategy.segmentIds[1]",
    )
    stale = {"environmentId": env, "expectedUpdatedAt": "2020-01-01T00:00:00Z"}
    await one_statement(lean_set, {**stale, "strategy": canary}, "CONFLICT")
    set_at = (await one_statement(lean_set, {"environmentId": env, "strategy": canary}))[
        "setDefaultStrategy"
    ]["environment"]["updatedAt"]
    await one_statement(lean_clear, stale, "CONFLICT")
    cleared = await one_statement(lean_clear, {"environmentId": env, "expectedUpdatedAt": set_at})
    cleared_at = cleared["clearDefaultStrategy"]["environment"]["updatedAt"]
    assert cleared_at > set_at
    unchanged = await stamp()
    # nothing to clear: answered as it is, not written
    again = await one_statement(lean_clear, {"environmentId": env})
    assert again["clearDefaultStrategy"]["environment"]["updatedAt"] == cleared_at
    assert await stamp() == unchanged
    assert (
        await conn.fetchval(
            "SELECT default_strategy FROM environments WHERE id = $1",
            expect_global_id(env, "Environment"),
        )
        is None
    )
