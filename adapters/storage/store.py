"""Opening the event store and its views: SQLite in a data directory, or Postgres by URL."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import unquote, urlparse

from adapters.storage.connections import (
    PostgresReadConnections,
    ReadConnections,
    SQLiteReadConnections,
)
from adapters.storage.log_pages import PostgresLogPages, SqliteLogPages
from adapters.storage.sql_views import SqlViews
from adapters.storage.wal_checkpointer import WalCheckpointer
from application.ports.log_pages import LogPages

_SCHEMA_NAME = re.compile(r"[a-z_][a-z0-9_]{0,62}")


@dataclass
class Store:
    """What the composition root needs to build the applications over one database."""

    env: dict[str, str]
    reads: ReadConnections
    views: SqlViews
    dialect: str
    conninfo: str
    checkpointer: WalCheckpointer | None = None

    def log_pages(self, events_table: str) -> LogPages:
        """A reader of the log by seq range, for replay's worker processes."""
        if self.dialect == "sqlite":
            return SqliteLogPages(self.conninfo, events_table)
        return PostgresLogPages(self.conninfo, self.env["POSTGRES_SCHEMA"], events_table)

    def stop_checkpointer(self) -> None:
        """Stop checkpointing from this process (another process writes and checkpoints)."""
        if self.checkpointer is not None:
            self.checkpointer.close()
            self.checkpointer = None

    def close(self) -> None:
        """Release the read connections and stop the checkpointer (the applications close
        their own connections)."""
        self.stop_checkpointer()
        self.reads.close()


def sqlite_store(data_dir: Path, *, create: bool = True, checkpoint: bool = True) -> Store:
    """The embedded default: `<data_dir>/quire.sqlite`, WAL mode, checkpointed on a thread.

    A process that only reads (the auditors) passes `checkpoint=False`: the writer's process
    checkpoints, and with no other thread running `quire replay` can fork its workers.
    """
    data_dir.mkdir(parents=True, exist_ok=True)
    path = str((data_dir / "quire.sqlite").resolve())
    env = {
        "PERSISTENCE_MODULE": "eventsourcing.sqlite",
        "SQLITE_DBNAME": path,
        "SQLITE_LOCK_TIMEOUT": "10",
        "ORIGINATOR_ID_TYPE": "text",
        "APPLICATION_RECORDER_TOPIC": "adapters.storage.sqlite_recorder:QuireSQLiteRecorder",
        "CREATE_TABLE": "y" if create else "n",
    }
    reads = SQLiteReadConnections(path)
    checkpointer = WalCheckpointer(path) if checkpoint else None
    return Store(env, reads, SqlViews(reads), "sqlite", path, checkpointer)


def postgres_store(url: str, *, schema: str = "public", create: bool = True) -> Store:
    """Postgres at `url` (postgresql://user:pass@host:port/db), tables in `schema`."""
    if not _SCHEMA_NAME.fullmatch(schema):
        raise ValueError(f"invalid schema name {schema!r}")
    parts = urlparse(url)
    if parts.scheme not in ("postgres", "postgresql"):
        raise ValueError("database URL must start with postgresql://")
    env = {
        "PERSISTENCE_MODULE": "eventsourcing.postgres",
        "POSTGRES_DBNAME": unquote(parts.path.lstrip("/")) or "postgres",
        "POSTGRES_HOST": parts.hostname or "127.0.0.1",
        "POSTGRES_PORT": str(parts.port or 5432),
        "POSTGRES_USER": unquote(parts.username or "postgres"),
        "POSTGRES_PASSWORD": unquote(parts.password or ""),
        "POSTGRES_SCHEMA": schema,
        "POSTGRES_LOCK_TIMEOUT": "5",
        "POSTGRES_ENABLE_DB_FUNCTIONS": "n",
        "POSTGRES_POOL_SIZE": "4",
        "ORIGINATOR_ID_TYPE": "text",
        "APPLICATION_RECORDER_TOPIC": "adapters.storage.postgres_recorder:QuirePostgresRecorder",
        "CREATE_TABLE": "y" if create else "n",
    }
    reads = PostgresReadConnections(url, schema)
    return Store(env, reads, SqlViews(reads), "postgresql", url)
