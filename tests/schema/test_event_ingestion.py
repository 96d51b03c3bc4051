"""The `ingestEvents` mutation: stored once, duplicates counted, all or nothing,
only where the caller may write; a fixed number of statements."""

from __future__ import annotations

import asyncpg
import pytest

from db.tokens import create_token
from gateway.keys import STATEMENTS
from tests.ingest_support import (
    environment_id,
    environment_uuid,
    event,
    event_uuid,
    stored,
    total_stored,
)
from tests.schema.conftest import Tokens
from tests.support import Client, data, error


@pytest.fixture(autouse=True)
async def no_demo_events(conn: asyncpg.Connection, tokens: Tokens) -> None:
    """The demo's events removed: the counts below are the mutation's own."""
    await conn.execute(
        "DELETE FROM events; DELETE FROM event_ids; UPDATE environments SET event_count = 0"
    )


INGEST = """
mutation ($input: IngestEventsInput!) {
  ingestEvents(input: $input) { accepted duplicates environment { name } }
}
"""


async def test_duplicates_are_skipped_and_counted(
    client: Client, conn: asyncpg.Connection, tokens: Tokens
) -> None:
    environment = await environment_uuid(conn)
    target = environment_id(environment)
    first = await data(
        client, INGEST, tokens.ada,
        input={"environmentId": target, "events": [event(n) for n in range(5)]},
    )  # fmt: skip
    assert first["ingestEvents"] == {
        "accepted": 5,
        "duplicates": 0,
        "environment": {"name": "production"},
    }
    # three seen before, one new sent twice (the first line wins), one without uuid
    again = [event(n) for n in (1, 2, 3, 5)] + [event(5, event="second"), event(6, uuid=None)]
    second = await data(
        client, INGEST, tokens.ada, input={"environmentId": target, "events": again}
    )
    assert second["ingestEvents"] == {
        "accepted": 2,
        "duplicates": 4,
        "environment": {"name": "production"},
    }
    assert await stored(conn, environment) == (7, 7, 7)
    row = await conn.fetchrow(
        "SELECT event, distinct_id, properties, project_id FROM events WHERE id = $1",
        event_uuid(5),
    )
    assert row is not None
    assert (row["event"], row["distinct_id"]) == ("prediction", "user-5")
    assert row["properties"] == '{"n": 5, "label": "yes", "score": 0.7142857142857143}'
    project = await conn.fetchval("SELECT project_id FROM environments WHERE id = $1", environment)
    assert row["project_id"] == project


async def test_a_bad_event_names_its_field_and_nothing_is_written(
    client: Client, conn: asyncpg.Connection, tokens: Tokens
) -> None:
    target = environment_id(await environment_uuid(conn))
    cases = [
        (event(3, timestamp="2024-05-01T10:00:00"), "events[3].timestamp"),
        (event(3, event=""), "events[3].event"),
        (event(3, distinctId="x" * 201), "events[3].distinctId"),
        (event(3, event="a\u0000b"), "events[3].event"),
        (event(3, properties=[1, 2]), "events[3].properties"),
        (event(3, properties={"a": {"b": "nul\u0000"}}), "events[3].properties"),
    ]
    for bad, field in cases:
        events = [event(n) for n in range(3)] + [bad]
        found = await error(
            client, INGEST, tokens.ada, input={"environmentId": target, "events": events}
        )
        assert (found["extensions"]["code"], found["extensions"]["field"]) == (
            "BAD_USER_INPUT",
            field,
        )
    too_many = [event(n) for n in range(1001)]
    found = await error(
        client, INGEST, tokens.ada, input={"environmentId": target, "events": too_many}
    )
    assert (found["extensions"]["code"], found["extensions"]["field"]) == (
        "BAD_USER_INPUT",
        "events",
    )
    assert await total_stored(conn) == (0, 0, 0)


async def test_a_uuid_of_another_environment_is_refused(
    client: Client, conn: asyncpg.Connection, tokens: Tokens
) -> None:
    production = await environment_uuid(conn)
    training = await environment_uuid(conn, name="training")
    await data(client, INGEST, tokens.ada,
               input={"environmentId": environment_id(training), "events": [event(1)]})  # fmt: skip
    found = await error(
        client, INGEST, tokens.ada,
        input={"environmentId": environment_id(production), "events": [event(0), event(1)]},
    )  # fmt: skip
    assert found["message"] == f"events[1]: uuid {event_uuid(1)} is already used by another event"
    assert (found["extensions"]["code"], found["extensions"]["field"]) == (
        "BAD_USER_INPUT",
        "events[1].uuid",
    )
    assert await stored(conn, production) == (0, 0, 0)
    assert await stored(conn, training) == (1, 1, 1)


