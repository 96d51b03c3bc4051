"""Differential, property-based: generated read queries (random selections,
aliases, fragments, directives, filters, orderings, paging, nested lists,
lookups of any tenant's ids) through the compiled executor and the resolver
path, on the same data as different users: the bodies must be equal (data,
errors, codes), and a compiled answer costs one statement after the token check.

`COMPILED_EXAMPLES` sets how many queries (default 1000: under a minute here),
`COMPILED_SHRINK=1` shrinks a failing one."""

from __future__ import annotations

import json
import os
from collections import Counter
from typing import Any
from uuid import UUID

import asyncpg
from hypothesis import event, given
from hypothesis import strategies as st

from db.entities import ENTITIES, USER, Kind
from db.lists import ListRequest
from db.paging import encode_cursor, fingerprint
from db.tokens import create_token
from schema.ids import global_id
from tests.schema.compiled_support import both, differential, resolver_client
from tests.schema.conftest import Tokens
from tests.support import Client

__all__ = ["resolver_client"]

EXAMPLES = int(os.environ.get("COMPILED_EXAMPLES", "1000"))
SEEN: Counter[str] = Counter()

# what the generated queries can select, all read off the registry
BY_TYPE = {e.type_name: e for e in ENTITIES.values()}
SCALARS = {
    **{
        e.type_name: ["id", "uuid", *(c.public for c in e.columns if c.name != "id"), "__typename"]
        for e in ENTITIES.values()
    },
    "User": ["id", "uuid", "name", "createdAt", "updatedAt", "__typename", "email"],
}
PARENTS: dict[str, dict[str, str]] = {
    **{
        e.type_name: {
            **{name: e.path(name)[-1][0].type_name for name in e.parents},
            **{ref.name: "User" for ref in e.user_refs},
        }
        for e in ENTITIES.values()
    },
    "User": {},
}
LISTS: dict[str, dict[str, str]] = {
    e.type_name: {c.name: ENTITIES[c.entity].type_name for c in e.children}
    for e in ENTITIES.values()
    if e.children
}
# what a filter can reach: every parent (direct or through others) and user
RELATIONS = {
    e.type_name: [*e.parents, *(ref.name for ref in e.user_refs)]
    for e in ENTITIES.values()
    if e.relations
}
ROOT_LISTS = {e.root_list.name: e.type_name for e in ENTITIES.values() if e.root_list}
ORDERABLE = {
    e.type_name: [
        *(c.name.upper() for c in e.orderable),
        *(f"{p.upper()}_NAME" for p in e.name_ordered_parents),
    ]
    for e in ENTITIES.values()
}
# the columns a generated filter compares (users' too, by createdBy): text, time, JSON
FILTERED = {e.type_name: e for e in (*ENTITIES.values(), USER)}
TEXTS = {
    name: [c.public for c in e.columns if c.kind is Kind.STRING] for name, e in FILTERED.items()
}
TIMES = {
    name: [c.public for c in e.columns if c.kind is Kind.DATETIME] for name, e in FILTERED.items()
}
JSONS = {name: [c.public for c in e.columns if c.kind is Kind.JSON] for name, e in FILTERED.items()}
# times around the demo's events (the 90 days before 2026-12-01), and far away
STAMPS = [
    "2000-01-01T00:00:00Z",
    "2026-10-01T00:00:00Z",
    "2026-11-15T12:00:00Z",
    "2999-01-01T00:00:00Z",
]
# property conditions on the demo events' keys (db/demo.sql), of every operator,
# now and then with a value the operator refuses (BAD_USER_INPUT on both paths)
PROPERTY_TESTS = [
    (key, operator)
    for key in ("score", "label", "predicted", "reviewer", "features", "nope")
    for operator in ("EQ", "NEQ", "IN", "NOT_IN", "CONTAINS", "NOT_CONTAINS", "GT", "LTE", "IS_SET")
]
PROPERTY_VALUES: dict[str, list[Any]] = {
    "EQ": [0.5, "fraud", True, None, {"age": 30}],
    "NEQ": ["legit", 0, None],
    "IN": [["fraud", "churn"], [True, 1], []],
    "NOT_IN": [["stay"], [None], 3],
    "CONTAINS": ["AU", "r", 1],
    "NOT_CONTAINS": ["u", "x"],
    "GT": [0.5, "k", True],
    "LTE": [0.25, 100, "m"],
    "IS_SET": [None],
}
# with what lists refuse: NUL (and, in `search`, more than ten terms)
WORDS = ["prod", "a", "xgb", "fraud", "EU", "v1", "zzz", "_", "nul\x00", "%", "Acme", "detection"]


