"""Lists in SQL: every filter operator, search, order, and who sees what."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

import asyncpg
import pytest

from db.demo import seed_demo
from db.entities import ENTITIES, ENVIRONMENT, PROJECT, SEGMENT
from db.errors import BadInput
from db.filters import All, AnyOf, Compare, Filter, Not, Related
from db.lists import Deleted, ListRequest, Order
from db.pages import fetch_page
from db.paging import Window
from db.viewer import Viewer

SUPERUSER = Viewer(uuid.uuid4(), "root@example.com", "Root", frozenset("*"), True)

# name, type, row_count, sort_order, protected
ENVIRONMENTS = [
    ("alpha", "PRE_PRODUCTION", 10, 1, False),
    ("Beta_1", "PRE_PRODUCTION", 20, 2, False),
    ("abc", "PRODUCTION", 30, 3, True),
    ("a_c", "PRODUCTION", 40, 4, False),
    ("delta", "PRODUCTION", 0, 5, False),
]


@pytest.fixture
async def graph(conn: asyncpg.Connection) -> asyncpg.Connection:
    """One model with the environments above (and a second model with one more)."""
    org = await conn.fetchval("INSERT INTO organizations (name) VALUES ('Acme') RETURNING id")
    project = await conn.fetchval(
        "INSERT INTO projects (organization_id, name) VALUES ($1, 'fraud') RETURNING id", org
    )
    model = await conn.fetchval(
        "INSERT INTO models (project_id, name) VALUES ($1, 'xgb') RETURNING id", project
    )
    other = await conn.fetchval(
        "INSERT INTO models (project_id, name) VALUES ($1, 'lgbm') RETURNING id", project
    )
    await conn.executemany(
        "INSERT INTO environments (model_id, project_id, name, type, row_count, sort_order, "
        "protected) VALUES ($1, $2, $3, $4, $5, $6, $7)",
        [(model, project, *row) for row in ENVIRONMENTS]
        + [(other, project, "omega", "PRODUCTION", 10, 9, False)],
    )
    return conn


async def fetch_rows(
    conn: asyncpg.Connection, request: ListRequest, viewer: Viewer, limit: int, offset: int = 0
) -> list[asyncpg.Record]:
    """Rows [offset, offset + limit) of the list."""
    page = await fetch_page(
        conn, request, viewer, Window(offset=offset, first=limit), with_total=False
    )
    return page.rows


async def count(conn: asyncpg.Connection, request: ListRequest, viewer: Viewer) -> int:
    """The list's total."""
    page = await fetch_page(conn, request, viewer, Window(first=0), with_total=True)
    assert page.total is not None
    return page.total


async def _names(conn: asyncpg.Connection, node: Filter | None, **kwargs: Any) -> list[str]:
    request = ListRequest(ENVIRONMENT, filter=node, order=(Order("sort_order"),), **kwargs)
    rows = await fetch_rows(conn, request, SUPERUSER, 100)
    assert await count(conn, request, SUPERUSER) == len(rows)
    return [row["name"] for row in rows]


