"""Each codec's Python rendering against its SQL rendering, on edge values, in the real
PostgreSQL: the two executors answer the same bytes only if these agree."""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import asyncpg
import pytest

from db import codecs
from db.entities import ENTITIES, Kind

LONG_TEXT = "".join(chr(0x20 + i % 90) for i in range(500))
TEXTS = [
    "",
    "plain",
    LONG_TEXT,
    'quote " and \\ backslash \\" both',
    "".join(chr(c) for c in range(1, 0x20)) + "\x7f",  # every control character but NUL
    "tab\tnew\nline\rcr\x08bs\x0cff",
    "naïve café 東京 Ωmega",
    "emoji 🚀👩‍👩‍👧 and \u2028 \u2029 separators",
    "/slash </script>",
]
STAMPS = [
    datetime(1, 1, 1, tzinfo=UTC),
    datetime(9999, 12, 31, 23, 59, 59, 999999, tzinfo=UTC),
    datetime(1969, 12, 31, 23, 59, 59, 999999, tzinfo=UTC),
    datetime(1970, 1, 1, tzinfo=UTC),
    datetime(1900, 2, 28, 12, 0, 0, 1, tzinfo=UTC),
    datetime(2024, 2, 29, 12, 34, 56, 500000, tzinfo=UTC),
    datetime(2024, 6, 1, 2, 0, tzinfo=timezone(timedelta(hours=5, minutes=30))),
]
INTS = [0, 1, -1, 2**31 - 1, -(2**31), 2**53 + 1, 2**63 - 1, -(2**63)]
UUIDS = [
    uuid.UUID(int=0),
    uuid.UUID(int=2**128 - 1),
    uuid.UUID("0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0"),
]
# "<Type>:<uuid>" of 56 and 57 bytes: PostgreSQL's base64 of the second ends in a newline
TYPE_NAMES = [
    "Model",
    "Environment",
    "ModelPerformanceReport",
    "X" * 60,
    "Ünïcode",
    "T" * 19,
    "T" * 20,
]


def _sent(kind: Kind, value: Any) -> Any:
    """A value bound as the seek binds it (a timestamp as ISO text: asyncpg would send
    datetime.min and max as -infinity and infinity)."""
    return codecs.bound(kind, value)[0]


def _json(values: list[Any]) -> str:
    return json.dumps(values, ensure_ascii=False, separators=(", ", ": "))


async def _sql(conn: asyncpg.Connection, expression: str, *values: Any) -> Any:
    # timestamps go as ISO text (see _sent)
    sent = [v.isoformat() if isinstance(v, datetime) else v for v in values]
    return await conn.fetchval(f"SELECT {expression}", *sent)


async def test_global_ids(conn: asyncpg.Connection) -> None:
    for type_name in TYPE_NAMES:
        for uuid_ in UUIDS:
            expected = codecs.global_id(type_name, uuid_)
            found = await _sql(
                conn,
                codecs.global_id_sql("$1::text", "$2::uuid", type_name),
                f"{type_name}:",
                uuid_,
            )
            assert found == expected, type_name
            assert codecs.parse_global_id(found) == (type_name, uuid_)


# (kind, SQL type of the column, values)
CURSOR_CASES: list[tuple[Kind, str, list[Any]]] = [
    (Kind.STRING, "text", [*TEXTS, None]),
    (Kind.INT, "int8", [*INTS, None]),
    (Kind.INT, "int4", [0, 2**31 - 1, -(2**31)]),
    (Kind.DATETIME, "text::timestamptz", [*STAMPS, None]),
    (Kind.ID, "uuid", UUIDS),
    (Kind.ENUM, "environment_type", ["PRODUCTION", "PRE_PRODUCTION", None]),
    (Kind.BOOLEAN, "boolean", [True, False, None]),
]


@pytest.mark.parametrize(("kind", "sql_type", "values"), CURSOR_CASES, ids=lambda c: str(c)[:20])
async def test_cursors(
    conn: asyncpg.Connection, kind: Kind, sql_type: str, values: list[Any]
) -> None:
    print_ = "0123456789abcd"
    labels = None
    if kind is Kind.ENUM:
        labels = frozenset(await conn.fetchval(f"SELECT enum_range(NULL::{sql_type})::text[]"))
    # a key of a column that holds no NULL is rendered without its COALESCE
    for value, nullable in [(v, True) for v in values] + [
        (v, False) for v in values if v is not None
    ]:
        keys = [codecs.cursor_key(kind, value), str(UUIDS[2])]
        expected = codecs.encode_cursor(print_, keys)
        keys_sql = codecs.cursor_keys_sql(
            [
                codecs.cursor_key_parts(kind, f"$2::{sql_type}", nullable=nullable),
                codecs.cursor_key_parts(Kind.ID, "$3::uuid", nullable=False),
            ]
        )
        prefix = codecs.encoded_cursor_prefix(print_)
        # the most bytes its keys can have, when bounded: base64's newlines then go
        # untouched, so the bound must hold
        most = codecs.cursor_keys_max_bytes([(kind, labels), (Kind.ID, None)])
        if most is not None:
            assert len(expected) - len(prefix) <= (most + 2) // 3 * 4, value
        for max_bytes in {None, most}:
            sql = codecs.cursor_sql("$1::text", keys_sql, max_bytes=max_bytes)
            found = await _sql(conn, sql, prefix, _sent(kind, value), UUIDS[2])
            assert found == expected, (value, max_bytes)
        # and back: the value the seek binds is the row's own
        made_for, decoded = codecs.decode_cursor(found)
        assert made_for == print_
        assert codecs.bind_key(kind, decoded[0]) == value


