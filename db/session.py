"""A request's handle on the database: the pool, and a count of statements.

Every statement a request runs goes through its session (or a transaction
opened from it), so the count is exact; it is what tests hold to the budget
(statements grow with the depth of a query, never with its rows) and what
metrics export.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

import asyncpg

from db.pool import Connection


@dataclass(slots=True)
class StatementCounter:
    """Statements run by all requests of a process."""

    total: int = 0


class Session:
    """Runs statements on pooled connections (or in one transaction), counting them."""

    def __init__(
        self,
        pool: asyncpg.Pool,
        counter: StatementCounter | None = None,
        *,
        _connection: Connection | None = None,
        _parent: Session | None = None,
    ) -> None:
        self.pool = pool
        self.statements = 0
        self._counter = counter
        self._connection = _connection
        self._parent = _parent

    def _count(self) -> None:
        self.statements += 1
        if self._parent is not None:
            self._parent._count()
        elif self._counter is not None:
            self._counter.total += 1

    @property
    def _executor(self) -> Any:
        return self._connection if self._connection is not None else self.pool

    async def fetch(self, query: str, *args: Any) -> list[asyncpg.Record]:
        """All rows of one statement."""
        self._count()
        rows: list[asyncpg.Record] = await self._executor.fetch(query, *args)
        return rows

    async def fetchrow(self, query: str, *args: Any) -> asyncpg.Record | None:
        """The first row of one statement."""
        self._count()
        row: asyncpg.Record | None = await self._executor.fetchrow(query, *args)
        return row

    async def fetchval(self, query: str, *args: Any) -> Any:
        """The first value of one statement."""
        self._count()
        return await self._executor.fetchval(query, *args)

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[Session]:
        """A session whose statements run in one transaction: all of them or none."""
        if self._connection is not None:
            raise RuntimeError("transactions do not nest here")
        async with self.pool.acquire() as connection, connection.transaction():
            yield Session(self.pool, _connection=connection, _parent=self)
