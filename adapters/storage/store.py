"""Opening the event store and its views: SQLite in a data directory, or Postgres by URL."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import unquote, urlparse

from adapters.storage.block_index import BlockIndex, release_index
from adapters.storage.block_indexer import BlockIndexer
from adapters.storage.connections import (
    PostgresReadConnections,
    ReadConnections,
    SQLiteReadConnections,
)
from adapters.storage.log_pages import PostgresLogPages, SqliteLogPages
from adapters.storage.postgres_block_index import index_key, postgres_block_index
from adapters.storage.sql_views import SqlViews
from adapters.storage.sqlite_block_index import sqlite_block_index
from adapters.storage.view_digest import SqlViewDigests
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
    block_index: BlockIndex | None = None
    indexer: BlockIndexer | None = None

    def log_pages(self, events_table: str) -> LogPages:
        """A reader of the log by seq range, for replay's worker processes."""
        if self.dialect == "sqlite":
            return SqliteLogPages(self.conninfo, events_table)
        return PostgresLogPages(self.conninfo, self.env["POSTGRES_SCHEMA"], events_table)

    def stop_checkpointer(self) -> None:
        """Stop this process's background threads, the WAL checkpointer and the block
        indexer (which indexes what is left first): another process writes, or this one
        is about to fork."""
        if self.checkpointer is not None:
            self.checkpointer.close()
            self.checkpointer = None
        if self.indexer is not None:
            self.indexer.close()
            self.indexer = None

    def live_digests(self) -> SqlViewDigests:
        """Digests of the live views, with the block index caught up with the log first."""
        if self.block_index is not None:
            self.block_index.catch_up()
        return SqlViewDigests(self.reads)

    def close(self) -> None:
        """Release the read connections and stop the background threads (the applications
        close their own connections)."""
        self.stop_checkpointer()
        self.reads.close()
        if self.block_index is not None:
            release_index(self.block_index)


def sqlite_store(data_dir: Path, *, create: bool = True, checkpoint: bool = True) -> Store:
    """The embedded default: `<data_dir>/quire.sqlite`, WAL mode, checkpointed on a thread.

    A process that only reads (the auditors) passes `checkpoint=False`: the writer's process
    checkpoints and indexes blocks, and with no other thread running `quire replay` can fork
    its workers. The block index is `<data_dir>/quire-blocks.sqlite` (ADR 0014).
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
    index = sqlite_block_index(path)
    reads = SQLiteReadConnections(path, attach={"blocks": index.path})
    checkpointer = indexer = None
    if checkpoint:
        index.catch_up()  # what a crash left behind the mark, before anything reads
        checkpointer, indexer = WalCheckpointer(path), BlockIndexer(index)
    views = SqlViews(reads, index)
    return Store(env, reads, views, "sqlite", path, checkpointer, index, indexer)


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
    key = index_key(env["POSTGRES_HOST"], env["POSTGRES_PORT"], env["POSTGRES_DBNAME"], schema)
    index = postgres_block_index(key, url, schema)
    indexer = None
    if create:
        index.catch_up()  # what a crash left behind the mark (nothing before the schema exists)
        indexer = BlockIndexer(index)
    return Store(env, reads, SqlViews(reads, index), "postgresql", url, None, index, indexer)
