"""A token restricted to projects sees only them and what is under them, through
every read path on both executors, and writes nowhere else.

Ada administers Acme and Globex (6 projects). Her restricted token sees one
of them: Acme's fraud-detection (2 models, 6 environments, 6 segments, one
event per environment in these tests), and of organizations only Acme.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any
from uuid import UUID

import asyncpg
import pytest

from db.tokens import create_token
from schema.ids import global_id
from tests.schema.compiled_support import both, executed, resolver_client, same_error
from tests.schema.conftest import Tokens
from tests.support import Client, data, error, graphql

__all__ = ["resolver_client"]  # a fixture


@dataclass(frozen=True)
class Demo:
    """Ada's restricted token, and rows inside and outside its one project."""

    restricted: str  # Acme / fraud-detection only
    allowed: UUID  # Acme / fraud-detection
    sibling: UUID  # Acme / churn-prediction: Ada sees it, the token does not
    globex: UUID  # an organization Ada administers, none of whose projects it holds
    acme: UUID
    model_in: UUID
    model_out: UUID
    environment_in: UUID
    environment_out: UUID
    segment_out: UUID
    export_out: UUID  # of environment_out (the demo's production environments have some)
    evaluation_out: UUID


async def _id(conn: asyncpg.Connection, sql: str, *args: Any) -> UUID:
    value: UUID = await conn.fetchval(sql, *args)
    assert value is not None, sql
    return value


@pytest.fixture
async def demo(conn: asyncpg.Connection, tokens: Tokens) -> Demo:
    project = (
        "SELECT p.id FROM projects p JOIN organizations o ON o.id = p.organization_id "
        "WHERE o.name = $1 AND p.name = $2"
    )
    allowed = await _id(conn, project, "Acme Analytics", "fraud-detection")
    sibling = await _id(conn, project, "Acme Analytics", "churn-prediction")
    model = "SELECT id FROM models WHERE project_id = $1 ORDER BY name, version LIMIT 1"
    environment = "SELECT id FROM environments WHERE project_id = $1 ORDER BY name, id LIMIT 1"
    issued = await create_token(conn, email="ada@example.com", scopes=["*"], project_ids=[allowed])
    return Demo(
        restricted=issued.token,
        allowed=allowed,
        sibling=sibling,
        globex=await _id(conn, "SELECT id FROM organizations WHERE name = 'Globex Research'"),
        acme=await _id(conn, "SELECT id FROM organizations WHERE name = 'Acme Analytics'"),
        model_in=await _id(conn, model, allowed),
        model_out=await _id(conn, model, sibling),
        environment_in=await _id(conn, environment, allowed),
        environment_out=await _id(conn, environment, sibling),
        segment_out=await _id(
            conn, "SELECT id FROM segments WHERE project_id = $1 LIMIT 1", sibling
        ),
        export_out=await _id(
            conn, "SELECT id FROM exports WHERE project_id = $1 ORDER BY id LIMIT 1", sibling
        ),
        evaluation_out=await _id(
            conn, "SELECT id FROM evaluations WHERE project_id = $1 ORDER BY id LIMIT 1", sibling
        ),
    )


LISTS = """{
  organizations { totalCount nodes { name projects { totalCount nodes { name } } } }
  projects(orderBy: [{field: NAME}]) { totalCount nodes { name organization { name } } }
  models { totalCount nodes { project { name } } }
  environments { totalCount }
  segments { totalCount }
  events { totalCount }
}"""


async def _both(
    client: Client, resolver: Client, query: str, token: str, **variables: Any
) -> dict[str, Any]:
    """The data of a query, the same from both executors (the first one compiled)."""
    compiled, resolved = await both(client, resolver, query, token, variables)
    assert compiled[2] == "compiled", compiled
    assert compiled[:2] == resolved[:2]
    assert (compiled[0], compiled[1].get("errors")) == (200, None), compiled
    result: dict[str, Any] = compiled[1]["data"]
    return result


