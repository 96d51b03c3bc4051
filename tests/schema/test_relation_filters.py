"""Filters on a parent reached through others (`organization:` below projects,
`model:` on events) and on the users a row names (`createdBy` / `updatedBy`):
alone and inside and/or/not, at the root and nested, through both executors;
tenant isolation; the read scopes they need; e-mails hidden from the caller.

Demo data: three organizations (Acme Analytics and Globex Research, Ada's;
Initech Labs, Alan's; Grace is a member of Acme with two of its projects),
each with three projects of two models, each model with three environments
(one event each) and three segments, all created by Ada."""

from __future__ import annotations

import asyncpg
import pytest

from db.tokens import create_token
from schema.ids import global_id
from tests.schema.compiled_support import resolver_client, same_data, same_error
from tests.schema.conftest import Tokens
from tests.support import Client, data

__all__ = ["resolver_client"]

ACME = '{name: {eq: "Acme Analytics"}}'
INITECH = '{name: {eq: "Initech Labs"}}'


async def _count(
    client: Client, resolver: Client, token: str, field: str, filter_: str, **variables: object
) -> int:
    """totalCount of the root list `field` under `filter_`, checked against its nodes."""
    declared = ", ".join(f"${name}: {_VARIABLES[name]}" for name in variables)
    query = (
        f"query Q{f'({declared})' if declared else ''} {{ {field}(first: 100, filter: {filter_}) "
        "{ totalCount nodes { uuid } } }"
    )
    result = (await same_data(client, resolver, query, token, **variables))[field]
    assert len(result["nodes"]) == min(result["totalCount"], 100)
    count: int = result["totalCount"]
    return count


_VARIABLES = {"org": "ID!"}


@pytest.mark.parametrize(
    ("field", "acme", "everything"),
    [
        ("projects", 3, 9),
        ("models", 6, 18),
        ("environments", 18, 54),
        ("segments", 18, 54),
        ("events", 18, 54),
    ],
)
async def test_organization_filter_on_every_list_below_it(
    client: Client,
    resolver_client: Client,
    tokens: Tokens,
    field: str,
    acme: int,
    everything: int,
) -> None:
    root, ada, alan = tokens.root, tokens.ada, tokens.alan
    count = _count

    assert await count(client, resolver_client, root, field, f"{{organization: {ACME}}}") == acme
    assert await count(client, resolver_client, ada, field, f"{{organization: {ACME}}}") == acme
    # nested in and / or / not
    either = f"{{or: [{{organization: {ACME}}}, {{organization: {INITECH}}}]}}"
    assert await count(client, resolver_client, root, field, either) == 2 * acme
    assert await count(client, resolver_client, ada, field, either) == acme  # Initech: not hers
    others = f"{{not: {{organization: {ACME}}}}}"
    assert await count(client, resolver_client, root, field, others) == everything - acme
    assert await count(client, resolver_client, ada, field, others) == acme  # Globex's
    starts = '{organization: {name: {startsWith: "Acme"}}}'
    both_ = f"{{and: [{starts}, {{organization: {ACME}}}]}}"
    assert await count(client, resolver_client, root, field, both_) == acme
    # isolation: another tenant's organization, by name or by id, holds nothing
    assert await count(client, resolver_client, alan, field, f"{{organization: {ACME}}}") == 0
    assert await count(client, resolver_client, ada, field, f"{{organization: {INITECH}}}") == 0


async def test_organization_filter_by_id_of_another_tenant(
    client: Client, resolver_client: Client, conn: asyncpg.Connection, tokens: Tokens
) -> None:
    acme = global_id(
        "Organization",
        await conn.fetchval("SELECT id FROM organizations WHERE name = 'Acme Analytics'"),
    )
    by_id = "{organization: {id: {eq: $org}}}"
    for field, count in (("models", 6), ("segments", 18), ("events", 18)):
        assert await _count(client, resolver_client, tokens.ada, field, by_id, org=acme) == count
        assert await _count(client, resolver_client, tokens.alan, field, by_id, org=acme) == 0
    # nested lists too, under every parent the caller sees
    query = """query ($org: ID!) { projects(first: 100) { nodes { name
        segments(filter: {organization: {id: {eq: $org}}}) { totalCount }
        models(filter: {not: {organization: {id: {eq: $org}}}}) { totalCount } } } }"""
    for token, expected in ((tokens.ada, (18, 6)), (tokens.alan, (0, 6))):
        nodes = (await same_data(client, resolver_client, query, token, org=acme))["projects"][
            "nodes"
        ]
        segments = sum(n["segments"]["totalCount"] for n in nodes)
        others = sum(n["models"]["totalCount"] for n in nodes)
        assert (segments, others) == expected


