"""Prometheus metrics at `/metrics`: requests by operation and outcome, latency,
errors by code, SQL statements per request, pool use, requests in flight.

Served by several worker processes, the metrics are kept in files of a folder
they share (prometheus-client's multiprocess mode), so that whichever worker
answers a scrape tells the sum of all of them, dead workers' counts included.
"""

from __future__ import annotations

import asyncio
import os
import re
import time
from collections.abc import Callable, Iterable

import asyncpg
from prometheus_client import (
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
    multiprocess,
    values,
)

from db.entities import ExportStatus

_SHARED_DIR = "PROMETHEUS_MULTIPROC_DIR"

# operation names come from clients: only sane ones, and not without end,
# become label values (each one is a time series kept forever)
_OPERATION_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,63}$")
MAX_OPERATION_LABELS = 200
# how often answered requests update the pool gauges (a scrape always does)
POOL_READ_INTERVAL_S = 0.1
# how long a request's counts may wait in the process before they are written to
# the shared files (a scrape, and the app's stop, write them at once)
TALLY_INTERVAL_S = 0.1
_STATEMENT_BUCKETS = (0, 1, 2, 3, 4, 5, 6, 8, 10, 15, 20, 30, 50, 100)


# this process's id, kept up to date across forks: prometheus-client asks for it
# on every write of a shared value (to notice a fork), and os.getpid() is a
# system call each time, about 8 % of a small request's time in 8 writes
_pid = [os.getpid()]
os.register_at_fork(after_in_child=lambda: _pid.__setitem__(0, os.getpid()))


def _this_process() -> int:
    return _pid[0]


def share_between_processes(folder: str) -> None:
    """Keep this process's metrics in `folder`, shared with its sibling workers
    (called in each worker after the fork, before any metric is made)."""
    os.environ[_SHARED_DIR] = folder
    # prometheus-client picks its value class once, at import: pick again
    values.ValueClass = values.MultiProcessValue(_this_process)  # type: ignore[no-untyped-call]


def forget_process(pid: int, folder: str) -> None:
    """A worker is gone: drop its gauges (its counts stay in the sums)."""
    multiprocess.mark_process_dead(pid, folder)  # type: ignore[no-untyped-call]


class _Tally:
    """Counts, observations and gauge changes of answered requests, kept in plain
    Python and written to the metrics at most every TALLY_INTERVAL_S.

    Each write of a shared value is a locked write to its file, and a request
    made about nine of them: 5 % of a by-id request's CPU. Written here, a
    request's are a few dictionary updates, and the file writes are one per
    value per interval. A worker killed outright loses at most the interval's
    counts; a scrape writes its own worker's first, so that what it tells
    includes every request that worker has answered."""

    def __init__(self) -> None:
        self.counts: dict[tuple[Counter, tuple[str, ...]], float] = {}
        self.observed: dict[Histogram, list[float]] = {}
        self.gauges: dict[Gauge, float] = {}
        self._timer: asyncio.TimerHandle | None = None

    def count(self, counter: Counter, labels: tuple[str, ...]) -> None:
        key = (counter, labels)
        self.counts[key] = self.counts.get(key, 0.0) + 1.0
        self._soon()

    def observe(self, histogram: Histogram, value: float) -> None:
        observed = self.observed.get(histogram)
        if observed is None:
            observed = self.observed[histogram] = []
        observed.append(value)
        self._soon()

    def add(self, gauge: Gauge, amount: float) -> None:
        self.gauges[gauge] = self.gauges.get(gauge, 0.0) + amount
        self._soon()

    def _soon(self) -> None:
        if self._timer is None:
            try:
                loop = asyncio.get_running_loop()
            except RuntimeError:  # outside a loop (a tool): written now
                self.write()
                return
            self._timer = loop.call_later(TALLY_INTERVAL_S, self.write)

    def write(self) -> None:
        """Write what is kept to the metrics."""
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        counts, self.counts = self.counts, {}
        observed, self.observed = self.observed, {}
        gauges, self.gauges = self.gauges, {}
        for (counter, labels), amount in counts.items():
            (counter.labels(*labels) if labels else counter).inc(amount)
        for histogram, values_ in observed.items():
            _observe_all(histogram, values_)
        for gauge, amount in gauges.items():
            if amount:
                gauge.inc(amount)


def _observe_all(histogram: Histogram, observed: list[float]) -> None:
    """`histogram.observe` of each value, with one write per bucket and one of the sum
    (prometheus-client's own fields, as its observe() writes them)."""
    bounds: list[float] = histogram._upper_bounds
    counts = [0] * len(bounds)
    for value in observed:
        for index, bound in enumerate(bounds):
            if value <= bound:
                counts[index] += 1
                break
    histogram._sum.inc(sum(observed))
    for index, count in enumerate(counts):
        if count:
            histogram._buckets[index].inc(count)


