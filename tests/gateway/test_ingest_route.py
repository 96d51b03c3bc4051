"""`POST /v1/environments/{id}/events` on a real server: NDJSON and CSV, gzip,
per-line errors with nothing written, limits, interrupted and concurrent
uploads, who may ingest where."""

from __future__ import annotations

import asyncio
import csv
import gzip
import io
import json
import logging
from collections.abc import AsyncIterator
from dataclasses import replace
from datetime import UTC, datetime
from typing import Any

import asyncpg
import pytest
from aiohttp.test_utils import TestClient, TestServer

from db.demo import seed_demo
from db.tokens import create_token
from gateway.app import create_app
from gateway.settings import Settings
from tests.ingest_support import (
    environment_id,
    environment_uuid,
    event,
    event_uuid,
    ndjson,
    stored,
    total_stored,
)
from tests.schema.conftest import Tokens, issue_tokens
from tests.support import Client

NDJSON = "application/x-ndjson"


@pytest.fixture
async def tokens(conn: asyncpg.Connection) -> Tokens:
    """Demo data and tokens of its users."""
    await seed_demo(conn, 1)
    return await issue_tokens(conn)


async def post(
    client: Client,
    environment: str,
    body: bytes,
    token: str | None,
    content_type: str = NDJSON,
    **headers: str,
) -> tuple[int, dict[str, Any]]:
    """Upload a body; the status and the JSON answer."""
    sent = {"Content-Type": content_type, **headers}
    if token:
        sent["Authorization"] = f"Bearer {token}"
    response = await client.post(f"/v1/environments/{environment}/events", data=body, headers=sent)
    answer: dict[str, Any] = await response.json()
    return response.status, answer


async def test_ndjson_duplicates_skipped_and_counted(
    client: Client, conn: asyncpg.Connection, tokens: Tokens
) -> None:
    environment = await environment_uuid(conn)
    body = ndjson([event(n) for n in range(10)])
    # a global id or the uuid
    assert await post(client, environment_id(environment), body, tokens.ada) == (
        200,
        {"accepted": 10, "duplicates": 0},
    )
    again = ndjson([event(n) for n in range(5, 15)] + [event(14, event="again")])
    assert await post(client, str(environment), b"\n" + again + b"\n\n", tokens.ada) == (
        200,
        {"accepted": 5, "duplicates": 6},
    )
    assert await stored(conn, environment) == (15, 15, 15)


async def test_a_bad_line_in_100000_writes_nothing(
    client: Client, conn: asyncpg.Connection, tokens: Tokens
) -> None:
    environment = await environment_uuid(conn)
    await post(client, str(environment), ndjson([event(-1)]), tokens.ada)
    lines = [json.dumps(event(n)) for n in range(100_000)]
    lines[50_000] = json.dumps(event(50_000, timestamp="yesterday"))  # line 50,001
    status, answer = await post(client, str(environment), "\n".join(lines).encode(), tokens.ada)
    assert status == 400
    assert [(e["line"], e["message"], e["code"]) for e in answer["errors"]] == [
        (50_001, "timestamp is not an ISO 8601 date and time: 'yesterday'", "BAD_USER_INPUT")
    ]
    assert answer["errors"][0]["requestId"]
    assert await stored(conn, environment) == (1, 1, 1)  # as before


async def test_at_most_100_errors_are_listed(
    client: Client, conn: asyncpg.Connection, tokens: Tokens
) -> None:
    environment = await environment_uuid(conn)
    body = b"".join(b"{not json\n" if n % 2 else ndjson([event(n)]) for n in range(300))
    status, answer = await post(client, str(environment), body, tokens.ada)
    assert status == 400
    assert [e["line"] for e in answer["errors"]] == list(range(2, 201, 2))
    assert answer["errors"][0]["message"] == (
        "the line is not valid JSON: Expecting property name enclosed in double quotes (column 2)"
    )
    assert await total_stored(conn) == (0, 0, 0)


async def test_gzip_ndjson(client: Client, conn: asyncpg.Connection, tokens: Tokens) -> None:
    environment = await environment_uuid(conn)
    body = gzip.compress(ndjson([event(n) for n in range(1000)]))
    status, answer = await post(
        client, str(environment), body, tokens.ada, **{"Content-Encoding": "gzip"}
    )
    assert (status, answer) == (200, {"accepted": 1000, "duplicates": 0})
    assert await stored(conn, environment) == (1000, 1000, 1000)


