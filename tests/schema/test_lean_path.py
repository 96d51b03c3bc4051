"""The lean path (gateway/lean_path.py): a document the compiled executor has
answered once is answered again without Strawberry's view, with the same
response, statements, log line and metrics; whatever it does not answer reaches
the view with nothing done twice."""

from __future__ import annotations

import dataclasses
import hashlib
import json
import logging
from collections.abc import AsyncIterator
from typing import Any

import asyncpg
import pytest
from aiohttp.test_utils import TestClient, TestServer

from gateway.app import create_app
from gateway.graphql_view import GatewayView
from gateway.keys import METRICS, STATEMENTS
from gateway.settings import Settings
from schema.ids import global_id
from tests.schema.conftest import Tokens
from tests.support import Client

BY_ID = "query ById($id: ID!) { environment(id: $id) { id name model { name } } }"
PAGE = "query Page($n: Int) { environments(first: $n) { edges { node { name } } } }"


def _counted(monkeypatch: pytest.MonkeyPatch, method: str) -> list[int]:
    """Calls of the view's `method` (the real one still runs)."""
    calls: list[int] = []
    real = getattr(GatewayView, method)

    async def counted(self: GatewayView, *args: Any, **kwargs: Any) -> Any:
        calls.append(1)
        return await real(self, *args, **kwargs)

    monkeypatch.setattr(GatewayView, method, counted)
    return calls


