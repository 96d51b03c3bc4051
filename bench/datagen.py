"""The benchmark's data, generated in PostgreSQL (set-based, deterministic).

A scale is the shape of the tree: organizations, projects per organization,
models per project, environments and segments per model. `small` is the
nested scenario's tree; `large` has a million environments, for the search
and deep-paging scenarios.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path

import asyncpg

_SCRIPT = Path(__file__).with_name("generate.sql")
_TABLES = ("organizations", "projects", "models", "environments", "segments")


@dataclass(frozen=True, slots=True)
class Scale:
    """How many of each: per parent, except organizations."""

    name: str
    orgs: int
    projects: int
    models: int
    environments: int
    segments: int

    @property
    def total_environments(self) -> int:
        """Environments in the whole database."""
        return self.orgs * self.projects * self.models * self.environments


SCALES = {
    s.name: s
    for s in (
        Scale("tiny", 2, 2, 2, 3, 2),
        Scale("small", 10, 10, 10, 5, 5),
        Scale("large", 10, 10, 100, 100, 5),
    )
}


class GenerateError(Exception):
    """The data could not be generated."""


async def generate(conn: asyncpg.Connection, scale: Scale, author_email: str) -> dict[str, int]:
    """Fill an empty, migrated database; returns the row count of each table.

    `author_email` names an existing user: the author of every segment.
    """
    if await conn.fetchval("SELECT count(*) FROM organizations"):
        raise GenerateError("the database already holds organizations: generate into a fresh one")
    if not await conn.fetchval(
        "SELECT count(*) FROM users WHERE lower(email) = lower($1)", author_email
    ):
        raise GenerateError(f"no user {author_email}: create it first")
    settings = {
        "bench.orgs": scale.orgs,
        "bench.projects": scale.projects,
        "bench.models": scale.models,
        "bench.environments": scale.environments,
        "bench.segments": scale.segments,
        "bench.author": author_email,
    }
    async with conn.transaction():
        for name, value in settings.items():
            await conn.execute("SELECT set_config($1, $2, true)", name, str(value))
        await conn.execute(_SCRIPT.read_text())
    # fresh statistics, or the planner guesses on a million rows
    await conn.execute("ANALYZE")
    return {table: await conn.fetchval(f"SELECT count(*) FROM {table}") for table in _TABLES}


async def generate_timed(url: str, scale: Scale, author_email: str) -> tuple[dict[str, int], float]:
    """`generate` on a new connection to `url`, with the seconds it took."""
    conn = await asyncpg.connect(url)
    try:
        started = time.perf_counter()
        counts = await generate(conn, scale, author_email)
        return counts, time.perf_counter() - started
    finally:
        await conn.close()
