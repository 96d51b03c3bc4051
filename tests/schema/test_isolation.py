"""Tenant isolation through every read path, and lookups by id."""

from __future__ import annotations

from typing import Any

import asyncpg
import pytest

from schema.ids import global_id
from tests.schema.conftest import Tokens
from tests.support import Client, data, error

ENTITIES = ("organizations", "projects", "models", "environments", "segments")
VISIBLE = {
    "ada": (2, 6, 12, 36, 36),
    "grace": (1, 2, 4, 12, 12),
    "alan": (1, 3, 6, 18, 18),
    "root": (3, 9, 18, 54, 54),
}


@pytest.mark.parametrize("who", sorted(VISIBLE))
async def test_lists_counts_and_search(client: Client, tokens: Tokens, who: str) -> None:
    token = getattr(tokens, who)
    for entity, expected in zip(ENTITIES, VISIBLE[who], strict=True):
        query = f"{{ {entity}(first: 100) {{ totalCount nodes {{ uuid }} }} }}"
        result = (await data(client, query, token))[entity]
        assert (entity, result["totalCount"], len(result["nodes"])) == (entity, expected, expected)
        searched = f'{{ {entity}(search: "a") {{ totalCount }} }}'
        assert (await data(client, searched, token))[entity]["totalCount"] <= expected


async def _ids(conn: asyncpg.Connection, table: str, organization: str) -> list[Any]:
    join = {
        "organizations": "SELECT o.id FROM organizations o",
        "projects": "SELECT t.id FROM projects t JOIN organizations o ON o.id = t.organization_id",
    }.get(
        table,
        f"SELECT t.id FROM {table} t JOIN projects p ON p.id = t.project_id "
        "JOIN organizations o ON o.id = p.organization_id",
    )
    rows = await conn.fetch(f"{join} WHERE o.name = $1 ORDER BY 1", organization)
    return [row["id"] for row in rows]


TYPES = {"organizations": "Organization", "projects": "Project", "models": "Model",
         "environments": "Environment", "segments": "Segment"}  # fmt: skip


@pytest.mark.parametrize("table", ENTITIES)
async def test_another_tenants_ids_are_not_found(
    client: Client, conn: asyncpg.Connection, tokens: Tokens, table: str
) -> None:
    type_name = TYPES[table]
    theirs = global_id(type_name, (await _ids(conn, table, "Initech Labs"))[0])
    mine = global_id(type_name, (await _ids(conn, table, "Acme Analytics"))[0])
    lookup = f"query ($id: ID!) {{ {type_name[0].lower() + type_name[1:]}(id: $id) {{ id }} }}"
    assert (await data(client, lookup, tokens.ada, id=mine)) == {
        type_name[0].lower() + type_name[1:]: {"id": mine}
    }
    found = await error(client, lookup, tokens.ada, id=theirs)
    assert found["extensions"]["code"] == "NOT_FOUND"
    assert found["message"] == f"{type_name} {theirs} not found"
    assert found["data"] == {type_name[0].lower() + type_name[1:]: None}
    # node: null, and no error
    node = "query ($id: ID!) { node(id: $id) { id __typename } }"
    assert await data(client, node, tokens.ada, id=theirs) == {"node": None}
    assert await data(client, node, tokens.ada, id=mine) == {
        "node": {"id": mine, "__typename": type_name}
    }
    nodes = "query ($ids: [ID!]!) { nodes(ids: $ids) { id } }"
    assert await data(client, nodes, tokens.ada, ids=[theirs, mine]) == {
        "nodes": [None, {"id": mine}]
    }
    # the other tenant sees it, of course
    assert (await data(client, node, tokens.alan, id=theirs))["node"]["id"] == theirs


