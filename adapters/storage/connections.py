"""Read connections for the view adapters: per-thread SQLite, pooled Postgres."""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any, Protocol


class ReadConnections(Protocol):
    """Something that lends a DB-API cursor for reads."""

    dialect: str

    def cursor(self) -> Any:
        """A context manager yielding a cursor whose rows are tuples."""
        ...

    def close(self) -> None:
        """Release every connection."""
        ...


class SQLiteReadConnections:
    """One read connection per thread; WAL lets readers run beside the writer."""

    dialect = "sqlite"

    def __init__(self, path: str, attach: dict[str, str] | None = None) -> None:
        self.path = path
        self.attach = dict(attach or {})
        """Other files to attach as `{schema: path}`: their tables answer to unqualified
        names too (the block index's file, ADR 0014)."""
        self._local = threading.local()
        self._all: list[sqlite3.Connection] = []
        self._lock = threading.Lock()

    def _connection(self) -> sqlite3.Connection:
        conn: sqlite3.Connection | None = getattr(self._local, "conn", None)
        if conn is None:
            conn = sqlite3.connect(self.path, check_same_thread=False, isolation_level=None)
            for name, path in self.attach.items():
                conn.execute(f"ATTACH DATABASE ? AS {name}", (path,))
            conn.execute("PRAGMA query_only=1")
            self._local.conn = conn
            with self._lock:
                self._all.append(conn)
        return conn

    @contextmanager
    def cursor(self) -> Iterator[sqlite3.Cursor]:
        """A cursor on this thread's connection (autocommit: each read sees the latest)."""
        cur = self._connection().cursor()
        try:
            yield cur
        finally:
            cur.close()

    def close(self) -> None:
        """Close every thread's connection."""
        with self._lock:
            for conn in self._all:
                conn.close()
            self._all.clear()


class PostgresReadConnections:
    """A small psycopg pool for reads, with `search_path` set to the store's schema."""

    dialect = "postgresql"

    def __init__(self, conninfo: str, schema: str, max_size: int = 8) -> None:
        from psycopg_pool import ConnectionPool

        self._pool = ConnectionPool(
            conninfo,
            min_size=1,
            max_size=max_size,
            kwargs={"autocommit": True, "options": f"-c search_path={schema}"},
            open=True,
        )

    @contextmanager
    def cursor(self) -> Iterator[Any]:
        """A cursor on a pooled connection, with results in binary.

        Most of what the views return is bytes (blocks, CIDs, frames); in text form the
        server hex-encodes them and the client decodes twice the size.
        """
        with self._pool.connection() as conn, conn.cursor(binary=True) as cur:
            yield cur

    def close(self) -> None:
        """Close the pool."""
        self._pool.close()
