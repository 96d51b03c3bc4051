"""Uploads of events as byte streams: NDJSON or CSV, optionally gzip, read a chunk
at a time into a `Staging` (db/ingest.py), for the bulk route and the `ingest`
command alike.

Lines are numbered from 1 as a text editor numbers them: blank lines count
(and are skipped); a CSV record is named by the line it starts on, the header
being line 1. Memory stays bounded by the chunk, one line (at most
`MAX_LINE_BYTES`) and one staging batch, whatever the upload's size.
"""

from __future__ import annotations

import csv
import zlib
from collections import deque
from collections.abc import AsyncIterable, AsyncIterator, Iterator
from enum import Enum

from db.event_rows import CSV_HEADER, BadEvent, LineError, csv_record_row, json_line_row
from db.ingest import Staging

MAX_LINE_BYTES = 1024 * 1024
# the most bytes one gunzip step may produce: a small compressed chunk can
# stand for gigabytes ("zip bomb"), which must not land in memory at once
_GUNZIP_STEP = 256 * 1024


class Format(Enum):
    """How an upload is written."""

    NDJSON = "ndjson"
    CSV = "csv"


class TooLarge(Exception):
    """The upload is over the size limit (counted after decompression)."""

    def __init__(self, limit: int) -> None:
        super().__init__(f"the upload is over the limit of {limit:,} bytes")
        self.limit = limit


class BadStream(Exception):
    """The stream is unreadable as a whole (bad gzip), not a line's fault."""


class _Gunzip:
    """Incremental gunzip; several gzip members one after the other are one stream."""

    def __init__(self) -> None:
        self._inflate = zlib.decompressobj(wbits=31)

    def feed(self, data: bytes) -> Iterator[bytes]:
        try:
            while data:
                yield self._inflate.decompress(data, _GUNZIP_STEP)
                data = self._inflate.unconsumed_tail
                if self._inflate.eof and (rest := self._inflate.unused_data):
                    self._inflate = zlib.decompressobj(wbits=31)
                    data = rest + data
        except zlib.error as error:
            raise BadStream(f"the body is not valid gzip: {error}") from None

    def finish(self) -> None:
        if not self._inflate.eof:
            raise BadStream("the gzip stream ends before its end")


class _Lines:
    """Bytes to numbered lines (newline kept), a line at most MAX_LINE_BYTES: a
    longer one is reported and skipped."""

    def __init__(self, staging: Staging) -> None:
        self.staging = staging
        self.number = 0
        self._pending = b""
        self._skipping = False

    def feed(self, data: bytes) -> Iterator[tuple[int, bytes]]:
        start = 0
        while True:
            end = data.find(b"\n", start)
            if end < 0:
                break
            if self._skipping:
                self._skipping = False
                self._pending = b""
            else:
                self.number += 1
                piece = data[start : end + 1]
                yield self.number, self._pending + piece if self._pending else piece
                self._pending = b""
            start = end + 1
        if not self._skipping:
            self._pending += data[start:]
            if len(self._pending) > MAX_LINE_BYTES:
                self.number += 1
                self.staging.reject(
                    LineError(self.number, f"the line is longer than {MAX_LINE_BYTES:,} bytes")
                )
                self._pending = b""
                self._skipping = True

    def finish(self) -> Iterator[tuple[int, bytes]]:
        if self._pending and not self._skipping:
            self.number += 1
            yield self.number, self._pending
        self._pending = b""


def _text(staging: Staging, number: int, line: bytes) -> str | None:
    try:
        return line.decode("utf-8")
    except UnicodeDecodeError:
        staging.reject(LineError(number, "the line is not UTF-8 text"))
        return None


class _Ndjson:
    def __init__(self, staging: Staging) -> None:
        self.staging = staging

    async def take(self, lines: Iterator[tuple[int, bytes]], *, final: bool) -> None:
        for number, line in lines:
            if not line.strip():
                continue
            text = _text(self.staging, number, line)
            if text is None:
                continue
            try:
                row = json_line_row(number, text)
            except BadEvent as error:
                self.staging.reject(LineError(number, error.message, error.field))
                continue
            await self.staging.add(row)
            if self.staging.full:
                return


