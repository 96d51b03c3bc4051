"""One database per scale on the bench cluster: created, migrated and filled
through envgraph's own command line (as a user would), then generated.

The large database is rebuilt only when its scale's shape changed or its data
is missing (it takes a while); the small ones at every run.
"""

from __future__ import annotations

import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import asyncpg

from bench.cluster import PASSWORD, ROLE, Cluster
from bench.datagen import Scale, generate_timed

AUTHOR_EMAIL = "bench@example.com"
_REPO = Path(__file__).resolve().parent.parent
_MARK_TABLE = "bench.generated"  # records the scale a database was filled with
_REUSE_FROM = 100_000  # environments: a database this large is kept between runs
_REUSE_EVENTS_FROM = 1_000_000  # ... and one with this many events


@dataclass(frozen=True, slots=True)
class Prepared:
    """A database ready for the systems, and how it got there."""

    name: str
    url: str
    token: str
    counts: dict[str, int]
    generate_seconds: float | None  # None: reused from an earlier run


def gateway_cli(url: str, *args: str) -> str:
    """Run `python -m gateway ARGS` on `url`; its stdout."""
    env = {**os.environ, "DATABASE_URL": url}
    done = subprocess.run(
        [sys.executable, "-m", "gateway", *args],
        cwd=_REPO,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    if done.returncode != 0:
        raise RuntimeError(f"python -m gateway {' '.join(args)}: {done.stderr.strip()}")
    return done.stdout


async def _ensure_role(cluster: Cluster) -> None:
    admin = await asyncpg.connect(cluster.admin_url())
    try:
        if not await admin.fetchval("SELECT 1 FROM pg_roles WHERE rolname = $1", ROLE):
            await admin.execute(f"CREATE ROLE {ROLE} LOGIN PASSWORD '{PASSWORD}'")
        # statements are counted from here, for every database of the cluster
        await admin.execute("CREATE EXTENSION IF NOT EXISTS pg_stat_statements")
    finally:
        await admin.close()


async def _marked_scale(cluster: Cluster, name: str) -> str | None:
    admin = await asyncpg.connect(cluster.admin_url())
    try:
        if not await admin.fetchval("SELECT 1 FROM pg_database WHERE datname = $1", name):
            return None
    finally:
        await admin.close()
    conn = await asyncpg.connect(cluster.admin_url(name))
    try:
        if not await conn.fetchval("SELECT to_regclass($1) IS NOT NULL", _MARK_TABLE):
            return None
        mark: str | None = await conn.fetchval(f"SELECT scale FROM {_MARK_TABLE}")
        return mark
    finally:
        await conn.close()


async def _recreate(cluster: Cluster, name: str) -> None:
    admin = await asyncpg.connect(cluster.admin_url())
    try:
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await admin.execute(f'CREATE DATABASE "{name}" OWNER {ROLE}')
    finally:
        await admin.close()
    # pg_trgm needs a superuser on PostgreSQL 15 (the migration only says IF NOT EXISTS)
    conn = await asyncpg.connect(cluster.admin_url(name))
    try:
        await conn.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
    finally:
        await conn.close()


async def _mark(cluster: Cluster, name: str, scale: Scale) -> None:
    conn = await asyncpg.connect(cluster.admin_url(name))
    try:
        # outside the public schema, so that PostGraphile does not expose it
        await conn.execute(
            f"CREATE SCHEMA IF NOT EXISTS bench; CREATE TABLE {_MARK_TABLE} (scale text)"
        )
        await conn.execute(f"INSERT INTO {_MARK_TABLE} VALUES ($1)", repr(scale))
    finally:
        await conn.close()


async def prepare(cluster: Cluster, scale: Scale, *, rebuild: bool = False) -> Prepared:
    """The database `bench_<scale>`: migrated, generated, with a superuser token."""
    name = f"bench_{scale.name}"
    url = cluster.url(name)
    await _ensure_role(cluster)
    seconds: float | None = None
    # small databases are rebuilt every run (seconds), so that the rows the
    # last run's mutations added are gone; the 1M-row ones are kept if unchanged
    small = scale.total_environments < _REUSE_FROM and scale.events < _REUSE_EVENTS_FROM
    if rebuild or small or await _marked_scale(cluster, name) != repr(scale):
        await _recreate(cluster, name)
        gateway_cli(url, "migrate")
        gateway_cli(url, "create-user", "--email", AUTHOR_EMAIL, "--name", "Bench Runner")
        _, seconds = await generate_timed(url, scale, AUTHOR_EMAIL)
        await _mark(cluster, name, scale)
    # a fresh token each run: tokens are only shown once
    token = gateway_cli(url, "create-token", "--email", AUTHOR_EMAIL, "--superuser")
    conn = await asyncpg.connect(url)
    try:
        counts = {
            t: await conn.fetchval(f"SELECT count(*) FROM {t}")
            for t in ("organizations", "projects", "models", "environments", "segments")
            + (("events",) if scale.events else ())
        }
    finally:
        await conn.close()
    return Prepared(name, url, token.strip().splitlines()[-1], counts, seconds)
