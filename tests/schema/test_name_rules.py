"""Names with a trailing newline, a non-breaking space or another character the
name rules refuse: BAD_USER_INPUT naming the field, from Python, for every
entity's create and update; never a database constraint (whose name would
reach the client), and nothing written."""

from __future__ import annotations

from typing import Any

import asyncpg
import pytest

from schema.ids import global_id
from tests.schema.conftest import Tokens
from tests.support import Client, data, graphql

# what the old rules let through to the database (or into it)
REFUSED = [
    "name\n",
    "na\nme",
    "name\u00a0",
    "na\u00a0me",
    "\u00a0",
    "\tname",
    " name",
    "name ",
    "x" * 200 + "\n",  # Python's strip() took it for 200, btrim() for 201: a CHECK violation
    "\u3000name",
]
ENVIRONMENT_REFUSED = ["prod\n", "prod\u00a0", "pro d", "prödüction", "x" * 65]


async def _targets(conn: asyncpg.Connection) -> dict[str, str]:
    row = await conn.fetchrow(
        """SELECT o.id AS organization, p.id AS project, m.id AS model,
                  (SELECT id FROM segments WHERE model_id = m.id LIMIT 1) AS segment,
                  (SELECT id FROM environments WHERE model_id = m.id LIMIT 1) AS environment
           FROM models m JOIN projects p ON p.id = m.project_id
           JOIN organizations o ON o.id = p.organization_id
           WHERE o.name = 'Acme Analytics' AND p.name = 'fraud-detection'
             AND m.name = 'xgb-classifier' AND m.version = 'v1'"""
    )
    assert row is not None
    return {k: global_id(k.title(), v) for k, v in row.items()}


def _writes(ids: dict[str, str], value: str) -> list[tuple[str, str, dict[str, Any], str]]:
    """(mutation, its input type, input, the field at fault) for every name it writes."""
    return [
        ("createOrganization", "CreateOrganizationInput", {"name": value}, "name"),
        ("createProject", "CreateProjectInput",
         {"organizationId": ids["organization"], "name": value}, "name"),
        ("updateProject", "UpdateProjectInput", {"id": ids["project"], "name": value}, "name"),
        ("createModel", "CreateModelInput", {"projectId": ids["project"], "name": value}, "name"),
        ("createModel", "CreateModelInput",
         {"projectId": ids["project"], "name": "m", "version": value}, "version"),
        ("updateModel", "UpdateModelInput", {"id": ids["model"], "name": value}, "name"),
        ("updateModel", "UpdateModelInput", {"id": ids["model"], "version": value}, "version"),
        ("createSegment", "CreateSegmentInput",
         {"modelId": ids["model"], "name": value, "definition": "age >= 18"}, "name"),
        ("updateSegment", "UpdateSegmentInput", {"id": ids["segment"], "name": value}, "name"),
    ]  # fmt: skip


async def _snapshot(conn: asyncpg.Connection) -> list[Any]:
    return [
        await conn.fetch(f"SELECT * FROM {table} ORDER BY id")
        for table in ("organizations", "projects", "models", "segments", "environments")
    ]


async def _refused(
    client: Client, token: str, mutation: str, input_type: str, input: dict[str, Any], field: str
) -> None:
    query = f"mutation ($input: {input_type}!) {{ {mutation}(input: $input) {{ __typename }} }}"
    status, body = await graphql(client, query, token, input=input)
    assert status == 200
    errors = body.get("errors") or []
    assert len(errors) == 1, (mutation, input, body)
    assert (errors[0]["extensions"]["code"], errors[0]["extensions"].get("field")) == (
        "BAD_USER_INPUT",
        field,
    ), (mutation, input, errors[0])
    assert "check" not in errors[0]["message"], errors[0]  # no constraint's name


@pytest.mark.parametrize("value", REFUSED, ids=repr)
async def test_display_names(
    client: Client, conn: asyncpg.Connection, tokens: Tokens, value: str
) -> None:
    ids = await _targets(conn)
    before = await _snapshot(conn)
    for mutation, input_type, input, field in _writes(ids, value):
        await _refused(client, tokens.root, mutation, input_type, input, field)
    assert await _snapshot(conn) == before


@pytest.mark.parametrize("value", ENVIRONMENT_REFUSED, ids=repr)
async def test_environment_names(
    client: Client, conn: asyncpg.Connection, tokens: Tokens, value: str
) -> None:
    ids = await _targets(conn)
    before = await _snapshot(conn)
    await _refused(
        client, tokens.root, "createEnvironment", "CreateEnvironmentInput",
        {"modelId": ids["model"], "name": value, "type": "PRODUCTION"}, "name",
    )  # fmt: skip
    await _refused(
        client, tokens.root, "updateEnvironment", "UpdateEnvironmentInput",
        {"id": ids["environment"], "name": value}, "name",
    )  # fmt: skip
    assert await _snapshot(conn) == before


async def test_names_the_rules_take(
    client: Client, conn: asyncpg.Connection, tokens: Tokens
) -> None:
    ids = await _targets(conn)
    for value in ("Équipe données 2", "a b", "x" * 200, "A-1_ (beta)"):
        project = await data(
            client,
            "mutation ($input: CreateProjectInput!) { createProject(input: $input) "
            "{ project { name } } }",
            tokens.root,
            input={"organizationId": ids["organization"], "name": value},
        )
        assert project["createProject"]["project"]["name"] == value
