"""The interpreter's settings for a serving worker, where one event loop shares
the GIL with the worker thread of gateway/off_loop.py and a garbage collection
stops both. Measured with tests/gateway/test_noisy_neighbour.py (a neighbour's
p50 and p99 while another client sends the worst accepted documents):

- the GIL switch interval, 5 ms by default, is how long the loop may wait for
  the GIL each time it wakes while the worker thread runs: 1 ms took the
  neighbour's loaded p50 from ~30 ms to ~9 ms;
- graphql-core's validation leaves thousands of objects in reference cycles
  per document, so collections run often, and a full one walked every object
  the app made at startup too: 20-30 collections of 100-480 ms in 16 s. The
  startup objects are frozen out of the collector's walk, and the youngest
  generation collected after 20,000 allocations rather than 700, so that a
  document's garbage mostly dies young, before it reaches the older
  generations whose collections walk the caches too.
"""

from __future__ import annotations

import gc
import sys

SWITCH_INTERVAL_S = 0.001
GC_THRESHOLDS = (20_000, 10, 10)


def tune_interpreter() -> None:
    """Set the switch interval and the collector's thresholds, and freeze what
    exists now (the app, its schema, the imported modules) out of collections."""
    sys.setswitchinterval(SWITCH_INTERVAL_S)
    gc.collect()
    gc.freeze()
    gc.set_threshold(*GC_THRESHOLDS)
