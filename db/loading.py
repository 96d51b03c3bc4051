"""Batch reads behind the per-request loaders: one statement per entity and level."""

from __future__ import annotations

from collections.abc import Sequence
from uuid import UUID

import asyncpg

from db.binder import Binder
from db.entities import Entity
from db.lists import ALIAS
from db.pool import Queryable
from db.viewer import Viewer
from db.visibility import visible


async def rows_by_ids(
    conn: Queryable, entity: Entity, ids: Sequence[UUID], viewer: Viewer
) -> list[asyncpg.Record | None]:
    """The visible rows with these ids, in the order asked (None: absent or invisible)."""
    bind = Binder()
    wanted = bind(list(ids))
    sql = (
        f"SELECT {ALIAS}.* FROM {entity.table} {ALIAS} "
        f"WHERE {ALIAS}.id = ANY({wanted}) AND {visible(entity, ALIAS, viewer, bind)}"
    )
    found = {row["id"]: row for row in await conn.fetch(sql, *bind.values)}
    return [found.get(i) for i in ids]


# A user is shown to a viewer who shares an organization with them (or is
# them); `shares_organization` decides whether the e-mail may be shown.
_USERS = """
SELECT u.id, u.name, u.email, u.created_at, u.updated_at,
       (u.id = $2 OR $3 OR EXISTS (
           SELECT 1 FROM organization_members theirs
           JOIN organization_members mine ON mine.organization_id = theirs.organization_id
           WHERE theirs.user_id = u.id AND mine.user_id = $2)) AS shares_organization
FROM users u WHERE u.id = ANY($1)
"""


async def users_by_ids(
    conn: Queryable, ids: Sequence[UUID], viewer: Viewer
) -> list[asyncpg.Record | None]:
    """Users by id, each with whether the viewer shares an organization with them."""
    rows = await conn.fetch(_USERS, list(ids), viewer.user_id, viewer.superuser)
    found = {row["id"]: row for row in rows}
    return [found.get(i) for i in ids]
