"""API tokens: issued once in clear, stored as SHA-256, checked per request."""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import secrets
import string
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from uuid import UUID

import asyncpg

from db.binder import Binder
from db.entities import PROJECT
from db.errors import BadInput, NotFound
from db.identifiers import ident, qualified
from db.loading import rows_by_ids
from db.pool import Connection, Queryable
from db.queries import QUERIES
from db.users import user_id_by_email
from db.viewer import KNOWN_SCOPES, Viewer
from db.visibility import visible

# A recognisable marker (like GitHub's `ghp_`), so that secret scanners and
# people can tell what leaked. The displayed prefix identifies a token for
# `revoke-token` without revealing enough of it to use.
TOKEN_MARK = "egt_"
_PREFIX_LENGTH = len(TOKEN_MARK) + 8
# what PostgreSQL NOTIFYs as a token change commits (migration 0003_token_notify)
TOKEN_CHANNEL = "envgraph_tokens"
# Whether every process has heard a change: its maker NOTIFYs a probe on
# TOKEN_CHANNEL once the change has committed, and every listener (a
# connection named LISTENER_NAME, gateway/revocations.py) answers on
# HEARD_CHANNEL with the probe's id once it has cleared its cache. PostgreSQL
# delivers a listener's notifications in commit order, so a listener that
# answers the probe has heard the change. PROBE_SQL sends the probe and counts
# the listeners that should answer it.
HEARD_CHANNEL = "envgraph_tokens_heard"
# how long a revoker waits for every process's answer (a process that does not
# answer in time is down or cut off: it is told again when its listener reconnects
# and clears its cache)
REVOCATION_HEARD_S = 1.0
PROBE_MARK = "probe:"
LISTENER_NAME = "envgraph-listener"
PROBE_SQL = (
    "SELECT (SELECT count(*) FROM pg_stat_activity"
    " WHERE application_name = $3 AND datname = current_database()), pg_notify($1, $2)"
)
_ALPHABET = string.ascii_letters + string.digits


async def heard_everywhere(conn: Connection, timeout_s: float) -> bool:
    """After a token change on `conn` (a connection of its own, as the command
    line's): whether every listening process has heard it, waiting at most
    `timeout_s` for their answers."""
    probe = secrets.token_hex(16)
    answers = 0
    answered = asyncio.Event()

    def on_heard(_: object, __: object, ___: object, payload: object) -> None:
        nonlocal answers
        if payload == probe:
            answers += 1
            answered.set()

    await conn.add_listener(HEARD_CHANNEL, on_heard)
    try:
        return await probe_listeners(conn, probe, lambda: answers, answered, timeout_s)
    finally:
        await conn.remove_listener(HEARD_CHANNEL, on_heard)


async def probe_listeners(
    conn: Queryable,
    probe: str,
    answers: Callable[[], int],
    answered: asyncio.Event,
    timeout_s: float,
) -> bool:
    """Send `probe` and wait, at most `timeout_s`, until every listener counted
    then has answered it: `answers()` counts the answers heard, `answered` is set
    by each one (whoever listens on HEARD_CHANNEL: the command line's own
    connection, or a process's listener)."""
    listeners = await conn.fetchval(PROBE_SQL, TOKEN_CHANNEL, PROBE_MARK + probe, LISTENER_NAME)
    with contextlib.suppress(TimeoutError):
        async with asyncio.timeout(timeout_s):
            while answers() < listeners:
                answered.clear()
                await answered.wait()
    return bool(answers() >= listeners)


# what a token made by the command line is called (one made in the graph is named there)
COMMAND_LINE_NAME = "command line"


@dataclass(frozen=True, slots=True)
class IssuedToken:
    """A token just created: the only moment its clear text exists."""

    token: str
    prefix: str
    token_id: UUID
    expires_at: datetime | None
    # its stored row (no clear text in it: the hash only)
    row: asyncpg.Record


@dataclass(frozen=True, slots=True)
class Revoked:
    """A token revoked by `revoke_token`: its prefix, and when it had been revoked
    already (None: revoked now)."""

    prefix: str
    already_at: datetime | None


def hash_token(token: str) -> bytes:
    """The stored form of a token."""
    return hashlib.sha256(token.encode()).digest()


def parse_scopes(text: str) -> list[str]:
    """Scopes from a comma-separated list, each one checked against the known set."""
    return checked_scopes(text.split(","))


def checked_scopes(given: list[str]) -> list[str]:
    """The scopes, stripped, deduplicated and sorted; BAD_USER_INPUT naming `scopes`
    for an unknown one or none at all."""
    scopes = sorted({part.strip() for part in given if part.strip()})
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
    project_ids: list[UUID] | None = None,
) -> IssuedToken:
    """Issue a token for the user with this e-mail (restricted to `project_ids` when
    given: each must be a project the user sees)."""
    user_id = await user_id_by_email(conn, email)
    if project_ids is not None:
        # the user as an unrestricted token of theirs shows them: the one visibility rule
        user = Viewer(user_id, email, "", frozenset(), False)
        rows = await rows_by_ids(conn, PROJECT, project_ids, user)
        for project_id, row in zip(project_ids, rows, strict=True):
            if row is None:
                raise NotFound(f"no project {project_id} that {email} sees", field="projects")
    expires_at = None if expires_in is None else datetime.now().astimezone() + expires_in
    name = "demo" if demo else COMMAND_LINE_NAME
    return await issue_token(
        conn,
        user_id,
        name=name,
        scopes=scopes,
        superuser=superuser,
        expires_at=expires_at,
        demo=demo,
        project_ids=project_ids,
    )


