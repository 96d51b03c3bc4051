"""Cursor Connections paging on positions: walks, offsets, bounds, cursors."""

from __future__ import annotations

import re
import uuid
from typing import Any

import asyncpg
import pytest

from db.entities import ENVIRONMENT
from db.errors import BadInput
from db.lists import ListRequest, Order
from db.pages import Page, _page_sql, fetch_child_pages, fetch_page
from db.paging import Window, window
from db.viewer import Viewer

SUPERUSER = Viewer(uuid.uuid4(), "root@example.com", "Root", uuid.uuid4(), frozenset("*"), True)
# ordered by row_count, which only takes 6 values over 57 rows: ties everywhere
BY_ROWS = ListRequest(ENVIRONMENT, order=(Order("row_count"),))


@pytest.fixture
async def models(conn: asyncpg.Connection) -> list[uuid.UUID]:
    """Three models with 57, 5 and 0 environments."""
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
            "INSERT INTO environments (model_id, project_id, name, type, row_count) "
            "VALUES ($1, $2, $3, 'PRODUCTION', $4)",
            [(model, project, f"{name}-{i:02d}", i % 6) for i in range(environments)],
        )
        ids.append(model)
    return ids


async def _page(conn: asyncpg.Connection, request: ListRequest = BY_ROWS, **args: Any) -> Page:
    arguments: dict[str, Any] = {
        "first": None, "after": None, "last": None, "before": None, "offset": None, **args
    }  # fmt: skip
    win = window(request, default_size=20, max_size=100, **arguments)
    return await fetch_page(conn, request, SUPERUSER, win, with_total=True)


def _ids(page: Page) -> list[uuid.UUID]:
    return [row["id"] for row in page.rows]


async def test_walk_forward_and_back_by_ten(conn: asyncpg.Connection, models: object) -> None:
    everything = await _page(conn, first=100)
    assert everything.total == 62
    expected = _ids(everything)
    assert len(set(expected)) == 62

    seen: list[uuid.UUID] = []
    after: str | None = None
    pages = 0
    while True:
        page = await _page(conn, first=10, after=after)
        pages += 1
        assert page.has_previous == (after is not None)
        seen += _ids(page)
        if not page.has_next:
            break
        after = page.cursors[-1]
    assert (seen, pages) == (expected, 7)
    assert len(page.rows) == 2

    back: list[uuid.UUID] = []
    before: str | None = None
    while True:
        page = await _page(conn, last=10, before=before)
        back = _ids(page) + back
        assert page.has_next == (before is not None)
        if not page.has_previous:
            break
        before = page.cursors[0]
    assert back == expected


async def test_offset_and_default_size(conn: asyncpg.Connection, models: object) -> None:
    expected = _ids(await _page(conn, first=100))
    assert _ids(await _page(conn)) == expected[:20]
    page = await _page(conn, offset=55, first=5)
    assert _ids(page) == expected[55:60]
    assert (page.has_previous, page.has_next) == (True, True)
    after_offset = await _page(conn, after=page.cursors[0], offset=2, first=3)
    assert _ids(after_offset) == expected[58:61]
    past_the_end = await _page(conn, offset=500)
    assert (past_the_end.rows, past_the_end.total, past_the_end.has_next) == ([], 62, False)
    assert past_the_end.has_previous is True


async def test_last_without_before_counts_from_the_end(
    conn: asyncpg.Connection, models: object
) -> None:
    expected = _ids(await _page(conn, first=100))
    page = await _page(conn, last=4)
    assert _ids(page) == expected[-4:]
    assert (page.has_previous, page.has_next) == (True, False)
    first_and_last = await _page(conn, first=10, last=3)
    assert _ids(first_and_last) == expected[7:10]


async def test_cursors_are_bound_to_their_list(conn: asyncpg.Connection, models: object) -> None:
    cursor = (await _page(conn, first=1)).cursors[0]
    other_order = ListRequest(ENVIRONMENT, order=(Order("name"),))
    with pytest.raises(BadInput, match="`after` was made for another ordering, filter or search"):
        await _page(conn, other_order, after=cursor)
    searched = ListRequest(ENVIRONMENT, order=(Order("row_count"),), search="big")
    with pytest.raises(BadInput, match="`before` was made for another"):
        await _page(conn, searched, before=cursor)


@pytest.mark.parametrize(
    ("args", "field", "message"),
    [
        ({"first": 101}, "first", "`first` must be between 0 and 100, not 101"),
        ({"first": -1}, "first", "`first` must be between 0 and 100, not -1"),
        ({"last": 1000}, "last", "`last` must be between 0 and 100, not 1000"),
        ({"offset": -5}, "offset", "`offset` must be 0 or more, not -5"),
        ({"after": "bm9wZQ=="}, "after", "`after` is not a valid cursor"),
        ({"after": "!!!"}, "after", "`after` is not a valid cursor"),
        ({"before": "YzE6LTE6YWJj"}, "before", "`before` is not a valid cursor"),
    ],
)
async def test_bad_arguments(
    conn: asyncpg.Connection, args: dict[str, Any], field: str, message: str
) -> None:
    with pytest.raises(BadInput, match=message) as raised:
        await _page(conn, **args)
    assert raised.value.field == field


async def test_child_pages_for_many_parents_in_one_statement(
    conn: asyncpg.Connection, models: list[uuid.UUID]
) -> None:
    request = ListRequest(ENVIRONMENT, order=(Order("name", descending=True),))
    win = window(request, first=3, after=None, last=None, before=None, offset=1,
                 default_size=20, max_size=100)  # fmt: skip
    pages = await fetch_child_pages(
        conn, request, SUPERUSER, win, parent_column="model_id", parent_ids=models,
        with_total=True,
    )  # fmt: skip
    big, small, empty = (pages[m] for m in models)
    assert [r["name"] for r in big.rows] == ["big-55", "big-54", "big-53"]
    assert (big.total, big.has_previous, big.has_next) == (57, True, True)
    assert [r["name"] for r in small.rows] == ["small-03", "small-02", "small-01"]
    assert (small.total, small.has_next) == (5, True)
    assert (empty.rows, empty.total, empty.has_next, empty.has_previous) == ([], 0, False, False)
    # a cursor of a child list continues that child list
    after = window(request, first=2, after=small.cursors[-1], last=None, before=None,
                   offset=None, default_size=20, max_size=100)  # fmt: skip
    rest = await fetch_child_pages(
        conn, request, SUPERUSER, after, parent_column="model_id", parent_ids=[models[1]],
        with_total=False,
    )  # fmt: skip
    assert [r["name"] for r in rest[models[1]].rows] == ["small-00"]
    assert rest[models[1]].total is None


async def test_a_page_stops_numbering_the_list_where_it_ends(
    conn: asyncpg.Connection, models: list[uuid.UUID]
) -> None:
    # the plan itself, not a timing: PostgreSQL numbers rows only up to the
    # page's last one (a first page of a million rows reads 51 of them)
    sql, values = _page_sql(
        ListRequest(ENVIRONMENT), SUPERUSER, Window(0, 5, 5, None), parent_column=None,
        parent_ids=None, with_total=False,
    )  # fmt: skip
    plan = "\n".join(r[0] for r in await conn.fetch("EXPLAIN (ANALYZE) " + sql, *values))
    # (PostgreSQL 18 names the window: `OVER w1`)
    assert re.search(r"Run Condition: \(row_number\(\) OVER \S+ <= '6'::bigint\)", plan), plan
    numbered = next(line for line in plan.splitlines() if "WindowAgg" in line)
    assert re.search(r"actual .*rows=6(\.00)? ", numbered), plan  # of 62
