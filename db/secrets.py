"""Secrets: writes (one statement each, once the key is known) and who may read a
value.

A value is encrypted here, before any SQL, and decrypted only by `reveal`:
the database, its errors and the logs never hold a plaintext, and no message
below repeats one. Values need the configured key (GATEWAY_SECRETS_KEY):
without it, whatever sets or reads one is refused, naming the variable.
"""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from uuid import UUID

import asyncpg

from db.binder import Binder
from db.entities import ENVIRONMENT, SECRET
from db.errors import BadInput, DomainError, Forbidden
from db.names import check_environment_name
from db.pool import Queryable
from db.queries import QUERIES
from db.secret_box import KEY_VARIABLE, SecretBox, WrongKey
from db.secret_keys import associated_data, hold_key
from db.session import Session
from db.viewer import Viewer, require_scope
from db.writes import (
    FromCurrent,
    Guard,
    Write,
    entity_update,
    insertion_under,
    removal,
    require_unchanged,
    writable_row,
)

WRITE = "secret:write"
# reading a value takes this scope itself: `secret:write` alone lists secrets and
# sets values but never reads one back (a deploy tool's token)
READ_VALUE = "secret:read"
MAX_VALUE_BYTES = 65_536
MAX_COMMENT = 1_000


class SecretsOff(Forbidden):
    """Secrets are refused: the server has no key to encrypt them with."""

    def __init__(self) -> None:
        super().__init__(
            f"secrets are switched off on this server: it has no {KEY_VARIABLE} "
            "(32 random bytes in base64) to encrypt them with"
        )


class Undecryptable(DomainError):
    """A stored value does not decrypt with the configured key."""


@dataclass(frozen=True, slots=True)
class SecretChanges:
    """Fields to set; None leaves a field as it is."""

    key: str | None = None
    value: str | None = None
    comment: str | None = None


def _check(changes: SecretChanges) -> None:
    if changes.key is not None:
        check_environment_name(changes.key, "key")
    # the value is never quoted back, whatever is wrong with it
    if changes.value is not None and len(changes.value.encode("utf-8")) > MAX_VALUE_BYTES:
        raise BadInput(f"a value has at most {MAX_VALUE_BYTES} bytes (UTF-8)", field="value")
    if changes.comment is not None and len(changes.comment) > MAX_COMMENT:
        raise BadInput(f"a comment has at most {MAX_COMMENT} characters", field="comment")


def _box(box: SecretBox | None) -> SecretBox:
    if box is None:
        raise SecretsOff()
    return box


class _KeyUnverified(Exception):
    """The stored key check is not the one this process's key opened last (none yet,
    or a rotation since): the write takes the long way, which opens it (`hold_key`)."""


def _stored_check_is(bind: Binder, known: bytes) -> str:
    # FOR SHARE: a rotation (FOR UPDATE) waits until the write commits
    return f"((SELECT ciphertext FROM secrets_key_check FOR SHARE) = {bind(known)}::bytea)"


async def _written_under_key(
    session: Session,
    sealer: SecretBox,
    write: Callable[[bytes], Write],
    checks: Callable[[Session], Awaitable[None]],
) -> asyncpg.Record:
    """The row of `write(known)`, a write that also finds the stored key check still
    `known`, the one this process's key opened: ONE statement. Otherwise (none opened
    yet, or a rotation since) the long way, in a transaction: `checks` (the caller's
    role first, so that its errors come first as in the one statement), the stored
    check opened under its lock (`hold_key`: CONFLICT when the key is no longer this
    one), then the same write."""
    known = sealer.opened_check()
    if known is not None:
        try:
            return await write(known).row(session)
        except _KeyUnverified:
            pass
    async with session.transaction() as tx:
        await checks(tx)
        await hold_key(tx, sealer)
        opened = sealer.opened_check()
        assert opened is not None, "hold_key opened it"
        return await write(opened).row(tx)


def _refuse_unverified(_: object) -> None:
    raise _KeyUnverified()


