"""Secrets through HTTP: encrypted at rest, values only for writers holding
`secret:read`, versions, no value in any log or error, the environment's
cascade, and isolation through every path."""

from __future__ import annotations

import logging
import uuid
from dataclasses import replace
from typing import Any

import asyncpg
import pytest
from aiohttp.test_utils import TestClient, TestServer
from graphql import parse

from db.demo_secrets import DEMO_SECRETS
from db.json_reads import read_statement
from db.secret_box import SecretBox, generate_key, parse_key
from db.secret_keys import KeyMismatch
from db.tokens import create_token
from db.viewer import Viewer
from gateway.app import create_app
from gateway.keys import STATEMENTS
from gateway.logs import JsonFormatter
from gateway.settings import Settings
from schema.ids import parse_global_id
from schema.planner import plan_read
from schema.schema import build_schema
from tests.schema.compiled_support import executed
from tests.schema.conftest import Tokens
from tests.schema.secrets_support import CREATE, DELETE, KEY, SECRETS, UPDATE, environment
from tests.support import Client, data, error, graphql

VALUE = "hunter2-Zq8!value"
SCHEMA = build_schema(introspection=True)
DEMO = [key for key, _ in DEMO_SECRETS]


async def _create(client: Client, token: str, environment_id: str, **fields: Any) -> Any:
    created = await data(
        client,
        CREATE,
        token,
        input={"environmentId": environment_id, "key": "DB_PASSWORD", "value": VALUE, **fields},
    )
    return created["createSecret"]["secret"]


async def test_values_are_encrypted_at_rest_and_versions_go_up(
    keyed: Client, conn: asyncpg.Connection, tokens: Tokens
) -> None:
    production = await environment(conn)
    secret = await _create(keyed, tokens.ada, production, comment="the primary's")
    assert {k: v for k, v in secret.items() if k != "id"} == {
        "key": "DB_PASSWORD",
        "value": VALUE,
        "comment": "the primary's",
        "version": 1,
        "createdBy": {"name": "Ada Lovelace"},
        "updatedBy": {"name": "Ada Lovelace"},
    }
    # the row holds no plaintext, in any column or encoding
    row = await conn.fetchrow(
        "SELECT s.*, s::text AS whole FROM secrets s WHERE key = 'DB_PASSWORD'"
    )
    assert row is not None
    assert VALUE not in row["whole"]
    assert VALUE.encode() not in row["ciphertext"]
    assert VALUE.encode().hex() not in row["whole"]
    # ... and it opens with the key, bound to its row: the id is associated data
    _, uuid = parse_global_id(secret["id"], "id")
    opened = SecretBox(KEY).open(row["ciphertext"], b"envgraph:secret:" + uuid.bytes)
    assert opened == VALUE

    # Grace edits fraud-detection: she may change and read it; each update bumps the version
    changed = await data(keyed, UPDATE, tokens.grace, input={"id": secret["id"], "value": "v2"})
    assert changed["updateSecret"]["secret"] | {"id": None} == {
        "id": None,
        "key": "DB_PASSWORD",
        "value": "v2",
        "comment": "the primary's",
        "version": 2,
        "updatedBy": {"name": "Grace Hopper"},
    }
    renamed = await data(keyed, UPDATE, tokens.ada, input={"id": secret["id"], "key": "DB_PASS"})
    assert renamed["updateSecret"]["secret"]["version"] == 3
    listed = await data(keyed, SECRETS, tokens.ada, id=production)
    assert listed["environment"]["secrets"] == {
        "totalCount": 1,
        "nodes": [{"key": "DB_PASS", "value": "v2", "version": 3}],
    }
    stale = await error(
        keyed,
        UPDATE,
        tokens.ada,
        input={"id": secret["id"], "comment": "x", "expectedUpdatedAt": "2020-01-01T00:00:00Z"},
    )
    assert (stale["extensions"]["code"], stale["extensions"]["field"]) == (
        "CONFLICT",
        "expectedUpdatedAt",
    )
    taken = await error(
        keyed,
        CREATE,
        tokens.ada,
        input={"environmentId": production, "key": "DB_PASS", "value": "other"},
    )
    assert (taken["extensions"]["code"], taken["extensions"]["field"]) == ("CONFLICT", "key")

    # a delete is one statement besides the token's check, refused or not (issue 18:
    # writes in one round trip); Alan is of another tenant
    assert keyed.app is not None
    before = keyed.app[STATEMENTS].total
    gone = await error(keyed, DELETE, tokens.alan, id=secret["id"])
    assert gone["extensions"]["code"] == "NOT_FOUND"
    assert await data(keyed, DELETE, tokens.ada, id=secret["id"]) == {
        "deleteSecret": {"deletedId": secret["id"]}
    }
    assert keyed.app[STATEMENTS].total - before == 4
    assert await conn.fetchval("SELECT count(*) FROM secrets WHERE key = 'DB_PASS'") == 0


