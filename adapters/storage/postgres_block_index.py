"""Postgres's block index (ADR 0014): `repo_blocks` and `block_index_mark` in the store's schema.

A pass holds the mark's row (`FOR UPDATE`) for its transaction, so passes of several `quire`
processes sharing one database take turns; inserts keep blocks already indexed. Its own
connections, separate from the recorder's: a pass never waits on, nor holds up, a commit's
table lock. See `block_index.py` for what passes and readers do.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import psycopg

from adapters.storage.block_index import (
    BlockIndex,
    PassTransaction,
    events_after_sql,
    shared_index,
)
from adapters.storage.sql_names import quoted

MARK_TABLE = "block_index_mark"


def mark_ddl(db_schema: str, events_table: str) -> list[str]:
    """The mark's table, and its row: at the log's end for a schema whose blocks were written
    with their commits (before ADR 0014), at 0 for a new one."""
    mark = f"{quoted(db_schema)}.{MARK_TABLE}"
    events = f"{quoted(db_schema)}.{quoted(events_table)}"
    return [
        f"CREATE TABLE IF NOT EXISTS {mark} "
        "(id integer PRIMARY KEY CHECK (id = 0), upto bigint NOT NULL)",
        f"INSERT INTO {mark} (id, upto) SELECT 0, COALESCE(MAX(notification_id), 0) "
        f"FROM {events} ON CONFLICT (id) DO NOTHING",
    ]


class _PostgresPass(PassTransaction):
    def __init__(self, cur: Any, schema: str) -> None:
        self.cur = cur
        self.mark_table = f"{quoted(schema)}.{MARK_TABLE}"
        self.insert_sql = (
            f"INSERT INTO {quoted(schema)}.repo_blocks (cid, data) "
            "SELECT * FROM unnest(%b::bytea[], %b::bytea[]) ON CONFLICT DO NOTHING"
        )
        cur.execute(f"SELECT upto FROM {self.mark_table} FOR UPDATE")
        self.mark = int(cur.fetchone()[0])

    def insert(self, blocks: dict[bytes, bytes]) -> None:
        if blocks:
            cids = sorted(blocks)
            self.cur.execute(self.insert_sql, (cids, [blocks[cid] for cid in cids]))

    def set_mark(self, upto: int) -> None:
        self.cur.execute(f"UPDATE {self.mark_table} SET upto = %s", (upto,))


class PostgresBlockIndex(BlockIndex):
    """The CID index of the blocks in the log of one Postgres schema."""

    def __init__(self, conninfo: str, db_schema: str, events_table: str = "stored_events") -> None:
        super().__init__(events_table)
        self.conninfo = conninfo
        self.schema = db_schema
        self._ready = False
        self._log_lock = threading.Lock()
        self._log_conn: psycopg.Connection[Any] | None = None
        self._pass_conn: psycopg.Connection[Any] | None = None

    @property
    def _events(self) -> str:
        return f"{quoted(self.schema)}.{quoted(self.events_table)}"

    def _connect(self) -> psycopg.Connection[Any]:
        return psycopg.connect(self.conninfo, autocommit=True)

    def _log_query(self, sql: str, params: tuple[Any, ...]) -> list[Any]:
        with self._log_lock:
            if self._log_conn is None or self._log_conn.closed:
                self._log_conn = self._connect()
            with self._log_conn.cursor(binary=True) as cur:
                cur.execute(sql, params)
                return cur.fetchall()

    @contextmanager
    def _pass(self) -> Iterator[PassTransaction]:
        if self._pass_conn is None or self._pass_conn.closed:
            self._pass_conn = self._connect()
        with self._pass_conn.transaction(), self._pass_conn.cursor() as cur:
            yield _PostgresPass(cur, self.schema)

    def _log_exists(self) -> bool:
        if not self._ready:
            rows = self._log_query(
                "SELECT to_regclass(%s) IS NOT NULL AND to_regclass(%s) IS NOT NULL",
                (self._events, f"{quoted(self.schema)}.{MARK_TABLE}"),
            )
            self._ready = bool(rows[0][0])
        return self._ready

    def _events_after(
        self, after: int, limit: int | None, commits_only: bool
    ) -> list[tuple[int, str]]:
        sql = events_after_sql(self._events, "notification_id", "%s", limit, commits_only)
        return [(int(seq), topic) for seq, topic in self._log_query(sql, (after,))]

    def _states(self, seqs: list[int]) -> list[tuple[int, str, bytes]]:
        rows = self._log_query(
            f"SELECT notification_id, topic, state FROM {self._events} "
            "WHERE notification_id = ANY(%s)",
            (seqs,),
        )
        return [(int(seq), topic, bytes(state)) for seq, topic, state in rows]

    def close(self) -> None:
        """Close this index's connections."""
        for conn in (self._log_conn, self._pass_conn):
            if conn is not None:
                conn.close()
        self._log_conn = self._pass_conn = None


def index_key(host: str, port: str | int, dbname: str, db_schema: str) -> str:
    """What identifies one store's log: the store and the recorder both compute it."""
    return f"postgresql://{host}:{port}/{dbname}#{db_schema}"


def postgres_block_index(key: str, conninfo: str, db_schema: str) -> PostgresBlockIndex:
    """The block index of this process for the store `key` (opened by the store; the
    recorder finds it with `find_index`, and without one writes blocks with their commit,
    which keeps the mark's promise too)."""
    return shared_index(key, lambda: PostgresBlockIndex(conninfo, db_schema))
