"""`python -m gateway export --environment ID --format ... -o FILE`, run as an
operator runs it: the job is made and run by the command, its file copied."""

from __future__ import annotations

import asyncio
import csv
import json
from pathlib import Path

import asyncpg

from db.demo import seed_demo
from tests.export_support import seed_events
from tests.gateway.test_cli import run_cli
from tests.ingest_support import environment_id, environment_uuid


async def test_export_a_window_to_a_file(
    database_url: str, conn: asyncpg.Connection, tmp_path: Path
) -> None:
    await seed_demo(conn, 1)
    environment = await environment_uuid(conn)
    await seed_events(conn, environment, 5000)
    env = {"DATABASE_URL": database_url, "GATEWAY_DATA_DIR": str(tmp_path / "data")}
    output = tmp_path / "window.csv"
    result = run_cli(
        "export", "--environment", environment_id(environment), "--format", "csv",
        "--since", "2025-01-01T00:10:00Z", "--until", "2025-01-01T01:00:00+00:00",
        "-o", str(output), env=env,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    export = await conn.fetchrow("SELECT * FROM exports WHERE status = 'SUCCEEDED'")
    assert export is not None
    assert result.stdout == f"exported 3000 events to {output} (export {export['id']})\n"
    # the progress bar, in rows
    assert "3.00k/3.00k" in result.stderr
    with output.open(newline="") as file:
        rows = list(csv.reader(file))
    assert len(rows) == 3001
    assert rows[1][1] == "2025-01-01T00:10:00+00:00"
    assert rows[-1][1] == "2025-01-01T00:59:59+00:00"
    # an export like any other: attributed to the organization's ADMIN, its file kept
    creator = await conn.fetchval("SELECT email FROM users WHERE id = $1", export["created_by"])
    assert (creator, export["rows_written"], export["attempts"]) == ("ada@example.com", 3000, 1)
    kept = tmp_path / "data" / "exports" / f"{export['id']}.csv"
    assert kept.read_bytes() == output.read_bytes()

    ndjson = tmp_path / "all.ndjson"
    result = run_cli(
        "export", "--environment", str(environment), "--format", "ndjson", "-o", str(ndjson),
        env=env,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    lines = ndjson.read_text().splitlines()
    assert len(lines) == 5000
    assert json.loads(lines[0])["properties"] == {"n": 1, "score": 0.01, "label": "no"}


async def test_refusals(database_url: str, conn: asyncpg.Connection, tmp_path: Path) -> None:
    await seed_demo(conn, 1)
    env = {"DATABASE_URL": database_url, "GATEWAY_DATA_DIR": str(tmp_path / "data")}
    output = str(tmp_path / "out.csv")
    missing = "00000000-0000-0000-0000-000000000001"
    result = run_cli("export", "--environment", missing, "--format", "csv", "-o", output, env=env)
    assert (result.returncode, result.stderr) == (1, "envgraph: environment not found\n")
    result = run_cli(
        "export", "--environment", missing, "--format", "csv", "--since", "yesterday",
        "-o", output, env=env,
    )  # fmt: skip
    assert result.returncode == 2
    assert "'yesterday' is not an ISO 8601 date and time" in result.stderr
    result = run_cli("export", "--environment", missing, "--format", "xml", "-o", output, env=env)
    assert result.returncode == 2
    assert "invalid choice: 'xml'" in result.stderr
    # a folder that cannot hold the files: the export fails, readably, and no file is left
    blocker = tmp_path / "file"
    blocker.write_text("")
    environment = str(await environment_uuid(conn))
    result = run_cli(
        "export", "--environment", environment, "--format", "json", "-o", output,
        env={**env, "GATEWAY_EXPORT_DIR": str(blocker / "exports")},
    )  # fmt: skip
    assert (result.returncode, result.stderr.splitlines()[-1]) == (
        1,
        "envgraph: the export failed: cannot write the export file: Not a directory",
    )
    assert not await asyncio.to_thread(Path(output).exists)
    assert await conn.fetchval("SELECT count(*) FROM exports WHERE status = 'FAILED'") == 19
