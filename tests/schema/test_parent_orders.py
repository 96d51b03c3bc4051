"""Ordering by a parent's name (MODEL_NAME, PROJECT_NAME, ORGANIZATION_NAME where
those parents exist), through both executors: the order PostgreSQL gives when
asked directly, keyset cursors forward and backward over ties and mixed
directions while rows are inserted between pages, nested lists, and the read
scopes of the parents it reads."""

from __future__ import annotations

import itertools
from typing import Any
from uuid import UUID

import asyncpg
import pytest

from db.tokens import create_token
from tests.schema.compiled_support import resolver_client, same_data, same_error
from tests.schema.conftest import Tokens
from tests.support import Client

__all__ = ["resolver_client"]

# each parent's name as SQL on a row `t`, written here apart from db/parents.py
_MODEL = "(SELECT name FROM models WHERE id = t.model_id)"
_PROJECT = "(SELECT name FROM projects WHERE id = t.project_id)"
_ORGANIZATION = (
    "(SELECT o.name FROM projects p JOIN organizations o ON o.id = p.organization_id "
    "WHERE p.id = t.project_id)"
)
_UNDER_MODEL = {"MODEL_NAME": _MODEL, "PROJECT_NAME": _PROJECT, "ORGANIZATION_NAME": _ORGANIZATION}
PARENT_NAMES: dict[str, dict[str, str]] = {
    "projects": {
        "ORGANIZATION_NAME": "(SELECT name FROM organizations WHERE id = t.organization_id)"
    },
    "models": {"PROJECT_NAME": _PROJECT, "ORGANIZATION_NAME": _ORGANIZATION},
    "environments": _UNDER_MODEL,
    "segments": _UNDER_MODEL,
    "events": {
        "MODEL_NAME": "(SELECT m.name FROM environments e JOIN models m ON m.id = e.model_id "
        "WHERE e.id = t.environment_id)",
        "PROJECT_NAME": _PROJECT,
        "ORGANIZATION_NAME": _ORGANIZATION,
    },
}


def _order(*keys: tuple[str, str]) -> str:
    return "[" + ", ".join(f"{{field: {f}, direction: {d}}}" for f, d in keys) + "]"


@pytest.mark.parametrize(
    ("table", "field"), [(t, f) for t, fields in PARENT_NAMES.items() for f in fields]
)
@pytest.mark.parametrize("direction", ["ASC", "DESC"])
async def test_order_by_a_parents_name(
    client: Client,
    resolver_client: Client,
    conn: asyncpg.Connection,
    tokens: Tokens,
    table: str,
    field: str,
    direction: str,
) -> None:
    expected = await conn.fetch(
        f"SELECT t.id FROM {table} t ORDER BY {PARENT_NAMES[table][field]} {direction}, t.id"
    )
    order = _order((field, direction))
    query = f"{{ {table}(first: 100, orderBy: {order}) {{ nodes {{ uuid }} }} }}"
    result = await same_data(client, resolver_client, query, tokens.root)
    assert [UUID(n["uuid"]) for n in result[table]["nodes"]] == [r["id"] for r in expected]
    assert len(expected) in (9, 18, 54)


async def test_several_parents_and_columns_mixed_directions(
    client: Client, resolver_client: Client, conn: asyncpg.Connection, tokens: Tokens
) -> None:
    expected = await conn.fetch(
        f"""SELECT t.id FROM segments t WHERE t.project_id IN (
                SELECT p.id FROM projects p JOIN organizations o ON o.id = p.organization_id
                WHERE o.name IN ('Acme Analytics', 'Globex Research'))
            ORDER BY {_ORGANIZATION} DESC, {_PROJECT} ASC, t.name DESC, t.id"""
    )
    order = _order(("ORGANIZATION_NAME", "DESC"), ("PROJECT_NAME", "ASC"), ("NAME", "DESC"))
    query = f"{{ segments(first: 100, orderBy: {order}) {{ totalCount nodes {{ uuid }} }} }}"
    result = (await same_data(client, resolver_client, query, tokens.ada))["segments"]
    assert result["totalCount"] == 36
    assert [UUID(n["uuid"]) for n in result["nodes"]] == [r["id"] for r in expected]


