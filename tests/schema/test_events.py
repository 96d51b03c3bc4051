"""Reading events: property filters, time windows, ordering and keyset walks across
monthly partitions, lookups, the values pickers, isolation, and both executors
giving the same answers."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import UUID

import asyncpg
import pytest

from db.tokens import create_token
from schema.ids import global_id
from tests.schema.compiled_support import both, resolver_client
from tests.schema.conftest import Tokens
from tests.schema.events_support import Event, environment_of, insert_events
from tests.support import Client, data, error

__all__ = ["resolver_client"]

OCT, NOV, DEC = (datetime(2026, m, 1, tzinfo=UTC) for m in (10, 11, 12))
# properties of every JSON type, missing keys, nested objects and arrays
PROPERTIES: dict[str, dict[str, Any]] = {
    "e1": {
        "score": 0.9,
        "label": "Cat",
        "ok": True,
        "tags": ["a", "b"],
        "meta": {"v": 1},
        "n": None,
    },
    "e2": {"score": 10, "label": "dog", "ok": False, "meta": {"v": 2}},
    "e3": {"score": "high", "label": "Caterpillar"},
    "e4": {"score": 2, "ok": True, "n": 0},
    "e5": {},
    "e6": {"score": 1.0, "label": "cat"},
}
# one a month and then some: three partitions
TIMES = {
    "e1": OCT + timedelta(days=3),
    "e2": OCT + timedelta(days=20),
    "e3": NOV + timedelta(days=1),
    "e4": NOV + timedelta(days=1),  # the same time as e3: the id breaks the tie
    "e5": DEC + timedelta(hours=5),
    "e6": DEC + timedelta(days=1),
}
EVENTS = [
    Event(name, TIMES[name], PROPERTIES[name], distinct_id=f"test-{name}") for name in PROPERTIES
]
BY_UUID = {str(e.uuid): e.name for e in EVENTS}

LIST = """
query ($env: ID!, $filter: EventFilter, $since: DateTime, $until: DateTime, $first: Int,
       $after: String, $search: String, $orderBy: [EventOrder!]) {
  environment(id: $env) {
    eventCount
    events(filter: $filter, since: $since, until: $until, first: $first, after: $after,
           search: $search, orderBy: $orderBy) {
      totalCount
      pageInfo { hasNextPage hasPreviousPage endCursor }
      nodes { id uuid event distinctId timestamp properties personId }
    }
  }
}
"""


@pytest.fixture
async def acme(conn: asyncpg.Connection, tokens: Tokens) -> UUID:
    """Acme's first environment, holding EVENTS only (its demo event removed)."""
    environment = await environment_of(conn, "Acme Analytics")
    await conn.execute("DELETE FROM events WHERE environment_id = $1", environment)
    await conn.execute("DELETE FROM event_ids WHERE environment_id = $1", environment)
    await conn.execute("UPDATE environments SET event_count = 0 WHERE id = $1", environment)
    await insert_events(conn, environment, EVENTS)
    return environment


async def _names(
    client: Client, resolver: Client, token: str, env: UUID, **variables: Any
) -> list[str]:
    """The names of the events listed, the same through both executors."""
    variables = {"env": global_id("Environment", env), "first": 100, **variables}
    compiled, resolved = await both(client, resolver, LIST, token, variables)
    assert compiled[:2] == resolved[:2]
    assert (compiled[2], resolved[2]) == ("compiled", "resolver")
    assert compiled[0] == 200, compiled[1]
    nodes = compiled[1]["data"]["environment"]["events"]["nodes"]
    return [BY_UUID[n["uuid"]] for n in nodes]


@pytest.mark.parametrize(
    ("key", "operator", "value", "expected"),
    [
        ("score", "EQ", 10, {"e2"}),
        ("score", "EQ", 1, {"e6"}),  # 1.0 and 1 are one number
        ("score", "EQ", "high", {"e3"}),
        ("score", "EQ", "10", set()),  # a string is not a number
        ("ok", "EQ", True, {"e1", "e4"}),
        ("n", "EQ", None, {"e1"}),
        ("meta", "EQ", {"v": 1}, {"e1"}),
        ("tags", "EQ", ["a"], set()),  # equality, not containment
        ("tags", "EQ", ["a", "b"], {"e1"}),
        ("score", "NEQ", 10, {"e1", "e3", "e4", "e5", "e6"}),
        ("score", "IN", [10, "high"], {"e2", "e3"}),
        ("score", "NOT_IN", [10, "high"], {"e1", "e4", "e5", "e6"}),
        ("label", "CONTAINS", "cAt", {"e1", "e3", "e6"}),
        ("label", "NOT_CONTAINS", "cat", {"e2", "e4", "e5"}),
        ("score", "CONTAINS", "1", set()),  # numbers are not strings
        ("score", "GT", 1, {"e2", "e4"}),
        ("score", "GTE", 1, {"e2", "e4", "e6"}),
        ("score", "LT", 1, {"e1"}),
        ("score", "LTE", 1.0, {"e1", "e6"}),
        ("score", "GT", "a", {"e3"}),  # strings compare with strings only
        ("label", "LT", "D", {"e1", "e3"}),  # byte order: lower case after upper
        ("meta", "GT", 0, set()),  # an object is no number
        ("ok", "IS_SET", None, {"e1", "e2", "e4"}),
        ("n", "IS_SET", None, {"e1", "e4"}),  # a JSON null is set
        ("ok", "IS_NOT_SET", None, {"e3", "e5", "e6"}),
        ("missing", "NEQ", 1, {"e1", "e2", "e3", "e4", "e5", "e6"}),
        ("missing", "EQ", None, set()),
    ],
)
async def test_property_operators(
    client: Client,
    resolver_client: Client,
    tokens: Tokens,
    acme: UUID,
    key: str,
    operator: str,
    value: Any,
    expected: set[str],
) -> None:
    condition = {"key": key, "operator": operator, "value": value}
    found = await _names(
        client, resolver_client, tokens.ada, acme, filter={"properties": [condition]}
    )
    assert set(found) == expected


