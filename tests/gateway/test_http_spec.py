"""GraphQL over HTTP as API.md says: request errors (a body that is not a GraphQL
request, a non-string `operationName`, several operations and none named) are
HTTP 400 without a `data` key; `application/graphql-response+json` is answered
when accepted; GET carries queries only; the `Server` header names no versions."""

from __future__ import annotations

from typing import Any

import pytest

from tests.support import Client

GRAPHQL_RESPONSE = "application/graphql-response+json"


async def _post(
    client: Client,
    body: bytes,
    token: str | None = None,
    accept: str | None = None,
) -> tuple[int, str, dict[str, Any]]:
    headers = {"Content-Type": "application/json", "X-Request-Id": "spec-1"}
    if token:
        headers["Authorization"] = f"Bearer {token}"
    if accept:
        headers["Accept"] = accept
    response = await client.post("/graphql", data=body, headers=headers)
    answer: dict[str, Any] = await response.json(content_type=None)
    return response.status, response.content_type, answer


def _request_error(message: str, code: str = "BAD_USER_INPUT") -> dict[str, Any]:
    return {"errors": [{"message": message, "extensions": {"code": code, "requestId": "spec-1"}}]}


@pytest.mark.parametrize("name", ["5", "true", "[]", "{}", "1.5"])
async def test_a_non_string_operation_name_is_a_request_error(
    client: Client, token: str, name: str
) -> None:
    body = b'{"query": "{ viewer { scopes } }", "operationName": ' + name.encode() + b"}"
    assert await _post(client, body, token) == (
        400,
        "application/json",
        _request_error("the request's `operationName` must be a string or null"),
    )


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (b"null", "the request body must be a JSON object"),
        (b"1", "the request body must be a JSON object"),
        (b'"{ viewer { scopes } }"', "the request body must be a JSON object"),
        (b'{"query": "{ __typename }", "x": "\xff\xfe"}', "the request body is not valid UTF-8"),
        (b"[" * 100_000 + b"]" * 100_000, "the request body is nested too deeply"),
    ],
)
async def test_a_body_that_is_not_a_request_is_a_request_error(
    client: Client, token: str, body: bytes, message: str
) -> None:
    assert await _post(client, body, token) == (400, "application/json", _request_error(message))


async def test_a_malformed_body_has_no_data_key(client: Client, token: str) -> None:
    assert await _post(client, b"{not json", token) == (
        400,
        "application/json",
        _request_error("Unable to parse request body as JSON"),
    )


TWO_OPERATIONS = "query A { viewer { scopes } } mutation M { __typename }"


@pytest.mark.parametrize("compiled", ["query A { viewer { scopes } }", "query A { __typename }"])
async def test_several_operations_and_no_name_is_a_request_error(
    client: Client, token: str, compiled: str
) -> None:
    for query in (TWO_OPERATIONS, compiled + " query B { organizations { totalCount } }"):
        body = b'{"query": "' + query.encode() + b'"}'
        assert await _post(client, body, token) == (
            400,
            "application/json",
            _request_error(
                "the document has several operations: name the one to run in `operationName`"
            ),
        ), query
    # named, the same document runs
    body = b'{"query": "' + TWO_OPERATIONS.encode() + b'", "operationName": "A"}'
    status, _, answer = await _post(client, body, token)
    assert (status, answer) == (200, {"data": {"viewer": {"scopes": ["*"]}}})


async def test_graphql_response_json_is_answered_when_accepted(client: Client, token: str) -> None:
    body = b'{"query": "{ viewer { scopes } }"}'
    accept = f"{GRAPHQL_RESPONSE}, application/json;q=0.9"
    status, content_type, answer = await _post(client, body, token, accept)
    assert (status, content_type, answer) == (
        200,
        GRAPHQL_RESPONSE,
        {"data": {"viewer": {"scopes": ["*"]}}},
    )
    status, content_type, _ = await _post(client, body, token, "application/json")
    assert (status, content_type) == (200, "application/json")


@pytest.mark.parametrize(
    ("query", "variables", "code", "json_status"),
    [
        ("{ viewer { ", "{}", "GRAPHQL_PARSE_FAILED", 200),
        ("{ viewer { password } }", "{}", "GRAPHQL_VALIDATION_FAILED", 200),
        ("query ($s: String!) { __type(name: $s) { name } }", '{"s": 5}', "BAD_USER_INPUT", 200),
        ("{ a: __typename " * 1 + " }", "{}", None, 200),
    ],
)
async def test_request_errors_are_400_without_data_under_graphql_response_json(
    client: Client, token: str, query: str, variables: str, code: str | None, json_status: int
) -> None:
    body = b'{"query": "' + query.encode() + b'", "variables": ' + variables.encode() + b"}"
    status, content_type, answer = await _post(client, body, token, GRAPHQL_RESPONSE)
    if code is None:  # a query that runs: 200 with data, whichever media type
        assert (status, content_type, answer) == (200, GRAPHQL_RESPONSE, {"data": {"a": "Query"}})
        return
    assert (status, content_type) == (400, GRAPHQL_RESPONSE)
    assert "data" not in answer
    assert [e["extensions"]["code"] for e in answer["errors"]] == [code]
    # the same under application/json: the status as ever, and no data key either
    status, content_type, answer = await _post(client, body, token, "application/json")
    assert (status, content_type) == (json_status, "application/json")
    assert "data" not in answer
    assert [e["extensions"]["code"] for e in answer["errors"]] == [code]


async def test_an_execution_error_keeps_its_data_key(client: Client, token: str) -> None:
    body = b'{"query": "{ organizations(first: 500) { totalCount } }"}'
    status, _, answer = await _post(client, body, token, GRAPHQL_RESPONSE)
    assert status == 200
    assert answer["data"] is None
    assert answer["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"


async def test_a_get_with_a_mutation_is_405(client: Client, token: str) -> None:
    response = await client.get(
        "/graphql",
        params={"query": "mutation { __typename }"},
        headers={"Authorization": f"Bearer {token}", "X-Request-Id": "spec-1",
                 "Accept": "application/json"},
    )  # fmt: skip
    assert response.status == 405
    assert response.headers["Allow"] == "POST"
    assert await response.json() == _request_error(
        "a GET request runs queries only: send a mutation with POST"
    )


@pytest.mark.parametrize("path", ["/graphql", "/healthz", "/metrics", "/nowhere"])
async def test_the_server_header_names_no_version(client: Client, path: str) -> None:
    response = await client.get(path)
    assert response.headers["Server"] == "envgraph"
