"""Codecs: every value that both Python and SQL render, with both renderings side by side.

The resolver path renders a value in Python, the compiled path renders the same
value in SQL; a response is the same bytes either way only if the two agree,
so each codec holds both, and tests/db/test_codecs.py renders edge values
both ways against a real PostgreSQL. Kept here, not beside their callers: a
change to one rendering is then made next to the other.
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import UUID

from db.entities import Kind

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_MICROSECOND = timedelta(microseconds=1)
INT32 = (-(2**31), 2**31 - 1)
INT64 = (-(2**63), 2**63 - 1)


# PostgreSQL's `encode(..., 'base64')` ends a line after every 76 characters,
# the base64 of 57 bytes (Python's does not): a text shorter than that has no
# newline to take out (one of exactly 57 bytes ends with one)
BASE64_LINE_BYTES = 57


def base64_sql(text_sql: str, *, url: bool = False, max_bytes: int | None = None) -> str:
    """SQL of the base64 of a text's UTF-8, as Python's b64encode (or urlsafe_b64encode)
    writes it; `max_bytes` is the most UTF-8 bytes the text can have, when known.

    Each character is swapped with replace(), not translate(): translate decodes
    every character of the text, three replace() cost a third of it (the nested
    bench query renders 6,110 cursors)."""
    encoded = f"encode(convert_to({text_sql}, 'UTF8'), 'base64')"
    if url:
        encoded = f"replace(replace({encoded}, '+', '-'), '/', '_')"
    if max_bytes is not None and max_bytes < BASE64_LINE_BYTES:
        return encoded
    return f"replace({encoded}, E'\\n', '')"


# Relay global ids: base64("<Type>:<uuid>")


def global_id(type_name: str, uuid: UUID) -> str:
    """The global id of a row of `type_name`."""
    return base64.b64encode(f"{type_name}:{uuid}".encode()).decode()


def global_id_sql(prefix_sql: str, id_sql: str, type_name: str) -> str:
    """SQL of `global_id`: `prefix_sql` is the text "<Type>:" of `type_name`, `id_sql` a
    uuid (36 characters as text)."""
    return base64_sql(f"{prefix_sql} || {id_sql}::text", max_bytes=len(type_name.encode()) + 37)


def parse_global_id(value: str) -> tuple[str, UUID]:
    """(type name, uuid) of a global id; ValueError when malformed."""
    try:
        text = base64.b64decode(value.encode("ascii"), validate=True).decode()
    except (UnicodeError, binascii.Error) as error:
        raise ValueError(str(error)) from None
    type_name, _, raw = text.partition(":")
    return type_name, UUID(raw)


# DateTime: ISO 8601 in UTC, as Python's isoformat() writes it

DATETIME_SQL = (
    "(replace(to_char({} AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.US'), '.000000', '')"
    " || '+00:00')"
)


def datetime_text(value: datetime) -> str:
    """A DateTime as the resolver path serialises it."""
    return value.astimezone(UTC).isoformat()


# Int: 32-bit; BigInt: a JSON string of digits (64-bit)


def int_value(value: int) -> int:
    """An Int of a response; ValueError outside 32 bits (the compiled path's int4 cast
    fails alike, and the statement then falls back to the resolver path)."""
    if not INT32[0] <= value <= INT32[1]:
        raise ValueError(f"Int cannot represent non 32-bit signed integer value: {value}")
    return value


def bigint_text(value: int) -> str:
    """A BigInt of a response: its digits as a string (JSON numbers lose them past 2^53)."""
    return str(value)


def response_sql(kind: Kind, sql: str) -> str:
    """SQL of a column's value in a JSON response, as the resolver path serialises it."""
    if kind is Kind.DATETIME:
        return DATETIME_SQL.format(sql)
    if kind is Kind.ENUM:
        return f"{sql}::text"  # an enum by its name
    if kind is Kind.INT:
        # GraphQL's Int is 32-bit: a larger value fails the statement as it
        # fails the field on the resolver path
        return f"{sql}::int4"
    if kind is Kind.BIGINT:
        return f"({sql})::text"  # the digits, a JSON string
    return sql  # uuid as its text, jsonb as itself


# Cursors: base64url("c2:<fingerprint>:<JSON array of the row's sort key>")

CURSOR_PREFIX = "c2"


