"""Root lists through HTTP: paging, filters, search, ordering, argument errors."""

from __future__ import annotations

from typing import Any

import asyncpg
import pytest

from tests.schema.conftest import Tokens
from tests.support import Client, data, error

PAGE = """
query ($first: Int, $after: String, $last: Int, $before: String, $offset: Int) {
  environments(first: $first, after: $after, last: $last, before: $before, offset: $offset,
               orderBy: [{field: ROW_COUNT}]) {
    totalCount
    pageInfo { hasNextPage hasPreviousPage startCursor endCursor }
    edges { cursor node { id name rowCount } }
  }
}
"""


async def _page(client: Client, token: str, **args: Any) -> dict[str, Any]:
    result: dict[str, Any] = (await data(client, PAGE, token, **args))["environments"]
    return result


async def test_walk_forward_then_back(client: Client, tokens: Tokens) -> None:
    everything = await _page(client, tokens.root, first=100)
    assert everything["totalCount"] == 54
    expected = [e["node"]["id"] for e in everything["edges"]]
    counts = [int(e["node"]["rowCount"]) for e in everything["edges"]]  # BigInt: digits
    assert counts == sorted(counts)

    seen: list[str] = []
    after = None
    while True:
        page = await _page(client, tokens.root, first=10, after=after)
        seen += [e["node"]["id"] for e in page["edges"]]
        assert page["pageInfo"]["hasPreviousPage"] == (after is not None)
        if not page["pageInfo"]["hasNextPage"]:
            break
        after = page["pageInfo"]["endCursor"]
    assert seen == expected

    back: list[str] = []
    before = None
    while True:
        page = await _page(client, tokens.root, last=10, before=before)
        back = [e["node"]["id"] for e in page["edges"]] + back
        if not page["pageInfo"]["hasPreviousPage"]:
            break
        before = page["pageInfo"]["startCursor"]
    assert back == expected

    jump = await _page(client, tokens.root, first=5, offset=50)
    assert [e["node"]["id"] for e in jump["edges"]] == expected[50:54]
    assert jump["pageInfo"]["hasNextPage"] is False
    default = await _page(client, tokens.root)
    assert len(default["edges"]) == 20


@pytest.mark.parametrize(
    ("args", "field", "message"),
    [
        ({"first": 101}, "first", "`first` must be between 0 and 100, not 101"),
        ({"last": -1}, "last", "`last` must be between 0 and 100, not -1"),
        ({"after": "garbage"}, "after", "`after` is not a valid cursor"),
        ({"offset": -1}, "offset", "`offset` must be 0 or more, not -1"),
    ],
)
async def test_bad_paging_arguments(
    client: Client, tokens: Tokens, args: dict[str, Any], field: str, message: str
) -> None:
    found = await error(client, PAGE, tokens.root, **args)
    assert found["message"] == message
    assert found["extensions"]["code"] == "BAD_USER_INPUT"
    assert found["extensions"]["field"] == field
    assert found["data"] is None


async def test_a_cursor_under_another_order_is_refused(client: Client, tokens: Tokens) -> None:
    cursor = (await _page(client, tokens.root, first=1))["pageInfo"]["endCursor"]
    query = (
        "query ($c: String) { environments(after: $c, orderBy: [{field: NAME}]) { totalCount } }"
    )
    found = await error(client, query, tokens.root, c=cursor)
    assert found["message"] == "`after` was made for another ordering, filter or search"
    assert found["extensions"]["code"] == "BAD_USER_INPUT"


async def _names(client: Client, token: str, entity: str, args: str) -> list[str]:
    query = f"{{ {entity}(first: 100, {args}) {{ totalCount nodes {{ name }} }} }}"
    result = (await data(client, query, token))[entity]
    names = [n["name"] for n in result["nodes"]]
    assert result["totalCount"] == len(names)
    return names


async def test_filters(client: Client, tokens: Tokens) -> None:
    root = tokens.root
    assert (
        await _names(client, root, "projects", "filter: {assetType: {eq: GEN_AI_APP}}")
        == ["support-assistant"] * 3
    )
    production = await _names(client, root, "environments", "type: PRODUCTION")
    assert production == ["production"] * 18
    assert len(await _names(client, root, "environments", "filter: {protected: {eq: true}}")) == 18
    by_model = 'filter: {model: {name: {eq: "xgb-classifier"}}, name: {startsWith: "val"}}'
    assert await _names(client, root, "environments", by_model) == ["validation"] * 9
    up_two = 'filter: {project: {organization: {name: {eq: "Initech Labs"}}}}'
    assert len(await _names(client, root, "segments", up_two)) == 18
    either = (
        'filter: {or: [{name: {eq: "adults"}}, {name: {endsWith: "VALUE", caseInsensitive: true}}]'
        ', not: {project: {name: {contains: "churn"}}}}'
    )
    assert sorted(set(await _names(client, root, "segments", either))) == ["adults", "high-value"]
    assert len(await _names(client, root, "segments", either)) == 24
    both = "filter: {and: [{rowCount: {gte: 1000}}, {rowCount: {between: [0, 99999999]}}]}"
    assert len(await _names(client, root, "environments", both)) == 54
    assert await _names(
        client, root, "organizations", 'filter: {name: {in: ["Globex Research"]}}'
    ) == ["Globex Research"]


