"""Parsed GraphQL documents, cached once per query text: the view reads them
before execution (who may run an operation, whether it is within limits), the
compiled path plans from them, and strawberry executes them (schema/schema.py
hands them to its parse step), so a query text is parsed once, not three times
into three caches.

A syntax tree takes some 300 times the memory of its text, so the shared cache
is bounded by the text it holds, not only by entries: a large document (a few
in a thousand requests) is held for its own request only, and let go when the
view calls `forget_request_document`. Callers check the token limits BEFORE
asking for a parse (gateway/limits.py), so no parse here is unbounded.

A text over `ADMIT_AT_ONCE_CHARS` enters the shared cache the second time it is
seen, not the first: a client's documents recur, while a flood of one-off texts
(a hostile client's, each new) would evict them, and would fill the heap that
every full garbage collection walks with the GIL held: 200-500 ms pauses of
every request in the process under tests/gateway/test_noisy_neighbour.py.
"""

from __future__ import annotations

from collections import OrderedDict
from contextvars import ContextVar

from graphql import DocumentNode, GraphQLError, OperationDefinitionNode, parse

MAX_CACHED_DOCUMENTS = 256
# the largest text kept in the shared cache, and all of them together
MAX_CACHED_CHARS = 8 * 1024
_CACHE_BUDGET_CHARS = 256 * 1024

# longer texts are admitted on their second sighting (hashes of texts seen once)
ADMIT_AT_ONCE_CHARS = 512
_SEEN_ONCE = 4096

_cache: OrderedDict[str, DocumentNode | None] = OrderedDict()
_cached_chars = 0
_seen_once: OrderedDict[int, None] = OrderedDict()
# the document of the request being answered when it is not in the shared cache
# (each request runs in its task)
_request_document: ContextVar[tuple[str, DocumentNode | None] | None] = ContextVar(
    "request_document", default=None
)


def parse_document(query: str) -> DocumentNode | None:
    """The text's document, or None when it does not parse. Pure: safe in a worker
    thread (the caches below are touched on the event loop's thread only)."""
    try:
        document = parse(query)
    except GraphQLError:
        return None
    except RecursionError:  # brackets nested past the interpreter's stack
        return None
    _unchain(document)
    return document


def _unchain(document: DocumentNode) -> None:
    """Drop each token's link to the one before it. The lexer links a document's
    tokens both ways, so every parse left a cycle per token that only a
    garbage collection frees, and with them, collections that stop every thread
    of the process. Nothing reads the backward links after parsing (error
    locations come from a node's `loc.start` and `loc.source`)."""
    token = document.loc.start_token if document.loc is not None else None
    while token is not None:
        token.prev = None
        token = token.next


def known(query: str) -> tuple[bool, DocumentNode | None]:
    """(whether this text was parsed before, its document)."""
    if query in _cache:
        _cache.move_to_end(query)
        return True, _cache[query]
    held = _request_document.get()
    if held is not None and held[0] == query:
        return True, held[1]
    return False, None


def _admitted(query: str) -> bool:
    if len(query) > MAX_CACHED_CHARS:
        return False
    if len(query) <= ADMIT_AT_ONCE_CHARS:
        return True
    key = hash(query)  # a collision only admits a text early
    if key in _seen_once:
        del _seen_once[key]
        return True
    _seen_once[key] = None
    if len(_seen_once) > _SEEN_ONCE:
        _seen_once.popitem(last=False)
    return False


def keep(query: str, document: DocumentNode | None) -> None:
    """Hold a parse: in the shared cache when the text is admitted to it, for the
    request otherwise."""
    global _cached_chars  # noqa: PLW0603  (the module's one cache)
    if not _admitted(query):
        _request_document.set((query, document))
        return
    if query not in _cache:
        _cached_chars += len(query)
    _cache[query] = document
    while len(_cache) > MAX_CACHED_DOCUMENTS or _cached_chars > _CACHE_BUDGET_CHARS:
        oldest, _ = _cache.popitem(last=False)
        _cached_chars -= len(oldest)


def parsed(query: str) -> DocumentNode | None:
    """The document, or None when it does not parse (execution reports why), parsed
    here only if not before."""
    found, document = known(query)
    if not found:
        document = parse_document(query)
        keep(query, document)
    return document


def cached(query: str) -> bool:
    """Whether the shared cache holds this text's document."""
    return query in _cache


def forget_request_document() -> None:
    """Let go of the request's large document (its answer has been sent)."""
    _request_document.set(None)


def operations(document: DocumentNode) -> list[OperationDefinitionNode]:
    """The document's operations, in order."""
    return [d for d in document.definitions if isinstance(d, OperationDefinitionNode)]


def operation(document: DocumentNode, name: str | None) -> OperationDefinitionNode | None:
    """The operation a request runs (None: ambiguous or absent; execution reports it)."""
    found = operations(document)
    if name is not None:
        found = [o for o in found if o.name is not None and o.name.value == name]
    return found[0] if len(found) == 1 else None
