"""Cursor Connections paging mapped onto row positions.

A page is the rows at positions [start, end) of the ordered list. The
`first/after/last/before/offset` arguments fix that window as the spec's
algorithm does: `after`/`before` cut the list at a cursor's position, `offset`
skips further rows, `first` keeps the head of what remains and `last` its tail.
A cursor is opaque: a position plus a fingerprint of the list it was made for
(entity, filter, search, order), so that a cursor reused under another
ordering or filter is refused instead of silently pointing elsewhere.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
from dataclasses import dataclass

from db.errors import BadInput
from db.lists import ListRequest

_PREFIX = "c1"


def fingerprint(request: ListRequest) -> str:
    """A short digest of what makes positions in this list mean something."""
    key = repr((request.entity.name, request.filter, request.search, request.order))
    return hashlib.sha256(key.encode()).hexdigest()[:12]


def encode_cursor(position: int, print_: str) -> str:
    """The opaque cursor of the row at `position`."""
    return base64.urlsafe_b64encode(f"{_PREFIX}:{position}:{print_}".encode()).decode()


def decode_cursor(cursor: str, print_: str, argument: str) -> int:
    """The position a cursor names; BadInput when malformed or made for another list."""
    try:
        text = base64.urlsafe_b64decode(cursor.encode("ascii")).decode()
        prefix, position, made_for = text.split(":")
        value = int(position)
    except (ValueError, UnicodeError, binascii.Error):
        raise BadInput(f"`{argument}` is not a valid cursor", field=argument) from None
    if prefix != _PREFIX or value < 0:
        raise BadInput(f"`{argument}` is not a valid cursor", field=argument)
    if made_for != print_:
        raise BadInput(
            f"`{argument}` was made for another ordering, filter or search", field=argument
        )
    return value


@dataclass(frozen=True, slots=True)
class Window:
    """Which positions of a list a page covers, before the total is known.

    `low` is the first position the arguments allow and `high` the first they
    exclude (None: no bound); `first`/`last` then keep the head or the tail.
    """

    low: int
    high: int | None
    first: int | None
    last: int | None

    @property
    def needs_total(self) -> bool:
        """`last` with no upper bound counts back from the end, which needs the total."""
        return self.last is not None and self.high is None and self.first is None

    def bounds(self, total: int | None) -> tuple[int, int | None]:
        """[start, end) of the page; end None means "to the end"."""
        end = self.high
        if total is not None:
            end = total if end is None else min(end, total)
        if self.first is not None:
            end = self.low + self.first if end is None else min(end, self.low + self.first)
        start = self.low
        if self.last is not None and end is not None:
            start = max(start, end - self.last)
        return start, end


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
    print_ = fingerprint(request)
    low = 0 if after is None else decode_cursor(after, print_, "after") + 1
    low += offset or 0
    high = None if before is None else decode_cursor(before, print_, "before")
    if first is None and last is None:
        first = default_size
    return Window(low=low, high=high, first=first, last=last)