async def test_nested_fields_show_only_visible_children(client: Client, tokens: Tokens) -> None:
    # Grace belongs to Acme but is a member of only two of its three projects
    query = """{ organizations { nodes { name
        projects(orderBy: [{field: NAME}]) { totalCount nodes { name } } } } }"""
    assert await data(client, query, tokens.grace) == {
        "organizations": {
            "nodes": [
                {
                    "name": "Acme Analytics",
                    "projects": {
                        "totalCount": 2,
                        "nodes": [{"name": "churn-prediction"}, {"name": "fraud-detection"}],
                    },
                }
            ]
        }
    }


async def test_relation_filters_do_not_reach_other_tenants(client: Client, tokens: Tokens) -> None:
    query = (
        '{ environments(filter: {project: {organization: {name: {eq: "Initech Labs"}}}}) '
        "{ totalCount } }"
    )
    assert await data(client, query, tokens.ada) == {"environments": {"totalCount": 0}}
    assert await data(client, query, tokens.alan) == {"environments": {"totalCount": 18}}


async def test_parents_and_users(client: Client, conn: asyncpg.Connection, tokens: Tokens) -> None:
    query = """
    { segments(first: 1, filter: {name: {eq: "adults"}, project: {name: {eq: "fraud-detection"}},
                               model: {name: {eq: "logistic-baseline"}}}) {
        nodes { name model { name project { name organization { name } } }
                project { name } organization { name }
                createdBy { name email } updatedBy { name } } } }
    """
    result = await data(client, query, tokens.grace)
    assert result["segments"]["nodes"] == [
        {
            "name": "adults",
            "model": {
                "name": "logistic-baseline",
                "project": {"name": "fraud-detection", "organization": {"name": "Acme Analytics"}},
            },
            "project": {"name": "fraud-detection"},
            "organization": {"name": "Acme Analytics"},
            "createdBy": {"name": "Ada Lovelace", "email": "ada@example.com"},
            "updatedBy": {"name": "Ada Lovelace"},
        }
    ]


async def test_emails_only_between_colleagues(
    client: Client, conn: asyncpg.Connection, tokens: Tokens
) -> None:
    ada = await conn.fetchval("SELECT id FROM users WHERE email = 'ada@example.com'")
    query = "query ($id: ID!) { node(id: $id) { ... on User { name email } } }"
    colleague = await data(client, query, tokens.grace, id=global_id("User", ada))
    assert colleague == {"node": {"name": "Ada Lovelace", "email": "ada@example.com"}}
    # Alan shares no organization with Ada: she is not a node he can see
    assert await data(client, query, tokens.alan, id=global_id("User", ada)) == {"node": None}
    viewer = await data(
        client, "{ viewer { user { name email } organizations { totalCount } } }", tokens.alan
    )
    assert viewer == {
        "viewer": {
            "user": {"name": "Alan Turing", "email": "alan@example.com"},
            "organizations": {"totalCount": 1},
        }
    }


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("not base64!", "`id` is not a valid id: 'not base64!'"),
        (
            global_id("Project", __import__("uuid").UUID(int=1)),
            "`id` is the id of a Project, not of a Model",
        ),
    ],
)
async def test_malformed_ids(client: Client, tokens: Tokens, value: str, message: str) -> None:
    found = await error(client, "query ($id: ID!) { model(id: $id) { id } }", tokens.ada, id=value)
    assert (found["message"], found["extensions"]["code"], found["extensions"]["field"]) == (
        message,
        "BAD_USER_INPUT",
        "id",
    )


async def test_soft_deleted_segments_are_gone(
    client: Client, conn: asyncpg.Connection, tokens: Tokens
) -> None:
    segment = await conn.fetchval("SELECT id FROM segments WHERE name = 'adults' LIMIT 1")
    await conn.execute("UPDATE segments SET deleted_at = now() WHERE id = $1", segment)
    assert (await data(client, "{ segments { totalCount } }", tokens.root))["segments"][
        "totalCount"
    ] == 53
    node = await data(
        client,
        "query ($id: ID!) { node(id: $id) { id } }",
        tokens.root,
        id=global_id("Segment", segment),
    )
    assert node == {"node": None}