class _Query:
    """What one generated document accumulates besides its operation.

    Hypothesis favours the ends of a range: what should be rare (the choices
    that make a resolver refuse the query) is a value in the middle."""

    def __init__(self, draw: Any, typed: dict[str, list[str]]) -> None:
        self.draw, self.typed = draw, typed
        self.ids = [i for ids in typed.values() for i in ids]
        self.fragments: list[str] = []
        self.variables: dict[str, Any] = {}
        self.definitions: list[str] = []
        self.aliases = 0
        self.roots = 0

    def variable(self, graphql_type: str, value: Any) -> str:
        name = f"v{len(self.variables)}"
        self.variables[name] = value
        self.definitions.append(f"${name}: {graphql_type}")
        return f"${name}"

    def key(self, name: str) -> str:
        if self.aliases < 12 and self.draw(st.integers(0, 5)) == 0:
            self.aliases += 1
            return f"{self.draw(st.sampled_from(['a', 'b', 'c']))}{self.aliases}: {name}"
        return name

    def root_key(self, name: str) -> str:
        """A root field's key, unique: equal keys with other arguments do not merge."""
        self.roots += 1
        return name if self.roots == 1 else f"r{self.roots}: {name}"

    def directive(self) -> str:
        choice = self.draw(st.integers(0, 9))
        if choice == 0:
            return f" @include(if: {self.draw(st.sampled_from(['true', 'false']))})"
        if choice == 1:
            return f" @skip(if: {self.variable('Boolean!', self.draw(st.booleans()))})"
        return ""

    def wrap(self, type_name: str, fields: list[str]) -> list[str]:
        """Some fields moved into an inline fragment or a named one."""
        if len(fields) < 2 or self.draw(st.integers(0, 3)) != 0:
            return fields
        cut = self.draw(st.integers(1, len(fields) - 1))
        inner = " ".join(fields[:cut])
        if self.draw(st.booleans()):
            return [f"... on {type_name}{self.directive()} {{ {inner} }}", *fields[cut:]]
        name = f"F{len(self.fragments)}"
        self.fragments.append(f"fragment {name} on {type_name} {{ {inner} }}")
        return [f"...{name}{self.directive()}", *fields[cut:]]

    def object(self, type_name: str, depth: int) -> str:
        count = self.draw(st.integers(1, 4))
        names = self.draw(st.lists(st.sampled_from(SCALARS[type_name]), min_size=1, max_size=count))
        fields = [self.key(n) + self.directive() for n in names]
        if depth > 0 and PARENTS[type_name] and self.draw(st.integers(0, 2)) == 0:
            parent = self.draw(st.sampled_from(sorted(PARENTS[type_name])))
            fields.append(f"{parent} {{ {self.object(PARENTS[type_name][parent], depth - 1)} }}")
        if depth > 0 and type_name in LISTS and self.draw(st.integers(0, 2)) == 0:
            name = self.draw(st.sampled_from(sorted(LISTS[type_name])))
            fields.append(self.connection(name, LISTS[type_name][name], depth - 1, root=False))
        return " ".join(self.wrap(type_name, fields))

    def connection(
        self, name: str, type_name: str, depth: int, *, root: bool, key: str | None = None
    ) -> str:
        arguments = self.list_arguments(type_name, root)
        members = []
        for _ in range(self.draw(st.integers(1, 3))):
            member = self.draw(st.sampled_from(["totalCount", "pageInfo", "edges", "nodes"]))
            if member == "pageInfo":
                info = self.draw(
                    st.lists(
                        st.sampled_from(
                            ["hasNextPage", "hasPreviousPage", "startCursor", "endCursor"]
                        ),
                        min_size=1,
                        max_size=4,
                    )
                )
                members.append(f"{self.key('pageInfo')} {{ {' '.join(info)} }}")
            elif member == "edges":
                node = self.object(type_name, depth)
                members.append(f"{self.key('edges')} {{ cursor node {{ {node} }} }}")
            elif member == "nodes":
                members.append(f"{self.key('nodes')} {{ {self.object(type_name, depth)} }}")
            else:
                members.append(self.key("totalCount") + self.directive())
        return f"{key or self.key(name)}{arguments} {{ {' '.join(members)} }}"

    def list_arguments(self, type_name: str, root: bool) -> str:
        draw, given = self.draw, []
        plain = True
        entity = BY_TYPE[type_name]
        shorthands = entity.root_list.equal_arguments if root and entity.root_list else ()
        for name in shorthands:
            values = entity.column(name).enum
            if values is not None and draw(st.integers(0, 3)) == 0:
                given.append(f"{name}: {draw(st.sampled_from([v.name for v in values]))}")
                plain = False
        window = self.window(entity)
        given += window
        plain = plain and not window
        if entity.deleted_column is not None and draw(st.integers(0, 3)) == 0:
            given.append(f"deleted: {draw(st.sampled_from(['INCLUDE', 'ONLY', 'EXCLUDE']))}")
            plain = False
        if draw(st.integers(0, 2)) == 0:
            given.append(f"filter: {self.filter(type_name, 2)}")
            plain = False
        if draw(st.integers(0, 4)) == 0:
            words = " ".join(draw(st.lists(st.sampled_from(WORDS), max_size=12)))
            given.append(f"search: {self.variable('String', words)}")
            plain = False
        if draw(st.integers(0, 2)) == 0:
            keys = draw(st.lists(st.sampled_from(ORDERABLE[type_name]), min_size=1, max_size=3))
            orders = [
                f"{{field: {k}, direction: {draw(st.sampled_from(['ASC', 'DESC']))}}}" for k in keys
            ]
            given.append(f"orderBy: [{', '.join(orders)}]")
            plain = False
        for argument in ("first", "last", "offset"):
            if draw(st.integers(0, 2)) == 0:
                # now and then out of range: BAD_USER_INPUT on both paths
                value = draw(st.sampled_from([2, 1, 3, 0, 5, 8, 3, -1, 2, 101, 1, 2]))
                literal = str(value) if draw(st.booleans()) else self.variable("Int", value)
                given.append(f"{argument}: {literal}")
        for argument in ("after", "before"):
            # cursors are made for the plain list: elsewhere they are refused
            if draw(st.integers(0, 4)) == 2 if plain else draw(st.integers(0, 20)) == 10:
                position = draw(st.integers(0, 8))
                key = [str(UUID(int=position << 124))]  # a sort key anywhere among the ids
                cursor = encode_cursor(fingerprint(ListRequest(entity)), key)
                if draw(st.integers(0, 9)) == 5:
                    cursor = "bm90LWEtY3Vyc29y"
                given.append(f"{argument}: {self.variable('String', cursor)}")
        return f"({', '.join(given)})" if given else ""

    def window(self, entity: Any) -> list[str]:
        """`since` / `until` of a list read by time window, now and then."""
        if entity.time_column is None:
            return []
        return [
            f'{argument}: "{self.draw(st.sampled_from(STAMPS))}"'
            for argument in ("since", "until")
            if self.draw(st.integers(0, 3)) == 0
        ]

    def filter(self, type_name: str, depth: int) -> str:  # noqa: PLR0911 (one per kind)
        draw = self.draw
        choice = draw(st.integers(0, 9 if depth > 0 else 5))
        text = draw(st.sampled_from(TEXTS[type_name]))
        if choice == 0:
            return f"{{{text}: {{contains: {self.quoted()}, caseInsensitive: {self.boolean()}}}}}"
        if choice == 1 and JSONS[type_name] and draw(st.booleans()):
            return self.properties(draw(st.sampled_from(JSONS[type_name])))
        if choice == 1:
            op = draw(st.sampled_from(["eq", "neq", "startsWith", "notEndsWith", "isEmpty"]))
            value = self.boolean() if op == "isEmpty" else self.quoted()
            return f"{{{text}: {{{op}: {value}}}}}"
        if choice == 2:
            ids = draw(st.lists(st.sampled_from(self.ids), max_size=3))
            op = draw(st.sampled_from(["in", "notIn"]))
            return f"{{id: {{{op}: {self.variable('[ID!]', ids)}}}}}"
        numbers = [c for c in FILTERED[type_name].columns if c.kind is Kind.INT]
        flags = [c for c in FILTERED[type_name].columns if c.kind is Kind.BOOLEAN]
        if choice == 3 and numbers:
            bounds = sorted(draw(st.lists(st.integers(0, 10_000_000), min_size=1, max_size=3)))
            op = draw(st.sampled_from(["between", "notBetween"]))
            values = self.variable("[Int!]", bounds)  # two are right
            number = draw(st.sampled_from(numbers)).public
            flag = "".join(f", {c.public}: {{eq: {self.boolean()}}}" for c in flags)
            return f"{{{number}: {{{op}: {values}}}{flag}}}"
        if choice == 4:
            moment = draw(st.sampled_from(TIMES[type_name]))
            stamp = draw(st.sampled_from(STAMPS))
            return f'{{{moment}: {{{draw(st.sampled_from(["lt", "gte"]))}: "{stamp}"}}}}'
        if choice == 5 or type_name not in RELATIONS:
            return "{}"
        if choice in (6, 7):
            relations = RELATIONS[type_name]
            relation = draw(st.sampled_from(sorted(relations)))
            return f"{{{relation}: {self.filter(PARENTS[type_name][relation], depth - 1)}}}"
        if choice == 8:
            return f"{{not: {self.filter(type_name, depth - 1)}}}"
        items = [self.filter(type_name, depth - 1) for _ in range(draw(st.integers(0, 2)))]
        return f"{{{draw(st.sampled_from(['and', 'or']))}: [{', '.join(items)}]}}"

    def properties(self, name: str) -> str:
        """A list of property conditions on the JSON column `name`, of the demo's keys."""
        conditions = []
        for _ in range(self.draw(st.integers(1, 2))):
            key, operator = self.draw(st.sampled_from(PROPERTY_TESTS))
            value = self.draw(st.sampled_from(PROPERTY_VALUES[operator]))
            conditions.append({"key": key, "operator": operator, "value": value})
        return f"{{{name}: {self.variable('[PropertyFilter!]', conditions)}}}"

    def quoted(self) -> str:
        return json.dumps(self.draw(st.sampled_from(WORDS)))

    def boolean(self) -> str:
        return "true" if self.draw(st.booleans()) else "false"

    def root(self) -> str:
        fields = []
        for _ in range(self.draw(st.integers(1, 3))):
            kind = self.draw(st.sampled_from(["list", "list", "lookup", "node", "nodes", "type"]))
            if kind == "list":
                name = self.draw(st.sampled_from(sorted(ROOT_LISTS)))
                fields.append(
                    self.connection(name, ROOT_LISTS[name], 2, root=True, key=self.root_key(name))
                )
            elif kind == "lookup":
                type_name = self.draw(st.sampled_from(sorted(BY_TYPE)))
                # mostly an id of the right type (any tenant's), else any id
                own = [i for i in self.ids if i in self.typed.get(type_name, ())]
                pool = own if own and self.draw(st.integers(0, 4)) != 2 else self.ids
                id_ = self.variable("ID!", self.draw(st.sampled_from(pool)))
                inner = self.object(type_name, 2)
                lookup = BY_TYPE[type_name].lookup
                fields.append(f"{self.root_key(lookup)}(id: {id_}) {{ {inner} }}")
            elif kind in ("node", "nodes"):
                types = self.draw(st.lists(st.sampled_from(sorted(SCALARS)), max_size=2))
                spreads = " ".join(f"... on {t} {{ {self.object(t, 1)} }}" for t in types)
                if kind == "node":
                    id_ = self.variable("ID!", self.draw(st.sampled_from(self.ids)))
                    fields.append(f"{self.root_key('node')}(id: {id_}) {{ id {spreads} }}")
                else:
                    ids = self.draw(st.lists(st.sampled_from(self.ids), max_size=4))
                    fields.append(
                        f"{self.root_key('nodes')}(ids: {self.variable('[ID!]!', ids)}) "
                        f"{{ __typename {spreads} }}"
                    )
            else:
                fields.append("__typename")
        selection = " ".join(fields)
        header = f"query Q({', '.join(self.definitions)})" if self.definitions else "query Q"
        return "\n".join([f"{header} {{ {selection} }}", *self.fragments])


