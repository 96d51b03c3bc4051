"""Bulk ingestion against its bound, on the events database: the same rows
(bench/events.py, namespace "ingest", environment 1) sent once by a raw COPY
(`raw_copy`, rolled back) and once as a CSV upload to envgraph's bulk route,
the server's RSS sampled throughout the upload.

Both run in a copy of the events database (`CREATE DATABASE ... TEMPLATE`), a
fresh copy each, dropped afterwards: the events database stays as generated
and both see the same table, indexes and partitions. The upload's body is
written to a file first and streamed from it, as the raw COPY's is: neither
rate includes Python making CSV, and the client holds no more of the upload
than a 1 MiB chunk.
"""

from __future__ import annotations

import asyncio
import itertools
import tempfile
import time
from collections.abc import AsyncIterator, Callable
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import aiohttp
import asyncpg

from bench.cluster import ROLE, Cluster
from bench.events import csv_body, event, raw_copy
from bench.noise import NoiseMeter
from bench.rss import PeakRss

_MIB = 2**20
_CHUNK = _MIB


@dataclass(frozen=True, slots=True)
class IngestResult:
    """What the ingestion phase measured."""

    rows: int
    upload_bytes: int
    copy_seconds: float
    copy_noise_cores: float
    upload_seconds: float
    upload_noise_cores: float
    answer: dict[str, Any]
    rss_before_bytes: int
    rss_peak_bytes: int

    @property
    def copy_rows_per_s(self) -> float:
        """The bound's rate."""
        return self.rows / self.copy_seconds

    @property
    def upload_rows_per_s(self) -> float:
        """envgraph's rate (to the answer: staging, the move and the commit)."""
        return self.rows / self.upload_seconds

    def as_dict(self) -> dict[str, Any]:
        """For the results file."""
        return asdict(self) | {
            "copy_rows_per_s": self.copy_rows_per_s,
            "upload_rows_per_s": self.upload_rows_per_s,
        }


def rows_for(size_bytes: int, sample: int = 2_000) -> int:
    """How many upload rows (of environment 1, namespace "ingest") make a CSV
    body of about `size_bytes`."""
    rows = (event(1, n, sample, "ingest") for n in range(1, sample + 1))
    sampled = sum(len(chunk) for chunk in csv_body(rows, header=False))
    return max(1, round(size_bytes * sample / sampled))


def write_upload(path: Path, rows: int) -> int:
    """The upload's CSV body (with its header row) into `path`; its size. The
    rows spread over the generated events' span, as `raw_copy`'s of the same
    count: the same partitions as the generated events."""
    events = (event(1, n, rows, "ingest") for n in range(1, rows + 1))
    with path.open("wb") as file:
        for chunk in csv_body(events, header=True):
            file.write(chunk)
    return path.stat().st_size


async def copy_database(cluster: Cluster, source: str, target: str) -> str:
    """`target`, a fresh file copy of `source` (retried while autovacuum or a
    just-stopped server still holds the source); its URL for the bench role."""
    admin = await asyncpg.connect(cluster.admin_url())
    try:
        await admin.execute(f'DROP DATABASE IF EXISTS "{target}" WITH (FORCE)')
        for attempt in itertools.count():
            try:
                await admin.execute(
                    f'CREATE DATABASE "{target}" TEMPLATE "{source}" OWNER {ROLE} '
                    "STRATEGY FILE_COPY"
                )
                break
            except asyncpg.ObjectInUseError:
                if attempt >= 30:
                    raise
                await asyncio.sleep(1)
    finally:
        await admin.close()
    return cluster.url(target)


async def drop_database(cluster: Cluster, name: str) -> None:
    """Drop `name` (its connections ended)."""
    admin = await asyncpg.connect(cluster.admin_url())
    try:
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        await admin.close()


async def measure_copy(
    url: str, rows: int, per_environment: int, cluster_uid: int | None
) -> tuple[float, float]:
    """The raw COPY of the rows (rolled back): seconds, noise cores."""
    conn = await asyncpg.connect(url)
    noise = NoiseMeter(cluster_uid)
    try:
        noise.start()
        rate = await raw_copy(conn, 1, rows, per_environment=per_environment)
        return rate.seconds, noise.stop()
    finally:
        await conn.close()


