"""The block index kept behind the log (ADR 0014): what passes and readers do, on any dialect.

A commit's blocks are in its event (the CAR slice) from the moment it is recorded; the index
by CID is what the readers of blocks use. Writing it in the commit's transaction cost a
single-record commit 9 or 10 random leaves of the CID index. Here a pass indexes the blocks of
hundreds of commits at once, in CID order, on a thread of its own.

What is true at every moment:
- The mark (`block_index_mark.upto`) is a seq such that every block of every event up to it
  is in `repo_blocks`. It moves only in the transaction that inserted those blocks.
- The blocks of events after the mark are in `PendingBlocks` (added by the writer before its
  commit, by `refresh` for other processes' events) or in the log, where a pass reads the ones
  it does not hold.
- Readers look in `PendingBlocks`, then in the index, then `refresh` and look again, so a
  committed block is always found.

Subclasses supply the dialect's statements: `SqliteBlockIndex` (a file of its own beside the
log's) and `PostgresBlockIndex` (tables in the store's schema).
"""

from __future__ import annotations

import logging
import threading
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import TypeVar

from adapters.storage.pending_blocks import PendingBlocks
from application.log_blocks import COMMIT_TOPICS, blocks_of

log = logging.getLogger(__name__)

PASS_EVENTS = 20_000
"""Most events one pass reads: a long backlog (a crash, a first start over an older store) is
indexed in transactions of bounded size."""
INLINE_PASS_FROM = 65_536
"""Blocks held in memory past which the writer itself runs a pass (no indexer thread in the
process, or one that cannot keep up): memory stays bounded whatever happens."""

TOPICS_SQL = ", ".join(f"'{topic}'" for topic in sorted(COMMIT_TOPICS))
"""The commit topics as an SQL list (constants of our own, not input)."""


def events_after_sql(table: str, seq: str, mark: str, limit: int | None, commits_only: bool) -> str:
    """`SELECT seq, topic` of the events after a seq (`mark` is the placeholder), ascending:
    all of them for a pass, only the commits for a reader's `refresh`."""
    sql = f"SELECT {seq}, topic FROM {table} WHERE {seq} > {mark}"
    if commits_only:
        sql += f" AND topic IN ({TOPICS_SQL})"
    sql += f" ORDER BY {seq}"
    if limit is not None:
        sql += f" LIMIT {int(limit)}"
    return sql


class PassTransaction(ABC):
    """One pass's transaction on the index: the mark is held until it ends."""

    mark: int

    @abstractmethod
    def insert(self, blocks: dict[bytes, bytes]) -> None:
        """Insert `blocks` (in CID order), keeping any already indexed."""

    @abstractmethod
    def set_mark(self, upto: int) -> None:
        """Move the mark (committed with the blocks)."""


class BlockIndex(ABC):
    """A store's block index: its in-memory tail, its passes, its reads of the log."""

    def __init__(self, events_table: str) -> None:
        self.key = ""
        """Its key in this process's registry (`shared_index`)."""
        self.events_table = events_table
        self.pending = PendingBlocks()
        self.mark = 0
        """The mark as this process last saw it."""
        self.passes = 0
        self._scanned = 0
        self._pass_lock = threading.Lock()
        self._refresh_lock = threading.Lock()

    # -- what a dialect supplies --------------------------------------------------------------
    @abstractmethod
    @contextmanager
    def _pass(self) -> Iterator[PassTransaction]:
        """A transaction holding the mark; committed if the block exits normally."""
        yield  # type: ignore[misc]

    @abstractmethod
    def _log_exists(self) -> bool:
        """Has the recorder created the events table yet?"""

    @abstractmethod
    def _events_after(
        self, after: int, limit: int | None, commits_only: bool
    ) -> list[tuple[int, str]]:
        """(seq, topic) of the events after `after`, ascending (at most `limit`)."""

    @abstractmethod
    def _states(self, seqs: list[int]) -> list[tuple[int, str, bytes]]:
        """(seq, topic, state) of the events `seqs`."""

    # -- passes ---------------------------------------------------------------------------
    def index_pass(self, limit: int = PASS_EVENTS) -> int:
        """Index the blocks of up to `limit` events after the mark; how many events it read."""
        if not self._log_exists():
            return 0
        with self._pass_lock:
            with self._pass() as tx:
                rows = self._events_after(tx.mark, limit, commits_only=False)
                if not rows:
                    upto = tx.mark
                else:
                    upto = rows[-1][0]
                    blocks = self.pending.through(upto)
                    missing = [
                        seq
                        for seq, topic in rows
                        if topic in COMMIT_TOPICS and not self.pending.covers(seq, through=upto)
                    ]
                    for _seq, data in self._logged_blocks(missing):
                        blocks.update(data)
                    tx.insert(blocks)
                    tx.set_mark(upto)
            if rows:
                self.passes += 1
        self._saw(upto)
        return len(rows)

    def bound_memory(self) -> None:
        """Run a pass if the tail holds more than `INLINE_PASS_FROM` blocks (the writer calls
        this after each commit). A failure is logged, not raised: the commit before it is
        recorded and must be acknowledged as such; the tail keeps its blocks."""
        if self.pending.blocks <= INLINE_PASS_FROM:
            return
        try:
            self.index_pass()
        except Exception as exc:
            log.warning("block index pass after a commit failed: %s", exc)

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
        for start in range(0, len(seqs), 500):
            rows = self._states(seqs[start : start + 500])
            out.extend((seq, dict(blocks_of(topic, state))) for seq, topic, state in rows)
        return out

    # -- reading --------------------------------------------------------------------------
    def refresh(self) -> bool:
        """Hold the blocks of events recorded since the last look by other writers (another
        process, another store over the same database); True if any were added."""
        if not self._log_exists():
            return False
        with self._refresh_lock:
            rows = self._events_after(max(self._scanned, self.mark), None, commits_only=True)
            if not rows:
                return False
            self._scanned = rows[-1][0]
            missing = [seq for seq, _topic in rows if not self.pending.covers(seq)]
            for seq, data in self._logged_blocks(missing):
                self.pending.add(seq, seq, data)
            return bool(missing)

    @abstractmethod
    def close(self) -> None:
        """Close every connection this index opened."""


IndexT = TypeVar("IndexT", bound=BlockIndex)

_indexes: dict[str, BlockIndex] = {}
_indexes_lock = threading.Lock()


def shared_index(key: str, make: Callable[[], IndexT]) -> IndexT:
    """The one block index of this process for the store `key`, made on first use: the
    recorder writing the log and the views reading blocks must share its `PendingBlocks`."""
    with _indexes_lock:
        index = _indexes.get(key)
        if index is None:
            index = _indexes[key] = make()
            index.key = key
        return index  # type: ignore[return-value]  # made by the same `make` for this key


def find_index(key: str) -> BlockIndex | None:
    """The index a store opened for `key` in this process, if any."""
    with _indexes_lock:
        return _indexes.get(key)


def release_index(index: BlockIndex) -> None:
    """Forget `index` (its store closed) and close it; a store opened later starts afresh."""
    with _indexes_lock:
        if _indexes.get(index.key) is index:
            del _indexes[index.key]
    index.close()
