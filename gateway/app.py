"""The aiohttp application: `create_app(settings)`."""

from __future__ import annotations

import asyncio
import logging
import random
import re
from collections.abc import AsyncIterator, Awaitable, Callable

import asyncpg
from aiohttp import web

from db import migrations
from db.errors import MigrationError
from db.pool import create_pool
from db.secret_box import SecretBox
from db.secret_keys import verify_key
from db.session import DATABASE_DOWN, StatementCounter
from gateway.auth import TokenCache
from gateway.export_route import setup_export_route
from gateway.export_runner import exports_context
from gateway.export_service import Clock, ExportService, utc_now
from gateway.graphiql import setup_graphiql
from gateway.graphql_view import GatewayView
from gateway.ingest_route import setup_ingest_route
from gateway.keys import (
    EXPORTS,
    METRICS,
    POOL,
    REQUEST_ID,
    SECRETS,
    SESSION_POOL,
    SETTINGS,
    STATEMENTS,
    TOKENS,
)
from gateway.limits import MAX_BODY_BYTES, Limits
from gateway.maintenance import maintenance_context
from gateway.metrics import Metrics
from gateway.outage import RETRY_AFTER_S
from gateway.persisted import Documents, load_manifest
from gateway.replicas import replicas_context
from gateway.revocations import listen_for_changes
from gateway.settings import Settings, SettingsError
from schema.schema import build_schema

_REQUEST_ID = re.compile(r"^[A-Za-z0-9._-]{1,64}$")
_READY_TIMEOUT_S = 2.0
logger = logging.getLogger(__name__)

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


