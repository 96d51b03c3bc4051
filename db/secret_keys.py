"""Which key the secrets are encrypted with: checked at start, held by every
write, changed by a rotation.

The database keeps a known text encrypted with the key (`secrets_key_check`).
A server started with another key cannot open it and refuses to start: it
would otherwise answer every secret with an error (GCM never yields garbage).
A rotation re-encrypts every secret and the check in one transaction; a write
holds the check FOR SHARE and verifies it, so a server still running with the
old key after a rotation refuses to write rather than mix two keys.
"""

from __future__ import annotations

from uuid import UUID

from db.errors import Conflict, DomainError
from db.pool import Connection, Queryable
from db.queries import QUERIES
from db.secret_box import KEY_VARIABLE, SecretBox, WrongKey

_MISMATCH = (
    f"{KEY_VARIABLE} is not the key the secrets in this database are encrypted with "
    "(its key check does not decrypt): start with the right key, or change it with "
    "`python -m gateway rotate-secrets-key`"
)


class KeyMismatch(DomainError):
    """The configured key is not the one the secrets are encrypted with."""


def associated_data(secret_id: UUID) -> bytes:
    """What a secret's ciphertext is bound to: its id."""
    return b"envgraph:secret:" + secret_id.bytes


async def verify_key(conn: Queryable, box: SecretBox | None) -> None:
    """At start: KeyMismatch unless `box` holds the key the secrets are encrypted
    with. The first key a database sees is recorded; so is a new one when no secret
    exists yet (nothing is lost). No key: nothing to check (secrets are refused)."""
    if box is None:
        return
    await conn.fetchval(QUERIES["set_secrets_key_check"], box.check_value(), False)
    stored = await conn.fetchval(QUERIES["secrets_key_check"])
    if box.opens_check(stored):
        return
    if not await conn.fetchval(QUERIES["any_secret"]):
        await conn.fetchval(QUERIES["set_secrets_key_check"], box.check_value(), True)
        return
    raise KeyMismatch(_MISMATCH)


async def hold_key(tx: Queryable, box: SecretBox) -> None:
    """In a write's transaction: the key cannot change until it commits, and is
    still this one (CONFLICT after a rotation this process has not seen)."""
    stored = await tx.fetchval(QUERIES["secrets_key_check"])
    if stored is None:  # no server has started with a key yet (a tool's own write)
        await tx.fetchval(QUERIES["set_secrets_key_check"], box.check_value(), False)
        stored = await tx.fetchval(QUERIES["secrets_key_check"])
    if not box.opens_check(stored):
        raise Conflict(
            f"the secrets key was changed since this server started: restart it with the "
            f"new {KEY_VARIABLE}"
        )


async def rotate_key(conn: Connection, old: SecretBox, new: SecretBox) -> int:
    """Re-encrypt every secret from `old` to `new` in one transaction (the caller's);
    returns how many. KeyMismatch, with nothing changed, unless `old` is the key in
    use; updatedAt and version stay: no client changed anything."""
    stored = await conn.fetchval(QUERIES["lock_secrets_key_check"])
    if stored is not None and not old.opens_check(stored):
        raise KeyMismatch(
            f"the old key ({KEY_VARIABLE}) is not the one the secrets are encrypted with: "
            "nothing was changed"
        )
    await conn.fetchval(QUERIES["rotating_key"])
    rows = await conn.fetch(QUERIES["secrets_to_rotate"])
    changed = []
    for row in rows:
        data = associated_data(row["id"])
        try:
            plaintext = old.open(row["ciphertext"], data)
        except WrongKey:
            raise KeyMismatch(
                f"secret {row['id']} does not decrypt with the old key: nothing was changed"
            ) from None
        changed.append((row["id"], new.seal(plaintext, data)))
    if changed:
        await conn.executemany(QUERIES["reencrypted_secret"], changed)
    await conn.fetchval(QUERIES["set_secrets_key_check"], new.check_value(), True)
    return len(changed)