PAGE = """query ($first: Int, $after: String, $last: Int, $before: String) {
  segments(first: $first, after: $after, last: $last, before: $before, orderBy: %s) {
    pageInfo { hasNextPage hasPreviousPage startCursor endCursor }
    edges { cursor node { uuid } }
  }
}"""


class _Inserter:
    """New segments of Ada's models, named to sort before, among and after the
    demo's, put in while a list is walked."""

    def __init__(self, conn: asyncpg.Connection) -> None:
        self.conn = conn
        self.names = itertools.cycle(["aaa", "high-value-2", "zzz", "eu", "adults-0"])
        self.count = itertools.count()

    async def insert(self) -> UUID:
        number = next(self.count)
        row = await self.conn.fetchrow(
            """SELECT m.id, m.project_id, u.id AS ada FROM models m
               JOIN projects p ON p.id = m.project_id
               JOIN organizations o ON o.id = p.organization_id
               JOIN users u ON u.email = 'ada@example.com'
               WHERE o.name <> 'Initech Labs' ORDER BY m.id OFFSET $1 LIMIT 1""",
            number % 12,
        )
        assert row is not None
        segment: UUID = await self.conn.fetchval(
            """INSERT INTO segments (model_id, project_id, name, definition, created_by, updated_by)
               VALUES ($1, $2, $3, 'a > 1', $4, $4) RETURNING id""",
            row["id"], row["project_id"], f"{next(self.names)}-{number}", row["ada"],
        )  # fmt: skip
        return segment


async def _ordered(conn: asyncpg.Connection, order_sql: str) -> list[UUID]:
    rows = await conn.fetch(
        f"""SELECT t.id FROM segments t WHERE t.project_id IN (
                SELECT p.id FROM projects p JOIN organizations o ON o.id = p.organization_id
                WHERE o.name IN ('Acme Analytics', 'Globex Research'))
            ORDER BY {order_sql}, t.id"""
    )
    return [r["id"] for r in rows]


@pytest.mark.parametrize(
    ("keys", "order_sql"),
    [
        ((("PROJECT_NAME", "ASC"), ("NAME", "ASC")), f"{_PROJECT} ASC, t.name ASC"),
        ((("PROJECT_NAME", "DESC"), ("NAME", "ASC")), f"{_PROJECT} DESC, t.name ASC"),
        (
            (("ORGANIZATION_NAME", "ASC"), ("MODEL_NAME", "DESC"), ("NAME", "DESC")),
            f"{_ORGANIZATION} ASC, {_MODEL} DESC, t.name DESC",
        ),
    ],
)
async def test_cursors_forward_and_backward_with_rows_inserted_between_pages(
    client: Client,
    resolver_client: Client,
    conn: asyncpg.Connection,
    tokens: Tokens,
    keys: tuple[tuple[str, str], ...],
    order_sql: str,
) -> None:
    query = PAGE % _order(*keys)
    inserter = _Inserter(conn)
    for backward in (False, True):
        existing = await _ordered(conn, order_sql)
        seen: list[UUID] = []
        cursor: str | None = None
        pages = 0
        while True:
            arguments: dict[str, Any] = (
                {"last": 5, "before": cursor} if backward else {"first": 5, "after": cursor}
            )
            result = await same_data(client, resolver_client, query, tokens.ada, **arguments)
            page = result["segments"]
            uuids = [UUID(e["node"]["uuid"]) for e in page["edges"]]
            seen = uuids + seen if backward else seen + uuids
            info = page["pageInfo"]
            pages += 1
            # a cursor's page has rows on the side it came from
            assert info["hasNextPage" if backward else "hasPreviousPage"] == (cursor is not None)
            if not info["hasPreviousPage" if backward else "hasNextPage"]:
                break
            cursor = info["startCursor" if backward else "endCursor"]
            await inserter.insert()  # somewhere: before the cursor, at it or after
        # every row that existed throughout, exactly once, in the list's order
        assert len(seen) == len(set(seen))
        assert set(existing) <= set(seen)
        everything = await _ordered(conn, order_sql)
        assert seen == [i for i in everything if i in set(seen)]
        assert pages >= 8


