"""`python -m gateway <command>` (also installed as `envgraph`).

Every failure is one line on stderr and a non-zero exit status: 2 for bad
usage or configuration, 1 for anything else. No tracebacks for the user.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import re
import shutil
import signal
import sys
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from contextlib import contextmanager
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from types import FrameType
from typing import BinaryIO, Never, NoReturn
from uuid import UUID

import asyncpg
from tqdm import tqdm

from db import migrations
from db.demo import DEMO_USER_EMAIL, MAX_SCALE, events_per_environment, seed_demo
from db.demo_secrets import seed_demo_secrets
from db.embedded import EmbeddedPostgres, EmbeddedPostgresError
from db.entities import ExportFormat
from db.errors import DomainError, MigrationError
from db.export_jobs import job_of
from db.exports import ExportRequest, cancel_as_operator, create_claimed_export, export_status
from db.filters import All, Compare
from db.ingest import Refused, Staging, check_writable
from db.pool import Connection
from db.secret_box import SecretBox
from db.secret_keys import verify_key
from db.tokens import (
    REVOCATION_HEARD_S,
    IssuedToken,
    create_token,
    heard_everywhere,
    parse_scopes,
    replace_demo_token,
    revoke_token,
)
from db.users import create_user
from gateway.app import create_app
from gateway.event_streams import BadStream, Format, read_upload
from gateway.export_runner import Outcome, RunProgress, new_holder, run_job
from gateway.logs import configure_logging
from gateway.secret_commands import add_secret_commands, demo_secrets_key
from gateway.serving import serve
from gateway.settings import Settings, SettingsError, load_settings
from schema.ids import expect_global_id
from schema.schema import build_schema

_INGEST_FORMATS = {".ndjson": Format.NDJSON, ".jsonl": Format.NDJSON, ".csv": Format.CSV}
_INGEST_CHUNK = 1024 * 1024
_DURATION = re.compile(r"^(\d+)([smhd])$")
_UNITS = {"s": "seconds", "m": "minutes", "h": "hours", "d": "days"}
DEMO_TOKEN_LIFETIME = timedelta(days=30)


class UsageError(Exception):
    """Bad command-line usage (exit status 2)."""


class ServeError(Exception):
    """The server could not start or stopped on its own (exit status 1)."""


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:
        raise UsageError(f"{message} (see `{self.prog} --help`)")


def _duration(text: str) -> timedelta:
    match = _DURATION.match(text.strip())
    if not match or int(match[1]) == 0:
        raise argparse.ArgumentTypeError(f"{text!r} is not a duration such as 30d, 12h, 15m")
    return timedelta(**{_UNITS[match[2]]: int(match[1])})


def _workers(text: str) -> int:
    if not text.isdigit() or not 1 <= int(text) <= 256:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number of workers from 1 to 256")
    return int(text)


def _scale(text: str) -> int:
    try:
        scale = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
    if not 1 <= scale <= MAX_SCALE:
        raise argparse.ArgumentTypeError(f"scale must be between 1 and {MAX_SCALE}, not {scale}")
    return scale


def _port(text: str) -> int:
    if not text.isdigit() or not 0 <= int(text) <= 65535:
        raise argparse.ArgumentTypeError(f"{text!r} is not a port from 0 to 65535")
    return int(text)


def _scopes(text: str) -> list[str]:
    # checked while parsing, so that a bad scope is bad usage (exit 2), as a bad option is
    try:
        return parse_scopes(text)
    except DomainError as error:
        raise argparse.ArgumentTypeError(error.message) from None


@contextmanager
def _database(settings: Settings) -> Iterator[str]:
    """The URL of a database session of the command's own: DATABASE_DIRECT_URL or
    DATABASE_URL, or the embedded server started for the duration (and stopped
    after, unless another process still uses it)."""
    if settings.session_url is not None:
        yield settings.session_url
        return
    server = EmbeddedPostgres(settings.data_dir)
    url = server.start()
    try:
        yield url
    finally:
        server.stop()


def _run(
    settings: Settings,
    work: Callable[[Connection], Awaitable[None]],
    *,
    require_migrated: bool = True,
) -> None:
    """Run `work` on one connection, on a migrated schema unless told otherwise."""
    _run_at(settings, lambda conn, _: work(conn), require_migrated=require_migrated)


def _run_at(
    settings: Settings,
    work: Callable[[Connection, str], Awaitable[None]],
    *,
    require_migrated: bool = True,
) -> None:
    """`_run`, `work` also given the database's URL (to open more connections)."""

    async def main(url: str) -> None:
        conn = await asyncpg.connect(url)
        try:
            if require_migrated and (pending := await migrations.pending(conn)):
                raise MigrationError(
                    f"the database has {len(pending)} pending migration(s): "
                    "run `python -m gateway migrate` first"
                )
            await work(conn, url)
        finally:
            await conn.close()

    with _database(settings) as url:
        asyncio.run(main(url))