def cursor_key(kind: Kind, value: Any) -> Any:
    """One value of a row's sort key as its cursor holds it (JSON)."""
    if value is None:
        return None
    if kind is Kind.DATETIME:
        # integer microseconds: exact both ways, unlike a float or a formatted date
        return (value - EPOCH) // _MICROSECOND
    if kind in (Kind.ID, Kind.UUID):
        return str(value)
    return value


# one key of a cursor's JSON text as SQL parts: (True, a literal text) or (False, SQL
# of a text); a cursor's literals are joined before they are written, since every
# `||` of a cursor is paid for each edge of a page
KeyPart = tuple[bool, str]


def cursor_key_parts(
    kind: Kind, sql: str, *, nullable: bool = True, plain: bool = False
) -> tuple[KeyPart, ...]:
    """`cursor_key`'s JSON text, as json_build_array(...)::text writes the item, in
    parts (`nullable`: whether the value may be NULL, written `null`; `plain`: a text
    that needs no escaping, as an enum's label never does).

    Written out per kind rather than through json_build_array: a page renders a
    cursor for every edge, and the JSON functions made a nested read of 6,110
    nodes twice as slow (tests/db/test_codecs.py holds the two renderings equal)."""
    quoted = kind in (Kind.ID, Kind.UUID, Kind.ENUM) or plain
    if quoted and not nullable:
        # a uuid's text, an enum's label, a plain text: nothing to escape
        return ((True, '"'), (False, f"({sql})::text"), (True, '"'))
    if quoted:
        item = f"('\"' || ({sql})::text || '\"')"
    elif kind is Kind.DATETIME:
        item = f"((extract(epoch FROM {sql}) * 1000000)::int8)::text"
    elif kind in (Kind.INT, Kind.BIGINT, Kind.BOOLEAN):
        item = f"({sql})::text"  # digits; true / false
    else:  # text: escaped as a JSON string
        item = f"to_json(({sql})::text)::text"
    return ((False, f"COALESCE({item}, 'null')" if nullable else item),)


def _concat(parts: Sequence[KeyPart]) -> str:
    joined: list[KeyPart] = []
    for part in parts:
        if part[0] and joined and joined[-1][0]:
            joined[-1] = (True, joined[-1][1] + part[1])
        else:
            joined.append(part)
    return " || ".join(
        "'" + text.replace("'", "''") + "'" if literal else text for literal, text in joined
    )


def cursor_key_sql(kind: Kind, sql: str, *, nullable: bool = True, plain: bool = False) -> str:
    """SQL of `cursor_key`'s JSON text alone (see `cursor_key_parts`)."""
    return _concat(cursor_key_parts(kind, sql, nullable=nullable, plain=plain))


# the most bytes of a key's JSON text, by kind: a quoted uuid, int8's digits and
# sign, `false`; a text's is unbounded
_KEY_BYTES = {
    Kind.ID: 38,
    Kind.UUID: 38,
    Kind.INT: 20,
    Kind.BIGINT: 20,
    Kind.DATETIME: 20,
    Kind.BOOLEAN: 5,
}


def cursor_keys_max_bytes(keys: Sequence[tuple[Kind, frozenset[str] | None]]) -> int | None:
    """The most bytes `cursor_keys_sql` can make for keys of these (kind, enum labels),
    None when a text makes it unbounded."""
    total = 2 + 2 * (len(keys) - 1)  # the brackets and separators
    for kind, labels in keys:
        if kind is Kind.ENUM and labels:
            total += 2 + max(len(label.encode()) for label in labels)
        elif kind in _KEY_BYTES:
            total += _KEY_BYTES[kind]
        else:
            return None
    return total


def bind_key(kind: Kind, value: Any) -> Any:
    """The value to bind for a cursor's key (as `cursor_key` wrote it); ValueError
    when it does not fit the column's kind."""
    if value is None:
        return None
    if kind in (Kind.INT, Kind.BIGINT):
        if not isinstance(value, int) or isinstance(value, bool):
            raise ValueError("not an integer")
        if not INT64[0] <= value <= INT64[1]:
            raise ValueError("out of range")
        return value
    if kind is Kind.DATETIME:
        if not isinstance(value, int) or isinstance(value, bool):
            raise ValueError("not a timestamp")
        try:
            return EPOCH + value * _MICROSECOND
        except OverflowError:
            raise ValueError("out of range") from None
    if kind is Kind.BOOLEAN:
        if not isinstance(value, bool):
            raise ValueError("not a boolean")
        return value
    if not isinstance(value, str) or "\x00" in value:
        raise ValueError("not a text")
    return UUID(value) if kind in (Kind.ID, Kind.UUID) else value


