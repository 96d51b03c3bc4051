"""Paging without a database: window arithmetic, the seek's SQL, cursors and refusals.

(The same, run against PostgreSQL on both executors: tests/db/test_keyset.py.)"""

from __future__ import annotations

import base64
import uuid
from datetime import UTC, datetime
from typing import Any

import pytest

from db import codecs
from db.binder import Binder
from db.entities import ENVIRONMENT, Kind
from db.errors import BadInput
from db.keyset import seek
from db.lists import ListRequest, Order, SortKey, order_by, sort_keys
from db.paging import Window, decode_cursor, encode_cursor, fingerprint, window

BY_ROWS = ListRequest(ENVIRONMENT, order=(Order("row_count"),))


def _window(request: ListRequest = BY_ROWS, **args: Any) -> Window:
    arguments: dict[str, Any] = {
        "first": None, "after": None, "last": None, "before": None, "offset": None, **args
    }  # fmt: skip
    return window(request, default_size=20, max_size=100, **arguments)


@pytest.mark.parametrize(
    ("args", "span", "stop", "backward", "needs_total"),
    [
        ({}, (0, 20), 21, False, False),
        ({"first": 5}, (0, 5), 6, False, False),
        ({"first": 5, "offset": 10}, (10, 15), 16, False, False),
        ({"first": 0}, (0, 0), 1, False, False),
        ({"first": 10, "last": 3}, (7, 10), 11, False, False),
        ({"first": 2, "last": 5, "offset": 1}, (1, 3), 4, False, False),
        # `last` alone: numbered from the end, no count needed
        ({"last": 4}, (0, 4), 5, True, False),
        ({"last": 0}, (0, 0), 1, True, False),
        # `last` after an offset counts back from the end of what remains
        ({"last": 4, "offset": 3}, (6, None), None, False, True),
    ],
)
def test_window_arithmetic(
    args: dict[str, Any],
    span: tuple[int, int | None],
    stop: int | None,
    backward: bool,
    needs_total: bool,
) -> None:
    win = _window(**args)
    assert (win.span(10), win.stop, win.backward, win.needs_total) == (
        span,
        stop,
        backward,
        needs_total,
    )


def test_last_after_an_offset_never_starts_before_it() -> None:
    assert _window(last=4, offset=3).span(5) == (3, None)


K = SortKey
ASC_INT, DESC_INT = K("a", Kind.INT, False, False), K("a", Kind.INT, True, False)
ASC_NULL, DESC_NULL = K("n", Kind.STRING, False, True), K("n", Kind.STRING, True, True)
ID = K("id", Kind.ID, False, False)
U = uuid.UUID(int=7)


@pytest.mark.parametrize(
    ("keys", "values", "after", "inclusive", "sql", "bound"),
    [
        # one direction, nothing nullable: a row comparison an index serves
        ((ID,), (U,), True, False, 't."id" > $1::uuid', [U]),
        ((ID,), (U,), False, True, 't."id" <= $1::uuid', [U]),
        ((ASC_INT, ID), (3, U), True, False, '(t."a", t."id") > ($1::int8, $2::uuid)', [3, U]),
        ((ASC_INT, ID), (3, U), False, False, '(t."a", t."id") < ($1::int8, $2::uuid)', [3, U]),
        # DESC before the id's ASC: expanded, behind the range it implies on the
        # first key (an index condition; the OR alone is a filter)
        (
            (DESC_INT, ID), (3, U), True, False,
            '(t."a" <= $1::int8 AND (t."a" < $1::int8 OR '
            '(t."a" = $1::int8 AND t."id" > $2::uuid)))',
            [3, U],
        ),
        (
            (DESC_INT, ID), (3, U), False, True,
            '(t."a" >= $1::int8 AND (t."a" > $1::int8 OR (t."a" = $1::int8 AND '
            '(t."id" < $2::uuid OR t."id" = $2::uuid))))',
            [3, U],
        ),
        # ASC NULLS LAST: after a value come the NULLs; after NULL, only other NULLs
        (
            (ASC_NULL, ID), ("x", U), True, False,
            '((t."n" > $1::text OR t."n" IS NULL) OR (t."n" = $1::text AND t."id" > $2::uuid))',
            ["x", U],
        ),
        (
            (ASC_NULL, ID), (None, U), True, False,
            '(FALSE OR (t."n" IS NULL AND t."id" > $1::uuid))', [U],
        ),
        (
            (ASC_NULL, ID), (None, U), False, False,
            '(t."n" IS NOT NULL OR (t."n" IS NULL AND t."id" < $1::uuid))', [U],
        ),
        # DESC NULLS FIRST: NULLs come before every value
        (
            (DESC_NULL, ID), ("x", U), True, False,
            '(t."n" < $1::text OR (t."n" = $1::text AND t."id" > $2::uuid))', ["x", U],
        ),
        (
            (DESC_NULL, ID), ("x", U), False, False,
            '((t."n" > $1::text OR t."n" IS NULL) OR (t."n" = $1::text AND t."id" < $2::uuid))',
            ["x", U],
        ),
        (
            (DESC_NULL, ID), (None, U), True, False,
            '(t."n" IS NOT NULL OR (t."n" IS NULL AND t."id" > $1::uuid))', [U],
        ),
        # a mix: each key its own way
        (
            (ASC_INT, DESC_NULL, ID), (1, None, U), True, False,
            '(t."a" >= $1::int8 AND (t."a" > $1::int8 OR (t."a" = $1::int8 AND (t."n" IS NOT NULL '
            'OR (t."n" IS NULL AND t."id" > $2::uuid)))))',
            [1, U],
        ),
    ],
)  # fmt: skip
def test_seek_sql(
    keys: tuple[SortKey, ...],
    values: tuple[Any, ...],
    after: bool,
    inclusive: bool,
    sql: str,
    bound: list[Any],
) -> None:
    bind = Binder()
    assert seek(keys, values, "t", bind, after=after, inclusive=inclusive) == sql
    assert bind.values == bound


