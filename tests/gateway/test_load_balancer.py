"""Two `serve` instances behind Debian's HAProxy, sharing nothing but
PostgreSQL: a bounded mixed load sees no 5xx and loses no write, and a token
revoked through one of them while both cache it for an hour is refused by
the other on the next request."""

from __future__ import annotations

import json
import shutil
import socket
import threading
import time
import urllib.error
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import asyncpg
from prometheus_client.parser import text_string_to_metric_families

from bench.balancer import HAPROXY, free_port, haproxy
from db.demo import seed_demo
from db.tokens import create_token
from schema.ids import global_id
from tests.service import Service
from tests.support import require

_CREATE = """mutation($org: ID!, $name: String!) {
  createProject(input: {organizationId: $org, name: $name}) { project { name } } }"""
_READ = "{ projects(first: 5) { totalCount nodes { name models { totalCount } } } }"


def _post(port: int, query: str, token: str, **variables: object) -> tuple[int, dict[str, object]]:
    request = urllib.request.Request(
        f"http://127.0.0.1:{port}/graphql",
        data=json.dumps({"query": query, "variables": variables}).encode(),
        headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"},
    )
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read())


def _echoed_id(port: int, token: str, request_id: str) -> str | None:
    """The X-Request-Id answered to a request that sent `request_id`."""
    request = urllib.request.Request(
        f"http://127.0.0.1:{port}/graphql",
        data=json.dumps({"query": "{ viewer { scopes } }"}).encode(),
        headers={
            "Authorization": f"Bearer {token}",
            "Content-Type": "application/json",
            "X-Request-Id": request_id,
        },
    )
    with urllib.request.urlopen(request, timeout=30) as response:
        echoed: str | None = response.headers.get("X-Request-Id")
        return echoed


def _answered(port: int) -> float:
    """GraphQL requests an instance has answered, from its /metrics."""
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=10) as response:
        text = response.read().decode()
    return sum(
        sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
        if sample.name == "envgraph_requests_total"
    )


def _wait_balanced(port: int, token: str) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1):
                pass
            if _post(port, "{ viewer { scopes } }", token)[0] == 200:
                return
        except (OSError, ValueError):
            pass
        time.sleep(0.1)
    raise AssertionError("the load balancer never answered")


async def test_two_instances_behind_haproxy(database_url: str, conn: asyncpg.Connection) -> None:
    await seed_demo(conn, 1)
    token = (await create_token(conn, email="ada@example.com", scopes=["*"])).token
    organization = await conn.fetchval(
        "SELECT o.id FROM organizations o JOIN organization_members m ON m.organization_id = o.id"
        " JOIN users u ON u.id = m.user_id WHERE u.email = 'ada@example.com' AND m.role = 'ADMIN'"
        " ORDER BY o.name LIMIT 1"
    )
    org = global_id("Organization", organization)
    before = await conn.fetchval("SELECT count(*) FROM projects")
    # tokens cached for an hour: only the broadcast can refuse a revoked one
    env = {"DATABASE_URL": database_url, "GATEWAY_AUTH_CACHE_S": "3600"}
    require(shutil.which(HAPROXY) is not None, "HAProxy", "apt-get install haproxy")
    with (
        Service("--workers", "1", env=env) as first,
        Service("--workers", "1", env=env) as second,
        haproxy([first.port, second.port]) as front,
    ):
        one, two = first.port, second.port
        first.ready()
        second.ready()
        _wait_balanced(front, token)

        def one_request(n: int) -> int:
            if n % 4 == 0:
                status, body = _post(front, _CREATE, token, org=org, name=f"lb-{n}")
            else:
                status, body = _post(front, _READ, token)
            assert "errors" not in body, body
            return status

        with ThreadPoolExecutor(16) as pool:
            statuses = list(pool.map(one_request, range(200)))
        assert statuses == [200] * 200
        # and both instances took their share
        assert all(_answered(port) >= 50 for port in (one, two)), [_answered(p) for p in (one, two)]
        # every write landed once
        assert await conn.fetchval("SELECT count(*) FROM projects") == before + 50
        names = await conn.fetch("SELECT name FROM projects WHERE name LIKE 'lb-%' ORDER BY name")
        assert sorted(r["name"] for r in names) == sorted(f"lb-{n}" for n in range(0, 200, 4))
        # the id a client (or the balancer) gives a request comes back from whichever
        # instance answered it, and names it in that instance's log
        ids = [_echoed_id(front, token, f"lb-trace-{n}") for n in range(4)]
        assert ids == [f"lb-trace-{n}" for n in range(4)]

        # both instances hold the token in their caches; revoked through one of them
        # (the token revokes itself), the other refuses it on the next request
        for port in (one, two, one, two):
            assert _post(port, "{ viewer { scopes } }", token)[0] == 200
        _, listed = _post(one, "{ viewer { apiTokens { nodes { id } } } }", token)
        token_id = listed["data"]["viewer"]["apiTokens"]["nodes"][0]["id"]  # type: ignore[index]
        revoke = "mutation($id: ID!) { revokeApiToken(input: {id: $id}) { apiToken { prefix } } }"
        assert _post(one, revoke, token, id=token_id)[0] == 200
        assert [_post(port, "{ viewer { scopes } }", token)[0] for port in (two, one)] == [
            401,
            401,
        ]


class _Ok(BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        self.send_response(200)
        self.send_header("Content-Length", "2")
        self.end_headers()
        self.wfile.write(b"ok")

    def log_message(self, *_: object) -> None:
        pass


def test_the_balancer_is_given_once_every_backend_is_up() -> None:
    """A backend that starts after the balancer is marked down by its first checks
    and takes no traffic until two checks pass: the balancer is only handed over
    once every backend is up (a test's traffic went 42 to one instance and 159 to
    the other when it was handed over at the first answer through it)."""
    port = free_port()
    started: list[ThreadingHTTPServer] = []

    def start_late() -> None:
        time.sleep(1)
        server = ThreadingHTTPServer(("127.0.0.1", port), _Ok)
        started.append(server)
        server.serve_forever()

    late = threading.Thread(target=start_late, daemon=True)
    late.start()
    try:
        with (
            haproxy([port]) as front,
            urllib.request.urlopen(f"http://127.0.0.1:{front}/readyz", timeout=10) as answer,
        ):
            assert (answer.status, answer.read()) == (200, b"ok")
    finally:
        late.join(timeout=5)
        for server in started:
            server.shutdown()
            server.server_close()
