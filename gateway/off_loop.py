"""The CPU-bound steps of a large document (lexing, parsing, validating, checking
limits, planning) run in a worker thread, so that the event loop keeps serving
other requests meanwhile: a document at the limits takes 30-100 ms of them,
during which every other client's request would wait (tests/gateway/
test_noisy_neighbour.py). Small documents stay on the loop: their steps cost
less than the hop to a thread and back.

A fixed pool of few workers bounds how many such steps run at once in the
process: the rest wait in its queue, first come first served, and not on the
loop. Every worker step holds the GIL, so more workers would only take more of
it from the loop.

Only pure functions run in the workers (graphql-core's lexer, parser and
validation over the immutable schema, the limits' walk, the planner); the
caches they feed are read and written on the loop's thread, by the callers.
"""

from __future__ import annotations

import asyncio
import functools
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import ParamSpec, TypeVar

from graphql import DocumentNode, GraphQLError, GraphQLSchema

from schema.documents import keep, known, parse_document
from schema.validation import Rules, remember, remembered, validate

# Over this many characters a document's steps are moved to a worker. Measured
# here: a 600-character document (14 introspection fields) takes ~3 ms to parse
# and ~10 ms to validate; a 100-character one ~1 ms in all, near the cost of the
# hop itself.
HEAVY_CHARS = 512
# steps running at once in the process
WORKERS = 1

_workers = ThreadPoolExecutor(max_workers=WORKERS, thread_name_prefix="envgraph-documents")

P = ParamSpec("P")
T = TypeVar("T")


def is_heavy(query: str | None) -> bool:
    """Whether the text's steps run in a worker."""
    return query is not None and len(query) > HEAVY_CHARS


async def step(query: str | None, function: Callable[P, T], *args: P.args, **kwargs: P.kwargs) -> T:
    """`function(*args, **kwargs)`, in a worker when the query is large."""
    if not is_heavy(query):
        return function(*args, **kwargs)
    loop = asyncio.get_running_loop()
    return await loop.run_in_executor(_workers, functools.partial(function, *args, **kwargs))


async def document(query: str) -> DocumentNode | None:
    """The text's document (None: it does not parse), parsed only if not before."""
    found, parsed = known(query)
    if not found:
        parsed = await step(query, parse_document, query)
        keep(query, parsed)
    return parsed


async def validation(
    schema: GraphQLSchema, query: str, parsed: DocumentNode, rules: Rules
) -> list[GraphQLError]:
    """The document's validation errors, found once for the request: both executors
    then read them (schema/validation.py)."""
    errors = remembered(query, parsed, rules)
    if errors is None:
        errors = await step(query, validate, schema, parsed, rules)
        remember(query, parsed, rules, errors)
    return errors
