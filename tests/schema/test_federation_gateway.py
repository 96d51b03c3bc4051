"""A real Apollo Gateway composes envgraph with a second subgraph (tests/node).

The gateway (`@apollo/gateway`, IntrospectAndCompose) and the "reviews"
subgraph (`@apollo/subgraph`, which adds `Environment.alertCount` and a root
`alerts` list pointing back at environments) run as Node processes on
loopback ports; envgraph is the test app. CI installs them with
`(cd tests/node && npm ci)`.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

import aiohttp
import asyncpg
import pytest

from gateway.keys import STATEMENTS
from schema.ids import global_id
from tests.schema.conftest import Tokens
from tests.support import NODE_DIR, Client, data, free_port, require_node

READY_TIMEOUT = 60.0

# The first five of Ada's 36 environments by name (ties by id): all "production".
FIRST_FIVE = [
    ("RW52aXJvbm1lbnQ6MTJlNjM5YWYtZWFjNS04M2EzLWEyMjAtYzgzYTkxM2M4YjRl", "xgb-classifier", 4),
    ("RW52aXJvbm1lbnQ6MjA3YzZmYmYtYmU2Yi02NmE4LThmNmItYTQzOWVlMDUzZWVi", "xgb-classifier", 6),
    ("RW52aXJvbm1lbnQ6MzkwOTcxNjYtYzhmYy0zMGVhLWZiNmUtODRjNWJlZTAzMTg2", "xgb-classifier", 1),
    ("RW52aXJvbm1lbnQ6NDM1M2IwYjctMjI4MC00ZGZjLWE0MzItYmMzN2Y1NWM5M2Vl", "logistic-baseline", 1),
    ("RW52aXJvbm1lbnQ6NGNjYWVlMjAtMWFhMy1hNzA3LWZjZDAtYmY3YmIwMGEyMzc0", "logistic-baseline", 1),
]

MERGED = """
{
  environments(first: 5, orderBy: [{field: NAME}]) {
    totalCount
    nodes { id name alertCount model { name } }
  }
}
"""
# what the gateway asks envgraph for MERGED (its query plan's first fetch)
ENVGRAPH_PART = """
{
  environments(first: 5, orderBy: [{field: NAME}]) {
    totalCount
    nodes { __typename id name model { name } }
  }
}
"""
ALERTS = """
query ($ids: [ID!]!) {
  alerts(environmentIds: $ids) {
    id severity
    environment { id name alertCount model { name project { name organization { name } } } }
  }
}
"""
STATS = "{ stats { calls batches } }"


def alert_count(environment_id: str) -> int:
    """What the reviews subgraph computes for an environment."""
    return sum(map(ord, environment_id)) % 7


@dataclass(frozen=True)
class Federation:
    gateway_url: str
    reviews_url: str
    session: aiohttp.ClientSession

    async def post(
        self, url: str, query: str, token: str | None = None, **variables: Any
    ) -> tuple[int, dict[str, Any]]:
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        async with self.session.post(
            url, json={"query": query, "variables": variables}, headers=headers
        ) as response:
            body: dict[str, Any] = await response.json()
            return response.status, body

    async def gateway(
        self, query: str, token: str | None = None, **variables: Any
    ) -> dict[str, Any]:
        """The gateway's whole answer (it answers HTTP 200 also with errors)."""
        status, body = await self.post(self.gateway_url, query, token, **variables)
        assert status == 200, body
        return body

    async def batches(self) -> list[int]:
        """The representation count of each `_entities` call reviews served so far."""
        status, body = await self.post(self.reviews_url, STATS)
        assert (status, body.get("errors")) == (200, None), body
        stats = body["data"]["stats"]
        assert stats["calls"] == len(stats["batches"])
        batches: list[int] = stats["batches"]
        return batches


async def _start(script: str, log: IO[bytes], *args: str) -> asyncio.subprocess.Process:
    node = require_node()
    return await asyncio.create_subprocess_exec(
        node, script, *args, cwd=NODE_DIR, stdout=asyncio.subprocess.PIPE, stderr=log
    )


