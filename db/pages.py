"""The one page builder: a page of a list as SQL, for whoever asks.

`PageQuery` writes, once, what every page needs: the rows left after the
keyset seek of the cursors (db/keyset.py), numbered by `row_number()` over
the list's order (from the far end for `last` alone), the numbers the window
keeps (db/paging.py), and the page's flags as SQL expressions. Its callers
only put those pieces together:

- the resolver path (below): a root list, or the same page under many parents
  in ONE statement (numbered `PARTITION BY` the parent column), selecting the
  flags as columns;
- the compiled path (db/json_reads.py): the page as a subquery correlated with
  its parent row, aggregated into JSON, the flags as aggregates.

The flags: `hasNextPage` is a row numbered past the page's end (the numbering
goes one row further) or, with `before`, a row of the list at or after that
cursor's key; `hasPreviousPage` is a row numbered before the page's start
(the first row always comes along) or, with `after`, a row at or before its
key. `totalCount` counts the list, cursors aside, and only when selected.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any
from uuid import UUID

import asyncpg

from db import codecs
from db.binder import Binder
from db.identifiers import qualified
from db.keyset import seek
from db.lists import ALIAS, ListRequest, order_by, predicate, sort_keys, source
from db.paging import Window, fingerprint, row_cursor
from db.pool import Queryable
from db.viewer import Viewer


class PageQuery:
    """The SQL of one page of `request`, bound into `bind`. `within` restricts the list's
    rows (alias `t`) to their parent(s) ("TRUE" for a root list); `partition` is the
    column numbering restarts at, when one statement pages many parents."""

    def __init__(
        self,
        request: ListRequest,
        viewer: Viewer,
        win: Window,
        bind: Binder,
        *,
        within: str = "TRUE",
        partition: str | None = None,
    ) -> None:
        self.request, self.win, self.bind = request, win, bind
        self.keys = sort_keys(request)
        self.print_ = fingerprint(request)
        # the table, with the parents' values the order needs (checked as read)
        self.table = source(request, viewer, bind)
        # bound once, its text used wherever the list is read again (EXISTS, count)
        self.where = predicate(request, viewer, bind)
        self.within, self.partition = within, partition

    def _int(self, value: int) -> str:
        # typed, so that a bound number is never taken for a 32-bit int; bound where
        # used, since a parameter the text does not use would have no type
        return f"{self.bind(value)}::int8"

    def rows(self, extra: str = "") -> str:
        """The rows left after the seek, numbered `_n` (from 1) in the page's direction
        (`_size`: how many, when the window counts back from the end)."""
        win = self.win
        where = f"{self.where} AND {self.within}"
        if win.after is not None:
            where += " AND " + seek(self.keys, win.after, ALIAS, self.bind, after=True)
        if win.before is not None:
            where += " AND " + seek(self.keys, win.before, ALIAS, self.bind, after=False)
        over = "" if self.partition is None else f"PARTITION BY {self.partition} "
        size = f", count(*) OVER ({over}) AS _size" if win.needs_total else ""
        order = order_by(self.request, reverse=win.backward)
        numbered = f"row_number() OVER ({over}ORDER BY {order}) AS _n{size}"
        if self.partition is not None or win.stop is None:
            return f"SELECT {ALIAS}.*{extra}, {numbered} FROM {self.table} WHERE {where}"
        # one list: a LIMIT too, so that the planner, which does not cost the Run
        # Condition's early stop, knows few rows are read and walks the index from
        # the cursor instead of sorting everything past it
        limit = f"ORDER BY {order} LIMIT {self._int(win.stop)}"
        if win.needs_total:  # counted over every row, so numbered before the LIMIT
            return f"SELECT {ALIAS}.*{extra}, {numbered} FROM {self.table} WHERE {where} {limit}"
        # the rows up to the page's end are the first of the order: limited first
        # and numbered after, a sort keeps only the top rows instead of all of them
        return (
            f"SELECT {ALIAS}.*, {numbered} FROM (SELECT {ALIAS}.*{extra} "
            f"FROM {self.table} WHERE {where} {limit}) {ALIAS}"
        )

    def _position(self, alias: str) -> str:
        return f"({alias}._n - 1)"

    def _start(self, alias: str) -> str:
        if self.win.needs_total:
            assert self.win.last is not None
            offset, last = self._int(self.win.offset), self._int(self.win.last)
            return f"GREATEST({offset}, {alias}._size - {last})"
        return self._int(self.win.span()[0])

    def _end(self) -> str | None:
        end = None if self.win.needs_total else self.win.span()[1]
        return None if end is None else self._int(end)

    def fetched(self, alias: str) -> str:
        """Which numbered rows to read: the page, one past its end, and the first row.

        The bound on the bare row_number() column is what lets PostgreSQL (15 and
        later) stop numbering there ("Run Condition"): a page of each of many
        parents reads its own rows, not all of them. (One list's rows carry a
        LIMIT as well, see `rows`, which the planner costs and the Run Condition
        it does not: a page by cursor then reads ~page-size rows of the index.)"""
        stop = self.win.stop
        bounded = "" if stop is None else f"{alias}._n <= {self._int(stop)} AND "
        if self.win.backward:  # numbered from the page's far end: all of them
            return bounded + "TRUE"
        position, end = self._position(alias), self._end()
        in_window = f"{position} >= {self._start(alias)}" + (
            "" if end is None else f" AND {position} <= {end}"
        )
        return f"{bounded}(({in_window}) OR {alias}._n = 1)"

    def in_page(self, alias: str) -> str:
        """Whether a fetched row is on the page."""
        position, end = self._position(alias), self._end()
        if self.win.backward:
            return f"{position} < {end}"
        return f"{position} >= {self._start(alias)}" + (
            "" if end is None else f" AND {position} < {end}"
        )

    def order(self, alias: str, *, reverse: bool = False) -> str:
        """The page's rows in the list's order (`reverse`: from its end)."""
        return f"{alias}._n" + (" DESC" if self.win.backward != reverse else "")

    def _outside(self, within: str, values: tuple[Any, ...] | None, *, after: bool) -> str:
        if values is None:
            return "FALSE"
        beyond = seek(self.keys, values, ALIAS, self.bind, after=after, inclusive=True)
        # not EXISTS, which drops an ORDER BY: ordered, the nearest row is one step
        # along the index from the cursor, however few rows lie that way
        order = order_by(self.request, reverse=not after)
        return (
            f"COALESCE((SELECT TRUE FROM {self.table} WHERE {self.where} AND {within} "
            f"AND {beyond} ORDER BY {order} LIMIT 1), FALSE)"
        )

    def outside_next(self, within: str) -> str:
        """Some row of the list at or past the `before` cursor's key (`within` its parent)."""
        return self._outside(within, self.win.before, after=True)

    def outside_previous(self, within: str) -> str:
        """Some row of the list at or before the `after` cursor's key."""
        return self._outside(within, self.win.after, after=False)

    def has_next(self, alias: str, over: str, outside: str) -> str:
        """`hasNextPage` over the fetched rows (`over`: "" as an aggregate, an OVER
        clause as a window function), `outside` being `outside_next`."""
        if self.win.backward or self.win.needs_total:  # nothing is numbered past the end
            return f"({outside})"
        end = self._end()
        return f"(COALESCE(bool_or({self._position(alias)} >= {end}) {over}, FALSE) OR {outside})"

    def has_previous(self, alias: str, over: str, outside: str) -> str:
        """`hasPreviousPage`, as `has_next` (`outside` being `outside_previous`)."""
        position = self._position(alias)
        if self.win.backward:
            before_start = f"{position} >= {self._end()}"
        else:
            before_start = f"{position} < {self._start(alias)}"
        return f"(COALESCE(bool_or({before_start}) {over}, FALSE) OR {outside})"

    def total(self, within: str) -> str:
        """`totalCount`: the whole list's, whatever the cursors."""
        return f"(SELECT count(*) FROM {self.table} WHERE {self.where} AND {within})"

    def cursor_keys_sql(self, alias: str) -> str:
        """The JSON text of a numbered row's sort key (what its cursor encodes)."""
        keys = [
            codecs.cursor_key_parts(
                k.kind, qualified(alias, k.column), nullable=k.nullable, plain=k.plain
            )
            for k in self.keys
        ]
        return codecs.cursor_keys_sql(keys)

    def cursor_sql(self, alias: str, keys_text: str | None = None) -> str:
        """The cursor of a numbered row (or of the sort key `keys_text`), as `cursor`
        makes it in Python."""
        prefix = f"{self.bind(codecs.encoded_cursor_prefix(self.print_))}::text"
        most = codecs.cursor_keys_max_bytes([(k.kind, k.labels) for k in self.keys])
        return codecs.cursor_sql(prefix, keys_text or self.cursor_keys_sql(alias), max_bytes=most)

    def cursor(self, row: Any) -> str:
        """The cursor of a fetched row."""
        return row_cursor(self.keys, self.print_, row)


