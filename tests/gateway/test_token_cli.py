"""`create-token --projects` and `revoke-token`, run as a user runs them."""

from __future__ import annotations

import subprocess
from uuid import UUID

import asyncpg
import pytest

from db.demo import seed_demo
from db.tokens import authenticate
from schema.ids import global_id
from tests.gateway.test_cli import run_cli

_PROJECT = (
    "SELECT p.id FROM projects p JOIN organizations o ON o.id = p.organization_id "
    "WHERE o.name = $1 AND p.name = $2"
)
# a model's global id: not a project's
_A_MODEL = global_id("Model", UUID("6f1b2a38-3d5f-4a8e-9a4c-4a0e6b1f1c11"))


@pytest.fixture
async def demo(conn: asyncpg.Connection) -> asyncpg.Connection:
    await seed_demo(conn, 1, events=0)
    return conn


def _error(result: subprocess.CompletedProcess[str], status: int, message: str) -> None:
    assert result.returncode == status, result.stderr
    assert result.stderr == f"envgraph: {message}\n"


async def test_a_token_restricted_to_projects(database_url: str, demo: asyncpg.Connection) -> None:
    fraud = await demo.fetchval(_PROJECT, "Acme Analytics", "fraud-detection")
    churn = await demo.fetchval(_PROJECT, "Globex Research", "churn-prediction")
    # a global id and a uuid, and the same project twice
    given = f"{global_id('Project', fraud)}, {churn},{fraud}"
    env = {"DATABASE_URL": database_url}
    issued = run_cli("create-token", "--email", "ada@example.com", "--projects", given, env=env)
    assert issued.returncode == 0, issued.stderr
    first, second, token = issued.stdout.splitlines()
    assert first == (
        f"token {token[:12]}… for ada@example.com, scopes *, projects {fraud},{churn}, "
        "expires never"
    )
    assert second == "it is shown this once; store it now:"
    viewer = await authenticate(demo, token)
    assert viewer is not None
    assert viewer.projects == frozenset({fraud, churn})
    assert await demo.fetchval("SELECT name FROM api_tokens") == "command line"


@pytest.mark.parametrize(
    ("projects", "status", "message"),
    [
        (
            "not-a-project",
            2,
            "argument --projects: 'not-a-project' is neither a uuid nor a project id "
            "(see `python -m gateway create-token --help`)",
        ),
        (
            _A_MODEL,
            2,
            f"argument --projects: '{_A_MODEL}' is neither a uuid nor a project id "
            "(see `python -m gateway create-token --help`)",
        ),
        (
            " , ",
            2,
            "argument --projects: name at least one project "
            "(see `python -m gateway create-token --help`)",
        ),
        (
            "6f1b2a38-3d5f-4a8e-9a4c-4a0e6b1f1c11",
            1,
            "no project 6f1b2a38-3d5f-4a8e-9a4c-4a0e6b1f1c11 that ada@example.com sees",
        ),
    ],
)
async def test_bad_projects(
    database_url: str, demo: asyncpg.Connection, projects: str, status: int, message: str
) -> None:
    result = run_cli(
        "create-token", "--email", "ada@example.com", "--projects", projects,
        env={"DATABASE_URL": database_url},
    )  # fmt: skip
    _error(result, status, message)
    assert await demo.fetchval("SELECT count(*) FROM api_tokens") == 0


async def test_a_project_the_user_does_not_see(database_url: str, demo: asyncpg.Connection) -> None:
    # Initech is Alan's: Ada does not see its projects, so no token of hers holds one
    initech = await demo.fetchval(_PROJECT, "Initech Labs", "fraud-detection")
    result = run_cli(
        "create-token", "--email", "ada@example.com", "--projects", str(initech),
        env={"DATABASE_URL": database_url},
    )  # fmt: skip
    _error(result, 1, f"no project {initech} that ada@example.com sees")
    assert await demo.fetchval("SELECT count(*) FROM api_tokens") == 0


async def test_a_superuser_token_takes_no_projects(
    database_url: str, demo: asyncpg.Connection
) -> None:
    fraud = await demo.fetchval(_PROJECT, "Acme Analytics", "fraud-detection")
    result = run_cli(
        "create-token", "--email", "ada@example.com", "--superuser", "--projects", str(fraud),
        env={"DATABASE_URL": database_url},
    )  # fmt: skip
    _error(
        result,
        2,
        "argument --projects: not allowed with argument --superuser "
        "(see `python -m gateway create-token --help`)",
    )


async def test_revoke_by_the_printed_prefix_or_the_whole_token(
    database_url: str, demo: asyncpg.Connection
) -> None:
    env = {"DATABASE_URL": database_url}
    tokens = []
    for _ in range(3):
        issued = run_cli("create-token", "--email", "ada@example.com", env=env)
        assert issued.returncode == 0, issued.stderr
        tokens.append(issued.stdout.splitlines()[-1])
    printed = [f"{token[:12]}…" for token in tokens]
    # as printed (the ellipsis included), as three dots, whole
    for given, token in zip((printed[0], f"{tokens[1][:12]}...", tokens[2]), tokens, strict=True):
        revoked = run_cli("revoke-token", given, env=env)
        assert (revoked.returncode, revoked.stdout, revoked.stderr) == (
            0,
            f"revoked {token[:12]}\n",
            "",
        )
        assert await authenticate(demo, token) is None
    # again: said so, and no error (the token is revoked, as asked)
    again = run_cli("revoke-token", printed[0], env=env)
    when = await demo.fetchval(
        "SELECT revoked_at FROM api_tokens WHERE prefix = $1", tokens[0][:12]
    )
    assert (again.returncode, again.stdout) == (
        0,
        f"{tokens[0][:12]} was already revoked, at {when.isoformat(timespec='seconds')}\n",
    )


async def test_a_whole_token_must_be_that_token(
    database_url: str, demo: asyncpg.Connection
) -> None:
    env = {"DATABASE_URL": database_url}
    token = run_cli("create-token", "--email", "ada@example.com", env=env).stdout.split()[-1]
    forged = token[:12] + "x" * 32
    _error(run_cli("revoke-token", forged, env=env), 1, f"no token with prefix '{token[:12]}…'")
    assert await authenticate(demo, token) is not None
    _error(
        run_cli("revoke-token", "egt_missing1…", env=env), 1, "no token with prefix 'egt_missing1'"
    )
