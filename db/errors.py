"""Domain errors: what the layers above see instead of driver exceptions.

Each class's docstring is its default message; `code` is the error code of
the public contract (API.md, Errors), so that every layer names a failure the
same way.
"""

from __future__ import annotations

from typing import ClassVar


class DomainError(Exception):
    """Internal server error."""

    code: ClassVar[str] = "INTERNAL_SERVER_ERROR"

    def __init__(self, message: str | None = None, *, field: str | None = None) -> None:
        super().__init__(message or (self.__doc__ or "").strip())
        self.message = str(self)
        self.field = field

    def for_log(self) -> str:
        """The error as the server's log says it."""
        return self.message


class BadInput(DomainError):
    """Bad input."""

    code = "BAD_USER_INPUT"


class NotFound(DomainError):
    """Not found."""

    code = "NOT_FOUND"


class Conflict(DomainError):
    """Conflict with the current state."""

    code = "CONFLICT"


class Forbidden(DomainError):
    """Not allowed."""

    code = "FORBIDDEN"


class Unavailable(DomainError):
    """The database is unavailable; try again shortly."""

    code = "SERVICE_UNAVAILABLE"

    def __init__(self, message: str | None = None, *, reason: str = "") -> None:
        super().__init__(message)
        # what the driver said (no pooled connection in time, a refused
        # connection, a server shutting down): for the server's log only,
        # since the client is told no more than the message
        self.reason = reason

    def for_log(self) -> str:
        return f"{self.message} ({self.reason})" if self.reason else self.message


class Timeout(DomainError):
    """The database took too long to answer (statement timeout)."""

    code = "TIMEOUT"


class MigrationError(DomainError):
    """The database schema does not match this code's migrations."""


class TooComplex(DomainError):
    """The query is too complex."""

    code = "QUERY_TOO_COMPLEX"