def _projects(text: str) -> list[UUID]:
    """Projects given as uuids or global ids, comma-separated (an argparse type)."""
    found: list[UUID] = []
    for part in (p.strip() for p in text.split(",")):
        if not part:
            continue
        try:
            found.append(UUID(part))
            continue
        except ValueError:
            pass
        try:
            found.append(expect_global_id(part, "Project", "projects"))
        except DomainError:
            raise argparse.ArgumentTypeError(
                f"{part!r} is neither a uuid nor a project id"
            ) from None
    if not found:
        raise argparse.ArgumentTypeError("name at least one project")
    return list(dict.fromkeys(found))


def _print_token(issued: IssuedToken, email: str, scopes: list[str]) -> None:
    expiry = issued.expires_at.isoformat(timespec="seconds") if issued.expires_at else "never"
    restricted = issued.row["project_ids"]
    projects = "" if restricted is None else f", projects {','.join(map(str, restricted))}"
    print(
        f"token {issued.prefix}… for {email}, scopes {','.join(scopes)}{projects}, expires {expiry}"
    )
    print("it is shown this once; store it now:")
    print(issued.token)


def cmd_migrate(settings: Settings, _: argparse.Namespace) -> None:
    """Apply pending migrations."""

    async def work(conn: Connection) -> None:
        applied = await migrations.migrate(conn)
        if not applied:
            print("nothing to apply: the database is up to date")
        for migration in applied:
            print(f"applied {migration.version:04d}_{migration.name}")

    _run(settings, work, require_migrated=False)


def cmd_seed_demo(settings: Settings, args: argparse.Namespace) -> None:
    """Load the demo data."""

    async def work(conn: Connection) -> None:
        counts = await seed_demo(conn, args.scale, events=events_per_environment(args.scale))
        if settings.secrets_key is not None:  # none without a key to encrypt them with
            await seed_demo_secrets(conn, SecretBox(settings.secrets_key))
        summary = ", ".join(f"{count} {table}" for table, count in counts.items())
        print(f"demo data at scale {args.scale}; the database now has {summary}")

    _run(settings, work)


def cmd_create_user(settings: Settings, args: argparse.Namespace) -> None:
    """Create a user."""

    async def work(conn: Connection) -> None:
        user = await create_user(conn, email=args.email, name=args.name)
        print(f"created user {user.email} ({user.name}), id {user.id}")

    _run(settings, work)


def cmd_create_token(settings: Settings, args: argparse.Namespace) -> None:
    """Issue a token; the clear token is the last line of stdout."""
    scopes: list[str] = args.scopes

    async def work(conn: Connection) -> None:
        issued = await create_token(
            conn,
            email=args.email,
            scopes=scopes,
            superuser=args.superuser,
            expires_in=args.expires_in,
            project_ids=args.projects,
        )
        _print_token(issued, args.email, scopes)

    _run(settings, work)


def cmd_revoke_token(settings: Settings, args: argparse.Namespace) -> None:
    """Revoke a token by its prefix (as printed) or whole; one already revoked is said so,
    and is not an error (exit status 0: the token is revoked, as asked)."""

    async def work(conn: Connection) -> None:
        revoked = await revoke_token(conn, args.prefix)
        if revoked.already_at is None:
            # done once every running server has heard it (at most 1 s)
            if not await heard_everywhere(conn, REVOCATION_HEARD_S):
                print("not every server confirmed it within 1 s", file=sys.stderr)
            print(f"revoked {revoked.prefix}")
        else:
            when = revoked.already_at.isoformat(timespec="seconds")
            print(f"{revoked.prefix} was already revoked, at {when}")

    _run(settings, work)


