"""Persisted operations (API.md, "GraphQL over HTTP").

Apollo's automatic persisted queries: a request carries
`extensions.persistedQuery {version: 1, sha256Hash}`. With the hash only, the
document is looked up (this process's cache, then the `persisted_documents`
table that every process and instance shares); unknown, the answer is
`PersistedQueryNotFound` (code PERSISTED_QUERY_NOT_FOUND), on which Apollo's
clients send the hash again with the text. With both, the hash is checked
against the text ("provided sha does not match query", as Apollo Server says),
and the document runs; it is stored once it has passed what a sent document
passes (the token, the limits, validation). The resolved text then goes the
way of any sent document: the same limits, validation, plan cache, logs and
metrics (gateway/graphql_view.py resolves it first).

Who registers: only an authenticated caller. Any caller may run a stored
document by its hash (it is then checked as if it had been sent), but an
anonymous one could otherwise fill the table with introspection documents
varied without end. A stored document is never larger than a request body
(1 MiB) and has at most GATEWAY_MAX_QUERY_TOKENS tokens, as a sent one.

Trusted documents (`GATEWAY_TRUSTED_DOCUMENTS`, a manifest read at start):
only the documents listed run, by hash (hash only, or with their text) or by
their very text; anything else is OPERATION_NOT_ALLOWED, and nothing is
registered or looked up in the table.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections import OrderedDict
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from db.queries import QUERIES
from db.session import Session

NOT_FOUND = "PERSISTED_QUERY_NOT_FOUND"
NOT_ALLOWED = "OPERATION_NOT_ALLOWED"
# the message Apollo's clients recognise (as well as the code)
NOT_FOUND_MESSAGE = "PersistedQueryNotFound"
MISMATCH_MESSAGE = "provided sha does not match query"
NOT_ALLOWED_MESSAGE = (
    "only the documents of the trusted documents manifest run here: "
    "this operation is not one of them"
)
# the answer to a hash the process does not know must not be cached on the way
# (the next request may register it), as Apollo Server says
NOT_FOUND_CACHE_CONTROL = "private, no-cache, must-revalidate"

APQ_MANIFEST_FORMAT = "apollo-persisted-query-manifest"
_HASH = re.compile(r"^[0-9a-f]{64}$")

# the process's cache of documents by hash: bounded by entries and by the text
# it holds (one document may be as large as a request body)
MAX_CACHED_DOCUMENTS = 2048
CACHE_BUDGET_CHARS = 8 * 1024 * 1024


class Refused(Exception):
    """A persisted-operation request refused before anything runs."""

    def __init__(self, message: str, code: str, status: int | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.code = code
        # an HTTP status of its own (a malformed request), or None: the one any
        # request error gets (gateway/media.py)
        self.status = status


def sha256_hex(text: str) -> str:
    """The SHA-256 of the text's UTF-8, in hex (a lone surrogate, which the view
    refuses later, hashes without an error)."""
    return hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()


def requested_hash(extensions: Mapping[str, Any] | None) -> str | None:
    """The hash the request names in `extensions.persistedQuery`, or None."""
    if not extensions or extensions.get("persistedQuery") is None:
        return None
    persisted = extensions["persistedQuery"]
    if not isinstance(persisted, dict):
        raise Refused(
            "`extensions.persistedQuery` must be an object: {version: 1, sha256Hash}",
            "BAD_USER_INPUT",
            400,
        )
    version = persisted.get("version")
    if version != 1 or isinstance(version, bool):
        raise Refused(
            f"Unsupported persisted query version: {json.dumps(version)} "
            "(version 1 is the one supported)",
            "BAD_USER_INPUT",
            400,
        )
    sha = persisted.get("sha256Hash")
    if not isinstance(sha, str) or not _HASH.match(sha.lower()):
        raise Refused(
            "`extensions.persistedQuery.sha256Hash` must be the document's SHA-256 "
            "in hex (64 characters)",
            "BAD_USER_INPUT",
            400,
        )
    return sha.lower()


class Documents:
    """The documents this process knows by hash: the trusted manifest's, or a
    bounded cache of registered ones, least recently used first out."""

    def __init__(self, trusted: Mapping[str, str] | None = None) -> None:
        self.trusted = dict(trusted) if trusted is not None else None
        self._cache: OrderedDict[str, str] = OrderedDict()
        self._chars = 0

    def get(self, sha: str) -> str | None:
        """The cached text of this hash."""
        text = self._cache.get(sha)
        if text is not None:
            self._cache.move_to_end(sha)
        return text

    def put(self, sha: str, text: str) -> None:
        """Remember a text by its hash."""
        if sha in self._cache or len(text) > CACHE_BUDGET_CHARS:
            return
        self._cache[sha] = text
        self._chars += len(text)
        while len(self._cache) > MAX_CACHED_DOCUMENTS or self._chars > CACHE_BUDGET_CHARS:
            _, oldest = self._cache.popitem(last=False)
            self._chars -= len(oldest)

    def forget(self) -> None:
        """Empty the cache (as a new process starts)."""
        self._cache.clear()
        self._chars = 0


@dataclass(frozen=True, slots=True)
class Resolved:
    """The document a request runs, and the hash to store it under once it has
    passed the checks (None: nothing to store)."""

    query: str | None
    register_as: str | None = None


async def resolve(
    documents: Documents,
    session: Session,
    query: str | None,
    extensions: Mapping[str, Any] | None,
) -> Resolved:
    """The document the request runs (Refused: none)."""
    sha = requested_hash(extensions)
    trusted = documents.trusted
    if trusted is not None:
        return _trusted(trusted, query, sha)
    if sha is None:
        return Resolved(query)
    if query:
        if sha256_hex(query) != sha:
            raise Refused(MISMATCH_MESSAGE, "BAD_USER_INPUT", 400)
        return Resolved(query, None if documents.get(sha) is not None else sha)
    text = documents.get(sha)
    if text is None:
        text = await session.fetchval(QUERIES["persisted_document"], sha)
        if text is None:
            raise Refused(NOT_FOUND_MESSAGE, NOT_FOUND)
        documents.put(sha, text)
    return Resolved(text)


def _trusted(trusted: Mapping[str, str], query: str | None, sha: str | None) -> Resolved:
    if sha is None:
        if query and sha256_hex(query) in trusted:
            return Resolved(query)
        raise Refused(NOT_ALLOWED_MESSAGE, NOT_ALLOWED)
    listed = trusted.get(sha)
    if listed is None:
        raise Refused(NOT_ALLOWED_MESSAGE, NOT_ALLOWED)
    if query and sha256_hex(query) != sha:
        raise Refused(MISMATCH_MESSAGE, "BAD_USER_INPUT", 400)
    return Resolved(listed)


async def store(session: Session, sha: str, text: str) -> None:
    """Store a document for every process (a second store changes nothing)."""
    await session.fetchval(QUERIES["persist_document"], sha, text)


def load_manifest(path: Path) -> dict[str, str]:
    """The trusted documents of a manifest file, by hash (ValueError: why it
    cannot be used). Two formats: an object mapping each document's SHA-256 in
    hex to its text, or Apollo's persisted-query manifest. Every hash must be
    its text's, so that a request's hash and text are checked alike."""
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as error:
        raise ValueError(f"cannot read the manifest: {error}") from None
    try:
        manifest = json.loads(text)
    except (json.JSONDecodeError, RecursionError) as error:
        raise ValueError(f"the manifest is not JSON: {error}") from None
    if not isinstance(manifest, dict):
        raise ValueError(_MANIFEST_SHAPES)
    if "format" in manifest:
        pairs = _apollo_operations(manifest)
    else:
        pairs = [(key, value, f"entry {key!r}") for key, value in manifest.items()]
    documents: dict[str, str] = {}
    for sha, body, where in pairs:
        if not isinstance(body, str) or not body.strip():
            raise ValueError(f"{where}: the document must be a non-empty string")
        if not isinstance(sha, str) or sha256_hex(body) != sha.lower():
            raise ValueError(f"{where}: {sha!r} is not the SHA-256 (in hex) of its document")
        documents[sha.lower()] = body
    if not documents:
        raise ValueError("the manifest lists no documents: every operation would be refused")
    return documents


_MANIFEST_SHAPES = (
    "the manifest must be a JSON object mapping each document's SHA-256 (hex) to its "
    f'text, or {{"format": "{APQ_MANIFEST_FORMAT}", "version": 1, "operations": [...]}}'
)


def _apollo_operations(manifest: dict[str, Any]) -> list[tuple[object, object, str]]:
    if manifest.get("format") != APQ_MANIFEST_FORMAT:
        raise ValueError(f"the manifest's format is not {APQ_MANIFEST_FORMAT!r}")
    if manifest.get("version") != 1:
        raise ValueError(
            f"the manifest's version is {json.dumps(manifest.get('version'))}: "
            "version 1 is the one supported"
        )
    operations = manifest.get("operations")
    if not isinstance(operations, list):
        raise ValueError("the manifest's `operations` must be a list")
    pairs: list[tuple[object, object, str]] = []
    for number, item in enumerate(operations, 1):
        if not isinstance(item, dict):
            raise ValueError(f"operation {number}: must be an object with `id` and `body`")
        pairs.append((item.get("id"), item.get("body"), f"operation {number}"))
    return pairs
