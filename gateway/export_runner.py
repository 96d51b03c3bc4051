"""Export jobs in the background of every serving process, and the run of one
job (also what the `export` command does, in its own process).

Each process claims jobs (db/export_jobs.py) while it runs fewer than
`GATEWAY_EXPORT_CONCURRENCY`, polling every second, and sweeps every few
seconds: exports past their expiry become EXPIRED and their files go, jobs
whose process died on every attempt fail, files no export wants any more
(an environment deleted) go, and the jobs-by-status gauge is read.

One run: the rows are written by one COPY (db/export_writer.py) into a
temporary file of its own (`<id>.<attempt>.tmp`: a run that restarts a job
never writes into a file another left), made durable (fsync) and renamed
into place in the transaction that marks the export SUCCEEDED, if the job is
still the run's. Every half second the run renews its lease with its
progress; a renewal that finds the job gone (cancelled, expired, taken over)
stops the run within that half second. Whatever ends a run other than
success, its temporary file is removed: no partial file is ever left.

Jobs use a pool of their own: a COPY holds its connection for as long as it
writes, which must not starve requests.
"""

from __future__ import annotations

import asyncio
import logging
import os
import re
import socket
import time
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager, suppress
from dataclasses import dataclass, field
from datetime import datetime
from enum import Enum
from pathlib import Path
from typing import BinaryIO
from uuid import UUID, uuid4

import asyncpg
from aiohttp import web

from db import export_jobs
from db.export_jobs import Job
from db.export_writer import COPY_TIMEOUT_S, EXTENSIONS, Written, copy_rows, export_query
from db.pool import create_pool
from db.queries import QUERIES
from db.session import DATABASE_DOWN
from gateway.export_service import Clock
from gateway.keys import EXPORTS, METRICS, SETTINGS
from gateway.metrics import Metrics

logger = logging.getLogger("envgraph.exports")

HEARTBEAT_S = 0.5
POLL_S = 1.0
SWEEP_EVERY_S = 10.0
# how long a stopping process waits for its runs to hand their jobs back
_RELEASE_TIMEOUT_S = 5.0
_FILE_NAME = re.compile(r"^([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})\.")


def new_holder() -> str:
    """A name for this process's claims, unique across machines and restarts."""
    return f"{socket.gethostname()}:{os.getpid()}:{uuid4().hex[:8]}"


class Outcome(Enum):
    """How a run ended."""

    SUCCEEDED = "SUCCEEDED"
    FAILED = "FAILED"
    # the job is no longer this run's (cancelled, expired, taken over), or the
    # database went away: whoever holds it next decides
    LEFT = "LEFT"


@dataclass(slots=True)
class RunProgress:
    """What a run has done so far."""

    rows: int = 0
    total: int | None = None
    bytes: int = 0
    error: str | None = None


class _Lost(Exception):
    """The job stopped being this run's."""


def _readable(error: OSError) -> str:
    reason = error.strerror or str(error)
    return f"cannot write the export file: {reason}"


def _fresh_file(directory: Path, job: Job) -> tuple[Path, BinaryIO]:
    """The run's temporary file, created empty (and the folder if need be);
    temporary files of earlier runs of this job, cut off, go first."""
    directory.mkdir(parents=True, exist_ok=True)
    for stale in directory.glob(f"{job.id}.*.tmp"):
        stale.unlink(missing_ok=True)
    path = directory / f"{job.id}.{job.attempt}.tmp"
    return path, path.open("xb")


def _durable(file: BinaryIO) -> None:
    file.flush()
    os.fsync(file.fileno())
    file.close()


def _put_in_place(temporary: Path, final: Path) -> None:
    os.replace(temporary, final)
    folder = os.open(final.parent, os.O_RDONLY)
    try:
        os.fsync(folder)  # the rename itself survives a crash
    finally:
        os.close(folder)


async def _write(
    pool: asyncpg.Pool, job: Job, file: BinaryIO, progress: RunProgress, lease_s: float
) -> Written:
    """Count, then write, the job's rows from one snapshot."""
    query = export_query(job.environment_id, job.format, job.filter)
    async with (
        pool.acquire() as conn,
        conn.transaction(isolation="repeatable_read", readonly=True),
    ):
        await conn.execute(QUERIES["set_local_setting"], "statement_timeout", "0")
        total = await conn.fetchval(query.count, *query.count_arguments, timeout=COPY_TIMEOUT_S)
        progress.total = total
        # the total is visible before the first row is written
        if not await export_jobs.renew(pool, job, rows=0, total=total, lease_s=lease_s):
            raise _Lost

        async def advanced(rows: int, size: int) -> None:
            progress.rows = min(rows, total)
            progress.bytes = size

        return await copy_rows(conn, query, job.format, file, advanced)


