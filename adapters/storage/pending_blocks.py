"""Blocks recorded in the log and not yet in the block index: the index's in-memory tail.

The writer adds a save's blocks here before its transaction commits (so a reader that sees
the commit's records also finds its blocks), and removes them again if it rolls back. The
indexer copies them into the index and drops them once its own transaction has committed; a
reader looks here first and in the index second, so a block is always in one or the other.
Blocks other processes recorded are added by `SqliteBlockIndex.refresh` from the log.
"""

from __future__ import annotations

import threading


class PendingBlocks:
    """Thread-safe: the writer, the indexer thread and readers all use it."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._blocks: dict[bytes, tuple[bytes, int]] = {}
        """CID bytes -> (block bytes, last seq of the first held save that carried it): a
        later save carrying it again (a proof block) must not take it away on rollback"""
        self._saves: dict[int, int] = {}
        """last seq -> first seq of each save held here (seq ranges are disjoint)"""
        self._seqs: dict[int, int] = {}
        """seq -> last seq of its save, for every event of every save held here"""

    def add(self, first: int, last: int, blocks: dict[bytes, bytes]) -> None:
        """The blocks of the events with seqs `first..last` (one save)."""
        with self._lock:
            self._saves[last] = first
            for seq in range(first, last + 1):
                self._seqs[seq] = last
            held = self._blocks
            for cid, data in blocks.items():
                if cid not in held:
                    held[cid] = (data, last)

    def remove(self, first: int, last: int) -> None:
        """Forget a save whose transaction rolled back (its seqs will be used again)."""
        with self._lock:
            if last not in self._saves:
                return
            first = self._saves.pop(last)
            for seq in range(first, last + 1):
                self._seqs.pop(seq, None)
            self._blocks = {cid: v for cid, v in self._blocks.items() if v[1] != last}

    def covers(self, seq: int, through: int | None = None) -> bool:
        """Is `seq` one of the events whose blocks are held here (in a save that ends at or
        before `through`, if given)?"""
        last = self._seqs.get(seq)
        return last is not None and (through is None or last <= through)

    def get_many(self, cids: list[bytes]) -> dict[bytes, bytes]:
        """The held blocks among `cids`."""
        held = self._blocks
        found = {}
        for cid in cids:
            entry = held.get(cid)
            if entry is not None:
                found[cid] = entry[0]
        return found

    def through(self, seq: int) -> dict[bytes, bytes]:
        """Every held block of the saves that end at or before `seq`."""
        with self._lock:
            return {cid: data for cid, (data, last) in self._blocks.items() if last <= seq}

    def drop_through(self, seq: int) -> None:
        """Forget the saves that end at or before `seq`: the index holds their blocks now."""
        with self._lock:
            self._saves = {last: first for last, first in self._saves.items() if last > seq}
            self._seqs = {s: last for s, last in self._seqs.items() if last > seq}
            self._blocks = {cid: v for cid, v in self._blocks.items() if v[1] > seq}

    def __len__(self) -> int:
        """How many saves are held."""
        return len(self._saves)

    @property
    def blocks(self) -> int:
        """How many blocks are held."""
        return len(self._blocks)
