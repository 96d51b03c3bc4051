"""Configuration: environment variables read once at start into a frozen value.

A bad value stops the start with a message naming the variable, what it got
and what it takes (the CLI turns it into exit status 2).
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any

from db.secret_box import KEY_VARIABLE, parse_key
from gateway.persisted import load_manifest

_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off"}


class SettingsError(ValueError):
    """A configuration value that cannot be used."""


@dataclass(frozen=True, slots=True)
class Settings:
    """Everything the process is configured with."""

    database_url: str | None = None
    # "transaction": DATABASE_URL is a pooler in transaction mode (PgBouncer),
    # where a connection is one server session only for a transaction's length
    database_pool_mode: str = "session"
    # a direct connection for what needs a session of its own (migrations, the
    # token listener, bulk ingestion's staging table); default DATABASE_URL
    database_direct_url: str | None = None
    # streaming replicas that take the reads (DATABASE_REPLICA_URLS, comma-separated)
    database_replica_urls: tuple[str, ...] = ()
    # a replica further behind than this is not read from
    replica_max_lag_ms: int = 1000
    data_dir: Path = Path(".envgraph")
    host: str = "127.0.0.1"
    port: int = 8000
    default_page_size: int = 20
    max_page_size: int = 100
    max_query_depth: int = 12
    max_query_aliases: int = 30
    max_query_tokens: int = 10_000
    max_query_nodes: int = 50_000
    max_selection_fields: int = 100
    max_query_fields: int = 1_000
    max_input_depth: int = 32
    pool_size: int = 10
    connections_per_request: int = 2
    pool_timeout_ms: int = 2000
    statement_timeout_ms: int = 5000
    graphiql: bool = True
    introspection: bool = True
    log_format: str = "text"
    log_level: str = "info"
    workers: int = 1
    shutdown_timeout_s: int = 30
    auth_cache_s: int = 5
    compiled_reads: bool = True
    # None: events are kept for ever
    event_retention_days: int | None = None
    # the largest bulk upload of events, counted after decompression
    ingest_max_bytes: int = 2 * 1024**3
    # export jobs run at once by each serving process (0: none, others run them)
    export_concurrency: int = 2
    # where export files are written (None: `exports` under the data dir)
    export_dir: Path | None = None
    # how long a running export stays its process's without a renewal: a
    # process that died is noticed after this long, and the job runs again
    export_lease_s: int = 30
    # trusted documents mode: the manifest of the only documents that run (None:
    # any document runs; gateway/persisted.py)
    trusted_documents: Path | None = None

    # the key secrets are encrypted with (32 bytes; None: secrets are refused);
    # never in a repr, so never in a log line or a traceback's locals
    secrets_key: bytes | None = field(default=None, repr=False)

    @property
    def exports_path(self) -> Path:
        """The folder of export files."""
        return self.export_dir if self.export_dir is not None else self.data_dir / "exports"

    @property
    def transaction_pooling(self) -> bool:
        """DATABASE_URL is a pooler in transaction mode."""
        return self.database_pool_mode == "transaction"

    @property
    def session_url(self) -> str | None:
        """Where work that needs a session of its own connects."""
        return self.database_direct_url or self.database_url


def _integer(low: int, high: int) -> Callable[[str], int]:
    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise ValueError(f"takes a whole number from {low} to {high}") from None
        if not low <= value <= high:
            raise ValueError(f"takes a whole number from {low} to {high}")
        return value

    return parse


def _boolean(text: str) -> bool:
    lowered = text.strip().lower()
    if lowered in _TRUE:
        return True
    if lowered in _FALSE:
        return False
    raise ValueError("takes true or false (also 1/0, yes/no, on/off)")


def _choice(*options: str) -> Callable[[str], str]:
    def parse(text: str) -> str:
        if text not in options:
            raise ValueError(f"takes one of: {', '.join(options)}")
        return text

    return parse


def _database_url(text: str) -> str:
    if not text.startswith(("postgres://", "postgresql://")):
        raise ValueError("takes a URL starting with postgresql://")
    return text


def _database_urls(text: str) -> tuple[str, ...]:
    return tuple(_database_url(part.strip()) for part in text.split(",") if part.strip())


def _manifest(text: str) -> Path:
    """A trusted documents manifest that can be used (read here so that a bad one
    stops the start; the app reads it again as it is made)."""
    path = Path(_non_empty(text))
    load_manifest(path)
    return path


def _non_empty(text: str) -> str:
    if not text.strip():
        raise ValueError("must not be empty")
    return text


# field name -> (environment variable, parser)
_SOURCES: dict[str, tuple[str, Callable[[str], Any]]] = {
    "database_url": ("DATABASE_URL", _database_url),
    "database_pool_mode": ("DATABASE_POOL_MODE", _choice("session", "transaction")),
    "database_direct_url": ("DATABASE_DIRECT_URL", _database_url),
    "database_replica_urls": ("DATABASE_REPLICA_URLS", _database_urls),
    "replica_max_lag_ms": ("GATEWAY_REPLICA_MAX_LAG_MS", _integer(0, 86_400_000)),
    "data_dir": ("GATEWAY_DATA_DIR", lambda text: Path(_non_empty(text))),
    "host": ("GATEWAY_HOST", _non_empty),
    "port": ("GATEWAY_PORT", _integer(0, 65535)),
    "default_page_size": ("GATEWAY_DEFAULT_PAGE_SIZE", _integer(1, 10_000)),
    "max_page_size": ("GATEWAY_MAX_PAGE_SIZE", _integer(1, 10_000)),
    "max_query_depth": ("GATEWAY_MAX_QUERY_DEPTH", _integer(1, 1_000)),
    "max_query_aliases": ("GATEWAY_MAX_QUERY_ALIASES", _integer(0, 100_000)),
    "max_query_tokens": ("GATEWAY_MAX_QUERY_TOKENS", _integer(10, 10_000_000)),
    "max_query_nodes": ("GATEWAY_MAX_QUERY_NODES", _integer(1, 100_000_000)),
    "max_selection_fields": ("GATEWAY_MAX_SELECTION_FIELDS", _integer(1, 100_000)),
    "max_query_fields": ("GATEWAY_MAX_QUERY_FIELDS", _integer(1, 1_000_000)),
    "max_input_depth": ("GATEWAY_MAX_INPUT_DEPTH", _integer(1, 200)),
    "pool_size": ("GATEWAY_POOL_SIZE", _integer(1, 1_000)),
    "connections_per_request": ("GATEWAY_CONNECTIONS_PER_REQUEST", _integer(1, 1_000)),
    "pool_timeout_ms": ("GATEWAY_POOL_TIMEOUT_MS", _integer(1, 600_000)),
    "statement_timeout_ms": ("GATEWAY_STATEMENT_TIMEOUT_MS", _integer(1, 3_600_000)),
    "graphiql": ("GATEWAY_GRAPHIQL", _boolean),
    "introspection": ("GATEWAY_INTROSPECTION", _boolean),
    "log_format": ("GATEWAY_LOG_FORMAT", _choice("text", "json")),
    "log_level": ("GATEWAY_LOG_LEVEL", _choice("debug", "info", "warning", "error")),
    "workers": ("GATEWAY_WORKERS", _integer(1, 256)),
    "shutdown_timeout_s": ("GATEWAY_SHUTDOWN_TIMEOUT_S", _integer(1, 3_600)),
    "auth_cache_s": ("GATEWAY_AUTH_CACHE_S", _integer(0, 3_600)),
    "compiled_reads": ("GATEWAY_COMPILED_READS", _boolean),
    "event_retention_days": ("GATEWAY_EVENT_RETENTION_DAYS", _integer(1, 36_500)),
    "ingest_max_bytes": ("GATEWAY_INGEST_MAX_BYTES", _integer(1, 2**62)),
    "export_concurrency": ("GATEWAY_EXPORT_CONCURRENCY", _integer(0, 64)),
    "export_dir": ("GATEWAY_EXPORT_DIR", lambda text: Path(_non_empty(text))),
    "export_lease_s": ("GATEWAY_EXPORT_LEASE_S", _integer(2, 3_600)),
    "trusted_documents": ("GATEWAY_TRUSTED_DOCUMENTS", _manifest),
    "secrets_key": (KEY_VARIABLE, parse_key),
}
# variables whose value an error message must not repeat
_SENSITIVE = frozenset({KEY_VARIABLE})
assert set(_SOURCES) == {f.name for f in fields(Settings)}, "every setting has a variable"


def load_settings(environ: Mapping[str, str] | None = None) -> Settings:
    """Read the settings from the environment (unset or empty: the default)."""
    environ = os.environ if environ is None else environ
    values: dict[str, Any] = {}
    for name, (variable, parse) in _SOURCES.items():
        text = environ.get(variable, "")
        if text == "":
            continue
        try:
            values[name] = parse(text)
        except ValueError as error:
            shown = variable if variable in _SENSITIVE else f"{variable}={text!r}"
            raise SettingsError(f"{shown}: {error}") from None
    settings = Settings(**values)
    if settings.default_page_size > settings.max_page_size:
        raise SettingsError(
            f"GATEWAY_DEFAULT_PAGE_SIZE ({settings.default_page_size}) is larger than "
            f"GATEWAY_MAX_PAGE_SIZE ({settings.max_page_size})"
        )
    if settings.database_pool_mode == "transaction" and settings.database_direct_url is None:
        raise SettingsError(
            "DATABASE_POOL_MODE=transaction needs DATABASE_DIRECT_URL: migrations, the "
            "token listener and bulk ingestion need a session of their own, which a "
            "pooler in transaction mode does not keep"
        )
    return settings
