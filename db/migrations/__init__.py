"""Forward-only numbered SQL migrations (`NNNN_name.sql` in this folder).

They are applied in order, each in its own transaction, all under one
advisory lock (so concurrent starters of the service queue up instead of
racing), and recorded with a checksum in `schema_migrations`: a migration
that was edited after it was applied is refused, not silently skipped.
Each one NOTIFYs `envgraph_schema` as it commits: every serving process, on
any machine, then drops the prepared statements its pools hold
(gateway/revocations.py), whose plans the new schema may have outdated.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from importlib.resources import files

from db.errors import MigrationError
from db.pool import Connection

# pg_advisory_lock key: any constant that no other application uses
_LOCK_KEY = 0x656E_7667_7261_7068  # "envgraph"
# what a migration NOTIFYs as it commits (the payload: its version)
SCHEMA_CHANNEL = "envgraph_schema"
_FILE_NAME = re.compile(r"^(\d{4})_(\w+)\.sql$")

_CREATE_TABLE = """
CREATE TABLE IF NOT EXISTS schema_migrations (
    version     integer PRIMARY KEY,
    name        text NOT NULL,
    checksum    text NOT NULL,
    applied_at  timestamptz NOT NULL DEFAULT now()
)"""


@dataclass(frozen=True, slots=True)
class Migration:
    """One migration file."""

    version: int
    name: str
    sql: str

    @property
    def checksum(self) -> str:
        """SHA-256 of the file's text."""
        return hashlib.sha256(self.sql.encode()).hexdigest()


def available() -> list[Migration]:
    """The migrations shipped with this code, in order."""
    found: list[Migration] = []
    for entry in files("db.migrations").iterdir():
        match = _FILE_NAME.match(entry.name)
        if match:
            found.append(Migration(int(match[1]), match[2], entry.read_text(encoding="utf-8")))
    found.sort(key=lambda m: m.version)
    versions = [m.version for m in found]
    if len(set(versions)) != len(versions):
        raise MigrationError("two migration files share a version number")
    return found


async def _applied(conn: Connection) -> dict[int, str]:
    exists = await conn.fetchval("SELECT to_regclass('schema_migrations') IS NOT NULL")
    if not exists:
        return {}
    rows = await conn.fetch("SELECT version, checksum FROM schema_migrations")
    return {row["version"]: row["checksum"] for row in rows}


def _check_unchanged(applied: dict[int, str]) -> list[Migration]:
    """The pending migrations, after checking the applied ones were not edited."""
    pending = []
    for migration in available():
        checksum = applied.get(migration.version)
        if checksum is None:
            pending.append(migration)
        elif checksum != migration.checksum:
            raise MigrationError(
                f"migration {migration.version:04d}_{migration.name} was changed after it "
                "was applied; add a new migration instead"
            )
    return pending


async def pending(conn: Connection) -> list[Migration]:
    """Migrations this code has that the database has not applied yet."""
    return _check_unchanged(await _applied(conn))


async def apply(conn: Connection, migration: Migration) -> None:
    """Apply one migration and record it, in one transaction (the caller holds the lock
    and knows it is pending)."""
    async with conn.transaction():
        await conn.execute(_CREATE_TABLE)
        await conn.execute(migration.sql)
        await conn.execute(
            "INSERT INTO schema_migrations (version, name, checksum) VALUES ($1, $2, $3)",
            migration.version,
            migration.name,
            migration.checksum,
        )
        await conn.execute("SELECT pg_notify($1, $2)", SCHEMA_CHANNEL, f"{migration.version:04d}")


async def migrate(conn: Connection) -> list[Migration]:
    """Apply every pending migration; returns those applied (empty: nothing to do)."""
    await conn.execute("SELECT pg_advisory_lock($1)", _LOCK_KEY)
    try:
        await conn.execute(_CREATE_TABLE)
        # read under the lock: another process may have just migrated
        todo = _check_unchanged(await _applied(conn))
        for migration in todo:
            await apply(conn, migration)
        return todo
    finally:
        await conn.execute("SELECT pg_advisory_unlock($1)", _LOCK_KEY)
