"""The noise figure: CPU used outside the benchmark while a figure is taken.

On a shared 2-core machine other work (test suites of other people) competes
with the system under test; a figure taken while, say, 0.8 cores went
elsewhere is worth less, and the report says so next to it. Ours are: this
process and its descendants (servers, their workers, wrk), the cluster's
processes (its OS user) and kernel threads.
"""

from __future__ import annotations

import os
import time
from dataclasses import dataclass

import psutil

_TICK = os.sysconf("SC_CLK_TCK")
_KERNEL = ("kworker", "ksoftirqd", "rcu_", "migration", "kthreadd", "kcompactd")


def _ticks(pid: int) -> tuple[int, str] | None:
    try:
        with open(f"/proc/{pid}/stat") as f:
            stat = f.read()
    except OSError:
        return None
    close = stat.rfind(")")
    fields = stat[close + 2 :].split()
    return int(fields[11]) + int(fields[12]), stat[stat.find("(") + 1 : close]


@dataclass
class NoiseMeter:
    """Foreign CPU between `start()` and `stop()`, in cores."""

    cluster_uid: int | None
    _before: dict[int, int] | None = None
    _ours: set[int] | None = None
    _started: float = 0.0

    def _our_pids(self) -> set[int]:
        me = psutil.Process()
        pids = {me.pid} | {p.pid for p in me.children(recursive=True)}
        if self.cluster_uid is not None:
            for proc in psutil.process_iter(["uids"]):
                uids = proc.info["uids"]
                if uids is not None and uids.real == self.cluster_uid:
                    pids.add(proc.pid)
        return pids

    def _foreign(self, ours: set[int]) -> dict[int, int]:
        out = {}
        for entry in os.listdir("/proc"):
            if not entry.isdigit() or int(entry) in ours:
                continue
            found = _ticks(int(entry))
            if found is not None and not found[1].startswith(_KERNEL):
                out[int(entry)] = found[0]
        return out

    def start(self) -> None:
        """Take the first snapshot."""
        self._ours = self._our_pids()
        self._before = self._foreign(self._ours)
        self._started = time.monotonic()

    def stop(self) -> float:
        """Cores used outside the benchmark since `start()`."""
        assert self._before is not None, "start() first"
        assert self._ours is not None, "start() first"
        elapsed = max(time.monotonic() - self._started, 1e-6)
        ours = self._ours | self._our_pids()  # processes born during the run
        after = self._foreign(ours)
        used = sum(max(t - self._before.get(pid, 0), 0) for pid, t in after.items())
        return used / _TICK / elapsed
