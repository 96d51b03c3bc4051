"""`python -m gateway serve` in a subprocess, as a user or an operator runs it."""

from __future__ import annotations

import asyncio
import json
import os
import queue
import signal
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Awaitable, Callable
from typing import Any

import aiohttp
import asyncpg
import psutil

from tests.support import VIEWER_QUERY, free_port


class Service:
    """`serve` with the given arguments and environment (nothing of the test
    runner's own DATABASE_URL or GATEWAY_* leaks in); stdout and stderr are
    read line by line."""

    def __init__(self, *args: str, env: dict[str, str]) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        clean = {k: v for k, v in os.environ.items() if not k.startswith(("DATABASE_", "GATEWAY_"))}
        self.process = subprocess.Popen(
            [sys.executable, "-m", "gateway", "serve", "--port", str(self.port), *args],
            env={**clean, **env},
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        self.lines: list[str] = []
        # a thread, not select(): readline() buffers ahead, and select() on
        # the pipe cannot see lines already sitting in that buffer
        self._queue: queue.Queue[str | None] = queue.Queue()
        threading.Thread(target=self._pump, daemon=True).start()

    def __enter__(self) -> Service:
        return self

    def __exit__(self, *_: object) -> None:
        if self.process.poll() is None:
            for child in self.workers():
                child.kill()
            self.process.kill()
            self.process.wait(timeout=30)

    def _pump(self) -> None:
        assert self.process.stdout is not None
        for line in self.process.stdout:
            self._queue.put(line.rstrip("\n"))
        self._queue.put(None)

    def read_until(self, prefix: str, timeout: float = 90) -> str:
        """Read output until a line starts with `prefix`; returns that line."""
        deadline = time.monotonic() + timeout
        while (left := deadline - time.monotonic()) > 0:
            try:
                line = self._queue.get(timeout=left)
            except queue.Empty:
                break
            if line is None:
                break
            self.lines.append(line)
            if line.startswith(prefix):
                return line
        raise AssertionError(f"no line starting {prefix!r} in {self.lines}")

    def output(self) -> list[str]:
        """Every line written so far."""
        while True:
            try:
                line = self._queue.get_nowait()
            except queue.Empty:
                return self.lines
            if line is None:
                return self.lines
            self.lines.append(line)

    def ready(self, timeout: float = 90) -> Service:
        """Wait until the service answers /readyz with 200."""
        self.read_until("envgraph serving", timeout)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                with urllib.request.urlopen(f"{self.url}/readyz", timeout=5) as response:
                    if response.status == 200:
                        return self
            except (urllib.error.URLError, ConnectionError):
                pass
            time.sleep(0.1)
        raise AssertionError(f"not ready in {timeout} s: {self.lines}")

    def post(
        self,
        query: str,
        token: str,
        variables: dict[str, Any] | None = None,
        request_id: str | None = None,
    ) -> tuple[int, dict[str, Any]]:
        """POST one GraphQL request (a new connection); status and JSON body."""
        headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
        if request_id is not None:
            headers["X-Request-Id"] = request_id
        request = urllib.request.Request(
            f"{self.url}/graphql",
            data=json.dumps({"query": query, "variables": variables or {}}).encode(),
            headers=headers,
        )
        try:
            with urllib.request.urlopen(request, timeout=30) as response:
                return response.status, json.loads(response.read())
        except urllib.error.HTTPError as error:
            return error.code, json.loads(error.read())

    def query(self, token: str) -> tuple[int, dict[str, Any]]:
        """Who the token's user is."""
        return self.post(VIEWER_QUERY, token)

    def workers(self) -> list[psutil.Process]:
        """The processes serving the port (the arbiter's children)."""
        try:
            return psutil.Process(self.process.pid).children()
        except psutil.NoSuchProcess:
            return []

    def rss_bytes(self) -> int:
        """Resident memory of the whole service: arbiter and workers."""
        processes = [psutil.Process(self.process.pid), *self.workers()]
        return sum(p.memory_info().rss for p in processes)

    def stop(self, signum: int = signal.SIGTERM, timeout: float = 60) -> int:
        """Signal the service, wait for it to exit, read the rest of its output."""
        self.process.send_signal(signum)
        code = self.process.wait(timeout=timeout)
        while (line := self._queue.get(timeout=10)) is not None:
            self.lines.append(line)
        return code


async def post_async(
    http: aiohttp.ClientSession,
    service: Service,
    query: str,
    token: str,
    variables: dict[str, Any] | None = None,
) -> tuple[int, dict[str, Any]]:
    """POST one GraphQL request on a shared client session; status and JSON body."""
    async with http.post(
        f"{service.url}/graphql",
        json={"query": query, "variables": variables or {}},
        headers={"Authorization": f"Bearer {token}"},
    ) as response:
        body: dict[str, Any] = await response.json(content_type=None)
        return response.status, body


async def waiting_on_locks(conn: asyncpg.Connection) -> int:
    """How many backends of this database wait for a lock."""
    count: int = await conn.fetchval(
        "SELECT count(*) FROM pg_stat_activity"
        " WHERE datname = current_database() AND wait_event_type = 'Lock'"
    )
    return count


async def eventually(check: Callable[[], Awaitable[bool]], within_s: float = 20) -> None:
    """Wait until `check()` holds (polled every 50 ms)."""
    async with asyncio.timeout(within_s):
        while not await check():  # noqa: ASYNC110  (the state is another process's)
            await asyncio.sleep(0.05)
