"""Prometheus metrics at `/metrics`: requests by operation and outcome, latency,
errors by code, SQL statements per request, pool use, requests in flight."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable

import asyncpg
from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest

# operation names come from clients: only sane ones, and not without end,
# become label values (each one is a time series kept forever)
_OPERATION_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,63}$")
MAX_OPERATION_LABELS = 200
_STATEMENT_BUCKETS = (0, 1, 2, 3, 4, 5, 6, 8, 10, 15, 20, 30, 50, 100)


class Metrics:
    """One registry per application (tests run several apps in one process)."""

    def __init__(self, pool_of: Callable[[], asyncpg.Pool | None]) -> None:
        self.registry = CollectorRegistry()
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
        self.in_flight = Gauge(
            "envgraph_requests_in_flight",
            "GraphQL requests being answered",
            registry=self.registry,
        )
        size = Gauge(
            "envgraph_pool_connections", "Open database connections", registry=self.registry
        )
        size.set_function(lambda: _size(pool_of()))
        busy = Gauge(
            "envgraph_pool_connections_in_use",
            "Database connections in use",
            registry=self.registry,
        )
        busy.set_function(lambda: _busy(pool_of()))
        self._operations: set[str] = set()

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
    ) -> None:
        """Record one answered GraphQL request."""
        codes = list(codes)
        outcome = "ok" if status < 400 and not codes else "error"
        self.requests.labels(self.operation_label(operation), outcome).inc()
        self.latency.observe(seconds)
        self.statements.observe(statements)
        for code in codes:
            self.errors.labels(code).inc()

    def render(self) -> bytes:
        """The text exposition format."""
        return generate_latest(self.registry)


def _size(pool: asyncpg.Pool | None) -> float:
    return 0 if pool is None else pool.get_size()


def _busy(pool: asyncpg.Pool | None) -> float:
    return 0 if pool is None else pool.get_size() - pool.get_idle_size()
