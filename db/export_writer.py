"""The rows of an export, written by PostgreSQL itself: one `COPY (SELECT ...)
TO STDOUT` streamed into a file, whatever the format, so memory stays flat
and the speed is COPY's.

- CSV: COPY's own CSV (RFC 4180: quotes doubled, a cell with a comma, quote
  or line break quoted), the header of bulk ingestion plus `received_at`,
  and a text cell starting with `=`, `+`, `-` or `@` prefixed with `'` so a
  spreadsheet does not run it as a formula.
- NDJSON: one JSON object a row, made by `json_build_object`, with the Event
  fields as GraphQL names and renders them (the same codecs as the compiled
  path: db/codecs.py). COPY's CSV mode with a quote and a delimiter that JSON
  text never holds raw (control characters are escaped in JSON) passes each
  object through untouched; COPY's text mode would double every backslash.
- JSON: the same objects as one array (the lines joined by commas).

The events are those of the job's environment that its stored filter keeps,
oldest first: the reverse of the list's default order, which the index on
(environment, timestamp DESC, id) serves read backwards. The count and the
rows come from one snapshot (the caller's REPEATABLE READ transaction), so
events arriving meanwhile change neither.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import BinaryIO
from uuid import UUID

from db.binder import Binder
from db.codecs import DATETIME_SQL, global_id_sql
from db.entities import EVENT, ExportFormat
from db.filters import Filter
from db.identifiers import ident, qualified
from db.lists import ALIAS, ListRequest, order_by, predicate
from db.pool import Connection
from db.viewer import Viewer

CSV_HEADER = ("uuid", "timestamp", "event", "distinct_id", "person_id", "properties", "received_at")
EXTENSIONS = {ExportFormat.CSV: "csv", ExportFormat.JSON: "json", ExportFormat.NDJSON: "ndjson"}
MEDIA_TYPES = {
    ExportFormat.CSV: "text/csv",
    ExportFormat.JSON: "application/json",
    ExportFormat.NDJSON: "application/x-ndjson",
}
FORMULA_STARTS = ("=", "+", "-", "@")
# bytes JSON text never holds raw (it escapes every control character): COPY's
# CSV quote and delimiter for the JSON formats, so that nothing is ever quoted
_NEVER_IN_JSON_QUOTE = "\x01"
_NEVER_IN_JSON_DELIMITER = "\x02"
# the COPY may run for an hour and more (the pool's timeouts are for requests)
COPY_TIMEOUT_S = 24 * 3600.0
_COPIED = re.compile(r"^COPY (\d+)$")
# what the file is written by: large writes, few hand-overs to a thread
_WRITE_BYTES = 1024 * 1024

# The job's filter was checked, with its creator's scopes and visibility, when
# the export was made; the environment is fixed and was visible to them. A job
# runs as nobody's request: this viewer applies the filter as stored (a
# relation filter then names the environment's own parents, whatever the
# creator's memberships have become since).
_JOB_VIEWER = Viewer(UUID(int=0), "", "export job", frozenset({"*"}), superuser=True)

Progress = Callable[[int, int], Awaitable[None]]


@dataclass(frozen=True, slots=True)
class Written:
    """What a COPY put in the file: rows (the header aside) and bytes."""

    rows: int
    bytes: int


def _guarded(column_sql: str) -> str:
    # ascii(): the first character's code, with no substring made per row (the
    # cheapest test measured; the rows/s of an export count)
    codes = ", ".join(str(ord(char)) for char in FORMULA_STARTS)
    quote = "''''"  # the SQL literal of one quote
    return (
        f"CASE WHEN ascii({column_sql}) IN ({codes}) THEN {quote} || {column_sql} "
        f"ELSE {column_sql} END"
    )


def _select(form: ExportFormat, bind: Binder) -> str:
    def column(name: str) -> str:
        return qualified(ALIAS, name)

    if form is ExportFormat.CSV:
        cells = (
            column("id"),
            DATETIME_SQL.format(column("timestamp")),
            _guarded(column("event")),
            _guarded(column("distinct_id")),
            column("person_id"),
            column("properties"),
            DATETIME_SQL.format(column("received_at")),
        )
        return ", ".join(
            f"{sql} AS {ident(name)}" for sql, name in zip(cells, CSV_HEADER, strict=True)
        )
    prefix = f"{bind(EVENT.type_name + ':')}::text"
    fields = (
        ("id", global_id_sql(prefix, column("id"), EVENT.type_name)),
        ("uuid", column("id")),
        ("timestamp", DATETIME_SQL.format(column("timestamp"))),
        ("receivedAt", DATETIME_SQL.format(column("received_at"))),
        ("event", column("event")),
        ("distinctId", column("distinct_id")),
        ("personId", column("person_id")),
        ("properties", column("properties")),
    )
    pairs = ", ".join(f"{bind(name)}::text, {sql}" for name, sql in fields)
    return f"json_build_object({pairs})::text"


@dataclass(frozen=True, slots=True)
class ExportQuery:
    """The statements of one export: how many rows, and the rows themselves."""

    count: str
    rows: str
    values: tuple[object, ...]  # of `rows`; `count` takes the first `count_values`
    count_values: int

    @property
    def count_arguments(self) -> tuple[object, ...]:
        """The values `count` binds."""
        return self.values[: self.count_values]


def export_query(environment_id: UUID, form: ExportFormat, filter: Filter | None) -> ExportQuery:
    """The count and the rows (a SELECT for COPY) of an environment's events that
    `filter` keeps, oldest first."""
    bind = Binder()
    request = ListRequest(EVENT, filter=filter)
    environment = bind(environment_id)
    where = (
        f"{qualified(ALIAS, 'environment_id')} = {environment}::uuid "
        f"AND {predicate(request, _JOB_VIEWER, bind)}"
    )
    source = f"FROM {ident(EVENT.table)} {ALIAS} WHERE {where}"
    counted = len(bind.values)  # the select's own values come after
    selected = _select(form, bind)
    return ExportQuery(
        count=f"SELECT count(*) {source}",
        rows=f"SELECT {selected} {source} ORDER BY {order_by(request, reverse=True)}",
        values=tuple(bind.values),
        count_values=counted,
    )


class _Sink:
    """COPY's output into the file, a megabyte at a time off the event loop;
    counts lines as they pass (a line is a row but for the CSV header and line
    breaks inside CSV cells: progress only, the exact count is COPY's)."""

    def __init__(self, file: BinaryIO, form: ExportFormat, progress: Progress) -> None:
        self.file = file
        self.array = form is ExportFormat.JSON
        self.lines = -1 if form is ExportFormat.CSV else 0
        self.bytes = 0
        self._progress = progress
        self._pending: list[bytes] = []
        self._pending_bytes = 0

    async def __call__(self, chunk: bytes) -> None:
        data = chunk.replace(b"\n", b",\n") if self.array else chunk
        self._pending.append(data)
        self._pending_bytes += len(data)
        self.lines += chunk.count(b"\n")
        self.bytes += len(data)
        if self._pending_bytes >= _WRITE_BYTES:
            await self.flush()
        await self._progress(max(self.lines, 0), self.bytes)

    async def flush(self) -> None:
        """Write what is pending."""
        if self._pending:
            data = b"".join(self._pending)
            self._pending.clear()
            self._pending_bytes = 0
            await asyncio.to_thread(self.file.write, data)


async def copy_rows(
    conn: Connection, query: ExportQuery, form: ExportFormat, file: BinaryIO, progress: Progress
) -> Written:
    """Write the rows of `query` into `file` (open for binary writing, empty) in
    the transaction the caller holds on `conn`."""
    sink = _Sink(file, form, progress)
    if form is ExportFormat.JSON:
        await asyncio.to_thread(file.write, b"[\n")
    options = (
        {"format": "csv", "header": True}
        if form is ExportFormat.CSV
        else {
            "format": "csv",
            "quote": _NEVER_IN_JSON_QUOTE,
            "delimiter": _NEVER_IN_JSON_DELIMITER,
        }
    )
    # COPY takes no bind parameters: asyncpg has PostgreSQL itself render each
    # value as a quoted literal of its type (quote_literal), never Python
    status = await conn.copy_from_query(
        query.rows, *query.values, output=sink, timeout=COPY_TIMEOUT_S, **options
    )
    await sink.flush()
    copied = _COPIED.match(status or "")
    assert copied is not None, f"COPY answered {status!r}"
    rows = int(copied[1])
    if form is ExportFormat.JSON:
        await asyncio.to_thread(_close_array, file, rows)
    size = await asyncio.to_thread(file.tell)
    return Written(rows, size)


def _close_array(file: BinaryIO, rows: int) -> None:
    if rows:
        file.seek(-2, 2)  # the last row's ",\n"
        file.truncate()
        file.write(b"\n]\n")
    else:
        file.write(b"]\n")
