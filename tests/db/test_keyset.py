"""Keyset paging against PostgreSQL, on both executors at the db level: the resolver
path's `fetch_page`/`fetch_child_pages` and the compiled path's `read_statement`.

Every page is asked of both, which must agree to the byte (rows, cursors, flags,
totals); walks by cursor, forward and back, under every orderable field in both
directions, must give the list's own order (checked against a plain ORDER BY),
also while rows come and go between requests. NULLs: the catalogue has no
nullable column, so a test-only entity over a table made here has two."""

from __future__ import annotations

import json
import random
import re
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import asyncpg
import pytest

from db.entities import ENVIRONMENT, EVENT, MODEL, Column, Entity, Kind
from db.errors import BadInput
from db.json_reads import read_statement
from db.lists import ListRequest, Order
from db.pages import fetch_child_pages, fetch_page, page_statement
from db.paging import Window, encode_cursor, fingerprint, window
from db.plans import (
    ColumnValue,
    Constant,
    Edges,
    ListPlan,
    Lookup,
    Nodes,
    PageInfoSelection,
    ReadPlan,
    Total,
)
from db.viewer import Viewer

SUPERUSER = Viewer(uuid.uuid4(), "root@example.com", "Root", frozenset("*"), True)

OWNER = Entity(
    "owner", "keyset owners", "A test-only parent.", (Column("id", Kind.ID, orderable=False),)
)
ITEM = Entity(
    "item",
    "keyset items",  # a name that must be quoted
    "A test-only kind with nullable columns.",
    (
        Column("id", Kind.ID, orderable=False),
        Column("score", Kind.INT, nullable=True),
        Column("label", Kind.STRING, nullable=True),
        Column("rank", Kind.INT),
    ),
)


@dataclass(frozen=True)
class Result:
    """What a page says, whichever executor made it."""

    ids: list[uuid.UUID]
    cursors: list[str]
    has_next: bool
    has_previous: bool
    total: int


async def resolver_page(
    conn: asyncpg.Connection,
    request: ListRequest,
    win: Window,
    parent: tuple[str, uuid.UUID] | None,
) -> Result:
    if parent is None:
        page = await fetch_page(conn, request, SUPERUSER, win, with_total=True)
    else:
        column, parent_id = parent
        # a parent that does not exist rides along: one statement for many parents
        pages = await fetch_child_pages(
            conn, request, SUPERUSER, win, parent_column=column,
            parent_ids=[uuid.uuid4(), parent_id], with_total=True,
        )  # fmt: skip
        page = pages[parent_id]
    assert page.total is not None
    ids = [row["id"] for row in page.rows]
    return Result(ids, page.cursors, page.has_next, page.has_previous, page.total)


_ITEMS = (
    ("totalCount", Total()),
    ("k", Constant("list")),
    (
        "edges",
        Edges((("cursor", "cursor"), ("node", Nodes((("id", ColumnValue("id", Kind.ID)),))))),
    ),
    (
        "pageInfo",
        PageInfoSelection(
            tuple(
                (name, name)
                for name in ("hasNextPage", "hasPreviousPage", "startCursor", "endCursor")
            )
        ),
    ),
)


async def compiled_page(
    conn: asyncpg.Connection,
    request: ListRequest,
    win: Window,
    parent: tuple[str, uuid.UUID] | None,
) -> Result:
    if parent is None:
        plan = ReadPlan((("list", ListPlan(request, win, None, True, _ITEMS)),))
    else:
        column, parent_id = parent
        entity = OWNER if request.entity is ITEM else MODEL
        nested = ListPlan(request, win, column, True, _ITEMS)
        plan = ReadPlan((("list", Lookup(entity, parent_id, (("list", nested),), True)),))
    sql, values = read_statement(plan, SUPERUSER)
    row = await conn.fetchrow(sql, *values)
    assert row is not None
    found = json.loads(row[0])["list"]
    if parent is not None:
        found = found["list"]
    info, edges = found["pageInfo"], found["edges"]
    cursors = [edge["cursor"] for edge in edges]
    assert (info["startCursor"], info["endCursor"]) == (
        (cursors[0], cursors[-1]) if cursors else (None, None)
    )
    ids = [uuid.UUID(edge["node"]["id"]) for edge in edges]
    return Result(ids, cursors, info["hasNextPage"], info["hasPreviousPage"], found["totalCount"])