async def _ready(process: asyncio.subprocess.Process, prefix: str, log: Path) -> str:
    """Waits for the process's `<prefix> ready <url>` line; returns the url."""
    assert process.stdout is not None

    async def read() -> str:
        assert process.stdout is not None
        while line := (await process.stdout.readline()).decode():
            if line.startswith(f"{prefix} ready "):
                return line.split()[2]
        await process.wait()
        return ""

    try:
        url = await asyncio.wait_for(read(), READY_TIMEOUT)
    except TimeoutError:
        url = ""
    if not url:
        output = await asyncio.to_thread(log.read_text)
        pytest.fail(f"{prefix} did not start (exit {process.returncode}):\n{output}")
    return url


async def _stop(process: asyncio.subprocess.Process) -> None:
    if process.returncode is None:
        process.terminate()
        try:
            await asyncio.wait_for(process.wait(), 10)
        except TimeoutError:
            process.kill()
            await process.wait()


@pytest.fixture
async def federation(client: Client, tmp_path: Path) -> AsyncIterator[Federation]:
    """The reviews subgraph and an Apollo Gateway over envgraph + reviews."""
    envgraph_url = str(client.make_url("/graphql"))
    processes: list[asyncio.subprocess.Process] = []
    with (
        (tmp_path / "reviews.log").open("wb") as reviews_log,
        (tmp_path / "gateway.log").open("wb") as gateway_log,
    ):
        try:
            reviews = await _start("reviews-subgraph.mjs", reviews_log, str(free_port()))
            processes.append(reviews)
            reviews_url = await _ready(reviews, "reviews", tmp_path / "reviews.log")
            gateway = await _start(
                "gateway.mjs",
                gateway_log,
                str(free_port()),
                f"envgraph={envgraph_url}",
                f"reviews={reviews_url}",
            )
            processes.append(gateway)
            gateway_url = await _ready(gateway, "gateway", tmp_path / "gateway.log")
            async with aiohttp.ClientSession() as session:
                yield Federation(gateway_url, reviews_url, session)
        finally:
            for process in reversed(processes):
                with contextlib.suppress(ProcessLookupError):
                    await _stop(process)


async def test_gateway_merges_envgraph_and_reviews(
    client: Client, tokens: Tokens, federation: Federation
) -> None:
    counter = client.app[STATEMENTS]
    before = counter.total
    direct = await data(client, ENVGRAPH_PART, tokens.ada)
    direct_cost = counter.total - before
    assert await federation.batches() == []  # composing asks for `_service` only

    before = counter.total
    body = await federation.gateway(MERGED, tokens.ada)
    assert body == {
        "data": {
            "environments": {
                "totalCount": 36,
                "nodes": [
                    {"id": i, "name": "production", "alertCount": n, "model": {"name": model}}
                    for i, model, n in FIRST_FIVE
                ],
            }
        }
    }
    assert [n for _, _, n in FIRST_FIVE] == [alert_count(i) for i, _, _ in FIRST_FIVE]
    # envgraph answered the gateway's fetch as it answers the query sent to it directly
    assert counter.total - before == direct_cost
    assert [e["id"] for e in direct["environments"]["nodes"]] == [i for i, _, _ in FIRST_FIVE]
    # all five alert counts came from ONE `_entities` call to reviews
    assert await federation.batches() == [5]