async def test_property_filters_and_and_not(
    client: Client, resolver_client: Client, tokens: Tokens, acme: UUID
) -> None:
    two = {
        "properties": [
            {"key": "score", "operator": "GTE", "value": 1},
            {"key": "ok", "operator": "EQ", "value": True},
        ]
    }
    assert await _names(client, resolver_client, tokens.ada, acme, filter=two) == ["e4"]
    negated = {"not": {"properties": [{"key": "label", "operator": "IS_SET"}]}}
    assert await _names(client, resolver_client, tokens.ada, acme, filter=negated) == ["e5", "e4"]


@pytest.mark.parametrize(
    ("condition", "message"),
    [
        ({"key": "score", "operator": "GT", "value": True}, "GT takes a number or a string"),
        ({"key": "score", "operator": "IN", "value": 3}, "IN takes a list of at most 1000 values"),
        ({"key": "label", "operator": "CONTAINS", "value": 3}, "CONTAINS takes a string"),
        ({"key": "score", "operator": "EQ"}, "properties: EQ takes a value"),
        ({"key": "", "operator": "IS_SET"}, "a property key is 1 to 200 characters, without NUL"),
    ],
)
async def test_bad_property_filters(
    client: Client, tokens: Tokens, acme: UUID, condition: dict[str, Any], message: str
) -> None:
    variables = {"env": global_id("Environment", acme), "filter": {"properties": [condition]}}
    found = await error(client, LIST, tokens.ada, **variables)
    assert (found["message"], found["extensions"]["code"]) == (message, "BAD_USER_INPUT")


async def test_default_order_is_newest_first_and_id_breaks_ties(
    client: Client, resolver_client: Client, tokens: Tokens, acme: UUID
) -> None:
    found = await _names(client, resolver_client, tokens.ada, acme)
    tied = sorted(["e3", "e4"], key=lambda n: next(str(e.uuid) for e in EVENTS if e.name == n))
    assert found == ["e6", "e5", *tied, "e2", "e1"]
    oldest = await _names(
        client, resolver_client, tokens.ada, acme, orderBy=[{"field": "TIMESTAMP"}]
    )
    assert oldest == ["e1", "e2", *tied, "e5", "e6"]


async def test_since_is_inclusive_and_until_exclusive(
    client: Client, resolver_client: Client, tokens: Tokens, acme: UUID
) -> None:
    window = {"since": TIMES["e2"].isoformat(), "until": TIMES["e5"].isoformat()}
    found = await _names(client, resolver_client, tokens.ada, acme, **window)
    assert set(found) == {"e2", "e3", "e4"}
    edge = {
        "since": TIMES["e5"].isoformat(),
        "until": (TIMES["e5"] + timedelta(microseconds=1)).isoformat(),
    }
    assert await _names(client, resolver_client, tokens.ada, acme, **edge) == ["e5"]


async def test_keyset_walk_across_partitions(
    client: Client, resolver_client: Client, tokens: Tokens, acme: UUID
) -> None:
    everything = await _names(client, resolver_client, tokens.ada, acme)
    for first in (1, 2, 4):
        seen: list[str] = []
        after = None
        while True:
            variables = {"env": global_id("Environment", acme), "first": first, "after": after}
            body = await data(client, LIST, tokens.ada, **variables)
            page = body["environment"]["events"]
            seen += [BY_UUID[n["uuid"]] for n in page["nodes"]]
            assert page["pageInfo"]["hasPreviousPage"] == (after is not None)
            if not page["pageInfo"]["hasNextPage"]:
                break
            after = page["pageInfo"]["endCursor"]
        assert seen == everything


async def test_search_matches_name_and_distinct_id(
    client: Client, resolver_client: Client, tokens: Tokens, acme: UUID
) -> None:
    assert await _names(client, resolver_client, tokens.ada, acme, search="TEST-E3") == ["e3"]
    found = await _names(client, resolver_client, tokens.ada, acme, search="predict e1")
    assert found == ["e1"]