async def test_lists_counts_and_nested_lists(
    client: Client, resolver_client: Client, demo: Demo, tokens: Tokens
) -> None:
    found = await _both(client, resolver_client, LISTS, demo.restricted)
    assert found == {
        "organizations": {
            "totalCount": 1,
            "nodes": [
                {
                    "name": "Acme Analytics",
                    "projects": {"totalCount": 1, "nodes": [{"name": "fraud-detection"}]},
                }
            ],
        },
        "projects": {
            "totalCount": 1,
            "nodes": [{"name": "fraud-detection", "organization": {"name": "Acme Analytics"}}],
        },
        "models": {"totalCount": 2, "nodes": [{"project": {"name": "fraud-detection"}}] * 2},
        "environments": {"totalCount": 6},
        "segments": {"totalCount": 6},
        "events": {"totalCount": 6},
    }
    # the same user's unrestricted token, on the same servers, right after: nothing
    # cached for the one (plan, statement, loader) serves the other, both ways
    unrestricted = await _both(client, resolver_client, LISTS, tokens.ada)
    assert [unrestricted[k]["totalCount"] for k in unrestricted] == [2, 6, 12, 36, 36, 36]
    assert await _both(client, resolver_client, LISTS, demo.restricted) == found


async def test_exports_and_evaluations(
    client: Client, resolver_client: Client, demo: Demo, tokens: Tokens
) -> None:
    # fraud-detection's two models: one production environment each, with three
    # exports and three evaluations
    query = """query ($in: ID!, $out: ID!) {
      exports { totalCount nodes { project { name } } }
      evaluations { totalCount nodes { project { name } } }
      inside: environment(id: $in) { exports { totalCount } evaluations { totalCount } }
      projects { nodes { environments(filter: {kind: {eq: PRODUCTION}}) {
        nodes { exports { totalCount } evaluations { totalCount } } } } }
      out: node(id: $out) { id }
    }"""
    variables = {
        "in": global_id("Environment", demo.environment_in),  # a production environment
        "out": global_id("Export", demo.export_out),
    }
    found = await _both(client, resolver_client, query, demo.restricted, **variables)
    fraud = {"project": {"name": "fraud-detection"}}
    per_environment = {"exports": {"totalCount": 3}, "evaluations": {"totalCount": 3}}
    assert found == {
        "exports": {"totalCount": 6, "nodes": [fraud] * 6},
        "evaluations": {"totalCount": 6, "nodes": [fraud] * 6},
        "inside": per_environment,
        "projects": {"nodes": [{"environments": {"nodes": [per_environment] * 2}}]},
        "out": None,
    }
    # the same user's unrestricted token sees Acme's and Globex's: 12 production
    # environments
    unrestricted = await _both(client, resolver_client, query, tokens.ada, **variables)
    assert (
        unrestricted["exports"]["totalCount"],
        unrestricted["evaluations"]["totalCount"],
        unrestricted["out"],
    ) == (36, 36, {"id": variables["out"]})
    for lookup, type_name, row in (
        ("export", "Export", demo.export_out),
        ("evaluation", "Evaluation", demo.evaluation_out),
    ):
        for argument, value in (("id", global_id(type_name, row)), ("uuid", str(row))):
            kind = "ID" if argument == "id" else "UUID"
            one = f"query ($v: {kind}!) {{ {lookup}({argument}: $v) {{ id }} }}"
            found_error = await same_error(client, resolver_client, one, demo.restricted, v=value)
            assert (found_error["extensions"]["code"], found_error["data"]) == (
                "NOT_FOUND",
                {lookup: None},
            )


async def test_search_and_filters(client: Client, resolver_client: Client, demo: Demo) -> None:
    query = """query ($sibling: ID!) {
      churn: projects(search: "churn") { totalCount }
      fraud: projects(search: "fraud") { totalCount }
      xgb: models(search: "xgb") { totalCount }
      byParent: environments(filter: {project: {name: {eq: "churn-prediction"}}}) { totalCount }
      byOwnParent: environments(filter: {project: {name: {eq: "fraud-detection"}}}) { totalCount }
      byId: segments(filter: {project: {id: {eq: $sibling}}}) { totalCount }
      byOrganization: projects(filter: {organization: {name: {eq: "Globex Research"}}}) {
        totalCount
      }
    }"""
    found = await _both(
        client, resolver_client, query, demo.restricted, sibling=global_id("Project", demo.sibling)
    )
    assert {key: value["totalCount"] for key, value in found.items()} == {
        "churn": 0,
        "fraud": 1,
        "xgb": 1,
        "byParent": 0,
        "byOwnParent": 6,
        "byId": 0,
        "byOrganization": 0,
    }


