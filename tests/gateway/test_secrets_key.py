"""The secrets key as an operator meets it: `rotate-secrets-key`, a wrong key
stopping `serve`, the key `serve --demo` makes for itself, and the same
variant from every worker of `serve --workers 2`."""

from __future__ import annotations

import base64
import http.client
import json
import os
import subprocess
import sys
import time
import uuid
from pathlib import Path
from typing import Any

import asyncpg
import psutil
import pytest

from db.demo import seed_demo
from db.secret_box import SecretBox, generate_key, parse_key
from db.secret_keys import associated_data, verify_key
from gateway.settings import SettingsError, load_settings
from tests.service import Service

_OWN = ("DATABASE_", "GATEWAY_")


def _cli(*args: str, env: dict[str, str], stdin: str = "") -> subprocess.CompletedProcess[str]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith(_OWN)}
    return subprocess.run(
        [sys.executable, "-m", "gateway", *args],
        env={**clean, **env},
        input=stdin,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


async def _secrets(conn: asyncpg.Connection, box: SecretBox, values: list[str]) -> None:
    """Secrets stored as the server stores them, in the demo's first environments."""
    await seed_demo(conn, 1)
    await verify_key(conn, box)
    rows = await conn.fetch(
        "SELECT e.id, e.project_id, (SELECT id FROM users LIMIT 1) AS user_id "
        "FROM environments e ORDER BY e.id LIMIT $1",
        len(values),
    )
    for row, value in zip(rows, values, strict=True):
        secret_id = uuid.uuid4()
        await conn.execute(
            "INSERT INTO secrets (id, environment_id, project_id, key, ciphertext, "
            "created_by, updated_by) VALUES ($1, $2, $3, 'K', $4, $5, $5)",
            secret_id,
            row["id"],
            row["project_id"],
            box.seal(value, associated_data(secret_id)),
            row["user_id"],
        )


async def test_rotation_re_encrypts_everything_and_the_old_key_then_stops_serve(
    database_url: str, conn: asyncpg.Connection
) -> None:
    old_text, new_text = generate_key(), generate_key()
    old, new = SecretBox(parse_key(old_text)), SecretBox(parse_key(new_text))
    await _secrets(conn, old, ["first value", "second value"])
    before = await conn.fetch("SELECT id, updated_at, version FROM secrets ORDER BY id")
    env = {"DATABASE_URL": database_url, "GATEWAY_SECRETS_KEY": old_text}

    rotated = _cli("rotate-secrets-key", env=env, stdin=new_text + "\n")
    assert (rotated.returncode, rotated.stderr) == (0, "")
    assert rotated.stdout == (
        "re-encrypted 2 secret(s) under the new key: start every server with it as "
        "GATEWAY_SECRETS_KEY\n"
    )
    rows = await conn.fetch("SELECT id, ciphertext, updated_at, version FROM secrets ORDER BY id")
    assert sorted(new.open(r["ciphertext"], associated_data(r["id"])) for r in rows) == [
        "first value",
        "second value",
    ]
    # no client changed anything: updatedAt (expectedUpdatedAt) and version stay
    assert [(r["id"], r["updated_at"], r["version"]) for r in rows] == [tuple(r) for r in before]
    # the check follows the new key
    assert new.opens_check(await conn.fetchval("SELECT ciphertext FROM secrets_key_check"))

    # the old key can neither rotate again nor start a server: a clear error, no garbage
    again = _cli("rotate-secrets-key", env=env, stdin=generate_key() + "\n")
    assert again.returncode == 1
    assert again.stderr == (
        "envgraph: the old key (GATEWAY_SECRETS_KEY) is not the one the secrets are "
        "encrypted with: nothing was changed\n"
    )
    with Service(env=env) as service:
        assert service.process.wait(timeout=60) == 1
        line = service.read_until("envgraph: GATEWAY_SECRETS_KEY is not the key")
        assert "rotate-secrets-key" in line
        assert old_text not in "\n".join(service.output())

    # bad input: the key on stdin, the variable, never echoed
    bad = _cli("rotate-secrets-key", env={**env, "GATEWAY_SECRETS_KEY": new_text}, stdin="x\n")
    assert bad.returncode == 1
    assert bad.stderr.startswith("envgraph: the new key on standard input takes 32 random bytes")
    malformed = _cli("migrate", env={**env, "GATEWAY_SECRETS_KEY": "not-a-key-" + new_text[:20]})
    assert malformed.returncode == 2
    assert malformed.stderr.startswith("envgraph: GATEWAY_SECRETS_KEY: takes 32 random bytes")
    assert new_text[:20] not in malformed.stderr
    assert _cli("generate-secrets-key", env={}).stdout.strip() != new_text


def _worker_of(service: Service, connection: http.client.HTTPConnection) -> int:
    """The pid of the worker holding this (open) connection."""
    assert connection.sock is not None
    mine = connection.sock.getsockname()[1]
    for worker in service.workers():
        for c in worker.net_connections("tcp"):
            if c.status == psutil.CONN_ESTABLISHED and c.raddr and c.raddr.port == mine:
                return worker.pid
    raise AssertionError("no worker holds the connection")


def _post(
    connection: http.client.HTTPConnection, query: str, token: str, **variables: Any
) -> dict[str, Any]:
    body = json.dumps({"query": query, "variables": variables})
    headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
    connection.request("POST", "/graphql", body=body, headers=headers)
    answer: dict[str, Any] = json.loads(connection.getresponse().read())
    assert "errors" not in answer, answer
    data: dict[str, Any] = answer["data"]
    return data


EVALUATE = """
query ($id: ID!, $context: JSON!) {
  environment(id: $id) { evaluateStrategy(context: $context) { enabled variant { name } } }
}
"""


def test_the_demo_key_and_the_same_variant_from_every_worker(
    database_url: str, tmp_path: Path
) -> None:
    env = {"DATABASE_URL": database_url, "GATEWAY_DATA_DIR": str(tmp_path)}
    with Service("--demo", "--workers", "2", env=env) as service:
        service.ready(timeout=180)
        service.read_until("demo token for ada@example.com")
        token = service.read_until("egt_")
        key_line = service.read_until("secrets key of the demo:")
        key_file = tmp_path / "secrets.key"
        assert key_line == f"secrets key of the demo: {key_file} (GATEWAY_SECRETS_KEY unset)"
        assert key_file.stat().st_mode & 0o777 == 0o600
        while len(service.workers()) < 2:
            time.sleep(0.1)

        first = http.client.HTTPConnection("127.0.0.1", service.port, timeout=30)
        found = _post(first, "{ environments(first: 1, type: PRODUCTION) { nodes { id } } }", token)
        environment = found["environments"]["nodes"][0]["id"]
        variants = [{"name": f"v{i}"} for i in range(5)]
        _post(
            first,
            "mutation ($input: SetDefaultStrategyInput!) "
            "{ setDefaultStrategy(input: $input) { environment { id } } }",
            token,
            input={"environmentId": environment, "strategy": {"name": "ab", "variants": variants}},
        )
        created = _post(
            first,
            "mutation ($input: CreateSecretInput!) { createSecret(input: $input) "
            "{ secret { value } } }",
            token,
            input={"environmentId": environment, "key": "API_KEY", "value": "demo value"},
        )
        assert created["createSecret"]["secret"] == {"value": "demo value"}
        first.close()

        contexts = [{"userId": f"user-{n}"} for n in range(40)]
        answers: dict[int, list[Any]] = {}
        deadline = time.monotonic() + 60
        while len(answers) < 2:  # fresh connections until both workers have answered
            assert time.monotonic() < deadline, "one worker answered every connection"
            connection = http.client.HTTPConnection("127.0.0.1", service.port, timeout=30)
            evaluated = [
                _post(connection, EVALUATE, token, id=environment, context=c)["environment"][
                    "evaluateStrategy"
                ]
                for c in contexts
            ]
            # asked once it has answered: a connection just made may still wait in
            # the listening socket's queue, held by no worker yet
            answers[_worker_of(service, connection)] = evaluated
            connection.close()
        one, other = answers.values()
        assert one == other
        assert all(a["enabled"] for a in one)
        assert len({a["variant"]["name"] for a in one}) > 1  # spread, not one for all


def test_the_key_setting_takes_either_base64_alphabet_and_never_shows_the_key() -> None:
    raw = bytes(range(200, 232))  # bytes whose base64 holds '+' '/' or '-' '_'
    standard, url_safe = base64.b64encode(raw).decode(), base64.urlsafe_b64encode(raw).decode()
    assert standard != url_safe
    for text in (standard, url_safe, f"  {url_safe}\n"):
        settings = load_settings({"GATEWAY_SECRETS_KEY": text})
        assert settings.secrets_key == raw
        assert url_safe not in repr(settings)
        assert "secrets_key" not in repr(settings)
    assert load_settings({}).secrets_key is None
    for bad in (url_safe[:-1], url_safe[:-1] + "!", base64.b64encode(raw[:31]).decode()):
        with pytest.raises(SettingsError) as refused:
            load_settings({"GATEWAY_SECRETS_KEY": bad})
        assert str(refused.value).startswith("GATEWAY_SECRETS_KEY: takes 32 random bytes")
        assert bad not in str(refused.value)
