"""Migrations, and the schema they build: what the code relies on."""

from __future__ import annotations

import asyncio

import asyncpg
import pytest

from db import migrations
from db.entities import ENTITIES
from db.errors import MigrationError

# the entities' tables, and those of users, membership, tokens and migrations
TABLES = {e.table for e in ENTITIES.values()} | {
    "api_tokens",
    "event_ids",
    "events_default",
    "organization_members",
    "project_members",
    "schema_migrations",
    "users",
}


async def test_from_empty_then_rerun_is_a_no_op(empty_database_url: str) -> None:
    conn = await asyncpg.connect(empty_database_url)
    try:
        versions = [(1, "initial"), (2, "events"), (3, "token_notify"), (6, "exports")]
        assert [m.name for m in await migrations.pending(conn)] == [n for _, n in versions]
        applied = await migrations.migrate(conn)
        assert [(m.version, m.name) for m in applied] == versions
        assert await migrations.migrate(conn) == []
        assert await migrations.pending(conn) == []
        tables = await conn.fetch("SELECT tablename FROM pg_tables WHERE schemaname = 'public'")
        assert {row["tablename"] for row in tables} == TABLES
        recorded = await conn.fetch("SELECT version, name, checksum FROM schema_migrations")
        assert [tuple(row) for row in recorded] == [
            (m.version, m.name, m.checksum) for m in migrations.available()
        ]
    finally:
        await conn.close()


async def test_a_database_of_the_first_version_migrates_forward(empty_database_url: str) -> None:
    conn = await asyncpg.connect(empty_database_url)
    try:
        await migrations.apply(conn, migrations.available()[0])
        org = await conn.fetchval("INSERT INTO organizations (name) VALUES ('o') RETURNING id")
        project = await conn.fetchval(
            "INSERT INTO projects (organization_id, name) VALUES ($1, 'p') RETURNING id", org
        )
        model = await conn.fetchval(
            "INSERT INTO models (project_id, name, version) VALUES ($1, 'm', '1') RETURNING id",
            project,
        )
        await conn.execute(
            "INSERT INTO environments (model_id, project_id, name, type) "
            "VALUES ($1, $2, 'prod', 'PRODUCTION')",
            model,
            project,
        )
        applied = await migrations.migrate(conn)
        assert [m.name for m in applied] == ["events", "token_notify", "exports"]
        assert await conn.fetchval("SELECT event_count FROM environments") == 0
        assert await conn.fetchval("SELECT count(*) FROM events") == 0
    finally:
        await conn.close()


async def test_concurrent_migrators_apply_once(empty_database_url: str) -> None:
    conns = [await asyncpg.connect(empty_database_url) for _ in range(4)]
    try:
        results = await asyncio.gather(*(migrations.migrate(c) for c in conns))
        assert sorted(len(r) for r in results) == [0, 0, 0, 4]
        assert await conns[0].fetchval("SELECT count(*) FROM schema_migrations") == 4
    finally:
        for c in conns:
            await c.close()


async def test_an_edited_migration_is_refused(conn: asyncpg.Connection) -> None:
    await conn.execute("UPDATE schema_migrations SET checksum = 'edited' WHERE version = 1")
    with pytest.raises(MigrationError, match="0001_initial was changed after it was applied"):
        await migrations.pending(conn)


async def test_every_foreign_key_has_an_index(conn: asyncpg.Connection) -> None:
    # a foreign key whose first column leads no index makes every delete of a
    # parent scan the child table
    unindexed = await conn.fetch(
        """
        SELECT c.conrelid::regclass::text AS tab, c.conname
        FROM pg_constraint c
        WHERE c.contype = 'f' AND c.connamespace = 'public'::regnamespace
          AND NOT EXISTS (
            SELECT 1 FROM pg_index i
            WHERE i.indrelid = c.conrelid
              AND i.indpred IS NULL
              AND i.indkey[0] = c.conkey[1]
          )
        """
    )
    assert [tuple(r) for r in unindexed] == []