async def test_a_value_needs_secret_read_and_a_writer_role(
    keyed: Client, conn: asyncpg.Connection, tokens: Tokens
) -> None:
    fraud, churn = await environment(conn), await environment(conn, "churn-prediction")
    in_fraud = await _create(keyed, tokens.ada, fraud)
    in_churn = await _create(keyed, tokens.ada, churn)
    query = "query ($id: ID!) { node(id: $id) { ... on Secret { key value } } }"
    # Grace: EDITOR of fraud-detection, VIEWER of churn-prediction
    assert await data(keyed, query, tokens.grace, id=in_fraud["id"]) == {
        "node": {"key": "DB_PASSWORD", "value": VALUE}
    }
    assert await data(keyed, query, tokens.grace, id=in_churn["id"]) == {
        "node": {"key": "DB_PASSWORD", "value": None}
    }
    # the demo's own secrets, encrypted with the same key when the demo was seeded
    demo = await data(keyed, SECRETS, tokens.grace, id=await environment(conn, name="production"))
    nodes = sorted(demo["environment"]["secrets"]["nodes"], key=lambda n: n["key"])
    assert [(n["key"], n["value"].rsplit("-", 1)[0]) for n in nodes] == [
        ("MODEL_STORE_PASSWORD", "demo-model-store-password"),
        ("SCORING_API_KEY", "demo-scoring-api-key"),
    ]
    # a token of Ada's (ADMIN) that may list and write secrets but not read values
    writer = await create_token(
        conn, email="ada@example.com", scopes=["secret:write", "environment:read"]
    )
    assert await data(keyed, query, writer.token, id=in_fraud["id"]) == {
        "node": {"key": "DB_PASSWORD", "value": None}
    }
    listed = await data(keyed, SECRETS, writer.token, id=fraud)
    assert listed["environment"]["secrets"]["nodes"] == [
        {"key": "DB_PASSWORD", "value": None, "version": 1}
    ]
    # federation answers as `node` does
    entities = (
        "query ($r: [_Any!]!) { _entities(representations: $r) { ... on Secret { key value } } }"
    )
    representations = [{"__typename": "Secret", "id": in_fraud["id"]}]
    assert await data(keyed, entities, writer.token, r=representations) == {
        "_entities": [{"key": "DB_PASSWORD", "value": None}]
    }
    assert await data(keyed, entities, tokens.grace, r=representations) == {
        "_entities": [{"key": "DB_PASSWORD", "value": VALUE}]
    }
    # no secret scope at all: no secret is read, whichever way
    reader = await create_token(conn, email="ada@example.com", scopes=["environment:read"])
    for query_, variables in [
        (SECRETS, {"id": fraud}),
        (query, {"id": in_fraud["id"]}),
        (entities, {"r": representations}),
    ]:
        refused = await error(keyed, query_, reader.token, **variables)
        assert refused["extensions"]["code"] == "FORBIDDEN"
        assert "secret:read" in refused["message"]
        assert VALUE not in str(refused)


