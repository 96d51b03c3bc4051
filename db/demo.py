"""Deterministic, idempotent demo data (`seed-demo`, `serve --demo`)."""

from __future__ import annotations

from importlib.resources import files

from db.errors import BadInput
from db.pool import Connection
from db.queries import QUERIES

DEMO_USER_EMAIL = "ada@example.com"
MAX_SCALE = 100
_SCRIPT = files("db").joinpath("demo.sql").read_text(encoding="utf-8")


async def seed_demo(conn: Connection, scale: int = 1) -> dict[str, int]:
    """Load the demo data at `scale` (1 = 3 organizations, 9 projects, 18 models);
    returns the row count of each table afterwards."""
    if not 1 <= scale <= MAX_SCALE:
        raise BadInput(f"scale must be between 1 and {MAX_SCALE}, not {scale}", field="scale")
    async with conn.transaction():
        await conn.execute(QUERIES["set_demo_scale"], str(scale))
        await conn.execute(_SCRIPT)
    counts = await conn.fetchrow(QUERIES["demo_counts"])
    assert counts is not None
    return dict(counts.items())
