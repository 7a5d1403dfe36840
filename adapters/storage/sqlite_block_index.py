"""SQLite's block index, kept behind the log in a file of its own (ADR 0014).

A commit's blocks are in its event (the CAR slice) from the moment it is recorded; the index
by CID is what the readers of blocks use. Writing it in the commit's transaction cost a
single-record commit 9 or 10 random leaves of the CID index: nearly half the pages SQLite
appends to its log per commit, and 150-200 µs of an 800-900 µs commit. Here a pass indexes
the blocks of hundreds of commits at once, in CID order, in `<name>-blocks.sqlite`: each
leaf is written once per pass instead of once per commit, and the pass runs on a thread of
its own without ever taking the write lock of the log's file.

What is true at every moment:
- `block_index_mark.upto` is a seq such that every block of every event up to it is in
  `repo_blocks`. It moves only in the transaction that inserted those blocks.
- The blocks of events after the mark are in `PendingBlocks` (added by the writer before its
  commit, by `refresh` for other processes' events) or in the log, where a pass reads the ones
  it does not hold.
- Readers look in `PendingBlocks`, then in the index, then `refresh` and look again, so a
  committed block is always found.
"""

from __future__ import annotations

import os
import sqlite3
import threading
from pathlib import Path

from sqlalchemy.schema import CreateTable

from adapters.storage import schema
from adapters.storage.pending_blocks import PendingBlocks
from adapters.storage.sql_names import quoted
from adapters.storage.view_writer import _dialect
from application.log_blocks import COMMIT_TOPICS, blocks_of

PASS_EVENTS = 20_000
"""Most events one pass reads: a long backlog (a crash, the first start over an old data
directory) is indexed in transactions of bounded size."""
INLINE_PASS_FROM = 65_536
"""Blocks held in memory past which the writer itself runs a pass (no indexer thread in the
process, or one that cannot keep up): memory stays bounded whatever happens."""
BUSY_MS = 10_000

_MARK_DDL = (
    "CREATE TABLE IF NOT EXISTS block_index_mark "
    "(id INTEGER PRIMARY KEY CHECK (id = 0), upto INTEGER NOT NULL)"
)
_TOPICS = ", ".join(f"'{topic}'" for topic in sorted(COMMIT_TOPICS))
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
    for cid, data in sorted(blocks.items()):
        parts.append(cid)
        parts.append(data)
        spans.append(f"[{position},{len(cid)},{len(data)}]")
        position += len(cid) + len(data)
    return b"".join(parts), "[" + ",".join(spans) + "]"


def blocks_path(main_path: str) -> str:
    """`<dir>/quire.sqlite` -> `<dir>/quire-blocks.sqlite`."""
    path = Path(main_path)
    return str(path.with_name(f"{path.stem}-blocks{path.suffix}"))