Fetch = Callable[[Window], Awaitable[Result]]


def both(
    conn: asyncpg.Connection, request: ListRequest, parent: tuple[str, uuid.UUID] | None = None
) -> Fetch:
    """A page from both executors, which must agree."""

    async def fetch(win: Window) -> Result:
        reference = await resolver_page(conn, request, win, parent)
        assert await compiled_page(conn, request, win, parent) == reference
        return reference

    return fetch


def _window(request: ListRequest, **args: Any) -> Window:
    arguments: dict[str, Any] = {
        "first": None, "after": None, "last": None, "before": None, "offset": None, **args
    }  # fmt: skip
    return window(request, default_size=20, max_size=100, **arguments)


async def walk_forward(
    fetch: Fetch,
    request: ListRequest,
    size: int,
    between: Callable[[], Awaitable[None]] | None = None,
) -> list[uuid.UUID]:
    seen: list[uuid.UUID] = []
    after: str | None = None
    while True:
        page = await fetch(_window(request, first=size, after=after))
        # every walk starts at the head: from the second page on, something precedes
        assert page.has_previous == (after is not None)
        seen += page.ids
        if not page.has_next:
            return seen
        assert len(page.ids) == size
        after = page.cursors[-1]
        if between is not None:
            await between()


async def walk_back(fetch: Fetch, request: ListRequest, size: int) -> list[uuid.UUID]:
    seen: list[uuid.UUID] = []
    before: str | None = None
    while True:
        page = await fetch(_window(request, last=size, before=before))
        assert page.has_next == (before is not None)
        seen = page.ids + seen
        if not page.has_previous:
            return seen
        assert len(page.ids) == size
        before = page.cursors[0]


@pytest.fixture
async def items(conn: asyncpg.Connection) -> list[uuid.UUID]:
    """Three owners with 40, 7 and 0 items: scores and labels with ties and NULLs."""
    await conn.execute(
        'CREATE TABLE "keyset owners" (id uuid PRIMARY KEY DEFAULT gen_random_uuid());'
        'CREATE TABLE "keyset items" (id uuid PRIMARY KEY DEFAULT gen_random_uuid(), '
        'owner_id uuid NOT NULL REFERENCES "keyset owners", score int, label text, '
        "rank int NOT NULL)"
    )
    owners = []
    randomly = random.Random(7)
    for count in (40, 7, 0):
        owner = await conn.fetchval('INSERT INTO "keyset owners" DEFAULT VALUES RETURNING id')
        await conn.executemany(
            'INSERT INTO "keyset items" (owner_id, score, label, rank) VALUES ($1, $2, $3, $4)',
            [
                (
                    owner,
                    randomly.choice([None, 1, 2, 3, -(2**31)]),
                    randomly.choice([None, "a", "b", "é", ""]),
                    i % 4,
                )
                for i in range(count)
            ],
        )
        owners.append(owner)
    return owners


async def _expected(
    conn: asyncpg.Connection, table: str, order: str, where: str = "TRUE"
) -> list[uuid.UUID]:
    return [
        r[0]
        for r in await conn.fetch(f'SELECT id FROM "{table}" WHERE {where} ORDER BY {order}, id')
    ]


ITEM_ORDERS = [
    ((), "id"),
    ((Order("score"),), "score ASC"),
    ((Order("score", True),), "score DESC"),
    ((Order("label"),), "label ASC"),
    ((Order("label", True), Order("score")), "label DESC, score ASC"),
    (
        (Order("score", True), Order("label", True), Order("rank")),
        "score DESC, label DESC, rank ASC",
    ),
    ((Order("rank"), Order("score")), "rank ASC, score ASC"),
]


