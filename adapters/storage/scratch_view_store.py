"""A scratch SQLite store for `quire replay`: the views rebuilt from the log alone.

Worker processes write the order-free views (blocks, seq rows) of the pages they project
straight into the file, one transaction per page, taking turns through an exclusive lock
on a file beside it: while one worker inserts, the other projects, so the inserts overlap
with projection instead of following it in a fold of per-worker shards (ADR 0010). The
ordered views (records, heads, accounts, blob references, record and blob takedowns) are
written by the caller, page by page and under the same lock, with the live store's own
`ViewWriter`, so every view table in `schema.VIEW_TABLES` is rebuilt and then digested."""

from __future__ import annotations

import fcntl
import os
import sqlite3
from dataclasses import dataclass
from pathlib import Path

from adapters.storage.connections import SQLiteReadConnections
from adapters.storage.ddl import view_ddl
from adapters.storage.view_digest import SqlViewDigests
from adapters.storage.view_writer import ViewWriter
from application.view_batch import ViewBatch

_LOCK_FILE = "write.lock"
_BUSY_MS = 60_000


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
    conn.execute(f"PRAGMA busy_timeout={_BUSY_MS}")  # the lock file orders writers; a backstop
    return conn


class _WriteLock:
    """An exclusive `flock` on a file beside the store, opened by each process for itself.

    Writers take turns in the kernel's queue and wake as soon as the lock is free, where
    SQLite's own busy handler would sleep and poll. Each process opens the file itself: a
    descriptor inherited across `fork` shares its lock with the parent.
    """

    def __init__(self, path: Path) -> None:
        self._fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)

    def __enter__(self) -> None:
        fcntl.flock(self._fd, fcntl.LOCK_EX)

    def __exit__(self, *_: object) -> None:
        fcntl.flock(self._fd, fcntl.LOCK_UN)

    def close(self) -> None:
        os.close(self._fd)


class _WorkerWriter:
    """A worker's writer of the order-free views (blocks, seq rows) into the shared file.

    Each batch is one transaction under the write lock, so the inserts of one worker run
    while the other projects, instead of all of them in a fold after the last page.
    """

    def __init__(self, path: Path) -> None:
        self._conn = _scratch_connection(path)
        self._lock = _WriteLock(path.parent / f"{path.name}-{_LOCK_FILE}")

    def write(self, batch: ViewBatch) -> None:
        # one pass left to right through the CID index; keys sorted alone, not in tuples
        # (bytes compare directly: half the time of sorting (cid, data) pairs)
        held = batch.blocks
        blocks = [(cid, held[cid]) for cid in sorted(held)]
        seq_rows = [
            (e["seq"], e["did"], e["kind"], e["time"], e["frame"]) for e in batch.seq_events
        ]
        with self._lock, self._conn:  # one transaction: committed, or rolled back on error
            self._conn.execute("BEGIN IMMEDIATE")
            self._conn.executemany(
                "INSERT OR IGNORE INTO repo_blocks (cid, data) VALUES (?, ?)", blocks
            )
            self._conn.executemany(
                "INSERT INTO seq_events (seq, did, kind, time, frame) VALUES (?, ?, ?, ?, ?)",
                seq_rows,
            )


@dataclass(frozen=True, slots=True)
class WorkerWriterOpener:
    """Opens a `_WorkerWriter` on the scratch file in the calling process (picklable)."""

    path: str

    def __call__(self) -> _WorkerWriter:
        return _WorkerWriter(Path(self.path))


class ScratchViewStore:
    """A fresh SQLite file holding only view tables, written by this process and workers."""

    def __init__(self, path: Path) -> None:
        if path.exists():
            path.unlink()
        self.path = path
        self._lock_path = path.parent / f"{path.name}-{_LOCK_FILE}"
        self._conn = _scratch_connection(path)
        for statement in view_ddl("sqlite"):
            # Only tables: the rebuilt views are digested in key order and thrown away, so a
            # secondary index would be one more B-tree insert per row for nothing.
            if not statement.lstrip().startswith("CREATE INDEX"):
                self._conn.execute(statement)
        self._lock = _WriteLock(self._lock_path)
        self._writer = ViewWriter("sqlite")
        self.reads = SQLiteReadConnections(str(path))

    def write(self, batch: ViewBatch) -> None:
        """Write one folded batch in one transaction (taking turns with the workers)."""
        with self._lock, self._conn:
            cur = self._conn.cursor()
            cur.execute("BEGIN IMMEDIATE")
            self._writer.send(cur, batch)

    def shard_opener(self) -> WorkerWriterOpener:
        """For worker processes: each opens its own connection to the file, and the lock."""
        return WorkerWriterOpener(str(self.path))

    def finish(self) -> None:
        """Nothing is left to fold: the workers wrote their rows into the file itself."""

    def digests(self) -> SqlViewDigests:
        """Digests over the rebuilt views."""
        return SqlViewDigests(self.reads)

    def close(self) -> None:
        """Close and remove the scratch file and its lock file."""
        self.reads.close()
        self._conn.close()
        self._lock.close()
        self.path.unlink(missing_ok=True)
        self._lock_path.unlink(missing_ok=True)
