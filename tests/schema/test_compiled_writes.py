"""Compiled writes (issue 18): a mutation that writes in one statement answers
from that statement, its payload built from the written row. Each answer is
compared with the resolver path's: a payload with what the resolver path reads
of the same row afterwards, an error with the resolver app's answer to the same
request (an error writes nothing, so both see the same data)."""

from __future__ import annotations

from typing import Any

import asyncpg

from db.tokens import create_token
from schema.ids import global_id
from tests.schema.compiled_support import both, executed, resolver_client
from tests.schema.conftest import Tokens
from tests.support import Client, data

__all__ = ["resolver_client"]

# every kind of field a payload's object may select, aliases and fragments too
SEGMENT_FIELDS = """
  __typename id uuid name description definition createdAt updatedAt deletedAt
  author: createdBy { __typename id name email } updatedBy { name }
  model { name project { name organization { name } } }
  ...more
"""
FRAGMENT = "fragment more on Segment { theModel: model { id version } }"
CREATE = f"""mutation Create($input: CreateSegmentInput!) {{
  created: createSegment(input: $input) {{ __typename segment {{ {SEGMENT_FIELDS} }} }}
}}
{FRAGMENT}"""
UPDATE = f"""mutation Update($input: UpdateSegmentInput!) {{
  updateSegment(input: $input) {{ segment {{ {SEGMENT_FIELDS} }} }}
}}
{FRAGMENT}"""
READ = f"""query Read($id: ID!) {{ segment(id: $id) {{ {SEGMENT_FIELDS} }} }}
{FRAGMENT}"""


async def _models(conn: asyncpg.Connection) -> tuple[str, str, str]:
    """Ada's fraud model, a model Grace only reads, and Alan's tenant's model."""
    row = await conn.fetchrow(
        """SELECT
             (SELECT m.id FROM models m JOIN projects p ON p.id = m.project_id
              JOIN organizations o ON o.id = p.organization_id
           WHERE o.name = 'Acme Analytics' AND p.name = 'fraud-detection'
             AND m.name = 'xgb-classifier') AS fraud,
             (SELECT m.id FROM models m JOIN project_members pm ON pm.project_id = m.project_id
              JOIN users u ON u.id = pm.user_id
              WHERE u.email = 'grace@example.com' AND pm.role = 'VIEWER'
              ORDER BY m.id LIMIT 1) AS viewed,
             (SELECT m.id FROM models m JOIN projects p ON p.id = m.project_id
              JOIN organizations o ON o.id = p.organization_id
              WHERE o.name <> 'Acme Analytics' ORDER BY m.id LIMIT 1) AS elsewhere"""
    )
    assert row is not None
    return tuple(global_id("Model", row[k]) for k in ("fraud", "viewed", "elsewhere"))  # type: ignore[return-value]


async def test_a_create_answers_from_its_statement_as_the_resolver_path_reads_it(
    client: Client, resolver_client: Client, conn: asyncpg.Connection, tokens: Tokens
) -> None:
    fraud, _, _ = await _models(conn)
    given = {"modelId": fraud, "name": "compiled", "definition": "age >= 18"}
    before = executed(client, "compiled")
    answer = await data(client, CREATE, tokens.ada, input=given)
    assert executed(client, "compiled") == before + 1
    created = answer["created"]
    assert created["__typename"] == "CreateSegmentPayload"
    segment = created["segment"]
    read = await data(resolver_client, READ, tokens.ada, id=segment["id"])
    assert segment == read["segment"]
    assert (segment["name"], segment["author"]["email"], segment["theModel"]["id"]) == (
        "compiled", "ada@example.com", fraud,
    )  # fmt: skip
    assert segment["model"]["project"] == {
        "name": "fraud-detection", "organization": {"name": "Acme Analytics"}
    }  # fmt: skip
    assert await conn.fetchval("SELECT count(*) FROM segments WHERE name = 'compiled'") == 1


