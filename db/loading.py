"""Batch reads behind the per-request loaders: one statement per entity and level."""

from __future__ import annotations

from collections.abc import Sequence
from uuid import UUID

import asyncpg

from db.binder import Binder
from db.entities import Entity
from db.identifiers import ident, qualified
from db.lists import ALIAS
from db.pool import Queryable
from db.queries import QUERIES
from db.viewer import Viewer
from db.visibility import visible


async def rows_by_ids(
    conn: Queryable, entity: Entity, ids: Sequence[UUID], viewer: Viewer
) -> list[asyncpg.Record | None]:
    """The visible rows with these ids, in the order asked (None: absent or invisible)."""
    bind = Binder()
    wanted = bind(list(ids))
    sql = (
        f"SELECT {ALIAS}.* FROM {ident(entity.table)} {ALIAS} "
        f"WHERE {qualified(ALIAS, 'id')} = ANY({wanted}) AND {visible(entity, ALIAS, viewer, bind)}"
    )
    found = {row["id"]: row for row in await conn.fetch(sql, *bind.values)}
    return [found.get(i) for i in ids]


async def users_by_ids(
    conn: Queryable, ids: Sequence[UUID], viewer: Viewer
) -> list[asyncpg.Record | None]:
    """Users by id, each with whether the viewer shares an organization with them
    (`shares_organization`: whether the e-mail may be shown)."""
    restriction = None if viewer.projects is None else sorted(viewer.projects)
    rows = await conn.fetch(
        QUERIES["users_by_ids"], list(ids), viewer.user_id, viewer.superuser, restriction
    )
    found = {row["id"]: row for row in rows}
    return [found.get(i) for i in ids]
