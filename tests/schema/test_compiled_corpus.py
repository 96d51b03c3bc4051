"""The compiled executor against the resolver path on a fixed corpus: the
documented example queries, paging by cursor, lookups, isolation, errors and
the fallbacks; every compiled answer costs one statement after the token check."""

from __future__ import annotations

import asyncpg
import pytest

from db.tokens import create_token
from db.users import create_user
from gateway.keys import METRICS
from gateway.settings import SettingsError, load_settings
from schema.ids import global_id
from tests.schema.compiled_support import both, executed, resolver_client
from tests.schema.conftest import Tokens
from tests.schema.test_nested import NESTED
from tests.support import VIEWER_QUERY, Client

__all__ = ["resolver_client"]

README_EXAMPLE = """
{
  environments(
    first: 3
    type: PRODUCTION
    search: "production"
    filter: {rowCount: {gt: 1000000}, project: {name: {eq: "fraud-detection"}}}
    orderBy: [{field: ROW_COUNT, direction: DESC}]
  ) {
    totalCount
    pageInfo { hasNextPage endCursor }
    nodes { name rowCount model { name version project { name organization { name } } } }
  }
}
"""

FRAGMENTS = """
query Shapes($withTotal: Boolean!, $skipEdges: Boolean = false, $size: Int) {
  __typename
  first: projects(first: $size, orderBy: [{field: NAME, direction: DESC}]) {
    ...Page
    totalCount @include(if: $withTotal)
    edges @skip(if: $skipEdges) { __typename cursor node { ...Names } }
  }
  again: projects(first: 1) { nodes { id } }
  again: projects(first: 1) { nodes { uuid id } pageInfo { hasNextPage } }
}
fragment Page on ProjectConnection {
  __typename
  pageInfo { __typename hasNextPage hasPreviousPage startCursor endCursor }
}
fragment Names on Project {
  name assetType
  ... on Project { createdAt updatedAt organization { __typename id name } }
  models(last: 1) { nodes { name segments(first: 1) { nodes { name createdBy { name email } } } } }
}
"""

EVERY_FIELD = """
{
  segments(first: 4, orderBy: [{field: UPDATED_AT, direction: DESC}, {field: NAME}]) {
    nodes {
      id uuid name description definition createdAt updatedAt
      model { id name version } project { id name } organization { id name }
      createdBy { id uuid name email createdAt updatedAt }
      updatedBy { name email }
    }
  }
  environments(last: 4, filter: {or: [{protected: {eq: true}}, {not: {sortOrder: {lt: 2}}}]}) {
    totalCount
    pageInfo { hasNextPage hasPreviousPage startCursor endCursor }
    edges { cursor node { id uuid name type rowCount sortOrder protected createdAt updatedAt } }
  }
}
"""

FALLBACKS = [
    VIEWER_QUERY,
    "{ __schema { queryType { name } } }",
    "{ _service { sdl } }",
    'mutation { deleteSegment(input: {id: "U2VnbWVudDox"}) { segment { id } } }',
    "{ projects(first: 101) { totalCount } }",
    '{ projects(after: "bm90LWEtY3Vyc29y") { totalCount } }',
    '{ organization(id: "not-an-id") { name } }',
    "{ organizations(first: 1) { nodes { name } } viewer { superuser } }",
    # refused while the SQL is built, as on the resolver path
    '{ models(search: "a b c d e f g h i j k") { totalCount } }',
    '{ models(filter: {name: {eq: "nul\\u0000"}}) { totalCount } }',
    # ... even when nothing of the list is read
    '{ models(search: "nul\\u0000") { __typename } }',
]


async def _same(
    client: Client, resolver: Client, query: str, token: str, **variables: object
) -> tuple[str, int, dict[str, object]]:
    compiled, reference = await both(client, resolver, query, token, dict(variables))
    assert compiled[:2] == reference[:2]
    assert reference[2] == "resolver"
    return compiled[2], compiled[3], compiled[1]


@pytest.mark.parametrize(
    "query",
    [README_EXAMPLE, NESTED, FRAGMENTS, EVERY_FIELD],
    ids=["readme", "nested", "fragments", "every-field"],
)
async def test_documented_queries_compile_to_one_statement(
    client: Client, resolver_client: Client, tokens: Tokens, query: str
) -> None:
    for token in (tokens.ada, tokens.grace, tokens.alan, tokens.root):
        variables = {"withTotal": True, "size": 2} if "$withTotal" in query else {}
        executor, statements, body = await _same(client, resolver_client, query, token, **variables)
        assert "errors" not in body
        # the token check, then the one statement
        assert (executor, statements) == ("compiled", 2)