async def test_event_model_filter_through_its_environment(
    client: Client, resolver_client: Client, tokens: Tokens
) -> None:
    xgb = '{model: {name: {eq: "xgb-classifier"}}}'
    assert await _count(client, resolver_client, tokens.root, "events", xgb) == 27
    assert await _count(client, resolver_client, tokens.grace, "events", xgb) == 6
    deep = '{model: {project: {organization: {name: {eq: "Globex Research"}}}}}'
    assert await _count(client, resolver_client, tokens.root, "events", deep) == 18
    assert await _count(client, resolver_client, tokens.alan, "events", deep) == 0


async def _scoped(conn: asyncpg.Connection, *scopes: str) -> str:
    return (await create_token(conn, email="ada@example.com", scopes=list(scopes))).token


async def test_an_organization_filter_needs_every_read_scope_on_the_way(
    client: Client, resolver_client: Client, conn: asyncpg.Connection, tokens: Tokens
) -> None:
    probe = "query ($p: String!) { models(first: 0, filter: %s) { totalCount } }"
    shapes = (
        "{organization: {name: {startsWith: $p}}}",
        "{or: [{name: {eq: $p}}, {not: {organization: {name: {startsWith: $p}}}}]}",
    )
    # the organization is read through the project, as `Model.organization` reads it
    for scopes, missing in (
        (("model:read", "project:read"), "organization:read"),
        (("model:read", "organization:read"), "project:read"),
    ):
        token = await _scoped(conn, *scopes)
        for shape in shapes:
            found = await same_error(client, resolver_client, probe % shape, token, p="A")
            assert (found["extensions"]["code"], found["message"], found["data"]) == (
                "FORBIDDEN",
                f"this token lacks the scope {missing}",
                None,
            ), (scopes, shape)
    allowed = await _scoped(conn, "model:read", "project:read", "organization:read")
    for shape, expected in zip(shapes, (6, 6), strict=True):
        assert await same_data(client, resolver_client, probe % shape, allowed, p="Acme") == {
            "models": {"totalCount": expected}
        }


SEGMENTS_BY = "query ($v: String!) { segments(first: 0, filter: %s) { totalCount } }"


async def _segments(
    client: Client, resolver: Client, token: str, filter_: str, value: str = ""
) -> int:
    if "$v" not in filter_:
        query = f"{{ segments(first: 0, filter: {filter_}) {{ totalCount }} }}"
        found = await same_data(client, resolver, query, token)
    else:
        found = await same_data(client, resolver, SEGMENTS_BY % filter_, token, v=value)
    count: int = found["segments"]["totalCount"]
    return count


