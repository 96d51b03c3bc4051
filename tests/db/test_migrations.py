"""Migrations, and the schema they build: what the code relies on."""

from __future__ import annotations

import asyncio
import uuid

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
    "persisted_documents",
    "secrets_key_check",
    "users",
}


async def test_from_empty_then_rerun_is_a_no_op(empty_database_url: str) -> None:
    conn = await asyncpg.connect(empty_database_url)
    try:
        versions = [
            (1, "initial"),
            (2, "events"),
            (3, "token_notify"),
            (4, "environment_taxonomy"),
            (5, "api_token_projects"),
            (6, "exports"),
            (7, "evaluations"),
            (8, "environment_config"),
            (9, "persisted_documents"),
            (10, "locked_writes"),
        ]
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
        user = await conn.fetchval(
            "INSERT INTO users (email, name) VALUES ('a@example.com', 'A') RETURNING id"
        )
        await conn.execute(
            "INSERT INTO api_tokens (user_id, token_hash, prefix, scopes) "
            "VALUES ($1, sha256('t'), 'egt_12345678', '{*}')",
            user,
        )
        applied = await migrations.migrate(conn)
        assert [m.name for m in applied] == [
            "events",
            "token_notify",
            "environment_taxonomy",
            "api_token_projects",
            "exports",
            "evaluations",
            "environment_config",
            "persisted_documents",
            "locked_writes",
        ]
        assert await conn.fetchval("SELECT event_count FROM environments") == 0
        assert await conn.fetchval("SELECT count(*) FROM events") == 0
        # a token made before tokens had names: made by the command line, unrestricted
        token = await conn.fetchrow("SELECT name, project_ids FROM api_tokens")
        assert token is not None
        assert tuple(token) == ("command line", None)
    finally:
        await conn.close()


async def test_environments_before_0004_get_a_kind_and_positions(
    empty_database_url: str,
) -> None:
    conn = await asyncpg.connect(empty_database_url)
    try:
        for migration in migrations.available()[:3]:
            await migrations.apply(conn, migration)
        org = await conn.fetchval("INSERT INTO organizations (name) VALUES ('o') RETURNING id")
        project = await conn.fetchval(
            "INSERT INTO projects (organization_id, name) VALUES ($1, 'p') RETURNING id", org
        )
        models = [
            await conn.fetchval(
                "INSERT INTO models (project_id, name) VALUES ($1, $2) RETURNING id", project, name
            )
            for name in ("a", "b")
        ]
        # sort orders as the old rules left them: from 1, gaps, ties, negative, set by
        # hand; ties go by id (tied-2's is the smaller), as lists ordered by it had them
        rows = [
            (1, models[0], "zeta", "PRODUCTION", 3),
            (2, models[0], "alpha", "PRE_PRODUCTION", 1),
            (9, models[0], "tied-1", "PRE_PRODUCTION", 7),
            (8, models[0], "tied-2", "PRODUCTION", 7),
            (3, models[0], "first", "PRE_PRODUCTION", -5),
            (4, models[1], "only", "PRE_PRODUCTION", 42),
        ]
        for id, model, name, type, sort_order in rows:
            await conn.execute(
                "INSERT INTO environments (id, model_id, project_id, name, type, sort_order) "
                "VALUES ($1, $2, $3, $4, $5, $6)",
                uuid.UUID(int=id),
                model,
                project,
                name,
                type,
                sort_order,
            )
        before = await conn.fetch("SELECT id, updated_at FROM environments ORDER BY id")
        await migrations.migrate(conn)
        after = await conn.fetch(
            "SELECT m.name AS model, e.name, e.kind::text, e.type::text, e.enabled, e.sort_order "
            "FROM environments e JOIN models m ON m.id = e.model_id ORDER BY m.name, e.sort_order"
        )
        assert [tuple(r) for r in after] == [
            ("a", "first", "CUSTOM", "PRE_PRODUCTION", True, 0),
            ("a", "alpha", "CUSTOM", "PRE_PRODUCTION", True, 1),
            ("a", "zeta", "PRODUCTION", "PRODUCTION", True, 2),
            ("a", "tied-2", "PRODUCTION", "PRODUCTION", True, 3),
            ("a", "tied-1", "CUSTOM", "PRE_PRODUCTION", True, 4),
            ("b", "only", "CUSTOM", "PRE_PRODUCTION", True, 0),
        ]
        # a change of schema, not of the rows: a client's expectedUpdatedAt still holds
        assert await conn.fetch("SELECT id, updated_at FROM environments ORDER BY id") == before
        # and the next one goes last
        made = await conn.fetchval(
            "INSERT INTO environments (model_id, project_id, name, type) "
            "VALUES ($1, $2, 'new', 'PRODUCTION') RETURNING sort_order",
            models[0],
            project,
        )
        assert made == 5
    finally:
        await conn.close()


async def test_names_the_old_rule_let_in_are_repaired(empty_database_url: str) -> None:
    conn = await asyncpg.connect(empty_database_url)
    try:
        for migration in migrations.available()[:3]:
            await migrations.apply(conn, migration)
        org = await conn.fetchval(
            "INSERT INTO organizations (id, name) VALUES ($1, 'Acme\n') RETURNING id",
            uuid.UUID("11111111-0000-0000-0000-000000000000"),
        )
        await conn.execute("INSERT INTO organizations (name) VALUES ('Fine  name')")
        projects = {}
        for n, name in enumerate(["p", "p\u00a0", "\u00a0 \t", "q\r\nr"]):
            projects[name] = await conn.fetchval(
                "INSERT INTO projects (id, organization_id, name) VALUES ($1, $2, $3) RETURNING id",
                uuid.UUID(f"2222222{n}-0000-0000-0000-000000000000"),
                org,
                name,
            )
        await conn.execute(
            "INSERT INTO models (project_id, name, version) VALUES ($1, 'm\t', ' v1 ')",
            projects["p"],
        )
        await migrations.migrate(conn)
        assert [r[0] for r in await conn.fetch("SELECT name FROM organizations ORDER BY name")] == [
            "Acme",
            "Fine  name",
        ]
        names = await conn.fetch("SELECT name FROM projects ORDER BY id")
        # "p\u00a0" would clash with "p": its id's first 8 characters tell them apart
        assert [r[0] for r in names] == ["p", "p 22222221", "-", "q  r"]
        model = await conn.fetchrow("SELECT name, version FROM models")
        assert model is not None
        assert tuple(model) == ("m", "v1")
    finally:
        await conn.close()


async def test_concurrent_migrators_apply_once(empty_database_url: str) -> None:
    conns = [await asyncpg.connect(empty_database_url) for _ in range(4)]
    try:
        results = await asyncio.gather(*(migrations.migrate(c) for c in conns))
        shipped = len(migrations.available())
        assert sorted(len(r) for r in results) == [0, 0, 0, shipped]
        assert await conns[0].fetchval("SELECT count(*) FROM schema_migrations") == shipped
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