# how a value is bound: typed, so that an untyped parameter never takes a column's
# type (an int4 column would refuse a 64-bit value before any SQL ran); a
# timestamp as ISO text, since asyncpg sends Python's datetime.min and max as
# -infinity and infinity (a row at 0001-01-01T00:00:00Z is a real value)
_BIND_CASTS = {
    Kind.INT: "::int8",
    Kind.BIGINT: "::int8",
    Kind.DATETIME: "::text::timestamptz",
    Kind.ID: "::uuid",
    Kind.UUID: "::uuid",
    Kind.STRING: "::text",
    Kind.BOOLEAN: "::boolean",
    Kind.ENUM: "",  # the column's own enum type (labels are checked first, see db/paging.py)
}


def bound(kind: Kind, value: Any) -> tuple[Any, str]:
    """(what to bind, the cast to write after its placeholder) for a value of `kind`."""
    if kind is Kind.DATETIME and value is not None:
        return value.isoformat(), _BIND_CASTS[kind]
    return value, _BIND_CASTS[kind]


def _json(values: Sequence[Any]) -> str:
    # as PostgreSQL's json_build_array(...)::text writes it
    return json.dumps(list(values), ensure_ascii=False, separators=(", ", ": "))


def encode_cursor(print_: str, keys: Sequence[Any]) -> str:
    """The opaque cursor of a row whose sort key is `keys` (made by `cursor_key`)."""
    text = f"{CURSOR_PREFIX}:{print_}:{_json(keys)}"
    return base64.urlsafe_b64encode(text.encode()).decode()


def cursor_keys_sql(keys: Sequence[Sequence[KeyPart]]) -> str:
    """SQL of the JSON array of a row's sort key (`cursor_key_parts` of each key)."""
    parts: list[KeyPart] = [(True, "[")]
    for index, key in enumerate(keys):
        if index:
            parts.append((True, ", "))
        parts.extend(key)
    parts.append((True, "]"))
    return _concat(parts)


def cursor_sql(encoded_prefix_sql: str, keys_text_sql: str, *, max_bytes: int | None = None) -> str:
    """SQL of `encode_cursor`, from the prefix as `encoded_cursor_prefix` makes it and
    the `cursor_keys_sql` of the row (`max_bytes`: its most bytes, when known). Only the
    keys are encoded in SQL: the prefix is a whole number of base64 groups, so its
    encoding is the same at any position."""
    return f"{encoded_prefix_sql} || {base64_sql(keys_text_sql, url=True, max_bytes=max_bytes)}"


def cursor_prefix(print_: str) -> str:
    """What precedes the keys in a cursor's text."""
    return f"{CURSOR_PREFIX}:{print_}:"


def encoded_cursor_prefix(print_: str) -> str:
    """The base64url of `cursor_prefix` (a multiple of 3 bytes long, so that it is the
    start of every cursor's base64 whatever follows)."""
    prefix = cursor_prefix(print_).encode()
    if len(prefix) % 3:
        raise ValueError("a cursor prefix is a whole number of base64 groups")
    return base64.urlsafe_b64encode(prefix).decode()


def decode_cursor(cursor: str) -> tuple[str, list[Any]]:
    """(fingerprint, keys as JSON values) of a cursor; ValueError when malformed."""
    try:
        text = base64.urlsafe_b64decode(cursor.encode("ascii")).decode()
    except (UnicodeError, binascii.Error) as error:
        raise ValueError(str(error)) from None
    prefix, _, rest = text.partition(":")
    print_, _, keys = rest.partition(":")
    if prefix != CURSOR_PREFIX:
        raise ValueError("not a cursor of this version")
    try:
        values = json.loads(keys)
    except RecursionError:  # nested arrays, thousands deep
        raise ValueError("not a list of keys") from None
    if not isinstance(values, list):
        raise ValueError("not a list of keys")
    return print_, values