@pytest.mark.parametrize(
    ("node", "expected"),
    [
        (Compare("name", "eq", "abc"), ["abc"]),
        (Compare("name", "eq", "ALPHA"), []),
        (Compare("name", "eq", "ALPHA", case_insensitive=True), ["alpha"]),
        (Compare("name", "neq", "abc"), ["alpha", "Beta_1", "a_c", "delta", "omega"]),
        (Compare("name", "in", ["abc", "delta", "nope"]), ["abc", "delta"]),
        (Compare("name", "not_in", ["abc", "delta"]), ["alpha", "Beta_1", "a_c", "omega"]),
        (Compare("name", "in", ["BETA_1"], case_insensitive=True), ["Beta_1"]),
        # _ is a character, not a wildcard
        (Compare("name", "contains", "_"), ["Beta_1", "a_c"]),
        (Compare("name", "contains", "a_c"), ["a_c"]),
        (Compare("name", "not_contains", "a"), []),
        (Compare("name", "starts_with", "a"), ["alpha", "abc", "a_c"]),
        (Compare("name", "not_starts_with", "a"), ["Beta_1", "delta", "omega"]),
        (Compare("name", "starts_with", "b", case_insensitive=True), ["Beta_1"]),
        (Compare("name", "ends_with", "a"), ["alpha", "delta", "omega"]),
        (Compare("name", "not_ends_with", "a"), ["Beta_1", "abc", "a_c"]),
        (Compare("name", "is_empty", False), ["alpha", "Beta_1", "abc", "a_c", "delta", "omega"]),
        (Compare("name", "is_empty", True), []),
        (Compare("name", "is_null", True), []),
        (Compare("row_count", "eq", 10), ["alpha", "omega"]),
        (Compare("row_count", "lt", 20), ["alpha", "delta", "omega"]),
        (Compare("row_count", "lte", 20), ["alpha", "Beta_1", "delta", "omega"]),
        (Compare("row_count", "gt", 20), ["abc", "a_c"]),
        (Compare("row_count", "gte", 30), ["abc", "a_c"]),
        (Compare("row_count", "between", [10, 30]), ["alpha", "Beta_1", "abc", "omega"]),
        (Compare("row_count", "not_between", [10, 30]), ["a_c", "delta"]),
        (
            Compare("row_count", "is_null", False),
            ["alpha", "Beta_1", "abc", "a_c", "delta", "omega"],
        ),
        (Compare("type", "eq", "PRE_PRODUCTION"), ["alpha", "Beta_1"]),
        (Compare("type", "neq", "PRE_PRODUCTION"), ["abc", "a_c", "delta", "omega"]),
        (Compare("type", "in", ["PRODUCTION"]), ["abc", "a_c", "delta", "omega"]),
        (Compare("type", "not_in", ["PRODUCTION", "PRE_PRODUCTION"]), []),
        (Compare("protected", "eq", True), ["abc"]),
        (
            Compare("created_at", "lt", datetime(2000, 1, 1, tzinfo=UTC)),
            [],
        ),
        (
            Compare("created_at", "gt", datetime(2000, 1, 1, tzinfo=UTC)),
            ["alpha", "Beta_1", "abc", "a_c", "delta", "omega"],
        ),
    ],
)
async def test_operators(graph: asyncpg.Connection, node: Filter, expected: list[str]) -> None:
    assert await _names(graph, node) == expected


async def test_not_contains(graph: asyncpg.Connection) -> None:
    assert await _names(graph, Compare("name", "not_contains", "l")) == [
        "Beta_1",
        "abc",
        "a_c",
        "omega",
    ]


async def test_id_filters(graph: asyncpg.Connection) -> None:
    ids = {r["name"]: r["id"] for r in await graph.fetch("SELECT name, id FROM environments")}
    assert await _names(graph, Compare("id", "eq", ids["abc"])) == ["abc"]
    assert await _names(graph, Compare("id", "in", [ids["abc"], ids["delta"]])) == ["abc", "delta"]
    assert len(await _names(graph, Compare("id", "not_in", [ids["abc"]]))) == 5


async def test_combinators(graph: asyncpg.Connection) -> None:
    production = Compare("type", "eq", "PRODUCTION")
    big = Compare("row_count", "gte", 30)
    assert await _names(graph, All((production, big))) == ["abc", "a_c"]
    assert await _names(graph, AnyOf((Compare("name", "eq", "alpha"), big))) == [
        "alpha",
        "abc",
        "a_c",
    ]
    assert await _names(graph, Not(production)) == ["alpha", "Beta_1"]
    assert await _names(graph, All((Not(AnyOf((production, big))),))) == ["alpha", "Beta_1"]
    assert len(await _names(graph, All(()))) == 6
    assert await _names(graph, AnyOf(())) == []


async def test_relation_filters(graph: asyncpg.Connection) -> None:
    by_model = Related("model", Compare("name", "eq", "lgbm"))
    assert await _names(graph, by_model) == ["omega"]
    up_two = Related("model", Related("project", Compare("name", "eq", "fraud")))
    assert len(await _names(graph, up_two)) == 6
    assert await _names(graph, Related("project", Compare("name", "eq", "other"))) == []


