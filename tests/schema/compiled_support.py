"""Running one query through both executors, for the differential tests."""

from __future__ import annotations

import os
from collections.abc import AsyncIterator, Callable
from dataclasses import replace
from typing import Any, TypeVar

import pytest
from aiohttp.test_utils import TestClient, TestServer
from hypothesis import HealthCheck, Phase, settings

from gateway.app import create_app
from gateway.keys import METRICS, STATEMENTS
from gateway.settings import Settings
from tests.support import Client


def executed(client: Client, executor: str) -> float:
    """How many requests `executor` has answered on this client's app."""
    return client.app[METRICS].sample("envgraph_requests_by_executor_total", {"executor": executor})


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


async def same_answer(
    compiled: Client, resolver: Client, query: str, token: str, **variables: Any
) -> tuple[dict[str, Any], str]:
    """The body both executors give (asserted equal), and the executor that gave the
    compiled client's."""
    first, second = await both(compiled, resolver, query, token, variables)
    assert first[:2] == second[:2], (first, second)
    return first[1], first[2]


async def same_data(
    compiled: Client, resolver: Client, query: str, token: str, **variables: Any
) -> dict[str, Any]:
    """The `data` of a query that must succeed: the same on both executors, the
    compiled one answering it itself."""
    body, executor = await same_answer(compiled, resolver, query, token, **variables)
    assert body.get("errors") is None, body
    assert executor == "compiled", query
    result: dict[str, Any] = body["data"]
    return result


async def same_error(
    compiled: Client, resolver: Client, query: str, token: str, **variables: Any
) -> dict[str, Any]:
    """The single error of a query that must fail, the same on both executors (the
    compiled one leaves it to the resolver path), with its data under `data`."""
    body, _ = await same_answer(compiled, resolver, query, token, **variables)
    assert len(body.get("errors") or []) == 1, body
    found: dict[str, Any] = body["errors"][0]
    found["data"] = body.get("data")
    return found


F = TypeVar("F", bound=Callable[..., Any])


def differential(examples: int) -> Callable[[F], F]:
    """The settings of the differential tests (above their `@given`): `examples`
    queries against fixtures set up once for all of them, no deadline, 15 minutes
    at most, and no shrinking, which replays hundreds of HTTP round trips
    (`COMPILED_SHRINK=1` turns it on)."""
    phases = [Phase.explicit, Phase.reuse, Phase.generate]
    if os.environ.get("COMPILED_SHRINK"):
        phases.append(Phase.shrink)
    chosen = settings(
        max_examples=examples,
        deadline=None,
        phases=phases,
        suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
    )

    def apply(test: F) -> F:
        timed: F = pytest.mark.timeout(900)(chosen(test))
        return timed

    return apply
