"""Token changes broadcast through PostgreSQL: every process evicts its token
cache as soon as a token is revoked, narrowed or its user deleted.

The migration 0003_token_notify makes PostgreSQL NOTIFY `envgraph_tokens` as
such a change commits, whoever makes it; each process LISTENs on a connection
of its own (not a pooled one: LISTEN is session state). While that connection
is down, nothing is cached, so that no revocation can be missed unseen.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator

import asyncpg
from aiohttp import web

from db.session import DATABASE_DOWN
from db.tokens import TOKEN_CHANNEL
from gateway.auth import TokenCache
from gateway.keys import SETTINGS, TOKENS

logger = logging.getLogger("envgraph.revocations")

RETRY_S = 1.0


async def listen_for_token_changes(app: web.Application) -> AsyncIterator[None]:
    """A cleanup context: the listener runs for the app's life (when tokens are cached)."""
    # LISTEN is session state: a direct connection, never a pooler's
    cache, url = app[TOKENS], app[SETTINGS].session_url
    if cache.ttl_s <= 0 or url is None:
        yield
        return
    first_try = asyncio.Event()
    listener = asyncio.create_task(_listen(url, cache, first_try), name="envgraph token listener")
    # serve once the listener is up (or has failed once): the first requests' tokens
    # are cached as the later ones' are
    await first_try.wait()
    yield
    listener.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await listener


async def _listen(url: str, cache: TokenCache, first_try: asyncio.Event) -> None:
    while True:
        try:
            await _listen_once(url, cache, first_try)
        except (*DATABASE_DOWN, asyncpg.PostgresError) as error:
            logger.debug("token listener: %r", error)
        first_try.set()
        cache.listening = False
        cache.clear()
        await asyncio.sleep(RETRY_S)


async def _listen_once(url: str, cache: TokenCache, first_try: asyncio.Event) -> None:
    conn = await asyncpg.connect(
        url, timeout=5, server_settings={"application_name": "envgraph-listener"}
    )
    try:
        lost = asyncio.Event()
        conn.add_termination_listener(lambda _: lost.set())
        await conn.add_listener(TOKEN_CHANNEL, lambda *_: cache.clear())
        cache.clear()  # whatever changed while nobody listened
        cache.listening = True
        first_try.set()
        await lost.wait()
    finally:
        cache.listening = False
        conn.terminate()
