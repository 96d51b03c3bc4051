"""Reads on PostgreSQL streaming replicas, with read-your-writes.

With DATABASE_REPLICA_URLS set, each process keeps a pool per replica and
watches every replica's replay position and lag (one small statement per
replica every WATCH_INTERVAL_S). A read request goes to a replica that is up,
at most GATEWAY_REPLICA_MAX_LAG_MS behind, and, when the request carries the
`X-Envgraph-Consistency` header a mutation answered with (the WAL position
after its commit), has replayed at least that far; otherwise to the primary.
Mutations, and the token check before any request, run on the primary. A
replica that fails under a request is marked down at once and the request's
statements go on on the primary (db/session.py), so its loss costs no answer.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import logging
import re
from collections.abc import AsyncIterator, MutableMapping
from dataclasses import dataclass, field

import asyncpg
from aiohttp import web

from db.pool import create_pool
from db.session import Session
from gateway.keys import METRICS, READ_ONLY, SETTINGS
from gateway.metrics import Metrics

logger = logging.getLogger("envgraph.replicas")

CONSISTENCY_HEADER = "X-Envgraph-Consistency"
WATCH_INTERVAL_S = 0.1
_LSN = re.compile(r"^([0-9A-Fa-f]{1,8})/([0-9A-Fa-f]{1,8})$")

# On the replica: how far it has replayed, and how far behind it is. A replica
# that has replayed all it received is not behind, however old its last
# transaction (an idle primary sends nothing); one with received WAL waiting
# is as far behind as its last replayed transaction is old.
_STATE = """
SELECT pg_is_in_recovery() AS standby,
       (pg_last_wal_replay_lsn() - '0/0'::pg_lsn)::bigint AS replayed,
       CASE WHEN pg_last_wal_receive_lsn() IS NOT DISTINCT FROM pg_last_wal_replay_lsn()
            THEN 0
            ELSE coalesce(extract(epoch FROM clock_timestamp()
                                  - pg_last_xact_replay_timestamp()) * 1000, 0)
       END::float8 AS lag_ms
"""
# On the primary, after a mutation committed: a position at or past its commit
COMMIT_POSITION = "SELECT pg_current_wal_insert_lsn()::text"


def parse_lsn(text: str | None) -> int | None:
    """A WAL position as PostgreSQL prints it (`16/B374D848`), or None."""
    match = _LSN.match(text.strip()) if text else None
    if match is None:
        return None
    return (int(match[1], 16) << 32) | int(match[2], 16)


@dataclass
class Replica:
    """A replica as this process last saw it."""

    name: str
    pool: asyncpg.Pool
    up: bool = False
    replayed: int = 0
    lag_ms: float = 0.0


@dataclass
class Replicas:
    """The replicas of a process, and which of them may take a read."""

    members: list[Replica]
    max_lag_ms: int
    _turn: itertools.count[int] = field(default_factory=itertools.count)

    def choose(self, wanted: int | None) -> Replica | None:
        """A replica for a read that must see position `wanted` (None: any), taken
        in turn; None: read from the primary."""
        fit = [
            r
            for r in self.members
            if r.up and r.lag_ms <= self.max_lag_ms and (wanted is None or r.replayed >= wanted)
        ]
        return fit[next(self._turn) % len(fit)] if fit else None

    def down(self, pool: asyncpg.Pool) -> None:
        """The replica of `pool` failed a request: skip it until it answers again."""
        for replica in self.members:
            if replica.pool is pool and replica.up:
                replica.up = False
                logger.warning("replica %s is down: reads go to the primary", replica.name)


REPLICAS = web.AppKey("replicas", Replicas)
# a request is routed once (the lean path routes the reads it tries, and the
# view may then answer them)
_ROUTED = web.RequestKey("routed", bool)


def route(request: web.Request, session: Session) -> None:
    """Before a request's operation runs: a query goes to a replica that fits,
    anything else (and a query no replica fits) stays on the primary."""
    replicas = request.app.get(REPLICAS)
    if replicas is None or request.get(_ROUTED, False):
        return
    request[_ROUTED] = True
    role = "primary"
    if request.get(READ_ONLY, False):
        header = request.headers.get(CONSISTENCY_HEADER)
        wanted = parse_lsn(header)
        # a position that cannot be read cannot be waited for: the primary
        replica = replicas.choose(wanted) if header is None or wanted is not None else None
        if replica is not None:
            session.route_reads(replica.pool, replicas.down)
            role = "replica"
    metrics = request.app[METRICS]
    metrics.count(metrics.databases, role)


async def mark_position(
    request: web.Request, session: Session, headers: MutableMapping[str, str]
) -> None:
    """After a mutation, with replicas: the WAL position a later read must see."""
    if request.app.get(REPLICAS) is None or request.get(READ_ONLY, True):
        return
    headers[CONSISTENCY_HEADER] = await session.fetchval(COMMIT_POSITION)


async def written_position(request: web.Request, session: Session) -> dict[str, str]:
    """After a write outside GraphQL (bulk ingestion), with replicas: the header
    that makes a later read see it, as a mutation's does; else nothing."""
    if request.app.get(REPLICAS) is None:
        return {}
    return {CONSISTENCY_HEADER: await session.fetchval(COMMIT_POSITION)}


