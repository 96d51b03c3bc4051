"""The raw bound: an HTTP server that answers each scenario with ONE statement
whose result is the response JSON, built by PostgreSQL (`queries/raw/*.sql`, or
the folder `--queries` names: `raw-exact` answers envgraph's exact bytes).

No GraphQL, no auth, no Python objects per row: what is left is HTTP, one
round trip and the database's own work, which no gateway can go below. It is
driven by wrk like every other system; the body names the statement
(`{"query": "nested", "variables": {...}}`).

    python -m bench.rawserver --port 5402 --pool 16 [--queries raw-exact]
    (DATABASE_URL names the database)
"""

from __future__ import annotations

import argparse
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import asyncpg
from aiohttp import web

QUERIES = Path(__file__).with_name("queries") / "raw"


@dataclass(frozen=True, slots=True)
class Statement:
    """One scenario's SQL and the variables bound to $1, $2, … in order."""

    sql: str
    params: tuple[str, ...]


def load_statements(folder: Path = QUERIES) -> dict[str, Statement]:
    """Every `<scenario>.sql`; a `-- params: a, b` line names its variables."""
    statements = {}
    for path in sorted(folder.glob("*.sql")):
        text = path.read_text()
        params: tuple[str, ...] = ()
        for line in text.splitlines():
            if line.startswith("-- params:"):
                params = tuple(p.strip() for p in line.split(":", 1)[1].split(","))
        statements[path.stem] = Statement(text, params)
    return statements


_POOL = web.AppKey("pool", asyncpg.Pool)
_STATEMENTS = web.AppKey("statements", dict)


async def _no_reset(_: asyncpg.Connection) -> None:
    # asyncpg's default reset is one more round trip per checkout (advisory
    # unlock, CLOSE ALL, UNLISTEN, RESET ALL); these statements leave nothing
    # behind to reset, and the bound is one round trip
    return None


async def _graphql(request: web.Request) -> web.Response:
    body: dict[str, Any] = await request.json()
    statement: Statement = request.app[_STATEMENTS][body["query"]]
    variables = body.get("variables") or {}
    args = [variables[name] for name in statement.params]
    text: str = await request.app[_POOL].fetchval(statement.sql, *args)
    return web.Response(body=b'{"data":' + text.encode() + b"}", content_type="application/json")


async def _healthz(_: web.Request) -> web.Response:
    return web.Response(text="ok")


def create_app(dsn: str, pool_size: int, folder: Path = QUERIES) -> web.Application:
    """The aiohttp app serving the statements of `folder`, its pool opened on start."""
    app = web.Application(client_max_size=16 * 1024 * 1024)
    app[_STATEMENTS] = load_statements(folder)

    async def pool_context(app: web.Application) -> Any:
        app[_POOL] = await asyncpg.create_pool(
            dsn, min_size=pool_size, max_size=pool_size, reset=_no_reset
        )
        yield
        await app[_POOL].close()

    app.cleanup_ctx.append(pool_context)
    app.router.add_post("/graphql", _graphql)
    app.router.add_get("/healthz", _healthz)
    return app


def main() -> None:
    """Serve until SIGTERM/SIGINT."""
    parser = argparse.ArgumentParser(prog="python -m bench.rawserver")
    parser.add_argument("--port", type=int, default=5402)
    parser.add_argument("--pool", type=int, default=16)
    parser.add_argument("--queries", default="raw", help="its folder under bench/queries")
    args = parser.parse_args()
    app = create_app(os.environ["DATABASE_URL"], args.pool, QUERIES.parent / args.queries)
    web.run_app(app, host="127.0.0.1", port=args.port, print=None, access_log=None)


if __name__ == "__main__":
    main()
