"""A scratch SQLite store for `quire replay`: the views rebuilt from the log alone.

Worker processes each write the order-free views (blocks, seq rows) into a shard file of
their own, so block inserts run in parallel and append instead of descending a B-tree
(a worker's seq rows arrive in order, so its seq table is keyed for free); `finish` then
folds the shards into the main file, in C. The ordered
views (records, heads, accounts, blob references, record and blob takedowns) are written by
the caller, page by page, with the live store's own `ViewWriter`, so every view table in
`schema.VIEW_TABLES` is rebuilt and then digested.
"""

from __future__ import annotations

import os
import sqlite3
from dataclasses import dataclass
from pathlib import Path

from adapters.storage.connections import SQLiteReadConnections
from adapters.storage.ddl import view_ddl
from adapters.storage.view_digest import SqlViewDigests
from adapters.storage.view_writer import ViewWriter
from application.view_batch import ViewBatch

SORT_BLOCKS_FROM = 2_000_000
"""Folded blocks past which the shards go in in CID order: about where the index (about 50
bytes an entry) outgrows the scratch connection's page cache."""

_SHARD_DDL = (
    "CREATE TABLE repo_blocks (cid BLOB NOT NULL, data BLOB NOT NULL)",
    "CREATE TABLE seq_events (seq INTEGER PRIMARY KEY, did TEXT NOT NULL, kind TEXT NOT NULL, "
    "time TEXT NOT NULL, frame BLOB NOT NULL)",
)


def _scratch_connection(path: Path) -> sqlite3.Connection:
    """No journal, no syncs: the file is thrown away if anything fails.

    16 KiB pages: a commit's event, frame and blocks are a few KiB each, and at the default
    4 KiB most rows spill into overflow pages; the rebuild wrote 30% faster (ADR 0010).
    """
    conn = sqlite3.connect(str(path), isolation_level=None)
    conn.execute("PRAGMA page_size=16384")  # before the first table: fixed from then on
    conn.execute("PRAGMA journal_mode=OFF")
    conn.execute("PRAGMA synchronous=OFF")
    conn.execute("PRAGMA cache_size=-262144")
    conn.execute("PRAGMA temp_store=MEMORY")  # the shard fold sorts in memory, not in temp files
    return conn


class _Shard:
    """One worker's shard: appends blocks and seq rows, one transaction per batch."""

    def __init__(self, path: Path) -> None:
        self._conn = _scratch_connection(path)
        for statement in _SHARD_DDL:
            self._conn.execute(statement)

    def write(self, batch: ViewBatch) -> None:
        cur = self._conn.cursor()
        cur.execute("BEGIN")
        cur.executemany("INSERT INTO repo_blocks VALUES (?, ?)", batch.blocks.items())
        cur.executemany(
            "INSERT INTO seq_events VALUES (?, ?, ?, ?, ?)",
            [(e["seq"], e["did"], e["kind"], e["time"], e["frame"]) for e in batch.seq_events],
        )
        cur.execute("COMMIT")


@dataclass(frozen=True, slots=True)
class ShardOpener:
    """Opens `<directory>/shard-<pid>.sqlite` in the calling process (picklable)."""

    directory: str

    def __call__(self) -> _Shard:
        return _Shard(Path(self.directory) / f"shard-{os.getpid()}.sqlite")


class ScratchViewStore:
    """A fresh SQLite file holding only view tables, plus the shards workers wrote."""

    def __init__(self, path: Path) -> None:
        if path.exists():
            path.unlink()
        self.path = path
        self._shards = path.parent / f"{path.stem}-shards"
        self._shards.mkdir(exist_ok=True)
        self._conn = _scratch_connection(path)
        for statement in view_ddl("sqlite"):
            self._conn.execute(statement)
        self._writer = ViewWriter("sqlite")
        self._blocks = 0
        self.reads = SQLiteReadConnections(str(path))

    def write(self, batch: ViewBatch) -> None:
        """Write one folded batch in one transaction."""
        cur = self._conn.cursor()
        cur.execute("BEGIN")
        self._writer.send(cur, batch)
        cur.execute("COMMIT")

    def shard_opener(self) -> ShardOpener:
        """For worker processes: each opens a shard file of its own."""
        return ShardOpener(str(self._shards))

    def finish(self) -> None:
        """Fold every shard into the main file, then delete it.

        Blocks go in as the shard holds them while the CID index fits in the 256 MiB page
        cache (inserting unsorted took half the time of sorting first, ADR 0010); past
        `SORT_BLOCKS_FROM` blocks they go in CID order, so the index is appended to. Duplicate
        blocks (the same CID written by two workers) keep one row, as the live store's
        `ON CONFLICT DO NOTHING` does; equal CIDs mean equal bytes.
        """
        for shard in sorted(self._shards.glob("shard-*.sqlite")):
            self._conn.execute("ATTACH DATABASE ? AS shard", (str(shard),))
            self._conn.execute("BEGIN")
            (count,) = self._conn.execute("SELECT count(*) FROM shard.repo_blocks").fetchone()
            self._blocks += count
            order = " ORDER BY cid" if self._blocks > SORT_BLOCKS_FROM else ""
            self._conn.execute(
                "INSERT OR IGNORE INTO repo_blocks (cid, data) "
                f"SELECT cid, data FROM shard.repo_blocks{order}"
            )
            self._conn.execute(
                "INSERT INTO seq_events (seq, did, kind, time, frame) "
                "SELECT seq, did, kind, time, frame FROM shard.seq_events ORDER BY seq"
            )
            self._conn.execute("COMMIT")
            self._conn.execute("DETACH DATABASE shard")
            shard.unlink()

    def digests(self) -> SqlViewDigests:
        """Digests over the rebuilt views."""
        return SqlViewDigests(self.reads)

    def close(self) -> None:
        """Close and remove the scratch file and any shard left behind."""
        self.reads.close()
        self._conn.close()
        self.path.unlink(missing_ok=True)
        for shard in self._shards.glob("shard-*.sqlite"):
            shard.unlink()
        self._shards.rmdir()