async def test_search_needs_every_term(graph: asyncpg.Connection) -> None:
    assert await _names(graph, None, search="A") == [
        "alpha",
        "Beta_1",
        "abc",
        "a_c",
        "delta",
        "omega",
    ]
    assert await _names(graph, None, search="  ALP  ") == ["alpha"]
    assert await _names(graph, None, search="a c") == ["abc", "a_c"]
    assert await _names(graph, None, search="%") == []
    assert await _names(graph, None, search="_1") == ["Beta_1"]


async def test_search_looks_in_every_text_column(conn: asyncpg.Connection) -> None:
    await seed_demo(conn, 1)
    request = ListRequest(SEGMENT, search="european EU")
    rows = await fetch_rows(conn, request, SUPERUSER, 100)
    assert {r["name"] for r in rows} == {"eu-customers"}
    assert len(rows) == 18
    assert await count(conn, ListRequest(SEGMENT, search="lifetime_value churned"), SUPERUSER) == 18


async def test_order_is_total(graph: asyncpg.Connection) -> None:
    request = ListRequest(ENVIRONMENT, order=(Order("row_count", descending=True),))
    rows = await fetch_rows(graph, request, SUPERUSER, 100)
    assert [r["row_count"] for r in rows] == [40, 30, 20, 10, 10, 0]
    tied = [r["id"] for r in rows if r["row_count"] == 10]
    assert tied == sorted(tied)  # the id breaks the tie
    page = await fetch_rows(graph, request, SUPERUSER, 2, 3)
    assert [r["id"] for r in page] == [r["id"] for r in rows[3:5]]
    by_name = await fetch_rows(
        graph, ListRequest(ENVIRONMENT, order=(Order("name"),)), SUPERUSER, 9
    )
    assert [r["name"] for r in by_name] == sorted(r["name"] for r in rows)


@pytest.mark.parametrize(
    ("node", "message"),
    [
        (Compare("password", "eq", "x"), "environment has no field 'password'"),
        (Compare("name", "lt", "x"), "name does not take lt"),
        (Compare("row_count", "eq", "ten"), "rowCount.eq takes a whole number"),
        (Compare("row_count", "eq", True), "rowCount.eq takes a whole number"),
        (Compare("row_count", "gt", 2**70), "rowCount.gt: 1180591620717411303424 is out of range"),
        (Compare("name", "in", "abc"), "name.in takes a list"),
        (Compare("row_count", "not_between", [1]), "rowCount.notBetween takes exactly 2 values"),
        (Compare("row_count", "between", [1, 2, 3]), "rowCount.between takes exactly 2 values"),
        (Compare("name", "eq", "a\x00b"), "name.eq: text cannot hold NUL"),
        (Compare("protected", "eq", "yes"), "protected.eq takes a boolean"),
        (Related("owner", Compare("name", "eq", "x")), "environment has no relation 'owner'"),
    ],
)
async def test_bad_filters(graph: asyncpg.Connection, node: Filter, message: str) -> None:
    with pytest.raises(BadInput, match=message) as raised:
        await _names(graph, node)
    assert raised.value.field == "filter"


@pytest.mark.parametrize(
    ("entity", "column"),
    [
        (ENVIRONMENT, "id"),
        (ENVIRONMENT, "project.id"),  # a parent's column that is not orderable
        (ENVIRONMENT, "project.nope"),
        (ENVIRONMENT, "environment.name"),  # not a parent of its own
        (PROJECT, "model.name"),  # a child, not a parent
        (ENVIRONMENT, "model.project.name"),  # one hop only: say `project.name`
        (ENVIRONMENT, ".name"),
    ],
)
async def test_bad_order(graph: asyncpg.Connection, entity: Any, column: str) -> None:
    with pytest.raises(BadInput, match=f"cannot order {entity.name} by {column}") as raised:
        await fetch_rows(graph, ListRequest(entity, order=(Order(column),)), SUPERUSER, 1)
    assert raised.value.field == "orderBy"


async def test_deleted_rows_only_where_there_are_some(graph: asyncpg.Connection) -> None:
    request = ListRequest(ENVIRONMENT, deleted=Deleted.INCLUDE)
    with pytest.raises(BadInput, match="environment has no deleted rows") as raised:
        await fetch_rows(graph, request, SUPERUSER, 1)
    assert raised.value.field == "deleted"