async def test_event_fields_and_count(
    client: Client, resolver_client: Client, tokens: Tokens, acme: UUID
) -> None:
    variables = {"env": global_id("Environment", acme), "first": 1, "filter": None}
    compiled, resolved = await both(client, resolver_client, LIST, tokens.ada, variables)
    assert compiled[:2] == resolved[:2]
    environment = compiled[1]["data"]["environment"]
    e6 = EVENTS[-1]
    assert environment["eventCount"] == "6"
    assert environment["events"]["totalCount"] == 6
    assert environment["events"]["nodes"] == [
        {
            "id": global_id("Event", e6.uuid),
            "uuid": str(e6.uuid),
            "event": "prediction",
            "distinctId": "test-e6",
            "timestamp": "2026-12-02T00:00:00+00:00",
            "properties": {"score": 1.0, "label": "cat"},
            "personId": None,
        }
    ]


LOOKUP = """
query ($id: ID, $uuid: UUID) {
  event(id: $id, uuid: $uuid) { uuid environment { name } model { name } project { name } }
}
"""


async def test_lookup_by_id_or_uuid(client: Client, tokens: Tokens, acme: UUID) -> None:
    e1 = EVENTS[0]
    by_id = await data(client, LOOKUP, tokens.ada, id=global_id("Event", e1.uuid))
    by_uuid = await data(client, LOOKUP, tokens.ada, uuid=str(e1.uuid))
    assert by_id == by_uuid
    assert by_id["event"]["uuid"] == str(e1.uuid)
    both_given = await error(
        client, LOOKUP, tokens.ada, id=global_id("Event", e1.uuid), uuid=str(e1.uuid)
    )
    assert both_given["extensions"]["code"] == "BAD_USER_INPUT"
    assert both_given["message"] == "give exactly one of `id` and `uuid`"


VALUES = """
query ($env: ID!, $key: String!, $search: String, $since: DateTime) {
  environment(id: $env) {
    eventNames
    propertyKeys(since: $since)
    propertyValues(key: $key, search: $search)
  }
}
"""


async def test_value_pickers(client: Client, tokens: Tokens, acme: UUID) -> None:
    env = global_id("Environment", acme)
    found = (await data(client, VALUES, tokens.ada, env=env, key="score"))["environment"]
    assert found == {
        "eventNames": ["prediction"],
        "propertyKeys": ["label", "meta", "n", "ok", "score", "tags"],
        # jsonb's order: strings before numbers
        "propertyValues": ["high", 0.9, 1.0, 2, 10],
    }
    searched = await data(
        client, VALUES, tokens.ada, env=env, key="label", search="CAT", since=DEC.isoformat()
    )
    assert searched["environment"]["propertyKeys"] == ["label", "score"]
    assert searched["environment"]["propertyValues"] == ["Cat", "Caterpillar", "cat"]


ROOT = """
query ($filter: EventFilter) {
  events(filter: $filter, first: 100) { totalCount nodes { uuid } }
}
"""
NODE = "query ($id: ID!) { node(id: $id) { ... on Event { uuid } } }"
ENTITIES = """
query ($representations: [_Any!]!) {
  _entities(representations: $representations) { ... on Event { uuid } }
}
"""


async def test_another_tenant_sees_none_of_them(client: Client, tokens: Tokens, acme: UUID) -> None:
    mine = {"distinctId": {"startsWith": "test-"}}
    ada = await data(client, ROOT, tokens.ada, filter=mine)
    assert ada["events"]["totalCount"] == 6
    # the demo's events are Ada's and Alan's alike: each sees some, never the other's
    alan = await data(client, ROOT, tokens.alan, filter=mine)
    assert alan == {"events": {"totalCount": 0, "nodes": []}}
    e1 = EVENTS[0]
    probe = {"and": [mine, {"properties": [{"key": "label", "operator": "EQ", "value": "Cat"}]}]}
    assert (await data(client, ROOT, tokens.alan, filter=probe))["events"]["totalCount"] == 0
    missing = await error(client, LOOKUP, tokens.alan, uuid=str(e1.uuid))
    assert (missing["extensions"]["code"], missing["data"]) == ("NOT_FOUND", {"event": None})
    node = await data(client, NODE, tokens.alan, id=global_id("Event", e1.uuid))
    assert node == {"node": None}
    representations = [{"__typename": "Event", "id": global_id("Event", e1.uuid)}]
    entities = await data(client, ENTITIES, tokens.alan, representations=representations)
    assert entities == {"_entities": [None]}
    # the environment itself is not Alan's: its lists and pickers are out of reach
    hidden = await error(client, VALUES, tokens.alan, env=global_id("Environment", acme), key="x")
    assert hidden["extensions"]["code"] == "NOT_FOUND"


async def test_event_scope_is_needed(
    client: Client, conn: asyncpg.Connection, tokens: Tokens, acme: UUID
) -> None:
    narrow = (await create_token(conn, email="ada@example.com", scopes=["environment:read"])).token
    found = await error(client, LIST, narrow, env=global_id("Environment", acme))
    assert found["extensions"]["code"] == "FORBIDDEN"
    assert found["message"] == "this token lacks the scope event:read"
    picked = await error(client, VALUES, narrow, env=global_id("Environment", acme), key="x")
    assert picked["message"] == "this token lacks the scope event:read"
