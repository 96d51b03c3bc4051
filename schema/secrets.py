"""`Secret.value`: the one field that decrypts. A resolver-path field (no plan):
the compiled path never selects it, so no statement it builds holds the
ciphertext, and an operation selecting `value` is answered here."""

from __future__ import annotations

from typing import Any, Optional

import strawberry

from db.secrets import READ_VALUE, reveal
from schema.context import Context
from schema.fields import generated_field

Info = strawberry.Info[Context, None]


async def _value(root: Any, info: Info) -> str | None:
    context = info.context
    if not context.authenticated.has_scope(READ_VALUE):
        return None
    # one statement for every project of the secrets in this request
    if not await context.loaders.writes_in.load(root.row["project_id"]):
        return None
    return reveal(context.secrets, root.row)


def secret_fields() -> dict[str, Any]:
    """The fields a Secret gets besides its description's."""
    return {
        "value": generated_field(
            Optional[str],  # noqa: UP045 (a runtime value)
            plan=None,
            description="The value, decrypted: null unless the token has `secret:read` and "
            "the caller is an EDITOR of the project (or ADMIN of its organization).",
            resolver=_value,
        )
    }
