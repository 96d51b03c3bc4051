"""Peak resident memory of a server: its process plus every descendant (the
workers of a multi-process server), sampled in a background thread."""

from __future__ import annotations

import contextlib
import threading

import psutil

_INTERVAL_S = 0.2


class PeakRss:
    """Samples the process tree of `pid` until `close()`; `take()` returns the
    peak since the previous `take()` (in bytes) and starts a new window."""

    def __init__(self, pid: int) -> None:
        self._root = psutil.Process(pid)
        self._peak = 0
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._sample, daemon=True)
        self._thread.start()

    def _tree_rss(self) -> int:
        try:
            procs = [self._root, *self._root.children(recursive=True)]
        except psutil.Error:
            return 0
        total = 0
        for proc in procs:
            with contextlib.suppress(psutil.Error):
                total += proc.memory_info().rss
        return total

    def _sample(self) -> None:
        while not self._stop.wait(_INTERVAL_S):
            rss = self._tree_rss()
            with self._lock:
                self._peak = max(self._peak, rss)

    def take(self) -> int:
        """The peak since the last call, in bytes."""
        rss = self._tree_rss()
        with self._lock:
            peak, self._peak = max(self._peak, rss), 0
        return peak

    def close(self) -> None:
        """Stop sampling."""
        self._stop.set()
        self._thread.join()
