"""Serving: N worker processes on one port, managed by gunicorn's arbiter.

The arbiter binds the port, forks the workers (each one builds its own app,
pool and event loop after the fork: they share nothing but PostgreSQL),
restarts a worker that dies, and on SIGTERM stops accepting, lets every
worker finish its in-flight requests within the shutdown timeout, then
exits. One worker is the same machinery with N = 1, so there is one way of
serving, not two.
"""

from __future__ import annotations

import logging
import os
import shutil
import sys
import tempfile
from collections.abc import Awaitable, Callable
from typing import Any

from aiohttp import web
from gunicorn import glogging
from gunicorn.app.base import BaseApplication

from gateway.interpreter import tune_interpreter
from gateway.metrics import forget_process, share_between_processes
from gateway.settings import Settings

# aiohttp's own default; gunicorn's (2 s) would make load balancers and
# benchmark tools reconnect all the time
KEEPALIVE_S = 75


class _Logs(glogging.Logger):  # type: ignore[misc]
    """gunicorn's messages through the process's handlers, in its format."""

    def setup(self, cfg: Any) -> None:
        super().setup(cfg)
        for log in (self.error_log, self.access_log):
            log.handlers.clear()
            log.propagate = True


class _Service(BaseApplication):  # type: ignore[misc]
    def __init__(
        self, options: dict[str, Any], runner: Callable[[], Awaitable[web.AppRunner]]
    ) -> None:
        self._options = options
        self._runner = runner
        super().__init__()

    def load_config(self) -> None:
        for name, value in self._options.items():
            self.cfg.set(name, value)

    def load(self) -> Callable[[], Awaitable[web.AppRunner]]:
        # called in each worker after the fork
        return self._runner


def serve(
    settings: Settings,
    make_app: Callable[[], web.Application],
    *,
    host: str,
    port: int,
    announce: Callable[[], None],
) -> int:
    """Serve until SIGTERM or SIGINT; `announce` runs once the port is bound.
    Returns the exit status (0 after a requested stop)."""
    shutdown_s = settings.shutdown_timeout_s
    # the workers' metrics, summed by whichever of them answers a scrape
    metrics_dir = tempfile.mkdtemp(prefix="envgraph-metrics-")

    async def runner() -> web.AppRunner:
        share_between_processes(metrics_dir)
        app = make_app()
        tune_interpreter()  # once the app's long-lived objects exist
        return web.AppRunner(
            app,
            # a client that goes away cancels its request, which gives its
            # connection back to the pool at once
            handler_cancellation=True,
            access_log=None,
            keepalive_timeout=KEEPALIVE_S,
            # leave the arbiter a margin to see the worker exit by itself
            shutdown_timeout=shutdown_s * 0.95,
        )

    options = {
        "bind": [f"[{host}]:{port}" if ":" in host else f"{host}:{port}"],
        "workers": settings.workers,
        "worker_class": "aiohttp.worker.GunicornUVLoopWebWorker",
        "graceful_timeout": shutdown_s,
        "keepalive": KEEPALIVE_S,
        "logger_class": _Logs,
        "loglevel": logging.getLevelName(logging.getLogger().level).lower(),
        "proc_name": "envgraph",
        "control_socket_disable": True,
        "when_ready": lambda _arbiter: announce(),
        "child_exit": lambda _arbiter, worker: forget_process(worker.pid, metrics_dir),
    }
    master = os.getpid()
    try:
        _Service(options, runner).run()
    except SystemExit as stop:  # how the arbiter ends, also after SIGTERM
        code = stop.code if isinstance(stop.code, int) else 1
        if os.getpid() != master:
            # a worker is a fork of this very call stack: unwinding it would run
            # the master's clean-up (stopping the database) in the worker
            sys.stdout.flush()
            os._exit(code)
        return code
    finally:
        if os.getpid() == master:
            shutil.rmtree(metrics_dir, ignore_errors=True)
    return 0
