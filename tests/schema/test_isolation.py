"""Tenant isolation through every read path, and lookups by id and by uuid."""

from __future__ import annotations

from uuid import UUID, uuid4

import asyncpg
import pytest

from db.entities import ENTITIES, Entity
from schema.ids import global_id
from tests.schema.compiled_support import resolver_client, same_answer, same_data
from tests.schema.conftest import Tokens
from tests.support import Client, data, error

__all__ = ["resolver_client"]  # a fixture

LISTED = [e for e in ENTITIES.values() if e.root_list is not None]
USERS = {"ada": "ada@example.com", "grace": "grace@example.com", "alan": "alan@example.com"}
# who sees what (API.md), written here apart from db/visibility.py: an
# organization to its members; a project to its organization's ADMINs and its
# members; an API token to its user alone; every other row as its project
_PROJECTS = """
    SELECT p.id FROM projects p
    JOIN organization_members om ON om.organization_id = p.organization_id
    JOIN users u ON u.id = om.user_id WHERE u.email = $1 AND om.role = 'ADMIN'
    UNION
    SELECT pm.project_id FROM project_members pm JOIN users u ON u.id = pm.user_id
    WHERE u.email = $1
"""
_ORGANIZATIONS = """
    SELECT om.organization_id FROM organization_members om
    JOIN users u ON u.id = om.user_id WHERE u.email = $1
"""


async def _visible(conn: asyncpg.Connection, entity: Entity, email: str | None) -> set[UUID]:
    """The ids of `entity` that the user with `email` sees (None: a superuser)."""
    hidden = f"t.{entity.deleted_column} IS NULL" if entity.deleted_column else "TRUE"
    if entity.owner_column is not None:  # the superuser too sees only its own
        sql = f"SELECT t.id FROM {entity.table} t JOIN users u ON u.id = t.{entity.owner_column}"
        if email is None:
            return {row["id"] for row in await conn.fetch(sql)}
        return {row["id"] for row in await conn.fetch(f"{sql} WHERE u.email = $1", email)}
    if email is None:
        sql, args = f"SELECT t.id FROM {entity.table} t WHERE {hidden}", []
    else:
        column, rule = ("id", _ORGANIZATIONS) if entity.project_column is None else (
            entity.project_column, _PROJECTS)  # fmt: skip
        sql = f"SELECT t.id FROM {entity.table} t WHERE t.{column} IN ({rule}) AND {hidden}"
        args = [email]
    return {row["id"] for row in await conn.fetch(sql, *args)}


def _token(tokens: Tokens, who: str) -> str:
    return str(getattr(tokens, who))


@pytest.mark.parametrize("who", [*sorted(USERS), "root"])
@pytest.mark.parametrize("entity", LISTED, ids=lambda e: e.name)
async def test_lists_counts_and_search(
    client: Client, conn: asyncpg.Connection, tokens: Tokens, entity: Entity, who: str
) -> None:
    assert entity.root_list is not None
    name, token = entity.root_list.name, _token(tokens, who)
    expected = await _visible(conn, entity, USERS.get(who))
    everything = await _visible(conn, entity, None)
    # the demo data gives every user some rows of every kind, and only the
    # superuser all of them: the comparison below is not vacuous
    assert (bool(expected), expected == everything) == (True, who == "root")
    query = f"{{ {name}(first: 100) {{ totalCount pageInfo {{ hasNextPage }} nodes {{ uuid }} }} }}"
    result = (await data(client, query, token))[name]
    assert result["pageInfo"]["hasNextPage"] is False
    assert {UUID(n["uuid"]) for n in result["nodes"]} == expected
    assert result["totalCount"] == len(expected)
    searched = f'{{ {name}(first: 100, search: "a") {{ totalCount nodes {{ uuid }} }} }}'
    found = (await data(client, searched, token))[name]
    assert {UUID(n["uuid"]) for n in found["nodes"]} <= expected
    assert found["totalCount"] == len(found["nodes"])


