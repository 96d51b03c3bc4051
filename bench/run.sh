#!/usr/bin/env bash
# The whole benchmark in one command, on a fresh machine too: a virtualenv
# with envgraph and the bench extra (matplotlib), then `python -m bench run`.
# Everything it installs or writes besides bench/RESULTS.md and
# bench/results.png goes to the state folder (default /tmp/envgraph-bench).
# Usage: bench/run.sh [--quick] [--state-dir DIR] [--systems a,b] [--scenarios x,y] ...
set -euo pipefail
cd "$(dirname "$0")/.."
if [ ! -x .venv/bin/python ]; then
  python3 -m venv .venv
fi
.venv/bin/python -m pip install --quiet -e ".[bench]"
exec .venv/bin/python -m bench run "$@"