async def test_writes_need_secret_write_and_a_writer_role(
    keyed: Client, conn: asyncpg.Connection, tokens: Tokens
) -> None:
    fraud, churn = await environment(conn), await environment(conn, "churn-prediction")
    in_churn = await _create(keyed, tokens.ada, churn)
    # a token of Ada's (ADMIN) that reads values but may not write them
    reader = await create_token(
        conn, email="ada@example.com", scopes=["secret:read", "environment:read"]
    )
    read = "query ($id: ID!) { node(id: $id) { ... on Secret { value } } }"
    assert await data(keyed, read, reader.token, id=in_churn["id"]) == {"node": {"value": VALUE}}
    writes: list[tuple[str, dict[str, Any]]] = [
        (CREATE, {"input": {"environmentId": fraud, "key": "NEW", "value": "v"}}),
        (UPDATE, {"input": {"id": in_churn["id"], "value": "changed"}}),
        (DELETE, {"id": in_churn["id"]}),
    ]
    for mutation, variables in writes:
        refused = await error(keyed, mutation, reader.token, **variables)
        assert (refused["extensions"]["code"], refused["message"]) == (
            "FORBIDDEN",
            "this token lacks the scope secret:write",
        ), mutation
    # Grace, VIEWER of churn-prediction, with every scope: she sees the secret (no
    # value) but may not add, change or delete one there
    viewer_writes: list[tuple[str, dict[str, Any]]] = [
        (CREATE, {"input": {"environmentId": churn, "key": "NEW", "value": "v"}}),
        *writes[1:],
    ]
    for mutation, variables in viewer_writes:
        refused = await error(keyed, mutation, tokens.grace, **variables)
        assert (refused["extensions"]["code"], refused["message"]) == (
            "FORBIDDEN",
            "writing here needs the EDITOR role on the project (or ADMIN of its organization)",
        ), mutation
    # nothing changed
    row = await conn.fetchrow(
        "SELECT key, version FROM secrets WHERE key IN ('DB_PASSWORD', 'NEW')"
    )
    assert row is not None
    assert (row["key"], row["version"]) == ("DB_PASSWORD", 1)
    assert await data(keyed, read, tokens.ada, id=in_churn["id"]) == {"node": {"value": VALUE}}


async def test_a_ciphertext_that_does_not_open_is_an_error_never_garbage(
    keyed: Client, conn: asyncpg.Connection, tokens: Tokens, caplog: pytest.LogCaptureFixture
) -> None:
    production = await environment(conn)
    first = await _create(keyed, tokens.ada, production, key="FIRST")
    second = await _create(keyed, tokens.ada, production, key="SECOND", value="second value")
    ids = {
        key: parse_global_id(s["id"], "id")[1] for key, s in (("FIRST", first), ("SECOND", second))
    }
    read = "query ($id: ID!) { node(id: $id) { ... on Secret { key value } } }"
    # the first's ciphertext copied onto the second's row (someone with the database's
    # write access): bound to the first's id, it does not open as the second's value
    await conn.execute(
        "UPDATE secrets SET ciphertext = (SELECT ciphertext FROM secrets WHERE id = $1) "
        "WHERE id = $2",
        ids["FIRST"],
        ids["SECOND"],
    )
    # one byte of the first's changed: GCM's tag refuses it
    await conn.execute(
        "UPDATE secrets SET ciphertext = overlay(ciphertext PLACING "
        "decode(lpad(to_hex(get_byte(ciphertext, 20) # 1), 2, '0'), 'hex') FROM 21 FOR 1) "
        "WHERE id = $1",
        ids["FIRST"],
    )
    for key, secret in (("SECOND", second), ("FIRST", first)):
        caplog.clear()
        _, body = await graphql(keyed, read, tokens.ada, id=secret["id"])
        assert body["data"] == {"node": {"key": key, "value": None}}
        assert [(e["message"], e["extensions"]["code"], e["path"]) for e in body["errors"]] == [
            ("Internal server error", "INTERNAL_SERVER_ERROR", ["node", "value"])
        ]
        # the server's log says what is wrong, and holds no plaintext
        assert "does not decrypt with the configured GATEWAY_SECRETS_KEY" in caplog.text
        assert VALUE not in caplog.text + str(body)
        assert "second value" not in caplog.text + str(body)