async def test_json_arrays_are_python_json(conn: asyncpg.Connection) -> None:
    """The claim the cursor codec rests on: json_build_array(...)::text is json.dumps with
    ", " separators, escapes included."""
    for text in TEXTS:
        found = await _sql(
            conn,
            "json_build_array($1::text, $2::int8, NULL, $3::boolean)::text",
            text,
            2**63 - 1,
            True,
        )
        assert found == _json([text, 2**63 - 1, None, True])
    for stamp in STAMPS:
        micros = await _sql(
            conn,
            codecs.cursor_key_sql(Kind.DATETIME, "$1::text::timestamptz"),
            _sent(Kind.DATETIME, stamp),
        )
        assert int(micros) == codecs.cursor_key(Kind.DATETIME, stamp)  # exact, not a float's


RESPONSE_CASES: list[tuple[str, Callable[[Any], Any], str, list[Any]]] = [
    (
        "datetime",
        codecs.datetime_text,
        codecs.response_sql(Kind.DATETIME, "$1::text::timestamptz"),
        STAMPS,
    ),
    (
        "enum",
        str,
        codecs.response_sql(Kind.ENUM, "$1::environment_type"),
        ["PRODUCTION", "PRE_PRODUCTION"],
    ),
    ("int", codecs.int_value, codecs.response_sql(Kind.INT, "$1::int8"), [0, 2**31 - 1, -(2**31)]),
    ("bigint", codecs.bigint_text, codecs.response_sql(Kind.BIGINT, "$1::int8"), INTS),
    ("string", str, codecs.response_sql(Kind.STRING, "$1::text"), TEXTS),
]


@pytest.mark.parametrize(
    ("name", "python", "sql", "values"), RESPONSE_CASES, ids=lambda c: str(c)[:12]
)
async def test_response_values(
    conn: asyncpg.Connection, name: str, python: Callable[[Any], Any], sql: str, values: list[Any]
) -> None:
    for value in values:
        found = await _sql(conn, f"json_build_array({sql})::text", value)
        assert found == _json([python(value)]), (name, value)
        assert await _sql(conn, f"json_build_array({sql})::text", None) == "[null]"


@pytest.mark.parametrize("value", [2**31, -(2**31) - 1, 2**63 - 1, -(2**63)])
async def test_ints_past_32_bits_fail_both_ways(conn: asyncpg.Connection, value: int) -> None:
    with pytest.raises(ValueError, match="32-bit"):
        codecs.int_value(value)
    with pytest.raises(asyncpg.NumericValueOutOfRangeError):
        await _sql(conn, codecs.response_sql(Kind.INT, "$1::int8"), value)


async def test_what_cursors_quote_as_it_is_needs_no_escaping(conn: asyncpg.Connection) -> None:
    """A cursor quotes an enum's label and a plain column's text without escaping
    them (`cursor_key_sql`): the labels are identifiers, and a plain column's CHECK
    constraint holds its values to letters, digits, '_' and '-'."""
    plain = [(e, c) for e in ENTITIES.values() for c in e.columns if c.plain]
    assert plain, "the environment name is plain"
    for entity, column in plain:
        refused = await conn.fetchval(
            "SELECT count(*) FROM pg_constraint WHERE conrelid = $1::regclass AND contype = 'c'"
            " AND pg_get_constraintdef(oid) LIKE $2",
            entity.table,
            f"%({column.name} ~ '^[A-Za-z0-9_-]{{1,64}}$'::text)%",
        )
        assert refused == 1, (entity.name, column.name)
    for entity in ENTITIES.values():
        for column in entity.columns:
            for label in column.enum or ():
                assert json.dumps(label.value) == f'"{label.value}"', label


async def test_a_cursor_of_bounded_keys_is_encoded_without_taking_out_newlines(
    conn: asyncpg.Connection,
) -> None:
    """PostgreSQL's base64 ends a line after 57 bytes: a sort key known to be shorter
    (the id alone, 40 bytes as JSON) needs no replace() of them, paid for each edge."""
    assert codecs.cursor_keys_max_bytes([(Kind.ID, None)]) == 40
    assert codecs.cursor_keys_max_bytes([(Kind.DATETIME, None), (Kind.ID, None)]) == 62
    labels = frozenset({"A", "BCD"})
    assert codecs.cursor_keys_max_bytes([(Kind.ENUM, labels), (Kind.ID, None)]) == 47
    assert codecs.cursor_keys_max_bytes([(Kind.STRING, None), (Kind.ID, None)]) is None
    newline = "E'\\n'"
    assert newline not in codecs.cursor_sql("$1::text", "$2::text", max_bytes=40)
    for unsafe in (57, 62, None):
        assert newline in codecs.cursor_sql("$1::text", "$2::text", max_bytes=unsafe)
    # and the cursor of the id alone is Python's, encoded so
    print_ = "0123456789abcd"
    key = codecs.cursor_key_parts(Kind.ID, "$2::uuid", nullable=False)
    keys_sql = codecs.cursor_keys_sql([key])
    sql = codecs.cursor_sql("$1::text", keys_sql, max_bytes=40)
    for uuid_ in UUIDS:
        found = await _sql(conn, sql, codecs.encoded_cursor_prefix(print_), uuid_)
        assert found == codecs.encode_cursor(print_, [str(uuid_)])
