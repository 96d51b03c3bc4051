"""Per-request DataLoaders: one batched statement per entity and level.

Created fresh for every request (never shared, so one caller's rows never
serve another's), keyed by what they load; child-list loaders are keyed by
the whole list request, so two differently filtered lists do not mix.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Sequence
from typing import Any, TypeVar
from uuid import UUID

import asyncpg
from strawberry.dataloader import DataLoader

from db.api_tokens import api_token_counts
from db.entities import Entity
from db.lists import ListRequest
from db.loading import rows_by_ids, users_by_ids
from db.pages import Page, fetch_child_pages
from db.paging import Window
from db.secrets import writable_projects
from db.session import Session
from db.viewer import Viewer

K = TypeVar("K")
T = TypeVar("T")


class SharedLoader(DataLoader[K, T]):
    """A DataLoader whose futures no single waiter can cancel for the others.

    A load is one future for every field that asks for the same key. When an
    error nulls a parent, graphql-core cancels the parent's other fields; a
    field cancelled while awaiting that future would cancel it too, and every
    other field waiting for it, elsewhere in the query, would get a
    CancelledError: not a field error but the end of the whole request (the
    client saw its connection dropped). Each waiter gets a shield instead; the
    batch's one statement runs to its end and gives its connection back.
    """

    def load(self, key: K) -> Awaitable[T]:
        """The value for `key`, batched with the other keys asked in this tick."""
        return asyncio.shield(super().load(key))


class Loaders:
    """The loaders of one request."""

    def __init__(self, session: Session, viewer: Viewer) -> None:
        self.session = session
        self.viewer = viewer
        self._by_id: dict[str, DataLoader[UUID, asyncpg.Record | None]] = {}
        self._pages: dict[str, DataLoader[UUID, Page]] = {}
        self._batches: dict[str, DataLoader[Any, Any]] = {}
        self.users: DataLoader[UUID, asyncpg.Record | None] = SharedLoader(load_fn=self._users)
        # Project.apiTokenCount, by project id
        self.api_token_counts: DataLoader[UUID, int] = SharedLoader(load_fn=self._token_counts)
        # whether the viewer writes in a project (reads secret values there), by id
        self.writes_in: DataLoader[UUID, bool] = SharedLoader(load_fn=self._writes_in)

    def forget(self) -> None:
        """Drop everything loaded so far: after a write, nothing cached may be served."""
        self._by_id.clear()
        self._pages.clear()
        self._batches.clear()
        self.users.clear_all()
        self.api_token_counts.clear_all()
        self.writes_in.clear_all()

    async def _users(self, ids: Sequence[UUID]) -> list[asyncpg.Record | None]:
        return await users_by_ids(self.session, ids, self.viewer)

    async def _token_counts(self, ids: Sequence[UUID]) -> list[int]:
        return await api_token_counts(self.session, ids)

    async def _writes_in(self, ids: Sequence[UUID]) -> list[bool]:
        writable = await writable_projects(self.session, self.viewer, ids)
        return [project_id in writable for project_id in ids]

    def by_id(self, entity: Entity) -> DataLoader[UUID, asyncpg.Record | None]:
        """Visible rows of `entity` by id."""
        loader = self._by_id.get(entity.name)
        if loader is None:

            async def load(ids: Sequence[UUID]) -> list[asyncpg.Record | None]:
                return await rows_by_ids(self.session, entity, ids, self.viewer)

            loader = self._by_id[entity.name] = SharedLoader(load_fn=load)
        return loader

    def child_pages(
        self, request: ListRequest, win: Window, parent_column: str, with_total: bool
    ) -> DataLoader[UUID, Page]:
        """The same page of a child list, per parent id."""
        key = repr((request, win, parent_column, with_total))
        loader = self._pages.get(key)
        if loader is None:

            async def load(parent_ids: Sequence[UUID]) -> list[Page]:
                pages = await fetch_child_pages(
                    self.session,
                    request,
                    self.viewer,
                    win,
                    parent_column=parent_column,
                    parent_ids=list(parent_ids),
                    with_total=with_total,
                )
                return [pages[parent_id] for parent_id in parent_ids]

            loader = self._pages[key] = SharedLoader(load_fn=load)
        return loader

    def batch(
        self, key: object, load: Callable[[Sequence[Any]], Awaitable[list[Any]]]
    ) -> DataLoader[Any, Any]:
        """The loader of `key` (what it loads: e.g. an aggregate of one list request),
        batching its parents into one call of `load`. Keyed by its repr, as the child
        pages are: a filter may hold lists (JSON values)."""
        text = repr(key)
        loader = self._batches.get(text)
        if loader is None:
            loader = self._batches[text] = SharedLoader(load_fn=load)
        return loader