async def _watch_one(replica: Replica, metrics: Metrics) -> None:
    await _look(replica)
    metrics.replica_lag.labels(replica.name).set(replica.lag_ms if replica.up else -1)


async def _look(replica: Replica) -> None:
    try:
        async with replica.pool.acquire(timeout=1.0) as conn:
            state = await conn.fetchrow(_STATE, timeout=1.0)
    except Exception as error:
        # down, refusing, or its connection broken mid-statement (asyncpg's
        # InternalClientError): not read from until it answers again
        if replica.up:
            logger.warning("replica %s is down: %r", replica.name, error)
        replica.up = False
        return
    assert state is not None
    if not state["standby"]:
        # promoted, or not a replica at all: its data may be ahead of or apart
        # from the primary's, so it takes no reads
        if replica.up:
            logger.warning("replica %s is not in recovery: not read from", replica.name)
        replica.up = False
        return
    if not replica.up:
        logger.info("replica %s is up", replica.name)
    replica.replayed = int(state["replayed"] or 0)
    replica.lag_ms = float(state["lag_ms"])
    replica.up = True


async def _watch(replicas: Replicas, metrics: Metrics) -> None:
    while True:
        await asyncio.gather(*(_watch_one(r, metrics) for r in replicas.members))
        await asyncio.sleep(WATCH_INTERVAL_S)


def _name(index: int, url: str) -> str:
    # the host and port only: a URL may hold a password
    host = url.rsplit("@", maxsplit=1)[-1].split("/", maxsplit=1)[0] or "socket"
    return f"{index}:{host}"


async def replicas_context(app: web.Application) -> AsyncIterator[None]:
    """A cleanup context: the replicas' pools and their watcher (when configured)."""
    settings = app[SETTINGS]
    if not settings.database_replica_urls:
        yield
        return
    members = [
        Replica(
            _name(i, url),
            await create_pool(
                url,
                size=settings.pool_size,
                statement_timeout_ms=settings.statement_timeout_ms,
                connect_timeout_s=1.0,
                transaction_pooling=settings.transaction_pooling,
            ),
        )
        for i, url in enumerate(settings.database_replica_urls)
    ]
    replicas = app[REPLICAS] = Replicas(members, settings.replica_max_lag_ms)
    # serve once every replica has been looked at once
    await asyncio.gather(*(_watch_one(r, app[METRICS]) for r in members))
    watcher = asyncio.create_task(_watch(replicas, app[METRICS]), name="envgraph replica watcher")
    yield
    watcher.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await watcher
    for replica in members:
        await replica.pool.close()
