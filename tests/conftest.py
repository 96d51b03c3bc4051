"""Test fixtures: a real PostgreSQL for every test, each test on a fresh database.

The server is the one named by TEST_DATABASE_URL, or else an embedded one
started once per session under the system temp folder (kept between runs, so
initdb happens once). A template database is migrated once per session; each
test that asks for `database_url` gets a copy of it, dropped afterwards.
"""

from __future__ import annotations

import asyncio
import collections
import concurrent.futures
import contextlib
import itertools
import os
import shutil
import tempfile
import threading
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from pathlib import Path
from typing import TypeVar

import asyncpg
import pytest
from aiohttp.test_utils import TestClient, TestServer

from db import migrations
from db.tokens import create_token
from db.users import create_user
from gateway.app import create_app
from gateway.settings import Settings
from tests.pgbouncer import PgBouncer
from tests.support import Client, with_database

_T = TypeVar("_T")
_counter = itertools.count()
_artifacts: list[Path] = []

# how long the tests' requests wait for a pooled connection (`settings`)
PATIENT_POOL_WAIT_MS = 60_000


@pytest.fixture
def open_tmp() -> Iterator[Path]:
    """A temporary folder other users may enter (an embedded server run as root runs
    as its own user), outside pytest's temporary root: each pytest process that
    starts sets that root to mode 0700 again, shutting such a server out."""
    folder = Path(tempfile.mkdtemp(prefix="envgraph-test-"))
    folder.chmod(0o755)
    yield folder
    shutil.rmtree(folder, ignore_errors=True)


@pytest.fixture
def artifact() -> Callable[[Path], None]:
    """Record a file a test leaves for people to look at (listed after the run)."""
    return _artifacts.append


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    """List the artifacts the tests left."""
    for path in _artifacts:
        terminalreporter.write_line(f"test artifact: {path}")


@pytest.fixture(scope="session")
def server_url() -> Iterator[str]:
    """An admin URL of the PostgreSQL server the tests use."""
    url = os.environ.get("TEST_DATABASE_URL")
    if url:
        yield url
        return
    from db.embedded import EmbeddedPostgres  # only when no server is given

    data_dir = Path(tempfile.gettempdir()) / f"envgraph-tests-{os.getuid()}"
    server = EmbeddedPostgres(data_dir, database="postgres")
    yield server.start()
    server.stop()


async def _admin(server_url: str) -> asyncpg.Connection:
    return await asyncpg.connect(with_database(server_url, "postgres"))


@pytest.fixture(scope="session")
def template_database(server_url: str) -> Iterator[str]:
    """A migrated database that per-test databases are copied from."""
    name = f"envgraph_template_{os.getpid()}"

    async def create() -> None:
        admin = await _admin(server_url)
        try:
            await admin.execute(f'DROP DATABASE IF EXISTS "{name}"')
            await admin.execute(f'CREATE DATABASE "{name}"')
        finally:
            await admin.close()
        conn = await asyncpg.connect(with_database(server_url, name))
        try:
            await migrations.migrate(conn)
        finally:
            await conn.close()

    asyncio.run(create())
    yield name
    asyncio.run(_drop(server_url, name))


async def _drop(server_url: str, name: str) -> None:
    admin = await _admin(server_url)
    try:
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        await admin.close()


async def _fresh_database(admin: asyncpg.Connection, template: str | None) -> str:
    name = f"envgraph_test_{os.getpid()}_{next(_counter)}"
    await admin.execute(f'DROP DATABASE IF EXISTS "{name}"')
    source = f' TEMPLATE "{template}"' if template else ""
    await admin.execute(f'CREATE DATABASE "{name}"{source}')
    return name


class _Lane:
    """An admin connection that runs one statement at a time, in the order asked."""

    def __init__(self, server_url: str) -> None:
        self._server_url = server_url
        self._admin: asyncpg.Connection | None = None
        self._lock = asyncio.Lock()

    async def run(self, work: Callable[[asyncpg.Connection], Awaitable[_T]]) -> _T:
        async with self._lock:
            if self._admin is None or self._admin.is_closed():
                self._admin = await _admin(self._server_url)
            return await work(self._admin)

    async def close(self) -> None:
        if self._admin is not None:
            await self._admin.close()


