"""A bounded load of concurrent clients mixing reads and writes, for the load
and fault tests: every answer is recorded (status, error codes, latency, what
a write created), so a test can hold the service to "no 5xx", "no lost
write" and report percentiles."""

from __future__ import annotations

import asyncio
import itertools
import json
import statistics
import time
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

import aiohttp
import asyncpg

from db.demo import DEMO_USER_EMAIL, seed_demo
from db.tokens import create_token
from tests.service import Service

READS = {
    "list": "{ environments(first: 20, orderBy: [{field: NAME}]) "
    "{ totalCount nodes { id name rowCount model { name } } } }",
    "nested": "{ organizations { nodes { name projects(first: 5) "
    "{ nodes { name models(first: 5) { totalCount nodes { name } } } } } } }",
    "node": "query($id: ID!) { node(id: $id) { id ... on Model { name version } } }",
    "search": '{ segments(search: "age", first: 10) { totalCount nodes { name } } }',
}
CREATE = (
    "mutation($input: CreateSegmentInput!) { createSegment(input: $input) { segment { id name } } }"
)
# out of every 10 requests, 4 are writes
_PLAN = ("list", "create", "nested", "create", "node", "search", "create", "list", "create", "node")


@dataclass(frozen=True, slots=True)
class Answer:
    """One request's outcome."""

    kind: str
    at: float  # when it was sent, monotonic
    seconds: float
    status: int  # 0: no HTTP answer (connection refused or reset)
    codes: tuple[str, ...]
    created: str | None = None  # the id of the segment a write created


@dataclass(slots=True)
class Load:
    """`clients` concurrent clients, each sending one request after the other."""

    service: Service
    token: str
    model_ids: list[str]
    clients: int = 100
    answers: list[Answer] = field(default_factory=list)
    stop_at: float = 0.0  # monotonic
    _names: itertools.count[int] = field(default_factory=itertools.count)

    async def run(self, seconds: float) -> list[Answer]:
        """Load the service for `seconds` (or until `stop_at` is moved); the
        answers of this run."""
        start = len(self.answers)
        self.stop_at = time.monotonic() + seconds
        connector = aiohttp.TCPConnector(limit=self.clients)
        timeout = aiohttp.ClientTimeout(total=30)
        async with aiohttp.ClientSession(connector=connector, timeout=timeout) as http:
            await asyncio.gather(*(self._client(http, n) for n in range(self.clients)))
        return self.answers[start:]

    async def _client(self, http: aiohttp.ClientSession, number: int) -> None:
        for turn in itertools.count(number):
            if time.monotonic() >= self.stop_at:
                return
            kind = _PLAN[turn % len(_PLAN)]
            self.answers.append(await self._send(http, kind, turn))

    async def _send(self, http: aiohttp.ClientSession, kind: str, turn: int) -> Answer:
        model_id = self.model_ids[turn % len(self.model_ids)]
        if kind == "create":
            name = f"load-{next(self._names)}"
            variables: dict[str, Any] = {
                "input": {"modelId": model_id, "name": name, "definition": "age >= 18"}
            }
            query = CREATE
        else:
            variables = {"id": model_id} if kind == "node" else {}
            query = READS[kind]
        sent = time.monotonic()
        try:
            async with http.post(
                f"{self.service.url}/graphql",
                json={"query": query, "variables": variables},
                headers={"Authorization": f"Bearer {self.token}"},
            ) as response:
                status = response.status
                text = await response.text()
        except (aiohttp.ClientConnectionError, TimeoutError):
            return Answer(kind, sent, time.monotonic() - sent, 0, ())
        try:
            body = json.loads(text)
        except ValueError:  # not the JSON every answer should be
            return Answer(kind, sent, time.monotonic() - sent, status, ("NOT_JSON",))
        codes = tuple(e.get("extensions", {}).get("code", "?") for e in body.get("errors") or ())
        created = None
        if kind == "create" and status == 200 and not codes:
            created = body["data"]["createSegment"]["segment"]["id"]
        return Answer(kind, sent, time.monotonic() - sent, status, codes, created)


def summary(answers: list[Answer]) -> dict[str, Any]:
    """Requests, outcomes by status and code, latency percentiles in ms."""
    latencies = sorted(a.seconds * 1000 for a in answers)
    cuts = statistics.quantiles(latencies, n=100) if len(latencies) > 1 else latencies * 99
    return {
        "requests": len(answers),
        "writes acknowledged": sum(a.created is not None for a in answers),
        "by status": dict(sorted(Counter(a.status for a in answers).items())),
        "errors by code": dict(sorted(Counter(c for a in answers for c in a.codes).items())),
        "p50 ms": round(cuts[49], 1),
        "p99 ms": round(cuts[98], 1),
        "max ms": round(latencies[-1], 1),
    }


async def demo_writer(conn: asyncpg.Connection) -> str:
    """Demo data at scale 1 and a token of Ada, who administers two of its organizations."""
    await seed_demo(conn, 1)
    return (await create_token(conn, email=DEMO_USER_EMAIL, scopes=["*"])).token


def writable_models(service: Service, token: str) -> list[str]:
    """The ids of the models Ada sees (and, as their organizations' ADMIN, may write)."""
    status, body = service.post("{ models(first: 100) { nodes { id } } }", token)
    assert status == 200, body
    return [node["id"] for node in body["data"]["models"]["nodes"]]


async def unseen_writes(service: Service, token: str, answers: list[Answer]) -> list[str]:
    """The acknowledged writes that cannot be read back."""
    created = [a.created for a in answers if a.created is not None]
    query = "query($ids: [ID!]!) { nodes(ids: $ids) { id } }"
    missing = []
    async with aiohttp.ClientSession() as http:
        for chunk in (created[i : i + 100] for i in range(0, len(created), 100)):
            async with http.post(
                f"{service.url}/graphql",
                json={"query": query, "variables": {"ids": list(chunk)}},
                headers={"Authorization": f"Bearer {token}"},
            ) as response:
                body = await response.json()
            found = {node["id"] for node in body["data"]["nodes"] if node is not None}
            missing += [id_ for id_ in chunk if id_ not in found]
    return missing
