"""Relay global ids: opaque to clients, `base64("<Type>:<uuid>")` inside (db/codecs.py
holds both renderings, Python's and the compiled path's SQL)."""

from __future__ import annotations

from uuid import UUID

from db import codecs
from db.errors import BadInput


def global_id(type_name: str, uuid: UUID) -> str:
    """The global id of a row of `type_name`."""
    return codecs.global_id(type_name, uuid)


def parse_global_id(value: str, argument: str = "id") -> tuple[str, UUID]:
    """(type name, uuid) of a global id; BadInput naming `argument` when malformed."""
    try:
        return codecs.parse_global_id(value)
    except ValueError:
        raise BadInput(f"`{argument}` is not a valid id: {value[:80]!r}", field=argument) from None


def expect_global_id(value: str, type_name: str, argument: str = "id") -> UUID:
    """The uuid of a global id that must be of `type_name`."""
    found, uuid = parse_global_id(value, argument)
    if found != type_name:
        raise BadInput(f"`{argument}` is the id of a {found}, not of a {type_name}", field=argument)
    return uuid


def lookup_uuid(id: str | None, uuid: UUID | None, type_name: str) -> UUID:
    """The row a single lookup names: by global `id` or by `uuid`, exactly one of them
    (both executors check it here)."""
    if (id is None) == (uuid is None):
        raise BadInput("give exactly one of `id` and `uuid`", field="id")
    if uuid is not None:
        return uuid
    assert id is not None
    return expect_global_id(id, type_name)
