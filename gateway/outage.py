"""What callers are told while the database is away."""

from __future__ import annotations

from db.session import DATABASE_DOWN

__all__ = ["DATABASE_DOWN", "RETRY_AFTER_S"]

RETRY_AFTER_S = "5"