@pytest.mark.parametrize(("order", "sql"), ITEM_ORDERS, ids=[s for _, s in ITEM_ORDERS])
async def test_walks_with_nulls_and_ties(
    conn: asyncpg.Connection, items: list[uuid.UUID], order: tuple[Order, ...], sql: str
) -> None:
    request = ListRequest(ITEM, order=order)
    expected = await _expected(conn, "keyset items", sql)
    assert await walk_forward(both(conn, request), request, 6) == expected
    assert await walk_back(both(conn, request), request, 6) == expected
    # under each parent, in one statement per page
    for owner in items:
        mine = await _expected(conn, "keyset items", sql, f"owner_id = '{owner}'")
        fetch = both(conn, request, ("owner_id", owner))
        assert await walk_forward(fetch, request, 4) == mine
        assert await walk_back(fetch, request, 3) == mine


ENVIRONMENT_ORDERS = [
    (column, descending)
    for column in (
        "name",
        "type",
        "row_count",
        "sort_order",
        "protected",
        "created_at",
        "updated_at",
    )
    for descending in (False, True)
]


@pytest.fixture
async def models(conn: asyncpg.Connection) -> list[uuid.UUID]:
    """Three models with 57, 5 and 0 environments (row_count takes 6 values: ties)."""
    org = await conn.fetchval("INSERT INTO organizations (name) VALUES ('Acme') RETURNING id")
    project = await conn.fetchval(
        "INSERT INTO projects (organization_id, name) VALUES ($1, 'p') RETURNING id", org
    )
    ids = []
    for name, environments in (("big", 57), ("small", 5), ("empty", 0)):
        model = await conn.fetchval(
            "INSERT INTO models (project_id, name) VALUES ($1, $2) RETURNING id", project, name
        )
        await conn.executemany(
            "INSERT INTO environments (model_id, project_id, name, type, row_count, sort_order, "
            "protected) VALUES ($1, $2, $3, $4, $5, $6, $7)",
            [
                (
                    model,
                    project,
                    f"{name}-{i:02d}",
                    ("PRODUCTION", "PRE_PRODUCTION")[i % 3 == 0],
                    i % 6,
                    environments - i,  # against the names' order
                    i % 2 == 0,
                )
                for i in range(environments)
            ],
        )
        ids.append(model)
    return ids


@pytest.mark.parametrize(("column", "descending"), ENVIRONMENT_ORDERS)
async def test_walks_under_every_order(
    conn: asyncpg.Connection, models: list[uuid.UUID], column: str, descending: bool
) -> None:
    request = ListRequest(ENVIRONMENT, order=(Order(column, descending),))
    expected = await _expected(conn, "environments", f"{column} {'DESC' if descending else 'ASC'}")
    assert len(expected) == 62
    assert await walk_forward(both(conn, request), request, 10) == expected
    assert await walk_back(both(conn, request), request, 10) == expected
    small = await _expected(
        conn,
        "environments",
        f"{column} {'DESC' if descending else 'ASC'}",
        f"model_id = '{models[1]}'",
    )
    fetch = both(conn, request, ("model_id", models[1]))
    assert await walk_forward(fetch, request, 2) == small
    assert await walk_back(fetch, request, 2) == small


async def test_rows_coming_and_going_between_pages(
    conn: asyncpg.Connection, items: list[uuid.UUID]
) -> None:
    randomly = random.Random(11)
    for order, sql in ITEM_ORDERS:
        request = ListRequest(ITEM, order=order)
        for parent in (None, ("owner_id", items[0])):
            where = "TRUE" if parent is None else f"owner_id = '{items[0]}'"
            before = await _expected(conn, "keyset items", sql, where)
            touched: set[uuid.UUID] = set()

            async def churn(
                before: list[uuid.UUID] = before, touched: set[uuid.UUID] = touched
            ) -> None:
                # two new rows anywhere in the order, one old row deleted (the
                # cursor's own, at times)
                await conn.executemany(
                    'INSERT INTO "keyset items" (owner_id, score, label, rank) '
                    "VALUES ($1, $2, $3, $4)",
                    [
                        (
                            items[0],
                            randomly.choice([None, 0, 2, 9]),
                            randomly.choice([None, "a", "c"]),
                            1,
                        )
                        for _ in range(2)
                    ],
                )
                victim = randomly.choice(sorted(set(before) - touched))
                await conn.execute('DELETE FROM "keyset items" WHERE id = $1', victim)
                touched.add(victim)

            seen = await walk_forward(both(conn, request, parent), request, 5, churn)
            assert len(seen) == len(set(seen)), "a row came twice"
            throughout = [i for i in before if i not in touched]
            assert [i for i in seen if i in set(throughout)] == throughout, (order, parent)