@pytest.fixture
def view_runs(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """How many requests the view's checks and executors ran (`execute_single`)."""
    return _counted(monkeypatch, "execute_single")


@pytest.fixture
def strawberry_runs(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """How many requests Strawberry's `run` read (websocket, IDE, body checks)."""
    return _counted(monkeypatch, "run")


async def _post(
    client: Client, query: str, token: str, **variables: Any
) -> tuple[int, str, bytes, int]:
    """Status, content type, body and the statements the request ran."""
    before = client.app[STATEMENTS].total
    response = await client.post(
        "/graphql",
        json={"query": query, "variables": variables},
        headers={"Authorization": f"Bearer {token}"},
    )
    body = await response.read()
    return response.status, response.content_type, body, client.app[STATEMENTS].total - before


def _without_request_ids(body: bytes) -> Any:
    answer = json.loads(body)
    for error in answer.get("errors", ()):
        del error["extensions"]["requestId"]
    return answer


async def _environments(conn: asyncpg.Connection) -> list[str]:
    rows = await conn.fetch(
        "SELECT e.id FROM environments e JOIN projects p ON p.id = e.project_id "
        "JOIN organizations o ON o.id = p.organization_id "
        "WHERE o.name = 'Acme Analytics' ORDER BY e.id LIMIT 3"
    )
    return [global_id("Environment", row["id"]) for row in rows]


async def test_a_known_read_skips_the_view_with_the_same_answer(
    client: Client,
    conn: asyncpg.Connection,
    tokens: Tokens,
    view_runs: list[int],
    caplog: pytest.LogCaptureFixture,
) -> None:
    first, second, third = await _environments(conn)
    view = await _post(client, BY_ID, tokens.ada, id=first)
    assert len(view_runs) == 1
    caplog.set_level(logging.INFO, logger="envgraph.requests")
    lean = await _post(client, BY_ID, tokens.ada, id=first)
    assert len(view_runs) == 1  # not run again
    assert lean == view
    status, content_type, body, statements = lean
    assert (status, content_type, statements) == (200, "application/json", 2)  # token, read
    assert json.loads(body)["data"]["environment"]["id"] == first
    # another id: the same plan, its own row
    assert (await _post(client, BY_ID, tokens.ada, id=second))[2].count(second.encode()) == 1
    assert len(view_runs) == 1
    line = next(r for r in caplog.records if r.name == "envgraph.requests").getMessage()
    assert ("operation=ById" in line, "status=200" in line, "executor=compiled" in line) == (
        True,
        True,
        True,
    ), line
    # the operation is counted under its name, compiled, as the view counts it
    metrics = client.app[METRICS]
    requests = {"operation": "ById", "outcome": "ok"}
    assert metrics.sample("envgraph_requests_total", requests) == 3
    assert metrics.sample("envgraph_requests_by_executor_total", {"executor": "compiled"}) == 3
    # the Accept header chooses the media type as in the view
    response = await client.post(
        "/graphql",
        json={"query": BY_ID, "variables": {"id": third}},
        headers={
            "Authorization": f"Bearer {tokens.ada}",
            "Accept": "application/graphql-response+json",
        },
    )
    assert response.content_type == "application/graphql-response+json"
    assert len(view_runs) == 1


async def test_what_it_does_not_answer_runs_once_in_the_view(
    client: Client, conn: asyncpg.Connection, tokens: Tokens, view_runs: list[int]
) -> None:
    first, *_ = await _environments(conn)
    await _post(client, BY_ID, tokens.ada, id=first)
    # another tenant's row: the lookup finds nothing, the resolver path says
    # NOT_FOUND; the token and the compiled statement are not run twice
    refused = await _post(client, BY_ID, tokens.alan, id=first)
    again = await _post(client, BY_ID, tokens.alan, id=first)
    assert (refused[:2], refused[3]) == (again[:2], again[3])
    assert _without_request_ids(refused[2]) == _without_request_ids(again[2])
    assert (refused[0], b'"NOT_FOUND"' in refused[2]) == (200, True)
    assert refused[3] == 3  # token, the compiled read, the resolver's lookup
    # a bad token: 401, the one token statement
    status, _, body, statements = await _post(client, BY_ID, "egt_not-a-token", id=first)
    assert (status, statements) == (401, 1), body
    # a value the lookup refuses
    status, _, body, statements = await _post(client, BY_ID, tokens.ada, id="nope")
    assert (status, b'"BAD_USER_INPUT"' in body, statements) == (200, True, 1), body
    assert len(view_runs) == 5  # every one of them ran in the view


@pytest.fixture
async def small_client(settings: Settings) -> AsyncIterator[Client]:
    """A client whose queries may return at most 50 nodes."""
    app = create_app(dataclasses.replace(settings, max_query_nodes=50))
    async with TestClient(TestServer(app)) as test_client:
        yield test_client


async def test_limits_that_count_variables_are_checked_again(
    small_client: Client, tokens: Tokens, view_runs: list[int]
) -> None:
    status, _, body, _ = await _post(small_client, PAGE, tokens.ada, n=3)
    assert (status, body.count(b'"name"')) == (200, 3), body
    assert len(view_runs) == 1
    status, _, body, _ = await _post(small_client, PAGE, tokens.ada, n=2)
    assert (status, body.count(b'"name"')) == (200, 2), body
    assert len(view_runs) == 1  # lean
    # the same document with a page over the node limit: refused as the view refuses it
    status, _, body, statements = await _post(small_client, PAGE, tokens.ada, n=80)
    assert b'"QUERY_TOO_COMPLEX"' in body, body
    assert b"may return this many nodes: 80" in body, body
    assert statements == 1  # the token only
    assert len(view_runs) == 2


async def test_a_persisted_query_by_get_skips_the_view(
    client: Client, conn: asyncpg.Connection, tokens: Tokens, view_runs: list[int]
) -> None:
    first, second, _ = await _environments(conn)
    sha = hashlib.sha256(BY_ID.encode()).hexdigest()
    extensions = {"persistedQuery": {"version": 1, "sha256Hash": sha}}
    headers = {"Authorization": f"Bearer {tokens.ada}"}

    async def get(sent: dict[str, Any], **variables: Any) -> tuple[int, Any, int]:
        before = client.app[STATEMENTS].total
        params = {"extensions": json.dumps(sent), "variables": json.dumps(variables)}
        response = await client.get("/graphql", params=params, headers=headers)
        answer = _without_request_ids(await response.read())
        return response.status, answer, client.app[STATEMENTS].total - before

    # registered by a POST of the hash and the text, which the view answers
    registered = await client.post(
        "/graphql",
        json={"query": BY_ID, "variables": {"id": first}, "extensions": extensions},
        headers=headers,
    )
    assert registered.status == 200
    assert len(view_runs) == 1
    status, answer, statements = await get(extensions, id=second)
    assert (status, answer["data"]["environment"]["id"], statements) == (200, second, 2)
    assert len(view_runs) == 1  # lean: the text was in the process's LRU
    # a hash the process does not hold: the view says so
    unknown = {"persistedQuery": {"version": 1, "sha256Hash": "0" * 64}}
    status, answer, _ = await get(unknown, id=second)
    assert answer["errors"][0]["extensions"]["code"] == "PERSISTED_QUERY_NOT_FOUND"
    assert len(view_runs) == 2


CREATE = """mutation ($input: CreateSegmentInput!) {
  createSegment(input: $input) { segment { name definition createdBy { name } } }
}"""


async def _both_ways(
    client: Client, body: dict[str, Any], token: str, strawberry_runs: list[int]
) -> tuple[tuple[int, Any, int], tuple[int, Any, int]]:
    """The request as a plain POST (read once, run without Strawberry's `run`), and
    with a query string that sends it through `run`: status, body, statements."""
    answers = []
    for path, runs in (("/graphql", 0), ("/graphql?through=run", 1)):
        before, ran = client.app[STATEMENTS].total, len(strawberry_runs)
        response = await client.post(path, json=body, headers={"Authorization": f"Bearer {token}"})
        answer = _without_request_ids(await response.read())
        assert len(strawberry_runs) - ran == runs
        answers.append((response.status, answer, client.app[STATEMENTS].total - before))
    return answers[0], answers[1]


async def test_plain_posts_run_without_strawberrys_run_with_the_same_answers(
    client: Client, conn: asyncpg.Connection, tokens: Tokens, strawberry_runs: list[int]
) -> None:
    model = await conn.fetchval(
        """SELECT m.id FROM models m JOIN projects p ON p.id = m.project_id
           JOIN organizations o ON o.id = p.organization_id
           WHERE o.name = 'Acme Analytics' ORDER BY m.id LIMIT 1"""
    )
    model_id = global_id("Model", model)

    def create(name: str) -> dict[str, Any]:
        given = {"modelId": model_id, "name": name, "definition": "age >= 13"}
        return {"query": CREATE, "variables": {"input": given}}

    # a write, twice: created, then the name taken (the same CONFLICT either way)
    plain, through_run = await _both_ways(client, create("teens"), tokens.ada, strawberry_runs)
    assert plain == (
        200,
        {"data": {"createSegment": {"segment": {
            "name": "teens", "definition": "age >= 13", "createdBy": {"name": "Ada Lovelace"}
        }}}},
        2,  # the token, the write with its payload (its author too)
    )  # fmt: skip
    assert through_run[1]["errors"][0]["extensions"]["code"] == "CONFLICT"
    again, _ = await _both_ways(client, create("teens"), tokens.ada, strawberry_runs)
    assert again == through_run
    # another tenant's model, a syntax error, a variable of the wrong type
    for body, token in (
        (create("elsewhere"), tokens.alan),
        ({"query": "mutation { createSegment("}, tokens.ada),
        ({"query": CREATE, "variables": {"input": {"modelId": 7}}}, tokens.ada),
        ({"query": "{ viewer { email } }", "operationName": "Nope"}, tokens.ada),
    ):
        plain, through_run = await _both_ways(client, body, token, strawberry_runs)
        assert plain == through_run
        assert plain[1]["errors"], plain


async def test_a_body_not_in_utf8_is_refused_as_the_view_refuses_it(
    client: Client, tokens: Tokens, view_runs: list[int]
) -> None:
    body = json.dumps({"query": "{ viewer { email } }"}).encode("utf-16")
    answers = []
    for path in ("/graphql", "/graphql?through=run"):
        response = await client.post(
            path,
            data=body,
            headers={"Authorization": f"Bearer {tokens.ada}", "Content-Type": "application/json"},
        )
        answers.append((response.status, _without_request_ids(await response.read())))
    assert answers[0] == answers[1]
    assert answers[0][0] == 400
    assert answers[0][1]["errors"][0]["message"] == "the request body is not valid UTF-8"
    assert view_runs == []  # refused before any check of the view


async def test_a_known_mutation_skips_the_view_but_never_runs_from_a_get(
    client: Client, conn: asyncpg.Connection, tokens: Tokens, view_runs: list[int]
) -> None:
    """A mutation answered by its compiled write is answered again without the view,
    with the same answer and statements; a GET of its persisted hash is refused as
    the view refuses it, and writes nothing."""
    model = await conn.fetchval(
        """SELECT m.id FROM models m JOIN projects p ON p.id = m.project_id
           JOIN organizations o ON o.id = p.organization_id
           WHERE o.name = 'Acme Analytics' AND p.name = 'fraud-detection'
             AND m.name = 'xgb-classifier'"""
    )

    def given(name: str) -> dict[str, Any]:
        return {"input": {"modelId": global_id("Model", model), "name": name, "definition": "x"}}

    query = "mutation New($input: CreateSegmentInput!) { createSegment(input: $input) { segment { name } } }"  # noqa: E501
    for name, runs in (("first", 1), ("second", 1)):  # the second is lean
        status, _, body, statements = await _post(client, query, tokens.ada, **given(name))
        expected = {"data": {"createSegment": {"segment": {"name": name}}}}
        assert (status, json.loads(body), statements, len(view_runs)) == (200, expected, 2, runs)
    sha = hashlib.sha256(query.encode()).hexdigest()
    persisted = {"persistedQuery": {"version": 1, "sha256Hash": sha}}
    headers = {"Authorization": f"Bearer {tokens.ada}"}
    registering = {"query": query, "variables": given("registered"), "extensions": persisted}
    assert (await client.post("/graphql", json=registering, headers=headers)).status == 200
    params = {"variables": json.dumps(given("by-get")), "extensions": json.dumps(persisted)}
    response = await client.get("/graphql", params=params, headers=headers)
    answer = await response.json()
    assert (response.status, answer["errors"][0]["extensions"]["code"]) == (405, "BAD_USER_INPUT")
    assert await conn.fetchval("SELECT count(*) FROM segments WHERE name = 'by-get'") == 0
