"""The demo's secrets: two in every demo production environment, encrypted
with the key in use (so they exist only where there is one: `serve --demo`
makes one, `seed-demo` uses GATEWAY_SECRETS_KEY when set). Deterministic ids,
idempotent; the values are demo text, nothing secret."""

from __future__ import annotations

import uuid

from db.pool import Connection
from db.queries import QUERIES
from db.secret_box import SecretBox
from db.secret_keys import associated_data, verify_key

DEMO_SECRETS = (
    ("MODEL_STORE_PASSWORD", "the model store's database"),
    ("SCORING_API_KEY", "the scoring service"),
)
_NAMESPACE = uuid.UUID("6f1d1c5e-2d0b-4c61-9a52-5c8e0b7e3f10")


async def seed_demo_secrets(conn: Connection, box: SecretBox) -> int:
    """Add the demo's secrets that are missing; returns how many secrets the demo's
    production environments were meant to hold. KeyMismatch if the stored secrets
    were encrypted with another key."""
    await verify_key(conn, box)
    rows = []
    for target in await conn.fetch(QUERIES["demo_secret_targets"]):
        for key, comment in DEMO_SECRETS:
            secret_id = uuid.uuid5(_NAMESPACE, f"{target['id']}/secret/{key}")
            value = f"demo-{key.lower().replace('_', '-')}-{target['id'].hex[:8]}"
            rows.append(
                (
                    secret_id,
                    target["id"],
                    target["project_id"],
                    key,
                    box.seal(value, associated_data(secret_id)),
                    comment,
                    target["user_id"],
                )
            )
    await conn.executemany(QUERIES["create_demo_secret"], rows)
    return len(rows)
