"""`aggregate` and `groups` on small hand-made data: exact figures for every kind
(empty lists included), groups by each kind of group field, on both executors
(every query below is answered alike by the compiled path and the resolvers);
isolation (another tenant's rows, a token restricted to a project), scopes, and
the statements a figure costs."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from uuid import UUID

import asyncpg
import pytest

from db.tokens import create_token
from db.users import create_user
from gateway.keys import STATEMENTS
from schema.ids import global_id
from tests.schema.compiled_support import resolver_client, same_data, same_error
from tests.schema.conftest import Tokens
from tests.schema.events_support import Event, insert_events
from tests.support import Client, data

__all__ = ["resolver_client"]

MARCH = datetime(2026, 3, 1, tzinfo=UTC)
PERSON_1, PERSON_2 = UUID(int=1), UUID(int=2)


def at(day: int, hour: int = 0) -> datetime:
    return MARCH.replace(day=day, hour=hour)


@dataclass(frozen=True)
class Tiny:
    """A tenant of its own beside the demo's: its ids, and tokens of its admin."""

    token: str
    restricted: str  # only project P2
    tina: UUID
    sam: UUID
    organization: UUID
    projects: dict[str, UUID]
    models: dict[str, UUID]
    environments: dict[str, UUID]


# (model, name, type, kind, enabled, row_count, sort_order, protected, created)
ENVIRONMENTS = [
    ("alpha", "dev", "PRE_PRODUCTION", "DEVELOPMENT", True, 10, 0, False, at(1, 10)),
    ("alpha", "prod", "PRODUCTION", "PRODUCTION", True, 5_000_000_000, 1, True, at(1, 23)),
    ("beta", "stage", "PRE_PRODUCTION", "STAGING", False, 7, 0, False, at(2, 0)),
    ("gamma", "prod", "PRODUCTION", "PRODUCTION", True, 3, 0, True, at(2, 1)),
]
DEV_EVENTS = [
    Event("a", at(5, 10), {"ms": 10, "label": "b", "tag": "x"}, "view", "u1", PERSON_1),
    Event("b", at(5, 11), {"ms": 20.5, "label": "a", "tag": "y"}, "view", "u2", PERSON_1),
    Event("c", at(6), {"ms": "slow", "label": 3}, "click", "u1"),
    Event("d", at(7), {}, "click", "u3", PERSON_2),
]
GAMMA_EVENTS = [Event("x", at(5), {"ms": 1000}, "view", "u9")]


@pytest.fixture
async def tiny(conn: asyncpg.Connection, tokens: Tokens) -> Tiny:
    """The Tiny organization (beside the demo's tenants): projects P1 (models alpha,
    beta) and P2 (gamma), the environments above, three segments (one deleted)."""
    tina = (await create_user(conn, email="tina@example.com", name="Tina")).id
    sam = (await create_user(conn, email="sam@example.com", name="Sam")).id
    organization = await conn.fetchval(
        "INSERT INTO organizations (name, created_at, updated_at) VALUES ('Tiny', $1, $1) "
        "RETURNING id",
        at(1),
    )
    await conn.execute(
        "INSERT INTO organization_members (organization_id, user_id, role) "
        "VALUES ($1, $2, 'ADMIN'), ($1, $3, 'MEMBER')",
        organization,
        tina,
        sam,
    )
    projects, models, environments = {}, {}, {}
    for name, asset in (("P1", "GEN_AI_APP"), ("P2", "ML_MODEL")):
        projects[name] = await conn.fetchval(
            "INSERT INTO projects (organization_id, name, asset_type) VALUES ($1, $2, $3) "
            "RETURNING id",
            organization,
            name,
            asset,
        )
    for name, project in (("alpha", "P1"), ("beta", "P1"), ("gamma", "P2")):
        models[name] = await conn.fetchval(
            "INSERT INTO models (project_id, name) VALUES ($1, $2) RETURNING id",
            projects[project],
            name,
        )
    for model, name, type_, kind, enabled, rows, order, protected, created in ENVIRONMENTS:
        environments[f"{model}/{name}"] = await conn.fetchval(
            "INSERT INTO environments (model_id, project_id, name, type, kind, enabled, "
            "row_count, sort_order, protected, created_at, updated_at) "
            "SELECT $1, project_id, $2, $3, $4, $5, $6, $7, $8, $9, $9 FROM models "
            "WHERE id = $1 RETURNING id",
            models[model],
            name,
            type_,
            kind,
            enabled,
            rows,
            order,
            protected,
            created,
        )
    for model, name, author, deleted in (
        ("alpha", "adults", tina, None),
        ("alpha", "eu", sam, None),
        ("gamma", "old", tina, at(3)),
    ):
        await conn.execute(
            "INSERT INTO segments (model_id, project_id, name, definition, created_by, "
            "updated_by, deleted_at) SELECT $1, project_id, $2, 'age >= 18', $3, $3, $4 "
            "FROM models WHERE id = $1",
            models[model],
            name,
            author,
            deleted,
        )
    await insert_events(conn, environments["alpha/dev"], DEV_EVENTS)
    await insert_events(conn, environments["gamma/prod"], GAMMA_EVENTS)
    token = (await create_token(conn, email="tina@example.com", scopes=["*"])).token
    restricted = await create_token(
        conn, email="tina@example.com", scopes=["*"], project_ids=[projects["P2"]]
    )
    return Tiny(token, restricted.token, tina, sam, organization, projects, models, environments)


