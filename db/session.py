"""A request's handle on the database: the pool, and a count of statements.

Every statement a request runs goes through its session, so the count is
exact; it is what tests hold to the budget (statements grow with the depth of
a query, never with its rows) and what metrics export.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import asyncpg


@dataclass(slots=True)
class StatementCounter:
    """Statements run by all requests of a process."""

    total: int = 0


class Session:
    """Runs single statements on pooled connections, counting them."""

    def __init__(self, pool: asyncpg.Pool, counter: StatementCounter | None = None) -> None:
        self.pool = pool
        self.statements = 0
        self._counter = counter

    def _count(self) -> None:
        self.statements += 1
        if self._counter is not None:
            self._counter.total += 1

    async def fetch(self, query: str, *args: Any) -> list[asyncpg.Record]:
        """All rows of one statement."""
        self._count()
        rows: list[asyncpg.Record] = await self.pool.fetch(query, *args)
        return rows

    async def fetchrow(self, query: str, *args: Any) -> asyncpg.Record | None:
        """The first row of one statement."""
        self._count()
        row: asyncpg.Record | None = await self.pool.fetchrow(query, *args)
        return row

    async def fetchval(self, query: str, *args: Any) -> Any:
        """The first value of one statement."""
        self._count()
        return await self.pool.fetchval(query, *args)
