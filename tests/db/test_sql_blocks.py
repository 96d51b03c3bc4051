"""The named SQL blocks of db/sql/: each one valid PostgreSQL, each one used."""

from __future__ import annotations

from pathlib import Path

import asyncpg
import pytest

from db.queries import QUERIES, fragment

ROOT = Path(__file__).resolve().parents[2]
# where the code that runs SQL lives (tests do not count as a use)
_CODE = ("db", "gateway", "schema")


def _code() -> str:
    return "\n".join(
        path.read_text(encoding="utf-8")
        for folder in _CODE
        for path in sorted((ROOT / folder).rglob("*.py"))
    )


def test_there_are_blocks() -> None:
    # a loader that found nothing would make the tests below vacuous
    assert {"authenticate", "visible_projects", "user_id_by_email", "demo_counts"} <= set(QUERIES)


@pytest.mark.parametrize("name", sorted(QUERIES))
async def test_every_block_is_valid_postgresql(conn: asyncpg.Connection, name: str) -> None:
    # prepared against the migrated schema: syntax, tables, columns and the
    # types of the parameters are all checked, nothing runs
    await conn.prepare(QUERIES[name])


def test_every_block_is_used() -> None:
    code = _code()
    # a block is used as QUERIES["name"], or inside a built statement as fragment("name", ...)
    unused = [
        name
        for name in sorted(QUERIES)
        if f'QUERIES["{name}"]' not in code and f'fragment("{name}"' not in code
    ]
    assert unused == []


def test_a_fragment_takes_the_builders_placeholders() -> None:
    built = fragment("visible_organizations", "$7")
    assert built.startswith("(")
    assert built.endswith(")")
    assert "$7" in built
    assert "$1" not in built
    projects = fragment("visible_projects", "$3")
    assert projects.count("$3") == 2  # one value, named twice: bound once
    assert "--" not in projects


def test_a_fragment_takes_only_placeholders() -> None:
    with pytest.raises(ValueError, match="not a bind parameter"):
        fragment("visible_projects", "1 OR TRUE")
    with pytest.raises(ValueError, match="uses \\$1"):
        fragment("visible_projects")


async def test_a_fragment_in_a_statement_runs(conn: asyncpg.Connection) -> None:
    count = await conn.fetchval(
        f"SELECT count(*) FROM organizations o WHERE $1::int = 1 AND o.id IN "
        f"{fragment('visible_organizations', '$2')}",
        1,
        await conn.fetchval("SELECT gen_random_uuid()"),
    )
    assert count == 0
