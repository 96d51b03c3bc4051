"""Fixed SQL, kept in `db/sql/*.sql` as named blocks and loaded once at import.

A block starts with a line `-- name: <identifier>` and runs to the next one.
"""

from __future__ import annotations

import re
from importlib.resources import files

_BLOCK_START = re.compile(r"^-- name: (\w+)[ \t]*$", re.MULTILINE)


def _load() -> dict[str, str]:
    queries: dict[str, str] = {}
    folder = files("db").joinpath("sql")
    for entry in sorted(folder.iterdir(), key=lambda e: e.name):
        if not entry.name.endswith(".sql"):
            continue
        parts = _BLOCK_START.split(entry.read_text(encoding="utf-8"))
        # parts[0] is whatever precedes the first block: a file comment
        for name, body in zip(parts[1::2], parts[2::2], strict=True):
            if name in queries:
                raise RuntimeError(f"SQL block {name!r} is defined twice ({entry.name})")
            queries[name] = body.strip()
    return queries


QUERIES: dict[str, str] = _load()