def _upload(path: str) -> tuple[Path, Format, bool]:
    """The file to ingest, its format and whether it is gzip, by its extension
    (an argparse type: a refusal is a usage error)."""
    file = Path(path)
    suffixes = [suffix.lower() for suffix in file.suffixes[-2:]]
    packed = bool(suffixes) and suffixes[-1] == ".gz"
    if packed:
        suffixes.pop()
    form = _INGEST_FORMATS.get(suffixes[-1] if suffixes else "")
    if form is None:
        raise argparse.ArgumentTypeError(
            f"{path}: the file must end in .ndjson, .jsonl or .csv (optionally .gz)"
        )
    if not file.is_file():
        raise argparse.ArgumentTypeError(f"{path}: no such file")
    return file, form, packed


def _environment(text: str) -> UUID:
    """An environment given as its uuid or its global id."""
    try:
        return UUID(text)
    except ValueError:
        pass
    try:
        return expect_global_id(text, "Environment", "environment")
    except DomainError:
        raise UsageError(
            f"--environment {text!r} is neither a uuid nor an environment id"
        ) from None


async def _chunks(file: BinaryIO, bar: tqdm[Never]) -> AsyncIterator[bytes]:
    # the bar iterates over nothing (tqdm[Never]): it is told the bytes read
    while chunk := await asyncio.to_thread(file.read, _INGEST_CHUNK):
        bar.update(len(chunk))
        yield chunk


def cmd_ingest(settings: Settings, args: argparse.Namespace) -> None:
    """Ingest a file of events as the operator (no token: the database itself)."""
    path, form, packed = args.file
    environment_id: UUID = args.environment

    async def work(conn: Connection) -> None:
        await check_writable(conn, None, environment_id)
        with (
            path.open("rb") as file,
            tqdm(
                total=path.stat().st_size,
                unit="B",
                unit_scale=True,
                file=sys.stderr,
                desc=path.name,
            ) as bar,
        ):
            try:
                async with Staging(conn) as staging:
                    await read_upload(staging, _chunks(file, bar), form, gzip=packed)
                    ingested = await staging.commit(environment_id, None)
            except Refused as refused:
                bar.close()
                for error in refused.errors:
                    print(f"line {error.line}: {error.message}", file=sys.stderr)
                raise DomainError(f"{path}: bad lines, nothing was written") from None
            except BadStream as error:
                raise DomainError(f"{path}: {error}") from None
        print(f"accepted {ingested.accepted}, duplicates {ingested.duplicates}")

    _run(settings, work)


def _moment(text: str) -> datetime:
    """A time given on the command line: ISO 8601 with its zone."""
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not an ISO 8601 date and time") from None
    if moment.tzinfo is None:
        raise argparse.ArgumentTypeError(f"{text!r} needs a time zone (e.g. Z or +02:00)")
    return moment


def _window(since: datetime | None, until: datetime | None) -> All | None:
    conditions = [
        Compare("timestamp", op, moment)
        for op, moment in (("gte", since), ("lt", until))
        if moment is not None
    ]
    return All(tuple(conditions)) if conditions else None


