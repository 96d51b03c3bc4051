"""Persisted operations as API.md says ("GraphQL over HTTP"): Apollo's automatic
persisted queries (a hash alone is PERSISTED_QUERY_NOT_FOUND until the hash is
sent with its text; stored in PostgreSQL, so another process finds it; GET for
queries only) and the trusted documents mode (GATEWAY_TRUSTED_DOCUMENTS: only
the manifest's documents run, anything else is OPERATION_NOT_ALLOWED)."""

from __future__ import annotations

import dataclasses
import hashlib
import json
import logging
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import asyncpg
import pytest
from aiohttp.test_utils import TestClient, TestServer

from gateway.app import create_app
from gateway.graphql_view import GatewayView
from gateway.keys import STATEMENTS
from gateway.settings import Settings, SettingsError, load_settings
from tests.gateway.test_cli import run_cli
from tests.gateway.test_metrics import _scrape as scrape
from tests.support import Client

VIEWER = "query Viewer { viewer { scopes } }"
VIEWER_DATA = {"data": {"viewer": {"scopes": ["*"]}}}
INTROSPECTION = "{ __typename }"
MUTATION = 'mutation Make { createOrganization(input: {name: "x"}) { organization { name } } }'
GRAPHQL_RESPONSE = "application/graphql-response+json"
REQUEST_ID = "apq-1"