async def test_an_update_answers_from_its_statement(
    client: Client, resolver_client: Client, conn: asyncpg.Connection, tokens: Tokens
) -> None:
    fraud, _, _ = await _models(conn)
    given = {"modelId": fraud, "name": "to-change", "definition": "age >= 18"}
    created = (await data(client, CREATE, tokens.ada, input=given))["created"]["segment"]
    before = executed(client, "compiled")
    changed = await data(
        client, UPDATE, tokens.grace,
        input={"id": created["id"], "name": "changed", "expectedUpdatedAt": created["updatedAt"]},
    )  # fmt: skip
    assert executed(client, "compiled") == before + 1
    segment = changed["updateSegment"]["segment"]
    assert (segment["name"], segment["updatedBy"], segment["author"]["name"]) == (
        "changed", {"name": "Grace Hopper"}, "Ada Lovelace",
    )  # fmt: skip
    read = await data(resolver_client, READ, tokens.grace, id=segment["id"])
    assert segment == read["segment"]


async def test_refused_writes_answer_as_the_resolver_path_in_one_statement(
    client: Client, resolver_client: Client, conn: asyncpg.Connection, tokens: Tokens
) -> None:
    """Each refusal from the write's own statement (after the token's): the same
    status, body and code as the resolver path's, and nothing written."""
    fraud, viewed, elsewhere = await _models(conn)
    taken = {"modelId": fraud, "name": "taken", "definition": "age >= 18"}
    existing = (await data(client, CREATE, tokens.ada, input=taken))["created"]["segment"]
    stale = "2001-01-01T00:00:00Z"
    cases = [
        (CREATE, tokens.alan, {**taken, "modelId": fraud}, "NOT_FOUND"),  # another tenant
        (CREATE, tokens.ada, {**taken, "modelId": elsewhere}, "NOT_FOUND"),
        (CREATE, tokens.grace, {**taken, "modelId": viewed}, "FORBIDDEN"),  # she reads it
        (CREATE, tokens.ada, taken, "CONFLICT"),  # the name is taken
        (UPDATE, tokens.ada, {"id": existing["id"], "expectedUpdatedAt": stale}, "CONFLICT"),
        (UPDATE, tokens.alan, {"id": existing["id"], "name": "mine"}, "NOT_FOUND"),
    ]
    segments = await conn.fetchval("SELECT count(*) FROM segments")
    for query, token, given, code in cases:
        compiled, resolved = await both(client, resolver_client, query, token, {"input": given})
        assert compiled[1]["errors"][0]["extensions"]["code"] == code, compiled
        assert compiled[1]["data"] is None
        # status, body; the compiled app's executor and statements: the token's, the write's
        assert (compiled[0], compiled[1], compiled[2:]) == (
            resolved[0],
            resolved[1],
            ("compiled", 2),
        )
    assert await conn.fetchval("SELECT count(*) FROM segments") == segments
    assert await conn.fetchval("SELECT name FROM segments WHERE name = 'taken'") == "taken"


async def test_what_the_statement_cannot_answer_goes_to_the_resolver_path(
    client: Client, resolver_client: Client, conn: asyncpg.Connection, tokens: Tokens
) -> None:
    """Input the resolver refuses, a missing scope, a list in the payload (a read in
    the write's statement would not see the write) and two mutations in one
    request are the resolver path's, with its answers."""
    fraud, _, _ = await _models(conn)
    issued = await create_token(conn, email="ada@example.com", scopes=["segment:read"])
    with_list = """mutation ($input: CreateSegmentInput!) { createSegment(input: $input) {
      segment { name model { segments { totalCount } } } } }"""
    two = """mutation { a: createSegment(input: {modelId: "%s", name: "a", definition: "x"}) {
      segment { name } } b: createSegment(input: {modelId: "%s", name: "b", definition: "y"}) {
      segment { name } } }""" % (fraud, fraud)  # noqa: UP031 (GraphQL's braces)
    count = await conn.fetchval(
        "SELECT count(*) FROM segments s JOIN models m ON m.id = s.model_id "
        "JOIN projects p ON p.id = m.project_id JOIN organizations o ON o.id = p.organization_id "
        "WHERE o.name = 'Acme Analytics' AND p.name = 'fraud-detection' "
        "AND m.name = 'xgb-classifier' AND s.deleted_at IS NULL"
    )
    before = executed(client, "compiled")
    answer = await data(
        client, with_list, tokens.ada,
        input={"modelId": fraud, "name": "listed", "definition": "age >= 18"},
    )  # fmt: skip
    # the new segment is counted: the list was read after the write
    assert answer["createSegment"]["segment"] == {
        "name": "listed", "model": {"segments": {"totalCount": count + 1}}
    }  # fmt: skip
    assert (await data(client, two, tokens.ada)) == {
        "a": {"segment": {"name": "a"}}, "b": {"segment": {"name": "b"}}
    }  # fmt: skip
    for token, given, code in (
        (tokens.ada, {"modelId": fraud, "name": " padded", "definition": "x"}, "BAD_USER_INPUT"),
        (tokens.ada, {"modelId": fraud, "name": "p", "definition": "(("}, "BAD_USER_INPUT"),
        (tokens.ada, {"modelId": "bm90LWFuLWlk", "name": "p", "definition": "x"}, "BAD_USER_INPUT"),
        (issued.token, {"modelId": fraud, "name": "p", "definition": "x"}, "FORBIDDEN"),
    ):
        compiled, resolved = await both(client, resolver_client, CREATE, token, {"input": given})
        assert compiled[1]["errors"][0]["extensions"]["code"] == code, compiled
        assert compiled[:2] == resolved[:2]
    assert executed(client, "compiled") == before


