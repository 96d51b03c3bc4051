"""Small helpers shared by the tests."""

from __future__ import annotations

import socket
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from aiohttp import web
from aiohttp.test_utils import TestClient

Client = TestClient[web.Request, web.Application]

VIEWER_QUERY = "{ viewer { user { email name } scopes superuser } }"


def with_database(url: str, name: str) -> str:
    """The same server URL naming another database."""
    parts = urlsplit(url)
    return urlunsplit(parts._replace(path=f"/{name}"))


def free_port() -> int:
    """A loopback TCP port nobody listens on (at the time of asking)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


async def graphql(
    client: Client, query: str, token: str | None = None, **variables: Any
) -> tuple[int, dict[str, Any]]:
    """POST a query; returns the HTTP status and the JSON body."""
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    response = await client.post(
        "/graphql", json={"query": query, "variables": variables}, headers=headers
    )
    body: dict[str, Any] = await response.json()
    return response.status, body


async def data(client: Client, query: str, token: str, **variables: Any) -> dict[str, Any]:
    """The `data` of a query that must succeed."""
    status, body = await graphql(client, query, token, **variables)
    assert (status, body.get("errors")) == (200, None), body
    result: dict[str, Any] = body["data"]
    return result


async def error(client: Client, query: str, token: str, **variables: Any) -> dict[str, Any]:
    """The single error of a query that must fail (and its data, under `data`)."""
    _, body = await graphql(client, query, token, **variables)
    assert len(body.get("errors") or []) == 1, body
    found: dict[str, Any] = body["errors"][0]
    found["data"] = body.get("data")
    return found
