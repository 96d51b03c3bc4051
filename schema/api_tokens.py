"""The fields of API tokens besides their description's columns (`ApiToken.scopes`,
`ApiToken.projects`) and `Project.apiTokenCount`. Resolver-path fields: an
operation selecting them is answered by the resolvers (one batched statement
per level, through the request's loaders)."""

from __future__ import annotations

from typing import Any, Optional

import strawberry

from db.entities import PROJECT
from db.viewer import require_read
from schema.context import Context
from schema.fields import generated_field
from schema.rows import from_row

Info = strawberry.Info[Context, None]


async def _scopes(root: Any, info: Info) -> list[str]:
    return sorted(root.row["scopes"])


def _projects(project_type: type) -> Any:
    async def resolve(root: Any, info: Info) -> list[Any] | None:
        ids = root.row["project_ids"]
        if ids is None:
            return None
        require_read(info.context.authenticated, PROJECT.scope)
        # the projects the caller still sees, through the one visibility rule
        rows = await info.context.loaders.by_id(PROJECT).load_many(ids)
        return [from_row(project_type, row) for row in rows if row is not None]

    return generated_field(
        Optional[list[project_type]],  # type: ignore[valid-type]  # noqa: UP045 (a runtime value)
        plan=None,
        description="The projects the token is restricted to, those the caller sees; null: "
        "every project its user sees.",
        resolver=resolve,
    )


async def _token_count(root: Any, info: Info) -> int:
    count: int = await info.context.loaders.api_token_counts.load(root.uuid)
    return count


def api_token_fields(project_type: type) -> dict[str, dict[str, Any]]:
    """The extra fields of ApiToken and Project, by entity name."""
    return {
        "api_token": {
            "scopes": generated_field(
                list[str],
                plan=None,
                description="What the token allows, e.g. `segment:read`.",
                resolver=_scopes,
            ),
            "projects": _projects(project_type),
        },
        "project": {
            "api_token_count": generated_field(
                int,
                plan=None,
                description="Live API tokens (not revoked, not expired), whoever's, restricted "
                "to this project.",
                resolver=_token_count,
            ),
        },
    }