MODEL_FIELDS = "__typename id uuid name version createdAt updatedAt project { name assetType }"
PROJECT_FIELDS = "__typename id name assetType updatedAt organization { name }"
MODEL_WRITES = {
    "createModel": f"""mutation ($input: CreateModelInput!) {{
      createModel(input: $input) {{ model {{ {MODEL_FIELDS} }} }} }}""",
    "updateModel": f"""mutation ($input: UpdateModelInput!) {{
      updateModel(input: $input) {{ model {{ {MODEL_FIELDS} }} }} }}""",
    "updateProject": f"""mutation ($input: UpdateProjectInput!) {{
      updateProject(input: $input) {{ project {{ {PROJECT_FIELDS} }} }} }}""",
}
READ_MODEL = f"query ($id: ID!) {{ model(id: $id) {{ {MODEL_FIELDS} }} }}"
READ_PROJECT = f"query ($id: ID!) {{ project(id: $id) {{ {PROJECT_FIELDS} }} }}"


async def test_models_and_projects_write_in_one_statement_as_the_resolvers_do(
    client: Client, resolver_client: Client, conn: asyncpg.Connection, tokens: Tokens
) -> None:
    """createModel, updateModel and updateProject: payloads as the resolver path
    reads the row, refusals as it answers them, each the token's statement and the
    write's."""
    project = global_id(
        "Project",
        await conn.fetchval(
            "SELECT p.id FROM projects p JOIN organizations o ON o.id = p.organization_id "
            "WHERE o.name = 'Acme Analytics' AND p.name = 'fraud-detection'"
        ),
    )
    before = executed(client, "compiled")
    new = {"projectId": project, "name": "compiled-model", "version": "v7"}
    model = (await data(client, MODEL_WRITES["createModel"], tokens.ada, input=new))["createModel"]
    assert (
        model["model"]
        == (await data(resolver_client, READ_MODEL, tokens.ada, id=model["model"]["id"]))["model"]
    )
    assert (model["model"]["name"], model["model"]["version"]) == ("compiled-model", "v7")
    changes = {"id": model["model"]["id"], "version": "v8"}
    changed = await data(client, MODEL_WRITES["updateModel"], tokens.ada, input=changes)
    assert changed["updateModel"]["model"]["version"] == "v8"
    renamed = await data(
        client, MODEL_WRITES["updateProject"], tokens.ada,
        input={"id": project, "assetType": "GEN_AI_APP"},
    )  # fmt: skip
    assert (
        renamed["updateProject"]["project"]
        == (await data(resolver_client, READ_PROJECT, tokens.ada, id=project))["project"]
    )
    assert renamed["updateProject"]["project"]["assetType"] == "GEN_AI_APP"
    assert executed(client, "compiled") == before + 3
    stale = "2001-01-01T00:00:00Z"
    for name, token, given, code in (
        ("createModel", tokens.alan, new, "NOT_FOUND"),  # another tenant's project
        ("createModel", tokens.ada, {**new, "version": "v8"}, "CONFLICT"),  # taken
        ("updateModel", tokens.ada, {**changes, "expectedUpdatedAt": stale}, "CONFLICT"),
        ("updateModel", tokens.alan, changes, "NOT_FOUND"),
        ("updateProject", tokens.ada, {"id": project, "expectedUpdatedAt": stale}, "CONFLICT"),
        ("updateProject", tokens.alan, {"id": project, "name": "mine"}, "NOT_FOUND"),
    ):
        compiled, resolved = await both(
            client, resolver_client, MODEL_WRITES[name], token, {"input": given}
        )
        assert compiled[1].get("errors", [{}])[0].get("extensions", {}).get("code") == code, (
            name,
            compiled,
        )
        assert (compiled[:2], compiled[2:]) == (resolved[:2], ("compiled", 2)), name


