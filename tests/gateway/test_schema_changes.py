"""A migration committed by another process or instance reaches every serving
process through `LISTEN`/`NOTIFY` (`envgraph_schema`): its pools' prepared
statements are dropped, so that a mutation prepared before an `ALTER TABLE`
that changes its result does not fail in its transaction ("cached plan must
not change result type", which asyncpg cannot prepare again inside one)."""

from __future__ import annotations

import asyncio
import logging
import time

import asyncpg
import pytest

from db import migrations
from db.demo import seed_demo
from schema.ids import global_id
from tests.schema.conftest import issue_tokens
from tests.support import Client, data

_CREATE = """mutation($org: ID!, $name: String!) {
  createProject(input: {organizationId: $org, name: $name}) { project { id name } } }"""
_UPDATE = """mutation($id: ID!, $name: String!) {
  updateProject(input: {id: $id, name: $name}) { project { name } } }"""
_READ = """query($prefix: String!) {
  projects(first: 3, filter: {name: {startsWith: $prefix}}) { totalCount } }"""
# a migration as another instance of a newer version would apply it
_ADDED_COLUMN = migrations.Migration(
    9000, "elsewhere", "ALTER TABLE projects ADD COLUMN added_elsewhere integer"
)


async def _writes(client: Client, token: str, org: str, prefix: str) -> None:
    for n in range(6):
        created = await data(client, _CREATE, token, org=org, name=f"{prefix}{n}")
        project = created["createProject"]["project"]
        updated = await data(client, _UPDATE, token, id=project["id"], name=f"{prefix}{n}b")
        assert updated == {"updateProject": {"project": {"name": f"{prefix}{n}b"}}}
    assert await data(client, _READ, token, prefix=prefix) == {"projects": {"totalCount": 6}}


async def test_a_migration_elsewhere_drops_prepared_statements(
    conn: asyncpg.Connection, client: Client, caplog: pytest.LogCaptureFixture
) -> None:
    await seed_demo(conn, 1)
    tokens = await issue_tokens(conn)
    organization = await conn.fetchval(
        "SELECT o.id FROM organizations o JOIN organization_members m ON m.organization_id = o.id"
        " JOIN users u ON u.id = m.user_id WHERE u.email = 'ada@example.com' AND m.role = 'ADMIN'"
        " ORDER BY o.name LIMIT 1"
    )
    org = global_id("Organization", organization)
    # the pool's connections prepare the mutations' statements
    await _writes(client, tokens.ada, org, "before")

    caplog.set_level(logging.INFO, logger="envgraph.revocations")
    await migrations.apply(conn, _ADDED_COLUMN)
    deadline = time.monotonic() + 10
    while not any("schema changed" in r.getMessage() for r in caplog.records):
        assert time.monotonic() < deadline, "the process never heard of the migration"
        await asyncio.sleep(0.02)

    # every write answers as before (one of them was INTERNAL_SERVER_ERROR)
    await _writes(client, tokens.ada, org, "after")
    written = "SELECT count(*) FROM projects WHERE name ~ '^(before|after)[0-9]b$'"
    assert await conn.fetchval(written) == 12