async def test_offset_first_and_last(conn: asyncpg.Connection, models: list[uuid.UUID]) -> None:
    request = ListRequest(ENVIRONMENT, order=(Order("row_count"),))
    fetch = both(conn, request)
    expected = (await fetch(_window(request, first=100))).ids
    assert (await fetch(_window(request))).ids == expected[:20]
    page = await fetch(_window(request, offset=55, first=5))
    assert page.ids == expected[55:60]
    assert (page.has_previous, page.has_next) == (True, True)
    # offset skips rows past the cursor
    after_offset = await fetch(_window(request, after=page.cursors[0], offset=2, first=3))
    assert after_offset.ids == expected[58:61]
    assert after_offset.has_previous is True
    past_the_end = await fetch(_window(request, offset=500))
    assert (past_the_end.ids, past_the_end.total, past_the_end.has_next) == ([], 62, False)
    assert past_the_end.has_previous is True
    # `last` alone counts from the end; after an offset, from the end of what remains
    assert (await fetch(_window(request, last=4))).ids == expected[-4:]
    last_after_offset = await fetch(_window(request, last=4, offset=59))
    assert last_after_offset.ids == expected[59:]
    assert (last_after_offset.has_previous, last_after_offset.has_next) == (True, False)
    assert (await fetch(_window(request, first=10, last=3))).ids == expected[7:10]
    # between two cursors
    middle = await fetch(_window(request, after=page.cursors[0], before=page.cursors[-1]))
    assert middle.ids == expected[56:59]
    assert (middle.has_previous, middle.has_next) == (True, True)
    # past the last row: nothing, but something precedes
    end = await fetch(_window(request, after=(await fetch(_window(request, last=1))).cursors[0]))
    assert (end.ids, end.has_previous, end.has_next) == ([], True, False)
    assert (await fetch(_window(request, first=0))).has_next is True


async def test_a_deleted_cursor_row_still_seeks(
    conn: asyncpg.Connection, models: list[uuid.UUID]
) -> None:
    request = ListRequest(ENVIRONMENT, order=(Order("name", True),))
    fetch = both(conn, request)
    expected = (await fetch(_window(request, first=100))).ids
    page = await fetch(_window(request, first=10))
    await conn.execute("DELETE FROM environments WHERE id = $1", expected[9])
    rest = await fetch(_window(request, after=page.cursors[-1], first=5))
    assert (rest.ids, rest.has_previous) == (expected[10:15], True)


async def test_an_unknown_enum_label_is_bad_input(
    conn: asyncpg.Connection, models: list[uuid.UUID]
) -> None:
    request = ListRequest(ENVIRONMENT, order=(Order("type"),))
    cursor = encode_cursor(fingerprint(request), ["STAGING", str(uuid.uuid4())])
    with pytest.raises(BadInput, match="`before` is not a valid cursor"):
        await resolver_page(conn, request, _window(request, before=cursor), None)


# the page's rows, and a row or two past them, read in the index's order: no sort
# (environments come in sort_order, name, id unless told otherwise)
DEFAULT_ORDER_PAGE = (
    r"Index (Only )?Scan{} using environments_order_idx on environments t\S* "
    r".*actual .*rows=2[12](\.00)? "
)


async def _plan(conn: asyncpg.Connection, sql: str, values: list[Any]) -> str:
    return "\n".join(r[0] for r in await conn.fetch("EXPLAIN (ANALYZE) " + sql, *values))