ENVIRONMENT_FIELDS = """__typename id name type kind enabled rowCount protected sortOrder
  createdAt model { name project { name } }"""
CREATE_ENVIRONMENT = f"""mutation ($input: CreateEnvironmentInput!) {{
  createEnvironment(input: $input) {{ environment {{ {ENVIRONMENT_FIELDS} }} }} }}"""
READ_ENVIRONMENT = f"query ($id: ID!) {{ environment(id: $id) {{ {ENVIRONMENT_FIELDS} }} }}"


async def test_an_environment_is_created_last_in_one_statement(
    client: Client, resolver_client: Client, conn: asyncpg.Connection, tokens: Tokens
) -> None:
    """createEnvironment: the model locked FOR UPDATE in the write's statement, the
    new environment after the model's last (the defaults trigger counts them), its
    payload as the resolver path reads it; refusals as the resolver path's."""
    fraud, viewed, _ = await _models(conn)
    before = executed(client, "compiled")
    positions = []
    for name in ("canary-a", "canary-b"):
        given = {"modelId": fraud, "name": name, "kind": "PRODUCTION", "rowCount": "3000000000"}
        created = await data(client, CREATE_ENVIRONMENT, tokens.ada, input=given)
        environment = created["createEnvironment"]["environment"]
        read = await data(resolver_client, READ_ENVIRONMENT, tokens.ada, id=environment["id"])
        assert environment == read["environment"]
        positions.append(environment["sortOrder"])
        assert (environment["type"], environment["rowCount"]) == ("PRODUCTION", "3000000000")
    assert positions[1] == positions[0] + 1
    assert executed(client, "compiled") == before + 2
    taken = {"modelId": fraud, "name": "canary-a"}
    for token, given, code in (
        (tokens.alan, {**taken, "name": "x"}, "NOT_FOUND"),
        (tokens.grace, {**taken, "modelId": viewed, "name": "x"}, "FORBIDDEN"),
        (tokens.ada, taken, "CONFLICT"),
    ):
        compiled, resolved = await both(
            client, resolver_client, CREATE_ENVIRONMENT, token, {"input": given}
        )
        assert compiled[1]["errors"][0]["extensions"]["code"] == code, compiled
        assert (compiled[:2], compiled[2:]) == (resolved[:2], ("compiled", 2))


UPDATE_ENVIRONMENT = f"""mutation ($input: UpdateEnvironmentInput!) {{
  updateEnvironment(input: $input) {{ environment {{ {ENVIRONMENT_FIELDS} updatedAt }} }} }}"""


