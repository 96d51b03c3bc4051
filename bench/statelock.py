"""One run per state folder: two runs would share the cluster, the ports and
the databases (one rebuilding what the other measures)."""

from __future__ import annotations

import fcntl
import os
from pathlib import Path
from typing import IO


class StateBusy(Exception):
    """Another run holds the state folder."""


def hold(state_dir: Path) -> IO[str]:
    """Lock `state_dir` for this process (the kernel frees it when the process ends);
    StateBusy when another run holds it. Keep the returned file open."""
    state_dir.mkdir(parents=True, exist_ok=True)
    lock = (state_dir / "run.lock").open("a+")
    try:
        fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        lock.seek(0)
        holder = lock.read().strip() or "?"
        lock.close()
        raise StateBusy(
            f"another bench run (pid {holder}) uses {state_dir}: wait for it, "
            "or give this one its own --state-dir and --port"
        ) from None
    lock.truncate(0)
    lock.write(str(os.getpid()))
    lock.flush()
    return lock