class Metrics:
    """One registry per application (tests run several apps in one process)."""

    def __init__(self, pool_of: Callable[[], asyncpg.Pool | None]) -> None:
        self.registry = CollectorRegistry()
        self._pool_of = pool_of
        self._shared_dir = os.environ.get(_SHARED_DIR)
        self.requests = Counter(
            "envgraph_requests", "GraphQL requests by operation and outcome",
            ["operation", "outcome"], registry=self.registry,
        )  # fmt: skip
        self.latency = Histogram(
            "envgraph_request_duration_seconds", "GraphQL request latency",
            registry=self.registry,
        )  # fmt: skip
        self.errors = Counter("envgraph_errors", "Errors by code", ["code"], registry=self.registry)
        self.statements = Histogram(
            "envgraph_sql_statements_per_request", "SQL statements run by one request",
            buckets=_STATEMENT_BUCKETS, registry=self.registry,
        )  # fmt: skip
        self.executors = Counter(
            "envgraph_requests_by_executor",
            "GraphQL requests past authentication and limits, by the executor that answered",
            ["executor"], registry=self.registry,
        )  # fmt: skip
        self.plans_made = Counter(
            "envgraph_read_plans_made",
            "Compiled read plans made: the plan cache's misses (one per document shape, "
            "whatever the ids its lookups name)",
            registry=self.registry,
        )
        self.databases = Counter(
            "envgraph_requests_by_database",
            "GraphQL operations by the database role that answered them (with replicas)",
            ["role"], registry=self.registry,
        )  # fmt: skip
        self.replica_lag = Gauge(
            "envgraph_replica_lag_ms", "How far behind each replica was last seen (-1: down)",
            ["replica"], registry=self.registry, multiprocess_mode="livemax",
        )  # fmt: skip
        # gauges: the sum over the live workers
        self.in_flight = Gauge(
            "envgraph_requests_in_flight", "GraphQL requests being answered",
            registry=self.registry, multiprocess_mode="livesum",
        )  # fmt: skip
        self.pool_size = Gauge(
            "envgraph_pool_connections", "Open database connections",
            registry=self.registry, multiprocess_mode="livesum",
        )  # fmt: skip
        self.pool_busy = Gauge(
            "envgraph_pool_connections_in_use", "Database connections in use",
            registry=self.registry, multiprocess_mode="livesum",
        )  # fmt: skip
        self.exported_rows = Counter(
            "envgraph_exported_rows", "Rows written by the exports this process finished",
            registry=self.registry,
        )  # fmt: skip
        # the same value from every process (read from the database): the latest
        self.export_jobs = Gauge(
            "envgraph_export_jobs", "Export jobs by status",
            ["status"], registry=self.registry, multiprocess_mode="mostrecent",
        )  # fmt: skip
        self._operations: set[str] = set()
        self._pool_read_at = -POOL_READ_INTERVAL_S
        self.tally = _Tally()

    def count(self, counter: Counter, *labels: str) -> None:
        """`counter.labels(*labels).inc()`, written with the next tally."""
        self.tally.count(counter, labels)

    def sample(self, name: str, labels: dict[str, str] | None = None) -> float:
        """A sample's value in this process, its tally written first (0 when none)."""
        self.tally.write()
        return self.registry.get_sample_value(name, labels) or 0.0

    def request_started(self) -> None:
        self.tally.add(self.in_flight, 1)

    def request_ended(self) -> None:
        self.tally.add(self.in_flight, -1)

    def _read_pool(self) -> None:
        # set, not computed at scrape time: in a shared folder each worker
        # can only write its own values
        self._pool_read_at = time.monotonic()
        pool = self._pool_of()
        self.pool_size.set(0 if pool is None else pool.get_size())
        self.pool_busy.set(0 if pool is None else pool.get_size() - pool.get_idle_size())

    def read_export_jobs(self, by_status: dict[str, int]) -> None:
        """Set the export jobs gauge (every status, 0 where there are none)."""
        for status in ExportStatus:
            self.export_jobs.labels(status.value).set(by_status.get(status.value, 0))

    def operation_label(self, name: str | None) -> str:
        """The label for an operation name, bounded in kind and number."""
        if not name:
            return "anonymous"
        if not _OPERATION_NAME.match(name):
            return "invalid"
        if name not in self._operations:
            if len(self._operations) >= MAX_OPERATION_LABELS:
                return "other"
            self._operations.add(name)
        return name

    def observe(
        self,
        operation: str | None,
        status: int,
        seconds: float,
        codes: Iterable[str],
        statements: int,
        *,
        authenticated: bool = True,
    ) -> None:
        """Record one answered GraphQL request (an unauthenticated one under the
        label `unauthenticated`: anyone may send those, and /metrics is public)."""
        codes = list(codes)
        outcome = "ok" if status < 400 and not codes else "error"
        label = self.operation_label(operation) if authenticated else "unauthenticated"
        tally = self.tally
        tally.count(self.requests, (label, outcome))
        tally.observe(self.latency, seconds)
        tally.observe(self.statements, statements)
        for code in codes:
            tally.count(self.errors, (code,))
        if time.monotonic() - self._pool_read_at >= POOL_READ_INTERVAL_S:
            self._read_pool()

    def render(self) -> bytes:
        """The text exposition format (of all workers, when shared)."""
        self.tally.write()
        self._read_pool()
        if self._shared_dir is None:
            return generate_latest(self.registry)
        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry, path=self._shared_dir)  # type: ignore[no-untyped-call]
        return generate_latest(registry)