ENVIRONMENT_FIGURES = """
query ($filter: EnvironmentFilter) {
  environments(filter: $filter, first: 1) {
    totalCount
    aggregate {
      count
      sum { rowCount sortOrder eventCount }
      avg { rowCount sortOrder }
      min { name type kind enabled protected rowCount sortOrder createdAt }
      max { name type kind enabled protected rowCount sortOrder createdAt }
    }
  }
}
"""


async def test_environment_figures_over_the_whole_filtered_list(
    client: Client, resolver_client: Client, tiny: Tiny
) -> None:
    found = await same_data(client, resolver_client, ENVIRONMENT_FIGURES, tiny.token)
    assert found["environments"] == {
        "totalCount": 4,  # paging ignored, as for the total
        "aggregate": {
            "count": "4",
            "sum": {"rowCount": "5000000020", "sortOrder": "1", "eventCount": "5"},
            "avg": {"rowCount": 1250000005.0, "sortOrder": 0.25},
            "min": {
                "name": "dev",
                "type": "PRE_PRODUCTION",
                "kind": "DEVELOPMENT",
                "enabled": False,
                "protected": False,
                "rowCount": "3",
                "sortOrder": 0,
                "createdAt": "2026-03-01T10:00:00+00:00",
            },
            "max": {
                "name": "stage",
                "type": "PRODUCTION",
                "kind": "PRODUCTION",
                "enabled": True,
                "protected": True,
                "rowCount": "5000000000",
                "sortOrder": 1,
                "createdAt": "2026-03-02T01:00:00+00:00",
            },
        },
    }
    # an empty list: count "0", the rest null
    empty = await same_data(
        client, resolver_client, ENVIRONMENT_FIGURES, tiny.token, filter={"name": {"eq": "nope"}}
    )
    assert empty["environments"]["aggregate"] == {
        "count": "0",
        "sum": None,
        "avg": None,
        "min": None,
        "max": None,
    }
    # a filter narrows the figures as it narrows the list
    production = await same_data(
        client,
        resolver_client,
        ENVIRONMENT_FIGURES,
        tiny.token,
        filter={"type": {"eq": "PRODUCTION"}},
    )
    figures = production["environments"]["aggregate"]
    assert (figures["count"], figures["sum"]["rowCount"]) == ("2", "5000000003")


OTHER_KINDS = """
{
  organizations { aggregate { count min { name createdAt } max { name } } }
  projects { aggregate { count min { name assetType } max { name assetType } } }
  models { aggregate { count min { name version } max { name version } } }
  segments { aggregate { count min { name } max { name } } }
  all: segments(deleted: INCLUDE) { aggregate { count } }
  gone: segments(deleted: ONLY) { aggregate { count max { deletedAt } } }
  none: segments(search: "zzz") { aggregate { count min { name } } }
  viewer { apiTokens { aggregate { count } } }
}
"""


async def test_every_kind_has_its_figures(
    client: Client, resolver_client: Client, tiny: Tiny
) -> None:
    # `viewer` is resolver-path only: the resolvers answer; compare with them
    found = await same_data(
        client, resolver_client, OTHER_KINDS.replace("viewer {", "v0: __typename #"), tiny.token
    )
    assert found["organizations"]["aggregate"] == {
        "count": "1",
        "min": {"name": "Tiny", "createdAt": "2026-03-01T00:00:00+00:00"},
        "max": {"name": "Tiny"},
    }
    assert found["projects"]["aggregate"] == {
        "count": "2",
        "min": {"name": "P1", "assetType": "ML_MODEL"},
        "max": {"name": "P2", "assetType": "GEN_AI_APP"},
    }
    assert found["models"]["aggregate"] == {
        "count": "3",
        "min": {"name": "alpha", "version": "v1"},
        "max": {"name": "gamma", "version": "v1"},
    }
    assert found["segments"]["aggregate"] == {
        "count": "2",
        "min": {"name": "adults"},
        "max": {"name": "eu"},
    }
    assert found["all"]["aggregate"] == {"count": "3"}
    assert found["gone"]["aggregate"] == {
        "count": "1",
        "max": {"deletedAt": "2026-03-03T00:00:00+00:00"},
    }
    assert found["none"]["aggregate"] == {"count": "0", "min": None}


