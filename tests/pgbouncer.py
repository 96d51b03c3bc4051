"""Debian's PgBouncer in transaction mode, in front of the tests' PostgreSQL.

`TEST_POOLER=pgbouncer` makes the tests' service reach its database through
one (tests/conftest.py), which is how CI runs the mutation and read corpus
behind a transaction-mode pooler; tests/gateway/test_pgbouncer.py starts one
of its own.
"""

from __future__ import annotations

import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import time
from pathlib import Path
from types import TracebackType
from urllib.parse import unquote, urlsplit, urlunsplit

from db.embedded import SYSTEM_USER
from tests.support import free_port, require

_START_TIMEOUT_S = 10.0


def require_pgbouncer() -> str:
    """The `pgbouncer` executable (Debian's package)."""
    found = shutil.which("pgbouncer") or (
        "/usr/sbin/pgbouncer" if os.path.exists("/usr/sbin/pgbouncer") else None
    )
    require(found is not None, "PgBouncer", "apt-get install pgbouncer")
    assert found is not None
    return found


def _exists(user: str) -> bool:
    try:
        pwd.getpwnam(user)
    except KeyError:
        return False
    return True


class PgBouncer:
    """A PgBouncer process in transaction mode for every database of `server_url`."""

    def __init__(self, server_url: str, *, pool_size: int = 20) -> None:
        self.server_url = server_url
        self.port = free_port()
        self.pool_size = pool_size
        self._dir = Path(tempfile.mkdtemp(prefix="envgraph-pgbouncer-"))
        self._process: subprocess.Popen[bytes] | None = None

    def url(self, database_url: str) -> str:
        """`database_url` (a database on the server) reached through the pooler."""
        parts = urlsplit(database_url)
        user = unquote(parts.username or "postgres")
        return urlunsplit(parts._replace(netloc=f"{user}@127.0.0.1:{self.port}", query=""))

    def _config(self) -> str:
        parts = urlsplit(self.server_url)
        query = dict(p.split("=", 1) for p in parts.query.split("&") if "=" in p)
        # the embedded server listens on a socket directory given as ?host=
        host = unquote(query.get("host") or parts.hostname or "127.0.0.1")
        port = query.get("port") or parts.port or 5432
        user = unquote(parts.username or "postgres")
        (self._dir / "users.txt").write_text(f'"{user}" ""\n')
        return "\n".join(
            [
                "[databases]",
                f"* = host={host} port={port}",
                "[pgbouncer]",
                "listen_addr = 127.0.0.1",
                f"listen_port = {self.port}",
                "unix_socket_dir =",
                "auth_type = trust",
                f"auth_file = {self._dir / 'users.txt'}",
                "pool_mode = transaction",
                f"default_pool_size = {self.pool_size}",
                "max_client_conn = 2000",
                # asyncpg sends it; a transaction-mode pooler cannot keep it per client
                "ignore_startup_parameters = extra_float_digits",
                "server_check_delay = 0",
                "",
            ]
        )

    def __enter__(self) -> PgBouncer:
        program = require_pgbouncer()
        config = self._dir / "pgbouncer.ini"
        config.write_text(self._config())
        self._dir.chmod(0o755)
        for path in self._dir.iterdir():
            path.chmod(0o644)
        extra: dict[str, object] = {}
        if os.geteuid() == 0:
            # PgBouncer refuses to run as root: the embedded server's user (which
            # may enter its socket's folder) where there is one, else nobody
            user = SYSTEM_USER if _exists(SYSTEM_USER) else "nobody"
            entry = pwd.getpwnam(user)
            extra = {"user": entry.pw_uid, "group": entry.pw_gid, "extra_groups": []}
        self._process = subprocess.Popen(
            [program, "-q", str(config)],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            **extra,  # type: ignore[call-overload]
        )
        deadline = time.monotonic() + _START_TIMEOUT_S
        while time.monotonic() < deadline:
            if self._process.poll() is not None:
                assert self._process.stderr is not None
                raise RuntimeError(f"pgbouncer exited: {self._process.stderr.read().decode()}")
            with socket.socket() as sock:
                if sock.connect_ex(("127.0.0.1", self.port)) == 0:
                    return self
            time.sleep(0.05)
        self.__exit__(None, None, None)
        raise RuntimeError("pgbouncer did not listen in time")

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        if self._process is not None:
            self._process.terminate()
            try:
                self._process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self._process.kill()
                self._process.wait()
            if self._process.stderr is not None:
                self._process.stderr.close()
        shutil.rmtree(self._dir, ignore_errors=True)