async def test_csv_with_quoting(client: Client, conn: asyncpg.Connection, tokens: Tokens) -> None:
    environment = await environment_uuid(conn)
    tricky = {"text": 'a, "quoted" word\nand a second line', "list": [1, "two, three"]}
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["uuid", "timestamp", "event", "distinct_id", "person_id", "properties"])
    writer.writerow(
        [event_uuid(1), "2024-05-01T10:00:00Z", "a, b", 'say "hi"', "", json.dumps(tricky)]
    )
    writer.writerow(["", "2024-05-01T13:00:00+02:00", "second", "u2", event_uuid(9), ""])
    status, answer = await post(
        client, str(environment), out.getvalue().encode(), tokens.ada, "text/csv"
    )
    assert (status, answer) == (200, {"accepted": 2, "duplicates": 0})
    rows = await conn.fetch(
        "SELECT id, timestamp, event, distinct_id, person_id, properties FROM events "
        "ORDER BY timestamp"
    )
    first, second = rows
    assert (first["id"], first["event"], first["distinct_id"], first["person_id"]) == (
        event_uuid(1),
        "a, b",
        'say "hi"',
        None,
    )
    assert json.loads(first["properties"]) == tricky
    assert first["timestamp"] == datetime(2024, 5, 1, 10, tzinfo=UTC)
    assert (second["event"], second["person_id"], second["properties"]) == (
        "second",
        event_uuid(9),
        "{}",
    )
    assert second["timestamp"] == datetime(2024, 5, 1, 11, tzinfo=UTC)


async def test_csv_errors_name_the_line_a_record_starts_on(
    client: Client, conn: asyncpg.Connection, tokens: Tokens
) -> None:
    environment = await environment_uuid(conn)
    body = (
        "uuid,timestamp,event,distinct_id,person_id,properties\n"
        ',2024-05-01T10:00:00Z,ok,u1,,"{""a"":\n1}"\n'  # lines 2-3
        ",2024-05-01T10:00:00Z,bad,u1,,[1]\n"  # line 4
        ",2024-05-01T10:00:00Z,,u1,,\n"  # line 5
    )
    status, answer = await post(client, str(environment), body.encode(), tokens.ada, "text/csv")
    assert status == 400
    assert [(e["line"], e["message"]) for e in answer["errors"]] == [
        (4, "properties must be a JSON object"),
        (5, "event is required"),
    ]
    wrong_header = b"id,timestamp\n1,2\n"
    status, answer = await post(client, str(environment), wrong_header, tokens.ada, "text/csv")
    assert (status, [e["line"] for e in answer["errors"]]) == (400, [1])
    assert await total_stored(conn) == (0, 0, 0)


async def test_unsupported_type_and_missing_token(
    client: Client, conn: asyncpg.Connection, tokens: Tokens
) -> None:
    environment = str(await environment_uuid(conn))
    body = ndjson([event(1)])
    status, answer = await post(client, environment, body, tokens.ada, "application/json")
    assert (status, answer["errors"][0]["code"]) == (415, "BAD_USER_INPUT")
    status, answer = await post(client, environment, body, None)
    assert (status, answer["errors"][0]["code"]) == (401, "UNAUTHENTICATED")
    status, answer = await post(client, environment, body, "egt_not-a-token")
    assert (status, answer["errors"][0]["code"]) == (401, "UNAUTHENTICATED")
    assert await total_stored(conn) == (0, 0, 0)


@pytest.fixture
async def small_client(settings: Settings) -> AsyncIterator[Client]:
    """A server taking uploads of at most 10,000 bytes."""
    limited = replace(settings, ingest_max_bytes=10_000)
    async with TestClient(TestServer(create_app(limited))) as test_client:
        yield test_client


async def test_size_limit(small_client: Client, conn: asyncpg.Connection, tokens: Tokens) -> None:
    environment = str(await environment_uuid(conn))
    body = ndjson([event(n) for n in range(200)])
    assert len(body) > 10_000
    status, answer = await post(small_client, environment, body, tokens.ada)
    assert (status, answer["errors"][0]["code"]) == (413, "BAD_USER_INPUT")
    # counted after gzip, sent in chunks without a length
    packed = gzip.compress(body)
    assert len(packed) < 10_000

    async def chunks() -> AsyncIterator[bytes]:
        for start in range(0, len(packed), 1000):
            yield packed[start : start + 1000]

    response = await small_client.post(
        f"/v1/environments/{environment}/events",
        data=chunks(),
        headers={
            "Authorization": f"Bearer {tokens.ada}",
            "Content-Type": NDJSON,
            "Content-Encoding": "gzip",
        },
    )
    assert response.status == 413
    assert await total_stored(conn) == (0, 0, 0)