@st.composite
def read_queries(draw: Any, ids: dict[str, list[str]]) -> tuple[str, dict[str, Any]]:
    """A read query (and its variables) over the whole read graph."""
    query = _Query(draw, ids)
    text = query.root()
    return text, query.variables


async def _ids(conn: asyncpg.Connection) -> dict[str, list[str]]:
    """Global ids by type: a few of every tenant, one that exists nowhere, one malformed."""
    ids: dict[str, list[str]] = {}
    for type_name in SCALARS:
        table = BY_TYPE[type_name].table if type_name in BY_TYPE else "users"
        rows = await conn.fetch(f"SELECT id FROM {table} ORDER BY id LIMIT 4")
        ids[type_name] = [global_id(type_name, row["id"]) for row in rows]
    ids["Model"].append(global_id("Model", UUID(int=0)))
    ids["nothing"] = ["bm9wZQ"]
    return ids


def _codes(body: dict[str, Any]) -> list[tuple[str, str]]:
    return sorted((str(e.get("path")), e["extensions"]["code"]) for e in body.get("errors") or ())


@differential(EXAMPLES)
@given(data=st.data())
async def test_both_executors_answer_alike(
    client: Client,
    resolver_client: Client,
    conn: asyncpg.Connection,
    tokens: Tokens,
    data: st.DataObject,
) -> None:
    # the fixtures are made once for all examples: queries only read
    if not hasattr(tokens, "_ids"):
        narrow = await create_token(
            conn, email="grace@example.com", scopes=["environment:read", "model:write"]
        )
        object.__setattr__(tokens, "_ids", await _ids(conn))
        object.__setattr__(tokens, "_narrow", narrow.token)
    query, variables = data.draw(read_queries(tokens._ids), label="query")  # type: ignore[attr-defined]
    users = ["ada", "ada", "grace", "grace", "alan", "root", "_narrow"]
    user = data.draw(st.sampled_from(users), label="user")
    compiled, reference = await both(
        client, resolver_client, query, getattr(tokens, user), variables
    )
    assert reference[2] == "resolver"
    if compiled[2] == "compiled":
        assert compiled[:2] == reference[:2]
        assert compiled[3] == 2  # the token check, then one statement
    else:
        # both answers come from the resolver path, whose errors vary from run to
        # run when a null propagates to `data` (sibling fields may or may not
        # have failed yet): their data and error codes must agree otherwise
        (status, body), (reference_status, expected) = compiled[:2], reference[:2]
        assert (status, body.get("data")) == (reference_status, expected.get("data"))
        assert bool(body.get("errors")) == bool(expected.get("errors"))
        if body.get("data") is not None:  # a request error has no data key
            assert _codes(body) == _codes(expected)
    SEEN[compiled[2]] += 1
    event(compiled[2])


def test_most_generated_queries_compiled() -> None:
    """The comparison above is not vacuous: most queries ran compiled."""
    print(SEEN)
    if not SEEN:
        return  # run alone
    assert SEEN["compiled"] >= SEEN["resolver"] / 2, SEEN