async def test_node_nodes_and_nested_fields(
    client: Client, resolver_client: Client, demo: Demo
) -> None:
    allowed, sibling = global_id("Project", demo.allowed), global_id("Project", demo.sibling)
    query = """query ($allowed: ID!, $sibling: ID!, $globex: ID!, $model: ID!, $env: ID!) {
      in: node(id: $allowed) { ... on Project { name models { totalCount } } }
      out: node(id: $sibling) { id }
      globex: node(id: $globex) { id }
      model: node(id: $model) { id }
      environment: node(id: $env) { id }
      many: nodes(ids: [$sibling, $allowed]) { ... on Project { name } }
    }"""
    found = await _both(
        client,
        resolver_client,
        query,
        demo.restricted,
        allowed=allowed,
        sibling=sibling,
        globex=global_id("Organization", demo.globex),
        model=global_id("Model", demo.model_out),
        env=global_id("Environment", demo.environment_out),
    )
    assert found == {
        "in": {"name": "fraud-detection", "models": {"totalCount": 2}},
        "out": None,
        "globex": None,
        "model": None,
        "environment": None,
        "many": [None, {"name": "fraud-detection"}],
    }


@pytest.mark.parametrize(
    ("lookup", "type_name", "row"),
    [
        ("project", "Project", "sibling"),
        ("organization", "Organization", "globex"),
        ("model", "Model", "model_out"),
        ("environment", "Environment", "environment_out"),
        ("segment", "Segment", "segment_out"),
    ],
)
async def test_lookups_by_id_and_uuid_are_not_found(
    client: Client, demo: Demo, tokens: Tokens, lookup: str, type_name: str, row: str
) -> None:
    uuid = getattr(demo, row)
    by_id = f"query ($id: ID!) {{ {lookup}(id: $id) {{ id }} }}"
    by_uuid = f"query ($uuid: UUID!) {{ {lookup}(uuid: $uuid) {{ id }} }}"
    for query, variables in (
        (by_id, {"id": global_id(type_name, uuid)}),
        (by_uuid, {"uuid": str(uuid)}),
    ):
        found = await error(client, query, demo.restricted, **variables)
        assert (found["extensions"]["code"], found["data"]) == ("NOT_FOUND", {lookup: None})
        # the user's unrestricted token sees it: the restriction, not the user, hides it
        assert (await data(client, query, tokens.ada, **variables))[lookup] is not None


async def test_federation_entities(client: Client, demo: Demo) -> None:
    query = (
        "query ($r: [_Any!]!) { _entities(representations: $r) "
        "{ ... on Project { name } ... on Organization { name } } }"
    )
    representations = [
        {"__typename": "Project", "id": global_id("Project", demo.sibling)},
        {"__typename": "Project", "id": global_id("Project", demo.allowed)},
        {"__typename": "Organization", "id": global_id("Organization", demo.globex)},
        {"__typename": "Organization", "id": global_id("Organization", demo.acme)},
    ]
    assert await data(client, query, demo.restricted, r=representations) == {
        "_entities": [None, {"name": "fraud-detection"}, None, {"name": "Acme Analytics"}]
    }


async def test_viewer_organizations_and_environment_events(client: Client, demo: Demo) -> None:
    query = """query ($env: ID!) {
      viewer { organizations { totalCount nodes { name projects { nodes { name } } } } }
      out: environment(id: $env) { events { totalCount } }
    }"""
    _, body = await graphql(
        client, query, demo.restricted, env=global_id("Environment", demo.environment_out)
    )
    assert body["data"]["viewer"] == {
        "organizations": {
            "totalCount": 1,
            "nodes": [
                {"name": "Acme Analytics", "projects": {"nodes": [{"name": "fraud-detection"}]}}
            ],
        }
    }
    assert [e["extensions"]["code"] for e in body["errors"]] == ["NOT_FOUND"]


