"""Digests of the view tables, and a scratch SQLite store to rebuild them into."""

from __future__ import annotations

import hashlib
import sqlite3
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import cbor2

from adapters.storage import schema
from adapters.storage.connections import ReadConnections, SQLiteReadConnections
from adapters.storage.ddl import view_ddl
from adapters.storage.view_writer import ViewWriter
from application.views import ViewChanges


def _normal(value: Any) -> Any:
    return bytes(value) if isinstance(value, memoryview | bytearray) else value


class SqlViewDigests:
    """sha256 over every view's rows in primary-key order, comparable across dialects."""

    def __init__(self, reads: ReadConnections) -> None:
        self.reads = reads

    def min_seq(self) -> int:
        """The lowest retained seq in the seq view."""
        with self.reads.cursor() as cur:
            cur.execute("SELECT MIN(seq) FROM seq_events")
            row = cur.fetchone()
        return int(row[0]) if row and row[0] is not None else 0

    def digests(self, min_seq: int = 0) -> dict[str, str]:
        """{table: hex sha256} for every view table."""
        out: dict[str, str] = {}
        mark = "?" if self.reads.dialect == "sqlite" else "%s"
        for table in schema.VIEW_TABLES:
            columns = [c.name for c in table.columns]
            keys = [c.name for c in table.primary_key.columns]
            sql = f"SELECT {', '.join(columns)} FROM {table.name}"
            params: tuple[Any, ...] = ()
            if table is schema.seq_events:
                sql += f" WHERE seq >= {mark}"
                params = (min_seq,)
            sql += f" ORDER BY {', '.join(keys)}"
            digest = hashlib.sha256()
            count = 0
            with self.reads.cursor() as cur:
                cur.execute(sql, params)
                while rows := cur.fetchmany(1000):
                    for row in rows:
                        digest.update(cbor2.dumps([_normal(v) for v in row]))
                        count += 1
            out[table.name] = f"{digest.hexdigest()[:16]} ({count} rows)"
        return out


class ScratchViewStore:
    """A fresh SQLite file holding only view tables, for `quire replay`."""

    def __init__(self, path: Path) -> None:
        if path.exists():
            path.unlink()
        self.path = path
        self._conn = sqlite3.connect(str(path), isolation_level=None)
        self._conn.execute("PRAGMA journal_mode=OFF")
        self._conn.execute("PRAGMA synchronous=OFF")
        for statement in view_ddl("sqlite"):
            self._conn.execute(statement)
        self._writer = ViewWriter("sqlite")
        self.reads = SQLiteReadConnections(str(path))

    def write(self, changes: Sequence[ViewChanges | None], seqs: Sequence[int]) -> None:
        """Write one batch in one transaction."""
        cur = self._conn.cursor()
        cur.execute("BEGIN")
        self._writer.write(cur, changes, seqs)
        cur.execute("COMMIT")

    def digests(self) -> SqlViewDigests:
        """Digests over the rebuilt views."""
        return SqlViewDigests(self.reads)

    def close(self) -> None:
        """Close and remove the scratch file."""
        self.reads.close()
        self._conn.close()
        self.path.unlink(missing_ok=True)