async def test_only_writers_of_the_environment_may_ingest(
    client: Client, conn: asyncpg.Connection, tokens: Tokens
) -> None:
    acme = await environment_uuid(conn)
    viewed = await environment_uuid(conn, project="churn-prediction")  # grace: VIEWER
    foreign = await environment_uuid(conn, organization="Initech Labs")
    reader = await create_token(conn, email="ada@example.com", scopes=["event:read"])
    cases = [
        (tokens.alan, acme, "NOT_FOUND"),  # another tenant's environment
        (tokens.ada, foreign, "NOT_FOUND"),
        (reader.token, acme, "FORBIDDEN"),  # no event:write
        (tokens.grace, viewed, "FORBIDDEN"),  # project VIEWER
    ]
    for token, environment, code in cases:
        target = environment_id(environment)
        found = await error(
            client, INGEST, token, input={"environmentId": target, "events": [event(1)]}
        )
        assert found["extensions"]["code"] == code, (token, found)
    # the scope is checked first, before the events
    bad = {
        "environmentId": environment_id(acme),
        "events": [event(1, timestamp="2024-05-01T10:00:00")],
    }
    found = await error(client, INGEST, reader.token, input=bad)
    assert found["extensions"]["code"] == "FORBIDDEN"
    assert found["message"] == "this token lacks the scope event:write"
    assert await total_stored(conn) == (0, 0, 0)
    # grace edits fraud-detection: she may
    target = environment_id(acme)
    done = await data(
        client, INGEST, tokens.grace, input={"environmentId": target, "events": [event(1)]}
    )
    assert done["ingestEvents"]["accepted"] == 1


async def test_an_organization_member_without_a_project_role_is_refused(
    client: Client, conn: asyncpg.Connection, tokens: Tokens
) -> None:
    # grace is a MEMBER of Acme, not a member of its support-assistant project
    hidden = await environment_uuid(conn, project="support-assistant")
    target = environment_id(hidden)
    found = await error(
        client, INGEST, tokens.grace, input={"environmentId": target, "events": [event(1)]}
    )
    assert found["extensions"]["code"] == "NOT_FOUND"  # she does not see that project
    assert await total_stored(conn) == (0, 0, 0)


async def test_the_statements_do_not_grow_with_the_events(
    client: Client, conn: asyncpg.Connection, tokens: Tokens
) -> None:
    app = client.app
    assert app is not None
    target = environment_id(await environment_uuid(conn))
    counts = []
    # the first ingestion into a month makes its partition: a one-off
    await data(client, INGEST, tokens.ada, input={"environmentId": target, "events": [event(0)]})
    for start, size in ((1, 1), (100, 1000)):
        events = [event(n) for n in range(start, start + size)]
        before = app[STATEMENTS].total
        await data(client, INGEST, tokens.ada, input={"environmentId": target, "events": events})
        counts.append(app[STATEMENTS].total - before)
    # the token, the staging table, one COPY, the partitions there are, the
    # environment locked with the role (one statement), the move, the staging table
    # dropped, the environment read back for the payload
    assert counts == [8, 8]


async def test_a_disabled_environment_refuses_events(
    client: Client, conn: asyncpg.Connection, tokens: Tokens
) -> None:
    environment = await environment_uuid(conn)
    target = environment_id(environment)
    update = """mutation ($id: ID!, $on: Boolean!) {
      updateEnvironment(input: {id: $id, enabled: $on}) { environment { enabled } } }"""
    disabled = await data(client, update, tokens.ada, id=target, on=False)
    assert disabled == {"updateEnvironment": {"environment": {"enabled": False}}}
    found = await error(
        client, INGEST, tokens.ada, input={"environmentId": target, "events": [event(1)]}
    )
    assert (found["extensions"]["code"], found["extensions"]["field"], found["message"]) == (
        "CONFLICT",
        "environmentId",
        "the environment is disabled: it takes no new events",
    )
    assert await total_stored(conn) == (0, 0, 0)
    await data(client, update, tokens.ada, id=target, on=True)
    accepted = await data(
        client, INGEST, tokens.ada, input={"environmentId": target, "events": [event(1)]}
    )
    assert accepted["ingestEvents"]["accepted"] == 1