async def test_two_projects_of_two_organizations(
    client: Client, resolver_client: Client, conn: asyncpg.Connection, demo: Demo
) -> None:
    globex_churn = await _id(
        conn,
        "SELECT id FROM projects WHERE organization_id = $1 AND name = 'churn-prediction'",
        demo.globex,
    )
    issued = await create_token(
        conn, email="ada@example.com", scopes=["*"], project_ids=[demo.allowed, globex_churn]
    )
    query = (
        "{ organizations(orderBy: [{field: NAME}]) { nodes { name projects { nodes { name } } } } "
        "projects { totalCount } environments { totalCount } }"
    )
    assert await _both(client, resolver_client, query, issued.token) == {
        "organizations": {
            "nodes": [
                {"name": "Acme Analytics", "projects": {"nodes": [{"name": "fraud-detection"}]}},
                {"name": "Globex Research", "projects": {"nodes": [{"name": "churn-prediction"}]}},
            ]
        },
        "projects": {"totalCount": 2},
        "environments": {"totalCount": 12},
    }


async def test_a_project_the_user_no_longer_sees_stays_out(
    client: Client, conn: asyncpg.Connection, tokens: Tokens
) -> None:
    # Grace is an EDITOR of Acme's fraud-detection: a token of hers restricted to it
    # sees it only while she does (the restriction narrows, never grants)
    project = await _id(conn, "SELECT project_id FROM project_members WHERE role = 'EDITOR'")
    issued = await create_token(
        conn, email="grace@example.com", scopes=["*"], project_ids=[project]
    )
    query = "{ projects { totalCount } organizations { totalCount } }"
    assert await data(client, query, issued.token) == {
        "projects": {"totalCount": 1},
        "organizations": {"totalCount": 1},
    }
    await conn.execute("DELETE FROM project_members WHERE project_id = $1", project)
    assert await data(client, query, issued.token) == {
        "projects": {"totalCount": 0},
        "organizations": {"totalCount": 1},  # she is still a member of Acme
    }


async def test_emails_only_through_the_tokens_organizations(
    client: Client, conn: asyncpg.Connection, tokens: Tokens
) -> None:
    # Ada shares Acme with Grace; a token of Ada's restricted to a Globex project
    # does not: Grace's e-mail stays hidden from it, on both executors
    globex = await _id(
        conn,
        "SELECT p.id FROM projects p JOIN organizations o ON o.id = p.organization_id "
        "WHERE o.name = 'Globex Research' LIMIT 1",
    )
    issued = await create_token(conn, email="ada@example.com", scopes=["*"], project_ids=[globex])
    grace = await _id(conn, "SELECT id FROM users WHERE email = 'grace@example.com'")
    query = "query ($id: ID!) { node(id: $id) { ... on User { email } } }"
    user = global_id("User", grace)
    assert await data(client, query, tokens.ada, id=user) == {
        "node": {"email": "grace@example.com"}
    }
    assert await data(client, query, issued.token, id=user) == {"node": None}


# -- writes ---------------------------------------------------------------------------

