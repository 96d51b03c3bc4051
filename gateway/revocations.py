"""Changes broadcast through PostgreSQL, heard by every process of every
instance on one connection of its own (not a pooled one: LISTEN is session
state):

- tokens: the migration 0003_token_notify makes PostgreSQL NOTIFY
  `envgraph_tokens` as a token is revoked, narrowed or its user deleted,
  whoever does it; the process evicts its token cache at once, and answers
  the probe a revoker sends after its change (db/tokens.py: the revoker
  waits until every listener has answered). While the
  listening connection is down, nothing is cached, so that no revocation can
  be missed unseen.
- the schema: each migration NOTIFYs `envgraph_schema` as it commits
  (db/migrations); the process expires its pools' connections, and with them
  the prepared statements (and type codecs) asyncpg keeps per connection. A
  statement prepared before an `ALTER TABLE` that changes its result fails
  in a transaction ("cached plan must not change result type": a mutation
  answered INTERNAL_SERVER_ERROR) where asyncpg cannot prepare it again. A
  listener that reconnects expires them too: a migration may have committed
  while it was away.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator

import asyncpg
from aiohttp import web

from db.migrations import SCHEMA_CHANNEL
from db.session import DATABASE_DOWN
from db.tokens import HEARD_CHANNEL, LISTENER_NAME, PROBE_MARK, TOKEN_CHANNEL
from gateway.keys import POOL, SESSION_POOL, SETTINGS, TOKENS
from gateway.replicas import REPLICAS

logger = logging.getLogger("envgraph.revocations")

RETRY_S = 1.0
# a listener's answer to a probe (db/tokens.py)
ANSWER = "SELECT pg_notify($1, $2)"


async def listen_for_changes(app: web.Application) -> AsyncIterator[None]:
    """A cleanup context: the listener runs for the app's life."""
    # LISTEN is session state: a direct connection, never a pooler's
    url = app[SETTINGS].session_url
    if url is None:
        yield
        return
    first_try = asyncio.Event()
    listener = asyncio.create_task(_listen(app, url, first_try), name="envgraph listener")
    # serve once the listener is up (or has failed once): the first requests' tokens
    # are cached as the later ones' are
    await first_try.wait()
    yield
    listener.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await listener


async def expire_statements(app: web.Application) -> None:
    """The schema changed: every pooled connection is replaced as it is next
    acquired, so that no statement prepared before runs again."""
    pools = [app.get(POOL), app.get(SESSION_POOL)]
    replicas = app.get(REPLICAS)
    if replicas is not None:
        pools.extend(replica.pool for replica in replicas.members)
    expired = {id(pool): pool for pool in pools if pool is not None}
    for pool in expired.values():
        await pool.expire_connections()
    logger.info("schema changed: %d pools' prepared statements dropped", len(expired))


async def _listen(app: web.Application, url: str, first_try: asyncio.Event) -> None:
    cache = app[TOKENS]
    missed = False
    while True:
        try:
            await _listen_once(app, url, first_try, missed=missed)
        except (*DATABASE_DOWN, asyncpg.PostgresError) as error:
            logger.debug("listener: %r", error)
        first_try.set()
        cache.listening = False
        cache.clear()
        missed = True
        await asyncio.sleep(RETRY_S)


async def _listen_once(
    app: web.Application, url: str, first_try: asyncio.Event, *, missed: bool
) -> None:
    cache = app[TOKENS]
    conn = await asyncpg.connect(
        url, timeout=5, server_settings={"application_name": LISTENER_NAME}
    )
    try:
        lost = asyncio.Event()
        conn.add_termination_listener(lambda _: lost.set())
        answering = asyncio.Lock()  # one statement at a time on the connection

        async def tokens_changed(_: object, __: int, ___: str, payload: object) -> None:
            cache.clear()
            if isinstance(payload, str) and payload.startswith(PROBE_MARK):
                # someone waits for every process to have heard
                async with answering:
                    await conn.execute(ANSWER, HEARD_CHANNEL, payload[len(PROBE_MARK) :])

        await conn.add_listener(TOKEN_CHANNEL, tokens_changed)
        await conn.add_listener(HEARD_CHANNEL, lambda *heard: cache.heard(heard[3]))

        async def schema_changed(*_: object) -> None:
            await expire_statements(app)

        await conn.add_listener(SCHEMA_CHANNEL, schema_changed)
        cache.clear()  # whatever changed while nobody listened
        if missed:
            await expire_statements(app)
        cache.listening = True
        first_try.set()
        await lost.wait()
    finally:
        cache.listening = False
        conn.terminate()
