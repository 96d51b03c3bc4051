"""What the secrets tests share: the key of the `keyed` client (tests/schema/
conftest.py), the demo's environments by name, and the mutations."""

from __future__ import annotations

import asyncpg

from db.secret_box import generate_key, parse_key
from schema.ids import global_id

# made for the test run, never written down
KEY = parse_key(generate_key())

CREATE = """
mutation ($input: CreateSecretInput!) {
  createSecret(input: $input) {
    secret { id key value comment version createdBy { name } updatedBy { name } }
  }
}
"""
UPDATE = """
mutation ($input: UpdateSecretInput!) {
  updateSecret(input: $input) { secret { id key value comment version updatedBy { name } } }
}
"""
DELETE = "mutation ($id: ID!) { deleteSecret(input: {id: $id}) { deletedId } }"
SECRETS = """
query ($id: ID!) {
  environment(id: $id) { secrets { totalCount nodes { key value version } } }
}
"""


async def environment(
    conn: asyncpg.Connection,
    project: str = "fraud-detection",
    name: str = "validation",
    organization: str = "Acme Analytics",
) -> str:
    """The global id of a demo environment (of the model xgb-classifier v1); by default
    a validation one, which holds none of the demo's secrets."""
    found = await conn.fetchval(
        """SELECT e.id FROM environments e JOIN models m ON m.id = e.model_id
           JOIN projects p ON p.id = m.project_id
           JOIN organizations o ON o.id = p.organization_id
           WHERE o.name = $1 AND p.name = $2 AND m.name = 'xgb-classifier'
             AND m.version = 'v1' AND e.name = $3""",
        organization,
        project,
        name,
    )
    assert found is not None
    return global_id("Environment", found)
