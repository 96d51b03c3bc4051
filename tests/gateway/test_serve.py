"""`serve` as a user runs it: embedded database, demo token, signals, restart."""

from __future__ import annotations

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
from pathlib import Path
from typing import Any

import psutil
import pytest

from tests.support import VIEWER_QUERY, free_port

pytestmark = pytest.mark.embedded


class Server:
    """`python -m gateway serve` in a subprocess, its stdout read line by line."""

    def __init__(self, data_dir: Path, *args: str) -> None:
        self.port = free_port()
        clean = {
            k: v for k, v in os.environ.items() if not k.startswith(("DATABASE_URL", "GATEWAY_"))
        }
        self.process = subprocess.Popen(
            [sys.executable, "-m", "gateway", "serve", "--port", str(self.port), *args],
            env={**clean, "GATEWAY_DATA_DIR": str(data_dir)},
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        self.lines: list[str] = []
        # a thread, not select(): readline() buffers ahead, and select() on
        # the pipe cannot see lines already sitting in that buffer
        self._queue: queue.Queue[str | None] = queue.Queue()
        threading.Thread(target=self._pump, daemon=True).start()

    def _pump(self) -> None:
        assert self.process.stdout is not None
        for line in self.process.stdout:
            self._queue.put(line.rstrip("\n"))
        self._queue.put(None)

    def read_until(self, prefix: str, timeout: float = 90) -> str:
        """Read stdout until a line starts with `prefix`; returns that line."""
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

    def query(self, token: str) -> tuple[int, dict[str, Any]]:
        request = urllib.request.Request(
            f"http://127.0.0.1:{self.port}/graphql",
            data=json.dumps({"query": VIEWER_QUERY}).encode(),
            headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"},
        )
        try:
            with urllib.request.urlopen(request, timeout=10) as response:
                return response.status, json.loads(response.read())
        except urllib.error.HTTPError as error:
            return error.code, json.loads(error.read())

    def stop(self, signum: int) -> int:
        self.process.send_signal(signum)
        code = self.process.wait(timeout=60)
        while (line := self._queue.get(timeout=10)) is not None:
            self.lines.append(line)
        return code


def _postmaster_pid(data_dir: Path) -> int:
    return int((data_dir / "pgdata" / "postmaster.pid").read_text().splitlines()[0])


ADA = {
    "data": {
        "viewer": {
            "user": {"email": "ada@example.com", "name": "Ada Lovelace"},
            "scopes": ["*"],
            "superuser": False,
        }
    }
}


def test_serve_demo_then_sigterm_then_restart_keeps_data(tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    first = Server(data_dir, "--demo")
    try:
        banner = first.read_until("envgraph serving")
        assert banner == (
            f"envgraph serving http://127.0.0.1:{first.port}/graphql "
            f"(database: embedded, {data_dir}; 1 worker)"
        )
        first.read_until("demo token for ada@example.com")
        token = first.read_until("egt_")
        assert first.query(token) == (200, ADA)
        postmaster = _postmaster_pid(data_dir)
        assert psutil.pid_exists(postmaster)
        assert first.stop(signal.SIGTERM) == 0
        assert first.lines[-1] == "envgraph stopped"
        # the embedded server went down with the service
        assert not psutil.pid_exists(postmaster)
    finally:
        first.process.kill()

    second = Server(data_dir)
    try:
        second.read_until("envgraph serving")
        assert not any(line.startswith("demo token") for line in second.lines)
        # the token issued before the restart is still in the database
        assert second.query(token) == (200, ADA)
        assert second.query(token[:-1] + "x")[0] == 401
        postmaster = _postmaster_pid(data_dir)
        assert second.stop(signal.SIGINT) == 0
        assert not psutil.pid_exists(postmaster)
    finally:
        second.process.kill()