async def test_isolation_through_every_path(
    keyed: Client, conn: asyncpg.Connection, tokens: Tokens
) -> None:
    fraud, churn = await environment(conn), await environment(conn, "churn-prediction")
    secret = await _create(keyed, tokens.ada, fraud)
    theirs = await environment(conn, "fraud-detection", organization="Initech Labs")
    alans = await _create(keyed, tokens.alan, theirs)
    _, uuid = parse_global_id(secret["id"], "id")
    nested = """
    { models { nodes { environments { nodes { secrets { totalCount nodes { key } } } } } } }
    """
    # a project-restricted token of Ada's: churn-prediction only
    churn_project = await conn.fetchval(
        "SELECT project_id FROM environments WHERE id = $1", parse_global_id(churn, "id")[1]
    )
    restricted = await create_token(
        conn, email="ada@example.com", scopes=["*"], project_ids=[churn_project]
    )
    for token in (tokens.alan, restricted.token):
        assert await data(
            keyed, "query ($id: ID!) { node(id: $id) { id } }", token, id=secret["id"]
        ) == {"node": None}
        lookup = await error(
            keyed, "query ($u: UUID) { secret(uuid: $u) { key } }", token, u=str(uuid)
        )
        assert lookup["extensions"]["code"] == "NOT_FOUND"
        entities = "query ($r: [_Any!]!) { _entities(representations: $r) { __typename } }"
        assert await data(
            keyed, entities, token, r=[{"__typename": "Secret", "id": secret["id"]}]
        ) == {"_entities": [None]}
        seen = await data(keyed, nested, token)
        keys = [
            s["key"]
            for m in seen["models"]["nodes"]
            for e in m["environments"]["nodes"]
            for s in e["secrets"]["nodes"]
            if s["key"] == "DB_PASSWORD"  # not the demo's
        ]
        # Alan's own secret, no other; the restricted token sees churn-prediction's (none)
        assert keys == (["DB_PASSWORD"] if token == tokens.alan else [])
        for mutation, variables in [
            (UPDATE, {"input": {"id": secret["id"], "value": "stolen"}}),
            (DELETE, {"id": secret["id"]}),
            (CREATE, {"input": {"environmentId": fraud, "key": "X", "value": "y"}}),
        ]:
            refused = await error(keyed, mutation, token, **variables)
            assert refused["extensions"]["code"] == "NOT_FOUND", mutation
    # Alan sees his own secret and no other; Ada's restricted token none of fraud's
    alan_seen = await data(keyed, nested, tokens.alan)
    demo = [
        s["key"]
        for m in alan_seen["models"]["nodes"]
        for e in m["environments"]["nodes"]
        for s in e["secrets"]["nodes"]
    ]
    # his demo production environments' two each (6 models), and his one
    assert sorted(demo).count("DB_PASSWORD") == 1
    assert len(demo) == 6 * 2 + 1
    assert (await data(keyed, SECRETS, tokens.alan, id=theirs))["environment"]["secrets"][
        "nodes"
    ] == [{"key": "DB_PASSWORD", "value": VALUE, "version": 1}]
    assert alans["id"] != secret["id"]
    # nothing changed by the refused writes
    ours = "FROM secrets WHERE key IN ('DB_PASSWORD', 'X')"
    assert await conn.fetchval(f"SELECT count(*) {ours}") == 2
    assert await conn.fetchval(f"SELECT max(version) {ours}") == 1


async def test_deleting_an_environment_deletes_its_secrets(
    keyed: Client, conn: asyncpg.Connection, tokens: Tokens
) -> None:
    training = await environment(conn, name="training")
    production = await environment(conn, name="production")
    for key in ("A", "B"):
        await _create(keyed, tokens.ada, training, key=key)
    await _create(keyed, tokens.ada, production, key="C")
    delete = "mutation ($id: ID!) { deleteEnvironment(input: {id: $id}) { deletedId } }"
    # a protected environment stays, and so do its secrets
    refused = await error(keyed, delete, tokens.ada, id=production)
    assert refused["extensions"]["code"] == "CONFLICT"
    await data(keyed, delete, tokens.ada, id=training)
    left = await conn.fetch("SELECT key FROM secrets WHERE key IN ('A', 'B', 'C')")
    assert [r["key"] for r in left] == ["C"]