async def _file_chunks(path: Path) -> AsyncIterator[bytes]:
    with path.open("rb") as file:
        while chunk := file.read(_CHUNK):
            yield chunk


async def upload(
    base_url: str, environment: str, token: str, body: Path | bytes
) -> tuple[int, dict[str, Any]]:
    """POST a CSV body to the bulk route, streamed from a file; status and answer."""
    data = _file_chunks(body) if isinstance(body, Path) else body
    async with (
        aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=None)) as http,
        http.post(
            f"{base_url}/v1/environments/{environment}/events",
            data=data,
            headers={"Authorization": f"Bearer {token}", "Content-Type": "text/csv"},
        ) as response,
    ):
        answer: dict[str, Any] = await response.json(content_type=None)
        return response.status, answer


def measure_ingestion(
    *,
    cluster: Cluster,
    source: str,
    environment: str,
    token: str,
    size_bytes: int,
    cluster_uid: int | None,
    start_server: Callable[[str], Any],
    log: Callable[[str], None] = print,
) -> IngestResult:
    """The raw COPY, then the upload, each into a fresh copy of `source`.

    `start_server(url)` starts envgraph on a database and returns its `Running`
    (with `.pid`, `.system.port`, `.wait_idle()` and `.stop()`); `environment`
    is environment 1's uuid, `token` a superuser token of `source`.
    """
    target = f"{source}_ingest"
    rows = rows_for(size_bytes)
    with tempfile.TemporaryDirectory(prefix="envgraph-ingest-") as folder:
        body = Path(folder) / "upload.csv"
        upload_bytes = write_upload(body, rows)
        log(f"  ingest: {rows:,} rows, {upload_bytes / _MIB:,.0f} MiB of CSV")
        try:
            url = asyncio.run(copy_database(cluster, source, target))
            copy_seconds, copy_noise = asyncio.run(measure_copy(url, rows, rows, cluster_uid))
            log(f"  ingest: raw COPY {rows / copy_seconds:,.0f} rows/s ({copy_seconds:.1f} s)")
            asyncio.run(drop_database(cluster, target))
            url = asyncio.run(copy_database(cluster, source, target))
            running = start_server(url)
            rss = PeakRss(running.pid)
            try:
                base = f"http://127.0.0.1:{running.system.port}"
                # warm-up: a one-row upload of another namespace, so that the
                # baseline holds what any ingestion loads
                warm = b"".join(csv_body(iter([event(1, 1, rows, "ingest-warm-up")]), header=True))
                status, answer = asyncio.run(upload(base, environment, token, warm))
                if status != 200:
                    raise RuntimeError(f"warm-up upload: HTTP {status} {answer}")
                running.wait_idle()
                time.sleep(1)
                rss_before = rss.take()
                noise = NoiseMeter(cluster_uid)
                noise.start()
                started = time.perf_counter()
                status, answer = asyncio.run(upload(base, environment, token, body))
                upload_seconds = time.perf_counter() - started
                upload_noise = noise.stop()
                rss_peak = rss.take()
            finally:
                rss.close()
                running.stop()
            if status != 200 or answer.get("accepted") != rows:
                raise RuntimeError(f"upload: HTTP {status} {str(answer)[:300]}")
        finally:
            asyncio.run(drop_database(cluster, target))
    result = IngestResult(
        rows=rows,
        upload_bytes=upload_bytes,
        copy_seconds=copy_seconds,
        copy_noise_cores=copy_noise,
        upload_seconds=upload_seconds,
        upload_noise_cores=upload_noise,
        answer=answer,
        rss_before_bytes=rss_before,
        rss_peak_bytes=rss_peak,
    )
    log(
        f"  ingest: upload {result.upload_rows_per_s:,.0f} rows/s ({upload_seconds:.1f} s), "
        f"RSS {rss_before / _MIB:.0f} -> {rss_peak / _MIB:.0f} MiB"
    )
    return result