def cmd_export(settings: Settings, args: argparse.Namespace) -> None:
    """Export an environment's events to a file, as the operator: the job is made,
    run by this process (with a progress bar) and its file copied to `-o`."""
    output: Path = args.output
    request = ExportRequest(
        args.environment, ExportFormat[args.format.upper()], _window(args.since, args.until)
    )

    async def work(conn: Connection, url: str) -> None:
        row = await create_claimed_export(
            conn,
            request,
            holder=new_holder(),
            lease_s=settings.export_lease_s,
            now=datetime.now(UTC),
        )
        job = job_of(row)
        pool = await asyncpg.create_pool(url, min_size=1, max_size=3)
        with tqdm(unit=" rows", unit_scale=True, file=sys.stderr, desc=output.name) as bar:

            def watch(progress: RunProgress) -> None:
                bar.total = progress.total
                bar.update(progress.rows - bar.n)

            try:
                outcome = await run_job(
                    pool,
                    job,
                    directory=settings.exports_path,
                    lease_s=settings.export_lease_s,
                    watch=watch,
                )
            except asyncio.CancelledError:
                # Ctrl-C: the export is called off, not left for a server to finish
                await cancel_as_operator(conn, job.id)
                raise
            finally:
                await pool.close()
        status = await export_status(conn, job.id)
        if outcome is not Outcome.SUCCEEDED:
            reason = status["error"] or f"it is {status['status']}"
            raise DomainError(f"the export failed: {reason}")
        source = settings.exports_path / status["file_name"]
        await asyncio.to_thread(shutil.copyfile, source, output)
        print(f"exported {status['rows_written']} events to {output} (export {job.id})")

    _run_at(settings, work)


def cmd_export_schema(settings: Settings, _: argparse.Namespace) -> None:
    """Print the SDL."""
    print(build_schema(introspection=True).as_str())  # as GET /schema.graphql serves it


def _stop_on_sigterm(signum: int, frame: FrameType | None) -> None:
    # before the server runs (and installs its own handlers), SIGTERM must
    # still unwind through `finally`, so that the embedded database stops
    raise KeyboardInterrupt


def cmd_serve(settings: Settings, args: argparse.Namespace) -> None:
    """Migrate, then serve until SIGTERM/SIGINT; with --demo, load demo data first."""
    signal.signal(signal.SIGTERM, _stop_on_sigterm)
    host = args.host or settings.host
    workers = settings.workers if args.workers is None else args.workers
    port = settings.port if args.port is None else args.port
    demo: list[IssuedToken] = []
    secrets_key, demo_key_file = settings.secrets_key, None
    if args.demo and secrets_key is None:  # the demo's own, kept in the data dir
        secrets_key, demo_key_file = demo_secrets_key(settings.data_dir)
    box = None if secrets_key is None else SecretBox(secrets_key)

    async def prepare(conn: Connection) -> None:
        if args.demo:
            await seed_demo(conn, 1, events=events_per_environment(1))
            if box is not None:
                await seed_demo_secrets(conn, box)
            demo.append(
                await replace_demo_token(conn, email=DEMO_USER_EMAIL, lifetime=DEMO_TOKEN_LIFETIME)
            )

    with _database(settings) as url:

        async def main() -> None:
            conn = await asyncpg.connect(url)
            try:
                await migrations.migrate(conn)
                # a key the stored secrets were not encrypted with stops the start here
                await verify_key(conn, box)
                await prepare(conn)
            finally:
                await conn.close()

        asyncio.run(main())
        where = "DATABASE_URL" if settings.database_url else f"embedded, {settings.data_dir}"
        # the service's pool keeps DATABASE_URL (maybe a pooler); `url` is the session's
        served = replace(
            settings,
            database_url=settings.database_url or url,
            workers=workers,
            host=host,
            port=port,
            secrets_key=secrets_key,
        )
        token = demo[0].token if demo else None

        def announce() -> None:
            plural = "s" if workers > 1 else ""
            print(
                f"envgraph serving http://{host}:{port}/graphql "
                f"(database: {where}; {workers} worker{plural})"
            )
            if token:
                print(f"demo token for {DEMO_USER_EMAIL} (expires in 30 days):")
                print(token)
            if demo_key_file is not None:
                print(f"secrets key of the demo: {demo_key_file} (GATEWAY_SECRETS_KEY unset)")
            sys.stdout.flush()

        status = serve(
            served, lambda: create_app(served, demo_token=token), host=host, port=port,
            announce=announce,
        )  # fmt: skip
    print("envgraph stopped")
    if status:
        raise ServeError(f"the server stopped with status {status} (see the log above)")


