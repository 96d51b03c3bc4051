"""Users: the people behind tokens."""

from __future__ import annotations

import re
from dataclasses import dataclass
from uuid import UUID

import asyncpg

from db.errors import BadInput, Conflict, NotFound
from db.pool import Connection
from db.queries import QUERIES

_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+$")


@dataclass(frozen=True, slots=True)
class NewUser:
    """A user as created."""

    id: UUID
    email: str
    name: str


def validated_user(email: str, name: str) -> tuple[str, str]:
    """The e-mail and name stripped, or BAD_USER_INPUT saying what is wrong."""
    email, name = email.strip(), name.strip()
    if not _EMAIL.match(email) or len(email) > 320:
        raise BadInput(f"not an e-mail address: {email!r}", field="email")
    if not 1 <= len(name) <= 200:
        raise BadInput("a name has 1 to 200 characters", field="name")
    return email, name


async def create_user(conn: Connection, *, email: str, name: str) -> NewUser:
    """Create a user; an e-mail already taken (in any letter case) is a conflict."""
    email, name = validated_user(email, name)
    try:
        row = await conn.fetchrow(QUERIES["create_user"], email, name)
    except asyncpg.UniqueViolationError:
        raise Conflict(f"a user with e-mail {email} already exists", field="email") from None
    assert row is not None
    return NewUser(row["id"], row["email"], row["name"])


async def user_id_by_email(conn: Connection, email: str) -> UUID:
    """The id of the user with this e-mail (any letter case)."""
    user_id: UUID | None = await conn.fetchval(QUERIES["user_id_by_email"], email.strip())
    if user_id is None:
        raise NotFound(f"no user with e-mail {email.strip()}", field="email")
    return user_id