async def test_api_token_figures_are_the_callers_own(resolver_client: Client, tiny: Tiny) -> None:
    found = await data(
        resolver_client,
        "{ viewer { apiTokens { aggregate { count min { name } } totalCount } } }",
        tiny.token,
    )
    # Tina's two tokens, never another user's
    assert found["viewer"]["apiTokens"]["aggregate"]["count"] == "2"
    assert found["viewer"]["apiTokens"]["totalCount"] == 2


EVENT_FIGURES = """
query ($env: ID!, $key: String!, $p: Float!, $since: DateTime) {
  environment(id: $env) {
    events(since: $since, first: 1) {
      aggregate {
        count distinctIds persons
        min { timestamp event distinctId } max { timestamp event }
        ms: property(key: $key) { count sum avg min max median: percentile(p: 0.5)
                                  low: percentile(p: 0) high: percentile(p: $p) }
        label: property(key: "label") { count sum min max }
        tag: property(key: "tag") { count sum avg min max percentile(p: 0.5) }
        nope: property(key: "nope") { count sum avg min max percentile(p: 0.9) }
      }
    }
  }
  events { aggregate { count distinctIds property(key: "ms") { count max } } }
}
"""


async def test_event_figures(client: Client, resolver_client: Client, tiny: Tiny) -> None:
    env = global_id("Environment", tiny.environments["alpha/dev"])
    found = await same_data(
        client, resolver_client, EVENT_FIGURES, tiny.token, env=env, key="ms", p=1
    )
    figures = found["environment"]["events"]["aggregate"]
    assert figures == {
        "count": "4",
        "distinctIds": "3",
        "persons": "2",
        "min": {"timestamp": "2026-03-05T10:00:00+00:00", "event": "click", "distinctId": "u1"},
        "max": {"timestamp": "2026-03-07T00:00:00+00:00", "event": "view"},
        # "slow" is no number: counted as holding the key, skipped by the figures
        "ms": {
            "count": "3",
            "sum": 30.5,
            "avg": 15.25,
            "min": 10,
            "max": 20.5,
            "median": 15.25,
            "low": 10.0,
            "high": 20.5,
        },
        # numbers compare as numbers: the number 3 wins over the strings
        "label": {"count": "3", "sum": 3.0, "min": 3, "max": 3},
        # strings only: compared as strings
        "tag": {"count": "2", "sum": None, "avg": None, "min": "x", "max": "y", "percentile": None},
        "nope": {
            "count": "0",
            "sum": None,
            "avg": None,
            "min": None,
            "max": None,
            "percentile": None,
        },
    }
    # the caller's events everywhere: Tiny's five, none of the demo's tenants
    assert found["events"]["aggregate"] == {
        "count": "5",
        "distinctIds": "4",
        "property": {"count": "4", "max": 1000},
    }
    window = await same_data(
        client,
        resolver_client,
        EVENT_FIGURES,
        tiny.token,
        env=env,
        key="ms",
        p=1,
        since="2026-03-06T00:00:00Z",
    )
    assert window["environment"]["events"]["aggregate"]["count"] == "2"


@pytest.mark.parametrize("p", [-0.1, 1.5])
async def test_a_percentile_outside_zero_one_is_refused(
    client: Client, resolver_client: Client, tiny: Tiny, p: float
) -> None:
    query = (
        'query ($p: Float!) { events { aggregate { property(key: "ms") { percentile(p: $p) } } } }'
    )
    found = await same_error(client, resolver_client, query, tiny.token, p=p)
    assert (found["extensions"]["code"], found["extensions"]["field"]) == ("BAD_USER_INPUT", "p")


GROUPS = """
query ($by: [EnvironmentGroupField!]!, $first: Int) {
  environments {
    groups(by: $by, first: $first) {
      key { type kind enabled model { name } project { name } organization { name }
            createdAtDay }
      aggregate { count sum { rowCount } }
    }
  }
}
"""