WRITES = [
    (
        "createModel",
        'mutation ($p: ID!) { createModel(input: {projectId: $p, name: "m"}) { model { id } } }',
        {"p": ("Project", "sibling")},
    ),
    (
        "updateModel",
        'mutation ($m: ID!) { updateModel(input: {id: $m, name: "m"}) { model { id } } }',
        {"m": ("Model", "model_out")},
    ),
    (
        "deleteModel",
        "mutation ($m: ID!) { deleteModel(input: {id: $m}) { deletedId } }",
        {"m": ("Model", "model_out")},
    ),
    (
        "updateProject",
        'mutation ($p: ID!) { updateProject(input: {id: $p, name: "x"}) { project { id } } }',
        {"p": ("Project", "sibling")},
    ),
    (
        "deleteProject",
        "mutation ($p: ID!) { deleteProject(input: {id: $p}) { deletedId } }",
        {"p": ("Project", "sibling")},
    ),
    (
        "createEnvironment",
        "mutation ($m: ID!) { createEnvironment(input: "
        '{modelId: $m, name: "e", type: PRE_PRODUCTION}) { environment { id } } }',
        {"m": ("Model", "model_out")},
    ),
    (
        "updateEnvironment",
        'mutation ($e: ID!) { updateEnvironment(input: {id: $e, name: "e"}) '
        "{ environment { id } } }",
        {"e": ("Environment", "environment_out")},
    ),
    (
        "moveEnvironment",
        "mutation ($e: ID!) { moveEnvironment(input: {id: $e, position: 2}) "
        "{ environment { id } } }",
        {"e": ("Environment", "environment_out")},
    ),
    (
        "deleteEnvironment",
        "mutation ($e: ID!) { deleteEnvironment(input: {id: $e}) { deletedId } }",
        {"e": ("Environment", "environment_out")},
    ),
    (
        "setDefaultStrategy",
        "mutation ($e: ID!) { setDefaultStrategy(input: {environmentId: $e, "
        'strategy: {name: "default"}}) { environment { id } } }',
        {"e": ("Environment", "environment_out")},
    ),
    (
        "clearDefaultStrategy",
        "mutation ($e: ID!) { clearDefaultStrategy(input: {environmentId: $e}) "
        "{ environment { id } } }",
        {"e": ("Environment", "environment_out")},
    ),
    (
        "createExport",
        "mutation ($e: ID!) { createExport(input: {environmentId: $e, format: CSV}) "
        "{ export { id } } }",
        {"e": ("Environment", "environment_out")},
    ),
    (
        "cancelExport",
        "mutation ($x: ID!) { cancelExport(input: {id: $x}) { export { id } } }",
        {"x": ("Export", "export_out")},
    ),
    (
        "createEvaluation",
        'mutation ($e: ID!) { createEvaluation(input: {environmentId: $e, name: "v"}) '
        "{ evaluation { id } } }",
        {"e": ("Environment", "environment_out")},
    ),
    (
        "updateEvaluation",
        "mutation ($v: ID!) { updateEvaluation(input: {id: $v, deleted: true}) "
        "{ evaluation { id } } }",
        {"v": ("Evaluation", "evaluation_out")},
    ),
    (
        "createSegment",
        'mutation ($m: ID!) { createSegment(input: {modelId: $m, name: "s", '
        'definition: "a > 1"}) { segment { id } } }',
        {"m": ("Model", "model_out")},
    ),
    (
        "updateSegment",
        'mutation ($s: ID!) { updateSegment(input: {id: $s, name: "s"}) { segment { id } } }',
        {"s": ("Segment", "segment_out")},
    ),
    (
        "deleteSegment",
        "mutation ($s: ID!) { deleteSegment(input: {id: $s}) { deletedId } }",
        {"s": ("Segment", "segment_out")},
    ),
    (
        "restoreSegment",
        "mutation ($s: ID!) { restoreSegment(input: {id: $s}) { segment { id } } }",
        {"s": ("Segment", "segment_out")},
    ),
    (
        "ingestEvents",
        "mutation ($e: ID!) { ingestEvents(input: {environmentId: $e, events: "
        '[{timestamp: "2026-11-01T00:00:00Z", event: "x", distinctId: "d"}]}) '
        "{ accepted } }",
        {"e": ("Environment", "environment_out")},
    ),
    (
        "addProjectMember",
        "mutation ($p: ID!) { addProjectMember(input: {projectId: $p, "
        'email: "grace@example.com", role: EDITOR}) { project { id } } }',
        {"p": ("Project", "sibling")},
    ),
    (
        "removeProjectMember",
        "mutation ($p: ID!) { removeProjectMember(input: {projectId: $p, "
        'email: "grace@example.com"}) { project { id } } }',
        {"p": ("Project", "sibling")},
    ),
]

_TABLES = (
    "models",
    "environments",
    "segments",
    "events",
    "project_members",
    "exports",
    "evaluations",
)


async def _snapshot(conn: asyncpg.Connection, project: UUID) -> list[str]:
    rows = []
    for table in _TABLES:
        column = "project_id"
        found = await conn.fetch(f"SELECT * FROM {table} WHERE {column} = $1 ORDER BY 1", project)
        rows.append(json.dumps([dict(r) for r in found], default=str, sort_keys=True))
    rows.append(str(await conn.fetchrow("SELECT * FROM projects WHERE id = $1", project)))
    return rows


@pytest.mark.parametrize(("name", "mutation", "variables"), WRITES, ids=[w[0] for w in WRITES])
async def test_writes_outside_its_projects_are_not_found(
    client: Client,
    conn: asyncpg.Connection,
    demo: Demo,
    name: str,
    mutation: str,
    variables: dict[str, tuple[str, str]],
) -> None:
    if name == "restoreSegment":
        await conn.execute("UPDATE segments SET deleted_at = now() WHERE id = $1", demo.segment_out)
    given = {
        key: global_id(type_name, getattr(demo, row)) for key, (type_name, row) in variables.items()
    }
    before = await _snapshot(conn, demo.sibling)
    found = await error(client, mutation, demo.restricted, **given)
    assert (found["extensions"]["code"], found["data"]) == ("NOT_FOUND", None), found
    assert await _snapshot(conn, demo.sibling) == before