# the columns a new token sets, and the types its values are bound as
_TOKEN_COLUMNS = (
    ("user_id", "uuid"),
    ("token_hash", "bytea"),
    ("prefix", "text"),
    ("scopes", "text[]"),
    ("superuser", "boolean"),
    ("expires_at", "timestamptz"),
    ("demo", "boolean"),
    ("name", "text"),
    ("project_ids", "uuid[]"),
)


async def issue_token(
    conn: Queryable,
    user_id: UUID,
    *,
    name: str,
    scopes: list[str],
    expires_at: datetime | None,
    project_ids: list[UUID] | None,
    superuser: bool = False,
    demo: bool = False,
    seen_by: Viewer | None = None,
) -> IssuedToken:
    """Store a new token of this user (its hash only); its clear text is in the answer.
    With `seen_by`, only if that viewer sees every one of `project_ids` (distinct),
    checked in the same statement: NOT_FOUND naming `projectIds` otherwise."""
    if superuser and project_ids is not None:
        raise BadInput("a superuser token sees everything: it cannot be restricted to projects")
    token = TOKEN_MARK + "".join(secrets.choice(_ALPHABET) for _ in range(40))
    values = (
        user_id,
        hash_token(token),
        token[:_PREFIX_LENGTH],
        scopes,
        superuser,
        expires_at,
        demo,
        name,
        project_ids,
    )
    bind = Binder()
    columns = ", ".join(column for column, _ in _TOKEN_COLUMNS)
    bound = ", ".join(f"{bind(v)}::{t}" for v, (_, t) in zip(values, _TOKEN_COLUMNS, strict=True))
    condition = "TRUE"
    if seen_by is not None and project_ids is not None:
        seen = visible(PROJECT, "t", seen_by, bind)
        condition = (
            f"(SELECT count(*) FROM {ident(PROJECT.table)} t WHERE "
            f"{qualified('t', 'id')} = ANY({bind(project_ids)}::uuid[]) AND {seen}) "
            f"= {bind(len(project_ids))}"
        )
    row = await conn.fetchrow(
        f"INSERT INTO api_tokens ({columns}) SELECT {bound} WHERE {condition} RETURNING *",
        *bind.values,
    )
    if row is None:  # what the caller cannot see is not found, as what does not exist
        raise NotFound("project not found", field="projectIds")
    return IssuedToken(token, token[:_PREFIX_LENGTH], row["id"], row["expires_at"], row)


async def replace_demo_token(conn: Connection, *, email: str, lifetime: timedelta) -> IssuedToken:
    """A new demo token (every scope) for the user with this e-mail; the demo tokens
    issued before are revoked with it: one at a time."""
    async with conn.transaction():
        await conn.execute(QUERIES["revoke_demo_tokens"])
        return await create_token(conn, email=email, scopes=["*"], expires_in=lifetime, demo=True)


def _without_ellipsis(text: str) -> str:
    text = text.strip()
    for ellipsis in ("…", "..."):
        text = text.removesuffix(ellipsis)
    return text


async def revoke_token(conn: Queryable, text: str) -> Revoked:
    """Revoke the token given by its prefix as `create-token` printed it
    (`egt_AbCd1234…`, the ellipsis as one character or three, or without it) or
    whole; revoking twice is harmless, and says when it was revoked first."""
    given = _without_ellipsis(text)
    # a whole token must be that very token, not merely share its prefix
    digest = hash_token(given) if len(given) > _PREFIX_LENGTH else None
    row = await conn.fetchrow(QUERIES["revoke_token"], given[:_PREFIX_LENGTH], digest)
    if row is None:
        shown = given if digest is None else given[:_PREFIX_LENGTH] + "…"
        raise NotFound(f"no token with prefix {shown!r}", field="prefix")
    return Revoked(row["prefix"], row["already_at"])


async def authenticate(conn: Queryable, token: str) -> Viewer | None:
    """The viewer behind a live token; None for an unknown, expired or revoked one."""
    if not token.startswith(TOKEN_MARK) or len(token) > 200:
        return None
    row = await conn.fetchrow(QUERIES["authenticate"], hash_token(token))
    if row is None:
        return None
    projects = row["project_ids"]
    return Viewer(
        user_id=row["user_id"],
        email=row["email"],
        name=row["name"],
        scopes=frozenset(row["scopes"]),
        superuser=row["superuser"],
        expires_at=row["expires_at"],
        projects=None if projects is None else frozenset(projects),
    )
