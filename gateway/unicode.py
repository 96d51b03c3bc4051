"""Text that is not Unicode: JSON may escape lone UTF-16 surrogates (`"\\ud800"`),
Python decodes them into a `str`, and no UTF-8 encoder (PostgreSQL's driver
included) will take them. Such a request is refused whole, at the door."""

from __future__ import annotations

import re
from typing import Any

_SURROGATE = re.compile("[\ud800-\udfff]")
MESSAGE = "the request holds text that is not valid Unicode (a lone UTF-16 surrogate)"


def has_lone_surrogate(value: Any) -> bool:
    """Whether any string in `value` (nested lists and objects, keys too) holds one."""
    if isinstance(value, str):
        return not value.isascii() and _SURROGATE.search(value) is not None
    if isinstance(value, dict):
        return any(has_lone_surrogate(k) or has_lone_surrogate(v) for k, v in value.items())
    if isinstance(value, list | tuple):
        return any(has_lone_surrogate(item) for item in value)
    return False
