"""The schema documents itself: graphql-schema-linter (npm, with graphql@16, pinned
in tests/node) finds no violation in the committed SDL, which the drift test keeps
equal to the served one; and what the registry says of an entity reaches
introspection in every kind of generated member."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path
from typing import Any

from db.entities import ENTITIES, ENVIRONMENT, USER, VALUE_DESCRIPTIONS, EnvironmentKind
from schema.inputs import OPERATOR_DESCRIPTIONS
from tests.support import NODE_DIR, Client, data, require_node

SDL = Path(__file__).parents[2] / "schema" / "schema.graphql"
CONFIG = NODE_DIR / ".graphql-schema-linterrc"
# the federation directives the SDL uses, declared for the linter (it reads plain GraphQL)
DIRECTIVES = NODE_DIR / "federation-directives.graphql"
# exactly the rules of issue 21
RULES = [
    "types-have-descriptions",
    "fields-have-descriptions",
    "arguments-have-descriptions",
    "input-object-values-have-descriptions",
    "enum-values-have-descriptions",
    "descriptions-are-capitalized",
    "deprecations-have-a-reason",
    "defined-types-are-used",
    "relay-connection-types-spec",
    "relay-connection-arguments-spec",
    "relay-page-info-spec",
]


def _lint(sdl: Path) -> list[dict[str, Any]]:
    """The linter's violations in `sdl` (with the federation directives beside it)."""
    result = subprocess.run(
        [
            require_node(),
            "node_modules/graphql-schema-linter/lib/cli.js",
            "--config-directory",
            ".",
            "--format",
            "json",
            str(sdl),
            str(DIRECTIVES),
        ],
        cwd=NODE_DIR,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode in (0, 1), result.stderr  # 1: violations found
    errors: list[dict[str, Any]] = json.loads(result.stdout)["errors"]
    return errors


def test_the_linter_runs_the_issues_rules_and_exempts_only_federation() -> None:
    config = json.loads(CONFIG.read_text())
    assert config["rules"] == RULES
    assert config["ignore"] == {
        "types-have-descriptions": ["_Service", "_Entity", "_Any"],
        "fields-have-descriptions": ["Query._entities", "Query._service", "_Service.sdl"],
        "arguments-have-descriptions": ["Query._entities.representations"],
    }


def test_the_committed_sdl_has_no_violation() -> None:
    violations = _lint(SDL)
    assert violations == [], "\n".join(f"{v['rule']}: {v['message']}" for v in violations)


def test_the_linter_finds_an_undescribed_member(tmp_path: Path) -> None:
    # proves the run above really checks: one description taken away is one violation
    sdl = SDL.read_text()
    described = '  """Whether items follow this page (after `endCursor`)."""\n'
    assert sdl.count(described) == 1
    bare = tmp_path / "schema.graphql"
    bare.write_text(sdl.replace(described, ""))
    assert [(v["rule"], v["message"]) for v in _lint(bare)] == [
        (
            "fields-have-descriptions",
            "The field `PageInfo.hasNextPage` is missing a description.",
        )
    ]


def test_every_column_and_enum_value_of_the_registry_is_described() -> None:
    # what the generated members' descriptions are made from: a column without one
    # leaves its field undescribed (and its filter and order fields with only the
    # pattern's sentence)
    entities = [*ENTITIES.values(), USER]
    bare = [f"{e.name}.{c.name}" for e in entities for c in e.columns if not c.description]
    assert bare == []
    enums = {c.enum for e in entities for c in e.columns if c.enum is not None}
    missing = [member for values in enums for member in values if member not in VALUE_DESCRIPTIONS]
    assert missing == []
    assert all(text[0].isupper() and text.endswith(".") for text in VALUE_DESCRIPTIONS.values())


INTROSPECTION = """
query {
  query: __type(name: "Query") { fields { name description } }
  filter: __type(name: "EnvironmentFilter") { inputFields { name description } }
  text: __type(name: "StringFilter") { inputFields { name description } }
  order: __type(name: "EnvironmentOrderField") { enumValues { name description } }
  kind: __type(name: "EnvironmentKind") { enumValues { name description } }
}
"""


def _by_name(members: list[dict[str, str]]) -> dict[str, str]:
    return {m["name"]: m["description"] for m in members}


async def test_the_registry_descriptions_reach_introspection(client: Client, token: str) -> None:
    found = await data(client, INTROSPECTION, token)
    root = _by_name(found["query"]["fields"])
    row_count = ENVIRONMENT.column("row_count").description
    assert row_count == "Rows published into the environment."
    # a list field: the root list's description
    assert ENVIRONMENT.root_list is not None
    scope = "Needs scope environment:read (FORBIDDEN otherwise)."
    assert root["environments"] == f"{ENVIRONMENT.root_list.description} {scope}"
    assert root["environments"] == (
        "The environments the caller sees (optionally of one type), by sortOrder, then name, "
        "unless orderBy says otherwise. Needs scope environment:read (FORBIDDEN otherwise)."
    )
    # a lookup: the entity's description, then how it finds one
    assert root["environment"] == (
        "A stage of a model's data. Found by global `id` or by `uuid` (exactly one); null "
        "with NOT_FOUND when absent or not visible (scope environment:read)."
    )
    # a filter field: the column's description after what the conditions apply to; and
    # an operator of the operator inputs, written once
    filters = _by_name(found["filter"]["inputFields"])
    assert filters["rowCount"] == f"Conditions on `rowCount`. {row_count}"
    assert (
        _by_name(found["text"]["inputFields"])["caseInsensitive"]
        == (OPERATOR_DESCRIPTIONS["case_insensitive"])
    )
    assert OPERATOR_DESCRIPTIONS["case_insensitive"] == (
        "Compare text ignoring case, in every operator of this filter (default false)."
    )
    # an order field: the column's description after what it orders by
    assert _by_name(found["order"]["enumValues"])["ROW_COUNT"] == f"By `rowCount`. {row_count}"
    # an enum value of the registry's enums
    kinds = _by_name(found["kind"]["enumValues"])
    assert kinds["STAGING"] == VALUE_DESCRIPTIONS[EnvironmentKind.STAGING]
    assert kinds == {
        "DEVELOPMENT": "A developer's environment.",
        "STAGING": "A rehearsal of production.",
        "PRODUCTION": "Where the model serves its users.",
        "CUSTOM": "Any other stage.",
    }
