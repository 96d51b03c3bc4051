"""createExport / cancelExport and the reads of exports through HTTP: who may
create and cancel, what is checked before a job exists, isolation on every
path (lookups, lists, nested, node, _entities, mutations)."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

import asyncpg
import pytest
from aiohttp.test_utils import TestClient, TestServer

from db.tokens import create_token
from gateway.app import create_app
from gateway.keys import STATEMENTS
from gateway.settings import Settings
from schema.ids import global_id
from tests.ingest_support import environment_uuid
from tests.schema.conftest import Tokens
from tests.support import Client, data, error

FIELDS = """
  id uuid format status rowsWritten rowsTotal byteSize error contentUrl
  createdBy { name } startedAt finishedAt expiresAt createdAt
  environment { name } model { name } project { name } organization { name }
"""
CREATE = f"""
mutation ($input: CreateExportInput!) {{ createExport(input: $input) {{ export {{ {FIELDS} }} }} }}
"""
CANCEL = f"""
mutation ($id: ID!) {{ cancelExport(input: {{id: $id}}) {{ export {{ {FIELDS} }} }} }}
"""
LOOKUP = "query ($id: ID!) { export(id: $id) { id status } }"


@pytest.fixture
async def client(settings: Settings, tmp_path: Any) -> AsyncIterator[Client]:
    """The app with no export runner: jobs stay as these tests leave them."""
    quiet = replace(settings, export_concurrency=0, export_dir=tmp_path)
    async with TestClient(TestServer(create_app(quiet))) as test_client:
        yield test_client


async def _environment(conn: asyncpg.Connection, project: str = "fraud-detection") -> str:
    return global_id("Environment", await environment_uuid(conn, project=project))


async def _create(client: Client, token: str, **fields: Any) -> dict[str, Any]:
    created = await data(client, CREATE, token, input=fields)
    export: dict[str, Any] = created["createExport"]["export"]
    return export


async def test_a_new_export_waits_for_a_server(
    client: Client, conn: asyncpg.Connection, tokens: Tokens
) -> None:
    environment = await _environment(conn)
    before = datetime.now(UTC)
    export = await _create(client, tokens.ada, environmentId=environment, format="CSV")
    expires = datetime.fromisoformat(export.pop("expiresAt"))
    assert before + timedelta(days=7) <= expires <= datetime.now(UTC) + timedelta(days=7)
    created = datetime.fromisoformat(export.pop("createdAt"))
    assert before <= created <= datetime.now(UTC)
    assert export == {
        "id": global_id("Export", export["uuid"]),
        "uuid": export["uuid"],
        "format": "CSV",
        "status": "QUEUED",
        "rowsWritten": "0",
        "rowsTotal": None,
        "byteSize": None,
        "error": None,
        "contentUrl": None,
        "createdBy": {"name": "Ada Lovelace"},
        "startedAt": None,
        "finishedAt": None,
        "environment": {"name": "production"},
        "model": {"name": "xgb-classifier"},
        "project": {"name": "fraud-detection"},
        "organization": {"name": "Acme Analytics"},
    }
    # the filter is stored as the list would apply it, window included
    stored = await conn.fetchval("SELECT filter FROM exports WHERE id = $1", export["uuid"])
    assert stored is None
    # listed under its environment, at the root, and found by id and uuid (newest first)
    listed = await data(
        client,
        """query ($env: ID!, $uuid: UUID!) {
             environment(id: $env) { exports(first: 1) { nodes { id } totalCount } }
             exports(filter: {status: {eq: QUEUED}}) { nodes { id } }
             export(uuid: $uuid) { id }
           }""",
        tokens.ada,
        env=environment,
        uuid=export["uuid"],
    )
    assert listed == {
        "environment": {"exports": {"nodes": [{"id": export["id"]}], "totalCount": 4}},
        "exports": {"nodes": [{"id": export["id"]}]},
        "export": {"id": export["id"]},
    }


async def test_window_and_filter_are_stored_to_be_applied_by_the_job(
    client: Client, conn: asyncpg.Connection, tokens: Tokens
) -> None:
    export = await _create(
        client,
        tokens.ada,
        environmentId=await _environment(conn),
        format="NDJSON",
        since="2026-01-01T00:00:00Z",
        until="2026-02-01T00:00:00+01:00",
        filter={
            "event": {"in": ["prediction", "feedback"]},
            "properties": [{"key": "score", "operator": "GT", "value": 0.5}],
        },
    )
    stored = await conn.fetchval("SELECT filter::text FROM exports WHERE id = $1", export["uuid"])
    assert stored is not None
    assert json.loads(stored) == {
        "all": [
            {
                "compare": "timestamp",
                "op": "gte",
                "value": {"datetime": "2026-01-01T00:00:00+00:00"},
                "caseInsensitive": False,
            },
            {
                "compare": "timestamp",
                "op": "lt",
                "value": {"datetime": "2026-02-01T00:00:00+01:00"},
                "caseInsensitive": False,
            },
            {
                "all": [
                    {
                        "compare": "event",
                        "op": "in",
                        "value": ["prediction", "feedback"],
                        "caseInsensitive": False,
                    },
                    {"property": "properties", "key": "score", "operator": "GT", "value": 0.5},
                ]
            },
        ]
    }


async def test_bad_input_is_refused_before_a_job_exists(
    client: Client, conn: asyncpg.Connection, tokens: Tokens
) -> None:
    environment = await _environment(conn)
    cases: list[tuple[dict[str, Any], str, str]] = [
        ({"expiresAt": "2020-01-01T00:00:00Z"}, "expiresAt", "expiresAt must be in the future"),
        (
            {"expiresAt": (datetime.now(UTC) + timedelta(days=400)).isoformat()},
            "expiresAt",
            "expiresAt is at most 366 days from now",
        ),
        (
            {"filter": {"properties": [{"key": "", "operator": "EQ", "value": 1}]}},
            "filter",
            "a property key is 1 to 200 characters, without NUL",
        ),
        (
            {"filter": {"event": {"contains": "a\u0000b"}}},
            "filter",
            "event.contains: text cannot hold NUL",
        ),
    ]
    for extra, field, message in cases:
        found = await error(
            client,
            CREATE,
            tokens.ada,
            input={"environmentId": environment, "format": "CSV", **extra},
        )
        assert (found["extensions"]["code"], found["extensions"]["field"], found["message"]) == (
            "BAD_USER_INPUT",
            field,
            message,
        ), extra
    found = await error(
        client,
        CREATE,
        tokens.ada,
        input={"environmentId": global_id("Model", await environment_uuid(conn)), "format": "CSV"},
    )
    assert found["extensions"]["field"] == "environmentId"
    assert await conn.fetchval("SELECT count(*) FROM exports WHERE status = 'QUEUED'") == 0


async def test_another_tenants_environment_is_not_found(
    client: Client, conn: asyncpg.Connection, tokens: Tokens
) -> None:
    # Alan administers Initech Labs only
    environment = await _environment(conn)
    assert client.app is not None
    before = client.app[STATEMENTS].total
    found = await error(
        client, CREATE, tokens.alan, input={"environmentId": environment, "format": "JSON"}
    )
    assert (found["extensions"]["code"], found["message"], found["data"]) == (
        "NOT_FOUND",
        "environment not found",
        None,
    )
    assert await conn.fetchval("SELECT count(*) FROM exports WHERE status = 'QUEUED'") == 0
    # refused or not, one statement besides the token's check (issue 18: writes in
    # one round trip)
    lean = "mutation ($input: CreateExportInput!) { createExport(input: $input) { export { id } } }"
    await data(client, lean, tokens.ada, input={"environmentId": environment, "format": "JSON"})
    assert client.app[STATEMENTS].total - before == 4
    assert await conn.fetchval("SELECT count(*) FROM exports WHERE status = 'QUEUED'") == 1


async def test_scopes(client: Client, conn: asyncpg.Connection, tokens: Tokens) -> None:
    environment = await _environment(conn)
    cases = [
        (["export:read", "event:read"], "this token lacks the scope export:write"),
        (["export:write"], "this token lacks the scope event:read"),
    ]
    for scopes, message in cases:
        token = (await create_token(conn, email="ada@example.com", scopes=scopes)).token
        found = await error(
            client, CREATE, token, input={"environmentId": environment, "format": "CSV"}
        )
        assert (found["extensions"]["code"], found["message"]) == ("FORBIDDEN", message)
    # export:write and event:read are enough: an export is a read of events
    token = (
        await create_token(conn, email="ada@example.com", scopes=["export:write", "event:read"])
    ).token
    created = await data(
        client,
        "mutation ($input: CreateExportInput!) { createExport(input: $input) { export { id } } }",
        token,
        input={"environmentId": environment, "format": "CSV"},
    )
    export = created["createExport"]["export"]
    found = await error(client, CANCEL, (await create_token(
        conn, email="ada@example.com", scopes=["export:read"])).token, id=export["id"])  # fmt: skip
    assert found["message"] == "this token lacks the scope export:write"


async def test_a_reader_may_export_and_only_the_creator_or_a_writer_cancels(
    client: Client, conn: asyncpg.Connection, tokens: Tokens
) -> None:
    # Grace only views churn-prediction: enough to export it
    viewed = await _environment(conn, project="churn-prediction")
    hers = await _create(client, tokens.grace, environmentId=viewed, format="JSON")
    assert hers["createdBy"] == {"name": "Grace Hopper"}
    # ... but not to cancel Ada's export there
    adas = await _create(client, tokens.ada, environmentId=viewed, format="JSON")
    found = await error(client, CANCEL, tokens.grace, id=adas["id"])
    assert found["extensions"]["code"] == "FORBIDDEN"
    # her own, yes; Ada (organization ADMIN) may cancel anybody's
    cancelled = (await data(client, CANCEL, tokens.grace, id=hers["id"]))["cancelExport"]
    assert (cancelled["export"]["status"], cancelled["export"]["finishedAt"] is not None) == (
        "CANCELLED",
        True,
    )
    assert (await data(client, CANCEL, tokens.ada, id=adas["id"]))["cancelExport"]["export"][
        "status"
    ] == "CANCELLED"
    # cancelling again changes nothing
    again = (await data(client, CANCEL, tokens.ada, id=adas["id"]))["cancelExport"]["export"]
    assert again["status"] == "CANCELLED"
    # refused, answered as it is or cancelled: one statement besides the token's
    # check (issue 18: writes in one round trip)
    lean = "mutation ($id: ID!) { cancelExport(input: {id: $id}) { export { id status } } }"
    third = await _create(client, tokens.ada, environmentId=viewed, format="CSV")
    assert client.app is not None
    for token, export, code in [
        (tokens.grace, third, "FORBIDDEN"),
        (tokens.alan, third, "NOT_FOUND"),
        (tokens.ada, adas, None),
        (tokens.ada, third, None),
    ]:
        before = client.app[STATEMENTS].total
        if code is None:
            answer = await data(client, lean, token, id=export["id"])
            assert answer["cancelExport"]["export"]["status"] == "CANCELLED"
        else:
            assert (await error(client, lean, token, id=export["id"]))["extensions"]["code"] == code
        assert client.app[STATEMENTS].total - before == 2


async def test_an_export_that_has_ended_cannot_be_cancelled(
    client: Client, conn: asyncpg.Connection, tokens: Tokens
) -> None:
    failed = await conn.fetchval(
        "SELECT x.id FROM exports x JOIN environments e ON e.id = x.environment_id "
        "WHERE x.status = 'FAILED' AND e.id = $1",
        await environment_uuid(conn),
    )
    found = await error(client, CANCEL, tokens.ada, id=global_id("Export", failed))
    assert (found["extensions"], found["message"]) == (
        {"code": "CONFLICT", "field": "id", "requestId": found["extensions"]["requestId"]},
        "the export has already ended (FAILED)",
    )
    assert await conn.fetchval("SELECT status::text FROM exports WHERE id = $1", failed) == "FAILED"


async def test_another_tenants_export_does_not_exist(
    client: Client, conn: asyncpg.Connection, tokens: Tokens
) -> None:
    export = await _create(client, tokens.ada, environmentId=await _environment(conn), format="CSV")
    found = await error(client, LOOKUP, tokens.alan, id=export["id"])
    assert (found["extensions"]["code"], found["data"]) == ("NOT_FOUND", {"export": None})
    reads = await data(
        client,
        """query ($id: ID!, $uuid: UUID!) {
             node(id: $id) { id }
             exports(filter: {uuid: {eq: $uuid}}) { totalCount }
             _entities(representations: [{__typename: "Export", id: $id}]) { __typename }
           }""",
        tokens.alan,
        id=export["id"],
        uuid=export["uuid"],
    )
    assert reads == {"node": None, "exports": {"totalCount": 0}, "_entities": [None]}
    found = await error(client, CANCEL, tokens.alan, id=export["id"])
    assert (found["extensions"]["code"], found["message"]) == ("NOT_FOUND", "export not found")
    assert (
        await conn.fetchval("SELECT status::text FROM exports WHERE id = $1", export["uuid"])
        == "QUEUED"
    )
    # Alan's own list holds only Initech's demo exports
    mine = await data(
        client, "{ exports { totalCount nodes { organization { name } } } }", tokens.alan
    )
    names = {n["organization"]["name"] for n in mine["exports"]["nodes"]}
    assert (mine["exports"]["totalCount"], names) == (18, {"Initech Labs"})
