"""`SeqViewPruner` over SQL: delete seq view rows that left the retention window.

Only `seq_events` is touched, never the event log: the frames can always be rebuilt by
`quire replay`. Deletion runs in batches of short transactions so the writer (SQLite has one
at a time) never waits long behind it, and keeps the newest row whatever its age (see the
port). A connection is opened per run: the job runs every few minutes, so a held connection
would only be one more thing to keep alive.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from typing import Any, Final

BATCH: Final = 5_000

_DELETE: Final = (
    "DELETE FROM seq_events WHERE seq IN ("
    "SELECT seq FROM seq_events WHERE time < ? "
    "AND seq < (SELECT MAX(seq) FROM seq_events) ORDER BY seq LIMIT ?)"
)


class SqlSeqPruner:
    """Prunes the seq view of a SQLite file or a Postgres schema."""

    def __init__(
        self, dialect: str, conninfo: str, schema: str | None = None, batch: int = BATCH
    ) -> None:
        if dialect not in ("sqlite", "postgresql"):
            raise ValueError(f"unsupported dialect {dialect!r}")
        self.dialect = dialect
        self.conninfo = conninfo
        self.schema = schema
        self.batch = batch

    def prune_seq_view(self, before_time: str) -> int:
        """Delete rows with time < `before_time` (but never the newest); return how many."""
        if self.dialect == "sqlite":
            return self._prune(self._sqlite, _DELETE, before_time)
        return self._prune(self._postgres, _DELETE.replace("?", "%s"), before_time)

    def _prune(self, connect: Callable[[], Any], statement: str, before_time: str) -> int:
        deleted = 0
        with connect() as conn:
            while True:
                count: int = conn.execute(statement, (before_time, self.batch)).rowcount
                deleted += max(count, 0)
                if count < self.batch:
                    return deleted

    def _sqlite(self) -> Any:
        conn = sqlite3.connect(self.conninfo, timeout=10, isolation_level=None)
        return _Closing(conn)

    def _postgres(self) -> Any:
        import psycopg

        options = f"-c search_path={self.schema}" if self.schema else ""
        return psycopg.connect(self.conninfo, autocommit=True, options=options)


class _Closing:
    """sqlite3's connection context manager commits but does not close; this one closes."""

    def __init__(self, conn: sqlite3.Connection) -> None:
        self.conn = conn

    def __enter__(self) -> sqlite3.Connection:
        return self.conn

    def __exit__(self, *exc: object) -> None:
        self.conn.close()
