"""Typed keys for state kept on the aiohttp application and requests."""

from __future__ import annotations

import asyncio

import asyncpg
from aiohttp import web
from strawberry.http import GraphQLRequestData
from strawberry.types import ExecutionResult

from db.secret_box import SecretBox
from db.session import Session, StatementCounter
from gateway.auth import Credentials, TokenCache
from gateway.export_service import ExportService
from gateway.metrics import Metrics
from gateway.settings import Settings
from schema.context import Context

SETTINGS = web.AppKey("settings", Settings)
POOL = web.AppKey("pool", asyncpg.Pool)
# the pool for work that needs one server session across transactions (bulk
# ingestion's staging table): POOL itself unless DATABASE_URL is a pooler in
# transaction mode, then one on DATABASE_DIRECT_URL
SESSION_POOL = web.AppKey("session_pool", asyncpg.Pool)
REQUEST_ID = web.RequestKey("request_id", str)
CREDENTIALS = web.RequestKey("credentials", Credentials)
# statements run by all requests of this process, a running total (the metric
# is per request: envgraph_sql_statements_per_request, from each Session's count;
# the total is what tests read to see what a request cost)
STATEMENTS = web.AppKey("statements", StatementCounter)
METRICS = web.AppKey("metrics", Metrics)
TOKENS = web.AppKey("tokens", TokenCache)
# what secret values are encrypted with (None: GATEWAY_SECRETS_KEY is not set)
SECRETS: web.AppKey[SecretBox | None] = web.AppKey("secrets")
# what the view learns while answering, for metrics and logs
SESSION = web.RequestKey("session", Session)
OPERATION = web.RequestKey("operation", str)
ERROR_CODES = web.RequestKey("error_codes", list[str])
EXECUTOR = web.RequestKey("executor", str)  # "compiled" or "resolver"
# the operation run: a query (which a replica may answer) or not
READ_ONLY = web.RequestKey("read_only", bool)
# the storage upkeep loop of this process (gateway/maintenance.py)
MAINTENANCE = web.AppKey("maintenance", asyncio.Task[None])
# GraphQL over HTTP: the media type answered, and whether the request failed
# before execution (a request error: no `data` key)
MEDIA_TYPE = web.RequestKey("media_type", str)
REQUEST_ERROR = web.RequestKey("request_error", bool)
# where export files are, and the clock of their expiry (gateway/export_runner.py)
EXPORTS = web.AppKey("exports", ExportService)
# what the lean path (gateway/lean_path.py) leaves the view when it passes a
# request on, so that nothing it did is done again: the request's context (its
# session and credentials), the compiled executor's answer (None: it had none),
# and whether the document's limits read its variables' values
CONTEXT = web.RequestKey("context", Context)
COMPILED_ANSWER: web.RequestKey[ExecutionResult | None] = web.RequestKey("compiled_answer")
LIMITS_READ_VARIABLES = web.RequestKey("limits_read_variables", bool)
# a plain POST's query, variables and operation name, read by the lean path:
# the view runs them without reading the body again
SENT = web.RequestKey("sent", GraphQLRequestData)
