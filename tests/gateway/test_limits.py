"""Query limits (QUERY_TOO_COMPLEX, saying the limit and the value), fragments
that try to hide from them, and oversized or mistyped request bodies."""

from __future__ import annotations

from typing import Any

import pytest

from tests.support import Client, error, graphql

# small pages: four nested default pages of 20 would be 168,420 nodes, over the budget
TWELVE_DEEP = """organizations(first: 1) { nodes { projects(first: 1) { nodes { models(first: 1) {
    nodes { environments(first: 1) { nodes { model { project { organization { name } } } } } } }
    } } } }"""
THIRTEEN_DEEP = TWELVE_DEEP.replace(
    "organization { name }", "organization { projects { totalCount } }"
)
WIDE = (
    "organizations(first: 100) { nodes { projects(first: 100) { nodes { "
    "models(first: 10) { totalCount } } } } }"
)


async def _too_complex(client: Client, token: str, query: str, **variables: Any) -> str:
    found = await error(client, query, token, **variables)
    assert found["extensions"]["code"] == "QUERY_TOO_COMPLEX", found
    assert found["data"] is None
    message: str = found["message"]
    return message


async def test_default_pages_multiply_too(client: Client, token: str) -> None:
    query = (
        "{ organizations { nodes { projects { nodes { models { nodes { "
        "environments { totalCount } } } } } } } }"
    )
    # 20 + 20² + 20³ + 20⁴: explicit small pages are how deep queries fit
    assert await _too_complex(client, token, query) == (
        "the query may return this many nodes: 168,420; the limit is 50,000"
    )


async def test_depth(client: Client, token: str) -> None:
    status, body = await graphql(client, "{ " + TWELVE_DEEP + " }", token)
    assert (status, body.get("errors")) == (200, None)
    message = await _too_complex(client, token, "{ " + THIRTEEN_DEEP + " }")
    assert message == "the query is nested this many levels deep: 13; the limit is 12"


async def test_depth_through_fragments(client: Client, token: str) -> None:
    query = """
    { organizations(first: 1) { nodes { ...P } } }
    fragment P on Organization {
      projects(first: 1) { nodes { models(first: 1) { nodes { ...E } } } } }
    fragment E on Model { environments(first: 1) { nodes { model { project { organization {
        projects(first: 1) { totalCount } } } } } } }
    """
    assert await _too_complex(client, token, query) == (
        "the query is nested this many levels deep: 13; the limit is 12"
    )


async def test_aliases_counted_wherever_a_fragment_is_spread(client: Client, token: str) -> None:
    sixteen = " ".join(f"a{i}: __typename" for i in range(16))
    query = f"{{ ...F x: viewer {{ ...G }} }} fragment F on Query {{ {sixteen} }} " \
            f"fragment G on Viewer {{ {sixteen.replace('a', 'b')} }}"  # fmt: skip
    assert await _too_complex(client, token, query) == (
        "the query has this many aliases: 33; the limit is 30"
    )
    thirty = " ".join(f"a{i}: __typename" for i in range(30))
    status, body = await graphql(client, f"{{ {thirty} }}", token)
    assert (status, body.get("errors")) == (200, None)


async def test_tokens(client: Client, token: str) -> None:
    query = "{ " + "__typename " * 9_999 + "}"  # 10,001 tokens
    assert await _too_complex(client, token, query) == (
        "the query has this many tokens: 10,001; the limit is 10,000"
    )


@pytest.mark.parametrize(
    ("query", "variables"),
    [
        ("{ " + WIDE + " }", {}),
        (
            "query ($n: Int) { "
            + WIDE.replace("first: 100) { nodes { projects", "first: $n) { nodes { projects")
            + " }",
            {"n": 100},
        ),
        ("{ ...W } fragment W on Query { " + WIDE + " }", {}),
    ],
)
async def test_node_budget(
    client: Client, token: str, query: str, variables: dict[str, Any]
) -> None:
    # 100 organizations + 100 * 100 projects + 100 * 100 * 10 models
    assert await _too_complex(client, token, query, **variables) == (
        "the query may return this many nodes: 110,100; the limit is 50,000"
    )


async def test_a_small_page_fits_the_budget(client: Client, token: str) -> None:
    query = (
        "query ($n: Int) { "
        + WIDE.replace("first: 100) { nodes { projects", "first: $n) { nodes { projects")
        + " }"
    )
    status, body = await graphql(client, query, token, n=1)
    assert (status, body) == (200, {"data": {"organizations": {"nodes": []}}})


async def test_fragment_bombs_are_cut_short(client: Client, token: str) -> None:
    levels = [f"fragment F{i} on Query {{ ...F{i + 1} ...F{i + 1} }}" for i in range(20)]
    query = "{ ...F0 } " + " ".join(levels) + " fragment F20 on Query { __typename }"
    assert await _too_complex(client, token, query) == (
        "the query expands to more than 200,000 fields (fragments spread within fragments)"
    )


async def test_an_oversized_body_is_413(client: Client, token: str) -> None:
    response = await client.post(
        "/graphql",
        data=b'{"query": "{ __typename }", "padding": "' + b"x" * (1024 * 1024) + b'"}',
        headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"},
    )
    assert response.status == 413
    body = await response.json()
    assert body["errors"][0]["message"] == "the request body is over 1,048,576 bytes"
    assert body["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"


async def test_a_wrong_content_type_is_a_coded_400(client: Client, token: str) -> None:
    response = await client.post(
        "/graphql",
        data=b"query=%7B__typename%7D",
        headers={"Authorization": f"Bearer {token}", "Content-Type": "text/plain"},
    )
    assert response.status == 400
    body = await response.json()
    assert body["errors"][0]["message"] == "Unsupported content type"
    assert body["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"