@pytest.mark.parametrize("entity", list(ENTITIES.values()), ids=lambda e: e.name)
async def test_another_tenants_ids_are_not_found(
    client: Client, conn: asyncpg.Connection, tokens: Tokens, entity: Entity
) -> None:
    type_name, lookup = entity.type_name, entity.lookup
    visible = await _visible(conn, entity, USERS["ada"])
    # another tenant's (Alan's: an API token is its user's alone)
    others = await _visible(conn, entity, USERS["alan"]) - visible
    theirs, mine = global_id(type_name, min(others)), global_id(type_name, min(visible))
    query = f"query ($id: ID!) {{ {lookup}(id: $id) {{ id }} }}"
    assert await data(client, query, tokens.ada, id=mine) == {lookup: {"id": mine}}
    found = await error(client, query, tokens.ada, id=theirs)
    assert found["extensions"]["code"] == "NOT_FOUND"
    assert found["message"] == f"{type_name} {theirs} not found"
    assert found["data"] == {lookup: None}
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
    # federation: a gateway asking for it on the caller's behalf gets null
    entities = (
        "query ($r: [_Any!]!) { _entities(representations: $r) "
        f"{{ ... on {type_name} {{ id }} }} }}"
    )
    representations = [{"__typename": type_name, "id": i} for i in (theirs, mine)]
    assert await data(client, entities, tokens.ada, r=representations) == {
        "_entities": [None, {"id": mine}]
    }
    # a filter on it finds nothing, in its list and in the lists below it
    if entity.root_list is not None:
        listed = (
            f"query ($id: ID!) {{ {entity.root_list.name}"
            "(filter: {id: {eq: $id}}) { totalCount } }"
        )
        assert await data(client, listed, tokens.ada, id=theirs) == {
            entity.root_list.name: {"totalCount": 0}
        }
    for child in ENTITIES.values():
        for parent in child.parents:  # direct, or reached through others
            if child.parent(parent) is entity and child.root_list is not None:
                filtered = (
                    f"query ($id: ID!) {{ {child.root_list.name}("
                    f"filter: {{{parent}: {{id: {{eq: $id}}}}}}) {{ totalCount }} }}"
                )
                assert await data(client, filtered, tokens.ada, id=theirs) == {
                    child.root_list.name: {"totalCount": 0}
                }
    # the other tenant sees it, of course
    assert (await data(client, node, tokens.alan, id=theirs))["node"]["id"] == theirs


@pytest.mark.parametrize("entity", list(ENTITIES.values()), ids=lambda e: e.name)
async def test_lookups_by_uuid_on_both_executors(
    client: Client,
    resolver_client: Client,
    conn: asyncpg.Connection,
    tokens: Tokens,
    entity: Entity,
) -> None:
    type_name, lookup = entity.type_name, entity.lookup
    visible = await _visible(conn, entity, USERS["ada"])
    others = await _visible(conn, entity, USERS["alan"]) - visible
    mine, theirs, absent = min(visible), min(others), uuid4()
    query = f"query ($u: UUID!) {{ {lookup}(uuid: $u) {{ id uuid }} }}"
    found = await same_data(client, resolver_client, query, tokens.ada, u=str(mine))
    assert found == {lookup: {"id": global_id(type_name, mine), "uuid": str(mine)}}
    # another tenant's uuid answers as one that does not exist: null and NOT_FOUND
    refused = {}
    for row in (theirs, absent):
        body, _ = await same_answer(client, resolver_client, query, tokens.ada, u=str(row))
        assert body["data"] == {lookup: None}
        [found_error] = body["errors"]
        assert (found_error["extensions"]["code"], found_error["message"]) == (
            "NOT_FOUND",
            f"{type_name} {row} not found",
        )
        refused[row] = {k: v for k, v in found_error.items() if k != "message"}
    assert refused[theirs] == refused[absent]
    # the other tenant finds it by its uuid
    assert (await data(client, query, tokens.alan, u=str(theirs)))[lookup]["uuid"] == str(theirs)
    # both or neither of `id` and `uuid`
    either = f"query ($i: ID, $u: UUID) {{ {lookup}(id: $i, uuid: $u) {{ id }} }}"
    for variables in ({"i": global_id(type_name, mine), "u": str(mine)}, {}):
        body, _ = await same_answer(client, resolver_client, either, tokens.ada, **variables)
        assert body["data"] == {lookup: None}
        [found_error] = body["errors"]
        assert (
            found_error["extensions"]["code"],
            found_error["extensions"]["field"],
            found_error["message"],
        ) == ("BAD_USER_INPUT", "id", "give exactly one of `id` and `uuid`")
    # not a uuid
    body, _ = await same_answer(client, resolver_client, query, tokens.ada, u="not-a-uuid")
    assert [e["extensions"]["code"] for e in body["errors"]] == ["BAD_USER_INPUT"]


