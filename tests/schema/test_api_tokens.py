"""API tokens in the graph: `viewer.apiTokens`, `createApiToken` (never wider than
the calling token, the secret shown once), `revokeApiToken` (refused at once,
on every server) and `Project.apiTokenCount`."""

from __future__ import annotations

import logging
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import UUID

import asyncpg
import pytest
from aiohttp.test_utils import TestClient, TestServer

from db.tokens import authenticate, create_token
from gateway.app import create_app
from gateway.keys import STATEMENTS
from gateway.settings import Settings
from schema.ids import global_id
from tests.schema.compiled_support import both, resolver_client
from tests.schema.conftest import Tokens
from tests.support import VIEWER_QUERY, Client, data, error, graphql

__all__ = ["resolver_client"]  # a fixture

CREATE = """mutation ($input: CreateApiTokenInput!) {
  createApiToken(input: $input) {
    token
    apiToken { id name prefix scopes projects { name } expiresAt revokedAt }
  }
}"""
REVOKE = """mutation ($id: ID!) {
  revokeApiToken(input: {id: $id}) { apiToken { prefix revokedAt } }
}"""
LIST = """{ viewer { apiTokens(orderBy: [{field: CREATED_AT}]) {
  totalCount nodes { name prefix scopes projects { name } revokedAt }
} } }"""


async def _project(conn: asyncpg.Connection, organization: str, name: str) -> UUID:
    value: UUID = await conn.fetchval(
        "SELECT p.id FROM projects p JOIN organizations o ON o.id = p.organization_id "
        "WHERE o.name = $1 AND p.name = $2",
        organization,
        name,
    )
    return value


async def _created(client: Client, token: str, **fields: Any) -> dict[str, Any]:
    result: dict[str, Any] = (await data(client, CREATE, token, input=fields))["createApiToken"]
    return result


async def _count(conn: asyncpg.Connection) -> int:
    count: int = await conn.fetchval("SELECT count(*) FROM api_tokens")
    return count