def _group(count: int, rows: int, **key: Any) -> dict[str, Any]:
    full = dict.fromkeys(
        ("type", "kind", "enabled", "model", "project", "organization", "createdAtDay")
    )
    full.update(key)
    return {"key": full, "aggregate": {"count": str(count), "sum": {"rowCount": str(rows)}}}


async def test_groups_by_each_kind_of_field(
    client: Client, resolver_client: Client, tiny: Tiny
) -> None:
    async def groups(*by: str, first: int | None = None) -> list[dict[str, Any]]:
        found = await same_data(
            client, resolver_client, GROUPS, tiny.token, by=list(by), first=first
        )
        result: list[dict[str, Any]] = found["environments"]["groups"]
        return result

    # an enum: largest first, then by key (the enum's order)
    assert await groups("KIND") == [
        _group(2, 5_000_000_003, kind="PRODUCTION"),
        _group(1, 10, kind="DEVELOPMENT"),
        _group(1, 7, kind="STAGING"),
    ]
    assert await groups("ENABLED") == [
        _group(3, 5_000_000_013, enabled=True),
        _group(1, 7, enabled=False),
    ]
    # a parent: its object, read as the parent field reads it; ties by its id
    by_model = await groups("MODEL")
    assert by_model[0] == _group(2, 5_000_000_010, model={"name": "alpha"})
    rest = sorted(["beta", "gamma"], key=lambda name: tiny.models[name])
    assert [g["key"]["model"]["name"] for g in by_model[1:]] == rest
    # a parent reached through another
    assert await groups("ORGANIZATION") == [_group(4, 5_000_000_020, organization={"name": "Tiny"})]
    # the UTC day of a DateTime
    assert await groups("CREATED_AT_DAY") == [
        _group(2, 5_000_000_010, createdAtDay="2026-03-01T00:00:00+00:00"),
        _group(2, 10, createdAtDay="2026-03-02T00:00:00+00:00"),
    ]
    # several fields, and `first`
    # (a field named twice counts once)
    assert await groups("TYPE", "PROJECT", "TYPE", first=1) == [
        _group(2, 17, type="PRE_PRODUCTION", project={"name": "P1"})
    ]
    assert await groups("KIND", first=0) == []


async def test_groups_by_user_and_nested(
    client: Client, resolver_client: Client, tiny: Tiny
) -> None:
    query = """
    query ($deleted: DeletedFilter) {
      segments(deleted: $deleted) {
        groups(by: [CREATED_BY]) { key { createdBy { name } } aggregate { count } }
      }
      models(orderBy: [{field: NAME}]) {
        nodes { name environments {
          aggregate { count max { rowCount } }
          groups(by: [PROTECTED]) { key { protected } aggregate { count } }
        } }
      }
    }
    """
    live = await same_data(client, resolver_client, query, tiny.token)
    names = sorted(["Tina", "Sam"], key=lambda n: tiny.tina if n == "Tina" else tiny.sam)
    assert [g["key"]["createdBy"]["name"] for g in live["segments"]["groups"]] == names
    every = await same_data(client, resolver_client, query, tiny.token, deleted="INCLUDE")
    assert every["segments"]["groups"] == [
        {"key": {"createdBy": {"name": "Tina"}}, "aggregate": {"count": "2"}},
        {"key": {"createdBy": {"name": "Sam"}}, "aggregate": {"count": "1"}},
    ]
    nested = {m["name"]: m["environments"] for m in live["models"]["nodes"]}
    assert nested["alpha"] == {
        "aggregate": {"count": "2", "max": {"rowCount": "5000000000"}},
        "groups": [
            {"key": {"protected": False}, "aggregate": {"count": "1"}},
            {"key": {"protected": True}, "aggregate": {"count": "1"}},
        ],
    }
    assert nested["beta"]["aggregate"] == {"count": "1", "max": {"rowCount": "7"}}
    assert nested["gamma"]["groups"] == [{"key": {"protected": True}, "aggregate": {"count": "1"}}]


@pytest.mark.parametrize(
    ("arguments", "field"), [("by: [KIND], first: 101", "first"), ("by: []", "by")]
)
async def test_bad_group_arguments(
    client: Client, resolver_client: Client, tiny: Tiny, arguments: str, field: str
) -> None:
    query = f"{{ environments {{ groups({arguments}) {{ aggregate {{ count }} }} }} }}"
    found = await same_error(client, resolver_client, query, tiny.token)
    assert (found["extensions"]["code"], found["extensions"]["field"]) == ("BAD_USER_INPUT", field)