@pytest.mark.parametrize("entity", LISTED, ids=lambda e: e.name)
async def test_uuid_filters_on_both_executors(
    client: Client,
    resolver_client: Client,
    conn: asyncpg.Connection,
    tokens: Tokens,
    entity: Entity,
) -> None:
    assert entity.root_list is not None
    name = entity.root_list.name
    visible = sorted(await _visible(conn, entity, USERS["ada"]))
    theirs = min(await _visible(conn, entity, USERS["alan"]) - set(visible))
    assert len(visible) >= 2
    query = f"""query ($eq: UUID, $in: [UUID!], $notIn: [UUID!], $theirs: UUID!) {{
      one: {name}(filter: {{uuid: {{eq: $eq}}}}) {{ totalCount nodes {{ uuid }} }}
      some: {name}(first: 100, filter: {{uuid: {{in: $in}}}}) {{ totalCount nodes {{ uuid }} }}
      rest: {name}(first: 100, filter: {{uuid: {{notIn: $notIn}}}}) {{ totalCount }}
      theirs: {name}(filter: {{uuid: {{eq: $theirs}}}}) {{ totalCount }}
      notTheirs: {name}(first: 100, filter: {{uuid: {{notIn: [$theirs]}}}}) {{ totalCount }}
    }}"""
    found = await same_data(
        client, resolver_client, query, tokens.ada,
        eq=str(visible[0]),
        # two of Ada's, another tenant's and one that does not exist
        **{"in": [str(visible[0]), str(visible[-1]), str(theirs), str(uuid4())]},
        notIn=[str(visible[0])],
        theirs=str(theirs),
    )  # fmt: skip
    assert found["one"] == {"totalCount": 1, "nodes": [{"uuid": str(visible[0])}]}
    assert found["some"]["totalCount"] == 2
    assert {n["uuid"] for n in found["some"]["nodes"]} == {str(visible[0]), str(visible[-1])}
    assert found["rest"] == {"totalCount": len(visible) - 1}
    assert found["theirs"] == {"totalCount": 0}
    assert found["notTheirs"] == {"totalCount": len(visible)}


async def test_api_tokens_by_uuid_filter(
    client: Client, resolver_client: Client, conn: asyncpg.Connection, tokens: Tokens
) -> None:
    mine, theirs = [
        await conn.fetchval("SELECT id FROM api_tokens WHERE prefix = $1", t[:12])
        for t in (tokens.ada, tokens.alan)
    ]
    query = """query ($u: UUID!) {
      viewer { apiTokens(filter: {uuid: {eq: $u}}) { totalCount nodes { prefix } } }
    }"""
    # `viewer` is the resolver path's: both answers equal, not the executor
    found, _ = await same_answer(client, resolver_client, query, tokens.ada, u=str(mine))
    assert found == {
        "data": {"viewer": {"apiTokens": {"totalCount": 1, "nodes": [{"prefix": tokens.ada[:12]}]}}}
    }
    found, _ = await same_answer(client, resolver_client, query, tokens.ada, u=str(theirs))
    assert found == {"data": {"viewer": {"apiTokens": {"totalCount": 0, "nodes": []}}}}


@pytest.mark.parametrize(
    "entity", [e for e in ENTITIES.values() if e.children], ids=lambda e: e.name
)
async def test_nested_lists_hold_only_visible_rows(
    client: Client, conn: asyncpg.Connection, tokens: Tokens, entity: Entity
) -> None:
    assert entity.root_list is not None
    for child in entity.children:
        target = ENTITIES[child.entity]
        expected = await _visible(conn, target, USERS["grace"])
        query = (
            f"{{ {entity.root_list.name}(first: 100) {{ nodes {{ "
            f"{child.name}(first: 100) {{ totalCount nodes {{ uuid }} }} }} }} }}"
        )
        parents = (await data(client, query, tokens.grace))[entity.root_list.name]["nodes"]
        seen = [UUID(n["uuid"]) for p in parents for n in p[child.name]["nodes"]]
        assert set(seen) <= expected
        assert sum(p[child.name]["totalCount"] for p in parents) == len(seen)


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
