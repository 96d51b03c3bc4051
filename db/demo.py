"""Deterministic, idempotent demo data (`seed-demo`, `serve --demo`)."""

from __future__ import annotations

from importlib.resources import files

from db.errors import BadInput
from db.pool import Connection

DEMO_USER_EMAIL = "ada@example.com"
MAX_SCALE = 100
_SCRIPT = files("db").joinpath("demo.sql").read_text(encoding="utf-8")
_COUNTED = ("organizations", "projects", "models", "environments", "segments", "users")


async def seed_demo(conn: Connection, scale: int = 1) -> dict[str, int]:
    """Load the demo data at `scale` (1 = 3 organizations, 9 projects, 18 models);
    returns the row count of each table afterwards."""
    if not 1 <= scale <= MAX_SCALE:
        raise BadInput(f"scale must be between 1 and {MAX_SCALE}, not {scale}", field="scale")
    async with conn.transaction():
        await conn.execute("SELECT set_config('envgraph.demo_scale', $1, true)", str(scale))
        await conn.execute(_SCRIPT)
    counts = {}
    for table in _COUNTED:  # names from the fixed tuple above, never from input
        counts[table] = await conn.fetchval(f"SELECT count(*) FROM {table}")
    return counts
