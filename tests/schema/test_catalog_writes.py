"""Organization, project, model and membership mutations through HTTP."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Awaitable
from typing import Any, TypeVar

import asyncpg
import pytest

from gateway.keys import STATEMENTS
from schema.ids import global_id
from tests.schema.conftest import Tokens
from tests.service import eventually, waiting_on_locks
from tests.support import Client, data, error, graphql

CREATE_ORGANIZATION = """
mutation ($name: String!) { createOrganization(input: {name: $name}) { organization { id name } } }
"""
CREATE_PROJECT = """
mutation ($org: ID!, $name: String!) {
  createProject(input: {organizationId: $org, name: $name, assetType: GEN_AI_APP}) {
    project { id name assetType organization { name } }
  }
}
"""
DELETE_PROJECT = "mutation ($id: ID!) { deleteProject(input: {id: $id}) { deletedId } }"
CREATE_MODEL = """
mutation ($project: ID!, $name: String!, $version: String) {
  createModel(input: {projectId: $project, name: $name, version: $version}) {
    model { id name version project { name } }
  }
}
"""
DELETE_MODEL = "mutation ($id: ID!) { deleteModel(input: {id: $id}) { deletedId } }"
CREATE_ENVIRONMENT = """
mutation ($model: ID!) {
  createEnvironment(input: {modelId: $model, name: "dev", type: PRE_PRODUCTION}) {
    environment { id }
  }
}
"""
_T = TypeVar("_T")
DELETE_ENVIRONMENT = "mutation ($id: ID!) { deleteEnvironment(input: {id: $id}) { deletedId } }"
ADD_ORG_MEMBER = """
mutation ($org: ID!, $email: String!) {
  addOrganizationMember(input: {organizationId: $org, email: $email, role: MEMBER}) {
    organization { name }
  }
}
"""
ADD_PROJECT_MEMBER = """
mutation ($project: ID!, $email: String!) {
  addProjectMember(input: {projectId: $project, email: $email, role: VIEWER}) { project { name } }
}
"""
REMOVE_PROJECT_MEMBER = """
mutation ($project: ID!, $email: String!) {
  removeProjectMember(input: {projectId: $project, email: $email}) { project { name } }
}
"""
SEES = "{ organizations { totalCount } projects { totalCount } }"


async def _id(conn: asyncpg.Connection, table: str, type_name: str, where: str) -> str:
    return global_id(
        type_name, await conn.fetchval(f"SELECT id FROM {table} WHERE {where} LIMIT 1")
    )


async def _while_held(
    database_url: str, conn: asyncpg.Connection, held: str, request: Awaitable[_T]
) -> _T:
    """The answer to `request`, sent while another transaction has run `held` and not
    committed: once the request waits for it (a lock, and no other wait), it commits."""
    other = await asyncpg.connect(database_url)
    try:
        async with other.transaction():
            await other.execute(held)
            sent = asyncio.ensure_future(request)

            async def waits() -> bool:
                return await waiting_on_locks(conn) > 0

            await eventually(waits)
            assert await waiting_on_locks(conn) == 1
            assert not sent.done()
        return await sent
    finally:
        await other.close()


async def test_only_superusers_create_organizations(
    client: Client, conn: asyncpg.Connection, tokens: Tokens
) -> None:
    found = await error(client, CREATE_ORGANIZATION, tokens.ada, name="Ada Corp")
    assert (found["extensions"]["code"], found["message"]) == (
        "FORBIDDEN",
        "only a superuser token may create organizations",
    )
    # the organization and its first member in one statement, besides the token's
    # check (issue 18: writes in one round trip)
    assert client.app is not None
    before = client.app[STATEMENTS].total
    created = await data(client, CREATE_ORGANIZATION, tokens.root, name="Umbrella")
    assert created["createOrganization"]["organization"]["name"] == "Umbrella"
    assert client.app[STATEMENTS].total - before == 2
    role = await conn.fetchval(
        """SELECT m.role::text FROM organization_members m JOIN users u ON u.id = m.user_id
           JOIN organizations o ON o.id = m.organization_id
           WHERE o.name = 'Umbrella' AND u.email = 'root@example.com'"""
    )
    assert role == "ADMIN"
    duplicate = await error(client, CREATE_ORGANIZATION, tokens.root, name="Umbrella")
    assert (duplicate["extensions"]["code"], duplicate["extensions"]["field"]) == (
        "CONFLICT",
        "name",
    )


async def test_a_write_failing_half_way_leaves_nothing(
    client: Client, conn: asyncpg.Connection, tokens: Tokens
) -> None:
    # createOrganization inserts the organization and its first member: make the
    # second insert fail, and the first must be gone too
    await conn.execute(
        """CREATE FUNCTION refuse() RETURNS trigger LANGUAGE plpgsql AS
           $$ BEGIN RAISE EXCEPTION 'refused by the test'; END $$;
           CREATE TRIGGER refuse BEFORE INSERT ON organization_members
           FOR EACH ROW EXECUTE FUNCTION refuse();"""
    )
    found = await error(client, CREATE_ORGANIZATION, tokens.root, name="Half Way")
    assert (found["extensions"]["code"], found["message"]) == (
        "INTERNAL_SERVER_ERROR",
        "Internal server error",
    )
    assert await conn.fetchval("SELECT count(*) FROM organizations WHERE name = 'Half Way'") == 0


async def test_projects_and_models(
    client: Client, conn: asyncpg.Connection, tokens: Tokens
) -> None:
    acme = await _id(conn, "organizations", "Organization", "name = 'Acme Analytics'")
    created = await data(client, CREATE_PROJECT, tokens.ada, org=acme, name="ranking")
    project = created["createProject"]["project"]
    assert {k: v for k, v in project.items() if k != "id"} == {
        "name": "ranking",
        "assetType": "GEN_AI_APP",
        "organization": {"name": "Acme Analytics"},
    }
    # Grace is a MEMBER of Acme, not an ADMIN
    found = await error(client, CREATE_PROJECT, tokens.grace, org=acme, name="mine")
    assert found["extensions"]["code"] == "FORBIDDEN"
    found = await error(client, CREATE_PROJECT, tokens.ada, org=acme, name="ranking")
    assert (found["extensions"]["code"], found["extensions"]["field"]) == ("CONFLICT", "name")

    model = await data(
        client, CREATE_MODEL, tokens.ada, project=project["id"], name="bert", version=None
    )
    assert model["createModel"]["model"]["version"] == "v1"
    model_id = model["createModel"]["model"]["id"]
    again = await error(
        client, CREATE_MODEL, tokens.ada, project=project["id"], name="bert", version="v1"
    )
    assert again["extensions"]["code"] == "CONFLICT"

    # an environment keeps the project; once the model is empty it goes with the project
    created_environment = await data(client, CREATE_ENVIRONMENT, tokens.ada, model=model_id)
    environment = created_environment["createEnvironment"]["environment"]["id"]
    refused = await error(client, DELETE_PROJECT, tokens.ada, id=project["id"])
    assert (refused["extensions"]["code"], refused["message"]) == (
        "CONFLICT",
        "the project still has environments or segments: delete them first",
    )
    await data(client, DELETE_ENVIRONMENT, tokens.ada, id=environment)
    await data(client, DELETE_PROJECT, tokens.ada, id=project["id"])
    assert await conn.fetchval("SELECT count(*) FROM projects WHERE name = 'ranking'") == 0
    assert await conn.fetchval("SELECT count(*) FROM models WHERE name = 'bert'") == 0
    # a model on its own goes the same way
    alone = await data(client, CREATE_MODEL, tokens.ada, project=await _id(
        conn, "projects", "Project", "name = 'fraud-detection'"
    ), name="solo", version=None)  # fmt: skip
    await data(client, DELETE_MODEL, tokens.ada, id=alone["createModel"]["model"]["id"])


async def test_a_model_with_environments_stays(
    client: Client, conn: asyncpg.Connection, tokens: Tokens
) -> None:
    model = await _id(conn, "models", "Model", "name = 'xgb-classifier'")
    found = await error(client, DELETE_MODEL, tokens.root, id=model)
    assert (found["extensions"]["code"], found["message"]) == (
        "CONFLICT",
        "the model still has environments or segments: delete them first",
    )


async def test_memberships_decide_what_a_user_sees(
    client: Client, conn: asyncpg.Connection, tokens: Tokens
) -> None:
    acme = await _id(conn, "organizations", "Organization", "name = 'Acme Analytics'")
    fraud = await _id(
        conn, "projects", "Project",
        "name = 'fraud-detection' AND organization_id = "
        "(SELECT id FROM organizations WHERE name = 'Acme Analytics')",
    )  # fmt: skip
    assert await data(client, SEES, tokens.alan) == {
        "organizations": {"totalCount": 1},
        "projects": {"totalCount": 3},
    }
    # a project role needs membership of the organization first
    found = await error(
        client, ADD_PROJECT_MEMBER, tokens.ada, project=fraud, email="alan@example.com"
    )
    assert (found["extensions"]["code"], found["extensions"]["field"]) == (
        "BAD_USER_INPUT",
        "email",
    )
    # only ADMINs manage members
    found = await error(client, ADD_ORG_MEMBER, tokens.grace, org=acme, email="alan@example.com")
    assert found["extensions"]["code"] == "FORBIDDEN"

    await data(client, ADD_ORG_MEMBER, tokens.ada, org=acme, email="ALAN@example.com")
    # a MEMBER sees the organization but none of its projects yet
    assert await data(client, SEES, tokens.alan) == {
        "organizations": {"totalCount": 2},
        "projects": {"totalCount": 3},
    }
    # each in one statement besides the token's check, the project answered from it
    for query, projects in [(ADD_PROJECT_MEMBER, 4), (REMOVE_PROJECT_MEMBER, 3)]:
        answer, statements = await _answer(
            client, query, tokens.ada, project=fraud, email="alan@example.com"
        )
        assert answer[1]["data"] in (
            {"addProjectMember": {"project": {"name": "fraud-detection"}}},
            {"removeProjectMember": {"project": {"name": "fraud-detection"}}},
        )
        assert statements == 2
        assert (await data(client, SEES, tokens.alan))["projects"] == {"totalCount": projects}
    gone = await error(
        client, REMOVE_PROJECT_MEMBER, tokens.ada, project=fraud, email="alan@example.com"
    )
    assert (gone["extensions"]["code"], gone["message"]) == (
        "NOT_FOUND",
        "alan@example.com has no role in this project",
    )


async def _answer(client: Client, query: str, token: str, **variables: Any) -> tuple[Any, int]:
    """The status and body, without the request id, and the statements run."""
    before = client.app[STATEMENTS].total
    status, body = await graphql(client, query, token, **variables)
    for found in body.get("errors") or ():
        found["extensions"].pop("requestId", None)
    return (status, body), client.app[STATEMENTS].total - before


async def test_membership_answers_say_nothing_of_whether_an_email_is_known(
    client: Client, conn: asyncpg.Connection, tokens: Tokens
) -> None:
    acme = await _id(conn, "organizations", "Organization", "name = 'Acme Analytics'")
    fraud = await _id(
        conn, "projects", "Project",
        "name = 'fraud-detection' AND organization_id = "
        "(SELECT id FROM organizations WHERE name = 'Acme Analytics')",
    )  # fmt: skip
    # alan has an account but no role in Acme nor its projects; nobody has none
    known, unknown = "alan@example.com", "Nobody.Here@example.com"
    for query, variables in [
        (REMOVE_PROJECT_MEMBER, {"project": fraud}),
        (ADD_PROJECT_MEMBER, {"project": fraud}),
        (ADD_ORG_MEMBER, {"org": acme}),
    ]:
        answers = []
        for email in (known, unknown):
            answer, statements = await _answer(client, query, tokens.ada, email=email, **variables)
            answers.append((json.loads(json.dumps(answer).replace(email, "EMAIL")), statements))
        assert answers[0] == answers[1]
        # the token's check and the write's one statement (issue 18; 4 before: the
        # token's, the project locked, the admin check, the change)
        expected = {
            REMOVE_PROJECT_MEMBER: (
                "EMAIL has no role in this project", "NOT_FOUND", "removeProjectMember", 2
            ),
            ADD_PROJECT_MEMBER: (
                "the user must belong to the project's organization first", "BAD_USER_INPUT",
                "addProjectMember", 2,
            ),
        }  # fmt: skip
        [status, body], statements = answers[0]
        if query in expected:
            message, code, path, count = expected[query]
            assert (status, body, statements) == (200, {"data": None, "errors": [{
                "message": message, "locations": [{"line": 3, "column": 3}], "path": [path],
                "extensions": {"code": code, "field": "email"},
            }]}, count)  # fmt: skip
        else:
            assert (status, body, statements) == (
                200,
                {"data": {"addOrganizationMember": {"organization": {"name": "Acme Analytics"}}}},
                # the token's check and one statement: the organization locked, the
                # admin check, the user found or made, the membership, the payload (6
                # before: the last four in a transaction, the organization read back)
                2,
            )
    # the unknown address is a user now, named after it, with no token to act with
    row = await conn.fetchrow(
        """SELECT u.name, u.email, m.role::text AS role,
                  (SELECT count(*) FROM api_tokens t WHERE t.user_id = u.id) AS tokens
           FROM users u JOIN organization_members m ON m.user_id = u.id
           WHERE lower(u.email) = 'nobody.here@example.com'"""
    )
    assert row is not None
    assert dict(row) == {
        "name": "Nobody.Here",
        "email": "Nobody.Here@example.com",
        "role": "MEMBER",
        "tokens": 0,
    }
    # an address that cannot be one is refused, as it always was
    (status, body), _ = await _answer(client, ADD_ORG_MEMBER, tokens.ada, org=acme, email="x y")
    assert [(e["extensions"]["code"], e["message"]) for e in body["errors"]] == [
        ("BAD_USER_INPUT", "not an e-mail address: 'x y'")
    ]


async def test_a_project_is_created_in_one_statement(
    client: Client, conn: asyncpg.Connection, tokens: Tokens
) -> None:
    """The organization locked if seen, the caller's ADMIN role and the insert in one
    statement, whatever the answer (issue 18: writes in one round trip)."""
    acme = await _id(conn, "organizations", "Organization", "name = 'Acme Analytics'")
    assert client.app is not None
    cases = [
        (tokens.ada, "one-go", None),
        (tokens.grace, "hers", ("FORBIDDEN", "this needs the ADMIN role in the organization")),
        (tokens.alan, "his", ("NOT_FOUND", "organization not found")),
        (tokens.ada, "one-go", ("CONFLICT", "the name is taken by another project here")),
    ]
    for token, name, refusal in cases:
        before = client.app[STATEMENTS].total
        if refusal is None:
            created = await data(client, CREATE_PROJECT, token, org=acme, name=name)
            assert created["createProject"]["project"]["name"] == name
        else:
            found = await error(client, CREATE_PROJECT, token, org=acme, name=name)
            assert (found["extensions"]["code"], found["message"]) == refusal
        # the token's check (the tests' apps cache no token) and the write's
        assert client.app[STATEMENTS].total - before == 2
    assert await conn.fetchval("SELECT count(*) FROM projects WHERE name = 'one-go'") == 1


async def test_deletes_of_projects_and_models_are_one_statement(
    client: Client, conn: asyncpg.Connection, tokens: Tokens
) -> None:
    """The row locked if seen, the caller's role, what is below it read after the lock
    and the deletes in one statement, whatever the answer (issue 18: writes in one
    round trip)."""
    acme = await _id(conn, "organizations", "Organization", "name = 'Acme Analytics'")
    of_acme = "organization_id = (SELECT id FROM organizations WHERE name = 'Acme Analytics')"
    fraud = await _id(conn, "projects", "Project", f"name = 'fraud-detection' AND {of_acme}")
    xgb = await _id(
        conn,
        "models",
        "Model",
        "name = 'xgb-classifier' AND project_id = "
        f"(SELECT id FROM projects WHERE name = 'fraud-detection' AND {of_acme})",
    )
    churn = await _id(
        conn,
        "models",
        "Model",
        f"project_id = (SELECT id FROM projects WHERE name = 'churn-prediction' AND {of_acme})",
    )
    doomed = (await data(client, CREATE_PROJECT, tokens.ada, org=acme, name="doomed"))[
        "createProject"
    ]["project"]["id"]
    await data(client, CREATE_MODEL, tokens.ada, project=doomed, name="empty", version=None)
    spare = await data(client, CREATE_MODEL, tokens.ada, project=fraud, name="spare", version=None)
    busy = "still has environments or segments: delete them first"
    not_admin = "this needs the ADMIN role in the organization"
    reader = "writing here needs the EDITOR role on the project (or ADMIN of its organization)"
    cases = [
        (DELETE_PROJECT, tokens.grace, fraud, ("FORBIDDEN", not_admin)),
        (DELETE_PROJECT, tokens.alan, fraud, ("NOT_FOUND", "project not found")),
        (DELETE_PROJECT, tokens.ada, fraud, ("CONFLICT", f"the project {busy}")),
        (DELETE_MODEL, tokens.grace, churn, ("FORBIDDEN", reader)),
        (DELETE_MODEL, tokens.alan, xgb, ("NOT_FOUND", "model not found")),
        (DELETE_MODEL, tokens.ada, xgb, ("CONFLICT", f"the model {busy}")),
        (DELETE_MODEL, tokens.ada, spare["createModel"]["model"]["id"], None),
        (DELETE_PROJECT, tokens.ada, doomed, None),  # its empty model goes with it
    ]  # fmt: skip
    assert client.app is not None
    for mutation, token, target, refusal in cases:
        before = client.app[STATEMENTS].total
        if refusal is None:
            deleted = await data(client, mutation, token, id=target)
            assert list(deleted.values()) == [{"deletedId": target}]
        else:
            found = await error(client, mutation, token, id=target)
            assert (found["extensions"]["code"], found["message"]) == refusal
        # the token's check (the tests' apps cache no token) and the delete's
        assert client.app[STATEMENTS].total - before == 2
    left = await conn.fetchrow(
        "SELECT (SELECT count(*) FROM projects WHERE name = 'doomed') AS doomed, "
        "(SELECT count(*) FROM models WHERE name IN ('empty', 'spare')) AS emptied, "
        f"(SELECT count(*) FROM projects WHERE name = 'fraud-detection' AND {of_acme}) AS kept"
    )
    assert left is not None
    assert tuple(left) == (0, 0, 1)


@pytest.mark.parametrize("mutation", [DELETE_MODEL, DELETE_PROJECT])
async def test_a_child_committed_while_a_delete_waits_stops_it(
    client: Client, conn: asyncpg.Connection, tokens: Tokens, database_url: str, mutation: str
) -> None:
    """The delete reads what is below after its lock is granted: an environment whose
    insert held the lock, committed meanwhile, is a CONFLICT (not the foreign key's
    error, which a statement reading with its own first snapshot would meet)."""
    acme = await _id(conn, "organizations", "Organization", "name = 'Acme Analytics'")
    project = (await data(client, CREATE_PROJECT, tokens.ada, org=acme, name="racing"))[
        "createProject"
    ]["project"]["id"]
    model = (await data(client, CREATE_MODEL, tokens.ada, project=project, name="m", version=None))[
        "createModel"
    ]["model"]["id"]
    target = model if mutation == DELETE_MODEL else project
    found = await _while_held(
        database_url,
        conn,
        # its foreign key's check locks the model's row FOR KEY SHARE (not the project's)
        "INSERT INTO environments (model_id, project_id, name, type) "
        "SELECT m.id, m.project_id, 'late', 'PRE_PRODUCTION' FROM models m "
        "WHERE m.name = 'm' AND m.project_id = (SELECT id FROM projects WHERE name = 'racing')",
        error(client, mutation, tokens.ada, id=target),
    )
    kind = "model" if mutation == DELETE_MODEL else "project"
    assert (found["extensions"]["code"], found["message"]) == (
        "CONFLICT",
        f"the {kind} still has environments or segments: delete them first",
    )
    assert await conn.fetchval("SELECT count(*) FROM environments WHERE name = 'late'") == 1


async def test_a_member_whose_user_is_made_meanwhile_joins_as_that_user(
    client: Client, conn: asyncpg.Connection, tokens: Tokens, database_url: str
) -> None:
    """Adding an unknown address while another transaction makes the same user: the
    add waits for it, then finds that user (its new snapshot sees the commit) and
    makes them a member, in its one statement."""
    acme = await _id(conn, "organizations", "Organization", "name = 'Acme Analytics'")
    (status, body), statements = await _while_held(
        database_url,
        conn,
        "INSERT INTO users (email, name) VALUES ('race@example.com', 'Made Elsewhere')",
        _answer(client, ADD_ORG_MEMBER, tokens.ada, org=acme, email="RACE@example.com"),
    )
    assert (status, body, statements) == (
        200,
        {"data": {"addOrganizationMember": {"organization": {"name": "Acme Analytics"}}}},
        2,
    )
    members = await conn.fetch(
        "SELECT u.name, m.role::text AS role FROM users u "
        "JOIN organization_members m ON m.user_id = u.id WHERE lower(u.email) = 'race@example.com'"
    )
    assert [tuple(r) for r in members] == [("Made Elsewhere", "MEMBER")]
