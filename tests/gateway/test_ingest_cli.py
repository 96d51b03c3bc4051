"""`python -m gateway ingest --environment ID FILE`, run as a user runs it."""

from __future__ import annotations

import gzip
import json
from pathlib import Path

import asyncpg

from db.demo import seed_demo
from tests.gateway.test_cli import run_cli
from tests.ingest_support import (
    environment_id,
    environment_uuid,
    event,
    ndjson,
    stored,
    total_stored,
)


async def test_ingest_files(database_url: str, conn: asyncpg.Connection, tmp_path: Path) -> None:
    await seed_demo(conn, 1)
    environment = await environment_uuid(conn)
    env = {"DATABASE_URL": database_url}
    plain = tmp_path / "events.ndjson"
    body = ndjson([event(n) for n in range(100)])
    plain.write_bytes(body)
    result = run_cli("ingest", "--environment", environment_id(environment), str(plain), env=env)
    assert result.returncode == 0, result.stderr
    assert result.stdout == "accepted 100, duplicates 0\n"
    # the progress bar, over the file's bytes (tqdm shows 20.6k of 20,6xx)
    assert f"100%|██████████| {len(body) / 1000:.1f}k/{len(body) / 1000:.1f}k" in result.stderr

    packed = tmp_path / "more.jsonl.gz"
    packed.write_bytes(gzip.compress(ndjson([event(n) for n in range(50, 150)])))
    result = run_cli("ingest", "--environment", str(environment), str(packed), env=env)
    assert (result.returncode, result.stdout) == (0, "accepted 50, duplicates 50\n"), result.stderr

    table = tmp_path / "events.csv"
    table.write_text(
        "uuid,timestamp,event,distinct_id,person_id,properties\n"
        ',2024-05-01T10:00:00Z,"a, b",u1,,"{""k"": ""v, w"",\n ""n"": 1}"\n'
    )
    result = run_cli("ingest", "--environment", str(environment), str(table), env=env)
    assert (result.returncode, result.stdout) == (0, "accepted 1, duplicates 0\n"), result.stderr
    assert await stored(conn, environment) == (151, 151, 151)
    properties = await conn.fetchval("SELECT properties FROM events WHERE event = 'a, b'")
    assert json.loads(properties) == {"k": "v, w", "n": 1}


async def test_bad_lines_are_listed_and_nothing_is_written(
    database_url: str, conn: asyncpg.Connection, tmp_path: Path
) -> None:
    await seed_demo(conn, 1)
    environment = await environment_uuid(conn)
    lines = [json.dumps(event(n)) for n in range(10)]
    lines[3] = json.dumps(event(3, distinctId=""))
    lines[7] = json.dumps({**event(7), "extra": 1})
    path = tmp_path / "bad.ndjson"
    path.write_text("\n".join(lines))
    result = run_cli(
        "ingest", "--environment", str(environment), str(path),
        env={"DATABASE_URL": database_url},
    )  # fmt: skip
    assert result.returncode == 1
    assert result.stdout == ""
    errors = [line for line in result.stderr.splitlines() if line.startswith(("line", "envgraph"))]
    assert errors == [
        "line 4: distinctId must have 1 to 200 characters",
        "line 8: unknown field 'extra'",
        f"envgraph: {path}: bad lines, nothing was written",
    ]
    assert "Traceback" not in result.stderr
    assert await total_stored(conn) == (0, 0, 0)


async def test_usage_errors(database_url: str, conn: asyncpg.Connection, tmp_path: Path) -> None:
    await seed_demo(conn, 1)
    environment = str(await environment_uuid(conn))
    env = {"DATABASE_URL": database_url}
    wrong = tmp_path / "events.txt"
    wrong.write_text("{}\n")
    result = run_cli("ingest", "--environment", environment, str(wrong), env=env)
    assert result.returncode == 2
    assert result.stderr == (
        f"envgraph: argument file: {wrong}: the file must end in .ndjson, .jsonl or .csv "
        "(optionally .gz) (see `python -m gateway ingest --help`)\n"
    )
    missing = tmp_path / "missing.ndjson"
    result = run_cli("ingest", "--environment", environment, str(missing), env=env)
    assert (result.returncode, result.stderr) == (
        2,
        f"envgraph: argument file: {missing}: no such file "
        "(see `python -m gateway ingest --help`)\n",
    )
    result = run_cli("ingest", "--environment", "nope", str(wrong), env=env)
    assert result.returncode == 2
    result = run_cli("ingest", str(wrong), env=env)
    assert result.returncode == 2
    # a well-formed id that names no environment: not usage, a failure
    present = tmp_path / "ok.ndjson"
    present.write_bytes(ndjson([event(1)]))
    result = run_cli(
        "ingest", "--environment", "00000000-0000-0000-0000-000000000001", str(present), env=env
    )
    assert (result.returncode, result.stderr) == (1, "envgraph: environment not found\n")
