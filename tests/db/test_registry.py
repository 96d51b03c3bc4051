"""The registry against the migrated database: every description the code
builds SQL from matches what the migrations made."""

from __future__ import annotations

import asyncpg
import pytest

from db.entities import ENTITIES, Entity

ALL = sorted(ENTITIES.values(), key=lambda e: e.name)


async def _columns(conn: asyncpg.Connection, table: str) -> dict[str, tuple[str, bool]]:
    rows = await conn.fetch(
        """
        SELECT column_name, is_nullable = 'YES' AS nullable,
               CASE WHEN data_type = 'USER-DEFINED' THEN udt_name ELSE data_type END AS type
        FROM information_schema.columns
        WHERE table_schema = 'public' AND table_name = $1
        """,
        table,
    )
    return {r["column_name"]: (r["type"], r["nullable"]) for r in rows}


async def _leading_index_columns(conn: asyncpg.Connection, table: str) -> dict[str, set[str]]:
    """The first column of each index of `table`, by operator class (btree: 'btree')."""
    rows = await conn.fetch(
        """
        SELECT a.attname AS col, am.amname AS method, oc.opcname AS opclass
        FROM pg_index i
        JOIN pg_class t ON t.oid = i.indrelid
        JOIN pg_class ix ON ix.oid = i.indexrelid
        JOIN pg_am am ON am.oid = ix.relam
        JOIN pg_opclass oc ON oc.oid = i.indclass[0]
        JOIN pg_attribute a ON a.attrelid = t.oid AND a.attnum = i.indkey[0]
        WHERE t.relname = $1 AND i.indpred IS NULL
        """,
        table,
    )
    found: dict[str, set[str]] = {}
    for r in rows:
        found.setdefault(r["col"], set()).add(
            "trigram" if r["opclass"] == "gin_trgm_ops" else r["method"]
        )
    return found


@pytest.mark.parametrize("entity", ALL, ids=lambda e: e.name)
async def test_described_columns_exist_as_described(
    conn: asyncpg.Connection, entity: Entity
) -> None:
    actual = await _columns(conn, entity.table)
    described = {c.name: (c.database_type, c.nullable) for c in entity.columns}
    assert {name: actual.get(name) for name in described} == described
    # what visibility, relations, lists and users read is there too
    needed = [entity.project_column, entity.owner_column, *(r.column for r in entity.relations)]
    needed += [ref.column for ref in entity.user_refs]
    assert [name for name in needed if name and name not in actual] == []
    for child in entity.children:
        assert child.column in await _columns(conn, ENTITIES[child.entity].table)


@pytest.mark.parametrize("entity", ALL, ids=lambda e: e.name)
async def test_enum_columns_hold_the_described_values(
    conn: asyncpg.Connection, entity: Entity
) -> None:
    for column in entity.columns:
        if column.enum is None:
            continue
        labels = await conn.fetch(
            "SELECT enumlabel FROM pg_enum WHERE enumtypid = $1::regtype ORDER BY enumsortorder",
            column.database_type,
        )
        assert [r["enumlabel"] for r in labels] == [v.value for v in column.enum]


@pytest.mark.parametrize("entity", ALL, ids=lambda e: e.name)
async def test_searches_orders_and_lists_have_their_indexes(
    conn: asyncpg.Connection, entity: Entity
) -> None:
    indexes = await _leading_index_columns(conn, entity.table)
    # free-text search is ILIKE '%term%': a trigram index per searchable column (but
    # in a stream read by time window, searched within its window: a trigram index
    # would cost every ingested row)
    if entity.time_column is None:
        searchable = entity.searchable
        assert [c.name for c in searchable if "trigram" not in indexes.get(c.name, ())] == []
    # the default order (the id) seeks through the primary key
    assert "btree" in indexes["id"]
    # a nested list under many parents, and visibility, read by these columns
    wanted = {entity.project_column, entity.owner_column, *(r.column for r in entity.relations)}
    wanted -= {None}
    assert sorted(str(c) for c in wanted if "btree" not in indexes.get(str(c), ())) == []
