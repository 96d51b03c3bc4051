"""One event as sent (an `EventInput`), checked in Python into the row ingestion
stages; what is wrong with it, as a (line, field, message) error.

Every entry point checks here, line by line, before anything is written: the
`ingestEvents` mutation (values Strawberry has already typed), NDJSON lines
(JSON objects) and CSV records (text cells). A database error would only say
that *some* row was bad; this says which line and why.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from uuid import UUID, uuid4

MAX_TEXT = 200
# the keys of an EventInput as JSON sends them (GraphQL's names), and the CSV header
JSON_KEYS = ("uuid", "timestamp", "event", "distinctId", "personId", "properties")
CSV_HEADER = ("uuid", "timestamp", "event", "distinct_id", "person_id", "properties")
_REQUIRED = ("timestamp", "event", "distinctId")

# A staged row: line, id, timestamp, event, distinct_id, person_id, properties
# (JSON text), in the staging table's column order (db/ingest.py).
Row = tuple[int, UUID, datetime, str, str, UUID | None, str]


@dataclass(frozen=True, slots=True)
class LineError:
    """Why line `line` (1-based; 0: not a line's fault) cannot be ingested;
    `field` is the EventInput field at fault, when one is."""

    line: int
    message: str
    field: str | None = None


class BadEvent(ValueError):
    """One event's fault, naming its field."""

    def __init__(self, message: str, field: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.field = field


def _text(value: object, field: str) -> str:
    if not isinstance(value, str):
        raise BadEvent(f"{field} must be a string", field)
    if not 1 <= len(value) <= MAX_TEXT:
        raise BadEvent(f"{field} must have 1 to {MAX_TEXT} characters", field)
    if "\x00" in value:
        raise BadEvent(f"{field} cannot hold the NUL character", field)
    _encodable(value, field)
    return value


def _encodable(text: str, field: str) -> None:
    # a lone surrogate (JSON's "\ud800") decodes in Python but is no UTF-8 text
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        raise BadEvent(f"{field} holds a lone surrogate, which is not text", field) from None


def _uuid(value: object, field: str) -> UUID:
    if isinstance(value, UUID):
        return value
    if not isinstance(value, str):
        raise BadEvent(f"{field} must be a UUID string", field)
    try:
        return UUID(value)
    except ValueError:
        raise BadEvent(f"{field} is not a UUID: {value[:60]!r}", field) from None


def _timestamp(value: object) -> datetime:
    if isinstance(value, str):
        text = value
        try:
            value = datetime.fromisoformat(text)
        except ValueError:
            raise BadEvent(
                f"timestamp is not an ISO 8601 date and time: {text[:60]!r}", "timestamp"
            ) from None
    if not isinstance(value, datetime):
        raise BadEvent("timestamp must be an ISO 8601 string", "timestamp")
    if value.tzinfo is None or value.utcoffset() is None:
        # a time without a zone would be read in the server's zone: ambiguous
        raise BadEvent("timestamp must have a time zone (e.g. Z or +02:00)", "timestamp")
    return value


def properties_text(value: object, *, checked_nul: bool = False) -> str:
    """An event's properties as the JSON text staged: an object (None: `{}`);
    no NUL anywhere (jsonb refuses `\\u0000`), no NaN or infinity."""
    if value is None:
        return "{}"
    if not isinstance(value, dict):
        raise BadEvent("properties must be a JSON object", "properties")
    try:
        text = json.dumps(value, ensure_ascii=False, allow_nan=False, separators=(",", ":"))
    except ValueError:
        raise BadEvent("properties cannot hold NaN or infinity", "properties") from None
    # NUL only shows as the escape "\u0000" (dumps escapes control characters)
    if not checked_nul and "\\u0000" in text and holds_nul(value):
        raise BadEvent("properties cannot hold the NUL character", "properties")
    _encodable(text, "properties")
    return text


def holds_nul(value: Any) -> bool:
    """Whether a JSON value holds NUL in a string or a key (jsonb refuses it)."""
    if isinstance(value, str):
        return "\x00" in value
    if isinstance(value, dict):
        return any("\x00" in k or holds_nul(v) for k, v in value.items())
    if isinstance(value, list):
        return any(holds_nul(v) for v in value)
    return False


def event_row(line: int, fields: Mapping[str, Any], *, checked_nul: bool = False) -> Row:
    """The staged row of one event given by its EventInput fields (absent or None
    where not sent). `checked_nul`: the caller knows no string holds a NUL."""
    unknown = [key for key in fields if key not in JSON_KEYS]
    if unknown:
        raise BadEvent(f"unknown field {unknown[0][:60]!r}", unknown[0][:60])
    for key in _REQUIRED:
        if fields.get(key) is None:
            raise BadEvent(f"{key} is required", key)
    given_uuid = fields.get("uuid")
    person = fields.get("personId")
    return (
        line,
        uuid4() if given_uuid is None else _uuid(given_uuid, "uuid"),
        _timestamp(fields["timestamp"]),
        _text(fields["event"], "event"),
        _text(fields["distinctId"], "distinctId"),
        None if person is None else _uuid(person, "personId"),
        properties_text(fields.get("properties"), checked_nul=checked_nul),
    )


def _reject_constant(name: str) -> float:
    raise BadEvent(f"{name} is not a JSON number")


def _finite(text: str) -> float:
    number = float(text)
    if not math.isfinite(number):
        raise BadEvent(f"the number {text[:40]} is too large")
    return number


def _loads(text: str, what: str, field: str | None) -> object:
    try:
        return json.loads(text, parse_constant=_reject_constant, parse_float=_finite)
    except BadEvent:
        raise
    except json.JSONDecodeError as error:
        # (some of json's messages end in "at": the column follows in brackets)
        message = f"{what} not valid JSON: {error.msg} (column {error.colno})"
        raise BadEvent(message, field) from None
    except RecursionError:
        raise BadEvent(f"{what} nested too deeply", field) from None
    except ValueError:  # an integer of thousands of digits
        raise BadEvent(f"{what} holds a number too long to read", field) from None


def json_line_row(line: int, text: str) -> Row:
    """The row of one NDJSON line (an EventInput object)."""
    value = _loads(text, "the line is", None)
    if not isinstance(value, dict):
        raise BadEvent("each line must be a JSON object (an EventInput)")
    # NUL can only be in the text as the escape "\u0000": without it, none to look for
    return event_row(line, value, checked_nul="\\u0000" not in text)


def csv_record_row(line: int, cells: list[str]) -> Row:
    """The row of one CSV record (the header's columns; empty cells are absent)."""
    if len(cells) != len(CSV_HEADER):
        raise BadEvent(f"a record has {len(CSV_HEADER)} fields, this one {len(cells)}")
    uuid, timestamp, event, distinct_id, person_id, properties = cells
    parsed = _loads(properties, "properties is", "properties") if properties else None
    return event_row(
        line,
        {
            "uuid": uuid or None,
            "timestamp": timestamp or None,
            "event": event or None,
            "distinctId": distinct_id or None,
            "personId": person_id or None,
            "properties": parsed,
        },
    )
