"""Cursor Connections paging: the arguments checked, and the window arithmetic.

`after`/`before` are cursors: each holds its row's sort key (the `orderBy`
values and the id) and a fingerprint of the list it was made for (entity,
filter, search, order, deleted rows), so that a cursor reused under another ordering or
filter is refused instead of silently pointing elsewhere. They SEEK: the
list is cut to the rows strictly between the two keys (db/keyset.py), which
costs the same at any depth. `offset` then skips that many rows of what
remains, `first` keeps the head of the rest and `last` its tail.

The rows that remain after the seek are numbered, from the near end or, for
`last` alone, from the far end (then no total is needed); `Window.span` says
which numbers the page holds. db/pages.py turns that into SQL.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from db import codecs
from db.errors import BadInput
from db.lists import Deleted, ListRequest, SortKey, sort_keys


def fingerprint(request: ListRequest) -> str:
    """A short digest of what makes sort keys in this list mean something."""
    made_of: tuple[object, ...] = (
        request.entity.name,
        request.filter,
        request.search,
        request.order,
    )
    if request.deleted is not Deleted.EXCLUDE:  # so that the default's cursors stay as they were
        made_of += (request.deleted.value,)
    key = repr(made_of)
    # 14 digits: the cursor's prefix "c2:<fingerprint>:" is then 18 bytes, a whole
    # number of base64 groups, encoded once in Python (db/codecs.py)
    return hashlib.sha256(key.encode()).hexdigest()[:14]


def encode_cursor(print_: str, keys: Sequence[Any]) -> str:
    """The opaque cursor of a row whose sort key (as `codecs.cursor_key` renders it) is
    `keys`, in the list whose fingerprint is `print_`."""
    return codecs.encode_cursor(print_, keys)


def row_cursor(keys: Sequence[SortKey], print_: str, row: Any) -> str:
    """The cursor of a row (a record holding the sort key's columns)."""
    return encode_cursor(print_, [codecs.cursor_key(k.kind, row[k.column]) for k in keys])


def decode_cursor(
    cursor: str, keys: Sequence[SortKey], print_: str, argument: str
) -> tuple[Any, ...]:
    """The sort key a cursor holds, ready to bind; BadInput when malformed, made for
    another list or holding values that do not fit the columns."""
    invalid = BadInput(f"`{argument}` is not a valid cursor", field=argument)
    try:
        made_for, values = codecs.decode_cursor(cursor)
    except ValueError:
        raise invalid from None
    if made_for != print_:
        raise BadInput(
            f"`{argument}` was made for another ordering, filter or search", field=argument
        )
    if len(values) != len(keys):
        raise invalid
    try:
        bound = tuple(codecs.bind_key(k.kind, v) for k, v in zip(keys, values, strict=True))
    except ValueError:
        raise invalid from None
    for key, value in zip(keys, bound, strict=True):
        if value is None and not key.nullable:
            raise invalid
        if key.labels is not None and value is not None and value not in key.labels:
            raise invalid  # bound as the enum, an unknown label would fail the statement
    return bound


@dataclass(frozen=True, slots=True)
class Window:
    """Which rows of a list a page covers.

    `after`/`before` are the sort keys of the cursors (None: no cursor); of the
    rows strictly between them, `offset` are skipped, then `first` keeps the
    head and `last` the tail."""

    offset: int = 0
    first: int | None = None
    last: int | None = None
    after: tuple[Any, ...] | None = None
    before: tuple[Any, ...] | None = None

    @property
    def backward(self) -> bool:
        """Numbered from the far end: `last` alone takes the rows nearest that end."""
        return self.last is not None and self.first is None and not self.offset

    @property
    def needs_total(self) -> bool:
        """`last` after an offset counts back from the end, which needs the count."""
        return self.last is not None and self.first is None and self.offset > 0

    def span(self, size: int | None = None) -> tuple[int, int | None]:
        """[start, end) of the page in the rows' numbering (from 0; end None: no end).

        `size` is how many rows remain after the seek, needed only by `needs_total`."""
        if self.backward:
            assert self.last is not None
            return 0, self.last
        if self.needs_total:
            assert self.last is not None
            assert size is not None
            return max(self.offset, size - self.last), None
        first = 0 if self.first is None else self.first
        end = self.offset + first
        start = self.offset if self.last is None else max(self.offset, end - self.last)
        return start, end

    @property
    def stop(self) -> int | None:
        """The last row number (from 1) a page can use, one past its end telling whether
        more follow; None: every row is numbered."""
        if self.needs_total:
            return None
        end = self.span()[1]
        return None if end is None else end + 1


def window(
    request: ListRequest,
    *,
    first: int | None,
    after: str | None,
    last: int | None,
    before: str | None,
    offset: int | None,
    default_size: int,
    max_size: int,
) -> Window:
    """Check the paging arguments and turn them into a window."""
    for name, value in (("first", first), ("last", last)):
        if value is not None and not 0 <= value <= max_size:
            raise BadInput(f"`{name}` must be between 0 and {max_size}, not {value}", field=name)
    if offset is not None and not 0 <= offset <= 2**31 - 1:
        raise BadInput(f"`offset` must be 0 or more, not {offset}", field="offset")
    keys = sort_keys(request)
    print_ = fingerprint(request)
    if first is None and last is None:
        first = default_size
    return Window(
        offset=offset or 0,
        first=first,
        last=last,
        after=None if after is None else decode_cursor(after, keys, print_, "after"),
        before=None if before is None else decode_cursor(before, keys, print_, "before"),
    )