async def test_order_by_parents_names(graph: asyncpg.Connection) -> None:
    # the second model, lgbm, sorts first by name; within each, environments by name
    request = ListRequest(ENVIRONMENT, order=(Order("model.name"), Order("name", descending=True)))
    rows = await fetch_rows(graph, request, SUPERUSER, 9)
    assert [(r["_model_name"], r["name"]) for r in rows] == [
        ("lgbm", "omega"),
        *(("xgb", n) for n in ("delta", "alpha", "abc", "a_c", "Beta_1")),
    ]
    everywhere = ListRequest(ENVIRONMENT, order=(Order("organization.name"), Order("row_count")))
    rows = await fetch_rows(graph, everywhere, SUPERUSER, 9)
    assert [r["row_count"] for r in rows] == [0, 10, 10, 20, 30, 40]
    assert {r["_organization_name"] for r in rows} == {"Acme"}


async def test_hostile_values_are_just_values(graph: asyncpg.Connection) -> None:
    assert await _names(graph, Compare("name", "eq", "x' OR 1=1 --")) == []
    assert await _names(graph, None, search="'; DROP TABLE environments; --") == []
    assert await graph.fetchval("SELECT count(*) FROM environments") == 6


async def _viewer(conn: asyncpg.Connection, email: str) -> Viewer:
    row = await conn.fetchrow("SELECT id, name FROM users WHERE email = $1", email)
    assert row is not None
    return Viewer(row["id"], email, row["name"], frozenset("*"), False)


VISIBLE = {
    # organization, project, model, environment, segment
    "ada@example.com": (2, 6, 12, 36, 36),
    "grace@example.com": (1, 2, 4, 12, 12),
    "alan@example.com": (1, 3, 6, 18, 18),
}


@pytest.mark.parametrize("email", sorted(VISIBLE))
async def test_each_tenant_sees_only_its_own(conn: asyncpg.Connection, email: str) -> None:
    await seed_demo(conn, 1)
    viewer = await _viewer(conn, email)
    for entity, expected in zip(
        ("organization", "project", "model", "environment", "segment"), VISIBLE[email], strict=True
    ):
        request = ListRequest(ENTITIES[entity])
        rows = await fetch_rows(conn, request, viewer, 100)
        assert (entity, len(rows)) == (entity, expected)
        assert await count(conn, request, viewer) == expected
        # and searching everything finds no more than listing everything
        assert await count(conn, ListRequest(ENTITIES[entity], search="e"), viewer) <= expected


async def test_superuser_sees_everything(conn: asyncpg.Connection) -> None:
    await seed_demo(conn, 1)
    counts = {e: await count(conn, ListRequest(ENTITIES[e]), SUPERUSER) for e in ENTITIES}
    assert counts == {
        "organization": 3,
        "project": 9,
        "model": 18,
        "environment": 54,
        "segment": 54,
        "event": 0,
        "export": 54,
        "api_token": 0,  # only its own, and this superuser has none
        "secret": 0,  # the demo seeds secrets only when given a key
        "evaluation": 54,
    }


async def test_relation_filters_do_not_reach_invisible_parents(conn: asyncpg.Connection) -> None:
    await seed_demo(conn, 1)
    grace = await _viewer(conn, "grace@example.com")
    alan = await _viewer(conn, "alan@example.com")
    globex = Related("organization", Compare("name", "eq", "Globex Research"))
    assert await count(conn, ListRequest(PROJECT, filter=globex), grace) == 0
    # Grace sees two projects of Acme, whose organization she belongs to
    acme = Related("organization", Compare("name", "eq", "Acme Analytics"))
    assert await count(conn, ListRequest(PROJECT, filter=acme), grace) == 2
    acme_envs = Related("project", Related("organization", Compare("name", "eq", "Acme Analytics")))
    assert await count(conn, ListRequest(ENVIRONMENT, filter=acme_envs), alan) == 0


async def test_soft_deleted_segments_are_invisible(conn: asyncpg.Connection) -> None:
    await seed_demo(conn, 1)
    await conn.execute("UPDATE segments SET deleted_at = now() WHERE name = 'adults'")
    assert await count(conn, ListRequest(SEGMENT), SUPERUSER) == 36
    assert await count(conn, ListRequest(SEGMENT, search="adults"), SUPERUSER) == 0