async def test_gateway_passes_on_envgraphs_unauthenticated_error(
    client: Client, tokens: Tokens, federation: Federation
) -> None:
    envgraph_url = str(client.make_url("/graphql"))
    for token in (None, "egt_not-a-token"):
        body = await federation.gateway(MERGED, token)
        assert body["data"] is None
        [error] = body["errors"]
        envgraph_error = error["extensions"]["response"]["body"]["errors"][0]
        assert len(envgraph_error["extensions"].pop("requestId")) == 32
        message = (
            "Authentication required: send `Authorization: Bearer <token>`."
            if token is None
            else "The token is invalid, expired or revoked."
        )
        assert error == {
            "message": "401: Unauthorized",
            "extensions": {
                "code": "UNAUTHENTICATED",
                "response": {
                    "url": envgraph_url,
                    "status": 401,
                    "statusText": "Unauthorized",
                    # a request error: no data key (GraphQL over HTTP)
                    "body": {
                        "errors": [{"message": message, "extensions": {"code": "UNAUTHENTICATED"}}],
                    },
                },
            },
        }
    # the query plan stopped at envgraph: reviews was never asked
    assert await federation.batches() == []
    # and the token still works through the gateway afterwards
    body = await federation.gateway(MERGED, tokens.ada)
    assert body["data"]["environments"]["totalCount"] == 36


async def test_reviews_entities_resolve_back_through_envgraph(
    client: Client, tokens: Tokens, federation: Federation
) -> None:
    ids = [FIRST_FIVE[0][0], FIRST_FIVE[4][0]]
    counter = client.app[STATEMENTS]
    before = counter.total
    body = await federation.gateway(ALERTS, tokens.ada, ids=ids)
    assert body == {
        "data": {
            "alerts": [
                {
                    "id": "alert-1",
                    "severity": 4,
                    "environment": {
                        "id": ids[0],
                        "name": "production",
                        "alertCount": 4,
                        "model": {
                            "name": "xgb-classifier",
                            "project": {
                                "name": "fraud-detection",
                                "organization": {"name": "Globex Research"},
                            },
                        },
                    },
                },
                {
                    "id": "alert-2",
                    "severity": 1,
                    "environment": {
                        "id": ids[1],
                        "name": "production",
                        "alertCount": 1,
                        "model": {
                            "name": "logistic-baseline",
                            "project": {
                                "name": "support-assistant",
                                "organization": {"name": "Acme Analytics"},
                            },
                        },
                    },
                },
            ]
        }
    }
    # one `_entities` call to envgraph for both environments: the token check,
    # then one statement per level (environments, models, projects, organizations)
    assert counter.total - before == 5
    # reviews resolved alertCount itself: it got no `_entities` call
    assert await federation.batches() == []


async def test_another_tenants_environment_stays_hidden_behind_the_gateway(
    conn: asyncpg.Connection, tokens: Tokens, federation: Federation
) -> None:
    theirs = global_id(
        "Environment",
        await conn.fetchval(
            """SELECT e.id FROM environments e JOIN projects p ON p.id = e.project_id
               JOIN organizations o ON o.id = p.organization_id
               WHERE o.name = 'Initech Labs' ORDER BY e.id LIMIT 1"""
        ),
    )
    ids = [FIRST_FIVE[0][0], theirs]
    # envgraph's `_entities` answers null for it: nothing of it reaches the
    # caller, and the non-null `Alert.environment` nulls the whole answer (the
    # gateway reports that under extensions.valueCompletion, not errors)
    body = await federation.gateway(ALERTS, tokens.ada, ids=ids)
    assert body == {
        "data": None,
        "extensions": {
            "valueCompletion": [
                {
                    "message": "Cannot return null for non-nullable field Environment.name.",
                    "path": ["alerts", 1, "environment", "name"],
                    "extensions": {"code": "INVALID_GRAPHQL"},
                }
            ]
        },
    }
    # what reviews knows by itself it still tells
    body = await federation.gateway(
        "query ($ids: [ID!]!) { alerts(environmentIds: $ids) { id environment { alertCount } } }",
        tokens.ada,
        ids=ids,
    )
    assert body == {
        "data": {
            "alerts": [
                {"id": "alert-1", "environment": {"alertCount": alert_count(ids[0])}},
                {"id": "alert-2", "environment": {"alertCount": alert_count(theirs)}},
            ]
        }
    }
