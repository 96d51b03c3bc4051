"""SQL identifiers: the one helper that writes a table or column name into SQL.

Names come only from the entity descriptions (allow-lists), never from input;
quoting them anyway means a description may use any name PostgreSQL allows
(a reserved word such as `type`, a capital letter) without a second rule.
"""

from __future__ import annotations


def ident(name: str) -> str:
    """`name` as a quoted SQL identifier."""
    return '"' + name.replace('"', '""') + '"'


def qualified(alias: str, name: str) -> str:
    """`alias."name"`: a column of a row alias (aliases are made by the builders)."""
    return f"{alias}.{ident(name)}"
