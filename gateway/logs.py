"""Logging: human-readable text, or one JSON object per line for machines.

Each GraphQL request is one record of `envgraph.requests` carrying its
fields (request id, operation, status, duration, statements, error codes,
the executor that answered):
the JSON format gives them as keys, the text format as `key=value`.
"""

from __future__ import annotations

import json
import logging
import sys
from collections.abc import Sequence
from typing import Any

_TEXT_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"
_FIELDS = "fields"

request_logger = logging.getLogger("envgraph.requests")


class JsonFormatter(logging.Formatter):
    """One JSON object per record: time, level, logger, message, the record's
    fields (and the exception)."""

    def format(self, record: logging.LogRecord) -> str:
        """The record as a JSON line."""
        entry: dict[str, Any] = {
            "time": self.formatTime(record, "%Y-%m-%dT%H:%M:%S%z"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
            **getattr(record, _FIELDS, {}),
        }
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        return json.dumps(entry, ensure_ascii=False)


def log_request(
    *,
    request_id: str,
    method: str,
    operation: str | None,
    status: int,
    seconds: float,
    statements: int,
    errors: Sequence[str],
    executor: str | None,
) -> None:
    """One line for one answered GraphQL request."""
    if not request_logger.isEnabledFor(logging.INFO):
        return
    fields = {
        "requestId": request_id,
        "method": method,
        "operation": operation or None,
        "status": status,
        "durationMs": round(seconds * 1000, 2),
        "statements": statements,
        "errors": list(errors),
        "executor": executor,
    }
    text = " ".join(
        f"{key}={_text_value(','.join(value) if isinstance(value, list) else value)}"
        for key, value in fields.items()
        if value not in (None, [])
    )
    request_logger.info("%s", text, extra={_FIELDS: fields})


def _text_value(value: object) -> str:
    """A value for the text format, quoted and escaped when it could pass for
    something else: a client's operation name holding a newline would otherwise
    forge a log line of its own, one holding a space a field."""
    text = str(value)
    if text and all(c.isprintable() and not c.isspace() and c != '"' for c in text):
        return text
    return json.dumps(text)  # ASCII: every control and line-breaking character escaped


def configure_logging(log_format: str, level: str = "info") -> None:
    """Send logs to stderr in the configured format, from `level` up."""
    handler = logging.StreamHandler(sys.stderr)
    formatter = JsonFormatter() if log_format == "json" else logging.Formatter(_TEXT_FORMAT)
    handler.setFormatter(formatter)
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