@dataclass(slots=True)
class Page:
    """One page of a list: its rows with their cursors, and where it stands."""

    rows: list[asyncpg.Record] = field(default_factory=list)
    cursors: list[str] = field(default_factory=list)
    has_next: bool = False
    has_previous: bool = False
    total: int | None = None


def page_statement(
    request: ListRequest,
    viewer: Viewer,
    win: Window,
    *,
    parent_column: str | None,
    parent_ids: Sequence[UUID] | None,
    with_total: bool,
) -> tuple[str, list[Any], PageQuery]:
    """The resolver path's statement: one row per fetched row of each parent (a parent
    with none still has one, all NULL), with the page's flags as columns."""
    bind = Binder()
    if parent_column is None:
        query = PageQuery(request, viewer, win, bind)
        parents, mine, join, over = "", "TRUE", "TRUE", "OVER ()"
    else:
        column = qualified(ALIAS, parent_column)
        wanted = bind(list(dict.fromkeys(parent_ids or ())))
        query = PageQuery(
            request, viewer, win, bind, within=f"{column} = ANY({wanted}::uuid[])", partition=column
        )
        parents, mine = f" FROM unnest({wanted}::uuid[]) AS o", f"{column} = o"
        join, over = "s._parent = g._of", "OVER (PARTITION BY g._of)"
    total = f", {query.total(mine)} AS _total" if with_total else ""
    of = "o" if parent_column else "NULL::uuid"
    extra = "" if parent_column is None else f", {qualified(ALIAS, parent_column)} AS _parent"
    sql = (
        f"SELECT g._of, g._total, s.*, {query.in_page('s')} AS _in_page, "
        f"{query.has_next('s', over, 'g._next')} AS _has_next, "
        f"{query.has_previous('s', over, 'g._previous')} AS _has_previous "
        f"FROM (SELECT {of} AS _of, {query.outside_next(mine)} AS _next, "
        f"{query.outside_previous(mine)} AS _previous{total or ', NULL::int8 AS _total'}"
        # OFFSET 0 keeps `g` a subquery of its own: flattened into the join, its
        # counts and outside checks ran once per fetched row, not once per parent
        f"{parents} OFFSET 0) g "
        f"LEFT JOIN (SELECT * FROM ({query.rows(extra)}) n WHERE {query.fetched('n')}) s "
        f"ON {join} ORDER BY g._of, {query.order('s')}"
    )
    return sql, bind.values, query


