"""The systems under test, each started on its own, on a given database.

Every system gets the same pool size (connections to PostgreSQL in total:
envgraph with N workers gets pool/N per worker) and runs on 127.0.0.1.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path

import psutil

from bench.peers import Peers
from bench.scenarios import is_raw

_REPO = Path(__file__).resolve().parent.parent
_V5_CONFIG = Path(__file__).with_name("postgraphile") / "graphile.config.mjs"
_START_TIMEOUT_S = 90


@dataclass(frozen=True, slots=True)
class System:
    """One column of the report."""

    name: str
    label: str
    family: str  # the folder of its queries
    port: int
    workers: int = 1
    compiled: bool = True  # envgraph: compiled reads on (its default)

    @property
    def url(self) -> str:
        """Its GraphQL endpoint."""
        return f"http://127.0.0.1:{self.port}/graphql"

    @property
    def needs_token(self) -> bool:
        """Only envgraph checks a bearer token; the peers run without auth."""
        return self.family == "envgraph"


SYSTEMS = (
    System("envgraph-1w", "envgraph, 1 worker", "envgraph", 5410),
    System("envgraph-2w", "envgraph, 2 workers", "envgraph", 5411, workers=2),
    # the other executor, for the two side by side
    System(
        "envgraph-resolvers",
        "envgraph, resolvers only, 1 worker",
        "envgraph",
        5412,
        compiled=False,
    ),
    System("postgraphile-v4", "PostGraphile v4", "postgraphile-v4", 5400),
    System("postgraphile-v5", "PostGraphile v5", "postgraphile-v5", 5401),
    System("raw", "raw asyncpg bound", "raw", 5402),
    System("raw-exact", "raw asyncpg bound, envgraph's bytes", "raw-exact", 5403),
)


def envgraph_has_workers() -> bool:
    """Whether `serve` takes --workers (being added on main)."""
    done = subprocess.run(
        [sys.executable, "-m", "gateway", "serve", "--help"],
        cwd=_REPO,
        capture_output=True,
        text=True,
        check=False,
    )
    return "--workers" in done.stdout


def unavailable(system: System) -> str | None:
    """Why the system cannot run here (None: it can)."""
    if system.workers > 1 and not envgraph_has_workers():
        return "`python -m gateway serve --workers` does not exist yet on this branch"
    return None


def _command(
    system: System, database_url: str, pool: int, peers: Peers, extra: dict[str, str]
) -> tuple[list[str], dict[str, str], Path]:
    env = {**os.environ, "DATABASE_URL": database_url}
    if system.family == "envgraph":
        env |= {
            "GATEWAY_POOL_SIZE": str(max(pool // system.workers, 1)),
            # the nested scenario's Relay query (edges { node }) is 13 levels
            # deep; the default limit is 12
            "GATEWAY_MAX_QUERY_DEPTH": "16",
            # the peers have no time limits: neither has envgraph here
            "GATEWAY_STATEMENT_TIMEOUT_MS": "120000",
            "GATEWAY_POOL_TIMEOUT_MS": "120000",
            "GATEWAY_GRAPHIQL": "false",
            # a log line per request is what PostGraphile's --disable-query-log
            # turns off there: off here too
            "GATEWAY_LOG_LEVEL": "warning",
            "GATEWAY_COMPILED_READS": "true" if system.compiled else "false",
        } | extra
        command = [sys.executable, "-m", "gateway", "serve", "--port", str(system.port)]
        if system.workers > 1:
            command += ["--workers", str(system.workers)]
        return command, env, _REPO
    if system.family == "postgraphile-v4":
        env["NODE_ENV"] = "production"
        command = [
            peers.node20,
            "node_modules/postgraphile/cli.js",
            "-c",
            database_url,
            "--schema",
            "public",
            "--host",
            "127.0.0.1",
            "--port",
            str(system.port),
            "--max-pool-size",
            str(pool),
            "--disable-graphiql",
            "--disable-query-log",
            "--dynamic-json",
            "--no-setof-functions-contain-nulls",
            "--no-ignore-rbac",
            "--append-plugins",
            "postgraphile-plugin-connection-filter",
        ]
        return command, env, peers.v4_dir
    if system.family == "postgraphile-v5":
        # the config imports its presets: it must sit beside node_modules
        shutil.copy(_V5_CONFIG, peers.v5_dir / "graphile.config.mjs")
        env |= {
            "NODE_ENV": "production",
            "GRAPHILE_ENV": "production",
            "PORT": str(system.port),
            "PG_POOL_MAX": str(pool),
        }
        command = [
            str(peers.node22),
            "node_modules/postgraphile/dist/cli-run.js",
            "-C",
            "./graphile.config.mjs",
        ]
        return command, env, peers.v5_dir
    command = [
        sys.executable,
        "-m",
        "bench.rawserver",
        "--queries",
        system.family,
        "--port",
        str(system.port),
        "--pool",
        str(pool),
    ]
    return command, env, _REPO


def _ready(system: System) -> bool:
    if system.family == "envgraph":
        request = urllib.request.Request(f"http://127.0.0.1:{system.port}/readyz")
    elif is_raw(system.family):
        request = urllib.request.Request(f"http://127.0.0.1:{system.port}/healthz")
    else:
        request = urllib.request.Request(
            system.url,
            data=b'{"query":"{__typename}"}',
            headers={"Content-Type": "application/json"},
            method="POST",
        )
    try:
        with urllib.request.urlopen(request, timeout=2) as response:
            return bool(response.status == 200)
    except (urllib.error.URLError, OSError):
        return False


class Running:
    """A started system: its process group, stopped by `stop()`."""

    def __init__(
        self,
        system: System,
        database_url: str,
        pool: int,
        peers: Peers,
        log: Path,
        *,
        env: dict[str, str] | None = None,
    ) -> None:
        """Start it; `env`: settings of envgraph's own, over the bench's."""
        command, env, cwd = _command(system, database_url, pool, peers, env or {})
        log.parent.mkdir(parents=True, exist_ok=True)
        self.system = system
        self._log = log.open("ab")
        # a session of its own: stopping it reaches every worker it forked
        self.process = subprocess.Popen(
            command,
            cwd=cwd,
            env=env,
            stdout=self._log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        deadline = time.monotonic() + _START_TIMEOUT_S
        while not _ready(system):
            if self.process.poll() is not None or time.monotonic() > deadline:
                self.stop()
                raise RuntimeError(f"{system.label} did not start; see {log}")
            time.sleep(0.3)

    @property
    def pid(self) -> int:
        """The server's (main) process."""
        return self.process.pid

    def _cpu_seconds(self) -> float:
        try:
            root = psutil.Process(self.process.pid)
            procs = [root, *root.children(recursive=True)]
        except psutil.Error:
            return 0.0
        total = 0.0
        for proc in procs:
            try:
                times = proc.cpu_times()
                total += times.user + times.system
            except psutil.Error:
                pass
        return total

    def wait_idle(self, timeout_s: float = 180) -> float:
        """Wait until the server works no more (under 5% of a core over 0.5 s);
        the seconds waited. wrk stops with requests in flight, which a server
        goes on answering: the next run must not start on top of them."""
        started = time.monotonic()
        while time.monotonic() - started < timeout_s:
            before = self._cpu_seconds()
            time.sleep(0.5)
            if self._cpu_seconds() - before < 0.025:
                break
        return time.monotonic() - started

    def stop(self) -> None:
        """SIGTERM to the process group (workers too), SIGKILL after 15 s."""
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.process.pid, signal.SIGTERM)
        try:
            self.process.wait(15)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait()
        self._log.close()
