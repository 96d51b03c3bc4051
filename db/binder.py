"""Bind parameters: every value reaches PostgreSQL as `$n`, never as SQL text."""

from __future__ import annotations

from typing import Any

from db.errors import TooComplex

# PostgreSQL's protocol numbers parameters with 16 bits: a statement with more
# than 32,767 cannot even be sent (asyncpg fails it half-way through). The
# budget stays well under that, whatever adds parameters after a filter
# (visibility, paging, the compiled path's keys), and is far above anything a
# sane query binds.
MAX_PARAMETERS = 10_000


class Binder:
    """Numbers the values of one statement, refusing more than `limit` of them before
    any SQL is sent."""

    def __init__(self, limit: int = MAX_PARAMETERS) -> None:
        self.values: list[Any] = []
        self.limit = limit

    def __call__(self, value: Any) -> str:
        """The placeholder for `value`."""
        if len(self.values) >= self.limit:
            raise TooComplex(
                f"the query needs more than {self.limit:,} values in one statement "
                "(a filter too long?)"
            )
        self.values.append(value)
        return f"${len(self.values)}"


def like_pattern(template: str, text: str) -> str:
    """`text` inside a LIKE pattern (`template` holding `{}`), its own % _ and \\
    matched literally."""
    escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return template.format(escaped)