async def test_searchable_columns_have_trigram_indexes(conn: asyncpg.Connection) -> None:
    rows = await conn.fetch(
        """
        SELECT t.relname AS tab, a.attname AS col
        FROM pg_index i
        JOIN pg_class t ON t.oid = i.indrelid
        JOIN pg_class ix ON ix.oid = i.indexrelid
        JOIN pg_opclass oc ON oc.oid = i.indclass[0]
        JOIN pg_attribute a ON a.attrelid = t.oid AND a.attnum = i.indkey[0]
        WHERE oc.opcname = 'gin_trgm_ops'
        """
    )
    # an entity read by time window (events) is searched within its window, through
    # its (environment, time) index: a trigram index would cost every ingested row
    described = {
        (e.table, c.name) for e in ENTITIES.values() if e.time_column is None for c in e.searchable
    }
    # users are searched by the token tools, outside the registry
    assert {(r["tab"], r["col"]) for r in rows} == described | {
        ("users", "name"),
        ("users", "email"),
    }


async def _model(conn: asyncpg.Connection) -> tuple[object, object]:
    org = await conn.fetchval("INSERT INTO organizations (name) VALUES ('Acme') RETURNING id")
    project = await conn.fetchval(
        "INSERT INTO projects (organization_id, name) VALUES ($1, 'fraud') RETURNING id", org
    )
    model = await conn.fetchval(
        "INSERT INTO models (project_id, name) VALUES ($1, 'xgb') RETURNING id", project
    )
    return project, model


@pytest.mark.parametrize(
    ("name", "accepted"),
    [("prod_2024-a", True), ("x" * 64, True), ("x" * 65, False), ("bad name", False), ("", False)],
)
async def test_environment_name_rule(conn: asyncpg.Connection, name: str, accepted: bool) -> None:
    project, model = await _model(conn)
    insert = (
        "INSERT INTO environments (model_id, project_id, name, type) "
        "VALUES ($1, $2, $3, 'PRODUCTION')"
    )
    if accepted:
        await conn.execute(insert, model, project, name)
    else:
        with pytest.raises(asyncpg.CheckViolationError):
            await conn.execute(insert, model, project, name)


async def test_environment_project_must_be_its_models(conn: asyncpg.Connection) -> None:
    _, model = await _model(conn)
    org = await conn.fetchval("SELECT id FROM organizations")
    other = await conn.fetchval(
        "INSERT INTO projects (organization_id, name) VALUES ($1, 'other') RETURNING id", org
    )
    with pytest.raises(asyncpg.ForeignKeyViolationError):
        await conn.execute(
            "INSERT INTO environments (model_id, project_id, name, type) "
            "VALUES ($1, $2, 'prod', 'PRODUCTION')",
            model,
            other,
        )


async def test_names_are_unique_among_live_segments(conn: asyncpg.Connection) -> None:
    project, model = await _model(conn)
    user = await conn.fetchval(
        "INSERT INTO users (email, name) VALUES ('a@example.com', 'A') RETURNING id"
    )
    insert = (
        "INSERT INTO segments (model_id, project_id, name, definition, created_by, updated_by) "
        "VALUES ($1, $2, 'adults', 'age >= 18', $3, $3) RETURNING id"
    )
    first = await conn.fetchval(insert, model, project, user)
    with pytest.raises(asyncpg.UniqueViolationError):
        await conn.execute(insert, model, project, user)
    await conn.execute("UPDATE segments SET deleted_at = now() WHERE id = $1", first)
    second = await conn.fetchval(insert, model, project, user)
    assert second != first


async def test_user_emails_are_unique_in_any_case(conn: asyncpg.Connection) -> None:
    await conn.execute("INSERT INTO users (email, name) VALUES ('Ada@Example.com', 'Ada')")
    with pytest.raises(asyncpg.UniqueViolationError):
        await conn.execute("INSERT INTO users (email, name) VALUES ('ada@example.COM', 'Ada')")


async def test_updated_at_strictly_increases_and_created_at_is_kept(
    conn: asyncpg.Connection,
) -> None:
    org = await conn.fetchrow(
        "INSERT INTO organizations (name) VALUES ('Acme') RETURNING id, created_at, updated_at"
    )
    assert org is not None
    assert org["created_at"] == org["updated_at"]
    async with conn.transaction():  # now() stands still inside a transaction
        one = await conn.fetchval(
            "UPDATE organizations SET name = 'B' WHERE id = $1 RETURNING updated_at", org["id"]
        )
        two = await conn.fetchval(
            "UPDATE organizations SET name = 'C', created_at = now() - interval '1 day' "
            "WHERE id = $1 RETURNING updated_at",
            org["id"],
        )
    assert org["updated_at"] < one < two
    created = await conn.fetchval("SELECT created_at FROM organizations WHERE id = $1", org["id"])
    assert created == org["created_at"]
