"""The benchmark's data generator, at a tiny scale: the shape it promises,
deterministic, and the rows the scenarios count on."""

from __future__ import annotations

import asyncpg
import pytest

from bench.compare import difference, normalise
from bench.datagen import SCALES, GenerateError, Scale, generate
from db.users import create_user

AUTHOR = "bench@example.com"
TINY = SCALES["tiny"]


async def _fill(conn: asyncpg.Connection, scale: Scale = TINY) -> dict[str, int]:
    await create_user(conn, email=AUTHOR, name="Bench Runner")
    return await generate(conn, scale, AUTHOR)


async def test_counts_follow_the_scale(conn: asyncpg.Connection) -> None:
    counts = await _fill(conn)
    models = TINY.orgs * TINY.projects * TINY.models
    assert counts == {
        "organizations": TINY.orgs,
        "projects": TINY.orgs * TINY.projects,
        "models": models,
        "environments": TINY.total_environments,
        "segments": models * TINY.segments,
    }


async def test_the_large_scale_has_a_million_environments() -> None:
    assert SCALES["large"].total_environments >= 1_000_000


async def test_ids_and_values_are_deterministic(conn: asyncpg.Connection) -> None:
    await _fill(conn)
    # the first environment of the first model of the first project of org 1
    model = await conn.fetchval("SELECT md5('envgraph-bench/org/1/project/1/model/1')::uuid")
    row = await conn.fetchrow(
        "SELECT name, sort_order FROM environments"
        " WHERE id = md5($1::text || '/environment/1')::uuid",
        str(model),
    )
    assert row is not None
    assert (row["name"], row["sort_order"]) == ("training-0001", 0)


async def test_environments_carry_their_models_project(conn: asyncpg.Connection) -> None:
    await _fill(conn)
    assert not await conn.fetchval(
        "SELECT count(*) FROM environments e JOIN models m ON m.id = e.model_id "
        "WHERE e.project_id <> m.project_id"
    )


async def test_refuses_a_filled_database(conn: asyncpg.Connection) -> None:
    await _fill(conn)
    with pytest.raises(GenerateError, match="already"):
        await generate(conn, TINY, AUTHOR)


async def test_needs_the_author(conn: asyncpg.Connection) -> None:
    with pytest.raises(GenerateError, match="no user"):
        await generate(conn, TINY, "nobody@example.com")


def test_answers_compare_without_ids_and_encodings() -> None:
    ours = {
        "e": {"id": "RW52", "uuid": "u1", "rowCount": 5, "createdAt": "2024-01-01T00:00:00+00:00"}
    }
    theirs = {
        "e": {"id": "WyJl", "uuid": "u1", "rowCount": "5", "createdAt": "2024-01-01T01:00:00+01:00"}
    }
    assert difference(normalise(ours), normalise(theirs)) is None
    assert difference(normalise(ours), normalise({"e": {**theirs["e"], "uuid": "u2"}})) == (
        "data.e.uuid: 'u2', expected 'u1'"
    )