async def test_a_restricted_token_counts_and_groups_only_its_project(
    client: Client, resolver_client: Client, tiny: Tiny
) -> None:
    query = """{
      environments { aggregate { count sum { rowCount } }
                     groups(by: [ORGANIZATION, PROJECT]) {
                       key { organization { name } project { name } } aggregate { count } } }
      events { aggregate { count property(key: "ms") { max } } }
      segments(deleted: INCLUDE) { aggregate { count } }
    }"""
    found = await same_data(client, resolver_client, query, tiny.restricted)
    assert found == {
        "environments": {
            "aggregate": {"count": "1", "sum": {"rowCount": "3"}},
            # the organization of its project is one it sees
            "groups": [
                {
                    "key": {"organization": {"name": "Tiny"}, "project": {"name": "P2"}},
                    "aggregate": {"count": "1"},
                }
            ],
        },
        "events": {"aggregate": {"count": "1", "property": {"max": 1000}}},
        "segments": {"aggregate": {"count": "1"}},
    }


async def test_other_tenants_never_change_a_figure(
    client: Client, resolver_client: Client, tiny: Tiny, tokens: Tokens
) -> None:
    # Ada (the demo's Acme) sees none of Tiny's rows; Tina none of Acme's
    query = """{
      environments(filter: {organization: {name: {eq: "Tiny"}}}) {
        aggregate { count } groups(by: [MODEL]) { aggregate { count } } }
      events(filter: {distinctId: {in: ["u1", "u2", "u3", "u9"]}}) {
        aggregate { count distinctIds property(key: "ms") { count max percentile(p: 1) } } }
    }"""
    found = await same_data(client, resolver_client, query, tokens.ada)
    assert found == {
        "environments": {"aggregate": {"count": "0"}, "groups": []},
        "events": {
            "aggregate": {
                "count": "0",
                "distinctIds": "0",
                "property": {"count": "0", "max": None, "percentile": None},
            }
        },
    }
    acme = await same_data(
        client,
        resolver_client,
        '{ environments(filter: {organization: {name: {eq: "Acme Analytics"}}}) '
        "{ aggregate { count } } }",
        tiny.token,
    )
    assert acme["environments"]["aggregate"]["count"] == "0"


async def test_scopes_refuse_figures_as_they_refuse_lists(
    client: Client, resolver_client: Client, conn: asyncpg.Connection, tiny: Tiny
) -> None:
    narrow = await create_token(conn, email="tina@example.com", scopes=["environment:read"])
    refused = await same_error(
        client, resolver_client, "{ segments { aggregate { count } } }", narrow.token
    )
    assert (refused["extensions"]["code"], refused["message"]) == (
        "FORBIDDEN",
        "this token lacks the scope segment:read",
    )
    # grouping by a parent reads it: its scope too
    by_model = await same_error(
        client,
        resolver_client,
        "{ environments { groups(by: [MODEL]) { aggregate { count } } } }",
        narrow.token,
    )
    assert by_model["extensions"]["code"] == "FORBIDDEN"
    assert "model:read" in by_model["message"]
    allowed = await same_data(
        client,
        resolver_client,
        "{ environments { aggregate { count } groups(by: [KIND]) { aggregate { count } } } }",
        narrow.token,
    )
    assert allowed["environments"]["aggregate"]["count"] == "4"


async def _statements(app: Client, query: str, token: str) -> int:
    before = app.app[STATEMENTS].total
    await data(app, query, token)
    return int(app.app[STATEMENTS].total - before)


NESTED = """{ models { nodes { name environments { %s } } } }"""


async def test_one_statement_per_figure_field(
    client: Client, resolver_client: Client, tiny: Tiny
) -> None:
    figures = "aggregate { count sum { rowCount } max { name } }"
    groups = "groups(by: [KIND, MODEL]) { key { kind } aggregate { count min { name } } }"
    page = "totalCount nodes { name }"
    # the resolver path: one statement per figure field, whatever the number of parents
    base = await _statements(resolver_client, NESTED % page, tiny.token)
    with_figures = await _statements(resolver_client, NESTED % f"{page} {figures}", tiny.token)
    with_both = await _statements(
        resolver_client, NESTED % f"{page} {figures} {groups}", tiny.token
    )
    assert (with_figures - base, with_both - base) == (1, 2)
    # figures alone read no page
    alone = await _statements(resolver_client, NESTED % figures, tiny.token)
    assert alone == base
    root = "{ environments { aggregate { count } } }"
    assert await _statements(resolver_client, root, tiny.token) == base - 1
    # the compiled path: still one statement for the whole query
    compiled = [
        await _statements(client, NESTED % fields, tiny.token)
        for fields in (page, f"{page} {figures} {groups}", figures)
    ]
    assert compiled[0] == compiled[1] == compiled[2]
