"""What the parts of the process that deal with export files share: where the
files are, and the time (which tests move forward instead of waiting)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

Clock = Callable[[], datetime]


def utc_now() -> datetime:
    """The current time, in UTC."""
    return datetime.now(UTC)


@dataclass(frozen=True, slots=True)
class ExportService:
    """Where export files are, and the clock that decides their expiry."""

    directory: Path
    clock: Clock = utc_now