async def test_a_token_made_in_the_graph(
    client: Client, conn: asyncpg.Connection, tokens: Tokens, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    fraud = await _project(conn, "Acme Analytics", "fraud-detection")
    made = await _created(
        client,
        tokens.ada,
        name="  CI deploys ",
        scopes=["segment:write", "model:read", "segment:write"],
        projectIds=[global_id("Project", fraud)],
    )
    secret = made["token"]
    assert secret.startswith("egt_")
    assert len(secret) == 44
    assert made["apiToken"] == {
        "id": made["apiToken"]["id"],
        "name": "CI deploys",
        "prefix": secret[:12],
        "scopes": ["model:read", "segment:write"],
        "projects": [{"name": "fraud-detection"}],
        "expiresAt": None,
        "revokedAt": None,
    }
    # only its hash is stored
    stored = await conn.fetchrow(
        "SELECT token_hash, prefix, project_ids FROM api_tokens WHERE prefix = $1", secret[:12]
    )
    assert stored is not None
    assert (len(stored["token_hash"]), stored["project_ids"]) == (32, [fraud])
    assert secret.encode() not in stored["token_hash"]
    # it works, restricted as asked
    viewer = await authenticate(conn, secret)
    assert viewer is not None
    assert (viewer.email, viewer.scopes, viewer.projects) == (
        "ada@example.com",
        frozenset({"model:read", "segment:write"}),
        frozenset({fraud}),
    )
    assert await data(client, "{ models { totalCount } }", secret) == {
        "models": {"totalCount": 2}  # of 12 Ada sees
    }
    # listed (the clear token nowhere in it), and never in a log line
    status, listed = await graphql(client, LIST, tokens.ada)
    assert status == 200
    assert secret not in str(listed)
    assert listed["data"]["viewer"]["apiTokens"] == {
        "totalCount": 2,
        "nodes": [
            {
                "name": "command line",
                "prefix": tokens.ada[:12],
                "scopes": ["*"],
                "projects": None,
                "revokedAt": None,
            },
            {
                "name": "CI deploys",
                "prefix": secret[:12],
                "scopes": ["model:read", "segment:write"],
                "projects": [{"name": "fraud-detection"}],
                "revokedAt": None,
            },
        ],
    }
    assert caplog.records
    for record in caplog.records:
        assert secret not in record.getMessage()
        assert secret not in str(record.__dict__)


async def test_viewer_api_tokens_are_the_callers_own(
    client: Client, conn: asyncpg.Connection, tokens: Tokens
) -> None:
    await _created(client, tokens.grace, name="grace's", scopes=["segment:read"])
    query = """query ($search: String) { viewer { apiTokens(
      search: $search, filter: {revokedAt: {isNull: true}},
      orderBy: [{field: NAME, direction: DESC}], first: 1
    ) { totalCount pageInfo { hasNextPage } nodes { name } } } }"""
    assert await data(client, query, tokens.grace) == {
        "viewer": {
            "apiTokens": {
                "totalCount": 2,
                "pageInfo": {"hasNextPage": True},
                "nodes": [{"name": "grace's"}],
            }
        }
    }
    assert await data(client, query, tokens.grace, search="command") == {
        "viewer": {
            "apiTokens": {
                "totalCount": 1,
                "pageInfo": {"hasNextPage": False},
                "nodes": [{"name": "command line"}],
            }
        }
    }
    # a superuser too lists only its own
    root = await data(
        client, "{ viewer { apiTokens { totalCount nodes { prefix } } } }", tokens.root
    )
    assert root == {
        "viewer": {"apiTokens": {"totalCount": 1, "nodes": [{"prefix": tokens.root[:12]}]}}
    }
    # another user's token, by id: not found, as one that does not exist
    graces = await conn.fetchval(
        "SELECT t.id FROM api_tokens t JOIN users u ON u.id = t.user_id "
        "WHERE u.email = 'grace@example.com' AND t.name = 'grace''s'"
    )
    lookup = "query ($id: ID!) { apiToken(id: $id) { name } }"
    found = await error(client, lookup, tokens.ada, id=global_id("ApiToken", graces))
    assert (found["extensions"]["code"], found["data"]) == ("NOT_FOUND", {"apiToken": None})
    assert await data(client, lookup, tokens.grace, id=global_id("ApiToken", graces)) == {
        "apiToken": {"name": "grace's"}
    }


async def _limited(conn: asyncpg.Connection, scopes: list[str], **kwargs: Any) -> str:
    return (await create_token(conn, email="ada@example.com", scopes=scopes, **kwargs)).token


WIDER = [
    # (the calling token's scopes, the new token's scopes, what is said)
    (
        ["token:write", "segment:read"],
        ["segment:write"],
        "this token lacks the scope segment:write",
    ),
    (["token:write", "segment:write"], ["*"], "this token lacks the scope *"),
    (["token:write"], ["token:write", "model:read"], "this token lacks the scope model:read"),
]


@pytest.mark.parametrize(("mine", "asked", "message"), WIDER)
async def test_a_wider_scope_is_forbidden(
    client: Client,
    conn: asyncpg.Connection,
    tokens: Tokens,
    mine: list[str],
    asked: list[str],
    message: str,
) -> None:
    token = await _limited(conn, mine)
    before = await _count(conn)
    found = await error(client, CREATE, token, input={"name": "wider", "scopes": asked})
    assert (found["extensions"]["code"], found["message"], found["data"]) == (
        "FORBIDDEN",
        f"{message}: it cannot grant it",
        None,
    )
    assert await _count(conn) == before


async def test_a_superuser_makes_no_superuser_token(
    client: Client, conn: asyncpg.Connection, tokens: Tokens
) -> None:
    # the superuser sees all 54 demo environments; a token it makes in the graph is
    # its user's plain token: Root belongs to no organization, so it sees none
    query = "{ environments { totalCount } }"
    assert await data(client, query, tokens.root) == {"environments": {"totalCount": 54}}
    made = await _created(client, tokens.root, name="made by root", scopes=["*"])
    secret = made["token"]
    stored = await conn.fetchval("SELECT superuser FROM api_tokens WHERE prefix = $1", secret[:12])
    assert stored is False
    viewer = await authenticate(conn, secret)
    assert viewer is not None
    assert (viewer.email, viewer.superuser) == ("root@example.com", False)
    assert await data(client, query, secret) == {"environments": {"totalCount": 0}}
    # and there is no way to ask for one
    before = await _count(conn)
    status, body = await graphql(
        client, CREATE, tokens.root, input={"name": "x", "scopes": ["*"], "superuser": True}
    )
    assert (status, [e["extensions"]["code"] for e in body["errors"]]) == (200, ["BAD_USER_INPUT"])
    assert await _count(conn) == before


async def test_narrower_scopes_are_granted(
    client: Client, conn: asyncpg.Connection, tokens: Tokens
) -> None:
    # a write scope covers its read
    token = await _limited(conn, ["token:write", "segment:write"])
    made = await _created(client, token, name="reader", scopes=["segment:read", "token:write"])
    assert made["apiToken"]["scopes"] == ["segment:read", "token:write"]


async def test_wider_projects_are_forbidden_or_not_found(
    client: Client, conn: asyncpg.Connection, tokens: Tokens
) -> None:
    fraud = await _project(conn, "Acme Analytics", "fraud-detection")
    churn = await _project(conn, "Acme Analytics", "churn-prediction")
    initech = await _project(conn, "Initech Labs", "fraud-detection")
    restricted = await _limited(conn, ["*"], project_ids=[fraud, churn])
    before = await _count(conn)
    # every project (no projectIds) from a restricted token: wider
    found = await error(client, CREATE, restricted, input={"name": "all", "scopes": ["*"]})
    assert (found["extensions"]["code"], found["message"]) == (
        "FORBIDDEN",
        "this token is restricted to projects: a token it makes must be restricted to some "
        "of them (projectIds)",
    )
    # a project beyond it, seen by the user or not, or none at all: not found, as one
    # that does not exist
    support = await _project(conn, "Acme Analytics", "support-assistant")
    counter = client.app[STATEMENTS]
    for outside in (support, initech, UUID(int=7)):
        statements = counter.total
        found = await error(
            client,
            CREATE,
            restricted,
            input={
                "name": "x",
                "scopes": ["*"],
                "projectIds": [global_id("Project", fraud), global_id("Project", outside)],
            },
        )
        assert (found["extensions"]["code"], found["extensions"]["field"]) == (
            "NOT_FOUND",
            "projectIds",
        )
        assert found["message"] == "project not found"
        # the projects seen and the token stored in one statement, besides the
        # token's check (issue 18: writes in one round trip)
        assert counter.total - statements == 2
    assert await _count(conn) == before
    # a subset is granted
    made = await _created(
        client,
        restricted,
        name="fraud only",
        scopes=["*"],
        projectIds=[global_id("Project", fraud)],
    )
    assert made["apiToken"]["projects"] == [{"name": "fraud-detection"}]
    statements = counter.total
    lean = await data(
        client,
        "mutation ($input: CreateApiTokenInput!) { createApiToken(input: $input) { "
        "apiToken { name } } }",
        restricted,
        input={"name": "lean", "scopes": ["*"], "projectIds": [global_id("Project", churn)]},
    )
    assert lean == {"createApiToken": {"apiToken": {"name": "lean"}}}
    assert counter.total - statements == 2


async def test_never_past_the_callers_expiry(
    client: Client, conn: asyncpg.Connection, tokens: Tokens
) -> None:
    token = await _limited(conn, ["*"], expires_in=timedelta(days=1))
    before = await _count(conn)
    later = (datetime.now(UTC) + timedelta(days=2)).isoformat()
    for fields in ({}, {"expiresAt": later}):
        found = await error(
            client, CREATE, token, input={"name": "longer", "scopes": ["*"], **fields}
        )
        assert found["extensions"]["code"] == "FORBIDDEN"
        assert found["message"].endswith("a token it makes must expire by then (expiresAt)")
    assert await _count(conn) == before
    sooner = (datetime.now(UTC) + timedelta(hours=1)).replace(microsecond=0)
    made = await _created(client, token, name="shorter", scopes=["*"], expiresAt=sooner.isoformat())
    assert datetime.fromisoformat(made["apiToken"]["expiresAt"]) == sooner


BAD = [
    ({"name": "x", "scopes": ["segment:delete"]}, "scopes", "unknown scope 'segment:delete'"),
    ({"name": "x", "scopes": []}, "scopes", "at least one scope is needed"),
    ({"name": " ", "scopes": ["*"]}, "name", "name has 1 to 200 characters"),
    ({"name": "x" * 201, "scopes": ["*"]}, "name", "name has 1 to 200 characters"),
    ({"name": "a\x00b", "scopes": ["*"]}, "name", "name holds a control character"),
    (
        {"name": "x", "scopes": ["*"], "projectIds": []},
        "projectIds",
        "projectIds holds at least one project (leave it out for every project)",
    ),
    ({"name": "x", "scopes": ["*"], "projectIds": ["nope"]}, "projectIds", "not a valid id"),
    (
        {"name": "x", "scopes": ["*"], "expiresAt": "2001-01-01T00:00:00Z"},
        "expiresAt",
        "expiresAt must be in the future",
    ),
    (
        {"name": "x", "scopes": ["*"], "expiresAt": "2101-01-01T00:00:00"},
        "expiresAt",
        "expiresAt must have a time zone (e.g. Z or +02:00)",
    ),
]


@pytest.mark.parametrize(("fields", "field", "message"), BAD)
async def test_bad_input(
    client: Client,
    conn: asyncpg.Connection,
    tokens: Tokens,
    fields: dict[str, Any],
    field: str,
    message: str,
) -> None:
    before = await _count(conn)
    found = await error(client, CREATE, tokens.ada, input=fields)
    assert (found["extensions"]["code"], found["extensions"]["field"]) == ("BAD_USER_INPUT", field)
    assert message in found["message"]
    assert await _count(conn) == before


async def test_scopes_token_read_and_write(
    client: Client, conn: asyncpg.Connection, tokens: Tokens
) -> None:
    reader = await _limited(conn, ["token:read"])
    found = await error(client, CREATE, reader, input={"name": "x", "scopes": ["token:read"]})
    assert (found["extensions"]["code"], found["message"]) == (
        "FORBIDDEN",
        "this token lacks the scope token:write",
    )
    listed = await data(client, "{ viewer { apiTokens { totalCount } } }", reader)
    assert listed == {"viewer": {"apiTokens": {"totalCount": 2}}}  # the fixture's and its own
    nothing = await _limited(conn, ["segment:read"])
    found = await error(client, "{ viewer { apiTokens { totalCount } } }", nothing)
    assert (found["extensions"]["code"], found["message"]) == (
        "FORBIDDEN",
        "this token lacks the scope token:read",
    )


async def test_revoking_refuses_the_token_on_the_next_request(
    client: Client, conn: asyncpg.Connection, tokens: Tokens
) -> None:
    made = await _created(client, tokens.ada, name="short-lived", scopes=["*"])
    secret, token_id = made["token"], made["apiToken"]["id"]
    assert (await graphql(client, VIEWER_QUERY, secret))[0] == 200
    # another user cannot revoke it: not found, as one that does not exist; one
    # statement besides the token's check (issue 18: writes in one round trip)
    counter = client.app[STATEMENTS]
    before = counter.total
    found = await error(client, REVOKE, tokens.grace, id=token_id)
    assert (found["extensions"]["code"], found["data"]) == ("NOT_FOUND", None)
    assert counter.total - before == 2
    assert (await graphql(client, VIEWER_QUERY, secret))[0] == 200
    # the token revokes itself: answered, then refused
    revoked = (await data(client, REVOKE, secret, id=token_id))["revokeApiToken"]["apiToken"]
    assert revoked["prefix"] == secret[:12]
    assert revoked["revokedAt"] is not None
    status, body = await graphql(client, VIEWER_QUERY, secret)
    assert (status, body["errors"][0]["extensions"]["code"]) == (401, "UNAUTHENTICATED")
    # revoking again changes nothing
    before = counter.total
    again = (await data(client, REVOKE, tokens.ada, id=token_id))["revokeApiToken"]["apiToken"]
    assert again == revoked
    # the token's check, the revoke, and the probe that every process heard of it
    assert counter.total - before == 3
    listed = await data(client, LIST, tokens.ada)
    assert [n["revokedAt"] for n in listed["viewer"]["apiTokens"]["nodes"]] == [
        None,
        revoked["revokedAt"],
    ]


async def test_revoking_reaches_every_process_at_once(
    settings: Settings, conn: asyncpg.Connection, tokens: Tokens
) -> None:
    # two instances on one database, each with an hour-long cache of the token
    hour = replace(settings, auth_cache_s=3600)
    async with (
        TestClient(TestServer(create_app(hour))) as one,
        TestClient(TestServer(create_app(hour))) as other,
    ):
        made = await _created(one, tokens.ada, name="cached", scopes=["*"])
        secret = made["token"]
        for client in (one, other, one, other):
            assert (await graphql(client, VIEWER_QUERY, secret))[0] == 200
        # no pause: the revocation answers once `one` has heard the broadcast
        await data(one, REVOKE, tokens.ada, id=made["apiToken"]["id"])
        assert [(await graphql(c, VIEWER_QUERY, secret))[0] for c in (other, one)] == [401, 401]


async def test_project_api_token_count(
    client: Client, conn: asyncpg.Connection, tokens: Tokens
) -> None:
    fraud = await _project(conn, "Acme Analytics", "fraud-detection")
    churn = await _project(conn, "Acme Analytics", "churn-prediction")
    # live tokens restricted to fraud-detection: Ada's (two projects) and Grace's; a
    # revoked one, an expired one and an unrestricted one do not count
    await create_token(conn, email="ada@example.com", scopes=["*"], project_ids=[fraud, churn])
    await create_token(conn, email="grace@example.com", scopes=["*"], project_ids=[fraud])
    revoked = await create_token(conn, email="ada@example.com", scopes=["*"], project_ids=[fraud])
    await conn.execute("UPDATE api_tokens SET revoked_at = now() WHERE id = $1", revoked.token_id)
    expired = await create_token(conn, email="ada@example.com", scopes=["*"], project_ids=[fraud])
    await conn.execute(
        "UPDATE api_tokens SET expires_at = now() - interval '1 second' WHERE id = $1",
        expired.token_id,
    )
    query = """{ projects(filter: {organization: {name: {eq: "Acme Analytics"}}},
                          orderBy: [{field: NAME}]) { nodes { name apiTokenCount } } }"""
    expected = {
        "projects": {
            "nodes": [
                {"name": "churn-prediction", "apiTokenCount": 1},
                {"name": "fraud-detection", "apiTokenCount": 2},
                {"name": "support-assistant", "apiTokenCount": 0},
            ]
        }
    }
    assert await data(client, query, tokens.ada) == expected
    # whoever sees the project sees the count: Grace sees two of them
    grace = await data(client, query.replace("orderBy", "first: 10, orderBy"), tokens.grace)
    assert grace == {"projects": {"nodes": expected["projects"]["nodes"][:2]}}


async def test_a_tokens_projects_as_a_restricted_caller_sees_them(
    client: Client, conn: asyncpg.Connection, tokens: Tokens
) -> None:
    fraud = await _project(conn, "Acme Analytics", "fraud-detection")
    churn = await _project(conn, "Acme Analytics", "churn-prediction")
    await create_token(conn, email="ada@example.com", scopes=["*"], project_ids=[churn, fraud])
    narrow = await _limited(conn, ["*"], project_ids=[fraud])
    query = """{ viewer { apiTokens(filter: {name: {eq: "command line"}},
                                    orderBy: [{field: CREATED_AT}]) {
      nodes { projects { name } } } } }"""

    def projects(answer: dict[str, Any]) -> list[Any]:
        return [n["projects"] for n in answer["viewer"]["apiTokens"]["nodes"]]

    assert projects(await data(client, query, tokens.ada)) == [
        None,
        [{"name": "churn-prediction"}, {"name": "fraud-detection"}],
        [{"name": "fraud-detection"}],
    ]
    assert projects(await data(client, query, narrow)) == [
        None,
        [{"name": "fraud-detection"}],
        [{"name": "fraud-detection"}],
    ]


async def test_a_token_by_id_on_both_executors(
    client: Client, resolver_client: Client, conn: asyncpg.Connection, tokens: Tokens
) -> None:
    mine, theirs = [
        global_id(
            "ApiToken", await conn.fetchval("SELECT id FROM api_tokens WHERE prefix = $1", t[:12])
        )
        for t in (tokens.ada, tokens.alan)
    ]
    query = """query ($mine: ID!, $theirs: ID!) {
      mine: node(id: $mine) { ... on ApiToken { name prefix revokedAt } }
      theirs: node(id: $theirs) { id }
      byUuid: apiToken(id: $mine) { prefix }
    }"""
    compiled, resolved = await both(
        client, resolver_client, query, tokens.ada, {"mine": mine, "theirs": theirs}
    )
    assert compiled[2] == "compiled"
    assert compiled[:2] == resolved[:2]
    assert compiled[1] == {
        "data": {
            "mine": {"name": "command line", "prefix": tokens.ada[:12], "revokedAt": None},
            "theirs": None,
            "byUuid": {"prefix": tokens.ada[:12]},
        }
    }


async def test_statements_do_not_grow_with_rows(
    client: Client, conn: asyncpg.Connection, tokens: Tokens
) -> None:
    fraud = await _project(conn, "Acme Analytics", "fraud-detection")
    churn = await _project(conn, "Acme Analytics", "churn-prediction")
    for projects in ([fraud], [churn], [fraud, churn]):
        await create_token(conn, email="ada@example.com", scopes=["*"], project_ids=projects)
    # the token check, the list, then one statement for every count (or project) below
    for query in (
        "{ projects(first: 100) { nodes { apiTokenCount } } }",
        "{ viewer { apiTokens(first: 100) { nodes { projects { name } } } } }",
    ):
        before = client.app[STATEMENTS].total
        await data(client, query, tokens.ada)
        assert client.app[STATEMENTS].total - before == 3, query