def test_sort_keys_are_total_and_unrepeated() -> None:
    request = ListRequest(
        ENVIRONMENT, order=(Order("name", True), Order("row_count"), Order("name"))
    )
    assert [(k.column, k.descending) for k in sort_keys(request)] == [
        ("name", True),
        ("row_count", False),
        ("id", False),
    ]
    assert order_by(request, reverse=True) == 't."name" ASC, t."row_count" DESC, t."id" DESC'
    with pytest.raises(BadInput, match="cannot order environment by id"):
        sort_keys(ListRequest(ENVIRONMENT, order=(Order("id"),)))


def test_a_cursor_holds_the_sort_key() -> None:
    print_ = fingerprint(BY_ROWS)
    cursor = encode_cursor(print_, [5, str(U)])
    text = base64.urlsafe_b64decode(cursor).decode()
    assert text == f'c2:{print_}:[5, "{U}"]'
    assert _window(after=cursor, before=cursor).after == (5, U)
    stamped = ListRequest(ENVIRONMENT, order=(Order("created_at", True),))
    moment = datetime(1969, 12, 31, 23, 59, 59, 999999, tzinfo=UTC)
    key = codecs.cursor_key(Kind.DATETIME, moment)
    assert key == -1
    cursor = encode_cursor(fingerprint(stamped), [key, str(U)])
    assert _window(stamped, after=cursor).after == (moment, U)


def _raw(text: str) -> str:
    return base64.urlsafe_b64encode(text.encode()).decode()


PRINT = fingerprint(BY_ROWS)


@pytest.mark.parametrize(
    ("args", "field", "message"),
    [
        ({"first": 101}, "first", "`first` must be between 0 and 100, not 101"),
        ({"first": -1}, "first", "`first` must be between 0 and 100, not -1"),
        ({"last": 1000}, "last", "`last` must be between 0 and 100, not 1000"),
        ({"offset": -5}, "offset", "`offset` must be 0 or more, not -5"),
        ({"after": "bm9wZQ=="}, "after", "`after` is not a valid cursor"),
        ({"after": "!!!"}, "after", "`after` is not a valid cursor"),
        ({"after": "ü"}, "after", "`after` is not a valid cursor"),
        # the position cursors of before
        ({"before": "YzE6LTE6YWJj"}, "before", "`before` is not a valid cursor"),
        ({"before": _raw(f"c1:3:{PRINT}")}, "before", "`before` is not a valid cursor"),
        ({"after": _raw(f"c2:{PRINT}:[1")}, "after", "`after` is not a valid cursor"),
        ({"after": _raw(f"c2:{PRINT}:" + "[" * 5000)}, "after", "not a valid cursor"),
        ({"after": _raw(f"c2:{PRINT}:{{}}")}, "after", "`after` is not a valid cursor"),
        # the wrong number of keys, or values that do not fit the columns
        ({"after": _raw(f'c2:{PRINT}:["{U}"]')}, "after", "`after` is not a valid cursor"),
        ({"after": _raw(f'c2:{PRINT}:["5", "{U}"]')}, "after", "not a valid cursor"),
        ({"after": _raw(f'c2:{PRINT}:[1.5, "{U}"]')}, "after", "not a valid cursor"),
        ({"after": _raw(f'c2:{PRINT}:[true, "{U}"]')}, "after", "not a valid cursor"),
        ({"after": _raw(f'c2:{PRINT}:[{2**63}, "{U}"]')}, "after", "not a valid cursor"),
        ({"after": _raw(f'c2:{PRINT}:[null, "{U}"]')}, "after", "not a valid cursor"),
        ({"after": _raw(f'c2:{PRINT}:[1, "not-a-uuid"]')}, "after", "not a valid cursor"),
        ({"after": _raw(f"c2:{PRINT}:[1, null]")}, "after", "not a valid cursor"),
        # made for another list
        ({"after": encode_cursor("0" * 12, [1, str(U)])}, "after", "made for another ordering"),
    ],
)
def test_bad_arguments(args: dict[str, Any], field: str, message: str) -> None:
    with pytest.raises(BadInput, match=message) as raised:
        _window(**args)
    assert raised.value.field == field


def test_cursors_are_bound_to_their_list() -> None:
    cursor = encode_cursor(PRINT, [1, str(U)])
    other_order = ListRequest(ENVIRONMENT, order=(Order("name"),))
    with pytest.raises(BadInput, match="`after` was made for another ordering, filter or search"):
        _window(other_order, after=cursor)
    searched = ListRequest(ENVIRONMENT, order=(Order("row_count"),), search="big")
    with pytest.raises(BadInput, match="`before` was made for another"):
        _window(searched, before=cursor)


def test_timestamps_outside_python_are_refused() -> None:
    stamped = ListRequest(ENVIRONMENT, order=(Order("created_at"),))
    cursor = encode_cursor(fingerprint(stamped), [2**62, str(U)])
    with pytest.raises(BadInput, match="`after` is not a valid cursor"):
        _window(stamped, after=cursor)


def test_an_enum_key_outside_its_labels_is_refused() -> None:
    keys = (K("type", Kind.ENUM, False, False, frozenset({"A", "B"})), ID)
    assert decode_cursor(encode_cursor("p", ["B", str(U)]), keys, "p", "after") == ("B", U)
    with pytest.raises(BadInput, match="`after` is not a valid cursor"):
        decode_cursor(encode_cursor("p", ["C", str(U)]), keys, "p", "after")
