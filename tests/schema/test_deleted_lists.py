"""Soft-deleted segments in lists: `deleted: EXCLUDE | INCLUDE | ONLY` on every
segment list (root, Model.segments, Project.segments) with their counts, the
`deletedAt` field, filter and order, cursors, tenant isolation, and a restore
from the list of deleted ones; lookups, `node` and `_entities` keep hiding them.
Through both executors."""

from __future__ import annotations

from typing import Any
from uuid import UUID

import asyncpg

from schema.ids import global_id
from tests.schema.compiled_support import resolver_client, same_data, same_error
from tests.schema.conftest import Tokens
from tests.support import Client, data, error

__all__ = ["resolver_client"]

DELETE = "mutation ($id: ID!) { deleteSegment(input: {id: $id}) { deletedId } }"
RESTORE = "mutation ($id: ID!) { restoreSegment(input: {id: $id}) { segment { id deletedAt } } }"
COUNTS = """{
  live: segments { totalCount nodes { deletedAt } }
  explicit: segments(deleted: EXCLUDE) { totalCount }
  unset: segments(deleted: null) { totalCount }
  all: segments(deleted: INCLUDE, first: 100) { totalCount nodes { uuid } }
  gone: segments(deleted: ONLY) { totalCount nodes { id name deletedAt } }
}"""


async def _segment(conn: asyncpg.Connection, organization: str, project: str, name: str) -> str:
    found = await conn.fetchval(
        """SELECT s.id FROM segments s JOIN projects p ON p.id = s.project_id
           JOIN organizations o ON o.id = p.organization_id
           WHERE o.name = $1 AND p.name = $2 AND s.name = $3 ORDER BY s.id LIMIT 1""",
        organization, project, name,
    )  # fmt: skip
    return global_id("Segment", found)


async def _delete_two(client: Client, conn: asyncpg.Connection, tokens: Tokens) -> list[str]:
    """Ada deletes a segment of Acme's fraud-detection (Grace's project), then one of
    Globex's: their ids, in that order."""
    deleted = [
        await _segment(conn, "Acme Analytics", "fraud-detection", "adults"),
        await _segment(conn, "Globex Research", "churn-prediction", "high-value"),
    ]
    for segment in deleted:
        await data(client, DELETE, tokens.ada, id=segment)
    return deleted


def _counts(result: dict[str, Any]) -> tuple[int, ...]:
    return tuple(result[k]["totalCount"] for k in ("live", "explicit", "unset", "all", "gone"))


async def test_exclude_include_only_with_counts(
    client: Client, resolver_client: Client, conn: asyncpg.Connection, tokens: Tokens
) -> None:
    deleted = await _delete_two(client, conn, tokens)
    mine = await same_data(client, resolver_client, COUNTS, tokens.ada)
    assert _counts(mine) == (34, 34, 34, 36, 2)
    assert {n["deletedAt"] for n in mine["live"]["nodes"]} == {None}
    gone = mine["gone"]["nodes"]
    assert sorted(n["id"] for n in gone) == sorted(deleted)
    assert {n["name"] for n in gone} == {"adults", "high-value"}
    stored = await conn.fetch("SELECT id, deleted_at FROM segments WHERE deleted_at IS NOT NULL")
    assert {n["deletedAt"] for n in gone} == {r["deleted_at"].isoformat() for r in stored}
    everything = await same_data(client, resolver_client, COUNTS, tokens.root)
    assert _counts(everything) == (52, 52, 52, 54, 2)
    # isolation: the deleted rows of projects the caller does not see stay unseen
    grace = await same_data(client, resolver_client, COUNTS, tokens.grace)
    assert _counts(grace) == (11, 11, 11, 12, 1)
    assert [n["id"] for n in grace["gone"]["nodes"]] == deleted[:1]
    alan = await same_data(client, resolver_client, COUNTS, tokens.alan)
    assert _counts(alan) == (18, 18, 18, 18, 0)
    visible = {r["id"] for r in await conn.fetch("SELECT id FROM segments")}
    assert {UUID(n["uuid"]) for n in alan["all"]["nodes"]} < visible


async def test_nested_segment_lists_take_it_too(
    client: Client, resolver_client: Client, conn: asyncpg.Connection, tokens: Tokens
) -> None:
    await _delete_two(client, conn, tokens)
    query = """{ projects(first: 10) { nodes {
        live: segments { totalCount }
        gone: segments(deleted: ONLY, first: 5) { totalCount nodes { name } }
        models(first: 5) { nodes { all: segments(deleted: INCLUDE) { totalCount } } } } } }"""
    projects = (await same_data(client, resolver_client, query, tokens.ada))["projects"]["nodes"]
    assert sum(p["live"]["totalCount"] for p in projects) == 34
    assert sorted(n["name"] for p in projects for n in p["gone"]["nodes"]) == [
        "adults",
        "high-value",
    ]
    assert sum(p["gone"]["totalCount"] for p in projects) == 2
    models = [m for p in projects for m in p["models"]["nodes"]]
    assert sum(m["all"]["totalCount"] for m in models) == 36
    alan = (await same_data(client, resolver_client, query, tokens.alan))["projects"]["nodes"]
    assert sum(p["gone"]["totalCount"] for p in alan) == 0


