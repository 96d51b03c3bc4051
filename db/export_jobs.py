"""Export jobs in their table: claimed by the `serve` processes, renewed while
they run, finished, and swept.

A job is an `exports` row. A process claims QUEUED rows (FOR UPDATE SKIP
LOCKED: two processes never take the same one, and neither waits for the
other), and RUNNING rows whose lease has lapsed: the process that held them
died. The holder renews its lease while it writes (with its progress); a
renewal that finds the row no longer its own (cancelled, expired, taken
over) stops the run. Every claim starts the file over, so a job cut off is
finished by another run with no row twice or missing. Every statement on a
running job names its holder and attempt, so a run that lost its job can
change nothing.

(procrastinate, the PostgreSQL job library the architecture names, runs on
psycopg, not asyncpg; these few statements on the exports table itself keep
the job and what clients see of it in one row.)
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from uuid import UUID

import asyncpg
import orjson

from db.entities import ExportFormat
from db.filter_codec import load_filter
from db.filters import Filter
from db.pool import Connection, Queryable
from db.queries import QUERIES

# a job whose process died this many times fails instead of running again
MAX_ATTEMPTS = 5


@dataclass(frozen=True, slots=True)
class Job:
    """A claimed export: which events, as what, and whose run it is."""

    id: UUID
    environment_id: UUID
    format: ExportFormat
    filter: Filter | None
    holder: str
    attempt: int


def job_of(row: asyncpg.Record) -> Job:
    """The job of an exports row its holder has just claimed."""
    stored = row["filter"]
    return Job(
        id=row["id"],
        environment_id=row["environment_id"],
        format=ExportFormat(row["format"]),
        filter=None if stored is None else load_filter(orjson.loads(stored)),
        holder=row["locked_by"],
        attempt=row["attempts"],
    )


async def claim(conn: Queryable, holder: str, *, limit: int, lease_s: float) -> list[Job]:
    """Up to `limit` jobs for `holder`, held for `lease_s` seconds."""
    rows = await conn.fetch(QUERIES["claim_exports"], limit, holder, lease_s, MAX_ATTEMPTS)
    return [job_of(row) for row in rows]


async def renew(conn: Queryable, job: Job, *, rows: int, total: int | None, lease_s: float) -> bool:
    """Record progress and extend the lease; False when the job is no longer this
    run's (cancelled, expired, or taken over): the run must stop."""
    renewed = await conn.fetchval(
        QUERIES["renew_export"], job.id, job.holder, job.attempt, rows, total, lease_s
    )
    return renewed is not None


async def still_held(conn: Connection, job: Job) -> bool:
    """In the caller's transaction: lock the row if the job is still this run's,
    so that nothing takes it before the finish commits."""
    held = await conn.fetchval(QUERIES["lock_running_export"], job.id, job.holder, job.attempt)
    return held is not None


async def finish(conn: Connection, job: Job, *, file_name: str, rows: int, size: int) -> None:
    """In the transaction of `still_held`: SUCCEEDED, with its file."""
    await conn.execute(QUERIES["finish_export"], job.id, file_name, rows, size)


async def fail(conn: Queryable, job: Job, error: str) -> None:
    """FAILED with `error`, which a person can read (if still this run's job)."""
    await conn.fetchval(QUERIES["fail_export"], job.id, job.holder, job.attempt, error)


async def release(conn: Queryable, job: Job) -> None:
    """Let another process take the job at once (this one stops)."""
    await conn.fetchval(QUERIES["release_export"], job.id, job.holder, job.attempt)


async def give_up(conn: Queryable) -> list[UUID]:
    """Fail the jobs whose process died on every attempt; their ids."""
    rows = await conn.fetch(QUERIES["give_up_exports"], MAX_ATTEMPTS)
    return [row["id"] for row in rows]


async def expire(conn: Queryable, now: datetime) -> list[str]:
    """Mark the exports past their expiry at `now` EXPIRED; the files to delete."""
    rows = await conn.fetch(QUERIES["expire_exports"], now)
    return [row["file_name"] for row in rows if row["file_name"]]


async def existing(conn: Queryable, ids: list[UUID]) -> set[UUID]:
    """Which of `ids` are exports whose files are still wanted."""
    rows = await conn.fetch(QUERIES["existing_exports"], ids)
    return {row["id"] for row in rows}


async def jobs_by_status(conn: Queryable) -> dict[str, int]:
    """How many exports are in each status."""
    rows = await conn.fetch(QUERIES["exports_by_status"])
    return {row["status"]: row["jobs"] for row in rows}