@web.middleware
async def request_id_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Tag each request with an id (the caller's `X-Request-Id` if sane), echoed back,
    so that a client's report and the server's log meet."""
    incoming = request.headers.get("X-Request-Id", "")
    # unique, not secret (it is shown to the caller): 128 random bits without
    # the system call of uuid4 or `secrets`
    request_id = incoming if _REQUEST_ID.match(incoming) else f"{random.getrandbits(128):032x}"
    request[REQUEST_ID] = request_id
    response = await handler(request)
    response.headers["X-Request-Id"] = request_id
    return response


async def _server_header(_: web.Request, response: web.StreamResponse) -> None:
    """Name the service, not the versions of Python and aiohttp it runs on."""
    response.headers["Server"] = "envgraph"


async def healthz(_: web.Request) -> web.Response:
    """The process is up."""
    return web.json_response({"status": "ok"})


async def readyz(request: web.Request) -> web.Response:
    """Ready when the database answers and has every migration this code ships."""
    try:
        async with asyncio.timeout(_READY_TIMEOUT_S), request.app[POOL].acquire() as conn:
            pending = await migrations.pending(conn)
    except MigrationError as error:
        return _not_ready(str(error))
    except DATABASE_DOWN:
        return _not_ready("database unreachable")
    if pending:
        names = ", ".join(f"{m.version:04d}_{m.name}" for m in pending)
        return _not_ready(f"{len(pending)} migration(s) pending: {names}")
    return web.json_response({"status": "ready"})


def _not_ready(reason: str) -> web.Response:
    return web.json_response(
        {"status": "unavailable", "reason": reason},
        status=503,
        headers={"Retry-After": RETRY_AFTER_S},
    )


async def _pool_context(app: web.Application) -> AsyncIterator[None]:
    settings = app[SETTINGS]
    assert settings.database_url is not None, "the caller resolves the embedded server's URL"
    pool = await create_pool(
        settings.database_url,
        size=settings.pool_size,
        statement_timeout_ms=settings.statement_timeout_ms,
        transaction_pooling=settings.transaction_pooling,
    )
    app[POOL] = app[SESSION_POOL] = pool
    if settings.transaction_pooling:
        assert settings.database_direct_url is not None, "load_settings requires it"
        app[SESSION_POOL] = await create_pool(
            settings.database_direct_url,
            size=settings.pool_size,
            statement_timeout_ms=settings.statement_timeout_ms,
        )
    yield
    await pool.close()
    if app[SESSION_POOL] is not pool:
        await app[SESSION_POOL].close()


async def _secrets_key_context(app: web.Application) -> AsyncIterator[None]:
    """Refuse to start with a key the stored secrets were not encrypted with
    (KeyMismatch): better than an error on every secret read later. A database
    not reachable or not migrated yet is no reason not to start (/readyz says
    so); writes check the key again (db/secret_keys.py)."""
    box = app[SECRETS]
    if box is not None:
        try:
            async with app[POOL].acquire() as conn:
                await verify_key(conn, box)
        except (*DATABASE_DOWN, asyncpg.UndefinedTableError) as error:
            logger.warning("the secrets key could not be checked at start: %s", error)
    yield


def _sdl_handler(sdl: str) -> Handler:
    async def schema_sdl(_: web.Request) -> web.Response:
        """The SDL of the schema served, for tools and other gateways."""
        return web.Response(text=sdl, content_type="text/plain", charset="utf-8")

    return schema_sdl


async def metrics(request: web.Request) -> web.Response:
    """Prometheus text format."""
    return web.Response(
        body=request.app[METRICS].render(), content_type="text/plain", charset="utf-8"
    )


def _documents(settings: Settings) -> Documents:
    """The persisted operations of the process: the trusted manifest's, if set."""
    path = settings.trusted_documents
    if path is None:
        return Documents()
    try:
        return Documents(load_manifest(path))
    except ValueError as error:
        raise SettingsError(f"GATEWAY_TRUSTED_DOCUMENTS={str(path)!r}: {error}") from None


async def _write_tally(app: web.Application) -> None:
    # the counts of the last requests, before a worker stops
    app[METRICS].tally.write()


def create_app(
    settings: Settings, *, demo_token: str | None = None, clock: Clock = utc_now
) -> web.Application:
    """The whole HTTP service for these settings (the database URL must be set);
    a demo token is pre-filled in GraphiQL's request headers. `clock` decides
    when exports expire (tests move it instead of waiting days)."""
    app = web.Application(middlewares=[request_id_middleware], client_max_size=MAX_BODY_BYTES)
    app[SETTINGS] = settings
    app.on_response_prepare.append(_server_header)
    app[STATEMENTS] = StatementCounter()
    app[METRICS] = Metrics(lambda: app.get(POOL))
    app.on_cleanup.append(_write_tally)
    app[TOKENS] = TokenCache(settings.auth_cache_s)
    app[SECRETS] = None if settings.secrets_key is None else SecretBox(settings.secrets_key)
    app.cleanup_ctx.append(_pool_context)
    app.cleanup_ctx.append(_secrets_key_context)
    app.cleanup_ctx.append(replicas_context)
    # after the pool: cleaned up in reverse order, the loop stops before the pool closes
    app.cleanup_ctx.append(maintenance_context())
    app.cleanup_ctx.append(listen_for_changes)
    app[EXPORTS] = ExportService(settings.exports_path, clock)
    app.cleanup_ctx.append(
        exports_context(concurrency=settings.export_concurrency, lease_s=settings.export_lease_s)
    )
    schema = build_schema(introspection=settings.introspection)
    view = GatewayView(
        documents=_documents(settings),
        schema=schema,
        graphql_ide="graphiql" if settings.graphiql else None,
        introspection=settings.introspection,
        graphql_schema=schema._schema,
        limits=Limits(
            depth=settings.max_query_depth,
            aliases=settings.max_query_aliases,
            tokens=settings.max_query_tokens,
            nodes=settings.max_query_nodes,
            input_depth=settings.max_input_depth,
            selection_fields=settings.max_selection_fields,
            fields=settings.max_query_fields,
            default_page=settings.default_page_size,
            max_page=settings.max_page_size,
        ),
    )
    app.router.add_route("*", "/graphql", view)
    if settings.graphiql:
        setup_graphiql(app, demo_token, listening_on=settings.host)
    app.router.add_get("/healthz", healthz)
    app.router.add_get("/readyz", readyz)
    app.router.add_get("/metrics", metrics)
    app.router.add_get("/schema.graphql", _sdl_handler(schema.as_str() + "\n"))
    setup_ingest_route(app)
    setup_export_route(app)
    return app
