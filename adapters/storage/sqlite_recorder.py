"""eventsourcing's SQLite application recorder, extended to write the views atomically."""

from __future__ import annotations

import os
import sqlite3
import threading
from collections.abc import Sequence
from typing import Any

from eventsourcing import persistence
from eventsourcing.persistence import StoredEvent
from eventsourcing.sqlite import (
    SQLiteApplicationRecorder,
    SQLiteConnection,
    SQLiteCursor,
    SQLiteDatastore,
)

from adapters.storage.ddl import view_ddl
from adapters.storage.sqlite_block_index import SqliteBlockIndex, sqlite_block_index
from adapters.storage.view_writer import ViewWriter
from application.ports.log_position import check_follows

_SYNCHRONOUS = frozenset({"OFF", "NORMAL", "FULL", "EXTRA"})
SAFETY_NET_CHECKPOINT_PAGES = 32768
"""Pages of log after which a commit checkpoints itself (the checkpointer thread normally
has long since done it)."""


def _set_synchronous(datastore: SQLiteDatastore, level: str) -> None:
    """Apply `PRAGMA synchronous` to every connection the pool opens from now on.

    In WAL mode NORMAL syncs at checkpoints, not at every commit: a committed transaction
    survives a crash of the process (the case `tests/integration/test_crash_safety.py`
    checks) but the last ones may be lost on power failure. FULL trades ~0.4 ms per commit
    for that guarantee; see ADR 0005.
    """
    level = level.upper()
    if level not in _SYNCHRONOUS:
        raise ValueError(f"QUIRE_SQLITE_SYNCHRONOUS must be one of {sorted(_SYNCHRONOUS)}")
    pool = datastore.pool
    create = pool._create_connection

    def create_with_pragma() -> SQLiteConnection:
        connection = create()
        sqlite_conn = connection._sqlite_conn
        sqlite_conn.execute(f"PRAGMA synchronous={level}")
        # A bigger page cache keeps the hot index pages of every view in memory. Checkpoints
        # are the store's `WalCheckpointer`'s job, off the commit path; a commit checkpoints
        # only as a safety net, past 128 MiB of log.
        sqlite_conn.execute("PRAGMA cache_size=-65536")
        sqlite_conn.execute(f"PRAGMA wal_autocheckpoint={SAFETY_NET_CHECKPOINT_PAGES}")
        return connection

    pool._create_connection = create_with_pragma  # type: ignore[method-assign]


_ERRORS: tuple[tuple[type[sqlite3.Error], type[persistence.PersistenceError]], ...] = (
    (sqlite3.InterfaceError, persistence.InterfaceError),
    (sqlite3.DataError, persistence.DataError),
    (sqlite3.OperationalError, persistence.OperationalError),
    (sqlite3.IntegrityError, persistence.IntegrityError),
    (sqlite3.InternalError, persistence.InternalError),
    (sqlite3.ProgrammingError, persistence.ProgrammingError),
    (sqlite3.NotSupportedError, persistence.NotSupportedError),
    (sqlite3.DatabaseError, persistence.DatabaseError),
    (sqlite3.Error, persistence.PersistenceError),
)
"""sqlite3's errors as eventsourcing raises them (a version conflict is its IntegrityError)."""


def _persistence_error(exc: sqlite3.Error) -> persistence.PersistenceError:
    for raw, mapped in _ERRORS:
        if isinstance(exc, raw):
            return mapped(exc)
    return persistence.PersistenceError(exc)


class QuireSQLiteRecorder(SQLiteApplicationRecorder):
    """Inserts events, then their view changes, in the same SQLite transaction.

    Honours `follows=<seq>` (see `application/ports/log_position.py`): rowids are max + 1, so
    the first new id says for free whether anyone else appended since.
    """

    checks_position = True

    def __init__(self, datastore: SQLiteDatastore, events_table_name: str = "stored_events"):
        super().__init__(datastore, events_table_name)
        # A database file keeps its block index behind the log, in a file of its own
        # (ADR 0014); an in-memory database has no file to put it in and writes it inline.
        self.block_index: SqliteBlockIndex | None = None
        pending = None
        if not datastore.pool.is_sqlite_memory_mode:
            self.block_index = sqlite_block_index(datastore.pool.db_name, events_table_name)
            self.block_index.events_table = events_table_name
            pending = self.block_index.pending
        self.views = ViewWriter("sqlite", pending=pending)
        _set_synchronous(datastore, os.environ.get("QUIRE_SQLITE_SYNCHRONOUS", "NORMAL"))
        self._writer: sqlite3.Connection | None = None
        self._writer_lock = threading.Lock()
        close = datastore.close

        def close_writer_too() -> None:
            with self._writer_lock:
                if self._writer is not None:
                    self._writer.close()
                    self._writer = None
            close()

        datastore.close = close_writer_too  # type: ignore[method-assign]

    def insert_events(
        self, stored_events: Sequence[StoredEvent], **kwargs: Any
    ) -> Sequence[int] | None:
        """One transaction on a connection kept for writing, outside the pool.

        The pool's way in (a semaphore, a writer lock, a condition, three context managers
        and a cursor wrapper) cost 30-100 µs of a 550-700 µs save in alternating runs.
        Errors are eventsourcing's, as the pool's transaction raises them: a version
        conflict is its `IntegrityError`. An in-memory database keeps the pool's path, where
        every connection must be the same one.
        """
        if self.datastore.pool.is_sqlite_memory_mode:
            return super().insert_events(stored_events, **kwargs)
        with self._writer_lock:
            if self._writer is None:
                self._writer = self.datastore.pool._create_connection()._sqlite_conn
            conn = self._writer
            try:
                cursor = conn.cursor()
                cursor.execute("BEGIN")
                try:
                    ids = self._insert_events(cursor, stored_events, **kwargs)  # type: ignore[arg-type]
                    cursor.execute("COMMIT")
                    self.views.kept()
                except BaseException:
                    if conn.in_transaction:
                        conn.rollback()
                    self.views.take_back()
                    raise
            except sqlite3.Error as exc:
                raise _persistence_error(exc) from exc
        if self.block_index is not None:
            self.block_index.bound_memory()
        return ids

    def construct_create_table_statements(self) -> list[str]:
        """The events table plus every view table (the block index has its own file)."""
        inline = self.datastore.pool.is_sqlite_memory_mode
        return [*super().construct_create_table_statements(), *view_ddl("sqlite", blocks=inline)]

    def _insert_events(
        self, c: SQLiteCursor, stored_events: Sequence[StoredEvent], **kwargs: Any
    ) -> Sequence[int] | None:
        ids = super()._insert_events(c, stored_events)
        if ids:
            check_follows(kwargs.get("follows"), ids)
        changes = kwargs.get("views")
        if changes and ids:
            self.views.write(c, changes, ids)
        return ids
