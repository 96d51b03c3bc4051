"""What a database outage looks like from here, and what callers are told."""

from __future__ import annotations

import asyncpg

# Refused or broken connections, timeouts, a server shutting down: the
# database is not there, which is not the request's fault.
DATABASE_DOWN = (
    OSError,
    TimeoutError,
    asyncpg.InterfaceError,
    asyncpg.CannotConnectNowError,
    asyncpg.AdminShutdownError,
)
RETRY_AFTER_S = "5"
