"""The embedded PostgreSQL server under what really happens to it: restarts,
stale pid files, pids reused by other programs, orphans of killed parents."""

from __future__ import annotations

import asyncio
import os
import pwd
import signal
import subprocess
import sys
import textwrap
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import quote

import asyncpg
import psutil
import pytest

from db.embedded import SYSTEM_USER, EmbeddedPostgres, EmbeddedPostgresError

pytestmark = pytest.mark.embedded

# A process that starts the server on argv[1], prints the postmaster pid and
# then waits to be killed, without ever stopping the server.
_CHILD = textwrap.dedent(
    """
    import sys, time
    from pathlib import Path
    from db.embedded import EmbeddedPostgres
    EmbeddedPostgres(Path(sys.argv[1])).start()
    print(Path(sys.argv[1], "pgdata", "postmaster.pid").read_text().split()[0], flush=True)
    time.sleep(600)
    """
)


def _query(url: str, sql: str) -> object:
    async def run() -> object:
        conn = await asyncpg.connect(url)
        try:
            return await conn.fetchval(sql)
        finally:
            await conn.close()

    return asyncio.run(run())


def _pid_file(data_dir: Path) -> Path:
    return data_dir / "pgdata" / "postmaster.pid"


def _postmaster(data_dir: Path) -> int:
    return int(_pid_file(data_dir).read_text().split()[0])


def _exited(pid: int) -> bool:
    """Whether the process has exited (a zombie, not yet reaped by init, has)."""
    try:
        return psutil.Process(pid).status() == psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return True


def _is_postgres(pid: int) -> bool:
    try:
        return psutil.Process(pid).name() == "postgres"
    except psutil.NoSuchProcess:
        return False


@pytest.fixture
def data_dir(open_tmp: Path) -> Iterator[Path]:
    """A data folder whose server, if a test leaves one running, is quit afterwards."""
    folder = open_tmp / "data"
    yield folder
    for process in psutil.process_iter(["name"]):
        try:
            if process.info["name"] == "postgres" and Path(process.cwd()) == folder / "pgdata":
                process.send_signal(signal.SIGQUIT)
        except (psutil.NoSuchProcess, psutil.AccessDenied):
            continue


def _stopped_with_pid_file(data_dir: Path, pid: int) -> None:
    """Start and stop the server, then leave a realistic pid file naming `pid`."""
    server = EmbeddedPostgres(data_dir)
    server.start()
    lines = _pid_file(data_dir).read_text().splitlines()
    server.stop()
    assert not _pid_file(data_dir).exists()
    _pid_file(data_dir).write_text("\n".join([str(pid), *lines[1:]]) + "\n")


def test_start_stop_restart_keeps_data(data_dir: Path) -> None:
    server = EmbeddedPostgres(data_dir)
    url = server.start()
    assert url == f"postgresql://postgres@/envgraph?host={data_dir / 'pgdata'}&port=5432"
    assert _query(url, "SELECT current_database()") == "envgraph"
    _query(url, "CREATE TABLE kept AS SELECT 42 AS answer")
    postmaster = _postmaster(data_dir)
    server.stop()
    assert _exited(postmaster)
    server.stop()  # idempotent

    again = EmbeddedPostgres(data_dir)
    url = again.start()
    try:
        assert _query(url, "SELECT answer FROM kept") == 42
    finally:
        again.stop()


def test_stale_pid_file_of_a_dead_server(data_dir: Path) -> None:
    dead = subprocess.Popen(["true"])
    dead.wait()
    _stopped_with_pid_file(data_dir, dead.pid)
    with EmbeddedPostgres(data_dir) as server:
        assert _query(server.url, "SELECT 1") == 1
        assert _postmaster(data_dir) != dead.pid


def _as_server_user() -> dict[str, Any]:
    """Popen arguments that run a process as the user the server runs as."""
    if os.geteuid() != 0:
        return {}
    entry = pwd.getpwnam(SYSTEM_USER)
    return {"user": entry.pw_uid, "group": entry.pw_gid, "extra_groups": []}


def test_pid_file_naming_an_unrelated_live_process(data_dir: Path) -> None:
    # the bystander runs as the server's user: PostgreSQL itself would then
    # see a live process behind the pid file and refuse to start (a process it
    # may not signal, it takes for stale)
    bystander = subprocess.Popen(["sleep", "60"], **_as_server_user())
    try:
        _stopped_with_pid_file(data_dir, bystander.pid)
        with EmbeddedPostgres(data_dir) as server:
            assert _query(server.url, "SELECT 1") == 1
            assert _postmaster(data_dir) != bystander.pid
        # never signalled: still running, as it was
        assert bystander.poll() is None
        assert psutil.Process(bystander.pid).status() != psutil.STATUS_ZOMBIE
    finally:
        bystander.kill()
        bystander.wait()