async def test_a_client_leaving_mid_upload_writes_nothing(
    client: Client, conn: asyncpg.Connection, tokens: Tokens, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, "envgraph.http")
    environment = str(await environment_uuid(conn))
    body = ndjson([event(n) for n in range(20_000)])
    _, writer = await asyncio.open_connection(client.host, client.port)
    writer.write(
        f"POST /v1/environments/{environment}/events HTTP/1.1\r\n"
        f"Host: {client.host}\r\nAuthorization: Bearer {tokens.ada}\r\n"
        f"Content-Type: {NDJSON}\r\nTransfer-Encoding: chunked\r\n\r\n".encode()
    )
    half = body[: len(body) // 2]
    for start in range(0, len(half), 65536):
        piece = half[start : start + 65536]
        writer.write(f"{len(piece):x}\r\n".encode() + piece + b"\r\n")
    await writer.drain()
    # staging has started (the server reads as it comes), then the client goes
    await asyncio.sleep(1.0)
    writer.transport.abort()
    for _ in range(100):  # the server sees it leave mid-upload
        await asyncio.sleep(0.1)
        if "interrupted" in caplog.text:
            break
    assert "interrupted" in caplog.text
    assert await total_stored(conn) == (0, 0, 0)
    leftovers = await conn.fetchval(
        "SELECT count(*) FROM pg_stat_activity WHERE state = 'idle in transaction' "
        "AND datname = current_database()"
    )
    assert leftovers == 0
    # the server is fine afterwards
    assert await post(client, environment, ndjson([event(1)]), tokens.ada) == (
        200,
        {"accepted": 1, "duplicates": 0},
    )


async def test_concurrent_uploads_of_overlapping_uuids_store_each_event_once(
    client: Client, conn: asyncpg.Connection, tokens: Tokens
) -> None:
    environment = str(await environment_uuid(conn))
    first = ndjson([event(n) for n in range(0, 30_000)])
    second = ndjson([event(n) for n in range(20_000, 50_000)])
    answers = await asyncio.gather(
        post(client, environment, first, tokens.ada),
        post(client, environment, second, tokens.ada),
    )
    assert [status for status, _ in answers] == [200, 200]
    accepted = sum(answer["accepted"] for _, answer in answers)
    duplicates = sum(answer["duplicates"] for _, answer in answers)
    assert (accepted, duplicates) == (50_000, 10_000)
    assert {answer["duplicates"] for _, answer in answers} <= {0, 10_000}
    assert await total_stored(conn) == (50_000, 50_000, 50_000)


async def test_who_may_ingest_where(
    client: Client, conn: asyncpg.Connection, tokens: Tokens
) -> None:
    acme = await environment_uuid(conn)
    viewed = await environment_uuid(conn, project="churn-prediction")  # grace: VIEWER
    foreign = await environment_uuid(conn, organization="Initech Labs")
    reader = await create_token(conn, email="ada@example.com", scopes=["event:read", "*:read"])
    body = ndjson([event(n) for n in range(3)])
    cases = [
        (tokens.alan, str(acme), 404, "NOT_FOUND"),  # another tenant's
        (tokens.ada, environment_id(foreign), 404, "NOT_FOUND"),
        (tokens.ada, "8c4c3a54-0c4f-4f4e-9d55-000000000000", 404, "NOT_FOUND"),
        (tokens.ada, "not-an-id", 404, "NOT_FOUND"),
        (reader.token, str(acme), 403, "FORBIDDEN"),  # no event:write
        (tokens.grace, str(viewed), 403, "FORBIDDEN"),  # org MEMBER, project VIEWER
    ]
    for token, environment, status, code in cases:
        found, answer = await post(client, environment, body, token)
        assert (found, answer["errors"][0]["code"]) == (status, code), (environment, answer)
    assert await total_stored(conn) == (0, 0, 0)
    assert await post(client, str(acme), body, tokens.grace) == (
        200,
        {"accepted": 3, "duplicates": 0},
    )


async def test_a_uuid_of_another_environment_is_a_line_error(
    client: Client, conn: asyncpg.Connection, tokens: Tokens
) -> None:
    production = await environment_uuid(conn)
    training = await environment_uuid(conn, name="training")
    await post(client, str(training), ndjson([event(7)]), tokens.ada)
    status, answer = await post(
        client, str(production), ndjson([event(n) for n in range(10)]), tokens.ada
    )
    assert status == 400
    assert [(e["line"], e["message"]) for e in answer["errors"]] == [
        (8, f"uuid {event_uuid(7)} is already used by another event")
    ]
    assert await stored(conn, production) == (0, 0, 0)


async def test_events_of_three_months_land_in_three_partitions(
    client: Client, conn: asyncpg.Connection, tokens: Tokens
) -> None:
    environment = await environment_uuid(conn)
    # near now: partitions are made within 20 years back and 12 months ahead
    this_year = datetime.now(UTC).year
    times = [f"{this_year}-{month:02d}-15T12:00:00Z" for month in (1, 2, 3)]
    body = ndjson([event(n, timestamp=time) for n, time in enumerate(times)])
    assert await post(client, str(environment), body, tokens.ada) == (
        200,
        {"accepted": 3, "duplicates": 0},
    )
    rows = await conn.fetch(
        "SELECT tableoid::regclass::text AS partition FROM events ORDER BY timestamp"
    )
    assert [row["partition"] for row in rows] == [
        f"events_p{this_year}_01",
        f"events_p{this_year}_02",
        f"events_p{this_year}_03",
    ]


@pytest.fixture
async def impatient_client(settings: Settings) -> AsyncIterator[Client]:
    """A server whose statements time out after 100 ms (the client's after 2.1 s)."""
    impatient = replace(settings, statement_timeout_ms=100)
    async with TestClient(TestServer(create_app(impatient))) as test_client:
        yield test_client


async def test_a_long_move_outlives_the_read_timeouts(
    impatient_client: Client, conn: asyncpg.Connection, tokens: Tokens
) -> None:
    # the move of a large upload made to take 3 s, past the statement timeout and
    # the client-side one (which once cancelled it: HTTP 503, nothing stored)
    await conn.execute(
        "CREATE FUNCTION slow() RETURNS trigger LANGUAGE plpgsql AS "
        "$$ BEGIN PERFORM pg_sleep(3); RETURN NULL; END $$; "
        "CREATE TRIGGER slow AFTER INSERT ON event_ids FOR EACH STATEMENT EXECUTE FUNCTION slow()"
    )
    environment = await environment_uuid(conn)
    rows = 50_001  # past the size from which a move runs without the timeouts
    body = ndjson([event(n) for n in range(rows)])
    status, answer = await post(impatient_client, str(environment), body, tokens.ada)
    assert (status, answer) == (200, {"accepted": rows, "duplicates": 0})
    assert await stored(conn, environment) == (rows, rows, rows)


async def test_a_disabled_environment_refuses_events_and_keeps_its_own(
    client: Client, conn: asyncpg.Connection, tokens: Tokens
) -> None:
    environment = await environment_uuid(conn)
    assert await post(client, str(environment), ndjson([event(1)]), tokens.ada) == (
        200,
        {"accepted": 1, "duplicates": 0},
    )
    await conn.execute("UPDATE environments SET enabled = false WHERE id = $1", environment)
    status, answer = await post(
        client, environment_id(environment), ndjson([event(n) for n in range(2, 5)]), tokens.ada
    )
    assert status == 409
    assert answer == {
        "errors": [
            {
                "message": "the environment is disabled: it takes no new events",
                "code": "CONFLICT",
                "requestId": answer["errors"][0]["requestId"],
            }
        ]
    }
    assert await stored(conn, environment) == (1, 1, 1)
    # its data stays readable
    query = "query ($id: ID!) { environment(id: $id) { enabled eventCount events { totalCount } } }"
    response = await client.post(
        "/graphql",
        json={"query": query, "variables": {"id": environment_id(environment)}},
        headers={"Authorization": f"Bearer {tokens.ada}"},
    )
    assert await response.json() == {
        "data": {"environment": {"enabled": False, "eventCount": "1", "events": {"totalCount": 1}}}
    }
