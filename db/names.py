"""Name rules: checked here, before any SQL, with the same rule as the
database's CHECK constraints (db/migrations/0004_environment_taxonomy.sql), so
that a bad name is BAD_USER_INPUT naming its field, never a constraint
violation (whose name would reach the client). tests/db/test_names.py holds
the two equal on edge cases.
"""

from __future__ import annotations

import re

from db.errors import BadInput

# as the environment APIs name them; `fullmatch`: `$` would let a trailing
# newline through, which the database's `$` (end of text only) refuses
ENVIRONMENT_NAME = re.compile(r"[A-Za-z0-9_-]{1,64}")
# control characters (C0, DEL, C1) and every whitespace but the plain space:
# what str.isspace() holds, written out so that SQL's regex says the same
# (display_name_ok() in the migration)
_NOT_IN_NAMES = re.compile(
    "[\x00-\x1f\x7f-\x9f\u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]"
)


def check_environment_name(value: str, field: str = "name") -> None:
    """An environment name: 1 to 64 letters, digits, '_' or '-'."""
    if not ENVIRONMENT_NAME.fullmatch(value):
        raise BadInput("an environment name has 1 to 64 letters, digits, '_' or '-'", field=field)


def display_name_ok(value: str, longest: int) -> bool:
    """Whether `value` is a name of 1 to `longest` characters with no control
    character, no whitespace but plain spaces, and no space at either end."""
    return (
        1 <= len(value) <= longest
        and _NOT_IN_NAMES.search(value) is None
        and not value.startswith(" ")
        and not value.endswith(" ")
    )


def check_display_name(value: str | None, field: str, longest: int = 200) -> None:
    """BAD_USER_INPUT naming `field` unless `value` (None: not given) is a good name
    of an organization, project, model (or version) or segment."""
    if value is not None and not display_name_ok(value, longest):
        raise BadInput(
            f"{field} has 1 to {longest} characters, with no control character, no "
            "whitespace but plain spaces, and no space at either end",
            field=field,
        )