async def test_id_filters_take_global_ids(
    client: Client, conn: asyncpg.Connection, tokens: Tokens
) -> None:
    result = await data(
        client, "{ organizations(orderBy: [{field: NAME}]) { nodes { id } } }", tokens.root
    )
    first = result["organizations"]["nodes"][0]["id"]
    query = "query ($id: ID!) { organizations(filter: {id: {eq: $id}}) { nodes { name } } }"
    found = await data(client, query, tokens.root, id=first)
    assert found["organizations"]["nodes"] == [{"name": "Acme Analytics"}]
    bad = await error(client, query, tokens.root, id="not-an-id")
    assert bad["extensions"] == {
        "code": "BAD_USER_INPUT",
        "field": "filter",
        "requestId": bad["extensions"]["requestId"],
    }


async def test_search_needs_every_term(client: Client, tokens: Tokens) -> None:
    root = tokens.root
    assert len(await _names(client, root, "segments", 'search: "EU european"')) == 18
    assert await _names(client, root, "segments", 'search: "EU nowhere"') == []
    assert len(await _names(client, root, "models", 'search: "xgb v1"')) == 9
    assert await _names(client, root, "organizations", 'search: "  glob  RES "') == [
        "Globex Research"
    ]


ORDERABLE = {
    "environments": [
        "NAME",
        "TYPE",
        "KIND",
        "ENABLED",
        "ROW_COUNT",
        "SORT_ORDER",
        "PROTECTED",
        "CREATED_AT",
        "UPDATED_AT",
    ],
    "projects": ["NAME", "ASSET_TYPE", "CREATED_AT", "UPDATED_AT"],
    "segments": ["NAME", "DESCRIPTION", "DEFINITION", "CREATED_AT", "UPDATED_AT", "DELETED_AT"],
    "models": ["NAME", "VERSION", "CREATED_AT", "UPDATED_AT"],
    "organizations": ["NAME", "CREATED_AT", "UPDATED_AT"],
}
_COLUMNS = {"ROW_COUNT": "row_count", "SORT_ORDER": "sort_order", "ASSET_TYPE": "asset_type",
            "CREATED_AT": "created_at", "UPDATED_AT": "updated_at",
            "DELETED_AT": "deleted_at"}  # fmt: skip


@pytest.mark.parametrize(
    ("entity", "field"), [(e, f) for e, fields in ORDERABLE.items() for f in fields]
)
@pytest.mark.parametrize("direction", ["ASC", "DESC"])
async def test_ordering(
    client: Client,
    conn: asyncpg.Connection,
    tokens: Tokens,
    entity: str,
    field: str,
    direction: str,
) -> None:
    column = _COLUMNS.get(field, field.lower())
    # the same order computed by PostgreSQL directly: the field (enums in
    # declaration order), then the id
    expected = await conn.fetch(f"SELECT id FROM {entity} ORDER BY {column} {direction}, id ASC")
    query = (
        f"{{ {entity}(first: 100, orderBy: [{{field: {field}, direction: {direction}}}]) "
        "{ nodes { uuid } } }"
    )
    result = await data(client, query, tokens.root)
    assert [n["uuid"] for n in result[entity]["nodes"]] == [str(r["id"]) for r in expected]


async def test_an_unknown_order_field_is_a_validation_error(client: Client, tokens: Tokens) -> None:
    found = await error(
        client, "{ environments(orderBy: [{field: ID}]) { totalCount } }", tokens.root
    )
    assert found["extensions"]["code"] == "GRAPHQL_VALIDATION_FAILED"


async def test_total_count_asked_through_fragments(client: Client, tokens: Tokens) -> None:
    query = """
    { environments(first: 1) { ...Counted }
      models(first: 1) { ... on ModelConnection { totalCount } } }
    fragment Counted on EnvironmentConnection { totalCount nodes { name } }
    """
    result = await data(client, query, tokens.root)
    assert result["environments"]["totalCount"] == 54
    assert result["models"] == {"totalCount": 18}