async def test_nested_lists_ordered_by_a_parents_name(
    client: Client, resolver_client: Client, conn: asyncpg.Connection, tokens: Tokens
) -> None:
    query = """{ organizations(orderBy: [{field: NAME}]) { nodes { name
        projects(orderBy: [{field: ORGANIZATION_NAME, direction: DESC}, {field: NAME}]) {
          nodes { name segments(first: 2, orderBy: [{field: MODEL_NAME, direction: DESC},
                                                    {field: NAME}]) {
            pageInfo { hasNextPage } nodes { name model { name } } } } } } } }"""
    result = await same_data(client, resolver_client, query, tokens.ada)
    organizations = result["organizations"]["nodes"]
    assert [o["name"] for o in organizations] == ["Acme Analytics", "Globex Research"]
    for organization in organizations:
        projects = organization["projects"]["nodes"]
        assert [p["name"] for p in projects] == [
            "churn-prediction", "fraud-detection", "support-assistant"
        ]  # fmt: skip
        for project in projects:
            segments = project["segments"]
            assert segments["pageInfo"]["hasNextPage"] is True
            assert segments["nodes"] == [
                {"name": "adults", "model": {"name": "xgb-classifier"}},
                {"name": "eu-customers", "model": {"name": "xgb-classifier"}},
            ]


async def _scoped(conn: asyncpg.Connection, *scopes: str) -> str:
    return (await create_token(conn, email="ada@example.com", scopes=list(scopes))).token


async def test_ordering_by_a_parent_needs_its_read_scope(
    client: Client, resolver_client: Client, conn: asyncpg.Connection, tokens: Tokens
) -> None:
    segments_only = await _scoped(conn, "segment:read")
    with_projects = await _scoped(conn, "segment:read", "project:read")
    with_models = await _scoped(conn, "model:read", "segment:read")
    for token, query, scope in (
        (segments_only, "{ segments(orderBy: [{field: PROJECT_NAME}]) { totalCount } }", "project"),
        (segments_only, "{ segments(orderBy: [{field: MODEL_NAME}]) { totalCount } }", "model"),
        (
            with_projects,
            "{ segments(orderBy: [{field: NAME}, {field: ORGANIZATION_NAME}]) { totalCount } }",
            "organization",
        ),
        (
            with_models,
            "{ models { nodes { segments(orderBy: [{field: PROJECT_NAME}]) { totalCount } } } }",
            "project",
        ),
    ):
        found = await same_error(client, resolver_client, query, token)
        assert (found["extensions"]["code"], found["message"]) == (
            "FORBIDDEN",
            f"this token lacks the scope {scope}:read",
        ), query
    allowed = await _scoped(conn, "segment:read", "project:read", "organization:read")
    query = "{ segments(orderBy: [{field: ORGANIZATION_NAME}]) { totalCount } }"
    assert await same_data(client, resolver_client, query, allowed) == {
        "segments": {"totalCount": 36}
    }


async def test_a_cursor_holds_to_its_ordering(
    client: Client, resolver_client: Client, tokens: Tokens
) -> None:
    by_project = PAGE % _order(("PROJECT_NAME", "ASC"))
    page = await same_data(client, resolver_client, by_project, tokens.ada, first=3)
    cursor = page["segments"]["pageInfo"]["endCursor"]
    for order in (_order(("ORGANIZATION_NAME", "ASC")), _order(("PROJECT_NAME", "DESC"))):
        found = await same_error(
            client, resolver_client, PAGE % order, tokens.ada, first=3, after=cursor
        )
        assert (found["extensions"]["code"], found["message"]) == (
            "BAD_USER_INPUT",
            "`after` was made for another ordering, filter or search",
        )
