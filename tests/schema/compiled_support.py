"""Running one query through both executors, for the differential tests."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import replace
from typing import Any

import pytest
from aiohttp.test_utils import TestClient, TestServer

from gateway.app import create_app
from gateway.keys import METRICS, STATEMENTS
from gateway.settings import Settings
from tests.support import Client


def executed(client: Client, executor: str) -> float:
    """How many requests `executor` has answered on this client's app."""
    value: float = client.app[METRICS].executors.labels(executor)._value.get()
    return value


@pytest.fixture
async def resolver_client(settings: Settings) -> AsyncIterator[Client]:
    """A client of an app on the same database with compiled reads off."""
    app = create_app(replace(settings, compiled_reads=False))
    async with TestClient(TestServer(app)) as test_client:
        yield test_client


def _comparable(body: dict[str, Any]) -> dict[str, Any]:
    # request ids differ between any two requests
    for error in body.get("errors") or ():
        error.get("extensions", {}).pop("requestId", None)
    # errors of fields resolved concurrently come in no fixed order (even between
    # two runs of the resolver path), and the spec gives them none
    if body.get("errors"):
        body["errors"].sort(key=lambda e: (str(e.get("path")), e.get("message")))
    return body


async def both(
    compiled: Client, resolver: Client, query: str, token: str, variables: dict[str, Any]
) -> tuple[tuple[int, dict[str, Any], str, int], tuple[int, dict[str, Any], str, int]]:
    """(status, body, executor, statements) from each app."""
    answers: list[tuple[int, dict[str, Any], str, int]] = []
    for client in (compiled, resolver):
        before = (executed(client, "compiled"), client.app[STATEMENTS].total)
        response = await client.post(
            "/graphql",
            json={"query": query, "variables": variables},
            headers={"Authorization": f"Bearer {token}"},
        )
        body = _comparable(await response.json())
        executor = "compiled" if executed(client, "compiled") > before[0] else "resolver"
        answers.append((response.status, body, executor, client.app[STATEMENTS].total - before[1]))
    return answers[0], answers[1]