async def test_deleted_at_filter_order_and_cursors(
    client: Client, resolver_client: Client, conn: asyncpg.Connection, tokens: Tokens
) -> None:
    deleted = await _delete_two(client, conn, tokens)
    filtered = """{ segments(deleted: INCLUDE, filter: {deletedAt: {isNull: false}}) {
        totalCount } }"""
    assert await same_data(client, resolver_client, filtered, tokens.ada) == {
        "segments": {"totalCount": 2}
    }
    # ASC puts NULLs last: the deleted ones first, the first deleted first
    oldest = """{ segments(deleted: INCLUDE, first: 2, orderBy: [{field: DELETED_AT}]) {
        nodes { id } } }"""
    result = await same_data(client, resolver_client, oldest, tokens.ada)
    assert [n["id"] for n in result["segments"]["nodes"]] == deleted
    # paging by cursor over a key that is NULL on most rows: every row once
    page = """query ($after: String, $deleted: DeletedFilter) {
      segments(deleted: $deleted, first: 7, after: $after,
               orderBy: [{field: DELETED_AT, direction: DESC}, {field: NAME}]) {
        pageInfo { hasNextPage endCursor } nodes { id deletedAt } } }"""
    seen: list[dict[str, Any]] = []
    after = None
    while True:
        answer = await same_data(
            client, resolver_client, page, tokens.ada, after=after, deleted="INCLUDE"
        )
        seen += answer["segments"]["nodes"]
        if not answer["segments"]["pageInfo"]["hasNextPage"]:
            break
        after = answer["segments"]["pageInfo"]["endCursor"]
    assert len(seen) == len({n["id"] for n in seen}) == 36
    # DESC puts NULLs first: the live ones, then the last deleted, then the first
    assert [n["id"] for n in seen[-2:]] == deleted[::-1]
    assert {n["deletedAt"] for n in seen[:-2]} == {None}
    # a cursor is made for its list: the deleted rows it holds are part of that
    found = await same_error(
        client, resolver_client, page, tokens.ada, after=after, deleted="EXCLUDE"
    )
    assert (found["extensions"]["code"], found["message"]) == (
        "BAD_USER_INPUT",
        "`after` was made for another ordering, filter or search",
    )


async def test_restore_from_the_list_of_deleted_ones(
    client: Client, resolver_client: Client, conn: asyncpg.Connection, tokens: Tokens
) -> None:
    """A deleted segment is found through `segments(deleted: ONLY)`, whose id is what
    `restoreSegment` takes; lookups by id, `node` and `_entities` go on hiding it."""
    deleted = await _delete_two(client, conn, tokens)
    lookup = "query ($id: ID!) { segment(id: $id) { id } }"
    found = await error(client, lookup, tokens.ada, id=deleted[0])
    assert (found["extensions"]["code"], found["data"]) == ("NOT_FOUND", {"segment": None})
    node = "query ($id: ID!) { node(id: $id) { id } }"
    assert await data(client, node, tokens.ada, id=deleted[0]) == {"node": None}
    entities = "query ($r: [_Any!]!) { _entities(representations: $r) { ... on Segment { id } } }"
    assert await data(
        client, entities, tokens.ada, r=[{"__typename": "Segment", "id": deleted[0]}]
    ) == {"_entities": [None]}

    listed = '{ segments(deleted: ONLY, filter: {name: {eq: "adults"}}) { nodes { id } } }'
    ids = [n["id"] for n in (await data(client, listed, tokens.ada))["segments"]["nodes"]]
    assert ids == deleted[:1]
    restored = await data(client, RESTORE, tokens.ada, id=ids[0])
    assert restored == {"restoreSegment": {"segment": {"id": ids[0], "deletedAt": None}}}
    assert _counts(await same_data(client, resolver_client, COUNTS, tokens.ada)) == (
        35, 35, 35, 36, 1
    )  # fmt: skip
    assert await data(client, lookup, tokens.ada, id=ids[0]) == {"segment": {"id": ids[0]}}


async def test_only_soft_deleted_kinds_take_it(client: Client, tokens: Tokens) -> None:
    found = await error(client, "{ environments(deleted: INCLUDE) { totalCount } }", tokens.ada)
    assert found["extensions"]["code"] == "GRAPHQL_VALIDATION_FAILED"
    assert found["message"] == "Unknown argument 'deleted' on field 'Query.environments'."
