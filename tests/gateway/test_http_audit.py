"""The GraphQL-over-HTTP conformance audit of npm `graphql-http` (`auditServer`),
run against a live server (Node, tests/node, as the other client tests)."""

from __future__ import annotations

import asyncio
import json
from typing import Any

from tests.support import NODE_DIR, Client, require_node


async def _audit(client: Client, token: str | None) -> list[dict[str, Any]]:
    node = require_node()
    args = [str(client.make_url("/graphql"))] + ([token] if token else [])
    process = await asyncio.create_subprocess_exec(
        node, "audit.mjs", *args, cwd=NODE_DIR,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    try:
        # the app under test runs on this event loop: wait without blocking it
        stdout, stderr = await asyncio.wait_for(process.communicate(), 120)
    finally:
        if process.returncode is None:
            process.kill()
            await process.wait()
    assert process.returncode == 0, stderr.decode()
    found: list[dict[str, Any]] = json.loads(stdout)
    return found


async def test_with_a_token_every_audit_passes(client: Client, token: str) -> None:
    # no error, no warning, no notice
    assert await _audit(client, token) == []


async def test_without_a_token_only_the_401s_warn(client: Client) -> None:
    failed = await _audit(client, None)
    # a document that does not parse or validate cannot be an introspection:
    # without a token it is 401, where the audit would like 400 (or 200)
    assert sorted((f["id"], f["status"], f["reason"]) for f in failed) == [
        ("556A", "warn", "Response status code is not 400"),
        ("572B", "warn", "Response status code is not 200"),
        ("74FF", "warn", "Response status code is not 400"),
        ("FDE2", "warn", "Response status code is not 200"),
    ]