class SqliteBlockIndex:
    """The CID index of the blocks in the log of the SQLite file at `main_path`."""

    def __init__(self, main_path: str, events_table: str = "stored_events") -> None:
        self.main_path = main_path
        self.path = blocks_path(main_path)
        self.events_table = events_table
        self.pending = PendingBlocks()
        self.mark = 0
        """The mark as this process last saw it."""
        self.passes = 0
        self._log_table_seen = False
        self._scanned = 0
        self._pass_lock = threading.Lock()
        self._refresh_lock = threading.Lock()
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
        """The index file's write connection (used under `_pass_lock`)."""
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
        self.mark = self._read_mark(conn)

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

    def _log_exists(self) -> bool:
        """Has the recorder created the events table yet? (A store opens before its
        applications create their tables.)"""
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

    @staticmethod
    def _read_mark(conn: sqlite3.Connection) -> int:
        return int(conn.execute("SELECT upto FROM block_index_mark").fetchone()[0])

    # -- indexing ------------------------------------------------------------------------
    def index_pass(self, limit: int = PASS_EVENTS) -> int:
        """Index the blocks of up to `limit` events after the mark; how many events it read."""
        if not self._log_exists():
            return 0
        with self._pass_lock:
            conn = self._index()
            conn.execute("BEGIN IMMEDIATE")
            try:
                mark = self._read_mark(conn)
                rows = (
                    self._log()
                    .execute(
                        f"SELECT rowid, topic FROM {quoted(self.events_table)} "
                        "WHERE rowid > ? ORDER BY rowid LIMIT ?",
                        (mark, limit),
                    )
                    .fetchall()
                )
                if not rows:
                    conn.execute("ROLLBACK")
                    self._saw(mark)
                    return 0
                upto = rows[-1][0]
                blocks = self.pending.through(upto)
                missing = [
                    seq
                    for seq, topic in rows
                    if topic in COMMIT_TOPICS and not self.pending.covers(seq, through=upto)
                ]
                for _seq, data in self._logged_blocks(missing):
                    blocks.update(data)
                conn.execute(INSERT_PACKED, pack_blocks(blocks))
                conn.execute("UPDATE block_index_mark SET upto = ?", (upto,))
                conn.execute("COMMIT")
            except BaseException:
                if conn.in_transaction:
                    conn.execute("ROLLBACK")
                raise
        self.passes += 1
        self._saw(upto)
        return len(rows)

    def catch_up(self) -> None:
        """Index everything the log holds now (before a digest, or on a clean shutdown)."""
        while self.index_pass() == PASS_EVENTS:
            pass

    def _saw(self, mark: int) -> None:
        if mark > self.mark:
            self.mark = mark
        self.pending.drop_through(self.mark)

    def _logged_blocks(self, seqs: list[int]) -> list[tuple[int, dict[bytes, bytes]]]:
        """(seq, blocks) of the events `seqs`, read and decoded from the log."""
        out: list[tuple[int, dict[bytes, bytes]]] = []
        table = quoted(self.events_table)
        for start in range(0, len(seqs), 500):
            chunk = seqs[start : start + 500]
            marks = ",".join("?" * len(chunk))
            rows = (
                self._log()
                .execute(f"SELECT rowid, topic, state FROM {table} WHERE rowid IN ({marks})", chunk)
                .fetchall()
            )
            out.extend((seq, dict(blocks_of(topic, state))) for seq, topic, state in rows)
        return out

    # -- reading -------------------------------------------------------------------------
    def refresh(self) -> bool:
        """Hold the blocks of events recorded since the last look by other writers (another
        process, another store over the same file); True if any were added."""
        if not self._log_exists():
            return False
        with self._refresh_lock:
            start = max(self._scanned, self.mark)
            rows = (
                self._log()
                .execute(
                    f"SELECT rowid FROM {quoted(self.events_table)} "
                    f"WHERE rowid > ? AND topic IN ({_TOPICS}) ORDER BY rowid",
                    (start,),
                )
                .fetchall()
            )
            if not rows:
                return False
            self._scanned = rows[-1][0]
            missing = [seq for (seq,) in rows if not self.pending.covers(seq)]
            for seq, data in self._logged_blocks(missing):
                self.pending.add(seq, seq, data)
            return bool(missing)


_indexes: dict[str, SqliteBlockIndex] = {}
_indexes_lock = threading.Lock()


def sqlite_block_index(main_path: str, events_table: str = "stored_events") -> SqliteBlockIndex:
    """The one block index of this process for the SQLite file at `main_path`: the recorder
    writing the log and the views reading blocks must share its `PendingBlocks`."""
    key = os.path.realpath(main_path)
    with _indexes_lock:
        index = _indexes.get(key)
        if index is None:
            index = _indexes[key] = SqliteBlockIndex(key, events_table)
        return index


def release_sqlite_block_index(index: SqliteBlockIndex) -> None:
    """Forget `index` (its store closed); a store opened later starts from the files."""
    with _indexes_lock:
        if _indexes.get(index.main_path) is index:
            del _indexes[index.main_path]
    index.close()
