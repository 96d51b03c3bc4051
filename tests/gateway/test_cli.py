"""The command line, run as a user runs it: `python -m gateway ...` in a subprocess."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import asyncpg
import pytest

from db.tokens import authenticate
from db.viewer import KNOWN_SCOPES
from tests.support import free_port

_OWN_VARIABLES = ("DATABASE_", "GATEWAY_")


def run_cli(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    """Run the CLI with a clean configuration plus `env`."""
    clean = {k: v for k, v in os.environ.items() if not k.startswith(_OWN_VARIABLES)}
    return subprocess.run(
        [sys.executable, "-m", "gateway", *args],
        env={**clean, **(env or {})},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def _one_line_error(result: subprocess.CompletedProcess[str], status: int, message: str) -> None:
    assert result.returncode == status, result.stderr
    assert result.stderr == f"envgraph: {message}\n"
    assert "Traceback" not in result.stdout + result.stderr


def test_migrate_an_empty_database_then_again(empty_database_url: str) -> None:
    env = {"DATABASE_URL": empty_database_url}
    first = run_cli("migrate", env=env)
    assert first.returncode == 0, first.stderr
    assert first.stdout == (
        "applied 0001_initial\napplied 0002_events\napplied 0003_token_notify\n"
        "applied 0004_environment_taxonomy\n"
        "applied 0005_api_token_projects\n"
        "applied 0006_exports\n"
        "applied 0007_evaluations\n"
        "applied 0008_environment_config\n"
        "applied 0009_persisted_documents\n"
        "applied 0010_locked_writes\n"
    )
    second = run_cli("migrate", env=env)
    assert second.stdout == "nothing to apply: the database is up to date\n"


def test_commands_refuse_an_unmigrated_database(empty_database_url: str) -> None:
    result = run_cli(
        "create-user", "--email", "a@example.com", "--name", "A",
        env={"DATABASE_URL": empty_database_url},
    )  # fmt: skip
    _one_line_error(
        result,
        1,
        "the database has 10 pending migration(s): run `python -m gateway migrate` first",
    )


async def test_user_and_token_life_cycle(database_url: str) -> None:
    env = {"DATABASE_URL": database_url}
    created = run_cli("create-user", "--email", "grace@example.com", "--name", "Grace", env=env)
    assert created.returncode == 0, created.stderr
    assert created.stdout.startswith("created user grace@example.com (Grace), id ")

    duplicate = run_cli("create-user", "--email", "GRACE@example.com", "--name", "G", env=env)
    _one_line_error(duplicate, 1, "a user with e-mail GRACE@example.com already exists")

    issued = run_cli(
        "create-token", "--email", "grace@example.com", "--scopes", "segment:read,model:write",
        "--expires-in", "30d", env=env,
    )  # fmt: skip
    assert issued.returncode == 0, issued.stderr
    lines = issued.stdout.splitlines()
    token = lines[-1]
    assert token.startswith("egt_")
    assert len(token) == 44
    assert lines[0].startswith(
        f"token {token[:12]}… for grace@example.com, scopes model:write,segment:read, expires "
    )

    conn = await asyncpg.connect(database_url)
    try:
        viewer = await authenticate(conn, token)
        assert viewer is not None
        assert (viewer.email, viewer.scopes) == (
            "grace@example.com",
            frozenset({"segment:read", "model:write"}),
        )
        revoked = run_cli("revoke-token", token[:12], env=env)
        assert (revoked.returncode, revoked.stdout) == (0, f"revoked {token[:12]}\n")
        assert await authenticate(conn, token) is None
        again = run_cli("revoke-token", token[:12], env=env)
        assert again.returncode == 0  # revoking twice is harmless
    finally:
        await conn.close()


@pytest.mark.parametrize(
    ("args", "status", "message"),
    [
        (
            ("create-token", "--email", "nobody@example.com"),
            1,
            "no user with e-mail nobody@example.com",
        ),
        (
            ("create-token", "--email", "a@example.com", "--scopes", "segment:delete"),
            2,
            "argument --scopes: unknown scope 'segment:delete'; known scopes: *, environment:read, "
            "environment:write, evaluation:read, evaluation:write, event:read, event:write, "
            "export:read, export:write, model:read, model:write, "
            "organization:read, organization:write, project:read, project:write, "
            "secret:read, secret:write, segment:read, segment:write, token:read, token:write "
            "(see `python -m gateway create-token --help`)",
        ),
        (
            ("create-token", "--email", "a@example.com", "--expires-in", "soon"),
            2,
            "argument --expires-in: 'soon' is not a duration such as 30d, 12h, 15m "
            "(see `python -m gateway create-token --help`)",
        ),
        (
            ("create-user", "--email", "not-an-address", "--name", "X"),
            1,
            "not an e-mail address: 'not-an-address'",
        ),
        (("revoke-token", "egt_missing1"), 1, "no token with prefix 'egt_missing1'"),
    ],
)
def test_bad_input_is_one_line(
    database_url: str, args: tuple[str, ...], status: int, message: str
) -> None:
    result = run_cli(*args, env={"DATABASE_URL": database_url})
    _one_line_error(result, status, message)


def test_unknown_command_is_usage_error() -> None:
    result = run_cli("launch")
    assert result.returncode == 2
    assert result.stderr.startswith("envgraph: argument command: invalid choice: 'launch'")
    assert result.stderr.endswith(" (see `python -m gateway --help`)\n")
    assert result.stderr.count("\n") == 1


@pytest.mark.parametrize(
    ("variable", "value", "message"),
    [
        ("GATEWAY_PORT", "eighty", "GATEWAY_PORT='eighty': takes a whole number from 0 to 65535"),
        ("GATEWAY_POOL_SIZE", "0", "GATEWAY_POOL_SIZE='0': takes a whole number from 1 to 1000"),
        (
            "GATEWAY_GRAPHIQL",
            "maybe",
            "GATEWAY_GRAPHIQL='maybe': takes true or false (also 1/0, yes/no, on/off)",
        ),
        (
            "DATABASE_URL",
            "mysql://db",
            "DATABASE_URL='mysql://db': takes a URL starting with postgresql://",
        ),
    ],
)
def test_bad_configuration_exits_2(variable: str, value: str, message: str) -> None:
    _one_line_error(run_cli("migrate", env={variable: value}), 2, message)


def test_unreachable_database_is_one_line() -> None:
    url = f"postgresql://postgres@127.0.0.1:{free_port()}/envgraph"
    result = run_cli("migrate", env={"DATABASE_URL": url})
    assert result.returncode == 1
    assert result.stderr.startswith("envgraph: cannot use the database: ")
    assert result.stderr.count("\n") == 1


def test_seed_demo(database_url: str) -> None:
    result = run_cli("seed-demo", env={"DATABASE_URL": database_url})
    assert result.returncode == 0, result.stderr
    assert result.stdout == (
        "demo data at scale 1; the database now has 3 organizations, 9 projects, 18 models, "
        "54 environments, 54 segments, 3 users, 108000 events\n"
    )


def test_export_schema_prints_the_sdl() -> None:
    result = run_cli("export-schema")
    assert result.returncode == 0, result.stderr
    assert "type Query {" in result.stdout
    assert "viewer: Viewer!" in result.stdout


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (
            ("serve", "--port", "99999"),
            "argument --port: '99999' is not a port from 0 to 65535"
            " (see `python -m gateway serve --help`)",
        ),
        (
            ("create-token", "--email", "a@example.com", "--scopes", "segment:peek"),
            "argument --scopes: unknown scope 'segment:peek'; known scopes: "
            + ", ".join(sorted(KNOWN_SCOPES))
            + " (see `python -m gateway create-token --help`)",
        ),
        (
            ("seed-demo", "--scale", "0"),
            "argument --scale: scale must be between 1 and 100, not 0"
            " (see `python -m gateway seed-demo --help`)",
        ),
    ],
)
def test_usage_errors_exit_2_before_anything_runs(
    database_url: str, args: tuple[str, ...], message: str
) -> None:
    _one_line_error(run_cli(*args, env={"DATABASE_URL": database_url}), 2, message)


@pytest.mark.embedded
def test_commands_are_quiet_but_for_their_output(open_tmp: Path) -> None:
    # with the embedded server, which starts and stops around the command
    env = {"GATEWAY_DATA_DIR": str(open_tmp / "data")}
    result = run_cli("migrate", env=env)
    assert (result.returncode, result.stderr) == (0, ""), result.stderr
    assert result.stdout == (
        "applied 0001_initial\napplied 0002_events\napplied 0003_token_notify\n"
        "applied 0004_environment_taxonomy\n"
        "applied 0005_api_token_projects\n"
        "applied 0006_exports\n"
        "applied 0007_evaluations\n"
        "applied 0008_environment_config\n"
        "applied 0009_persisted_documents\n"
        "applied 0010_locked_writes\n"
    )