async def test_values_never_reach_logs_or_errors(
    keyed: Client, conn: asyncpg.Connection, tokens: Tokens, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    production = await environment(conn)
    await _create(keyed, tokens.ada, production)
    failing: list[dict[str, Any]] = [
        # a bad key, a taken key, a value too long, an unknown field, a foreign environment
        {"environmentId": production, "key": "bad key", "value": VALUE},
        {"environmentId": production, "key": "DB_PASSWORD", "value": VALUE},
        {"environmentId": production, "key": "LONG", "value": VALUE * 5000},
        {"environmentId": production, "key": "K", "value": VALUE, "bogus": VALUE},
        {"environmentId": production, "key": "K", "value": VALUE, "comment": {"x": VALUE}},
        {
            "environmentId": await environment(conn, organization="Initech Labs"),
            "key": "K",
            "value": VALUE,
        },
    ]
    bodies = []
    for input in failing:
        _, body = await graphql(keyed, CREATE, tokens.ada, input=input)
        assert body.get("errors"), body
        bodies.append(str(body))
    _, update = await graphql(
        keyed,
        UPDATE,
        tokens.grace,
        input={"id": "U2VjcmV0OjA=", "value": VALUE, "expectedUpdatedAt": "yesterday"},
    )
    bodies.append(str(update))
    assert [VALUE in body for body in bodies] == [False] * len(bodies)
    assert VALUE not in caplog.text
    # the request log has a line for each of these requests (the create, the seven
    # refused writes), in either format, and none holds the value
    lines = [r for r in caplog.records if r.name == "envgraph.requests"]
    assert len(lines) == 1 + len(failing) + 1
    assert [
        VALUE in formatter.format(r)
        for r in lines
        for formatter in (JsonFormatter(), logging.Formatter())
    ] == [False] * 2 * len(lines)
    # ... nor do the metrics
    metrics = await keyed.get("/metrics")
    assert metrics.status == 200
    assert VALUE not in await metrics.text()
    assert await conn.fetchval("SELECT count(*) FROM secrets WHERE key <> ALL($1)", DEMO) == 1


async def test_without_a_key_secrets_are_refused_naming_the_variable(
    client: Client, keyed: Client, conn: asyncpg.Connection, tokens: Tokens
) -> None:
    production = await environment(conn)
    secret = await _create(keyed, tokens.ada, production)
    refused = await error(
        client, CREATE, tokens.ada, input={"environmentId": production, "key": "K", "value": "v"}
    )
    assert refused["extensions"]["code"] == "FORBIDDEN"
    assert "GATEWAY_SECRETS_KEY" in refused["message"]
    read = await error(client, SECRETS, tokens.ada, id=production)
    assert "GATEWAY_SECRETS_KEY" in read["message"]
    assert read["path"] == ["environment", "secrets", "nodes", 0, "value"]
    # what does not touch a value still works
    listed = "query ($id: ID!) { environment(id: $id) { secrets { nodes { key version } } } }"
    assert (await data(client, listed, tokens.ada, id=production))["environment"] == {
        "secrets": {"nodes": [{"key": "DB_PASSWORD", "version": 1}]}
    }
    assert (await data(client, DELETE, tokens.ada, id=secret["id"]))["deleteSecret"]


async def test_a_wrong_key_stops_the_start(
    keyed: Client, settings: Settings, conn: asyncpg.Connection, tokens: Tokens
) -> None:
    await _create(keyed, tokens.ada, await environment(conn))
    other = create_app(replace(settings, secrets_key=parse_key(generate_key())))
    with pytest.raises(KeyMismatch, match="GATEWAY_SECRETS_KEY is not the key"):
        async with TestClient(TestServer(other)):
            pass


async def test_the_compiled_path_never_reads_a_value(
    keyed: Client, conn: asyncpg.Connection, tokens: Tokens
) -> None:
    production = await environment(conn)
    await _create(keyed, tokens.ada, production)
    metadata = """
    query ($id: ID!) {
      environment(id: $id) { secrets { nodes { id key comment version createdBy { name } } } }
    }
    """
    viewer = Viewer(uuid.UUID(int=1), "ada@example.com", "Ada", frozenset({"*"}), False)
    variables = {"id": production}
    # what the compiled path makes of a query without `value`: no ciphertext in its SQL
    plan = plan_read(SCHEMA, parse(metadata), None, variables, viewer, page_sizes=(20, 100))
    assert plan is not None
    sql, _ = read_statement(plan, viewer)
    assert "ciphertext" not in sql
    assert '"secrets"' in sql
    # a query selecting `value` is not compilable: the resolvers answer it
    assert plan_read(SCHEMA, parse(SECRETS), None, variables, viewer, page_sizes=(20, 100)) is None
    before = executed(keyed, "compiled"), executed(keyed, "resolver")
    compiled = await data(keyed, metadata, tokens.ada, **variables)
    assert compiled["environment"]["secrets"]["nodes"][0]["key"] == "DB_PASSWORD"
    resolved = await data(keyed, SECRETS, tokens.ada, **variables)
    assert resolved["environment"]["secrets"]["nodes"][0]["value"] == VALUE
    after = executed(keyed, "compiled"), executed(keyed, "resolver")
    assert (after[0] - before[0], after[1] - before[1]) == (1, 1)


async def test_values_under_many_environments_cost_one_statement_per_level(
    keyed: Client, conn: asyncpg.Connection, tokens: Tokens
) -> None:
    query = """
    { models(first: 20) { nodes { environments { nodes { secrets { nodes { key value } } } } } } }
    """
    before = keyed.app[STATEMENTS].total
    seen = await data(keyed, query, tokens.ada)
    values = [
        s["value"]
        for m in seen["models"]["nodes"]
        for e in m["environments"]["nodes"]
        for s in e["secrets"]["nodes"]
    ]
    # Ada's 12 models' production environments, two secrets each, every value read
    assert len(values) == 24
    assert all(v.startswith("demo-") for v in values)
    # the token, models, their environments, the environments' secrets, and one for
    # the writer roles of every project at once: not one per secret or per project
    assert keyed.app[STATEMENTS].total - before == 5


async def test_writes_are_one_statement_until_the_key_changes(
    keyed: Client, conn: asyncpg.Connection, tokens: Tokens
) -> None:
    """Once this server's key has opened the stored key check (at start), a write
    finds the check unchanged in its own statement: the token's check and one
    statement (issue 18: writes in one round trip). Another key's check stored
    behind its back (a rotation by another process) sends a write the long way,
    which refuses it as before, changing nothing."""
    fraud, churn = await environment(conn), await environment(conn, "churn-prediction")
    create = """mutation ($input: CreateSecretInput!) {
      createSecret(input: $input) { secret { version } } }"""
    update = """mutation ($input: UpdateSecretInput!) {
      updateSecret(input: $input) { secret { key version } } }"""
    first = {"environmentId": fraud, "key": "K", "value": "v1"}
    made = await data(keyed, CREATE, tokens.ada, input=first)
    secret = made["createSecret"]["secret"]["id"]
    taken = ("CONFLICT", "the key is taken by another secret here")
    reader = (
        "FORBIDDEN",
        "writing here needs the EDITOR role on the project (or ADMIN of its organization)",
    )

    def version(key: str | None, number: int) -> dict[str, Any]:
        if key is None:
            return {"createSecret": {"secret": {"version": number}}}
        return {"updateSecret": {"secret": {"key": key, "version": number}}}

    cases: list[tuple[str, str, dict[str, Any], Any]] = [
        (create, tokens.ada, {"environmentId": fraud, "key": "K2", "value": "v"}, version(None, 1)),
        (create, tokens.ada, first, taken),
        (create, tokens.grace, {"environmentId": churn, "key": "K", "value": "v"}, reader),
        (update, tokens.ada, {"id": secret, "value": "v2"}, version("K", 2)),
        (update, tokens.ada, {"id": secret, "comment": "no value"}, version("K", 3)),
        (update, tokens.ada, {"id": secret, "key": "K2"}, taken),
    ]  # fmt: skip
    assert keyed.app is not None
    for mutation, token, given, expected in cases:
        before = keyed.app[STATEMENTS].total
        if isinstance(expected, dict):
            assert await data(keyed, mutation, token, input=given) == expected
        else:
            refused = await error(keyed, mutation, token, input=given)
            assert (refused["extensions"]["code"], refused["message"]) == expected
        assert keyed.app[STATEMENTS].total - before == 2

    # another key's check, as a rotation by another process would leave it
    other = SecretBox(parse_key(generate_key()))
    await conn.execute("UPDATE secrets_key_check SET ciphertext = $1", other.check_value())
    stored = await conn.fetch("SELECT id, ciphertext, version FROM secrets ORDER BY id")
    for mutation, given in (
        (create, {"environmentId": fraud, "key": "K3", "value": "v"}),
        (update, {"id": secret, "value": "v3"}),
    ):
        before = keyed.app[STATEMENTS].total
        refused = await error(keyed, mutation, tokens.ada, input=given)
        assert (refused["extensions"]["code"], refused["message"]) == (
            "CONFLICT",
            "the secrets key was changed since this server started: restart it with the "
            "new GATEWAY_SECRETS_KEY",
        )
        # the token's, the one statement, then the long way: the row, the key check
        assert keyed.app[STATEMENTS].total - before == 4
    assert await conn.fetch("SELECT id, ciphertext, version FROM secrets ORDER BY id") == stored

    # this server's own key, its check sealed anew (as a rotation back would leave
    # it): the long way opens it once and writes, and the next write is one statement
    await conn.execute("UPDATE secrets_key_check SET ciphertext = $1", SecretBox(KEY).check_value())
    # the token's, the one statement, the row, the key check, the write; then 2 again
    for statements, value, number in ((5, "v4", 4), (2, "v5", 5)):
        before = keyed.app[STATEMENTS].total
        changed = await data(keyed, update, tokens.ada, input={"id": secret, "value": value})
        assert changed == version("K", number)
        assert keyed.app[STATEMENTS].total - before == statements
    read = "query ($id: ID!) { node(id: $id) { ... on Secret { value } } }"
    assert await data(keyed, read, tokens.ada, id=secret) == {"node": {"value": "v5"}}
