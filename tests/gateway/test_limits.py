"""Query limits (QUERY_TOO_COMPLEX, saying the limit and the value), fragments
that try to hide from them, and oversized or mistyped request bodies."""

from __future__ import annotations

from typing import Any

import pytest
from graphql import parse

from tests.support import Client, count_validations, error, graphql

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
        "the query has more than 10,000 tokens; the limit is 10,000"
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
    # counted once per fragment, not expanded: the definitions are checked from
    # the last, and F13's selection set is the first to hold too many, 2^7
    assert await _too_complex(client, token, query) == (
        "a selection set of the query holds this many fields once its fragments are "
        "spread: 128; the limit is 100"
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


# a 1 MB document of half a million tokens (under the body limit)
HUGE = "{ a0 " + "a " * 500_000 + "}"


@pytest.fixture
def parses(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """The sizes of the documents parsed while the test runs."""
    seen: list[int] = []

    def counting(source: str, **options: Any) -> Any:
        seen.append(len(source))
        return parse(source, **options)

    monkeypatch.setattr("schema.documents.parse", counting)
    return seen


async def test_a_huge_anonymous_document_is_refused_before_parsing(
    client: Client, parses: list[int]
) -> None:
    status, body = await graphql(client, HUGE)
    assert status == 401
    assert [e["extensions"]["code"] for e in body["errors"]] == ["UNAUTHENTICATED"]
    assert parses == []


async def test_a_huge_document_is_over_the_token_limit_before_parsing(
    client: Client, token: str, parses: list[int]
) -> None:
    assert await _too_complex(client, token, HUGE) == (
        "the query has more than 10,000 tokens; the limit is 10,000"
    )
    assert parses == []


async def test_large_documents_are_not_kept_after_their_request(
    client: Client, token: str, parses: list[int]
) -> None:
    from schema.documents import cached

    large = "# " + "x" * 20_000 + "\n{ __typename }"  # 20 KB, within every limit
    small = "query KeptSmall { __typename }"
    for query in (large, small):
        status, body = await graphql(client, query, token)
        assert (status, body) == (200, {"data": {"__typename": "Query"}})
    assert (cached(large), cached(small)) == (False, True)
    # each parsed once in its request, though three parts of the gateway read it
    assert parses == [len(large), len(small)]


async def test_an_anonymous_introspection_is_answered(client: Client) -> None:
    status, body = await graphql(client, "{ __schema { queryType { name } } }")
    assert (status, body) == (200, {"data": {"__schema": {"queryType": {"name": "Query"}}}})


@pytest.mark.parametrize(
    ("query", "message"),
    [
        # validation bombs: 1,400 copies of one introspection, 2,400 of one field
        (
            "{ " + "__schema { queryType { name } } " * 1_400 + "}",
            "a selection set of the query has this many selections: 1,400; the limit is 100",
        ),
        (
            "{ " + "viewer { scopes } " * 2_400 + "}",
            "a selection set of the query has this many selections: 2,400; the limit is 100",
        ),
        # 99 copies of one field with a selection: validation compared 4,851 pairs
        (
            "{ " + "__schema { queryType { name } } " * 99 + "}",
            "a selection set of the query repeats fields with selections under one name, "
            "pairs of them: 4,851; the limit is 100",
        ),
        # twelve selection sets within the width, over the total
        (
            "{ " + ("viewer { " + "scopes " * 90 + "} ") * 12 + "}",
            "the query has this many fields: 1,092; the limit is 1,000",
        ),
    ],
)
async def test_wide_selection_sets_are_refused_before_validation(
    client: Client, token: str, query: str, message: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    validated = count_validations(monkeypatch)
    found = await error(client, query, token)
    assert (found["message"], found["extensions"]["code"]) == (message, "QUERY_TOO_COMPLEX")
    assert validated == []


def _grouped_fragments(fields: int) -> str:
    """`fields` distinct fragments of one field each, spread ten to a fragment into
    one selection set: each selection set is narrow as written."""
    groups = " ".join(
        f"fragment G{g} on Viewer {{ "
        + " ".join(f"...F{n}" for n in range(g * 10, g * 10 + 10))
        + " }"
        for g in range(fields // 10)
    )
    spreads = " ".join(f"...G{g}" for g in range(fields // 10))
    singles = " ".join(f"fragment F{n} on Viewer {{ scopes }}" for n in range(fields))
    return f"{{ viewer {{ {spreads} }} }} {groups} {singles}"


async def test_fragments_count_where_they_are_spread(
    client: Client, token: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    validated = count_validations(monkeypatch)
    # 600 distinct fragments merged into one selection set: graphql-core's rule
    # that fields can merge compared them pair by pair for most of a second
    found = await error(client, _grouped_fragments(600), token)
    assert (found["message"], found["extensions"]["code"]) == (
        "a selection set of the query holds this many fields once its fragments are "
        "spread: 600; the limit is 100",
        "QUERY_TOO_COMPLEX",
    )
    assert validated == []
    # a chain of fragments as long as the tokens allow is counted without recursion
    # (the operation last: it is checked first, from the top of the chain)
    chain = " ".join(f"fragment F{n} on Viewer {{ scopes ...F{n + 1} }}" for n in range(1_000))
    query = chain + " fragment F1000 on Viewer { scopes } { viewer { ...F0 } }"
    found = await error(client, query, token)
    assert found["message"] == (
        "a selection set of the query holds this many fields once its fragments are "
        "spread: 1,001; the limit is 100"
    )
    # a cycle counts nothing more: validation reports it
    cycle = "{ viewer { ...A } } fragment A on Viewer { scopes ...B } " \
            "fragment B on Viewer { scopes ...A }"  # fmt: skip
    found = await error(client, cycle, token)
    assert found["message"] == "Cannot spread fragment 'A' within itself via 'B'."
    # half as many fields as the limit, all of one name through 50 fragments, run;
    # at the limit, comparing them goes past the validation's budget
    status, body = await graphql(client, _grouped_fragments(50), token)
    assert (status, body) == (200, {"data": {"viewer": {"scopes": ["*"]}}})
    found = await error(client, _grouped_fragments(100), token)
    assert (found["extensions"]["code"], found["message"]) == ("QUERY_TOO_COMPLEX", _BUDGET)


_BUDGET = (
    "the query repeats fields of one name too often to be checked "
    "(comparing them took over 10,000 steps)"
)


async def test_validation_stops_at_its_budget(client: Client, token: str) -> None:
    # within every limit checked before validation, but ten sets of 99 fields of
    # one name make graphql-core compare 441,000 pairs: past its budget, the
    # validation stops (after 0.3 s at the library's default budget, 20 ms at ours)
    query = "{ " + ("viewer { " + "scopes " * 99 + "} ") * 10 + "}"
    found = await error(client, query, token)
    assert (found["message"], found["extensions"]["code"]) == (_BUDGET, "QUERY_TOO_COMPLEX")


async def test_wide_anonymous_introspection_is_refused_before_validation(client: Client) -> None:
    status, body = await graphql(client, "{ " + "__schema { queryType { name } } " * 150 + "}")
    assert status == 200
    [found] = body["errors"]
    assert (found["message"], found["extensions"]["code"]) == (
        "a selection set of the query has this many selections: 150; the limit is 100",
        "QUERY_TOO_COMPLEX",
    )
    # longer than any introspection query: refused unparsed
    status, body = await graphql(client, "{ " + "__schema { queryType { name } } " * 1_400 + "}")
    assert status == 401


def _nested(depth: int, leaf: Any) -> Any:
    value = leaf
    for _ in range(depth):
        value = [value]
    return value


async def test_deeply_nested_variables_are_refused(client: Client, token: str) -> None:
    for who in (None, token):
        status, body = await graphql(client, "{ __typename }", who, x=_nested(400, 1))
        assert status == 400, body
        assert body == {"errors": [{
            "message": "the variables are nested this many levels deep: 401; the limit is 32",
            "extensions": {"code": "BAD_USER_INPUT", "requestId": body["errors"][0]
                           ["extensions"]["requestId"]},
        }]}  # fmt: skip


async def test_a_deeply_nested_filter_is_refused(client: Client, token: str) -> None:
    filter_: dict[str, Any] = {"name": {"eq": "x"}}
    for _ in range(200):
        filter_ = {"and": [filter_]}
    query = "query ($f: EnvironmentFilter) { environments(filter: $f) { totalCount } }"
    status, body = await graphql(client, query, token, f=filter_)
    assert status == 400
    [found] = body["errors"]
    assert (found["message"], found["extensions"]["code"]) == (
        "the variables are nested this many levels deep: 403; the limit is 32",
        "BAD_USER_INPUT",
    )
    # the same filter written in the document
    literal = "x"
    text = '{name: {eq: "x"}}'
    for _ in range(200):
        text = "{and: [" + text + "]}"
    literal = f"{{ environments(filter: {text}) {{ totalCount }} }}"
    found = await error(client, literal, token)
    assert (found["message"], found["extensions"]["code"]) == (
        "the query nests brackets this many levels deep: 404; the limit is 46",
        "QUERY_TOO_COMPLEX",
    )
    # a filter nested as deep as the limit runs
    filter_ = {"name": {"eq": "x"}}
    for _ in range(14):  # 1 + 14 * 2 + 2 = 31 levels
        filter_ = {"and": [filter_]}
    status, body = await graphql(client, query, token, f=filter_)
    assert (status, body) == (200, {"data": {"environments": {"totalCount": 0}}})