def _wait_until_no_server(data_dir: Path) -> None:
    """Wait for the postmaster and all its children of this cluster to be gone."""
    for _ in range(300):
        alive = []
        for process in psutil.process_iter(["name"]):
            try:
                if process.info["name"] == "postgres" and Path(process.cwd()) == (
                    data_dir / "pgdata"
                ):
                    alive.append(process.pid)
            except (psutil.NoSuchProcess, psutil.AccessDenied):
                continue
        if not alive:
            return
        time.sleep(0.1)
    raise AssertionError(f"postgres processes {alive} outlived their killed postmaster")


def test_a_killed_server_whose_pid_was_reused(data_dir: Path) -> None:
    server = EmbeddedPostgres(data_dir)
    server.start()
    os.kill(_postmaster(data_dir), signal.SIGKILL)  # e.g. the OOM killer
    _wait_until_no_server(data_dir)
    server.stop()  # nothing to stop: releases our claim only
    # the dead postmaster's pid now runs something else of the server's user;
    # the crash left both lock files naming it, and PostgreSQL checks both
    bystander = subprocess.Popen(["sleep", "60"], **_as_server_user())
    try:
        for name in ("postmaster.pid", ".s.PGSQL.5432.lock"):
            lock = data_dir / "pgdata" / name
            lines = lock.read_text().splitlines()
            lock.write_text("\n".join([str(bystander.pid), *lines[1:]]) + "\n")
        with EmbeddedPostgres(data_dir) as again:
            assert _query(again.url, "SELECT 1") == 1
            assert _postmaster(data_dir) != bystander.pid
        assert bystander.poll() is None  # never signalled
    finally:
        bystander.kill()
        bystander.wait()


def test_a_data_path_with_spaces_and_ampersand(open_tmp: Path) -> None:
    # pg_ctl hands -o to a shell, and the folder lands in the URL's query
    data_dir = open_tmp / "a b&c"
    with EmbeddedPostgres(data_dir) as server:
        assert server.url.endswith("?host=" + quote(str(data_dir / "pgdata")) + "&port=5432")
        assert _query(server.url, "SELECT current_database()") == "envgraph"


def test_orphan_of_a_killed_parent_is_adopted_then_stopped(data_dir: Path) -> None:
    parent = subprocess.Popen(
        [sys.executable, "-c", _CHILD, str(data_dir)],
        stdout=subprocess.PIPE,
        text=True,
        cwd=Path(__file__).parents[2],
    )
    assert parent.stdout is not None
    orphan = int(parent.stdout.readline())
    parent.send_signal(signal.SIGKILL)
    parent.wait()
    assert _is_postgres(orphan)  # the server outlived its parent

    server = EmbeddedPostgres(data_dir)
    url = server.start()
    assert _postmaster(data_dir) == orphan  # adopted, not restarted
    assert _query(url, "SELECT 1") == 1
    server.stop()  # the killed parent holds no claim any more: we were the last user
    assert _exited(orphan)


def test_the_last_of_two_users_stops_the_server(data_dir: Path) -> None:
    first, second = EmbeddedPostgres(data_dir), EmbeddedPostgres(data_dir)
    first.start()
    url = second.start()
    postmaster = _postmaster(data_dir)
    first.stop()
    assert _query(url, "SELECT 1") == 1  # still serving the second user
    second.stop()
    assert _exited(postmaster)


def test_a_folder_that_is_not_a_cluster_is_refused(data_dir: Path) -> None:
    (data_dir / "pgdata").mkdir(parents=True)
    (data_dir / "pgdata" / "notes.txt").write_text("mine")
    with pytest.raises(EmbeddedPostgresError, match="is not empty but holds no PostgreSQL cluster"):
        EmbeddedPostgres(data_dir).start()
    assert (data_dir / "pgdata" / "notes.txt").read_text() == "mine"


def test_a_long_data_path_puts_the_socket_elsewhere(open_tmp: Path) -> None:
    deep = open_tmp.joinpath(*["deeply-nested-folder"] * 5, "data")
    with EmbeddedPostgres(deep) as server:
        assert "envgraph-pg-" in server.url
        assert _query(server.url, "SELECT 1") == 1


@pytest.mark.skipif(os.geteuid() != 0, reason="only root runs the server as another user")
def test_as_root_the_server_runs_as_a_system_user(data_dir: Path) -> None:
    with EmbeddedPostgres(data_dir):
        assert psutil.Process(_postmaster(data_dir)).username() == "embedded_postgres"
