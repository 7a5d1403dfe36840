"""SQLite's block index (ADR 0014): a file of its own beside the log's, `<name>-blocks.sqlite`.

Writing the index in its own file means a pass never takes the write lock of the log's file,
so the log's writer never waits for it. Read connections attach the file, so `repo_blocks`
answers to its unqualified name. See `block_index.py` for what passes and readers do.
"""

from __future__ import annotations

import os
import sqlite3
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from sqlalchemy.schema import CreateTable

from adapters.storage import schema
from adapters.storage.block_index import (
    BlockIndex,
    PassTransaction,
    events_after_sql,
    shared_index,
)
from adapters.storage.sql_names import quoted
from adapters.storage.view_writer import _dialect

BUSY_MS = 10_000

_MARK_DDL = (
    "CREATE TABLE IF NOT EXISTS block_index_mark "
    "(id INTEGER PRIMARY KEY CHECK (id = 0), upto INTEGER NOT NULL)"
)
INSERT_PACKED = (
    "INSERT OR IGNORE INTO repo_blocks (cid, data) "
    "SELECT substr(?1, json_extract(j.value, '$[0]'), json_extract(j.value, '$[1]')), "
    "substr(?1, json_extract(j.value, '$[0]') + json_extract(j.value, '$[1]'), "
    "json_extract(j.value, '$[2]')) FROM json_each(?2) AS j"
)
"""A pass's blocks in one statement: the bytes concatenated in CID order, and a JSON list of
(offset, CID length, block length). `executemany` takes the GIL back after every row, and
each time waits for the writer thread to let go of it: a pass of 4,600 blocks took 8.9-30 s
beside a busy thread, against 146-170 ms as one statement (ADR 0014)."""


def pack_blocks(blocks: dict[bytes, bytes]) -> tuple[bytes, str]:
    parts: list[bytes] = []
    spans: list[str] = []
    position = 1  # substr counts from 1
    for cid in sorted(blocks):  # keys alone: bytes compare faster than (cid, data) pairs
        data = blocks[cid]
        parts.append(cid)
        parts.append(data)
        spans.append(f"[{position},{len(cid)},{len(data)}]")
        position += len(cid) + len(data)
    return b"".join(parts), "[" + ",".join(spans) + "]"


def blocks_path(main_path: str) -> str:
    """`<dir>/quire.sqlite` -> `<dir>/quire-blocks.sqlite`."""
    path = Path(main_path)
    return str(path.with_name(f"{path.stem}-blocks{path.suffix}"))


class _SqlitePass(PassTransaction):
    def __init__(self, conn: sqlite3.Connection) -> None:
        self.conn = conn
        self.mark = int(conn.execute("SELECT upto FROM block_index_mark").fetchone()[0])

    def insert(self, blocks: dict[bytes, bytes]) -> None:
        if blocks:
            self.conn.execute(INSERT_PACKED, pack_blocks(blocks))

    def set_mark(self, upto: int) -> None:
        self.conn.execute("UPDATE block_index_mark SET upto = ?", (upto,))


