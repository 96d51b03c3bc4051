"""The keyset seek: rows after (or before) a cursor's sort key, as one SQL predicate.

A list's order is its sort keys (db/lists.py), each ASC or DESC with
PostgreSQL's NULL placement (ASC: NULLs last, DESC: NULLs first), the id
last. "After" means later in that order. When every key is ascending and none
may hold NULL, the predicate is a row comparison, `(a, b, id) > ($1, $2, $3)`,
which a btree index on those columns serves as a range; otherwise it is the
lexicographic expansion, `a > $1 OR (a = $1 AND (b < $2 OR ...))`, each
comparison NULL-aware, behind the range it implies on a first key that
cannot be NULL (`a >= $1 AND (...)`), which an index serves.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from db import codecs
from db.binder import Binder
from db.identifiers import qualified
from db.lists import SortKey


def _later(key: SortKey, column: str, value: str | None, *, after: bool) -> str:
    """`column` is strictly later (`after`) or earlier than the cursor's value in the key's
    order; `value` None: the cursor holds NULL there."""
    # later in ASC order is greater; DESC and "earlier" each flip that
    greater = after != key.descending
    # NULLs sit at the greater end in both directions (ASC NULLS LAST, DESC NULLS FIRST)
    if value is None:
        return "FALSE" if greater else f"{column} IS NOT NULL"
    test = f"{column} {'>' if greater else '<'} {value}"
    if key.nullable and greater:
        return f"({test} OR {column} IS NULL)"
    return test


def _equal(column: str, value: str | None) -> str:
    return f"{column} IS NULL" if value is None else f"{column} = {value}"


def seek(
    keys: Sequence[SortKey],
    values: Sequence[Any],
    alias: str,
    bind: Binder,
    *,
    after: bool,
    inclusive: bool = False,
) -> str:
    """Rows of `alias` later (`after`) or earlier than the sort key `values` in the
    order of `keys`; with `inclusive`, the row holding that very key too."""
    assert len(keys) == len(values), "a cursor holds one value per sort key"
    columns = [qualified(alias, key.column) for key in keys]
    # each value bound once, whatever the number of places it is used in
    bound: list[str | None] = []
    for key, value in zip(keys, values, strict=True):
        sent, cast = codecs.bound(key.kind, value)
        bound.append(None if value is None else bind(sent) + cast)
    if all(not key.descending and not key.nullable for key in keys):
        op = (">" if after else "<") + ("=" if inclusive else "")
        if len(keys) == 1:
            return f"{columns[0]} {op} {bound[0]}"
        return f"({', '.join(columns)}) {op} ({', '.join(str(b) for b in bound)})"
    # from the last key outwards: later here, or equal here and later further on
    tail = "TRUE" if inclusive else "FALSE"
    for index in reversed(range(len(keys))):
        later = _later(keys[index], columns[index], bound[index], after=after)
        equal = _equal(columns[index], bound[index])
        if tail == "FALSE":
            tail = later
        elif tail == "TRUE":
            tail = f"({later} OR {equal})"
        else:
            tail = f"({later} OR ({equal} AND {tail}))"
    first = keys[0]
    if len(keys) > 1 and not first.nullable and bound[0] is not None:
        # the range the expansion implies on the first key, said outright: an OR
        # is only a filter to PostgreSQL, this bound an index condition (a page
        # of events by cursor, timestamp DESC then id ASC, read 16,617 rows to
        # skip those before the cursor on page 1,000 without it)
        greater = after != first.descending
        tail = f"({columns[0]} {'>=' if greater else '<='} {bound[0]} AND {tail})"
    return tail
