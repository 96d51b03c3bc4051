"""Hostile input, property-based: whatever a client sends as filters, cursors,
ids, search strings or mutation input (SQL metacharacters, unicode, NUL,
lone surrogates, huge numbers, wrong types), the answer is a coded error or
data, never INTERNAL_SERVER_ERROR, a 5xx, a trace or SQL; and the service
answers normally right after."""

from __future__ import annotations

import base64
import json
from typing import Any

from graphql import (
    GraphQLEnumType,
    GraphQLInputObjectType,
    GraphQLInputType,
    GraphQLList,
    GraphQLNonNull,
    GraphQLScalarType,
)
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from db.entities import ENTITIES
from schema.ids import global_id
from schema.schema import build_schema
from tests.schema.conftest import Tokens
from tests.support import Client

CODES = {
    "UNAUTHENTICATED", "FORBIDDEN", "NOT_FOUND", "BAD_USER_INPUT", "CONFLICT",
    "GRAPHQL_PARSE_FAILED", "GRAPHQL_VALIDATION_FAILED", "QUERY_TOO_COMPLEX",
}  # fmt: skip
# what would betray the implementation in an error message
LEAKS = ("asyncpg", "Traceback", "SELECT ", " WHERE ", "psycopg", "postgres", 'File "')
EXAMPLES = settings(
    max_examples=120,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
SCHEMA = build_schema(introspection=True)._schema
# every node type the registry makes, and User
TYPE_NAMES = (*(e.type_name for e in ENTITIES.values()), "User")

metacharacters = st.sampled_from(
    ["'", '"', ";", "--", "/*", "*/", "%", "_", "\\", "\x00", "\ud800", "$1", "::", "' OR 1=1 --"]
)
hostile_text = st.one_of(
    st.text(max_size=40),
    st.lists(st.one_of(metacharacters, st.text(max_size=5)), max_size=8).map("".join),
    st.text(alphabet=st.characters(codec="utf-8"), min_size=200, max_size=2000),
)
huge_numbers = st.one_of(
    st.integers(min_value=-(2**80), max_value=2**80),
    st.sampled_from([2**31, -(2**31) - 1, 2**63, -(2**63) - 1, 10**30]),
    st.floats(allow_nan=False, allow_infinity=False),
)
any_json = st.recursive(
    st.one_of(st.none(), st.booleans(), huge_numbers, hostile_text),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(hostile_text, inner, max_size=3),
    max_leaves=6,
)
uuids = st.uuids().map(str)
hostile_ids = st.one_of(
    hostile_text,
    st.builds(global_id, st.sampled_from(TYPE_NAMES), st.uuids()),
    st.builds(lambda t, x: base64.b64encode(f"{t}:{x}".encode("utf-8", "surrogatepass")).decode(),
              st.sampled_from([*TYPE_NAMES, "Viewer", ""]), hostile_text),
)  # fmt: skip
# text a cursor can be made of: valid Unicode (a lone surrogate is refused at
# the door, tested below, and cannot be encoded into a cursor's bytes at all)
cursor_text = st.one_of(
    st.text(alphabet=st.characters(codec="utf-8"), max_size=40),
    st.lists(metacharacters.filter(lambda m: m != "\ud800"), max_size=8).map("".join),
)
hostile_cursors = st.one_of(
    hostile_text,
    st.builds(
        lambda n, p: base64.urlsafe_b64encode(f"cursor:{n}:{p}".encode()).decode(),
        huge_numbers, st.sampled_from(["", "0" * 12, "x"]) | cursor_text,
    ),
    st.builds(lambda t: base64.urlsafe_b64encode(t.encode()).decode(), cursor_text),
    st.binary(max_size=40).map(lambda b: base64.urlsafe_b64encode(b).decode()),
)  # fmt: skip


def values_for(kind: GraphQLInputType, depth: int = 0) -> st.SearchStrategy[Any]:
    """Values shaped like the input type (with hostile leaves), sometimes not at all."""
    if isinstance(kind, GraphQLNonNull):
        return values_for(kind.of_type, depth)
    shaped: st.SearchStrategy[Any]
    if isinstance(kind, GraphQLList):
        shaped = st.lists(values_for(kind.of_type, depth + 1), max_size=3)
    elif isinstance(kind, GraphQLInputObjectType):
        fields = kind.fields
        if depth > 2:
            return st.just({})
        shaped = st.fixed_dictionaries(
            {}, optional={name: values_for(f.type, depth + 1) for name, f in fields.items()}
        )
    elif isinstance(kind, GraphQLEnumType):
        shaped = st.sampled_from(list(kind.values)) | hostile_text
    elif isinstance(kind, GraphQLScalarType) and kind.name in ("Int", "Float"):
        shaped = huge_numbers
    elif isinstance(kind, GraphQLScalarType) and kind.name == "Boolean":
        shaped = st.booleans()
    elif isinstance(kind, GraphQLScalarType) and kind.name == "ID":
        shaped = hostile_ids
    elif isinstance(kind, GraphQLScalarType) and kind.name == "DateTime":
        shaped = hostile_text | st.datetimes().map(lambda d: d.isoformat()) | huge_numbers
    else:
        shaped = hostile_text
    # mostly shaped, so that values get past coercion to the code behind it
    return st.one_of(*[shaped] * 9, any_json)


def _input(name: str) -> GraphQLInputType:
    kind = SCHEMA.get_type(name)
    assert isinstance(kind, GraphQLInputObjectType)
    return kind


async def _answered_sanely(client: Client, token: str, query: str, variables: Any) -> None:
    try:
        body_text = json.dumps({"query": query, "variables": variables})
    except ValueError:
        return
    response = await client.post(
        "/graphql",
        data=body_text,
        headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"},
    )
    text = await response.text()
    assert response.status < 500, text
    body = json.loads(text)
    # what the client sent may be quoted back ("Field 'postgres' is not defined"):
    # only a word it did not send betrays the implementation
    leaks = [leak for leak in LEAKS if leak not in body_text]
    for error in body.get("errors") or ():
        assert error["extensions"]["code"] in CODES, error
        assert not any(leak in error["message"] for leak in leaks), error
    # and the next, ordinary request is answered as ever
    normal = await client.post(
        "/graphql",
        json={"query": "{ organizations { totalCount } }"},
        headers={"Authorization": f"Bearer {token}"},
    )
    assert await normal.json() == {"data": {"organizations": {"totalCount": 2}}}


FILTER = """query($f: EnvironmentFilter) {
  environments(filter: $f, first: 5) { totalCount edges { cursor node { id name } } } }"""
SEARCH = """query($s: String, $o: [SegmentOrder!]) {
  segments(search: $s, orderBy: $o, first: 5) { totalCount nodes { name model { name } } } }"""
PAGE = """query($a: String, $b: String, $first: Int, $last: Int, $offset: Int) {
  segments(after: $a, before: $b, first: $first, last: $last, offset: $offset) {
    totalCount pageInfo { hasNextPage hasPreviousPage startCursor } nodes { name } } }"""
IDS = """query($id: ID!, $ids: [ID!]!) {
  node(id: $id) { id } nodes(ids: $ids) { id } environment(id: $id) { name }
  model(id: $id) { environments(first: 1) { totalCount } } }"""
CREATE = """mutation($input: CreateSegmentInput!) {
  createSegment(input: $input) { segment { id name } } }"""


@EXAMPLES
@given(filter_=values_for(_input("EnvironmentFilter")))
async def test_filters(client: Client, tokens: Tokens, filter_: Any) -> None:
    await _answered_sanely(client, tokens.ada, FILTER, {"f": filter_})


@EXAMPLES
@given(
    search=hostile_text,
    order=st.none() | values_for(GraphQLList(GraphQLNonNull(_input("SegmentOrder")))),
)
async def test_search_and_order(client: Client, tokens: Tokens, search: Any, order: Any) -> None:
    await _answered_sanely(client, tokens.ada, SEARCH, {"s": search, "o": order})


page_sizes = st.none() | st.integers(min_value=-3, max_value=120) | huge_numbers


@EXAMPLES
@given(
    after=st.none() | hostile_cursors,
    before=st.none() | hostile_cursors,
    first=page_sizes,
    last=page_sizes,
    offset=page_sizes,
)
async def test_cursors_and_page_sizes(
    client: Client, tokens: Tokens, after: Any, before: Any, first: Any, last: Any, offset: Any
) -> None:
    variables = {"a": after, "b": before, "first": first, "last": last, "offset": offset}
    await _answered_sanely(client, tokens.ada, PAGE, variables)


async def _real_ids(client: Client, token: str) -> list[str]:
    """Ids of rows Ada sees, and (as superuser) of rows she does not."""
    query = "{ models(first: 100) { nodes { id project { id organization { id } } } } }"
    response = await client.post(
        "/graphql", json={"query": query}, headers={"Authorization": f"Bearer {token}"}
    )
    nodes = (await response.json())["data"]["models"]["nodes"]
    return sorted({n["id"] for n in nodes} | {n["project"]["id"] for n in nodes})


@EXAMPLES
@given(data=st.data())
async def test_ids(client: Client, tokens: Tokens, data: st.DataObject) -> None:
    real = st.sampled_from(await _real_ids(client, tokens.root))
    some_id = st.one_of(real, real, hostile_ids)
    id_, ids = data.draw(some_id), data.draw(st.lists(some_id, max_size=5))
    await _answered_sanely(client, tokens.ada, IDS, {"id": id_, "ids": ids})


@EXAMPLES
@given(data=st.data())
async def test_mutation_input(client: Client, tokens: Tokens, data: st.DataObject) -> None:
    payload = data.draw(values_for(_input("CreateSegmentInput")))
    if isinstance(payload, dict) and data.draw(st.booleans()):
        payload["modelId"] = data.draw(st.sampled_from(await _real_ids(client, tokens.root)))
    await _answered_sanely(client, tokens.ada, CREATE, {"input": payload})


async def test_lone_surrogates_are_refused_at_the_door(client: Client, tokens: Tokens) -> None:
    for query, variables in [
        (SEARCH, {"s": "ab\ud800"}),
        (FILTER, {"f": {"name": {"eq": "\udfff"}}}),
        (CREATE, {"input": {"modelId": "x", "name": "n", "definition": "a\ud83d"}}),
        ('{ segments(search: "\ud800") { totalCount } }', {}),
    ]:
        response = await client.post(
            "/graphql",
            data=json.dumps({"query": query, "variables": variables}),
            headers={"Authorization": f"Bearer {tokens.ada}", "Content-Type": "application/json"},
        )
        body = await response.json()
        assert response.status == 200
        [error] = body["errors"]
        assert error["message"] == (
            "the request holds text that is not valid Unicode (a lone UTF-16 surrogate)"
        )
        assert error["extensions"]["code"] == "BAD_USER_INPUT"


async def test_nul_in_mutation_text_is_bad_input_and_writes_nothing(
    client: Client, tokens: Tokens
) -> None:
    model_id = next(i for i in await _real_ids(client, tokens.ada) if "TW9kZWw6" in i)
    payload = {"modelId": model_id, "name": "nul-case", "definition": "age > 1\x00"}
    response = await client.post(
        "/graphql",
        json={"query": CREATE, "variables": {"input": payload}},
        headers={"Authorization": f"Bearer {tokens.ada}"},
    )
    body = await response.json()
    [error] = body["errors"]
    assert (error["message"], error["extensions"]["code"]) == (
        "text cannot hold the NUL character",
        "BAD_USER_INPUT",
    )
    check = await client.post(
        "/graphql",
        json={"query": '{ segments(filter: {name: {eq: "nul-case"}}) { totalCount } }'},
        headers={"Authorization": f"Bearer {tokens.ada}"},
    )
    assert await check.json() == {"data": {"segments": {"totalCount": 0}}}


async def _raw(client: Client, body: bytes, token: str | None) -> tuple[int, Any]:
    headers = {"Content-Type": "application/json"}
    if token:
        headers["Authorization"] = f"Bearer {token}"
    response = await client.post("/graphql", data=body, headers=headers)
    return response.status, json.loads(await response.text())


def _assert_request_error(status: int, body: Any) -> None:
    """A coded request error: 4xx, no data key, a code and a request id."""
    assert 400 <= status < 500, (status, body)
    assert "data" not in body, body
    for error in body["errors"]:
        assert error["extensions"]["code"] in CODES, error
        assert error["extensions"]["requestId"], error


@EXAMPLES
@given(name=st.one_of(huge_numbers, st.booleans(), st.lists(st.integers(), max_size=2),
                      st.dictionaries(st.text(max_size=3), st.integers(), max_size=2)))  # fmt: skip
async def test_non_string_operation_names(client: Client, tokens: Tokens, name: Any) -> None:
    body = json.dumps({"query": "{ viewer { scopes } }", "operationName": name}).encode()
    for token in (tokens.ada, None):
        _assert_request_error(*await _raw(client, body, token))


nested_values = st.recursive(
    st.one_of(st.none(), st.integers(), st.text(max_size=3)),
    lambda inner: (
        st.lists(inner, min_size=1, max_size=2)
        | st.dictionaries(st.sampled_from(["and", "or", "x"]), inner, min_size=1, max_size=2)
    ),
    max_leaves=300,
)


@EXAMPLES
@given(
    depth=st.sampled_from([0, 1, 15, 16, 31, 32, 33, 200, 400, 900]) | st.integers(0, 600),
    leaf=nested_values,
    lists_only=st.booleans(),
)
async def test_nested_variables(
    client: Client, tokens: Tokens, depth: int, leaf: Any, lists_only: bool
) -> None:
    value = leaf
    for level in range(depth):
        value = [value] if lists_only or level % 2 else {"and": value}
    # as a filter, and as a variable the operation does not declare
    await _answered_sanely(client, tokens.ada, FILTER, {"f": value, "x": value})


@EXAMPLES
@given(
    width=st.integers(min_value=1, max_value=400),
    copies=st.integers(min_value=1, max_value=30),
    field=st.sampled_from(["__typename", "viewer { scopes }", "__schema { queryType { name } }",
                           "organizations { totalCount }"]),
)  # fmt: skip
async def test_wide_selection_sets(
    client: Client, tokens: Tokens, width: int, copies: int, field: str
) -> None:
    query = "{ " + ("viewer { " + "scopes " * width + "} ") * copies + field + " }"
    await _answered_sanely(client, tokens.ada, query, {})


@EXAMPLES
@given(body=st.one_of(
    st.binary(max_size=200),
    st.sampled_from([b"null", b"1", b'"x"', b"[]", b"true", b"{}", b"[" * 5_000]),
    any_json.map(lambda v: json.dumps(v).encode()),
    st.dictionaries(st.sampled_from(["query", "variables", "operationName", "extensions"]),
                    any_json, max_size=4).map(lambda v: json.dumps(v).encode()),
))  # fmt: skip
async def test_malformed_bodies(client: Client, tokens: Tokens, body: bytes) -> None:
    status, answer = await _raw(client, body, tokens.ada)
    assert status < 500, (status, answer)
    for error in answer.get("errors") or ():
        assert error["extensions"]["code"] in CODES, error
        assert error["extensions"]["requestId"], error
    if status != 200:
        _assert_request_error(status, answer)
