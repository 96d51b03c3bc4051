"""A request's handle on the database: the pool, and a count of statements.

Every statement a request runs goes through its session (or a transaction
opened from it), so the count is exact; it is what tests hold to the budget
(statements grow with the depth of a query, never with its rows) and what
metrics export.

Two rules keep one request from hurting the others:

- a request holds at most `max_connections` pooled connections at once
  (GATEWAY_CONNECTIONS_PER_REQUEST, given where the request's session is
  made; its root fields run concurrently on the resolver path); its further
  statements wait for one of its own, not for the pool;
- a connection whose statement failed on the client's side (a protocol or
  interface error, the client-side timeout, a cancellation mid-statement)
  is terminated, never given back: the driver may be out of step with the
  server, and the next request to borrow it, another tenant's, would pay.
  Errors the server reports leave the protocol in step and the connection
  in use.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from contextlib import asynccontextmanager, contextmanager
from dataclasses import dataclass
from typing import Any, TypeVar

import asyncpg
from asyncpg.connection import LoggedQuery
from asyncpg.exceptions._base import InternalClientError
from asyncpg.pool import PoolConnectionProxy

from db.errors import BadInput, Timeout, Unavailable
from db.pool import Connection

T = TypeVar("T")

# the settings' default (gateway/settings.py); tools and tests make sessions too
DEFAULT_CONNECTIONS_PER_REQUEST = 2

# Refused or broken connections (SQLSTATE class 08), no pooled connection in
# time, a server shutting down or starting up (57P): the database is not
# there, which is not the request's fault.
DATABASE_DOWN = (
    OSError,
    TimeoutError,
    asyncpg.InterfaceError,
    asyncpg.PostgresConnectionError,
    asyncpg.AdminShutdownError,
    asyncpg.CrashShutdownError,
    asyncpg.CannotConnectNowError,
)


def _domain_error(error: Exception) -> Exception | None:
    """The domain error a driver's error is answered with (timeouts, outages), None
    for any other error."""
    if isinstance(error, asyncpg.QueryCanceledError):
        return Timeout()
    if isinstance(error, asyncpg.CharacterNotInRepertoireError):
        # a NUL in some text value: PostgreSQL's text cannot hold it, whichever
        # field it came in (the filters say which one before any SQL)
        return BadInput("text cannot hold the NUL character")
    if isinstance(error, (*DATABASE_DOWN, InternalClientError)):
        # asyncpg's "cannot switch to state N" InternalClientError comes from
        # a connection whose protocol broke with the server going away (seen
        # on BEGIN, COMMIT and the pool's reset): the outage, not a bug
        return Unavailable(reason=_reason(error))
    return None


@contextmanager
def _translated() -> Iterator[None]:
    """Timeouts and outages as the domain errors callers answer to."""
    try:
        yield
    except Exception as error:
        domain = _domain_error(error)
        if domain is None:
            raise
        raise domain from None


def _reason(error: BaseException) -> str:
    """The driver's error as the log says it: a pool wait that timed out has no
    message of its own."""
    if isinstance(error, TimeoutError) and not str(error):
        return "no pooled connection in time"
    return f"{type(error).__name__}: {error}"[:300]


# what a replica may answer where the primary would not: a read cancelled by
# the replay of a conflicting change ("conflict with recovery", 40001)
_REPLICA_FAILURES = (asyncpg.SerializationError,)

# what asyncpg's transaction() runs, which the count leaves out as the
# session's own transactions do
_TRANSACTION_CONTROL = ("BEGIN", "COMMIT", "ROLLBACK", "SAVEPOINT", "RELEASE SAVEPOINT")


@dataclass(slots=True)
class StatementCounter:
    """Statements run by all requests of a process."""

    total: int = 0


async def _guarded(connection: Connection, work: Awaitable[T]) -> T:
    """`work` on `connection`; the connection is discarded if the client side failed."""
    try:
        return await work
    except asyncpg.PostgresError:
        raise  # the server answered: the protocol is in step
    except BaseException as error:
        connection.terminate()
        if isinstance(error, TimeoutError):
            # the client-side timeout (db/pool.py): the server did not answer
            # within the statement timeout and a margin, a frozen server
            raise Timeout() from None
        raise


class Pooled:
    """A connection of `pool`, waited for at most `timeout_s` (TimeoutError).

    Not `pool.acquire(timeout=...)`: asyncpg waits for that with wait_for, a task
    of its own per acquire, and records the timeout for the release, which then
    makes another (the pool's reset is a no-op here, db/pool.py). The two were
    about 5 % of a small request's time (a createSegment's profile). A class, not
    a generator: every statement passes here."""

    __slots__ = ("_connection", "_pool", "_timeout_s")

    def __init__(self, pool: asyncpg.Pool, timeout_s: float) -> None:
        self._pool, self._timeout_s = pool, timeout_s

    async def __aenter__(self) -> Connection:
        async with asyncio.timeout(self._timeout_s):
            self._connection: PoolConnectionProxy[Any] = await self._pool.acquire()
        return self._connection

    async def __aexit__(self, *_: object) -> None:
        await self._pool.release(self._connection)


class Session:
    """Runs statements on pooled connections (or in one transaction), counting them."""

    def __init__(
        self,
        pool: asyncpg.Pool,
        counter: StatementCounter | None = None,
        *,
        acquire_timeout_s: float = 5.0,
        max_connections: int = DEFAULT_CONNECTIONS_PER_REQUEST,
        _connection: Connection | None = None,
        _parent: Session | None = None,
    ) -> None:
        self.pool = pool
        self.acquire_timeout_s = acquire_timeout_s
        self.statements = 0
        self._counter = counter
        self._connection = _connection
        self._parent = _parent
        self._connections = asyncio.Semaphore(max_connections)
        # reading from a replica: the primary to go on with if it fails, and
        # whom to tell (route_reads)
        self._primary: asyncpg.Pool | None = None
        self._on_down: Callable[[asyncpg.Pool], None] | None = None

    def route_reads(self, replica: asyncpg.Pool, on_down: Callable[[asyncpg.Pool], None]) -> None:
        """Run this read-only request's further statements on `replica`; should it
        fail to answer (down, shutting down, a query cancelled by its recovery),
        `on_down` hears of it and the statement runs again on the primary."""
        self._primary, self.pool, self._on_down = self.pool, replica, on_down

    def _count(self) -> None:
        self.statements += 1
        if self._parent is not None:
            self._parent._count()
        elif self._counter is not None:
            self._counter.total += 1

    async def _pooled(self, method: str, query: str, args: tuple[Any, ...]) -> Any:
        # the request's own budget first: waiting for it is waiting for oneself
        async with self._connections, Pooled(self.pool, self.acquire_timeout_s) as connection:
            return await _guarded(connection, getattr(connection, method)(query, *args))

    async def _run(self, method: str, query: str, args: tuple[Any, ...]) -> Any:
        # `_translated` written out: every statement passes here
        self._count()
        try:
            if self._connection is not None:
                run = getattr(self._connection, method)(query, *args)
                return await _guarded(self._connection, run)
            if self._primary is not None:
                try:
                    return await self._pooled(method, query, args)
                except (*DATABASE_DOWN, *_REPLICA_FAILURES):
                    self._fall_back()
            return await self._pooled(method, query, args)
        except Exception as error:
            domain = _domain_error(error)
            if domain is None:
                raise
            raise domain from None

    def _fall_back(self) -> None:
        """The replica failed: it is marked down, and the primary takes over."""
        assert self._primary is not None
        assert self._on_down is not None
        failed, self.pool, self._primary = self.pool, self._primary, None
        self._on_down(failed)

    async def fetch(self, query: str, *args: Any) -> list[asyncpg.Record]:
        """All rows of one statement."""
        rows: list[asyncpg.Record] = await self._run("fetch", query, args)
        return rows

    async def fetchrow(self, query: str, *args: Any) -> asyncpg.Record | None:
        """The first row of one statement."""
        row: asyncpg.Record | None = await self._run("fetchrow", query, args)
        return row

    async def fetchval(self, query: str, *args: Any) -> Any:
        """The first value of one statement."""
        return await self._run("fetchval", query, args)

    @asynccontextmanager
    async def connection(self) -> AsyncIterator[Connection]:
        """A pooled connection of the caller's own, for work that spans several
        statements and transactions on one connection (bulk ingestion stages rows
        in a temporary table, then commits them in one transaction). Its
        statements are counted through asyncpg's query logger, transaction
        control aside as in `transaction()`; COPY, which asyncpg does not log, is
        counted by whoever runs it (`count_statement`)."""
        if self._connection is not None:
            raise RuntimeError("a session in a transaction has its connection already")
        with _translated():
            async with Pooled(self.pool, self.acquire_timeout_s) as connection:
                connection.add_query_logger(self._logged)
                try:
                    yield connection
                finally:
                    connection.remove_query_logger(self._logged)

    def _logged(self, query: LoggedQuery) -> None:
        if not query.query.startswith(_TRANSACTION_CONTROL):
            self._count()

    def count_statement(self) -> None:
        """Count a statement run outside the session's methods (a COPY)."""
        self._count()

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[Session]:
        """A session whose statements run in one transaction: all of them or none."""
        if self._connection is not None:
            raise RuntimeError("transactions do not nest here")
        with _translated():
            async with (
                self._connections,
                Pooled(self.pool, self.acquire_timeout_s) as connection,
            ):
                transaction = connection.transaction()
                await _guarded(connection, transaction.start())
                try:
                    yield Session(
                        self.pool, max_connections=1, _connection=connection, _parent=self
                    )
                except BaseException:
                    # a connection discarded mid-transaction has nothing to roll
                    # back (the server does when the socket closes)
                    if not connection.is_closed():
                        await _guarded(connection, transaction.rollback())
                    raise
                await _guarded(connection, transaction.commit())
