"""Relay global ids: opaque to clients, `base64("<Type>:<uuid>")` inside."""

from __future__ import annotations

import base64
import binascii
from uuid import UUID

from db.errors import BadInput


def global_id(type_name: str, uuid: UUID) -> str:
    """The global id of a row of `type_name`."""
    return base64.b64encode(f"{type_name}:{uuid}".encode()).decode()


def parse_global_id(value: str, argument: str = "id") -> tuple[str, UUID]:
    """(type name, uuid) of a global id; BadInput naming `argument` when malformed."""
    try:
        type_name, _, raw = (
            base64.b64decode(value.encode("ascii"), validate=True).decode().partition(":")
        )
        return type_name, UUID(raw)
    except (ValueError, UnicodeError, binascii.Error):
        raise BadInput(f"`{argument}` is not a valid id: {value[:80]!r}", field=argument) from None


def expect_global_id(value: str, type_name: str, argument: str = "id") -> UUID:
    """The uuid of a global id that must be of `type_name`."""
    found, uuid = parse_global_id(value, argument)
    if found != type_name:
        raise BadInput(f"`{argument}` is the id of a {found}, not of a {type_name}", field=argument)
    return uuid
