"""Fixed SQL, kept in `db/sql/*.sql` as named blocks and loaded once at import.

A block starts with a line `-- name: <identifier>` and runs to the next one
(a comment saying what a block is for goes right after its name line). Each
block is a whole statement, so that a test can prepare every one of them; a
block that is a part of built statements is put in with `fragment()`.
"""

from __future__ import annotations

import re
from functools import lru_cache
from importlib.resources import files

_BLOCK_START = re.compile(r"^-- name: (\w+)[ \t]*$", re.MULTILINE)
_PARAMETER = re.compile(r"\$(\d+)")
_BOUND = re.compile(r"\$\d+")


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


@lru_cache(maxsize=256)
def fragment(name: str, *parameters: str) -> str:
    """Block `name` as a parenthesized part of a built statement: its `$1`, `$2`...
    become `parameters`, the builder's own placeholders (bound by its binder, so
    values still never enter SQL text)."""
    for parameter in parameters:
        if not _BOUND.fullmatch(parameter):
            raise ValueError(f"not a bind parameter: {parameter!r}")

    def renumbered(match: re.Match[str]) -> str:
        number = int(match.group(1))
        if not 1 <= number <= len(parameters):
            raise ValueError(f"SQL block {name!r} uses ${number}; {len(parameters)} given")
        return parameters[number - 1]

    # comment lines go: they would only lengthen every statement the block is in
    lines = [line for line in QUERIES[name].splitlines() if not line.lstrip().startswith("--")]
    return "(" + _PARAMETER.sub(renumbered, "\n".join(lines)) + ")"
