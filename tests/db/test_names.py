"""The name rules of db/names.py and of the database's CHECK constraints are one
rule: every edge case gets the same answer from both."""

from __future__ import annotations

import asyncpg
import pytest

from db.names import ENVIRONMENT_NAME, display_name_ok

# each character str.isspace() holds, a few that it does not, at either end and inside
WHITESPACE = [chr(c) for c in range(0x110000) if chr(c).isspace()]
OTHERS = ["\x00", "\x01", "\x7f", "\x80", "\x9f", "\u200b", "\ufeff", "é", "\U0001f600", "-"]
NAMES = sorted(
    {
        *(f"{c}name" for c in WHITESPACE + OTHERS),
        *(f"name{c}" for c in WHITESPACE + OTHERS),
        *(f"na{c}me" for c in WHITESPACE + OTHERS),
        *(c for c in WHITESPACE + OTHERS),
        "",
        "a",
        "x" * 200,
        "x" * 201,
        "x" * 200 + "\n",
        "Acme Analytics",
        "prod_2024-a",
        "x" * 64,
        "x" * 65,
    }
)


async def test_display_names_the_same_in_python_and_sql(conn: asyncpg.Connection) -> None:
    # PostgreSQL's text holds no NUL: Python refuses it, and that is all there is to it
    sendable = [n for n in NAMES if "\x00" not in n]
    found = await conn.fetch(
        "SELECT n, display_name_ok(n, 200) AS ok FROM unnest($1::text[]) n", sendable
    )
    assert {r["n"]: r["ok"] for r in found} == {n: display_name_ok(n, 200) for n in sendable}
    assert not any(display_name_ok(n, 200) for n in NAMES if "\x00" in n)
    # and what the rule is: nothing but plain spaces inside, none at the ends
    taken = [n for n in NAMES if display_name_ok(n, 200)]
    assert [n for n in taken if any(c.isspace() and c != " " for c in n)] == []
    assert [n for n in taken if any(ord(c) < 0x20 or 0x7F <= ord(c) <= 0x9F for c in n)] == []
    assert [n for n in taken if n != n.strip()] == []
    assert display_name_ok("na me", 200)
    assert not display_name_ok("na\u00a0me", 200)
    assert not display_name_ok("name\n", 200)


async def test_environment_names_the_same_in_python_and_sql(conn: asyncpg.Connection) -> None:
    sendable = [n for n in NAMES if "\x00" not in n]
    found = await conn.fetch(
        "SELECT n, n ~ '^[A-Za-z0-9_-]{1,64}$' AS ok FROM unnest($1::text[]) n", sendable
    )
    assert {r["n"]: r["ok"] for r in found} == {
        n: ENVIRONMENT_NAME.fullmatch(n) is not None for n in sendable
    }
    # `match` with `$` took "prod\n"; the database never did
    assert ENVIRONMENT_NAME.fullmatch("prod\n") is None


@pytest.mark.parametrize(
    ("table", "sql"),
    [
        ("organizations", "INSERT INTO organizations (name) VALUES ($1)"),
        ("environments", "UPDATE environments SET name = $1"),
    ],
)
async def test_the_database_refuses_what_python_refuses(
    conn: asyncpg.Connection, table: str, sql: str
) -> None:
    org = await conn.fetchval("INSERT INTO organizations (name) VALUES ('o') RETURNING id")
    project = await conn.fetchval(
        "INSERT INTO projects (organization_id, name) VALUES ($1, 'p') RETURNING id", org
    )
    model = await conn.fetchval(
        "INSERT INTO models (project_id, name) VALUES ($1, 'm') RETURNING id", project
    )
    await conn.execute(
        "INSERT INTO environments (model_id, project_id, name, type) "
        "VALUES ($1, $2, 'e', 'PRODUCTION')",
        model,
        project,
    )
    for bad in ("name\n", "name\u00a0", " name"):
        with pytest.raises(asyncpg.CheckViolationError):
            await conn.execute(sql, bad)
