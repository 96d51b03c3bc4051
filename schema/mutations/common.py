"""What every mutation resolver shares."""

from __future__ import annotations

from typing import Any

import strawberry

from schema.context import Context
from schema.inputs import given_value

Info = strawberry.Info[Context, None]
STALE = "The updatedAt last read; CONFLICT if it has changed since."


def given(value: Any) -> Any:
    """None for an input field that was not given (or given as null); enums as values."""
    if not given_value(value):
        return None
    return getattr(value, "value", value)