async def _supervise(
    pool: asyncpg.Pool,
    job: Job,
    writer: asyncio.Task[Written],
    progress: RunProgress,
    *,
    lease_s: float,
    watch: Callable[[RunProgress], None] | None,
) -> bool:
    """Renew the lease while the writer writes; False as soon as the job is no
    longer this run's (the caller then stops the writer)."""
    while True:
        await asyncio.wait({writer}, timeout=HEARTBEAT_S)
        if writer.done():
            return True
        if watch is not None:
            watch(progress)
        renewed = await export_jobs.renew(
            pool, job, rows=progress.rows, total=progress.total, lease_s=lease_s
        )
        if not renewed:
            return False


async def _put_finished(
    pool: asyncpg.Pool, job: Job, temporary: Path, directory: Path, written: Written
) -> bool:
    """The file in place and the export SUCCEEDED, in one transaction, if the job
    is still this run's."""
    name = f"{job.id}.{EXTENSIONS[job.format]}"
    async with pool.acquire() as conn, conn.transaction():
        if not await export_jobs.still_held(conn, job):
            return False
        await asyncio.to_thread(_put_in_place, temporary, directory / name)
        await export_jobs.finish(conn, job, file_name=name, rows=written.rows, size=written.bytes)
    return True


def _failure(job: Job, error: Exception) -> str:
    """What a failed run tells the export's readers."""
    if isinstance(error, OSError):
        return _readable(error)
    if isinstance(error, asyncpg.PostgresError):
        return f"the database refused the export: {error}"
    logger.error("export %s failed unexpectedly", job.id, exc_info=error)
    return "the export failed (an internal error, logged by the server)"


async def _written(
    pool: asyncpg.Pool,
    job: Job,
    file: BinaryIO,
    temporary: Path,
    *,
    directory: Path,
    progress: RunProgress,
    lease_s: float,
    watch: Callable[[RunProgress], None] | None,
) -> Written | None:
    """Write the file and put it in place; None when the job stopped being this
    run's on the way. The caller removes what is left of the file."""
    writer = asyncio.create_task(_write(pool, job, file, progress, lease_s))
    try:
        if not await _supervise(pool, job, writer, progress, lease_s=lease_s, watch=watch):
            return None
        written = writer.result()
    except _Lost:
        return None
    finally:
        if not writer.done():
            writer.cancel()
            await asyncio.wait({writer})
    await asyncio.to_thread(_durable, file)
    if not await _put_finished(pool, job, temporary, directory, written):
        return None
    return written


async def run_job(
    pool: asyncpg.Pool,
    job: Job,
    *,
    directory: Path,
    lease_s: float,
    watch: Callable[[RunProgress], None] | None = None,
    metrics: Metrics | None = None,
) -> Outcome:
    """Run a claimed job to its end: its file in place and the export SUCCEEDED,
    or FAILED with a readable error, or LEFT to whoever holds it now. `watch`
    sees the progress at every heartbeat (the command line's progress bar)."""
    progress = RunProgress()
    try:
        temporary, file = await asyncio.to_thread(_fresh_file, directory, job)
    except OSError as error:
        progress.error = _readable(error)
    else:
        try:
            written = await _written(
                pool, job, file, temporary,
                directory=directory, progress=progress, lease_s=lease_s, watch=watch,
            )  # fmt: skip
        except asyncio.CancelledError:
            # the process stops: another one takes the job at once
            with suppress(Exception):
                async with asyncio.timeout(_RELEASE_TIMEOUT_S):
                    await export_jobs.release(pool, job)
            raise
        except DATABASE_DOWN as error:
            # the lease lapses and another run starts over
            logger.warning("export %s stopped, the database went away: %s", job.id, error)
            written = None
        except Exception as error:
            progress.error = _failure(job, error)
        finally:
            if not file.closed:
                await asyncio.to_thread(file.close)
            await asyncio.to_thread(temporary.unlink, missing_ok=True)
        if progress.error is None:
            if written is None:
                return Outcome.LEFT
            progress.rows, progress.total, progress.bytes = (
                written.rows,
                written.rows,
                written.bytes,
            )
            if watch is not None:
                watch(progress)
            if metrics is not None:
                metrics.exported_rows.inc(written.rows)
            return Outcome.SUCCEEDED
    # failures that another run would meet too; no file is left
    await export_jobs.fail(pool, job, progress.error)
    return Outcome.FAILED


def _file_ids(directory: Path) -> dict[UUID, list[Path]]:
    found: dict[UUID, list[Path]] = {}
    if not directory.is_dir():
        return found
    for entry in directory.iterdir():
        match = _FILE_NAME.match(entry.name)
        if match:
            found.setdefault(UUID(match[1]), []).append(entry)
    return found


