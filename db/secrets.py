"""Secrets: writes (one transaction each) and who may read a value.

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

from db.entities import ENVIRONMENT, SECRET
from db.errors import BadInput, DomainError, Forbidden
from db.names import check_environment_name
from db.pool import Queryable
from db.queries import QUERIES
from db.secret_box import KEY_VARIABLE, SecretBox, WrongKey
from db.secret_keys import associated_data, hold_key
from db.session import Session
from db.viewer import Viewer, require_scope
from db.writes import Write, removal, require_unchanged, translated, writable_row

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


async def create_secret(
    session: Session,
    viewer: Viewer,
    environment_id: UUID,
    changes: SecretChanges,
    *,
    box: SecretBox | None,
) -> asyncpg.Record:
    """A new secret of an environment, created by the caller (version 1)."""
    require_scope(viewer, WRITE)
    for value, field in ((changes.key, "key"), (changes.value, "value")):
        if value is None:
            raise BadInput(f"{field} is required", field=field)
    _check(changes)
    sealer = _box(box)
    secret_id = uuid.uuid4()
    assert changes.value is not None
    ciphertext = sealer.seal(changes.value, associated_data(secret_id))
    async with session.transaction() as tx:
        environment = await writable_row(
            tx, ENVIRONMENT, environment_id, viewer, "environmentId", share=True
        )
        await hold_key(tx, sealer)
        with translated("secret"):
            row = await tx.fetchrow(
                QUERIES["create_secret"],
                secret_id,
                environment_id,
                environment["project_id"],
                changes.key,
                ciphertext,
                viewer.user_id,
                changes.comment or "",
            )
    assert row is not None
    return row


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
    every update bumps its version."""
    require_scope(viewer, WRITE)
    _check(changes)
    ciphertext = None
    if changes.value is not None:
        ciphertext = _box(box).seal(changes.value, associated_data(secret_id))
    async with session.transaction() as tx:
        current = await writable_row(tx, SECRET, secret_id, viewer, "id")
        require_unchanged(current, expected_updated_at, "secret")
        if ciphertext is not None:
            await hold_key(tx, _box(box))
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