async def test_an_environment_update_settles_kind_and_type_in_one_statement(
    client: Client, resolver_client: Client, conn: asyncpg.Connection, tokens: Tokens
) -> None:
    """updateEnvironment: the kind and type rule (`settled`) applied in the write's
    statement, which reads the row's kind; payloads as the resolver path reads the
    row, refusals as its answers."""
    fraud, _, _ = await _models(conn)
    made = {"modelId": fraud, "name": "settled", "kind": "PRODUCTION"}
    created = await data(client, CREATE_ENVIRONMENT, tokens.ada, input=made)
    environment_id = created["createEnvironment"]["environment"]["id"]
    before = executed(client, "compiled")
    # (the change, then kind and type after it)
    steps: list[tuple[dict[str, Any], tuple[str, str]]] = [
        ({"type": "PRE_PRODUCTION"}, ("CUSTOM", "PRE_PRODUCTION")),  # kind was PRODUCTION
        ({"type": "PRODUCTION"}, ("CUSTOM", "PRODUCTION")),  # a kind not PRODUCTION stays
        ({"kind": "STAGING"}, ("STAGING", "PRODUCTION")),  # the type stays
        ({"kind": "PRODUCTION"}, ("PRODUCTION", "PRODUCTION")),
        ({"kind": "DEVELOPMENT", "type": "PRE_PRODUCTION"}, ("DEVELOPMENT", "PRE_PRODUCTION")),
        ({"rowCount": "7", "enabled": False}, ("DEVELOPMENT", "PRE_PRODUCTION")),
    ]
    for change, (kind, type_) in steps:
        answer = await data(
            client, UPDATE_ENVIRONMENT, tokens.ada, input={"id": environment_id, **change}
        )
        environment = answer["updateEnvironment"]["environment"]
        assert (environment["kind"], environment["type"]) == (kind, type_), change
        read = await data(resolver_client, READ_ENVIRONMENT, tokens.ada, id=environment_id)
        assert {k: v for k, v in environment.items() if k != "updatedAt"} == read["environment"]
    assert executed(client, "compiled") == before + len(steps)
    stale = "2001-01-01T00:00:00Z"
    refusals: list[tuple[str, dict[str, Any], str]] = [
        (tokens.ada, {"expectedUpdatedAt": stale}, "CONFLICT"),
        (tokens.alan, {"name": "mine"}, "NOT_FOUND"),
        (tokens.ada, {"kind": "PRODUCTION", "type": "PRE_PRODUCTION"}, "BAD_USER_INPUT"),
    ]
    for token, given, code in refusals:
        compiled, resolved = await both(
            client, resolver_client, UPDATE_ENVIRONMENT, token,
            {"input": {"id": environment_id, **given}},
        )  # fmt: skip
        assert compiled[1]["errors"][0]["extensions"]["code"] == code, compiled
        assert compiled[:2] == resolved[:2]


async def test_a_shape_is_kept_per_document_and_the_variables_outside_its_input(
    client: Client, conn: asyncpg.Connection, tokens: Tokens
) -> None:
    """A write's shape (its payload's plan) is made once per document, scopes and
    the values of the variables outside the mutation's input (here `$full`, in
    the payload's @include): each request still writes its own input, and a
    payload follows its own request's @include."""
    fraud, _, _ = await _models(conn)
    create = """mutation ($model: ID!, $name: String!, $full: Boolean!) {
      createSegment(input: {modelId: $model, name: $name, definition: $name}) {
        segment { name definition model @include(if: $full) { name } }
      }
    }"""
    before = executed(client, "compiled")
    made = [
        (await data(client, create, tokens.ada, model=fraud, name=name, full=full))[
            "createSegment"
        ]["segment"]
        for name, full in (("s-1", True), ("s-2", False), ("s-3", True), ("s-4", False))
    ]
    assert executed(client, "compiled") == before + 4
    assert made == [
        {"name": "s-1", "definition": "s-1", "model": {"name": "xgb-classifier"}},
        {"name": "s-2", "definition": "s-2"},
        {"name": "s-3", "definition": "s-3", "model": {"name": "xgb-classifier"}},
        {"name": "s-4", "definition": "s-4"},
    ]
    rows = await conn.fetch(
        "SELECT name, definition FROM segments WHERE name LIKE 's-_' ORDER BY 1"
    )
    assert [tuple(r) for r in rows] == [(f"s-{i}", f"s-{i}") for i in range(1, 5)]


async def test_a_request_whose_variables_do_not_coerce_leaves_the_shape_alone(
    client: Client, conn: asyncpg.Connection, tokens: Tokens
) -> None:
    """A shape is kept whatever the input's values, so one request's input that does
    not coerce (a refusal of its own) must not keep "no shape" for the document:
    every later request of it would then go the slower way."""
    fraud, _, _ = await _models(conn)
    create = """mutation ($model: ID!, $name: String!) {
      createSegment(input: {modelId: $model, name: $name, definition: "x"}) { segment { name } }
    }"""
    refused = await client.post(
        "/graphql",
        json={"query": create, "variables": {"model": fraud, "name": None}},
        headers={"Authorization": f"Bearer {tokens.ada}"},
    )
    assert (await refused.json())["errors"][0]["message"].startswith("Variable '$name'")
    before = executed(client, "compiled")
    answer = await data(client, create, tokens.ada, model=fraud, name="after-a-refusal")
    assert answer == {"createSegment": {"segment": {"name": "after-a-refusal"}}}
    assert executed(client, "compiled") == before + 1