async def create_secret(
    session: Session,
    viewer: Viewer,
    environment_id: UUID,
    changes: SecretChanges,
    *,
    box: SecretBox | None,
) -> asyncpg.Record:
    """A new secret of an environment, created by the caller (version 1), in one
    statement once this process's key has opened the stored key check."""
    require_scope(viewer, WRITE)
    for value, field in ((changes.key, "key"), (changes.value, "value")):
        if value is None:
            raise BadInput(f"{field} is required", field=field)
    _check(changes)
    sealer = _box(box)
    secret_id = uuid.uuid4()
    assert changes.value is not None
    ciphertext = sealer.seal(changes.value, associated_data(secret_id))

    def creation(known: bytes) -> Write:
        def insert(bind: Binder) -> str:
            me = bind(viewer.user_id)
            return (
                "INSERT INTO secrets (id, environment_id, project_id, key, ciphertext, "
                f"comment, created_by, updated_by) SELECT {bind(secret_id)}, p.id, "
                f"p.project_id, {bind(changes.key)}, {bind(ciphertext)}::bytea, "
                f"{bind(changes.comment or '')}, {me}, {me} FROM _parent p "
                f"WHERE p._writer AND {_stored_check_is(bind, known)} RETURNING *"
            )

        write = insertion_under(
            viewer, SECRET, ENVIRONMENT, environment_id, field="environmentId", insert=insert
        )

        def inserted(row: asyncpg.Record | None) -> asyncpg.Record:
            found = write.errors(row)
            if found["id"] is None:  # a writer's row, not inserted: the key check
                raise _KeyUnverified()
            return found

        return replace(write, errors=inserted)

    async def checks(tx: Session) -> None:
        await writable_row(tx, ENVIRONMENT, environment_id, viewer, "environmentId", share=True)

    return await _written_under_key(session, sealer, creation, checks)


async def update_secret(
    session: Session,
    viewer: Viewer,
    secret_id: UUID,
    changes: SecretChanges,
    *,
    box: SecretBox | None,
    expected_updated_at: datetime | None = None,
) -> asyncpg.Record:
    """Change a secret's key, value or comment (the caller becomes its updatedBy);
    every update bumps its version. One statement; a new value also finds the key
    check unchanged in it (see `create_secret`)."""
    require_scope(viewer, WRITE)
    _check(changes)

    def update(ciphertext: bytes | None, known: bytes | None) -> Write:
        guard = None
        if known is not None:
            guard = Guard(
                lambda bind: f"CASE WHEN {_stored_check_is(bind, known)} THEN NULL ELSE 1 END",
                _refuse_unverified,
            )
        return entity_update(
            viewer,
            SECRET,
            secret_id,
            changes={
                "key": changes.key,
                "ciphertext": ciphertext,
                "comment": changes.comment,
                "version": FromCurrent(lambda _: "c.version + 1"),
                "updated_by": viewer.user_id,
            },
            expected_updated_at=expected_updated_at,
            guard=guard,
        )

    if changes.value is None:  # no value: no key to check
        return await update(None, None).row(session)
    sealer = _box(box)
    ciphertext = sealer.seal(changes.value, associated_data(secret_id))

    async def checks(tx: Session) -> None:
        current = await writable_row(tx, SECRET, secret_id, viewer, "id")
        require_unchanged(current, expected_updated_at, "secret")

    return await _written_under_key(
        session, sealer, lambda known: update(ciphertext, known), checks
    )


def secret_removal(viewer: Viewer, secret_id: UUID) -> Write:
    """Delete a secret (for good: there is no restoring a value)."""
    return removal(viewer, SECRET, secret_id)


async def writable_projects(
    conn: Queryable, viewer: Viewer, project_ids: Sequence[UUID]
) -> set[UUID]:
    """Of `project_ids`, those where the viewer writes (EDITOR or organization ADMIN;
    a superuser everywhere): where they may read secret values."""
    if viewer.superuser:
        return set(project_ids)
    rows = await conn.fetch(QUERIES["writable_projects"], list(project_ids), viewer.user_id)
    return {row["id"] for row in rows}


def reveal(box: SecretBox | None, row: asyncpg.Record) -> str:
    """The plaintext of a secret's row (the caller has checked scope and role)."""
    try:
        return _box(box).open(row["ciphertext"], associated_data(row["id"]))
    except WrongKey:
        raise Undecryptable(
            f"this secret does not decrypt with the configured {KEY_VARIABLE}"
        ) from None
