"""Storage upkeep in the background (gateway/maintenance.py): it runs from
the app's start, applies retention when configured, survives a failing
round, and is gone when the app stops; a bad retention setting is refused."""

from __future__ import annotations

import asyncio
from dataclasses import replace
from datetime import UTC, date, datetime

import asyncpg
import pytest
from aiohttp.test_utils import TestClient, TestServer

from db import partitions
from db.pool import create_pool
from gateway.app import create_app
from gateway.keys import MAINTENANCE
from gateway.maintenance import keep_up
from gateway.settings import Settings, SettingsError, load_settings
from tests.db.event_rows import add_events, counts, partition_names, two_environments
from tests.gateway.test_cli import run_cli
from tests.service import eventually

NOW = datetime(2025, 6, 15, 12, 0, tzinfo=UTC)


def _maintained(now: datetime) -> list[str]:
    """The partitions kept ready at `now`: last month to three ahead."""
    this = partitions.month_of(now)
    month = date(this.year - (this.month == 1), (this.month - 2) % 12 + 1, 1)
    names = []
    for _ in range(5):
        names.append(partitions.Partition(month).name)
        month = partitions.next_month(month)
    return names


async def test_upkeep_runs_with_the_app_and_stops_with_it(
    settings: Settings, conn: asyncpg.Connection
) -> None:
    wanted = _maintained(datetime.now(UTC))
    async with TestClient(TestServer(create_app(settings))) as client:
        task = client.app[MAINTENANCE]
        assert not task.done()

        async def made() -> bool:
            return set(wanted) <= set(await partition_names(conn))

        await eventually(made, within_s=10)
        assert not task.done()  # asleep until the next round
    assert task.cancelled()


async def test_retention_runs_at_start(settings: Settings, conn: asyncpg.Connection) -> None:
    envs = await two_environments(conn)
    now = datetime.now(UTC)
    old = datetime(now.year - 2, 1, 10, tzinfo=UTC)
    await partitions.ensure(conn, old, old, now=now)
    await add_events(conn, envs, envs.a, old, 3)
    await add_events(conn, envs, envs.b, now, 2)
    name = f"events_p{old.year}_01"
    assert name in await partition_names(conn)
    async with TestClient(TestServer(create_app(replace(settings, event_retention_days=365)))):

        async def dropped() -> bool:
            return name not in await partition_names(conn)

        await eventually(dropped, within_s=10)
    assert await counts(conn) == {envs.a: 0, envs.b: 2}


async def test_a_failing_round_is_logged_and_tried_again(
    empty_database_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    # an unmigrated database: no events table yet
    pool = await create_pool(empty_database_url, size=1, statement_timeout_ms=5000)
    rounds: list[datetime] = []

    def clock() -> datetime:
        rounds.append(NOW)
        return NOW

    try:
        caplog.set_level("INFO", logger="envgraph.maintenance")
        task = asyncio.create_task(keep_up(pool, 30, interval_s=0.01, clock=clock))

        async def several() -> bool:
            return len(rounds) >= 3

        await eventually(several, within_s=10)
        task.cancel()
        await asyncio.wait([task])
        assert task.cancelled()
    finally:
        await pool.close()
    assert "storage upkeep skipped: the database is not migrated yet" in caplog.messages


def test_the_retention_setting() -> None:
    assert load_settings({}).event_retention_days is None
    assert load_settings({"GATEWAY_EVENT_RETENTION_DAYS": "90"}).event_retention_days == 90
    for bad in ("0", "ninety", "-5", "1.5", "36501"):
        with pytest.raises(SettingsError) as refused:
            load_settings({"GATEWAY_EVENT_RETENTION_DAYS": bad})
        assert str(refused.value) == (
            f"GATEWAY_EVENT_RETENTION_DAYS={bad!r}: takes a whole number from 1 to 36500"
        )


def test_a_bad_retention_setting_stops_the_start() -> None:
    result = run_cli("serve", env={"GATEWAY_EVENT_RETENTION_DAYS": "forever"})
    assert result.returncode == 2
    assert result.stderr == (
        "envgraph: GATEWAY_EVENT_RETENTION_DAYS='forever': takes a whole number from 1 to 36500\n"
    )
