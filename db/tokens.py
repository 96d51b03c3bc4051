"""API tokens: issued once in clear, stored as SHA-256, checked per request."""

from __future__ import annotations

import hashlib
import secrets
import string
from dataclasses import dataclass
from datetime import datetime, timedelta
from uuid import UUID

from db.errors import BadInput, NotFound
from db.pool import Connection, Queryable
from db.queries import QUERIES
from db.users import user_id_by_email
from db.viewer import KNOWN_SCOPES, Viewer

# A recognisable marker (like GitHub's `ghp_`), so that secret scanners and
# people can tell what leaked. The displayed prefix identifies a token for
# `revoke-token` without revealing enough of it to use.
TOKEN_MARK = "egt_"
_PREFIX_LENGTH = len(TOKEN_MARK) + 8
# what PostgreSQL NOTIFYs as a token change commits (migration 0003_token_notify)
TOKEN_CHANNEL = "envgraph_tokens"
_ALPHABET = string.ascii_letters + string.digits


@dataclass(frozen=True, slots=True)
class IssuedToken:
    """A token just created: the only moment its clear text exists."""

    token: str
    prefix: str
    token_id: UUID
    expires_at: datetime | None


def hash_token(token: str) -> bytes:
    """The stored form of a token."""
    return hashlib.sha256(token.encode()).digest()


def parse_scopes(text: str) -> list[str]:
    """Scopes from a comma-separated list, each one checked against the known set."""
    scopes = sorted({part.strip() for part in text.split(",") if part.strip()})
    unknown = [scope for scope in scopes if scope not in KNOWN_SCOPES]
    if unknown:
        known = ", ".join(sorted(KNOWN_SCOPES))
        raise BadInput(f"unknown scope {unknown[0]!r}; known scopes: {known}", field="scopes")
    if not scopes:
        raise BadInput("at least one scope is needed", field="scopes")
    return scopes


async def create_token(
    conn: Connection,
    *,
    email: str,
    scopes: list[str],
    superuser: bool = False,
    expires_in: timedelta | None = None,
    demo: bool = False,
) -> IssuedToken:
    """Issue a token for the user with this e-mail."""
    user_id = await user_id_by_email(conn, email)
    token = TOKEN_MARK + "".join(secrets.choice(_ALPHABET) for _ in range(40))
    expires_at = None if expires_in is None else datetime.now().astimezone() + expires_in
    row = await conn.fetchrow(
        QUERIES["create_token"],
        user_id,
        hash_token(token),
        token[:_PREFIX_LENGTH],
        scopes,
        superuser,
        expires_at,
        demo,
    )
    assert row is not None
    return IssuedToken(token, token[:_PREFIX_LENGTH], row["id"], row["expires_at"])


async def replace_demo_token(conn: Connection, *, email: str, lifetime: timedelta) -> IssuedToken:
    """A new demo token (every scope) for the user with this e-mail; the demo tokens
    issued before are revoked with it: one at a time."""
    async with conn.transaction():
        await conn.execute(QUERIES["revoke_demo_tokens"])
        return await create_token(conn, email=email, scopes=["*"], expires_in=lifetime, demo=True)


async def revoke_token(conn: Connection, prefix: str) -> None:
    """Revoke the token shown as `prefix`; revoking twice is harmless."""
    revoked = await conn.fetchval(QUERIES["revoke_token"], prefix.strip())
    if revoked is None and not await conn.fetchrow(QUERIES["token_exists"], prefix.strip()):
        raise NotFound(f"no token with prefix {prefix.strip()!r}", field="prefix")


async def authenticate(conn: Queryable, token: str) -> Viewer | None:
    """The viewer behind a live token; None for an unknown, expired or revoked one."""
    if not token.startswith(TOKEN_MARK) or len(token) > 200:
        return None
    row = await conn.fetchrow(QUERIES["authenticate"], hash_token(token))
    if row is None:
        return None
    return Viewer(
        user_id=row["user_id"],
        email=row["email"],
        name=row["name"],
        scopes=frozenset(row["scopes"]),
        superuser=row["superuser"],
        expires_at=row["expires_at"],
    )