# lists of which nothing is read: the list's filter and visibility were once bound
# all the same, and a parameter the SQL text does not use fails the statement
# ("could not determine data type of parameter $1"): a fallback and a warning
NOTHING_OF_THE_LIST = [
    "{ organizations(first: 2) { __typename } }",
    '{ organizations(filter: {name: {eq: "Acme Analytics"}}) { totalCount @skip(if: true) } }',
    "query ($s: Boolean!) { projects(first: 2) { nodes { models { totalCount @skip(if: $s) } } } }",
    '{ projects(first: 2) { nodes { models(search: "xgb") { __typename } } } }',
]


@pytest.mark.parametrize("query", NOTHING_OF_THE_LIST)
async def test_a_list_of_which_nothing_is_read_compiles(
    client: Client, resolver_client: Client, tokens: Tokens, query: str
) -> None:
    skip = {"s": True} if "$s" in query else {}
    executor, statements, body = await _same(client, resolver_client, query, tokens.ada, **skip)
    assert "errors" not in body
    assert (executor, statements) == ("compiled", 2)


@pytest.mark.parametrize("query", FALLBACKS)
async def test_what_does_not_compile_falls_back(
    client: Client, resolver_client: Client, tokens: Tokens, query: str
) -> None:
    executor, _, _ = await _same(client, resolver_client, query, tokens.ada)
    assert executor == "resolver"


async def test_paging_by_cursor_both_ways(
    client: Client, resolver_client: Client, tokens: Tokens
) -> None:
    page = "query ($after: String, $before: String, $first: Int, $last: Int, $offset: Int) {"
    page += " models(first: $first, after: $after, last: $last, before: $before, offset: $offset)"
    page += " { totalCount pageInfo { hasNextPage hasPreviousPage startCursor endCursor }"
    page += " edges { cursor node { name version } } } }"
    _, _, body = await _same(client, resolver_client, page, tokens.ada, first=3)
    end = body["data"]["models"]["pageInfo"]["endCursor"]  # type: ignore[index]
    for arguments in (
        {"first": 2, "after": end},
        {"last": 2, "before": end},
        {"last": 3},
        {"first": 3, "last": 2, "offset": 1},
        {"after": end, "offset": 2},
        {"first": 0},
    ):
        executor, _, _ = await _same(client, resolver_client, page, tokens.ada, **arguments)
        assert executor == "compiled"


async def test_lookups_and_isolation(
    client: Client, resolver_client: Client, conn: asyncpg.Connection, tokens: Tokens
) -> None:
    initech = await conn.fetchval("SELECT id FROM organizations WHERE name = 'Initech Labs'")
    acme = await conn.fetchval("SELECT id FROM organizations WHERE name = 'Acme Analytics'")
    theirs, ours = global_id("Organization", initech), global_id("Organization", acme)
    alan = global_id("User", await conn.fetchval("SELECT id FROM users WHERE name = 'Alan Turing'"))
    lookup = "query ($id: ID!) { organization(id: $id) { name projects { totalCount } } }"
    nodes = "query ($ids: [ID!]!) { nodes(ids: $ids) { id ... on Organization { name } "
    nodes += "... on User { name email } } }"
    node = "query ($id: ID!) { node(id: $id) { __typename id ... on Organization { name } } }"
    executor, _, body = await _same(client, resolver_client, lookup, tokens.ada, id=ours)
    assert executor == "compiled"
    # another tenant's organization: null and NOT_FOUND, from the resolver path
    executor, _, body = await _same(client, resolver_client, lookup, tokens.ada, id=theirs)
    assert (executor, body["data"]) == ("resolver", {"organization": None})
    for token in (tokens.ada, tokens.alan, tokens.grace):
        executor, statements, body = await _same(
            client, resolver_client, nodes, token, ids=[ours, theirs, alan]
        )
        assert (executor, statements) == ("compiled", 2)
        executor, _, _ = await _same(client, resolver_client, node, token, id=theirs)
        assert executor == "compiled"
    # lists never include what is not visible, under any filter
    query = "query ($ids: [ID!]) { organizations(filter: {id: {in: $ids}}) "
    query += "{ totalCount nodes { name } } }"
    executor, _, body = await _same(client, resolver_client, query, tokens.ada, ids=[theirs])
    assert (executor, body["data"]) == (
        "compiled",
        {"organizations": {"totalCount": 0, "nodes": []}},
    )