async def _pages(
    conn: Queryable,
    request: ListRequest,
    viewer: Viewer,
    win: Window,
    *,
    parent_column: str | None,
    parent_ids: Sequence[UUID] | None,
    with_total: bool,
) -> dict[UUID | None, Page]:
    sql, values, query = page_statement(
        request,
        viewer,
        win,
        parent_column=parent_column,
        parent_ids=parent_ids,
        with_total=with_total,
    )
    pages: dict[UUID | None, Page] = {}
    for row in await conn.fetch(sql, *values):
        page = pages.get(row["_of"])
        if page is None:
            page = pages[row["_of"]] = Page(
                has_next=row["_has_next"], has_previous=row["_has_previous"], total=row["_total"]
            )
        if row["_in_page"]:
            page.rows.append(row)
            page.cursors.append(query.cursor(row))
    return pages


async def fetch_page(
    conn: Queryable, request: ListRequest, viewer: Viewer, win: Window, *, with_total: bool
) -> Page:
    """One page of a root list."""
    pages = await _pages(
        conn, request, viewer, win, parent_column=None, parent_ids=None, with_total=with_total
    )
    return pages[None]


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
    pages = await _pages(
        conn,
        request,
        viewer,
        win,
        parent_column=parent_column,
        parent_ids=parent_ids,
        with_total=with_total,
    )
    return {pid: pages.get(pid) or Page(total=0 if with_total else None) for pid in parent_ids}
