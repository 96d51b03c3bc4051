"""Secrets: writes (one statement each, once the key is known) and who may read a
value.

A value is encrypted here, before any SQL, and decrypted only by `reveal`:
the database, its errors and the logs never hold a plaintext, and no message
below repeats one. Values need the configured key (GATEWAY_SECRETS_KEY):
without it, whatever sets or reads one is refused, naming the variable.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
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
    translated,
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


async def create_secret(
    session: Session,
    viewer: Viewer,
    environment_id: UUID,
    changes: SecretChanges,
    *,
    box: SecretBox | None,
) -> asyncpg.Record:
    """A new secret of an environment, created by the caller (version 1): one
    statement once this process's key has opened the stored key check, which it
    then finds unchanged in that statement."""
    require_scope(viewer, WRITE)
    for value, field in ((changes.key, "key"), (changes.value, "value")):
        if value is None:
            raise BadInput(f"{field} is required", field=field)
    _check(changes)
    sealer = _box(box)
    secret_id = uuid.uuid4()
    assert changes.value is not None
    ciphertext = sealer.seal(changes.value, associated_data(secret_id))
    known = sealer.opened_check()
    if known is not None:

        def insert(bind: Binder) -> str:
            me = bind(viewer.user_id)
            return (
                "INSERT INTO secrets (id, environment_id, project_id, key, ciphertext, "
                f"comment, created_by, updated_by) SELECT {bind(secret_id)}, p.id, "
                f"p.project_id, {bind(changes.key)}, {bind(ciphertext)}::bytea, "
                f"{bind(changes.comment or '')}, {me}, {me} FROM _parent p "
                f"WHERE p._writer AND {_stored_check_is(bind, known)} RETURNING *"
            )

        creation = insertion_under(
            viewer, SECRET, ENVIRONMENT, environment_id, field="environmentId", insert=insert
        )
        row = await creation.row(session)
        if row["id"] is not None:
            return row
    # the long way: the stored key check opened under its lock
    async with session.transaction() as tx:
        environment = await writable_row(
            tx, ENVIRONMENT, environment_id, viewer, "environmentId", share=True
        )
        await hold_key(tx, sealer)
        with translated("secret"):
            found = await tx.fetchrow(
                QUERIES["create_secret"],
                secret_id,
                environment_id,
                environment["project_id"],
                changes.key,
                ciphertext,
                viewer.user_id,
                changes.comment or "",
            )
    assert found is not None
    return found


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
    every update bumps its version. One statement unless a new value needs a key
    check this process has not opened yet (see `create_secret`)."""
    require_scope(viewer, WRITE)
    _check(changes)
    ciphertext = None
    sealer = None
    if changes.value is not None:
        sealer = _box(box)
        ciphertext = sealer.seal(changes.value, associated_data(secret_id))
    known = None if sealer is None else sealer.opened_check()
    if sealer is None or known is not None:
        guard = None
        if known is not None:
            guard = Guard(
                lambda bind: f"CASE WHEN {_stored_check_is(bind, known)} THEN NULL ELSE 1 END",
                _refuse_unverified,
            )
        update = entity_update(
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
        try:
            return await update.row(session)
        except _KeyUnverified:
            pass
    # the long way: the stored key check opened under its lock
    async with session.transaction() as tx:
        current = await writable_row(tx, SECRET, secret_id, viewer, "id")
        require_unchanged(current, expected_updated_at, "secret")
        if sealer is not None:
            await hold_key(tx, sealer)
        with translated("secret"):
            row = await tx.fetchrow(
                QUERIES["update_secret"],
                secret_id,
                changes.key,
                ciphertext,
                changes.comment,
                viewer.user_id,
            )
    assert row is not None
    return row


def _refuse_unverified(_: object) -> None:
    raise _KeyUnverified()


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
