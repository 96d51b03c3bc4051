"""Bearer-token authentication through the real HTTP endpoint."""

from __future__ import annotations

import asyncpg

from db.tokens import create_token
from tests.support import VIEWER_QUERY, Client, graphql

INTROSPECTION = "{ __schema { queryType { name } } }"


async def test_valid_token_returns_the_viewer(client: Client, token: str) -> None:
    status, body = await graphql(client, VIEWER_QUERY, token)
    assert status == 200
    assert body == {
        "data": {
            "viewer": {
                "user": {"email": "ada@example.com", "name": "Ada Lovelace"},
                "scopes": ["*"],
                "superuser": False,
            }
        }
    }


async def test_scoped_superuser_token_shows_its_scopes(
    client: Client, conn: asyncpg.Connection, token: str
) -> None:
    issued = await create_token(
        conn, email="ada@example.com", scopes=["segment:read", "model:write"], superuser=True
    )
    _, body = await graphql(client, VIEWER_QUERY, issued.token)
    assert body["data"]["viewer"]["scopes"] == ["model:write", "segment:read"]
    assert body["data"]["viewer"]["superuser"] is True


async def _assert_unauthenticated(client: Client, headers: dict[str, str], challenge: str) -> str:
    response = await client.post("/graphql", json={"query": VIEWER_QUERY}, headers=headers)
    assert response.status == 401
    assert response.headers["WWW-Authenticate"] == challenge
    body = await response.json()
    assert "data" not in body  # a request error (nothing ran): no data key
    [error] = body["errors"]
    assert error["extensions"]["code"] == "UNAUTHENTICATED"
    assert error["extensions"]["requestId"] == response.headers["X-Request-Id"]
    message: str = error["message"]
    return message


async def test_no_token_is_401(client: Client) -> None:
    message = await _assert_unauthenticated(client, {}, "Bearer")
    assert message == "Authentication required: send `Authorization: Bearer <token>`."


async def test_unknown_token_is_401(client: Client, token: str) -> None:
    wrong = token[:-1] + ("A" if token[-1] != "A" else "B")
    message = await _assert_unauthenticated(
        client, {"Authorization": f"Bearer {wrong}"}, 'Bearer error="invalid_token"'
    )
    assert message == "The token is invalid, expired or revoked."


async def test_other_scheme_is_401(client: Client, token: str) -> None:
    message = await _assert_unauthenticated(
        client, {"Authorization": f"Basic {token}"}, 'Bearer error="invalid_token"'
    )
    assert message == "The Authorization header must be `Bearer <token>`."


async def test_expired_token_is_401(client: Client, conn: asyncpg.Connection, token: str) -> None:
    status, _ = await graphql(client, VIEWER_QUERY, token)
    assert status == 200
    await conn.execute("UPDATE api_tokens SET expires_at = now() - interval '1 second'")
    await _assert_unauthenticated(
        client, {"Authorization": f"Bearer {token}"}, 'Bearer error="invalid_token"'
    )


async def test_revoked_token_is_401(client: Client, conn: asyncpg.Connection, token: str) -> None:
    await conn.execute("UPDATE api_tokens SET revoked_at = now()")
    await _assert_unauthenticated(
        client, {"Authorization": f"Bearer {token}"}, 'Bearer error="invalid_token"'
    )


async def test_use_is_recorded_at_most_once_a_minute(
    client: Client, conn: asyncpg.Connection, token: str
) -> None:
    assert await conn.fetchval("SELECT last_used_at FROM api_tokens") is None
    await graphql(client, VIEWER_QUERY, token)
    first = await conn.fetchval("SELECT last_used_at FROM api_tokens")
    assert first is not None
    await graphql(client, VIEWER_QUERY, token)
    assert await conn.fetchval("SELECT last_used_at FROM api_tokens") == first
    await conn.execute("UPDATE api_tokens SET last_used_at = now() - interval '2 minutes'")
    await graphql(client, VIEWER_QUERY, token)
    assert await conn.fetchval("SELECT last_used_at FROM api_tokens") > first


async def test_only_the_hash_is_stored(conn: asyncpg.Connection, token: str) -> None:
    row = await conn.fetchrow("SELECT token_hash, prefix FROM api_tokens")
    assert row is not None
    assert len(row["token_hash"]) == 32
    assert token.encode() not in row["token_hash"]
    assert row["prefix"] == token[:12]
    dump = await conn.fetchval("SELECT string_agg(t::text, '') FROM api_tokens t")
    assert token[12:] not in dump


async def test_anonymous_introspection_is_allowed(client: Client) -> None:
    status, body = await graphql(client, INTROSPECTION)
    assert status == 200
    assert body == {"data": {"__schema": {"queryType": {"name": "Query"}}}}


async def test_anonymous_introspection_through_fragments_is_allowed(client: Client) -> None:
    query = """
        query Q { ...Top ... on Query { __typename } }
        fragment Top on Query { __type(name: "Viewer") { name } }
    """
    status, body = await graphql(client, query)
    assert status == 200
    assert body == {"data": {"__type": {"name": "Viewer"}, "__typename": "Query"}}


async def test_data_hidden_in_a_fragment_needs_a_token(client: Client) -> None:
    query = """
        { __typename ...Data }
        fragment Data on Query { viewer { user { email } } }
    """
    status, body = await graphql(client, query)
    assert status == 401
    assert body["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"


async def test_anonymous_introspection_with_a_bad_token_is_401(client: Client) -> None:
    response = await client.post(
        "/graphql", json={"query": INTROSPECTION}, headers={"Authorization": "Bearer egt_nope"}
    )
    assert response.status == 401


async def test_get_queries_authenticate_too(client: Client, token: str) -> None:
    anonymous = await client.get("/graphql", params={"query": VIEWER_QUERY})
    assert anonymous.status == 401
    response = await client.get(
        "/graphql", params={"query": VIEWER_QUERY}, headers={"Authorization": f"Bearer {token}"}
    )
    assert response.status == 200
    body = await response.json()
    assert body["data"]["viewer"]["user"]["email"] == "ada@example.com"