def sha(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def persisted(text: str, version: object = 1) -> dict[str, Any]:
    return {"persistedQuery": {"version": version, "sha256Hash": sha(text)}}


def _headers(token: str | None, accept: str | None = None) -> dict[str, str]:
    headers = {"X-Request-Id": REQUEST_ID}
    if token:
        headers["Authorization"] = f"Bearer {token}"
    if accept:
        headers["Accept"] = accept
    return headers


async def post(
    client: Client, body: dict[str, Any], token: str | None, accept: str | None = None
) -> tuple[int, dict[str, Any]]:
    response = await client.post("/graphql", json=body, headers=_headers(token, accept))
    answer: dict[str, Any] = await response.json(content_type=None)
    return response.status, answer


async def get(
    client: Client, params: dict[str, Any], token: str | None
) -> tuple[int, dict[str, str], dict[str, Any]]:
    query = urlencode({k: json.dumps(v) if isinstance(v, dict) else v for k, v in params.items()})
    response = await client.get(f"/graphql?{query}", headers=_headers(token))
    answer: dict[str, Any] = await response.json(content_type=None)
    return response.status, dict(response.headers), answer


def refusal(message: str, code: str) -> dict[str, Any]:
    return {"errors": [{"message": message, "extensions": {"code": code, "requestId": REQUEST_ID}}]}


NOT_FOUND = refusal("PersistedQueryNotFound", "PERSISTED_QUERY_NOT_FOUND")
MISMATCH = refusal("provided sha does not match query", "BAD_USER_INPUT")
NOT_ALLOWED = refusal(
    "only the documents of the trusted documents manifest run here: "
    "this operation is not one of them",
    "OPERATION_NOT_ALLOWED",
)


async def stored(conn: asyncpg.Connection) -> dict[str, str]:
    rows = await conn.fetch("SELECT sha256, body FROM persisted_documents")
    return {row["sha256"]: row["body"] for row in rows}


def view(client: Client) -> GatewayView:
    for route in client.app.router.routes():
        handler = route.handler
        if isinstance(handler, GatewayView):
            return handler
    raise AssertionError("no GraphQL view")


async def test_a_hash_alone_is_not_found_until_sent_with_its_text(
    client: Client, token: str, conn: asyncpg.Connection
) -> None:
    hash_only = {"extensions": persisted(VIEWER)}
    response = await client.post("/graphql", json=hash_only, headers=_headers(token))
    # what Apollo's clients look for (message and code), uncached on the way
    assert (response.status, await response.json()) == (200, NOT_FOUND)
    assert response.headers["Cache-Control"] == "private, no-cache, must-revalidate"
    # a request error: 400 under application/graphql-response+json, no data key
    assert await post(client, hash_only, token, GRAPHQL_RESPONSE) == (400, NOT_FOUND)
    assert await stored(conn) == {}

    assert await post(client, {"query": VIEWER, **hash_only}, token) == (200, VIEWER_DATA)
    assert await stored(conn) == {sha(VIEWER): VIEWER}
    assert await post(client, hash_only, token) == (200, VIEWER_DATA)


async def test_a_persisted_operation_costs_what_a_sent_one_costs(
    client: Client, token: str
) -> None:
    statements = client.app[STATEMENTS]

    async def cost(body: dict[str, Any]) -> int:
        before = statements.total
        assert await post(client, body, token) == (200, VIEWER_DATA)
        return statements.total - before

    sent = await cost({"query": VIEWER})
    hash_only = {"extensions": persisted(VIEWER)}
    # registering: one INSERT more, once for the process
    assert await cost({"query": VIEWER, **hash_only}) == sent + 1
    assert await cost({"query": VIEWER, **hash_only}) == sent
    # by hash, from the process's cache: nothing more than the text would cost
    assert await cost(hash_only) == sent
    # not in the process's cache (a new process): one look-up in the table, then cached
    view(client).documents.forget()
    assert await cost(hash_only) == sent + 1
    assert await cost(hash_only) == sent


async def test_another_instance_runs_what_one_stored(
    client: Client, settings: Settings, token: str
) -> None:
    hash_only = {"extensions": persisted(VIEWER)}
    async with TestClient(TestServer(create_app(settings))) as other:
        assert await post(other, hash_only, token) == (200, NOT_FOUND)
        assert await post(client, {"query": VIEWER, **hash_only}, token) == (200, VIEWER_DATA)
        assert await post(other, hash_only, token) == (200, VIEWER_DATA)


async def test_a_hash_that_is_not_the_texts_is_refused_and_nothing_stored(
    client: Client, token: str, conn: asyncpg.Connection
) -> None:
    body = {"query": VIEWER, "extensions": persisted("{ viewer { superuser } }")}
    assert await post(client, body, token) == (400, MISMATCH)
    assert await post(client, body, token, GRAPHQL_RESPONSE) == (400, MISMATCH)
    assert await stored(conn) == {}


@pytest.mark.parametrize(
    ("extensions", "message"),
    [
        (
            {"persistedQuery": {"version": 2, "sha256Hash": sha(VIEWER)}},
            "Unsupported persisted query version: 2 (version 1 is the one supported)",
        ),
        (
            {"persistedQuery": {"sha256Hash": sha(VIEWER)}},
            "Unsupported persisted query version: null (version 1 is the one supported)",
        ),
        (
            {"persistedQuery": {"version": 1, "sha256Hash": "abc"}},
            "`extensions.persistedQuery.sha256Hash` must be the document's SHA-256 in hex "
            "(64 characters)",
        ),
        (
            {"persistedQuery": "yes"},
            "`extensions.persistedQuery` must be an object: {version: 1, sha256Hash}",
        ),
    ],
)
async def test_a_malformed_persisted_query_is_a_clear_request_error(
    client: Client, token: str, extensions: dict[str, Any], message: str
) -> None:
    expected = refusal(message, "BAD_USER_INPUT")
    assert await post(client, {"extensions": extensions}, token) == (400, expected)
    assert await post(client, {"query": VIEWER, "extensions": extensions}, token) == (
        400,
        expected,
    )


async def test_get_runs_a_persisted_query_by_hash(client: Client, token: str) -> None:
    params = {"operationName": "Viewer", "variables": {}, "extensions": persisted(VIEWER)}
    status, headers, answer = await get(client, params, token)
    assert (status, answer) == (200, NOT_FOUND)
    assert headers["Cache-Control"] == "private, no-cache, must-revalidate"
    assert (await get(client, {**params, "query": VIEWER}, token))[::2] == (200, VIEWER_DATA)
    assert (await get(client, params, token))[::2] == (200, VIEWER_DATA)
    # a browser's Accept (*/*) gets the answer, not GraphiQL
    response = await client.get(
        f"/graphql?{urlencode({'extensions': json.dumps(persisted(VIEWER))})}",
        headers={**_headers(token), "Accept": "*/*"},
    )
    assert (response.status, await response.json()) == (200, VIEWER_DATA)


async def test_get_of_a_persisted_mutation_is_405(
    client: Client, token: str, conn: asyncpg.Connection
) -> None:
    await conn.execute(
        "INSERT INTO persisted_documents (sha256, body) VALUES ($1, $2)", sha(MUTATION), MUTATION
    )
    status, headers, answer = await get(client, {"extensions": persisted(MUTATION)}, token)
    assert (status, headers["Allow"], answer) == (
        405,
        "POST",
        refusal("a GET request runs queries only: send a mutation with POST", "BAD_USER_INPUT"),
    )
    assert await conn.fetchval("SELECT count(*) FROM organizations WHERE name = 'x'") == 0


async def test_only_a_valid_document_of_an_authenticated_caller_is_stored(
    client: Client, token: str, conn: asyncpg.Connection
) -> None:
    invalid = "{ viewer { password } }"
    status, answer = await post(client, {"query": invalid, "extensions": persisted(invalid)}, token)
    assert (status, answer["errors"][0]["extensions"]["code"]) == (
        200,
        "GRAPHQL_VALIDATION_FAILED",
    )
    # anonymous: runs what it may run (introspection), stores nothing
    body = {"query": INTROSPECTION, "extensions": persisted(INTROSPECTION)}
    assert await post(client, body, None) == (200, {"data": {"__typename": "Query"}})
    # nor registers what it may not run
    body = {"query": VIEWER, "extensions": persisted(VIEWER)}
    status, answer = await post(client, body, None)
    assert (status, answer["errors"][0]["extensions"]["code"]) == (401, "UNAUTHENTICATED")
    assert await stored(conn) == {}
    # a stored document run by hash is checked as if it had been sent
    assert await post(client, body, token) == (200, VIEWER_DATA)
    status, answer = await post(client, {"extensions": persisted(VIEWER)}, None)
    assert (status, answer["errors"][0]["extensions"]["code"]) == (401, "UNAUTHENTICATED")


async def test_a_persisted_document_meets_the_limits_of_a_sent_one(
    settings: Settings, token: str, conn: asyncpg.Connection
) -> None:
    deep = "{ organizations { nodes { projects { nodes { models { nodes { name } } } } } } }"
    await conn.execute(
        "INSERT INTO persisted_documents (sha256, body) VALUES ($1, $2)", sha(deep), deep
    )
    shallow = dataclasses.replace(settings, max_query_depth=3)
    async with TestClient(TestServer(create_app(shallow))) as client:
        sent_status, sent = await post(client, {"query": deep}, token)
        by_hash = await post(client, {"extensions": persisted(deep)}, token)
        # nor is a document over a limit stored when sent with its hash
        deeper = deep.replace("{ name }", "{ name version }")
        registering = await post(client, {"query": deeper, "extensions": persisted(deeper)}, token)
    assert sent["errors"][0]["extensions"]["code"] == "QUERY_TOO_COMPLEX"
    assert by_hash == (sent_status, sent)
    assert registering[1]["errors"][0]["extensions"]["code"] == "QUERY_TOO_COMPLEX"
    assert list(await stored(conn)) == [sha(deep)]


# trusted documents


def _object_manifest(documents: list[str]) -> object:
    return {sha(text): text for text in documents}


def _apollo_manifest(documents: list[str]) -> object:
    return {
        "format": "apollo-persisted-query-manifest",
        "version": 1,
        "operations": [
            {"id": sha(text), "name": "Op", "type": "query", "body": text} for text in documents
        ],
    }


@pytest.fixture(params=[_object_manifest, _apollo_manifest], ids=["object", "apollo"])
async def trusted_client(
    request: pytest.FixtureRequest, settings: Settings, tmp_path: Path
) -> AsyncIterator[Client]:
    manifest = tmp_path / "manifest.json"
    manifest.write_text(json.dumps(request.param([VIEWER, INTROSPECTION])))
    trusted = dataclasses.replace(settings, trusted_documents=manifest)
    async with TestClient(TestServer(create_app(trusted))) as client:
        yield client


async def test_trusted_documents_run_and_nothing_else(
    trusted_client: Client, token: str, conn: asyncpg.Connection
) -> None:
    client = trusted_client
    assert await post(client, {"extensions": persisted(VIEWER)}, token) == (200, VIEWER_DATA)
    assert (await get(client, {"extensions": persisted(VIEWER)}, token))[::2] == (
        200,
        VIEWER_DATA,
    )
    body = {"query": VIEWER, "extensions": persisted(VIEWER)}
    assert await post(client, body, token) == (200, VIEWER_DATA)
    # the very text of a listed document is that document
    assert await post(client, {"query": VIEWER}, token) == (200, VIEWER_DATA)
    other = "{ viewer { superuser } }"
    for refused in (
        {"query": other},
        {"extensions": persisted(other)},
        {"query": other, "extensions": persisted(other)},
        {"query": VIEWER + " "},
        {},
    ):
        assert await post(client, refused, token) == (200, NOT_ALLOWED), refused
        assert await post(client, refused, token, GRAPHQL_RESPONSE) == (400, NOT_ALLOWED)
    body = {"query": other, "extensions": persisted(VIEWER)}
    assert await post(client, body, token) == (400, MISMATCH)
    # anonymous: a listed introspection runs; the rest needs a token, as ever
    assert await post(client, {"extensions": persisted(INTROSPECTION)}, None) == (
        200,
        {"data": {"__typename": "Query"}},
    )
    status, answer = await post(client, {"extensions": persisted(VIEWER)}, None)
    assert (status, answer["errors"][0]["extensions"]["code"]) == (401, "UNAUTHENTICATED")
    # introspection not listed is not allowed either
    unlisted = {"query": "{ __schema { queryType { name } } }"}
    assert await post(client, unlisted, None) == (200, NOT_ALLOWED)
    assert await stored(conn) == {}


BAD_MANIFESTS = [
    ("{", "the manifest is not JSON: Expecting property name enclosed in double quotes"),
    ("[]", "the manifest must be a JSON object mapping each document's SHA-256"),
    ("{}", "the manifest lists no documents: every operation would be refused"),
    (json.dumps({"abc": VIEWER}), "entry 'abc': 'abc' is not the SHA-256 (in hex) of its"),
    (json.dumps({sha(VIEWER): 5}), "the document must be a non-empty string"),
    (
        json.dumps({"format": "apollo-persisted-query-manifest", "version": 2, "operations": []}),
        "the manifest's version is 2: version 1 is the one supported",
    ),
    (
        json.dumps({"format": "relay", "version": 1, "operations": []}),
        "the manifest's format is not 'apollo-persisted-query-manifest'",
    ),
    (
        json.dumps(
            {
                "format": "apollo-persisted-query-manifest",
                "version": 1,
                "operations": [{"id": sha(INTROSPECTION), "body": VIEWER}],
            }
        ),
        "operation 1: ",
    ),
]


@pytest.mark.parametrize(("text", "message"), BAD_MANIFESTS)
def test_a_bad_manifest_is_a_settings_error(tmp_path: Path, text: str, message: str) -> None:
    manifest = tmp_path / "manifest.json"
    manifest.write_text(text)
    with pytest.raises(SettingsError) as raised:
        load_settings({"GATEWAY_TRUSTED_DOCUMENTS": str(manifest)})
    assert str(raised.value).startswith(f"GATEWAY_TRUSTED_DOCUMENTS={str(manifest)!r}: ")
    assert message in str(raised.value)
    with pytest.raises(SettingsError) as made:
        create_app(Settings(database_url="postgresql://x/y", trusted_documents=manifest))
    assert str(made.value) == str(raised.value)


def test_serve_refuses_to_start_with_a_bad_manifest(tmp_path: Path, database_url: str) -> None:
    missing = tmp_path / "missing.json"
    result = run_cli(
        "serve", env={"DATABASE_URL": database_url, "GATEWAY_TRUSTED_DOCUMENTS": str(missing)}
    )
    assert result.returncode == 2
    assert result.stderr == (
        f"envgraph: GATEWAY_TRUSTED_DOCUMENTS={str(missing)!r}: cannot read the manifest: "
        f"[Errno 2] No such file or directory: {str(missing)!r}\n"
    )


async def test_a_persisted_operation_is_logged_and_counted_as_a_sent_one(
    client: Client, token: str, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="envgraph.requests")
    hash_only = {"extensions": persisted(VIEWER)}
    assert await post(client, hash_only, token) == (200, NOT_FOUND)
    assert await post(client, {"query": VIEWER, **hash_only}, token) == (200, VIEWER_DATA)
    assert await post(client, hash_only, token) == (200, VIEWER_DATA)
    assert await post(client, {"query": VIEWER}, token) == (200, VIEWER_DATA)
    fields = [r.__dict__["fields"] for r in caplog.records if r.name == "envgraph.requests"]
    seen = [(f["operation"], f["status"], f["errors"], f["executor"]) for f in fields]
    assert seen == [
        (None, 200, ["PERSISTED_QUERY_NOT_FOUND"], None),
        ("Viewer", 200, [], "resolver"),  # `viewer` is not compiled
        ("Viewer", 200, [], "resolver"),
        ("Viewer", 200, [], "resolver"),
    ]
    # the token check, and: the look-up in the table; the INSERT that registers;
    # nothing more by hash from the process's cache than with the text
    assert [f["statements"] for f in fields] == [2, 2, 1, 1]
    samples = await scrape(client)
    assert samples[("envgraph_errors_total", (("code", "PERSISTED_QUERY_NOT_FOUND"),))] == 1
    ok = (("operation", "Viewer"), ("outcome", "ok"))
    assert samples[("envgraph_requests_total", ok)] == 3


async def test_a_persisted_read_is_answered_by_the_compiled_path(
    client: Client, token: str, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="envgraph.requests")
    orgs = "query Orgs { organizations { totalCount } }"
    expected = (200, {"data": {"organizations": {"totalCount": 0}}})
    assert await post(client, {"query": orgs, "extensions": persisted(orgs)}, token) == expected
    assert (await get(client, {"extensions": persisted(orgs)}, token))[::2] == expected
    fields = [r.__dict__["fields"] for r in caplog.records if r.name == "envgraph.requests"]
    assert [(f["method"], f["operation"], f["executor"]) for f in fields] == [
        ("POST", "Orgs", "compiled"),
        ("GET", "Orgs", "compiled"),
    ]
