"""Small helpers shared by the tests."""

from __future__ import annotations

import os
import shutil
import socket
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import pytest
import strawberry.schema.schema as strawberry_schema
from aiohttp import web
from aiohttp.test_utils import TestClient
from graphql import validate as graphql_validate

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


NODE_DIR = Path(__file__).parent / "node"


def require(available: bool, what: str, how: str) -> None:
    """Real-client tests need tools beyond Python. In CI (`CI` set), which
    installs them, a missing tool fails the test; elsewhere the test is skipped
    and says how to run it, so `pytest` passes on a machine with only Python."""
    if available:
        return
    if os.environ.get("CI"):
        pytest.fail(f"{what} is missing: {how}")
    pytest.skip(f"{what} is not installed here: {how} (CI does)")


def require_node() -> str:
    """The `node` executable, with the npm packages of tests/node installed."""
    node = shutil.which("node")
    require(node is not None, "Node.js", "install Node.js 20 or later")
    require(
        (NODE_DIR / "node_modules").is_dir(), "tests/node packages", "(cd tests/node && npm ci)"
    )
    assert node is not None
    return node


def count_validations(monkeypatch: pytest.MonkeyPatch) -> list[object]:
    """The documents graphql-core validates from now on, one entry a validation:
    counted where strawberry's `validate_document` calls graphql-core's `validate`,
    which every validation here goes through (both executors', strawberry's own)."""
    validated: list[object] = []
    real = graphql_validate  # what strawberry_schema.validate is

    def counting(schema: Any, document: Any, *args: Any, **kwargs: Any) -> Any:
        validated.append(document)
        return real(schema, document, *args, **kwargs)

    monkeypatch.setattr(strawberry_schema, "validate", counting)
    return validated
