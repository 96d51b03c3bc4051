"""The scenarios, and how each system is asked them.

A scenario's query lives in `queries/<family>/<scenario>.graphql` (`.sql`
for the raw bound); its variables are built here, since some come from the
data (ids, the deep position) or from the system itself (its own cursor).
Placeholders (`__ID__`, `__ID2__`, `__NAME__`) are filled per request by
post.lua, and by client.fill() for untimed requests.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlencode
from uuid import UUID

import asyncpg

from bench.events import window
from schema.ids import global_id

QUERIES = Path(__file__).with_name("queries")
# the raw bounds: "raw" answers as little as the scenario's shape needs (bare
# uuids for ids and cursors); "raw-exact" answers envgraph's exact bytes, the
# encodings API.md asks for included (only where its folder has the scenario)
RAW_FAMILIES = ("raw", "raw-exact")
# the deep page starts this many rows before the end of the list
DEEP_FROM_END = 100
# the deep page of events: the 1,000th page of 50 of one environment's events
EVENTS_PAGE = 50
EVENTS_DEEP_PAGE = 1000


@dataclass(frozen=True, slots=True)
class Scenario:
    """One row group of the report."""

    name: str
    title: str
    short: str  # for the chart
    database: str  # the scale it runs on (the quick mode runs all on small)
    ids: str | None = None  # "environment" or "model": a random one per request
    # not timed, asked first: the query whose answer holds the cursor the
    # scenario starts after, and where in that answer it is
    cursor_query: str | None = None
    cursor_at: tuple[str, ...] = ()
    # asked by hash with GET (automatic persisted queries), the document
    # registered first, untimed: only systems with a query file for it run it
    persisted: bool = False


SCENARIOS = (
    Scenario(
        "nested", "1. nested: orgs(10) > projects(10) > models(10) > envs(5)", "nested", "small"
    ),
    # the id is a random one of 1,000 per request: plans and prepared statements
    # must be shared across ids (issue 18's "by id, cycling 1,000 ids")
    Scenario(
        "by_id",
        "2. one environment by id, cycling through 1,000 ids",
        "by id",
        "small",
        ids="environment",
    ),
    Scenario(
        "by_id_apq",
        "2b. one environment by id, cycling through 1,000 ids, persisted (APQ GET)",
        "by id, APQ GET",
        "small",
        ids="environment",
        persisted=True,
    ),
    Scenario("list", "3. filtered + searched + ordered page of 50", "list page", "large"),
    Scenario("deep_first", "4a. first page of 50 of all environments", "first page", "large"),
    Scenario(
        "deep_offset", "4b. deep page by offset (100 rows before the end)", "deep: offset", "large"
    ),
    Scenario(
        "deep_cursor",
        "4c. the same deep page by cursor",
        "deep: cursor",
        "large",
        cursor_query="cursor_near_end",
        cursor_at=("data", "environments", "pageInfo", "startCursor"),
    ),
    Scenario("mutation", "5. createSegment", "createSegment", "small", ids="model"),
    # issue 22: grouped aggregates (PostGraphile with @graphile/pg-aggregates)
    Scenario(
        "groups", "6. environments grouped by kind: count, sum of rowCount", "groups", "large"
    ),
    # issue 13: one environment's events (the first environment by id)
    Scenario(
        "events_window",
        "E1. events window page: one hour of one environment, a property filter, first 50",
        "events window",
        "events",
    ),
    Scenario(
        "events_first",
        "E2a. first page of 50 of one environment's events",
        "events first",
        "events",
    ),
    Scenario(
        "events_deep",
        f"E2b. page {EVENTS_DEEP_PAGE:,} of 50 of the same events, by cursor",
        "events deep",
        "events",
        cursor_query="events_cursor",
        cursor_at=("data", "environment", "events", "pageInfo", "endCursor"),
    ),
)
EVENT_SCENARIOS = frozenset(s.name for s in SCENARIOS if s.database == "events")


@dataclass(frozen=True, slots=True)
class DataFacts:
    """What the variables need from a database."""

    environments: int
    environment_ids: list[UUID]
    model_ids: list[tuple[UUID, UUID]]  # (model, its project)
    author: UUID


async def _facts(url: str, author_email: str) -> DataFacts:
    conn = await asyncpg.connect(url)
    try:
        return DataFacts(
            environments=await conn.fetchval("SELECT count(*) FROM environments"),
            environment_ids=[
                r["id"]
                for r in await conn.fetch("SELECT id FROM environments ORDER BY id LIMIT 1000")
            ],
            model_ids=[
                (r["id"], r["project_id"])
                for r in await conn.fetch("SELECT id, project_id FROM models ORDER BY id LIMIT 200")
            ],
            author=await conn.fetchval(
                "SELECT id FROM users WHERE lower(email) = lower($1)", author_email
            ),
        )
    finally:
        await conn.close()


def data_facts(url: str, author_email: str) -> DataFacts:
    """The facts of the database at `url`."""
    return asyncio.run(_facts(url, author_email))


def write_id_file(path: Path, family: str, kind: str, facts: DataFacts) -> Path:
    """The ids a system is sent, one per line (tab: the model's project)."""
    if kind == "environment":
        lines = [
            global_id("Environment", i) if family == "envgraph" else str(i)
            for i in facts.environment_ids
        ]
    else:
        lines = [
            f"{global_id('Model', m) if family == 'envgraph' else m}\t{p}"
            for m, p in facts.model_ids
        ]
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("\n".join(lines) + "\n")
    return path


def deep_offset(facts: DataFacts) -> int:
    """The offset of the deep page: the row after the cursor's."""
    return facts.environments - DEEP_FROM_END + 1


def _event_variables(
    family: str, scenario: str, facts: DataFacts, cursor: str | None
) -> dict[str, Any]:
    # every events scenario reads environment 1 (the first by id)
    environment = facts.environment_ids[0]
    values: dict[str, Any] = {
        "id": global_id("Environment", environment) if family == "envgraph" else str(environment)
    }
    if scenario == "events_window":
        since, until = window()
        values |= {"since": since.isoformat(), "until": until.isoformat()}
    elif scenario == "events_cursor":
        # the last row of the page before the deep one
        values["offset"] = (EVENTS_DEEP_PAGE - 1) * EVENTS_PAGE - 1
    elif scenario == "events_deep":
        values["after"] = cursor
    return values


def variables(
    family: str, scenario: str, facts: DataFacts, cursor: str | None = None
) -> dict[str, Any]:
    """The scenario's variables for a system of `family`."""
    if scenario.startswith("events_"):
        return _event_variables(family, scenario, facts, cursor)
    if scenario in ("by_id", "by_id_apq", "deep_offset", "deep_cursor"):
        simple: dict[str, dict[str, Any]] = {
            "by_id": {"id": "__ID__"},
            "by_id_apq": {"id": "__ID__"},
            "deep_offset": {"offset": deep_offset(facts)},
            "deep_cursor": {"after": cursor},
        }
        return simple[scenario]
    if scenario == "mutation":
        if family.startswith("postgraphile"):
            # PostGraphile's generated create takes what envgraph derives
            return {
                "modelId": "__ID__",
                "projectId": "__ID2__",
                "author": str(facts.author),
                "name": "__NAME__",
            }
        return {"modelId": "__ID__", "name": "__NAME__"}
    return {}


def is_raw(family: str) -> bool:
    """Whether the family is a raw bound: statements by name (`queries/<family>/*.sql`)
    served by bench/rawserver.py."""
    return family in RAW_FAMILIES


def body(family: str, scenario: str, values: dict[str, Any]) -> str:
    """The JSON POST body (the raw bound takes the statement's name as query);
    for a persisted scenario, the query string of its GET (`?...`: the hash, no
    text), which post.lua and client.send take for a GET."""
    if is_raw(family):
        return json.dumps({"query": scenario, "variables": values})
    text = (QUERIES / family / f"{scenario}.graphql").read_text()
    if _is_persisted(scenario):
        return "?" + urlencode(
            {
                "variables": json.dumps(values),
                "extensions": json.dumps(_persisted_query(text)),
            }
        )
    return json.dumps({"query": text, "variables": values})


def registration(family: str, scenario: str, values: dict[str, Any]) -> str | None:
    """The POST body that registers a persisted scenario's document (its text
    and hash: run once, untimed, before the scenario), or None."""
    if not _is_persisted(scenario):
        return None
    text = (QUERIES / family / f"{scenario}.graphql").read_text()
    return json.dumps(
        {
            "query": text,
            "variables": values,
            "extensions": _persisted_query(text),
        }
    )


def _is_persisted(scenario: str) -> bool:
    return any(s.persisted for s in SCENARIOS if s.name == scenario)


def _persisted_query(text: str) -> dict[str, Any]:
    sha = hashlib.sha256(text.encode()).hexdigest()
    return {"persistedQuery": {"version": 1, "sha256Hash": sha}}


def has_query(family: str, scenario: str) -> bool:
    """Whether the family has a query for the scenario (PostGraphile v4 has no
    events scenarios)."""
    if is_raw(family):
        return (QUERIES / family / f"{scenario}.sql").exists()
    return (QUERIES / family / f"{scenario}.graphql").exists()
