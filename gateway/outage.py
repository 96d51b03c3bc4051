"""What callers are told while the database is away."""

from __future__ import annotations

# seconds a client should wait before trying again (HTTP Retry-After)
RETRY_AFTER_S = "5"
