"""Bearer tokens: from an `Authorization` header to a `Viewer`, or a refusal."""

from __future__ import annotations

import asyncio
import secrets
import time
from dataclasses import dataclass
from datetime import UTC, datetime

from graphql import (
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    InlineFragmentNode,
    OperationType,
    SelectionSetNode,
)

from db.pool import Queryable
from db.tokens import authenticate, hash_token, probe_listeners
from db.viewer import Viewer
from schema.documents import operation, parsed

# What an anonymous caller may ask: the schema, and nothing of the data.
_INTROSPECTION_FIELDS = frozenset({"__schema", "__type", "__typename", "_service"})


@dataclass(frozen=True, slots=True)
class Credentials:
    """The outcome of reading the header: a viewer, or why there is none."""

    viewer: Viewer | None
    # None: no token was sent (anonymous); otherwise why the token was refused
    refusal: str | None = None


class TokenCache:
    """Viewers of tokens found valid in the last `ttl_s` seconds, by the token's
    SHA-256 (the clear token is not kept), so that a client sending many
    requests costs one token check per `ttl_s`, not one per request. A revoked
    token is evicted at once: PostgreSQL broadcasts token changes and every
    process's listener clears its cache (gateway/revocations.py); while that
    listener is not connected, nothing is cached. A token's own expiry is
    honoured to the second; refusals are never cached. Per process, bounded."""

    def __init__(self, ttl_s: float, max_entries: int = 10_000) -> None:
        self.ttl_s = ttl_s
        self.max_entries = max_entries
        self._entries: dict[bytes, tuple[Viewer, float]] = {}
        # set by the listener while it is connected
        self.listening = False
        # counts clears: a check that began before one must not cache its viewer
        self.generation = 0
        # probes of this process waiting for every listener's answer, and their count
        self._answers: dict[str, int] = {}
        self._answered = asyncio.Event()  # set by each answer

    def clear(self) -> None:
        """Forget every token: one of them changed."""
        self._entries.clear()
        self.generation += 1

    def heard(self, probe: str) -> None:
        """A listener (of any process) answered a probe: it has cleared its cache."""
        if probe in self._answers:
            self._answers[probe] += 1
            self._answered.set()

    async def heard_everywhere(self, session: Queryable, timeout_s: float) -> bool:
        """After a token change: whether every listening process has heard it
        (db/tokens.py, PROBE_SQL), waiting at most `timeout_s` for their answers,
        which this process's listener passes on (`heard`). A revocation answers
        only then, so that the caller's next request is refused wherever it goes."""
        probe = secrets.token_hex(16)
        self._answers[probe] = 0
        try:
            return await probe_listeners(
                session, probe, lambda: self._answers[probe], self._answered, timeout_s
            )
        finally:
            del self._answers[probe]

    def get(self, digest: bytes) -> Viewer | None:
        """The viewer of a token checked recently, if still fresh."""
        entry = self._entries.get(digest)
        if entry is None:
            return None
        viewer, fresh_until = entry
        if time.monotonic() >= fresh_until:
            del self._entries[digest]
            return None
        return viewer

    def put(self, digest: bytes, viewer: Viewer, generation: int | None = None) -> None:
        """Remember a token found valid, until the ttl or its expiry (unless the cache
        was cleared since `generation`, when the check began)."""
        stale = generation is not None and generation != self.generation
        if self.ttl_s <= 0 or not self.listening or stale:
            return
        fresh_for = self.ttl_s
        if viewer.expires_at is not None:
            fresh_for = min(fresh_for, (viewer.expires_at - datetime.now(UTC)).total_seconds())
        if len(self._entries) >= self.max_entries:
            del self._entries[next(iter(self._entries))]  # the oldest
        self._entries[digest] = (viewer, time.monotonic() + fresh_for)


async def read_credentials(conn: Queryable, header: str | None, cache: TokenCache) -> Credentials:
    """Check the `Authorization` header against the stored tokens (or the cache)."""
    if not header:
        return Credentials(None)
    scheme, _, token = header.strip().partition(" ")
    token = token.strip()
    if scheme.lower() != "bearer" or not token:
        return Credentials(None, "The Authorization header must be `Bearer <token>`.")
    digest = hash_token(token)
    viewer = cache.get(digest)
    if viewer is None:
        generation = cache.generation
        viewer = await authenticate(conn, token)
        if viewer is None:
            return Credentials(None, "The token is invalid, expired or revoked.")
        cache.put(digest, viewer, generation)
    return Credentials(viewer)


def is_introspection_only(query: str | None, operation_name: str | None) -> bool:
    """True when the operation selects nothing but introspection fields (fragments
    followed), so that it may run without a token."""
    document = parsed(query) if query else None
    if document is None:
        return False
    chosen = operation(document, operation_name)
    if chosen is None or chosen.operation != OperationType.QUERY:
        return False
    fragments = {
        d.name.value: d for d in document.definitions if isinstance(d, FragmentDefinitionNode)
    }
    return _only_introspection(chosen.selection_set, fragments, set())


def _only_introspection(
    selection_set: SelectionSetNode,
    fragments: dict[str, FragmentDefinitionNode],
    seen: set[str],
) -> bool:
    for selection in selection_set.selections:
        if isinstance(selection, FieldNode):
            if selection.name.value not in _INTROSPECTION_FIELDS:
                return False
        elif isinstance(selection, InlineFragmentNode):
            if not _only_introspection(selection.selection_set, fragments, seen):
                return False
        elif isinstance(selection, FragmentSpreadNode):
            name = selection.name.value
            if name in seen:  # a cycle is invalid anyway; validation will say so
                continue
            fragment = fragments.get(name)
            if fragment is None or not _only_introspection(
                fragment.selection_set, fragments, seen | {name}
            ):
                return False
    return True