class _NeedMore(Exception):
    """The CSV record goes on in lines not received yet."""


class _Csv:
    """CSV records from lines: Python's csv module (a quoted cell may hold commas,
    quotes and newlines) fed the lines received so far; a record whose lines are
    not all here yet is parsed again once they are."""

    def __init__(self, staging: Staging) -> None:
        self.staging = staging
        self._lines: deque[tuple[int, str]] = deque()
        self._size = 0
        self._header_seen = False
        self._broken = False  # the header was wrong: nothing else can be read

    async def take(self, lines: Iterator[tuple[int, bytes]], *, final: bool) -> None:
        for number, line in lines:
            text = _text(self.staging, number, line)
            if text is not None and not self._broken:
                self._lines.append((number, text))
                self._size += len(text)
            await self._records(final=False)
        await self._records(final=final)

    async def _records(self, *, final: bool) -> None:
        while self._lines and not self._broken and not self.staging.full:
            taken: list[tuple[int, str]] = []
            try:
                cells = next(csv.reader(self._source(taken, final=final), strict=True))
            except _NeedMore:
                self._lines.extendleft(reversed(taken))
                if self._size > MAX_LINE_BYTES:
                    # an unclosed quote swallowing the rest: cannot be resynchronised
                    self._fail(taken[0][0], f"the record is longer than {MAX_LINE_BYTES:,} bytes")
                return
            except StopIteration:
                return
            except csv.Error as error:
                self._size -= sum(len(text) for _, text in taken)
                self.staging.reject(LineError(taken[0][0], f"malformed CSV: {error}"))
                continue
            self._size -= sum(len(text) for _, text in taken)
            await self._record(taken[0][0], cells)

    def _source(self, taken: list[tuple[int, str]], *, final: bool) -> Iterator[str]:
        while self._lines:
            item = self._lines.popleft()
            taken.append(item)
            yield item[1]
        if not final:
            raise _NeedMore

    async def _record(self, number: int, cells: list[str]) -> None:
        if not cells:  # a blank line
            return
        if not self._header_seen:
            self._header_seen = True
            if tuple(cell.strip().lstrip("\ufeff") for cell in cells) != CSV_HEADER:
                self._fail(number, f"the header must be {','.join(CSV_HEADER)}")
            return
        try:
            row = csv_record_row(number, cells)
        except BadEvent as error:
            self.staging.reject(LineError(number, error.message, error.field))
            return
        await self.staging.add(row)

    def _fail(self, number: int, message: str) -> None:
        self.staging.reject(LineError(number, message))
        self._broken = True
        self._lines.clear()


async def read_upload(
    staging: Staging,
    chunks: AsyncIterable[bytes],
    form: Format,
    *,
    gzip: bool = False,
    limit: int | None = None,
) -> None:
    """Read an upload into `staging` (rows staged, bad lines rejected), stopping
    early once MAX_ERRORS lines are bad. Raises TooLarge past `limit` bytes of
    the decompressed stream, BadStream for an unreadable gzip stream."""
    lines = _Lines(staging)
    reader = _Ndjson(staging) if form is Format.NDJSON else _Csv(staging)
    gunzip = _Gunzip() if gzip else None
    total = 0
    async for chunk in _decompressed(chunks, gunzip):
        total += len(chunk)
        if limit is not None and total > limit:
            raise TooLarge(limit)
        await reader.take(lines.feed(chunk), final=False)
        if staging.full:
            return
    if gunzip is not None:
        gunzip.finish()
    await reader.take(lines.finish(), final=True)


async def _decompressed(
    chunks: AsyncIterable[bytes], gunzip: _Gunzip | None
) -> AsyncIterator[bytes]:
    async for chunk in chunks:
        if gunzip is None:
            yield chunk
        else:
            for piece in gunzip.feed(chunk):
                yield piece
