"""Readers of the event log by seq range, one connection per process (`LogPages`).

They read eventsourcing's events table directly: `quire replay`'s workers each open their
own, so the replaying process hands out ranges rather than reading and pickling every event
(ADR 0010). A connection is never used across a fork: it is keyed by the process id.
"""

from __future__ import annotations

import os
import sqlite3
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

from adapters.storage.sql_names import quoted
from application.ports.log_pages import StoredRow

_connections: dict[tuple[int, str], Any] = {}


@dataclass(frozen=True, slots=True)
class SqliteLogPages:
    """Ranges of the events table of the SQLite file at `path` (read-only connection)."""

    path: str
    table: str

    def __call__(self, after: int, upto: int) -> list[StoredRow]:
        key = (os.getpid(), self.path)
        conn = _connections.get(key)
        if conn is None:
            conn = sqlite3.connect(f"file:{quote(self.path)}?mode=ro", uri=True)
            _connections[key] = conn
        rows: list[StoredRow] = conn.execute(
            "SELECT rowid, originator_id, originator_version, topic, state "
            f"FROM {quoted(self.table)} WHERE rowid > ? AND rowid <= ? ORDER BY rowid",
            (after, upto),
        ).fetchall()
        return rows


@dataclass(frozen=True, slots=True)
class PostgresLogPages:
    """Ranges of the events table in `schema` of the Postgres database at `url` (binary)."""

    url: str
    schema: str
    table: str

    def __call__(self, after: int, upto: int) -> list[StoredRow]:
        import psycopg

        key = (os.getpid(), f"{self.url}#{self.schema}")
        conn = _connections.get(key)
        if conn is None:
            conn = psycopg.connect(self.url, autocommit=True)
            _connections[key] = conn
        table = f"{quoted(self.schema)}.{quoted(self.table)}"
        with conn.cursor(binary=True) as cur:
            cur.execute(
                "SELECT notification_id, originator_id, originator_version, topic, state "
                f"FROM {table} WHERE notification_id > %s AND notification_id <= %s "
                "ORDER BY notification_id",
                (after, upto),
            )
            return [(seq, o, v, t, bytes(s)) for seq, o, v, t, s in cur.fetchall()]
