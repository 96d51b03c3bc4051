"""A request's document is parsed and validated once, whichever executor answers
it, and a large document's steps run in a worker thread, not on the event loop
(issue 17: the noisy neighbour)."""

from __future__ import annotations

import itertools
import threading
from dataclasses import replace
from typing import Any

import pytest
import strawberry.schema.schema as strawberry_schema
from aiohttp.test_utils import TestClient, TestServer
from graphql import validate as graphql_validate

from gateway.app import create_app
from gateway.off_loop import HEAVY_CHARS
from gateway.settings import Settings
from schema.documents import MAX_CACHED_CHARS
from tests.support import Client, count_validations, graphql

_numbers = itertools.count()


def _new(query: str, chars: int = 0) -> str:
    """The query as a text no cache has seen, padded with a comment to `chars`."""
    text = f"# {next(_numbers)}\n{query}"
    return text + "\n#" + "x" * max(0, chars - len(text)) if chars else text


# each answered by another executor, or refused by validation
QUERIES = {
    "compiled": "{ organizations(first: 1) { totalCount } }",
    "resolver path": "{ viewer { scopes } }",
    "not valid": "{ viewer { nope } }",
}


@pytest.mark.parametrize("kind", QUERIES)
@pytest.mark.parametrize("chars", [0, HEAVY_CHARS + 1, MAX_CACHED_CHARS + 1])
async def test_a_document_is_validated_once(
    client: Client, token: str, monkeypatch: pytest.MonkeyPatch, kind: str, chars: int
) -> None:
    validated = count_validations(monkeypatch)
    status, body = await graphql(client, _new(QUERIES[kind], chars), token)
    assert status == 200, body
    assert ("errors" in body) == (kind == "not valid"), body
    assert len(validated) == 1


async def test_validated_once_with_introspection_off(
    settings: Settings, token: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The view validates with the rules strawberry's step will use, so that the
    step finds the result and does not validate again."""
    validated = count_validations(monkeypatch)
    async with TestClient(TestServer(create_app(replace(settings, introspection=False)))) as c:
        for query in ("{ __schema { queryType { name } } }", "{ viewer { scopes } }"):
            status, body = await graphql(c, _new(query), token)
            assert status == 200, body
            assert len(validated) == 1, query
            validated.clear()


async def test_large_documents_are_worked_on_off_the_event_loop(
    client: Client, token: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    threads: list[str] = []
    real = graphql_validate  # what strawberry_schema.validate is

    def recording(*args: Any, **kwargs: Any) -> Any:
        threads.append(threading.current_thread().name)
        return real(*args, **kwargs)

    monkeypatch.setattr(strawberry_schema, "validate", recording)
    loop_thread = threading.current_thread().name  # the test client serves on this loop
    for chars in (0, HEAVY_CHARS + 1):
        status, body = await graphql(client, _new("{ viewer { scopes } }", chars), token)
        assert status == 200, body
    small, large = threads
    assert small == loop_thread
    assert large.startswith("envgraph-documents")