async def test_created_by_and_updated_by(
    client: Client, resolver_client: Client, conn: asyncpg.Connection, tokens: Tokens
) -> None:
    # Grace edits one segment of her project: she becomes its updatedBy
    segment = await conn.fetchval(
        """SELECT s.id FROM segments s JOIN projects p ON p.id = s.project_id
           JOIN organizations o ON o.id = p.organization_id
           WHERE o.name = 'Acme Analytics' AND p.name = 'fraud-detection' AND s.name = 'adults'
           ORDER BY s.id LIMIT 1"""
    )
    update = """mutation ($id: ID!) { updateSegment(input: {id: $id, description: "x"}) {
        segment { updatedBy { name } } } }"""
    await data(client, update, tokens.grace, id=global_id("Segment", segment))
    count = _segments
    ada, grace, alan, root = tokens.ada, tokens.grace, tokens.alan, tokens.root
    by_name = "{%s: {name: {eq: $v}}}"
    assert await count(client, resolver_client, root, by_name % "createdBy", "Ada Lovelace") == 54
    assert await count(client, resolver_client, root, by_name % "updatedBy", "Ada Lovelace") == 53
    assert await count(client, resolver_client, root, by_name % "updatedBy", "Grace Hopper") == 1
    assert await count(client, resolver_client, root, by_name % "createdBy", "Grace Hopper") == 0
    assert await count(client, resolver_client, grace, by_name % "updatedBy", "Grace Hopper") == 1
    assert await count(client, resolver_client, alan, by_name % "updatedBy", "Grace Hopper") == 0
    # the caller sees names of the users rows name: Alan filters his by Ada's
    assert await count(client, resolver_client, alan, by_name % "createdBy", "Ada Lovelace") == 18
    # by uuid and by global id
    ada_id = await conn.fetchval("SELECT id FROM users WHERE email = 'ada@example.com'")
    by_uuid = "query ($u: UUID!) { segments(filter: {createdBy: {uuid: {eq: $u}}}) { totalCount } }"
    answer = await same_data(client, resolver_client, by_uuid, ada, u=str(ada_id))
    assert answer == {"segments": {"totalCount": 36}}
    by_id = "query ($u: ID!) { segments(filter: {updatedBy: {id: {in: [$u]}}}) { totalCount } }"
    answer = await same_data(client, resolver_client, by_id, root, u=global_id("User", ada_id))
    assert answer == {"segments": {"totalCount": 53}}
    # nested in and / or / not, on both sides
    shapes = (
        ('{not: {createdBy: {name: {eq: "Ada Lovelace"}}}}', 0),
        ('{or: [{updatedBy: {name: {eq: "Grace Hopper"}}}, {name: {eq: "eu-customers"}}]}', 19),
        (
            '{and: [{createdBy: {name: {startsWith: "Ada"}}}, '
            f'{{not: {{updatedBy: {{uuid: {{eq: "{ada_id}"}}}}}}}}]}}',
            1,
        ),
        ('{updatedBy: {or: [{name: {eq: "Grace Hopper"}}, {name: {eq: "nobody"}}]}}', 1),
        ('{updatedBy: {not: {name: {eq: "Grace Hopper"}}}, organization: ACME}', 17),
    )
    for shape, expected in shapes:
        written = shape.replace("ACME", ACME)
        assert await count(client, resolver_client, root, written) == expected, written


async def test_filtering_by_email_sees_what_the_caller_sees(
    client: Client, resolver_client: Client, tokens: Tokens
) -> None:
    """An e-mail shows only to users who share an organization with its owner: a
    filter on it reads it as the field shows it (null where hidden), so that
    counting matches is no oracle on e-mails the caller may not read."""
    count = _segments
    by_email = "{createdBy: {email: {eq: $v}}}"
    ada, grace, alan, root = tokens.ada, tokens.grace, tokens.alan, tokens.root
    assert await count(client, resolver_client, root, by_email, "ada@example.com") == 54
    assert await count(client, resolver_client, ada, by_email, "ada@example.com") == 36
    assert await count(client, resolver_client, grace, by_email, "ada@example.com") == 12
    # Alan shares no organization with Ada: her e-mail is null to him, everywhere
    assert await count(client, resolver_client, alan, by_email, "ada@example.com") == 0
    probes = ("{createdBy: {email: {startsWith: $v}}}", "{createdBy: {email: {contains: $v}}}")
    for probe in probes:
        for guess in ("a", "ada@", "z"):
            assert await count(client, resolver_client, alan, probe, guess) == 0
    hidden = "{createdBy: {email: {isNull: true}}}"
    assert await count(client, resolver_client, alan, hidden) == 18
    assert await count(client, resolver_client, ada, hidden) == 0
    negated = "{not: {createdBy: {email: {eq: $v}}}}"
    for guess in ("ada@example.com", "someone@else.org"):
        assert await count(client, resolver_client, alan, negated, guess) == 18
    shown = await same_data(
        client, resolver_client, "{ segments(first: 1) { nodes { createdBy { email } } } }", alan
    )
    assert shown == {"segments": {"nodes": [{"createdBy": {"email": None}}]}}


async def test_a_user_filter_needs_no_scope_of_its_own(
    client: Client, resolver_client: Client, conn: asyncpg.Connection, tokens: Tokens
) -> None:
    """A user is read as part of the row naming them (`createdBy` needs only the
    segment's scope): so does a filter on them."""
    segments_only = await _scoped(conn, "segment:read")
    by_name = '{createdBy: {name: {eq: "Ada Lovelace"}}}'
    assert await _segments(client, resolver_client, segments_only, by_name) == 36
    found = await same_error(
        client,
        resolver_client,
        SEGMENTS_BY % "{updatedBy: {name: {eq: $v}}, organization: {name: {eq: $v}}}",
        segments_only,
        v="x",
    )
    assert (found["extensions"]["code"], found["message"]) == (
        "FORBIDDEN",
        "this token lacks the scope project:read",
    )