ORGANIZATION_WRITES = [
    (
        'mutation ($o: ID!) { createProject(input: {organizationId: $o, name: "new"}) '
        "{ project { id } } }",
        "this token is restricted to projects: it cannot create projects",
    ),
    (
        "mutation ($o: ID!) { addOrganizationMember(input: {organizationId: $o, "
        'email: "new@example.com", role: ADMIN}) { organization { id } } }',
        "this token is restricted to projects: it cannot change an organization's members",
    ),
]


@pytest.mark.parametrize(("mutation", "message"), ORGANIZATION_WRITES)
async def test_organization_writes_are_forbidden(
    client: Client, conn: asyncpg.Connection, demo: Demo, mutation: str, message: str
) -> None:
    before = await conn.fetchval("SELECT count(*) FROM projects") + await conn.fetchval(
        "SELECT count(*) FROM users"
    )
    # its own project's organization, which the token sees
    found = await error(client, mutation, demo.restricted, o=global_id("Organization", demo.acme))
    assert (found["extensions"]["code"], found["message"]) == ("FORBIDDEN", message)
    after = await conn.fetchval("SELECT count(*) FROM projects") + await conn.fetchval(
        "SELECT count(*) FROM users"
    )
    assert after == before


async def test_writes_inside_its_project_work(
    client: Client, conn: asyncpg.Connection, demo: Demo
) -> None:
    mutation = (
        'mutation ($m: ID!) { createSegment(input: {modelId: $m, name: "fresh", '
        'definition: "a > 1"}) { segment { name project { name } } } }'
    )
    found = await data(client, mutation, demo.restricted, m=global_id("Model", demo.model_in))
    assert found == {
        "createSegment": {"segment": {"name": "fresh", "project": {"name": "fraud-detection"}}}
    }


async def test_bulk_ingestion_route(client: Client, conn: asyncpg.Connection, demo: Demo) -> None:
    body = b'{"timestamp": "2026-11-01T00:00:00Z", "event": "x", "distinctId": "d"}\n'
    headers = {
        "Authorization": f"Bearer {demo.restricted}",
        "Content-Type": "application/x-ndjson",
    }
    for environment, status in ((demo.environment_out, 404), (demo.environment_in, 200)):
        response = await client.post(
            f"/v1/environments/{environment}/events", data=body, headers=headers
        )
        assert response.status == status, await response.text()
    counts = await conn.fetch(
        "SELECT environment_id, count(*) AS n FROM events WHERE environment_id = ANY($1) "
        "GROUP BY environment_id",
        [demo.environment_in, demo.environment_out],
    )
    assert {r["environment_id"]: r["n"] for r in counts} == {
        demo.environment_in: 2,  # the demo's one, and this one
        demo.environment_out: 1,
    }


async def test_export_download_route(
    client: Client, conn: asyncpg.Connection, demo: Demo, tokens: Tokens
) -> None:
    # the demo's expired exports: 410 to whoever sees them, 404 to whoever does not
    expired = (
        "SELECT id FROM exports WHERE project_id = $1 AND status = 'EXPIRED' ORDER BY id LIMIT 1"
    )
    inside, outside = [await _id(conn, expired, p) for p in (demo.allowed, demo.sibling)]
    for token, export, status in (
        (demo.restricted, outside, 404),
        (demo.restricted, inside, 410),
        (tokens.ada, outside, 410),  # the restriction hides it, not the user's rights
    ):
        response = await client.get(
            f"/v1/exports/{export}/content", headers={"Authorization": f"Bearer {token}"}
        )
        assert response.status == status, await response.text()


async def test_a_compiled_read_is_cached_apart_from_the_unrestricted_tokens(
    client: Client, demo: Demo, tokens: Tokens
) -> None:
    # the same query, the same user, alternately: the compiled path's plan and
    # statement caches must tell the two tokens apart
    query = "{ projects { totalCount } }"
    before = executed(client, "compiled")
    answers = [
        (await data(client, query, token))["projects"]["totalCount"]
        for token in (demo.restricted, tokens.ada, demo.restricted, tokens.ada)
    ]
    assert answers == [1, 6, 1, 6]
    assert executed(client, "compiled") - before == 4