async def test_serialisation_edges(
    client: Client, resolver_client: Client, conn: asyncpg.Connection, tokens: Tokens
) -> None:
    model = await conn.fetchrow("SELECT id, project_id FROM models LIMIT 1")
    assert model is not None
    # whole seconds, a fraction with trailing zeros: as Python's isoformat writes them
    await conn.execute(
        "INSERT INTO environments (model_id, project_id, name, type, created_at, updated_at) "
        "VALUES ($1, $2, 'edge-case', 'PRODUCTION', '2024-02-29 23:59:59+00', "
        "'2024-03-01 00:00:00.5+02')",
        model["id"],
        model["project_id"],
    )
    query = '{ environments(filter: {name: {eq: "edge-case"}}) { nodes { createdAt updatedAt } } }'
    executor, _, body = await _same(client, resolver_client, query, tokens.root)
    assert executor == "compiled"
    assert body["data"] == {
        "environments": {
            "nodes": [
                {
                    "createdAt": "2024-02-29T23:59:59+00:00",
                    "updatedAt": "2024-02-29T22:00:00.500000+00:00",
                }
            ]
        }
    }
    # a count past 32 bits is a BigInt (its digits), the same on both executors
    await conn.execute("UPDATE environments SET row_count = 3000000000 WHERE name = 'edge-case'")
    query = '{ environments(filter: {name: {eq: "edge-case"}}) { nodes { name rowCount } } }'
    executor, _, body = await _same(client, resolver_client, query, tokens.root)
    assert executor == "compiled"
    assert body == {
        "data": {"environments": {"nodes": [{"name": "edge-case", "rowCount": "3000000000"}]}}
    }


async def test_scopes_are_checked_as_on_the_resolver_path(
    client: Client, resolver_client: Client, conn: asyncpg.Connection, tokens: Tokens
) -> None:
    narrow = (await create_token(conn, email="ada@example.com", scopes=["environment:read"])).token
    allowed = "{ environments(first: 2) { nodes { name } } }"
    executor, _, _ = await _same(client, resolver_client, allowed, narrow)
    assert executor == "compiled"
    # the model of an environment needs model:read: FORBIDDEN on every node
    refused = "{ environments(first: 2) { nodes { name model { name } } } }"
    executor, _, body = await _same(client, resolver_client, refused, narrow)
    assert executor == "resolver"
    assert {e["extensions"]["code"] for e in body["errors"]} == {"FORBIDDEN"}  # type: ignore[attr-defined]


async def test_switched_off_and_counted(resolver_client: Client, tokens: Tokens) -> None:
    response = await resolver_client.post(
        "/graphql",
        json={"query": NESTED},
        headers={"Authorization": f"Bearer {tokens.ada}"},
    )
    assert response.status == 200
    metrics = resolver_client.app[METRICS].render().decode()
    assert 'envgraph_requests_by_executor_total{executor="resolver"} 1.0' in metrics


def test_the_switch_reads_the_environment() -> None:
    assert load_settings({}).compiled_reads is True
    assert load_settings({"GATEWAY_COMPILED_READS": "off"}).compiled_reads is False
    with pytest.raises(SettingsError, match="GATEWAY_COMPILED_READS"):
        load_settings({"GATEWAY_COMPILED_READS": "maybe"})


async def test_a_parent_not_visible_fails_as_on_the_resolver_path(
    client: Client, resolver_client: Client, conn: asyncpg.Connection, tokens: Tokens
) -> None:
    # a project member outside the organization sees the project, not its organization
    await create_user(conn, email="outsider@example.com", name="Outsider")
    await conn.execute(
        "INSERT INTO project_members (project_id, user_id, role) "
        "SELECT p.id, u.id, 'VIEWER' FROM projects p, users u "
        "WHERE u.email = 'outsider@example.com' ORDER BY p.id LIMIT 1"
    )
    outsider = (await create_token(conn, email="outsider@example.com", scopes=["*"])).token
    seen = "{ projects { totalCount nodes { name models { totalCount } } } }"
    executor, _, body = await _same(client, resolver_client, seen, outsider)
    assert (executor, body["data"]["projects"]["totalCount"]) == ("compiled", 1)  # type: ignore[index]
    above = "{ projects { nodes { name organization { name } } } }"
    executor, _, body = await _same(client, resolver_client, above, outsider)
    assert executor == "resolver"
    assert [e["extensions"]["code"] for e in body["errors"]] == ["NOT_FOUND"]  # type: ignore[attr-defined]


async def test_get_queries_compile_too(
    client: Client, resolver_client: Client, tokens: Tokens
) -> None:
    query = "query ($n: Int) { models(first: $n) { totalCount nodes { name } } }"
    bodies = []
    for app in (client, resolver_client):
        response = await app.get(
            "/graphql",
            params={"query": query, "variables": '{"n": 2}'},
            headers={"Authorization": f"Bearer {tokens.ada}"},
        )
        assert response.status == 200
        bodies.append(await response.json())
    assert bodies[0] == bodies[1]
    assert len(bodies[0]["data"]["models"]["nodes"]) == 2
    assert executed(client, "compiled") == 1