class Databases:
    """Makes the tests' databases and drops them off the tests' critical path.

    CREATE DATABASE ... TEMPLATE and DROP DATABASE took most of a short test's
    setup and teardown (0.2 to 0.4 s each on a busy 2-core machine). Here a
    thread of its own, with its own event loop, keeps the next copies of the
    template made before the tests ask for them (on one admin connection) and
    drops each test's database after the test while the next test runs (on
    another, so that drops never hold up the next copy). Each test still gets
    a database no other test has used; the run waits for every drop at its end.

    A test waits, before it gets its database, for the drops of all but the
    last test's: DROP DATABASE waits for a checkpoint (seconds on a busy
    machine), and unbounded, drops fell behind and the server connections
    PgBouncer keeps to the databases not yet dropped took all of the server's
    (TEST_POOLER=pgbouncer: "sorry, too many clients already").

    A test's own sessions are ended at its teardown, before its drop is queued
    (`finished`). DROP DATABASE (PostgreSQL 15) waits until every backend of
    the server, in any database, absorbs a signal barrier, and a PgBouncer
    server session whose statement was cancelled (asyncpg cancels what a
    closing app still runs) never did: the drop of test N-1's database waited
    for such a session in test N's, whose own drop was queued behind it, and
    test N+1 waited for both (a 300 s setup timeout in CI). Ending them at
    teardown costs milliseconds; no later drop waits for a finished test."""

    AHEAD = 2
    DROPS_BEHIND = 1

    def __init__(self, server_url: str, template: str) -> None:
        self._template = template
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(
            target=self._loop.run_forever, name="test-databases", daemon=True
        )
        self._thread.start()
        self._creates = _Lane(server_url)
        self._drops = _Lane(server_url)
        self._ends = _Lane(server_url)
        self._pending: list[concurrent.futures.Future[None]] = []
        self._ready: collections.deque[concurrent.futures.Future[str]] = collections.deque(
            self._create(template) for _ in range(self.AHEAD)
        )

    def _create(self, template: str | None) -> concurrent.futures.Future[str]:
        return asyncio.run_coroutine_threadsafe(
            self._creates.run(lambda admin: _fresh_database(admin, template)), self._loop
        )

    async def _caught_up(self) -> None:
        """Wait for the drops of all but the last DROPS_BEHIND tests' databases."""
        done, self._pending = (
            self._pending[: -self.DROPS_BEHIND],
            self._pending[-self.DROPS_BEHIND :],
        )
        for future in done:
            await asyncio.wrap_future(future)

    async def migrated(self) -> str:
        """A fresh copy of the template (made ahead); another copy is started."""
        await self._caught_up()
        ready = self._ready.popleft()
        self._ready.append(self._create(self._template))
        return await asyncio.wrap_future(ready)

    async def empty(self) -> str:
        """A fresh database with no migrations (made on demand: few tests want one)."""
        await self._caught_up()
        return await asyncio.wrap_future(self._create(None))

    async def finished(self, name: str) -> None:
        """End every session of a test's database (waiting for each to exit),
        then drop the database in the background."""

        async def end(admin: asyncpg.Connection) -> None:
            await admin.execute(
                "SELECT pg_terminate_backend(pid, 10000) FROM pg_stat_activity"
                " WHERE datname = $1 AND pid <> pg_backend_pid()",
                name,
            )

        await asyncio.wrap_future(asyncio.run_coroutine_threadsafe(self._ends.run(end), self._loop))
        self.drop(name)

    def drop(self, name: str) -> None:
        """Drop a database in the background."""

        async def drop(admin: asyncpg.Connection) -> None:
            await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')

        self._pending.append(asyncio.run_coroutine_threadsafe(self._drops.run(drop), self._loop))

    def close(self) -> None:
        """Drop the copies made ahead, wait for every drop, and stop the thread."""
        for ready in self._ready:
            with contextlib.suppress(Exception):  # a failed make: nothing to drop
                self.drop(ready.result())
        for future in self._pending:
            future.result()
        for lane in (self._creates, self._drops, self._ends):
            asyncio.run_coroutine_threadsafe(lane.close(), self._loop).result()
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join()
        self._loop.close()


@pytest.fixture(scope="session")
def databases(server_url: str, template_database: str) -> Iterator[Databases]:
    """The maker of the tests' databases (made ahead, dropped in the background)."""
    maker = Databases(server_url, template_database)
    yield maker
    maker.close()


@pytest.fixture
async def database_url(server_url: str, databases: Databases) -> AsyncIterator[str]:
    """A fresh, migrated database of this test's own."""
    name = await databases.migrated()
    yield with_database(server_url, name)
    await databases.finished(name)


@pytest.fixture
async def empty_database_url(server_url: str, databases: Databases) -> AsyncIterator[str]:
    """A fresh database with no migrations applied."""
    name = await databases.empty()
    yield with_database(server_url, name)
    await databases.finished(name)


@pytest.fixture
async def conn(database_url: str) -> AsyncIterator[asyncpg.Connection]:
    """A connection to this test's database."""
    connection = await asyncpg.connect(database_url)
    yield connection
    await connection.close()


@pytest.fixture(scope="session")
def pooler(server_url: str) -> Iterator[PgBouncer | None]:
    """With TEST_POOLER=pgbouncer, a PgBouncer in transaction mode that the tests'
    service reaches its database through (migrations and the tests' own
    connections go direct, as DATABASE_DIRECT_URL does)."""
    if os.environ.get("TEST_POOLER", "") == "":
        yield None
        return
    assert os.environ["TEST_POOLER"] == "pgbouncer", "TEST_POOLER knows only pgbouncer"
    with PgBouncer(server_url) as bouncer:
        yield bouncer


@pytest.fixture
def settings(database_url: str, pooler: PgBouncer | None) -> Settings:
    """Default settings pointed at this test's database, but for two:

    - the token cache is off: every request's token check is a statement that
      the statement budgets count, and a token changed in the database counts
      at once (tests/gateway/test_token_cache.py tests the cache);
    - a request waits up to 60 s for a pooled connection, not 2 s: the short
      default sheds load in production, but a test's request that needs a new
      connection to its fresh database answered 503 in CI when the machine
      stalled that connection's start past 2 s (once in a burst of 50 writes,
      once in a sequential createEvaluation). The tests of that wait set
      their own (test_outage.py, test_connections.py)."""
    if pooler is not None:
        return Settings(
            database_url=pooler.url(database_url),
            database_pool_mode="transaction",
            database_direct_url=database_url,
            auth_cache_s=0,
            pool_timeout_ms=PATIENT_POOL_WAIT_MS,
        )
    return Settings(database_url=database_url, auth_cache_s=0, pool_timeout_ms=PATIENT_POOL_WAIT_MS)


@pytest.fixture
async def client(settings: Settings) -> AsyncIterator[Client]:
    """An HTTP client of the real app, served on a loopback port."""
    async with TestClient(TestServer(create_app(settings))) as test_client:
        yield test_client


@pytest.fixture
async def token(conn: asyncpg.Connection) -> str:
    """A token with every scope for a fresh user, ada@example.com."""
    await create_user(conn, email="ada@example.com", name="Ada Lovelace")
    issued = await create_token(conn, email="ada@example.com", scopes=["*"])
    return issued.token
