"""`serve` as a user runs it: embedded database, demo token, signals, restart."""

from __future__ import annotations

import signal
from pathlib import Path

import psutil
import pytest

from tests.service import Service

pytestmark = pytest.mark.embedded


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
    first = Service("--demo", env={"GATEWAY_DATA_DIR": str(data_dir)})
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

    second = Service(env={"GATEWAY_DATA_DIR": str(data_dir)})
    try:
        second.read_until("envgraph serving")
        assert not any(line.startswith("demo token") for line in second.lines)
        # the token issued before the restart is still in the database
        assert second.query(token) == (200, ADA)
        # another last character (the same one would be the same token: this
        # failed once in 62 runs when the token happened to end in the one chosen)
        other = "y" if token.endswith("x") else "x"
        assert second.query(token[:-1] + other)[0] == 401
        postmaster = _postmaster_pid(data_dir)
        assert second.stop(signal.SIGINT) == 0
        assert not psutil.pid_exists(postmaster)
    finally:
        second.process.kill()