async def test_a_deep_page_by_cursor_reads_its_rows_through_the_default_order_index(
    conn: asyncpg.Connection, models: list[uuid.UUID]
) -> None:
    project = await conn.fetchval("SELECT project_id FROM models LIMIT 1")
    await conn.execute(
        "INSERT INTO environments (model_id, project_id, name, type) "
        "SELECT $1, $2, 'e' || i, 'PRODUCTION' FROM generate_series(1, 5000) i",
        models[2],
        project,
    )
    await conn.execute("ANALYZE environments")
    request = ListRequest(ENVIRONMENT)
    row = await conn.fetchrow(
        "SELECT sort_order, name, id FROM environments ORDER BY 1, 2, 3 OFFSET 4000 LIMIT 1"
    )
    assert row is not None
    deep = tuple(row)
    pages = {
        "": (_window(request, first=20), Window(first=20, after=deep)),
        " Backward": (_window(request, last=20), Window(last=20, before=deep)),
    }
    for direction, windows in pages.items():
        for win in windows:
            sql, values, _ = page_statement(
                request, SUPERUSER, win, parent_column=None, parent_ids=None, with_total=False
            )
            plan = await _plan(conn, sql, values)
            assert re.search(DEFAULT_ORDER_PAGE.format(direction), plan), plan
            assert "Sort Key: t.sort_order" not in plan, plan
            if win.after is not None:
                assert re.search(r"Index Cond: \(ROW\(sort_order, name, id\) > ", plan), plan
            # the compiled path's page reads the same way
            statement, bound = read_statement(
                ReadPlan((("l", ListPlan(request, win, None, False, _ITEMS[1:])),)), SUPERUSER
            )
            compiled = await _plan(conn, statement, bound)
            assert re.search(DEFAULT_ORDER_PAGE.format(direction), compiled), compiled


async def test_pages_of_many_parents_stop_numbering_where_they_end(
    conn: asyncpg.Connection, models: list[uuid.UUID]
) -> None:
    # the plan itself, not a timing: PostgreSQL numbers each parent's rows only
    # up to the page's last one ("Run Condition"; of the 57 rows of `big`, 6)
    win = Window(first=5)
    sql, values, _ = page_statement(
        ListRequest(ENVIRONMENT), SUPERUSER, win, parent_column="model_id", parent_ids=models,
        with_total=False,
    )  # fmt: skip
    plan = await _plan(conn, sql, values)
    # (PostgreSQL 18 names the window: `OVER w1`)
    assert re.search(r"Run Condition: \(row_number\(\) OVER \S+ <= '6'::bigint\)", plan), plan
    numbered = next(line for line in plan.splitlines() if "Run Condition" in line)
    lines = plan.splitlines()
    # the WindowAgg node above its Run Condition (PostgreSQL 18 puts a `Window:` line between)
    window_agg = next(
        line for line in reversed(lines[: lines.index(numbered)]) if "WindowAgg" in line
    )
    assert re.search(r"actual .*rows=11(\.00)? ", window_agg), plan  # 6 + 5


async def test_a_deep_page_of_events_by_cursor_seeks_through_the_time_index(
    conn: asyncpg.Connection, models: list[uuid.UUID]
) -> None:
    # events' default order is timestamp DESC, id ASC: mixed directions, so the
    # seek is an OR; the range it implies on the time makes it an index condition
    project = await conn.fetchval("SELECT project_id FROM models WHERE id = $1", models[0])
    environment = await conn.fetchval(
        "INSERT INTO environments (model_id, project_id, name, type) "
        "VALUES ($1, $2, 'stream', 'PRODUCTION') RETURNING id",
        models[0],
        project,
    )
    await conn.execute(
        "INSERT INTO events (id, environment_id, project_id, timestamp, event, distinct_id) "
        "SELECT gen_random_uuid(), $1, $2, "
        "timestamp '2026-11-20' - i * interval '1 second', 'p', 'u' "
        "FROM generate_series(1, 20000) i",
        environment,
        project,
    )
    await conn.execute("ANALYZE events")
    request = ListRequest(EVENT)
    deep = await conn.fetchrow(
        'SELECT "timestamp", id FROM events ORDER BY "timestamp" DESC, id OFFSET 15000 LIMIT 1'
    )
    assert deep is not None
    win = Window(first=50, after=(deep["timestamp"], deep["id"]))
    # the environment's page (Environment.events), as both executors read it
    sql, values, _ = page_statement(
        request,
        SUPERUSER,
        win,
        parent_column="environment_id",
        parent_ids=[environment],
        with_total=False,
    )
    plan = await _plan(conn, sql, values)
    assert re.search(r"Index Cond: .*timestamp.* <= ", plan), plan
    # what the index gives past the cursor is the page, not the 15,000 rows before it
    assert not re.search(r"Rows Removed by Filter: [0-9]{4,}", plan), plan
