"""What every resolver gets: one fresh value per request."""

from __future__ import annotations

from dataclasses import dataclass

import asyncpg

from db.viewer import Viewer


@dataclass(slots=True)
class Context:
    """Per-request state (never shared between requests)."""

    request_id: str
    pool: asyncpg.Pool
    viewer: Viewer | None
