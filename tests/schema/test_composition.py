"""The committed SDL composes with The Guild's federation composition too
(Apollo's composes it in test_federation_gateway.py), at the pinned version."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path
from typing import Any

from tests.support import NODE_DIR, require_node

SDL = Path(__file__).parents[2] / "schema" / "schema.graphql"
LINK = 'extend schema @link(url: "https://specs.apollo.dev/federation/v2.5", import: ["@key"])'


def _compose(tmp_path: Path, other: str) -> tuple[int, dict[str, Any]]:
    reviews = tmp_path / "reviews.graphql"
    reviews.write_text(f"{LINK}\n{other}\n")
    result = subprocess.run(
        [require_node(), "compose-guild.mjs", f"envgraph={SDL}", f"reviews={reviews}"],
        cwd=NODE_DIR,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    return result.returncode, json.loads(result.stdout)


def test_composes_with_a_subgraph_extending_environment(tmp_path: Path) -> None:
    code, result = _compose(
        tmp_path, 'type Environment @key(fields: "id") { id: ID! alertCount: Int! }'
    )
    assert code == 0, result
    lines = [line.strip() for line in result["supergraph"].splitlines()]
    assert (
        'type Environment implements Node @join__type(graph: ENVGRAPH, key: "id") '
        '@join__type(graph: REVIEWS, key: "id") '
        '@join__implements(graph: ENVGRAPH, interface: "Node") {'
    ) in lines
    assert "alertCount: Int! @join__field(graph: REVIEWS)" in lines


def test_a_conflicting_subgraph_is_refused(tmp_path: Path) -> None:
    # proves the composition really checks: a field typed differently does not compose
    code, result = _compose(tmp_path, 'type Environment @key(fields: "id") { id: ID! name: Int! }')
    assert code == 1
    assert any("Environment.name" in message for message in result["errors"]), result
