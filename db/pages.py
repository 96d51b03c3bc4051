"""Pages of a list, for one parent or many, in ONE statement.

Rows are numbered by `row_number()` over the list's order (partitioned by
parent when listing children of many parents at once), and the page is a
range of those positions. One row past the page tells `hasNextPage`; the row
at position 0 is always fetched, which tells `hasPreviousPage` and, when the
total is wanted (`count(*) OVER`), carries it even for an empty page.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any
from uuid import UUID

import asyncpg

from db.binder import Binder
from db.lists import ALIAS, ListRequest, order_by, predicate
from db.paging import Window, encode_cursor, fingerprint
from db.pool import Queryable
from db.viewer import Viewer


@dataclass(slots=True)
class Page:
    """One page of a list: its rows with their cursors, and where it stands."""

    rows: list[asyncpg.Record] = field(default_factory=list)
    cursors: list[str] = field(default_factory=list)
    has_next: bool = False
    has_previous: bool = False
    total: int | None = None


def _page_sql(
    request: ListRequest,
    viewer: Viewer,
    win: Window,
    *,
    parent_column: str | None,
    parent_ids: Sequence[UUID] | None,
    with_total: bool,
) -> tuple[str, list[Any]]:
    bind = Binder()
    where = predicate(request, viewer, bind)
    partition = ""
    if parent_column is not None:
        where += f" AND {ALIAS}.{parent_column} = ANY({bind(list(parent_ids or ()))})"
        partition = f"PARTITION BY {ALIAS}.{parent_column} "
    with_total = with_total or win.needs_total
    total = f", count(*) OVER ({partition}) AS _total" if with_total else ""
    parent = f", {ALIAS}.{parent_column} AS _parent" if parent_column else ""
    position = "(s._n - 1)"
    if win.needs_total:
        assert win.last is not None
        start = f"GREATEST({bind(win.low)}, s._total - {bind(win.last)})"
        end = None
    else:
        low, high = win.bounds(None)
        start, end = bind(low), None if high is None else bind(high)
    # one row past the end tells whether a next page exists
    in_page = f"{position} >= {start}" + ("" if end is None else f" AND {position} <= {end}")
    # position 0 always comes along: it carries the total, and its existence
    # tells whether anything precedes the page
    keep = f"({in_page}) OR s._n = 1"
    sql = (
        f"SELECT s.*, {position} AS _position FROM (SELECT {ALIAS}.*{parent}, "
        f"row_number() OVER ({partition}ORDER BY {order_by(request)}) AS _n{total} "
        f"FROM {request.entity.table} {ALIAS} WHERE {where}) s "
        f"WHERE {stop_after(win, 's._n', bind)}({keep}) "
        f"ORDER BY {'s._parent, ' if parent_column else ''}s._n"
    )
    return sql, bind.values


def stop_after(win: Window, number: str, bind: Binder) -> str:
    """`number <= n AND ` for the last row number a page can use, else nothing.

    On the bare row_number() column this is what lets PostgreSQL (15 and
    later) stop numbering there ("Run Condition"): the first page of a list
    of a million rows reads 51 of them through an index, not all of them."""
    high = None if win.needs_total else win.bounds(None)[1]
    return "" if high is None else f"{number} <= {bind(high + 1)}::int8 AND "


def _paginate(rows: list[asyncpg.Record], win: Window, print_: str, with_total: bool) -> Page:
    total = rows[0]["_total"] if rows and (with_total or win.needs_total) else None
    if total is None and (with_total or win.needs_total):
        total = 0  # not even position 0: the list is empty
    start, end = win.bounds(total)
    page = Page(total=total if with_total else None, has_previous=start > 0 and bool(rows))
    for row in rows:
        position = row["_position"]
        if end is not None and position >= end:
            page.has_next = True
        elif position >= start:
            page.rows.append(row)
            page.cursors.append(encode_cursor(position, print_))
    return page


async def fetch_page(
    conn: Queryable, request: ListRequest, viewer: Viewer, win: Window, *, with_total: bool
) -> Page:
    """One page of a root list."""
    sql, values = _page_sql(
        request, viewer, win, parent_column=None, parent_ids=None, with_total=with_total
    )
    rows = await conn.fetch(sql, *values)
    return _paginate(rows, win, fingerprint(request), with_total)


async def fetch_child_pages(
    conn: Queryable,
    request: ListRequest,
    viewer: Viewer,
    win: Window,
    *,
    parent_column: str,
    parent_ids: Sequence[UUID],
    with_total: bool,
) -> dict[UUID, Page]:
    """The same page of a child list under each parent, in one statement."""
    sql, values = _page_sql(
        request,
        viewer,
        win,
        parent_column=parent_column,
        parent_ids=parent_ids,
        with_total=with_total,
    )
    by_parent: dict[UUID, list[asyncpg.Record]] = defaultdict(list)
    for row in await conn.fetch(sql, *values):
        by_parent[row["_parent"]].append(row)
    print_ = fingerprint(request)
    return {pid: _paginate(by_parent.get(pid, []), win, print_, with_total) for pid in parent_ids}
