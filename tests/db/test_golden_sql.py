"""Golden SQL: the statements of representative reads, kept as files beside this
test (as pg_graphql and PostGraphile keep `.sql` snapshots), so that a change in
generated SQL shows in review. No database: seconds to run.

After a deliberate change: `UPDATE_GOLDEN=1 pytest tests/db/test_golden_sql.py`,
then read the diff of tests/db/golden/ before committing it."""

from __future__ import annotations

import os
import re
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from graphql import parse

from db.entities import ENVIRONMENT, SEGMENT
from db.filters import All, Compare, Related
from db.json_reads import read_statement
from db.lists import Deleted, ListRequest, Order
from db.loading import rows_by_ids
from db.pages import page_statement
from db.paging import encode_cursor, fingerprint, window
from db.viewer import Viewer
from schema.planner import plan_read
from schema.schema import build_schema

GOLDEN = Path(__file__).with_name("golden")
ADA = Viewer(uuid.UUID(int=1), "ada@example.com", "Ada", frozenset({"*"}), False)
SCHEMA = build_schema()
PAGES = (20, 100)


def _layout(sql: str, values: list[Any]) -> str:
    """One clause a line (a reading aid, not a formatter), then the bound values."""
    text = re.sub(r" (?=(FROM|WHERE|LEFT JOIN|JOIN|ORDER BY|GROUP BY|LIMIT|UNION) )", "\n", sql)
    bound = [f"-- ${n} = {value!r}" for n, value in enumerate(values, 1)]
    return "\n".join([text, *bound]) + "\n"


def _compiled(query: str, variables: dict[str, Any] | None = None) -> tuple[str, list[Any]]:
    plan = plan_read(SCHEMA, parse(query), None, variables, ADA, page_sizes=PAGES)
    assert plan is not None, "the query compiles"
    return read_statement(plan, ADA)


def _environments_page() -> tuple[str, list[Any]]:
    request = ListRequest(
        ENVIRONMENT,
        filter=All(
            (
                Compare("type", "eq", "PRODUCTION"),
                Related("project", Compare("name", "contains", "fraud")),
            )
        ),
        search="prod eu",
        order=(Order("row_count", descending=True), Order("name")),
    )
    after = encode_cursor(fingerprint(request), [1000, "production", str(uuid.UUID(int=7))])
    win = window(
        request, first=5, after=after, last=None, before=None, offset=None,
        default_size=20, max_size=100,
    )  # fmt: skip
    sql, values, _ = page_statement(
        request, ADA, win, parent_column=None, parent_ids=None, with_total=True
    )
    return sql, values


def _segments_under_models() -> tuple[str, list[Any]]:
    request = ListRequest(SEGMENT, order=(Order("updated_at", descending=True),))
    win = window(
        request, first=None, after=None, last=3, before=None, offset=None,
        default_size=20, max_size=100,
    )  # fmt: skip
    parents = [uuid.UUID(int=2), uuid.UUID(int=3)]
    sql, values, _ = page_statement(
        request, ADA, win, parent_column="model_id", parent_ids=parents, with_total=False
    )
    return sql, values


def _segments_by_parents_and_users() -> tuple[str, list[Any]]:
    # an organization reached through the project, a user's e-mail read as the
    # caller sees it, the deleted ones only, ordered by parents' names
    request = ListRequest(
        SEGMENT,
        filter=All(
            (
                Related("organization", Compare("name", "eq", "Acme Analytics")),
                Related("createdBy", Compare("email", "ends_with", "@example.com")),
            )
        ),
        order=(Order("organization.name", descending=True), Order("project.name")),
        deleted=Deleted.ONLY,
    )
    after = encode_cursor(fingerprint(request), ["Acme", "fraud", str(uuid.UUID(int=8))])
    win = window(
        request, first=5, after=after, last=None, before=None, offset=None,
        default_size=20, max_size=100,
    )  # fmt: skip
    sql, values, _ = page_statement(
        request, ADA, win, parent_column=None, parent_ids=None, with_total=True
    )
    return sql, values


async def _by_ids() -> tuple[str, list[Any]]:
    class Recorder:
        async def fetch(self, sql: str, *values: Any) -> list[Any]:
            self.seen = (sql, list(values))
            return []

    recorder = Recorder()
    await rows_by_ids(recorder, ENVIRONMENT, [uuid.UUID(int=4)], ADA)  # type: ignore[arg-type]
    return recorder.seen


CASES: dict[str, Callable[[], Any]] = {
    "resolver_root_page_filtered_searched_ordered_after_cursor": _environments_page,
    "resolver_child_pages_last_3": _segments_under_models,
    "resolver_segments_by_parents_and_users_deleted_only": _segments_by_parents_and_users,
    "compiled_nested_lists_parents_users": lambda: _compiled(
        """{ models(first: 2, orderBy: [{field: NAME}]) { totalCount
               pageInfo { hasNextPage endCursor }
               nodes { id name project { name organization { name } }
                 environments(first: 3, filter: {protected: {eq: true}}) {
                   edges { cursor node { name rowCount type } } }
                 segments(last: 1) { nodes { name createdBy { name email } } } } } }"""
    ),
    # the bench's nested query: edges' cursors and the page's end cursor made once
    "compiled_nested_bench_query": lambda: _compiled(
        (Path(__file__).parents[2] / "bench/queries/envgraph/nested.graphql").read_text()
    ),
    "compiled_lookup_and_node": lambda: _compiled(
        """query ($id: ID!) { environment(id: $id) { name model { name } }
               node(id: $id) { ... on Environment { sortOrder } } }""",
        {"id": "RW52aXJvbm1lbnQ6MDAwMDAwMDAtMDAwMC0wMDAwLTAwMDAtMDAwMDAwMDAwMDA0"},
    ),
    "resolver_rows_by_ids": _by_ids,
}


@pytest.mark.parametrize("name", sorted(CASES))
async def test_generated_sql_is_the_golden_one(name: str) -> None:
    made = CASES[name]()
    sql, values = await made if hasattr(made, "__await__") else made
    text = _layout(sql, values)
    path = GOLDEN / f"{name}.sql"
    if os.environ.get("UPDATE_GOLDEN"):
        path.write_text(text)
    assert path.exists(), f"no golden file: run UPDATE_GOLDEN=1 pytest {__file__}"
    assert text == path.read_text(), f"{path.name} changed: review, then UPDATE_GOLDEN=1"
