"""A disabled environment refuses events at every step of an ingestion: the
check before the upload is read, and the transaction that writes (it may have
been disabled in between); for a user and for the operator (the CLI)."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

import asyncpg
import pytest

from db.demo import seed_demo
from db.errors import Conflict
from db.ingest import Staging, check_writable
from db.viewer import Viewer
from tests.ingest_support import environment_uuid, total_stored

SUPERUSER = Viewer(uuid.uuid4(), "root@example.com", "Root", frozenset("*"), True)
ROW = (1, uuid.uuid4(), datetime(2024, 5, 1, tzinfo=UTC), "prediction", "u1", None, "{}")


@pytest.mark.parametrize("viewer", [SUPERUSER, None], ids=["user", "operator"])
async def test_disabled_before_or_during_an_upload(
    conn: asyncpg.Connection, viewer: Viewer | None
) -> None:
    await seed_demo(conn, 1)
    environment = await environment_uuid(conn)
    await check_writable(conn, viewer, environment)  # enabled: fine
    async with Staging(conn) as staging:
        await staging.add(ROW)
        # disabled by someone else while the upload was being read
        await conn.execute("UPDATE environments SET enabled = false WHERE id = $1", environment)
        with pytest.raises(Conflict, match="the environment is disabled"):
            await staging.commit(environment, viewer)
    assert await total_stored(conn) == (0, 0, 0)
    with pytest.raises(Conflict) as refused:
        await check_writable(conn, viewer, environment)
    assert refused.value.field == "environmentId"
