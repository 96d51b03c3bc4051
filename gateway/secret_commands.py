"""The secrets key on the command line: `generate-secrets-key`,
`rotate-secrets-key`, and the key `serve --demo` makes for itself.

No key is ever taken as an argument (it would show in `ps` and the shell's
history): the current one comes from GATEWAY_SECRETS_KEY, a new one from
standard input.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

from db.errors import DomainError
from db.pool import Connection
from db.secret_box import KEY_VARIABLE, SecretBox, generate_key, parse_key
from db.secret_keys import rotate_key
from gateway.settings import Settings

Runner = Callable[[Settings, Callable[[Connection], Awaitable[None]]], None]
# where `serve --demo` keeps the key it generated, under the data dir
DEMO_KEY_FILE = "secrets.key"


def demo_secrets_key(data_dir: Path) -> tuple[bytes, Path]:
    """The demo's key: read from the data dir, or generated there (owner-only) on
    first use, so that a restarted demo still reads its secrets."""
    path = data_dir / DEMO_KEY_FILE
    if not path.exists():
        data_dir.mkdir(parents=True, exist_ok=True)
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(descriptor, "w") as file:
            file.write(generate_key() + "\n")
    try:
        return parse_key(path.read_text(encoding="ascii")), path
    except ValueError as error:
        raise DomainError(f"{path}: the demo's secrets key {error}") from None


def cmd_generate_secrets_key(settings: Settings, _: argparse.Namespace) -> None:
    """Print a fresh key (for GATEWAY_SECRETS_KEY, or rotate-secrets-key's input)."""
    print(generate_key())


def rotate_command(run: Runner) -> Callable[[Settings, argparse.Namespace], None]:
    """`rotate-secrets-key`: every secret re-encrypted under the key read from
    standard input, in one transaction."""

    def cmd_rotate_secrets_key(settings: Settings, _: argparse.Namespace) -> None:
        if settings.secrets_key is None:
            raise DomainError(f"rotate-secrets-key needs the current key in {KEY_VARIABLE}")
        line = sys.stdin.readline()
        try:
            new_key = parse_key(line)
        except ValueError as error:
            raise DomainError(f"the new key on standard input {error}") from None
        if new_key == settings.secrets_key:
            raise DomainError("the new key is the current one: nothing to rotate")
        old, new = SecretBox(settings.secrets_key), SecretBox(new_key)

        async def work(conn: Connection) -> None:
            async with conn.transaction():
                count = await rotate_key(conn, old, new)
            print(
                f"re-encrypted {count} secret(s) under the new key: start every server with "
                f"it as {KEY_VARIABLE}"
            )

        run(settings, work)

    return cmd_rotate_secrets_key


def add_secret_commands(commands: Any, run: Runner) -> None:
    """Add the key commands to the command line's subparsers."""
    commands.add_parser(
        "generate-secrets-key", help=f"print a new random key for {KEY_VARIABLE}"
    ).set_defaults(handler=cmd_generate_secrets_key)
    commands.add_parser(
        "rotate-secrets-key",
        help=f"re-encrypt every secret: the current key in {KEY_VARIABLE}, the new one on "
        "standard input",
    ).set_defaults(handler=rotate_command(run))
