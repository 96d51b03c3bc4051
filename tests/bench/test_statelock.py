"""One bench run per state folder."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from bench import statelock

_TRY = (
    "import sys; from pathlib import Path; from bench import statelock; "
    "statelock.hold(Path(sys.argv[1]))"
)


def _other_run(state: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", _TRY, str(state)], capture_output=True, text=True, check=False
    )


def test_a_second_run_is_refused_while_the_first_holds_the_folder(tmp_path: Path) -> None:
    held = statelock.hold(tmp_path)
    try:
        refused = _other_run(tmp_path)
        assert refused.returncode != 0
        assert "another bench run" in refused.stderr
    finally:
        held.close()
    assert _other_run(tmp_path).returncode == 0
