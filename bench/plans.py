"""EXPLAIN ANALYZE of what a system runs, whatever system it is: auto_explain
is switched on for the duration of one request, and the plans are read back
from the server log. It shows where a slow page spends its time."""

from __future__ import annotations

import asyncio
import re
import time
from collections.abc import Callable
from dataclasses import dataclass

import asyncpg

from bench.cluster import Cluster

_DURATION = re.compile(r"LOG:  duration: ([0-9.]+) ms  plan:")
_LOG_LINE = re.compile(r"^\d{4}-\d\d-\d\d ")
_ON = {
    "auto_explain.log_min_duration": "0",
    "auto_explain.log_analyze": "on",
    "auto_explain.log_buffers": "on",
    "auto_explain.log_timing": "on",
}


@dataclass(frozen=True, slots=True)
class Plan:
    """One statement's plan, with the time it took."""

    duration_ms: float
    text: str


async def _configure(admin_url: str, on: bool) -> None:
    conn = await asyncpg.connect(admin_url)
    try:
        for name, value in _ON.items():
            if on:
                await conn.execute(f"ALTER SYSTEM SET {name} = '{value}'")
            else:
                await conn.execute(f"ALTER SYSTEM RESET {name}")
        await conn.execute("SELECT pg_reload_conf()")
    finally:
        await conn.close()


def _parse(log: str) -> list[Plan]:
    plans: list[Plan] = []
    current: list[str] | None = None
    duration = 0.0
    for line in log.splitlines():
        found = _DURATION.search(line)
        if found:
            if current is not None:
                plans.append(Plan(duration, "\n".join(current)))
            duration, current = float(found[1]), []
        elif current is not None and _LOG_LINE.match(line):
            plans.append(Plan(duration, "\n".join(current)))
            current = None
        elif current is not None:
            current.append(line.rstrip())
    if current is not None:
        plans.append(Plan(duration, "\n".join(current)))
    return plans


def capture_plans(cluster: Cluster, send: Callable[[], object]) -> list[Plan]:
    """The plans of every statement `send()` makes the server run."""
    asyncio.run(_configure(cluster.admin_url(), on=True))
    time.sleep(0.5)  # the reload reaches the backends asynchronously
    offset = cluster.log_file.stat().st_size
    try:
        send()
        time.sleep(0.5)
    finally:
        asyncio.run(_configure(cluster.admin_url(), on=False))
    with cluster.log_file.open("rb") as f:
        f.seek(offset)
        plans = _parse(f.read().decode(errors="replace"))
    # the reload that switches plan logging off is logged too: not the system's
    return [p for p in plans if "pg_reload_conf()" not in p.text]
