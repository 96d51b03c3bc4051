"""PostgreSQL stops and comes back mid-load: quick 503s while it is away, full
recovery by itself afterwards, no acknowledged write lost."""

from __future__ import annotations

import asyncio
import json
import time
import urllib.error
import urllib.request
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import asyncpg
import pytest

from db import migrations
from db.embedded import EmbeddedPostgres
from tests.load import Load, demo_writer, summary, unseen_writes, writable_models
from tests.service import Service

pytestmark = pytest.mark.embedded

ARTIFACTS = Path(__file__).parents[2] / "test-artifacts"
UP_S, DOWN_S, AFTER_S = 3.0, 4.0, 5.0


def _readyz(service: Service) -> int:
    try:
        with urllib.request.urlopen(f"{service.url}/readyz", timeout=10) as response:
            return int(response.status)
    except urllib.error.HTTPError as error:
        return error.code


@pytest.fixture
async def database(tmp_path: Path) -> AsyncIterator[EmbeddedPostgres]:
    """A migrated server of this test's own, which it may stop and start."""
    server = EmbeddedPostgres(tmp_path / "db")
    conn = await asyncpg.connect(await asyncio.to_thread(server.start))
    try:
        await migrations.migrate(conn)
    finally:
        await conn.close()
    yield server
    await asyncio.to_thread(server.stop)


async def test_database_restart_mid_load(
    database: EmbeddedPostgres, artifact: Callable[[Path], None]
) -> None:
    conn = await asyncpg.connect(database.url)
    try:
        token = await demo_writer(conn)
    finally:
        await conn.close()
    env = {
        "DATABASE_URL": database.url,
        "GATEWAY_LOG_LEVEL": "warning",
        "GATEWAY_POOL_TIMEOUT_MS": "1000",
    }
    with Service("--workers", "2", env=env) as service:
        await asyncio.to_thread(service.ready)
        load = Load(service, token, writable_models(service, token), clients=20)
        running = asyncio.create_task(load.run(3600))  # until told
        await asyncio.sleep(UP_S)
        await asyncio.to_thread(database.stop)
        down_at = time.monotonic()
        await asyncio.sleep(DOWN_S / 2)
        ready_while_down = await asyncio.to_thread(_readyz, service)
        await asyncio.sleep(DOWN_S / 2)
        up_at = time.monotonic()
        await asyncio.to_thread(database.start)
        back_at = time.monotonic()
        load.stop_at = back_at + AFTER_S
        answers = await running
        ready_after = await asyncio.to_thread(_readyz, service)

        during = [a for a in answers if down_at + 0.5 < a.at < up_at]
        # a request sent while the server came up may still fail: the pool
        # learns of a connection's death when using it
        after = [a for a in answers if a.at > back_at + 1.0]
        figures: dict[str, Any] = {
            "before": summary([a for a in answers if a.at < down_at]),
            "during": summary(during),
            "after": summary(after),
            "readyz while down": ready_while_down,
            "readyz after": ready_after,
        }
        ARTIFACTS.mkdir(exist_ok=True)
        (ARTIFACTS / "outage.log").write_text("\n".join(service.output()))
        report = ARTIFACTS / "outage.json"
        report.write_text(json.dumps(figures, indent=2) + "\n")
        artifact(report)

        # while it is away: only 503 SERVICE_UNAVAILABLE, each quickly
        assert during, figures
        outcomes = {(a.status, a.codes) for a in during}
        assert outcomes == {(503, ("SERVICE_UNAVAILABLE",))}, "\n".join(service.output())
        assert max(a.seconds for a in during) < 3.0, figures
        assert ready_while_down == 503
        # once it is back: everything answers again, without a restart
        assert {(a.status, a.codes) for a in after} == {(200, ())}, figures
        assert len(after) > 50, figures
        assert ready_after == 200
        # whatever was acknowledged, at any time, is there
        assert await unseen_writes(service, token, answers) == []
        assert figures["before"]["writes acknowledged"] > 0
        assert figures["after"]["writes acknowledged"] > 0
        # and no other answer than those, ever: no 500, no hang, no reset
        outcomes = {(a.status, a.codes) for a in answers}
        assert outcomes == {(200, ()), (503, ("SERVICE_UNAVAILABLE",))}, figures
        assert service.stop() == 0