class SqliteBlockIndex(BlockIndex):
    """The CID index of the blocks in the log of the SQLite file at `main_path`."""

    def __init__(self, main_path: str, events_table: str = "stored_events") -> None:
        super().__init__(events_table)
        self.main_path = main_path
        self.path = blocks_path(main_path)
        self._log_table_seen = False
        self._local = threading.local()
        self._writer: sqlite3.Connection | None = None
        self._conns: list[sqlite3.Connection] = []
        self._conns_lock = threading.Lock()
        self._ensure()

    # -- connections ---------------------------------------------------------------------
    def _connect(self, path: str, *, read_only: bool) -> sqlite3.Connection:
        conn = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
        conn.execute(f"PRAGMA busy_timeout={BUSY_MS}")
        if read_only:
            conn.execute("PRAGMA query_only=1")
        else:
            conn.execute("PRAGMA journal_mode=WAL")
            conn.execute("PRAGMA synchronous=NORMAL")
        with self._conns_lock:
            self._conns.append(conn)
        return conn

    def _log(self) -> sqlite3.Connection:
        """This thread's read connection to the log's file."""
        conn: sqlite3.Connection | None = getattr(self._local, "log", None)
        if conn is None:
            conn = self._local.log = self._connect(self.main_path, read_only=True)
        return conn

    def _index(self) -> sqlite3.Connection:
        """The index file's write connection (used under the pass lock)."""
        conn = self._writer
        if conn is None:
            conn = self._writer = self._connect(self.path, read_only=False)
        return conn

    def close(self) -> None:
        """Close every connection this index opened."""
        with self._conns_lock:
            for conn in self._conns:
                conn.close()
            self._conns.clear()
        self._local = threading.local()
        self._writer = None

    # -- set-up --------------------------------------------------------------------------
    def _ensure(self) -> None:
        """Create the index file, and move an older data directory's index into it."""
        conn = self._index()
        create = CreateTable(schema.blocks, if_not_exists=True)
        conn.execute(str(create.compile(dialect=_dialect("sqlite"))))
        conn.execute(_MARK_DDL)
        conn.execute("INSERT OR IGNORE INTO block_index_mark (id, upto) VALUES (0, 0)")
        if os.path.exists(self.main_path):
            self._adopt_inline_index(conn)
        self.mark = int(conn.execute("SELECT upto FROM block_index_mark").fetchone()[0])

    def _adopt_inline_index(self, conn: sqlite3.Connection) -> None:
        """Data directories from before ADR 0014 kept `repo_blocks` in the log's file, written
        with each commit: it is complete up to the log's end, so it is copied here with that
        mark, then dropped from the log's file (a crash in between copies it again)."""
        main = sqlite3.connect(self.main_path, isolation_level=None)
        try:
            main.execute(f"PRAGMA busy_timeout={BUSY_MS}")
            tables = {row[0] for row in main.execute("SELECT name FROM sqlite_master")}
            if "repo_blocks" not in tables:
                return
            end = 0
            if self.events_table in tables:
                row = main.execute(f"SELECT MAX(rowid) FROM {quoted(self.events_table)}").fetchone()
                end = int(row[0] or 0)
            conn.execute("ATTACH DATABASE ? AS inline", (self.main_path,))
            try:
                conn.execute("BEGIN IMMEDIATE")
                conn.execute(
                    "INSERT OR IGNORE INTO repo_blocks SELECT cid, data FROM inline.repo_blocks"
                )
                conn.execute("UPDATE block_index_mark SET upto = max(upto, ?)", (end,))
                conn.execute("COMMIT")
            finally:
                conn.execute("DETACH DATABASE inline")
            main.execute("DROP TABLE repo_blocks")
        finally:
            main.close()

    # -- the dialect's part of passes and reads --------------------------------------------
    @contextmanager
    def _pass(self) -> Iterator[PassTransaction]:
        conn = self._index()
        conn.execute("BEGIN IMMEDIATE")
        try:
            yield _SqlitePass(conn)
            conn.execute("COMMIT")
        except BaseException:
            if conn.in_transaction:
                conn.execute("ROLLBACK")
            raise

    def _log_exists(self) -> bool:
        if not self._log_table_seen:
            row = (
                self._log()
                .execute(
                    "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?",
                    (self.events_table,),
                )
                .fetchone()
            )
            self._log_table_seen = row is not None
        return self._log_table_seen

    def _events_after(
        self, after: int, limit: int | None, commits_only: bool
    ) -> list[tuple[int, str]]:
        table = quoted(self.events_table)
        sql = events_after_sql(table, "rowid", "?", limit, commits_only)
        return self._log().execute(sql, (after,)).fetchall()

    def _states(self, seqs: list[int]) -> list[tuple[int, str, bytes]]:
        marks = ",".join("?" * len(seqs))
        return (
            self._log()
            .execute(
                f"SELECT rowid, topic, state FROM {quoted(self.events_table)} "
                f"WHERE rowid IN ({marks})",
                seqs,
            )
            .fetchall()
        )


def sqlite_block_index(main_path: str, events_table: str = "stored_events") -> SqliteBlockIndex:
    """The block index of this process for the SQLite file at `main_path`."""
    path = os.path.realpath(main_path)
    return shared_index(path, lambda: SqliteBlockIndex(path, events_table))