async def sweep(
    pool: asyncpg.Pool, directory: Path, *, now: datetime, metrics: Metrics | None = None
) -> None:
    """Expire, give up, remove the files nobody wants, read the gauge."""
    given_up = await export_jobs.give_up(pool)
    if given_up:
        logger.warning("export(s) %s failed: cut off on every attempt", given_up)
    for name in await export_jobs.expire(pool, now):
        await asyncio.to_thread((directory / name).unlink, missing_ok=True)
    files = await asyncio.to_thread(_file_ids, directory)
    if files:
        wanted = await export_jobs.existing(pool, list(files))
        for export_id, paths in files.items():
            if export_id not in wanted:
                for path in paths:
                    await asyncio.to_thread(path.unlink, missing_ok=True)
    if metrics is not None:
        metrics.read_export_jobs(await export_jobs.jobs_by_status(pool))


@dataclass(slots=True)
class Runner:
    """This process's share of the export jobs."""

    pool: asyncpg.Pool
    directory: Path
    concurrency: int
    lease_s: float
    clock: Clock
    metrics: Metrics | None = None
    holder: str = field(default_factory=new_holder)
    runs: set[asyncio.Task[Outcome]] = field(default_factory=set)
    _failing: bool = False

    async def keep_running(self) -> None:
        """Claim and sweep until cancelled; then stop the runs (their jobs released)."""
        next_sweep = 0.0
        try:
            while True:
                async with self._logged():
                    if time.monotonic() >= next_sweep:
                        next_sweep = time.monotonic() + SWEEP_EVERY_S
                        await sweep(
                            self.pool, self.directory, now=self.clock(), metrics=self.metrics
                        )
                    await self._claim()
                await asyncio.sleep(POLL_S)
        finally:
            for run in self.runs:
                run.cancel()
            if self.runs:
                await asyncio.wait(self.runs)

    async def _claim(self) -> None:
        free = self.concurrency - len(self.runs)
        if free <= 0:
            return
        jobs = await export_jobs.claim(self.pool, self.holder, limit=free, lease_s=self.lease_s)
        for job in jobs:
            logger.info("export %s: run %d begins", job.id, job.attempt)
            run = asyncio.create_task(
                run_job(
                    self.pool,
                    job,
                    directory=self.directory,
                    lease_s=self.lease_s,
                    metrics=self.metrics,
                ),
                name=f"envgraph-export-{job.id}",
            )
            self.runs.add(run)
            run.add_done_callback(self._ended)

    def _ended(self, run: asyncio.Task[Outcome]) -> None:
        self.runs.discard(run)
        if not run.cancelled() and run.exception() is not None:
            logger.error("an export run failed", exc_info=run.exception())

    @asynccontextmanager
    async def _logged(self) -> AsyncIterator[None]:
        """A failed round is logged (once while the failure lasts) and left to the next."""
        try:
            yield
            self._failing = False
        except asyncpg.UndefinedTableError:
            logger.info("exports skipped: the database is not migrated yet")
        except (*DATABASE_DOWN, asyncpg.PostgresError) as error:
            if not self._failing:
                logger.warning("export jobs cannot be claimed, tried again: %s", error)
            self._failing = True
        except Exception:
            logger.exception("export jobs: a round failed unexpectedly")


def exports_context(
    *, concurrency: int, lease_s: float
) -> Callable[[web.Application], AsyncIterator[None]]:
    """A `cleanup_ctx` entry running this process's export jobs (none when
    `concurrency` is 0), on a pool of their own."""

    async def context(app: web.Application) -> AsyncIterator[None]:
        if concurrency == 0:
            yield
            return
        settings, service = app[SETTINGS], app[EXPORTS]
        assert settings.database_url is not None, "the caller resolves the embedded server's URL"
        # a run holds two connections: its COPY's, and its heartbeat's for a moment
        pool = await create_pool(
            settings.database_url,
            size=2 * concurrency + 1,
            statement_timeout_ms=settings.statement_timeout_ms,
            transaction_pooling=settings.transaction_pooling,
            # told apart from the requests' pool in pg_stat_activity
            application_name="envgraph-exports",
        )
        runner = Runner(pool, service.directory, concurrency, lease_s, service.clock, app[METRICS])
        task = asyncio.create_task(runner.keep_running(), name="envgraph-exports")
        yield
        task.cancel()
        await asyncio.wait([task])
        # closed at once, not gracefully: a run cancelled mid-statement leaves its
        # connection waiting on the server, and a graceful close then waited for
        # it past its timeout (seen under load: the app's clean-up failing with
        # TimeoutError); the server rolls back whatever a closed socket held
        pool.terminate()

    return context
