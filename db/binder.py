"""Bind parameters: every value reaches PostgreSQL as `$n`, never as SQL text."""

from __future__ import annotations

from typing import Any


class Binder:
    """Numbers the values of one statement."""

    def __init__(self) -> None:
        self.values: list[Any] = []

    def __call__(self, value: Any) -> str:
        """The placeholder for `value`."""
        self.values.append(value)
        return f"${len(self.values)}"


def like_pattern(template: str, text: str) -> str:
    """`text` inside a LIKE pattern (`template` holding `{}`), its own % _ and \\
    matched literally."""
    escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return template.format(escaped)
