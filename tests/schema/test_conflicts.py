"""A duplicate is CONFLICT naming the input field of the unique constraint it
broke, as a client sees it through the mutations."""

from __future__ import annotations

from typing import Any

import asyncpg
import pytest

from db.errors import Conflict
from db.writes import UNIQUE_CONSTRAINTS, translated
from schema.ids import global_id
from tests.schema.conftest import Tokens
from tests.support import Client, data, error


def _mutation(name: str, payload: str) -> str:
    input_type = name[0].upper() + name[1:] + "Input"
    return f"mutation ($input: {input_type}!) {{ {name}(input: $input) {{ {payload} }} }}"


async def _conflict(client: Client, token: str, name: str, payload: str, /, **input: Any) -> Any:
    found = await error(client, _mutation(name, payload), token, input=input)
    return (found["extensions"]["code"], found["extensions"].get("field"), found["message"])


async def _two(conn: asyncpg.Connection, table: str, parent: str) -> list[asyncpg.Record]:
    """Two rows of `table` under the same `parent` (demo data has several)."""
    rows = await conn.fetch(
        f"""SELECT * FROM {table} WHERE {parent} = (
                SELECT {parent} FROM {table} GROUP BY 1 HAVING count(*) > 1 ORDER BY 1 LIMIT 1)
            ORDER BY id LIMIT 2"""
    )
    assert len(rows) == 2
    return rows


async def test_organization_name(client: Client, tokens: Tokens) -> None:
    create = ("createOrganization", "organization { id }")
    await data(client, _mutation(*create), tokens.root, input={"name": "Umbrella"})
    assert await _conflict(client, tokens.root, *create, name="Umbrella") == (
        "CONFLICT",
        "name",
        "the name is taken by another organization",
    )


async def test_project_name(client: Client, conn: asyncpg.Connection, tokens: Tokens) -> None:
    first, second = await _two(conn, "projects", "organization_id")
    taken = ("CONFLICT", "name", "the name is taken by another project here")
    created = await _conflict(
        client,
        tokens.root,
        "createProject",
        "project { id }",
        organizationId=global_id("Organization", first["organization_id"]),
        name=first["name"],
    )
    assert created == taken
    renamed = await _conflict(
        client,
        tokens.root,
        "updateProject",
        "project { id }",
        id=global_id("Project", second["id"]),
        name=first["name"],
    )
    assert renamed == taken


async def test_model_name_and_version_names_the_version(
    client: Client, conn: asyncpg.Connection, tokens: Tokens
) -> None:
    first, second = await _two(conn, "models", "project_id")
    project = global_id("Project", first["project_id"])
    taken = ("CONFLICT", "version", "the project already has a model with this name and version")
    create = ("createModel", "model { id version }")
    duplicate = {"projectId": project, "name": first["name"], "version": first["version"]}
    assert await _conflict(client, tokens.root, *create, **duplicate) == taken
    # the same name in another version is a model of its own: the version clashed
    another = await data(
        client, _mutation(*create), tokens.root, input={**duplicate, "version": "v-other"}
    )
    assert another["createModel"]["model"]["version"] == "v-other"
    renamed = await _conflict(
        client,
        tokens.root,
        "updateModel",
        "model { id }",
        id=global_id("Model", second["id"]),
        name=first["name"],
        version=first["version"],
    )
    assert renamed == taken


async def test_environment_name(client: Client, conn: asyncpg.Connection, tokens: Tokens) -> None:
    first, second = await _two(conn, "environments", "model_id")
    taken = ("CONFLICT", "name", "the name is taken by another environment here")
    created = await _conflict(
        client,
        tokens.root,
        "createEnvironment",
        "environment { id }",
        modelId=global_id("Model", first["model_id"]),
        name=first["name"],
        type="PRE_PRODUCTION",
    )
    assert created == taken
    renamed = await _conflict(
        client,
        tokens.root,
        "updateEnvironment",
        "environment { id }",
        id=global_id("Environment", second["id"]),
        name=first["name"],
    )
    assert renamed == taken


async def test_segment_name(client: Client, conn: asyncpg.Connection, tokens: Tokens) -> None:
    first, second = await _two(conn, "segments", "model_id")
    taken = ("CONFLICT", "name", "the name is taken by another segment here")
    created = await _conflict(
        client,
        tokens.root,
        "createSegment",
        "segment { id }",
        modelId=global_id("Model", first["model_id"]),
        name=first["name"],
        definition="x > 1",
    )
    assert created == taken
    renamed = await _conflict(
        client,
        tokens.root,
        "updateSegment",
        "segment { id }",
        id=global_id("Segment", second["id"]),
        name=first["name"],
    )
    assert renamed == taken


async def test_restoring_a_segment_whose_name_was_taken_names_the_id(
    client: Client, conn: asyncpg.Connection, tokens: Tokens
) -> None:
    # restoring has no `name` in its input: the field to point at is the id
    first, _ = await _two(conn, "segments", "model_id")
    segment = global_id("Segment", first["id"])
    delete = "mutation ($id: ID!) { deleteSegment(input: {id: $id}) { deletedId } }"
    await data(client, delete, tokens.root, id=segment)
    await data(
        client,
        _mutation("createSegment", "segment { id }"),
        tokens.root,
        input={
            "modelId": global_id("Model", first["model_id"]),
            "name": first["name"],
            "definition": "x > 1",
        },
    )
    restore = "mutation ($id: ID!) { restoreSegment(input: {id: $id}) { segment { id } } }"
    found = await error(client, restore, tokens.root, id=segment)
    assert (found["extensions"]["code"], found["extensions"]["field"]) == ("CONFLICT", "id")
    assert found["message"] == "the name is taken by another segment here"


async def _translated(conn: asyncpg.Connection, what: str, sql: str) -> None:
    async with conn.transaction():
        with translated(what):
            await conn.execute(sql)


async def test_a_users_email(conn: asyncpg.Connection) -> None:
    # no mutation creates users (the command line does, with its own message);
    # a write through translated() still names the field
    await conn.execute("INSERT INTO users (email, name) VALUES ('x@ex.com', 'X')")
    with pytest.raises(Conflict) as raised:
        await _translated(conn, "user", "INSERT INTO users (email, name) VALUES ('X@ex.COM', 'Y')")
    assert (raised.value.field, raised.value.message) == UNIQUE_CONSTRAINTS["users_email_key"]


async def test_an_unknown_constraint_is_still_a_conflict(conn: asyncpg.Connection) -> None:
    await conn.execute(
        "CREATE TEMPORARY TABLE gadgets (code text CONSTRAINT gadgets_code_key UNIQUE)"
    )
    await conn.execute("INSERT INTO gadgets VALUES ('a')")
    with pytest.raises(Conflict) as raised:
        await _translated(conn, "gadget", "INSERT INTO gadgets VALUES ('a')")
    assert (raised.value.code, raised.value.field, raised.value.message) == (
        "CONFLICT",
        None,
        "this gadget conflicts with another one",
    )


async def test_every_mapped_constraint_exists(conn: asyncpg.Connection) -> None:
    # a renamed constraint would silently fall back to the generic message
    names = {
        row["name"]
        for row in await conn.fetch(
            """SELECT conname AS name FROM pg_constraint WHERE contype = 'u'
               UNION SELECT indexrelid::regclass::text FROM pg_index WHERE indisunique"""
        )
    }
    assert set(UNIQUE_CONSTRAINTS) <= names