def _parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="python -m gateway", description=__doc__.split("\n")[0])
    commands = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)

    serve = commands.add_parser("serve", help="migrate, then serve HTTP")
    serve.add_argument("--host", help="address to bind (default GATEWAY_HOST or 127.0.0.1)")
    serve.add_argument("--port", type=_port, help="port (default GATEWAY_PORT or 8000)")
    serve.add_argument("--demo", action="store_true", help="load demo data, print a token")
    serve.add_argument(
        "--workers", type=_workers, help="processes serving the port (default GATEWAY_WORKERS or 1)"
    )
    serve.set_defaults(handler=cmd_serve)

    commands.add_parser("migrate", help="apply pending migrations").set_defaults(
        handler=cmd_migrate
    )

    seed = commands.add_parser("seed-demo", help="load deterministic demo data")
    seed.add_argument("--scale", type=_scale, default=1, help="size multiplier (1-100)")
    seed.set_defaults(handler=cmd_seed_demo)

    user = commands.add_parser("create-user", help="create a user")
    user.add_argument("--email", required=True)
    user.add_argument("--name", required=True)
    user.set_defaults(handler=cmd_create_user)

    token = commands.add_parser("create-token", help="issue an API token (printed once)")
    token.add_argument("--email", required=True, help="the token's user")
    token.add_argument(
        "--scopes", type=_scopes, default="*", help="comma-separated, e.g. segment:read (default *)"
    )
    # a superuser token sees everything: restricting one would mean nothing
    reach = token.add_mutually_exclusive_group()
    reach.add_argument(
        "--projects",
        type=_projects,
        help="restrict it to these projects: uuids or global ids, comma-separated "
        "(default: every project the user sees)",
    )
    reach.add_argument("--superuser", action="store_true", help="sees and may do everything")
    token.add_argument("--expires-in", type=_duration, help="e.g. 30d, 12h (default: never)")
    token.set_defaults(handler=cmd_create_token)

    revoke = commands.add_parser("revoke-token", help="revoke a token by its prefix")
    revoke.add_argument(
        "prefix", help="the prefix as create-token printed it (egt_AbCd1234…), or the whole token"
    )
    revoke.set_defaults(handler=cmd_revoke_token)

    ingest = commands.add_parser("ingest", help="ingest a file of events (NDJSON or CSV)")
    ingest.add_argument(
        "--environment", required=True, type=_environment, help="its uuid or global id"
    )
    ingest.add_argument("file", type=_upload, help="a .ndjson, .jsonl or .csv file, optionally .gz")
    ingest.set_defaults(handler=cmd_ingest)

    export = commands.add_parser("export", help="export an environment's events to a file")
    export.add_argument(
        "--environment", required=True, type=_environment, help="its uuid or global id"
    )
    export.add_argument("--format", required=True, choices=("csv", "json", "ndjson"))
    export.add_argument("--since", type=_moment, help="events from this time on (ISO 8601)")
    export.add_argument("--until", type=_moment, help="events before this time (ISO 8601)")
    export.add_argument("-o", "--output", required=True, type=Path, help="the file to write")
    export.set_defaults(handler=cmd_export)

    commands.add_parser("export-schema", help="print the GraphQL SDL").set_defaults(
        handler=cmd_export_schema
    )
    add_secret_commands(commands, _run)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Run one command; returns the exit status."""
    try:
        args = _parser().parse_args(argv)
        settings = load_settings()
    except (UsageError, SettingsError) as error:
        print(f"envgraph: {error}", file=sys.stderr)
        return 2
    # the README promises errors only from commands: their progress (the embedded
    # server starting and stopping) is said at INFO, for `serve` or when asked for
    asked = os.environ.get("GATEWAY_LOG_LEVEL")
    level = settings.log_level if args.command == "serve" or asked else "warning"
    configure_logging(settings.log_format, level)
    try:
        args.handler(settings, args)
    except BrokenPipeError:
        # the reader went away (`export-schema | head`): nothing more to say
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0
    except (DomainError, EmbeddedPostgresError, ServeError) as error:
        print(f"envgraph: {error}", file=sys.stderr)
        return 1
    except (OSError, asyncpg.PostgresError, asyncpg.InterfaceError) as error:
        print(f"envgraph: cannot use the database: {error}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("envgraph stopped", file=sys.stderr)
        return 130
    return 0
